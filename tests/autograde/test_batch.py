"""`python -m autograde batch`: layouts, gradebook and CSV, feedback, and resuming after kill -9."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from submissions import answer_sources, write_submission

from autograde.batch import run_batch
from autograde.isolation import Limits
from autograde.layout import release_notebook, source_notebook

ASSIGNMENT = "01-requirements-estimation"
NB = f"{ASSIGNMENT}.ipynb"
LIMITS = Limits(cell_seconds=20, notebook_seconds=120)


def nbgrader_layout(root: Path, students: dict[str, bytes | Path]) -> Path:
    for student, content in students.items():
        folder = root / student / ASSIGNMENT
        folder.mkdir(parents=True)
        if isinstance(content, Path):
            (folder / NB).write_bytes(content.read_bytes())
        else:
            (folder / NB).write_bytes(content)
    return root


def read_csv(path: Path) -> dict[str, dict]:
    with open(path) as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def gradebook_scores(workspace: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{workspace / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    answers = answer_sources(source_notebook(ASSIGNMENT))
    answers["servers_needed"] = ("import math\ndef servers_needed(*args, **kwargs):\n"
                                 "    raise ValueError('<script>alert(1)</script>')\n")
    mallory = write_submission(ASSIGNMENT, root / "mallory.ipynb", answers)
    subs = nbgrader_layout(root / "submitted", {
        "alice": source_notebook(ASSIGNMENT), "bob": release_notebook(ASSIGNMENT),
        "carol": b"not a notebook", "mallory": mallory})
    (subs / "dave" / ASSIGNMENT).mkdir(parents=True)
    (subs / "dave" / ASSIGNMENT / NB).symlink_to(source_notebook(ASSIGNMENT))
    workspace, feedback = root / "workspace", root / "feedback"
    (feedback / "bob").mkdir(parents=True)  # a page the instructor wrote: never overwritten
    (feedback / "bob" / f"{ASSIGNMENT}.html").write_text("<p>written by hand</p>")
    first = run_batch(subs, workers=2, feedback_dir=feedback, workspace=workspace, limits=LIMITS)
    second = run_batch(subs, workers=2, feedback_dir=feedback, workspace=workspace, limits=LIMITS)
    return dict(root=root, subs=subs, workspace=workspace, feedback=feedback, first=first, second=second)


def test_grades_land_in_the_csv_and_the_gradebook(class_run):
    rows = read_csv(class_run["workspace"] / "grades.csv")
    assert {k: (r["outcome"], r["score"]) for k, r in rows.items()} == {
        "alice": ("graded", "14.0"), "bob": ("graded", "0.0"), "mallory": ("graded", "12.0"),
        "carol": ("unusable", ""), "dave": ("unusable", "")}
    assert "symbolic link refused" in rows["dave"]["message"]
    assert "not a notebook" in rows["carol"]["message"]
    assert gradebook_scores(class_run["workspace"]) == {"alice": 14.0, "bob": 0.0, "mallory": 12.0}
    assert (class_run["workspace"] / "autograded" / "alice" / ASSIGNMENT / NB).is_file()


def test_a_rerun_grades_nothing_that_is_unchanged(class_run):
    assert class_run["first"].graded == 3
    assert class_run["second"].graded == 0 and class_run["second"].unchanged == 4
    still = sorted(key for key, _, why in class_run["second"].unusable)
    assert still == [f"carol/{ASSIGNMENT}", f"dave/{ASSIGNMENT}"], (
        f"a rerun must still report the unusable submissions (and exit 3); got {class_run['second'].unusable}")


def test_feedback_is_escaped_and_has_no_test_source(class_run):
    page = (class_run["feedback"] / "mallory" / f"{ASSIGNMENT}.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "BEGIN HIDDEN" not in page and "check_cases(" not in page
    assert "12 / 14" in page


def test_formgrader_sees_each_submission_autograded_with_its_time(class_run):
    """formgrader reads submitted/ (count, timestamps) and the gradebook: the batch keeps both in step."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    workspace = class_run["workspace"]
    config = Config()
    config.CourseDirectory.root = str(workspace)
    config.CourseDirectory.source_directory = str(source_notebook(ASSIGNMENT).parent.parent)
    config.CourseDirectory.db_url = f"sqlite:///{workspace / 'gradebook.db'}"
    config.Exchange.root = str(workspace / "exchange")
    api = NbGraderAPI(config=config)
    assert api.get_assignment(ASSIGNMENT)["num_submissions"] == 3
    submissions = {s["student"]: s for s in api.get_submissions(ASSIGNMENT)}
    assert sorted(submissions) == ["alice", "bob", "mallory"]
    for student, submission in submissions.items():
        assert submission["autograded"] and submission["timestamp"], (student, submission)
    assert submissions["alice"]["score"] == 14.0


def test_written_answers_wait_for_manual_grading(class_run):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{class_run['workspace'] / 'gradebook.db'}") as gb:
        grade = gb.find_grade("chat_requirements", ASSIGNMENT, ASSIGNMENT, "alice")
        assert grade.auto_score is None and grade.needs_manual_grade
        blank = gb.find_grade("chat_requirements", ASSIGNMENT, ASSIGNMENT, "bob")
        assert blank.auto_score == 0  # an untouched answer scores 0, as in nbgrader


