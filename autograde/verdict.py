"""The one place where a test decides pass or fail.

Every test cell in every notebook, visible or hidden, calls one of the three functions below.
Each one calls the learner's function itself, turns what came back into plain data
(numbers, strings, lists, dicts: nothing with its own ``__eq__``), compares it with the
expected value here, and on a mismatch raises :class:`VerdictFailure` whose message states

- the input (the call, written so it can be pasted into a cell),
- what was expected and what came back,
- the seed and case number that replay it (for seeded hidden tests).

The grader reads ``VerdictFailure`` as "fail" and any other exception in a test cell as
"error". Tests never use bare ``assert``: keeping the verdict here means the grader can later
decide verdicts outside the learner's process without rewriting a notebook.

    check(fn, args, expected, rel_tol=..., abs_tol=..., integer=...)
    check_raises(fn, args, ValueError)
    check_cases(fn, cases, reference, seed=..., rel_tol=...)
    check_property(fn, args, judge, seed=...)     # when no single answer is right

The rule for test authors: a test cell never calls the learner's code itself. It passes the
function or class (or a ``course`` driver that exercises it) and plain-data arguments to one of
these, which makes the call. Judges and references see only plain data.
"""

from __future__ import annotations

import inspect
import math
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

__all__ = ["VerdictFailure", "NotPlainData", "Passed", "check", "check_raises", "check_cases", "check_contract",
           "check_property", "to_plain"]

# Factors a unit mistake typically produces (ms vs s, KB vs bytes, bits vs bytes, minutes, hours, days).
_UNIT_FACTORS = {
    1000.0: "a factor of 1,000 (a milli/kilo unit slip?)",
    1_000_000.0: "a factor of 1,000,000 (a micro/mega unit slip?)",
    1_000_000_000.0: "a factor of 10^9 (a nano/giga unit slip?)",
    1024.0: "a factor of 1,024 (binary KiB vs decimal KB?)",
    8.0: "a factor of 8 (bits vs bytes?)",
    60.0: "a factor of 60 (minutes vs seconds?)",
    3600.0: "a factor of 3,600 (hours vs seconds?)",
    86400.0: "a factor of 86,400 (days vs seconds?)",
    100.0: "a factor of 100 (a percentage vs a fraction?)",
}


class VerdictFailure(AssertionError):
    """A test found a wrong answer. The message is written for the learner.

    Jupyter shows only the message, not a traceback (IPython calls ``_render_traceback_``): the
    frames inside this helper would tell a learner nothing, and the message already states the
    input, the expected value, what was returned and how to replay it.
    """

    def _render_traceback_(self) -> list[str]:
        return ["\x1b[0;31mVerdictFailure\x1b[0m: " + str(self)]


class Passed:
    """What a passing check returns. Jupyter shows the last one under the test cell, so a learner
    sees that the visible tests ran and passed, not just silence. It shows as printed text, not as
    a cell result, because nbgrader would read a cell result as a partial-credit score."""

    def __init__(self, what: str, cases: int = 1):
        self.what, self.cases = what, cases

    def __repr__(self) -> str:
        return f"passed: {self.what}" if self.cases == 1 else f"passed: {self.what} ({self.cases} cases)"

    def _ipython_display_(self) -> None:
        print(repr(self))


class NotPlainData(TypeError):
    """A value is not plain data (it could carry its own comparison logic)."""


# --------------------------------------------------------------------------- plain data

def _numpy_scalar_types() -> tuple[type, ...]:
    numpy = sys.modules.get("numpy")
    if numpy is None:
        return ()
    names = ("bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float16", "float32", "float64", "longlong", "ulonglong", "intc", "uintc")
    return tuple({getattr(numpy, n) for n in names if hasattr(numpy, n)})


