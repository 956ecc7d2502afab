"""Judges every module may use."""

from __future__ import annotations


def one_of(*answers):
    """A judge that accepts exactly the listed answers (plain data, compared as ``autograde.verdict.check``
    compares: numbers by value, True never equal to 1).

    For a visible test whose input has a few right answers (a tie broken either way): the test
    cell lists them as literals. A rejected result is compared with the closest answer, item by
    item for lists and key by key for dicts, so the message says where it goes wrong.
    """
    answers = list(answers)
    if not answers:
        raise ValueError("one_of needs at least one acceptable answer")

    def judge(result):
        if any(_same(result, answer) for answer in answers):
            return None
        closest = max(answers, key=lambda answer: _agreement(result, answer))
        where = _first_difference(result, closest)
        listed = "; ".join(repr(a) for a in answers)
        return f"{where} (acceptable results: {listed})"

    return judge


def _same(a, b) -> bool:
    if type(a) in (int, float) and type(b) in (int, float):  # as autograde.verdict.check: 302 == 302.0
        return a == b
    if type(a) is not type(b):  # True is not 1, None is not ""
        return False
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _agreement(result, answer) -> int:
    """How much of ``answer`` ``result`` gets right: the matching prefix of a list, matching keys of a dict."""
    if type(result) is list and type(answer) is list:
        count = 0
        for x, y in zip(result, answer):
            if not _same(x, y):
                break
            count += 1
        return count
    if type(result) is dict and type(answer) is dict:
        return sum(1 for k in answer if k in result and _same(result[k], answer[k]))
    return 0


def _first_difference(result, answer) -> str:
    if type(result) is list and type(answer) is list:
        for i, (x, y) in enumerate(zip(result, answer)):
            if not _same(x, y):
                return f"result[{i}] is {x!r}; an acceptable result has {y!r} there"
        return f"the result has {len(result)} items; an acceptable result has {len(answer)}"
    if type(result) is dict and type(answer) is dict:
        for k in answer:
            if k not in result:
                return f"the result has no key {k!r}"
            if not _same(result[k], answer[k]):
                return f"result[{k!r}] is {result[k]!r}; an acceptable result has {answer[k]!r}"
        extra = sorted(set(result) - set(answer), key=str)
        return f"the result has unexpected keys {extra}"
    return f"the result is {result!r}, not an acceptable answer"
