"""The course's data files, found in one place and checked by hash.

Data files live in the repository's top-level ``data/`` folder (``DATA_DIR``). Set the
environment variable ``COURSE_DATA_DIR`` to use another folder instead, for example a shared,
read-only copy on a JupyterHub; it is read on every call, not only at import.

``data/manifest.json`` lists every data file with its SHA-256 hash, where it came from and what
made it::

    {"latency_numbers.csv": {"sha256": "...", "source": "...", "made_by": "transcribed",
                             "description": "..."}}

``made_by`` is the path of the script that generated the file, or ``"transcribed"`` for a file
typed in by hand from its source. ``verify`` checks a file against its hash and ``load_csv``
verifies before it reads, so a notebook never silently works on a damaged or edited file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported lazily, only by load_csv
    import pandas as pd

DATA_DIR: Path = Path(__file__).resolve().parent.parent / "data"
"""The default data folder: ``data/`` at the top of the repository."""

DATA_DIR_ENV_VAR = "COURSE_DATA_DIR"
MANIFEST_NAME = "manifest.json"
_HASH_CHUNK_BYTES = 1 << 20


class DataIntegrityError(ValueError):
    """A data file does not match ``data/manifest.json`` (wrong hash, or not listed at all)."""


def data_dir() -> Path:
    """Return the data folder in use: ``$COURSE_DATA_DIR`` if that is set, else ``DATA_DIR``."""
    override = os.environ.get(DATA_DIR_ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return DATA_DIR


def data_path(name: str) -> Path:
    """Return the path of the data file ``name`` (relative to the data folder).

    Raises ``ValueError`` if ``name`` is empty, absolute, or would lead outside the data folder
    (such as ``"../secrets.txt"``), and ``FileNotFoundError`` if the file is not there; the
    message names the file, the folder searched and what to do about it.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a data file name must be a non-empty str, got {name!r}")
    folder = data_dir()
    relative = Path(name)
    if relative.is_absolute():
        raise ValueError(
            f"data file name {name!r} is an absolute path; give a name inside the data folder "
            f"{folder}, such as 'latency_numbers.csv'"
        )
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise ValueError(
            f"data file name {name!r} leads outside the data folder {folder}; "
            "give a name inside it, such as 'latency_numbers.csv'"
        )
    if not path.is_file():
        raise FileNotFoundError(
            f"data file {name!r} not found in the data folder {folder}. "
            "The course's data files ship with the repository in its top-level data/ folder: "
            "update your copy of the course (git pull) or restore the file (git checkout -- "
            f"data/{name}). If you keep the data elsewhere, set {DATA_DIR_ENV_VAR} to that folder."
        )
    return path


def read_manifest() -> dict[str, dict[str, Any]]:
    """Return the manifest of the data folder in use (``manifest.json``) as a dict."""
    with data_path(MANIFEST_NAME).open(encoding="utf-8") as manifest_file:
        return json.load(manifest_file)


def sha256_of_file(path: Path) -> str:
    """Return the SHA-256 hex digest of the bytes of the file at ``path``."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as data_file:
        for chunk in iter(lambda: data_file.read(_HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(name: str) -> Path:
    """Check the data file ``name`` against its SHA-256 hash in the manifest; return its path.

    Raises ``DataIntegrityError`` (a ``ValueError``) naming the expected and actual hash if the
    file differs from the one the course was written for, or if the manifest does not list it;
    ``FileNotFoundError`` if the file or the manifest is missing.
    """
    path = data_path(name)
    manifest = read_manifest()
    entry = manifest.get(Path(name).as_posix())
    if entry is None:
        raise DataIntegrityError(
            f"data file {name!r} is not listed in {data_path(MANIFEST_NAME)}, so it cannot be "
            "verified; add an entry with its sha256, source, made_by and description"
        )
    expected = entry["sha256"]
    actual = sha256_of_file(path)
    if actual != expected:
        raise DataIntegrityError(
            f"data file {name!r} at {path} has been changed or damaged: sha256 expected "
            f"{expected} (from the manifest), actual {actual}. Restore the original file "
            f"(git checkout -- data/{name}); if the change is meant, regenerate the file with "
            "the script named in the manifest and update its sha256 there."
        )
    return path


def load_csv(name: str, **read_csv_kwargs: Any) -> pd.DataFrame:
    """Verify the data file ``name`` (see ``verify``), then read it with ``pandas.read_csv``.

    Keyword arguments go to ``pandas.read_csv`` unchanged.
    """
    import pandas as pd

    path = verify(name)
    return pd.read_csv(path, **read_csv_kwargs)
