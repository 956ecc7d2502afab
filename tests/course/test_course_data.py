"""Tests for course.data and the data/ folder: every file is in the manifest with the right hash,
tampering is caught, and names cannot escape the folder."""

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from course import data
from course.data import DataIntegrityError, data_path, load_csv, verify

REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
NOT_DATA = {"manifest.json", "README.md"}  # files in data/ that describe the data


def is_data_file(path: Path) -> bool:
    """True for a file in data/ that the manifest must list (not the docs, scripts or caches)."""
    relative = path.relative_to(REPO_DATA_DIR)
    if path.name in NOT_DATA and len(relative.parts) == 1:
        return False
    if relative.parts[0] == "scripts" or path.suffix == ".py":
        return False
    return "__pycache__" not in relative.parts and not path.name.startswith(".")


def repo_data_files() -> list[str]:
    """Names (relative, with /) of every data file in the repository's data/ folder."""
    return sorted(
        path.relative_to(REPO_DATA_DIR).as_posix()
        for path in REPO_DATA_DIR.rglob("*")
        if path.is_file() and is_data_file(path)
    )


def repo_manifest() -> dict:
    with (REPO_DATA_DIR / "manifest.json").open(encoding="utf-8") as manifest_file:
        return json.load(manifest_file)


@pytest.fixture(autouse=True)
def no_data_dir_override(monkeypatch):
    """Run every test against the repository's data/ unless the test sets COURSE_DATA_DIR."""
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)


def test_data_dir_is_the_repository_data_folder():
    """Check that DATA_DIR is the top-level data/ folder of this repository."""
    assert data.DATA_DIR == REPO_DATA_DIR
    assert data.data_dir() == REPO_DATA_DIR


def test_every_data_file_is_in_the_manifest_with_its_hash():
    """Check that each file in data/ has a manifest entry whose sha256 matches the file."""
    manifest = repo_manifest()
    files = repo_data_files()
    assert files, "data/ holds no data files"
    for name in files:
        assert name in manifest, f"data/{name} is not listed in data/manifest.json"
        actual = hashlib.sha256((REPO_DATA_DIR / name).read_bytes()).hexdigest()
        assert manifest[name]["sha256"] == actual, (
            f"data/{name}: manifest sha256 {manifest[name]['sha256']}, file's sha256 {actual}"
        )


def test_every_manifest_entry_exists_and_is_complete():
    """Check that each manifest entry names an existing file and says its source and maker."""
    for name, entry in repo_manifest().items():
        assert (REPO_DATA_DIR / name).is_file(), f"manifest lists data/{name}, which is missing"
        for key in ("sha256", "source", "made_by", "description"):
            assert isinstance(entry.get(key), str) and entry[key].strip(), (
                f"manifest entry {name!r} needs a non-empty {key!r}"
            )
        made_by = entry["made_by"]
        if made_by != "transcribed":
            script = REPO_DATA_DIR.parent / made_by
            assert script.is_file(), f"{name}: made_by names {made_by}, which does not exist"


def test_every_data_file_is_described_in_the_readme():
    """Check that data/README.md has a section for each file in the manifest."""
    readme = (REPO_DATA_DIR / "README.md").read_text(encoding="utf-8")
    for name in repo_manifest():
        assert f"`{name}`" in readme, f"data/README.md does not describe {name}"


def test_verify_accepts_every_listed_file():
    """Check that verify passes each file in the manifest and returns its path."""
    for name in repo_manifest():
        assert verify(name) == REPO_DATA_DIR / name


def copy_data_dir(tmp_path: Path) -> Path:
    """Copy data/ into a temporary folder and return it."""
    copy = tmp_path / "data"
    shutil.copytree(REPO_DATA_DIR, copy)
    return copy


def test_verify_detects_a_changed_file(tmp_path, monkeypatch):
    """Check that one changed number in a copy of the data is refused, naming both hashes."""
    copy = copy_data_dir(tmp_path)
    csv = copy / "latency_numbers.csv"
    original = csv.read_text(encoding="utf-8")
    csv.write_text(original.replace("Disk seek,10000000", "Disk seek,1"), encoding="utf-8")
    monkeypatch.setenv("COURSE_DATA_DIR", str(copy))
    expected = repo_manifest()["latency_numbers.csv"]["sha256"]
    actual = hashlib.sha256(csv.read_bytes()).hexdigest()
    assert actual != expected, "the test failed to change the file"
    with pytest.raises(DataIntegrityError) as caught:
        verify("latency_numbers.csv")
    assert expected in str(caught.value) and actual in str(caught.value)
    with pytest.raises(DataIntegrityError):
        load_csv("latency_numbers.csv")
    assert isinstance(caught.value, ValueError)


def test_verify_detects_changed_line_endings(tmp_path, monkeypatch):
    """Check that a copy with Windows line endings (CRLF) does not pass as the original."""
    copy = copy_data_dir(tmp_path)
    csv = copy / "latency_numbers.csv"
    csv.write_bytes(csv.read_bytes().replace(b"\n", b"\r\n"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(copy))
    with pytest.raises(DataIntegrityError):
        verify("latency_numbers.csv")


def test_override_folder_is_used_and_unmodified_copy_passes(tmp_path, monkeypatch):
    """Check that COURSE_DATA_DIR is honoured and an exact copy verifies."""
    copy = copy_data_dir(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", str(copy))
    assert data.data_dir() == copy.resolve()
    assert verify("latency_numbers.csv") == copy.resolve() / "latency_numbers.csv"


def test_a_file_missing_from_the_manifest_is_refused(tmp_path, monkeypatch):
    """Check that a file the manifest does not list cannot be verified."""
    copy = copy_data_dir(tmp_path)
    (copy / "extra.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    monkeypatch.setenv("COURSE_DATA_DIR", str(copy))
    with pytest.raises(DataIntegrityError, match="extra.csv"):
        verify("extra.csv")


def test_missing_file_names_the_file_the_folder_and_a_fix(tmp_path, monkeypatch):
    """Check the FileNotFoundError message for a missing data file."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError) as caught:
        data_path("no_such_file.csv")
    message = str(caught.value)
    assert "no_such_file.csv" in message
    assert str(tmp_path.resolve()) in message
    assert "COURSE_DATA_DIR" in message and "git" in message


@pytest.mark.parametrize(
    "name", ["../pyproject.toml", "../../etc/passwd", "sub/../../x", "/etc/passwd"]
)
def test_names_that_escape_the_data_folder_are_refused(name):
    """Check that a name leading outside data/ raises ValueError, even if that file exists."""
    with pytest.raises(ValueError):
        data_path(name)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_empty_names_are_refused(name):
    """Check that an empty or missing name raises ValueError."""
    with pytest.raises(ValueError):
        data_path(name)


def test_load_csv_reads_the_file_and_passes_options_to_pandas():
    """Check that load_csv returns the file's table and forwards keyword arguments."""
    frame = load_csv("latency_numbers.csv")
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["operation", "latency_ns", "year", "source"]
    only_two = load_csv("latency_numbers.csv", usecols=["operation", "latency_ns"], nrows=2)
    assert only_two.shape == (2, 2)
