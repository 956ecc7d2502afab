"""Reference models, seeded hidden-test scenarios and judges for 08-resilience.

The grader's truth, written independently of the solution notebook: each reference here is a
function of the whole scenario (a script, a request list) rather than a class, so it shares no
code with the notebook's classes. Scenario generators take ``(seed, n)`` and draw only from
``numpy.random.default_rng(seed)``; they return plain keyword-argument dicts for the drivers in
``course.resilience``. Judges take plain data and return None (acceptable) or a sentence saying
what is wrong.

Conventions stated in the notebook: times in seconds; a token balance counts as at least one
token when it is within ``SLACK`` of one (so 10 x 0.1 tokens buys a retry); scenario times are
multiples of 1/64 s and rates whole numbers, so the reference and any correct floating-point
method agree exactly.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

SLACK = 1e-9


# --------------------------------------------------------------------------- 1. backoff with full jitter

def backoff_bound(k: int, base_s: float, cap_s: float) -> float:
    """The largest delay allowed before retry k (counting from 0)."""
    return min(cap_s, base_s * 2.0 ** k)


def backoff_cases(seed: int, n: int = 12) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        base = float(rng.choice([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0]))
        cap = base * float(rng.choice([1, 3, 8, 20, 100, 1000]))
        cases.append({"retries": int(rng.integers(1, 13)), "base_s": base, "cap_s": cap,
                      "seeds": [int(s) for s in rng.integers(0, 2**31, size=120)]})
    return cases


def backoff_invalid_cases(seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    base = float(rng.uniform(0.1, 1.0))
    return [{"retries": -1, "base_s": base, "cap_s": 10.0, "seed": 1},
            {"retries": 3, "base_s": 0.0, "cap_s": 10.0, "seed": 1},
            {"retries": 3, "base_s": -base, "cap_s": 10.0, "seed": 1},
            {"retries": 3, "base_s": base, "cap_s": base / 2, "seed": 1}]


def backoff_judge(retries: int, base_s: float, cap_s: float):
    """A judge for ``backoff_runs`` output: bounds, full jitter, seed dependence, replay."""

    def judge(result) -> str | None:
        runs, replay = result["runs"], result["replay"]
        for i, run in enumerate(runs):
            if len(run) != retries:
                return f"run {i} has {len(run)} delays; expected one per retry ({retries})"
            for k, d in enumerate(run):
                bound = backoff_bound(k, base_s, cap_s)
                if not (-SLACK <= d <= bound * (1 + SLACK) + SLACK):
                    return (f"delay before retry {k} is {d!r} s, outside [0, min(cap_s, base_s * 2**{k})] = "
                            f"[0, {bound:g}] s (run {i})")
        if replay != runs[0]:
            return "the same seed gave different delays on a second call: use only a generator made from `seed`"
        if len({tuple(r) for r in runs}) < max(2, len(runs) // 2):
            return f"only {len({tuple(r) for r in runs})} different delay lists from {len(runs)} seeds: delays must depend on the seed"
        fractions = np.array([[d / backoff_bound(k, base_s, cap_s) for k, d in enumerate(r)] for r in runs])
        for k in range(retries):
            column = fractions[:, k]
            mean = float(column.mean())
            if not 0.38 <= mean <= 0.62:
                return (f"retry {k}: delays average {mean:.2f} of their bound over {len(runs)} seeds; full jitter "
                        "(uniform between 0 and the bound) averages 0.5")
            if column.min() > 0.15 or column.max() < 0.85:
                return (f"retry {k}: delays stay between {column.min():.2f} and {column.max():.2f} of the bound; "
                        "full jitter spreads them over the whole range from 0 to the bound")
        return None

    return judge


# --------------------------------------------------------------------------- 2. retry budget

def retry_budget(ratio: float, max_tokens: float, ops: list[str]) -> list:
    """The answers a retry budget gives to a sequence of "request" and "retry" operations."""
    if not 0 < ratio <= 1 or max_tokens < 1:
        raise ValueError("need 0 < ratio <= 1 and max_tokens >= 1")
    tokens, out = float(max_tokens), []
    for op in ops:
        if op == "request":
            tokens = min(float(max_tokens), tokens + ratio)
            out.append(None)
        elif tokens >= 1 - SLACK:
            tokens -= 1
            out.append(True)
        else:
            out.append(False)
    return out


def retry_budget_cases(seed: int, n: int = 60) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        ratio = float(rng.choice([0.05, 0.1, 0.2, 0.25, 0.5, 1.0]))
        max_tokens = int(rng.integers(1, 8))
        retry_share = float(rng.uniform(0.02, 0.6))
        ops = ["retry" if rng.random() < retry_share else "request" for _ in range(int(rng.integers(5, 120)))]
        cases.append({"kwargs": {"ratio": ratio, "max_tokens": max_tokens}, "ops": ops})
    return cases


# --------------------------------------------------------------------------- 3. circuit breaker

def breaker_model(script: list, failure_rate=0.5, window=10, min_calls=5, open_s=30.0, probes=1) -> list:
    """What ``course.resilience.run_breaker`` records for a correct breaker on ``script``."""
    if not 0 < failure_rate <= 1 or window < 1 or not 1 <= min_calls <= window or open_s <= 0 or probes < 1:
        raise ValueError("invalid breaker parameters")
    m = {"now": 0.0, "mode": "closed", "opened_at": 0.0, "trials": 0, "good": 0, "recent": deque(maxlen=window)}

    def state() -> str:
        if m["mode"] == "open" and m["now"] - m["opened_at"] >= open_s:
            m.update(mode="half_open", trials=0, good=0)
        return m["mode"]

    def trip() -> None:
        m.update(mode="open", opened_at=m["now"], trials=0, good=0)
        m["recent"].clear()

    def admit() -> bool:
        current = state()
        if current == "closed":
            return True
        if current == "half_open" and m["trials"] < probes:
            m["trials"] += 1
            return True
        return False

    def report(outcome: str) -> None:
        current = state()
        if current == "open":
            return  # a late answer from a call admitted before the breaker opened
        if current == "half_open":
            if outcome == "fail":
                trip()
            else:
                m["good"] += 1
                if m["good"] >= probes:
                    m.update(mode="closed")
                    m["recent"].clear()
            return
        recent = m["recent"]
        recent.append(outcome == "fail")
        if len(recent) >= min_calls and sum(recent) >= failure_rate * len(recent):
            trip()

    out = []
    for step in script:
        if step[0] == "wait":
            m["now"] += step[1]
            out.append(["wait", state()])
        elif step[0] == "call":
            if admit():
                report(step[1])
                out.append([step[1], state()])
            else:
                out.append(["rejected", state()])
        elif step[0] == "late":  # the outcome of a call admitted earlier
            report(step[1])
            out.append(["late", state()])
        else:
            admitted = sum(admit() for _ in range(step[1]))
            for _ in range(admitted):
                report(step[2])
            out.append(["burst", admitted, state()])
    return out


def breaker_cases(seed: int, n: int = 40) -> list[dict]:
    """Random scripts of calls, bursts of simultaneous calls and waits. Waits are whole seconds,
    often exactly the open time, so the boundary "open_s seconds after opening" is exercised."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        window = int(rng.integers(2, 12))
        kwargs = {"failure_rate": float(rng.choice([0.25, 0.5, 0.75, 1.0])), "window": window,
                  "min_calls": int(rng.integers(1, window + 1)), "open_s": float(rng.integers(2, 20)),
                  "probes": int(rng.integers(1, 4))}
        fail_p = float(rng.uniform(0.1, 0.9))
        script = []
        for _ in range(int(rng.integers(20, 70))):
            u = rng.random()
            if u < 0.15:
                choice = rng.random()
                wait = kwargs["open_s"] if choice < 0.3 else (kwargs["open_s"] - 1 if choice < 0.45 else float(rng.integers(1, 8)))
                script.append(["wait", float(wait)])
            elif u < 0.25:
                script.append(["burst", int(rng.integers(1, 6)), "fail" if rng.random() < fail_p else "ok"])
            else:
                script.append(["call", "fail" if rng.random() < fail_p else "ok"])
        cases.append({"kwargs": kwargs, "script": script})
    return cases


