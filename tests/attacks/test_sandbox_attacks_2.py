"""The second round of attacks on the grader's sandbox (issue 18, items 2, 3, 4 and 8; issue 17's
limits under load). Each test states the attack, what the grader must do, and fails if it does not.

Most attacks talk to a sandbox directly (a zygote, a learner process, the learner's names), which
is quicker and more precise than grading a whole notebook; the neighbour attacks grade module 01
notebooks side by side in one batch, as ``python -m autograde batch`` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograde.isolation import Limits, full_isolation_possible
from autograde.layout import REPO_ROOT
from autograde.sandbox import CellTimeout, LearnerNames, Zygote

pytestmark = pytest.mark.skipif(not full_isolation_possible(),
                                reason="these attacks need full isolation (Linux, run as root)")

SECRET_NAME, SECRET_VALUE = "AUTOGRADE_ATTACK_CI_SECRET", "ci-secret-7f3a91"


def _learner(zygote: Zygote, code: str, seconds: float = 60) -> LearnerNames:
    process = zygote.spawn()
    reply = process.execute(code, time.monotonic() + 60)
    assert "error" not in reply, f"the attack's own code failed to load: {reply}"
    process.start_clock(seconds)
    return LearnerNames(process)


# --------------------------------------------------------------------------- item 2: environment, mounts
ENVIRON_ATTACK = r'''
import ctypes, os

def leaked_environment(secret):
    """Every /proc/*/environ this process can read, after making itself dumpable again."""
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, 1
    found, readable = [], []
    pids = ["self", "thread-self", "1", str(os.getppid())] + [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in pids:
        try:
            data = open(f"/proc/{pid}/environ", "rb").read()
        except OSError:
            continue
        readable.append(pid)
        if secret.encode() in data:
            found.append(pid)
    return {"found": found, "readable": readable}

def visible(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return type(exc).__name__
'''


def test_2_the_graders_environment_cannot_be_read_back_from_proc(monkeypatch):
    """An answer cell sets PR_SET_DUMPABLE and reads /proc/self/environ, /proc/1/environ, its
    parent's and every other readable environ: a variable set in the grader must appear nowhere."""
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)
    with Zygote(slot=5, limits=Limits(cell_seconds=10)) as zygote:
        learner = _learner(zygote, ENVIRON_ATTACK)
        try:
            result = learner["leaked_environment"](SECRET_VALUE)
        finally:
            learner._process.kill()
    assert "self" in result["readable"], f"the attack could not even read its own environ: {result}"
    assert result["found"] == [], (f"input: {SECRET_NAME}={SECRET_VALUE} set in the grader; expected: in no "
                                   f"/proc/*/environ of the sandbox; got: found in {result['found']}")


def test_2_only_what_the_learner_needs_is_mounted():
    """The project's directory shows only the bound parts (course, data, autograde without its
    reference answers, the virtual environment); nothing else of the machine is bound wholesale."""
    with Zygote(slot=5, limits=Limits(cell_seconds=10)) as zygote:
        learner = _learner(zygote, ENVIRON_ATTACK)
        try:
            seen = {path: learner["visible"](path) for path in
                    (str(REPO_ROOT), str(REPO_ROOT.parent), "/", str(REPO_ROOT / "autograde" / "reference"), "/etc")}
        finally:
            learner._process.kill()
    allowed_in_root = {"autograde", "course", "data", Path(sys.prefix).name}
    assert set(seen[str(REPO_ROOT)]) <= allowed_in_root, (
        f"input: listdir({REPO_ROOT}) in the sandbox; expected: a subset of {sorted(allowed_in_root)}; "
        f"got: {seen[str(REPO_ROOT)]}")
    # A clone in /tmp shares its parent with the sandbox's own /tmp (the learner's working folder, IPython's).
    sandbox_tmp = {".ipython", "work"} if REPO_ROOT.parent == Path("/tmp") else set()
    assert set(seen[str(REPO_ROOT.parent)]) - sandbox_tmp == {REPO_ROOT.name}, (
        f"listdir({REPO_ROOT.parent}): {seen[str(REPO_ROOT.parent)]}")
    assert seen[str(REPO_ROOT / "autograde" / "reference")] == [], seen
    python_homes = {Path(os.path.realpath(p)).parts[1] for p in (sys.prefix, sys.base_prefix)}
    unexpected = set(seen["/"]) - {"bin", "dev", "etc", "lib", "lib32", "lib64", "proc", "sbin", "tmp", "usr"} \
        - python_homes - {REPO_ROOT.parts[1]}
    assert not unexpected, f"input: listdir('/') in the sandbox; expected no extra top-level entries; got {sorted(unexpected)}"
    from autograde.isolation import ETC_ALLOWED

    extra_etc = set(seen["/etc"]) - set(ETC_ALLOWED)
    assert not extra_etc, (f"input: listdir('/etc') in the sandbox; expected only {sorted(ETC_ALLOWED)}; "
                           f"got also {sorted(extra_etc)} (pip.conf, .npmrc and the like can hold credentials)")


