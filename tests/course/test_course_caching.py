"""Tests for course.caching: the drivers return plain data and exercise a class as documented, the
trace is the seeded generator's, the hit-ratio curves and simulations behave as the notebook says."""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course import caching as cc


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class SimpleLRU:
    def __init__(self, capacity):
        if capacity < 0:
            raise ValueError(capacity)
        self.capacity, self.hits, self.misses, self.items = capacity, 0, 0, OrderedDict()

    def get(self, key):
        if key in self.items:
            self.hits += 1
            self.items.move_to_end(key)
            return self.items[key]
        self.misses += 1
        return None

    def put(self, key, value):
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.capacity:
            self.items.popitem(last=False)

    def size(self):
        return len(self.items)


class SimpleTTL:
    def __init__(self, ttl, clock):
        self.ttl, self.clock, self.items, self.hits, self.misses = ttl, clock, {}, 0, 0

    def get(self, key):
        if key in self.items and self.clock() < self.items[key][1]:
            self.hits += 1
            return self.items[key][0]
        self.misses += 1
        return None

    def put(self, key, value):
        self.items[key] = (value, self.clock() + self.ttl)

    def size(self):
        return sum(1 for _, e in self.items.values() if self.clock() < e)


class WriteThroughPolicy:
    def __init__(self, store):
        self.store, self.cache = store, {}

    def read(self, key):
        if key not in self.cache:
            value = self.store.get(key)
            if value is None:
                return None
            self.cache[key] = value
        return self.cache[key]

    def write(self, key, value):
        self.store.put(key, value)
        self.cache[key] = value

    def flush(self):
        pass


class NeverFlush(WriteThroughPolicy):
    def write(self, key, value):
        self.cache[key] = value


def test_fake_clock_moves_only_forward():
    """Check that FakeClock returns its time, advances, and refuses to go back."""
    clock = cc.FakeClock(5.0)
    clock.advance(2)
    assert clock() == 7.0
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_run_cache_ops_returns_plain_results_per_operation():
    """Check the LRU driver: one result per op, stats as [hits, misses], len, and errors passed on."""
    ops = [["put", "a", 1], ["put", "b", 2], ["get", "a"], ["put", "c", 3], ["get", "b"], ["stats"], ["size"]]
    assert cc.run_cache_ops(SimpleLRU, 2, ops) == [None, None, 1, None, None, [1, 1], 2]
    with pytest.raises(ValueError):
        cc.run_cache_ops(SimpleLRU, -1, [])
    with pytest.raises(ValueError):
        cc.run_cache_ops(SimpleLRU, 1, [["frobnicate"]])


def test_run_ttl_ops_gives_the_class_a_fake_clock():
    """Check that advance moves the clock the class was given, so expiry happens in simulated time."""
    ops = [["put", "a", 1], ["advance", 9], ["get", "a"], ["advance", 1], ["get", "a"], ["size"]]
    assert cc.run_ttl_ops(SimpleTTL, cc.FakeClock, 10, ops) == [None, None, 1, None, None, 0]
    assert cc.run_ttl_ops(SimpleTTL, cc.FakeClock, 10, [["put", "a", 1], ["get", "a"]], start=1e6) == [None, 1]


def test_run_policy_ops_counts_store_traffic_and_crash_loses_the_cache():
    """Check store counts, the store's final contents, and that a crash builds a fresh object."""
    out = cc.run_policy_ops(WriteThroughPolicy, cc.SlowStore, {"a": 1}, [["read", "a"], ["read", "a"], ["write", "b", 2],
                                                            ["crash"], ["read", "a"]])
    assert out == {"results": [1, 1, None, None, 1], "store": {"a": 1, "b": 2}, "store_reads": 2, "store_writes": 1}
    lost = cc.run_policy_ops(NeverFlush, cc.SlowStore, {}, [["write", "k", 5], ["read", "k"], ["crash"], ["read", "k"]])
    assert lost["results"] == [None, 5, None, None] and lost["store"] == {}


