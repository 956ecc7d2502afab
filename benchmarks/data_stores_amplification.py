"""Write and space amplification of an LSM tree (the reference model of module 11, counted in entries) next to
SQLite's B-tree (pages written, from its own write-ahead log), on seeded workloads. Prints a table; asserts
nothing.

    python benchmarks/data_stores_amplification.py [--writes 3000] [--keys 500] [--seed 11] [--processes 4]

With ``--processes N`` it also runs N real processes incrementing one SQLite counter, with the seed's
unconditional write and with a version check, and prints the increments each loses.

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
from course.datastores import (increment_from_processes, lsm_workload, naive_read, naive_write,  # noqa: E402
                               sqlite_amplification)


def versioned_write(conn, key, value, version):
    """The conditional UPDATE of module 11's exercise 5 (the reference's, for the benchmark only)."""
    with conn:
        return conn.execute("UPDATE items SET value = ?, version = version + 1 WHERE key = ? AND version = ?",
                            (value, key, version)).rowcount == 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=3000)
    parser.add_argument("--keys", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--memtable", type=int, default=50)
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--increments", type=int, default=300)
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
    if args.processes:
        print(f"\n{args.processes} processes x {args.increments} increments of one SQLite counter")
        for name, write in (("unconditional write (the seed)", naive_write), ("conditional write (version)", versioned_write)):
            start = time.perf_counter()
            out = increment_from_processes(naive_read, write, args.processes, args.increments)
            print(f"{name:36s} final {out['final']:6d} of {out['expected']:6d}, lost {out['lost']:5d}, "
                  f"{out['attempts']:6d} attempts, {time.perf_counter() - start:6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
