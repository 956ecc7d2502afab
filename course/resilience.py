"""Resilience patterns under fault: drivers, simulations and figures for module 08.

Three kinds of code live here:

- **Drivers** (``run_*``, ``backoff_runs``, ``hammer_bulkhead``, ``concurrent_idempotency``): they
  exercise a learner's function or class with a scripted scenario (a manual clock, scripted
  outcomes, real threads) and return plain data (lists, dicts, numbers, strings), so that a test
  can compare or judge the result without touching the learner's objects.

  When a notebook is graded, ``backoff_runs``, ``run_budget``, ``run_breaker``, ``run_bulkhead``,
  ``run_limiter`` and ``run_shedder`` run in the grader's process (each test cell imports them) and
  call the learner's objects through proxies, looking each method up once (every look-up is a
  round trip). ``run_breaker`` and ``run_limiter`` take ``clock_class``: the notebook passes its own
  ``ManualClock`` (imported by a provided cell), so that the clock lives next to the learner's class,
  which calls it, while the driver moves it through the proxy. ``hammer_bulkhead``,
  ``concurrent_idempotency`` (real threads) and ``run_idempotency`` (a handler the learner's store
  calls) must run inside the learner's process: the notebook imports them in a provided cell.
- **Simulations** on ``course.sim`` (``simulate_retry_storm``, ``simulate_breaker``,
  ``simulate_bulkhead``, ``simulate_shedding``): a dependency that fails or slows down, and the
  callers that protect themselves (or not) with the learner's code. Every run takes a ``seed``.
- **Figures** (``plot_*``), made with ``course.plotting.new_figure``.

Times are seconds (simulated time in simulations, manual-clock time in drivers).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from course.seeding import derive_seed, make_rng
from course.sim import Simulation, poisson_arrivals

__all__ = [
    "ManualClock", "exponential_delays", "backoff_runs", "backoff_check", "run_budget", "run_breaker", "run_bulkhead",
    "YieldingName", "hammer_bulkhead", "run_limiter", "run_idempotency", "concurrent_idempotency", "run_shedder",
    "bursty_requests", "simulate_retry_storm", "simulate_breaker", "simulate_bulkhead",
    "simulate_shedding", "per_bin", "plot_retry_storm", "plot_breaker", "plot_limiters",
    "plot_bulkhead", "plot_shedding",
]


# --------------------------------------------------------------------------- a clock you can set

class ManualClock:
    """A clock for tests and simulations: ``clock()`` returns the time it was set to, in seconds.

    >>> clock = ManualClock()
    >>> clock.advance(2.5); clock()
    2.5
    """

    def __init__(self, start: float = 0.0):
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock does not go back: advance({seconds!r})")
        self.now += seconds

    def set(self, when: float) -> None:
        if when < self.now:
            raise ValueError(f"a clock does not go back: set({when!r}) at {self.now!r}")
        self.now = float(when)

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now!r})"


def exponential_delays(retries: int, base_s: float, cap_s: float, seed: int = 0) -> list[float]:
    """Backoff *without* jitter: ``min(cap_s, base_s * 2**k)`` for k = 0 .. retries-1.

    The naive policy the notebook compares full jitter against; ``seed`` is ignored (nothing is
    random), so every client that failed at the same moment retries at the same moments.
    """
    return [float(min(cap_s, base_s * 2 ** k)) for k in range(retries)]


# --------------------------------------------------------------------------- drivers

def backoff_runs(fn: Callable, retries: int, base_s: float, cap_s: float, seeds: Sequence[int]) -> dict:
    """Call ``fn(retries, base_s, cap_s, seed)`` for every seed, then once more for ``seeds[0]``.

    Returns ``{"runs": [[delay, ...] per seed], "replay": [delay, ...]}`` (floats), for a judge
    that checks bounds, jitter, dependence on the seed and that a seed replays.
    """
    def one(seed: int) -> list[float]:
        return [float(d) for d in fn(retries=retries, base_s=base_s, cap_s=cap_s, seed=seed)]

    runs = [one(s) for s in seeds]
    return {"runs": runs, "replay": one(seeds[0])}


def backoff_check(fn: Callable, retries: int, base_s: float, cap_s: float, seed: int) -> dict:
    """``fn(retries, base_s, cap_s, seed)`` summed up as every correct full-jitter backoff gives it,
    whatever its generator: ``{"delays": how many, "outside_bounds": [k, ...], "replays": bool,
    "another_seed_differs": bool}``. ``outside_bounds`` lists each retry k whose delay is not in
    ``[0, min(cap_s, base_s * 2**k)]`` (1e-9 relative slack); ``replays``: a second call with the same
    seed gives the same list; ``another_seed_differs``: ``seed + 1`` gives another list. An exception
    from ``fn`` (the contract's ``ValueError``) propagates.
    """
    def one(s: int) -> list[float]:
        return [float(d) for d in fn(retries=retries, base_s=base_s, cap_s=cap_s, seed=s)]

    delays = one(seed)
    outside = [k for k, d in enumerate(delays)
               if not -1e-12 <= d <= min(cap_s, base_s * 2.0 ** k) * (1 + 1e-9) + 1e-12]
    return {"delays": len(delays), "outside_bounds": outside, "replays": one(seed) == delays,
            "another_seed_differs": one(seed + 1) != delays}


def run_budget(cls: type, kwargs: dict, ops: Sequence[str]) -> list:
    """Drive a retry budget: ``cls(**kwargs)``, then for each op ``"request"`` call ``on_request()``
    (recorded as None) and for ``"retry"`` call ``try_retry()`` (its answer is recorded)."""
    budget = cls(**kwargs)
    on_request, try_retry = budget.on_request, budget.try_retry  # looked up once (a round trip each when grading)
    out: list = []
    for op in ops:
        if op == "request":
            on_request()
            out.append(None)
        elif op == "retry":
            out.append(try_retry())
        else:
            raise ValueError(f"unknown op {op!r}")
    return out


def run_breaker(cls: type, kwargs: dict, script: Sequence[Sequence], clock_class: Callable | None = None) -> list:
    """Drive a circuit breaker with a manual clock through a script.

    ``clock = clock_class()`` (a ``ManualClock`` by default; when grading, the notebook's own, so
    that it lives next to the breaker), then the breaker is built as ``cls(clock=clock, **kwargs)``.
    Script steps:

    - ``["call", "ok"]`` or ``["call", "fail"]``: one caller asks ``allow()``; if it says yes, the
      outcome is reported with ``record_success()`` or ``record_failure()``. Recorded as
      ``["ok" | "fail" | "rejected", state]``.
    - ``["burst", k, "ok" | "fail"]``: k callers ask ``allow()`` at the same instant; then every
      admitted caller reports the outcome, in turn. Recorded as ``["burst", admitted, state]``.
    - ``["wait", seconds]``: advance the clock. Recorded as ``["wait", state]``.
    - ``["late", "ok" | "fail"]``: the outcome of a call admitted earlier arrives now (reported without
      asking ``allow()``). Recorded as ``["late", state]``.

    ``state`` is the breaker's ``state`` attribute read after the step.
    """
    clock = (clock_class or ManualClock)()
    breaker = cls(clock=clock, **kwargs)
    advance = clock.advance
    allow, succeeded, failed = breaker.allow, breaker.record_success, breaker.record_failure

    def report(outcome: str) -> None:
        succeeded() if outcome == "ok" else failed()

    out = []
    for step in script:
        kind = step[0]
        if kind == "wait":
            advance(step[1])
            out.append(["wait", breaker.state])
        elif kind == "call":
            if allow():
                report(step[1])
                out.append([step[1], breaker.state])
            else:
                out.append(["rejected", breaker.state])
        elif kind == "burst":
            admitted = sum(1 for _ in range(step[1]) if allow())
            for _ in range(admitted):
                report(step[2])
            out.append(["burst", admitted, breaker.state])
        elif kind == "late":
            report(step[1])
            out.append(["late", breaker.state])
        else:
            raise ValueError(f"unknown step {step!r}")
    return out


def run_bulkhead(cls: type, limits: dict, ops: Sequence[Sequence]) -> list:
    """Drive a bulkhead: ``["acquire", dep]`` records ``try_acquire(dep)``; ``["release", dep]``
    calls ``release(dep)`` and records ``in_flight(dep)`` afterwards; ``["in_flight", dep]`` records
    ``in_flight(dep)``. An op that raises ``ValueError`` is recorded as the string ``"ValueError"``."""
    bulkhead = cls(dict(limits))
    try_acquire, release, in_flight = bulkhead.try_acquire, bulkhead.release, bulkhead.in_flight
    out: list = []
    for kind, dep in ops:
        try:
            if kind == "acquire":
                out.append(try_acquire(dep))
            elif kind == "release":
                release(dep)
                out.append(in_flight(dep))
            elif kind == "in_flight":
                out.append(in_flight(dep))
            else:
                raise KeyError(kind)
        except ValueError:
            out.append("ValueError")
    return out


class YieldingName(str):
    """A dependency name (a ``str``, equal to and hashing like the plain name) whose every hashing
    pauses its thread for ``pause_s`` seconds, letting the other threads run.

    Each dictionary look-up of the name (``self.busy[dep]``, ``dep in self.limits``) hashes it. On
    CPython a thread switch can otherwise happen only at a function call or a loop's jump, so a
    bulkhead that reads its count and writes it back without a lock, with no call in between, is
    never interrupted there, and a test could not tell it from a correct one (on a free-threaded
    Python, or with other work between the read and the write, it breaks). With these names the
    other threads run between the read and the write, and an unlocked bulkhead overruns its limit
    or loses count. A bulkhead that holds a lock around its check and update is unaffected (the
    others wait on its lock)."""

    pause_s = 1e-5

    def __hash__(self) -> int:
        time.sleep(self.pause_s)
        return str.__hash__(self)


def hammer_bulkhead(cls: type, limits: dict, threads: int = 8, rounds: int = 40, seed: int = 0) -> dict:
    """Real threads calling through one bulkhead at the same time.

    Each thread, ``rounds`` times, picks a dependency (seeded), calls ``try_acquire``; when admitted
    it holds the slot for a moment, counting how many calls are inside at once (under the driver's
    own lock), then calls ``release``. The names passed to the bulkhead are ``YieldingName``: every
    look-up lets other threads run, so a count read and written back without a lock is caught.
    A ``ValueError`` raised by ``release`` (a count that went wrong) is recorded, not raised.
    Returns ``{"max_inside": {dep: n}, "admitted": {dep: n}, "in_flight_after": {dep: n},
    "release_errors": n}``.
    """
    bulkhead = cls(dict(limits))
    deps = sorted(limits)
    names = [YieldingName(d) for d in deps]
    lock = threading.Lock()
    inside = dict.fromkeys(deps, 0)
    max_inside = dict.fromkeys(deps, 0)
    admitted = dict.fromkeys(deps, 0)
    release_errors = [0]
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        rng = make_rng(derive_seed(seed, "thread", index))
        try:
            start.wait()
            for _ in range(rounds):
                which = int(rng.integers(len(deps)))
                dep = deps[which]
                if bulkhead.try_acquire(names[which]):
                    with lock:
                        inside[dep] += 1
                        admitted[dep] += 1
                        max_inside[dep] = max(max_inside[dep], inside[dep])
                    time.sleep(0.0002)
                    with lock:
                        inside[dep] -= 1
                    try:
                        bulkhead.release(names[which])
                    except ValueError:  # "nothing in flight": the count went wrong (the judge says so)
                        with lock:
                            release_errors[0] += 1
        except BaseException as exc:  # reported below, in the caller's thread
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return {"max_inside": max_inside, "admitted": admitted,
            "in_flight_after": {d: bulkhead.in_flight(d) for d in deps}, "release_errors": release_errors[0]}


def run_limiter(cls: type, kwargs: dict, requests: Sequence[Sequence], clock_class: Callable | None = None) -> list:
    """Drive a per-key rate limiter with a manual clock: ``clock = clock_class()`` (a
    ``ManualClock`` by default; when grading, the notebook's own), ``cls(clock=clock, **kwargs)``,
    then for each ``[time_s, key]`` (in time order) set the clock and record ``allow(key)``."""
    clock = (clock_class or ManualClock)()
    limiter = cls(clock=clock, **kwargs)
    set_time, allow = clock.set, limiter.allow
    out = []
    for when, key in requests:
        set_time(when)
        out.append(allow(key))
    return out


def run_idempotency(cls: type, ops: Sequence[Sequence]) -> dict:
    """Drive an idempotency store, one call at a time.

    Each op is ``[key, payload, outcome]``: call ``store.execute(key, payload, handler)`` with a
    handler that performs the effect (appends ``[key, payload]`` to the effects and returns the
    receipt ``"receipt-<n>"``, n counting effects from 1), or, for outcome ``"crash"``, raises
    ``RuntimeError`` before doing anything. Returns ``{"results": [...], "effects": [...]}`` where a
    result is the returned value, or the name of the exception raised (``"ValueError"``,
    ``"RuntimeError"``).
    """
    store = cls()
    effects: list = []
    results: list = []
    for key, payload, outcome in ops:
        def handler(p, _key=key, _outcome=outcome):
            if _outcome == "crash":
                raise RuntimeError("the handler crashed before doing anything")
            effects.append([_key, p])
            return f"receipt-{len(effects)}"
        try:
            results.append(store.execute(key, payload, handler))
        except (ValueError, RuntimeError) as exc:
            results.append(type(exc).__name__)
    return {"results": results, "effects": effects}


def concurrent_idempotency(cls: type, keys: Sequence[str], threads_per_key: int = 4,
                           work_s: float = 0.02, yielding: bool = False) -> dict:
    """Real threads sending the same request (same key, same payload) at the same moment.

    All threads start together at a barrier and call ``store.execute(key, payload, handler)``;
    the handler takes ``work_s`` seconds and counts one effect for its key. Returns
    ``{"effects": {key: n}, "results": {key: [distinct results, sorted]}, "errors": [...],
    "elapsed_s": s}``; a correct store has one effect and one distinct result per key, and no
    errors. ``elapsed_s`` is the wall time from the barrier until every call returned: about
    ``work_s`` when calls with different keys run at the same time, ``len(keys) * work_s`` when
    they wait for each other.

    With ``yielding``, the keys the store gets are ``YieldingName`` strings: every dictionary look-up
    of a key lets the other threads run, so a store that checks for a key and inserts it in two
    steps without a lock lets two threads both find it missing (even with only two threads).
    """
    store = cls()
    named = {k: (YieldingName(k) if yielding else k) for k in keys}
    lock = threading.Lock()
    effects = dict.fromkeys(keys, 0)
    results: dict[str, set] = {k: set() for k in keys}
    errors: list[str] = []
    jobs = [k for k in keys for _ in range(threads_per_key)]
    began: list[float] = []
    start = threading.Barrier(len(jobs), action=lambda: began.append(time.perf_counter()))

    def handler(payload):
        time.sleep(work_s)
        with lock:
            effects[payload["key"]] += 1
            return f"receipt-{payload['key']}-{effects[payload['key']]}"

    def worker(key: str) -> None:
        start.wait()
        try:
            got = store.execute(named[key], {"key": key, "amount": 10}, handler)
            with lock:
                results[key].add(repr(got))
        except Exception as exc:  # reported as data, the judge decides
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    pool = [threading.Thread(target=worker, args=(k,)) for k in jobs]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - began[0]
    return {"effects": effects, "results": {k: sorted(v) for k, v in results.items()}, "errors": errors,
            "elapsed_s": round(elapsed, 4)}


def run_shedder(cls: type, capacity: int, ops: Sequence[Sequence]) -> list:
    """Drive a load shedder: ``["offer", request_id, priority]`` records what ``offer`` returns
    (the id shed, or None); ``["take"]`` records what ``take()`` returns."""
    shedder = cls(capacity)
    offer, take = shedder.offer, shedder.take
    out = []
    for op in ops:
        if op[0] == "offer":
            out.append(offer(op[1], op[2]))
        elif op[0] == "take":
            out.append(take())
        else:
            raise ValueError(f"unknown op {op!r}")
    return out


# --------------------------------------------------------------------------- traffic

def bursty_requests(seed: int, duration_s: float = 20.0, base_rps: float = 40.0, burst_rps: float = 300.0,
                    bursts: Sequence[tuple[float, float]] = ((4.0, 5.0), (11.0, 11.5), (15.0, 17.0)),
                    key: str = "user-1") -> list[list]:
    """Poisson requests from one key at ``base_rps``, rising to ``burst_rps`` inside each
    ``(start_s, end_s)`` burst. Returns ``[[time_s, key], ...]`` in time order."""
    rng = make_rng(seed)
    times, t = [], 0.0
    while True:
        in_burst = any(a <= t < b for a, b in bursts)
        t += rng.exponential(1.0 / (burst_rps if in_burst else base_rps))
        if t >= duration_s:
            break
        times.append([round(float(t), 6), key])
    return times


def per_bin(times: Sequence[float], duration_s: float, bin_s: float = 1.0, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Rates per bin: ``(bin start times, events per second in each bin)``."""
    edges = np.arange(0.0, duration_s + bin_s / 2, bin_s)
    counts, _ = np.histogram(np.asarray(times, dtype=float), bins=edges, weights=weights)
    return edges[:-1], counts / bin_s


# --------------------------------------------------------------------------- retry storm

def simulate_retry_storm(delays_fn: Callable, *, seed: int, clients: int = 2000, spread_s: float = 1.0,
                         outage: tuple[float, float] = (0.0, 10.0), capacity_rps: float = 400.0,
                         base_s: float = 1.0, cap_s: float = 16.0, max_retries: int = 8, budget=None,
                         duration_s: float = 80.0, slot_s: float = 0.1) -> dict:
    """A dependency is down during ``outage = (start_s, end_s)``; otherwise it serves up to
    ``capacity_rps`` requests per second.

    ``clients`` clients each send one request at a uniformly random time in ``[0, spread_s)``
    (a small ``spread_s`` is a synchronised crowd; ``spread_s = duration`` is steady traffic at
    ``clients / spread_s`` per second). An attempt fails while the dependency is down, and also when
    more than ``capacity_rps * slot_s`` attempts arrive in the same ``slot_s`` slot (overload: the
    excess is refused). A client that failed waits ``delays_fn(max_retries, base_s, cap_s,
    seed=<its own seed>)[k]`` seconds before retry k, and gives up after ``max_retries`` retries or,
    if ``budget`` is given (an object with ``on_request()`` and ``try_retry()``, shared by all
    clients), when the budget refuses a retry.

    Returns plain data: ``attempt_times`` and ``success_times`` (s), per client ``start_times``,
    ``served`` (bool) and ``latency_s`` (from its first attempt to success, or None), the counts ``succeeded``, ``gave_up`` and ``attempts``, and ``parameters``.
    """
    sim = Simulation(seed)
    per_slot = capacity_rps * slot_s
    slot_load: dict[int, int] = {}
    attempt_times: list[float] = []
    success_times: list[float] = []
    served = [False] * clients
    latency: list = [None] * clients
    gave_up = [0]

    def attempt() -> bool:
        now = sim.now
        attempt_times.append(now)
        slot = int(now / slot_s)
        slot_load[slot] = slot_load.get(slot, 0) + 1
        return not outage[0] <= now < outage[1] and slot_load[slot] <= per_slot

    def client(index: int, start: float):
        delays = [float(d) for d in delays_fn(max_retries, base_s, cap_s, seed=derive_seed(seed, "client", index))]
        yield sim.timeout(start)
        if budget is not None:
            budget.on_request()
        for k in range(max_retries + 1):
            if attempt():
                success_times.append(sim.now)
                served[index] = True
                latency[index] = sim.now - start
                return
            if k == max_retries or (budget is not None and not budget.try_retry()):
                gave_up[0] += 1
                return
            yield sim.timeout(delays[k])

    starts = sim.rng.uniform(0.0, spread_s, size=clients)
    for i, s in enumerate(starts):
        sim.process(client(i, float(s)))
    sim.run(until=duration_s)
    return {"attempt_times": attempt_times, "success_times": success_times, "succeeded": len(success_times),
            "gave_up": gave_up[0], "attempts": len(attempt_times), "start_times": [float(s) for s in starts],
            "served": served, "latency_s": latency,
            "parameters": dict(clients=clients, spread_s=spread_s, outage=list(outage), capacity_rps=capacity_rps,
                               duration_s=duration_s, base_s=base_s, cap_s=cap_s, max_retries=max_retries)}


def plot_retry_storm(runs: dict[str, dict], bin_s: float = 1.0, by_arrival: bool = False, within_s: float = 2.0):
    """Two figures for a dict of labelled ``simulate_retry_storm`` results: the load the
    dependency sees (attempts/s, with its capacity), and either the share of clients served over
    time (a crowd) or, with ``by_arrival=True``, the share of requests served within ``within_s``
    seconds, by the second they were sent (steady traffic: a user waits only so long; its time
    axis ends when the last request is sent, at ``spread_s``)."""
    from course.plotting import new_figure

    params = next(iter(runs.values()))["parameters"]
    duration, capacity, clients = params["duration_s"], params["capacity_rps"], params["clients"]
    fig1, ax1 = new_figure("Load on a recovering dependency", "time (s)", "attempts per second")
    for label, run in runs.items():
        t, rate = per_bin(run["attempt_times"], duration, bin_s)
        ax1.step(t, rate, where="post", label=label)
    ax1.axhline(capacity, color="grey", linestyle="--", linewidth=1.2, label=f"capacity {capacity:,.0f}/s")
    ax1.axvspan(*params["outage"], color="grey", alpha=0.12, label="dependency down")
    ax1.set_xlim(0, duration)
    ax1.legend(loc="upper right")
    if by_arrival:
        fig2, ax2 = new_figure(f"Requests served within {within_s:g} s, by when they were sent",
                               "time the request was sent (s)", f"served within {within_s:g} s (%)")
        for label, run in runs.items():
            starts = np.asarray(run["start_times"])
            in_time = [lat is not None and lat <= within_s for lat in run["latency_s"]]
            t, ok = per_bin(starts, duration, bin_s, weights=np.asarray(in_time, dtype=float))
            _, total = per_bin(starts, duration, bin_s)
            keep = total > 0
            ax2.step(t[keep], 100 * ok[keep] / total[keep], where="post", label=label)
    else:
        fig2, ax2 = new_figure("Clients served over time", "time (s)", "clients served (%)")
        for label, run in runs.items():
            done = np.sort(np.asarray(run["success_times"], dtype=float))
            grid = np.linspace(0, duration, 400)
            ax2.plot(grid, 100 * np.searchsorted(done, grid, side="right") / clients, label=label)
    ax2.axvspan(*params["outage"], color="grey", alpha=0.12, label="dependency down")
    ax2.set_xlim(0, min(duration, params["spread_s"]) if by_arrival else duration)
    ax2.set_ylim(-2, 102)
    ax2.legend(loc="lower right")
    return (fig1, ax1), (fig2, ax2)


# --------------------------------------------------------------------------- circuit breaker

def simulate_breaker(make_breaker: Callable | None, *, seed: int, rate_rps: float = 50.0,
                     duration_s: float = 120.0, fault: tuple[float, float] = (30.0, 80.0),
                     timeout_s: float = 1.0, latency_s: float = 0.02, fallback_s: float = 0.001) -> dict:
    """Callers send ``rate_rps`` requests per second (Poisson) to a dependency that hangs during
    ``fault = (start_s, end_s)``: a call then ends only at the caller's timeout of ``timeout_s``.
    Otherwise a call takes an exponential time with mean ``latency_s`` and succeeds.

    ``make_breaker(clock)`` builds a circuit breaker (``allow``, ``record_success``,
    ``record_failure``) on the simulated clock; None means no breaker. A call the breaker refuses
    is answered at once with a fallback (graceful degradation: a cached or default answer) in
    ``fallback_s``. Returns ``{"time": [...], "latency_s": [...], "outcome": [...]}`` per request
    (outcome ``"ok"``, ``"timeout"`` or ``"fallback"``), plus ``calls_during_fault``: how many
    calls were sent to the dependency while it hung.
    """
    sim = Simulation(seed)
    breaker = make_breaker(lambda: sim.now) if make_breaker is not None else None
    rows: list[tuple[float, float, str]] = []
    wasted = [0]

    def request(i: int):
        start = sim.now
        if breaker is not None and not breaker.allow():
            yield sim.timeout(fallback_s)
            rows.append((start, sim.now - start, "fallback"))
            return
        if fault[0] <= start < fault[1]:
            wasted[0] += 1
            yield sim.timeout(timeout_s)
            if breaker is not None:
                breaker.record_failure()
            rows.append((start, sim.now - start, "timeout"))
        else:
            yield sim.timeout(float(sim.rng.exponential(latency_s)))
            if breaker is not None:
                breaker.record_success()
            rows.append((start, sim.now - start, "ok"))

    poisson_arrivals(sim, rate_rps, lambda i: sim.process(request(i)), until=duration_s)
    sim.run()
    rows.sort()
    return {"time": [r[0] for r in rows], "latency_s": [r[1] for r in rows], "outcome": [r[2] for r in rows],
            "calls_during_fault": wasted[0], "fault": list(fault), "duration_s": duration_s,
            "timeout_s": timeout_s}


def plot_breaker(runs: dict[str, dict], bin_s: float = 2.0):
    """Two figures for labelled ``simulate_breaker`` results: mean latency per bin, and the calls
    per second sent to the dependency while it hangs (each one holds a caller for the timeout)."""
    from course.plotting import new_figure

    any_run = next(iter(runs.values()))
    duration = any_run["duration_s"]
    fig1, ax1 = new_figure("Caller latency while a dependency hangs", "time (s)", "mean latency (ms)")
    fig2, ax2 = new_figure("Calls sent to the hung dependency", "time (s)", "calls per second")
    for label, run in runs.items():
        t = np.asarray(run["time"])
        lat = np.asarray(run["latency_s"])
        starts, total = per_bin(t, duration, bin_s, weights=lat)
        _, count = per_bin(t, duration, bin_s)
        mean_ms = np.divide(1000 * total, count, out=np.zeros_like(total), where=count > 0)
        ax1.step(starts, mean_ms, where="post", label=label)
        timeouts = t[np.asarray(run["outcome"]) == "timeout"]
        s2, rate = per_bin(timeouts, duration, bin_s)
        ax2.step(s2, rate, where="post", label=f"{label}: {run['calls_during_fault']:,} calls wasted")
    for ax in (ax1, ax2):
        ax.axvspan(*any_run["fault"], color="grey", alpha=0.12, label="dependency hangs")
        ax.set_xlim(0, duration)
        ax.legend(loc="center right", fontsize=9)
    return (fig1, ax1), (fig2, ax2)


# --------------------------------------------------------------------------- rate limiters

def plot_limiters(requests: Sequence[Sequence], admitted: dict[str, Sequence[bool]], duration_s: float,
                  bin_s: float = 1.0, limit_rps: float | None = None):
    """Offered and admitted requests per second over time, one line per limiter, counted in bins of
    ``bin_s`` seconds from t = 0. With 1 s bins, a sliding window of ``limit`` per 1 s never shows more
    than ``limit`` in a bin; shorter bins would show its rate above the limit wherever it admitted
    most of a second's requests within half a second."""
    from course.plotting import new_figure

    times = np.array([r[0] for r in requests], dtype=float)
    fig, ax = new_figure("What each rate limiter admits from bursty traffic", "time (s)", "requests per second")
    t, offered = per_bin(times, duration_s, bin_s)
    ax.fill_between(t, offered, step="post", color="grey", alpha=0.25, label="offered")
    for label, flags in admitted.items():
        t2, rate = per_bin(times[np.asarray(flags, dtype=bool)], duration_s, bin_s)
        ax.step(t2, rate, where="post", label=label)
    if limit_rps is not None:
        ax.axhline(limit_rps, color="black", linestyle=":", linewidth=1.2, label=f"configured rate {limit_rps:g}/s")
    ax.set_xlim(0, duration_s)
    ax.legend(loc="upper left")
    return fig, ax


# --------------------------------------------------------------------------- bulkhead

def simulate_bulkhead(bulkhead, *, seed: int, workers: int = 40, rate_rps: float = 100.0,
                      duration_s: float = 60.0, slow: tuple[float, float] = (15.0, 45.0),
                      slow_latency_s: float = 2.0, latency_s: float = 0.02) -> dict:
    """A service with ``workers`` worker threads calls two dependencies, ``"payments"`` and
    ``"search"``, half of its ``rate_rps`` requests each. During ``slow = (start, end)`` payments
    takes ``slow_latency_s`` per call; otherwise each call takes an exponential time with mean
    ``latency_s``. A request that finds no free worker is refused at once (no queue).

    ``bulkhead`` is None (the naive shared pool) or an object with ``try_acquire(dep)`` and
    ``release(dep)``: a request it refuses is refused at once too. Returns per request
    ``time``, ``dependency`` and ``served`` (True or False).
    """
    sim = Simulation(seed)
    free = [workers]
    rows: list[tuple[float, str, bool]] = []

    def request(i: int):
        dep = "payments" if sim.rng.random() < 0.5 else "search"
        start = sim.now
        if free[0] == 0 or (bulkhead is not None and not bulkhead.try_acquire(dep)):
            rows.append((start, dep, False))
            return
        free[0] -= 1
        slow_now = dep == "payments" and slow[0] <= start < slow[1]
        yield sim.timeout(slow_latency_s if slow_now else float(sim.rng.exponential(latency_s)))
        free[0] += 1
        if bulkhead is not None:
            bulkhead.release(dep)
        rows.append((start, dep, True))

    poisson_arrivals(sim, rate_rps, lambda i: sim.process(request(i)), until=duration_s)
    sim.run()
    rows.sort()
    return {"time": [r[0] for r in rows], "dependency": [r[1] for r in rows], "served": [r[2] for r in rows],
            "slow": list(slow), "duration_s": duration_s}


def plot_bulkhead(runs: dict[str, dict], dependency: str = "search", bin_s: float = 2.0):
    """Share of ``dependency``'s requests served over time, one line per labelled run."""
    from course.plotting import new_figure

    any_run = next(iter(runs.values()))
    duration = any_run["duration_s"]
    fig, ax = new_figure(f"Requests to the healthy '{dependency}' dependency that were served",
                         "time (s)", "served (%)")
    for label, run in runs.items():
        mask = np.asarray(run["dependency"]) == dependency
        t = np.asarray(run["time"])[mask]
        served = np.asarray(run["served"])[mask].astype(float)
        starts, ok = per_bin(t, duration, bin_s, weights=served)
        _, all_ = per_bin(t, duration, bin_s)
        ax.step(starts, np.divide(100 * ok, all_, out=np.zeros_like(ok), where=all_ > 0), where="post", label=label)
    ax.axvspan(*any_run["slow"], color="grey", alpha=0.12, label="payments slow (2 s per call)")
    ax.set_xlim(0, duration)
    ax.set_ylim(-2, 105)
    ax.legend(loc="lower left")
    return fig, ax


# --------------------------------------------------------------------------- load shedding

def simulate_shedding(make_queue: Callable | None, *, seed: int, capacity_rps: float = 100.0,
                      rate_rps: float = 140.0, duration_s: float = 60.0, overload: tuple[float, float] = (10.0, 40.0),
                      calm_rps: float = 60.0, high_share: float = 0.3) -> dict:
    """One server handles ``capacity_rps`` requests per second (fixed service time), taking work
    from a queue. Arrivals are Poisson at ``calm_rps``, and ``rate_rps`` during ``overload``;
    a share ``high_share`` of them are high priority (priority 1, say checkout), the rest low
    (priority 0, say recommendations).

    ``make_queue()`` builds a queue with ``offer(request_id, priority) -> shed id or None`` and
    ``take() -> request id or None`` (the learner's shedder); None means an unbounded FIFO queue,
    the naive design. Returns per finished request ``time`` (arrival), ``priority`` and
    ``latency_s``, and the ids and priorities shed.
    """
    sim = Simulation(seed)
    service_s = 1.0 / capacity_rps
    queue = make_queue() if make_queue is not None else None
    fifo: list[int] = []
    info: dict[int, tuple[float, int]] = {}
    done: list[tuple[float, int, float]] = []
    shed: list[int] = []
    wake = [sim.env.event()]

    def arrivals():
        i = 0
        while True:
            rate = rate_rps if overload[0] <= sim.now < overload[1] else calm_rps
            gap = float(sim.rng.exponential(1.0 / rate))
            if sim.now + gap >= duration_s:
                return
            yield sim.timeout(gap)
            prio = 1 if sim.rng.random() < high_share else 0
            info[i] = (sim.now, prio)
            if queue is None:
                fifo.append(i)
            else:
                dropped = queue.offer(i, prio)
                if dropped is not None:
                    shed.append(int(dropped))
            if not wake[0].triggered:
                wake[0].succeed()
            i += 1

    def server():
        while True:
            nxt = (fifo.pop(0) if fifo else None) if queue is None else queue.take()
            if nxt is None:
                wake[0] = sim.env.event()
                yield wake[0]
                continue
            yield sim.timeout(service_s)
            arrived, prio = info[nxt]
            done.append((arrived, prio, sim.now - arrived))

    sim.process(arrivals())
    sim.process(server())
    sim.run(until=duration_s + 120.0)
    done.sort()
    return {"time": [d[0] for d in done], "priority": [d[1] for d in done], "latency_s": [d[2] for d in done],
            "shed": shed, "shed_priority": [info[s][1] for s in shed], "overload": list(overload),
            "duration_s": duration_s}


def plot_shedding(runs: dict[str, dict], bin_s: float = 2.0):
    """Mean latency of high- and low-priority requests over time (by arrival), per labelled run."""
    from course.plotting import PALETTE, new_figure

    any_run = next(iter(runs.values()))
    duration = any_run["duration_s"]
    fig, ax = new_figure("Latency during overload, by priority", "arrival time (s)", "mean latency (s, log scale)",
                         figsize=(7, 5))
    # high priority: a wide, pale line; low priority: a thin dashed line with markers on top of it, so
    # both stay visible where they coincide (the FIFO queue treats them alike)
    styles = {1: dict(linestyle="-", linewidth=5.0, alpha=0.4),
              0: dict(linestyle="--", linewidth=1.5, marker="o", markersize=3.5)}
    for colour, (label, run) in zip(PALETTE, runs.items()):
        t, prio, lat = (np.asarray(run[k]) for k in ("time", "priority", "latency_s"))
        for p, name in ((1, "high"), (0, "low")):
            mask = prio == p
            starts, total = per_bin(t[mask], duration, bin_s, weights=lat[mask])
            _, count = per_bin(t[mask], duration, bin_s)
            mean = np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)
            ax.step(starts, mean, where="post", color=colour, label=f"{label}, {name} priority", **styles[p])
    ax.axvspan(*any_run["overload"], color="grey", alpha=0.12, label="overload")
    ax.set_xlim(0, duration)
    ax.set_yscale("log")
    ax.set_ylim(0.005, 40)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=9)
    fig.subplots_adjust(bottom=0.3)
    return fig, ax
