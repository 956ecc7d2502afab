"""Module 15's costs and speed: the hybrid feed's fan-out on a bigger power-law graph, and its graded notebook.
Prints figures; asserts nothing.

    python benchmarks/design_practice.py [--repeat 3] [--users 20000]

- write amplification and read fan-out of the hybrid feed (``autograde.reference.design_practice.hybrid_feed``)
  for several celebrity thresholds on a seeded Barabasi-Albert follower graph, with the largest fan-out of a
  single post, and the time one simulation takes;
- grading the whole solution notebook (kernel start included), the figure the course keeps under about 30 s on one
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

ASSIGNMENT = "15-design-practice"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--users", type=int, default=20_000)
    args = parser.parse_args()

    from autograde.reference.design_practice import hybrid_feed
    from course.practice import feed_workload, power_law_followers

    graph = power_law_followers(args.users, seed=15, m=5)
    counts = sorted((len(f) for f in graph.values()), reverse=True)
    events = feed_workload(graph, n_posts=args.users, n_reads=2 * args.users, seed=15)
    posts = sum(1 for e in events if e[0] == "post")
    reads = len(events) - posts
    print(f"{args.users:,} users, {sum(counts):,} follows, most followed {counts[0]:,}; {posts:,} posts, "
          f"{reads:,} reads (seed 15)")
    for threshold in (0, 20, 50, 100, 200, 500, counts[0] + 1):
        start = time.perf_counter()
        run = hybrid_feed(graph, events, threshold, 20)
        seconds = time.perf_counter() - start
        largest = max([c for c in counts if c < threshold], default=0)
        print(f"  threshold {threshold:6d}: {run['fanout_writes'] / posts:6.2f} writes per post (largest single post "
              f"{largest:5d}), {run['pull_fetches'] / reads:5.2f} fetches per read; simulated in {seconds:.2f} s")

    print_solution_grading(ASSIGNMENT, args.repeat)


if __name__ == "__main__":
    main()