def breaker_invalid_kwargs() -> list[dict]:
    return [{"failure_rate": 0.0}, {"failure_rate": 1.5}, {"window": 0}, {"min_calls": 0},
            {"window": 4, "min_calls": 5}, {"open_s": 0.0}, {"probes": 0}]


# --------------------------------------------------------------------------- 4. bulkhead

def bulkhead_model(limits: dict, ops: list) -> list:
    """What ``course.resilience.run_bulkhead`` records for a correct bulkhead."""
    busy = dict.fromkeys(limits, 0)
    out = []
    for kind, dep in ops:
        if dep not in limits:
            out.append("ValueError")
        elif kind == "in_flight":
            out.append(busy[dep])
        elif kind == "acquire":
            ok = busy[dep] < limits[dep]
            busy[dep] += ok
            out.append(ok)
        elif busy[dep] == 0:
            out.append("ValueError")
        else:
            busy[dep] -= 1
            out.append(busy[dep])
    return out


def bulkhead_cases(seed: int, n: int = 40) -> list[dict]:
    rng = np.random.default_rng(seed)
    names = ["payments", "search", "profile", "ads"]
    cases = []
    for _ in range(n):
        deps = names[: int(rng.integers(1, 5))]
        limits = {d: int(rng.integers(1, 6)) for d in deps}
        ops = []
        for _ in range(int(rng.integers(10, 80))):
            dep = deps[int(rng.integers(len(deps)))] if rng.random() > 0.03 else "unknown"
            ops.append(["acquire" if rng.random() < 0.6 else "release", dep])
        cases.append({"limits": limits, "ops": ops})
    return cases


def bulkhead_threads_judge(limits: dict):
    """A judge for ``course.resilience.hammer_bulkhead``: never more calls inside than the limit, and
    the count back to 0 (no lost update, no ``release`` refused) once every call has finished."""
    unlocked = " (threads interleaved between reading the count and writing it back: hold a lock around both)"

    def judge(result) -> str | None:
        for dep, limit in limits.items():
            if result["max_inside"][dep] > limit:
                return (f"{result['max_inside'][dep]} calls to {dep!r} were inside at once; the limit is {limit}"
                        + unlocked)
        if result.get("release_errors"):
            return (f"release raised ValueError {result['release_errors']} times for a call that had been admitted: "
                    "the count lost an update" + unlocked)
        for dep, limit in limits.items():
            if result["in_flight_after"][dep] != 0:
                return (f"after every call finished, in_flight({dep!r}) is {result['in_flight_after'][dep]}, not 0: "
                        "the count lost an update" + unlocked)
            if result["admitted"][dep] == 0:
                return f"no call to {dep!r} was ever admitted"
        return None

    return judge


# --------------------------------------------------------------------------- 5 and 6. rate limiters

def token_bucket(rate: float, burst: float, requests: list) -> list[bool]:
    """Per-key token buckets: full at first sight of a key, refilled at ``rate`` per second."""
    if rate <= 0 or burst < 1:
        raise ValueError("need rate > 0 and burst >= 1")
    buckets: dict[str, tuple[float, float]] = {}
    out = []
    for when, key in requests:
        tokens, last = buckets.get(key, (float(burst), when))
        tokens = min(float(burst), tokens + (when - last) * rate)
        ok = tokens >= 1 - SLACK
        buckets[key] = (tokens - 1 if ok else tokens, when)
        out.append(ok)
    return out


def sliding_window(limit: int, window_s: float, requests: list) -> list[bool]:
    """Per-key sliding-window log: admit if fewer than ``limit`` admitted in (t - window_s, t]."""
    if limit < 1 or window_s <= 0:
        raise ValueError("need limit >= 1 and window_s > 0")
    admitted: dict[str, list[float]] = {}
    out = []
    for when, key in requests:
        recent = [t for t in admitted.get(key, []) if t > when - window_s]
        ok = len(recent) < limit
        if ok:
            recent.append(when)
        admitted[key] = recent
        out.append(ok)
    return out


