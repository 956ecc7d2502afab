"""Caching: drivers that exercise a learner's cache classes, workloads and simulations for module 04.

Drivers (``run_*``) build the learner's object, feed it a sequence of operations given as plain
data, and return plain data (numbers, strings, lists, dicts), so that a test compares results
without ever touching the learner's objects itself:

- ``run_cache_ops(cache_class, capacity, ops)``: an LRU cache, ops ``("get", k)``, ``("put", k, v)``,
  ``("size",)``, ``("stats",)``;
- ``run_ttl_ops(cache_class, clock_class, ttl, ops)``: a TTL cache on a ``FakeClock``, plus
  ``("advance", s)``;
- ``run_policy_ops(policy_class, store_class, initial, ops)``: cache-aside, write-through or
  write-back in front of a ``SlowStore``, ops ``("read", k)``, ``("write", k, v)``, ``("flush",)``,
  ``("crash",)``;
- ``run_versioned_ops(cache_class, ops)``: invalidation by versioned update events;
- ``run_concurrent_gets(loader_class, keys, ...)``: request coalescing, with real threads; the keys it
  passes are ``YieldingKey``s, whose hashing lets other threads run, so a check-then-insert without
  a lock is caught;
- ``time_cache_ops(cache_class, capacity, ...)``: microseconds per get/put of a cache (a benchmark to
  look at, never a test).

When a notebook is graded, the first four run in the grader's process and call the learner's
objects through proxies; ``clock_class`` and ``store_class`` are then the notebook's own
``FakeClock`` and ``SlowStore`` (imported by a provided cell), so that the clock and the store live
next to the learner's cache, which calls them. ``run_concurrent_gets`` needs real threads inside
the learner's process, so the notebook imports it there and its test cell calls it by name.

Workloads and simulations: ``load_zipf_trace`` (``data/zipf_trace.csv``), ``hit_ratio_curve``
(LRU, FIFO and random eviction), ``simulate_cached_service`` (a cache in front of a slow
database on ``course.sim``), ``writeback_loss`` (what a crash costs a write-back cache) and
``simulate_click_counter`` (the seed's Redis click counter, with and without its bug).
Every random draw comes from an explicit seed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from course.seeding import make_rng

TRACE_FILE = "zipf_trace.csv"
POLICIES = ("lru", "fifo", "random")


# --------------------------------------------------------------------------- clock and store

class FakeClock:
    """A clock that only moves when told to: ``clock()`` returns the current time in seconds."""

    def __init__(self, start: float = 0.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back: advance({seconds!r})")
        self.now += seconds

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now!r})"


class SlowStore:
    """The database behind a cache: ``get(key)`` (None if absent) and ``put(key, value)``.

    It counts ``reads`` and ``writes``; each costs ``latency_ms`` of (simulated) time, added to
    ``busy_ms``. Nothing sleeps: the cost is bookkeeping, so tests stay fast.
    """

    def __init__(self, initial: dict | None = None, latency_ms: float = 10.0):
        self.data = dict(initial or {})
        self.latency_ms = latency_ms
        self.reads = 0
        self.writes = 0
        self.busy_ms = 0.0

    def get(self, key):
        self.reads += 1
        self.busy_ms += self.latency_ms
        return self.data.get(key)

    def put(self, key, value) -> None:
        self.writes += 1
        self.busy_ms += self.latency_ms
        self.data[key] = value

    def __repr__(self) -> str:
        return f"SlowStore({len(self.data)} keys, reads={self.reads}, writes={self.writes})"


# --------------------------------------------------------------------------- drivers

class YieldingKey(str):
    """A key (a ``str``, equal to and hashing like the plain key) whose every hashing pauses its
    thread for ``pause_s`` seconds, letting the other threads run.

    Each dictionary look-up of the key (``self.running.get(key)``, ``self.running[key] = ...``)
    hashes it. On CPython a thread switch can otherwise happen only at a function call or a loop's
    jump, so a loader that looks the key up in its dict of running loads and then inserts it,
    without a lock, is practically never interrupted in between, and a test could not tell it from
    a correct one (on a free-threaded Python, or with more work in between, it breaks). With these
    keys the other threads run between the look-up and the insert, and an unlocked loader loads
    more than once. A loader that holds a lock around its look-up and insert is unaffected (the
    others wait on its lock).
    """

    pause_s = 1e-3

    def __hash__(self) -> int:
        time.sleep(self.pause_s)
        return str.__hash__(self)


def _apply_cache_op(cache, op: Sequence) -> Any:
    name = op[0]
    if name == "get":
        return cache.get(op[1])
    if name == "put":
        cache.put(op[1], op[2])
        return None
    if name == "size":
        return cache.size()
    if name == "stats":
        return [cache.hits, cache.misses]
    raise ValueError(f"unknown operation {op!r}")


def run_cache_ops(cache_class: Callable, capacity: int, ops: Iterable[Sequence]) -> list:
    """Build ``cache_class(capacity)``, apply ``ops`` in order and return one result per op.

    ``("get", k)`` gives what ``get`` returned, ``("put", k, v)`` gives None, ``("size",)`` gives
    ``cache.size()`` and ``("stats",)`` gives ``[cache.hits, cache.misses]``.
    """
    cache = cache_class(capacity)
    return [_apply_cache_op(cache, op) for op in ops]


def run_ttl_ops(cache_class: Callable, clock_class: Callable, ttl: float, ops: Iterable[Sequence],
                start: float = 0.0) -> list:
    """Build ``clock = clock_class(start)`` (a ``FakeClock``) and ``cache_class(ttl, clock)``, then
    apply ``ops``: those of ``run_cache_ops``, plus ``("advance", seconds)`` (result None), which
    calls ``clock.advance(seconds)``.
    """
    clock = clock_class(start)
    cache = cache_class(ttl, clock)
    results = []
    for op in ops:
        if op[0] == "advance":
            clock.advance(op[1])
            results.append(None)
        else:
            results.append(_apply_cache_op(cache, op))
    return results


def run_policy_ops(policy_class: Callable, store_class: Callable, initial: dict, ops: Iterable[Sequence]) -> dict:
    """Put ``policy_class(store)`` in front of ``store = store_class(initial)`` (a ``SlowStore``)
    and apply ``ops``.

    ``("read", k)`` records what ``read`` returned; ``("write", k, v)``, ``("flush",)`` (calls
    ``flush()``) and ``("crash",)`` record None. A crash throws the policy object (and its cache)
    away and builds a new one on the same store, as a restarted process would.

    Returns ``{"results": [...], "store": {key: value}, "store_reads": int, "store_writes": int}``;
    keys of the store are returned as str, sorted.
    """
    store = store_class(initial)
    policy = policy_class(store)
    results = []
    for op in ops:
        name = op[0]
        if name == "read":
            results.append(policy.read(op[1]))
        elif name == "write":
            policy.write(op[1], op[2])
            results.append(None)
        elif name == "flush":
            policy.flush()
            results.append(None)
        elif name == "crash":
            policy = policy_class(store)
            results.append(None)
        else:
            raise ValueError(f"unknown operation {op!r}")
    data = store.data
    return {"results": results, "store": {str(k): data[k] for k in sorted(data, key=str)},
            "store_reads": store.reads, "store_writes": store.writes}


def run_versioned_ops(cache_class: Callable, ops: Iterable[Sequence]) -> list:
    """Build ``cache_class()`` and apply ``("fill", k, value, version)`` (result: what ``fill``
    returned), ``("invalidate", k, version)`` (None) and ``("get", k)`` (what ``get`` returned)."""
    cache = cache_class()
    results = []
    for op in ops:
        name = op[0]
        if name == "fill":
            results.append(cache.fill(op[1], op[2], op[3]))
        elif name == "invalidate":
            cache.invalidate(op[1], op[2])
            results.append(None)
        elif name == "get":
            results.append(cache.get(op[1]))
        else:
            raise ValueError(f"unknown operation {op!r}")
    return results


def run_concurrent_gets(loader_class: Callable, keys: Sequence[str], fail_first: Sequence[str] = (),
                        hold_s: float = 0.15, join_timeout_s: float = 10.0, settle_s: float = 2.0) -> dict:
    """Call ``loader.get(key)`` from one real thread per entry of ``keys``, all at once.

    ``loader = loader_class(load)``, where ``load(key)`` counts its calls per key and returns
    ``f"{key}#{n}"`` for its n-th call. Each key is passed to ``get`` as a ``YieldingKey`` (equal to
    the key), so that other threads run inside the loader's dictionary look-ups. Every load is held open until all threads have called
    ``get``, every distinct key's load has started (or ``settle_s`` has passed: a loader that makes
    loads of different keys wait for each other never starts the second) and ``hold_s`` more seconds
    have passed, so the calls for one key certainly overlap.
    For a key in ``fail_first``, the first load raises ``RuntimeError`` instead.

    Then, once every thread has finished, each distinct key is fetched once more from the main
    thread (no load is running then).

    Returns ``{"results": [one per thread: the value, "error: <ExceptionName>" or "timeout"],
    "loads": {key: number of load calls during the concurrent phase},
    "after": {key: value or "error: ..." of the later call}, "loads_total": {key: all load calls}}``.
    """
    keys = [str(k) for k in keys]
    fail_first = set(fail_first)
    lock = threading.Lock()
    release = threading.Event()
    counts: dict[str, int] = {}
    arrived = [0]

    def load(key):
        key = str(key)  # a plain str: the driver's own look-ups need not yield
        with lock:
            counts[key] = counts.get(key, 0) + 1
            n = counts[key]
        release.wait(timeout=join_timeout_s)
        if key in fail_first and n == 1:
            raise RuntimeError(f"database error while loading {key!r}")
        return f"{key}#{n}"

    loader = loader_class(load)
    results: list[Any] = ["timeout"] * len(keys)
    start = threading.Barrier(len(keys) + 1)

    def worker(i, key):
        try:
            start.wait(timeout=join_timeout_s)
        except threading.BrokenBarrierError:
            return
        with lock:
            arrived[0] += 1
        try:
            results[i] = loader.get(YieldingKey(key))
        except Exception as exc:  # the learner's get let the load's error through: that is right
            results[i] = f"error: {type(exc).__name__}"

    threads = [threading.Thread(target=worker, args=(i, k), daemon=True) for i, k in enumerate(keys)]
    for thread in threads:
        thread.start()
    start.wait(timeout=join_timeout_s)
    deadline = time.monotonic() + join_timeout_s
    while time.monotonic() < deadline:
        with lock:
            if arrived[0] == len(keys):
                break
        time.sleep(0.002)
    # Then give every distinct key's load time to start (a loader whose loads of different keys run at
    # once starts them all; one that makes them wait for each other does not), up to settle_s: waiting
    # for the event rather than for a fixed time keeps a busy machine from failing a right loader.
    settle = time.monotonic() + settle_s
    while time.monotonic() < settle:
        with lock:
            if all(counts.get(k, 0) for k in keys):
                break
        time.sleep(0.002)
    time.sleep(hold_s)
    with lock:
        concurrent_loads = dict(counts)
    release.set()
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    after = {}
    for key in dict.fromkeys(keys):
        try:
            after[key] = loader.get(YieldingKey(key))
        except Exception as exc:
            after[key] = f"error: {type(exc).__name__}"
    return {"results": results, "loads": {k: concurrent_loads.get(k, 0) for k in dict.fromkeys(keys)},
            "after": after, "loads_total": {k: counts.get(k, 0) for k in dict.fromkeys(keys)}}


def time_cache_ops(cache_class: Callable, capacity: int, n_ops: int = 20_000, budget_s: float = 0.5,
                   seed: int = 0) -> float:
    """Microseconds per operation of ``cache_class(capacity)``, once full: ``put`` the keys
    ``0 .. capacity - 1``, then time a seeded mix of ``get`` over ``[0, 2 * capacity)`` (about half
    hit) and ``put`` after each miss, for ``n_ops`` operations or until ``budget_s`` seconds have
    passed, whichever comes first. Wall time, so it varies from run to run: a benchmark to look at,
    never a test.
    """
    cache = cache_class(capacity)
    for key in range(capacity):
        cache.put(key, key)
    keys = make_rng(seed).integers(0, 2 * max(capacity, 1), size=n_ops).tolist()
    done = 0
    start = time.perf_counter()
    deadline = start + budget_s
    for key in keys:
        if cache.get(key) is None:
            cache.put(key, key)
        done += 1
        if done % 64 == 0 and time.perf_counter() > deadline:
            break
    return (time.perf_counter() - start) / done * 1e6


# --------------------------------------------------------------------------- the Zipf trace

def load_zipf_trace() -> np.ndarray:
    """The request trace of ``data/zipf_trace.csv`` (verified against its hash) as an int array."""
    from course.data import load_csv

    return load_csv(TRACE_FILE)["key"].to_numpy(dtype=np.int64)


def zipf_trace(n_requests: int, n_keys: int, alpha: float, seed: int) -> np.ndarray:
    """A fresh Zipf(alpha) trace of ``n_requests`` key ids in ``[0, n_keys)``, from ``seed``."""
    rng = make_rng(seed)
    weights = 1.0 / np.arange(1, n_keys + 1) ** alpha
    cdf = np.cumsum(weights / weights.sum())
    ranks = np.minimum(np.searchsorted(cdf, rng.random(n_requests), side="right"), n_keys - 1)
    return rng.permutation(n_keys)[ranks]


def lru_stack_distances(trace: Iterable) -> np.ndarray:
    """For each request, how many distinct keys were requested since the last request of its key
    (``-1`` for a first request). An LRU cache of capacity c hits exactly when 0 <= distance < c
    (Mattson et al., 1970), so one pass gives the hit ratio of every size. O(n log n)."""
    keys = list(trace)
    n = len(keys)
    tree = [0] * (n + 1)  # Fenwick tree over request positions: 1 where a key was last requested

    def add(i, delta):
        i += 1
        while i <= n:
            tree[i] += delta
            i += i & -i

    def prefix(i):  # sum over positions [0, i)
        total = 0
        while i > 0:
            total += tree[i]
            i -= i & -i
        return total

    last: dict = {}
    distances = np.empty(n, dtype=np.int64)
    for position, key in enumerate(keys):
        previous = last.get(key)
        if previous is None:
            distances[position] = -1
        else:
            distances[position] = prefix(position) - prefix(previous + 1)
            add(previous, -1)
        add(position, 1)
        last[key] = position
    return distances


def _simulate_hits(trace: Sequence, capacity: int, policy: str, rng: np.random.Generator) -> int:
    hits = 0
    if capacity <= 0:
        return 0
    if policy == "lru":
        recent: OrderedDict = OrderedDict()
        for key in trace:
            if key in recent:
                hits += 1
                recent.move_to_end(key)
            else:
                recent[key] = None
                if len(recent) > capacity:
                    recent.popitem(last=False)
        return hits
    if policy == "fifo":
        cached: OrderedDict = OrderedDict()
        for key in trace:
            if key in cached:
                hits += 1
            else:
                cached[key] = None
                if len(cached) > capacity:
                    cached.popitem(last=False)
        return hits
    if policy == "random":
        slots: list = []
        where: dict = {}
        draws = rng.random(len(trace))
        for key, u in zip(trace, draws):
            if key in where:
                hits += 1
            elif len(slots) < capacity:
                where[key] = len(slots)
                slots.append(key)
            else:
                victim = int(u * capacity)
                del where[slots[victim]]
                slots[victim] = key
                where[key] = victim
        return hits
    raise ValueError(f"unknown policy {policy!r}; use one of {POLICIES}")


def hit_ratio_curve(trace: Sequence, sizes: Sequence[int], policy: str = "lru", seed: int = 0) -> np.ndarray:
    """Hit ratio of a cache that starts empty and admits every missed key, for each size in
    ``sizes``, evicting by ``policy`` ("lru", "fifo" or "random"; random eviction draws from
    ``seed``)."""
    trace = [int(k) for k in trace]
    rng = make_rng(seed)
    return np.array([_simulate_hits(trace, int(c), policy, rng) / len(trace) for c in sizes])


def plot_hit_ratio_curves(sizes: Sequence[int], curves: dict, n_keys: int, target: float = 0.95):
    """Hit ratio against cache size (keys, linear axis), one line per policy, each with its own
    marker and line style so that lines lying on top of each other stay visible. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure("Hit ratio against cache size (Zipf trace, 200,000 requests)",
                         f"cache size (keys; the catalogue has {n_keys:,})", "hit ratio (%)")
    styles = [("o", "-", 7, 2.0), ("s", "--", 9, 1.5), ("x", ":", 8, 2.0), ("^", "-.", 5, 1.5)]
    for (policy, ratios), (marker, line, size, width) in zip(curves.items(), styles):
        ax.plot(sizes, 100 * np.asarray(ratios), marker=marker, linestyle=line, markersize=size, linewidth=width,
                fillstyle="none" if marker != "x" else "full", label=policy.upper())
    ax.axhline(100 * target, color=PALETTE[3], linestyle="--", linewidth=1)
    ax.annotate(f"seed's target {target:.0%}", (sizes[0], 100 * target), xytext=(4, 4),
                textcoords="offset points", color=PALETTE[3])
    ax.set_xlim(0, max(sizes) * 1.03)
    ax.set_ylim(0, 100)
    ax.legend(loc="lower right")
    return fig, ax


