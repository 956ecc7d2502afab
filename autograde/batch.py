"""``python -m autograde batch``: grade a class's submissions into nbgrader's gradebook and a CSV.

Input, one of:

- nbgrader's layout ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``;
- a flat folder of downloaded notebooks: the student id is the file name up to its first
  underscore (``alice_01-requirements-estimation.ipynb`` and ``alice.ipynb`` are both ``alice``),
  and the assignment is ``--assignment`` or is recognised from the notebook's cells;
- a ``.zip`` of either (unpacked member by member, see :func:`unpack_zip`).

What the batch trusts in its input: nothing.

- Every problem with one submission or one zip member makes that one **unusable**, with its reason
  in the summary and in the CSV; everyone else is graded. The exit status says so (``EXIT_*``).
- Symbolic links are never followed: a linked notebook, student folder or zip member is unusable;
  a linked ``timestamp.txt`` is not read, and the submission time is recorded as missing (with a
  note), so a late submission cannot borrow another file's time.
- Student ids must match :data:`STUDENT_ID` as a whole (``re.fullmatch``: no trailing newline).
- Two files of one student for one assignment in a flat folder: the newest (file time), then the
  first by name, is graded; the others are reported as ignored, in the summary and the CSV.
- Every CSV cell that a spreadsheet would read as a formula is neutralised (:func:`csv_safe`).
- One batch at a time per workspace: ``batch.lock`` holds the holder's pid, host and start time;
  a second run waits (``wait``) or stops with a message naming the holder; a lock left by a dead
  process is taken over.

The parent process is the only writer. Each submission's bytes are read once (without following
links), hashed, and graded from a private copy, so what is graded is what was hashed. For each
result, in this order: the autograded notebook (for formgrader), the gradebook (one transaction),
the feedback page, then the batch state (``batch-state.db``, one transaction), then the CSV is
rewritten from the state. Every file is written to a temporary name and renamed. A run killed at
any moment (even ``kill -9``) is resumed by running the same command again: what is recorded as
done with the same file hash is skipped (in every layout, flat folders included), everything else
is graded, and nothing is counted twice.

Outputs go under the workspace (``grading/`` by default): ``grades.csv`` and, with ``--feedback``,
``batch-feedback/``. A CSV or feedback page that exists and was not written by this command (told
by its header, or the page's generator tag) is never overwritten.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import hashlib
import html
import io
import json
import os
import re
import shutil
import socket
import sqlite3
import stat
import sys
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from autograde.grading import GradeReport, GraderFault, iter_graded
from autograde.isolation import Limits
from autograde.layout import REPO_ROOT, UsageError, assignments, put_environment_on_path, source_notebook

#: A student id, matched with ``fullmatch`` (``$`` would also match before a trailing newline).
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

ZIP_MAX_BYTES = 512 * 1024 * 1024      # everything unpacked from one zip, counted as it is written
ZIP_MAX_FILES = 20_000                 # members; more and the zip is refused as a whole
ZIP_MAX_RATIO = 200                    # uncompressed / compressed size of one member (a zip bomb)
MEMBER_MAX_BYTES = 64 * 1024 * 1024    # one member, and one submitted notebook
NAME_MAX_BYTES = 255                   # one path component (Linux NAME_MAX)
PATH_MAX_BYTES = 1024                  # one member's whole name
CSV_EVERY_S = 2.0                      # the CSV is rewritten at most this often while grading (and at the end)

#: Exit status of ``python -m autograde batch`` (a Python crash exits 1 with a traceback).
EXIT_OK = 0                 # every submission graded (or unchanged)
EXIT_USAGE = 2              # nothing graded: the input or the workspace cannot be used (or is busy)
EXIT_SOME_UNUSABLE = 3      # the run completed; some submissions or zip members are unusable (listed)
EXIT_FAULTS = 4             # the run completed; the grader failed on some submissions (rerun to retry)

CSV_HEADER = ["student", "assignment", "outcome", "score", "max_score", "manual_max", "message", "note",
              "source", "graded_at", "sha256"]
FEEDBACK_GENERATOR = "autograde batch"


class WorkspaceBusy(UsageError):
    """Another batch holds the workspace's lock."""


