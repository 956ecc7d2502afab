"""One figure the module benchmarks share: grading a module's whole solution notebook, kernel start included,
``repeat`` times, with the machine's load. Imported by the module scripts in this folder; prints, asserts nothing."""

from __future__ import annotations

import os
import statistics
import time


def print_solution_grading(assignment: str, repeat: int) -> None:
    from autograde.grading import grade_notebook
    from autograde.layout import source_notebook

    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        report = grade_notebook(source_notebook(assignment))
        walls.append(time.perf_counter() - start)
    load = os.getloadavg()[0]
    print(f"grading the solution notebook: {report.score:g}/{report.max_score:g} points; wall "
          f"{statistics.median(walls):.1f} s median (min {min(walls):.1f}) over {repeat} runs, "
          f"1-minute load average {load:.1f} on {os.cpu_count()} CPUs")