# --------------------------------------------------------------------------- a cached service

def simulate_cached_service(hit_ratio: float, seed: int, rate_per_s: float = 2000.0, duration_s: float = 1.5,
                            cache_ms: float = 0.5, db_ms: float = 10.0, db_servers: int = 8) -> dict:
    """Requests arrive as a Poisson process; each asks the cache (``cache_ms``, fixed), and with
    probability ``1 - hit_ratio`` then the database (exponential, mean ``db_ms``; ``db_servers``
    parallel connections, queued first come first served). Built on ``course.sim``.

    Returns latencies in ms (``p50_ms``, ``p99_ms``, of requests that finished), ``db_rps`` (queries
    per second sent to the database: the offered load), ``db_served_rps`` (queries per second the
    database finished while requests were arriving: at most its capacity), ``db_utilisation``
    (offered load / capacity, both measured in queries per second; above 1 the queue grows for as
    long as the load lasts) and ``finished`` / ``arrived`` counts.
    """
    from course.sim import Simulation, Station, poisson_arrivals

    if not 0 <= hit_ratio <= 1:
        raise ValueError(f"hit_ratio must be in [0, 1], got {hit_ratio!r}")
    sim = Simulation(seed)
    cache = Station(sim, "cache", servers=256, service_time=lambda rng: cache_ms / 1000)
    db = Station(sim, "db", servers=db_servers, service_time=lambda rng: rng.exponential(db_ms / 1000))
    latencies: list[float] = []
    misses = [0]
    served = [0]

    def request(i):
        arrived = sim.now
        yield cache.submit(i)
        if sim.rng.random() >= hit_ratio:
            misses[0] += 1
            yield db.submit(i)
            if sim.now <= duration_s:
                served[0] += 1
        latencies.append(sim.now - arrived)

    arrivals = [0]

    def on_arrival(i):
        arrivals[0] += 1
        sim.process(request(i))

    poisson_arrivals(sim, rate_per_s, on_arrival, until=duration_s)
    sim.run(until=duration_s + 1.0)  # one extra second to drain, then stop even if overloaded
    ms = np.array(latencies) * 1000
    capacity = db_servers / (db_ms / 1000)
    return {"hit_ratio": hit_ratio, "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "db_rps": misses[0] / duration_s, "db_served_rps": served[0] / duration_s,
            "db_utilisation": misses[0] / duration_s / capacity,
            "finished": len(latencies), "arrived": arrivals[0]}


