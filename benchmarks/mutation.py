"""Mutation testing of the hidden tests: generate mutants of every solution's answer cells, grade each,
and report per module how many the tests kill.

    python benchmarks/mutation.py                      # every module, every mutant (slow: hours)
    python benchmarks/mutation.py 01-requirements-estimation --sample 40 --workers 2
    python benchmarks/mutation.py 03-sharding --list   # the mutants, not graded

A mutant is the solution with one small change in one answer cell, made on its syntax tree by one of
the operators below (the classes of mistakes learners make: a boundary flipped, a constant off by
one, a validation or ``raise`` removed, ``ceil``/``floor``/``round``/``int`` swapped, a sort key
reversed or made a string, a copy or a lock removed, arguments swapped, a branch deleted). It is
graded like a submission, on the test cells that can see that answer cell
(:func:`autograde.grading.tests_using`), so a module's campaign takes minutes, not hours. A mutant is
*killed* when a test loses points, and *survives* otherwise. Every survivor must be either killed
by a new hidden case or listed in ``tests/mutation/<module>.tsv`` as equivalent, with a reason
(tab-separated: answer cell, operator, line before, line after, reason). ``tests/mutation/`` checks
a sample of every module's mutants on each CI run.

Why not mutmut or cosmic-ray: both mutate files of an installed package and run a test command per
mutant; our code under test lives in notebook cells and our "test command" is the grader on a
rebuilt notebook. Driving them would mean writing each cell to a module and back, for operators
that are a few lines of ``ast`` here. The operators follow theirs (mutmut's comparison, number and
keyword operators; cosmic-ray's ``ReplaceComparisonOperator``, ``NumberReplacer``,
``ReplaceBinaryOperator`` and ``RemoveDecorator``), plus the course's own (copies, locks, rounding).
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import difflib
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from autograde.layout import assignments, release_notebook, source_notebook  # noqa: E402
from autograde.notebook import cell_role, nbgrader_meta, read_notebook  # noqa: E402

EQUIVALENT_DIR = REPO / "tests" / "mutation"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"

_COMPARE_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BINOP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
               ast.Mod: ast.FloorDiv}
_ROUNDING = {"ceil": ["floor", "round"], "floor": ["ceil", "round"], "round": ["int"], "int": ["round"]}
_COPIES = {"deepcopy", "copy"}


@dataclass(frozen=True)
class MutantSpec:
    cell: str          # the answer cell's grade_id
    operator: str
    before: str        # the changed line, as it read
    after: str         # and as the mutant has it
    source: str        # the whole mutated cell

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.cell, self.operator, self.before.strip(), self.after.strip())


def _call_name(node: ast.AST) -> str:
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_docstring(node: ast.AST, parents: dict) -> bool:
    parent = parents.get(node)
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            and parent is not None and getattr(parent, "body", [None])[0] is node)


def _candidates(tree: ast.AST):
    """``(operator, node_path, change)`` for every single change the operators can make. ``change`` is
    a function that edits a deep copy of the node in place (or returns a replacement node)."""
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    in_function, in_message = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if inner is not node:
                    in_function.add(inner)
        if isinstance(node, ast.Raise) and node.exc is not None:  # an error's message is not behaviour
            in_message |= set(ast.walk(node.exc))
        if isinstance(node, ast.JoinedStr):
            in_message |= set(ast.walk(node)) - {node}
    for node in ast.walk(tree):
        if node not in in_function or node in in_message or _is_docstring(node, parents):
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _COMPARE_SWAP:
                    yield "flip comparison", node, (lambda n, i=i: n.ops.__setitem__(i, _COMPARE_SWAP[type(n.ops[i])]()))
        elif isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) <= 100:
            for delta in (1, -1):
                yield "constant off by one", node, (lambda n, d=delta: setattr(n, "value", n.value + d))
        elif isinstance(node, ast.Raise) and node.exc is not None:
            yield "remove raise", node, (lambda n: ast.Pass())
        elif isinstance(node, ast.If):
            yield "branch never taken", node, (lambda n: setattr(n, "test", ast.Constant(False)))
            if not (isinstance(node.test, ast.Compare) and any(isinstance(b, ast.Raise) for b in node.body)):
                yield "branch always taken", node, (lambda n: setattr(n, "test", ast.Constant(True)))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAP:
            yield "swap arithmetic", node, (lambda n: setattr(n, "op", _BINOP_SWAP[type(n.op)]()))
        elif isinstance(node, ast.AugAssign) and type(node.op) in _BINOP_SWAP:
            yield "swap arithmetic", node, (lambda n: setattr(n, "op", _BINOP_SWAP[type(n.op)]()))
        elif isinstance(node, ast.BoolOp):
            yield "and/or swapped", node, (lambda n: setattr(n, "op", ast.Or() if isinstance(n.op, ast.And) else ast.And()))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield "drop not", node, (lambda n: n.operand)
        elif isinstance(node, ast.With):
            for i, item in enumerate(node.items):
                if "lock" in ast.unparse(item.context_expr).lower():
                    yield "remove lock", node, (lambda n, i=i: n.items.__setitem__(
                        i, ast.withitem(ast.parse('__import__("contextlib").nullcontext()', mode="eval").body)))
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            if name in _ROUNDING and node.args:
                for other in _ROUNDING[name]:
                    yield "swap rounding", node, (lambda n, o=other: _swap_function(n, o))
            if name in ("min", "max") and node.args:
                yield "min/max swapped", node, (lambda n: setattr(n, "func", ast.Name("max" if _call_name(n) == "min" else "min")))
            if (name in _COPIES or (name in ("list", "dict", "set") and len(node.args) == 1)) and node.args:
                yield "remove copy", node, (lambda n: n.args[0])
            if name == "copy" and isinstance(node.func, ast.Attribute) and not node.args:
                yield "remove copy", node, (lambda n: n.func.value)
            if name in ("sorted", "sort"):
                keywords = {k.arg: k for k in node.keywords}
                if "key" in keywords:
                    yield "sort key made a string", node, (lambda n: [setattr(k, "value", ast.parse(
                        f"lambda _v: str(({ast.unparse(k.value)})(_v))", mode="eval").body)
                        for k in n.keywords if k.arg == "key"])
                yield "sort reversed", node, (lambda n: n.keywords.append(ast.keyword("reverse", ast.Constant(True)))
                                              if "reverse" not in {k.arg for k in n.keywords}
                                              else [setattr(k, "value", ast.UnaryOp(ast.Not(), k.value))
                                                    for k in n.keywords if k.arg == "reverse"])
            positional = [a for a in node.args if not isinstance(a, ast.Starred)]
            if len(positional) >= 2 and name not in ("range", "isinstance", "getattr", "setattr", "print"):
                yield "arguments swapped", node, (lambda n: n.args.__setitem__(slice(0, 2), [n.args[1], n.args[0]]))


def _swap_function(call: ast.Call, other: str) -> None:
    """``math.ceil(x)`` becomes ``math.floor(x)`` or ``round(x)``; ``ceil(x)`` becomes ``floor(x)``."""
    if isinstance(call.func, ast.Attribute) and other in ("ceil", "floor"):
        call.func.attr = other
    else:
        call.func = ast.Name(other, ast.Load())


def _apply(tree: ast.AST, target: ast.AST, change) -> ast.AST:
    """A copy of ``tree`` with ``change`` made to the copy of ``target``."""
    index = next(i for i, n in enumerate(ast.walk(tree)) if n is target)
    new_tree = copy.deepcopy(tree)
    node = list(ast.walk(new_tree))[index]
    replacement = change(node)
    if isinstance(replacement, ast.AST) and replacement is not node:
        for parent in ast.walk(new_tree):
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, replacement)
                elif isinstance(value, list) and any(v is node for v in value):
                    value[[i for i, v in enumerate(value) if v is node][0]] = replacement
    return ast.fix_missing_locations(new_tree)


def mutants_of(assignment: str) -> list[MutantSpec]:
    """Every mutant of every answer cell of ``assignment``'s solution, deduplicated, in a fixed order."""
    nb = read_notebook(source_notebook(assignment))
    out, seen = [], set()
    for cell in nb.cells:
        if cell_role(cell) != "answer":
            continue
        grade_id = str(nbgrader_meta(cell)["grade_id"])
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        original = ast.unparse(tree)
        for operator, node, change in _candidates(tree):
            try:
                mutated = ast.unparse(_apply(tree, node, change))
            except Exception:  # an operator that does not fit this node: no mutant
                continue
            if mutated == original or (grade_id, mutated) in seen:
                continue
            seen.add((grade_id, mutated))
            before, after = _changed_line(original, mutated)
            out.append(MutantSpec(grade_id, operator, before, after, mutated))
    return out