class Naive:
    def __init__(self, load):
        self.load = load

    def get(self, key):
        return self.load(key)


class Coalescing:
    def __init__(self, load):
        self.load, self.lock, self.running = load, threading.Lock(), {}

    def get(self, key):
        with self.lock:
            entry = self.running.get(key)
            leader = entry is None
            if leader:
                entry = self.running[key] = [threading.Event(), None, None]
        if leader:
            try:
                entry[1] = self.load(key)
            except Exception as exc:
                entry[2] = exc
            with self.lock:
                del self.running[key]
            entry[0].set()
        else:
            entry[0].wait()
        if entry[2] is not None:
            raise entry[2]
        return entry[1]


def test_run_concurrent_gets_tells_coalescing_from_a_stampede():
    """Check with real threads: a naive loader loads once per caller, a coalescing one once per key."""
    keys = ["x"] * 6 + ["y"] * 2
    naive = cc.run_concurrent_gets(Naive, keys, hold_s=0.05)
    assert naive["loads"] == {"x": 6, "y": 2}
    good = cc.run_concurrent_gets(Coalescing, keys, fail_first=["y"], hold_s=0.05)
    assert good == {"results": ["x#1"] * 6 + ["error: RuntimeError"] * 2, "loads": {"x": 1, "y": 1},
                    "after": {"x": "x#2", "y": "y#2"}, "loads_total": {"x": 2, "y": 2}}


class UnlockedCoalescing(Coalescing):
    """Coalescing's check-then-insert without the lock: a race the GIL hides unless look-ups yield."""

    def get(self, key):
        entry = self.running.get(key)
        leader = entry is None
        if leader:
            entry = self.running[key] = [threading.Event(), None, None]
        if leader:
            try:
                entry[1] = self.load(key)
            except Exception as exc:
                entry[2] = exc
            with self.lock:
                self.running.pop(key, None)
            entry[0].set()
        else:
            entry[0].wait()
        if entry[2] is not None:
            raise entry[2]
        return entry[1]


def test_yielding_key_is_the_plain_key_in_every_dict():
    """Check that a YieldingKey equals, hashes and prints like its plain str, so results stay plain data."""
    key = cc.YieldingKey("url:1")
    assert key == "url:1" and hash(key) == hash("url:1") and {"url:1": 5}[key] == 5
    assert type(str(key)) is str and f"{key}#1" == "url:1#1" and type(f"{key}#1") is str


def test_run_concurrent_gets_catches_an_unlocked_check_then_insert():
    """Check, three runs each, that the yielding keys expose a loader with no lock around its look-up and
    insert, while a locked one gives exactly one load per key and plain str results."""
    keys = ["x"] * 6 + ["y"] * 2
    for _ in range(3):
        bad = cc.run_concurrent_gets(UnlockedCoalescing, keys, hold_s=0.05)
        assert bad["loads"]["x"] > 1
        good = cc.run_concurrent_gets(Coalescing, keys, hold_s=0.05)
        assert good["loads"] == {"x": 1, "y": 1} and good["results"] == ["x#1"] * 6 + ["y#1"] * 2
        assert all(type(r) is str for r in good["results"]) and all(type(k) is str for k in good["loads"])


def test_time_cache_ops_times_a_full_cache():
    """Check the benchmark helper fills the cache, runs gets and puts, and returns microseconds per op."""
    calls = {"get": 0, "put": 0}

    class Counting(SimpleLRU):
        def get(self, key):
            calls["get"] += 1
            return super().get(key)

        def put(self, key, value):
            calls["put"] += 1
            super().put(key, value)

    micros = cc.time_cache_ops(Counting, 100, n_ops=500, seed=1)
    assert micros > 0 and calls["get"] == 500 and calls["put"] >= 100


