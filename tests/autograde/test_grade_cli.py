"""`python -m autograde grade`: exit codes, the JSON shape, and what a submission cannot change."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from submissions import answer_sources, write_submission

from autograde.layout import release_notebook, source_notebook

ASSIGNMENT = "01-requirements-estimation"
STATUSES = {"pass", "fail", "error", "timeout", "missing"}


def run_grade(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograde", "grade", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("content, reason", [
    (None, "no such file"),
    (b"", "empty"),
    (b"{not json", "malformed JSON"),
    (b'{"hello": "world"}', "no list of cells"),
    (b"\xff\xfe\x00binary", "not UTF-8"),
    (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), "no nbgrader cells"),
])
def test_unusable_input_exits_2_with_a_one_line_reason(tmp_path, content, reason):
    path = tmp_path / "submission.ipynb"
    if content is not None:
        path.write_bytes(content)
    result = run_grade(str(path))
    assert result.returncode == 2, result
    assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_unknown_assignment_exits_2(tmp_path):
    result = run_grade(str(release_notebook(ASSIGNMENT)), "--assignment", "99-nothing")
    assert result.returncode == 2 and "unknown assignment" in result.stderr


@pytest.fixture(scope="module")
def mixed_report(tmp_path_factory):
    """One submission, renamed and far from the repo, showing every status at once."""
    answers = answer_sources(source_notebook(ASSIGNMENT))
    answers["peak_rps"] = "def peak_rate(count, period, peak_factor=2.0):\n    return 1.0\n"   # wrong name
    answers["bandwidth"] = "def bandwidth(*args, **kwargs):\n    while True:\n        pass\n"  # never returns
    answers["downtime_seconds"] = answers["downtime_seconds"].replace("(1 - availability)", "availability")
    answers["storage_bytes"] += "\nraise RuntimeError('boom after the definition')\n"  # a crashing answer cell
    folder = tmp_path_factory.mktemp("elsewhere")
    path = write_submission(ASSIGNMENT, folder / "my homework (2).ipynb", answers)
    nb = json.loads(path.read_text())
    nb["cells"] = [c for c in nb["cells"]  # the learner deleted an answer cell and rewrote a test cell
                   if c["metadata"].get("nbgrader", {}).get("grade_id") != "servers_needed"]
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "correct_short_code_length":
            cell["source"] = "pass  # tests removed"
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "short_code_length":
            cell["source"] = "def short_code_length(*args, **kwargs):\n    return 1\n"
    path.write_text(json.dumps(nb))
    result = run_grade(str(path), "--json", "--timeout", "5")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_json_has_the_documented_shape(mixed_report):
    assert set(mixed_report) >= {"assignment", "notebook", "score", "max_score", "manual_max", "tests"}
    assert mixed_report["assignment"] == ASSIGNMENT
    assert mixed_report["max_score"] == 14 and mixed_report["manual_max"] == 3
    for test in mixed_report["tests"]:
        assert set(test) == {"id", "points", "max_points", "status", "message", "retry"}
        assert test["status"] in STATUSES and test["retry"] in (False, True)
        assert not test["retry"] or (test["status"] == "timeout" and test["points"] == 0), test
    assert mixed_report["retry"] in (False, True)
    assert mixed_report["score"] == sum(t["points"] for t in mixed_report["tests"])


def test_each_status_is_reported_with_its_reason(mixed_report):
    tests = {t["id"]: t for t in mixed_report["tests"]}
    assert tests["correct_average_rps"]["status"] == "pass"
    assert tests["correct_peak_rps"]["status"] == "error"
    assert "NameError" in tests["correct_peak_rps"]["message"]
    assert tests["correct_bandwidth"]["status"] == "timeout"
    assert tests["correct_downtime_seconds"]["status"] == "fail"
    assert "input:" in tests["correct_downtime_seconds"]["message"]
    assert tests["correct_servers_needed"]["status"] == "missing"
    assert "servers_needed" in tests["correct_servers_needed"]["message"]
    # The rewritten test cell was replaced by the instructor's: the wrong answer still fails.
    assert tests["correct_short_code_length"]["status"] == "fail"
    assert tests["correct_url_shortener_estimate"]["status"] == "timeout"   # it calls bandwidth
    passed = {"correct_average_rps": 1, "correct_storage_bytes": 2, "correct_availability_composition": 2}
    assert {t: tests[t]["points"] for t in tests if tests[t]["points"]} == passed


def test_cells_that_crash_or_time_out_outside_tests_are_noted(mixed_report):
    """The learner learns why: an answer cell that raised, a provided cell that ran out of time."""
    notes = "\n".join(mixed_report["notes"])
    assert "your answer cell 'storage_bytes'" in notes and "RuntimeError: boom after the definition" in notes, notes
    assert "a provided cell, starting `estimate = url_shortener_estimate(" in notes, notes  # calls bandwidth
    # On a busy machine (load above the cores) a spin that got too little CPU before the wall-clock
    # backstop is "not graded" (retry), not a verdict; on a quiet one it ran out of its 5 s.
    assert "ran for more than 5 s" in notes or (mixed_report["retry"] and "not graded" in notes), notes
    assert "answer cell 'servers_needed' is missing" in notes, notes


def test_messages_never_show_hidden_test_source(mixed_report):
    text = json.dumps(mixed_report)
    assert "HIDDEN TESTS" not in text and "ref." not in text


def test_human_output_is_a_table_with_a_total(tmp_path):
    result = run_grade(str(release_notebook(ASSIGNMENT)))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("correct_average_rps") and "0/1" in line for line in lines)
    assert any(line.startswith("total") and "0/14" in line for line in lines)
    assert "What to fix" in result.stdout and "not implemented yet" in result.stdout


def test_a_timeout_on_a_busy_machine_says_so(monkeypatch):
    """Limits are wall-clock time: a timeout while the machine is overloaded names the load."""
    from autograde import grading

    monkeypatch.setattr(grading.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(grading.os, "getloadavg", lambda: (9.5, 8.0, 4.0))
    assert "load 9.5 on 2 cores" in grading._busy_note()
    monkeypatch.setattr(grading.os, "getloadavg", lambda: (1.0, 1.0, 1.0))
    assert grading._busy_note() == ""
