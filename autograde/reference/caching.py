"""Reference models and seeded hidden-test cases for 04-caching.

These are the grader's truth, written independently of the solution notebook and deliberately
simple (lists and linear scans, not the O(1) structures the learner builds): a differential test
compares the learner's class, driven through ``course.caching``, with the model below on many
random operation sequences. Case generators take ``(seed, n)``, use
``numpy.random.default_rng(seed)`` only, and return plain keyword-argument dicts. Sequences grow
from one operation to many, so the first failing case a learner sees is a short one.

Conventions stated in the notebook: ``get`` returns None on a miss; a TTL entry written at time t
is fresh while ``now < t + ttl``; capacity 0 stores nothing; hit ratios are hits / requests of a
cache that starts empty and admits every miss.
"""

from __future__ import annotations

import numpy as np

from course.caching import FakeClock, lru_stack_distances, run_cache_ops, run_ttl_ops, run_versioned_ops

HIT_RATIO_TOL = 1e-9


# --------------------------------------------------------------------------- LRU

class ModelLRU:
    """LRU as a list, least recently used first: O(capacity) per operation, obviously right."""

    def __init__(self, capacity):
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        self.capacity, self.items, self.hits, self.misses = capacity, [], 0, 0

    def _find(self, key):
        for i, (k, _) in enumerate(self.items):
            if k == key:
                return i
        return None

    def get(self, key):
        i = self._find(key)
        if i is None:
            self.misses += 1
            return None
        self.hits += 1
        item = self.items.pop(i)
        self.items.append(item)
        return item[1]

    def put(self, key, value):
        i = self._find(key)
        if i is not None:
            self.items.pop(i)
        self.items.append((key, value))
        while len(self.items) > self.capacity:
            self.items.pop(0)

    def size(self):
        return len(self.items)


def lru_expected(capacity, ops):
    return run_cache_ops(ModelLRU, capacity, ops)


def _cache_ops(rng, n_ops, n_keys, ttl=False):
    ops = []
    for _ in range(n_ops):
        u = rng.random()
        key = int(rng.integers(n_keys))
        if u < 0.45:
            ops.append(["get", key])
        elif u < 0.85:
            ops.append(["put", key, int(rng.integers(1000))])
        elif u < 0.90:
            ops.append(["size"])
        elif ttl and u < 0.99:
            ops.append(["advance", int(rng.choice([0, 1, 1, 2, 3, 5]))])
        else:
            ops.append(["stats"])
    return ops + [["stats"], ["size"]]


def lru_cases(seed, n=800):
    """Random get/put/len/stats sequences, capacities 0 to 6 (0 and 1 often), a few bad capacities."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        capacity = int(rng.choice([0, 1, 1, 2, 3, 4, 6]))
        length = 1 + i * 20 // n
        cases.append({"capacity": capacity, "ops": _cache_ops(rng, length, capacity + 3)})
    return cases + [{"capacity": -1, "ops": [["size"]]}]


# --------------------------------------------------------------------------- TTL

class ModelTTL:
    def __init__(self, ttl, clock):
        if ttl < 0:
            raise ValueError("ttl must be >= 0")
        self.ttl, self.clock, self.written, self.hits, self.misses = ttl, clock, {}, 0, 0

    def _fresh(self, key):
        return key in self.written and self.clock() - self.written[key][1] < self.ttl

    def get(self, key):
        if self._fresh(key):
            self.hits += 1
            return self.written[key][0]
        self.misses += 1
        return None

    def put(self, key, value):
        self.written[key] = (value, self.clock())

    def size(self):
        return sum(1 for k in self.written if self._fresh(k))


def ttl_expected(ttl, ops, start=0):
    return run_ttl_ops(ModelTTL, FakeClock, ttl, ops, start)


def ttl_cases(seed, n=800):
    """Random sequences with integer clock advances; ttl 0 to 6 (0 and 1 often); one bad ttl."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        length = 1 + i * 20 // n
        cases.append({"ttl": int(rng.choice([0, 1, 1, 2, 3, 5, 6])), "ops": _cache_ops(rng, length, 4, ttl=True),
                      "start": int(rng.choice([0, 0, 1_000_000]))})
    return cases + [{"ttl": -1, "ops": [["size"]], "start": 0}]