def to_plain(value: Any, where: str = "result") -> Any:
    """Return ``value`` as plain data, or raise :class:`NotPlainData` naming where it failed.

    Accepted: None, bool, int, float, str (exact types, not subclasses), numpy scalars
    (converted with ``.item()``), and lists, tuples and dicts (with str keys) of those.
    Tuples become lists. Subclasses are refused because they can redefine ``__eq__``.
    """
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind in _numpy_scalar_types():
        return value.item()
    if kind in (list, tuple):
        return [to_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if kind is dict:
        plain = {}
        for key, item in value.items():
            if type(key) is not str:
                raise NotPlainData(f"{where} has a key {key!r} of type {type(key).__name__}; keys must be str")
            plain[key] = to_plain(item, f"{where}[{key!r}]")
        return plain
    raise NotPlainData(
        f"{where} is a {kind.__module__}.{kind.__qualname__}; expected plain data "
        "(a number, string, bool, None, or a list/tuple/dict of those)")


# --------------------------------------------------------------------------- comparison

@dataclass(frozen=True)
class _Tolerance:
    rel_tol: float = 0.0
    abs_tol: float = 0.0
    integer: bool = False
    units: bool = True  # a quantity with a unit: a ratio near 1,000 or 60 may be a unit slip

    def describe(self) -> str:
        parts = []
        if self.rel_tol:
            parts.append(f"{self.rel_tol:.3g} relative" if self.rel_tol < 0.01 else f"{self.rel_tol:.0%}")
        if self.abs_tol:
            parts.append(f"{self.abs_tol:g} absolute")
        return f" (within {' or '.join(parts)})" if parts else ""


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _mismatch(got: Any, expected: Any, tol: _Tolerance, where: str) -> str | None:
    """Return None if ``got`` matches ``expected`` (both plain data), else a short reason."""
    if _is_number(expected):
        if not _is_number(got):
            return f"{where} should be a number, got a {type(got).__name__}"
        if tol.integer and (type(got) is float and not got.is_integer()):
            return f"{where} should be a whole number, got {got!r}"
        if math.isnan(expected) or math.isnan(got):
            return None if (math.isnan(expected) and math.isnan(got)) else f"{where} differs"
        if math.isinf(expected) or math.isinf(got):
            return None if got == expected else f"{where} differs"
        allowed = max(tol.rel_tol * abs(expected), tol.abs_tol)
        if abs(got - expected) <= allowed:
            return None
        return f"{where} differs: expected {expected!r}, got {got!r}" + (_unit_hint(got, expected) if tol.units else "")
    if type(expected) is bool or expected is None or type(expected) is str:
        if type(got) is type(expected) and got == expected:
            return None
        return f"{where} differs: expected {_short(expected, 120)}, got {_short(got, 120)}"
    if type(expected) is list:
        if type(got) is not list:
            return f"{where} should be a list or tuple, got a {type(got).__name__}"
        if len(got) != len(expected):
            return f"{where} should have {len(expected)} items, got {len(got)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            reason = _mismatch(g, e, tol, f"{where}[{i}]")
            if reason:
                return reason
        return None
    if type(expected) is dict:
        if type(got) is not dict:
            return f"{where} should be a dict, got a {type(got).__name__}"
        for key in expected:  # shared keys first: a wrong value explains more than a wrong key set
            if key in got:
                reason = _mismatch(got[key], expected[key], tol, f"{where}[{key!r}]")
                if reason:
                    return reason
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        if missing or extra:
            return f"{where} should have keys {sorted(expected)}; missing {missing}, unexpected {extra}"
        return None
    raise TypeError(f"expected value of type {type(expected).__name__} is not plain data")  # a test bug


_UNIT_RATIO_TOL = 0.01  # a unit slip is off by the factor itself; 1,003 vs 1 is a coincidence more often than not


def _unit_hint(got: float, expected: float) -> str:
    if got == 0 or expected == 0 or (got > 0) != (expected > 0):
        return ""
    ratio = max(abs(got), abs(expected)) / min(abs(got), abs(expected))
    for factor, meaning in _UNIT_FACTORS.items():
        if abs(ratio / factor - 1) < _UNIT_RATIO_TOL:
            direction = "too large" if abs(got) > abs(expected) else "too small"
            return f": it is {direction} by {meaning}"
    return ""


# --------------------------------------------------------------------------- messages

def _short(value: Any, limit: int = 300) -> str:
    text = _readable(value)
    return text if len(text) <= limit else text[: limit - 15] + f"... ({len(text)} chars)"


def _readable(value: Any) -> str:
    """repr, but a class or function reads as its name (`EventStore`, not `<class '__main__.EventStore'>`)."""
    if isinstance(value, type) or inspect.isroutine(value):
        return getattr(value, "__qualname__", None) or getattr(value, "__name__", None) or repr(value)
    return repr(value)


ARGUMENT_LIMIT = 600


def _call_text(fn: Callable, args: Any) -> str:
    name = getattr(fn, "__name__", "function")
    if isinstance(args, Mapping):
        inner = ", ".join(f"{k}={_short(v, ARGUMENT_LIMIT)}" for k, v in args.items())
    else:
        inner = ", ".join(_short(v, ARGUMENT_LIMIT) for v in args)
    return f"{name}({inner})"


def _replay_text(seed: int | None, case: int | None, cases_total: int | None, shortened: bool = False,
                 focused: bool = False) -> str:
    if seed is None:
        return "a fixed example (no randomness): rerun this cell"
    where = f", case {case}" + (f" of {cases_total}" if cases_total else "") if case is not None else ""
    if shortened:
        shown = "; the step where the result differs is shown under it" if focused else ""
        return (f"seed {seed}{where}: the same seed gives the same case on every run (the input above is "
                f"shortened{shown})")
    return f"seed {seed}{where}: the input above reproduces it"


def _focus_lines(args: Any, reason: str) -> list[str]:
    """For a shortened input: the element of each list argument at the index where the result differs.

    Tests of a sequence of operations pass ``ops`` and expect one result per operation, so
    ``result[14] differs`` is explained by ``ops[14]``, which the shortened input may have cut off.
    """
    match = re.match(r"result\[(\d+)\]", reason)
    if not match:
        return []
    index = int(match.group(1))
    named = args.items() if isinstance(args, Mapping) else ((f"argument {i + 1}", v) for i, v in enumerate(args))
    return [f"  {name}[{index}]: {_short(value[index], ARGUMENT_LIMIT)}" for name, value in named
            if type(value) in (list, tuple) and len(value) > index]


def _fail(fn: Callable, args: Any, *, expected: str, got: str, reason: str,
          seed: int | None, case: int | None, cases_total: int | None, passed: int | None,
          about: str | None = None) -> None:
    __tracebackhide__ = True
    call = _call_text(fn, args)
    shortened = "chars)" in call
    focus = _focus_lines(args, reason) if shortened else []
    lines = [f"{getattr(fn, '__name__', 'function')}: {reason}",
             *([f"  case of:  {about}"] if about else []),
             f"  input:    {call}",
             *focus,
             f"  expected: {expected}",
             f"  got:      {got}",
             f"  replay:   {_replay_text(seed, case, cases_total, shortened=shortened, focused=bool(focus))}"]
    if passed:
        lines.append(f"  ({passed} earlier case{'s' if passed != 1 else ''} passed)")
    raise VerdictFailure("\n".join(lines))


def _call(fn: Callable, args: Any) -> tuple[Any, BaseException | None]:
    try:
        if isinstance(args, Mapping):
            return fn(**args), None
        return fn(*args), None
    except Exception as exc:  # the learner's code failed; report it as a verdict
        return None, exc
    except BaseException as exc:  # the grader stopped it (a timeout): say which call, then let it go
        if type(exc).__name__ == "CellTimeout":
            exc.args = (f"{exc.args[0] if exc.args else 'it was stopped'}, while running {_call_text(fn, args)}",)
        raise


def _exception_text(exc: BaseException) -> str:
    text = f"raised {type(exc).__name__}"
    detail = str(exc)
    if isinstance(exc, NotImplementedError) and not detail:
        return text + " (not implemented yet)"
    return text + (f": {_short(detail, 200)}" if detail else "")


# --------------------------------------------------------------------------- the verdicts

def check(fn: Callable, args: Mapping[str, Any] | tuple, expected: Any, *, rel_tol: float = 0.0,
          abs_tol: float = 0.0, integer: bool = False, seed: int | None = None,
          case: int | None = None, cases_total: int | None = None, passed: int | None = None,
          about: str | None = None, units: bool = True) -> Passed:
    """Call ``fn(**args)`` (or ``fn(*args)`` for a tuple) and fail unless it returns ``expected``.

    Numbers match within ``max(rel_tol * |expected|, abs_tol)``; ``integer=True`` also requires a
    whole number. Lists, tuples and dicts are compared item by item with the same tolerance.
    ``units=False`` for counts and other quantities without a unit: no "unit slip?" hint.
    """
    __tracebackhide__ = True
    tol = _Tolerance(rel_tol, abs_tol, integer, units)
    expected_plain = to_plain(expected, "expected")
    context = dict(seed=seed, case=case, cases_total=cases_total, passed=passed, about=about)
    value, error = _call(fn, args)
    if error is not None:
        _fail(fn, args, expected=_short(expected_plain) + tol.describe(), got=_exception_text(error),
              reason="raised an exception instead of returning a value", **context)
    try:
        got = to_plain(value)
    except NotPlainData as exc:
        _fail(fn, args, expected=_short(expected_plain) + tol.describe(), got=str(exc),
              reason="returned something that is not plain data", **context)
    reason = _mismatch(got, expected_plain, tol, "result")
    if reason:
        _fail(fn, args, expected=_short(expected_plain) + tol.describe(), got=_short(got),
              reason=reason, **context)
    return Passed(_call_text(fn, args))


def check_raises(fn: Callable, args: Mapping[str, Any] | tuple, exception: type[BaseException], *,
                 seed: int | None = None, case: int | None = None, cases_total: int | None = None,
                 passed: int | None = None, about: str | None = None) -> Passed:
    """Call ``fn`` and fail unless it raises ``exception`` (or a subclass of it)."""
    __tracebackhide__ = True
    context = dict(seed=seed, case=case, cases_total=cases_total, passed=passed, about=about)
    value, error = _call(fn, args)
    if isinstance(error, exception):
        return Passed(f"{_call_text(fn, args)} raises {exception.__name__}")
    got = _exception_text(error) if error is not None else f"returned {_short(value)}"
    _fail(fn, args, expected=f"raises {exception.__name__}", got=got,
          reason=f"should raise {exception.__name__} for this input", **context)


def check_cases(fn: Callable, cases: Iterable[Mapping[str, Any]], reference: Callable, *, seed: int,
                rel_tol: float = 0.0, abs_tol: float = 0.0, integer: bool = False,
                errors: tuple[type[Exception], ...] = (ValueError, TypeError), units: bool = True) -> Passed:
    """Compare ``fn`` with ``reference`` on every case (a dict of keyword arguments).

    When the reference raises one of ``errors`` (the contract's exceptions) for a case, ``fn``
    must raise the same type. Stops at the first failing case, whose message names ``seed`` and the case number.
    Returns the number of cases checked.
    """
    __tracebackhide__ = True
    cases = [dict(c) for c in cases]
    for index, args in enumerate(cases):
        context = dict(seed=seed, case=index, cases_total=len(cases), passed=index)
        try:
            expected = reference(**args)
        except errors as exc:
            check_raises(fn, args, type(exc), **context)
            continue
        check(fn, args, expected, rel_tol=rel_tol, abs_tol=abs_tol, integer=integer, units=units, **context)
    return Passed(f"{getattr(fn, '__name__', 'function')} on seeded cases (seed {seed})", len(cases))


def check_contract(fn: Callable, contract: Any, *, seed: int, n: int = 200, supplied: Mapping[str, Any] | None = None,
                   rel_tol: float = 0.0, abs_tol: float = 0.0, integer: bool = False, units: bool = True) -> Passed:
    """Check ``fn`` on every case of ``contract`` (an :class:`autograde.contracts.Contract`): each stated
    rule at, just inside and just outside its boundary, each promised edge case, then ``n`` random cases
    from the whole domain, against ``contract.reference``. ``supplied`` adds arguments to every case
    (the learner's class, for a driver). A failure names the rule its case belongs to."""
    __tracebackhide__ = True
    cases = contract.cases(seed, n)
    extra = dict(supplied or {})
    for index, case in enumerate(cases):
        args = {**case.args, **extra}
        context = dict(seed=seed, case=index, cases_total=len(cases), passed=index, about=case.label)
        try:
            expected = contract.reference(**args)
        except contract.errors as exc:
            check_raises(fn, args, type(exc), **context)
            continue
        check(fn, args, expected, rel_tol=rel_tol, abs_tol=abs_tol, integer=integer, units=units, **context)
    return Passed(f"{getattr(fn, '__name__', 'function')}: every rule of its contract and random cases (seed {seed})",
                  len(cases))


def check_property(fn: Callable, args: Mapping[str, Any] | tuple, judge: Callable[[Any], str | None], *,
                   expected: str, seed: int | None = None, case: int | None = None,
                   cases_total: int | None = None, passed: int | None = None) -> Passed:
    """Call ``fn`` and fail unless ``judge(result)`` accepts it.

    For answers that are right in more than one way (a schedule, a simulation history, a set of
    admitted requests). ``judge`` receives the result as plain data and returns None when it is
    acceptable, or a sentence saying what is wrong with it. ``expected`` describes in words what
    an acceptable result is, for the failure message.
    """
    __tracebackhide__ = True
    context = dict(seed=seed, case=case, cases_total=cases_total, passed=passed)
    value, error = _call(fn, args)
    if error is not None:
        _fail(fn, args, expected=expected, got=_exception_text(error),
              reason="raised an exception instead of returning a value", **context)
    try:
        got = to_plain(value)
    except NotPlainData as exc:
        _fail(fn, args, expected=expected, got=str(exc), reason="returned something that is not plain data",
              **context)
    problem = judge(got)
    if problem:
        _fail(fn, args, expected=expected, got=_short(got), reason=problem, **context)
    return Passed(_call_text(fn, args))
