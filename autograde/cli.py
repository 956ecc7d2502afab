"""Command line: ``python -m autograde {release,grade,check,batch,roster,export,student-bundle}``.

Exit 2 means unusable input (nothing was done). ``batch`` also exits 3 when the run completed but
some submissions are unusable (listed), and 4 when the grader failed on some (rerun to retry);
a crash of the grader itself exits 1 with a traceback."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from autograde.layout import UsageError, put_environment_on_path


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

    batch = sub.add_parser("batch", help="grade a folder or zip of submissions into the gradebook and a CSV")
    batch.add_argument("submissions", help="nbgrader's submitted/ layout, a flat folder of notebooks, or a .zip")
    batch.add_argument("--workers", type=int, default=2, help="notebooks graded at once (default 2, at most 8)")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on the Dask cluster at ADDRESS (tcp://host:8786), or `local` for a LocalCluster of "
                            "--workers processes; needs `pip install -e .[cluster]` (default: local worker processes)")
    batch.add_argument("--csv", help="grades CSV (default WORKSPACE/grades.csv); a CSV of another layout is never "
                                     "overwritten")
    batch.add_argument("--feedback", nargs="?", const="", default=None, metavar="DIR",
                       help="write one HTML feedback page per student and assignment, in DIR "
                            "(default WORKSPACE/batch-feedback)")
    batch.add_argument("--assignment", help="assignment of a flat folder (default: recognised per notebook)")
    batch.add_argument("--workspace", help="where the gradebook, state and autograded notebooks go (default grading/)")
    batch.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="if another batch is using the workspace, wait this long for it (default: stop at once)")

    roster = sub.add_parser("roster", help="import a class roster (CSV: id, first name, last name, email) "
                                           "into the gradebook")
    roster.add_argument("file", help="the roster CSV (UTF-8; a header row naming the columns)")
    roster.add_argument("--workspace", help="the grading workspace holding gradebook.db (default grading/)")

    export = sub.add_parser("export", help="write grades from the gradebook for an LMS: canvas, moodle or long")
    export.add_argument("format", choices=["canvas", "moodle", "long"],
                        help="canvas: Canvas gradebook import; moodle: Moodle grade import (by email); "
                             "long: one row per student, assignment and graded cell")
    export.add_argument("--to", metavar="DIR", help="the folder to write (default WORKSPACE/exports/FORMAT); "
                                                    "canvas and moodle write one file per assignment")
    export.add_argument("--assignment", action="append", default=[], help="only this assignment (repeatable)")
    export.add_argument("--include-ungraded", action="store_true",
                        help="export the autograded part of submissions that still need manual grading "
                             "(default: leave them out)")
    export.add_argument("--canvas-id-column", choices=["SIS Login ID", "SIS User ID"], default="SIS Login ID",
                        help="the Canvas column that holds the student id (default 'SIS Login ID')")
    export.add_argument("--workspace", help="the grading workspace holding gradebook.db (default grading/)")

    bundle = sub.add_parser("student-bundle", help="zip what to hand a class: no solutions, hidden tests or answers")
    bundle.add_argument("out", help="the .zip to write")
    bundle.add_argument("--module", action="append", default=[],
                        help="only this module (repeatable; default: every module that can go with the others)")

    contracts = sub.add_parser("contracts", help="show each exercise's contract (from the reference's table) "
                                                "in its text; --write puts it there")
    contracts.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    contracts.add_argument("--write", action="store_true", help="write the contract blocks into solutions/")

    check = sub.add_parser("check", help="every solution full marks, every release 0, release in sync")
    check.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    put_environment_on_path()
    try:
        if args.command == "release":
            return _release(args)
        if args.command == "grade":
            return _grade(args)
        if args.command == "batch":
            return _batch(args)
        if args.command == "roster":
            return _roster(args)
        if args.command == "export":
            return _export(args)
        if args.command == "student-bundle":
            return _bundle(args)
        if args.command == "contracts":
            return _contracts(args)
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


def _batch(args) -> int:
    from autograde.batch import print_summary, run_batch
    from autograde.isolation import MAX_WORKERS

    if not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be between 1 and {MAX_WORKERS}")
    if args.scheduler:
        from autograde.cluster import dask_missing

        if dask_missing():
            raise UsageError(dask_missing())
    workspace = _workspace(args)
    feedback = None if args.feedback is None else Path(args.feedback) if args.feedback else workspace / "batch-feedback"
    summary = run_batch(Path(args.submissions), workers=args.workers,
                        csv_path=Path(args.csv) if args.csv else None, feedback_dir=feedback,
                        assignment=args.assignment, workspace=workspace, wait=args.wait, scheduler=args.scheduler)
    print_summary(summary)
    print(f"grades: {Path(args.csv) if args.csv else workspace / 'grades.csv'}"
          + (f"; feedback pages: {feedback}/" if feedback is not None else ""))
    return summary.exit_status


def _workspace(args) -> Path:
    from autograde.layout import REPO_ROOT

    return Path(args.workspace) if args.workspace else REPO_ROOT / "grading"


def _roster(args) -> int:
    from autograde.roster import import_roster

    result = import_roster(Path(args.file), _workspace(args) / "gradebook.db")
    print(result.describe())
    return 0


def _export(args) -> int:
    from autograde.exports import export_grades

    workspace = _workspace(args)
    to = Path(args.to) if args.to else workspace / "exports" / args.format
    report = export_grades(args.format, workspace / "gradebook.db", to, assignments=args.assignment,
                           include_ungraded=args.include_ungraded, id_column=args.canvas_id_column)
    print(report)
    return 0


def _bundle(args) -> int:
    from autograde.bundle import bundle_modules, write_bundle

    modules, left_out = bundle_modules(args.module or None)
    names = write_bundle(Path(args.out), modules)
    print(f"wrote {args.out}: {len(names)} files (the release notebooks of {len(modules)} module{'s' * (len(modules) != 1)}, course/, data/, "
          f"set-up files)")
    for line in left_out:
        print(line)
    return 0


def _contracts(args) -> int:
    import json as json_module

    from autograde.contracts import contract_text_problems, reference_contracts
    from autograde.layout import assignments, source_notebook
    from autograde.notebook import read_notebook

    failed = False
    for name in args.assignments or assignments():
        if name not in assignments():
            raise UsageError(f"unknown assignment {name!r}")
        path = source_notebook(name)
        nb = read_notebook(path)
        problems = contract_text_problems(name, nb, write=args.write)
        if args.write and nb != read_notebook(path):
            raw = json_module.loads(path.read_text())
            for cell, new in zip(raw["cells"], nb.cells):
                text = new.source
                if "".join(cell["source"]) != text:
                    lines = text.split("\n")
                    cell["source"] = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
            path.write_text(json_module.dumps(raw, indent=1, ensure_ascii=False) + "\n")
            print(f"wrote the contract blocks of {name} into {path} (now run: python -m autograde release {name})")
        for problem in problems:
            print(f"{name}: {problem}")
        failed = failed or bool(problems)
        if not args.write:
            for contract in (reference_contracts(name) or {}).values():
                print(f"\n{name}, {contract.name}:\n{contract.markdown()}")
    return 1 if failed else 0


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
