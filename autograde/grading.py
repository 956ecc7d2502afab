"""Grade one notebook against the hidden tests of its assignment, in a throwaway workspace.

The notebook that runs is rebuilt from the instructor source: every cell comes from
solutions/, except the learner's answer cells, which are matched by ``grade_id``. So test
cells (with their hidden tests), read-only cells and metadata are the instructor's whatever the
submission did to them; an answer cell the learner deleted or renamed is replaced by the blank
release cell and the tests that depend on it score 0 with status ``missing``.

The learner's cells run in a sandbox (``autograde.sandbox``); test cells run here, in the
grader, and reach the learner's functions through proxies that return plain data. A test cell
earns its points when it runs without error (nbgrader's rule). Its status is ``pass``; ``fail``
when :class:`autograde.verdict.VerdictFailure` was raised (the message is the verdict's);
``error`` for any other exception; ``timeout`` when the learner's code ran out of time.

Time is the CPU time of the learner's processes (its cgroup's, else its process tree's), with
wall-clock time as a backstop: on a machine that is not busy, a cell also ends after its limit in
wall-clock time (code that sleeps or waits uses no CPU); on a busy one (load above its cores)
the wall-clock limit stretches, and if it runs out anyway the test gets status ``timeout`` with
``retry: true``: not graded (0 points withheld, not failed), grade again when the machine is quieter.
"""

from __future__ import annotations

import copy
import os
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Collection

from autograde.layout import UsageError, assignments, files_hidden_when_grading, release_notebook, source_notebook
from autograde.isolation import Limits
from autograde.beside import grading_beside
from autograde.notebook import (answer_names, cell_role, defined_names, free_names, graded_cells, nbgrader_meta,
                                read_notebook)
from autograde.sandbox import (CellTimeout, LearnerNames, LearnerProcess, LearnerProcessDied, TestCodeError, Zygote,
                               machine_busy)
from autograde.verdict import VerdictFailure

MESSAGE_LIMIT = 3000
OUTPUT_LIMIT = 20_000  # characters of one cell's output kept (the learner's side keeps as much, if not tampered with)
NAME_LIMIT = 100


def _cut(text, limit: int) -> str:
    """``text`` (whatever the learner's process sent) as a str of at most about ``limit`` characters.
    Enforced here, in the grader: the learner's code can replace its own output capture."""
    text = text if isinstance(text, str) else str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... ({len(text) - limit} more characters not kept)"


@dataclass
class TestResult:
    id: str
    points: float
    max_points: float
    status: str  # pass | fail | error | timeout | missing
    message: str = ""
    retry: bool = False  # not graded: the machine was too busy to tell (status timeout); grade again


@dataclass
class GradeReport:
    assignment: str
    notebook: str
    score: float
    max_score: float
    manual_max: float
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    isolation: str = ""
    seconds: float = 0.0
    notebook_run: tuple | None = field(default=None, repr=False, compare=False)  # (notebook, runs) for feedback
    busy: bool = False  # a cell (test or not) was stopped by the wall-clock backstop on a busy machine

    @property
    def retry(self) -> bool:
        """Some cell or test was not graded because the machine was too busy: grade the notebook again
        (the batch grader does, once); until then the score is incomplete, not a verdict."""
        return self.busy or any(t.retry for t in self.tests)

    def to_json(self) -> dict:
        """The documented JSON shape of ``python -m autograde grade --json``."""
        return {"assignment": self.assignment, "notebook": self.notebook, "score": self.score,
                "max_score": self.max_score, "manual_max": self.manual_max,
                "tests": [asdict(t) for t in self.tests], "notes": self.notes, "isolation": self.isolation,
                "retry": self.retry}

    def table(self) -> str:
        """The human-readable report: one row per test, then the total."""
        width = max([len(t.id) for t in self.tests] + [4])
        lines = [f"{self.assignment}  ({self.notebook})", "",
                 f"{'test':<{width}}  {'points':>9}  status"]
        for t in self.tests:
            status = f"{t.status} (not graded: grade again)" if t.retry else t.status
            lines.append(f"{t.id:<{width}}  {_num(t.points):>4}/{_num(t.max_points):<4}  {status}")
        lines.append(f"{'total':<{width}}  {_num(self.score):>4}/{_num(self.max_score):<4}"
                     + (f"  (+{_num(self.manual_max)} points graded by hand)" if self.manual_max else "")
                     + ("  (incomplete: some tests were not graded, grade again)" if self.retry else ""))
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


