"""``python -m autograde roster FILE.csv``: a class roster into nbgrader's gradebook.

The file is a CSV in UTF-8 (a byte-order mark, as Excel writes, is fine) with a header row naming
four columns, in any order: the student ``id`` (also ``student_id``, ``username``), ``first_name``
(``first name``, ``given name``), ``last_name`` (``last name``, ``surname``, ``family name``) and
``email``. Other columns are ignored. Every row is checked before anything is written; any problem
stops the import with every error listed by line number, and the gradebook is left as it was.

- an id must be a usable student id (``autograde.batch.STUDENT_ID``, matched whole): the id the
  batch reads from file or folder names, and the one formgrader shows;
- names may be empty but not hold control characters, and are at most 100 characters;
- an email must look like one (``local@domain.tld``, no spaces) and is required: Moodle's grade
  import finds students by email (see ``autograde.exports``); it is kept as written, because Moodle
  compares emails case-sensitively;
- an id or an email may appear once.

Importing is idempotent: a student already in the gradebook is updated, a new one added, and the
same file imported twice changes nothing the second time. Students in the gradebook whom the roster
does not list are kept (they may have grades) and named in the report. Every export reads names
and emails from the gradebook, so this is what formgrader and the LMS files show instead of
"None, None".
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograde.layout import UsageError, put_environment_on_path

COLUMNS = {
    "id": ("id", "student_id", "student id", "username", "user id"),
    "first_name": ("first_name", "first name", "firstname", "given name", "given_name"),
    "last_name": ("last_name", "last name", "lastname", "surname", "family name", "family_name"),
    "email": ("email", "e-mail", "email address", "mail"),
}
EMAIL = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"'.]+")
NAME_MAX = 100
ROSTER_MAX_BYTES = 10 * 1024 * 1024


@dataclass
class RosterEntry:
    id: str
    first_name: str
    last_name: str
    email: str
    line: int


@dataclass
class RosterResult:
    path: Path
    added: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    not_in_roster: list = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"roster {self.path}: {len(self.added)} added, {len(self.updated)} updated, "
                 f"{len(self.unchanged)} unchanged"]
        if self.not_in_roster:
            lines.append(f"in the gradebook but not in the roster (kept): {', '.join(self.not_in_roster)}")
        return "\n".join(lines)


def _header_map(header: list[str], path: Path) -> dict[str, int]:
    normal = [h.strip().lstrip("\ufeff").strip().lower() for h in header]
    found, missing = {}, []
    for column, names in COLUMNS.items():
        where = [i for i, h in enumerate(normal) if h in names]
        if len(where) > 1:
            raise UsageError(f"{path} line 1: more than one column means {column} "
                             f"({', '.join(header[i] for i in where)})")
        if where:
            found[column] = where[0]
        else:
            missing.append(column)
    if missing:
        raise UsageError(f"{path} line 1: the header must name the columns id, first_name, last_name, email; "
                         f"missing: {', '.join(missing)} (the header was {','.join(header)[:120]!r})")
    return found


def read_roster(path: Path) -> list[RosterEntry]:
    """The roster's rows, all validated; raise UsageError listing every problem with its line."""
    from autograde.batch import STUDENT_ID

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > ROSTER_MAX_BYTES:
        raise UsageError(f"{path}: larger than {ROSTER_MAX_BYTES // 2**20} MiB; not a class roster")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UsageError(f"{path} line {line}: not UTF-8 text (save the roster as 'CSV UTF-8')") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise UsageError(f"{path} line {reader.line_num}: not valid CSV ({exc})") from None
    if not rows:
        raise UsageError(f"{path}: empty; expected a header row, then one row per student")
    header = rows[0][1]
    where = _header_map(header, path)
    errors: list[str] = []
    entries: list[RosterEntry] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(where.values()):
            errors.append(f"line {line}: {len(row)} columns, the header has {len(header)}")
            continue
        sid, first, last, email = (row[where[c]] for c in ("id", "first_name", "last_name", "email"))
        # spaces around a cell (a spreadsheet's padding) go; a newline or tab stays, and fails the id's full match
        sid, email, first, last = sid.strip(" "), email.strip(" "), first.strip(" "), last.strip(" ")
        if not STUDENT_ID.fullmatch(sid):
            errors.append(f"line {line}: id {sid[:70]!r} is not a usable student id (letters, digits, '.', '-', '_'; "
                          "starting with a letter or digit; at most 64)")
        for what, name in (("first_name", first), ("last_name", last)):
            if len(name) > NAME_MAX or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
                errors.append(f"line {line}: {what} {name[:40]!r} has control characters or more than "
                              f"{NAME_MAX} characters")
        if not EMAIL.fullmatch(email):
            errors.append(f"line {line}: email {email[:70]!r} is not an email address (Moodle finds students by email)")
        for column, value in (("id", sid), ("email", email)):
            if not value:
                continue
            earlier = first_line.setdefault((column, value), line)
            if earlier != line:
                errors.append(f"line {line}: {column} {value[:70]!r} is already on line {earlier}")
        entries.append(RosterEntry(sid, first, last, email, line))
    if errors:
        shown = errors[:50] + ([f"... and {len(errors) - 50} more"] if len(errors) > 50 else [])
        raise UsageError(f"{path}: nothing imported, {len(errors)} problem(s):\n  " + "\n  ".join(shown))
    if not entries:
        raise UsageError(f"{path}: no students after the header row")
    return entries


def import_roster(path: Path, gradebook_path: Path) -> RosterResult:
    """Validate the roster, then add or update every student in one transaction."""
    from nbgrader.api import Gradebook

    put_environment_on_path()
    entries = read_roster(path)
    result = RosterResult(path)
    gradebook_path.parent.mkdir(parents=True, exist_ok=True)
    with Gradebook(f"sqlite:///{gradebook_path}") as gb:
        existing = {s.id: s for s in gb.students}
        for e in entries:
            wanted = dict(first_name=e.first_name or None, last_name=e.last_name or None, email=e.email)
            student = existing.get(e.id)
            if student is None:
                gb.db.add(_new_student(e.id, wanted))
                result.added.append(e.id)
            elif any(getattr(student, k) != v for k, v in wanted.items()):
                for k, v in wanted.items():
                    setattr(student, k, v)
                result.updated.append(e.id)
            else:
                result.unchanged.append(e.id)
        gb.db.commit()
        listed = {e.id for e in entries}
        result.not_in_roster = sorted(sid for sid in existing if sid not in listed)
    return result


def _new_student(student_id: str, fields: dict):
    from nbgrader.api import Student

    return Student(id=student_id, **fields)
