"""course.sharding: fresh-process calls, the drivers' plain-data results, measurements and figures."""

import functools
import hashlib
import struct

import matplotlib.pyplot as plt
import pytest

from autograde.reference import sharding as ref
from course.sharding import (ScanRing, all_pages, call_in_subprocess, draw_ring, loads_before_after, lookup_seconds,
                             make_keys, moved_fraction_by_n, owners_before_after, plot_imbalance, plot_lookup_times,
                             plot_movement, plot_shard_loads, ring_imbalance, ring_movement, run_ring,
                             seed_cross_shard_query, seed_shard_key, time_lookups, zipf_accesses)

# --------------------------------------------------------------------------- fresh processes

_SALT = 7


def _helper(text):
    return struct.unpack(">Q", hashlib.sha256(text.encode()).digest()[:8])[0]


def _uses_helper_and_global(key):
    return (_helper(key) + _SALT) % 1000


@functools.lru_cache(maxsize=None)
def _cached(key):
    return len(key)


def _raises(key):
    raise KeyError(key)


def test_builtin_hash_differs_between_processes_and_stable_hash_does_not():
    keys = make_keys(300, seed=1)
    a = call_in_subprocess(seed_shard_key, [(k, 16) for k in keys], hash_seed=1)
    b = call_in_subprocess(seed_shard_key, [(k, 16) for k in keys], hash_seed=2)
    assert sum(x == y for x, y in zip(a, b)) < 100            # chance agreement: about 300/16
    assert a == call_in_subprocess(seed_shard_key, [(k, 16) for k in keys], hash_seed=1)
    stable = call_in_subprocess(ref.stable_hash, [(k,) for k in keys[:20]], hash_seed=3)
    assert stable == [ref.stable_hash(k) for k in keys[:20]]


def test_functions_travel_with_their_helpers_globals_and_wrappers():
    assert call_in_subprocess(_uses_helper_and_global, [("a",), ("b",)], hash_seed=0) == [
        _uses_helper_and_global("a"), _uses_helper_and_global("b")]
    assert call_in_subprocess(_cached, [("abc",)], hash_seed=5) == [3]
    assert call_in_subprocess(_raises, [("x",)], hash_seed=5) == ["error: KeyError"]


def test_call_in_subprocess_refuses_bad_seeds_and_non_functions():
    with pytest.raises(ValueError):
        call_in_subprocess(_cached, [], hash_seed=-1)
    with pytest.raises(TypeError):
        call_in_subprocess(len, [("a",)], hash_seed=1)


# --------------------------------------------------------------------------- drivers

class _ListRing:
    """A deliberately simple correct ring (linear scan) to drive."""

    def __init__(self, vnodes=100):
        if vnodes < 1:
            raise ValueError(vnodes)
        self.vnodes, self.nodes = vnodes, {}

    def add_node(self, node):
        if node in self.nodes:
            raise ValueError(node)
        self.nodes[node] = [ref.stable_hash(f"{node}#{i}") for i in range(self.vnodes)]
        return self  # a return value the driver must ignore

    def remove_node(self, node):
        if node not in self.nodes:
            raise ValueError(node)
        del self.nodes[node]

    def get_node(self, key):
        points = sorted((p, n) for n, ps in self.nodes.items() for p in ps)
        if not points:
            raise ValueError("empty")
        h = ref.stable_hash(key)
        return next((n for p, n in points if p >= h), points[0][1])

    def owners(self, keys):
        return [self.get_node(k) for k in keys]


class _CountingRing(_ListRing):
    """Counts the calls of each look-up method."""

    calls: dict = {}

    def get_node(self, key):
        _CountingRing.calls["get_node"] = _CountingRing.calls.get("get_node", 0) + 1
        return super().get_node(key)

    def owners(self, keys):
        _CountingRing.calls["owners"] = _CountingRing.calls.get("owners", 0) + 1
        return [super(_CountingRing, self).get_node(k) for k in keys]


def test_run_ring_matches_the_reference_and_records_errors_by_name():
    for case in ref.ring_cases(seed=5, n=15):
        assert run_ring(_ListRing, **case) == ref.run_ring(None, **case)
    assert run_ring(_ListRing, 0, []) == ["ValueError"]
    assert run_ring(_ListRing, 2, [["get", "k"], ["add", "a"], ["add", "a"], ["get", "k"]]) == [
        "ValueError", None, "ValueError", "a"]
    assert run_ring(_ListRing, 2, [["owners", ["k"]], ["add", "a"], ["owners", ["k", "j"]], ["owners", []]]) == [
        "ValueError", None, ["a", "a"], []]
    assert any(op == "owners" for case in ref.ring_cases(seed=5, n=15) for op, _ in case["ops"])
    # vnodes=None builds the class with its own default (100 here): "db-b#99" is a point of db-b only then
    ops = [["add", "db-a"], ["add", "db-b"], ["get", "db-b#99"]]
    assert run_ring(_ListRing, None, ops) == ref.run_ring(None, None, ops) == [None, None, "db-b"]