def _grid(rng, low, high):
    """A time on the 1/64 s grid, so sums and differences of times are exact in floating point."""
    return float(rng.integers(int(low * 64), int(high * 64))) / 64


def limiter_requests(rng, keys=("alice", "bob", "carol"), duration_s=20.0, n=None) -> list[list]:
    n = n or int(rng.integers(30, 250))
    mode = rng.random()
    times = sorted(_grid(rng, 0, duration_s) for _ in range(n))
    if mode < 0.3:  # a burst packed into one short stretch
        start = _grid(rng, 0, duration_s - 2)
        times = sorted(times[: n // 2] + [start + float(rng.integers(0, 64)) / 64 for _ in range(n - n // 2)])
    weights = rng.dirichlet(np.ones(len(keys)))
    return [[t, str(keys[int(rng.choice(len(keys), p=weights))])] for t in times]


def token_bucket_cases(seed: int, n: int = 40) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"kwargs": {"rate": float(rng.integers(1, 16)), "burst": int(rng.integers(1, 12))},
             "requests": limiter_requests(rng)} for _ in range(n)]


def sliding_window_cases(seed: int, n: int = 40) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"kwargs": {"limit": int(rng.integers(1, 12)), "window_s": float(rng.choice([0.5, 1.0, 2.0, 5.0]))},
             "requests": limiter_requests(rng)} for _ in range(n)]


def steady_and_noisy(rng, steady_rps: float, noisy_rps: float, duration_s: float = 20.0) -> list[list]:
    """A steady client (evenly spaced, on the 1/64 s grid) and a noisy one at random times."""
    gap = math.ceil(64 / steady_rps) / 64
    steady = [[round(k * gap, 9), "steady"] for k in range(1, int(duration_s / gap))]
    noisy = [[_grid(rng, 0, duration_s), "noisy"] for _ in range(int(noisy_rps * duration_s))]
    return sorted(steady + noisy, key=lambda r: (r[0], r[1]))


def admits_within(requests: list, rate: float, burst: float, steady_key: str | None = None):
    """A judge for a list of admit flags: per key, admitted requests in every interval [a, b]
    number at most ``burst + rate * (b - a)``; ``steady_key`` (sending under the rate) is never
    refused."""

    def judge(flags) -> str | None:
        if len(flags) != len(requests):
            return f"expected one answer per request ({len(requests)}), got {len(flags)}"
        if any(type(f) is not bool for f in flags):
            return "allow(key) must return True or False"
        by_key: dict[str, list[float]] = {}
        for (when, key), ok in zip(requests, flags):
            if ok:
                by_key.setdefault(key, []).append(when)
            elif key == steady_key:
                return f"the steady client {steady_key!r}, under the limit, was refused at t={when} s"
        for key, times in by_key.items():
            for i in range(len(times)):
                for j in range(i, len(times)):
                    allowed = burst + rate * (times[j] - times[i])
                    if j - i + 1 > allowed + 1e-6:
                        return (f"key {key!r}: {j - i + 1} requests admitted between t={times[i]} s and "
                                f"t={times[j]} s; at most burst + rate x interval = {allowed:g} may pass")
        return None

    return judge


def and_exactly(property_judge, expected: list, requests: list | None = None):
    """A judge: ``property_judge`` accepts the flags, and they are exactly ``expected`` (the
    contract's answers to ``requests``). One driver run serves both checks (each run costs two calls
    into the learner's process per request when grading)."""

    def judge(flags) -> str | None:
        problem = property_judge(flags)
        if problem:
            return problem
        for i, (got, want) in enumerate(zip(flags, expected)):
            if got != want:
                where = f" (t={requests[i][0]} s, key {requests[i][1]!r})" if requests else ""
                return (f"request {i} of {len(expected)}{where}: expected {want}, got {got}; every earlier answer "
                        "was right")
        return None

    return judge


def window_within(requests: list, limit: int, window_s: float, steady_key: str | None = None):
    """A judge: per key, at most ``limit`` admitted in any window (t - window_s, t]; the steady key
    is never refused."""

    def judge(flags) -> str | None:
        if len(flags) != len(requests) or any(type(f) is not bool for f in flags):
            return f"expected True or False for each of the {len(requests)} requests"
        by_key: dict[str, list[float]] = {}
        for (when, key), ok in zip(requests, flags):
            if ok:
                by_key.setdefault(key, []).append(when)
            elif key == steady_key:
                return f"the steady client {steady_key!r}, under the limit, was refused at t={when} s"
        for key, times in by_key.items():
            for j in range(len(times)):
                inside = sum(1 for t in times[: j + 1] if t > times[j] - window_s)
                if inside > limit:
                    return (f"key {key!r}: {inside} requests admitted in the {window_s:g} s window ending at "
                            f"t={times[j]} s; the limit is {limit}")
        return None

    return judge


# --------------------------------------------------------------------------- 7. idempotency

def idempotency_model(ops: list) -> dict:
    """What ``course.resilience.run_idempotency`` records for a correct store.

    The contract: a key is bound to the payload of its first call, even when that call's handler
    raised (a later call with another payload raises ValueError); a result is stored only when the
    handler returned, so a retry with the same payload after a crash runs the handler again."""
    first_payload: dict[str, object] = {}
    stored: dict[str, str] = {}
    effects, results = [], []
    for key, payload, outcome in ops:
        if key in first_payload and first_payload[key] != payload:
            results.append("ValueError")
            continue
        first_payload.setdefault(key, payload)
        if key in stored:
            results.append(stored[key])
        elif outcome == "crash":
            results.append("RuntimeError")
        else:
            effects.append([key, payload])
            stored[key] = f"receipt-{len(effects)}"
            results.append(stored[key])
    return {"results": results, "effects": effects}


