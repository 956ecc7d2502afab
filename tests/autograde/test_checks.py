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
