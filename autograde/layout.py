"""Where the course's files are. Every other module asks here instead of building paths."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
RELEASE_DIR = REPO_ROOT / "notebooks"
NBGRADER_CONFIG = REPO_ROOT / "nbgrader_config.py"

# An assignment is a folder NN-slug holding one notebook NN-slug.ipynb.
ASSIGNMENT_NAME = re.compile(r"^\d\d-[a-z0-9]+(-[a-z0-9]+)*$")


# Course files that hold an earlier module's answers, because a later module builds on them: module 16's Raft node
# (course/raftkv.py) is module 06's answer. Such a file is hidden from the learner's code while that module is
# graded (full isolation), and a student bundle never holds both the file and that module (autograde/bundle.py).
COURSE_FILES_WITH_ANSWERS = {"course/raftkv.py": "06-raft"}


def files_hidden_when_grading(assignment: str) -> list[str]:
    """The course files a submission of ``assignment`` may not read: those that hold its answers, and then also
    ``course/__pycache__`` (a compiled copy loads without its source). The cache folder is made if missing, so
    that it is hidden even if a compiled copy is written into it during the grading."""
    hidden = [str(REPO_ROOT / name) for name, answered in COURSE_FILES_WITH_ANSWERS.items() if answered == assignment]
    if hidden:
        cache = REPO_ROOT / "course" / "__pycache__"
        try:
            cache.mkdir(exist_ok=True)
        except OSError:  # a read-only course folder: nothing can be compiled into it either
            pass
        hidden.append(str(cache))
    return hidden


class UsageError(Exception):
    """Unusable input (not a notebook, unknown assignment, ...): exit 2 with this one-line reason."""


def assignments() -> list[str]:
    """Names of all assignments, in course order (the folders of solutions/)."""
    if not SOLUTIONS_DIR.is_dir():
        return []
    return sorted(p.name for p in SOLUTIONS_DIR.iterdir()
                  if p.is_dir() and ASSIGNMENT_NAME.match(p.name) and (p / f"{p.name}.ipynb").is_file())


def source_notebook(assignment: str) -> Path:
    """The instructor source (with solutions and hidden tests) of an assignment."""
    return SOLUTIONS_DIR / assignment / f"{assignment}.ipynb"


def release_notebook(assignment: str) -> Path:
    """The committed student release of an assignment."""
    return RELEASE_DIR / assignment / f"{assignment}.ipynb"


def put_environment_on_path() -> None:
    """nbgrader runs the ``alembic`` and ``jupyter`` executables of this environment by name: make
    sure they are found even when Python was started by its full path without activating it."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
