"""``python -m autograde student-bundle OUT.zip``: what to hand a class.

The release notebooks, the ``course`` package, the data, the set-up files, and what the visible
tests import from ``autograde``: the verdict helper and the judges (``autograde/judges/``, property
checks that reveal no solution). Not in it: solutions/, the reference answers
(``autograde/reference/``), tests/, the grader's workspaces, git history. ``FORBIDDEN_CONTENT`` is
what a test checks the zip against; ``tests/autograde/test_bundle.py`` also runs every release
notebook, with the solution's answers put in, from the unzipped bundle alone.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from autograde.layout import REPO_ROOT

INCLUDED = ["notebooks", "course", "data", "autograde/__init__.py", "autograde/verdict.py", "autograde/beside.py",
            "autograde/judges",
            "pyproject.toml", "environment.yml", "Makefile", "jupyter_lab_config.py", "lab-settings",
            "LICENSE", "README.md", "docs"]
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}
FORBIDDEN_CONTENT = ["### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME",
                     "Model answer (instructor only"]


def bundle_files() -> list[Path]:
    files = []
    for name in INCLUDED:
        path = REPO_ROOT / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [p for p in candidates if not SKIPPED_PARTS & set(p.parts) and not p.is_symlink()]
    return files


def write_bundle(out: Path) -> list[str]:
    names = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in bundle_files():
            text = path.read_bytes()
            for marker in FORBIDDEN_CONTENT:
                if marker.encode() in text:
                    raise RuntimeError(f"{path.relative_to(REPO_ROOT)} contains {marker!r}: not for students")
            name = str(Path("system-design-course") / path.relative_to(REPO_ROOT))
            zf.writestr(name, text)
            names.append(name)
    return names
