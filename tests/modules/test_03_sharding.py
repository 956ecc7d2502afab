"""Module 03: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "03-sharding"

STABLE, MOD_N, RING = "correct_stable_hash", "correct_mod_n_routing", "correct_hash_ring"
RENDEZVOUS, JUMP, LATEST, HOT = ("correct_rendezvous_owners", "correct_jump_hash", "correct_latest_items",
                                 "correct_hot_key_handling")

MUTANTS = {
    "python_hash": Mutant(
        "stable_hash", 'return int.from_bytes(digest[:8], "big")', "return hash(key) % 2**64",
        frozenset({STABLE, MOD_N, RING, RENDEZVOUS, HOT}),
        "the seed's mistake: Python's per-process hash(); every router built on it fails too"),
    "bytes_accepted": Mutant(
        "stable_hash",
        '    if not isinstance(key, str):\n'
        '        raise TypeError(f"key must be a str, got {type(key).__name__}")\n'
        '    digest = hashlib.sha256(key.encode("utf-8")).digest()',
        '    if isinstance(key, str):\n'
        '        key = key.encode("utf-8")\n'
        '    elif not isinstance(key, bytes):\n'
        '        raise TypeError(f"key must be a str or bytes, got {type(key).__name__}")\n'
        '    digest = hashlib.sha256(key).digest()',
        frozenset({STABLE}), "hashes a bytes key as its text, so b\"user:42\" and \"user:42\" collide; the contract "
                             "refuses bytes (the visible test passes the bytes b'user:42')"),
    "latin1_encoding": Mutant(
        "stable_hash", 'key.encode("utf-8")', 'key.encode("latin-1")',
        frozenset({STABLE}), "not UTF-8: same bytes for ASCII keys, so only the hidden non-ASCII keys catch it"),
    "fraction_counts_kept": Mutant(
        "mod_n_routing", "if b != a", "if b == a",
        frozenset({MOD_N}), "counts the keys that stayed instead of those that moved"),
    "ring_no_wraparound": Mutant(
        "hash_ring", "stable_hash(key)) % len(self._points)", "stable_hash(key))",
        frozenset({RING}), "no wrap-around: a key past the largest point raises IndexError"),
    "ring_remove_keeps_points": Mutant(
        "hash_ring", "        self._points = sorted(self._owner)\n", "",
        frozenset({RING}), "remove_node forgets the sorted point list, so look-ups hit removed points"),
    "ring_default_10_vnodes": Mutant(
        "hash_ring", "def __init__(self, vnodes=100):", "def __init__(self, vnodes=10):",
        frozenset({RING}), "too few virtual nodes by default: every test that passes vnodes still passes; only the "
                           "100,000-key statistics on HashRing() find the busiest node at ~1.4 x the mean"),
    "ring_bisect_right": Mutant(
        "hash_ring", "bisect.bisect_left(", "bisect.bisect_right(",
        frozenset({RING}), "first point strictly after the key's hash: a key that hashes exactly onto a point "
                           "(get_node('db-a#0')) goes to the next point's node"),
    "ring_owners_empty_ring_returns_list": Mutant(
        "hash_ring", "return [get_node(key) for key in keys]",
        "return [get_node(key) for key in keys] if self._points else []",
        frozenset({RING}), "owners(['user:1']) on an empty ring returns [] instead of raising ValueError"),
    "ring_owners_as_dict": Mutant(
        "hash_ring", "return [get_node(key) for key in keys]", "return {key: get_node(key) for key in keys}",
        frozenset({RING}), "the batch look-up returns {key: owner}, not a list in the order of the keys"),
    "rendezvous_lowest_weight": Mutant(
        "rendezvous_owners", "reverse=True", "reverse=False",
        frozenset({RENDEZVOUS}), "lowest weight wins: still consistent, but not the specified ranking"),
    "jump_no_64bit_wrap": Mutant(
        "jump_hash", "key = (key * 2862933555777941757 + 1) & MASK64", "key = key * 2862933555777941757 + 1",
        frozenset({JUMP}), "C's uint64_t overflow not reproduced with Python's unbounded ints"),
    "jump_many_no_bucket_check": Mutant(
        "jump_hash",
        '    if num_buckets < 1:\n        raise ValueError("num_buckets must be >= 1")\n'
        '    return [jump_hash(key, num_buckets) for key in keys]',
        "    return [jump_hash(key, num_buckets) for key in keys]",
        frozenset({JUMP}), "the batch form leaves the check to jump_hash, so jump_hash_many([], 0) returns [] "
                           "instead of raising ValueError"),
    "cursor_on_ts_only": Mutant(
        "latest_items", "order(r) < tuple(cursor)", 'r["ts"] < cursor[0]',
        frozenset({LATEST}), "the cursor ignores the tie-breaker, so items with the cursor's ts are skipped"),
    "seed_extend_not_merge": Mutant(
        "latest_items", "merged = heapq.merge(*per_shard, key=order, reverse=True)",
        "merged = [row for rows in per_shard for row in rows]",
        frozenset({LATEST}), "the seed's cross_shard_query: shard results concatenated, not merged"),
    "cursor_on_short_page": Mutant(
        "latest_items", "if len(items) == limit else None", "if items else None",
        frozenset({LATEST}), "a cursor after the last, short page"),
    "hot_threshold_strict": Mutant(
        "hot_key_handling", "if count >= threshold * len(accesses)", "if count > threshold * len(accesses)",
        frozenset({HOT}), "a key exactly at the threshold is missed (the visible 0.25 x 8 = 2 case sits on it)"),
    "hot_split_never_advances": Mutant(
        "hot_key_handling", "            seen[key] += 1\n", "",
        frozenset({HOT}), "the round-robin counter never advances: every access goes to sub-key #0"),
    # issue 17's classes of mistakes that used to score full marks (class 5, races, does not apply: nothing here
    # runs concurrently)
    "mod_n_bool_accepted": Mutant(  # class 1: "an int >= 1" had no hidden case with a bool
        "mod_n_routing",
        'stable_hash(key) mod num_shards."""\n    ### BEGIN SOLUTION\n    if type(num_shards) is not int',
        'stable_hash(key) mod num_shards."""\n    ### BEGIN SOLUTION\n    if not isinstance(num_shards, int)',
        frozenset({MOD_N}), "isinstance(True, int) is true, so mod_n_shard('k', True) routes to shard 0"),
    "jump_largest_key_refused": Mutant(  # class 2: the key bound exactly at 2^64 - 1
        "jump_hash", "if not 0 <= key <= MASK64:", "if not 0 <= key < MASK64:",
        frozenset({JUMP}), "the largest 64-bit key, 2^64 - 1, refused: only a case exactly at the bound sees it"),
    "hot_ties_in_log_order": Mutant(  # class 3: ties, which the seeded Zipf logs almost never contain
        "hot_key_handling", "key=lambda key: (-counts[key], key))", "key=lambda key: -counts[key])",
        frozenset({HOT}), "keys with equal counts left in the order they first appear, not ascending"),
    "hot_split_counter_shared": Mutant(  # class 4: state kept per key, not for all hot keys together
        "hot_key_handling", "            j = seen[key]\n", "            j = sum(seen.values())\n",
        frozenset({HOT}), "one round-robin counter for every hot key: the j-th access is counted across keys"),
    "jump_loop_le": Mutant(  # class 2: a jump that lands exactly on num_buckets
        "jump_hash", "while j < num_buckets:", "while j <= num_buckets:",
        frozenset({JUMP}), "the loop goes on when j equals num_buckets, returning a bucket out of range"),
    "shard_loads_default_fanout_2": Mutant(  # class 1: a stated default that no case left out
        "hot_key_handling", "def shard_loads(accesses, num_shards, hot=(), fanout=1):",
        "def shard_loads(accesses, num_shards, hot=(), fanout=2):",
        frozenset({HOT}), "hot keys split over two sub-keys when no fanout is given"),
    "latest_sorts_shards_in_place": Mutant(  # class 4: "leave the arguments unchanged"
        "latest_items", "        per_shard.append(sorted(rows, key=order, reverse=True)[:limit])",
        "        shard.sort(key=order, reverse=True)\n"
        "        per_shard.append(sorted(rows, key=order, reverse=True)[:limit])",
        frozenset({LATEST}), "every page is right, but the caller's shards come back re-ordered"),
    "rendezvous_weight_key_first": Mutant(  # class 6: movement and balance within every tolerance, owners wrong
        "rendezvous_owners", '(stable_hash(f"{node}:{key}"), node)', '(stable_hash(f"{key}:{node}"), node)',
        frozenset({RENDEZVOUS}), "weights of key:node, not node:key: as random and as consistent (the movement "
                                 "statistics pass), so only the exact owners catch it"),
}