def identify_assignment(nb, notebooks: dict | None = None) -> str:
    """The assignment whose graded cells this notebook shares most (by ``grade_id``). ``notebooks``: each
    candidate assignment's notebook path (default: the instructor sources; the student bundle passes the
    releases)."""
    ids = {c.grade_id for c in graded_cells(nb)}
    if not ids:
        raise UsageError("the notebook has no nbgrader cells, so it belongs to no assignment "
                         "(pass --assignment NAME if it is a course notebook that lost its metadata)")
    if notebooks is None:
        notebooks = {name: source_notebook(name) for name in assignments()}
    overlap = {name: len(ids & {c.grade_id for c in graded_cells(read_notebook(path))})
               for name, path in notebooks.items()}
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
        if grade_id in blanks:  # the release's metadata (its checksum is the blank answer's, as nbgrader expects)
            cell.metadata = copy.deepcopy(blanks[grade_id].metadata)
        if theirs is not None and theirs.cell_type == cell.cell_type:
            cell.source = theirs.source
        else:
            missing.append(grade_id)
            cell.source = blanks[grade_id].source if grade_id in blanks else ""
    return nb, missing


class GraderFault(Exception):
    """Grading failed for a reason that is not the submission's (the sandbox, the machine)."""


def _busy_note() -> str:
    """On a machine busy with other work, say so (only wall-clock limits can be hit because of it)."""
    busy, how = machine_busy()
    return f" (this machine was busy: {how})" if busy else ""


def _timeout_message(exc: CellTimeout, what: str, seconds: float) -> str:
    """Why ``what`` ("your code ... in this test", "the cell") ran out of time."""
    if exc.retry:
        return (f"not graded: the machine was too busy ({machine_busy()[1]}) for {what} to finish within "
                f"{seconds:g} s of CPU time or the stretched wall-clock limit; {exc}. This is not a verdict "
                "on your code: grade again when fewer notebooks are graded at once")
    if exc.reason == "cpu":
        return f"{what} ran for more than {seconds:g} s of CPU time; {exc}"
    return f"{what} ran for more than {seconds:g} s; {exc}{_busy_note()}"


@dataclass
class CellRun:
    """What happened when one code cell ran: status ok | fail | error | timeout, a message, output;
    ``retry`` when it was not graded because the machine was too busy."""

    status: str
    message: str = ""
    output: str = ""
    retry: bool = False


def _run_test_cell(source: str, learner: LearnerProcess, cell_seconds: float,
                   reachable: frozenset[str] | None = None) -> CellRun:
    """Run a test cell here, in the grader, with the learner's names as proxies into the sandbox.

    ``reachable``: the names the answer cells define; the test cell reaches no other learner-side name."""
    try:
        code = compile(source, "<test cell>", "exec")
        with grading_beside(learner):
            exec(code, LearnerNames(learner, reachable))  # noqa: S102 (the instructor's test code)
        return CellRun("ok")
    except VerdictFailure as exc:
        return CellRun("fail", _cut(str(exc), 4 * MESSAGE_LIMIT))  # _test_result cuts its middle
    except CellTimeout as exc:
        return CellRun("timeout", _timeout_message(exc, "your code in this test", cell_seconds), retry=exc.retry)
    except LearnerProcessDied as exc:
        return CellRun("error", f"your code ended its own process during this test ({exc})")
    except TestCodeError as exc:
        return CellRun("error", f"the test itself is broken (tell the instructor): {exc}")
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return CellRun("error", _cut(text, MESSAGE_LIMIT))


