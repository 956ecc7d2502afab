"""``python -m autograde student-bundle OUT.zip``: what to hand a class.

The release notebooks, the ``course`` package, the data, the set-up files and the verdict helper
that the visible tests import. Not in it: solutions/, the reference answers, tests/, the
grader's workspaces, git history. ``forbidden_content`` is what a test checks the zip against.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from autograde.layout import REPO_ROOT

INCLUDED = ["notebooks", "course", "data", "autograde/__init__.py", "autograde/verdict.py",
            "pyproject.toml", "environment.yml", "Makefile", "LICENSE", "README.md"]
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