@dataclass
class Submission:
    student: str
    assignment: str | None
    path: Path | None
    problem: str = ""            # why it cannot be graded (set while discovering it)
    source: str = ""             # where it came from, relative to the input (or the zip member's name)
    notes: list = field(default_factory=list)
    timestamp: datetime | None = None
    data: bytes | None = None    # the bytes read (without following links), when not staged
    staged: Path | None = None   # ... or the private copy they were written to, which is what is graded
    sha: str = ""                # their SHA-256

    @property
    def key(self) -> str:
        return f"{self.student or '?'}/{self.assignment or '?'}"

    def keep(self, data: bytes, stage: Path | None) -> None:
        """Hold the submission's bytes: on disk in ``stage`` if given (a class of large notebooks is
        not held in memory), else here."""
        self.sha = hashlib.sha256(data).hexdigest()
        if stage is None:
            self.data = data
        else:
            fd, name = tempfile.mkstemp(dir=stage, suffix=".ipynb")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            self.staged = Path(name)

    def content(self) -> bytes:
        return self.data if self.staged is None else self.staged.read_bytes()


# --------------------------------------------------------------------------- CSV safety

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A CSV cell a spreadsheet will not run: text starting with ``= + - @``, tab or CR gets a ``'``.

    OWASP's "CSV injection" rule. Numbers are left alone (``-1.5`` is a number, not a formula), so
    only ``str`` values are changed; ``None`` becomes an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv_rows(path: Path, rows, *, encoding: str = "utf-8") -> None:
    """Write rows (the first is the header) atomically, every cell through :func:`csv_safe`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    _atomic_write(path, out.getvalue().encode(encoding))


def csv_header_of(path: Path) -> list[str] | None:
    """The first row of an existing CSV file (None if absent); raise UsageError if it is no file."""
    if not os.path.lexists(path):
        return None
    if path.is_symlink() or not path.is_file():
        raise UsageError(f"{path}: exists and is not a regular file; choose another output path")
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        return next(csv.reader(f), [])


def refuse_foreign_csv(path: Path, ours, what: str) -> None:
    """Refuse to overwrite ``path`` unless its header says we wrote it (``ours(header) -> bool``)."""
    header = csv_header_of(path)
    if header is not None and header and not ours([h.lstrip("\ufeff") for h in header]):
        shown = ",".join(header)[:80]
        raise UsageError(f"{path} exists and was not written by {what} (its header is {shown!r}, another "
                         "layout such as `nbgrader export`'s); it is left as it is: pass another file with --csv/--to, "
                         "or move it")


# --------------------------------------------------------------------------- reading without following links

def read_no_follow(path: Path, limit: int = MEMBER_MAX_BYTES) -> bytes:
    """The bytes of a regular file, refusing a symbolic link at ``path`` and anything over ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"{path.name}: symbolic link refused (not followed)") from exc
        raise UsageError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{path.name}: not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UsageError(f"{path.name}: larger than {limit // (1024 * 1024)} MiB, not a notebook a learner wrote")
    return data


# --------------------------------------------------------------------------- recognising the assignment

_SOURCE_IDS: dict[str, set[str]] = {}


def _source_ids() -> dict[str, set[str]]:
    from autograde.notebook import graded_cells, read_notebook

    if not _SOURCE_IDS:
        for name in assignments():
            _SOURCE_IDS[name] = {c.grade_id for c in graded_cells(read_notebook(source_notebook(name)))}
    return _SOURCE_IDS


def recognise_assignment(data: bytes, name: str) -> str:
    """The assignment of a notebook's bytes, by its graded cells (as ``grading.identify_assignment``,
    with the sources read once per run). Raises UsageError naming ``name`` if it is unusable."""
    from autograde.notebook import graded_cells, read_notebook

    with tempfile.TemporaryDirectory(prefix="autograde-recognise-") as tmp:
        path = Path(tmp) / "submission.ipynb"
        path.write_bytes(data)
        try:
            nb = read_notebook(path)
        except UsageError as exc:
            raise UsageError(str(exc).replace(str(path), name)) from None
    ids = {c.grade_id for c in graded_cells(nb)}
    if not ids:
        raise UsageError(f"{name}: the notebook has no nbgrader cells, so it belongs to no assignment "
                         "(pass --assignment NAME if it is a course notebook that lost its metadata)")
    overlap = {a: len(ids & s) for a, s in _source_ids().items()}
    best = max(overlap.values(), default=0)
    winners = [a for a, n in overlap.items() if n == best]
    if best == 0:
        raise UsageError(f"{name}: the notebook matches no assignment of this course (no grade_id in common)")
    if len(winners) > 1:
        raise UsageError(f"{name}: the notebook matches several assignments equally ({', '.join(winners)}); "
                         "pass --assignment NAME")
    return winners[0]


# --------------------------------------------------------------------------- discovery

