"""Attacks on the batch grader's input (issue 18, items 5, 6 and 7): what a class's zip or folder can
hold so that one submission stops everyone, borrows a time, writes a formula into the grades, or is
graded twice. Every crafted input is built here, in tmp_path.

Each test names the input, what the grader must do, and what it did. The grading itself is module
01's (full marks 14): alice and dave are honest and must keep 14 whatever sits next to them.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import struct
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from autograde.batch import EXIT_SOME_UNUSABLE, EXIT_USAGE, WorkspaceLock, run_batch
from autograde.isolation import Limits
from autograde.layout import release_notebook, source_notebook

ASSIGNMENT = "01-requirements-estimation"
NB = f"{ASSIGNMENT}.ipynb"
FULL = "14.0"
SOLUTION = source_notebook(ASSIGNMENT).read_bytes()
BLANK = release_notebook(ASSIGNMENT).read_bytes()
LIMITS = Limits(cell_seconds=20, notebook_seconds=120)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograde", *args], capture_output=True, text=True,
                          timeout=timeout)


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def by_source(rows: list[dict]) -> dict[str, dict]:
    return {row["source"]: row for row in rows}


def add(zf: zipfile.ZipFile, name: str, data: bytes, when=(2026, 12, 1, 10, 0, 0), link: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    if link:
        info.external_attr = (0o120777 << 16)
    zf.writestr(info, data)


def lie_about_size(archive: Path, name: str, claimed: int) -> None:
    """Rewrite the uncompressed size that the zip records for ``name`` (local header and central directory)."""
    raw = bytearray(archive.read_bytes())
    encoded = name.encode()
    for signature, size_at, name_len_at, name_at in ((b"PK\x01\x02", 24, 28, 46), (b"PK\x03\x04", 22, 26, 30)):
        i = raw.find(signature)
        while i != -1:
            n = struct.unpack_from("<H", raw, i + name_len_at)[0]
            if raw[i + name_at:i + name_at + n] == encoded:
                struct.pack_into("<I", raw, i + size_at, claimed)
            i = raw.find(signature, i + 4)
    archive.write_bytes(bytes(raw))


# --------------------------------------------------------------------------- item 5 and 6: a poisoned zip

@pytest.fixture(scope="module")
def poisoned_zip(tmp_path_factory):
    """One zip with every bad member the issue names, between two honest students."""
    root = tmp_path_factory.mktemp("poisoned")
    archive = root / "class.zip"
    long_name = "x" * 300 + ".ipynb"
    with zipfile.ZipFile(archive, "w") as zf:
        add(zf, f"alice_{NB}", SOLUTION)
        add(zf, "bob.ipynb", SOLUTION)                       # a file ...
        add(zf, "bob.ipynb/notes.txt", b"and a folder")     # ... and a folder of the same name
        add(zf, long_name, SOLUTION)                        # a 300-character member name
        add(zf, "liar.ipynb", SOLUTION)                     # says it is 10 bytes (rewritten below)
        add(zf, "../escaped.ipynb", SOLUTION)               # zip slip
        add(zf, "/etc/abs.ipynb", SOLUTION)                 # absolute path
        add(zf, "bomb.ipynb", b"\0" * (20 * 1024 * 1024))   # 20 MiB of zeros: about 1000:1
        add(zf, "linked.ipynb", b"/etc/passwd", link=True)  # a symbolic link
        add(zf, "=HYPERLINK(1).ipynb", SOLUTION)            # a formula for a name
        add(zf, "@SUM(1+1).ipynb", SOLUTION)
        add(zf, "dave_old.ipynb", BLANK, when=(2026, 12, 1, 9, 0, 0))     # two files for dave:
        add(zf, "dave_new.ipynb", SOLUTION, when=(2026, 12, 1, 11, 0, 0))  # the newer must be graded
    lie_about_size(archive, "liar.ipynb", 10)
    workspace = root / "ws"
    result = cli("batch", str(archive), "--workers", "2", "--feedback", "--workspace", str(workspace))
    return dict(result=result, rows=read_rows(workspace / "grades.csv"), csv=workspace / "grades.csv",
                long_name=long_name, root=root, workspace=workspace)


def test_honest_students_beside_a_poisoned_zip_are_graded(poisoned_zip):
    rows = [r for r in poisoned_zip["rows"] if r["outcome"] == "graded"]
    got = {r["student"]: r["score"] for r in rows}
    assert got == {"alice": FULL, "dave": FULL}, (
        f"input: class.zip with 11 bad members; expected alice and dave graded 14; got {got}\n"
        f"stdout: {poisoned_zip['result'].stdout}\nstderr: {poisoned_zip['result'].stderr[-2000:]}")


def test_feedback_goes_under_the_workspace_by_default(poisoned_zip):
    pages = sorted(p.relative_to(poisoned_zip["workspace"]).as_posix()
                   for p in poisoned_zip["workspace"].rglob("*.html"))
    assert pages == [f"batch-feedback/alice/{ASSIGNMENT}.html", f"batch-feedback/dave/{ASSIGNMENT}.html"], pages


def test_the_exit_status_says_some_unusable_not_a_crash(poisoned_zip):
    result = poisoned_zip["result"]
    assert result.returncode == EXIT_SOME_UNUSABLE, (
        f"input: class.zip with bad members; expected exit {EXIT_SOME_UNUSABLE} (completed, some unusable); "
        f"got {result.returncode}\nstderr: {result.stderr[-2000:]}")
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize("member, reason", [
    ("bob.ipynb", "both a file and a folder"),
    ("bob.ipynb/notes.txt", "which the zip also holds as a file"),
    ("liar.ipynb", "lies about its size"),
    ("../escaped.ipynb", "zip slip"),
    ("/etc/abs.ipynb", "absolute path"),
    ("bomb.ipynb", "zip bomb"),
    ("linked.ipynb", "symbolic link refused"),
])
def test_every_bad_member_is_reported_with_its_reason(poisoned_zip, member, reason):
    rows = by_source(poisoned_zip["rows"])
    row = rows.get(member)
    assert row is not None and row["outcome"] == "unusable" and reason in row["message"], (
        f"input: zip member {member!r}; expected an unusable row saying {reason!r}; got {row}")
    assert member in poisoned_zip["result"].stdout and reason in poisoned_zip["result"].stdout, (
        f"the summary must name {member!r} and why ({reason!r}); got:\n{poisoned_zip['result'].stdout}")


def test_a_300_character_name_is_reported_not_fatal(poisoned_zip):
    rows = [r for r in poisoned_zip["rows"] if r["source"].endswith("(306 characters)")]
    assert len(rows) == 1 and rows[0]["outcome"] == "unusable" and "at most 255 bytes" in rows[0]["message"], (
        f"input: a member named 'x' * 300 + '.ipynb'; expected one unusable row naming the limit; got {rows}")


def test_nothing_escaped_the_unpacking_folder(poisoned_zip):
    assert not (poisoned_zip["root"] / "escaped.ipynb").exists()
    assert not Path("/etc/abs.ipynb").exists()


def test_no_csv_cell_can_run_as_a_formula(poisoned_zip):
    text = poisoned_zip["csv"].read_text(encoding="utf-8")
    with open(poisoned_zip["csv"], newline="", encoding="utf-8") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    dangerous = [c for c in cells if c.startswith(FORMULA_START)]
    assert not dangerous, f"input: members '=HYPERLINK(1).ipynb' and '@SUM(1+1).ipynb'; formula cells: {dangerous}"
    assert "'=HYPERLINK(1).ipynb" in text and "'@SUM(1+1).ipynb" in text, (
        "the names must still be there, neutralised with a leading quote")


def test_two_files_for_one_student_grade_the_newest_and_say_so(poisoned_zip):
    dave = [r for r in poisoned_zip["rows"] if r["student"] == "dave"]
    assert len(dave) == 1 and dave[0]["source"] == "dave_new.ipynb", (
        f"input: dave_old.ipynb (blank, 09:00) and dave_new.ipynb (solution, 11:00); expected dave_new graded; got {dave}")
    assert "ignored dave_old.ipynb" in dave[0]["note"], dave[0]
    assert "ignored dave_old.ipynb" in poisoned_zip["result"].stdout, poisoned_zip["result"].stdout


# --------------------------------------------------------------------------- item 6 and 7: a flat folder

@pytest.fixture(scope="module")
def flat_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("flat")
    folder = root / "downloads"
    folder.mkdir()
    (folder / f"alice_{NB}").write_bytes(SOLUTION)
    (folder / f"carol\n_{NB}").write_bytes(SOLUTION)                # a student id with a trailing newline
    (folder / "mallory.ipynb").symlink_to(source_notebook(ASSIGNMENT))
    late = folder / "frank" / ASSIGNMENT                             # nbgrader's layout, late ...
    late.mkdir(parents=True)
    (late / NB).write_bytes(SOLUTION)
    early = root / "early.txt"
    early.write_text("2020-01-01 00:00:00.000000 UTC")
    (late / "timestamp.txt").symlink_to(early)                      # ... borrowing an early time
    workspace = root / "ws"
    first = run_batch(folder, workers=2, workspace=workspace, limits=LIMITS)
    second = run_batch(folder, workers=2, workspace=workspace, limits=LIMITS)
    (folder / f"alice_{NB}").write_bytes(BLANK)                      # alice resubmits
    third = run_batch(folder, workers=2, workspace=workspace, limits=LIMITS)
    return dict(folder=folder, workspace=workspace, first=first, second=second, third=third)


def test_a_student_id_with_a_trailing_newline_is_refused(flat_class):
    rows = read_rows(flat_class["workspace"] / "grades.csv")
    carol = [r for r in rows if "carol" in r["source"]]
    assert len(carol) == 1 and carol[0]["outcome"] == "unusable" and carol[0]["student"] == "", (
        f"input: file 'carol\\n_{NB}'; expected unusable, no student id; got {carol}")
    assert "cannot read a student id" in carol[0]["message"]


def test_a_linked_notebook_is_refused(flat_class):
    rows = by_source(read_rows(flat_class["workspace"] / "grades.csv"))
    assert rows["mallory.ipynb"]["outcome"] == "unusable" and "symbolic link" in rows["mallory.ipynb"]["message"]


def test_a_linked_timestamp_is_not_followed(flat_class):
    from nbgrader.api import Gradebook

    rows = {r["student"]: r for r in read_rows(flat_class["workspace"] / "grades.csv")}
    assert rows["frank"]["score"] == FULL and "timestamp.txt is a symbolic link" in rows["frank"]["note"], rows["frank"]
    with Gradebook(f"sqlite:///{flat_class['workspace'] / 'gradebook.db'}") as gb:
        stamp = gb.find_submission(ASSIGNMENT, "frank").timestamp
    assert stamp is None or stamp > datetime(2021, 1, 1), (
        f"input: frank's timestamp.txt links to a file saying 2020-01-01; expected no time recorded; got {stamp}")
    notes = [n for k, n in flat_class["first"].notes if k.startswith("frank/")]
    assert any("recorded as missing" in n for n in notes), flat_class["first"].notes


def test_a_rerun_of_a_flat_folder_grades_only_what_changed(flat_class):
    first, second, third = flat_class["first"], flat_class["second"], flat_class["third"]
    assert first.graded == 2, f"first run: expected alice and frank graded; got {first}"
    assert (second.graded, second.unchanged) == (0, 2), (
        f"input: the same flat folder again; expected graded 0, unchanged 2; got {second.graded}, {second.unchanged}")
    assert (third.graded, third.unchanged) == (1, 1), (
        f"input: alice's file changed; expected graded 1 (alice), unchanged 1; got {third.graded}, {third.unchanged}")
    rows = {r["student"]: r for r in read_rows(flat_class["workspace"] / "grades.csv")}
    assert rows["alice"]["score"] == "0.0", rows["alice"]


# --------------------------------------------------------------------------- item 6: two runs, one workspace

def test_a_second_batch_on_a_busy_workspace_stops_and_names_the_holder(tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    for student in ("amy", "ben"):
        (folder / f"{student}_{NB}").write_bytes(SOLUTION)
    workspace = tmp_path / "ws"
    command = [sys.executable, "-m", "autograde", "batch", str(folder), "--workers", "1", "--workspace", str(workspace)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = workspace / "batch.lock"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.1)
        holder = json.loads(lock.read_text())
        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        out, err = first.communicate(timeout=600)
    assert second.returncode == EXIT_USAGE, (second.returncode, second.stderr)
    assert f"pid {first.pid}" in second.stderr and socket.gethostname() in second.stderr, (
        f"input: a second batch while pid {first.pid} holds the workspace; expected a message naming it; "
        f"got {second.stderr!r}")
    assert holder["pid"] == first.pid
    assert first.returncode == 0, err[-2000:]
    assert "graded 2" in out and "database" not in err.lower(), (out, err[-2000:])


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "batch.lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(),
                                                      "started": "2026-12-07T05:00:00+00:00", "command": "killed"}))
    folder = tmp_path / "empty"
    folder.mkdir()
    summary = run_batch(folder, workers=1, workspace=workspace, limits=LIMITS)
    assert f"pid {dead.pid}" in summary.lock_note and "took over" in summary.lock_note, summary.lock_note
    assert (workspace / "batch.lock").read_text() == "", "the lock must be released (emptied) at the end"


def test_a_held_lock_is_reported_in_process_too(tmp_path):
    from autograde.batch import WorkspaceBusy

    folder = tmp_path / "empty"
    folder.mkdir()
    with WorkspaceLock(tmp_path / "ws"):
        with pytest.raises(WorkspaceBusy, match=f"pid {os.getpid()} on host"):
            # flock is per open file description: a second open in this process conflicts like another process
            run_batch(folder, workers=1, workspace=tmp_path / "ws", limits=LIMITS)


def test_a_batch_told_to_wait_runs_once_the_holder_is_done(tmp_path):
    import threading

    folder = tmp_path / "empty"
    folder.mkdir()
    holder = WorkspaceLock(tmp_path / "ws").__enter__()
    threading.Timer(1.0, holder.__exit__, (None, None, None)).start()
    started = time.monotonic()
    summary = run_batch(folder, workers=1, workspace=tmp_path / "ws", limits=LIMITS, wait=60)
    assert summary.graded == 0 and time.monotonic() - started >= 0.9, "it must have waited for the holder"


def test_a_notebook_directly_in_a_student_folder_is_graded_not_skipped(tmp_path):
    from autograde.batch import discover

    (tmp_path / "subs" / "gus").mkdir(parents=True)
    (tmp_path / "subs" / "gus" / "my-work.ipynb").write_bytes(SOLUTION)
    subs = discover(tmp_path / "subs")
    assert [(s.student, s.assignment, s.problem) for s in subs] == [("gus", ASSIGNMENT, "")], (
        f"input: subs/gus/my-work.ipynb; expected gus's {ASSIGNMENT} found; got {subs}")
