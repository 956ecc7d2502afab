"""``python -m autograde student-bundle OUT.zip``: what to hand a class.

The release notebooks, the ``course`` package, the data, the learner's set-up files, what the visible
tests import from ``autograde`` (the verdict helper and the judges, property checks that reveal no
solution), and the grader that runs a notebook's visible tests from a terminal. Not in it: solutions/,
the reference answers (``autograde/reference/``), the instructor's commands (release, check, batch),
tests/, the grader's workspaces, git history.

Three files are the learner's own, written from ``autograde/bundle_files/``: ``README.md`` (the learner's
README, not the instructor's, with the list of modules filled in), ``Makefile`` (``make course`` only) and
``autograde/__main__.py``, which makes ``python -m autograde grade NB.ipynb`` run ``autograde.visible``:
the visible tests only, saying so, since the hidden tests run only when the instructor grades.

``FORBIDDEN_CONTENT`` is what every file is checked against; ``tests/autograde/test_bundle.py`` also runs
every release notebook, with the solution's answers put in, from the unzipped bundle alone, and runs every
command the bundle's text tells a learner to run in a fresh virtual environment made from the bundle.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from autograde.layout import ASSIGNMENT_NAME, REPO_ROOT

PREFIX = "system-design-course"
# The grader's modules that grading the visible tests needs (autograde.visible and what it imports).
GRADER = ["autograde/__init__.py", "autograde/verdict.py", "autograde/judges", "autograde/visible.py",
          "autograde/grading.py", "autograde/sandbox.py", "autograde/runner.py", "autograde/zygote.py",
          "autograde/isolation.py", "autograde/notebook.py", "autograde/layout.py", "autograde/beside.py"]
INCLUDED = ["notebooks", "course", "data", *GRADER, "pyproject.toml", "environment.yml", "jupyter_lab_config.py",
            "lab-settings", "LICENSE", "docs/images/learner-validate.png"]
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}
LEARNER_FILES = REPO_ROOT / "autograde" / "bundle_files"
MAIN = '''"""In the student bundle, `python -m autograde grade NB.ipynb` runs the notebook's visible tests only:
the hidden tests run when your instructor grades (see autograde/visible.py)."""
import sys

from autograde.visible import main

sys.exit(main())
'''
FORBIDDEN_CONTENT = ["### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME",
                     "Model answer (instructor only"]
# Where the grader's code names a marker to look for it (never content): these exact lines may hold one.
MARKER_DEFINITIONS = {"autograde/notebook.py": ['HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"']}


def bundle_files() -> list[Path]:
    files = []
    for name in INCLUDED:
        path = REPO_ROOT / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [p for p in candidates if not SKIPPED_PARTS & set(p.parts) and not p.is_symlink()]
    return files


def learner_readme() -> str:
    modules = sorted(p.name for p in (REPO_ROOT / "notebooks").iterdir()
                     if p.is_dir() and ASSIGNMENT_NAME.match(p.name) and (p / f"{p.name}.ipynb").is_file())
    listing = "\n".join(f"- [{name}](notebooks/{name}/{name}.ipynb)" for name in modules)
    return (LEARNER_FILES / "README.md").read_text().replace("{modules}", listing)


def generated_files() -> dict[str, bytes]:
    """The learner's own files, by their path in the bundle."""
    return {"README.md": learner_readme().encode(), "Makefile": (LEARNER_FILES / "Makefile").read_bytes(),
            "autograde/__main__.py": MAIN.encode()}


def _check(name: str, content: bytes) -> None:
    scanned = content
    for line in MARKER_DEFINITIONS.get(name, []):
        scanned = scanned.replace(line.encode(), b"")
    for marker in FORBIDDEN_CONTENT:
        if marker.encode() in scanned:
            raise RuntimeError(f"{name} contains {marker!r}: not for students")


def write_bundle(out: Path) -> list[str]:
    contents = {str(path.relative_to(REPO_ROOT)): path.read_bytes() for path in bundle_files()}
    contents.update(generated_files())
    names = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in sorted(contents.items()):
            _check(name, content)
            zf.writestr(f"{PREFIX}/{name}", content)
            names.append(f"{PREFIX}/{name}")
    return names