# --------------------------------------------------------------------------- item 8: reply flood, uids
FLOOD_ATTACK = r'''
import os, stat, time

def _runner_socket():
    for fd in range(3, 256):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass

def flood(seconds):
    """Write tiny lines (each a valid JSON object that is no reply) on the grader's socket."""
    fd, end, burst = _runner_socket(), time.monotonic() + seconds, b"{}\n" * 350_000
    while time.monotonic() < end:
        os.write(fd, burst)
    return "flood over"
'''
FLOOD_SECONDS = 10.0
DEADLINE = 0.5
MARGIN = 1.0  # generous for a loaded machine; the flood itself lasts FLOOD_SECONDS


@pytest.fixture(scope="module")
def flood_zygote():
    with Zygote(slot=5, limits=Limits(cell_seconds=10)) as zygote:
        yield zygote


def test_8_a_flood_of_tiny_lines_cannot_hold_the_grader_past_its_deadline(flood_zygote):
    """The learner's code writes ~millions of tiny lines on the socket while its call runs: the grader
    must give up waiting for the reply within a small margin of its 0.5 s deadline."""
    learner = _learner(flood_zygote, FLOOD_ATTACK)
    process = learner._process
    try:
        process.next_id += 1
        request_id = process.next_id
        process.sock.sendall((json.dumps({"op": "call", "target": {"name": "flood"}, "args": [FLOOD_SECONDS],
                                          "kwargs": {}, "id": request_id}) + "\n").encode())
        started = time.monotonic()
        reply = process._reply(request_id, started + DEADLINE)
        elapsed = time.monotonic() - started
    finally:
        process.kill()
    assert reply is None and elapsed < DEADLINE + MARGIN, (
        f"input: a {FLOOD_SECONDS:g} s flood of '{{}}' lines, deadline {DEADLINE} s; expected: no reply, "
        f"given up within {DEADLINE + MARGIN:g} s; got: reply {reply!r} after {elapsed:.2f} s")


def test_8_a_flooding_call_times_out_like_any_other(flood_zygote):
    from autograde.sandbox import INTERRUPT_GRACE_S

    learner = _learner(flood_zygote, FLOOD_ATTACK)
    learner._process.start_clock(DEADLINE)  # 0.5 s of CPU; on a busy machine, up to 3 x 0.5 s of wall-clock
    started = time.monotonic()
    try:
        with pytest.raises(CellTimeout):
            learner["flood"](FLOOD_SECONDS)
    finally:
        learner._process.kill()
    elapsed = time.monotonic() - started
    bound = DEADLINE * flood_zygote.limits.backstop_factor + INTERRUPT_GRACE_S + MARGIN
    assert elapsed < bound, f"input: a {FLOOD_SECONDS:g} s flood; expected a timeout within {bound:g} s; got {elapsed:.2f} s"


