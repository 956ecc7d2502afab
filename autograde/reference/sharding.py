"""Reference answers, seeded hidden-test cases and judges for 03-sharding.

The grader's truth, written independently of the solution notebook (CI checks that the two
agree: the solution scores full marks). Each ``*_cases(seed, n)`` returns plain keyword-argument
dicts drawn from ``numpy.random.default_rng(seed)``; a case for which the reference raises
ValueError or TypeError expects the learner's function to raise the same type.

Conventions stated in the notebook:

- ``stable_hash(key)``: the first 8 bytes of SHA-256 of the key's UTF-8 bytes, big-endian, as an
  int in [0, 2**64); a key that is not a str raises TypeError.
- ring: node ``n`` owns the points ``stable_hash(f"{n}#{i}")`` for i < vnodes; a key belongs to the
  first point at or after ``stable_hash(key)``, wrapping round to the smallest point.
- rendezvous: the weight of node ``n`` for key ``k`` is ``stable_hash(f"{n}:{k}")``; highest wins.
- jump: Lamping and Veach (2014), figure 1, with 64-bit wrap-around and a double division.
- scatter-gather: newest first by (ts, item_id) descending; a cursor is ``[ts, item_id]`` of the
  last item of a full page; the next page holds the items strictly after it.
- hot keys: the j-th access (j = 0, 1, ...) to a hot key goes to sub-key ``f"{key}#{j % fanout}"``.
- batch forms (one call routes a whole list, so that the graders' 100,000-key statistics cost one
  call into the learner's process per layout): ``mod_n_shard_many``, ``HashRing.owners``
  and ``jump_hash_many`` return ``[per-key answer for each key]``; ``rendezvous_owner_many`` returns
  the top node of each key, ``[rendezvous_owners(k, nodes)[0] for k in keys]`` (a flat list of str).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter

import numpy as np

MASK64 = (1 << 64) - 1
JUMP_MULTIPLIER = 2862933555777941757

# Published values of jump consistent hash (key, buckets, bucket): ClickHouse's test
# tests/queries/0_stateless/00580_consistent_hashing_functions, and the README of the PyPI
# package jump-consistent-hash (256, 1024 -> 520).
JUMP_PUBLISHED = [(1, 1, 0), (42, 57, 43), (256, 1024, 520), (3735883980, 1, 0), (3735883980, 666, 361),
                  (16045690984833335023, 255, 237)]


# --------------------------------------------------------------------------- references

def stable_hash(key):
    if type(key) is not str:
        raise TypeError(f"key must be a str, got {type(key).__name__}")
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def mod_n_shard(key, num_shards):
    if type(num_shards) is not int or num_shards < 1:
        raise ValueError("num_shards must be an int >= 1")
    return stable_hash(key) % num_shards


def mod_n_shard_many(keys, num_shards):
    if type(num_shards) is not int or num_shards < 1:
        raise ValueError("num_shards must be an int >= 1")
    return [stable_hash(k) % num_shards for k in keys]


def fraction_moved(before, after):
    if len(before) != len(after) or not before:
        raise ValueError("before and after must be non-empty and of equal length")
    return float(np.mean(np.asarray(before, dtype=object) != np.asarray(after, dtype=object)))


def run_ring(cls, vnodes, ops):
    """The ring as a sorted numpy array of points searched with searchsorted (``cls`` is ignored;
    ``vnodes=None`` is the default, 100)."""
    vnodes = 100 if vnodes is None else vnodes
    if vnodes < 1:
        return ["ValueError"]
    nodes: dict[str, list[int]] = {}
    results = []
    for op, arg in ops:
        if op == "add":
            if arg in nodes:
                results.append("ValueError")
                continue
            nodes[arg] = [stable_hash(f"{arg}#{i}") for i in range(vnodes)]
            results.append(None)
        elif op == "remove":
            if arg not in nodes:
                results.append("ValueError")
                continue
            del nodes[arg]
            results.append(None)
        else:  # "get" (one key) or "owners" (a list of keys)
            pairs = sorted((p, n) for n, pts in nodes.items() for p in pts)
            if not pairs:
                results.append("ValueError")
                continue
            points = np.array([p for p, _ in pairs], dtype=np.uint64)
            keys = [arg] if op == "get" else arg
            hashes = np.array([stable_hash(k) for k in keys], dtype=np.uint64)
            found = [pairs[int(i) % len(pairs)][1] for i in np.searchsorted(points, hashes, side="left")]
            results.append(found[0] if op == "get" else found)
    return results


def ring_owners(nodes, vnodes, keys):
    """Owners of ``keys`` on a ring of ``nodes`` with ``vnodes`` points each (numpy searchsorted)."""
    pairs = sorted((stable_hash(f"{n}#{i}"), n) for n in nodes for i in range(vnodes))
    points = np.array([p for p, _ in pairs], dtype=np.uint64)
    names = [n for _, n in pairs]
    hashes = np.array([stable_hash(k) for k in keys], dtype=np.uint64)
    return [names[int(i) % len(names)] for i in np.searchsorted(points, hashes, side="left")]


def ring_movement(vnodes, nodes, new_node, keys):
    """Reference for course.sharding.ring_movement: owners before, after adding ``new_node``, after
    removing it again (``vnodes=None`` means the contract's default, 100)."""
    vnodes = 100 if vnodes is None else vnodes
    before = ring_owners(nodes, vnodes, keys)
    return {"before": before, "after": ring_owners(list(nodes) + [new_node], vnodes, keys), "after_remove": before}


def rendezvous_owners(key, nodes, replicas=1):
    if not nodes or not 1 <= replicas <= len(nodes):
        raise ValueError("need 1 <= replicas <= len(nodes)")
    ranked = sorted(nodes, key=lambda n: stable_hash(f"{n}:{key}"), reverse=True)
    return ranked[:replicas]


def rendezvous_owner_many(keys, nodes):
    if not nodes:
        raise ValueError("need at least one node")
    return [rendezvous_owners(k, nodes)[0] for k in keys]


def rendezvous_before_after(keys, before, after):
    """Reference for course.sharding.owners_before_after with rendezvous_owner_many: each node's
    weights computed once, the winner found with numpy argmax."""
    weights = {n: np.array([stable_hash(f"{n}:{k}") for k in keys], dtype=np.uint64) for n in {*before, *after}}

    def owners(nodes):
        winner = np.argmax(np.vstack([weights[n] for n in nodes]), axis=0)
        return [nodes[int(i)] for i in winner]

    return {"before": owners(list(before)), "after": owners(list(after))}


def mod_n_before_after(keys, before, after):
    """Reference for course.sharding.owners_before_after with mod_n_shard_many (each key hashed once)."""
    hashes = [stable_hash(k) for k in keys]
    return {"before": [h % before for h in hashes], "after": [h % after for h in hashes]}


def jump_hash(key, num_buckets):
    if type(num_buckets) is not int or num_buckets < 1:
        raise ValueError("num_buckets must be an int >= 1")
    if type(key) is not int or not 0 <= key <= MASK64:
        raise ValueError("key must be an int in [0, 2**64)")
    bucket, nxt = -1, 0
    while nxt < num_buckets:
        bucket = nxt
        key = (key * JUMP_MULTIPLIER + 1) & MASK64
        nxt = int((bucket + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return bucket


def _jump_exact(key, num_buckets):
    """Jump hash with exact rational arithmetic instead of the double division (used to skip
    the rare keys where an integer implementation could legitimately differ)."""
    bucket, nxt = -1, 0
    while nxt < num_buckets:
        bucket = nxt
        key = (key * JUMP_MULTIPLIER + 1) & MASK64
        nxt = ((bucket + 1) << 31) // ((key >> 33) + 1)
    return bucket


def jump_hash_many(keys, num_buckets):
    if type(num_buckets) is not int or num_buckets < 1:
        raise ValueError("num_buckets must be an int >= 1")
    return [jump_hash(k, num_buckets) for k in keys]


def jump_hash_array(keys, num_buckets, exact=False):
    """Jump hash of many keys at once with numpy's wrapping uint64 arithmetic: the paper's double
    division (IEEE float64, as in C and in Python), or with ``exact`` the integer division."""
    key = np.asarray(keys, dtype=np.uint64).copy()
    bucket = np.full(key.shape, -1, dtype=np.int64)
    nxt = np.zeros(key.shape, dtype=np.int64)
    active = nxt < num_buckets
    with np.errstate(over="ignore"):
        while active.any():
            bucket[active] = nxt[active]
            key[active] = key[active] * np.uint64(JUMP_MULTIPLIER) + np.uint64(1)
            high = (key[active] >> np.uint64(33)).astype(np.int64) + 1
            if exact:
                nxt[active] = ((bucket[active] + 1) << 31) // high
            else:
                nxt[active] = ((bucket[active] + 1).astype(np.float64) * (float(1 << 31) / high.astype(np.float64))
                               ).astype(np.int64)
            active = nxt < num_buckets
    return [int(b) for b in bucket]


def jump_before_after(keys, before, after):
    """Reference for course.sharding.owners_before_after with jump_hash_many."""
    return {"before": jump_hash_array(keys, before), "after": jump_hash_array(keys, after)}


def latest_items(shards, user_id, limit, cursor=None):
    """A single-table reference: all shards in one SQLite table, one ORDER BY ... LIMIT query."""
    if type(limit) is not int or limit < 1:
        raise ValueError("limit must be an int >= 1")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE items (user_id TEXT, ts INTEGER, item_id TEXT)")
    db.executemany("INSERT INTO items VALUES (?, ?, ?)",
                   [(r["user_id"], r["ts"], r["item_id"]) for shard in shards for r in shard])
    if cursor is None:
        rows = db.execute("SELECT user_id, ts, item_id FROM items WHERE user_id = ? "
                          "ORDER BY ts DESC, item_id DESC LIMIT ?", (user_id, limit)).fetchall()
    else:
        ts, item = cursor
        rows = db.execute("SELECT user_id, ts, item_id FROM items WHERE user_id = ? "
                          "AND (ts < ? OR (ts = ? AND item_id < ?)) "
                          "ORDER BY ts DESC, item_id DESC LIMIT ?", (user_id, ts, ts, item, limit)).fetchall()
    db.close()
    items = [{"user_id": u, "ts": t, "item_id": i} for u, t, i in rows]
    return {"items": items, "next_cursor": [items[-1]["ts"], items[-1]["item_id"]] if len(items) == limit else None}


def all_pages(fn, shards, user_id, limit):
    """Reference for course.sharding.all_pages: every item id of the user, newest first."""
    rows = [r for shard in shards for r in shard if r["user_id"] == user_id]
    return [r["item_id"] for r in sorted(rows, key=lambda r: (r["ts"], r["item_id"]), reverse=True)]


def hot_keys(accesses, threshold):
    if not 0 < threshold <= 1:
        raise ValueError("threshold must be in (0, 1]")
    counts = Counter(accesses)
    total = len(accesses)
    hot = [(c, k) for k, c in counts.items() if c >= threshold * total]
    return [k for c, k in sorted(hot, key=lambda ck: (-ck[0], ck[1]))]


def shard_loads(accesses, num_shards, hot=(), fanout=1):
    if type(num_shards) is not int or num_shards < 1 or type(fanout) is not int or fanout < 1:
        raise ValueError("num_shards and fanout must be ints >= 1")
    hot = set(hot)
    seen: Counter = Counter()
    loads = [0] * num_shards
    for key in accesses:
        if key in hot:
            sub = f"{key}#{seen[key] % fanout}"
            seen[key] += 1
        else:
            sub = key
        loads[stable_hash(sub) % num_shards] += 1
    return loads


# --------------------------------------------------------------------------- seeded cases

_ALPHABET = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-/.#")
_UNICODE = ["é", "ü", "ß", "用户", "Ωμέγα", "😀", "ключ", "\u00a0", "日本"]


def random_keys(seed, n, prefix="user:"):
    """``n`` distinct ASCII keys such as ``user:7f3a...``."""
    rng = np.random.default_rng(seed)
    return [f"{prefix}{v:016x}" for v in rng.integers(0, 2**63, size=n, dtype=np.int64)]


def _ascii_key(rng, max_len=24):
    return "".join(rng.choice(_ALPHABET, size=int(rng.integers(0, max_len + 1))))


def stable_hash_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    cases = [{"key": _ascii_key(rng)} for _ in range(n)]
    cases += [{"key": _ascii_key(rng, 8) + str(rng.choice(_UNICODE)) + _ascii_key(rng, 8)} for _ in range(n // 4)]
    return cases + [{"key": ""}, {"key": 42}, {"key": None}, {"key": ["user:1"]}]


def mod_n_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    cases = [{"key": _ascii_key(rng), "num_shards": int(rng.integers(1, 100))} for _ in range(n)]
    return cases + [{"key": "user:1", "num_shards": 0}, {"key": "user:1", "num_shards": -3}]


def mod_n_many_cases(seed, n=40):
    rng = np.random.default_rng(seed)
    cases = [{"keys": [_ascii_key(rng) for _ in range(int(rng.integers(0, 30)))],
              "num_shards": int(rng.integers(1, 100))} for _ in range(n)]
    return cases + [{"keys": ["user:1", "user:2"], "num_shards": 0}, {"keys": ["user:1"], "num_shards": -3},
                    {"keys": ["user:1", 7], "num_shards": 3}, {"keys": [], "num_shards": 0}]


def fraction_moved_cases(seed, n=100):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        size = int(rng.integers(1, 60))
        before = [int(x) for x in rng.integers(0, 5, size=size)]
        after = [int(x) for x in rng.integers(0, 5, size=size)]
        if rng.random() < 0.5:
            after = [b if rng.random() < 0.8 else a for a, b in zip(after, before)]
        cases.append({"before": before, "after": after})
    return cases + [{"before": [1, 2], "after": [1]}, {"before": [], "after": []}]


def ring_cases(seed, n=60):
    """Scenarios of add / remove / get / owners operations, with the contract's errors. Some keys are
    point names such as ``"db-3#1"``, whose hash is exactly a point of the ring ("at or after": the key
    belongs to that point, not to the next one). Some look-ups hit an empty ring (at the start, or
    after every node was removed); a batch look-up there always has keys, since for ``owners([])`` on
    an empty ring the contract accepts both ``[]`` and ValueError."""
    rng = np.random.default_rng(seed)
    cases = []

    def key(pool, vnodes):
        if rng.random() < 0.3:  # a point's own name: its hash is that point
            return f"{rng.choice(pool)}#{int(rng.integers(0, vnodes))}"
        return _ascii_key(rng, 16)

    for _ in range(n):
        vnodes = int(rng.choice([1, 2, 3, 5, 10, 40]))
        pool = [f"db-{i}" for i in range(int(rng.integers(2, 9)))]
        present: list[str] = []
        ops = []
        if rng.random() < 0.2:
            ops.append(["get", "user:early"])  # empty ring
        if rng.random() < 0.2:
            ops.append(["owners", ["user:early", f"{pool[0]}#0"]])  # empty ring, batch
        for _ in range(int(rng.integers(5, 40))):
            r = rng.random()
            if r < 0.3 or not present:
                node = str(rng.choice(pool))
                ops.append(["add", node])   # sometimes a node already present: ValueError
                if node not in present:
                    present.append(node)
            elif r < 0.4:
                node = str(rng.choice(pool))
                ops.append(["remove", node])  # sometimes absent: ValueError
                if node in present:
                    present.remove(node)
            elif r < 0.9:
                ops.append(["get", key(pool, vnodes)])
            else:  # a batch look-up
                ops.append(["owners", [key(pool, vnodes) for _ in range(int(rng.integers(1, 8)))]])
        if present and rng.random() < 0.3:
            ops.append(["owners", []])
        if present and rng.random() < 0.15:  # remove every node, then look up on the empty ring
            ops += [["remove", node] for node in present]
            ops += [["get", key(pool, vnodes)], ["owners", [key(pool, vnodes)]]]
        cases.append({"vnodes": vnodes, "ops": ops})
    return cases


def rendezvous_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        nodes = [f"node-{i}" for i in rng.permutation(20)[: int(rng.integers(1, 12))]]
        cases.append({"key": _ascii_key(rng), "nodes": nodes, "replicas": int(rng.integers(1, len(nodes) + 1))})
    return cases + [{"key": "k", "nodes": [], "replicas": 1}, {"key": "k", "nodes": ["a", "b"], "replicas": 3},
                    {"key": "k", "nodes": ["a", "b"], "replicas": 0}]


def rendezvous_many_cases(seed, n=40):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        nodes = [f"node-{i}" for i in rng.permutation(20)[: int(rng.integers(1, 12))]]
        cases.append({"keys": [_ascii_key(rng) for _ in range(int(rng.integers(0, 20)))], "nodes": nodes})
    return cases + [{"keys": ["k"], "nodes": []}, {"keys": ["k", "j"], "nodes": []}, {"keys": [], "nodes": []}]


def jump_cases(seed, n=300):
    """Random 64-bit keys and bucket counts, skipping the rare keys where an exact integer
    division and the paper's double division choose different buckets (both are fine)."""
    rng = np.random.default_rng(seed)
    cases = [{"key": k, "num_buckets": b} for k, b, _ in JUMP_PUBLISHED]
    while len(cases) < n:
        key = int(rng.integers(0, 2**63, dtype=np.int64)) * 2 + int(rng.integers(0, 2))
        buckets = int(rng.choice([int(rng.integers(1, 20)), int(rng.integers(1, 100_000))]))
        if jump_hash(key, buckets) == _jump_exact(key, buckets):
            cases.append({"key": key, "num_buckets": buckets})
    return cases + [{"key": 5, "num_buckets": 0}, {"key": -1, "num_buckets": 10}, {"key": 2**64, "num_buckets": 10}]


def jump_keys(seed, n, agree_on=()):
    """``n`` random 64-bit keys (both halves of the range); with ``agree_on``, only keys for which the
    double and the exact integer division choose the same bucket for every bucket count in it."""
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64) * np.uint64(2) + \
        rng.integers(0, 2, size=n, dtype=np.int64).astype(np.uint64)
    keep = np.ones(n, dtype=bool)
    for buckets in agree_on:
        keep &= np.array(jump_hash_array(keys, buckets)) == np.array(jump_hash_array(keys, buckets, exact=True))
    return [int(k) for k in keys[keep]]


def jump_many_cases(seed, n=40):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        buckets = int(rng.choice([int(rng.integers(1, 20)), int(rng.integers(1, 100_000))]))
        cases.append({"keys": jump_keys(seed * 1000 + i, int(rng.integers(0, 30)), agree_on=(buckets,)),
                      "num_buckets": buckets})
    cases.append({"keys": [k for k, b, _ in JUMP_PUBLISHED], "num_buckets": 57})
    return cases + [{"keys": [5, 6], "num_buckets": 0}, {"keys": [1, -1], "num_buckets": 10},
                    {"keys": [2**64], "num_buckets": 10}, {"keys": [], "num_buckets": 0}]


def scatter_gather_cases(seed, n=150):
    """Random shards with ties in ts, empty shards, several users; cursors taken from real pages
    and made up; the contract's invalid limit."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        n_shards = int(rng.integers(1, 7))
        users = [f"u{i}" for i in range(int(rng.integers(1, 4)))]
        shards = [[] for _ in range(n_shards)]
        n_items = int(rng.integers(0, 60))
        ts_span = int(rng.choice([3, 10, 1000]))  # a short span forces many ties
        for item in rng.permutation(10_000)[:n_items]:
            shard = int(rng.integers(0, n_shards)) if rng.random() < 0.85 else 0
            shards[shard].append({"user_id": str(rng.choice(users)), "ts": int(rng.integers(0, ts_span)),
                                  "item_id": f"i{int(item):05d}"})
        for shard in shards:  # shards store rows in insertion order, not sorted
            rng.shuffle(shard)
        user = str(rng.choice(users + ["nobody"]))
        limit = int(rng.integers(1, 12))
        cursor = None
        if rng.random() < 0.5:
            page = latest_items(shards, user, int(rng.integers(1, 12)))
            cursor = page["next_cursor"]
            if cursor is None and rng.random() < 0.5:
                cursor = [int(rng.integers(0, ts_span + 1)), f"i{int(rng.integers(0, 10_000)):05d}"]
        cases.append({"shards": shards, "user_id": user, "limit": limit, "cursor": cursor})
    return cases + [{"shards": [[]], "user_id": "u0", "limit": 0, "cursor": None}]


def access_log(seed, n_accesses, n_keys=5000, exponent=1.1, prefix="item:"):
    """A Zipf-like access log: key of rank r is drawn with probability proportional to r**-exponent."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_keys + 1) ** exponent
    ranks = rng.choice(n_keys, size=n_accesses, p=weights / weights.sum())
    names = [f"{prefix}{v:08x}" for v in rng.permutation(n_keys * 7)[:n_keys]]
    return [names[r] for r in ranks]


def hot_keys_cases(seed, n=80):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        log = access_log(seed * 1000 + i, int(rng.integers(0, 400)), n_keys=int(rng.integers(1, 60)))
        threshold = float(rng.choice([0.01, 0.05, 0.1, 0.25, 0.5, 1.0]))
        near = [c for c in Counter(log).values() if abs(c - threshold * len(log)) < 1e-6]
        if not near:  # skip logs with a count on the threshold (count/total vs threshold*total)
            cases.append({"accesses": log, "threshold": threshold})
    cases.append({"accesses": ["a", "a", "b", "c"], "threshold": 0.25})   # exactly at the threshold
    cases.append({"accesses": [], "threshold": 0.5})
    return cases + [{"accesses": ["a"], "threshold": 0.0}, {"accesses": ["a"], "threshold": 1.5}]


def shard_loads_cases(seed, n=80):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        log = access_log(seed * 1000 + i, int(rng.integers(0, 400)), n_keys=int(rng.integers(1, 40)))
        hot = hot_keys(log, 0.1) if log else []
        cases.append({"accesses": log, "num_shards": int(rng.integers(1, 17)), "hot": hot,
                      "fanout": int(rng.integers(1, 9))})
    return cases + [{"accesses": ["a"], "num_shards": 0, "hot": [], "fanout": 1},
                    {"accesses": ["a"], "num_shards": 4, "hot": ["a"], "fanout": 0}]


# --------------------------------------------------------------------------- judges (plain data only)

def movement_judge(new_owner, low, high, max_imbalance=None, reference=None, keys=None):
    """Judge for {"before": owners, "after": owners}: the fraction of keys whose owner changed is
    in [low, high]; if ``new_owner`` is given every moved key moved to it; if ``max_imbalance`` is
    given, max/mean keys per owner before is at most that. If ``reference`` (the reference's result,
    same shape) is given, every owner must then equal it exactly (``keys`` name the key in the message)."""

    def judge(result):
        before, after = result["before"], result["after"]
        if len(before) != len(after):
            return "before and after have different lengths"
        first = [b[0] if type(b) is list else b for b in before]
        second = [a[0] if type(a) is list else a for a in after]
        moved = [(b, a) for b, a in zip(first, second) if b != a]
        fraction = len(moved) / len(first)
        if not low <= fraction <= high:
            return f"{fraction:.2%} of the keys changed owner; expected between {low:.2%} and {high:.2%}"
        if new_owner is not None:
            wrong = [m for m in moved if m[1] != new_owner]
            if wrong:
                return (f"{len(wrong)} keys moved between old owners (for example {wrong[0][0]!r} -> "
                        f"{wrong[0][1]!r}); consistent hashing moves keys only to the new owner")
        if "after_remove" in result and result["after_remove"] != result["before"]:
            changed = sum(x != y for x, y in zip(result["after_remove"], result["before"]))
            return f"after removing the new owner again, {changed} keys did not return to their old owner"
        if max_imbalance is not None:
            counts = Counter(first)
            ratio = max(counts.values()) / (len(first) / len(counts))
            if ratio > max_imbalance:
                return f"the busiest owner has {ratio:.2f} x the mean load; expected at most {max_imbalance}"
        if reference is not None:
            for part in reference:
                got, want = result.get(part), reference[part]
                if got != want:
                    if type(got) is not list or len(got) != len(want):
                        return f"{part!r} is not a list of {len(want)} owners"
                    wrong = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
                    name = f"key {keys[wrong[0]]!r}" if keys is not None else f"key number {wrong[0]}"
                    return (f"the statistics are right but {len(wrong)} of {len(want)} owners in {part!r} differ "
                            f"from the contract's: {name} should go to {want[wrong[0]]!r}, not "
                            f"{got[wrong[0]]!r}")
        return None

    return judge


def loads_judge(max_after, total):
    """Judge for {"before": loads, "after": loads}: no request lost, splitting lowers max/mean."""

    def judge(result):
        before, after = result["before"], result["after"]
        if sum(before) != total or sum(after) != total:
            return f"the loads add up to {sum(before)} and {sum(after)}, not to the {total} requests"
        mean = total / len(after)
        if max(after) / mean > max_after:
            return f"after splitting the busiest shard has {max(after) / mean:.2f} x the mean; expected <= {max_after}"
        if max(after) >= max(before):
            return "splitting the hot keys did not lower the busiest shard's load"
        return None

    return judge


# --------------------------------------------------------------------------- contracts
# One per graded function or class (autograde.contracts): every rule the exercise states, at, just inside
# and just outside its boundary, each promised edge case, and random cases from the whole domain: keys with
# non-ASCII text, "#" and ":" in them, 10 and more nodes or shards, bucket counts from 1 to 10^5.

from autograde.contracts import OMIT, Contract, Rule, at_least, at_most, boundary, edge, greater_than  # noqa: E402

_MORE_UNICODE = _UNICODE + ["Ä", "ñ", "用户:42", "İ", "ǅ"]


def _draw_key(rng):
    """A str key: ASCII of 0 to 24 characters (":", "#", "/" included), or with non-ASCII text inside."""
    if rng.random() < 0.25:
        return _ascii_key(rng, 8) + str(rng.choice(_MORE_UNICODE)) + _ascii_key(rng, 8)
    return _ascii_key(rng)


def _draw_keys(rng, most=30):
    return [_draw_key(rng) for _ in range(int(rng.choice([0, 1, int(rng.integers(2, most + 1))])))]


def _draw_count(rng):
    """A shard, node or bucket count from 1 to 10^5: often small, sometimes 10 to 99, sometimes large."""
    return int(rng.choice([int(rng.integers(1, 10)), int(rng.integers(10, 100)), int(rng.integers(100, 100_001))]))


def _draw_nodes(rng):
    count = int(rng.choice([1, 2, int(rng.integers(3, 10)), int(rng.integers(10, 21))]))
    return [f"node-{i}" for i in rng.permutation(25)[:count]]


def _draw_ring(rng):
    vnodes = int(rng.choice([1, 2, 3, 5, 10, 40, 100]))
    pool = [f"db-{i}" for i in range(int(rng.choice([2, int(rng.integers(3, 9)), int(rng.integers(10, 14))])))]
    present, ops = [], []
    for _ in range(int(rng.integers(0, 40))):
        r = rng.random()
        if r < 0.3 or not present:
            node = str(rng.choice(pool))
            ops.append(["add", node])
            if node not in present:
                present.append(node)
        elif r < 0.4:
            node = str(rng.choice(pool))
            ops.append(["remove", node])
            if node in present:
                present.remove(node)
        else:
            def key():
                if rng.random() < 0.3:  # a point's own name: its hash is that point
                    return f"{rng.choice(pool)}#{int(rng.integers(0, vnodes))}"
                return _draw_key(rng)
            ops.append(["get", key()] if r < 0.9 else ["owners", [key() for _ in range(int(rng.integers(1, 8)))]])
    return {"vnodes": vnodes, "ops": ops}


def _ring_unambiguous(case):
    """No ``owners([])`` on an empty ring: there the text accepts both ``[]`` and ``ValueError``."""
    present: set = set()
    for op, arg in case["ops"]:
        if op == "add":
            present.add(arg)
        elif op == "remove":
            present.discard(arg)
        elif op == "owners" and not arg and not present:
            return False
    return True


def _draw_jump_key(rng):
    return int(rng.choice([int(rng.integers(0, 1000)), int(rng.integers(0, 2**63, dtype=np.int64)) * 2
                           + int(rng.integers(0, 2))]))


def _jump_agrees(case):
    """Keys where the paper's double division and an exact integer division agree (both are accepted)."""
    keys = case["keys"] if "keys" in case else [case["key"]]
    buckets = case["num_buckets"]
    if type(buckets) is not int or buckets < 1 or any(type(k) is not int or not 0 <= k <= MASK64 for k in keys):
        return True
    return all(jump_hash(k, buckets) == _jump_exact(k, buckets) for k in keys)


def _draw_shards(rng):
    n_shards = int(rng.choice([1, int(rng.integers(2, 7)), int(rng.integers(7, 13))]))
    users = [f"u{i}" for i in range(int(rng.integers(1, 4)))]
    shards = [[] for _ in range(n_shards)]
    ts_span = int(rng.choice([3, 10, 1000, 2**40]))  # a short span forces many ties
    digits = int(rng.choice([1, 2, 5]))  # ids of unequal length ("i9" > "i10") in one case in three
    for item in rng.permutation(10**digits)[:int(rng.integers(0, min(60, 10**digits)))]:
        shard = int(rng.integers(0, n_shards)) if rng.random() < 0.85 else 0
        shards[shard].append({"user_id": str(rng.choice(users)), "ts": int(rng.integers(0, ts_span)),
                              "item_id": f"i{int(item)}" if digits == 1 or rng.random() < 0.5 else
                              f"i{int(item):0{digits}d}"})
    user = str(rng.choice(users + ["nobody"]))
    limit = int(rng.choice([1, int(rng.integers(2, 12)), int(rng.integers(12, 70))]))
    cursor = None
    if rng.random() < 0.5:
        cursor = latest_items(shards, user, int(rng.integers(1, 12)))["next_cursor"]
        if cursor is None and rng.random() < 0.5:
            cursor = [int(rng.integers(0, min(ts_span, 1000) + 1)), f"i{int(rng.integers(0, 10**digits))}"]
    return {"shards": shards, "user_id": user, "limit": limit, "cursor": cursor}


def _draw_log(rng):
    log = access_log(int(rng.integers(0, 2**31)), int(rng.choice([0, 1, int(rng.integers(2, 50)),
                                                                    int(rng.integers(50, 600))])),
                     n_keys=int(rng.choice([1, int(rng.integers(2, 10)), int(rng.integers(10, 80))])),
                     exponent=float(rng.uniform(0.5, 2.0)))
    return log


def _hot_unambiguous(case):
    """No count within 1e-6 of the threshold unless both ways of comparing agree (the text accepts both)."""
    log, threshold = case["accesses"], case["threshold"]
    if not (type(threshold) in (int, float) and 0 < threshold <= 1):
        return True
    total = len(log)
    return all((c >= threshold * total) == (c / total >= threshold) for c in Counter(log).values())


_PAGE = [[{"user_id": "u1", "ts": 100, "item_id": "i07"}, {"user_id": "u2", "ts": 105, "item_id": "i08"},
          {"user_id": "u1", "ts": 90, "item_id": "i03"}], [],
         [{"user_id": "u1", "ts": 100, "item_id": "i09"}, {"user_id": "u1", "ts": 120, "item_id": "i01"},
          {"user_id": "u1", "ts": 100, "item_id": "i02"}]]
_LOG = ["item:a", "item:b", "item:a", "item:c", "item:a", "item:b", "item:d", "item:a"]


_JUMP_LANDS = ((30000 << 33) - 1) * pow(JUMP_MULTIPLIER, -1, 1 << 64) & MASK64
"""A key whose first step gives key >> 33 = 30000, so the first jump is to j = 2^31 // 30001 = 71580."""


def _int_at_least_one(param, says):
    return Rule(says, at={param: 1}, inside={param: 2}, outside=[{param: v} for v in (0, -3, 2.0, True)])


CONTRACTS = {c.name: c for c in [
    Contract(
        "stable_hash", stable_hash, draw=lambda rng: {"key": _draw_key(rng)},
        domain="str keys of 0 to 24 characters, ASCII and not, with \":\", \"#\" and \"/\"",
        rules=[Rule("`key` is a `str`, else `TypeError` (`1` and `\"1\"` are different keys; the visible test tries "
                    "the bytes `b\"user:42\"`, which cannot be sent as a hidden case)",
                    at={"key": "1"}, inside={"key": "user:42"},
                    outside=[{"key": 1}, {"key": None}, {"key": ["user:1"]}, {"key": 1.5}, {"key": True}],
                    raises=TypeError),
               edge("the empty string is a key", {"key": ""}),
               edge("non-ASCII keys hash their UTF-8 bytes", {"key": "ключ"}, {"key": "café"}, {"key": "😀"}),
               edge("keys that differ only in case hash differently", {"key": "User:42"}, {"key": "user:42"})]),
    Contract(
        "mod_n_shard", mod_n_shard, draw=lambda rng: {"key": _draw_key(rng), "num_shards": _draw_count(rng)},
        domain="str keys as for `stable_hash`, 1 to 10^5 shards",
        rules=[_int_at_least_one("num_shards", "`num_shards` is an int >= 1 (not a float or a bool), else `ValueError`"),
               edge("one shard: every key on shard 0", {"num_shards": 1, "key": "user:42"})]),
    Contract(
        "mod_n_shard_many", mod_n_shard_many, draw=lambda rng: {"keys": _draw_keys(rng), "num_shards": _draw_count(rng)},
        domain="0 to 30 keys, 1 to 10^5 shards",
        rules=[_int_at_least_one("num_shards", "`num_shards` is an int >= 1 (not a float or a bool), else "
                                               "`ValueError`, even for an empty list of keys"),
               edge("an invalid count raises even with no keys", {"keys": [], "num_shards": 0}),
               edge("no keys: `[]`", {"keys": []}),
               edge("the same answers as `mod_n_shard`, in the order of the keys, repeats included",
                    {"keys": ["user:42", "user:7", "user:42", "user:8"], "num_shards": 16})]),
    Contract(
        "fraction_moved", fraction_moved,
        draw=lambda rng: (lambda size, k, names: (lambda before: {
            "before": before,
            "after": [b if rng.random() < float(rng.uniform(0, 1)) else
                      (names[int(rng.integers(k))] if names else int(rng.integers(k))) for b in before]})(
            [names[int(rng.integers(k))] if names else int(rng.integers(k)) for _ in range(size)]))(
            int(rng.choice([1, int(rng.integers(2, 60)), int(rng.integers(60, 500))])), int(rng.integers(1, 14)),
            [f"db-{i}" for i in range(14)] if rng.random() < 0.4 else None),
        domain="1 to 500 owners, shard numbers or node names, from 1 to 13 owners, from none to all moved",
        rules=[Rule("`before` and `after` have the same length, else `ValueError`",
                    at={"before": [1, 2], "after": [1, 3]}, inside={"before": [4], "after": [4]},
                    outside=[{"before": [1, 2], "after": [1]}, {"before": [1], "after": [1, 2]}]),
               Rule("the lists are not empty, else `ValueError`",
                    at={"before": [0], "after": [1]}, inside={"before": [0, 1], "after": [1, 1]},
                    outside={"before": [], "after": []}),
               edge("nothing moved: 0.0; everything moved: 1.0",
                    {"before": [0, 1, 2], "after": [0, 1, 2]}, {"before": [0, 1, 2], "after": [1, 2, 0]}),
               edge("owners may be node names", {"before": ["db-a", "db-b"], "after": ["db-a", "db-c"]})]),
    Contract(
        "HashRing", run_ring, supplied=("cls",), draw=_draw_ring, accept=_ring_unambiguous,
        domain="1 to 100 virtual nodes, 2 to 13 nodes, 0 to 40 adds, removes, gets and batch look-ups, keys that "
               "are a point's own name; each result as `course.sharding.run_ring` records it",
        rules=[boundary("`vnodes` >= 1, else the constructor raises `ValueError`",
                        at={"vnodes": 1, "ops": [["add", "db-a"], ["get", "k"]]},
                        inside={"vnodes": 2, "ops": [["add", "db-a"], ["get", "k"]]},
                        outside={"vnodes": 0, "ops": [["add", "db-a"]]}),
               edge("adding a node already on the ring, or removing one that is not, gives `ValueError`",
                    {"vnodes": 3, "ops": [["add", "db-a"], ["add", "db-a"], ["remove", "db-b"], ["get", "k"]]}),
               edge("`get_node` and `owners` on an empty ring give `ValueError` (also after every node is removed)",
                    {"vnodes": 2, "ops": [["get", "k"], ["owners", ["k"]], ["add", "db-a"], ["remove", "db-a"],
                                          ["get", "k"]]}),
               edge("a key whose hash is a point belongs to that point (\"at or after\")",
                    {"vnodes": 3, "ops": [["add", "db-a"], ["add", "db-b"], ["add", "db-c"]] +
                     [["get", f"db-{n}#{i}"] for n in "abc" for i in range(3)]}),
               edge("a key past the largest point wraps round to the smallest",
                    {"vnodes": 2, "ops": [["add", "db-a"], ["add", "db-b"], ["add", "db-c"], ["get", "user:18"]]}),
               edge("a removed node's keys go to the next point clockwise, and every other key stays",
                    {"vnodes": 5, "ops": [["add", f"db-{i}"] for i in range(12)] +
                     [["owners", [f"user:{k}" for k in range(40)]], ["remove", "db-10"],
                      ["owners", [f"user:{k}" for k in range(40)]]]}),
               edge("`vnodes` defaults to 100",
                    {"vnodes": None, "ops": [["add", "db-a"], ["add", "db-b"], ["get", "db-b#99"], ["get", "db-a#57"],
                                             ["owners", [f"db-b#{i}" for i in range(95, 100)]]]})]),
    Contract(
        "rendezvous_owners", rendezvous_owners,
        draw=lambda rng: (lambda nodes: {"key": _draw_key(rng), "nodes": nodes,
                                         "replicas": int(rng.integers(1, len(nodes) + 1))})(_draw_nodes(rng)),
        domain="1 to 20 nodes named node-0 to node-24 in any order, every number of replicas",
        rules=[Rule("`nodes` is not empty, else `ValueError`",
                    at={"nodes": ["a"], "replicas": 1}, inside={"nodes": ["a", "b"], "replicas": 1},
                    outside={"nodes": [], "replicas": 1}),
               Rule("`replicas` >= 1, else `ValueError`",
                    at={"nodes": ["a", "b", "c"], "replicas": 1}, inside={"nodes": ["a", "b", "c"], "replicas": 2},
                    outside={"nodes": ["a", "b", "c"], "replicas": 0}),
               Rule("`replicas` <= `len(nodes)`, else `ValueError`",
                    at={"nodes": ["a", "b", "c"], "replicas": 3}, inside={"nodes": ["a", "b", "c"], "replicas": 2},
                    outside={"nodes": ["a", "b", "c"], "replicas": 4}),
               edge("`replicas` defaults to 1", {"replicas": OMIT}),
               edge("highest weight first, whatever the order of `nodes`",
                    {"key": "user:42", "nodes": [f"node-{i}" for i in range(12)], "replicas": 12},
                    {"key": "user:42", "nodes": [f"node-{i}" for i in reversed(range(12))], "replicas": 12})]),
    Contract(
        "rendezvous_owner_many", rendezvous_owner_many,
        draw=lambda rng: {"keys": _draw_keys(rng), "nodes": _draw_nodes(rng)},
        domain="0 to 30 keys, 1 to 20 nodes",
        rules=[Rule("`nodes` is not empty, else `ValueError`, even for an empty list of keys",
                    at={"nodes": ["a"]}, inside={"nodes": ["a", "b"]},
                    outside=[{"nodes": []}, {"nodes": [], "keys": []}]),
               edge("no keys: `[]`", {"keys": []})]),
    Contract(
        "jump_hash", jump_hash, draw=lambda rng: {"key": _draw_jump_key(rng), "num_buckets": _draw_count(rng)},
        accept=_jump_agrees,
        domain="keys from 0 to 2^64 - 1 (small and large), 1 to 10^5 buckets, where the double and the integer "
               "division agree",
        rules=[at_least("key", 0),
               Rule("`key` < 2^64, else `ValueError`", at={"key": MASK64}, inside={"key": MASK64 - 1},
                    outside={"key": MASK64 + 1}),
               at_least("num_buckets", 1),
               boundary("a jump that lands exactly on `num_buckets` ends the loop (`while j < num_buckets`)",
                        at={"key": _JUMP_LANDS, "num_buckets": 71580},
                        inside={"key": _JUMP_LANDS, "num_buckets": 71579},
                        outside={"key": _JUMP_LANDS, "num_buckets": 71581}),
               edge("the published values", *[{"key": k, "num_buckets": b} for k, b, _ in JUMP_PUBLISHED])]),
    Contract(
        "jump_hash_many", jump_hash_many,
        draw=lambda rng: {"keys": [_draw_jump_key(rng) for _ in range(int(rng.choice([0, 1, int(rng.integers(2, 30))])))],
                          "num_buckets": _draw_count(rng)},
        accept=_jump_agrees, domain="0 to 30 keys as for `jump_hash`, 1 to 10^5 buckets",
        rules=[Rule("`num_buckets` >= 1, else `ValueError`, checked first (even for an empty list of keys)",
                    at={"num_buckets": 1}, inside={"num_buckets": 2},
                    outside=[{"num_buckets": 0}, {"num_buckets": 0, "keys": []}]),
               Rule("every key is in [0, 2^64), else `ValueError`",
                    at={"keys": [0, MASK64]}, inside={"keys": [1, MASK64 - 1]},
                    outside=[{"keys": [5, -1]}, {"keys": [MASK64 + 1]}]),
               edge("no keys: `[]`", {"keys": []}),
               edge("a jump that lands exactly on `num_buckets` ends the loop",
                    {"keys": [_JUMP_LANDS, 42], "num_buckets": 71580})]),
    Contract(
        "latest_items", latest_items, draw=_draw_shards,
        domain="1 to 12 shards (some empty), 0 to 60 rows of 1 to 3 users, timestamps with many ties or none, item "
               "ids of unequal length, limits from 1 to 69, cursors from real pages and made up",
        rules=[at_least("limit", 1),
               boundary("a full page has a cursor, one row short has none",
                        at={"shards": _PAGE, "user_id": "u1", "limit": 5, "cursor": None},
                        inside={"shards": _PAGE, "user_id": "u1", "limit": 4, "cursor": None},
                        outside={"shards": _PAGE, "user_id": "u1", "limit": 6, "cursor": None}),
               boundary("the page holds only rows strictly after the cursor (equal `ts`: smaller `item_id`)",
                        at={"shards": _PAGE, "user_id": "u1", "limit": 3, "cursor": [100, "i07"]},
                        inside={"shards": _PAGE, "user_id": "u1", "limit": 3, "cursor": [100, "i08"]},
                        outside={"shards": _PAGE, "user_id": "u1", "limit": 3, "cursor": [100, "i06"]}),
               edge("equal `ts`: larger `item_id` first, compared as text (\"i9\" before \"i10\")",
                    {"shards": [[{"user_id": "u", "ts": 5, "item_id": "i10"}], [{"user_id": "u", "ts": 5, "item_id": "i9"}],
                                [{"user_id": "u", "ts": 5, "item_id": "i100"}]], "user_id": "u", "limit": 3,
                     "cursor": None}),
               edge("a user with no rows, or no shards with rows: an empty page",
                    {"shards": _PAGE, "user_id": "nobody", "limit": 3, "cursor": None},
                    {"shards": [[], []], "user_id": "u1", "limit": 1, "cursor": None}),
               edge("`cursor` defaults to None", {"cursor": OMIT})]),
    Contract(
        "hot_keys", hot_keys,
        draw=lambda rng: {"accesses": _draw_log(rng),
                          "threshold": float(rng.choice([round(float(rng.uniform(0.001, 1)), 3), 0.01, 0.05, 0.1,
                                                         0.25, 0.5, 1.0]))},
        accept=_hot_unambiguous,
        domain="logs of 0 to 600 accesses over 1 to 80 keys, skew exponents 0.5 to 2, thresholds from 0.001 to 1 "
               "(no count where the two accepted comparisons differ)",
        rules=[greater_than("threshold", 0, step=0.01), at_most("threshold", 1, step=0.01),
               boundary("a count exactly at `threshold × len(accesses)` is hot",
                        at={"accesses": _LOG, "threshold": 0.25}, inside={"accesses": _LOG, "threshold": 0.24},
                        outside={"accesses": _LOG, "threshold": 0.26}),
               edge("an empty log: `[]`", {"accesses": [], "threshold": 0.5}),
               edge("equal counts: keys in ascending order (as text: \"k10\" before \"k9\")",
                    {"accesses": [f"k{i}" for i in range(12)] * 2, "threshold": 0.01}),
               edge("`threshold` 1: only a key that is every access",
                    {"accesses": ["a"] * 5, "threshold": 1.0}, {"accesses": ["a"] * 5 + ["b"], "threshold": 1.0})]),
    Contract(
        "shard_loads", shard_loads,
        draw=lambda rng: (lambda log: {"accesses": log, "num_shards": _draw_count(rng) if rng.random() < 0.2 else
                                       int(rng.integers(1, 17)),
                                       "hot": hot_keys(log, float(rng.choice([0.05, 0.1, 0.3]))) if log else [],
                                       "fanout": int(rng.choice([1, int(rng.integers(2, 9)), int(rng.integers(9, 40))]))})(
            _draw_log(rng)),
        domain="logs as for `hot_keys`, 1 to 10^5 shards (mostly 1 to 16), the hot keys above 5% to 30%, fanouts "
               "1 to 39",
        rules=[Rule("`num_shards` >= 1, else `ValueError`", "error", at={"num_shards": 1}, inside={"num_shards": 2},
                    outside=[{"num_shards": 0}, {"num_shards": 0, "accesses": []}], raises=ValueError),
               at_least("fanout", 1),
               edge("`hot` and `fanout` default to () and 1", {"hot": OMIT, "fanout": OMIT},
                    {"accesses": _LOG, "num_shards": 3, "hot": ["item:a"], "fanout": OMIT}),
               edge("a hot key with `fanout` 1 goes to its one sub-key `key#0`, not to `key`",
                    {"accesses": _LOG, "num_shards": 3, "hot": ["item:a"], "fanout": 1}),
               edge("the j-th access is counted separately for each hot key",
                    {"accesses": ["item:a", "item:b", "item:b", "item:a", "item:b", "item:a"], "num_shards": 7,
                     "hot": ["item:a", "item:b"], "fanout": 2}),
               edge("an empty log: every shard 0", {"accesses": [], "num_shards": 5, "hot": [], "fanout": 3}),
               edge("a hot key that is never accessed changes nothing",
                    {"accesses": _LOG, "num_shards": 3, "hot": ["item:z"], "fanout": 4})]),
]}