def idempotency_cases(seed: int, n: int = 60) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        keys = [f"k{i}" for i in range(int(rng.integers(1, 6)))]
        payloads = {k: {"amount": int(rng.integers(1, 500)), "to": str(rng.choice(["ann", "ben", "cy"]))} for k in keys}
        ops = []
        for _ in range(int(rng.integers(3, 30))):
            key = keys[int(rng.integers(len(keys)))]
            payload = dict(payloads[key])
            if rng.random() < 0.1 and any(op[0] == key for op in ops):
                payload["amount"] += 1  # the same key reused for a different request
            ops.append([key, payload, "crash" if rng.random() < 0.15 else "ok"])
        cases.append({"ops": ops})
    return cases


def exactly_once_judge(keys: list[str]):
    def judge(result) -> str | None:
        if result["errors"]:
            return f"a concurrent call raised {result['errors'][0]}"
        for key in keys:
            if result["effects"][key] != 1:
                return (f"key {key!r}: the handler ran {result['effects'][key]} times for requests sent at the same "
                        "moment; it must run exactly once (the others wait and get the stored result)")
            if len(result["results"][key]) != 1:
                return f"key {key!r}: callers got different results {result['results'][key]}; all must get the same"
        return None

    return judge


def independent_keys_judge(keys: list[str], work_s: float, share: float = 0.6):
    """A judge for ``concurrent_idempotency`` with one thread per key: every key's handler ran once,
    and the calls took well under the time they take one after another (``len(keys) * work_s``):
    at most ``share`` of it. A correct store takes about ``work_s``; one lock held while any handler
    runs takes the full ``len(keys) * work_s``."""
    serial = len(keys) * work_s
    limit = share * serial

    def judge(result) -> str | None:
        problem = exactly_once_judge(keys)(result)
        if problem:
            return problem
        if result["elapsed_s"] >= limit:
            return (f"{len(keys)} calls with different keys, each handler taking {work_s:g} s, took "
                    f"{result['elapsed_s']:.2f} s together (one after another they take {serial:.2f} s; at the same "
                    f"time, about {work_s:g} s): calls with different keys waited for each other (hold a lock per "
                    "key while the handler runs, not one for the whole store)")
        return None

    return judge


# --------------------------------------------------------------------------- 8. load shedding

def shedder_model(capacity: int, ops: list) -> list:
    """What ``course.resilience.run_shedder`` records for a correct priority shedder."""
    if capacity < 1:
        raise ValueError("capacity must be >= 1")
    queue: list[tuple[int, int, object]] = []  # (priority, arrival number, id)
    out, arrivals = [], 0
    for op in ops:
        if op[0] == "offer":
            queue.append((op[2], arrivals, op[1]))
            arrivals += 1
            if len(queue) > capacity:
                victim = min(queue, key=lambda e: (e[0], -e[1]))
                queue.remove(victim)
                out.append(victim[2])
            else:
                out.append(None)
        else:
            if not queue:
                out.append(None)
                continue
            best = max(queue, key=lambda e: (e[0], -e[1]))
            queue.remove(best)
            out.append(best[2])
    return out


def shedder_cases(seed: int, n: int = 60) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        capacity = int(rng.integers(1, 8))
        levels = int(rng.integers(1, 5))
        ops, next_id = [], 0
        for _ in range(int(rng.integers(5, 80))):
            if rng.random() < 0.65:
                ops.append(["offer", f"r{next_id}", int(rng.integers(0, levels))])
                next_id += 1
            else:
                ops.append(["take"])
        cases.append({"capacity": capacity, "ops": ops})
    return cases


# =========================================================================== contracts (issue 17)
# Every graded function and class, with each rule the exercise states. Classes are checked through their
# ``course.resilience`` driver: the contract's reference is a reference driver with the same signature,
# and the test cell supplies the learner's class (and the clock class, which must live next to it).

from autograde.contracts import OMIT, Contract, Rule, at_least, boundary, edge, greater_than, log_uniform  # noqa: E402


def backoff_check(fn, retries, base_s, cap_s, seed):
    """What ``course.resilience.backoff_check`` gives for a correct ``backoff_delays`` (``fn`` is ignored)."""
    if retries < 0 or base_s <= 0 or cap_s < base_s:
        raise ValueError("need retries >= 0 and 0 < base_s <= cap_s")
    return {"delays": retries, "outside_bounds": [], "replays": True, "another_seed_differs": retries > 0}


def _backoff_draw(rng):
    base = float(f"{log_uniform(rng, 0.001, 5.0):.4g}")
    roll = rng.random()
    cap = base if roll < 0.1 else base * 2 ** int(rng.integers(1, 8)) if roll < 0.4 else \
        float(f"{base * log_uniform(rng, 1.0, 1000.0):.4g}")
    return {"retries": int(rng.integers(0, 16)), "base_s": base, "cap_s": max(cap, base),
            "seed": int(rng.integers(0, 2**31))}


BACKOFF_RULES = [
    at_least("retries", 0),
    greater_than("base_s", 0.0, step=0.001, says="`base_s` > 0, else `ValueError`"),
    Rule("`cap_s` >= `base_s`, else `ValueError`", at={"base_s": 0.5, "cap_s": 0.5},
         inside={"base_s": 0.5, "cap_s": 0.501}, outside=[{"base_s": 0.5, "cap_s": 0.499}, {"base_s": 2.0, "cap_s": 1.0}]),
    boundary("the bound before retry k is `min(cap_s, base_s * 2**k)`: it reaches the cap exactly at some k",
             at={"retries": 6, "base_s": 0.25, "cap_s": 1.0}, inside={"retries": 6, "base_s": 0.25, "cap_s": 1.01},
             outside={"retries": 6, "base_s": 0.25, "cap_s": 0.99}),
    edge("`retries` = 0 is an empty list", {"retries": 0}),
    edge("the same seed gives the same list; another seed, another list", {"retries": 3, "seed": 0},
         {"retries": 1, "seed": 2**31 - 2}),
]


def run_budget(cls, kwargs, ops):
    """What ``course.resilience.run_budget`` records for a correct budget (``cls`` is ignored)."""
    return retry_budget(ops=list(ops), **{"ratio": 0.1, "max_tokens": 10, **kwargs})


def _budget_ops(rng, n=None):
    share = float(rng.uniform(0.02, 0.7))
    return ["retry" if rng.random() < share else "request" for _ in range(int(rng.integers(1, 150)) if n is None else n)]


