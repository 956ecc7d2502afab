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


# --------------------------------------------------------------------------- contracts (issue 17)
# Each graded class is checked through its course driver: the contract's reference is the driver run
# on the model above, and the test cell supplies the learner's class (the reference never uses it).

from autograde.contracts import Contract, Rule, at_least, boundary, edge, greater_than  # noqa: E402

# Keys from every corner the text allows: small ints, strings that differ only in case, non-ASCII.
_KEY_POOL = [0, 1, 2, 3, 7, 10, 11, 42, "a", "A", "b", "B", "url:1", "URL:1", "é", "É", "键", "ключ", "a b", ""]


def _keys(rng, n_keys):
    pool = list(rng.permutation(np.array(_KEY_POOL, dtype=object)))[:n_keys]
    return [k if isinstance(k, str) else int(k) for k in pool]


def _size(rng, low, high):
    """An int from ``low`` to ``high`` whose order of magnitude is about uniform (small and large)."""
    return int(min(high, max(low, round(10 ** rng.uniform(0, np.log10(high + 1)) - 1))))


def _draw_cache_ops(rng, ttl=False):
    n_keys = int(rng.integers(1, len(_KEY_POOL) + 1))
    keys = _keys(rng, n_keys)
    unit = float(rng.choice([0.25, 1.0, 60.0, 3600.0]))
    ops = []
    for _ in range(_size(rng, 1, 80)):
        u = rng.random()
        key = keys[int(rng.integers(n_keys))]
        if u < 0.45:
            ops.append(["get", key])
        elif u < 0.85:
            ops.append(["put", key, int(rng.integers(-1000, 10 ** 9))])
        elif u < 0.90:
            ops.append(["size"])
        elif ttl and u < 0.99:
            ops.append(["advance", unit * int(rng.choice([0, 1, 1, 2, 3, 5, 8]))])
        else:
            ops.append(["stats"])
    return ops + [["stats"], ["size"]], unit


def _draw_lru(rng):
    ops, _ = _draw_cache_ops(rng)
    return {"capacity": _size(rng, 0, 40), "ops": ops}


def _lru_driver(cache_class, capacity, ops):
    return run_cache_ops(ModelLRU, capacity, ops)


def _draw_ttl(rng):
    ops, unit = _draw_cache_ops(rng, ttl=True)
    return {"ttl": unit * int(rng.choice([0, 1, 1, 2, 3, 5, 6, 10])), "ops": ops,
            "start": float(rng.choice([0.0, 0.5, 1_000_000.0, 1.7e9]))}


def _ttl_driver(cache_class, clock_class, ttl, ops, start=0.0):
    return run_ttl_ops(ModelTTL, FakeClock, ttl, ops, start)


_FILL = [["put", "a", 1], ["put", "b", 2], ["put", "c", 3]]


def _draw_trace(rng):
    n_keys = _size(rng, 1, 800)
    trace = _trace(rng, _size(rng, 1, 3000), n_keys, float(rng.uniform(0.3, 1.5)))
    if rng.random() < 0.3:  # string keys too: the answer must not depend on the keys' type
        trace = [f"k{k}" for k in trace]
    return trace, n_keys


def _draw_hit_ratio(rng):
    trace, n_keys = _draw_trace(rng)
    return {"trace": trace, "capacity": int(rng.choice([0, 1, 2, _size(rng, 3, n_keys + 50)]))}


def _draw_smallest(rng):
    for _ in range(100):
        trace, _ = _draw_trace(rng)
        best = 1 - len(set(trace)) / len(trace)
        if best <= 0.01:
            continue
        target = round(float(rng.uniform(0.001, 1.0)) * best, 4)
        if target <= 0 or abs(target * len(trace) - round(target * len(trace))) < 1e-6:
            continue  # (nearly) a reachable ratio: float rounding could go either way
        return {"trace": trace, "target": target}
    return {"trace": [1, 2, 1, 3, 1, 2], "target": 0.3}


_POLICY_KEYS = ["k0", "k1", "K1", "k2", "é", "É", "键", "k10"]