def test_flat_zip_reads_student_ids_from_file_names_and_refuses_escapes(tmp_path):
    archive = tmp_path / "downloads.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(source_notebook(ASSIGNMENT), "downloads/erin_01-requirements-estimation.ipynb")
        zf.writestr("../escaped.ipynb", "{}")
    summary = run_batch(archive, workers=1, workspace=tmp_path / "ws", limits=LIMITS)
    rows = read_csv(tmp_path / "ws" / "grades.csv")
    assert summary.graded == 1 and rows["erin"]["score"] == "14.0"
    assert not (tmp_path.parent / "escaped.ipynb").exists()
    assert [why for _, source, why in summary.unusable if source == "../escaped.ipynb"] == [
        "the path leaves the folder it is unpacked into (zip slip) and is refused"], summary.unusable


def test_kill_9_at_any_moment_loses_and_duplicates_nothing(tmp_path):
    students = {f"s{i}": (source_notebook(ASSIGNMENT) if i % 2 else release_notebook(ASSIGNMENT)) for i in range(6)}
    subs = nbgrader_layout(tmp_path / "submitted", students)
    workspace = tmp_path / "ws"
    command = [sys.executable, "-m", "autograde", "batch", str(subs), "--workers", "2", "--workspace", str(workspace)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    state = workspace / "batch-state.db"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # kill it once some, but not all, are recorded
        if state.exists():
            with sqlite3.connect(state) as db:
                if db.execute("SELECT COUNT(*) FROM results WHERE outcome='graded'").fetchone()[0] >= 1:
                    break
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "Warning" not in resumed.stderr and "took over the lock left by pid" in resumed.stdout, (
        resumed.stdout, resumed.stderr[-2000:])
    rows = read_csv(workspace / "grades.csv")
    expected = {s: "14.0" if int(s[1:]) % 2 else "0.0" for s in students}
    assert {s: r["score"] for s, r in rows.items()} == expected
    assert gradebook_scores(workspace) == {s: float(v) for s, v in expected.items()}
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert "graded 0, unchanged since last run 6" in again.stdout


def test_a_feedback_page_we_did_not_write_is_left_alone(class_run):
    page = class_run["feedback"] / "bob" / f"{ASSIGNMENT}.html"
    assert page.read_text() == "<p>written by hand</p>"
    note = read_csv(class_run["workspace"] / "grades.csv")["bob"]["note"]
    assert "feedback page not written" in note, note


def test_a_csv_of_another_layout_is_never_overwritten(tmp_path):
    """`nbgrader export` wrote grades.csv: the batch refuses to replace it, before grading anything."""
    from autograde.layout import UsageError

    workspace = tmp_path / "ws"
    workspace.mkdir()
    theirs = "assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score\n"
    (workspace / "grades.csv").write_text(theirs)
    folder = tmp_path / "subs"
    folder.mkdir()
    with pytest.raises(UsageError, match="was not written by `autograde batch`"):
        run_batch(folder, workers=1, workspace=workspace, limits=LIMITS)
    assert (workspace / "grades.csv").read_text() == theirs
    assert not (workspace / "batch-state.db").exists(), "nothing may be graded or recorded"


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("alice", "alice"), ("a=b", "a=b"), ("", ""), (None, ""),
    (-1.5, -1.5), (14.0, 14.0),
])
def test_csv_cells_that_would_run_as_formulas_are_neutralised(value, expected):
    from autograde.batch import csv_safe

    assert csv_safe(value) == expected, f"input {value!r}: expected {expected!r}, got {csv_safe(value)!r}"


@pytest.mark.parametrize("student, ok", [("alice", True), ("a.b-c_d", True), ("alice\n", False), ("", False),
                                         ("-rf", False), ("x" * 65, False), ("bob alice", False)])
def test_student_ids_are_matched_whole(student, ok):
    from autograde.batch import STUDENT_ID

    assert bool(STUDENT_ID.fullmatch(student)) is ok, f"student id {student!r}: expected usable={ok}"


def test_two_files_for_one_student_pick_the_newest_then_the_first_name(tmp_path):
    from autograde.batch import discover

    folder = tmp_path / "flat"
    folder.mkdir()
    for name, when in (("amy_b.ipynb", 1_000), ("amy_a.ipynb", 1_000), ("amy_old.ipynb", 500)):
        (folder / name).write_bytes(source_notebook(ASSIGNMENT).read_bytes())
        os.utime(folder / name, (when, when))
    subs = discover(folder)
    assert [s.source for s in subs] == ["amy_a.ipynb"], [s.source for s in subs]
    assert "ignored amy_b.ipynb, amy_old.ipynb" in subs[0].notes[0], subs[0].notes


def test_a_report_not_graded_because_the_machine_was_busy_is_graded_once_more(monkeypatch):
    """A test stopped by the wall-clock backstop on a busy machine is no verdict: batch holds the report
    back and grades that notebook once more, on one worker, after the others; a second 'too busy' is
    passed on (the run then lists it as a fault, so the next run grades it)."""
    from autograde import batch
    from autograde.grading import GradeReport, TestResult

    def report(retry):
        return GradeReport("a", "nb", 0, 1, 0, tests=[TestResult("t", 0, 1, "timeout", retry=retry)])

    regraded = []

    def fake_iter_graded(jobs, workers, limits):
        regraded.append((list(jobs), workers))
        yield 0, report(retry=False)
        yield 1, report(retry=True)

    monkeypatch.setattr(batch, "iter_graded", fake_iter_graded)
    first = [(0, report(False)), (1, report(True)), (2, report(False)), (3, report(True))]
    out = list(batch._with_one_retry(iter(first), ["j0", "j1", "j2", "j3"], None))
    assert [i for i, _ in out] == [0, 2, 1, 3]
    assert regraded == [(["j1", "j3"], 1)]
    assert [r.retry for _, r in out] == [False, False, False, True]
