"""Grade on a Dask cluster: ``python -m autograde batch ... --scheduler ADDRESS`` (or ``local``).

:func:`iter_graded_on_cluster` has the contract of :func:`autograde.grading.iter_graded`: it takes
``(path, assignment or None[, only_tests])`` jobs and yields ``(index, result)`` once per job, as
each finishes, where a result is a GradeReport, the UsageError that made the notebook ungradable,
or a GraderFault. ``autograde.batch`` stays the only writer of the gradebook, the CSV and the
feedback: workers return plain results and write nothing of the class's.

How it works:

- The client reads each submission's bytes and sends them with the task, so workers need no shared
  file system: a worker needs this repository (its ``autograde/``, ``course/``, ``solutions/``,
  ``data/``) installed at the same version, nothing else.
- Each worker keeps one pre-warmed :class:`~autograde.sandbox.Zygote` across tasks, started once by
  :class:`ZygotePlugin` (a ``distributed.WorkerPlugin``) and closed on teardown. A worker grades one
  notebook at a time (a lock): the grader half of grading runs test cells in the worker's own
  process, and that half is not written for threads. Start workers with ``--nthreads 1``.
- Sandbox user ids: each worker's zygote uses slot 0 of its own worker process,
  ``sandbox_uid(0, grader_pid=<worker pid>)``. The uids of a grader pid are a block of
  ``MAX_WORKERS`` ids keyed by that pid, so two live processes on one host (two workers, or a worker
  and a local ``batch --workers N``) never share a uid, as long as the host's ``pid_max`` is at most
  1,000,000 (the key is the pid modulo 10^6; :func:`uid_scheme_note` says when it is not) and the
  workers share one PID namespace (containers on one host each with their own PID namespace and no
  user namespace can repeat a pid: give each its own host or user namespace).
- Full isolation needs root on the worker (namespaces, a user per worker); a worker without it grades
  with ``isolation: limited``, which every report carries and the batch summary lists by worker.
- A worker that dies while grading (killed, out of memory, its machine gone): the scheduler runs the
  task again on another worker. Dask's ``retries=`` is for tasks that *raise*, and our task never
  raises (it returns its error as a result), so worker deaths are counted by the scheduler's
  ``distributed.scheduler.allowed-failures`` (default 3): a submission whose grading killed that many
  workers plus one gets ``KilledWorker``, and is reported as unusable ("killed N workers"), not
  retried forever. Every job is yielded exactly once, whatever happens to the workers.
- At most ``window`` tasks are in flight, so 150,000 notebooks are never all in the client's or the
  scheduler's memory at once.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from pathlib import Path

from autograde.grading import GradeReport, GraderFault, grade_notebook
from autograde.isolation import Limits
from autograde.layout import UsageError

PLUGIN_NAME = "autograde-zygote"
ZYGOTE_SLOT = 0


def dask_missing() -> str:
    """Why the cluster extra cannot be used here ("" if it can)."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        return (f"Dask is not installed ({exc.name}): grading on a cluster needs the `cluster` extra, "
                "`pip install -e .[cluster]`")
    return ""


def uid_scheme_note() -> str:
    """A warning when worker pids could map two live workers of this host to one sandbox uid."""
    try:
        pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        return ""
    if pid_max <= 1_000_000:
        return ""
    return (f"pid_max is {pid_max} on this host: sandbox uids are keyed by the worker's pid modulo 10^6, so two "
            "workers here could share one (set kernel.pid_max to 1000000 or less)")


try:
    from distributed import WorkerPlugin as _PluginBase
except ImportError:  # the module still imports (for its docstring, dask_missing()) without the extra
    _PluginBase = object


class ZygotePlugin(_PluginBase):
    """Starts one warm zygote per worker when the worker starts, closes it when the worker stops."""

    name = PLUGIN_NAME

    def __init__(self, limits: Limits | None = None):
        self.limits = limits
        self.zygote = None
        self.problem = ""
        self.lock = None

    def setup(self, worker) -> None:
        from autograde.sandbox import Zygote

        # Runs on the worker's event loop thread, which lives as long as the worker: the zygote's
        # parent-death signal (PR_SET_PDEATHSIG) is tied to the thread that started it.
        self.lock = threading.Lock()
        try:
            self.zygote = Zygote(slot=ZYGOTE_SLOT, limits=self.limits, grader_pid=os.getpid())
        except Exception as exc:
            self.problem = f"the grading sandbox did not start on {worker.address}: {type(exc).__name__}: {exc}"

    def teardown(self, worker) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None


def grade_on_worker(data: bytes, name: str, assignment: str | None, only_tests):
    """The task: grade one notebook's bytes with this worker's zygote. Returns ``(worker address,
    result)``; never raises, so a result is always a plain GradeReport, UsageError or GraderFault.

    ``name`` is the path the client knows the notebook by: the worker's private copy is named so in
    every message, as local grading would name it."""
    from distributed import get_worker

    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN_NAME)
    if plugin is None or plugin.zygote is None:
        why = plugin.problem if plugin is not None else f"no grading sandbox on {worker.address} (plugin missing)"
        return worker.address, GraderFault(why)
    if plugin.zygote.process.poll() is not None:
        return worker.address, GraderFault(f"the grading sandbox on {worker.address} has stopped; restart that worker")
    with tempfile.TemporaryDirectory(prefix="autograde-dask-") as tmp:
        path = Path(tmp) / (Path(name).name or "submission.ipynb")
        path.write_bytes(data)
        with plugin.lock:
            try:
                report = grade_notebook(path, assignment, zygote=plugin.zygote, only_tests=only_tests)
            except UsageError as exc:
                return worker.address, UsageError(str(exc).replace(str(path), name))
            except Exception as exc:  # a fault of the grader or the machine: reported, not raised
                traceback.print_exc()
                return worker.address, GraderFault(f"{type(exc).__name__}: {exc} (on {worker.address})")
    report.notebook = name
    return worker.address, report


