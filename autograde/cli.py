"""Command line: ``python -m autograde {release,grade,check}``. Exit 2 means unusable input."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from autograde.layout import UsageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograde", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    release = sub.add_parser("release", help="regenerate notebooks/ from solutions/")
    release.add_argument("assignments", nargs="*", help="assignment names (default: all)")

    grade = sub.add_parser("grade", help="grade one notebook against its assignment's hidden tests")
    grade.add_argument("notebook", help="path to a .ipynb file, anywhere on disk")
    grade.add_argument("--assignment", help="assignment name (default: recognised from the notebook's cells)")
    grade.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    grade.add_argument("--timeout", type=float, default=None, help="seconds allowed per cell (default 60)")

    check = sub.add_parser("check", help="every solution full marks, every release 0, release in sync")
    check.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # nbgrader runs the `alembic` and `jupyter` executables of this environment by name: make sure
    # they are found even when this interpreter was started by its full path without activating it.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    try:
        if args.command == "release":
            return _release(args)
        if args.command == "grade":
            return _grade(args)
        return _check(args)
    except UsageError as exc:
        print(f"autograde: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a fault of the grader or the machine, never of the notebook
        from autograde.sandbox import SandboxError

        if not isinstance(exc, SandboxError):
            raise
        print(f"autograde: grading could not run: {exc}", file=sys.stderr)
        return 1


def _release(args) -> int:
    from autograde.release import release_all

    for name in release_all(args.assignments or None):
        print(f"released notebooks/{name}/")
    return 0


def _grade(args) -> int:
    from autograde.grading import grade_notebook
    from autograde.isolation import Limits

    limits = Limits(cell_seconds=args.timeout) if args.timeout else Limits()
    report = grade_notebook(args.notebook, assignment=args.assignment, limits=limits)
    print(json.dumps(report.to_json(), indent=2) if args.json else report.table())
    return 0


def _check(args) -> int:
    from autograde.checks import check_all

    started = time.monotonic()
    results = check_all(args.assignments or None)
    ok = bool(results) and all(not r.problems for r in results)
    if args.json:
        print(json.dumps({"ok": ok, "assignments": {r.assignment: r.to_json() for r in results}}, indent=2))
    else:
        if not results:
            print("no assignments found in solutions/")
        for r in results:
            scores = f"solution {r.solution_score:g}/{r.max_score:g}, blank release {r.release_score:g}" \
                if r.max_score is not None else "not graded"
            print(f"{'ok  ' if not r.problems else 'FAIL'} {r.assignment}: {scores}")
            for problem in r.problems:
                print(f"     - {problem}")
        print(f"{'all checks passed' if ok else 'checks failed'} in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1