def _draw_policy(kind):
    def draw(rng):
        keys = list(rng.permutation(_POLICY_KEYS))[:int(rng.integers(1, len(_POLICY_KEYS) + 1))]
        initial = {str(k): int(rng.integers(-100, 10 ** 6)) for k in keys if rng.random() < 0.6}
        ops = []
        for _ in range(_size(rng, 1, 60)):
            u = rng.random()
            key = str(rng.choice(keys))
            if u < 0.5:
                ops.append(["read", key])
            elif u < 0.8 or (kind != "write_back" and u < 0.95):
                ops.append(["write", key, int(rng.integers(-100, 10 ** 6))])
            elif u < 0.95:
                ops.append(["flush"])
            else:
                ops.append(["crash"])
        return {"initial": initial, "ops": ops}
    return draw


def _policy_driver(kind):
    def driver(policy_class, store_class, initial, ops):
        return policy_expected(kind, initial, ops)
    driver.__name__ = f"run_policy_ops_{kind}"
    return driver


def _draw_coalescing(rng):
    n_keys = int(rng.integers(1, 6))
    names = [f"url:{x}" for x in rng.choice(["1", "2", "42", "A", "a", "é", "键", "1000"], size=n_keys, replace=False)]
    keys = [str(k) for k in rng.choice(names, size=int(rng.integers(1, 25)))]
    present = list(dict.fromkeys(keys))
    fail = [k for k in present if rng.random() < 0.3]
    return {"keys": keys, "fail_first": fail}


def _coalescing_driver(loader_class, keys, fail_first=()):
    return coalescing_expected(keys, fail_first)


def _draw_versioned(rng):
    n_keys = int(rng.integers(1, 6))
    keys = ["u", "U", "k1", "é", "键"][:n_keys]
    top = int(rng.choice([3, 8, 100, 10 ** 9]))
    ops = []
    for _ in range(_size(rng, 1, 60)):
        key = keys[int(rng.integers(n_keys))]
        version = int(rng.integers(1, top + 1))
        u = rng.random()
        if u < 0.4:
            ops.append(["fill", key, f"{key}@v{version}", version])
        elif u < 0.7:
            ops.append(["invalidate", key, version])
        else:
            ops.append(["get", key])
    return {"ops": ops}


def _versioned_driver(cache_class, ops):
    return versioned_expected(ops)


_POLICY_OPS = {"initial": {"a": 1}, "ops": [["read", "a"], ["read", "a"], ["write", "a", 2], ["read", "a"]]}
_POLICY_RULES = [
    edge("a value the store does not have (None) is not cached: a second read asks the store again",
         {"initial": {}, "ops": [["read", "x"], ["read", "x"], ["write", "x", 5], ["read", "x"], ["read", "x"]]}),
    edge("keys that differ only in case, and non-ASCII keys, are different keys",
         {"initial": {"a": 1, "A": 2, "é": 3}, "ops": [["read", "a"], ["read", "A"], ["write", "A", 4], ["read", "a"],
                                                   ["read", "A"], ["read", "é"], ["read", "É"]]}),
    edge("a crash throws the cache away: the next read goes to the store",
         {"initial": {"a": 1}, "ops": [["read", "a"], ["crash"], ["read", "a"], ["read", "a"]]}),
    edge("the worked example", _POLICY_OPS),
    edge("a stored 0 or empty string is a value like any other: it is cached",
         {"initial": {"z": 0, "e": ""}, "ops": [["read", "z"], ["read", "z"], ["read", "e"], ["read", "e"]]}),
]

