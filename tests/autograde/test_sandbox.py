"""The sandbox and its proxies, directly: what crosses the boundary and what the learner's process sees."""

from __future__ import annotations

import time

import pytest

from autograde.isolation import Limits, full_isolation_possible
from autograde.layout import REPO_ROOT
from autograde.sandbox import CellTimeout, LearnerNames, RemoteObject, Zygote

LEARNER_CODE = '''
import os, socket, time
from course.data import DataIntegrityError

class Counter:
    def __init__(self, start):
        self.value = start
    def add(self, n):
        self.value += n
        return self.value

class MyError(ValueError):
    pass

def fails(kind):
    if kind == "course":
        raise DataIntegrityError("hash differs")
    raise MyError("custom")

def environment():
    return sorted(os.environ)

def visible(path):
    return os.path.exists(path)

def loopback_works():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname(), timeout=2)
    client.close()
    return True

def outside_network():
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2)
        return "connected"
    except OSError as exc:
        return type(exc).__name__

def spin():
    while True:
        pass

def crowded_burn(seconds):
    os.sched_setaffinity(0, {0})
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return "done"
'''


@pytest.fixture(scope="module")
def zygote():
    with Zygote(slot=7, limits=Limits(cell_seconds=3)) as zygote:
        yield zygote


@pytest.fixture
def learner(zygote):
    """A fresh learner process per test: a test that ends its process (a runaway call that could not be
    interrupted in time on a loaded machine is killed) must not take the next test down with it."""
    process = zygote.spawn()
    reply = process.execute(LEARNER_CODE, time.monotonic() + 30)
    assert "error" not in reply, reply
    process.deadline = time.monotonic() + 60
    yield LearnerNames(process)
    process.kill()


def test_plain_data_comes_back_and_objects_stay_remote(learner):
    counter = learner["Counter"](5)
    assert isinstance(counter, RemoteObject)
    assert counter.add(2) == 7 and counter.value == 7


def test_exceptions_keep_their_meaning(learner):
    from course.data import DataIntegrityError

    with pytest.raises(DataIntegrityError):
        learner["fails"]("course")
    with pytest.raises(ValueError) as info:
        learner["fails"]("custom")
    assert type(info.value).__name__ == "MyError"


def test_unknown_names_are_name_errors(learner):
    with pytest.raises(KeyError):
        learner["no_such_function"]


