"""The verdict helper: what passes, what fails, and what its messages say."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograde.verdict import NotPlainData, VerdictFailure, check, check_cases, check_property, check_raises, to_plain


def double(x):
    return 2 * x


def failure(fn, *args, **kwargs) -> str:
    with pytest.raises(VerdictFailure) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_passing_checks_say_so_in_one_line():
    assert repr(check(double, dict(x=2), 4)) == "passed: double(x=2)"
    assert repr(check_raises(lambda: int("x"), (), ValueError)) == "passed: <lambda>() raises ValueError"
    assert repr(check_cases(double, [dict(x=1)] * 3, double, seed=9)) == "passed: double on seeded cases (seed 9) (3 cases)"


def test_passing_checks_return_quietly():
    check(double, (2,), 4)
    check(double, dict(x=1.5), 3.0)
    check(double, (100.0,), 201.0, rel_tol=0.01)
    check(lambda: [1, (2.0, "a")], (), [1, [2.0, "a"]])
    check(lambda: {"a": np.float64(1.0), "b": None}, (), {"a": 1.0, "b": None})
    check_raises(lambda: int("x"), (), ValueError)


def test_message_states_input_expected_got_and_replay():
    text = failure(check, double, dict(x=21), 40, rel_tol=0.02, seed=7, case=3, cases_total=10, passed=3)
    assert "double(x=21)" in text
    assert "expected: 40 (within 2%)" in text
    assert "got:      42" in text
    assert "seed 7, case 3 of 10" in text
    assert "3 earlier cases passed" in text


def test_fixed_examples_say_there_is_no_seed():
    assert "fixed example" in failure(check, double, (1,), 3)


@pytest.mark.parametrize("got, hint", [(2000.0, "too large by a factor of 1,000"), (0.25, "too small by a factor of 8"),
                                       (120.0, "factor of 60")])
def test_unit_mistakes_are_named(got, hint):
    assert hint in failure(check, lambda: got, (), 2.0 if got != 0.25 else 2.0, rel_tol=0.01)


def test_tolerance_is_relative_to_expected_or_absolute():
    check(lambda: 101.9, (), 100.0, rel_tol=0.02)
    failure(check, lambda: 102.1, (), 100.0, rel_tol=0.02)
    check(lambda: 1e-10, (), 0.0, abs_tol=1e-9)
    failure(check, lambda: 1e-10, (), 0.0)


def test_integer_answers_must_be_whole():
    check(lambda: 13.0, (), 13, integer=True)
    assert "whole number" in failure(check, lambda: 12.5, (), 13, integer=True, abs_tol=1)


def test_learner_exceptions_become_failures_not_errors():
    def unfinished():
        raise NotImplementedError()
    text = failure(check, unfinished, (), 1)
    assert "raised NotImplementedError (not implemented yet)" in text


def test_wrong_exception_type_fails_check_raises():
    assert "raised KeyError" in failure(check_raises, lambda: {}["x"], (), ValueError)
    assert "returned 5" in failure(check_raises, lambda: 5, (), ValueError)


class AlwaysEqual:
    def __eq__(self, other):
        return True


class SneakyFloat(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0


@pytest.mark.parametrize("value", [AlwaysEqual(), SneakyFloat(1.0), [AlwaysEqual()], {"a": SneakyFloat(2)}])
def test_objects_that_could_lie_about_equality_are_refused(value):
    text = failure(check, lambda: value, (), 42.0)
    assert "not plain data" in text


def test_to_plain_converts_containers_and_numpy():
    assert to_plain((1, [np.int64(2)], {"k": np.bool_(True)})) == [1, [2], {"k": True}]
    with pytest.raises(NotPlainData):
        to_plain({1: "non-str key"})


def test_bool_is_not_a_number_and_strings_are_exact():
    assert "should be a number, got a bool" in failure(check, lambda: True, (), 1)
    assert "differs" in failure(check, lambda: "abc ", (), "abc")


def test_shapes_are_compared():
    assert "should have 2 items" in failure(check, lambda: [1], (), [1, 2])
    assert "missing ['b']" in failure(check, lambda: {"a": 1}, (), {"a": 1, "b": 2})
    assert "result['b'] differs" in failure(check, lambda: {"a": 1, "b": 3}, (), {"a": 1, "b": 2})


def test_nan_and_infinity():
    check(lambda: math.inf, (), math.inf)
    check(lambda: math.nan, (), math.nan)
    failure(check, lambda: 1.0, (), math.inf)


def test_check_cases_compares_with_reference_and_reports_the_failing_case():
    cases = [dict(x=i) for i in range(10)]
    assert check_cases(double, cases, double, seed=5).cases == 10
    text = failure(check_cases, lambda x: 2 * x if x != 6 else 0, cases, double, seed=5)
    assert "double" not in text.splitlines()[1] and "x=6" in text
    assert "seed 5, case 6 of 10" in text and "6 earlier cases passed" in text


def test_check_cases_expects_the_reference_exception():
    def reference(x):
        if x < 0:
            raise ValueError("negative")
        return x

    check_cases(lambda x: reference(x), [dict(x=-1), dict(x=2)], reference, seed=1)
    assert "should raise ValueError" in failure(check_cases, lambda x: x, [dict(x=-1)], reference, seed=1)


def test_check_property_accepts_any_result_the_judge_accepts():
    def sorted_judge(result):
        return None if result == sorted(result) else "the list is not sorted"

    check_property(lambda xs: sorted(xs), ([3, 1, 2],), sorted_judge, expected="the items in ascending order")
    text = failure(check_property, lambda xs: xs, ([3, 1, 2],), sorted_judge,
                   expected="the items in ascending order", seed=4, case=0)
    assert "the list is not sorted" in text and "expected: the items in ascending order" in text
    assert "got:      [3, 1, 2]" in text and "seed 4" in text


def test_check_property_never_passes_lying_objects_to_the_judge():
    text = failure(check_property, lambda: AlwaysEqual(), (), lambda r: None, expected="anything plain")
    assert "not plain data" in text


def test_check_cases_takes_the_contracts_exception_types():
    def reference(x):
        if x == 0:
            raise RuntimeError("exhausted")
        return x

    check_cases(lambda x: reference(x), [dict(x=0), dict(x=1)], reference, seed=1, errors=(RuntimeError,))
    with pytest.raises(RuntimeError):  # not in the contract: a broken reference surfaces, it is not a verdict
        check_cases(lambda x: x, [dict(x=0)], reference, seed=1)


def test_a_nested_difference_states_both_values():
    text = failure(check, lambda: {"send": [{"to": 1, "index": 4}]}, (), {"send": [{"to": 1, "index": 3}]})
    assert "result['send'][0]['index'] differs: expected 3, got 4" in text


def test_a_wrong_value_is_reported_before_a_wrong_key_set():
    text = failure(check, lambda: {"role": "leader", "extra": 1}, (), {"role": "candidate", "votes": 2})
    assert "result['role'] differs: expected 'candidate', got 'leader'" in text


def test_a_shortened_input_says_so():
    text = failure(check, lambda xs: 0, (list(range(1000)),), 1, seed=3, case=0)
    assert "shortened" in text and "seed 3, case 0" in text
    # the result is not one per element, so no step is shown, and the message does not promise one
    assert "shown under it" not in text and "[0]:" not in text, text


def test_jupyter_shows_the_message_without_the_helpers_frames(monkeypatch):
    """IPython renders a VerdictFailure with `_render_traceback_`: the message, no verdict.py frames."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown = []
    monkeypatch.setattr(shell, "_showtraceback", lambda etype, evalue, stb: shown.append("\n".join(stb)))
    shell.run_cell("from autograde.verdict import check\n"
                   "check(lambda x: x + 1, dict(x=1), 3)")
    assert len(shown) == 1
    text = shown[0]
    assert "verdict.py" not in text and "Traceback" not in text
    for part in ("VerdictFailure", "input:", "expected: 3", "got:      2", "replay:"):
        assert part in text, text


