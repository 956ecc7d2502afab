"""Grade one notebook against the hidden tests of its assignment, in a throwaway workspace.

The notebook that runs is rebuilt from the instructor source: every cell comes from
solutions/, except the learner's answer cells, which are matched by ``grade_id``. So test
cells (with their hidden tests), read-only cells and metadata are the instructor's whatever the
submission did to them; an answer cell the learner deleted or renamed is replaced by the blank
release cell and the tests that depend on it score 0 with status ``missing``.

A test cell earns its points when it runs without error (nbgrader's rule). Its status is
``pass``; ``fail`` when :class:`autograde.verdict.VerdictFailure` was raised (the message is the
verdict's); ``error`` for any other exception; ``timeout`` when the cell ran out of time.
"""

from __future__ import annotations

import copy
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograde.layout import UsageError, assignments, release_notebook, source_notebook
from autograde.notebook import cell_role, graded_cells, nbgrader_meta, read_notebook

CELL_TIMEOUT_S = 120
KERNEL_ARGS = ["--InteractiveShell.xmode=Minimal", "--HistoryManager.hist_file=:memory:"]
MESSAGE_LIMIT = 2000


@dataclass
class TestResult:
    id: str
    points: float
    max_points: float
    status: str  # pass | fail | error | timeout | missing
    message: str = ""


@dataclass
class GradeReport:
    assignment: str
    notebook: str
    score: float
    max_score: float
    manual_max: float
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        """The documented JSON shape of ``python -m autograde grade --json``."""
        return {"assignment": self.assignment, "notebook": self.notebook, "score": self.score,
                "max_score": self.max_score, "manual_max": self.manual_max,
                "tests": [asdict(t) for t in self.tests], "notes": self.notes}

    def table(self) -> str:
        """The human-readable report: one row per test, then the total."""
        width = max([len(t.id) for t in self.tests] + [4])
        lines = [f"{self.assignment}  ({self.notebook})", "",
                 f"{'test':<{width}}  {'points':>9}  status"]
        for t in self.tests:
            lines.append(f"{t.id:<{width}}  {_num(t.points):>4}/{_num(t.max_points):<4}  {t.status}")
        lines.append(f"{'total':<{width}}  {_num(self.score):>4}/{_num(self.max_score):<4}"
                     + (f"  (+{_num(self.manual_max)} points graded by hand)" if self.manual_max else ""))
        problems = [t for t in self.tests if t.status != "pass" and t.message]
        if problems or self.notes:
            lines += ["", "What to fix:"]
            lines += [f"- {note}" for note in self.notes]
            for t in problems:
                body = t.message.replace("\n", "\n    ")
                lines.append(f"- {t.id} ({t.status}):\n    {body}")
        return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:g}"


def identify_assignment(nb) -> str:
    """The assignment whose graded cells this notebook shares most (by ``grade_id``)."""
    ids = {c.grade_id for c in graded_cells(nb)}
    if not ids:
        raise UsageError("the notebook has no nbgrader cells, so it belongs to no assignment "
                         "(pass --assignment NAME if it is a course notebook that lost its metadata)")
    overlap = {}
    for name in assignments():
        source_ids = {c.grade_id for c in graded_cells(read_notebook(source_notebook(name)))}
        overlap[name] = len(ids & source_ids)
    best = max(overlap.values(), default=0)
    winners = [name for name, n in overlap.items() if n == best]
    if best == 0:
        raise UsageError("the notebook matches no assignment of this course (no grade_id in common)")
    if len(winners) > 1:
        raise UsageError(f"the notebook matches several assignments equally ({', '.join(winners)}); "
                         "pass --assignment NAME")
    return winners[0]


