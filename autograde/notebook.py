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
