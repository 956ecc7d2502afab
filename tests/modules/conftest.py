"""Shared by every module's tests: a module's test file declares ASSIGNMENT, MUTANTS and
ALTERNATIVE; the `reports` fixture grades them all once, two at a time, through the real grader."""

import pytest
from submissions import grade_mutants_and_alternative


@pytest.fixture(scope="module")
def reports(request, tmp_path_factory):
    module = request.module
    folder = tmp_path_factory.mktemp(module.__name__.rsplit(".", 1)[-1])
    return grade_mutants_and_alternative(module.ASSIGNMENT, module.MUTANTS, module.ALTERNATIVE, folder)
