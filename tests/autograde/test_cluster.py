"""Batch grading on a real Dask cluster (`batch --scheduler ADDRESS`): a `dask scheduler` and two
`dask worker` processes on loopback, started here and killed in the fixture's teardown.

- The cluster's gradebook and CSV equal those of local grading, for a solution, a blank release, a
  hostile submission (its answer cell calls ``os._exit(0)``) and a file that is not a notebook.
- A worker killed (SIGKILL) while it grades a notebook: its task runs again on a worker, and every
  submission is yielded and recorded exactly once.
- A client killed with kill -9 mid-batch: the same command again grades exactly what is missing.
- A submission whose grading kills its worker more often than the scheduler allows is reported as
  unusable, with the number of workers it killed, and the others are graded.
- A worker without full isolation: the summary names every grade it made.
Every cluster's processes (and their zygotes and sandboxes) are killed afterwards, and the teardown
fails if any is left.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from submissions import answer_sources, write_submission

from autograde.batch import run_batch
from autograde.isolation import Limits
from autograde.layout import REPO_ROOT, release_notebook, source_notebook

try:
    import distributed  # noqa: F401
except ImportError:
    pytest.skip("Dask is not installed: grading on a cluster needs the `cluster` extra "
                "(.venv/bin/pip install -e .[cluster]; .ci/run installs it)", allow_module_level=True)

import autograde.cluster as cluster_module

ASSIGNMENT = "01-requirements-estimation"
NB = f"{ASSIGNMENT}.ipynb"
LIMITS = Limits(cell_seconds=20, notebook_seconds=120)
DASK = str(Path(sys.executable).with_name("dask"))


def nbgrader_layout(root: Path, students: dict[str, bytes | Path]) -> Path:
    for student, content in students.items():
        folder = root / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NB).write_bytes(content.read_bytes() if isinstance(content, Path) else content)
    return root


def csv_rows(path: Path) -> dict[str, dict]:
    """The CSV by student, without the time of grading (which differs between two runs)."""
    with open(path, newline="") as f:
        return {row["student"]: {k: v for k, v in row.items() if k != "graded_at"} for row in csv.DictReader(f)}


def gradebook_cells(workspace: Path) -> dict[tuple[str, str], tuple]:
    """Every grade cell of every submission: (student, grade_id) -> (auto score, needs manual grading)."""
    with sqlite3.connect(workspace / "gradebook.db") as db:
        rows = db.execute("SELECT submitted_assignment.student_id, base_cell.name, grade.auto_score, "
                          "grade.needs_manual_grade FROM grade "
                          "JOIN base_cell ON grade.cell_id = base_cell.id "
                          "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
                          "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id"
                          ).fetchall()
    found = {}
    for student, cell, score, manual in rows:
        assert (student, cell) not in found, f"grade cell {cell} of {student} recorded twice in the gradebook"
        found[(student, cell)] = (score, bool(manual))
    return found


def state_rows(workspace: Path) -> list[tuple]:
    with sqlite3.connect(workspace / "batch-state.db") as db:
        return db.execute("SELECT student, assignment, outcome, score FROM results").fetchall()


# --------------------------------------------------------------------------- processes

def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class DaskCluster:
    """A `dask scheduler` and `dask worker`s (each with its nanny) on 127.0.0.1, in their own sessions."""

    def __init__(self, tmp: Path, workers: int = 2, allowed_failures: int = 3, env: dict | None = None):
        self.tmp = tmp
        self.processes: list[subprocess.Popen] = []
        self.env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=str(allowed_failures), **(env or {}))
        scheduler_file = tmp / "scheduler.json"
        self._start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(scheduler_file)], "scheduler")
        deadline = time.monotonic() + 120
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, f"the dask scheduler did not start: {self.log('scheduler')}"
            assert self.processes[0].poll() is None, f"the dask scheduler exited: {self.log('scheduler')}"
            time.sleep(0.2)
        import json

        self.address = json.loads(scheduler_file.read_text())["address"]
        for n in range(workers):
            self._start([DASK, "worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1",
                         "--nthreads", "1", "--no-dashboard", "--name", f"w{n}"], f"worker{n}")
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=180)

    def _start(self, command: list[str], name: str) -> None:
        log = open(self.tmp / f"{name}.log", "wb")
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                               cwd=REPO_ROOT, start_new_session=True))
        log.close()

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def worker_processes(self) -> list[int]:
        """The worker processes (children of the `dask worker` nannies)."""
        tree = _children()
        return [child for nanny in self.processes[1:] for child in tree.get(nanny.pid, [])
                if "python" in Path(f"/proc/{child}/exe").resolve().name]

    def busy_worker(self) -> int | None:
        """A worker process whose zygote has a learner process: one that is grading right now."""
        tree = _children()
        for worker in self.worker_processes():
            for zygote in tree.get(worker, []):
                if tree.get(zygote):
                    return worker
        return None

    def stop(self) -> None:
        """Kill everything started here, and check that nothing of it is left running."""
        started = [p.pid for p in self.processes]
        everything = set(started)
        for pid in started:
            everything.update(descendants(pid))
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(pid) for pid in everything):
            time.sleep(0.2)
        left = [pid for pid in everything if alive(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"processes left behind by the Dask cluster: {left}"


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    cluster = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    answers = answer_sources(source_notebook(ASSIGNMENT))
    answers["servers_needed"] = "import os\nos._exit(0)\n" + answers["servers_needed"]
    exits = write_submission(ASSIGNMENT, root / "exits.ipynb", answers)
    return nbgrader_layout(root / "submitted", {
        "alice": source_notebook(ASSIGNMENT), "bob": release_notebook(ASSIGNMENT),
        "mallory": exits, "carol": b"not a notebook"})


def test_the_cluster_grades_a_class_as_local_grading_does(dask_cluster, small_class, tmp_path):
    local = run_batch(small_class, workers=2, workspace=tmp_path / "local", limits=LIMITS)
    remote = run_batch(small_class, scheduler=dask_cluster.address, workspace=tmp_path / "dask", limits=LIMITS)
    assert (remote.graded, len(remote.unusable), remote.faults) == (local.graded, len(local.unusable), local.faults) \
        == (3, 1, []), f"local {local}, dask {remote}"
    expected, got = csv_rows(tmp_path / "local" / "grades.csv"), csv_rows(tmp_path / "dask" / "grades.csv")
    assert got == expected, f"CSV, local grading (expected) vs Dask: {expected} != {got}"
    assert {s: r["score"] for s, r in got.items()} == {"alice": "14.0", "bob": "0.0", "mallory": "10.0", "carol": ""}
    assert got["carol"]["outcome"] == "unusable" and "not a notebook" in got["carol"]["message"], got["carol"]
    assert "autograde-dask-" not in got["carol"]["message"], f"a worker's private path leaked into the CSV: {got['carol']}"
    assert gradebook_cells(tmp_path / "dask") == gradebook_cells(tmp_path / "local")
    assert sum(remote.cluster["per_worker"].values()) == 4 and len(remote.cluster["per_worker"]) == 2, \
        f"per-worker counts {remote.cluster['per_worker']}: expected 4 notebooks spread over the 2 workers"


def test_a_worker_killed_mid_notebook_loses_and_duplicates_no_grade(dask_cluster, tmp_path, monkeypatch):
    n = 6
    students = {f"s{i}": (source_notebook(ASSIGNMENT) if i % 2 else release_notebook(ASSIGNMENT)) for i in range(n)}
    subs = nbgrader_layout(tmp_path / "submitted", students)
    yielded: list[int] = []
    original = cluster_module.iter_graded_on_cluster

    def recording(*args, **kwargs):
        for index, result in original(*args, **kwargs):
            yielded.append(index)
            yield index, result

    monkeypatch.setattr(cluster_module, "iter_graded_on_cluster", recording)
    killed: list[int] = []
    done = threading.Event()

    def killer():  # SIGKILL the first worker seen grading (its zygote has a learner process)
        while not done.is_set():
            pid = dask_cluster.busy_worker()
            if pid is not None and len(yielded) < n - 2:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        summary = run_batch(subs, scheduler=dask_cluster.address, workspace=tmp_path / "ws", limits=LIMITS)
    finally:
        done.set()
        thread.join()
    assert killed, "the test never saw a worker grading, so it killed none: nothing was checked"
    assert sorted(yielded) == list(range(n)), f"jobs yielded {sorted(yielded)}, expected each of 0..{n - 1} once"
    expected = {s: 14.0 if int(s[1:]) % 2 else 0.0 for s in students}
    assert (summary.graded, summary.unusable, summary.faults) == (n, [], []), summary
    rows = state_rows(tmp_path / "ws")
    assert sorted((r[0], r[3]) for r in rows) == sorted(expected.items()), f"state rows {rows}, expected {expected}"
    got = {s: float(r["score"]) for s, r in csv_rows(tmp_path / "ws" / "grades.csv").items()}
    assert got == expected
    cells = gradebook_cells(tmp_path / "ws")
    assert {s for s, _ in cells} == set(students)
    with open(tmp_path / "ws" / "grades.csv") as f:
        assert len(f.read().splitlines()) == n + 1, "the CSV has a row recorded twice"
    # the nanny restarted the killed worker, and the cluster grades again
    assert dask_cluster.worker_processes() and killed[0] not in dask_cluster.worker_processes()


def test_a_client_killed_mid_batch_is_resumed_grading_exactly_what_is_missing(dask_cluster, tmp_path):
    n = 6
    students = {f"s{i}": (source_notebook(ASSIGNMENT) if i % 2 else release_notebook(ASSIGNMENT)) for i in range(n)}
    subs = nbgrader_layout(tmp_path / "submitted", students)
    workspace = tmp_path / "ws"
    command = [sys.executable, "-m", "autograde", "batch", str(subs), "--scheduler", dask_cluster.address,
               "--workspace", str(workspace)]
    client = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO_ROOT,
                              start_new_session=True)
    state, recorded = workspace / "batch-state.db", 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and client.poll() is None:  # kill it once some, not all, are recorded
        if state.exists():
            with sqlite3.connect(state) as db:
                recorded = db.execute("SELECT COUNT(*) FROM results WHERE outcome='graded'").fetchone()[0]
            if recorded >= 1:
                break
        time.sleep(0.1)
    os.killpg(client.pid, signal.SIGKILL)
    client.wait()
    assert 1 <= recorded < n, f"the client was killed with {recorded} of {n} recorded: not in the middle"
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-2000:]
    graded_again = int(resumed.stdout.split("graded ", 1)[1].split(",")[0])
    unchanged = int(resumed.stdout.split("unchanged since last run ", 1)[1].split(",")[0])
    assert graded_again + unchanged == n and unchanged >= recorded, resumed.stdout
    assert "worker    tcp://127.0.0.1" in resumed.stdout, f"no per-worker counts in the summary: {resumed.stdout}"
    expected = {s: 14.0 if int(s[1:]) % 2 else 0.0 for s in students}
    assert sorted((r[0], r[3]) for r in state_rows(workspace)) == sorted(expected.items())
    assert {s: float(r["score"]) for s, r in csv_rows(workspace / "grades.csv").items()} == expected
    assert {s for s, _ in gradebook_cells(workspace)} == set(students)


def test_a_submission_that_keeps_killing_workers_is_unusable_not_retried_forever(tmp_path):
    """Full isolation keeps a learner's code from killing its worker, so the test plays that part: bob's
    answer names its own process ``autograde-kill`` and sleeps; the test kills the worker above any process so
    named, each time. With ``allowed-failures`` 1 the scheduler gives up after the second death."""
    answers = answer_sources(source_notebook(ASSIGNMENT))
    answers["servers_needed"] = (f"import ctypes, time\nctypes.CDLL(None).prctl(15, b'{KILL_ME}', 0, 0, 0)\n"
                                 "time.sleep(60)\n" + answers["servers_needed"])  # 15: PR_SET_NAME
    bob = write_submission(ASSIGNMENT, tmp_path / "bob.ipynb", answers)
    subs = nbgrader_layout(tmp_path / "submitted", {"alice": source_notebook(ASSIGNMENT), "bob": bob})
    cluster = DaskCluster(tmp_path, workers=1, allowed_failures=1)
    kills: list[int] = []
    done = threading.Event()

    def killer():
        while not done.is_set():
            for worker in cluster.worker_processes():
                if any(_comm(pid) == KILL_ME for pid in descendants(worker)):
                    os.kill(worker, signal.SIGKILL)
                    kills.append(worker)
            time.sleep(0.1)

    thread = threading.Thread(target=killer, daemon=True)
    try:
        thread.start()
        summary = run_batch(subs, scheduler=cluster.address, workspace=tmp_path / "ws",
                            limits=Limits(cell_seconds=90, notebook_seconds=300))
    finally:
        done.set()
        thread.join()
        cluster.stop()
    assert summary.graded == 1 and summary.faults == [], summary
    assert len(summary.unusable) == 1 and summary.unusable[0][0] == f"bob/{ASSIGNMENT}", summary.unusable
    assert "killed 2 Dask workers" in summary.unusable[0][2], summary.unusable
    assert len(kills) == 2, f"the test killed {len(kills)} workers; with allowed-failures 1 the scheduler stops at 2"
    assert [r for r in state_rows(tmp_path / "ws") if r[0] == "bob"] == [("bob", ASSIGNMENT, "unusable", None)]


KILL_ME = "autograde-kill"


def test_a_worker_without_full_isolation_is_named_in_the_summary_for_every_grade(tmp_path):
    """AUTOGRADE_ISOLATION=limited makes a worker grade as one that is not root would."""
    subs = nbgrader_layout(tmp_path / "submitted", {"alice": source_notebook(ASSIGNMENT),
                                                    "bob": release_notebook(ASSIGNMENT)})
    cluster = DaskCluster(tmp_path, workers=1, env={"AUTOGRADE_ISOLATION": "limited"})
    try:
        summary = run_batch(subs, scheduler=cluster.address, workspace=tmp_path / "ws", limits=LIMITS)
    finally:
        cluster.stop()
    from autograde.cluster import describe_cluster

    assert summary.graded == 2, summary
    noted = {key for key, note in summary.notes
             if "graded with isolation: limited" in note and "on tcp://127.0.0.1" in note}
    assert noted == {f"alice/{ASSIGNMENT}", f"bob/{ASSIGNMENT}"}, f"limited-isolation notes: {summary.notes}"
    lines = describe_cluster(summary.cluster)
    assert any("2 notebooks, 2 graded with isolation: limited" in line for line in lines), lines
    assert {s: float(r["score"]) for s, r in csv_rows(tmp_path / "ws" / "grades.csv").items()} == \
        {"alice": 14.0, "bob": 0.0}


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
