"""The attack suite: crafted submissions, graded in one batch with an honest one.

Each attack states the score it must get and a piece of the message that must explain it. The
cases cover NBGRADER-NOTES.md (what fooled or broke plain nbgrader) and issue 12: lying
equality, patched builtins, input transformers, reading the instructor's files, writing the
gradebook, exiting the process, ignoring interrupts, output floods, detached and forked
processes, memory, huge notebooks, files that are not notebooks. All attacks use module 01,
whose full marks are 14; most target `servers_needed` (2 points, nothing depends on it).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from submissions import answer_sources, write_submission

from autograde.grading import GradeReport, grade_many
from autograde.isolation import MAX_WORKERS, Limits, full_isolation_possible, sandbox_uid
from autograde.layout import REPO_ROOT, UsageError, source_notebook

ASSIGNMENT = "01-requirements-estimation"
FULL = 14
SERVERS = "correct_servers_needed"
CORRECT_SERVERS = answer_sources(source_notebook(ASSIGNMENT))["servers_needed"]
HOST_MARKER = Path("/tmp/autograde-attack-marker")
GRADEBOOK = REPO_ROOT / "grading" / "attack-suite-gradebook.db"

pytestmark = pytest.mark.skipif(not full_isolation_possible(),
                                reason="the attack suite needs full isolation (Linux, run as root)")


@dataclass(frozen=True)
class Attack:
    servers_needed: str | None = None     # replacement for the servers_needed answer cell
    raw: bytes | None = None              # the submission file's bytes, instead of a notebook
    extra_cells: int = 0                  # extra code cells appended to the notebook
    score: float | None = FULL            # None: the notebook must be refused as unusable
    status: str | None = None             # expected status of correct_servers_needed
    message: str = ""                     # must appear in that test's message (or the refusal)
    notes: list[str] = field(default_factory=list)


ATTACKS = {
    "honest": Attack(),
    "eq_always_true": Attack("""
class Anything:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False

def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    return Anything()
""", score=FULL - 2, status="fail", message="not plain data"),
    "int_subclass_lies": Attack("""
