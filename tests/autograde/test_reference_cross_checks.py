"""The references checked by someone else: where an independent implementation is on PyPI, the grader's
reference answer must agree with it on seeded inputs where their semantics match. If a reference were
wrong, the solution and the hidden tests would agree on the wrong answer and no mutant would notice.

These packages are development-only (the optional ``dev`` extra, never installed for learners); each
test is skipped, saying so, when its package is missing.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograde.reference import sharding


def test_jump_hash_matches_jump_consistent_hash():
    """Lamping and Veach's jump hash, against the `jump-consistent-hash` package (C and Python versions
    of the paper's code), on 64-bit keys from the whole range and 1 to 100,000 buckets."""
    jump = pytest.importorskip("jump", reason="pip install jump-consistent-hash (the dev extra)")
    rng = np.random.default_rng(2701)
    keys = [int(k) for k in rng.integers(0, 2**63, size=3000, dtype=np.uint64)] + [0, 1, 2**64 - 1, 2**63]
    for i, key in enumerate(keys):
        buckets = int(rng.integers(1, 100_001)) if i % 3 else int(rng.integers(1, 20))
        assert sharding.jump_hash(key, buckets) == jump.hash(key, buckets), (key, buckets)


def test_ring_movement_matches_uhashring():
    """A consistent-hash ring moves about 1/(n+1) of the keys when an (n+1)-th node joins, and moving it out
    again restores every owner. Our ring (SHA-256 points) and `uhashring` (ketama: MD5, 160 points per node)
    place points differently, so owners differ; the movement figures must agree."""
    uhashring = pytest.importorskip("uhashring", reason="pip install uhashring (the dev extra)")
    nodes = [f"db-{i}" for i in range(10)]
    keys = sharding.random_keys(seed=2702, n=20_000)

    ours = sharding.ring_movement(160, nodes, "db-new", keys)
    ours_moved = sharding.fraction_moved(ours["before"], ours["after"])

    ring = uhashring.HashRing(nodes=list(nodes))
    before = [ring.get_node(k) for k in keys]
    ring.add_node("db-new")
    after = [ring.get_node(k) for k in keys]
    ring.remove_node("db-new")
    again = [ring.get_node(k) for k in keys]
    theirs_moved = sum(a != b for a, b in zip(before, after)) / len(keys)

    assert again == before
    assert ours["after_remove"] == ours["before"]
    assert all(b == a for b, a in zip(ours["before"], ours["after"]) if a != "db-new"), "keys move only to the new node"
    assert all(b == a for b, a in zip(before, after) if a != "db-new"), "keys move only to the new node (uhashring)"
    assert abs(ours_moved - 1 / 11) < 0.02 and abs(theirs_moved - 1 / 11) < 0.02, (ours_moved, theirs_moved)
    assert abs(ours_moved - theirs_moved) < 0.02, (ours_moved, theirs_moved)