def _is_clutter(name: str) -> bool:
    """Files an archiver or a desktop adds next to submissions (``__MACOSX/``, ``.DS_Store``)."""
    return (name.startswith(".") and name != "..") or name == "__MACOSX"


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def submission_timestamp(folder: Path, notebook: Path) -> tuple[datetime | None, str]:
    """When a notebook was submitted, and a note if that is unknown.

    nbgrader's ``timestamp.txt`` beside the notebook if there is one; else the notebook's own time
    (a flat folder, a zip). A ``timestamp.txt`` that is a symbolic link, unreadable or no time is not
    used, and neither is the notebook's time: the submission time is recorded as missing, with the
    reason, because a linked or broken ``timestamp.txt`` is how a late submission would pass as on time."""
    from nbgrader.utils import parse_utc

    stamp = folder / "timestamp.txt"
    if os.path.lexists(stamp):
        if stamp.is_symlink():
            return None, "timestamp.txt is a symbolic link: not followed, submission time recorded as missing"
        try:
            text = read_no_follow(stamp, 4096).decode("utf-8")
            return parse_utc(text.strip()).replace(tzinfo=None), ""
        except (UsageError, UnicodeDecodeError, ValueError, OverflowError):
            return None, "timestamp.txt holds no readable time: submission time recorded as missing"
    return _utc(notebook.lstat().st_mtime), ""


def discover(root: Path, assignment: str | None = None, stage: Path | None = None) -> list[Submission]:
    """The submissions under ``root`` (a folder in nbgrader's layout, or flat), each with its bytes
    read (and copied into ``stage`` if given), or with the reason it cannot be graded. Several files
    of one student for one assignment are reduced to one (:func:`_one_per_student`)."""
    known = set(assignments())
    if assignment is not None and assignment not in known:
        raise UsageError(f"unknown assignment {assignment!r}; known: {', '.join(sorted(known))}")
    found: list[Submission] = []
    for entry in sorted(root.iterdir()):
        if _is_clutter(entry.name):
            continue
        if entry.is_symlink():
            student = entry.name.split("_")[0].removesuffix(".ipynb")
            found.append(Submission(student if STUDENT_ID.fullmatch(student) else "", None, None,
                                    f"{_display(entry.name)}: symbolic link refused (not followed)",
                                    source=_display(entry.name)))
        elif entry.is_dir():
            found += _discover_student_folder(entry, root, known, assignment, stage)
        elif entry.suffix == ".ipynb":
            found.append(_flat_file(entry, root, assignment, stage))
    return _one_per_student(found)


def _flat_file(entry: Path, root: Path, only: str | None, stage: Path | None, student: str | None = None) -> Submission:
    """A notebook in a flat folder (student id from its name), or directly in a student's folder."""
    student = entry.stem.split("_")[0] if student is None else student
    sub = Submission(student, only, entry, source=_display(str(entry.relative_to(root))))
    if not STUDENT_ID.fullmatch(student):
        sub.student = ""
        sub.problem = f"{sub.source}: cannot read a student id from the file or folder name"
        return sub
    try:
        data = read_no_follow(entry)
        if only is None:
            sub.assignment = recognise_assignment(data, sub.source)
    except UsageError as exc:
        sub.problem = str(exc)
        return sub
    sub.keep(data, stage)
    sub.timestamp = _utc(entry.lstat().st_mtime)
    return sub


def _discover_student_folder(folder: Path, root: Path, known: set[str], only: str | None,
                             stage: Path | None) -> list[Submission]:
    student = folder.name
    subs = []
    for assignment_dir in sorted(folder.iterdir()):
        if _is_clutter(assignment_dir.name):
            continue
        if assignment_dir.suffix == ".ipynb" and not assignment_dir.is_dir():  # <student>/<notebook>.ipynb
            subs.append(_flat_file(assignment_dir, root, only, stage, student=student))
            continue
        if only and assignment_dir.name != only:
            continue
        rel = _display(str(assignment_dir.relative_to(root)))
        if assignment_dir.is_symlink():
            subs.append(Submission(student, assignment_dir.name, None, "symbolic link refused (not followed)",
                                   source=rel))
            continue
        if not assignment_dir.is_dir():
            continue
        name = assignment_dir.name
        sub = Submission(student, name, None, source=rel)
        notebooks = sorted(assignment_dir.glob("*.ipynb"))
        preferred = [p for p in notebooks if p.name == f"{name}.ipynb"]
        chosen = (preferred or notebooks or [None])[0]
        if not STUDENT_ID.fullmatch(student):
            sub.student = ""
            sub.problem = f"{student[:80]!r}: the folder name is not a usable student id"
        elif name not in known:
            sub.problem = f"unknown assignment {name[:80]!r}"
        elif chosen is None:
            sub.problem = "no .ipynb file in the submission"
        else:
            sub.path, sub.source = chosen, _display(str(chosen.relative_to(root)))
            try:
                sub.keep(read_no_follow(chosen), stage)
            except UsageError as exc:
                sub.problem = str(exc)
            else:
                sub.timestamp, note = submission_timestamp(assignment_dir, chosen)
                if note:
                    sub.notes.append(note)
        subs.append(sub)
    return subs