def _changed_line(original: str, mutated: str) -> tuple[str, str]:
    a, b = original.splitlines(), mutated.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if tag != "equal":
            return " / ".join(a[i1:i2]) or "(nothing)", " / ".join(b[j1:j2]) or "(nothing)"
    return "", ""


def equivalents(assignment: str) -> dict[tuple[str, str, str, str], str]:
    """The survivors a maintainer judged equivalent (same behaviour for every input the contract
    allows), with the reason, from ``tests/mutation/<assignment>.tsv``."""
    path = EQUIVALENT_DIR / f"{assignment}.tsv"
    if not path.is_file():
        return {}
    rows = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 5 or not row[4].strip():
                raise ValueError(f"{path}: each row is cell, operator, before, after, reason: {row}")
            rows[(row[0], row[1], row[2].strip(), row[3].strip())] = row[4]
    return rows


def grade_mutants(assignment: str, specs: list[MutantSpec], workers: int = 2, cell_seconds: float = 20.0):
    """Grade each mutant on the tests that can see its cell; returns ``[(spec, report or error)]``."""
    from submissions import answer_sources, write_submission

    from autograde.grading import grade_many, tests_using
    from autograde.isolation import Limits

    nb = read_notebook(source_notebook(assignment))
    solution = answer_sources(source_notebook(assignment))
    with tempfile.TemporaryDirectory(prefix="mutation-") as folder:
        paths, chosen = [], []
        for i, spec in enumerate(specs):
            paths.append(write_submission(assignment, Path(folder) / f"m{i}.ipynb",
                                          {**solution, spec.cell: spec.source}))
            chosen.append(set(tests_using(nb, spec.cell)))
        reports = grade_many(paths, workers=workers, only_tests=chosen,
                             limits=Limits(cell_seconds=cell_seconds, notebook_seconds=300))
    return list(zip(specs, reports))