def build_graded_notebook(source, submission, release):
    """The instructor source with the learner's answer cells put in.

    Returns the notebook and the grade_ids of answer cells that the submission lacked.
    """
    submitted = {}
    for cell in submission.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade_id") and cell_role(cell) in ("answer", "manual"):
            submitted.setdefault(str(meta["grade_id"]), cell)
    blanks = {str(nbgrader_meta(c)["grade_id"]): c for c in release.cells if cell_role(c) in ("answer", "manual")}
    nb = copy.deepcopy(source)
    missing = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if cell_role(cell) not in ("answer", "manual"):
            continue
        grade_id = str(nbgrader_meta(cell)["grade_id"])
        theirs = submitted.get(grade_id)
        if theirs is not None and theirs.cell_type == cell.cell_type:
            cell.source = theirs.source
        else:
            missing.append(grade_id)
            cell.source = blanks[grade_id].source if grade_id in blanks else ""
    return nb, missing


def _execute(nb, workdir: Path, timeout: int) -> dict[int, dict]:
    """Run every cell; return the execute reply content of each code cell, by index."""
    from nbclient import NotebookClient

    replies: dict[int, dict] = {}

    def on_cell_executed(cell, cell_index, execute_reply, **_):
        replies[cell_index] = dict(execute_reply.get("content", {}))

    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"the cell ran for more than {timeout} s",
                          "traceback": []},
        extra_arguments=KERNEL_ARGS, resources={"metadata": {"path": str(workdir)}},
        on_cell_executed=on_cell_executed)
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up warnings are noise here
    return replies


def _test_result(cell_id: str, max_points: float, reply: dict | None, missing_answers: list[str]) -> TestResult:
    if missing_answers:
        return TestResult(cell_id, 0.0, max_points, "missing",
                          f"answer cell(s) {', '.join(missing_answers)} not found in your notebook "
                          "(deleted, renamed, or changed cell type); they are graded as blank")
    if reply is None:
        return TestResult(cell_id, 0.0, max_points, "error", "the test did not run")
    if reply.get("status") == "ok":
        return TestResult(cell_id, max_points, max_points, "pass")
    ename, evalue = str(reply.get("ename", "Error")), str(reply.get("evalue", ""))
    if ename == "CellTimeoutError":
        status, message = "timeout", evalue
    elif ename == "VerdictFailure":
        status, message = "fail", evalue
    else:
        status, message = "error", f"{ename}: {evalue}" if evalue else ename
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT] + " ... (message cut)"
    return TestResult(cell_id, 0.0, max_points, status, message)


def grade_notebook(path: str | Path, assignment: str | None = None, timeout: int = CELL_TIMEOUT_S) -> GradeReport:
    """Grade the notebook at ``path``; raise :class:`UsageError` if it cannot be graded at all."""
    started = time.monotonic()
    submission = read_notebook(path)
    if assignment is None:
        assignment = identify_assignment(submission)
    elif assignment not in assignments():
        raise UsageError(f"unknown assignment {assignment!r}; known: {', '.join(assignments())}")
    source = read_notebook(source_notebook(assignment))
    release = read_notebook(release_notebook(assignment))
    nb, missing = build_graded_notebook(source, submission, release)

    with tempfile.TemporaryDirectory(prefix="autograde-grade-") as tmp:
        replies = _execute(nb, Path(tmp), timeout)

    tests, answers_since_last_test = [], []
    for cell in graded_cells(nb):
        if cell.role == "answer":
            answers_since_last_test.append(cell.grade_id)
        elif cell.role == "test":
            lost = [a for a in answers_since_last_test if a in missing]
            tests.append(_test_result(cell.grade_id, cell.points, replies.get(cell.index), lost))
            answers_since_last_test = []
    notes = [f"answer cell '{m}' is missing from your notebook; it was graded as blank" for m in missing]
    manual_max = sum(c.points for c in graded_cells(nb) if c.role == "manual")
    return GradeReport(assignment=assignment, notebook=str(path),
                       score=sum(t.points for t in tests), max_score=sum(t.max_points for t in tests),
                       manual_max=manual_max, tests=tests, notes=notes,
                       seconds=round(time.monotonic() - started, 2))
