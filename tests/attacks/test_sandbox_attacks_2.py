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
    process.deadline = time.monotonic() + seconds
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
                    (str(REPO_ROOT), str(REPO_ROOT.parent), "/", str(REPO_ROOT / "autograde" / "reference"))}
        finally:
            learner._process.kill()
    allowed_in_root = {"autograde", "course", "data", Path(sys.prefix).name}
    assert set(seen[str(REPO_ROOT)]) <= allowed_in_root, (
        f"input: listdir({REPO_ROOT}) in the sandbox; expected: a subset of {sorted(allowed_in_root)}; "
        f"got: {seen[str(REPO_ROOT)]}")
    assert seen[str(REPO_ROOT.parent)] == [REPO_ROOT.name], f"listdir({REPO_ROOT.parent}): {seen[str(REPO_ROOT.parent)]}"
    assert seen[str(REPO_ROOT / "autograde" / "reference")] == [], seen
    python_homes = {Path(os.path.realpath(p)).parts[1] for p in (sys.prefix, sys.base_prefix)}
    unexpected = set(seen["/"]) - {"bin", "dev", "etc", "lib", "lib32", "lib64", "proc", "sbin", "tmp", "usr"} \
        - python_homes - {REPO_ROOT.parts[1]}
    assert not unexpected, f"input: listdir('/') in the sandbox; expected no extra top-level entries; got {sorted(unexpected)}"


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
    learner._process.deadline = time.monotonic() + DEADLINE
    started = time.monotonic()
    try:
        with pytest.raises(CellTimeout):
            learner["flood"](FLOOD_SECONDS)
    finally:
        learner._process.kill()
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + INTERRUPT_GRACE_S + MARGIN, f"the flooding call took {elapsed:.2f} s to time out"


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
