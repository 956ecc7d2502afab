"""Grades from nbgrader's gradebook, as files an LMS imports as they are, and a long format.

    python -m autograde export canvas     # WORKSPACE/exports/canvas/<assignment>.csv, one per assignment
    python -m autograde export moodle     # WORKSPACE/exports/moodle/<assignment>.csv
    python -m autograde export long       # WORKSPACE/exports/long/grades-long.csv
    nbgrader export --exporter=autograde.exports.CanvasExportPlugin [--to DIR]   # the same, from nbgrader

Names and emails come from the gradebook: import the class roster first (``python -m autograde
roster``). Which grade goes out: a submission's score after nbgrader's late penalty
(``max(0, score - penalty)``, as ``nbgrader export``), only when it is final. A submission that still
needs manual grading is left out unless ``include_ungraded`` (then its autograded part goes out),
and so is a student with no submission: an LMS file then changes nothing for them, rather than
writing a zero or clearing a grade. Each LMS file holds one assignment, so one missing grade never
holds back the others; the report names everyone left out and why.

Every file: UTF-8 without a byte-order mark, comma-separated, RFC 4180 quoting, CRLF line ends; numbers
with a ``.`` and at most two decimals, no thousands separator, no unit (``12.5``, ``14``); every text
cell through :func:`autograde.batch.csv_safe` (a leading ``= + - @`` gets a ``'``). A file is only
replaced if this module wrote it (its hash is in the folder's ``.autograde-exports.json``); any other
file at that path is left alone and the export stops with a message.

**Canvas** (gradebook import, "Grades > Import"). Rules, from Instructure's and universities'
documentation: the first row is a header and is mandatory; fields with commas or quotes are quoted
and quotes doubled; text is UTF-8 (Canvas SIS CSV format,
https://developerdocs.instructure.com/services/canvas/sis/file.sis_csv); the gradebook file has the
columns ``Student`` (``Last, First``), ``ID``, ``SIS User ID``, ``SIS Login ID`` and ``Section``,
then one column per assignment, and Canvas identifies the student by the ID columns ("Student Name OR
Student ID OR Student SIS User ID ... SIS Login ID ... Section ... Assignment Name",
https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades);
a column whose name is no assignment of the course becomes a new assignment; the row under the header,
``    Points Possible``, gives each assignment's points, as in Canvas's own gradebook export
(https://ts.vcu.edu/askit/teaching-and-learning/canvas/faculty/grading-faculty/gradebook-action-menu-faculty/).
We do not know Canvas's internal ``ID``, so it is empty and the student id goes in ``SIS Login ID``
(JupyterHub user names are login names; ``id_column = "SIS User ID"`` puts it there instead).

**Moodle** (Grades > Import > CSV file). Rules, from MoodleDocs "Grade import"
(https://docs.moodle.org/311/en/Grade_import) and Moodle's importer
(``grade/import/csv/classes/load_data.php``): the instructor maps one column to identify users
("Email address" to ``useremail``, or "ID number" to ``useridnumber``); emails are compared
case-sensitively; a row whose user is not found, or with an empty identifier, aborts the whole import
("usermappingerrorusernotfound"); a grade cell must be a number (``unformat_float``), ``''`` or ``-``
meaning "no grade" (which clears a grade), anything else aborts the import ("badgrade"); lines with
one field or fewer are skipped. So the file has ``First name``, ``Last name``, ``ID number``
(the student id) and ``Email address``, then the assignment's grade, and only rows of students with
an email and a final grade.

**Long** (everything else: a spreadsheet, R, pandas): one row per student, assignment and graded cell
(``cell`` empty and ``status`` ``no submission`` when there is none), with points, maximum, kind
(autograded or manual) and whether it still needs manual grading.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from traitlets import Bool, Unicode

from nbgrader.plugins import ExportPlugin

from autograde.batch import _atomic_write, csv_safe
from autograde.layout import UsageError, put_environment_on_path

MANIFEST = ".autograde-exports.json"
CANVAS_ID_COLUMNS = ("SIS Login ID", "SIS User ID")
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "    Points Possible"
MOODLE_HEADER = ["First name", "Last name", "ID number", "Email address"]
LONG_HEADER = ["student_id", "first_name", "last_name", "email", "assignment", "cell", "kind", "score",
               "max_score", "status", "late_penalty", "timestamp"]


def points(x: float | None) -> str:
    """A number as LMS imports read it: ``.`` decimal point, at most two decimals, no exponent."""
    if x is None:
        return ""
    text = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class Final:
    """One student's grade for one assignment, or why there is none to export."""

    score: float | None
    why_not: str = ""