def test_classes_and_functions_read_as_their_names():
    class EventStore:
        pass

    def relay_actions():
        pass

    passed = repr(check(lambda store_class, fn: 1, dict(store_class=EventStore, fn=relay_actions), 1))
    assert "store_class=test_classes_and_functions_read_as_their_names.<locals>.EventStore" in passed, passed
    assert "<class" not in passed and " at 0x" not in passed, passed


def test_a_shortened_input_shows_the_step_where_the_result_differs():
    ops = [["put", f"key-{i}", i] for i in range(200)]
    expected = [f"ok-{i}" for i in range(200)]
    got = list(expected)
    got[150] = "stale"
    text = failure(check, lambda ops: got, dict(ops=ops), expected, seed=5, case=2)
    assert "result[150] differs: expected 'ok-150', got 'stale'" in text
    assert "  ops[150]: ['put', 'key-150', 150]" in text, text
    assert "same seed gives the same case" in text and "the step where the result differs is shown under it" in text


def test_unit_hint_is_only_offered_for_quantities_with_a_unit():
    """Issue 17: 40 clicks counted as 5 is not "bits vs bytes?"; a count passes units=False."""
    lost = lambda: 5  # noqa: E731
    assert "bits vs bytes" in failure(check, lost, (), 40)  # today's default: the hint may be offered
    for text in (failure(check, lost, (), 40, units=False),
                 failure(check_cases, lambda k: k // 8, [dict(k=40)], lambda k: k, seed=3, units=False)):
        assert "40" in text and "5" in text and "factor" not in text, text


@pytest.mark.parametrize("got", [1045.0, 975.0, 61.5])
def test_unit_hint_needs_a_ratio_close_to_the_factor(got):
    """A ratio 2-3% away from 1,000, 1,024 or 60 is a wrong answer, not a unit slip (before: within 3% gave a hint)."""
    assert "factor" not in failure(check, lambda: got, (), 1.0)


def test_unit_hint_survives_rounding_of_a_real_slip():
    assert "factor of 1,000" in failure(check, lambda: 1234.0, (), 1.2345)
