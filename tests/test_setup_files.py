"""The set-up files agree with each other and keep grading workspaces out of git."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _requirement(spec: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    assert match, spec
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_lists_the_same_packages_as_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pip_deps = dict(_requirement(d) for d in pyproject["project"]["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_deps = dict(_requirement(d) for d in env["dependencies"] if isinstance(d, str))
    python = conda_deps.pop("python")
    conda_deps.pop("pip")
    assert conda_deps == pip_deps, (
        f"only in environment.yml: {sorted(set(conda_deps.items()) - set(pip_deps.items()))}; "
        f"only in pyproject.toml: {sorted(set(pip_deps.items()) - set(conda_deps.items()))}")
    assert python == pyproject["project"]["requires-python"]


def test_grading_workspaces_and_environments_are_ignored():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in (".venv/", "grading/", "gradebook.db", "__pycache__/", ".ipynb_checkpoints/"):
        assert entry in ignored


def test_nbgrader_config_points_at_the_course_layout():
    text = (ROOT / "nbgrader_config.py").read_text()
    assert 'source_directory = "solutions"' in text and 'release_directory = "notebooks"' in text
    for workspace in ("grading/submitted", "grading/autograded", "grading/feedback"):
        assert workspace in text


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
    assert re.search(r"^test:", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert re.search(r"^course:", (ROOT / "Makefile").read_text(), re.MULTILINE)


# What only the tests use: a learner's install (the student bundle's `pip install -e .`) must not pull these in.
TEST_ONLY = {"pytest", "nbval", "hypothesis", "pyyaml", "playwright", "pytest-xdist"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_a_learner_installs_no_test_tools_and_make_test_installs_them():
    project = _pyproject()["project"]
    learner = set(dict(_requirement(d) for d in project["dependencies"]))
    test_extra = set(dict(_requirement(d) for d in project["optional-dependencies"]["test"]))
    assert not learner & TEST_ONLY, f"test tools in the learner's dependencies: {sorted(learner & TEST_ONLY)}"
    assert TEST_ONLY <= test_extra, f"missing from the [test] extra: {sorted(TEST_ONLY - test_extra)}"
    assert {"jupyterlab", "nbgrader", "numpy", "pandas", "matplotlib", "networkx", "simpy"} <= learner
    setup = re.search(r"^\$\(STAMP\):.*?(?=^\S)", (ROOT / "Makefile").read_text(), re.MULTILINE | re.DOTALL)
    extras = re.search(r"pip install --quiet -e '\.\[([a-z,]+)\]'", setup.group(0)) if setup else None
    assert extras and "test" in extras.group(1).split(","), \
        f"the Makefile's setup must install the [test] extra for `make test`; its recipe:\n{setup and setup.group(0)}"


def test_every_third_party_module_the_tests_import_is_installed_by_the_test_extra():
    """A test that imports a tool nobody declared works only on machines that happen to have it."""
    project = _pyproject()["project"]
    declared = set(dict(_requirement(d) for d in project["dependencies"] + project["optional-dependencies"]["test"]))
    module_to_package = {"yaml": "pyyaml", "hypothesis": "hypothesis", "pytest": "pytest",
                         "playwright": "playwright", "nbval": "nbval"}
    imported = set()
    for path in (ROOT / "tests").rglob("*.py"):
        imported |= set(re.findall(r"^\s*(?:import|from)\s+(\w+)", path.read_text(), re.MULTILINE))
    needed = {module_to_package[m] for m in imported & set(module_to_package)} | {"nbval"}  # nbval: `make test`
    assert needed <= declared, f"imported by tests/ (or run by make test) but not declared: {sorted(needed - declared)}"