CONTRACTS = {c.name: c for c in [
    Contract(
        "LRUCache", _lru_driver, draw=_draw_lru, supplied=("cache_class",),
        domain="capacities from 0 to 40, 1 to 80 operations over 1 to 20 keys: ints, strings differing only in "
               "case, non-ASCII",
        rules=[at_least("capacity", 0, says="`capacity` >= 0 (0 holds nothing), else `ValueError`"),
               edge("capacity 0 holds nothing: every get misses, `size()` stays 0",
                    {"capacity": 0, "ops": _FILL + [["get", "a"], ["size"], ["stats"]]}),
               boundary("a cache evicts only when it holds more than `capacity` entries",
                        at={"capacity": 3, "ops": _FILL + [["get", "a"], ["get", "b"], ["get", "c"], ["size"]]},
                        inside={"capacity": 4, "ops": _FILL + [["get", "a"], ["get", "c"], ["size"]]},
                        outside={"capacity": 2, "ops": _FILL + [["get", "a"], ["get", "b"], ["get", "c"], ["size"]]}),
               edge("a hit makes the entry the most recently used",
                    {"capacity": 2, "ops": _FILL[:2] + [["get", "a"], ["put", "c", 3], ["get", "a"], ["get", "b"]]}),
               edge("`put` on an existing key overwrites it and makes it the most recently used",
                    {"capacity": 2, "ops": _FILL[:2] + [["put", "a", 9], ["put", "c", 3], ["get", "a"], ["get", "b"],
                                                        ["size"]]}),
               edge("a cached 0, empty string or False is a hit, not a miss",
                    {"capacity": 3, "ops": [["put", "z", 0], ["put", "e", ""], ["put", "f", False], ["get", "z"],
                                            ["get", "e"], ["get", "f"], ["stats"]]}),
               edge("`put` counts neither as a hit nor as a miss",
                    {"capacity": 2, "ops": _FILL + [["stats"], ["get", "c"], ["get", "zz"], ["stats"]]}),
               edge("keys that differ only in case, and non-ASCII keys, are different keys",
                    {"capacity": 4, "ops": [["put", "a", 1], ["put", "A", 2], ["put", "é", 3], ["get", "a"], ["get", "A"],
                                            ["get", "É"], ["size"], ["stats"]]})]),
    Contract(
        "TTLCache", _ttl_driver, draw=_draw_ttl, supplied=("cache_class", "clock_class"),
        domain="ttls from 0 to 10 hours, clocks starting at 0, 0.5, 10^6 or 1.7 x 10^9 seconds, advances of 0 to "
               "8 ttl units (exact binary fractions), 1 to 80 operations over 1 to 20 keys",
        rules=[Rule("`ttl` >= 0 (0: nothing is ever fresh), else `ValueError`",
                    at={"ttl": 0.0}, inside={"ttl": 0.25}, outside=[{"ttl": -0.25}, {"ttl": -3600.0}]),
               boundary("an entry written at time t is fresh while `clock() < t + ttl`, expired from `t + ttl` on",
                        at={"ttl": 300.0, "ops": [["put", "a", 1], ["advance", 300.0], ["get", "a"], ["size"], ["stats"]]},
                        inside={"ttl": 300.0, "ops": [["put", "a", 1], ["advance", 299.75], ["get", "a"], ["size"],
                                                      ["stats"]]},
                        outside={"ttl": 300.0, "ops": [["put", "a", 1], ["advance", 300.25], ["get", "a"], ["size"],
                                                       ["stats"]]}),
               edge("`put` on an existing key rewrites it and restarts its TTL; `get` does not",
                    {"ttl": 300.0, "ops": [["put", "a", 1], ["advance", 200.0], ["put", "a", 2], ["advance", 200.0],
                                           ["get", "a"], ["put", "b", 3], ["advance", 200.0], ["get", "b"],
                                           ["advance", 100.0], ["get", "b"], ["get", "a"], ["size"], ["stats"]]}),
               edge("a cached 0 or empty string is a hit, not a miss",
                    {"ttl": 5.0, "ops": [["put", "z", 0], ["put", "e", ""], ["get", "z"], ["get", "e"], ["stats"]]}),
               edge("`size()` counts fresh entries only",
                    {"ttl": 10.0, "ops": [["put", "a", 1], ["advance", 5.0], ["put", "b", 2], ["size"], ["advance", 5.0],
                                          ["size"], ["advance", 5.0], ["size"]]}),
               edge("times come from the clock given, which need not start at 0",
                    {"ttl": 60.0, "start": 1.7e9, "ops": [["put", "a", 1], ["advance", 59.0], ["get", "a"],
                                                          ["advance", 1.0], ["get", "a"], ["stats"]]})]),
    Contract(
        "lru_hit_ratio", lru_hit_ratio, draw=_draw_hit_ratio,
        domain="Zipf traces (alpha 0.3 to 1.5) of 1 to 3,000 requests over 1 to 800 int or string keys, capacities "
               "0, 1, 2 and up to 50 more than the keys",
        rules=[Rule("`trace` is not empty, else `ValueError`", at={"trace": [7]}, inside={"trace": [7, 7]},
                    outside={"trace": []}),
               at_least("capacity", 0, says="`capacity` >= 0 (0: every request misses), else `ValueError`"),
               edge("the worked example: `[1, 2, 1, 3, 1, 2]` at capacity 2 is 2/6",
                    {"trace": [1, 2, 1, 3, 1, 2], "capacity": 2}),
               boundary("a key requested again after exactly `capacity` - 1 other distinct keys still hits",
                        at={"trace": [1, 2, 3, 1], "capacity": 3}, inside={"trace": [1, 2, 1], "capacity": 3},
                        outside={"trace": [1, 2, 3, 4, 1], "capacity": 3}),
               edge("keys that differ only in case, and non-ASCII keys, are different keys",
                    {"trace": ["a", "A", "a", "é", "É", "é"], "capacity": 4})]),
    Contract(
        "smallest_cache_size", smallest_cache_size, draw=_draw_smallest,
        domain="Zipf traces of 1 to 3,000 requests, targets anywhere up to the trace's best ratio (never within "
               "10^-6 request of a reachable ratio, where float rounding decides)",
        rules=[greater_than("target", 0, step=0.001,
                            says="`target` > 0, else `ValueError`"),
               Rule("`target` <= 1 and some capacity reaches it, else `ValueError` (1.0 is never reached: a key's "
                    "first request always misses)",
                    at={"trace": [1, 2, 1, 3, 1, 2], "target": 0.5}, inside={"trace": [1, 2, 1, 3, 1, 2], "target": 0.49},
                    outside=[{"trace": [1, 2, 1, 3, 1, 2], "target": 0.51}, {"trace": [1, 2, 1, 3, 1, 2], "target": 1.0},
                             {"trace": [1, 1], "target": 1.001}, {"trace": [5], "target": 0.5}]),
               Rule("`trace` is not empty, else `ValueError`", at={"trace": [1, 1], "target": 0.5},
                    inside={"trace": [1, 1, 1], "target": 0.5}, outside={"trace": [], "target": 0.5}),
               boundary("a target met exactly is met: `[1, 2, 1, 3, 1, 2]` reaches 1/3 at capacity 2",
                        at={"trace": [1, 2, 1, 3, 1, 2], "target": 1 / 3},
                        inside={"trace": [1, 2, 1, 3, 1, 2], "target": 0.33},
                        outside={"trace": [1, 2, 1, 3, 1, 2], "target": 0.34}),
               edge("the answer is at least 1, even for a tiny target", {"trace": [4, 4, 4, 4], "target": 0.01})]),
    Contract(
        "CacheAside", _policy_driver("cache_aside"), draw=_draw_policy("cache_aside"),
        supplied=("policy_class", "store_class"),
        domain="0 to 8 stored keys (differing only in case, non-ASCII), 1 to 60 reads, writes and crashes",
        rules=_POLICY_RULES + [
            edge("a write goes to the store and deletes the cached copy: the next read asks the store",
                 {"initial": {"a": 1}, "ops": [["read", "a"], ["write", "a", 2], ["read", "a"], ["read", "a"]]})]),
    Contract(
        "WriteThrough", _policy_driver("write_through"), draw=_draw_policy("write_through"),
        supplied=("policy_class", "store_class"),
        domain="0 to 8 stored keys (differing only in case, non-ASCII), 1 to 60 reads, writes and crashes",
        rules=_POLICY_RULES + [
            edge("a write goes to the store and to the cache: the next read is a hit",
                 {"initial": {}, "ops": [["write", "a", 2], ["read", "a"], ["write", "a", 3], ["read", "a"]]})]),
    Contract(
        "WriteBack", _policy_driver("write_back"), draw=_draw_policy("write_back"),
        supplied=("policy_class", "store_class"),
        domain="0 to 8 stored keys (differing only in case, non-ASCII), 1 to 60 reads, writes, flushes and crashes",
        rules=_POLICY_RULES + [
            edge("`flush()` writes each dirty key once, its latest value, and marks it clean; a second flush writes "
                 "nothing", {"initial": {}, "ops": [["write", "a", 1], ["write", "a", 2], ["write", "b", 3], ["flush"],
                                                     ["flush"], ["read", "a"]]}),
            edge("a crash loses the writes not yet flushed; a dirty key is read from the cache",
                 {"initial": {"a": 0}, "ops": [["write", "a", 1], ["read", "a"], ["crash"], ["read", "a"],
                                               ["write", "b", 2], ["flush"], ["crash"], ["read", "b"]]}),
            edge("a key read from the store and never written is not written back",
                 {"initial": {"a": 1}, "ops": [["read", "a"], ["flush"], ["write", "b", 2], ["flush"]]})]),
    Contract(
        "CoalescingLoader", _coalescing_driver, draw=_draw_coalescing, supplied=("loader_class",),
        domain="1 to 24 real threads over 1 to 5 keys (differing only in case, non-ASCII), some keys' first load "
               "failing",
        rules=[edge("one caller alone loads once", {"keys": ["url:1"], "fail_first": []}),
               edge("concurrent callers of one key share one load", {"keys": ["url:42"] * 8, "fail_first": []}),
               edge("a failed load's error reaches every caller waiting on it; the next `get` loads again",
                    {"keys": ["url:7"] * 6, "fail_first": ["url:7"]}),
               edge("a failing key does not affect the others (a partial outage)",
                    {"keys": ["url:7"] * 4 + ["url:8"] * 4 + ["url:9"], "fail_first": ["url:7"]}),
               edge("keys that differ only in case, and non-ASCII keys, are different keys",
                    {"keys": ["url:a", "url:A", "url:é"] * 3, "fail_first": ["url:A"]})]),
    Contract(
        "VersionedCache", _versioned_driver, draw=_draw_versioned, supplied=("cache_class",),
        domain="1 to 60 fills, invalidations (in and out of order) and gets over 1 to 5 keys, versions from 1 to "
               "3, 8, 100 or 10^9",
        rules=[edge("the worked example: a slow reader's fill after an invalidation is refused",
                    {"ops": [["fill", "u", "u@v1", 1], ["invalidate", "u", 2], ["get", "u"], ["fill", "u", "u@v1", 1],
                             ["fill", "u", "u@v2", 2], ["invalidate", "u", 1], ["get", "u"]]}),
               boundary("a fill of the newest version heard of is accepted, an older one refused",
                        at={"ops": [["invalidate", "u", 5], ["fill", "u", "u@v5", 5], ["get", "u"]]},
                        inside={"ops": [["invalidate", "u", 5], ["fill", "u", "u@v6", 6], ["get", "u"]]},
                        outside={"ops": [["invalidate", "u", 5], ["fill", "u", "u@v4", 4], ["get", "u"]]}),
               boundary("a fill of the same or an older version than the entry held is refused",
                        at={"ops": [["fill", "u", "u@v5", 5], ["fill", "u", "u@v5'", 5], ["get", "u"]]},
                        inside={"ops": [["fill", "u", "u@v5", 5], ["fill", "u", "u@v4", 4], ["get", "u"]]},
                        outside={"ops": [["fill", "u", "u@v5", 5], ["fill", "u", "u@v6", 6], ["get", "u"]]}),
               boundary("an invalidation drops an entry older than its version and keeps one of the same or a newer "
                        "version (a late event)",
                        at={"ops": [["fill", "u", "u@v5", 5], ["invalidate", "u", 5], ["get", "u"]]},
                        inside={"ops": [["fill", "u", "u@v5", 5], ["invalidate", "u", 4], ["get", "u"]]},
                        outside={"ops": [["fill", "u", "u@v5", 5], ["invalidate", "u", 6], ["get", "u"]]}),
               edge("an invalidation remembers its version even when nothing is cached, and a late one does not "
                    "lower it",
                    {"ops": [["invalidate", "u", 3], ["invalidate", "u", 2], ["fill", "u", "u@v2", 2], ["get", "u"],
                             ["fill", "u", "u@v3", 3], ["get", "u"]]}),
               edge("keys are independent, including keys that differ only in case",
                    {"ops": [["invalidate", "u", 3], ["fill", "U", "U@v1", 1], ["fill", "u", "u@v1", 1], ["get", "U"],
                             ["get", "u"]]})]),
]}