def _budget_draw(rng):
    roll = rng.random()
    ratio = 1.0 if roll < 0.1 else float(rng.choice([0.05, 0.1, 0.2, 0.25, 0.5])) if roll < 0.5 else \
        round(float(rng.uniform(0.01, 1.0)), 3)
    kwargs = {"ratio": ratio, "max_tokens": int(rng.integers(1, 21))}
    if rng.random() < 0.1:
        kwargs = {}
    return {"kwargs": kwargs, "ops": _budget_ops(rng)}


_DRAIN = ["retry"] * 3


def _kw_rule(says, name, at, inside, outside, base):
    return Rule(says, at=[{"kwargs": {**base, name: v}} for v in at], inside=[{"kwargs": {**base, name: v}} for v in inside],
                outside=[{"kwargs": {**base, name: v}} for v in outside])


BUDGET_RULES = [
    _kw_rule("`0 < ratio <= 1`, else `ValueError` from the constructor", "ratio", [1.0], [0.99, 0.01],
             [0.0, -0.1, 1.01], {"max_tokens": 3}),
    _kw_rule("`max_tokens >= 1`, else `ValueError` from the constructor", "max_tokens", [1], [2], [0, -1, 0.5],
             {"ratio": 0.5}),
    boundary("a balance of exactly one token (also ten deposits of 0.1, `>= 1 - 1e-9`) buys a retry",
             at={"kwargs": {"ratio": 0.1, "max_tokens": 2}, "ops": _DRAIN + ["request"] * 10 + ["retry", "retry"]},
             inside={"kwargs": {"ratio": 0.1, "max_tokens": 2}, "ops": _DRAIN + ["request"] * 11 + ["retry", "retry"]},
             outside={"kwargs": {"ratio": 0.1, "max_tokens": 2}, "ops": _DRAIN + ["request"] * 9 + ["retry"]}),
    edge("the balance starts full and never holds more than `max_tokens`",
         {"kwargs": {"ratio": 1.0, "max_tokens": 3}, "ops": ["request"] * 20 + ["retry"] * 4},
         {"kwargs": {"ratio": 0.5, "max_tokens": 1}, "ops": ["retry", "retry", "request", "request", "retry", "retry"]}),
    edge("`ratio` and `max_tokens` default to 0.1 and 10", {"kwargs": {}, "ops": ["retry"] * 11 + ["request"] * 10 + ["retry"] * 2}),
]


def run_breaker(cls, kwargs, script, clock_class=None):
    """What ``course.resilience.run_breaker`` records for a correct breaker (``cls`` and the clock are ignored)."""
    return breaker_model(list(script), **kwargs)


def _breaker_script(rng, kwargs, length=None):
    open_s = kwargs.get("open_s", 30.0)
    fail_p = float(rng.uniform(0.05, 0.95))
    script = []
    for _ in range(int(rng.integers(1, 50)) if length is None else length):
        u = rng.random()
        if u < 0.15:
            choice = rng.random()
            wait = open_s if choice < 0.3 else (max(open_s - 1 / 64, 1 / 64) if choice < 0.45 else
                                                float(rng.integers(1, 8 * 64)) / 64)
            script.append(["wait", float(wait)])
        elif u < 0.25:
            script.append(["burst", int(rng.integers(1, 6)), "fail" if rng.random() < fail_p else "ok"])
        else:
            script.append(["call", "fail" if rng.random() < fail_p else "ok"])
    return script


def _breaker_draw(rng):
    window = int(rng.integers(1, 25))
    kwargs = {"failure_rate": float(rng.choice([0.1, 0.25, 1 / 3, 0.5, 0.6, 0.75, 1.0])), "window": window,
              "min_calls": int(rng.integers(1, window + 1)), "open_s": float(rng.integers(1, 40 * 64)) / 64,
              "probes": int(rng.integers(1, 5))}
    if rng.random() < 0.1:
        kwargs = {}
    return {"kwargs": kwargs, "script": _breaker_script(rng, kwargs)}


_BK = {"failure_rate": 0.5, "window": 4, "min_calls": 4, "open_s": 10.0, "probes": 2}
_TRIP = [["call", "ok"], ["call", "fail"], ["call", "ok"], ["call", "fail"]]  # 2 of 4 failed: opens at 0.5


def _bk(**over):
    return {**_BK, **over}