def _run_learner_cell(source: str, learner: LearnerProcess, deadline: float, cell_seconds: float) -> CellRun:
    try:
        reply = learner.execute(source, deadline)
    except CellTimeout as exc:
        return CellRun("timeout", _timeout_message(exc, "the cell", cell_seconds), retry=exc.retry)
    except LearnerProcessDied as exc:
        return CellRun("error", f"the cell ended its own process ({exc})")
    output = _cut(reply.get("output", ""), OUTPUT_LIMIT)
    error = reply.get("error")
    if error:
        if not isinstance(error, dict):
            error = {"message": error}
        return CellRun("error", f"{_cut(error.get('type'), NAME_LIMIT)}: {_cut(error.get('message'), MESSAGE_LIMIT)}",
                       output)
    return CellRun("ok", output=output)


def run_notebook(nb, zygote: Zygote, only_tests: Collection[str] | None = None,
                 reachable: frozenset[str] | None = None, hidden: Collection[str] = ()) -> dict[int, CellRun]:
    """Run every code cell: learner-side cells in a fresh sandbox, test cells here. By cell index.

    With ``only_tests`` (test cells' grade_ids), other test cells are not run, and nothing after the
    last of the chosen test cells runs: what mutation testing needs, where a mistake in one answer
    concerns only the tests that use it. ``hidden``: files the learner's code may not read (they hold
    this assignment's answers: ``files_hidden_when_grading``).

    If the learner's process dies (it exited, crashed, hit a limit or was killed after a timeout),
    a new one is started and the learner-side cells that ran before are replayed, so one bad cell
    costs only the tests that depend on it. The whole notebook has one hard deadline.
    """
    limits = zygote.limits
    started = time.monotonic()
    notebook_deadline = started + limits.notebook_seconds  # wall-clock; stretched on a busy machine
    notebook_backstop = started + limits.notebook_seconds * max(1.0, limits.backstop_factor)
    runs: dict[int, CellRun] = {}
    replay: list[str] = []
    last_index = len(nb.cells) - 1
    if only_tests is not None:
        chosen = [c.index for c in graded_cells(nb) if c.role == "test" and c.grade_id in only_tests]
        last_index = max(chosen, default=-1)
    learner = zygote.spawn(hidden)
    try:
        for index, cell in enumerate(nb.cells):
            if index > last_index:
                break
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if only_tests is not None and cell_role(cell) == "test" and \
                    str(nbgrader_meta(cell).get("grade_id")) not in only_tests:
                continue
            now = time.monotonic()
            if now >= notebook_deadline and (now >= notebook_backstop or not machine_busy()[0]):
                retry = now >= notebook_backstop
                runs[index] = CellRun("timeout", f"the notebook used up its {limits.notebook_seconds:g} s "
                                                 "before this cell ran"
                                      + (" (not graded: the machine was too busy; grade again)" if retry else ""),
                                      retry=retry)
                continue
            if not learner.alive:
                learner = zygote.spawn(hidden)
                for earlier in replay:
                    learner.start_clock(limits.cell_seconds, notebook_deadline, notebook_backstop)
                    _run_learner_cell(earlier, learner, learner.deadline, limits.cell_seconds)
            learner.start_clock(limits.cell_seconds, max(notebook_deadline, time.monotonic() + 1.0),
                                notebook_backstop)
            if cell_role(cell) == "test":
                runs[index] = _run_test_cell(cell.source, learner, limits.cell_seconds, reachable)
            else:
                runs[index] = _run_learner_cell(cell.source, learner, learner.deadline, limits.cell_seconds)
                if learner.alive:  # a cell that killed its process is not replayed
                    replay.append(cell.source)
    finally:
        learner.kill()
    return runs


def _test_result(cell_id: str, max_points: float, run: CellRun | None, missing_answers: list[str]) -> TestResult:
    if missing_answers:
        return TestResult(cell_id, 0.0, max_points, "missing",
                          f"answer cell(s) {', '.join(missing_answers)} not found in your notebook "
                          "(deleted, renamed, or changed cell type); they are graded as blank")
    if run is None:
        return TestResult(cell_id, 0.0, max_points, "error", "the test did not run")
    if run.status == "ok":
        return TestResult(cell_id, max_points, max_points, "pass")
    message = run.message
    if len(message) > MESSAGE_LIMIT:  # cut the middle: the end holds the replay line
        message = message[:MESSAGE_LIMIT - 600] + "\n  ... (message cut) ...\n" + message[-500:]
    return TestResult(cell_id, 0.0, max_points, run.status, message, retry=run.retry)


