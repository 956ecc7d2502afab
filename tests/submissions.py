"""Build learner submissions from a module's solution, and grade many of them at once.

A *mutant* is the solution with one typical mistake put into an answer cell; an *alternative*
is a correct solution written differently from ours. Module tests declare both as data and use
these helpers, so every module's tests have the same shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograde.grading import GradeReport, grade_many, tests_using
from autograde.layout import release_notebook, source_notebook
from autograde.notebook import cell_role, nbgrader_meta, read_notebook


@dataclass(frozen=True)
class Mutant:
    """A typical wrong answer: in answer cell ``cell``, text ``old`` becomes ``new``.

    ``loses`` names every test cell that must score 0; all others must keep full points.
    """

    cell: str
    old: str
    new: str
    loses: frozenset[str] = field(default_factory=frozenset)
    why: str = ""


def answer_sources(notebook_path: Path) -> dict[str, str]:
    nb = json.loads(Path(notebook_path).read_text())
    return {nbgrader_meta(c)["grade_id"]: "".join(c["source"]) for c in nb["cells"]
            if cell_role(c) in ("answer", "manual")}


def write_submission(assignment: str, path: Path, sources: dict[str, str]) -> Path:
    """The release notebook of ``assignment`` with answer cells replaced by ``sources`` (by grade_id)."""
    nb = json.loads(release_notebook(assignment).read_text())
    unknown = set(sources) - {nbgrader_meta(c).get("grade_id") for c in nb["cells"]}
    assert not unknown, f"no such answer cells: {unknown}"
    for cell in nb["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in sources:
            cell["source"] = sources[grade_id]
    path.write_text(json.dumps(nb))
    return path


def mutant_submission(assignment: str, mutant: Mutant, path: Path) -> Path:
    """The solution's answers, with ``mutant`` applied to one of them."""
    sources = answer_sources(source_notebook(assignment))
    original = sources[mutant.cell]
    assert original.count(mutant.old) == 1, f"{mutant.old!r} must occur once in answer cell {mutant.cell}"
    sources[mutant.cell] = original.replace(mutant.old, mutant.new)
    return write_submission(assignment, path, sources)


def grade_all(paths: dict[str, Path], workers: int = 2,
              only_tests: dict[str, set[str]] | None = None) -> dict[str, GradeReport]:
    """Grade several notebooks, ``workers`` at a time, through the real (sandboxed) grader.

    ``only_tests[name]`` limits that notebook's grading to those test cells (all when absent)."""
    chosen = [(only_tests or {}).get(name) for name in paths]
    reports = grade_many(list(paths.values()), workers=workers, only_tests=chosen)
    for name, report in zip(paths, reports):
        assert isinstance(report, GradeReport), f"{name} could not be graded: {report}"
    return dict(zip(paths, reports))


def grade_mutants_and_alternative(assignment: str, mutants: dict[str, Mutant], alternative: dict[str, str],
                                  folder: Path) -> dict[str, GradeReport]:
    """Grade every mutant and the alternative solution (named "alternative") of one module.

    A mutant is graded on the test cells that can see its answer cell (``tests_using``) and those it
    declares it loses; the others cannot change, so they are not run. The alternative is graded whole."""
    paths = {name: mutant_submission(assignment, m, folder / f"{name}.ipynb") for name, m in mutants.items()}
    solution = answer_sources(source_notebook(assignment))
    paths["alternative"] = write_submission(assignment, folder / "alternative.ipynb", {**solution, **alternative})
    source = read_notebook(source_notebook(assignment))
    only = {name: set(tests_using(source, m.cell)) | set(m.loses) for name, m in mutants.items()}
    return grade_all(paths, only_tests=only)


def assert_loses_exactly(report: GradeReport, name: str, mutant: Mutant) -> None:
    """The mutant loses the points of exactly the tests it declares, each with a full message."""
    lost = {t.id for t in report.tests if t.points < t.max_points}
    assert lost == mutant.loses, (f"{name} ({mutant.why}): expected to lose {sorted(mutant.loses)}, "
                                  f"lost {sorted(lost)}\n" + report.table())
    for t in report.tests:
        if t.id in lost:
            assert t.status == "fail", t
            for part in ("input:", "expected:", "got:", "replay:"):
                assert part in t.message, f"{t.id} message lacks {part!r}:\n{t.message}"


def assert_full_marks(report: GradeReport) -> None:
    assert report.score == report.max_score, report.table()  # the table includes every failure message


def assert_caught_by_hidden_tests(report: GradeReport, test_id: str, *message_parts: str) -> None:
    """The mistake fails exactly ``test_id``, with a message from a hidden seeded case.

    A test cell runs its visible checks first and stops at the first failure, so a message that names
    a hidden case's seed (pass it in ``message_parts``) shows that every visible check passed.
    """
    failing = [t for t in report.tests if t.status == "fail"]
    assert [t.id for t in failing] == [test_id], [(t.id, t.status) for t in report.tests if t.status != "pass"]
    for part in message_parts:
        assert part in failing[0].message, f"{part!r} not in:\n{failing[0].message}"


def assert_release_answer_cells_define_their_names(assignment: str, setup_id: str) -> None:
    """Run the release's setup cell, then each answer cell unchanged: each must run and define every function
    and class it names (a solution block inside a class body, for one, leaves the class undefinable)."""
    import ast

    import pytest

    nb = json.loads(release_notebook(assignment).read_text())
    namespace: dict = {}
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        source = "".join(cell["source"])
        if meta.get("grade_id") == setup_id:
            exec(compile(source, "setup", "exec"), namespace)
        elif cell["cell_type"] == "code" and cell_role(cell) == "answer":
            names = [n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            try:
                exec(compile(source, meta["grade_id"], "exec"), namespace)
            except Exception as exc:  # noqa: BLE001 (any error here is the bug)
                pytest.fail(f"input: the release's answer cell {meta['grade_id']} run unchanged; expected: it runs; "
                            f"got: {type(exc).__name__}: {exc}\n{source}")
            missing = [n for n in names if n not in namespace]
            assert not missing, (f"input: the release's answer cell {meta['grade_id']}; expected: it defines {names}; "
                                 f"got: {missing} undefined")