BREAKER_RULES = [
    _kw_rule("`0 < failure_rate <= 1`, else `ValueError`", "failure_rate", [1.0], [0.99, 0.01], [0.0, -0.5, 1.01], _BK),
    _kw_rule("`window >= 1`, else `ValueError`", "window", [1], [2], [0, -1], {**_BK, "min_calls": 1}),
    _kw_rule("`1 <= min_calls <= window`, else `ValueError`", "min_calls", [1, 4], [2, 3], [0, 5], _BK),
    _kw_rule("`open_s > 0`, else `ValueError`", "open_s", [1 / 64], [1.0], [0.0, -1.0], _BK),
    _kw_rule("`probes >= 1`, else `ValueError`", "probes", [1], [2], [0, -1], _BK),
    boundary("closed: it opens when at least `min_calls` outcomes are kept and the failure fraction is at least "
             "`failure_rate`",
             at={"kwargs": _bk(), "script": _TRIP + [["call", "ok"]]},
             inside={"kwargs": _bk(), "script": _TRIP[:3] + [["call", "fail"], ["call", "fail"]]},
             outside={"kwargs": _bk(failure_rate=0.51), "script": _TRIP + [["call", "fail"], ["call", "ok"]]}),
    boundary("`min_calls` outcomes must be kept before it can open",
             at={"kwargs": _bk(min_calls=3), "script": [["call", "fail"]] * 3},
             inside={"kwargs": _bk(min_calls=3), "script": [["call", "fail"]] * 4},
             outside={"kwargs": _bk(min_calls=3), "script": [["call", "fail"]] * 2 + [["call", "ok"]] * 3}),
    boundary("the last `window` outcomes are kept, older ones forgotten",
             at={"kwargs": _bk(window=3, min_calls=3, failure_rate=0.6),
                 "script": [["call", "ok"]] * 3 + [["call", "fail"], ["call", "fail"]]},
             inside={"kwargs": _bk(window=3, min_calls=3, failure_rate=0.6),
                     "script": [["call", "ok"], ["call", "fail"], ["call", "fail"]]},
             outside={"kwargs": _bk(window=3, min_calls=3, failure_rate=0.6),
                      "script": [["call", "fail"], ["call", "fail"], ["call", "ok"], ["call", "ok"], ["call", "fail"]]}),
    boundary("open: half-open exactly `open_s` after opening, also with no call (the state is as of `clock()`)",
             at={"kwargs": _bk(), "script": _TRIP + [["wait", 10.0]]},
             inside={"kwargs": _bk(), "script": _TRIP + [["wait", 10.0 - 1 / 64], ["call", "ok"], ["wait", 1 / 64]]},
             outside={"kwargs": _bk(), "script": _TRIP + [["wait", 10.0 + 1 / 64], ["call", "ok"]]}),
    boundary("half-open: at most `probes` trials; it closes once `probes` trials succeeded; any failure opens it "
             "again, from now",
             at={"kwargs": _bk(), "script": _TRIP + [["wait", 10.0], ["burst", 3, "ok"], ["call", "fail"]]},
             inside={"kwargs": _bk(), "script": _TRIP + [["wait", 10.0], ["call", "ok"], ["call", "ok"], ["call", "ok"]]},
             outside={"kwargs": _bk(), "script": _TRIP + [["wait", 10.0], ["call", "ok"], ["call", "fail"],
                                                           ["wait", 9.0], ["call", "ok"], ["wait", 1.0], ["call", "ok"]]}),
    edge("an outcome reported while it is open is ignored (a late answer from a call admitted before it opened)",
         {"kwargs": _bk(probes=1), "script": _TRIP[:3] + [["burst", 3, "fail"], ["wait", 10.0], ["call", "ok"]]},
         {"kwargs": _bk(probes=1), "script": _TRIP + [["wait", 5.0], ["late", "fail"], ["wait", 5.0], ["call", "ok"]]},
         {"kwargs": _bk(min_calls=1, window=1), "script": [["call", "fail"], ["wait", 3.0], ["late", "ok"],
                                                          ["late", "fail"], ["wait", 7.0]]}),
    edge("closing forgets the outcomes kept before", {"kwargs": _bk(probes=1), "script": _TRIP + [
        ["wait", 10.0], ["call", "ok"], ["call", "fail"], ["call", "ok"], ["call", "fail"], ["call", "ok"]]}),
    edge("the defaults are `failure_rate=0.5, window=10, min_calls=5, open_s=30.0, probes=1`",
         {"kwargs": {}, "script": [["call", "fail"]] * 5 + [["wait", 29.0], ["call", "ok"], ["wait", 1.0], ["call", "ok"]]},
         {"kwargs": {}, "script": [["call", "fail"]] + [["call", "ok"]] * 5 + [["call", "fail"]] * 4},  # 5 of 10
         {"kwargs": {}, "script": [["call", "ok"]] * 6 + [["call", "fail"]] * 5}),  # 5 of the last 10
]


def run_bulkhead(cls, limits, ops):
    """What ``course.resilience.run_bulkhead`` records for a correct bulkhead (``cls`` is ignored)."""
    if any(limit < 1 for limit in limits.values()):
        raise ValueError("every limit must be at least 1")
    return bulkhead_model(limits, [list(op) for op in ops])


_DEPS = ["payments", "search", "profile", "ads", "Search", "café", "inventory", "email", "auth", "cart", "tax", "geo"]


def _bulkhead_draw(rng):
    deps = [str(d) for d in rng.choice(_DEPS, size=int(rng.integers(1, len(_DEPS) + 1)), replace=False)]
    limits = {d: int(rng.integers(1, 13)) for d in deps}
    acquire = float(rng.uniform(0.3, 0.9))
    ops = []
    for _ in range(int(rng.integers(1, 100))):
        dep = str(rng.choice(deps)) if rng.random() > 0.04 else str(rng.choice(["unknown", "PAYMENTS", ""]))
        ops.append(["in_flight" if rng.random() < 0.1 else "acquire" if rng.random() < acquire else "release", dep])
    return {"limits": limits, "ops": ops}


BULKHEAD_RULES = [
    Rule("every limit is at least 1, else `ValueError` from the constructor",
         at={"limits": {"a": 1, "b": 3}, "ops": [["acquire", "a"], ["acquire", "a"]]},
         inside={"limits": {"a": 2}, "ops": [["acquire", "a"]]},
         outside=[{"limits": {"a": 0}, "ops": []}, {"limits": {"a": 2, "b": -1}, "ops": []}]),
    boundary("`try_acquire` returns `True` while fewer than the limit are in flight, `False` at the limit",
             at={"limits": {"a": 2, "b": 1}, "ops": [["acquire", "a"]] * 3 + [["acquire", "b"]] * 2},
             inside={"limits": {"a": 2}, "ops": [["acquire", "a"], ["release", "a"], ["acquire", "a"], ["acquire", "a"]]},
             outside={"limits": {"a": 2}, "ops": [["acquire", "a"]] * 4 + [["release", "a"], ["acquire", "a"]]}),
    edge("a dependency not in `limits` is a `ValueError` (names are matched exactly: `Search` is not `search`)",
         {"limits": {"search": 1}, "ops": [["acquire", "Search"], ["release", "SEARCH"], ["acquire", "search"]]}),
    edge("`in_flight` counts the calls in flight (also a `ValueError` for an unknown dependency)",
         {"limits": {"a": 2}, "ops": [["in_flight", "a"], ["acquire", "a"], ["in_flight", "a"], ["in_flight", "b"],
                                      ["in_flight", "A"]]}),
    edge("`release` with nothing in flight is a `ValueError`, and changes nothing",
         {"limits": {"a": 1}, "ops": [["release", "a"], ["acquire", "a"], ["release", "a"], ["release", "a"],
                                      ["acquire", "a"]]}),
    edge("limits of 1 (each dependency's count is its own)",
         {"limits": {"a": 1, "b": 1}, "ops": [["acquire", "a"], ["acquire", "b"], ["acquire", "a"], ["release", "b"],
                                              ["acquire", "b"]]}),
]