@dataclass
class ExportReport:
    files: list = field(default_factory=list)
    left_out: list = field(default_factory=list)   # (assignment, student, why)

    def __str__(self) -> str:
        lines = [f"wrote {f}" for f in self.files] or ["no assignment in the gradebook: nothing written"]
        if self.left_out:
            lines.append(f"left out ({len(self.left_out)}; their grade in the LMS is not changed):")
            lines += [f"  {a} {s}: {why}" for a, s, why in self.left_out]
        return "\n".join(lines)


# --------------------------------------------------------------------------- reading the gradebook

def _assignments(gb, only: list[str]) -> list:
    found = sorted(gb.assignments, key=lambda a: a.name)
    if only:
        names = {a.name for a in found}
        unknown = [a for a in only if a not in names]
        if unknown:
            raise UsageError(f"not in the gradebook: {', '.join(unknown)}; known: {', '.join(sorted(names)) or 'none'}")
        found = [a for a in found if a.name in only]
    return found


def final_grade(gb, assignment: str, student: str, include_ungraded: bool) -> Final:
    from nbgrader.api import MissingEntry

    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return Final(None, "no submission")
    if sub.needs_manual_grade and not include_ungraded:
        return Final(None, "still needs manual grading (formgrader), or pass --include-ungraded")
    return Final(max(0.0, (sub.score or 0.0) - (sub.late_submission_penalty or 0.0)))


def _students(gb, only: list[str]) -> list:
    students = sorted(gb.students, key=lambda s: s.id)
    return [s for s in students if not only or s.id in only]


# --------------------------------------------------------------------------- writing, never over a stranger's file