def test_8_sandbox_uids_of_different_graders_never_collide():
    """Two graders running at once must never share a sandbox uid, whatever their pids (pid_max can
    be up to 2**22): pid % 1_000_000 made pids 5 and 1_000_005 share one."""
    import random

    from autograde.isolation import MAX_WORKERS, PID_MAX_LIMIT, SANDBOX_UID_BASE, sandbox_uid

    seed = 18
    rng = random.Random(seed)
    pids = {1, 5, 999_999, 1_000_000, 1_000_001, 1_000_005, 2_000_005, PID_MAX_LIMIT - 1}
    pids |= {rng.randrange(1, PID_MAX_LIMIT) for _ in range(20_000)}
    seen: dict[int, tuple[int, int]] = {}
    for pid in sorted(pids):
        for slot in range(MAX_WORKERS):
            uid = sandbox_uid(slot, pid)
            assert SANDBOX_UID_BASE <= uid < 2**31 - 1, f"input: pid {pid}, slot {slot}; got uid {uid} out of range"
            assert uid not in seen, (f"input: (pid, slot) {(pid, slot)} and {seen.get(uid)} (seed {seed}); "
                                     f"expected: different uids; got: both {uid}")
            seen[uid] = (pid, slot)
    with pytest.raises(ValueError):
        sandbox_uid(0, PID_MAX_LIMIT)


# --------------------------------------------------------------------------- item 4: output caps
ASSIGNMENT = "01-requirements-estimation"
FULL = 14