# A correct solution written differently from ours: struct and hashlib.new, a cached hash, a ring kept as
# parallel lists rebuilt lazily, bisect_right on h - 1, max/heapq.nlargest for rendezvous, integer
# arithmetic for jump, one global sort for scatter-gather, Counter.most_common for hot keys. The batch forms
# are written on their own (divmod, a ring look-up over its own tables, max per key, a loop with append).
ALTERNATIVE = {
    "stable_hash": '''
import functools
import hashlib
import struct

@functools.lru_cache(maxsize=None)
def _digest64(text):
    return struct.unpack(">Q", hashlib.new("sha256", text.encode()).digest()[:8])[0]

def stable_hash(key):
    if type(key) is not str:
        raise TypeError("a key is a str")
    return _digest64(key)
''',
    "mod_n_routing": '''
def mod_n_shard(key, num_shards):
    if isinstance(num_shards, bool) or not isinstance(num_shards, int) or num_shards <= 0:
        raise ValueError(num_shards)
    return divmod(stable_hash(key), num_shards)[1]

def mod_n_shard_many(keys, num_shards):
    if isinstance(num_shards, bool) or not isinstance(num_shards, int) or num_shards <= 0:
        raise ValueError(num_shards)
    return [divmod(stable_hash(k), num_shards)[1] for k in keys]

def fraction_moved(before, after):
    if not before or len(before) != len(after):
        raise ValueError("lengths")
    return sum(map(lambda pair: pair[0] != pair[1], zip(before, after))) / float(len(after))
''',
    "hash_ring": '''
import bisect

class HashRing:
    def __init__(self, vnodes=100):
        if not vnodes >= 1:
            raise ValueError(vnodes)
        self.vnodes = vnodes
        self.points_of = {}
        self._hashes, self._names = None, None

    def add_node(self, node):
        if node in self.points_of:
            raise ValueError(node)
        self.points_of[node] = [stable_hash(node + "#" + str(i)) for i in range(self.vnodes)]
        self._hashes = None

    def remove_node(self, node):
        if self.points_of.pop(node, None) is None:
            raise ValueError(node)
        self._hashes = None

    def _tables(self):
        if self._hashes is None:
            pairs = sorted((h, n) for n, hs in self.points_of.items() for h in hs)
            self._hashes, self._names = [h for h, _ in pairs], [n for _, n in pairs]
        if not self._hashes:
            raise ValueError("empty ring")
        return self._hashes, self._names

    def get_node(self, key):
        hashes, names = self._tables()
        i = bisect.bisect_right(hashes, stable_hash(key) - 1)
        return names[i if i < len(names) else 0]

    def owners(self, keys):
        hashes, names = self._tables()
        found = []
        for key in keys:
            i = bisect.bisect_right(hashes, stable_hash(key) - 1)
            found.append(names[i % len(names)])
        return found
''',
    "rendezvous_owners": '''
import heapq

def rendezvous_owners(key, nodes, replicas=1):
    if len(nodes) == 0 or replicas < 1 or replicas > len(nodes):
        raise ValueError("bad replicas")
    if replicas == 1:
        return [max(nodes, key=lambda n: stable_hash(n + ":" + key))]
    return heapq.nlargest(replicas, nodes, key=lambda n: stable_hash("%s:%s" % (n, key)))

def rendezvous_owner_many(keys, nodes):
    if len(nodes) == 0:
        raise ValueError("no nodes")
    return [max(nodes, key=lambda n: stable_hash(n + ":" + k)) for k in keys]
''',
    "jump_hash": '''
def jump_hash(key, num_buckets):
    if num_buckets <= 0 or key < 0 or key >= 1 << 64:
        raise ValueError("out of range")
    b, j = -1, 0
    while j < num_buckets:
        b = j
        key = (key * 2862933555777941757 + 1) % (1 << 64)
        j = ((b + 1) << 31) // ((key >> 33) + 1)      # exact integer arithmetic instead of a double
    return b

def jump_hash_many(keys, num_buckets):
    if num_buckets <= 0:
        raise ValueError("num_buckets")
    buckets = []
    for key in keys:
        buckets.append(jump_hash(key, num_buckets))
    return buckets
''',
    "latest_items": '''
def latest_items(shards, user_id, limit, cursor=None):
    if limit <= 0:
        raise ValueError("limit")
    rows = [row for shard in shards for row in shard if row["user_id"] == user_id]
    rows.sort(key=lambda row: (row["ts"], row["item_id"]), reverse=True)
    if cursor is not None:
        rows = [row for row in rows if (row["ts"], row["item_id"]) < (cursor[0], cursor[1])]
    page = rows[:limit]
    return {"next_cursor": (page[-1]["ts"], page[-1]["item_id"]) if len(page) == limit else None,
            "items": page}
''',
    "hot_key_handling": '''
from collections import Counter, defaultdict

def hot_keys(accesses, threshold):
    if threshold <= 0 or threshold > 1:
        raise ValueError(threshold)
    ranked = sorted(Counter(accesses).most_common(), key=lambda kc: (-kc[1], kc[0]))
    return [k for k, c in ranked if c / len(accesses) >= threshold]

def shard_loads(accesses, num_shards, hot=(), fanout=1):
    if min(num_shards, fanout) < 1:
        raise ValueError("sizes")
    counters = defaultdict(int)
    result = [0 for _ in range(num_shards)]
    hot = frozenset(hot)
    for key in accesses:
        target = key
        if key in hot:
            target = "%s#%d" % (key, counters[key] % fanout)
            counters[key] += 1
        result[mod_n_shard(target, num_shards)] += 1
    return result
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """latin1_encoding passes every visible test (ASCII keys); only the hidden non-ASCII keys find it.
    ring_default_10_vnodes passes every test that names vnodes; only the 100,000-key balance statistic finds it."""
    assert_caught_by_hidden_tests(reports["latin1_encoding"], STABLE, "seed 311", "case")
    assert_caught_by_hidden_tests(reports["ring_default_10_vnodes"], RING, "seed 332",
                                  "x the mean load; expected at most 1.25")


def test_visible_tests_catch_the_learner_reviews_wrong_answers(reports):
    """Wrong answers a learner's review found scoring full marks now fail a visible test (a fixed example), with
    the input that shows the mistake: a bytes key, a key on a point, an empty ring, an empty batch, a key on the
    hot-key threshold."""
    shown = {"bytes_accepted": "stable_hash(b'user:42')", "ring_bisect_right": "'db-a#0'",
             "ring_owners_empty_ring_returns_list": "['owners', ['user:1']]",
             "jump_many_no_bucket_check": "jump_hash_many([], 0)", "hot_threshold_strict": "threshold=0.25"}
    for name, text in shown.items():
        failing = [t for t in reports[name].tests if t.status == "fail"]
        assert len(failing) == 1 and "a fixed example" in failing[0].message, (name, failing)
        assert text in failing[0].message, (name, failing[0].message)
