"""What a per-submission cgroup costs: start and kill N sandboxed learner processes, with and
without cgroups (full isolation needs Linux and root; elsewhere both rows are the limited sandbox).

    .venv/bin/python benchmarks/sandbox_spawn.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time

from autograde.isolation import Limits
from autograde.sandbox import Zygote


def main(n: int) -> None:
    for cgroups in (False, True):
        with Zygote(slot=3, limits=Limits(), cgroups=cgroups) as zygote:
            spawn, first, kill = [], [], []
            for _ in range(n):
                started = time.perf_counter()
                process = zygote.spawn()
                spawn.append(time.perf_counter() - started)
                started = time.perf_counter()
                process.execute("x = 1", time.monotonic() + 60)
                first.append(time.perf_counter() - started)
                started = time.perf_counter()
                process.kill()
                kill.append(time.perf_counter() - started)
            print(f"{zygote.isolation}\n  spawn median {statistics.median(spawn) * 1000:.1f} ms, first cell "
                  f"{statistics.median(first) * 1000:.1f} ms, kill (+ cgroup removal) "
                  f"{statistics.median(kill) * 1000:.1f} ms  (n={n})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