def run_limiter_tb(cls, kwargs, requests, clock_class=None):
    """What ``course.resilience.run_limiter`` records for a correct token bucket."""
    return token_bucket(requests=[list(r) for r in requests], **kwargs)


def run_limiter_sw(cls, kwargs, requests, clock_class=None):
    """What ``course.resilience.run_limiter`` records for a correct sliding-window limiter."""
    return sliding_window(requests=[list(r) for r in requests], **kwargs)


_KEYS = ("alice", "bob", "carol", "Alice", "zoë", "k10", "k2", "dan", "eve", "fay", "gus", "hal")


def _requests_draw(rng):
    keys = tuple(str(k) for k in rng.choice(_KEYS, size=int(rng.integers(1, len(_KEYS) + 1)), replace=False))
    return limiter_requests(rng, keys=keys, duration_s=float(rng.choice([3.0, 5.0, 20.0, 60.0])),
                            n=int(rng.integers(1, 80)))


def _tb_draw(rng):
    rate = float(rng.integers(1, 21)) if rng.random() < 0.7 else float(rng.choice([0.25, 0.5, 1.5, 100.0]))
    return {"kwargs": {"rate": rate, "burst": int(rng.integers(1, 16))}, "requests": _requests_draw(rng)}


def _sw_draw(rng):
    return {"kwargs": {"limit": int(rng.integers(1, 16)),
                       "window_s": float(rng.choice([1 / 64, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0]))},
            "requests": _requests_draw(rng)}


TB_RULES = [
    _kw_rule("`rate > 0`, else `ValueError`", "rate", [1 / 64], [1.0], [0.0, -1.0], {"burst": 2}),
    _kw_rule("`burst >= 1`, else `ValueError`", "burst", [1], [2], [0, -1, 0.5], {"rate": 1.0}),
    boundary("a request is admitted when its bucket holds at least one token (`>= 1 - 1e-9`: ten tenths are one)",
             at={"kwargs": {"rate": 10.0, "burst": 1}, "requests": [[0.0, "a"]] + [[k / 10, "a"] for k in range(1, 4)]},
             inside={"kwargs": {"rate": 2.0, "burst": 1}, "requests": [[0.0, "a"], [0.5 + 1 / 64, "a"]]},
             outside={"kwargs": {"rate": 2.0, "burst": 1}, "requests": [[0.0, "a"], [0.5 - 1 / 64, "a"], [0.5, "a"]]}),
    edge("a key seen for the first time has a full bucket of `burst` tokens, also late",
         {"kwargs": {"rate": 1.0, "burst": 3}, "requests": [[0.0, "a"]] * 4 + [[50.0, "b"]] * 4}),
    edge("a bucket never holds more than `burst`, however long it rested",
         {"kwargs": {"rate": 1.0, "burst": 2}, "requests": [[0.0, "a"], [100.0, "a"], [100.0, "a"], [100.0, "a"]]}),
    edge("each key has its own bucket (keys that differ only in case too)",
         {"kwargs": {"rate": 1.0, "burst": 1}, "requests": [[0.0, "a"], [0.0, "A"], [0.0, "a"], [0.0, "zoë"]]}),
]

SW_RULES = [
    _kw_rule("`limit >= 1`, else `ValueError`", "limit", [1], [2], [0, -1], {"window_s": 1.0}),
    _kw_rule("`window_s > 0`, else `ValueError`", "window_s", [1 / 64], [1.0], [0.0, -1.0], {"limit": 2}),
    boundary("an admitted request is seen by the window (t - `window_s`, t]: exactly `window_s` later it is gone",
             at={"kwargs": {"limit": 1, "window_s": 1.0}, "requests": [[0.0, "a"], [1.0, "a"]]},
             inside={"kwargs": {"limit": 1, "window_s": 1.0}, "requests": [[0.0, "a"], [1.0 - 1 / 64, "a"]]},
             outside={"kwargs": {"limit": 1, "window_s": 1.0}, "requests": [[0.0, "a"], [1.0 + 1 / 64, "a"]]}),
    boundary("at most `limit` admitted in the window",
             at={"kwargs": {"limit": 3, "window_s": 2.0}, "requests": [[0.0, "a"], [0.5, "a"], [1.0, "a"], [1.5, "a"]]},
             inside={"kwargs": {"limit": 3, "window_s": 2.0}, "requests": [[0.0, "a"], [0.5, "a"], [1.0, "a"]]},
             outside={"kwargs": {"limit": 3, "window_s": 2.0}, "requests": [[0.0, "a"]] * 5 + [[2.0, "a"]] * 4}),
    edge("refused requests do not count", {"kwargs": {"limit": 1, "window_s": 1.0},
                                           "requests": [[0.0, "a"], [0.5, "a"], [0.75, "a"], [1.0, "a"], [1.5, "a"]]}),
    edge("each key has its own window (keys that differ only in case too)",
         {"kwargs": {"limit": 1, "window_s": 1.0}, "requests": [[0.0, "a"], [0.0, "A"], [0.5, "a"], [0.5, "zoë"]]}),
]


def run_idempotency(cls, ops):
    """What ``course.resilience.run_idempotency`` records for a correct store (``cls`` is ignored)."""
    return idempotency_model([list(op) for op in ops])


_ID_KEYS = ("k1", "k2", "K1", "clé", "order-10", "order-2", "k3", "k4", "k5", "k6", "k7", "k8")


