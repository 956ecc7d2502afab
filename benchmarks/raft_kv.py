"""Module 16's speed: the key-value cluster simulator, the linearizability checker, and the graded notebook.
Prints figures; asserts nothing.

    python benchmarks/raft_kv.py [--repeat 3] [--no-grade]

- node events per second of ``course.raftkv.KVCluster`` with the reference service, per scenario
  (an event is a message or timer delivered to a node; calls into the service are counted apart);
- the checker (``course.raftkv.linearize``) on every scenario's history: operations and milliseconds;
- ``course.raftkv.snapshot_run`` (exercise 7) over one hidden test cell's runs: milliseconds per run;
- grading the whole solution notebook (kernel start included), which the issue keeps under 60 s on one
  core; the machine's load is printed with it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from solution_grading import print_solution_grading  # noqa: E402  (this folder)

ASSIGNMENT = "16-raft-kv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-grade", action="store_true", help="skip grading the notebook")
    args = parser.parse_args()

    from autograde.reference import raft_kv as ref
    from course.raftkv import KV_SCENARIOS, build_kv, linearize

    for name in sorted(KV_SCENARIOS):
        events = calls = ops = 0
        run_s = check_s = 0.0
        for seed in range(10):
            start = time.perf_counter()
            cluster = build_kv(ref.NODE, name, seed)
            cluster.run(cluster.end_s)
            run_s += time.perf_counter() - start
            events, calls = events + cluster.events, calls + cluster.learner_calls
            history = cluster.result()["history"]
            ops += len(history)
            start = time.perf_counter()
            linearize(history)
            check_s += time.perf_counter() - start
        print(f"{name:15s} 10 seeds: {events:6d} node events, {calls:5d} service calls in {run_s:5.2f} s = "
              f"{events / run_s:8,.0f} events/s; checker {ops:4d} operations in {check_s * 1000:7.1f} ms")

    from course.raftkv import snapshot_run
    start, runs, entries = time.perf_counter(), 0, 0
    for seed, threshold, rounds in ref.snapshot_runs(1):
        entries += snapshot_run(ref.SNAP_NODE, seed, threshold, rounds)["committed"]
        runs += 1
    took = time.perf_counter() - start
    print(f"snapshot_run    {runs} runs (the hidden set of one test cell): {entries} entries committed in {took:.2f} s "
          f"= {took / runs * 1000:.1f} ms per run")

    if args.no_grade:
        return
    print_solution_grading(ASSIGNMENT, args.repeat)


if __name__ == "__main__":
    main()
