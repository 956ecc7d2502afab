"""No test may leave a process behind: at the end of the run, list every process the run started that is
still alive, kill it, and fail the run.

A process belongs to the run when it descends from the pytest process, or when it carries the run's
mark in the environment it was started with (``LEAKCHECK_RUN``, set once per run): that also finds a
process that was orphaned on purpose (``setsid``, a double fork) and is now a child of init. Processes
in a sandbox get a fresh environment and are found through their parents, or are killed with their
PID namespace by design.

Under pytest-xdist each worker checks what it started and hands its findings to the controller, which
reports them and fails the run.

Not counted: zombies (already dead), multiprocessing's resource tracker and fork server (they end with
the interpreter), and, in pytest-xdist's controller, its workers (each worker checks its own).
Processes get ``LEAKCHECK_GRACE_SECONDS`` (default 15) to end on their own before they count: a kernel
told to shut down takes a moment.

Used by ``tests/conftest.py``; ``tests/test_process_leaks.py`` runs pytest on a leaking test to prove the
check fails. Linux only (it reads ``/proc``); elsewhere it does nothing and says so.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

MARK = "LEAKCHECK_RUN"
EXEMPT = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
XDIST_WORKER = ("execnet", "exec(eval(sys.stdin.readline()))")  # how execnet starts a pytest-xdist worker


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # the process ended, or is not ours to read
        return None


def _processes() -> dict[int, dict]:
    """Every process we can see: pid -> {ppid, state, cmdline, environ}."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _read(entry / "stat")
        if stat is None:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        found[int(entry.name)] = {
            "ppid": int(fields[1]), "state": fields[0].decode(),
            "cmdline": (_read(entry / "cmdline") or b"").replace(b"\0", b" ").decode(errors="replace").strip(),
            "environ": _read(entry / "environ") or b"",
        }
    return found


def _descendants(root: int, processes: dict[int, dict]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, info in processes.items():
        children.setdefault(info["ppid"], []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def leftover_processes(mark: str | None, skip_xdist_workers: bool) -> dict[int, str]:
    """Processes of this run still alive (pid -> command line), except the exempt ones."""
    me = os.getpid()
    processes = _processes()
    ours = _descendants(me, processes)
    if mark:
        needle = f"{MARK}={mark}".encode() + b"\0"
        ours |= {pid for pid, info in processes.items() if needle in info["environ"] + b"\0"}
    ours.discard(me)
    if skip_xdist_workers:  # the workers and what they run: each worker checks its own processes
        workers = {pid for pid in ours if processes[pid]["ppid"] == me
                   and any(sign in processes[pid]["cmdline"] for sign in XDIST_WORKER)}
        ours -= workers
    return {pid: processes[pid]["cmdline"] or "?" for pid in sorted(ours)
            if processes[pid]["state"] not in ("Z", "X") and not any(e in processes[pid]["cmdline"] for e in EXEMPT)}


def _kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for pid in pids:  # reap the ones that were our children, so no zombie stays either
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def pytest_configure(config):
    # The run's mark: set by the first pytest process of a run (an xdist worker inherits its controller's).
    config._leakcheck_own_mark = MARK not in os.environ
    if config._leakcheck_own_mark:
        os.environ[MARK] = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if not Path("/proc/self/stat").exists():
        return
    is_worker = hasattr(config, "workerinput")
    # A worker's mark is shared with the other workers: there, only descendants count.
    mark = os.environ.get(MARK) if getattr(config, "_leakcheck_own_mark", False) and not is_worker else None
    grace = float(os.environ.get("LEAKCHECK_GRACE_SECONDS", "15"))
    deadline = time.monotonic() + grace
    while True:
        left = leftover_processes(mark, skip_xdist_workers=not is_worker)
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    lines = []
    if left:
        where = f" (pytest-xdist worker {config.workerinput.get('workerid')})" if is_worker else ""
        lines = [f"{len(left)} process(es) started by the tests{where} were still alive {grace:g} s after the "
                 "last test (now killed); every test must end what it starts:"]
        lines += [f"  pid {pid}: {cmdline[:300]}" for pid, cmdline in left.items()]
        _kill(left)
    if is_worker:  # a worker's own report and exit status are not shown: hand the lines to the controller
        config.workeroutput["leakcheck"] = lines
        return
    lines += getattr(config, "_leakcheck_from_workers", [])
    if lines:
        config._leakcheck_report = lines
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller: a worker finished; keep what its leak check found."""
    lines = getattr(node, "workeroutput", {}).get("leakcheck") or []
    node.config.__dict__.setdefault("_leakcheck_from_workers", []).extend(lines)


def pytest_terminal_summary(terminalreporter, config):
    lines = getattr(config, "_leakcheck_report", None)
    if lines:
        terminalreporter.write_sep("!", "PROCESSES LEFT BEHIND", red=True)
        for line in lines:
            terminalreporter.write_line(line)