def test_run_versioned_ops_passes_calls_through():
    """Check the versioned driver's results: fill's return, None for invalidate, get's value."""
    class Recorder:
        def __init__(self):
            self.value = None

        def fill(self, key, value, version):
            self.value = value
            return True

        def invalidate(self, key, version):
            self.value = None

        def get(self, key):
            return self.value

    assert cc.run_versioned_ops(Recorder, [["fill", "k", "v1", 1], ["get", "k"], ["invalidate", "k", 2],
                                           ["get", "k"]]) == [True, "v1", None, None]


def test_lru_stack_distances_give_the_hit_ratio_of_every_size():
    """Check one-pass stack distances against a direct LRU simulation at every capacity."""
    trace = cc.zipf_trace(2000, 60, 0.9, seed=3).tolist()
    distances = cc.lru_stack_distances(trace)
    assert distances[0] == -1
    for capacity in range(0, 62, 5):
        cache, hits = SimpleLRU(capacity), 0
        for key in trace:
            if cache.get(key) is not None:
                hits += 1
            else:
                cache.put(key, True)
        assert np.count_nonzero((distances >= 0) & (distances < capacity)) == hits


def test_hit_ratio_curves_rise_and_meet_when_everything_fits():
    """Check that LRU's curve never falls, beats FIFO on a Zipf trace, and all policies agree at full size."""
    trace = cc.zipf_trace(20_000, 500, 1.0, seed=5)
    sizes = [10, 50, 100, 250, 500]
    curves = {p: cc.hit_ratio_curve(trace, sizes, p, seed=1) for p in cc.POLICIES}
    assert np.all(np.diff(curves["lru"]) >= 0)
    assert curves["lru"][1] > curves["fifo"][1]
    assert curves["lru"][-1] == pytest.approx(curves["fifo"][-1]) == pytest.approx(curves["random"][-1])
    with pytest.raises(ValueError):
        cc.hit_ratio_curve(trace, sizes, "lfu")
    fig, ax = cc.plot_hit_ratio_curves(sizes, curves, n_keys=500)
    assert ax.get_title() and "keys" in ax.get_xlabel() and "%" in ax.get_ylabel()
    assert len(ax.get_lines()) >= 3
    assert ax.get_xscale() == "linear"  # a log axis squeezed the sizes that matter (1,000 to 5,000 keys)
    assert len({(line.get_marker(), line.get_linestyle()) for line in ax.get_lines()[:3]}) == 3