@pytest.mark.skipif(not full_isolation_possible(), reason="needs full isolation (Linux, root)")
def test_the_learner_sees_no_instructor_files_and_no_grading_markers(learner):
    assert learner["visible"](str(REPO_ROOT / "course"))
    for hidden in ("solutions", "autograde/reference/requirements_estimation.py", "tests", ".git", "grading"):
        assert not learner["visible"](str(REPO_ROOT / hidden)), hidden
    assert learner["environment"]() == sorted(["PATH", "HOME", "LANG", "MPLBACKEND", "MPLCONFIGDIR",
                                               "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "TMPDIR"])


@pytest.mark.skipif(not full_isolation_possible(), reason="needs full isolation (Linux, root)")
def test_loopback_only(learner):
    assert learner["loopback_works"]() is True
    assert learner["outside_network"]() != "connected"


def test_a_runaway_call_times_out(learner):
    process = learner._process
    process.deadline = time.monotonic() + 1
    try:
        with pytest.raises(CellTimeout):
            learner["spin"]()
    finally:
        process.deadline = time.monotonic() + 60


def test_a_test_passing_non_plain_data_is_a_broken_test_not_a_learner_error(learner):
    from autograde.sandbox import TestCodeError
    from autograde.verdict import check_raises

    with pytest.raises(TestCodeError):
        check_raises(learner["fails"], (b"bytes are not plain data",), TypeError)


def test_learner_names_read_as_their_names_in_messages(learner):
    assert repr(learner["Counter"]) == "Counter"
    assert "in the learner's process" in repr(learner["Counter"](1))


# ----------------------------------------------------------------------------- time: CPU, wall, backstop
SLEEPER = "import time\ndef sleeper():\n    time.sleep(60)\n"


@pytest.fixture
def sleeper(zygote):
    process = zygote.spawn()
    assert "error" not in process.execute(LEARNER_CODE + SLEEPER, time.monotonic() + 30)
    yield process
    process.kill()


@pytest.mark.parametrize("busy, reason, retry", [(False, "wall", False), (True, "backstop", True)])
def test_a_sleeping_call_ends_by_wall_clock_and_is_retried_only_on_a_busy_machine(sleeper, monkeypatch, busy,
                                                                                   reason, retry):
    """Sleeping uses no CPU: on a quiet machine the plain wall-clock limit ends it (a verdict); on a
    busy one the limit stretches to the backstop, and then the call is not graded (retry)."""
    import autograde.sandbox as sandbox

    monkeypatch.setattr(sandbox, "machine_busy", lambda: (busy, "load 9.0 on 2 cores"))
    sleeper.start_clock(0.5)
    started = time.monotonic()
    with pytest.raises(CellTimeout) as info:
        LearnerNames(sleeper)["sleeper"]()
    elapsed = time.monotonic() - started
    assert (info.value.reason, info.value.retry) == (reason, retry), (
        f"input: sleep(60), 0.5 s clock, busy={busy}; expected ({reason}, retry={retry}); "
        f"got ({info.value.reason}, retry={info.value.retry})")
    lower = 0.5 * (sleeper.limits.backstop_factor if busy else 1)
    assert elapsed >= lower - 0.05, f"busy={busy}: gave up after {elapsed:.2f} s, before {lower:g} s"


def test_a_spinning_call_ends_by_cpu_time_even_on_a_busy_machine(zygote, monkeypatch):
    import autograde.sandbox as sandbox

    monkeypatch.setattr(sandbox, "machine_busy", lambda: (True, "load 9.0 on 2 cores"))
    process = zygote.spawn()
    try:
        assert "error" not in process.execute(LEARNER_CODE, time.monotonic() + 30)
        process.start_clock(0.5)
        process.backstop = time.monotonic() + 60  # far: only the CPU budget can end it
        with pytest.raises(CellTimeout) as info:
            LearnerNames(process)["spin"]()
    finally:
        process.kill()
    assert (info.value.reason, info.value.retry) == ("cpu", False), (info.value.reason, info.value.retry)


def test_a_call_crowded_off_its_cpu_gets_more_time_before_the_load_average_shows_it(zygote, monkeypatch):
    """Three busy loops share CPU 0 with a call that needs 0.6 s of CPU there: about 2.4 s of wall-clock
    time against a 1 s limit. The 1-minute load average lags (here it says "not busy" throughout), but the
    call's own waiting for a CPU (/proc schedstat) shows the machine is busy for it, so the wall-clock
    limit stretches and the call finishes."""
    import subprocess
    import sys

    import autograde.sandbox as sandbox

    monkeypatch.setattr(sandbox, "machine_busy", lambda: (False, "load 0.1 on 2 cores"))
    loops = [subprocess.Popen([sys.executable, "-c", "import os\nos.sched_setaffinity(0, {0})\nwhile True: pass"])
             for _ in range(3)]
    process = zygote.spawn()
    try:
        assert "error" not in process.execute(LEARNER_CODE, time.monotonic() + 30)
        process.start_clock(1.0)
        started = time.monotonic()
        got = LearnerNames(process)["crowded_burn"](0.6)
        elapsed = time.monotonic() - started
    finally:
        process.kill()
        for loop in loops:
            loop.kill()
            loop.wait()
    assert got == "done", f"input: crowded_burn(0.6) beside 3 loops on CPU 0, 1 s limit; expected done; got {got!r}"
    print(f"the crowded call took {elapsed:.1f} s of wall-clock time for 0.6 s of CPU")


def test_a_test_not_graded_for_a_busy_machine_says_so_everywhere():
    from autograde.grading import CellRun, GradeReport, _test_result

    result = _test_result("correct_x", 2, CellRun("timeout", "not graded: the machine was too busy", retry=True), [])
    assert (result.points, result.status, result.retry) == (0.0, "timeout", True), result
    report = GradeReport("a", "a.ipynb", 0.0, 2.0, 0.0, tests=[result])
    assert report.to_json()["retry"] is True and report.to_json()["tests"][0]["retry"] is True
    assert "not graded" in report.table() and "grade again" in report.table()
    passed = GradeReport("a", "a.ipynb", 2.0, 2.0, 0.0, tests=[_test_result("correct_x", 2, CellRun("ok"), [])])
    assert passed.to_json()["retry"] is False


def test_the_sandbox_binds_every_folder_along_the_interpreters_symlinks(tmp_path, monkeypatch):
    """A venv's python may be a link through folders outside both prefixes (found by the student-bundle
    test: module 03's call_in_subprocess found no interpreter in the sandbox)."""
    import os
    import sys

    from autograde.isolation import _interpreter_dirs, default_plan
    from autograde.layout import REPO_ROOT

    (tmp_path / "shims").mkdir()
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    os.symlink(os.path.realpath(sys.executable), tmp_path / "shims" / "python3")
    os.symlink(tmp_path / "shims" / "python3", tmp_path / "venv" / "bin" / "python")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    dirs = _interpreter_dirs()
    assert {str(tmp_path / "venv" / "bin"), str(tmp_path / "shims"),
            os.path.dirname(os.path.realpath(sys.executable))} <= dirs
    assert str(tmp_path / "shims") in default_plan(REPO_ROOT).readonly
