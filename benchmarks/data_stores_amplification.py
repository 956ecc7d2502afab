"""Write and space amplification of an LSM tree (the reference model of module 11, counted in entries) next to
SQLite's B-tree (pages written, from its own write-ahead log), on seeded workloads. Prints a table; asserts
nothing.

    python benchmarks/data_stores_amplification.py [--writes 3000] [--keys 500] [--seed 11]

The LSM figures count entries (one key with its value), the SQLite ones bytes; with equal-sized entries of about
110 bytes they are comparable, roughly. Module 11 shows the same comparison with the learner's own store.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograde.reference.data_stores import amplification_expected  # noqa: E402
from course.datastores import lsm_workload, sqlite_amplification  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=3000)
    parser.add_argument("--keys", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--memtable", type=int, default=50)
    args = parser.parse_args(argv)
    print(f"{args.writes:,} writes of ~110-byte entries over {args.keys:,} keys (seed {args.seed}), "
          f"memtable of {args.memtable} entries")
    print(f"{'store and policy':36s} {'write amp':>10s} {'space amp':>10s} {'seconds':>8s}")
    for every in (None, 16, 8, 4, 1):
        ops = lsm_workload(args.seed, args.writes, args.keys, compact_every=every, memtable_limit=args.memtable)
        start = time.perf_counter()
        amp = amplification_expected(ops, args.memtable)
        name = "LSM, never compact" if every is None else f"LSM, compact all every {every} flushes"
        print(f"{name:36s} {amp['write_amp']:10.2f} {amp['space_amp']:10.2f} {time.perf_counter() - start:8.2f}")
    plain = lsm_workload(args.seed, args.writes, args.keys, memtable_limit=args.memtable)
    for batch in (1, 10, 100, 1000):
        start = time.perf_counter()
        amp = sqlite_amplification(plain, batch=batch)
        name = f"SQLite B-tree, {batch} write(s) per commit"
        print(f"{name:36s} {amp['write_amp']:10.2f} {amp['space_amp']:10.2f} {time.perf_counter() - start:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
