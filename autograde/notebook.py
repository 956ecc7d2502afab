"""Reading notebooks and their nbgrader cell metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograde.layout import UsageError

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


@dataclass(frozen=True)
class GradedCell:
    """An nbgrader cell that matters for grading."""

    grade_id: str
    role: str  # "answer" (autograded code), "test", "manual" (written answer), "readonly"
    points: float
    index: int


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook, raising :class:`UsageError` with a one-line reason if it is unusable."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if not path.is_file():
        raise UsageError(f"{path}: not a file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from exc
    if not raw.strip():
        raise UsageError(f"{path}: the file is empty, not a notebook")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a notebook (not UTF-8 text)") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not a notebook (malformed JSON at line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise UsageError(f"{path}: not a notebook (no list of cells)")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        raise UsageError(f"{path}: not a valid notebook ({type(exc).__name__})") from exc
    for cell in nb.cells:
        if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
            raise UsageError(f"{path}: not a valid notebook (a cell has no type or no source)")
    return nb


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_role(cell) -> str | None:
    """What nbgrader does with this cell, or None for an ordinary cell."""
    meta = nbgrader_meta(cell)
    if not meta.get("grade_id"):
        return None
    if meta.get("solution") and meta.get("grade"):
        return "manual"
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    if meta.get("locked") or meta.get("task"):
        return "readonly"
    return None


def graded_cells(nb) -> list[GradedCell]:
    """The nbgrader cells of a notebook, in order."""
    cells = []
    for index, cell in enumerate(nb.cells):
        role = cell_role(cell)
        if role is None:
            continue
        meta = nbgrader_meta(cell)
        points = meta.get("points") or 0
        cells.append(GradedCell(str(meta["grade_id"]), role,
                                float(points) if isinstance(points, (int, float)) else 0.0, index))
    return cells


def defined_names(source: str) -> set[str]:
    """Names a cell binds at its top level: functions, classes, assignments, imports."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        else:
            names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def answer_names(nb) -> frozenset[str]:
    """The names the answer cells of an instructor source define: all that a test cell may reach in
    the learner's process."""
    names: set[str] = set()
    for cell in graded_cells(nb):
        if cell.role == "answer":
            names |= defined_names(nb.cells[cell.index].source)
    return frozenset(names)


def free_names(source: str) -> set[str]:
    """Names a cell reads but never binds anywhere in it (nor are built-ins): what it takes from outside."""
    import ast
    import builtins

    tree = ast.parse(source)
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return {name for name in loaded - bound if not hasattr(builtins, name)}


def graded_definitions(nb) -> dict[str, GradedCell]:
    """The public functions and classes the answer cells define (each one is graded and has a
    contract), mapped to the answer cell that defines it."""
    import ast

    found: dict[str, GradedCell] = {}
    for cell in graded_cells(nb):
        if cell.role != "answer":
            continue
        try:
            body = ast.parse(nb.cells[cell.index].source).body
        except SyntaxError:
            continue
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                found.setdefault(node.name, cell)
    return found
