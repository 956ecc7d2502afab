"""Module 05: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "05-replication-cap"

QUORUM, STALE, LWW = "correct_quorum_read", "correct_stale_read_probability", "correct_lww_merge"
VC_OPS, VC_COMPARE = "correct_vector_clock_ops", "correct_vc_compare"
GCOUNTER, PNCOUNTER, ORSET = "correct_g_counter", "correct_pn_counter", "correct_or_set"
LINEARIZABLE = "correct_is_linearizable"

MUTANTS = {
    "quorum_uses_all_replies": Mutant(
        "quorum_read", "first = replies[:r]", "first = replies",
        frozenset({QUORUM}), "waits for every reply instead of answering from the first r"),
    "quorum_answers_without_quorum": Mutant(
        "quorum_read", "    if len(replies) < r:\n", "    if not replies:\n",
        frozenset({QUORUM}), "answers with fewer than r replies (a CP read silently turned AP)"),
    "stale_probability_with_replacement": Mutant(
        "stale_read_probability", "probability *= max(n - w - i, 0) / (n - i)", "probability *= (n - w) / n",
        frozenset({STALE}), "replicas drawn with replacement: (1 - W/N)^R, never 0 when R + W > N"),
    "lww_tie_keeps_local_state": Mutant(
        "lww_merge", "    return a if a[1] > b[1] else b\n", "    return a\n",
        frozenset({LWW}), "equal timestamps keep the local state: replicas never agree (only hidden tests see it)"),
    "lww_first_writer_wins": Mutant(
        "lww_merge", "return a if a[0] > b[0] else b", "return a if a[0] < b[0] else b",
        frozenset({LWW}), "timestamp comparison reversed"),
    "vc_merge_adds_counts": Mutant(
        "vector_clock_ops", "merged[node] = max(merged.get(node, 0), count)",
        "merged[node] = merged.get(node, 0) + count",
        frozenset({VC_OPS}), "merge adds entries instead of taking the maximum"),
    "vc_compare_only_left_keys": Mutant(
        "vc_compare", "nodes = set(a) | set(b)", "nodes = set(a)",
        frozenset({VC_COMPARE}), "ignores nodes that only the second clock has (only hidden tests see it)"),
    "vc_compare_concurrent_as_before": Mutant(
        "vc_compare", '    if a_smaller and b_smaller:\n        return "concurrent"\n', "",
        frozenset({VC_COMPARE}), "any smaller entry taken as happened-before"),
    "gcounter_merge_adds": Mutant(
        "g_counter", "self.counts[replica] = max(self.counts.get(replica, 0), count)",
        "self.counts[replica] = self.counts.get(replica, 0) + count",
        frozenset({GCOUNTER, PNCOUNTER}), "merge sums counts: a state delivered twice is counted twice"),
    "gcounter_accepts_negative": Mutant(
        "g_counter", "        if amount < 0:\n", "        if False:\n",
        frozenset({GCOUNTER, PNCOUNTER}), "a grow-only counter that goes down"),
    "pncounter_adds_decrements": Mutant(
        "pn_counter", "self.increments.value() - self.decrements.value()",
        "self.increments.value() + self.decrements.value()",
        frozenset({PNCOUNTER}), "decrements added to the value"),
    "orset_remove_deletes_locally": Mutant(
        "or_set", "        self.removed |= {tag for item, tag in self.entries if item == element}\n",
        "        self.entries = {(item, tag) for item, tag in self.entries if item != element}\n",
        frozenset({ORSET}), "remove forgets the element locally: the next merge brings it back"),
    # Issue 17's classes (no threads here, so no race: class 5 does not apply to this module).
    "stale_accepts_floats": Mutant(  # class 1: a rule ("ints, not floats or bools") with no hidden case
        "stale_read_probability", "        if not isinstance(value, int) or isinstance(value, bool):\n",
        "        if False:\n", frozenset({STALE}), "class 1: n = 5.0 or r = True accepted, though the text says ints"),
    "gcounter_default_amount_2": Mutant(  # class 1: the stated default never called
        "g_counter", "    def increment(self, amount=1):", "    def increment(self, amount=2):", frozenset({GCOUNTER}),
        "class 1: increment() without an amount adds 2 (the drivers used to pass every amount)"),
    "stale_zero_from_r_plus_w_equals_n": Mutant(  # class 2: exactly at the boundary
        "stale_read_probability", "    probability = 1.0\n",
        "    if r + w >= n:\n        return 0.0\n    probability = 1.0\n", frozenset({STALE}),
        "class 2: R + W = N taken as intersecting quorums (it is R + W > N)"),
    "touching_operations_ordered": Mutant(  # class 2: touching intervals
        "is_linearizable", "            if op[\"start\"] > first_end:", "            if op[\"start\"] >= first_end:",
        frozenset({LINEARIZABLE}), "class 2: an operation starting exactly when another ends is taken to follow it"),
    "quorum_versions_as_strings": Mutant(  # class 3: versions past 9
        "quorum_read", "newest = max(first, key=lambda reply: reply[1])",
        "newest = max(first, key=lambda reply: str(reply[1]))", frozenset({QUORUM}),
        "class 3: versions compared as strings: \"9\" beats \"10\" (old hidden versions stayed below 6)"),
    "vc_increment_in_place": Mutant(  # class 4: "leave the arguments unchanged"
        "vector_clock_ops", "    ticked = dict(clock)\n", "    ticked = clock\n", frozenset({VC_OPS}),
        "class 4: the clock passed in is ticked in place (and returned), though the text says leave it unchanged"),
    "vc_merge_in_place": Mutant(  # class 4
        "vector_clock_ops", "    merged = dict(a)\n", "    merged = a\n", frozenset({VC_OPS}),
        "class 4: merge writes the maxima into its first argument"),
    "stale_probability_by_sampling": Mutant(  # class 6: an estimate inside a loose tolerance
        "stale_read_probability",
        "    probability = 1.0\n    for i in range(r):   # each pick, without replacement, lands on a stale replica\n"
        "        probability *= max(n - w - i, 0) / (n - i)\n    return probability",
        "    import random\n    rng = random.Random(0)\n    trials = 4000\n"
        "    return sum(all(x >= w for x in rng.sample(range(n), r)) for _ in range(trials)) / trials",
        frozenset({STALE}), "class 6: a Monte Carlo estimate, within about 0.01 of the truth: a loose tolerance "
                            "would pass it, the stated 1e-9 does not"),
    "orset_tags_not_unique": Mutant(
        "or_set", "self.adds += 1", "self.adds = 1",
        frozenset({ORSET}), "every add of a replica gets the same tag, so a removed element cannot come back"),
    "linearizable_ignores_real_time": Mutant(
        "is_linearizable", '            if op["start"] > first_end:\n                break\n', "",
        frozenset({LINEARIZABLE}), "checks sequential consistency: real-time order ignored, stale reads accepted"),
    "linearizable_without_memo": Mutant(
        "is_linearizable", "        if (placed, value) in explored:\n", "        if False:\n",
        frozenset({LINEARIZABLE}), "Wing and Gong without memoisation: exponential (only hidden tests see it)"),
}

# A correct solution written differently from ours: sorting instead of max, math.comb, tuple keys,
# comprehensions, counters without the GCounter class, an OR-set keyed by element with random tags,
# and a recursive checker memoised with lru_cache over frozensets.
ALTERNATIVE = {
    "quorum_read": '''
def quorum_read(replies, r):
    if not r >= 1:
        raise ValueError("r")
    if len(replies) < r:
        return None
    _, version, value = sorted(replies[:r], key=lambda reply: -reply[1])[0]
    return (version, value)
''',
    "stale_read_probability": '''
from math import comb

def stale_read_probability(n, r, w):
    if not all(type(x) is int for x in (n, r, w)) or not (0 < r <= n and 0 < w <= n):
        raise ValueError((n, r, w))
    return comb(n - w, r) / comb(n, r)
''',
    "lww_merge": '''
def lww_merge(a, b):
    if (a[0], a[1]) == (b[0], b[1]) and a[2] != b[2]:
        raise ValueError("same clock, different values")
    return max(a, b, key=lambda state: (state[0], state[1]))
''',
    "vector_clock_ops": '''
def vc_increment(clock, node):
    return {**clock, node: clock.get(node, 0) + 1}

def vc_merge(a, b):
    return {k: max(a.get(k, 0), b.get(k, 0)) for k in {*a, *b}}
''',
    "vc_compare": '''
def vc_compare(a, b):
    keys = a.keys() | b.keys()
    le = all(a.get(k, 0) <= b.get(k, 0) for k in keys)
    ge = all(a.get(k, 0) >= b.get(k, 0) for k in keys)
    return "equal" if le and ge else "before" if le else "after" if ge else "concurrent"
''',
    "g_counter": '''
class GCounter:
    def __init__(self, replica_id):
        self.me = replica_id
        self.slots = {replica_id: 0}

    def increment(self, amount=1):
        if amount < 0:
            raise ValueError(amount)
        self.slots[self.me] += amount

    def merge(self, other):
        self.slots = {k: max(self.slots.get(k, 0), other.slots.get(k, 0)) for k in self.slots.keys() | other.slots.keys()}

    def value(self):
        return sum(self.slots.values())
''',
    "pn_counter": '''
class PNCounter:
    def __init__(self, replica_id):
        self.me, self.p, self.n = replica_id, {}, {}

    def increment(self, amount=1):
        if amount < 0:
            raise ValueError(amount)
        self.p[self.me] = self.p.get(self.me, 0) + amount

    def decrement(self, amount=1):
        if amount < 0:
            raise ValueError(amount)
        self.n[self.me] = self.n.get(self.me, 0) + amount

    def merge(self, other):
        for mine, theirs in ((self.p, other.p), (self.n, other.n)):
            for k, v in theirs.items():
                mine[k] = max(mine.get(k, 0), v)

    def value(self):
        return sum(self.p.values()) - sum(self.n.values())
''',
    "or_set": '''
import uuid

class ORSet:
    def __init__(self, replica_id):
        self.live = {}          # element -> set of tags not yet removed
        self.dead = set()       # removed tags

    def add(self, element):
        self.live.setdefault(element, set()).add(uuid.uuid4().hex)

    def remove(self, element):
        self.dead |= self.live.pop(element, set())

    def merge(self, other):
        self.dead |= other.dead
        for element, tags in other.live.items():
            self.live[element] = self.live.get(element, set()) | tags
        for element in list(self.live):
            self.live[element] = self.live[element] - self.dead
            if not self.live[element]:
                del self.live[element]

    def value(self):
        return sorted(self.live)
''',
    "is_linearizable": '''
from functools import lru_cache

def is_linearizable(history, initial=0):
    ops = tuple(history)
    if any(op["kind"] not in {"read", "write"} or op["start"] > op["end"] for op in ops):
        raise ValueError("bad operation")

    @lru_cache(maxsize=None)
    def ok(remaining, value):
        if not remaining:
            return True
        deadline = min(ops[i]["end"] for i in remaining)
        for i in remaining:
            op = ops[i]
            if op["start"] > deadline:
                continue
            if op["kind"] == "read" and op["value"] != value:
                continue
            if ok(remaining - {i}, op["value"]):
                return True
        return False

    return ok(frozenset(range(len(ops))), initial)
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


@pytest.mark.parametrize("name, seed", [("lww_tie_keeps_local_state", 531), ("vc_compare_only_left_keys", 551),
                                        ("linearizable_without_memo", 592)])
def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports, name, seed):
    """These mutants pass every visible test; only the seeded hidden cases find them."""
    failing = [t for t in reports[name].tests if t.status == "fail"]
    assert [t.id for t in failing] == sorted(MUTANTS[name].loses)
    assert f"seed {seed}" in failing[0].message, failing[0].message


def test_slow_checker_is_told_the_time_limit(reports):
    message = next(t.message for t in reports["linearizable_without_memo"].tests if t.id == LINEARIZABLE)
    assert "TimeoutError" in message and "limit is 2 s" in message, message
