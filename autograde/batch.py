"""``python -m autograde batch``: grade a class's submissions into nbgrader's gradebook and a CSV.

Input, one of:

- nbgrader's layout ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``;
- a flat folder of downloaded notebooks: the student id is the file name up to its first
  underscore (``alice_01-requirements-estimation.ipynb`` and ``alice.ipynb`` are both ``alice``),
  and the assignment is ``--assignment`` or is recognised from the notebook's cells;
- a ``.zip`` of either (unpacked safely: no absolute paths, no ``..``, no links, size-capped).

Symbolic links are refused, never followed. Student ids may use letters, digits, ``.``, ``-``
and ``_``.

The parent process is the only writer. For each result, in this order: the autograded notebook
(for formgrader), the gradebook (one transaction), the feedback page, then the batch state
(``batch-state.db``, one transaction), then the CSV is rewritten from the state. Every file is
written to a temporary name and renamed. A run killed at any moment (even ``kill -9``) is resumed
by running the same command again: what is recorded as done with the same file hash is skipped,
everything else is graded, and nothing is counted twice.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from autograde.grading import GradeReport, GraderFault, iter_graded
from autograde.isolation import Limits
from autograde.layout import REPO_ROOT, UsageError, assignments, put_environment_on_path

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ZIP_MAX_BYTES = 512 * 1024 * 1024
ZIP_MAX_FILES = 20_000


@dataclass
class Submission:
    student: str
    assignment: str | None
    path: Path | None
    problem: str = ""  # why it cannot be graded (set while discovering it)

    @property
    def key(self) -> str:
        return f"{self.student}/{self.assignment or '?'}"


# --------------------------------------------------------------------------- discovery

def discover(root: Path, assignment: str | None = None) -> list[Submission]:
    """The submissions under ``root`` (a folder in nbgrader's layout, or flat)."""
    known = set(assignments())
    found: list[Submission] = []
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            found.append(Submission(entry.stem.split("_")[0], assignment, None, f"{entry.name}: symbolic link refused"))
        elif entry.is_dir():
            found += _discover_student_folder(entry, known, assignment)
        elif entry.suffix == ".ipynb":
            student = entry.stem.split("_")[0]
            sub = Submission(student, assignment, entry)
            if not STUDENT_ID.match(student):
                sub.problem = f"{entry.name}: cannot read a student id from the file name"
            found.append(sub)
    return found


def _discover_student_folder(folder: Path, known: set[str], only: str | None) -> list[Submission]:
    student = folder.name
    subs = []
    for assignment_dir in sorted(folder.iterdir()):
        if only and assignment_dir.name != only:
            continue
        if assignment_dir.is_symlink():
            subs.append(Submission(student, assignment_dir.name, None, "symbolic link refused"))
            continue
        if not assignment_dir.is_dir():
            continue
        name = assignment_dir.name
        sub = Submission(student, name, None)
        notebooks = sorted(assignment_dir.glob("*.ipynb"))
        preferred = [p for p in notebooks if p.name == f"{name}.ipynb"]
        chosen = (preferred or notebooks or [None])[0]
        if not STUDENT_ID.match(student):
            sub.problem = "the folder name is not a usable student id"
        elif name not in known:
            sub.problem = f"unknown assignment {name!r}"
        elif chosen is None:
            sub.problem = "no .ipynb file in the submission"
        elif chosen.is_symlink():
            sub.problem = f"{chosen.name}: symbolic link refused"
        else:
            sub.path = chosen
        subs.append(sub)
    return subs


def unpack_zip(archive: Path, into: Path) -> Path:
    """Unpack ``archive`` refusing links, absolute or escaping paths and oversized content."""
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        if len(members) > ZIP_MAX_FILES or sum(m.file_size for m in members) > ZIP_MAX_BYTES:
            raise UsageError(f"{archive}: the zip is too large to unpack")
        for member in members:
            name = member.filename
            is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
            parts = Path(name).parts
            if is_link or name.startswith("/") or ".." in parts or not parts:
                continue
            target = into.joinpath(*parts)
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return _submissions_root(into)


def _submissions_root(folder: Path) -> Path:
    """Descend through single wrapping folders (``submitted/``, ``downloads/``) to the submissions."""
    known = set(assignments())
    while True:
        entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
        if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink() and not any(
                child.name in known for child in entries[0].iterdir() if child.is_dir()):
            folder = entries[0]
            continue
        return folder


# --------------------------------------------------------------------------- writing

def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class State:
    """What this batch has recorded as done: one row per (student, assignment)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("""CREATE TABLE IF NOT EXISTS results (
            student TEXT, assignment TEXT, sha256 TEXT, outcome TEXT, score REAL, max_score REAL,
            manual_max REAL, message TEXT, graded_at TEXT, PRIMARY KEY (student, assignment))""")
        self.db.commit()

    def done(self, student: str, assignment: str, sha: str) -> bool:
        row = self.db.execute("SELECT sha256, outcome FROM results WHERE student=? AND assignment=?",
                              (student, assignment)).fetchone()
        return bool(row) and row[0] == sha and row[1] in ("graded", "unusable")

    def record(self, student, assignment, sha, outcome, score, max_score, manual_max, message) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?,?)",
                            (student, assignment, sha, outcome, score, max_score, manual_max, message,
                             time.strftime("%Y-%m-%dT%H:%M:%S")))

    def write_csv(self, path: Path) -> None:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["student", "assignment", "outcome", "score", "max_score", "manual_max", "message",
                         "graded_at", "sha256"])
        for row in self.db.execute("SELECT student, assignment, outcome, score, max_score, manual_max, message, "
                                   "graded_at, sha256 FROM results ORDER BY student, assignment"):
            writer.writerow(["" if v is None else v for v in row])
        _atomic_write(path, out.getvalue().encode())


class Gradebook:
    """nbgrader's gradebook, written only by this (parent) process."""

    def __init__(self, db_url: str):
        import warnings

        from nbgrader.api import Gradebook as NbGradebook

        put_environment_on_path()

        # nbgrader's own SQLAlchemy "not in session" warning on a first submission is noise (nbgrader#1961 era)
        warnings.filterwarnings("ignore", message=".*not in session.*")

        self.db_url = db_url
        self.gb = NbGradebook(db_url, "system-design")
        self.registered: set[str] = set()

    def ensure_assignment(self, assignment: str) -> None:
        """Register the assignment's notebooks and grade cells (nbgrader's generate step)."""
        if assignment in self.registered:
            return
        from nbgrader.apps import NbGraderAPI
        from traitlets.config import Config

        with tempfile.TemporaryDirectory(prefix="autograde-register-") as tmp:
            config = Config()
            config.CourseDirectory.root = str(REPO_ROOT)
            config.CourseDirectory.source_directory = "solutions"
            config.CourseDirectory.release_directory = os.path.relpath(tmp, REPO_ROOT)
            config.CourseDirectory.db_url = self.db_url
            config.Exchange.root = os.path.join(tmp, "exchange")
            os.makedirs(config.Exchange.root)  # an absent exchange makes nbgrader log "Unwritable directory"
            result = NbGraderAPI(config=config).generate_assignment(assignment, force=True, create=True)
            if not result.get("success"):
                raise GraderFault(f"could not register {assignment} in the gradebook: {result.get('log', '')[-500:]}")
        self.registered.add(assignment)

    def save(self, student: str, report: GradeReport, notebook, timestamp: datetime) -> None:
        from nbgrader import utils

        self.ensure_assignment(report.assignment)
        self.gb.update_or_create_student(student)
        # formgrader counts a submission as autograded when this timestamp equals submitted/'s timestamp.txt
        self.gb.update_or_create_submission(report.assignment, student, timestamp=timestamp)
        points = {t.id: t.points for t in report.tests}
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade"):
                continue
            grade = self.gb.find_grade(meta["grade_id"], report.assignment, report.assignment, student)
            if meta.get("solution"):  # written answer: nbgrader's rule (unchanged blank scores 0)
                grade.auto_score, _ = utils.determine_grade(cell)
            else:
                grade.auto_score = points.get(meta["grade_id"], 0.0)
            grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
        self.gb.db.commit()

    def close(self) -> None:
        self.gb.close()


def autograded_notebook(report: GradeReport):
    """The rebuilt notebook with outputs that say what happened: what formgrader shows."""
    nb, runs = report.notebook_run
    results = {t.id: t for t in report.tests}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        run = runs.get(index)
        meta = cell.metadata.get("nbgrader", {})
        outputs = []
        if run is not None and run.output:
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=run.output))
        test = results.get(meta.get("grade_id")) if meta.get("grade") else None
        if test is not None and test.status != "pass":
            outputs.append(nbformat.v4.new_output("error", ename=test.status, evalue=test.message,
                                                  traceback=test.message.splitlines()))
        elif test is None and run is not None and run.status != "ok":
            outputs.append(nbformat.v4.new_output("error", ename=run.status, evalue=run.message,
                                                  traceback=run.message.splitlines()))
        cell.outputs = outputs
    return nb