def _one_per_student(found: list[Submission]) -> list[Submission]:
    """Keep one usable submission per (student, assignment): the newest, then the first by name.

    The others are dropped here and named in the kept one's notes (summary and CSV)."""
    groups: dict[tuple[str, str], list[Submission]] = {}
    out = []
    for sub in found:
        if sub.problem or sub.assignment is None:
            out.append(sub)
        else:
            groups.setdefault((sub.student, sub.assignment), []).append(sub)
    for subs in groups.values():
        subs.sort(key=lambda s: (-s.timestamp.replace(tzinfo=timezone.utc).timestamp() if s.timestamp
                                 else float("inf"), s.source))
        kept = subs[0]
        if len(subs) > 1:
            ignored = ", ".join(s.source for s in subs[1:])
            kept.notes.append(f"{len(subs)} files for this student and assignment: graded {kept.source} "
                              f"(the newest, then the first by name); ignored {ignored}")
        out.append(kept)
    return out


# --------------------------------------------------------------------------- zip input

def _member_problem(member: zipfile.ZipInfo, parts: tuple[str, ...]) -> str:
    """Why one zip member cannot be unpacked, or ''."""
    name = member.filename
    if (member.external_attr >> 16) & 0o170000 == 0o120000:
        return "symbolic link refused (not followed)"
    if any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        return "the name holds control characters"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path refused"
    if ".." in parts:
        return "the path leaves the folder it is unpacked into (zip slip) and is refused"
    longest = max((len(p.encode("utf-8", "surrogateescape")) for p in parts), default=0)
    if longest > NAME_MAX_BYTES or len(name.encode("utf-8", "surrogateescape")) > PATH_MAX_BYTES:
        return (f"the name is {len(name)} characters long; a file or folder name may have at most "
                f"{NAME_MAX_BYTES} bytes and a whole path {PATH_MAX_BYTES}")
    if member.flag_bits & 0x1:
        return "encrypted, cannot be read"
    if member.file_size > MEMBER_MAX_BYTES:
        return f"says it is {member.file_size} bytes; the limit is {MEMBER_MAX_BYTES // (1024 * 1024)} MiB"
    if member.file_size > 1024 * 1024 and member.file_size > ZIP_MAX_RATIO * max(member.compress_size, 1):
        return (f"compressed {member.file_size // max(member.compress_size, 1)}:1 (more than {ZIP_MAX_RATIO}:1, "
                "a zip bomb) and is refused")
    return ""


def _display(name: str) -> str:
    """A member name safe to print: control characters escaped, long names cut in the middle."""
    shown = name.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 for c in name) else name
    return shown if len(shown) <= 100 else f"{shown[:60]}...{shown[-30:]} ({len(name)} characters)"


def _student_of_member(parts: tuple[str, ...]) -> str:
    if not parts:
        return ""
    candidate = parts[0] if len(parts) > 1 else parts[0].removesuffix(".ipynb").split("_")[0]
    return candidate if STUDENT_ID.fullmatch(candidate) else ""