def _idem_draw(rng):
    keys = [str(k) for k in rng.choice(_ID_KEYS, size=int(rng.integers(1, len(_ID_KEYS) + 1)), replace=False)]
    kind = rng.random()

    def payload_of(k):
        if kind < 0.6:
            return {"amount": int(rng.integers(1, 10_000)), "to": str(rng.choice(["ann", "ben", "zoë"]))}
        if kind < 0.8:
            return f"pay {int(rng.integers(1, 100))}"
        return [int(rng.integers(0, 5)), {"n": int(rng.integers(0, 5))}]

    payloads = {k: payload_of(k) for k in keys}
    crash, reuse = float(rng.uniform(0, 0.4)), float(rng.uniform(0, 0.25))
    ops = []
    for _ in range(int(rng.integers(1, 40))):
        key = str(rng.choice(keys))
        payload = payloads[key] if rng.random() >= reuse or not any(op[0] == key for op in ops) else payload_of(key)
        ops.append([key, payload, "crash" if rng.random() < crash else "ok"])
    return {"ops": ops}


IDEM_RULES = [
    boundary("a key is bound to its first payload: an equal payload gets the stored result, another raises "
             "`ValueError`",
             at={"ops": [["k", {"a": 1, "b": 2}, "ok"], ["k", {"b": 2, "a": 1}, "ok"]]},
             inside={"ops": [["k", {"a": 1}, "ok"], ["k", {"a": 1}, "ok"], ["k", {"a": 1}, "crash"]]},
             outside={"ops": [["k", {"a": 1}, "ok"], ["k", {"a": 2}, "ok"], ["k", {"a": 1}, "ok"]]}),
    edge("a handler that raised stores no result, but its key stays bound: another payload raises `ValueError`, "
         "the same one runs the handler again",
         {"ops": [["k", "pay 5", "crash"], ["k", "pay 6", "ok"], ["k", "pay 5", "crash"], ["k", "pay 5", "ok"],
                  ["k", "pay 5", "ok"]]}),
    edge("keys that differ only in case, or are not ASCII, are different keys",
         {"ops": [["k1", "a", "ok"], ["K1", "b", "ok"], ["clé", "a", "ok"], ["k1", "a", "ok"]]}),
]


def run_shedder(cls, capacity, ops):
    """What ``course.resilience.run_shedder`` records for a correct shedder (``cls`` is ignored)."""
    return shedder_model(capacity, [list(op) for op in ops])


def _shedder_draw(rng):
    capacity = int(rng.integers(1, 16))
    low, levels = int(rng.integers(-5, 3)), int(rng.integers(1, 16))
    offer = float(rng.uniform(0.4, 0.9))
    ops, next_id = [], 0
    for _ in range(int(rng.integers(1, 100))):
        if rng.random() < offer:
            ops.append(["offer", f"r{next_id}", int(rng.integers(low, low + levels))])
            next_id += 1
        else:
            ops.append(["take"])
    return {"capacity": capacity, "ops": ops}


SHEDDER_RULES = [
    Rule("`capacity >= 1`, else `ValueError`", at={"capacity": 1}, inside={"capacity": 2},
         outside=[{"capacity": 0, "ops": []}, {"capacity": -3, "ops": []}]),
    boundary("`offer` sheds only when the queue holds more than `capacity`",
             at={"capacity": 2, "ops": [["offer", "a", 1], ["offer", "b", 1]]},
             inside={"capacity": 2, "ops": [["offer", "a", 1]]},
             outside={"capacity": 2, "ops": [["offer", "a", 1], ["offer", "b", 2], ["offer", "c", 3]]}),
    edge("it sheds the lowest priority, and among those the most recently offered (maybe the new one)",
         {"capacity": 2, "ops": [["offer", "a", 0], ["offer", "b", 0], ["offer", "c", 0], ["offer", "d", 1],
                                 ["take"], ["take"], ["take"]]}),
    edge("`take` serves the highest priority, and among those the earliest offered; `None` when empty",
         {"capacity": 5, "ops": [["take"], ["offer", "a", 1], ["offer", "b", 2], ["offer", "c", 2], ["take"], ["take"],
                                 ["take"], ["take"]]}),
    edge("priorities are numbers (10 is more than 9; negative ones are fine)",
         {"capacity": 3, "ops": [["offer", "a", 9], ["offer", "b", 10], ["offer", "c", -1], ["offer", "d", 2],
                                 ["take"], ["take"], ["take"]]}),
]


CONTRACTS = {c.name: c for c in [
    Contract("backoff_delays", backoff_check, draw=_backoff_draw, rules=BACKOFF_RULES, supplied=("fn",),
             domain="0 to 15 retries, bases from 1 ms to 5 s, caps from the base to 1,000 times it, any seed"),
    Contract("RetryBudget", run_budget, draw=_budget_draw, rules=BUDGET_RULES, supplied=("cls",),
             domain="ratios from 0.01 to 1, 1 to 20 tokens, up to 150 requests and retries in any mix"),
    Contract("CircuitBreaker", run_breaker, draw=_breaker_draw, rules=BREAKER_RULES, supplied=("cls", "clock_class"),
             domain="windows of 1 to 24, every failure rate and min_calls, open times up to 40 s, 1 to 4 probes, "
                    "scripts of calls, bursts and waits (often exactly the open time)"),
    Contract("Bulkhead", run_bulkhead, draw=_bulkhead_draw, rules=BULKHEAD_RULES, supplied=("cls",),
             domain="1 to 12 dependencies with limits of 1 to 12, up to 100 acquires and releases"),
    Contract("TokenBucket", run_limiter_tb, draw=_tb_draw, rules=TB_RULES, supplied=("cls", "clock_class"),
             domain="rates from 0.25 to 100 per second, bursts of 1 to 15, up to 80 requests from 1 to 12 keys"),
    Contract("SlidingWindowLimiter", run_limiter_sw, draw=_sw_draw, rules=SW_RULES, supplied=("cls", "clock_class"),
             domain="limits of 1 to 15, windows from 1/64 s to 10 s, up to 80 requests from 1 to 12 keys"),
    Contract("IdempotencyStore", run_idempotency, draw=_idem_draw, rules=IDEM_RULES, supplied=("cls",),
             domain="1 to 12 keys, payloads that are dicts, strings or lists, crashes and reused keys"),
    Contract("PriorityShedder", run_shedder, draw=_shedder_draw, rules=SHEDDER_RULES, supplied=("cls",),
             domain="capacities of 1 to 15, up to 15 priority levels (negative ones too), up to 100 offers and takes"),
]}