def _module01_submission(path: Path, servers_needed_prefix: str = "", servers_needed_suffix: str = "") -> Path:
    """Module 01's solution, with code put before / after the servers_needed answer cell."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from submissions import answer_sources, write_submission

    from autograde.layout import source_notebook

    answers = answer_sources(source_notebook(ASSIGNMENT))
    answers["servers_needed"] = servers_needed_prefix + answers["servers_needed"] + servers_needed_suffix
    return write_submission(ASSIGNMENT, path, answers)


OUTPUT_ATTACK = '''
import sys
import autograde.runner as _runner
type(sys.stdout).take = lambda self: "X" * 1_000_000
_runner._describe_exception = lambda exc: {"type": "T" * 1_000_000, "message": "M" * 5_000_000,
                                          "builtin_bases": ["ValueError"] * 1_000}
'''


def test_4_output_and_message_caps_hold_when_the_learner_replaces_its_own_capture(tmp_path):
    """An answer cell replaces the output capture's ``take`` (every cell then "prints" a million
    characters) and the runner's exception description (a 5 MB message): the grader cuts both, so
    the autograded notebook stays small, and the correct answer still earns its points."""
    from autograde.batch import autograded_notebook
    from autograde.grading import MESSAGE_LIMIT, grade_notebook
    from autograde.runner import STDOUT_KEEP as OUTPUT_LIMIT  # the documented cap: 20,000 characters a cell

    path = _module01_submission(tmp_path / "output_attack.ipynb", OUTPUT_ATTACK,
                                "\nraise ValueError('after the definitions')\n")
    with Zygote(slot=5, limits=Limits(cell_seconds=20, notebook_seconds=180)) as zygote:
        report = grade_notebook(path, ASSIGNMENT, zygote=zygote)
    assert report.score == FULL, f"input: {path.name}; expected {FULL}; got {report.score}\n{report.table()}"
    nb, runs = report.notebook_run
    longest_output = max(len(run.output) for run in runs.values())
    longest_message = max(len(run.message) for run in runs.values())
    assert any(run.output.startswith("X" * 1000) for run in runs.values()), "the attack did not take effect"
    assert longest_output <= OUTPUT_LIMIT + 100, f"expected outputs cut to {OUTPUT_LIMIT}; got {longest_output}"
    assert longest_message <= 2 * MESSAGE_LIMIT + 300, f"expected messages cut; got {longest_message}"
    size = len(json.dumps(autograded_notebook(report)))
    assert size < 2_000_000, f"expected the autograded notebook under 2 MB; got {size:,} bytes"


# --------------------------------------------------------------------------- item 3: per-submission limits
MEMORY_ATTACK = r'''
import os, time

def four_hoarders(mib_each):
    """Four processes each fill mib_each MiB (every page written), report, and hold it for a while.
    Returns how many of them held their memory at the same time."""
    r, w = os.pipe()
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            try:
                try:  # if the kernel must kill, a hoarder goes first, not the learner's process
                    import ctypes
                    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: /proc/self is then its own
                    with open("/proc/self/oom_score_adj", "w") as f:
                        f.write("1000")
                except OSError:
                    pass
                hoard = b"\x01" * (mib_each * 2**20)
                os.write(w, b"1")
                time.sleep(6)
            finally:
                os._exit(0)
        children.append(pid)
    os.close(w)
    os.set_blocking(r, False)
    ended = set()

    def reap():
        for pid in children:
            if pid not in ended and os.waitpid(pid, os.WNOHANG)[0]:
                ended.add(pid)

    reported, give_up = 0, time.monotonic() + 5
    while reported < 4 and len(ended) < 4 and time.monotonic() < give_up:
        try:
            reported += len(os.read(r, 4))  # a killed hoarder never writes
        except BlockingIOError:
            time.sleep(0.05)
        reap()
    time.sleep(0.5)
    reap()
    holding = min(reported, 4 - len(ended))  # reported, and still alive (holding) now
    for pid in children:
        if pid not in ended:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    return holding
'''
MEMORY_LIMIT_MIB, HOARD_MIB = 512, 200


def test_3_four_processes_of_one_submission_share_one_memory_limit():
    """Four processes of one submission, each under the per-process limit (200 MiB against 512 MiB),
    try to hold 800 MiB together: with a per-submission cgroup at most two can hold at once."""
    from autograde.sandbox import LearnerProcessDied

    limits = Limits(cell_seconds=30, memory_bytes=MEMORY_LIMIT_MIB * 2**20)
    with Zygote(slot=5, limits=limits) as zygote:
        if not zygote.cgroups:
            pytest.skip(f"no per-submission cgroups on this machine: {zygote.isolation}")
        learner = _learner(zygote, MEMORY_ATTACK, seconds=30)
        try:
            holding = learner["four_hoarders"](HOARD_MIB)
        except LearnerProcessDied:
            holding = 0  # the kernel killed the whole sandbox: nothing is held either
        finally:
            learner._process.kill()
    assert holding * HOARD_MIB <= MEMORY_LIMIT_MIB, (
        f"input: 4 processes x {HOARD_MIB} MiB, limit {MEMORY_LIMIT_MIB} MiB per submission; expected: at most "
        f"{MEMORY_LIMIT_MIB // HOARD_MIB} holding at once; got: {holding} ({zygote.isolation})")


def test_3_cgroups_are_removed_and_the_fallback_is_said(tmp_path):
    """Each sandbox's cgroup is gone once it is killed; with cgroups turned off (or unavailable) the
    sandbox still starts, its CPU time is still measured, and ``isolation`` says per-process limits."""
    with Zygote(slot=5, limits=Limits(cell_seconds=10)) as zygote:
        process = zygote.spawn()
        dirs = dict(process.cgroups)
        reply = process.execute("x = sum(range(3_000_000))", time.monotonic() + 30)
        used = process.cpu_seconds()
        process.kill()
        if zygote.cgroups:
            assert dirs and all(os.path.basename(d).startswith("autograde-") for d in dirs.values()), dirs
            assert "cgroup v" in zygote.isolation, zygote.isolation
        leftover = [d for d in dirs.values() if os.path.exists(d)]
    assert "error" not in reply and used is not None and used > 0, (reply, used)
    assert leftover == [], f"expected every cgroup removed after kill; left: {leftover}"
    with Zygote(slot=5, limits=Limits(cell_seconds=10), cgroups=False) as plain:
        process = plain.spawn()
        try:
            assert process.cgroups == {}
            assert "error" not in process.execute("x = sum(range(3_000_000))", time.monotonic() + 30)
            used = process.cpu_seconds()
        finally:
            process.kill()
    assert used is not None and used > 0, f"CPU time of the process tree (fallback): {used}"
    assert plain.isolation.startswith("full; per-process limits only"), plain.isolation


def test_3_cgroup_v2_files_are_written_as_documented(tmp_path):
    """What a v2 sandbox cgroup gets (checked on a stand-in directory: this is the only part of v2
    that can be checked on a machine whose controllers sit in v1)."""
    from autograde.isolation import CgroupSupport, create_cgroup

    limits = Limits(memory_bytes=3 * 2**30, processes=64, cpu_cores=1.0)
    dirs = create_cgroup(CgroupSupport(2, {"": str(tmp_path)}), "autograde-1-1", limits)
    written = {f.name: f.read_text() for f in Path(dirs[""]).iterdir()}
    assert written == {"memory.max": str(3 * 2**30), "memory.swap.max": "0", "pids.max": "64",
                       "cpu.max": "100000 100000"}, written


def _module01_with_cpu(path: Path, cpu_seconds: float, extra: str = "") -> Path:
    """A correct module 01 notebook whose servers_needed cell also computes for cpu_seconds of CPU."""
    burn = (f"import time as _t\n_s = _t.process_time()\nwhile _t.process_time() - _s < {cpu_seconds}:\n"
            "    pass\n")
    return _module01_submission(path, extra + burn)


SETSID_LOOPS = '''
import os, time
for _ in range(40):
    if os.fork() == 0:
        os.setsid()
        _end = time.monotonic() + 60
        while time.monotonic() < _end:
            pass
        os._exit(0)
time.sleep(0.5)
'''


def test_3_forty_setsid_busy_loops_cannot_cost_an_honest_neighbour_points(tmp_path):
    """A submission starts 40 busy loops in new sessions; an honest notebook graded beside it in the
    same batch (whose answer needs 1 s of CPU against a 3 s limit) keeps its full marks."""
    from autograde.grading import GradeReport, grade_many

    attacker = _module01_submission(tmp_path / "attacker.ipynb", SETSID_LOOPS,
                                    "\nimport time\ntime.sleep(20)\n")
    # 1 s of sleep (so the loops run while it computes) and 1 s of CPU: 2 s on a quiet machine, within the
    # 3 s limit; crowded by the loops it takes longer, and its waiting for a CPU must stretch the limit.
    honest = _module01_with_cpu(tmp_path / "honest.ipynb", 1.0, "import time\ntime.sleep(1)\n")
    reports = grade_many([attacker, honest], workers=2,
                         limits=Limits(cell_seconds=3, notebook_seconds=120, backstop_factor=10))
    report = reports[1]
    assert isinstance(report, GradeReport), report
    assert report.score == FULL and not report.retry, (
        f"input: honest.ipynb beside 40 setsid busy loops; expected {FULL}/{FULL}, graded; got "
        f"{report.score} (retry {report.retry}, {report.isolation})\n{report.table()}")


# --------------------------------------------------------------------------- issue 17: limits under load
def test_17_a_correct_notebook_graded_beside_a_cpu_hog_scores_full_marks(tmp_path):
    """Four busy loops (started here, killed in the end) load the 2 cores; a correct notebook whose
    answer cell needs 1 s of CPU, graded with a 2 s limit, keeps full marks: its time is CPU time."""
    from autograde.grading import grade_notebook

    path = _module01_with_cpu(tmp_path / "correct.ipynb", 1.0)
    hogs = [subprocess.Popen([sys.executable, "-c",
                              "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end:\n    pass"])
            for _ in range(4)]
    try:
        time.sleep(1.0)
        with Zygote(slot=5, limits=Limits(cell_seconds=2, notebook_seconds=120, backstop_factor=10)) as zygote:
            report = grade_notebook(path, ASSIGNMENT, zygote=zygote)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert report.score == FULL and not report.retry, (
        f"input: correct notebook (1 s CPU in one cell, limit 2 s) beside 4 busy loops; expected {FULL}; "
        f"got {report.score} (retry {report.retry}, load {os.getloadavg()[0]:.1f})\n{report.table()}")


# --------------------------------------------------------------------------- a course file with answers
# Three ways for a module 06 answer to use the Raft node of course/raftkv.py (module 06's answer, which module 16
# builds on): import it, find its functions in memory, or load its compiled copy from course/__pycache__.
TAKEN = {
    "import": ("handle_append_entries",
               "from course.raftkv import core_handle_append_entries as handle_append_entries\n",
               "No module named 'course.raftkv'"),
    "gc": ("handle_request_vote", '''import gc

def _find(name):
    """A function the zygote loaded before the fork is in this process's memory, whatever sys.modules says."""
    for obj in gc.get_objects():
        if callable(obj) and getattr(obj, "__name__", "") == name:
            return obj
    raise LookupError(name)

