"""A class through nbgrader's exchange, each step run as its user with nbgrader's command line (su):
release, fetch, submit (a second submission, a late one, a student who never fetched), collect, the
hardened batch grader, feedback released and fetched; then what a student can and cannot reach.

The browser path over the same set-up is tests/deploy/test_hub_browser.py."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from grade_class import grade
from submissions import Mutant, answer_sources, mutant_submission, write_submission

from autograde.layout import source_notebook
from autograde.notebook import HIDDEN_BEGIN

HUB_TAG = "x"
A = "01-requirements-estimation"
WRONG = Mutant("peak_rps", "* peak_factor", "/ peak_factor")


def put_answers(hub, student: str, correct: bool) -> Path:
    """What the student typed: the solution's answers, or the same with one typical mistake."""
    path = hub.home(student) / A / f"{A}.ipynb"
    if correct:
        write_submission(A, path, answer_sources(source_notebook(A)))
    else:
        mutant_submission(A, WRONG, path)
    shutil.chown(path, student, student)
    return path


def hidden_test_lines() -> list[str]:
    """The longest lines of the module's hidden tests: none may reach a student."""
    import json

    lines = []
    for cell in json.loads(source_notebook(A).read_text())["cells"]:
        source = "".join(cell["source"])
        if HIDDEN_BEGIN in source:
            hidden = source.split(HIDDEN_BEGIN, 1)[1].split("### END HIDDEN TESTS", 1)[0]
            lines += [line.strip() for line in hidden.splitlines() if len(line.strip()) > 25]
    assert lines, "module 01 has hidden tests"
    return lines


@pytest.fixture(scope="module")
def graded(hub_class):
    hub = hub_class
    alice, bob, carol = hub.students
    hub.run(hub.instructor, "nbgrader", "generate_assignment", A, "--force")
    hub.run(hub.instructor, "nbgrader", "release_assignment", A)
    for student in (alice, bob):
        hub.run(student, "nbgrader", "fetch_assignment", A)
    # alice submits twice: a wrong answer, then the right one (the latest counts)
    put_answers(hub, alice, correct=False)
    hub.run(alice, "nbgrader", "submit", A)
    time.sleep(1.1)
    put_answers(hub, alice, correct=True)
    hub.run(alice, "nbgrader", "submit", A)
    # the deadline passes; then bob submits a wrong answer, late
    time.sleep(1.1)
    due = datetime.now(timezone.utc)
    hub.run(hub.instructor, "nbgrader", "db", "assignment", "add", A,
            f"--duedate={due.strftime('%Y-%m-%d %H:%M:%S.%f')} UTC")
    time.sleep(1.1)
    put_answers(hub, bob, correct=False)
    hub.run(bob, "nbgrader", "submit", A)
    # carol never fetched: nbgrader refuses her submission
    carol_submit = hub.run(carol, "nbgrader", "submit", A, check=False)
    status = grade(A, hub.base)
    for student in (alice, bob, carol):
        hub.run(student, "nbgrader", "fetch_feedback", A, check=False)
    return hub, status, carol_submit


