"""Contracts as data: each graded function's or class's stated rules, in one table per exercise.

A reference module (``autograde/reference/<slug>.py``) declares ``CONTRACTS``, one
:class:`Contract` per answer cell that defines a graded function or class. A contract holds

- ``reference``: the grader's answer (it decides what every case expects, errors included);
- ``draw``: one random valid case drawn from the *whole* stated domain (every parameter varies);
- ``rules``: every rule the exercise states, each with the arguments exactly at its boundary, just
  inside and just outside it (an error rule: "``count`` is an int >= 0, else ValueError"; a boundary
  of behaviour: "a load that divides exactly needs no extra server"), and every promised edge case
  (empty, one element, ties, NaN, non-ASCII) as a rule of kind ``edge``.

From it come the hidden cases (:meth:`Contract.cases`, checked by
:func:`autograde.verdict.check_contract`), the "Contract" list the exercise shows
(:meth:`Contract.markdown`, kept in the notebook between ``<!-- contract: NAME -->`` markers by
``python -m autograde contracts --write``), and the checks ``python -m autograde check`` makes
(:meth:`Contract.problems`): the reference raises exactly where each error rule says, every
parameter varies across draws, and the notebook states the rules as the table does.

Why numpy and not Hypothesis: a failing hidden case is replayed from "seed N, case k", so the k-th
case of a seed must be the same on every machine and every version. NumPy's ``Generator`` streams
are stable by policy; Hypothesis's generated data depends on its engine version and on the
examples it has seen before, and its shrinking changes the case that is reported. Boundaries, which
Hypothesis would find by search, are written down here instead, one per stated rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

POSITIONS = ("at", "inside", "outside")


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT = _Omit()  # an override value that leaves the argument out (to exercise its default)


def _freeze(overrides) -> tuple[dict, ...]:
    if isinstance(overrides, dict):
        return (overrides,)
    return tuple(dict(o) for o in overrides)


@dataclass(frozen=True)
class Rule:
    """One rule the exercise states, with the argument overrides that sit at, just inside and just
    outside it. An override is merged into a random valid case (so the other arguments vary).

    kind ``error``: ``outside`` (and ``at`` when ``at_allowed`` is False) must raise ``raises``.
    kind ``boundary``: a change of behaviour at a value, no error; the reference decides each case.
    kind ``edge``: a promised edge case (``at`` only): empty input, a tie, NaN, non-ASCII text.
    """

    says: str
    kind: str = "error"
    at: tuple[dict, ...] = ()
    inside: tuple[dict, ...] = ()
    outside: tuple[dict, ...] = ()
    raises: type[Exception] | None = ValueError
    at_allowed: bool = True

    def __post_init__(self):
        for name in POSITIONS:
            object.__setattr__(self, name, _freeze(getattr(self, name)))
        if self.kind not in ("error", "boundary", "edge"):
            raise ValueError(f"rule kind must be error, boundary or edge, not {self.kind!r}")
        if not self.says.strip():
            raise ValueError("a rule says what it is, in the exercise's words")
        needed = ("at",) if self.kind == "edge" else POSITIONS
        empty = [p for p in needed if not getattr(self, p)]
        if empty:
            raise ValueError(f"rule {self.says!r} has no case {', '.join(empty)} its boundary")
        if self.kind == "error" and self.raises is None:
            raise ValueError(f"error rule {self.says!r} names no exception")

    def overrides(self):
        """``(position, override)`` pairs, in a fixed order."""
        for position in POSITIONS:
            for override in getattr(self, position):
                yield position, override


# --------------------------------------------------------------------------- rule constructors

def _step_of(bound) -> float:
    return 1 if isinstance(bound, int) else max(abs(bound) * 1e-9, 1e-12)


def at_least(param: str, bound, *, step=None, raises=ValueError, says: str | None = None) -> Rule:
    """``param >= bound``, else ``raises``: cases at ``bound``, ``bound + step``, ``bound - step``."""
    step = _step_of(bound) if step is None else step
    return Rule(says or f"`{param}` >= {bound}, else `{raises.__name__}`", "error",
                at={param: bound}, inside={param: bound + step}, outside={param: bound - step}, raises=raises)


def greater_than(param: str, bound, *, step=None, raises=ValueError, says: str | None = None) -> Rule:
    """``param > bound``, else ``raises``: ``bound`` itself is refused."""
    step = _step_of(bound) if step is None else step
    return Rule(says or f"`{param}` > {bound}, else `{raises.__name__}`", "error",
                at={param: bound}, inside={param: bound + step}, outside={param: bound - step}, raises=raises,
                at_allowed=False)


def at_most(param: str, bound, *, step=None, raises=ValueError, says: str | None = None) -> Rule:
    step = _step_of(bound) if step is None else step
    return Rule(says or f"`{param}` <= {bound}, else `{raises.__name__}`", "error",
                at={param: bound}, inside={param: bound - step}, outside={param: bound + step}, raises=raises)


def less_than(param: str, bound, *, step=None, raises=ValueError, says: str | None = None) -> Rule:
    step = _step_of(bound) if step is None else step
    return Rule(says or f"`{param}` < {bound}, else `{raises.__name__}`", "error",
                at={param: bound}, inside={param: bound - step}, outside={param: bound + step}, raises=raises,
                at_allowed=False)


def one_of(param: str, allowed, outside, *, raises=ValueError, says: str | None = None) -> Rule:
    """``param`` is one of ``allowed``: every allowed value is a case (``at``; the first two are
    ``inside`` too), and each value of ``outside`` (a near miss: a misspelling, another case) must raise."""
    allowed = list(allowed)
    listed = ", ".join(f"`{v!r}`" for v in allowed)
    return Rule(says or f"`{param}` is one of {listed}, else `{raises.__name__}`", "error",
                at=[{param: v} for v in allowed], inside=[{param: v} for v in allowed[:2]],
                outside=[{param: v} for v in outside], raises=raises)


def of_type(param: str, what: str, allowed, wrong, *, raises=TypeError, says: str | None = None) -> Rule:
    """``param`` is a ``what`` (e.g. "an int"): ``allowed`` values are accepted (``at`` and ``inside``),
    each of ``wrong`` (a float, a bool, a string of digits) raises ``raises``."""
    allowed = list(allowed)
    return Rule(says or f"`{param}` is {what}, else `{raises.__name__}`", "error",
                at=[{param: v} for v in allowed[:1]], inside=[{param: v} for v in allowed[1:] or allowed],
                outside=[{param: v} for v in wrong], raises=raises)


def boundary(says: str, *, at, inside, outside) -> Rule:
    """A change of behaviour (no error) at a value: say it, and give the three cases."""
    return Rule(says, "boundary", at=at, inside=inside, outside=outside, raises=None)


def edge(says: str, *cases: dict) -> Rule:
    """A promised edge case (empty, one element, a tie, NaN, non-ASCII): say it and give it."""
    return Rule(says, "edge", at=cases, raises=None)


# --------------------------------------------------------------------------- contracts

@dataclass(frozen=True)
class Case:
    args: dict
    label: str  # "random case" or "rule '...', just outside its boundary"


_POSITION_WORDS = {"at": "exactly at its boundary", "inside": "just inside its boundary",
                   "outside": "just outside its boundary"}


@dataclass(frozen=True)
class Contract:
    """The stated contract of one graded function or class (``name`` = its answer cell's grade_id).

    ``supplied``: arguments the test cell adds to every case (the learner's class, for a driver);
    the reference receives them too, and must not depend on them. ``constant``: parameters that are
    the same in every draw on purpose (say why in ``domain``)."""

    name: str
    reference: Callable[..., Any]
    draw: Callable[[np.random.Generator], dict]
    rules: tuple[Rule, ...]
    domain: str = ""
    supplied: tuple[str, ...] = ()
    constant: tuple[str, ...] = ()
    errors: tuple[type[Exception], ...] = field(default=(ValueError, TypeError))
    accept: Callable[[dict], bool] | None = None  # valid cases to use (where all accepted methods agree)

    def __post_init__(self):
        object.__setattr__(self, "rules", tuple(self.rules))
        says = [r.says for r in self.rules]
        if len(set(says)) != len(says):
            raise ValueError(f"contract {self.name}: two rules say the same thing")

    # ---------------------------------------------------------------- cases
    def cases(self, seed: int, n: int = 200, per_override: int = 2) -> list[Case]:
        """Every rule's cases first (each override on ``per_override`` random valid cases), then ``n``
        random cases from the whole domain. The same seed gives the same list on every machine."""
        rng = np.random.default_rng(seed)
        out = []
        for rule in self.rules:
            for position, override in rule.overrides():
                label = (f"the rule \"{rule.says}\", {_POSITION_WORDS[position]}" if rule.kind != "edge"
                         else f"the edge case \"{rule.says}\"") + " (made for that rule: it may break another)"
                for _ in range(per_override):
                    out.append(Case(self._merged(rng, override, filtered=not self._must_raise(rule, position)),
                                    label))
        out += [Case(self._merged(rng, {}, filtered=True), "a random case from the whole domain") for _ in range(n)]
        return out

    @staticmethod
    def _must_raise(rule: Rule, position: str) -> bool:
        return rule.kind == "error" and (position == "outside" or (position == "at" and not rule.at_allowed))

    def _merged(self, rng: np.random.Generator, override: dict, filtered: bool) -> dict:
        """A random valid case with ``override`` put in (``accept`` decides, for cases that must not raise)."""
        for _ in range(200):
            args = {k: v for k, v in {**self.draw(rng), **override}.items() if v is not OMIT}
            if not filtered or self.accept is None or self.accept(args):
                return args
        raise ValueError(f"contract {self.name}: no random case with {override} is accepted; "
                         "give the override every argument")

    # ---------------------------------------------------------------- text
    def markdown(self) -> str:
        """The contract as the exercise shows it: one bullet per rule."""
        lines = [f"**Contract of `{self.name}`.** Hidden tests try each rule at, just inside and just outside its "
                 "boundary, then random cases" + (f" ({self.domain})" if self.domain else "") + "."]
        lines += [f"- {rule.says}" for rule in self.rules]
        return "\n".join(lines)

    def block(self) -> str:
        return f"<!-- contract: {self.name} -->\n{self.markdown()}\n<!-- end contract -->"

    # ---------------------------------------------------------------- self-checks
    def problems(self, draws: int = 200, seed: int = 0) -> list[str]:
        """Where the table and its reference disagree, or the random cases sit in a corner."""
        out = []
        rng = np.random.default_rng(seed)
        filler = dict.fromkeys(self.supplied)
        for rule in self.rules:
            if rule.kind != "error":
                continue
            for position, override in rule.overrides():
                must_raise = self._must_raise(rule, position)
                for _ in range(3):
                    args = {**self._merged(rng, override, filtered=not must_raise), **filler}
                    try:
                        self.reference(**args)
                        raised = None
                    except Exception as exc:  # noqa: BLE001 (which one is the point)
                        raised = exc
                    if must_raise and not isinstance(raised, rule.raises):
                        out.append(f"{self.name}: rule \"{rule.says}\" says {rule.raises.__name__} "
                                   f"{_POSITION_WORDS[position]} ({override}), but the reference "
                                   + (f"raised {type(raised).__name__}" if raised else "returned a value"))
                        break
                    if not must_raise and raised is not None:
                        out.append(f"{self.name}: rule \"{rule.says}\" allows {override} "
                                   f"({_POSITION_WORDS[position]}), but the reference raised "
                                   f"{type(raised).__name__}: {raised}")
                        break
        samples = [self.draw(rng) for _ in range(draws)]
        for param in sorted({k for s in samples for k in s} - set(self.constant)):
            values = {repr(s.get(param)) for s in samples}
            if len(values) == 1:
                out.append(f"{self.name}: parameter `{param}` is {values.pop()} in all {draws} random cases; "
                           "draw it from its whole domain (or list it in `constant`, saying why)")
        valid = 0
        for s in samples[:50]:
            try:
                self.reference(**{**s, **filler})
                valid += 1
            except Exception:  # noqa: BLE001
                pass
        if valid < 25:
            out.append(f"{self.name}: only {valid} of 50 random cases are valid inputs; `draw` must draw valid "
                       "cases (errors come from the rules)")
        return out


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A number between ``low`` and ``high`` (both > 0) whose order of magnitude is uniform."""
    return float(10 ** rng.uniform(math.log10(low), math.log10(high)))


def find_block(markdown: str, name: str) -> str | None:
    """The contract block for ``name`` in a markdown text, or None."""
    start = markdown.find(f"<!-- contract: {name} -->")
    if start < 0:
        return None
    end = markdown.find("<!-- end contract -->", start)
    return None if end < 0 else markdown[start:end + len("<!-- end contract -->")]


# --------------------------------------------------------------------------- contracts and notebooks

def reference_contracts(assignment: str) -> dict[str, Contract] | None:
    """``CONTRACTS`` of the assignment's reference module (None when it declares none)."""
    import importlib

    slug = assignment.split("-", 1)[1].replace("-", "_")
    module = importlib.import_module(f"autograde.reference.{slug}")
    return getattr(module, "CONTRACTS", None)


def _exercise_markdown_cells(nb, answer_index: int) -> list[int]:
    """Indices of the markdown cells that introduce the answer cell at ``answer_index``: those after
    the previous test cell (or answer cell) and before it."""
    from autograde.notebook import cell_role

    cells = []
    for index in range(answer_index - 1, -1, -1):
        cell = nb.cells[index]
        if cell_role(cell) in ("test", "answer"):
            break
        if cell.cell_type == "markdown":
            cells.append(index)
    return sorted(cells)


def contract_text_problems(assignment: str, nb, write: bool = False) -> list[str]:
    """Graded functions and classes without a contract, and exercises whose text does not show their
    contract's block exactly. With ``write``, put each block into the exercise's last markdown cell
    (replacing an old one) instead of reporting it; the caller saves ``nb``."""
    from autograde.notebook import graded_definitions

    contracts = reference_contracts(assignment)
    if contracts is None:
        return [f"the reference module of {assignment} declares no CONTRACTS"]
    problems = []
    defined = graded_definitions(nb)
    for name, cell in defined.items():
        if name not in contracts:
            problems.append(f"{name} (answer cell {cell.grade_id}): no contract in CONTRACTS of its reference module")
    for name, contract in contracts.items():
        if contract.name != name:
            problems.append(f"contract {name}: it is filed under {name!r} but names itself {contract.name!r}")
        if name not in defined:
            problems.append(f"contract {name}: no answer cell defines a function or class of that name")
            continue
        markdown = _exercise_markdown_cells(nb, defined[name].index)
        if not markdown:
            problems.append(f"{name}: no markdown cell before its answer cell to show the contract")
            continue
        shown = [i for i in markdown if find_block(nb.cells[i].source, name) is not None]
        if shown and find_block(nb.cells[shown[0]].source, name) == contract.block():
            continue
        if not write:
            problems.append(f"{name}: the exercise's text does not show its contract as the table says "
                            f"(run `python -m autograde contracts {assignment} --write`)")
            continue
        target = shown[0] if shown else markdown[-1]
        old = find_block(nb.cells[target].source, name)
        source = nb.cells[target].source
        nb.cells[target].source = source.replace(old, contract.block()) if old else \
            source.rstrip("\n") + "\n\n" + contract.block()
    return problems


def contract_use_problems(assignment: str, nb) -> list[str]:
    """Contracts that no hidden-tests block checks with ``check_contract``, and tables whose rules and
    reference disagree."""
    from autograde.notebook import HIDDEN_BEGIN, HIDDEN_END, graded_cells

    import ast

    contracts = reference_contracts(assignment) or {}
    checked = set()
    for cell in graded_cells(nb):
        source = nb.cells[cell.index].source
        if cell.role != "test" or HIDDEN_BEGIN not in source:
            continue
        try:
            tree = ast.parse(source.split(HIDDEN_BEGIN, 1)[1].split(HIDDEN_END, 1)[0])
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "check_contract":
                checked |= {sub.slice.value for arg in node.args[1:2] for sub in ast.walk(arg)
                            if isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Constant)}
    problems = []
    for name, contract in contracts.items():
        if name not in checked:
            problems.append(f"contract {name}: no hidden-tests block runs "
                            f"check_contract(..., ref.CONTRACTS[\"{name}\"], seed=...)")
        problems += contract.problems()
    return problems