handle_request_vote = _find("core_handle_request_vote")
''', "LookupError"),
    "compiled copy": ("handle_append_entries", '''import course, glob, os, importlib.machinery, importlib.util

_found = glob.glob(os.path.join(os.path.dirname(course.__file__), "__pycache__", "raftkv*.pyc"))
if not _found:
    raise LookupError("no compiled copy of course/raftkv.py")
_loader = importlib.machinery.SourcelessFileLoader("taken", _found[0])
_module = importlib.util.module_from_spec(importlib.util.spec_from_loader("taken", _loader))
_loader.exec_module(_module)
handle_append_entries = _module.core_handle_append_entries
''', "no compiled copy of course/raftkv.py"),
}


@pytest.mark.parametrize("how", TAKEN)
def test_a_course_file_holding_a_modules_answers_is_out_of_reach_while_that_module_is_graded(tmp_path, how):
    """A module 06 submission that takes an answer from course/raftkv.py gets no points for it: the file and the
    compiled copies of course/ are hidden from the learner's process while 06 is graded, and the zygote never
    loads the file before the fork. (Before: each of these scored full marks.)"""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from submissions import answer_sources, write_submission

    import importlib.util
    import py_compile

    source_file = str(REPO_ROOT / "course" / "raftkv.py")  # its compiled copy, which the attack looks for, exists
    py_compile.compile(source_file, cfile=importlib.util.cache_from_source(source_file), doraise=True)  # whatever
    # PYTHONDONTWRITEBYTECODE says, so that without the hiding the attack would load it
    from autograde.grading import grade_notebook
    from autograde.layout import files_hidden_when_grading, source_notebook

    assert str(REPO_ROOT / "course" / "raftkv.py") in files_hidden_when_grading("06-raft")
    assert files_hidden_when_grading("16-raft-kv") == []
    cell, source, says = TAKEN[how]
    path = write_submission("06-raft", tmp_path / f"{how}.ipynb", {**answer_sources(source_notebook("06-raft")),
                                                                     cell: source})
    with Zygote(slot=5, limits=Limits(cell_seconds=30, notebook_seconds=300)) as zygote:
        report = grade_notebook(path, "06-raft", zygote=zygote)
    lost = {t.id for t in report.tests if t.points < t.max_points}
    assert f"correct_{cell}" in lost, (f"input: module 06's solution with {cell} taken from course/raftkv.py by "
                                       f"{how}; expected correct_{cell} to fail; got {sorted(lost)}\n{report.table()}")
    nb, runs = report.notebook_run
    messages = " ".join(run.message for run in runs.values())
    assert says in messages, f"expected {says!r} among the cell messages; got:\n{messages[-3000:]}"
