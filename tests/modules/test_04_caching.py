"""Module 04: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "04-caching"

LRU, TTL, HIT, SMALLEST = "correct_lru_cache", "correct_ttl_cache", "correct_lru_hit_ratio", "correct_smallest_cache_size"
ASIDE, THROUGH, BACK = "correct_cache_aside", "correct_write_through", "correct_write_back"
COALESCE, VERSIONED = "correct_coalescing_loader", "correct_versioned_cache"

MUTANTS = {
    "lru_get_does_not_refresh": Mutant(
        "lru_cache", "        self.hits += 1\n        self._entries.move_to_end(key)\n", "        self.hits += 1\n",
        frozenset({LRU}), "a hit does not make the entry most recent: that is FIFO, not LRU"),
    "lru_overwrite_keeps_position": Mutant(
        "lru_cache", "        self._entries.move_to_end(key)  # an overwrite is a use too\n", "",
        frozenset({LRU}), "put on an existing key keeps its old position (only hidden tests overwrite keys)"),
    "lru_negative_capacity_accepted": Mutant(
        "lru_cache", "        if capacity < 0:\n", "        if False:\n",
        frozenset({LRU}), "no validation of the capacity"),
    "ttl_fresh_at_expiry": Mutant(
        "ttl_cache", "self.clock() < entry[1]", "self.clock() <= entry[1]",
        frozenset({TTL}), "an entry is still served at exactly t + ttl (off by one at the boundary)"),
    "ttl_len_counts_expired": Mutant(
        "ttl_cache", "return sum(1 for _, expires_at in self._entries.values() if now < expires_at)",
        "return len(self._entries)", frozenset({TTL}), "len counts entries that have expired"),
    "ttl_reads_wall_clock": Mutant(
        "ttl_cache", "(value, self.clock() + self.ttl)", "(value, time.monotonic() + self.ttl)",
        frozenset({TTL}), "the injected clock is ignored when writing"),
    "hit_ratio_evicts_too_early": Mutant(
        "lru_hit_ratio", "if len(cached) > capacity:", "if len(cached) >= capacity:",
        frozenset({HIT, SMALLEST}), "evicts at capacity, so the cache holds one entry too few "
                                    "(smallest_cache_size uses it, so it loses too)"),
    "hit_ratio_fifo": Mutant(
        "lru_hit_ratio", "            cached.move_to_end(key)\n", "",
        frozenset({HIT, SMALLEST}), "hits do not refresh recency: FIFO's hit ratio, not LRU's"),
    "smallest_unreachable_returns_max": Mutant(
        "smallest_cache_size", '        raise ValueError(f"no cache size reaches a hit ratio of {target}")',
        "        return high", frozenset({SMALLEST}), "an unreachable target returns the largest size"),
    "cache_aside_updates_cache_on_write": Mutant(
        "cache_aside", "        self.cache.pop(key, None)", "        self.cache[key] = value",
        frozenset({ASIDE}), "cache-aside updates the cache on write instead of invalidating it"),
    "cache_aside_caches_missing_keys": Mutant(
        "cache_aside", "        if value is not None:\n            self.cache[key] = value\n",
        "        self.cache[key] = value\n", frozenset({ASIDE}),
        "a missing key's None is cached (only hidden tests read missing keys)"),
    "write_through_skips_store": Mutant(
        "write_through", "        self.store.put(key, value)\n        self.cache[key] = value",
        "        self.cache[key] = value", frozenset({THROUGH}), "write-through that never writes the store"),
    "write_back_flush_keeps_dirty": Mutant(
        "write_back", "        self.dirty.clear()", "        pass", frozenset({BACK}),
        "flush does not mark keys clean, so every flush rewrites them (only hidden tests flush twice)"),
    "write_back_writes_through": Mutant(
        "write_back", "        self.cache[key] = value\n        self.dirty.add(key)",
        "        self.cache[key] = value\n        self.store.put(key, value)", frozenset({BACK}),
        "write-back that writes the store at once"),
    "every_caller_loads": Mutant(
        "coalescing_loader", "            leader = call is None", "            leader = True",
        frozenset({COALESCE}), "no coalescing: every concurrent miss loads"),
    "check_then_insert_without_lock": Mutant(
        "coalescing_loader", "        with self._lock:\n            call = self._running.get(key)\n",
        "        if True:  # no lock around the look-up and the insert\n            call = self._running.get(key)\n",
        frozenset({COALESCE}), "the look-up and the insert of the running load are not under one lock: two "
                               "threads both find no load running and both load (caught because the driver's "
                               "keys let other threads run while a dict hashes them)"),
    "waiters_swallow_errors": Mutant(
        "coalescing_loader",
        '            if call["error"] is not None:\n                raise call["error"]\n            return call["value"]',
        '            return call["value"]', frozenset({COALESCE}),
        "waiting callers get None when the load fails (only hidden tests make loads fail)"),
    "result_kept_forever": Mutant(
        "coalescing_loader", "                del self._running[key]\n", "                pass\n",
        frozenset({COALESCE}), "the finished load stays registered, so later calls never load again"),
    "invalidate_forgets_version": Mutant(
        "versioned_cache", "        self._newest[key] = max(version, self._newest.get(key, version))\n", "",
        frozenset({VERSIONED}), "invalidation deletes but does not remember the version: a slow fill is stale"),
    "late_event_drops_newer_entry": Mutant(
        "versioned_cache", "        if held is not None and held[1] < version:", "        if held is not None:",
        frozenset({VERSIONED}), "a late invalidation drops a newer entry"),
    # Issue 17's six classes, each a mistake a learner makes that the hidden tests once let through.
    "ttl_zero_refused": Mutant(  # class 1: a contract rule (ttl 0 is allowed) with no hidden case
        "ttl_cache", "        if ttl < 0:\n", "        if ttl <= 0:\n", frozenset({TTL}),
        "class 1: refuses ttl 0, which the contract allows (nothing is ever fresh)"),
    "smallest_target_met_strictly": Mutant(  # class 2: exactly at the boundary
        "smallest_cache_size", "        if lru_hit_ratio(trace, middle) >= target:", "        if lru_hit_ratio(trace, middle) > target:",
        frozenset({SMALLEST}), "class 2: a target met exactly is taken as not met, so the answer is one size too big"),
    "lru_evicts_at_capacity": Mutant(  # class 2
        "lru_cache", "        while len(self._entries) > self.capacity:", "        while len(self._entries) >= self.capacity:",
        frozenset({LRU}), "class 2: evicts when the cache holds exactly capacity entries"),
    "lru_falsy_value_is_a_miss": Mutant(  # class 3: a value no random case held
        "lru_cache", "        if key not in self._entries:\n            self.misses += 1",
        "        if not self._entries.get(key):\n            self.misses += 1", frozenset({LRU}),
        "class 3: a cached 0, empty string or False counts as a miss (random values are almost never 0)"),
    "cache_aside_falsy_value_not_cached": Mutant(  # class 3
        "cache_aside", "        if value is not None:\n            self.cache[key] = value\n",
        "        if value:\n            self.cache[key] = value\n", frozenset({ASIDE}),
        "class 3: a stored 0 or empty string is never cached, so every read of it goes to the store"),
    "ttl_get_restarts_ttl": Mutant(  # class 4: a state rule (get does not restart the TTL)
        "ttl_cache", "            self.hits += 1\n            return entry[0]",
        "            self.hits += 1\n            self._entries[key] = (entry[0], self.clock() + self.ttl)\n"
        "            return entry[0]", frozenset({TTL}),
        "class 4: a hit restarts the entry's TTL (sliding expiry), so a hot entry is never refreshed from the store"),
    "one_load_at_a_time": Mutant(  # class 5: a race (or here, a serialisation) only several keys at once show
        "coalescing_loader", '            call["value"] = self.load(key)\n',
        '            with globals().setdefault("_one_load_at_a_time", threading.Lock()):\n'
        '                call["value"] = self.load(key)\n', frozenset({COALESCE}),
        "class 5: one lock around every load, so loads of different keys wait for each other (one key at a "
        "time passes; hidden scenarios with several keys find that the second key's load never started)"),
    "hit_ratio_rounded": Mutant(  # class 6: inside a loose tolerance, outside the stated one
        "lru_hit_ratio", "    return hits / len(trace)", "    return round(hits / len(trace), 4)", frozenset({HIT}),
        "class 6: the ratio rounded to 4 places, within 0.00005 of the truth: a tolerance of 1e-4 would pass it, "
        "the stated 1e-9 does not"),
}

# A correct solution written differently from ours: a hand-made doubly linked list, write times instead
# of expiry times, dict insertion order for the hit ratio, exponential then binary search, futures for
# coalescing, one record per key for versions.
ALTERNATIVE = {
    "lru_cache": '''
class _Node:
    __slots__ = ("key", "value", "prev", "next")

    def __init__(self, key=None, value=None):
        self.key, self.value, self.prev, self.next = key, value, None, None


class LRUCache:
    def __init__(self, capacity):
        if not capacity >= 0:
            raise ValueError(capacity)
        self.capacity, self.hits, self.misses, self.nodes = capacity, 0, 0, {}
        self.head, self.tail = _Node(), _Node()   # head.next is the most recent
        self.head.next, self.tail.prev = self.tail, self.head

    def _unlink(self, node):
        node.prev.next, node.next.prev = node.next, node.prev

    def _push_front(self, node):
        node.prev, node.next = self.head, self.head.next
        self.head.next.prev = node
        self.head.next = node

    def get(self, key):
        node = self.nodes.get(key)
        if node is None:
            self.misses += 1
            return None
        self.hits += 1
        self._unlink(node)
        self._push_front(node)
        return node.value

    def put(self, key, value):
        if self.capacity == 0:
            return
        node = self.nodes.get(key)
        if node is not None:
            node.value = value
            self._unlink(node)
        else:
            if len(self.nodes) == self.capacity:
                oldest = self.tail.prev
                self._unlink(oldest)
                del self.nodes[oldest.key]
            node = self.nodes[key] = _Node(key, value)
        self._push_front(node)

    def size(self):
        return len(self.nodes)
''',
    "ttl_cache": '''
import time


class TTLCache:
    def __init__(self, ttl, clock=time.monotonic):
        if ttl < 0:
            raise ValueError("negative ttl")
        self.ttl, self.clock = ttl, clock
        self.hits = self.misses = 0
        self.written = {}

    def _fresh(self, key, now):
        return key in self.written and now - self.written[key][1] < self.ttl

    def get(self, key):
        if self._fresh(key, self.clock()):
            self.hits += 1
            return self.written[key][0]
        self.misses += 1
        return None

    def put(self, key, value):
        self.written[key] = (value, self.clock())

    def size(self):
        now = self.clock()
        self.written = {k: v for k, v in self.written.items() if self._fresh(k, now)}
        return len(self.written)
''',
    "lru_hit_ratio": '''
def lru_hit_ratio(trace, capacity):
    if capacity < 0 or not len(trace):
        raise ValueError("bad input")
    recent, hits = {}, 0          # a dict keeps insertion order: oldest first
    for key in trace:
        if key in recent:
            hits += 1
            del recent[key]
        elif len(recent) == capacity:
            if capacity == 0:
                continue
            del recent[next(iter(recent))]
        recent[key] = None
    return hits / len(trace)
''',
    "smallest_cache_size": '''
def smallest_cache_size(trace, target):
    if not len(trace) or target <= 0 or target > 1:
        raise ValueError("bad input")
    distinct = len(set(trace))
    if lru_hit_ratio(trace, distinct) < target:
        raise ValueError("unreachable")
    size = 1
    while size < distinct and lru_hit_ratio(trace, size) < target:   # doubling, then bisection
        size *= 2
    low, high = size // 2 + 1, min(size, distinct)
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if lru_hit_ratio(trace, middle) >= target else (middle + 1, high)
    return high if size > 1 else 1
''',
    "cache_aside": '''
_MISSING = object()


class CacheAside:
    def __init__(self, store):
        self.store, self.cache = store, {}

    def read(self, key):
        value = self.cache.get(key, _MISSING)
        if value is _MISSING:
            value = self.store.get(key)
            if value is not None:
                self.cache[key] = value
        return value

    def write(self, key, value):
        self.store.put(key, value)
        if key in self.cache:
            del self.cache[key]
''',
    "write_through": '''
class WriteThrough(CacheAside):
    def write(self, key, value):
        self.store.put(key, value)
        self.cache[key] = value
''',
    "write_back": '''
class WriteBack:
    def __init__(self, store):
        self.store, self.clean, self.dirty = store, {}, {}

    def read(self, key):
        if key in self.dirty:
            return self.dirty[key]
        if key not in self.clean:
            value = self.store.get(key)
            if value is None:
                return None
            self.clean[key] = value
        return self.clean[key]

    def write(self, key, value):
        self.clean.pop(key, None)
        self.dirty[key] = value

    def flush(self):
        pending, self.dirty = self.dirty, {}
        for key, value in pending.items():
            self.store.put(key, value)
            self.clean[key] = value
''',
    "coalescing_loader": '''
import threading
from concurrent.futures import Future


class CoalescingLoader:
    def __init__(self, load):
        self.load, self.lock, self.futures = load, threading.Lock(), {}

    def get(self, key):
        with self.lock:
            future = self.futures.get(key)
            mine = future is None
            if mine:
                future = self.futures[key] = Future()
        if mine:
            try:
                future.set_result(self.load(key))
            except Exception as exc:
                future.set_exception(exc)
            finally:
                with self.lock:
                    self.futures.pop(key, None)
        return future.result()
''',
    "versioned_cache": '''
class VersionedCache:
    def __init__(self):
        self.records = {}   # key -> [value or None, version of value or None, newest version seen]

    def fill(self, key, value, version):
        record = self.records.setdefault(key, [None, None, version])
        if version < record[2] or (record[1] is not None and record[1] >= version):
            return False
        record[:] = [value, version, version]
        return True

    def invalidate(self, key, version):
        record = self.records.setdefault(key, [None, None, version])
        record[2] = max(record[2], version)
        if record[1] is not None and record[1] < version:
            record[0] = record[1] = None

    def get(self, key):
        record = self.records.get(key)
        return None if record is None else record[0]
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """lru_overwrite_keeps_position passes every visible test; only the hidden differential test finds it."""
    assert_caught_by_hidden_tests(reports["lru_overwrite_keeps_position"], LRU, "seed 411", "'put'")


def test_hidden_tests_use_real_threads_to_catch_lost_errors(reports):
    """waiters_swallow_errors passes the visible threaded test; a hidden scenario with a failing load finds it."""
    assert_caught_by_hidden_tests(reports["waiters_swallow_errors"], COALESCE, "seed 481", "fail_first")
