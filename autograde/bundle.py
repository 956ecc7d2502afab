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

from autograde.layout import ASSIGNMENT_NAME, COURSE_FILES_WITH_ANSWERS, REPO_ROOT, UsageError

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
# COURSE_FILES_WITH_ANSWERS (autograde/layout.py): a bundle never holds both such a file and the module whose
# answers it holds; a module whose notebook imports the file comes in a bundle of its own (without the other).


def release_modules() -> list[str]:
    return sorted(p.name for p in (REPO_ROOT / "notebooks").iterdir()
                  if p.is_dir() and ASSIGNMENT_NAME.match(p.name) and (p / f"{p.name}.ipynb").is_file())


def modules_needing(course_file: str) -> list[str]:
    """The modules whose release notebook imports ``course_file`` (``course/raftkv.py``: ``course.raftkv``)."""
    module = course_file.removesuffix(".py").replace("/", ".")
    return [name for name in release_modules()
            if module in (REPO_ROOT / "notebooks" / name / f"{name}.ipynb").read_text()]


def bundle_modules(requested: list[str] | None = None) -> tuple[list[str], list[str]]:
    """The modules a bundle holds, and a line for each module left out and why.

    Without ``requested``: every module, except one that needs a course file holding the answers of a module
    in the bundle (it is left out, saying how to hand it out). With ``requested``: those modules, or a
    UsageError when they cannot go together."""
    everything = release_modules()
    unknown = sorted(set(requested or []) - set(everything))
    if unknown:
        raise UsageError(f"no such module: {', '.join(unknown)} (the modules are {', '.join(everything)})")
    chosen = sorted(set(requested)) if requested else everything
    left_out: list[str] = []
    for course_file, answered in COURSE_FILES_WITH_ANSWERS.items():
        needing = [name for name in modules_needing(course_file) if name in chosen]
        if answered not in chosen or not needing:
            continue
        if requested:
            raise UsageError(f"{', '.join(needing)} and {answered} cannot go in one bundle: {course_file}, which "
                             f"{', '.join(needing)} needs, holds {answered}'s answers; hand {', '.join(needing)} "
                             f"out in a bundle without {answered}, once {answered} is graded")
        chosen = [name for name in chosen if name not in needing]
        left_out += [f"{name} left out: it needs {course_file}, which holds {answered}'s answers; hand it out "
                     f"with `student-bundle OUT.zip --module {name}` (a bundle without {answered}) once {answered} "
                     f"is graded" for name in needing]
    return chosen, left_out


def bundle_files(modules: list[str] | None = None) -> list[Path]:
    """The files of a bundle of ``modules`` (default: ``bundle_modules()``'s choice)."""
    modules = bundle_modules()[0] if modules is None else modules
    withheld = {REPO_ROOT / f for f, answered in COURSE_FILES_WITH_ANSWERS.items() if answered in modules}
    other_notebooks = {REPO_ROOT / "notebooks" / name for name in release_modules() if name not in modules}
    files = []
    for name in INCLUDED:
        path = REPO_ROOT / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [p for p in candidates if not SKIPPED_PARTS & set(p.parts) and not p.is_symlink()
                  and p not in withheld and not any(p.is_relative_to(folder) for folder in other_notebooks)]
    return files


def learner_readme(modules: list[str]) -> str:
    listing = "\n".join(f"- [{name}](notebooks/{name}/{name}.ipynb)" for name in modules)
    return (LEARNER_FILES / "README.md").read_text().replace("{modules}", listing)


def generated_files(modules: list[str]) -> dict[str, bytes]:
    """The learner's own files, by their path in the bundle."""
    return {"README.md": learner_readme(modules).encode(), "Makefile": (LEARNER_FILES / "Makefile").read_bytes(),
            "autograde/__main__.py": MAIN.encode()}


def _check(name: str, content: bytes) -> None:
    scanned = content
    for line in MARKER_DEFINITIONS.get(name, []):
        scanned = scanned.replace(line.encode(), b"")
    for marker in FORBIDDEN_CONTENT:
        if marker.encode() in scanned:
            raise RuntimeError(f"{name} contains {marker!r}: not for students")


def write_bundle(out: Path, modules: list[str] | None = None) -> list[str]:
    """Write the bundle of ``modules`` (see ``bundle_modules``) to ``out``; returns the names written."""
    modules = bundle_modules(modules)[0]
    contents = {str(path.relative_to(REPO_ROOT)): path.read_bytes() for path in bundle_files(modules)}
    contents.update(generated_files(modules))
    names = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in sorted(contents.items()):
            _check(name, content)
            zf.writestr(f"{PREFIX}/{name}", content)
            names.append(f"{PREFIX}/{name}")
    return names