# --------------------------------------------------------------------------- write policies

def policy_expected(kind, initial, ops):
    """What ``run_policy_ops`` returns for a correct cache-aside / write-through / write-back."""
    store, cache, dirty = dict(initial), {}, set()
    reads = writes = 0
    results = []
    for op in ops:
        name = op[0]
        if name == "read":
            key = op[1]
            if key in cache:
                results.append(cache[key])
                continue
            reads += 1
            value = store.get(key)
            if value is not None:
                cache[key] = value
            results.append(value)
            continue
        results.append(None)
        if name == "write":
            key, value = op[1], op[2]
            if kind == "cache_aside":
                store[key] = value
                writes += 1
                cache.pop(key, None)
            elif kind == "write_through":
                store[key] = value
                writes += 1
                cache[key] = value
            else:
                cache[key] = value
                dirty.add(key)
        elif name == "flush" and kind == "write_back":
            for key in dirty:
                store[key] = cache[key]
                writes += 1
            dirty = set()
        elif name == "crash":
            cache, dirty = {}, set()
    return {"results": results, "store": {str(k): store[k] for k in sorted(store, key=str)},
            "store_reads": reads, "store_writes": writes}


def policy_cases(seed, n=300, kind="cache_aside"):
    """Random read/write (and, for write-back, flush/crash) sequences over a few keys."""
    rng = np.random.default_rng(seed)
    names = ["k0", "k1", "k2", "k3", "k4"]
    cases = []
    for i in range(n):
        initial = {k: int(rng.integers(100)) for k in names[:3] if rng.random() < 0.7}
        ops = []
        for _ in range(1 + i * 25 // n):
            u = rng.random()
            key = str(rng.choice(names))
            if u < 0.5:
                ops.append(["read", key])
            elif u < 0.85 or kind != "write_back":
                ops.append(["write", key, int(rng.integers(100, 1000))])
            elif u < 0.95:
                ops.append(["flush"])
            else:
                ops.append(["crash"])
        cases.append({"initial": initial, "ops": ops})
    return cases


# --------------------------------------------------------------------------- coalescing

def coalescing_expected(keys, fail_first=()):
    """The one right outcome of ``run_concurrent_gets`` when every load is held open until all
    callers are waiting: one load per distinct key, shared by all its callers (or its error)."""
    distinct = list(dict.fromkeys(str(k) for k in keys))
    fail_first = set(fail_first)
    return {"results": ["error: RuntimeError" if k in fail_first else f"{k}#1" for k in map(str, keys)],
            "loads": {k: 1 for k in distinct}, "after": {k: f"{k}#2" for k in distinct},
            "loads_total": {k: 2 for k in distinct}}


def coalescing_scenarios(seed, n=4):
    """Scenarios of 2 to 16 threads over 1 to 4 keys; some keys fail on their first load."""
    rng = np.random.default_rng(seed)
    scenarios = []
    for _ in range(n):
        n_keys = int(rng.integers(1, 5))
        names = [f"url:{int(x)}" for x in rng.choice(1000, size=n_keys, replace=False)]
        keys = [str(k) for k in rng.choice(names, size=int(rng.integers(max(2, n_keys), 17)))]
        fail = [k for k in names if rng.random() < 0.3 and k in keys]
        scenarios.append({"keys": keys, "fail_first": fail})
    return scenarios + [{"keys": ["url:7"] * 6 + ["url:8"] * 2, "fail_first": ["url:7"]}]


# --------------------------------------------------------------------------- hit ratios

def lru_hit_ratio(trace, capacity):
    """By LRU stack distances (Mattson et al. 1970): a request hits a cache of size c iff fewer
    than c distinct keys were requested since its key's previous request."""
    if len(trace) == 0:
        raise ValueError("empty trace")
    if capacity < 0:
        raise ValueError("capacity must be >= 0")
    distances = lru_stack_distances(trace)
    return int(np.count_nonzero((distances >= 0) & (distances < capacity))) / len(trace)


def smallest_cache_size(trace, target):
    if len(trace) == 0 or not 0 < target <= 1:
        raise ValueError("need a non-empty trace and 0 < target <= 1")
    distances = [int(d) for d in lru_stack_distances(trace)]
    needed = target * len(trace)
    hits_at = np.bincount([d for d in distances if d >= 0], minlength=1).cumsum()  # hits_at[c-1]: hits at size c
    for size in range(1, len(hits_at) + 1):
        if hits_at[size - 1] >= needed:
            return size
    raise ValueError(f"no cache size reaches a hit ratio of {target}")


def _trace(rng, n_requests, n_keys, alpha):
    weights = 1.0 / np.arange(1, n_keys + 1) ** alpha
    cdf = np.cumsum(weights / weights.sum())
    ranks = np.minimum(np.searchsorted(cdf, rng.random(n_requests), side="right"), n_keys - 1)
    return [int(k) for k in rng.permutation(n_keys)[ranks]]


def hit_ratio_cases(seed, n=30):
    """Hidden Zipf traces (alpha 0.6 to 1.2, 500 to 3,000 requests) at several capacities."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        n_keys = int(rng.integers(20, 800))
        trace = _trace(rng, int(rng.integers(500, 3001)), n_keys, float(rng.uniform(0.6, 1.2)))
        cases.append({"trace": trace, "capacity": int(rng.choice([0, 1, 2, rng.integers(3, n_keys + 50)]))})
    return cases + [{"trace": [], "capacity": 3}, {"trace": [1, 2], "capacity": -1}]


def smallest_size_cases(seed, n=20):
    """Hidden traces with targets; skips targets within 1e-9 of a reachable hit ratio (float ties)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        trace = _trace(rng, int(rng.integers(500, 3001)), int(rng.integers(20, 600)), float(rng.uniform(0.6, 1.2)))
        target = round(float(rng.uniform(0.05, 0.99)), 3)
        if abs(target * len(trace) - round(target * len(trace))) < 1e-6:
            continue  # target is (nearly) a reachable ratio: float rounding could go either way
        cases.append({"trace": trace, "target": target})
    return cases + [{"trace": [1, 2, 3], "target": 0.5}, {"trace": [1, 1], "target": 0.0},
                    {"trace": [], "target": 0.5}]


# --------------------------------------------------------------------------- versioned invalidation

class ModelVersioned:
    def __init__(self):
        self.entries, self.latest = {}, {}

    def fill(self, key, value, version):
        if version < self.latest.get(key, version):
            return False
        if key in self.entries and self.entries[key][1] >= version:
            return False
        self.entries[key] = (value, version)
        self.latest[key] = max(self.latest.get(key, version), version)
        return True

    def invalidate(self, key, version):
        self.latest[key] = max(self.latest.get(key, version), version)
        if key in self.entries and self.entries[key][1] < version:
            del self.entries[key]

    def get(self, key):
        return self.entries[key][0] if key in self.entries else None


def versioned_expected(ops):
    return run_versioned_ops(ModelVersioned, ops)


def versioned_cases(seed, n=300):
    """Fills, invalidations (out of order too) and gets; a value names its version ("k1@v3")."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        ops = []
        for _ in range(1 + i * 30 // n):
            key = f"k{int(rng.integers(3))}"
            version = int(rng.integers(1, 8))
            u = rng.random()
            if u < 0.4:
                ops.append(["fill", key, f"{key}@v{version}", version])
            elif u < 0.7:
                ops.append(["invalidate", key, version])
            else:
                ops.append(["get", key])
        cases.append({"ops": ops})
    return cases


def no_stale_reads(ops):
    """A judge for ``run_versioned_ops`` results: no get returns a value older than the newest
    version announced (by an invalidation or an accepted fill) before it."""
    def judge(results):
        if not isinstance(results, list) or len(results) != len(ops):
            return f"expected one result per operation ({len(ops)}), got {results!r}"
        newest = {}
        for i, (op, got) in enumerate(zip(ops, results)):
            if op[0] == "invalidate" or (op[0] == "fill" and got is True):
                newest[op[1]] = max(newest.get(op[1], 0), op[-1])
            if op[0] == "get" and got is not None:
                if not isinstance(got, str) or "@v" not in got:
                    return f"result[{i}]: get returned {got!r}, which no fill put in"
                version = int(got.rsplit("@v", 1)[1])
                if version < newest.get(op[1], 0):
                    return (f"result[{i}]: get({op[1]!r}) served version {version} after version "
                            f"{newest[op[1]]} was announced: a stale read")
        return None
    return judge