def plot_service_latency(rows: Sequence[dict]):
    """p50 and p99 latency (log scale) and database load against hit ratio. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure("A cache in front of a slow database (simulated, 2,000 req/s)",
                         "cache hit ratio (%)", "latency (ms, log scale)")
    x = [100 * r["hit_ratio"] for r in rows]
    ax.plot(x, [r["p99_ms"] for r in rows], marker="o", color=PALETTE[3], label="p99 latency")
    ax.plot(x, [r["p50_ms"] for r in rows], marker="s", color=PALETTE[0], label="p50 latency")
    ax.set_yscale("log")
    right = ax.twinx()
    right.bar(x, [r["db_utilisation"] * 100 for r in rows], width=1.2, color=PALETTE[2], alpha=0.35,
              label="database load offered")
    right.axhline(100, color=PALETTE[2], linestyle=":", linewidth=1)
    right.set_ylabel("database load offered (% of its capacity)")
    right.grid(False)
    right.spines["right"].set_visible(True)
    ax.set_zorder(right.get_zorder() + 1)
    ax.patch.set_visible(False)
    lines, labels = ax.get_legend_handles_labels()
    bars, bar_labels = right.get_legend_handles_labels()
    ax.legend(lines + bars, labels + bar_labels, loc="upper right")
    return fig, ax


# --------------------------------------------------------------------------- write-back crashes

def writeback_loss(policy_class: Callable, flush_interval_s: float, seed: int, writes_per_s: float = 50.0,
                   n_keys: int = 10_000, trials: int = 20, horizon_s: float = 60.0) -> float:
    """Average number of acknowledged writes lost when the process crashes at a random moment.

    Writes arrive as a Poisson process (``writes_per_s``, keys uniform over ``n_keys``) to
    ``policy_class(store)``; ``flush()`` runs every ``flush_interval_s`` seconds; the process
    crashes at a uniformly random time in the second half of ``horizon_s``. A write is lost when
    the store does not hold the value last written to its key. Averaged over ``trials`` crashes.
    """
    rng = make_rng(seed)
    lost = []
    for _ in range(trials):
        crash_at = rng.uniform(horizon_s / 2, horizon_s)
        store = SlowStore()
        policy = policy_class(store)
        latest: dict = {}
        t, next_flush, version = 0.0, flush_interval_s, 0
        while True:
            t += rng.exponential(1 / writes_per_s)
            if t >= crash_at:
                break
            while next_flush <= t:
                policy.flush()
                next_flush += flush_interval_s
            key, version = int(rng.integers(n_keys)), version + 1
            policy.write(key, version)
            latest[key] = version
        lost.append(sum(1 for k, v in latest.items() if store.data.get(k) != v))
    return float(np.mean(lost))


# --------------------------------------------------------------------------- the seed's click counter

class FakeRedis:
    """The few Redis commands the seed's click counter uses, on a ``FakeClock``.

    As in Redis, ``incr`` keeps a key's time to live and ``expire`` sets it afresh; an expired key
    is gone (``get`` returns None).
    """

    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.values: dict = {}
        self.expires: dict = {}

    def _alive(self, key) -> bool:
        if key in self.expires and self.clock() >= self.expires[key]:
            del self.values[key], self.expires[key]
        return key in self.values

    def incr(self, key) -> int:
        self.values[key] = (self.values[key] if self._alive(key) else 0) + 1
        return self.values[key]

    def expire(self, key, seconds: float) -> None:
        if self._alive(key):
            self.expires[key] = self.clock() + seconds

    def getdel(self, key):
        if not self._alive(key):
            return None
        self.expires.pop(key, None)
        return self.values.pop(key)

    def keys(self) -> list:
        return [k for k in list(self.values) if self._alive(k)]


def simulate_click_counter(record_click: Callable, seed: int, sync_every_s: float = 3600.0,
                           hours: float = 24.0, n_codes: int = 2000, clicks_per_s: float = 0.5) -> dict:
    """Replay ``hours`` of clicks through ``record_click(redis, short_code)`` and a sync job that runs
    every ``sync_every_s`` seconds (hourly by default).

    Clicks arrive as a Poisson process (``clicks_per_s``); short codes are Zipf(1.0) popular over
    ``n_codes``. Every ``sync_every_s`` seconds the sync job moves each counter to the database
    with ``GETDEL``; at the end a last sync runs. Returns ``{"clicks": true total, "recorded":
    total in the database, "lost": the difference, "lost_share": lost / clicks}``.
    """
    rng = make_rng(seed)
    clock = FakeClock()
    redis = FakeRedis(clock)
    weights = 1.0 / np.arange(1, n_codes + 1)
    cdf = np.cumsum(weights / weights.sum())
    database: dict = {}

    def sync():
        for key in redis.keys():
            database[key] = database.get(key, 0) + (redis.getdel(key) or 0)

    end = hours * 3600
    n_clicks = int(rng.poisson(clicks_per_s * end))
    times = np.sort(rng.uniform(0, end, n_clicks))
    codes = np.minimum(np.searchsorted(cdf, rng.random(n_clicks), side="right"), n_codes - 1)
    next_sync = sync_every_s
    for t, code in zip(times, codes):
        while next_sync <= t:
            clock.now = next_sync
            sync()
            next_sync += sync_every_s
        clock.now = float(t)
        record_click(redis, f"code{int(code)}")
    clock.now = end
    sync()
    recorded = sum(database.values())
    return {"clicks": n_clicks, "recorded": recorded, "lost": n_clicks - recorded,
            "lost_share": (n_clicks - recorded) / n_clicks}
