"""The structural rules that `python -m autograde check` applies to every source notebook."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_notebook

from autograde.checks import structure_problems

GOOD_TEST = '''"""Check that f doubles."""
from autograde.verdict import check
check(f, (1,), 2)
### BEGIN HIDDEN TESTS
check(f, (2,), 4)
### END HIDDEN TESTS
'''


def notebook(test_source: str, grade_id: str = "correct_f", points: float = 1):
    answer = new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                           metadata={"nbgrader": {"grade_id": "f_answer", "solution": True, "grade": False,
                                                  "locked": False, "schema_version": 3}})
    test = new_code_cell(test_source, metadata={"nbgrader": {"grade_id": grade_id, "solution": False, "grade": True,
                                                             "locked": True, "points": points, "schema_version": 3}})
    return new_notebook(cells=[answer, test])


def test_a_well_formed_notebook_has_no_problems():
    assert structure_problems(notebook(GOOD_TEST)) == []


def test_each_rule_is_enforced():
    cases = {
        "not readable": notebook(GOOD_TEST, grade_id="cell-938593c4a215c6cc"),
        "no points": notebook(GOOD_TEST, points=0),
        "docstring": notebook(GOOD_TEST.replace('"""Check that f doubles."""\n', "")),
        "no hidden-tests block": notebook(GOOD_TEST.split("### BEGIN")[0]),
        "no visible test": notebook(GOOD_TEST.replace("check(f, (1,), 2)\n", "")),
        "bare assert": notebook(GOOD_TEST.replace("check(f, (1,), 2)", "check(f, (1,), 2)\nassert f(1) == 2")),
        "does not parse": notebook(GOOD_TEST + "def broken(:\n"),
    }
    for expected, nb in cases.items():
        problems = structure_problems(nb)
        assert any(expected in p for p in problems), (expected, problems)


def test_a_notebook_without_tests_is_a_problem():
    nb = notebook(GOOD_TEST)
    nb.cells = nb.cells[:1]
    assert structure_problems(nb) == ["no autograded test cell"]


def test_visible_code_that_imports_the_reference_is_a_problem():
    """The student bundle has no autograde/reference/: a visible test that imports it breaks for a class."""
    imports = ["from autograde.reference import requirements_estimation as ref",
               "from autograde.reference.requirements_estimation import average_rps",
               "import autograde.reference.requirements_estimation",
               "from autograde import verdict, reference",
               'import importlib; ref = importlib.import_module("autograde.reference.requirements_estimation")']
    for line in imports:
        visible = GOOD_TEST.replace("check(f, (1,), 2)\n", f"{line}\ncheck(f, (1,), 2)\n")
        problems = structure_problems(notebook(visible))
        assert any("correct_f" in p and "imports autograde.reference" in p for p in problems), (line, problems)
    after_hidden = GOOD_TEST + "from autograde.reference import requirements_estimation as ref\n"
    assert any("imports autograde.reference" in p for p in structure_problems(notebook(after_hidden)))
    provided = notebook(GOOD_TEST)
    provided.cells.insert(0, new_code_cell("from autograde.reference.caching import lru_results"))
    assert structure_problems(provided) == [
        "cell 0: imports autograde.reference outside the hidden-tests block; students get no reference answers "
        "(python -m autograde student-bundle), so visible tests must use literal expected values or a judge from "
        "autograde.judges"]


def test_the_reference_in_the_hidden_block_and_judges_anywhere_are_fine():
    hidden = GOOD_TEST.replace("### BEGIN HIDDEN TESTS\n", "### BEGIN HIDDEN TESTS\n"
                               "from autograde.reference import requirements_estimation as ref\n")
    assert structure_problems(notebook(hidden)) == []
    judged = GOOD_TEST.replace("check(f, (1,), 2)\n", "from autograde.judges.common import one_of\n"
                               'check(f, (1,), 2)  # "autograde.reference" in a comment or string is no import\n')
    assert structure_problems(notebook(judged)) == []


def test_a_solution_that_grades_with_notes_is_a_problem():
    """A provided cell that fails or times out under the grader would confuse every learner."""
    from autograde.checks import check_assignment
    from autograde.grading import GradeReport

    name = "01-requirements-estimation"
    clean = GradeReport(name, "solution.ipynb", 14, 14, 3)
    blank = GradeReport(name, "release.ipynb", 0, 14, 3)
    assert check_assignment(name, solution=clean, release=blank).problems == []
    noisy = GradeReport(name, "solution.ipynb", 14, 14, 3, notes=["cell 7 (a provided cell, starting `x`): boom"])
    problems = check_assignment(name, solution=noisy, release=blank).problems
    assert len(problems) == 1 and "notes" in problems[0] and "cell 7" in problems[0], problems