def unpack_zip(archive: Path, into: Path) -> tuple[Path, list[Submission]]:
    """Unpack ``archive`` member by member; return the submissions' folder and the refused members.

    A member is refused, with its reason, when it is a link, an absolute or escaping path (zip
    slip), a name too long for the file system, both a file and a folder (``bob.ipynb`` and
    ``bob.ipynb/notes.txt``), present twice, encrypted, damaged or lying about its size (its CRC or
    length does not match: checked as it is read), larger than :data:`MEMBER_MAX_BYTES`, compressed
    more than :data:`ZIP_MAX_RATIO` to 1, or past :data:`ZIP_MAX_BYTES` written in all (counted on
    the bytes written, not the sizes the zip declares). Every other member is unpacked. A file that
    is no zip, or with more than :data:`ZIP_MAX_FILES` members, is refused as a whole."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UsageError(f"{archive}: not a readable zip ({exc})") from None
    rejects: list[Submission] = []
    with zf:
        members = zf.infolist()
        if len(members) > ZIP_MAX_FILES:
            raise UsageError(f"{archive}: {len(members)} members; more than {ZIP_MAX_FILES} is not a class's submissions")

        def reject(member_name: str, parts: tuple[str, ...], why: str) -> None:
            rejects.append(Submission(_student_of_member(parts), None, None, why, source=_display(member_name)))

        planned = []
        for member in members:
            parts = tuple(p for p in member.filename.replace("\\", "/").split("/") if p not in ("", "."))
            if not parts or any(_is_clutter(p) for p in parts[:1]):
                continue
            why = _member_problem(member, parts)
            if why:
                reject(member.filename, parts, why)
            else:
                planned.append((member, parts))
        files = [parts for member, parts in planned if not member.is_dir()]
        counts: dict[tuple[str, ...], int] = {}
        for parts in files:
            counts[parts] = counts.get(parts, 0) + 1
        folders = {parts[:i] for member, parts in planned for i in range(1, len(parts) + (member.is_dir()))}
        file_set = set(files)
        written = 0
        for member, parts in planned:
            if not member.is_dir() and parts in folders:
                reject(member.filename, parts, f"{'/'.join(parts)[:80]} is both a file and a folder in the zip")
                continue
            clash = next((parts[:i] for i in range(1, len(parts)) if parts[:i] in file_set), None)
            if clash is not None:
                reject(member.filename, parts, f"lies under {'/'.join(clash)[:80]}, which the zip also holds as a file")
                continue
            if member.is_dir():
                into.joinpath(*parts).mkdir(parents=True, exist_ok=True)
                continue
            if counts[parts] > 1:
                reject(member.filename, parts, f"appears {counts[parts]} times in the zip")
                continue
            if written >= ZIP_MAX_BYTES:
                reject(member.filename, parts, f"not unpacked: the zip's limit of {ZIP_MAX_BYTES // 2**20} MiB "
                                               "in all was reached")
                continue
            target = into.joinpath(*parts)
            try:
                written += _extract_member(zf, member, target, min(MEMBER_MAX_BYTES, ZIP_MAX_BYTES - written))
            except _MemberRefused as exc:
                target.unlink(missing_ok=True)
                reject(member.filename, parts, str(exc))
    return _submissions_root(into), rejects


class _MemberRefused(Exception):
    pass


def _extract_member(zf: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, limit: int) -> int:
    """Copy one member to ``target`` (a new file), at most ``limit`` bytes; return the bytes written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with zf.open(member) as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(1 << 16):
                total += len(chunk)
                if total > limit:
                    raise _MemberRefused(f"larger than the {limit // 2**20} MiB it may unpack to")
                if total > 1024 * 1024 and total > ZIP_MAX_RATIO * max(member.compress_size, 1):
                    raise _MemberRefused(f"compressed more than {ZIP_MAX_RATIO}:1 (a zip bomb) and is refused")
                dst.write(chunk)
        if total != member.file_size:
            raise _MemberRefused(f"lies about its size: it says {member.file_size} bytes and holds {total}")
    except _MemberRefused:
        raise
    except zipfile.BadZipFile as exc:
        raise _MemberRefused(f"damaged, or lies about its size ({exc})") from None
    except (EOFError, zlib.error) as exc:
        raise _MemberRefused(f"damaged, or lies about its size ({type(exc).__name__}: {exc})") from None
    except (RuntimeError, NotImplementedError, ValueError) as exc:
        raise _MemberRefused(f"cannot be read ({exc})") from None
    except OSError as exc:
        raise _MemberRefused(f"cannot be unpacked here ({exc.strerror})") from None
    try:  # the member's time (zip times carry no zone: read as UTC), so "the newest" means something
        stamp = datetime(*member.date_time, tzinfo=timezone.utc).timestamp()
        os.utime(target, (stamp, stamp), follow_symlinks=False)
    except (ValueError, OSError, OverflowError):
        pass
    return total


def _submissions_root(folder: Path) -> Path:
    """Descend through single wrapping folders (``submitted/``, ``downloads/``) to the submissions."""
    known = set(assignments())
    while True:
        entries = [p for p in folder.iterdir() if not _is_clutter(p.name)]
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


def is_batch_csv(header: list[str]) -> bool:
    """A CSV this command wrote (also by an earlier version): its header starts like ours."""
    return header[:3] == CSV_HEADER[:3]