def test_ring_movement_moves_keys_only_to_the_new_node():
    keys = make_keys(3000, seed=2)
    result = ring_movement(_ListRing, 20, ["a", "b", "c"], "d", keys[:300])
    assert set(result) == {"before", "after", "after_remove"} and result["after_remove"] == result["before"]
    assert result == ref.ring_movement(20, ["a", "b", "c"], "d", keys[:300])
    assert ref.movement_judge("d", 0.05, 0.6)(result) is None
    assert ref.movement_judge("a", 0.05, 0.6)(result) is not None


def test_ring_movement_makes_one_batch_call_per_layout_and_uses_the_default_vnodes():
    _CountingRing.calls = {}
    keys = make_keys(200, seed=8)
    result = ring_movement(_CountingRing, None, ["a", "b"], "c", keys)
    assert _CountingRing.calls == {"owners": 3}
    assert result == ref.ring_movement(None, ["a", "b"], "c", keys) == ref.ring_movement(100, ["a", "b"], "c", keys)


def test_owners_before_after_and_movement_judge_on_mod_n():
    keys = make_keys(5000, seed=3)
    result = owners_before_after(ref.mod_n_shard_many, keys, 4, 5)
    assert result == ref.mod_n_before_after(keys, 4, 5)
    assert ref.movement_judge(None, 0.75, 0.85)(result) is None
    assert "changed owner" in ref.movement_judge(None, 0.1, 0.2)(result)


def test_movement_judge_compares_every_owner_with_the_reference_after_the_statistics():
    keys = make_keys(2000, seed=4)
    truth = ref.mod_n_before_after(keys, 4, 5)
    judge = ref.movement_judge(None, 0.75, 0.85, max_imbalance=1.2, reference=truth, keys=keys)
    assert judge(truth) is None
    swapped = {"before": list(truth["before"]), "after": list(truth["after"])}
    swapped["after"][7] = (swapped["after"][7] + 1) % 5
    problem = judge(swapped)
    assert "1 of 2000 owners in 'after' differ" in problem and repr(keys[7]) in problem
    assert "not a list of 2000 owners" in judge({"before": truth["before"] + [0], "after": truth["after"] + [0]})
    before = [0 if i < 800 else i % 4 for i in range(2000)]  # shard 0 holds 1,100 of 2,000 keys: 2.2 x the mean
    lopsided = {"before": before, "after": [(b + 1) % 5 if i < 1600 else b for i, b in enumerate(before)]}
    assert "mean load" in judge(lopsided)  # the statistics speak first


def test_batch_references_agree_with_the_per_key_references():
    keys = make_keys(3000, seed=9)
    nodes = ["node-0", "node-1", "node-2"]
    assert ref.rendezvous_before_after(keys, nodes[:2], nodes) == {
        "before": [ref.rendezvous_owners(k, nodes[:2])[0] for k in keys],
        "after": [ref.rendezvous_owners(k, nodes)[0] for k in keys]}
    assert owners_before_after(ref.rendezvous_owner_many, keys, nodes[:2], nodes) == ref.rendezvous_before_after(
        keys, nodes[:2], nodes)
    jump_keys = ref.jump_keys(seed=10, n=3000) + [k for k, _, _ in ref.JUMP_PUBLISHED]
    for buckets in (1, 10, 11, 57, 255, 1024, 99_999):
        assert ref.jump_hash_array(jump_keys, buckets) == [ref.jump_hash(k, buckets) for k in jump_keys]
        assert ref.jump_hash_array(jump_keys, buckets, exact=True) == [ref._jump_exact(k, buckets) for k in jump_keys]
    assert owners_before_after(ref.jump_hash_many, jump_keys, 10, 11) == ref.jump_before_after(jump_keys, 10, 11)
    assert max(ref.jump_keys(seed=10, n=3000)) > 2**63  # both halves of the 64-bit range
    assert ref.ring_owners(["a", "b"], 5, keys[:100]) == ref.run_ring(None, 5, [["add", "a"], ["add", "b"],
                                                                                 ["owners", keys[:100]]])[-1]


def test_all_pages_walks_until_the_cursor_is_none_and_stops_a_stuck_cursor():
    shards = ref.scatter_gather_cases(seed=9, n=5)[0]["shards"]
    users = {r["user_id"] for s in shards for r in s}
    for user in users:
        assert all_pages(ref.latest_items, shards, user, 3) == ref.all_pages(None, shards, user, 3)

    def stuck(shards, user_id, limit, cursor):
        return {"items": [{"item_id": "x"}], "next_cursor": [0, "x"]}

    assert len(all_pages(stuck, [[{"user_id": "u", "ts": 1, "item_id": "x"}]], "u", 1)) == 3


def test_loads_before_after_and_its_judge():
    log = zipf_accesses(20_000, n_keys=500, exponent=1.2, seed=4)
    result = loads_before_after(ref.shard_loads, log, 8, ref.hot_keys(log, 0.02), 8)
    assert sum(result["before"]) == sum(result["after"]) == len(log)
    assert ref.loads_judge(max_after=10, total=len(log))(result) is None
    assert ref.loads_judge(max_after=10, total=len(log) + 1)(result) is not None


