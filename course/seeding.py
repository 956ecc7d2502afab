"""Seeded randomness that can be replayed.

Every random run in the course names its seed, so that a surprising result (or a failing test)
can be rerun exactly. Randomness flows only through ``numpy.random.Generator`` objects made by
``make_rng``; nothing here touches NumPy's or Python's global random state.
"""

from __future__ import annotations

import hashlib
import json
import numbers

import numpy as np

# The largest seed derive_seed returns is 2**63 - 1, so a child seed fits a signed 64-bit integer.
_DERIVED_SEED_BITS = 63


def _check_seed(seed: object) -> int:
    """Return ``seed`` as a Python int, or raise if it is not a non-negative integer."""
    # bool is a subclass of int, and numpy.bool_ is not an integer type: reject both explicitly.
    if seed is None:
        raise TypeError(
            "seed is None: every random run in this course names its seed so it can be replayed; "
            "pass an integer such as seed=42"
        )
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be an integer (int or a numpy integer), got {seed!r} of type "
            f"{type(seed).__name__}; pass an integer such as seed=42"
        )
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return seed


def make_rng(seed: int) -> np.random.Generator:
    """Return a NumPy random generator seeded with ``seed``.

    This is ``numpy.random.default_rng(seed)`` with a check first: ``seed`` must be a non-negative
    integer (a Python ``int`` or a NumPy integer). ``None``, ``True``/``False``, floats and strings
    raise ``TypeError``, because a run without a named seed cannot be replayed; a negative integer
    raises ``ValueError``.

    >>> rng = make_rng(42)
    >>> float(rng.random()) == float(make_rng(42).random())
    True
    """
    return np.random.default_rng(_check_seed(seed))


def _encode_label(label: object) -> list:
    """Tag a label with its type, so that the label 1 and the label "1" encode differently."""
    if isinstance(label, (bool, np.bool_)):
        raise TypeError(f"a seed label must be a str or an int, got the bool {label!r}")
    if isinstance(label, str):
        return ["str", label]
    if isinstance(label, numbers.Integral):
        return ["int", int(label)]
    raise TypeError(
        f"a seed label must be a str or an int, got {label!r} of type {type(label).__name__}"
    )


def derive_seed(seed: int, *labels: str | int) -> int:
    """Return a child seed for the part of a run named by ``labels``.

    Use it to give each replica, client or trial its own independent stream while the whole run
    still replays from one parent ``seed``, for example ``make_rng(derive_seed(seed, "node", 3))``.
    The result is an int in ``[0, 2**63)``. It is a pure function of ``seed`` and ``labels``:
    the same in every process, on every machine, in every Python version. Different labels (or a
    different order of labels) give different seeds, and the int label ``1`` differs from the
    str label ``"1"``.

    It is computed with SHA-256 over a canonical JSON encoding of the seed and the type-tagged
    labels. Never use Python's built-in ``hash()`` for this: the hash of a ``str`` is salted
    afresh in every process (see ``PYTHONHASHSEED``), so a seed made with it would change from
    one run to the next and nothing could be replayed.

    Raises ``TypeError`` for a seed that is not an integer or a label that is not a str or an int,
    and ``ValueError`` for a negative seed.
    """
    parent = _check_seed(seed)
    payload = ["course.derive_seed/v1", parent, [_encode_label(label) for label in labels]]
    encoded = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    digest = hashlib.sha256(encoded).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - _DERIVED_SEED_BITS)