def grades_csv(hub) -> dict[str, dict]:
    import csv

    with open(hub.course / "grading" / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def feedback_pages(hub, student: str) -> list[Path]:
    return sorted((hub.home(student) / A / "feedback").glob("*/*.html"))


def test_the_batch_grades_each_collected_submission_and_the_latest_one_counts(graded):
    hub, status, _ = graded
    alice, bob, carol = hub.students
    assert status == 0, f"grade_class exited {status}, expected 0"
    rows = grades_csv(hub)
    assert sorted(rows) == sorted([alice, bob]), f"graded students: expected {[alice, bob]}, got {sorted(rows)}"
    got = (rows[alice]["score"], rows[alice]["max_score"], rows[alice]["message"])
    assert got == ("14.0", "14.0", ""), f"alice's second (correct) submission: expected 14.0 of 14.0, got {got}"
    got = (rows[bob]["score"], rows[bob]["message"])
    assert got == ("13.0", "correct_peak_rps: fail"), f"bob's wrong peak_rps: expected 13.0 and the failing test, got {got}"


def test_a_late_submission_is_flagged_late_and_keeps_its_points(graded):
    """nbgrader's default late policy (LateSubmissionPlugin, no penalty): the time late is recorded."""
    hub, _, _ = graded
    alice, bob, _ = hub.students
    with sqlite3.connect(hub.course / "grading" / "gradebook.db") as db:
        rows = dict(db.execute(
            "select student.id, (julianday(submitted_assignment.timestamp) - julianday(assignment.duedate)) * 86400 "
            "from submitted_assignment join student on student.id = submitted_assignment.student_id "
            "join assignment on assignment.id = submitted_assignment.assignment_id where assignment.name = ?", (A,)))
    assert rows[alice] < 0, f"alice submitted before the deadline: expected a negative lateness, got {rows[alice]} s"
    assert rows[bob] > 0, f"bob submitted after the deadline: expected a positive lateness, got {rows[bob]} s"
    assert grades_csv(hub)[bob]["score"] == "13.0", "no late penalty by default"


def test_a_student_who_never_fetched_cannot_submit_and_gets_no_feedback(graded):
    hub, _, carol_submit = graded
    carol = hub.students[2]
    assert carol_submit.returncode != 0, f"carol's submit without fetching: expected a failure, got {carol_submit}"
    assert "Assignment not found" in carol_submit.stderr, carol_submit.stderr[-1500:]
    assert not (hub.home(carol) / A).exists(), "carol never fetched: nothing may appear in her home"
    listing = hub.run(carol, "nbgrader", "list").stderr
    assert A in listing, f"the assignment stays released for carol to fetch later: {listing[-1000:]}"


def test_each_student_fetches_their_own_feedback_with_score_and_no_hidden_tests(graded):
    hub, _, _ = graded
    alice, bob, _ = hub.students
    hidden = hidden_test_lines()
    for student, score in ((alice, "Score: 14.0 / 17.0"), (bob, "Score: 13.0 / 17.0")):
        pages = feedback_pages(hub, student)
        assert len(pages) == 1, f"{student}: expected one feedback page, got {pages}"
        text = pages[0].read_text()
        assert score in text, f"{student}'s feedback: expected {score!r}"
        # the grader's sandbox read the course's data (it runs as an unprivileged user of its own)
        assert "Permission denied" not in text, f"{student}'s feedback shows a file the grader could not read"
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{student}'s feedback shows hidden tests: {leaked[:3]}"
    assert "correct_peak_rps" in feedback_pages(hub, bob)[0].read_text()


def refused(hub, student: str, *command: str) -> str:
    result = hub.run(student, *command, check=False)
    assert result.returncode != 0, (f"{student} ran {' '.join(command)}: expected a refusal, got exit 0 with "
                                    f"{result.stdout[:500]!r}")
    return result.stderr


@pytest.mark.parametrize("what", ["another student's home", "another student's notebook", "the submissions",
                                  "the feedback folder", "the course directory", "the solutions", "the gradebook",
                                  "the reference answers", "the hub's passwords", "the release folder (write)"])
def test_a_student_cannot_reach_what_is_not_theirs(graded, what):
    hub, _, _ = graded
    alice, bob, _ = hub.students
    target = {
        "another student's home": ["ls", str(hub.home(alice))],
        "another student's notebook": ["cat", str(hub.home(alice) / A / f"{A}.ipynb")],
        "the submissions": ["ls", str(hub.exchange / "inbound")],
        "the feedback folder": ["ls", str(hub.exchange / "feedback")],
        "the course directory": ["ls", str(hub.course)],
        "the solutions": ["cat", str(hub.course / "solutions" / A / f"{A}.ipynb")],
        "the gradebook": ["cat", str(hub.course / "grading" / "gradebook.db")],
        "the reference answers": ["ls", str(hub.course / "autograde" / "reference")],
        "the hub's passwords": ["cat", str(hub.base / "hub" / "accounts.txt")],
        "the release folder (write)": ["touch", str(hub.exchange / "outbound" / A / "planted.ipynb")],
    }[what]
    assert "Permission denied" in refused(hub, bob, *target)


def test_a_students_python_has_the_course_but_no_answers(graded):
    hub, _, _ = graded
    bob = hub.students[1]
    probe = ("import importlib.util as u, course, autograde; "
             "print(course.__file__); print(u.find_spec('autograde.reference'))")
    out = hub.run(bob, "python", "-c", probe).stdout.split("\n")
    assert out[0].startswith(str(hub.base / "public")), f"the course package comes from the student bundle: {out}"
    assert out[1] == "None", f"autograde.reference must not be importable by a student: {out}"
    public = hub.base / "public"
    found = [str(p) for p in public.rglob("*") if p.is_file() and b"### BEGIN SOLUTION" in p.read_bytes()]
    assert not found, f"solutions in what students can read: {found}"
    from autograde.bundle import COURSE_FILES_WITH_ANSWERS  # module 16's Raft node is module 06's answer
    shown = [f for f in COURSE_FILES_WITH_ANSWERS if (public / f).exists()]
    assert not shown, f"course files holding a module's answers, beside that module, in what students can read: {shown}"


def test_a_resubmission_after_grading_is_collected_and_regraded(graded):
    """nbgrader collect --update replaces the collected copy when the student submitted again."""
    hub, _, _ = graded
    alice = hub.students[0]
    put_answers(hub, alice, correct=False)
    hub.run(alice, "nbgrader", "submit", A)
    assert grade(A, hub.base) == 0
    row = grades_csv(hub)[alice]
    assert (row["score"], row["message"]) == ("13.0", "correct_peak_rps: fail"), \
        f"alice's third submission (wrong): expected 13.0 and the failing test, got {(row['score'], row['message'])}"