def test_seed_cross_shard_query_concatenates_in_shard_order():
    shards = [[{"user_id": "u", "ts": 1, "item_id": "a"}], [{"user_id": "u", "ts": 5, "item_id": "b"}]]
    assert [r["item_id"] for r in seed_cross_shard_query(shards, "u", 2)] == ["a", "b"]


def test_make_keys_and_zipf_are_seeded():
    assert make_keys(5, seed=1) == make_keys(5, seed=1) != make_keys(5, seed=2)
    log = zipf_accesses(10_000, n_keys=100, exponent=1.1, seed=1)
    assert log == zipf_accesses(10_000, n_keys=100, exponent=1.1, seed=1)
    assert log.count("item:00000") > log.count("item:00050") * 5


# --------------------------------------------------------------------------- measurements and figures

def test_measurements_have_the_documented_shapes():
    keys = make_keys(500, seed=6)
    table = moved_fraction_by_n({"mod": lambda ks, n: [ref.mod_n_shard(k, n) for k in ks]}, keys, [2, 4])
    assert table["n"] == [2, 4] and len(table["mod"]) == 2 and 0.5 < table["mod"][0] < 0.85
    imbalance = ring_imbalance(_ListRing, [1, 5], ["a", "b"], keys[:100])
    assert imbalance["vnodes"] == [1, 5] and all(r >= 1 for r in imbalance["max_over_mean"])
    ring = _ListRing(2)
    ring.add_node("a")
    assert lookup_seconds(ring, keys[:10], repeats=2) >= 0
    timed = time_lookups(ring, make_keys(2500, seed=10), max_seconds=60)  # not a multiple of 1,000
    assert timed["lookups"] == 2500 and timed["seconds"] >= 0
    with pytest.raises(ValueError):
        time_lookups(ring, keys, max_seconds=0)


class _SlowRing:
    """A ring whose look-ups take at least 0.1 ms each: 1,000 of them take at least 0.1 s."""

    def get_node(self, key):
        import time
        time.sleep(0.0001)
        return "a"


def test_time_lookups_stops_a_slow_ring_after_its_budget_in_whole_thousands():
    # the first 1,000 look-ups take at least 0.1 s, more than the budget, so it stops there (sleep never ends early)
    timed = time_lookups(_SlowRing(), make_keys(100_000, seed=11), max_seconds=0.05)
    assert timed["lookups"] == 1000 and timed["seconds"] >= 0.1


def test_scan_ring_agrees_with_the_reference_ring():
    keys = make_keys(300, seed=12) + ["a#0", "b#2", "c#4"]  # point names hash exactly onto a point
    scan = ScanRing(ref.stable_hash, 5)
    with pytest.raises(ValueError):
        scan.get_node("k")
    for node in ("a", "b", "c"):
        scan.add_node(node)
    assert [scan.get_node(k) for k in keys] == ref.ring_owners(["a", "b", "c"], 5, keys)
    with pytest.raises(ValueError):
        ScanRing(ref.stable_hash, 0)


def test_figures_have_titles_and_labelled_axes():
    keys = make_keys(200, seed=7)
    table = moved_fraction_by_n({"mod": lambda ks, n: [ref.mod_n_shard(k, n) for k in ks]}, keys, [2, 3])
    ring = _ListRing(3)
    for node in ("a", "b"):
        ring.add_node(node)
    figures = [plot_movement(table), plot_imbalance({"vnodes": [1, 10], "max_over_mean": [2.0, 1.2]}),
               plot_lookup_times([10, 100], [1.0, 1.2], compare={"scan": [1.0, 9.0]}),
               plot_shard_loads([5, 1], [3, 3])]
    for fig, ax in figures:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        plt.close(fig)
    fig, ax = figures[2]
    assert [line.get_label() for line in ax.get_lines()] == ["your HashRing", "scan"]


def test_ring_drawing_has_a_title_and_no_axes_frame():
    ring = _ListRing(3)
    for node in ("a", "b"):
        ring.add_node(node)
    fig, ax = draw_ring(ref.stable_hash, ring.get_node, ["a", "b"], 3, make_keys(5, seed=7))
    assert ax.get_title() and not ax.axison
    plt.close(fig)


def test_movement_guides_are_drawn_on_top_of_the_measurements():
    keys = make_keys(200, seed=7)
    table = moved_fraction_by_n({"mod": lambda ks, n: [ref.mod_n_shard(k, n) for k in ks]}, keys, [2, 3])
    fig, ax = plot_movement(table)
    lines = {line.get_label(): line for line in ax.get_lines()}
    guide = lines["n/(n+1): almost all"]
    assert guide.get_zorder() > lines["mod"].get_zorder() and guide.get_color() == "black"
    plt.close(fig)


def test_draw_ring_refuses_an_owner_that_is_not_the_next_point():
    ring = _ListRing(2)
    ring.add_node("a")
    ring.add_node("b")
    with pytest.raises(ValueError):
        draw_ring(ref.stable_hash, lambda key: "nobody", ["a", "b"], 2, ["k"])
    plt.close("all")
