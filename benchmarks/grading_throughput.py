"""How fast is grading? Notebooks per minute for plain `nbgrader autograde` and for this course's
sandboxed grader with 1 and 2 workers, on the same submissions in the same run; peak memory.

    python benchmarks/grading_throughput.py [--students 20] [--assignment 01-requirements-estimation]

Prints figures; asserts nothing. Half the submissions are the solution, half the blank release.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograde.layout import put_environment_on_path, release_notebook, source_notebook  # noqa: E402


def make_submissions(root: Path, assignment: str, students: int) -> list[Path]:
    paths = []
    for i in range(students):
        folder = root / f"student{i:03d}" / assignment
        folder.mkdir(parents=True)
        origin = source_notebook(assignment) if i % 2 == 0 else release_notebook(assignment)
        target = folder / f"{assignment}.ipynb"
        shutil.copy(origin, target)
        paths.append(target)
    return paths


def time_plain_nbgrader(assignment: str, students: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-") as tmp:
        course = Path(tmp)
        shutil.copytree(REPO / "solutions" / assignment, course / "source" / assignment)
        make_submissions(course / "submitted", assignment, students)
        (course / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///%s/gradebook.db'\n"
            "c.Exchange.root = '%s/exchange'\n" % (course, course))
        env = dict(os.environ)
        subprocess.run(["nbgrader", "generate_assignment", assignment, "--force"], cwd=course, env=env,
                       check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run(["nbgrader", "autograde", assignment, "--force"], cwd=course, env=env, capture_output=True)
        return time.perf_counter() - started


class PeakRSS:
    """Samples the resident memory of this process's descendants (zygotes and sandboxes)."""

    def __init__(self):
        self.peak_total = 0
        self.peak_single = 0
        self._stop = threading.Event()

    def _descendants(self) -> list[int]:
        children = {}
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
                children.setdefault(int(fields["PPid"]), []).append(int(status.parent.name))
            except (OSError, KeyError, ValueError):
                continue
        found, todo = [], [os.getpid()]
        while todo:
            pid = todo.pop()
            for child in children.get(pid, []):
                found.append(child)
                todo.append(child)
        return found

    def _rss(self, pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def run(self):
        while not self._stop.wait(0.2):
            sizes = [self._rss(p) for p in self._descendants()]
            if sizes:
                self.peak_total = max(self.peak_total, sum(sizes))
                self.peak_single = max(self.peak_single, max(sizes))

    def __enter__(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def time_sandboxed(assignment: str, students: int, workers: int) -> tuple[float, PeakRSS]:
    from autograde.grading import grade_many

    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        paths = make_submissions(Path(tmp), assignment, students)
        with PeakRSS() as memory:
            started = time.perf_counter()
            results = grade_many(paths, workers=workers)
            elapsed = time.perf_counter() - started
        bad = [r for r in results if not hasattr(r, "score")]
        if bad:
            print(f"  warning: {len(bad)} notebooks not graded: {bad[:2]}")
        return elapsed, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--assignment", default="01-requirements-estimation")
    args = parser.parse_args()
    put_environment_on_path()
    n = args.students
    print(f"{n} submissions of {args.assignment} (half solution, half blank), {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    plain = time_plain_nbgrader(args.assignment, n)
    one, mem1 = time_sandboxed(args.assignment, n, 1)
    two, mem2 = time_sandboxed(args.assignment, n, 2)
    rows = [("plain nbgrader autograde (1 process)", plain, None), ("sandboxed grader, 1 worker", one, mem1),
            ("sandboxed grader, 2 workers", two, mem2)]
    print(f"{'':40s} {'wall s':>8s} {'nb/min':>8s} {'peak MB/worker':>15s}")
    for name, seconds, mem in rows:
        per_worker = "" if mem is None else f"{mem.peak_total / 2**20 / (1 if mem is mem1 else 2):.0f}"
        print(f"{name:40s} {seconds:8.1f} {n / seconds * 60:8.1f} {per_worker:>15s}")
    print(f"speed-up of the sandboxed grader at 1 worker over plain nbgrader: {plain / one:.2f}x; "
          f"2 workers over 1: {one / two:.2f}x")
    print(f"largest single process seen: {max(mem1.peak_single, mem2.peak_single) / 2**20:.0f} MB; "
          f"this script's own max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