def _cell_problem_notes(nb, runs: dict[int, CellRun]) -> list[str]:
    """A note for each non-test cell that failed or ran out of time: the tests after it may fail
    because of it, and a slow or crashing answer would otherwise go unexplained."""
    notes = []
    for index, run in sorted(runs.items()):
        cell = nb.cells[index]
        if run.status == "ok" or cell_role(cell) == "test":
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        what = f"your answer cell '{grade_id}'" if cell_role(cell) in ("answer", "manual") else "a provided cell"
        first_line = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
        message = run.message if len(run.message) <= 300 else run.message[:300] + " ..."
        notes.append(f"cell {index + 1} ({what}, starting `{first_line[:60]}`): {message}")
    return notes


def prepare(path: str | Path, assignment: str | None = None):
    """Read a submission and rebuild it on the instructor source. Raises UsageError if unusable."""
    submission = read_notebook(path)
    if assignment is None:
        assignment = identify_assignment(submission)
    elif assignment not in assignments():
        raise UsageError(f"unknown assignment {assignment!r}; known: {', '.join(assignments())}")
    source = read_notebook(source_notebook(assignment))
    release = read_notebook(release_notebook(assignment))
    nb, missing = build_graded_notebook(source, submission, release)
    return assignment, nb, missing


def grade_prepared(path: str | Path, assignment: str, nb, missing: list[str], zygote: Zygote,
                   only_tests: Collection[str] | None = None, answers_from=None) -> GradeReport:
    """Grade a prepared notebook. With ``only_tests``, the report holds just those tests (and its
    score and maximum are theirs); see :func:`run_notebook`. ``answers_from``: the notebook whose answer
    cells name what test cells may reach in the learner's process (default: the instructor source;
    the student bundle, which has none, passes the release)."""
    started = time.monotonic()
    if only_tests is not None:
        unknown = set(only_tests) - {c.grade_id for c in graded_cells(nb) if c.role == "test"}
        if unknown:
            raise UsageError(f"no such test cells in {assignment}: {', '.join(sorted(unknown))}")
    if answers_from is None:
        answers_from = read_notebook(source_notebook(assignment))
    runs = run_notebook(nb, zygote, only_tests, answer_names(answers_from), files_hidden_when_grading(assignment))
    tests, answers_since_last_test = [], []
    for cell in graded_cells(nb):
        if cell.role == "answer":
            answers_since_last_test.append(cell.grade_id)
        elif cell.role == "test":
            lost = [a for a in answers_since_last_test if a in missing]
            if only_tests is None or cell.grade_id in only_tests:
                tests.append(_test_result(cell.grade_id, cell.points, runs.get(cell.index), lost))
            answers_since_last_test = []
    notes = [f"answer cell '{m}' is missing from your notebook; it was graded as blank" for m in missing]
    notes += _cell_problem_notes(nb, runs)
    busy = any(run.retry for run in runs.values())
    if busy:
        notes.insert(0, "grading was incomplete: the machine was too busy to finish some cells in time, so their "
                        "tests are not a verdict on your code; grade again")
    manual_max = sum(c.points for c in graded_cells(nb) if c.role == "manual")
    return GradeReport(assignment=assignment, notebook=str(path),
                       score=sum(t.points for t in tests), max_score=sum(t.max_points for t in tests),
                       manual_max=manual_max, tests=tests, notes=notes, isolation=zygote.isolation,
                       seconds=round(time.monotonic() - started, 2), notebook_run=(nb, runs), busy=busy)


def grade_notebook(path: str | Path, assignment: str | None = None, limits: Limits | None = None,
                   zygote: Zygote | None = None, only_tests: Collection[str] | None = None) -> GradeReport:
    """Grade the notebook at ``path``; raise :class:`UsageError` if it cannot be graded at all.

    ``only_tests``: grade just these test cells (by grade_id); see :func:`run_notebook`."""
    assignment, nb, missing = prepare(path, assignment)
    if zygote is not None:
        return grade_prepared(path, assignment, nb, missing, zygote, only_tests)
    with Zygote(limits=limits) as own:
        return grade_prepared(path, assignment, nb, missing, own, only_tests)


