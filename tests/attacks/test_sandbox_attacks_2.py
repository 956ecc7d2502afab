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