class State:
    """What this batch has recorded as done: one row per (student, assignment), and the refused
    inputs of the last run over each input (zip members, files with no assignment)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=60)
        self.db.execute("""CREATE TABLE IF NOT EXISTS results (
            student TEXT, assignment TEXT, sha256 TEXT, outcome TEXT, score REAL, max_score REAL,
            manual_max REAL, message TEXT, graded_at TEXT, PRIMARY KEY (student, assignment))""")
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(results)")}
        for column in ("note", "source"):  # added after the first release: add them to an older state
            if column not in columns:
                self.db.execute(f"ALTER TABLE results ADD COLUMN {column} TEXT DEFAULT ''")
        self.db.execute("""CREATE TABLE IF NOT EXISTS rejects (
            origin TEXT, source TEXT, student TEXT, reason TEXT, seen_at TEXT, PRIMARY KEY (origin, source))""")
        self.db.commit()

    def done(self, student: str, assignment: str, sha: str) -> bool:
        row = self.db.execute("SELECT sha256, outcome FROM results WHERE student=? AND assignment=?",
                              (student, assignment)).fetchone()
        return bool(row) and row[0] == sha and row[1] in ("graded", "unusable")

    def outcome(self, student: str, assignment: str) -> tuple[str, str]:
        row = self.db.execute("SELECT outcome, message FROM results WHERE student=? AND assignment=?",
                              (student, assignment)).fetchone()
        return (row[0], row[1] or "") if row else ("", "")

    def record(self, student, assignment, sha, outcome, score, max_score, manual_max, message,
               note: str = "", source: str = "") -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO results (student, assignment, sha256, outcome, score, max_score, "
                            "manual_max, message, graded_at, note, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                            (student, assignment, sha, outcome, score, max_score, manual_max, message,
                             time.strftime("%Y-%m-%dT%H:%M:%S"), note, source))

    def set_rejects(self, origin: str, rejects: list[Submission]) -> None:
        """Replace the refused inputs recorded for ``origin`` (the input folder or zip) by this run's."""
        with self.db:
            self.db.execute("DELETE FROM rejects WHERE origin=?", (origin,))
            self.db.executemany("INSERT OR REPLACE INTO rejects VALUES (?,?,?,?,?)", [
                (origin, r.source, r.student, r.problem, time.strftime("%Y-%m-%dT%H:%M:%S")) for r in rejects])

    def write_csv(self, path: Path) -> None:
        rows = [CSV_HEADER]
        for row in self.db.execute("SELECT student, assignment, outcome, score, max_score, manual_max, message, "
                                   "note, source, graded_at, sha256 FROM results ORDER BY student, assignment"):
            rows.append(["" if v is None else v for v in row])
        for student, source, reason, seen in self.db.execute(
                "SELECT student, source, reason, seen_at FROM rejects ORDER BY student, source"):
            rows.append([student, "", "unusable", "", "", "", reason, "", source, seen, ""])
        write_csv_rows(path, rows)