def killed(report) -> bool:
    """A test lost points. A test that was not graded because the machine was too busy (``retry``) does
    not count: on a loaded machine, a slow but equivalent mutant would otherwise read as killed."""
    if not hasattr(report, "tests"):
        return True
    return any(t.points < t.max_points and not getattr(t, "retry", False) for t in report.tests)


def campaign(assignment: str, sample: int | None, workers: int, seed: int = 0, cells: set[str] | None = None) -> dict:
    specs = [s for s in mutants_of(assignment) if cells is None or s.cell in cells]
    total = len(specs)
    if sample is not None and sample < total:
        specs = random.Random(f"{seed}:{assignment}").sample(specs, sample)
    started = time.monotonic()
    results = grade_mutants(assignment, specs, workers)
    known = equivalents(assignment)
    survivors = [s for s, r in results if not killed(r)]
    unexplained = [s for s in survivors if s.key not in known]
    return {"assignment": assignment, "mutants": total, "graded": len(specs),
            "killed": len(specs) - len(survivors), "equivalent": len(survivors) - len(unexplained),
            "unexplained": [s.key for s in unexplained], "seconds": round(time.monotonic() - started, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--sample", type=int, help="grade this many mutants per module (seeded sample)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cells", help="only mutants of these answer cells (comma-separated grade_ids)")
    parser.add_argument("--list", action="store_true", help="list the mutants without grading them")
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args(argv)
    names = args.assignments or assignments()
    if args.list:
        for name in names:
            for spec in mutants_of(name):
                print("\t".join(spec.key))
        return 0
    rows = []
    print(f"{'module':<28} {'mutants':>7} {'graded':>6} {'killed':>6} {'equiv.':>6} {'unexpl.':>7} "
          f"{'score':>6} {'time':>7}")
    for name in names:
        result = campaign(name, args.sample, args.workers, args.seed,
                          set(args.cells.split(",")) if args.cells else None)
        rows.append(result)
        non_equivalent = result["graded"] - result["equivalent"]
        score = result["killed"] / non_equivalent if non_equivalent else 1.0
        print(f"{name:<28} {result['mutants']:>7} {result['graded']:>6} {result['killed']:>6} "
              f"{result['equivalent']:>6} {len(result['unexplained']):>7} {score:>6.1%} {result['seconds']:>6.0f}s",
              flush=True)
        for key in result["unexplained"]:
            print("    survivor:\t" + "\t".join(key))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 1 if any(r["unexplained"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