def feedback_html(student: str, report: GradeReport) -> str:
    """A self-contained feedback page. Everything from the submission is escaped; no test source."""
    esc = html.escape
    rows = "".join(
        f"<tr class='{esc(t.status)}'><td>{esc(t.id)}</td><td>{t.points:g}/{t.max_points:g}</td>"
        f"<td>{esc(t.status)}</td><td><pre>{esc(t.message)}</pre></td></tr>" for t in report.tests)
    notes = "".join(f"<li>{esc(n)}</li>" for n in report.notes)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Feedback: {esc(report.assignment)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}} td,th{{border-bottom:1px solid #ddd;
padding:.3em .6em;vertical-align:top;text-align:left}} pre{{white-space:pre-wrap;margin:0}}
tr.pass td:nth-child(3){{color:#1a7f37}} tr:not(.pass) td:nth-child(3){{color:#b42318}}</style></head>
<body><h1>{esc(report.assignment)}</h1><p>Student: {esc(student)}. Autograded score:
<b>{report.score:g} / {report.max_score:g}</b>{f" (plus {report.manual_max:g} points graded by hand)" if report.manual_max else ""}.</p>
{f"<ul>{notes}</ul>" if notes else ""}
<table><tr><th>test</th><th>points</th><th>status</th><th>what to fix</th></tr>{rows}</table></body></html>
"""


# --------------------------------------------------------------------------- the run

@dataclass
class Summary:
    graded: int = 0
    unchanged: int = 0
    unusable: list = None
    faults: list = None
    seconds: float = 0.0

    def __post_init__(self):
        self.unusable, self.faults = [], []


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _progress(done: int, total: int, summary: Summary, started: float, final: bool = False) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    line = (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  graded {summary.graded}, "
            f"unusable {len(summary.unusable)}, faults {len(summary.faults)}, {time.monotonic() - started:.0f} s")
    if sys.stderr.isatty():
        print("\r" + line, end="\n" if final else "", file=sys.stderr, flush=True)
    elif final or done % 10 == 0:
        print(line, file=sys.stderr, flush=True)


def run_batch(source: Path, *, workers: int = 2, csv_path: Path | None = None, feedback_dir: Path | None = None,
              assignment: str | None = None, workspace: Path | None = None, db_url: str | None = None,
              limits: Limits | None = None) -> Summary:
    started = time.monotonic()
    workspace = workspace or REPO_ROOT / "grading"
    csv_path = csv_path or workspace / "grades.csv"
    db_url = db_url or f"sqlite:///{workspace / 'gradebook.db'}"
    summary = Summary()
    with tempfile.TemporaryDirectory(prefix="autograde-batch-") as tmp:
        if source.is_file() and source.suffix == ".zip":
            source = unpack_zip(source, Path(tmp))
        elif not source.is_dir():
            raise UsageError(f"{source}: not a folder or a .zip of submissions")
        subs = discover(source, assignment)
        state = State(workspace / "batch-state.db")
        gradebook = Gradebook(db_url)
        jobs, job_subs = [], []
        for sub in subs:
            if sub.problem:
                summary.unusable.append((sub.key, sub.problem))
                state.record(sub.student, sub.assignment or "?", "", "unusable", None, None, None, sub.problem)
                continue
            sha = _sha256(sub.path)
            if sub.assignment and state.done(sub.student, sub.assignment, sha):
                summary.unchanged += 1
                continue
            jobs.append((sub.path, sub.assignment))
            job_subs.append((sub, sha))
        total = len(jobs)
        _progress(0, total, summary, started)
        for count, (index, result) in enumerate(iter_graded(jobs, workers, limits), start=1):
            sub, sha = job_subs[index]
            if isinstance(result, GradeReport):
                if sub.assignment and state.done(sub.student, result.assignment, sha):
                    summary.unchanged += 1  # (a flat-folder notebook whose assignment was recognised)
                else:
                    _save_result(sub, sha, result, gradebook, state, workspace, feedback_dir)
                    summary.graded += 1
            else:
                kind = "unusable" if isinstance(result, UsageError) else "fault"
                (summary.unusable if kind == "unusable" else summary.faults).append((sub.key, str(result)))
                if kind == "unusable":  # a fault is retried on the next run
                    state.record(sub.student, sub.assignment or "?", sha, "unusable", None, None, None, str(result))
            state.write_csv(csv_path)
            _progress(count, total, summary, started, final=count == total)
        state.write_csv(csv_path)
        gradebook.close()
    summary.seconds = time.monotonic() - started
    return summary


def submission_timestamp(path: Path) -> datetime:
    """When a notebook was submitted: nbgrader's timestamp.txt beside it, else the file's mtime (UTC)."""
    from nbgrader.utils import parse_utc

    stamp = path.parent / "timestamp.txt"
    if stamp.is_file():
        try:
            return parse_utc(stamp.read_text().strip()).replace(tzinfo=None)
        except (ValueError, OverflowError):
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).replace(tzinfo=None)


def _save_result(sub: Submission, sha: str, report: GradeReport, gradebook: Gradebook, state: State,
                 workspace: Path, feedback_dir: Path | None) -> None:
    nb = autograded_notebook(report)
    timestamp = submission_timestamp(sub.path)
    # formgrader lists what is in submitted/: a flat folder or a zip is copied there, as nbgrader's
    # `collect` would have done, so the instructor sees each submission, its time and its grade.
    submitted = workspace / "submitted" / sub.student / report.assignment
    if sub.path.parent.resolve() != submitted.resolve():
        _atomic_write(submitted / f"{report.assignment}.ipynb", sub.path.read_bytes())
        _atomic_write(submitted / "timestamp.txt", f"{timestamp.isoformat(sep=' ')} UTC".encode())
    target = workspace / "autograded" / sub.student / report.assignment / f"{report.assignment}.ipynb"
    _atomic_write(target, nbformat.writes(nb).encode())
    gradebook.save(sub.student, report, nb, timestamp)
    if feedback_dir is not None:
        _atomic_write(feedback_dir / sub.student / f"{report.assignment}.html",
                      feedback_html(sub.student, report).encode())
    message = "; ".join(f"{t.id}: {t.status}" for t in report.tests if t.status != "pass")
    state.record(sub.student, report.assignment, sha, "graded", report.score, report.max_score,
                 report.manual_max, message)


def print_summary(summary: Summary) -> None:
    print(f"graded {summary.graded}, unchanged since last run {summary.unchanged}, "
          f"unusable {len(summary.unusable)}, grader faults {len(summary.faults)}, in {summary.seconds:.1f} s")
    for key, why in summary.unusable:
        print(f"  unusable  {key}: {why}")
    for key, why in summary.faults:
        print(f"  fault     {key}: {why} (will be retried on the next run)")
