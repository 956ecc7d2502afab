"""`python -m autograde student-bundle`: what a class gets, and nothing it must not; and that what it
gets works: every release notebook, with the solution's answers put in, runs from the unzipped bundle
alone, in a kernel that cannot import the reference answers."""

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from submissions import answer_sources

from autograde.bundle import FORBIDDEN_CONTENT, write_bundle
from autograde.layout import assignments, source_notebook
from autograde.notebook import cell_role, nbgrader_meta

PREFIX = "system-design-course/"


def test_bundle_has_the_course_and_no_answers(tmp_path):
    out = tmp_path / "class.zip"
    result = subprocess.run([sys.executable, "-m", "autograde", "student-bundle", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        for name in names:
            content = zf.read(name)
            assert not any(marker.encode() in content for marker in FORBIDDEN_CONTENT), name
    for assignment in assignments():
        assert f"{PREFIX}notebooks/{assignment}/{assignment}.ipynb" in names
    assert f"{PREFIX}autograde/verdict.py" in names and f"{PREFIX}course/sim.py" in names
    assert f"{PREFIX}autograde/judges/__init__.py" in names and f"{PREFIX}autograde/judges/common.py" in names
    assert f"{PREFIX}Makefile" in names and f"{PREFIX}pyproject.toml" in names
    for secret in ("solutions/", "autograde/reference/", "tests/", ".git/", "grading/", "autograde/grading.py"):
        assert not any(n.startswith(PREFIX + secret) for n in names), secret


# What the bundle's kernel reports before the notebook runs: where `autograde` and `course` come
# from, and whether the reference answers can be imported.
PROBE = '''import json, sys
import autograde, autograde.judges, autograde.verdict, course
try:
    import autograde.reference
    reference = "importable from " + autograde.reference.__file__
except ModuleNotFoundError:
    reference = "missing"
print(json.dumps({"autograde": autograde.__file__, "course": course.__file__, "reference": reference}))'''


def bundle_kernel(folder: Path, root: Path) -> tuple[KernelSpecManager, dict]:
    """A kernelspec for the venv's Python that sees the packages of the bundle at ``root`` and the
    venv's third-party packages, and nothing of this repository: ``-S`` skips site-packages' .pth
    files, among them the editable install's finder, which would find ``autograde.reference`` here."""
    spec = folder / "kernels" / "bundle"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-S", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "bundle", "language": "python"}))
    site_packages = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COURSE_", "JUPYTER", "IPYTHON"))}
    env.update(PYTHONPATH=os.pathsep.join([str(root), *sorted(site_packages)]), PYTHONNOUSERSITE="1",
               IPYTHONDIR=str(folder / "ipython"), MPLCONFIGDIR=str(folder / "matplotlib"), MPLBACKEND="Agg")
    return KernelSpecManager(kernel_dirs=[str(folder / "kernels")]), env


def with_solution_answers(release: Path, assignment: str):
    """The bundle's release notebook with the solution's answer cells put in, matched by grade_id."""
    nb = nbformat.read(release, as_version=4)
    answers = answer_sources(source_notebook(assignment))
    filled = set()
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if cell_role(cell) in ("answer", "manual") and grade_id in answers:
            cell.source = answers[grade_id]
            filled.add(grade_id)
    assert filled == set(answers), f"{assignment}: answer cells missing from the release: {set(answers) - filled}"
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE))
    return nb


def run_from_bundle(assignment: str, root: Path, folder: Path) -> dict:
    """Run one filled-in release notebook in the bundle's kernel; returns what the probe printed."""
    release = root / "notebooks" / assignment / f"{assignment}.ipynb"
    nb = with_solution_answers(release, assignment)
    specs, env = bundle_kernel(folder / assignment, root)
    km = KernelManager(kernel_name="bundle", kernel_spec_manager=specs)
    client = NotebookClient(nb, km=km, timeout=300, allow_errors=False, record_timing=False,
                            resources={"metadata": {"path": str(release.parent)}})
    # nbclient shuts down only kernels it started with a manager of its own: this one is ours to end.
    try:
        client.execute(env=env, cleanup_kc=True)  # raises CellExecutionError, naming the cell, if any cell fails
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return json.loads("".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("name") == "stdout"))


def test_every_release_notebook_runs_from_the_bundle_alone(tmp_path):
    """A student unzips the bundle and runs a notebook with correct answers: every cell, visible tests
    included, runs without error, and nothing the bundle leaves out (the reference answers) is needed."""
    write_bundle(tmp_path / "class.zip")
    with zipfile.ZipFile(tmp_path / "class.zip") as zf:
        zf.extractall(tmp_path / "class")
    root = (tmp_path / "class" / PREFIX).resolve()
    with ThreadPoolExecutor(max_workers=2) as pool:
        probes = dict(zip(assignments(), pool.map(lambda a: run_from_bundle(a, root, tmp_path / "kernels"),
                                                  assignments())))
    for assignment, probe in probes.items():
        assert probe["reference"] == "missing", (assignment, probe)
        for package in ("autograde", "course"):
            assert Path(probe[package]).resolve().is_relative_to(root), (assignment, probe)