class WorkspaceLock:
    """One batch at a time per workspace: an exclusive ``flock`` on ``batch.lock``, whose text says
    who holds it (pid, host, start time, command). The kernel drops the lock when its holder dies,
    even by ``kill -9``: the next run takes over such a stale lock and says whose it was. A run that
    finds the lock held waits up to ``wait`` seconds, then raises :class:`WorkspaceBusy` naming the
    holder. (``flock`` is per machine: two hosts sharing a workspace over NFS are not told apart.)"""

    def __init__(self, workspace: Path, wait: float = 0.0):
        self.path = workspace / "batch.lock"
        self.wait = wait
        self.fd: int | None = None
        self.took_over: dict | None = None

    @staticmethod
    def describe(holder: dict) -> str:
        if not holder:
            return "a batch that has not written its details yet"
        return (f"pid {holder.get('pid')} on host {holder.get('host')}, started {holder.get('started')} "
                f"({holder.get('command', '')})")

    def _read(self) -> dict:
        try:
            text = os.pread(self.fd, 4096, 0).decode("utf-8", "replace")
            return json.loads(text) if text.strip() else {}
        except (OSError, ValueError):
            return {}

    def __enter__(self) -> "WorkspaceLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self._read()
                    os.close(self.fd)
                    self.fd = None
                    raise WorkspaceBusy(
                        f"{self.path.parent} is in use by another batch: {self.describe(holder)}. Wait for it to "
                        f"finish (or pass --wait SECONDS); the lock is {self.path}") from None
                time.sleep(0.2)
        previous = self._read()
        if previous:  # left by a run that died without unlocking (the kernel released its flock)
            self.took_over = previous
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "command": " ".join(sys.argv)[:300]}
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(info).encode(), 0)
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)  # empty: "nobody holds it" (the file stays, unlinking would race)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


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

    def save(self, student: str, report: GradeReport, notebook, timestamp: datetime | None) -> None:
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
<html><head><meta charset="utf-8"><meta name="generator" content="{FEEDBACK_GENERATOR}"><title>Feedback: {esc(report.assignment)}</title>
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
    unusable: list = field(default_factory=list)   # (key, source, why)
    faults: list = field(default_factory=list)     # (key, why)
    notes: list = field(default_factory=list)      # (key, note): duplicates, timestamps, feedback not written
    lock_note: str = ""
    seconds: float = 0.0
    cluster: dict = field(default_factory=dict)    # with --scheduler: autograde.cluster's stats (per worker)

    @property
    def exit_status(self) -> int:
        if self.faults:
            return EXIT_FAULTS
        return EXIT_SOME_UNUSABLE if self.unusable else EXIT_OK


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
              limits: Limits | None = None, wait: float = 0.0, scheduler: str | None = None) -> Summary:
    """Grade every submission in ``source`` that is new or changed; see the module's docstring."""
    started = time.monotonic()
    workspace = Path(os.path.abspath(workspace or REPO_ROOT / "grading"))  # nbgrader changes directory: no relative URL
    csv_path = csv_path or workspace / "grades.csv"
    db_url = db_url or f"sqlite:///{workspace / 'gradebook.db'}"
    summary = Summary()
    if not (source.is_dir() or (source.is_file() and source.suffix == ".zip")):
        raise UsageError(f"{source}: not a folder or a .zip of submissions")
    refuse_foreign_csv(csv_path, is_batch_csv, "`autograde batch`")
    with WorkspaceLock(workspace, wait) as lock, tempfile.TemporaryDirectory(prefix="autograde-batch-") as tmp:
        if lock.took_over:
            summary.lock_note = f"took over the lock left by {WorkspaceLock.describe(lock.took_over)}, no longer running"
        origin = str(source.resolve())
        rejects: list[Submission] = []
        if source.is_file():
            root, rejects = unpack_zip(source, Path(tmp) / "unpacked")
        else:
            root = source
        staged = Path(tmp) / "staged"  # each submission's bytes, read once: what is hashed is what is graded
        staged.mkdir()
        subs = discover(root, assignment, staged)
        state = State(workspace / "batch-state.db")
        gradebook = Gradebook(db_url)
        jobs, job_subs = [], []
        for sub in subs:
            if sub.problem and sub.assignment is None:
                rejects.append(sub)
                continue
            sha = sub.sha
            if sub.problem:
                summary.unusable.append((sub.key, sub.source, sub.problem))
                state.record(sub.student, sub.assignment, sha, "unusable", None, None, None, sub.problem,
                             "; ".join(sub.notes), sub.source)
                continue
            if state.done(sub.student, sub.assignment, sha):
                summary.unchanged += 1
                outcome, message = state.outcome(sub.student, sub.assignment)
                if outcome == "unusable":  # still unusable: say so again (and in the exit status)
                    summary.unusable.append((sub.key, sub.source, f"{message} (unchanged since the last run)"))
                continue
            jobs.append((sub.staged, sub.assignment))
            job_subs.append((sub, sha, sub.staged))
        for r in rejects:
            summary.unusable.append((r.key, r.source, r.problem))
        state.set_rejects(origin, rejects)
        state.write_csv(csv_path)
        total = len(jobs)
        _progress(0, total, summary, started)
        if scheduler is None:
            graded = iter_graded(jobs, workers, limits)
        else:  # a Dask cluster grades; this process still writes everything (autograde/cluster.py)
            from autograde.cluster import iter_graded_on_cluster

            graded = iter_graded_on_cluster(jobs, scheduler, limits, workers=workers, stats=summary.cluster)
        csv_written = time.monotonic()
        for count, (index, result) in enumerate(_with_one_retry(graded, jobs, limits), start=1):
            sub, sha, copy = job_subs[index]
            if isinstance(result, GradeReport) and result.retry:  # too busy twice: the next run grades it
                summary.faults.append((sub.key, "not graded: the machine was too busy (twice)"))
            elif isinstance(result, GradeReport):
                _save_result(sub, sha, result, gradebook, state, workspace, feedback_dir, summary)
                summary.graded += 1
                if scheduler is not None and not result.isolation.startswith("full"):
                    worker = summary.cluster.get("worker_of", {}).get(index, "a Dask worker")
                    summary.notes.append((sub.key, f"graded with isolation: {result.isolation} on {worker} (not root there)"))
            elif isinstance(result, UsageError):
                why = str(result).replace(str(copy), sub.source)
                summary.unusable.append((sub.key, sub.source, why))
                state.record(sub.student, sub.assignment, sha, "unusable", None, None, None, why,
                             "; ".join(sub.notes), sub.source)
            else:  # a fault of the grader: not recorded as done, so the next run retries it
                summary.faults.append((sub.key, str(result)))
            if time.monotonic() - csv_written > CSV_EVERY_S:  # the state is the record; the CSV follows it
                state.write_csv(csv_path)
                csv_written = time.monotonic()
            _progress(count, total, summary, started, final=count == total)
        for sub in subs:
            summary.notes += [(sub.key, note) for note in sub.notes]
        state.write_csv(csv_path)
        gradebook.close()
    summary.seconds = time.monotonic() - started
    return summary


