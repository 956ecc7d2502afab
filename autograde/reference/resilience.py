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