class Liar(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__

def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    return Liar(0)
""", score=FULL - 2, status="fail", message="not plain data"),
    "input_transformer_rewrites_tests": Attack("""
def _skip_tests(lines):
    return ["pass\\n"] if any("check(" in line for line in lines) else lines

get_ipython().input_transformers_cleanup.append(_skip_tests)
get_ipython().input_transformers_post.append(_skip_tests)

def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    return 0
""", score=FULL - 2, status="fail", message="got:      0"),
    "patched_builtins_and_isclose": Attack("""
import builtins, math
math.isclose = lambda *args, **kwargs: True
builtins.abs = lambda x: 0
builtins.max = builtins.min = lambda *args, **kwargs: 0

def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    return -1
""", score=FULL - 2, status="fail", message="got:      -1"),
    "reads_instructor_files": Attack(f"""
import importlib, json
def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    for path in ["{REPO_ROOT}/solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", "../../../solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]:
        try:
            open(path).read()
            return "read the solutions"
        except OSError:
            pass
    reference = importlib.import_module("autograde.reference.requirements_estimation")
    return reference.servers_needed(peak_rps, rps_per_server, target_utilisation, spares)
""", score=FULL - 2, status="fail", message="raised ModuleNotFoundError"),
    "writes_gradebook_and_host_files": Attack(f"""
import os
for path in ["{GRADEBOOK}", "{REPO_ROOT}/course/pwned.py", "{HOST_MARKER}"]:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("pwned")
    except OSError:
        pass
""" + CORRECT_SERVERS, notes=["host files untouched"]),
    # The cell that exits is not replayed, so what it defined is gone: its own test and
    # short_code_length (which needs its `import math`) lose; nothing else does.
    "exits_its_process": Attack("import os\nos._exit(0)\n" + CORRECT_SERVERS,
                                score=FULL - 4, status="error", message="NameError"),
    "ignores_interrupts": Attack("""
import signal
def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass
""", score=FULL - 2, status="timeout", message="killed"),
    "output_flood": Attack("""
import os, sys
for _ in range(2000):
    print("x" * 20_000)
    sys.stderr.write("y" * 20_000)
os.write(1, b"z" * 50_000_000)
""" + CORRECT_SERVERS),
    "stderr_from_correct_code": Attack(CORRECT_SERVERS.replace(
        '    """Whole servers', '    import sys; print("debugging", file=sys.stderr)\n    """Whole servers')),
    "detached_processes": Attack("""
import os, subprocess
subprocess.Popen(["sleep", "600"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        time.sleep(600)
    os._exit(0)
""" + CORRECT_SERVERS, notes=["no process left"]),
    "fork_bomb_bounded": Attack("""
import os, time
children = 0
try:
    for _ in range(3000):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children += 1
except OSError:
    pass
""" + CORRECT_SERVERS, notes=["no process left"]),
    "memory_bomb_bounded": Attack("""
def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    hoard = bytearray(6 * 1024 ** 3)   # over the sandbox's 3 GB: refused at once, nothing touched
    return len(hoard)
""", score=FULL - 2, status="fail", message="raised MemoryError"),
    "html_in_messages": Attack("""
def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    raise ValueError("<script>alert(1)</script><img src=x onerror=alert(2)>")
""", score=FULL - 2, status="fail", message="raised ValueError"),
    "detects_grading_by_environment": Attack(CORRECT_SERVERS.replace("def servers_needed(", "def _honest(") + """
import os
_MARKERS = ("GRAD", "NBGRADER", "PYTEST", "CI", "JPY", "JUPYTER")
def servers_needed(*args, **kwargs):
    if any(marker in name for name in os.environ for marker in _MARKERS):
        return "grading detected: " + ",".join(sorted(os.environ))
    return _honest(*args, **kwargs)
"""),
    "ten_thousand_cells": Attack(extra_cells=10_000),
    "not_json": Attack(raw=b"this is not a notebook {", score=None, message="malformed JSON"),
    "empty_file": Attack(raw=b"", score=None, message="empty"),
    "wrong_assignment": Attack(raw=json.dumps({
        "cells": [{"cell_type": "code", "source": "x = 1", "metadata": {"nbgrader": {
            "grade_id": "some_other_module_answer", "solution": True, "grade": False, "locked": False,
            "schema_version": 3}}, "outputs": [], "execution_count": None}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), score=None, message="matches no assignment"),
}


def _sandbox_processes() -> list[str]:
    """Processes of this test run's sandbox users (other graders on the machine have other uids)."""
    ours = {sandbox_uid(slot) for slot in range(MAX_WORKERS)}
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "0").split()[0]) in ours:
            found.append(f"{status.parent.name}: {fields.get('Name', '').strip()}")
    return found


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attacks")
    solution = answer_sources(source_notebook(ASSIGNMENT))
    paths = []
    for name, attack in ATTACKS.items():
        path = folder / f"{name}.ipynb"
        if attack.raw is not None:
            path.write_bytes(attack.raw)
        else:
            answers = dict(solution)
            if attack.servers_needed is not None:  # (the original cell also imports math for later cells)
                answers["servers_needed"] = "import math\n" + attack.servers_needed
            write_submission(ASSIGNMENT, path, answers)
            if attack.extra_cells:
                nb = json.loads(path.read_text())
                nb["cells"] += [{"cell_type": "code", "source": f"x{i} = {i}", "metadata": {}, "outputs": [],
                                 "execution_count": None} for i in range(attack.extra_cells)]
                path.write_text(json.dumps(nb))
        paths.append(path)
    for leftover in (HOST_MARKER, GRADEBOOK, REPO_ROOT / "course" / "pwned.py"):
        leftover.unlink(missing_ok=True)
    started = time.monotonic()
    reports = grade_many(paths, workers=2, limits=Limits(cell_seconds=8, notebook_seconds=120))
    print(f"\nattack suite: {len(paths)} submissions graded in {time.monotonic() - started:.1f} s")
    time.sleep(0.5)  # let the kernel finish tearing down killed namespaces
    return dict(zip(ATTACKS, reports))


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_gets_the_stated_score_and_message(results, name):
    attack, result = ATTACKS[name], results[name]
    if attack.score is None:
        assert isinstance(result, UsageError), f"{name} should be refused as unusable, got {result}"
        assert attack.message in str(result)
        return
    assert isinstance(result, GradeReport), f"{name} was refused: {result}"
    assert result.score == attack.score, f"{name}: expected {attack.score}, got {result.score}\n{result.table()}"
    if attack.status:
        test = next(t for t in result.tests if t.id == SERVERS)
        assert test.status == attack.status, test
        assert attack.message in test.message, test.message


def test_the_honest_submission_in_the_same_batch_gets_full_marks(results):
    assert results["honest"].score == FULL
    assert results["honest"].isolation.startswith("full")


def test_nothing_outside_the_sandbox_was_written(results):
    assert not HOST_MARKER.exists()
    assert not GRADEBOOK.exists()
    assert not (REPO_ROOT / "course" / "pwned.py").exists()


def test_no_process_of_any_submission_survives(results):
    assert _sandbox_processes() == []


def test_hidden_tests_never_appear_in_messages(results):
    for name, result in results.items():
        if isinstance(result, GradeReport):
            text = json.dumps(result.to_json())
            assert "BEGIN HIDDEN" not in text and "check_cases(" not in text, name
