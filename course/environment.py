"""The environment check that opens every release notebook.

``check_environment("01_latency", data_files=("latency_numbers.csv",))`` checks the Python
version, that the course's packages are installed for the Python running the notebook, and that
the module's data files are present and match their hashes. It prints a short summary that ends
with how to grade the notebook, and returns the results as a dict. It never raises for a problem
it finds: it reports the problem, so the learner sees every problem at once.
"""

from __future__ import annotations

import importlib.metadata
import os
import shlex
import importlib.util
import sys
from typing import Any

MINIMUM_PYTHON: tuple[int, int] = (3, 11)
REQUIRED_PACKAGES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "matplotlib",
    "networkx",
    "simpy",
    "nbgrader",
)


def _check_python() -> dict[str, Any]:
    """Report the running Python's version and whether it is new enough."""
    version = ".".join(str(part) for part in sys.version_info[:3])
    ok = tuple(sys.version_info[:2]) >= MINIMUM_PYTHON
    problem = None
    if not ok:
        needed = ".".join(map(str, MINIMUM_PYTHON))
        problem = f"Python {version} is too old: the course needs Python {needed} or newer"
    return {"version": version, "executable": sys.executable, "ok": ok, "problem": problem}


def _check_package(name: str) -> dict[str, Any]:
    """Report whether package ``name`` can be imported by this Python, and its version."""
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError) as error:  # a broken or half-installed package
        return {"ok": False, "version": None, "problem": f"cannot be imported: {error}"}
    if not found:
        return {
            "ok": False,
            "version": None,
            "problem": f"not installed for {sys.executable}",
        }
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        version = None  # importable, but installed without metadata (for example, copied in)
    return {"ok": True, "version": version, "problem": None}


def _check_data_file(name: str) -> dict[str, Any]:
    """Report whether data file ``name`` is present and matches its hash in the manifest."""
    from course.data import verify  # imported here so that a broken data module is reported

    try:
        path = verify(name)
    except (FileNotFoundError, ValueError, OSError) as error:  # DataIntegrityError is a ValueError
        return {"ok": False, "path": None, "problem": str(error)}
    return {"ok": True, "path": str(path), "problem": None}


def _notebook_name(module: str) -> str:
    """Return the notebook file name for ``module`` ("01_latency" -> "01_latency.ipynb")."""
    if not isinstance(module, str) or not module.strip():
        raise ValueError(
            f"module must be the notebook's name, such as '01_latency'; got {module!r}"
        )
    module = module.strip()
    return module if module.endswith(".ipynb") else f"{module}.ipynb"


def check_environment(
    module: str,
    data_files: tuple[str, ...] = (),
    *,
    packages: tuple[str, ...] = REQUIRED_PACKAGES,
) -> dict[str, Any]:
    """Check that this notebook can run here, print a short summary, and return the results.

    ``module`` is the notebook's name without ``.ipynb`` (for example ``"01_latency"``);
    ``data_files`` names the files in ``data/`` that the notebook reads; ``packages`` are the
    packages to look for (by default the course's: numpy, pandas, matplotlib, networkx, simpy,
    nbgrader).

    It checks that Python is 3.11 or newer, that each package can be found by this Python
    (without importing it, which keeps the check fast; its version comes from
    ``importlib.metadata``), and that each data file is present and matches its SHA-256 in
    ``data/manifest.json``. The summary it prints ends with how to grade the notebook: one line
    to paste into a terminal, naming the notebook's folder (the kernel's current folder) and the
    Python running the notebook, so that a shell whose PATH puts another Python first (pyenv,
    conda) still grades with the course's.

    Returns ``{"python": {...}, "packages": {name: {...}}, "data": {name: {...}}, "ok": bool}``,
    where every inner dict has ``"ok"`` and ``"problem"`` (``None`` when ok), packages also
    ``"version"``, and data files ``"path"``. ``ok`` is True only if every check passed. A
    missing package or data file is reported, never raised; only an empty ``module`` raises
    ``ValueError``.
    """
    notebook = _notebook_name(module)
    python = _check_python()
    package_results = {name: _check_package(name) for name in packages}
    data_results = {name: _check_data_file(name) for name in data_files}
    ok = (
        python["ok"]
        and all(result["ok"] for result in package_results.values())
        and all(result["ok"] for result in data_results.values())
    )
    report = {"python": python, "packages": package_results, "data": data_results, "ok": ok}
    print(_summary(notebook, report))
    return report


def _summary(notebook: str, report: dict[str, Any]) -> str:
    """Return the human-readable summary that check_environment prints."""
    lines = [f"Environment check for {notebook}"]
    python = report["python"]
    mark = "ok " if python["ok"] else "NO "
    lines.append(f"  {mark} Python {python['version']} ({python['executable']})")
    if python["problem"]:
        lines.append(f"      {python['problem']}")
    for name, result in report["packages"].items():
        if result["ok"]:
            lines.append(f"  ok  {name} {result['version'] or '(version unknown)'}")
        else:
            lines.append(f"  NO  {name}: {result['problem']}")
    for name, result in report["data"].items():
        if result["ok"]:
            lines.append(f"  ok  data/{name} (sha256 matches the manifest)")
        else:
            lines.append(f"  NO  data/{name}: {result['problem']}")
    if report["ok"]:
        lines.append("All checks passed.")
    else:
        lines.append(
            "Some checks failed (marked NO above). Fix them before you start: select the course's "
            "Jupyter kernel, or set up the course's environment as the course README describes."
        )
    lines += _how_to_grade(notebook)
    return "\n".join(lines)


def grading_mode() -> str:
    """How ``python -m autograde grade`` grades with this Python: ``"full"`` (the course repository: the
    hidden tests too), ``"visible"`` (the student bundle, which has no reference answers: visible tests
    only), or ``"missing"`` (the course's ``autograde`` package cannot be imported by this Python)."""
    try:
        if importlib.util.find_spec("autograde") is None:
            return "missing"
        return "full" if importlib.util.find_spec("autograde.reference") is not None else "visible"
    except (ImportError, ValueError):
        return "missing"


def _how_to_grade(notebook: str) -> list[str]:
    mode = grading_mode()
    if mode == "missing":
        return ["To grade this notebook from a terminal, this Python needs the course installed: in the course's",
                f"folder run `{shlex.quote(sys.executable)} -m pip install -e .`, then run this cell again."]
    what = ("It runs the hidden tests too, as your instructor's grading does." if mode == "full" else
            "Visible tests only; hidden tests run when your instructor grades.")
    return [
        "To grade this notebook, save it, then paste this line into a terminal (in JupyterLab:\n"
        "File > New > Terminal). It names this folder and this Python, so it works whatever the\n"
        "terminal's current folder and whichever Python comes first on its PATH.",
        what,
        f"    {grade_command(notebook)}",
    ]


def grade_command(notebook: str) -> str:
    """The shell command that grades ``notebook`` in the current folder with the running Python."""
    return (f"cd {shlex.quote(os.getcwd())} && "
            f"{shlex.quote(sys.executable)} -m autograde grade {shlex.quote(notebook)}")
