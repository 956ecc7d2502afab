"""`python -m autograde roster FILE.csv`: validated, all or nothing, idempotent, errors with line numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autograde.layout import UsageError
from autograde.roster import import_roster

GOOD = ("id,first_name,last_name,email\r\n"
        "alice,Alice,Liddell,Alice.Liddell@example.org\r\n"
        "bob,Bob,\"O'Brien, Jr.\",bob@example.org\r\n"
        "chloe,Chloé,Müller,chloe@example.org\r\n")


def students(gradebook: Path) -> dict[str, tuple]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{gradebook}") as gb:
        return {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}


def write(tmp_path: Path, text: str, name: str = "roster.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_roster_fills_names_and_emails_and_a_second_import_changes_nothing(tmp_path):
    gradebook = tmp_path / "ws" / "gradebook.db"
    first = import_roster(write(tmp_path, GOOD), gradebook)
    assert sorted(first.added) == ["alice", "bob", "chloe"] and not first.updated, first
    assert students(gradebook) == {"alice": ("Alice", "Liddell", "Alice.Liddell@example.org"),
                                   "bob": ("Bob", "O'Brien, Jr.", "bob@example.org"),
                                   "chloe": ("Chloé", "Müller", "chloe@example.org")}
    again = import_roster(write(tmp_path, GOOD), gradebook)
    assert (again.added, again.updated, sorted(again.unchanged)) == ([], [], ["alice", "bob", "chloe"]), again
    changed = import_roster(write(tmp_path, GOOD.replace("bob@example.org", "bob@uni.example")), gradebook)
    assert changed.updated == ["bob"] and students(gradebook)["bob"][2] == "bob@uni.example"


def test_other_header_names_a_byte_order_mark_and_extra_columns_are_accepted(tmp_path):
    text = "\ufeffEmail Address,Surname,Given Name,Student ID,Section\nann@example.org,Lee,Ann,ann,A\n"
    gradebook = tmp_path / "gradebook.db"
    import_roster(write(tmp_path, text), gradebook)
    assert students(gradebook) == {"ann": ("Ann", "Lee", "ann@example.org")}


@pytest.mark.parametrize("text, expected", [
    ("id,first_name,last_name\nalice,A,L\n", "line 1: the header must name"),
    ("id,first_name,last_name,email\n-rf,A,L,a@example.org\n", "line 2: id '-rf' is not a usable student id"),
    ('id,first_name,last_name,email\n"bob\n",B,O,b@example.org\n', "line 3: id 'bob\\n' is not a usable"),
    ("id,first_name,last_name,email\nalice,A,L,not-an-email\n", "line 2: email 'not-an-email' is not"),
    ("id,first_name,last_name,email\nalice,A,L,a@example.org\nbob,B,O,b@example.org\nalice,X,Y,x@example.org\n",
     "line 4: id 'alice' is already on line 2"),
    ("id,first_name,last_name,email\nalice,A,L,a@example.org\nbob,B,O,a@example.org\n",
     "line 3: email 'a@example.org' is already on line 2"),
    ("id,first_name,last_name,email\nalice,A\n", "line 2: 2 columns, the header has 4"),
    ("id,first_name,last_name,email\n", "no students after the header row"),
])
def test_every_problem_is_reported_with_its_line_and_nothing_is_imported(tmp_path, text, expected):
    gradebook = tmp_path / "gradebook.db"
    with pytest.raises(UsageError) as caught:
        import_roster(write(tmp_path, text), gradebook)
    assert expected in str(caught.value), f"input {text!r}: expected {expected!r} in {str(caught.value)!r}"
    assert not gradebook.exists() or students(gradebook) == {}, "nothing may be imported"


def test_a_roster_not_in_utf8_is_refused_with_its_line(tmp_path):
    path = write(tmp_path, "id,first_name,last_name,email\nchloe,Chloé,M,c@example.org\n", encoding="latin-1")
    with pytest.raises(UsageError, match="line 2: not UTF-8"):
        import_roster(path, tmp_path / "gradebook.db")


def test_students_missing_from_the_roster_are_kept_and_named(tmp_path):
    gradebook = tmp_path / "gradebook.db"
    import_roster(write(tmp_path, GOOD), gradebook)
    result = import_roster(write(tmp_path, GOOD.split("bob,")[0]), gradebook)
    assert result.not_in_roster == ["bob", "chloe"] and "not in the roster (kept): bob, chloe" in result.describe()
    assert set(students(gradebook)) == {"alice", "bob", "chloe"}


def test_the_command_line(tmp_path):
    good = write(tmp_path, GOOD)
    done = subprocess.run([sys.executable, "-m", "autograde", "roster", str(good), "--workspace", str(tmp_path / "ws")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "3 added, 0 updated, 0 unchanged" in done.stdout, done
    assert "Warning" not in done.stderr and "warn" not in done.stderr.lower(), done.stderr
    bad = write(tmp_path, "id,first_name,last_name,email\nalice,A,L,nope\n", name="bad.csv")
    refused = subprocess.run([sys.executable, "-m", "autograde", "roster", str(bad), "--workspace", str(tmp_path / "ws")],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "line 2: email 'nope'" in refused.stderr, refused