def _render(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return out.getvalue().encode("utf-8")


def _write_owned(path: Path, data: bytes) -> None:
    """Write ``path`` unless something this module did not write is there (checked by hash)."""
    manifest_path = path.parent / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    except (OSError, ValueError):
        manifest = {}
    if os.path.lexists(path):
        if path.is_symlink() or not path.is_file():
            raise UsageError(f"{path} exists and is not a regular file: left alone; choose another --to")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if manifest.get(path.name) != digest:
            raise UsageError(f"{path} exists and was not written by `autograde export` (or was edited since): "
                             "left alone; move it or choose another --to")
    _atomic_write(path, data)
    manifest[path.name] = hashlib.sha256(data).hexdigest()
    _atomic_write(manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode())


def _check_writable(paths: list[Path]) -> None:
    """Refuse before writing anything, so an export is all or nothing."""
    for path in paths:
        manifest_path = path.parent / MANIFEST
        if not os.path.lexists(path):
            continue
        try:
            manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
        except (OSError, ValueError):
            manifest = {}
        if path.is_symlink() or not path.is_file() or \
                manifest.get(path.name) != hashlib.sha256(path.read_bytes()).hexdigest():
            raise UsageError(f"{path} exists and was not written by `autograde export` (or was edited since): "
                             "nothing written; move it or choose another --to")


# --------------------------------------------------------------------------- the three layouts

def canvas_rows(gb, assignment, students, include_ungraded, report, id_column="SIS Login ID") -> list[list]:
    if id_column not in CANVAS_ID_COLUMNS:
        raise UsageError(f"id_column must be one of {', '.join(CANVAS_ID_COLUMNS)}")
    rows = [CANVAS_HEADER + [assignment.name], [POINTS_POSSIBLE, "", "", "", "", points(assignment.max_score)]]
    for s in students:
        grade = final_grade(gb, assignment.name, s.id, include_ungraded)
        if grade.score is None:
            report.left_out.append((assignment.name, s.id, grade.why_not))
            continue
        name = ", ".join(p for p in (s.last_name, s.first_name) if p) or s.id
        rows.append([name, "", s.id if id_column == "SIS User ID" else "",
                     s.id if id_column == "SIS Login ID" else "", "", points(grade.score)])
    return rows


def moodle_rows(gb, assignment, students, include_ungraded, report) -> list[list]:
    rows = [MOODLE_HEADER + [assignment.name]]
    for s in students:
        if not s.email:
            report.left_out.append((assignment.name, s.id, "no email in the gradebook (import the roster): Moodle "
                                                          "would stop the whole import at this row"))
            continue
        grade = final_grade(gb, assignment.name, s.id, include_ungraded)
        if grade.score is None:
            report.left_out.append((assignment.name, s.id, grade.why_not))
            continue
        rows.append([s.first_name or "", s.last_name or "", s.id, s.email, points(grade.score)])
    return rows


def long_rows(gb, assignments, students) -> list[list]:
    from nbgrader.api import MissingEntry

    rows = [LONG_HEADER]
    for a in assignments:
        for s in students:
            who = [s.id, s.first_name or "", s.last_name or "", s.email or "", a.name]
            try:
                sub = gb.find_submission(a.name, s.id)
            except MissingEntry:
                rows.append(who + ["", "", "", "", "no submission", "", ""])
                continue
            penalty = points(sub.late_submission_penalty or 0.0)
            stamp = sub.timestamp.isoformat(sep=" ") if sub.timestamp else ""
            for notebook in sorted(sub.notebooks, key=lambda n: n.name):
                for grade in sorted(notebook.grades, key=lambda g: g.cell.name):
                    kind = "manual" if grade.cell.cell_type == "markdown" else "autograded"
                    status = "needs manual grading" if grade.needs_manual_grade else "graded"
                    rows.append(who + [grade.name, kind, points(grade.score), points(grade.max_score), status,
                                       penalty, stamp])
    return rows


def export_grades(fmt: str, gradebook_path: Path, to: Path, assignments: list[str] | None = None,
                  students: list[str] | None = None, include_ungraded: bool = False,
                  id_column: str = "SIS Login ID") -> ExportReport:
    """Write ``fmt`` (canvas, moodle, long) from the gradebook at ``gradebook_path`` into the folder ``to``."""
    from nbgrader.api import Gradebook

    put_environment_on_path()
    if not gradebook_path.is_file():
        raise UsageError(f"{gradebook_path}: no gradebook there; grade a class first (python -m autograde batch)")
    with Gradebook(f"sqlite:///{gradebook_path}") as gb:
        return export_from(gb, fmt, to, assignments or [], students or [], include_ungraded, id_column)


def export_from(gb, fmt: str, to: Path, assignments: list[str], students: list[str], include_ungraded: bool,
                id_column: str = "SIS Login ID") -> ExportReport:
    report = ExportReport()
    chosen = _assignments(gb, assignments)
    people = _students(gb, students)
    if fmt == "long":
        files = {to / "grades-long.csv": long_rows(gb, chosen, people)}
    elif fmt in ("canvas", "moodle"):
        files = {}
        for a in chosen:
            rows = canvas_rows(gb, a, people, include_ungraded, report, id_column) if fmt == "canvas" \
                else moodle_rows(gb, a, people, include_ungraded, report)
            files[to / f"{a.name}.csv"] = rows
    else:
        raise UsageError(f"unknown export format {fmt!r}: canvas, moodle or long")
    _check_writable(list(files))
    for path, rows in files.items():
        _write_owned(path, _render(rows))
        report.files.append(path)
    return report


# --------------------------------------------------------------------------- nbgrader's exporter plugins

class _CoursePlugin(ExportPlugin):
    """Shared by the plugins: ``--to`` is a folder (default ``grading/exports/<format>`` in the course)."""

    fmt = "long"
    include_ungraded = Bool(False, help="export the autograded part of submissions that still need manual "
                                        "grading").tag(config=True)

    def _folder(self) -> Path:
        if self.to:
            return Path(self.to)
        root = getattr(getattr(self.parent, "coursedir", None), "root", None) or os.getcwd()
        return Path(root) / "grading" / "exports" / self.fmt

    def export(self, gradebook) -> None:
        report = export_from(gradebook, self.fmt, self._folder(), [str(a) for a in self.assignment],
                             [str(s) for s in self.student], self.include_ungraded, **self._extra())
        for line in str(report).splitlines():
            self.log.info(line)

    def _extra(self) -> dict:
        return {}


class CanvasExportPlugin(_CoursePlugin):
    """Canvas gradebook import files, one per assignment (``nbgrader export --exporter=autograde.exports.CanvasExportPlugin``)."""

    fmt = "canvas"
    id_column = Unicode("SIS Login ID", help="the Canvas column that holds the student id: "
                                             "'SIS Login ID' or 'SIS User ID'").tag(config=True)

    def _extra(self) -> dict:
        return {"id_column": self.id_column}


class MoodleExportPlugin(_CoursePlugin):
    """Moodle grade import files (map by email), one per assignment."""

    fmt = "moodle"


class LongExportPlugin(_CoursePlugin):
    """One row per student, assignment and graded cell."""

    fmt = "long"