def describe_cluster(stats: dict) -> list[str]:
    """The summary's lines about the cluster: where it was, and what each worker graded."""
    lines = [f"  cluster   {stats.get('scheduler', '?')}"
             + (f", dashboard {stats['dashboard']}" if stats.get("dashboard") else "")]
    for address, count in sorted(stats.get("per_worker", {}).items()):
        limited = stats.get("limited", {}).get(address, 0)
        lines.append(f"  worker    {address}: {count} notebook{'s' if count != 1 else ''}"
                     + (f", {limited} graded with isolation: limited (not root on that worker)" if limited else ""))
    return lines


def _killed_message(name: str, exc) -> str:
    count = getattr(exc, "allowed_failures", None)
    count = f"{count + 1}" if isinstance(count, int) else "several"
    return (f"{name}: grading it killed {count} Dask workers in turn (each died while grading this notebook: out "
            "of memory, a crash, or something that ends the grader); it is not retried again")


def _dashboard(client) -> str:
    try:
        info = client.scheduler_info()
        port = info.get("services", {}).get("dashboard")
    except Exception:
        return ""
    if not port:
        return ""
    host = info["address"].split("://", 1)[-1].rsplit(":", 1)[0]
    try:  # listed is not served: a scheduler started with --no-dashboard still lists its port
        socket.create_connection((host, int(port)), timeout=2).close()
    except (OSError, ValueError):
        return ""
    return f"http://{host}:{port}/status"


def iter_graded_on_cluster(jobs: list[tuple], scheduler: str, limits: Limits | None = None, *, workers: int = 2,
                           stats: dict | None = None, window: int | None = None, allowed_failures: int = 3):
    """Grade jobs on the Dask cluster at ``scheduler`` (an address such as ``tcp://host:8786``), or on
    a ``LocalCluster`` of ``workers`` processes when ``scheduler == "local"``; yield ``(index,
    result)`` once per job as each finishes (see :func:`autograde.grading.iter_graded`).

    ``stats``, if given, is filled as results arrive: ``per_worker`` (a Counter of results by worker
    address), ``limited`` (a Counter of reports graded with limited isolation, by worker),
    ``dashboard`` (the dashboard's address, or ""), ``scheduler`` (the address used).
    ``allowed_failures`` only applies to a LocalCluster; a running scheduler keeps its own setting."""
    problem = dask_missing()
    if problem:
        raise UsageError(problem)
    import dask
    from distributed import Client, LocalCluster, as_completed
    from distributed.scheduler import KilledWorker

    stats = stats if stats is not None else {}
    stats.setdefault("per_worker", Counter())
    stats.setdefault("limited", Counter())
    stats.setdefault("dashboard", "")
    stats.setdefault("worker_of", {})
    if not jobs:
        return
    cluster = None
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        if scheduler == "local":
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=":0", silence_logs=40)
            address = cluster.scheduler_address
        else:
            address = scheduler
        try:
            client = Client(address, timeout=30)
        except Exception as exc:
            if cluster is not None:
                cluster.close()
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    stats["scheduler"] = address
    stats["dashboard"] = _dashboard(client)
    print(f"Dask scheduler {address}, {len(client.scheduler_info().get('workers', {}))} workers"
          + (f"; dashboard {stats['dashboard']}" if stats["dashboard"] else ""), file=sys.stderr, flush=True)
    run = uuid.uuid4().hex[:8]
    pending: dict = {}  # future -> (index, name)
    try:
        for attempt in range(3):  # a worker that dies while the plugin is sent breaks the broadcast (OSError)
            try:
                client.register_plugin(ZygotePlugin(limits), name=PLUGIN_NAME)
                break
            except OSError:
                if attempt == 2:
                    raise
                time.sleep(1.0)
        if window is None:
            window = 4 * max(1, len(client.scheduler_info().get("workers", {})) or workers) + 8
        todo = iter(enumerate(jobs))

        def submit_next() -> bool:
            try:
                index, (path, assignment, *rest) = next(todo)
            except StopIteration:
                return False
            data = Path(path).read_bytes()
            future = client.submit(grade_on_worker, data, str(path), assignment, rest[0] if rest else None,
                                   key=f"autograde-{run}-{index}", pure=False)
            pending[future] = (index, str(path))
            queue.add(future)
            return True

        queue = as_completed()
        for _ in range(window):
            if not submit_next():
                break
        for future in queue:
            index, name = pending.pop(future)
            try:
                address_of_worker, result = future.result()
            except KilledWorker as exc:
                address_of_worker, result = "", UsageError(_killed_message(name, exc))
            except Exception as exc:  # cancelled, scheduler lost, result not readable: retried on the next run
                address_of_worker, result = "", GraderFault(f"the cluster lost this task: {type(exc).__name__}: {exc}")
            future.release()
            if address_of_worker:
                stats["per_worker"][address_of_worker] += 1
                stats["worker_of"][index] = address_of_worker
                if isinstance(result, GradeReport) and not result.isolation.startswith("full"):
                    stats["limited"][address_of_worker] += 1
            submit_next()
            yield index, result
    finally:
        for future in pending:
            future.cancel()
        try:
            client.unregister_worker_plugin(PLUGIN_NAME)  # closes each worker's zygote (teardown)
        except Exception:
            pass
        client.close()
        if cluster is not None:
            cluster.close()
