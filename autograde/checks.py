"""``python -m autograde check``: the course's own rules, for every assignment.

- every graded cell has a readable ``grade_id``; every test cell has points, a first-line
  docstring ("Check that ..."), visible tests and a non-empty hidden-tests block;
- every answer cell has a contract in its reference module's ``CONTRACTS``
  (``autograde.contracts``); the exercise's text shows it exactly; a hidden-tests block checks it with
  ``check_contract``; the reference raises exactly where its error rules say; random cases vary
  every parameter;
- a test cell reaches in the learner's process only names that answer cells define;
- no code outside a hidden-tests block imports ``autograde.reference``: the student bundle has
  no reference answers, so visible tests use literal expected values or ``autograde.judges``;
- notebooks/ is exactly what ``autograde release`` generates from solutions/;
- the solution scores full marks with every cell running cleanly under the grader (no notes), and
  the untouched release scores 0 autograded points.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from autograde.contracts import contract_text_problems, contract_use_problems
from autograde.grading import GradeReport, grade_many
from autograde.layout import UsageError, assignments, release_notebook, source_notebook
from autograde.notebook import (HIDDEN_BEGIN, HIDDEN_END, answer_names, free_names, graded_cells, nbgrader_meta,
                                read_notebook)
from autograde.release import out_of_sync

READABLE_ID = re.compile(r"^[a-z][a-z0-9_]{2,60}$")
VERDICT_CALL = re.compile(r"\bcheck(_raises|_cases|_contract|_property)?\(")


@dataclass
class AssignmentCheck:
    assignment: str
    problems: list[str] = field(default_factory=list)
    solution_score: float | None = None
    release_score: float | None = None
    max_score: float | None = None

    def to_json(self) -> dict:
        return {"problems": self.problems, "solution_score": self.solution_score,
                "release_score": self.release_score, "max_score": self.max_score}


def structure_problems(nb) -> list[str]:
    """Rule violations in the cells of an instructor source notebook."""
    problems, seen = [], set()
    cells = graded_cells(nb)
    if not any(c.role == "test" for c in cells):
        problems.append("no autograded test cell")
    for cell in cells:
        where = f"cell {cell.index} ({cell.grade_id})"
        if not READABLE_ID.match(cell.grade_id) or re.match(r"^cell_?[0-9a-f]{6,}", cell.grade_id):
            problems.append(f"{where}: grade_id is not readable (use lower_snake_case that names the idea)")
        if cell.grade_id in seen:
            problems.append(f"{where}: grade_id is used twice")
        seen.add(cell.grade_id)
        if cell.role in ("test", "manual") and cell.points <= 0:
            problems.append(f"{where}: no points")
        if cell.role == "test":
            problems += [f"{where}: {p}" for p in _test_cell_problems(nb.cells[cell.index].source)]
    problems += _reference_import_problems(nb)
    problems += _learner_side_name_problems(nb)
    return problems


def _learner_side_name_problems(nb) -> list[str]:
    """Test cells that rely on a learner-side name that no answer cell defines: the grader would not
    reach it (an answer cell could replace a provided helper and decide its own verdict)."""
    reachable = answer_names(nb)
    problems = []
    for cell in graded_cells(nb):
        if cell.role != "test":
            continue
        try:
            outside = sorted(free_names(nb.cells[cell.index].source) - reachable)
        except SyntaxError:
            continue  # reported by _test_cell_problems
        if outside:
            problems.append(f"cell {cell.index} ({cell.grade_id}): uses {', '.join(outside)}, which no answer cell "
                            "defines; import it in the test cell (wrapped with autograde.beside.beside_learner if "
                            "it must run next to the learner's code)")
    return problems


REFERENCE = "autograde.reference"


def _visible_source(source: str) -> str:
    """The code of a cell without its hidden-tests blocks: what the student release keeps."""
    parts, rest = [], source
    while HIDDEN_BEGIN in rest:
        before, after = rest.split(HIDDEN_BEGIN, 1)
        parts.append(before)
        rest = after.split(HIDDEN_END, 1)[1] if HIDDEN_END in after else ""
    return "".join(parts + [rest])


def _imports_reference(code: str) -> bool:
    """Whether ``code`` imports ``autograde.reference`` (or a module of it) in any form."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return REFERENCE in code or re.search(r"from\s+autograde\s+import\s+[^\n]*\breference\b", code) is not None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")):
            names = [str(node.args[0].value)]  # importlib.import_module("autograde.reference...")
        else:
            continue
        if any(name == REFERENCE or name.startswith(REFERENCE + ".") for name in names):
            return True
    return False