def _with_one_retry(graded, jobs: list, limits: Limits | None):
    """``graded``'s ``(index, result)`` pairs, except that a report marked ``retry`` (not graded: the
    machine was too busy to tell) is held back, and each such job is graded once more at the end, on
    one local worker (less load than the first round). A second ``retry`` is passed on as it is."""
    busy = []
    for index, result in graded:
        if isinstance(result, GradeReport) and result.retry:
            busy.append(index)
            continue
        yield index, result
    if busy:
        for position, result in iter_graded([jobs[i] for i in busy], 1, limits):
            yield busy[position], result


def _write_feedback(path: Path, page: str) -> str:
    """Write a feedback page unless a file that this command did not write is there; return a note."""
    if os.path.lexists(path):
        try:
            ours = f'name="generator" content="{FEEDBACK_GENERATOR}"' in read_no_follow(path).decode("utf-8", "replace")
        except UsageError:
            ours = False
        if not ours:
            return f"feedback page not written: {path} exists and was not written by `autograde batch`"
    _atomic_write(path, page.encode())
    return ""


def _save_result(sub: Submission, sha: str, report: GradeReport, gradebook: Gradebook, state: State,
                 workspace: Path, feedback_dir: Path | None, summary: Summary) -> None:
    nb = autograded_notebook(report)
    # formgrader lists what is in submitted/: a flat folder or a zip is copied there, as nbgrader's
    # `collect` would have done, so the instructor sees each submission, its time and its grade.
    submitted = workspace / "submitted" / sub.student / report.assignment
    if sub.path is None or sub.path.parent.resolve() != submitted.resolve():
        _atomic_write(submitted / f"{report.assignment}.ipynb", sub.content())
        if sub.timestamp is not None:
            _atomic_write(submitted / "timestamp.txt", f"{sub.timestamp.isoformat(sep=' ')} UTC".encode())
        elif os.path.lexists(submitted / "timestamp.txt"):
            (submitted / "timestamp.txt").unlink()  # an earlier run's time is not this submission's
    target = workspace / "autograded" / sub.student / report.assignment / f"{report.assignment}.ipynb"
    _atomic_write(target, nbformat.writes(nb).encode())
    # nbgrader's autograde keeps the submission's timestamp.txt and submission_secret.txt beside the
    # autograded notebook: `nbgrader generate_feedback` and `release_feedback` need them there (the
    # released feedback's name is made from them, so that only the student who submitted finds it).
    for name in ("timestamp.txt", "submission_secret.txt"):
        try:
            _atomic_write(target.parent / name, read_no_follow(submitted / name, 4096))
        except UsageError:
            if os.path.lexists(target.parent / name):
                (target.parent / name).unlink()
    gradebook.save(sub.student, report, nb, sub.timestamp)
    if feedback_dir is not None:
        note = _write_feedback(feedback_dir / sub.student / f"{report.assignment}.html",
                               feedback_html(sub.student, report))
        if note:
            sub.notes.append(note)
    message = "; ".join(f"{t.id}: {t.status}" for t in report.tests if t.status != "pass")
    state.record(sub.student, report.assignment, sha, "graded", report.score, report.max_score,
                 report.manual_max, message, "; ".join(sub.notes), sub.source)


def print_summary(summary: Summary) -> None:
    print(f"graded {summary.graded}, unchanged since last run {summary.unchanged}, "
          f"unusable {len(summary.unusable)}, grader faults {len(summary.faults)}, in {summary.seconds:.1f} s")
    if summary.lock_note:
        print(f"  note      {summary.lock_note}")
    for key, source, why in summary.unusable:
        why = why.removeprefix(f"{source}: ")
        print(f"  unusable  {source}: {why}" if key == "?/?" else f"  unusable  {key} ({source}): {why}")
    for key, note in summary.notes:
        print(f"  note      {key}: {note}")
    for key, why in summary.faults:
        print(f"  fault     {key}: {why} (will be retried on the next run)")
    if summary.cluster:
        from autograde.cluster import describe_cluster

        for line in describe_cluster(summary.cluster):
            print(line)
