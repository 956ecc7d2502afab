"""The module-10 base-62 reference, checked by someone else: PyPI's ``pybase62`` (imported as
``base62``; the package the seed's code imports). Development only (the ``dev`` extra): the test is
skipped where the package is not installed, and never needed by learners.

The semantics match on whole numbers >= 0 and on non-empty codes of the course's alphabet (pybase62's
default charset is the same: digits, A-Z, a-z). They differ elsewhere, and those inputs are left out:
pybase62 1.0.0 encodes a negative number as "0", decodes "" as 0 and raises TypeError for a float,
where the course raises ValueError.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograde.reference import url_shortener as ref
from course import shortener as sh

base62 = pytest.importorskip("base62")

SEEDS = (0, 1, 2026)


def _numbers(seed, n=3000):
    rng = np.random.default_rng(seed)
    out = [0, 1, 61, 62, 63, 62 ** 7 - 1, 62 ** 7, 2 ** 63, 2 ** 64, 2 ** 128]
    for _ in range(n):
        out.append(ref._any_int(rng))
    return out


def test_the_charsets_are_the_same():
    assert base62.CHARSET_DEFAULT == ref.DIGITS == sh.ALPHABET


@pytest.mark.parametrize("seed", SEEDS)
def test_encode_agrees_with_pybase62(seed):
    for index, n in enumerate(_numbers(seed)):
        expected, got = base62.encode(n), ref.base62_encode(n)
        assert got == expected, f"base62_encode({n}): pybase62 says {expected!r}, the reference {got!r} (seed {seed}, case {index})"
        assert sh._pybase62_encode(n) == expected, f"course.shortener._pybase62_encode({n}) (seed {seed}, case {index})"


@pytest.mark.parametrize("seed", SEEDS)
def test_decode_agrees_with_pybase62(seed):
    rng = np.random.default_rng(seed)
    for index in range(3000):
        code = "".join(rng.choice(list(ref.DIGITS), size=int(rng.integers(1, 26))))
        if index % 10 == 0:
            code = "0" * int(rng.integers(1, 4)) + code          # leading zeros decode as in pybase62
        expected, got = base62.decode(code), ref.base62_decode(code)
        assert got == expected, f"base62_decode({code!r}): pybase62 says {expected}, the reference {got} (seed {seed}, case {index})"


@pytest.mark.parametrize("seed", SEEDS)
def test_contract_cases_agree_with_pybase62_where_both_answer(seed):
    """The hidden cases of the contract (boundaries and random ones), not only the generator above."""
    for case in ref.CONTRACTS["base62_encode"].cases(seed, n=300):
        n = case.args["n"]
        if type(n) is int and n >= 0:
            assert ref.base62_encode(n) == base62.encode(n), f"n={n} ({case.label}, seed {seed})"
    for case in ref.CONTRACTS["base62_decode"].cases(seed, n=300):
        code = case.args["code"]
        if type(code) is str and code and all(ch in ref.VALUE for ch in code):
            assert ref.base62_decode(code) == base62.decode(code), f"code={code!r} ({case.label}, seed {seed})"