def test_trace_file_is_what_its_generator_makes():
    """Check that data/zipf_trace.csv loads (hash verified) and equals the seeded generator's output."""
    trace = cc.load_zipf_trace()
    script = Path(cc.__file__).resolve().parent.parent / "data" / "make_zipf_trace.py"
    spec = importlib.util.spec_from_file_location("make_zipf_trace", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert len(trace) == module.REQUESTS
    assert np.array_equal(trace, module.make_trace())
    assert trace.min() >= 0 and trace.max() < module.CATALOGUE


def test_cached_service_sends_misses_to_the_database_and_is_replayable():
    """Check the database load follows the miss ratio, p50 is the cache's latency, and the seed replays."""
    run = cc.simulate_cached_service(0.9, seed=1, duration_s=1.0)
    assert run == cc.simulate_cached_service(0.9, seed=1, duration_s=1.0)
    assert run["db_rps"] == pytest.approx(200, rel=0.25)
    assert run["p50_ms"] == pytest.approx(0.5)
    assert run["p99_ms"] > 5
    overloaded = cc.simulate_cached_service(0.5, seed=1, duration_s=1.0)
    assert overloaded["db_utilisation"] > 1 and overloaded["p99_ms"] > run["p99_ms"]
    # offered load past capacity: the database serves at most its 800 queries/s, the rest queue
    assert overloaded["db_served_rps"] < overloaded["db_rps"] and overloaded["db_served_rps"] <= 800 * 1.2  # 1 s: noisy
    assert run["db_served_rps"] == pytest.approx(run["db_rps"], rel=0.1)
    with pytest.raises(ValueError):
        cc.simulate_cached_service(1.5, seed=1)
    fig, ax = cc.plot_service_latency([run, overloaded])
    assert ax.get_yscale() == "log" and ax.get_title() and "ms" in ax.get_ylabel()


def test_writeback_loss_is_zero_when_writes_reach_the_store():
    """Check that a policy that writes through loses nothing and one that never flushes loses writes."""
    assert cc.writeback_loss(WriteThroughPolicy, 1.0, seed=2, trials=3, horizon_s=10) == 0
    assert cc.writeback_loss(NeverFlush, 1.0, seed=2, trials=3, horizon_s=10) > 100


def test_fake_redis_incr_keeps_ttl_and_expire_resets_it():
    """Check the Redis semantics the seed relies on: INCR keeps the TTL, EXPIRE restarts it."""
    clock = cc.FakeClock()
    redis = cc.FakeRedis(clock)
    redis.incr("c")
    redis.expire("c", 10)
    clock.advance(8)
    assert redis.incr("c") == 2
    clock.advance(2)
    assert redis.getdel("c") is None  # incr did not extend the TTL
    redis.incr("d")
    assert redis.keys() == ["d"] and redis.getdel("d") == 1 and redis.keys() == []


def test_click_counter_loses_clicks_only_with_a_ttl_shorter_than_the_sync():
    """Check the seed's counter: nothing lost with a 5-minute sync, clicks lost hourly; the fix loses none."""
    def seed_counter(redis, code):
        redis.incr(code)
        redis.expire(code, 300)

    def fixed_counter(redis, code):
        redis.incr(code)

    short = dict(hours=3.0, clicks_per_s=0.5)
    assert cc.simulate_click_counter(seed_counter, seed=1, sync_every_s=300, **short)["lost"] == 0
    hourly = cc.simulate_click_counter(seed_counter, seed=1, sync_every_s=3600, **short)
    assert hourly["lost"] > 0 and hourly["recorded"] + hourly["lost"] == hourly["clicks"]
    assert cc.simulate_click_counter(fixed_counter, seed=1, sync_every_s=3600, **short)["lost"] == 0


# --------------------------------------------------------------------------- numbers the text quotes (issue 17)

def _solution_text() -> str:
    import json

    path = Path(__file__).resolve().parents[2] / "solutions" / "04-caching" / "04-caching.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return " ".join(" ".join("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")


def test_the_overload_numbers_the_text_quotes_are_those_of_its_run():
    """The text quotes the 50% row of the service simulation (seed 40): offered load, its share of the
    database's capacity, and what the database served. They must be what the cell prints."""
    row = cc.simulate_cached_service(0.5, seed=40)
    quoted = (f"at 50% hits, {row['db_rps']:.0f} queries/s in this run: {row['db_utilisation']:.0%} of the 800/s it "
              f"can serve; it served {row['db_served_rps']:.0f}/s")
    assert quoted in _solution_text(), f"seed 40: the run gives {quoted!r}; the text of module 04 quotes other numbers"


def test_the_tail_keys_the_text_describes_are_requested_8_times_or_fewer():
    """"half of them are requested 8 times or fewer": the keys between the 80% and 95% cache sizes."""
    from autograde.reference import caching as ref

    trace = cc.load_zipf_trace().tolist()
    low, high = ref.smallest_cache_size(trace, 0.80), ref.smallest_cache_size(trace, 0.95)
    counts = np.sort(np.bincount(trace))[::-1]
    added = counts[low:high]
    assert (low, high) == (1420, 3933), f"cache sizes for 80% and 95%: expected (1420, 3933) as printed, got {(low, high)}"
    assert np.median(added) <= 8 and (added <= 8).mean() >= 0.5, \
        f"median requests of the keys from rank {low} to {high}: expected <= 8, got {np.median(added)}"
    text = _solution_text()
    assert "half of them are requested 8 times or fewer" in text
