"""Module 08: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "08-resilience"

BACKOFF, BUDGET, BREAKER = "correct_backoff_delays", "correct_retry_budget", "correct_circuit_breaker"
BULKHEAD, BUCKET, WINDOW = "correct_bulkhead", "correct_token_bucket", "correct_sliding_window_limiter"
IDEMPOTENCY, SHEDDER = "correct_idempotency_store", "correct_priority_shedder"

MUTANTS = {
    "equal_jitter": Mutant(
        "backoff_delays", "rng.uniform(0.0, min(cap_s, base_s * 2 ** k))",
        "rng.uniform(min(cap_s, base_s * 2 ** k) / 2, min(cap_s, base_s * 2 ** k))",
        frozenset({BACKOFF}), "'equal jitter' (between half the bound and the bound) where full jitter was asked: "
                              "within the bounds, so only the hidden distribution check sees it"),
    "backoff_ignores_seed": Mutant(
        "backoff_delays", "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()",
        frozenset({BACKOFF}), "an unseeded generator: the delays cannot be replayed"),
    "budget_starts_empty": Mutant(
        "retry_budget", "self.tokens = float(max_tokens)", "self.tokens = 0.0",
        frozenset({BUDGET}), "the budget starts empty, so a quiet client cannot retry at all"),
    "budget_exact_compare": Mutant(
        "retry_budget", "if self.tokens >= 1 - 1e-9:", "if self.tokens >= 1:",
        frozenset({BUDGET}), "float compare without slack: ten deposits of 0.1 never buy a retry"),
    "budget_uncapped": Mutant(
        "retry_budget", "self.tokens = min(self.max_tokens, self.tokens + self.ratio)",
        "self.tokens = self.tokens + self.ratio",
        frozenset({BUDGET}), "the balance grows without a cap, so a long quiet spell allows a retry storm"),
    "breaker_timer_strict": Mutant(
        "circuit_breaker", "self.clock() - self.opened_at >= self.open_s", "self.clock() - self.opened_at > self.open_s",
        frozenset({BREAKER}), "half-open only after more than open_s seconds (off by one at the boundary)"),
    "breaker_failed_probe_ignored": Mutant(
        "circuit_breaker",
        "        if state == \"open\":\n            return   # a late answer from a call admitted before the breaker opened\n",
        "        if state != \"closed\":\n            return\n",
        frozenset({BREAKER}), "a failed trial call in half-open does not open the breaker again"),
    "breaker_trips_only_on_failure": Mutant(
        "circuit_breaker",
        "            self.outcomes.append(False)\n"
        "            if len(self.outcomes) >= self.min_calls and sum(self.outcomes) >= self.failure_rate * len(self.outcomes):\n"
        "                self._state, self.opened_at = \"open\", self.clock()\n"
        "                self.outcomes.clear()\n",
        "            self.outcomes.append(False)\n",
        frozenset({BREAKER}), "the failure rate is checked only after a failure, never after a success that "
                              "brings the window up to min_calls (only hidden scripts do that)"),
    "breaker_unlimited_probes": Mutant(
        "circuit_breaker", "if state == \"half_open\" and self.trials < self.probes:", "if state == \"half_open\":",
        frozenset({BREAKER}), "half-open lets every caller through, not just `probes` trial calls"),
    "bulkhead_off_by_one": Mutant(
        "bulkhead", "if self.busy[dep] >= self.limits[dep]:", "if self.busy[dep] > self.limits[dep]:",
        frozenset({BULKHEAD}), "admits limit + 1 calls"),
    "bulkhead_release_unchecked": Mutant(
        "bulkhead", "            if self.busy[dep] == 0:\n                raise ValueError(f\"no call to {dep!r} is in flight\")\n",
        "", frozenset({BULKHEAD}), "a release without an acquire drives the count negative"),
    "bulkhead_acquire_unlocked": Mutant(
        "bulkhead",
        "        with self.lock:\n"
        "            if dep not in self.limits:\n"
        "                raise ValueError(f\"unknown dependency {dep!r}\")\n"
        "            if self.busy[dep] >= self.limits[dep]:\n"
        "                return False\n"
        "            self.busy[dep] += 1\n"
        "            return True\n",
        "        if dep not in self.limits:   # no lock: read the count, then write it back\n"
        "            raise ValueError(f\"unknown dependency {dep!r}\")\n"
        "        busy = self.busy[dep]\n"
        "        if busy >= self.limits[dep]:\n"
        "            return False\n"
        "        self.busy[dep] = busy + 1\n"
        "        return True\n",
        frozenset({BULKHEAD}), "try_acquire reads the count and writes it back without the lock: two threads take "
                               "the last slot (only the hidden threaded test sees it)"),
    "bulkhead_no_lock": Mutant(
        "bulkhead", "        self.lock = threading.Lock()\n",
        "        self.lock = __import__(\"contextlib\").nullcontext()   # no lock at all\n",
        frozenset({BULKHEAD}), "no lock anywhere (right one call at a time): the hidden threaded test overruns "
                               "the limit or loses count"),
    "bucket_uncapped": Mutant(
        "token_bucket", "tokens = min(self.burst, tokens + (now - last) * self.rate)",
        "tokens = tokens + (now - last) * self.rate",
        frozenset({BUCKET}), "tokens accumulate beyond burst, so a quiet client can later send a huge burst"),
    "bucket_refusal_takes_token": Mutant(
        "token_bucket", "(tokens - 1 if allowed else tokens, now)", "(tokens - 1, now)",
        frozenset({BUCKET}), "a refused request still takes a token, so the balance goes negative"),
    "window_fixed": Mutant(
        "sliding_window_limiter", "while times and times[0] <= now - self.window_s:",
        "while times and times[0] // self.window_s < now // self.window_s:",
        frozenset({WINDOW}), "a fixed window: up to twice the limit across a window boundary"),
    "window_counts_refused": Mutant(
        "sliding_window_limiter", "        if len(times) >= self.limit:\n            return False\n",
        "        if len(times) >= self.limit:\n            times.append(now)\n            return False\n",
        frozenset({WINDOW}), "refused requests count against the limit, so a client over the limit is locked out"),
    "idempotency_check_then_act": Mutant(
        "idempotency_store", "        with entry[\"lock\"]:   # one caller per key at a time; the others wait here\n",
        "        if True:   # no lock: check, then act\n",
        frozenset({IDEMPOTENCY}), "check-then-act without a lock: right one call at a time, double effects when "
                                  "copies arrive together (only the hidden threaded test sees it)"),
    "idempotency_no_conflict_check": Mutant(
        "idempotency_store", "elif entry[\"payload\"] != payload:", "elif False:",
        frozenset({IDEMPOTENCY}), "a key reused for a different request returns the first request's result"),
    "idempotency_stores_crash": Mutant(
        "idempotency_store",
        "                entry[\"result\"] = handler(payload)   # if it raises, no result is stored (the key stays bound)\n"
        "                entry[\"done\"] = True\n",
        "                entry[\"done\"] = True\n                entry[\"result\"] = handler(payload)\n",
        frozenset({IDEMPOTENCY}), "marked done before the handler ran: after a crash, retries get None"),
    "idempotency_forgets_key_on_crash": Mutant(
        "idempotency_store",
        "                entry[\"result\"] = handler(payload)   # if it raises, no result is stored (the key stays bound)\n",
        "                try:\n"
        "                    entry[\"result\"] = handler(payload)\n"
        "                except Exception:\n"
        "                    with self.lock:\n"
        "                        del self.entries[key]   # forget the key: a retry may bring another payload\n"
        "                    raise\n",
        frozenset({IDEMPOTENCY}), "a crash unbinds the key, so a retry with another payload runs as a new request "
                                  "(the key must stay bound to its first payload)"),
    "idempotency_global_lock": Mutant(
        "idempotency_store", "        with entry[\"lock\"]:   # one caller per key at a time; the others wait here\n",
        "        with self.lock:   # one lock for the whole store, held while the handler runs\n",
        frozenset({IDEMPOTENCY}), "one lock held while any handler runs: exactly once, but calls with different keys "
                                  "wait for each other (only the hidden timing test sees it)"),
    "shed_oldest": Mutant(
        "priority_shedder", "return self.queues[lowest].pop()", "return self.queues[lowest].popleft()",
        frozenset({SHEDDER}), "sheds the oldest low-priority request instead of the newest"),
    "serve_lifo": Mutant(
        "priority_shedder", "return self.queues[max(waiting)].popleft()", "return self.queues[max(waiting)].pop()",
        frozenset({SHEDDER}), "serves the newest request of a priority first"),
    # issue 17's six classes
    "window_accepts_zero_window": Mutant(  # class 1: a stated error rule that had no hidden case
        "sliding_window_limiter", "if limit < 1 or window_s <= 0:", "if limit < 1:",
        frozenset({WINDOW}), "window_s = 0 is accepted, a window that never holds anything"),
    "budget_refuses_ratio_one": Mutant(  # class 2: exactly at a boundary the text allows
        "retry_budget", "if not 0 < ratio <= 1:", "if not 0 < ratio < 1:",
        frozenset({BUDGET}), "ratio = 1 (one retry earned per request) is refused, though 0 < ratio <= 1 allows it"),
    "shedder_priorities_as_strings": Mutant(  # class 3: a corner of the domain (priorities below 10)
        "priority_shedder", "lowest = min(p for p, q in self.queues.items() if q)",
        "lowest = min((p for p, q in self.queues.items() if q), key=str)",
        frozenset({SHEDDER}), "priorities compared as text: 10 sheds before 9, seen only with 10 or more levels"),
    "breaker_late_failure_reopens": Mutant(  # class 4: an event that arrives after a state change
        "circuit_breaker",
        '        if state == "open":\n            return   # a late answer from a call admitted before the breaker opened\n',
        "", frozenset({BREAKER}), "a late failure reported while open reopens the breaker from now, pushing back "
                                   "its half-open time"),
    "idempotency_unlocked_insert": Mutant(  # class 5: a check-then-insert raced from two threads
        "idempotency_store", "        with self.lock:\n            entry = self.entries.get(key)\n",
        "        if True:\n            entry = self.entries.get(key)\n",
        frozenset({IDEMPOTENCY}), "the key is looked up and inserted without the lock: two copies arriving together "
                                  "both find it missing and both charge"),
    "backoff_cap_five_percent_over": Mutant(  # class 6: a tolerance narrower than the gap to a wrong model
        "backoff_delays", "rng.uniform(0.0, min(cap_s, base_s * 2 ** k))",
        "rng.uniform(0.0, min(cap_s * 1.05, base_s * 2 ** k))",
        frozenset({BACKOFF}), "delays up to 5% over the cap: the bound is checked to 1e-9, not to a few percent"),
}

# A correct solution written differently from ours: random.Random and rng.random() * bound;
# exact fractions in the budget; a breaker with eager transitions and a list window; semaphores in
# the bulkhead; GCRA (a theoretical arrival time) instead of a token count; a list filter for the
# sliding window; a condition variable for idempotency; a flat list scanned for the shedder.
ALTERNATIVE = {
    "backoff_delays": '''
import random

def backoff_delays(retries, base_s, cap_s, seed):
    if retries < 0 or not 0 < base_s <= cap_s:
        raise ValueError((retries, base_s, cap_s))
    rnd = random.Random(seed)
    delays, bound = [], base_s
    for _ in range(retries):
        delays.append(rnd.random() * min(bound, cap_s))
        bound *= 2
    return tuple(delays)
''',
    "retry_budget": '''
from fractions import Fraction

class RetryBudget:
    def __init__(self, ratio=0.1, max_tokens=10):
        if ratio <= 0 or ratio > 1 or max_tokens < 1:
            raise ValueError("bad budget")
        self.earn = Fraction(str(ratio))
        self.cap = Fraction(max_tokens)
        self.balance = self.cap

    def on_request(self):
        self.balance = min(self.cap, self.balance + self.earn)

    def try_retry(self):
        ok = self.balance >= 1
        if ok:
            self.balance -= 1
        return ok
''',
    "circuit_breaker": '''
class CircuitBreaker:
    def __init__(self, clock, failure_rate=0.5, window=10, min_calls=5, open_s=30.0, probes=1):
        if not (0 < failure_rate <= 1 and 1 <= min_calls <= window and open_s > 0 and probes >= 1):
            raise ValueError("bad breaker parameters")
        self._clock, self._rate, self._window, self._min = clock, failure_rate, window, min_calls
        self._open_s, self._probes = open_s, probes
        self._mode, self._since, self._log, self._admitted, self._passed = "closed", None, [], 0, 0

    def _tick(self):
        if self._mode == "open" and self._clock() >= self._since + self._open_s:
            self._mode, self._admitted, self._passed = "half_open", 0, 0

    def _open(self):
        self._mode, self._since, self._log = "open", self._clock(), []

    @property
    def state(self):
        self._tick()
        return self._mode

    def allow(self):
        self._tick()
        if self._mode == "half_open":
            self._admitted += 1
            return self._admitted <= self._probes
        return self._mode == "closed"

    def _report(self, failed):
        self._tick()
        if self._mode == "open":
            return
        if self._mode == "half_open":
            if failed:
                self._open()
            else:
                self._passed += 1
                if self._passed == self._probes:
                    self._mode, self._log = "closed", []
            return
        self._log = (self._log + [failed])[-self._window:]
        if len(self._log) >= self._min and self._log.count(True) / len(self._log) >= self._rate:
            self._open()

    def record_success(self):
        self._report(False)

    def record_failure(self):
        self._report(True)
''',
    "bulkhead": '''
import threading

class Bulkhead:
    def __init__(self, limits):
        for name, n in limits.items():
            if n < 1:
                raise ValueError(name)
        self._slots = {name: threading.BoundedSemaphore(n) for name, n in limits.items()}
        self._count = {name: 0 for name in limits}
        self._guard = threading.Lock()

    def _known(self, dep):
        if dep not in self._slots:
            raise ValueError(f"unknown dependency {dep}")

    def try_acquire(self, dep):
        self._known(dep)
        if not self._slots[dep].acquire(blocking=False):
            return False
        with self._guard:
            self._count[dep] += 1
        return True

    def release(self, dep):
        self._known(dep)
        with self._guard:
            if self._count[dep] < 1:
                raise ValueError(f"nothing in flight for {dep}")
            self._count[dep] -= 1
        self._slots[dep].release()

    def in_flight(self, dep):
        self._known(dep)
        return self._count[dep]
''',
    "token_bucket": '''
class TokenBucket:
    """GCRA: keep, per key, the theoretical time at which its bucket would be full again."""
    def __init__(self, rate, burst, clock):
        if not rate > 0 or not burst >= 1:
            raise ValueError("bad limits")
        self.interval, self.tolerance, self.clock = 1.0 / rate, (burst - 1) / rate, clock
        self.tat = {}

    def allow(self, key):
        now = self.clock()
        tat = max(self.tat.get(key, now), now)
        if tat - now > self.tolerance + 1e-9:
            return False
        self.tat[key] = tat + self.interval
        return True
''',
    "sliding_window_limiter": '''
class SlidingWindowLimiter:
    def __init__(self, limit, window_s, clock):
        if limit < 1 or window_s <= 0:
            raise ValueError("bad limits")
        self.limit, self.window_s, self.clock, self.log = limit, window_s, clock, {}

    def allow(self, key):
        now = self.clock()
        recent = [t for t in self.log.get(key, []) if now - t < self.window_s]
        admit = len(recent) < self.limit
        self.log[key] = recent + [now] if admit else recent
        return admit
''',
    "idempotency_store": '''
import threading

class IdempotencyStore:
    def __init__(self):
        self.cv = threading.Condition()
        self.payloads, self.results, self.running = {}, {}, set()

    def execute(self, key, payload, handler):
        with self.cv:
            if self.payloads.setdefault(key, payload) != payload:
                raise ValueError(key)
            while key in self.running:
                self.cv.wait()
            if key in self.results:
                return self.results[key]
            self.running.add(key)
        try:
            result = handler(payload)
        except BaseException:
            with self.cv:
                self.running.discard(key)
                self.cv.notify_all()
            raise
        with self.cv:
            self.results[key] = result
            self.running.discard(key)
            self.cv.notify_all()
        return result
''',
    "priority_shedder": '''
import itertools

class PriorityShedder:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError(capacity)
        self.capacity, self.items, self.counter = capacity, [], itertools.count()

    def offer(self, request_id, priority):
        self.items.append((priority, next(self.counter), request_id))
        if len(self.items) <= self.capacity:
            return None
        victim = min(self.items, key=lambda item: (item[0], -item[1]))
        self.items.remove(victim)
        return victim[2]

    def take(self):
        if not self.items:
            return None
        best = max(self.items, key=lambda item: (item[0], -item[1]))
        self.items.remove(best)
        return best[2]
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """equal_jitter passes every visible test; only the hidden distribution check finds it."""
    assert_caught_by_hidden_tests(reports["equal_jitter"], BACKOFF, "seed 811", "full jitter")


def test_hidden_threaded_test_catches_check_then_act(reports):
    """The lock-free store is right one call at a time; real threads sending one key at once expose it."""
    assert_caught_by_hidden_tests(reports["idempotency_check_then_act"], IDEMPOTENCY, "seed 872", "exactly once")


def test_hidden_threaded_test_catches_an_unlocked_bulkhead(reports):
    """A bulkhead without a lock is right one call at a time; 8 threads that switch between its read and its
    write of a count catch it, every run."""
    for name in ("bulkhead_acquire_unlocked", "bulkhead_no_lock"):
        assert_caught_by_hidden_tests(reports[name], BULKHEAD, "seed 842", "lock")


def test_hidden_timing_test_catches_a_store_wide_lock(reports):
    assert_caught_by_hidden_tests(reports["idempotency_global_lock"], IDEMPOTENCY, "seed 873", "waited for each other")


def test_visible_tests_catch_a_key_unbound_by_a_crash(reports):
    """The text says the key stays bound to its first payload even when that call's handler raised."""
    assert_caught_by_hidden_tests(reports["idempotency_forgets_key_on_crash"], IDEMPOTENCY, "a fixed example", "'pay 6'")


def test_hidden_scripts_catch_a_trip_after_a_success(reports):
    """Visible scripts trip the breaker on a failure; only hidden scripts reach min_calls with a success."""
    assert_caught_by_hidden_tests(reports["breaker_trips_only_on_failure"], BREAKER, "seed 831")


def test_hidden_contract_catches_what_no_hidden_case_tried(reports):
    """Issue 17: a window of 0, priorities of 10 and more, and a check-then-insert raced by two threads."""
    assert_caught_by_hidden_tests(reports["window_accepts_zero_window"], WINDOW, "seed 863")
    assert_caught_by_hidden_tests(reports["shedder_priorities_as_strings"], SHEDDER, "seed 883")
