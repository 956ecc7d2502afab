"""Grading in the student bundle: a notebook's visible tests, run the way the instructor's grader runs them.

The student bundle (``python -m autograde student-bundle``) has no ``solutions/`` and no reference
answers, so the hidden tests cannot run there. Its ``python -m autograde`` is this module:

    python -m autograde grade NB.ipynb [--json] [--assignment NAME] [--timeout SECONDS]

It rebuilds the notebook on the bundle's release notebook of its assignment (the learner's answer cells
put in, every other cell the release's own) and grades it with the course's grader (``autograde.grading``:
the learner's code in the sandbox, the test cells in the grader, where the learner's functions are proxies
that return plain data). So it catches what the instructor's grader would catch in the visible tests,
including results that are not plain data, which a plain notebook run does not. It reports each test
cell as passing or failing its visible tests, with the message, and no score: a test cell that passes its
visible tests can still lose its points to the hidden tests, which run only when the instructor grades.

In the course repository it works too (``python -m autograde.visible grade NB.ipynb``), on the
repository's release notebooks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autograde.layout import RELEASE_DIR, ASSIGNMENT_NAME, UsageError, put_environment_on_path

VISIBLE_ONLY = "visible tests only; hidden tests run when your instructor grades"


def release_assignments() -> list[str]:
    """The assignments whose release notebook is here (notebooks/NN-slug/NN-slug.ipynb)."""
    if not RELEASE_DIR.is_dir():
        return []
    return sorted(p.name for p in RELEASE_DIR.iterdir()
                  if p.is_dir() and ASSIGNMENT_NAME.match(p.name) and (p / f"{p.name}.ipynb").is_file())


def identify_assignment(nb) -> str:
    """The assignment whose release shares most graded cells (by ``grade_id``) with the notebook."""
    from autograde.grading import identify_assignment as identify

    return identify(nb, {name: RELEASE_DIR / name / f"{name}.ipynb" for name in release_assignments()})


def grade_visible(path: str | Path, assignment: str | None = None, limits=None):
    """Grade the notebook at ``path`` on its visible tests; a GradeReport (scores mean visible tests only)."""
    from autograde.grading import build_graded_notebook, grade_prepared
    from autograde.notebook import read_notebook
    from autograde.sandbox import Zygote

    submission = read_notebook(path)
    if assignment is None:
        assignment = identify_assignment(submission)
    elif assignment not in release_assignments():
        raise UsageError(f"unknown assignment {assignment!r}; known: {', '.join(release_assignments())}")
    release = read_notebook(RELEASE_DIR / assignment / f"{assignment}.ipynb")
    nb, missing = build_graded_notebook(release, submission, release)
    with Zygote(limits=limits) as zygote:
        return grade_prepared(path, assignment, nb, missing, zygote, answers_from=release)


def to_json(report) -> dict:
    return {"visible_tests_only": True, "note": VISIBLE_ONLY, "assignment": report.assignment,
            "notebook": report.notebook,
            "tests": [{"id": t.id, "status": t.status, "message": t.message} for t in report.tests],
            "passed": sum(t.status == "pass" for t in report.tests), "total": len(report.tests),
            "notes": report.notes, "isolation": report.isolation}


def table(report) -> str:
    """One row per test cell (passes its visible tests or not), then what to fix; no points."""
    width = max([len(t.id) for t in report.tests] + [4])
    passed = sum(t.status == "pass" for t in report.tests)
    lines = [f"{report.assignment}  ({report.notebook})", "VISIBLE TESTS ONLY: hidden tests run when your instructor grades.", "",
             f"{'test':<{width}}  visible tests"]
    lines += [f"{t.id:<{width}}  {'pass' if t.status == 'pass' else t.status}" for t in report.tests]
    lines.append(f"{passed} of {len(report.tests)} test cells pass their visible tests. Your score comes from your "
                 "instructor's grading, which adds the hidden tests.")
    problems = [t for t in report.tests if t.status != "pass" and t.message]
    if problems or report.notes:
        lines += ["", "What to fix:"]
        lines += [f"- {note}" for note in report.notes]
        for t in problems:
            body = t.message.replace("\n", "\n    ")
            lines.append(f"- {t.id} ({t.status}):\n    {body}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograde",
                                     description=f"Check a course notebook ({VISIBLE_ONLY}).")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help=f"run a notebook's tests ({VISIBLE_ONLY})")
    grade.add_argument("notebook", help="path to a .ipynb file, anywhere on disk")
    grade.add_argument("--assignment", help="assignment name (default: recognised from the notebook's cells)")
    grade.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    grade.add_argument("--timeout", type=float, default=None, help="seconds allowed per cell (default 60)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    put_environment_on_path()
    from autograde.isolation import Limits
    from autograde.sandbox import SandboxError

    try:
        limits = Limits(cell_seconds=args.timeout) if args.timeout else Limits()
        report = grade_visible(args.notebook, assignment=args.assignment, limits=limits)
    except UsageError as exc:
        print(f"autograde: {exc}", file=sys.stderr)
        return 2
    except SandboxError as exc:
        print(f"autograde: grading could not run: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(to_json(report), indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
