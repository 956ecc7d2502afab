"""Module 14's speed: its simulators and its graded notebook. Prints figures; asserts nothing.

    python benchmarks/global_scale.py [--repeat 3]

- the DNS-failover simulator (``course.globalscale.simulate_failover``) for 10^4 and 10^5 clients;
- the reference CDN simulation (``autograde.reference.global_scale.simulate_cdn``) on 2 x 10^4 and
  2 x 10^5 requests of the seeded Zipf trace;
- grading the whole solution notebook (kernel start included), the figure the course keeps under about
  30 s on one core; the machine's load is printed with it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from solution_grading import print_solution_grading  # noqa: E402  (this folder)

ASSIGNMENT = "14-global-scale"
RTT = {"edge": 8, "shield": {"eu": 12, "us": 15, "ap": 25}, "origin": {"eu": 90, "us": 20, "ap": 160},
       "shield_origin": 80}


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from autograde.reference.global_scale import simulate_cdn
    from course.globalscale import cdn_trace, simulate_failover

    for clients in (10_000, 100_000):
        seconds = best_of(args.repeat, lambda: simulate_failover(30, 3, 60, 0.1, 900, clients=clients, seed=14))
        print(f"simulate_failover, {clients:>7,} clients: {seconds * 1000:8.1f} ms (best of {args.repeat})")
    for n in (20_000, 200_000):
        trace = cdn_trace(n, 2000, 0.9, {"eu": 0.4, "us": 0.4, "ap": 0.2}, 400, 14)
        seconds = best_of(args.repeat, lambda: simulate_cdn(trace, 30000, RTT))
        print(f"simulate_cdn (reference), {n:>7,} requests: {seconds * 1000:8.1f} ms "
              f"({n / seconds / 1e6:.2f} M requests/s)")

    print_solution_grading(ASSIGNMENT, args.repeat)


if __name__ == "__main__":
    main()
