"""Batch grading on Dask against local worker processes: notebooks per second, in one run.

    python benchmarks/cluster_grading.py [--copies 8] [--assignment 01-requirements-estimation]

Grades the same class (``--copies`` submissions, half the solution, half the blank release) four
times with ``run_batch``: local ``--workers 1`` and ``2``, then ``--scheduler local`` (a Dask
``LocalCluster``) with 1 and 2 workers, each into a fresh workspace. Prints, for each: wall time,
notebooks per second, and the Dask overhead per notebook against the local run with the same number
of workers (the cluster's start-up, the zygotes' warm-up and the task round trips included, since a
batch pays them). Also prints the client's write rate (gradebook + autograded notebook + state,
and the CSV rewrite that follows each result), which bounds any cluster's throughput: the client is
the only writer. Prints figures; asserts nothing. On a shared, busy machine the figures move a lot:
the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograde import batch  # noqa: E402
from autograde.isolation import Limits  # noqa: E402
from autograde.layout import release_notebook, source_notebook  # noqa: E402


def make_class(root: Path, assignment: str, copies: int) -> Path:
    for i in range(copies):
        folder = root / f"student{i:04d}" / assignment
        folder.mkdir(parents=True)
        origin = source_notebook(assignment) if i % 2 == 0 else release_notebook(assignment)
        shutil.copy(origin, folder / f"{assignment}.ipynb")
    return root


class Timed:
    """Wraps a function of a module and adds up the time spent in it."""

    def __init__(self, owner, name: str):
        self.owner, self.name, self.original = owner, name, getattr(owner, name)
        self.seconds, self.calls = 0.0, 0

        self.each: list[float] = []

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.each.append(time.perf_counter() - started)
                self.seconds += self.each[-1]
                self.calls += 1

        setattr(owner, name, wrapper)

    def restore(self) -> None:
        setattr(self.owner, self.name, self.original)


def run(label: str, subs: Path, workdir: Path, copies: int, **kwargs) -> dict:
    save = Timed(batch, "_save_result")
    csv = Timed(batch.State, "write_csv")
    gradebook = Timed(batch.Gradebook, "save")
    started = time.perf_counter()
    try:
        summary = batch.run_batch(subs, workspace=workdir / label.replace(" ", "-"),
                                  limits=Limits(cell_seconds=60, notebook_seconds=300), **kwargs)
    finally:
        save.restore()
        csv.restore()
        gradebook.restore()
    wall = time.perf_counter() - started
    if summary.graded != copies or summary.faults:
        print(f"  {label}: graded {summary.graded} of {copies}, faults {summary.faults}", file=sys.stderr)
    return {"label": label, "wall": wall, "rate": copies / wall, "save": save, "csv": csv, "gradebook": gradebook,
            "per_worker": dict(summary.cluster.get("per_worker", {}))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--assignment", default="01-requirements-estimation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        subs = make_class(Path(tmp) / "submitted", args.assignment, args.copies)
        load_before = os.getloadavg()[0]
        results = []
        for label, kwargs in [("local 1", dict(workers=1)), ("local 2", dict(workers=2)),
                              ("dask 1", dict(workers=1, scheduler="local")),
                              ("dask 2", dict(workers=2, scheduler="local"))]:
            results.append(run(label, subs, Path(tmp), args.copies, **kwargs))
            print(f"  done: {label} in {results[-1]['wall']:.1f} s", file=sys.stderr, flush=True)
        load_after = os.getloadavg()[0]
    print(f"{args.copies} notebooks of {args.assignment} (half solution, half blank release); "
          f"{os.cpu_count()} cores, load average {load_before:.1f} before, {load_after:.1f} after")
    print(f"{'run':<8} {'wall s':>8} {'notebooks/s':>12} {'overhead s/notebook':>20}  per worker")
    by_label = {r["label"]: r for r in results}
    for r in results:
        overhead = ""
        if r["label"].startswith("dask"):
            local = by_label["local " + r["label"].split()[1]]
            overhead = f"{(r['wall'] - local['wall']) / args.copies:+.2f}"
        workers = ", ".join(str(n) for n in sorted(r["per_worker"].values())) if r["per_worker"] else ""
        print(f"{r['label']:<8} {r['wall']:>8.1f} {r['rate']:>12.3f} {overhead:>20}  {workers}")
    save = statistics.median(t for r in results for t in r["save"].each)
    first = statistics.median(r["save"].each[0] for r in results)
    in_gradebook = statistics.median(t for r in results for t in r["gradebook"].each[1:])
    print(f"client writes per result (gradebook + autograded notebook + state): median {save * 1000:.1f} ms, "
          f"so at most {1 / save:.1f} results/s ({in_gradebook * 1000:.1f} ms of it in nbgrader's gradebook); the first of a run {first * 1000:.0f} ms (registers the assignment)")
    rows, seconds = csv_rewrite(5000)
    print(f"CSV rewrite after each result: {seconds * 1000:.0f} ms for a class of {rows} rows "
          f"({seconds / rows * 1e6:.1f} us a row, so {seconds / rows * 150_000:.1f} s per result at 150,000 rows)")


def csv_rewrite(rows: int) -> tuple[int, float]:
    """Time one State.write_csv of a state holding ``rows`` results."""
    with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp:
        state = batch.State(Path(tmp) / "state.db")
        for i in range(rows):
            state.record(f"s{i:06d}", "01-requirements-estimation", "0" * 64, "graded", 14.0, 14.0, 3.0,
                         "", "", f"s{i:06d}/01-requirements-estimation/01-requirements-estimation.ipynb")
        started = time.perf_counter()
        state.write_csv(Path(tmp) / "grades.csv")
        return rows, time.perf_counter() - started

if __name__ == "__main__":
    main()