def _reference_import_problems(nb) -> list[str]:
    """Code cells that import the reference answers where a student's copy would run it."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not _imports_reference(_visible_source(cell.source)):
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        where = f"cell {index} ({grade_id})" if grade_id else f"cell {index}"
        problems.append(f"{where}: imports {REFERENCE} outside the hidden-tests block; students get no reference "
                        "answers (python -m autograde student-bundle), so visible tests must use literal expected "
                        "values or a judge from autograde.judges")
    return problems


def _test_cell_problems(source: str) -> list[str]:
    problems = []
    try:
        module = ast.parse(source)
        doc = ast.get_docstring(module)
    except SyntaxError as exc:
        return [f"test cell does not parse ({exc.msg}, line {exc.lineno})"]
    if not doc or not doc.startswith("Check that"):
        problems.append('test cell must start with a docstring "Check that ..."')
    if HIDDEN_BEGIN not in source or HIDDEN_END not in source:
        return problems + ["test cell has no hidden-tests block"]
    visible = source.split(HIDDEN_BEGIN)[0] + source.split(HIDDEN_END, 1)[1]
    hidden = source.split(HIDDEN_BEGIN, 1)[1].split(HIDDEN_END, 1)[0]
    if not VERDICT_CALL.search(visible):
        problems.append("test cell has no visible test (a check(...) call outside the hidden block)")
    if not VERDICT_CALL.search(hidden):
        problems.append("hidden-tests block has no check(...) call")
    if re.search(r"^\s*assert\b", source, re.MULTILINE):
        problems.append("test cell uses a bare assert: verdicts go through autograde.verdict")
    return problems


def check_assignment(name: str, solution: GradeReport | None = None,
                     release: GradeReport | None = None) -> AssignmentCheck:
    """The rules for one assignment; pass the two grade reports if they were made already."""
    result = AssignmentCheck(name)
    source = read_notebook(source_notebook(name))
    result.problems += structure_problems(source)
    result.problems += contract_text_problems(name, source) + contract_use_problems(name, source)
    if not release_notebook(name).is_file():
        result.problems.append(f"notebooks/{name}/{name}.ipynb is missing: run `python -m autograde release`")
        return result
    stale = out_of_sync(name)
    if stale:
        result.problems.append("release out of sync with solutions/ (run `python -m autograde release`): "
                               + ", ".join(stale))
    if solution is None or release is None:
        solution, release = grade_many([source_notebook(name), release_notebook(name)], assignment=name)
    result.solution_score, result.release_score = solution.score, release.score
    result.max_score = solution.max_score
    if solution.score != solution.max_score:
        failing = [f"{t.id} ({t.status}: {t.message.splitlines()[0] if t.message else ''})"
                   for t in solution.tests if t.status != "pass"]
        result.problems.append(f"solution scores {solution.score:g}/{solution.max_score:g}; failing: "
                               + "; ".join(failing))
    if solution.notes:  # a provided cell that fails or is slow under the grader would confuse every learner
        result.problems.append("the solution's grading has notes (each cell must run cleanly under the grader): "
                               + "; ".join(solution.notes))
    if release.score != 0:
        passing = [t.id for t in release.tests if t.points > 0]
        result.problems.append(f"blank release scores {release.score:g}, not 0; passing: {', '.join(passing)}")
    return result


def check_all(names: list[str] | None = None, workers: int = 2) -> list[AssignmentCheck]:
    """Grade every solution and blank release (``workers`` at a time), then check each assignment."""
    names = names or assignments()
    paths = []
    for name in names:
        if release_notebook(name).is_file():
            paths += [(name, source_notebook(name)), (name, release_notebook(name))]
    reports: dict[str, list] = {name: [] for name in names}
    for (name, _), report in zip(paths, grade_many([p for _, p in paths], workers=workers)):
        if not isinstance(report, GradeReport):
            raise UsageError(f"{name}: {report}")
        reports[name].append(report)
    return [check_assignment(name, *reports[name]) for name in names]