def tests_using(nb, answer_id: str) -> list[str]:
    """The test cells that can see a change to answer cell ``answer_id``: the tests right after it
    (the grader's tie), and every later test cell that names something that cell defines."""
    cells = graded_cells(nb)
    answer = next((c for c in cells if c.grade_id == answer_id and c.role in ("answer", "manual")), None)
    if answer is None:
        raise UsageError(f"no answer cell {answer_id!r}")
    defined = defined_names(nb.cells[answer.index].source)
    chosen, tied = [], True
    for cell in cells:
        if cell.index <= answer.index or cell.role != "test":
            continue
        try:
            used = free_names(nb.cells[cell.index].source)
        except SyntaxError:
            used = defined  # cannot tell: keep it
        if tied or used & defined:
            chosen.append(cell.grade_id)
        tied = False
    return chosen


def _worker(slot: int, grader_pid: int, limits: Limits | None, todo, done) -> None:
    """One grading worker process: its own warm zygote, jobs from ``todo``, results to ``done``.

    Workers are processes, not threads, because the grader's half of grading (test cells, reference
    answers, comparisons) is Python code that threads would run one at a time."""
    import signal

    if sys.platform.startswith("linux"):  # the grader died: so does this worker (and its zygote)
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
    try:
        with Zygote(slot=slot, limits=limits, grader_pid=grader_pid) as zygote:
            while (job := todo.get()) is not None:
                index, (path, assignment, *rest) = job
                try:
                    result = grade_notebook(path, assignment, zygote=zygote, only_tests=rest[0] if rest else None)
                except UsageError as exc:
                    result = exc
                except Exception as exc:  # a fault of the grader or the machine: report it, go on
                    traceback.print_exc()
                    result = GraderFault(f"{type(exc).__name__}: {exc}")
                done.put((index, result))
    except Exception as exc:  # the sandbox itself could not start: every remaining job fails
        while (job := todo.get()) is not None:
            done.put((job[0], GraderFault(f"the grading sandbox failed: {exc}")))
    finally:
        done.put(None)


def iter_graded(jobs: list[tuple], workers: int = 2, limits: Limits | None = None):
    """Grade ``(path, assignment or None)`` or ``(path, assignment, only_tests)`` jobs, ``workers`` at a time, each worker a process with
    its own warm zygote; yield ``(index, result)`` as each finishes. A result is a GradeReport, the
    UsageError that made the notebook ungradable, or a GraderFault. One bad notebook never stops
    the others."""
    import multiprocessing

    if not jobs:
        return
    context = multiprocessing.get_context("spawn")
    todo, done = context.Queue(), context.Queue()
    count = max(1, min(workers, len(jobs)))
    for item in enumerate(jobs):
        todo.put(item)
    for _ in range(count):
        todo.put(None)
    processes = [context.Process(target=_worker, args=(slot, os.getpid(), limits, todo, done), daemon=True)
                 for slot in range(count)]
    for process in processes:
        process.start()
    try:
        running = count
        while running:
            item = done.get()
            if item is None:
                running -= 1
            else:
                yield item
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def grade_many(paths: list[str | Path], workers: int = 2, limits: Limits | None = None,
               assignment: str | None = None,
               only_tests: list[Collection[str] | None] | None = None) -> list[GradeReport | UsageError | GraderFault]:
    """Grade several notebooks; results in the order of ``paths``. ``only_tests[i]``, when given,
    limits notebook ``i`` to those test cells (None: all)."""
    paths = list(paths)
    chosen = list(only_tests) if only_tests is not None else [None] * len(paths)
    results: list = [None] * len(paths)
    jobs = [(p, assignment, sorted(t) if t is not None else None) for p, t in zip(paths, chosen)]
    for index, result in iter_graded(jobs, workers, limits):
        results[index] = result
    return results
