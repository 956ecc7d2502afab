"""Exports an LMS imports as they are, checked against the rules each LMS documents.

The rules (cited in ``autograde/exports.py``):

- Canvas gradebook import: a mandatory header row; RFC 4180 quoting; UTF-8 (Canvas SIS CSV format,
  developerdocs.instructure.com/services/canvas/sis/file.sis_csv); the columns ``Student``, ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one per assignment, a student identified by an
  ID column (OSU's Canvas guide "Import a CSV file into Carmen grades"); a ``Points Possible`` row
  under the header, as in Canvas's gradebook export.
- Moodle CSV grade import (MoodleDocs "Grade import"; grade/import/csv/classes/load_data.php): users
  mapped by email (case-sensitive) or ID number; a row with an empty or unknown identifier aborts the
  whole import; a grade must be a number (``unformat_float``) or '' / '-' (no grade, which clears one),
  anything else aborts the import.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from autograde.exports import (CANVAS_HEADER, LONG_HEADER, MOODLE_HEADER, POINTS_POSSIBLE, export_grades,
                               points)
from autograde.layout import UsageError

A1, A2 = "01-requirements-estimation", "02-load-balancing"
NUMBER = re.compile(r"\d+(\.\d{1,2})?")  # what both LMSs read as points: no sign, '.' decimal, no exponent
#              id        first    last              email                   A1 (auto, manual)   A2 auto
CLASS = {
    "alice": ("Alice", "Liddell", "Alice.L@example.org", (10.0, 3.5), 7.25),
    "bob": ("Bob", "O'Brien, Jr.", "bob@example.org", (4.0, None), None),     # A1 awaits manual grading
    "chloe": ("Chloé", "Müller", "chloe@example.org", None, 2.0),            # no A1 submission
    "dave": (None, None, None, (12.0, 4.0), 1.0),                              # not in the roster
    "eve": ("=cmd|' /C calc'!A0", "@SUM(1)", "eve@example.org", (0.0, 0.0), 0.0),  # formula names
}


def build_gradebook(path: Path) -> Path:
    """A gradebook as `autograde batch` leaves it: A1 has a 12-point test and a 4-point written answer, A2 one 8-point test."""
    from nbgrader.api import Gradebook

    from autograde.layout import put_environment_on_path

    put_environment_on_path()  # nbgrader runs `alembic` by name
    with Gradebook(f"sqlite:///{path}") as gb, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's add_submission, harmless
        for name, cells in ((A1, [("correct_a", 12.0, "code"), ("written", 4.0, "markdown")]),
                            (A2, [("correct_b", 8.0, "code")])):
            gb.add_assignment(name)
            gb.add_notebook(name, name)
            for cell, max_score, kind in cells:
                gb.add_grade_cell(cell, name, name, max_score=max_score, cell_type=kind)
                if kind == "markdown":
                    gb.add_solution_cell(cell, name, name)
        for sid, (first, last, email, a1, a2) in CLASS.items():
            gb.add_student(sid, first_name=first, last_name=last, email=email)
            if a1 is not None:
                gb.add_submission(A1, sid)
                auto = gb.find_grade("correct_a", A1, A1, sid)
                auto.auto_score, auto.needs_manual_grade = a1[0], False
                written = gb.find_grade("written", A1, A1, sid)
                written.auto_score, written.manual_score = None, a1[1]
                written.needs_manual_grade = a1[1] is None
            if a2 is not None:
                gb.add_submission(A2, sid)
                auto = gb.find_grade("correct_b", A2, A2, sid)
                auto.auto_score, auto.needs_manual_grade = a2, False
        gb.db.commit()
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_gradebook(tmp_path_factory.mktemp("gradebook") / "gradebook.db")


@pytest.fixture
def gradebook(built, tmp_path):
    """A fresh copy per test (building one takes nbgrader several seconds)."""
    copy = tmp_path / "gradebook.db"
    copy.write_bytes(built.read_bytes())
    return copy


def read(path: Path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def assert_plain_utf8_rfc4180(raw: bytes, path: Path) -> None:
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{path}: must be UTF-8 without a byte-order mark"
    raw.decode("utf-8")
    body = raw.replace(b"\r\n", b"")
    assert b"\n" not in body and b"\r" not in body, f"{path}: every line must end in CRLF (RFC 4180)"


def test_points_are_written_as_lms_read_them():
    for value, expected in ((14.0, "14"), (12.5, "12.5"), (7.254, "7.25"), (0.0, "0"), (-0.0, "0"), (1e-9, "0"),
                            (1234.5, "1234.5"), (None, "")):
        assert points(value) == expected, f"input {value!r}: expected {expected!r}, got {points(value)!r}"


def test_canvas_file_follows_the_gradebook_import_rules(gradebook, tmp_path):
    report = export_grades("canvas", gradebook, tmp_path / "canvas")
    path = tmp_path / "canvas" / f"{A1}.csv"
    raw, rows = read(path)
    assert_plain_utf8_rfc4180(raw, path)
    assert rows[0] == CANVAS_HEADER + [A1], rows[0]
    assert rows[1] == [POINTS_POSSIBLE, "", "", "", "", "16"], f"Points Possible row: {rows[1]}"
    body = {row[3]: row for row in rows[2:]}
    assert set(body) == {"alice", "dave", "eve"}, (
        f"expected rows for final grades only (bob awaits manual grading, chloe did not submit); got {sorted(body)}")
    assert body["alice"] == ["Liddell, Alice", "", "", "alice", "", "13.5"], body["alice"]
    assert body["dave"][0] == "dave", "no roster name: the id stands in for the name"
    assert body["eve"][0] == "'@SUM(1), =cmd|' /C calc'!A0", f"a formula name must be neutralised: {body['eve']}"
    for row in rows[2:]:
        assert len(row) == len(rows[0]) and NUMBER.fullmatch(row[-1]), f"{path}: bad row {row}"
        assert row[2] or row[3], f"{path}: a row with no ID column to identify the student: {row}"
    assert ((A1, "bob", "still needs manual grading (formgrader), or pass --include-ungraded") in report.left_out
            and (A1, "chloe", "no submission") in report.left_out), report.left_out
    _, a2 = read(tmp_path / "canvas" / f"{A2}.csv")
    assert a2[1][-1] == "8" and {r[3]: r[-1] for r in a2[2:]} == {
        "alice": "7.25", "chloe": "2", "dave": "1", "eve": "0"}, a2


def test_canvas_can_put_the_id_in_sis_user_id(gradebook, tmp_path):
    export_grades("canvas", gradebook, tmp_path / "c", assignments=[A2], id_column="SIS User ID")
    _, rows = read(tmp_path / "c" / f"{A2}.csv")
    assert {r[2] for r in rows[2:]} == {"alice", "chloe", "dave", "eve"} and not any(r[3] for r in rows[2:])


def test_moodle_file_follows_the_csv_import_rules(gradebook, tmp_path):
    report = export_grades("moodle", gradebook, tmp_path / "moodle")
    for name in (A1, A2):
        path = tmp_path / "moodle" / f"{name}.csv"
        raw, rows = read(path)
        assert_plain_utf8_rfc4180(raw, path)
        assert rows[0] == MOODLE_HEADER + [name], rows[0]
        for row in rows[1:]:
            email = row[3]
            assert email and email == CLASS[row[2]][2], (
                f"{path}: every row needs the roster's exact email (Moodle aborts the import otherwise): {row}")
            assert NUMBER.fullmatch(row[4]), f"{path}: a grade Moodle's unformat_float reads, never '' or '-': {row}"
            assert len(row) > 1
    _, a1 = read(tmp_path / "moodle" / f"{A1}.csv")
    assert {r[2]: r[4] for r in a1[1:]} == {"alice": "13.5", "eve": "0"}, a1
    assert a1[1][:4] == ["Alice", "Liddell", "alice", "Alice.L@example.org"], "the email keeps its case"
    assert any(s == "dave" and "no email" in why for _, s, why in report.left_out), report.left_out


def test_long_file_has_one_row_per_student_assignment_and_cell(gradebook, tmp_path):
    export_grades("long", gradebook, tmp_path / "long")
    raw, rows = read(tmp_path / "long" / "grades-long.csv")
    assert_plain_utf8_rfc4180(raw, tmp_path / "long" / "grades-long.csv")
    assert rows[0] == LONG_HEADER
    table = [dict(zip(LONG_HEADER, r)) for r in rows[1:]]
    cells = {(r["student_id"], r["assignment"], r["cell"]): r for r in table}
    assert len(table) == len(cells), "one row per student, assignment and cell"
    assert cells[("alice", A1, "written")]["kind"] == "manual" and cells[("alice", A1, "written")]["score"] == "3.5"
    assert cells[("bob", A1, "written")]["status"] == "needs manual grading"
    assert cells[("chloe", A1, "")]["status"] == "no submission"
    assert cells[("eve", A1, "correct_a")]["first_name"].startswith("'="), "formula names are neutralised"
    assert len(table) == 4 * 2 + 1 + 4 + 1, (
        f"A1: 4 submissions x 2 cells + chloe's missing row; A2: 4 x 1 + bob's missing row; got {len(table)}")


def test_a_file_we_did_not_write_is_never_overwritten(gradebook, tmp_path):
    folder = tmp_path / "canvas"
    export_grades("canvas", gradebook, folder)
    export_grades("canvas", gradebook, folder)  # our own file: replaced, same bytes
    theirs = folder / f"{A2}.csv"
    theirs.write_text("Student,ID,SIS User ID,SIS Login ID,Section,02-load-balancing\nfrom Canvas itself\n")
    with pytest.raises(UsageError, match="was not written by `autograde export`"):
        export_grades("canvas", gradebook, folder)
    assert "from Canvas itself" in theirs.read_text()


def test_unknown_assignment_is_refused(gradebook, tmp_path):
    with pytest.raises(UsageError, match="not in the gradebook: 99-nothing"):
        export_grades("long", gradebook, tmp_path / "x", assignments=["99-nothing"])


@pytest.mark.parametrize("plugin, fmt", [("CanvasExportPlugin", "canvas"), ("MoodleExportPlugin", "moodle"),
                                         ("LongExportPlugin", "long")])
def test_nbgrader_export_uses_the_same_exporters(gradebook, tmp_path, plugin, fmt):
    """`nbgrader export --exporter=autograde.exports.<Plugin>` writes exactly what `autograde export` writes."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{gradebook}'\nc.Exchange.root = {str(course / 'exchange')!r}\n")
    (course / "exchange").mkdir()
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "export",
                           f"--exporter=autograde.exports.{plugin}", "--to", str(tmp_path / "via-nbgrader")],
                          cwd=course, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    export_grades(fmt, gradebook, tmp_path / "direct")
    ours = sorted(p.name for p in (tmp_path / "direct").glob("*.csv"))
    theirs = sorted(p.name for p in (tmp_path / "via-nbgrader").glob("*.csv"))
    assert ours == theirs and ours, (ours, theirs)
    for name in ours:
        assert (tmp_path / "direct" / name).read_bytes() == (tmp_path / "via-nbgrader" / name).read_bytes(), name


def test_the_nbgrader_configuration_silences_only_noise():
    """nbgrader_config.py turns off formgrader's config dump (its "not serializable" warning) and silences
    SQLAlchemy's "not in session" warning from nbgrader's own module, and nothing else."""
    from sqlalchemy.exc import SAWarning
    from traitlets.config.loader import PyFileConfigLoader

    from autograde.layout import NBGRADER_CONFIG

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        config = PyFileConfigLoader(NBGRADER_CONFIG.name, path=str(NBGRADER_CONFIG.parent)).load_config()
        noise = "Object of type <SubmittedAssignment> not in session, add operation along 'Student.submissions'"
        warnings.warn_explicit(noise, SAWarning, "api.py", 2229, module="nbgrader.api")
        warnings.warn_explicit(noise, SAWarning, "elsewhere.py", 1, module="somebody.else")
        warnings.warn_explicit("a real problem", SAWarning, "api.py", 1, module="nbgrader.api")
    assert config.FormgradeExtension.debug is False
    assert "--IPKernelApp.log_level=ERROR" in config.Execute.extra_arguments
    assert [(str(w.message)[:14], w.filename) for w in seen] == [("Object of type", "elsewhere.py"),
                                                                 ("a real problem", "api.py")], seen
