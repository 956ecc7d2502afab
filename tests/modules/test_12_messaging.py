"""Module 12: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "12-messaging"

SQS, FIFO, PARTITIONS, COMMITS = ("correct_sqs_queue", "correct_fifo_queue", "correct_partitioning",
                                  "correct_consumer_actions")
INBOX, FILTERS, SCHEMAS, SYNC = ("correct_inbox_plan", "correct_filter_policies", "correct_breaking_changes",
                                 "correct_sync_vs_async")
SIZING, SCALER = "correct_queue_sizing", "correct_age_autoscaler"

MUTANTS = {
    # the list of mistakes, one mutant each
    "delete_on_receive": Mutant(
        "sqs_queue", "        return batch\n",
        "        for row in batch:\n            del self._messages[row[0]]\n        return batch\n",
        frozenset({SQS}), "deleting on receive: at-most-once, a consumer that crashes loses the message"),
    "timeout_restarts_on_any_receive": Mutant(
        "sqs_queue", "        return batch\n",
        "        for m in self._messages.values():\n"
        "            if m[1] > now:\n"
        "                m[1] = now + self.visibility_timeout\n"
        "        return batch\n",
        frozenset({SQS}), "one visibility clock for the queue: every receive restarts the timeout of every message "
                          "in flight"),
    "dlq_counted_from_wrong_receive": Mutant(
        "sqs_queue", "m[2] >= self.max_receive_count", "m[2] > self.max_receive_count",
        frozenset({SQS}), "a message is dead-lettered one receive late (received max_receive_count + 1 times)"),
    "stale_handle_deletes": Mutant(
        "sqs_queue", "            if m[3] == receipt_handle:\n",
        "            if receipt_handle.startswith(f\"{message_id}#\"):\n",
        frozenset({SQS}), "any handle ever issued for a message deletes it: a stalled consumer deletes the message "
                          "another consumer is working on"),
    "fifo_blocks_all_groups": Mutant(
        "fifo_queue", "        position = {message_id",
        "        if any(q and q[0][2] > now for q in self._groups.values()):\n"
        "            return []\n"
        "        position = {message_id",
        frozenset({FIFO}), "one slow group holds up every group: the queue is FIFO as a whole"),
    "commit_before_processing": Mutant(
        "consumer_actions", 'plan += work + [["commit", batch_end]]', 'plan += [["commit", batch_end]] + work',
        frozenset({COMMITS}), "committing offsets before processing when the contract says at-least-once: a crash "
                              "loses the rest of the batch"),
    "inbox_records_id_in_separate_transaction": Mutant(
        "inbox_plan", 'return [["begin"], ["record", message_id], ["add", account, cents], ["commit"]]',
        'return [["begin"], ["add", account, cents], ["commit"], ["begin"], ["record", message_id], ["commit"]]',
        frozenset({INBOX}), "the id is recorded after the effect in its own transaction: a crash between them "
                            "applies the message twice on redelivery"),
    "prefix_matched_as_exact": Mutant(
        "filter_policies", "value.startswith(argument)", "value == argument",
        frozenset({FILTERS}), "a prefix condition matches only the whole string"),
    "removed_response_field_compatible": Mutant(
        "breaking_changes", '                breaks.append([name, "removed"])\n', "                pass\n",
        frozenset({SCHEMAS}), "removing a response field is called compatible"),
    # one more per exercise
    "fifo_dedup_window_restarts": Mutant(
        "fifo_queue",
        "        if dedup_id in self._accepted and now < self._accepted[dedup_id] + self.dedup_window:\n"
        "            return False\n"
        "        self._accepted[dedup_id] = now\n",
        "        first = self._accepted.get(dedup_id)\n"
        "        self._accepted[dedup_id] = now\n"
        "        if first is not None and now < first + self.dedup_window:\n"
        "            return False\n",
        frozenset({FIFO}), "a duplicate restarts the deduplication window (only hidden tests resend within a window "
                           "twice)"),
    "range_remainder_to_last_members": Mutant(
        "partitioning", "count = per_member + 1 if i < extra else per_member",
        "count = per_member + 1 if i >= len(ordered) - extra else per_member",
        frozenset({PARTITIONS}), "range: the extra partitions go to the last members, not the first"),
    "members_not_sorted": Mutant(
        "partitioning", "    ordered = sorted(members)\n", "    ordered = list(members)\n",
        frozenset({PARTITIONS}), "members taken in the order they joined: each member computes another assignment"),
    "inbox_accepts_bool_cents": Mutant(
        "inbox_plan", "    if type(cents) is not int:\n", "    if not isinstance(cents, int):\n",
        frozenset({INBOX}), "isinstance lets True through as 1 cent (only hidden tests send a bool)"),
    "anything_but_matches_missing": Mutant(
        "filter_policies", "key in attributes and any(test(attributes[key]) for test in tests)",
        "any(test(attributes.get(key)) for test in tests)",
        frozenset({FILTERS}), "a missing attribute satisfies anything-but"),
    "removed_optional_response_field_compatible": Mutant(
        "breaking_changes", '            if direction == "response":\n                breaks.append([name, "removed"])\n',
        '            if direction == "response" and old[name].get("required", False):\n'
        '                breaks.append([name, "removed"])\n',
        frozenset({SCHEMAS}), "an optional response field is removed as if no client read it (only hidden tests "
                              "remove an optional one)"),
    "enum_value_added_ignored": Mutant(
        "breaking_changes", '                breaks.append([name, "enum value added"])\n', "                pass\n",
        frozenset({SCHEMAS}), "a new enum value in a response is called additive, so compatible"),
    "chain_latency_is_the_max": Mutant(
        "sync_vs_async", "float(sum(latencies_ms))", "float(max(latencies_ms))",
        frozenset({SYNC}), "a chain of calls taken as parallel: the slowest instead of the sum"),
    "fanout_union_bound": Mutant(
        "sync_vs_async", "return 1 - (1 - p_slow) ** n_services", "return min(1.0, n_services * p_slow)",
        frozenset({SYNC}), "N times p instead of 1 - (1 - p)^N"),
    "sizing_without_headroom": Mutant(
        "queue_sizing", "return math.ceil(busy / target_utilisation)", "return math.ceil(busy)",
        frozenset({SIZING}), "consumers sized at 100% utilisation (Little's law without headroom)"),
    "drain_ignores_arrivals": Mutant(
        "queue_sizing", "spare = consumers / seconds_per_message - arrival_rate",
        "spare = consumers / seconds_per_message", frozenset({SIZING}),
        "the backlog drains at the full capacity, as if nothing kept arriving"),
    "drain_even_rate_drains": Mutant(
        "queue_sizing", "    if spare <= 0:\n", "    if spare < 0:\n", frozenset({SIZING}),
        "a spare rate of exactly 0 divides by zero instead of never draining (only hidden tests hit it exactly)"),
    "scaler_not_clamped": Mutant(
        "age_autoscaler", "        return min(self.max_consumers, max(self.min_consumers, wanted))\n",
        "        return wanted\n", frozenset({SCALER}), "the decision ignores the fleet's limits"),
    "scaler_in_below_half": Mutant(
        "age_autoscaler", "        elif oldest_age_s < quarter:\n", "        elif oldest_age_s < half:\n",
        frozenset({SCALER}), "scales in whenever it does not scale out: the fleet oscillates around half the target"),
    "scaler_zero_fleet_stuck": Mutant(
        "age_autoscaler", "math.ceil(max(consumers, 1) * oldest_age_s / half)", "math.ceil(consumers * oldest_age_s / half)",
        frozenset({SCALER}), "a fleet scaled to zero never scales out again: 0 times anything is 0 (only hidden tests "
                             "start from zero with min_consumers 0)"),
}

# A correct solution written differently from ours: dataclass messages and a heap-free scan, handles from
# uuid4, per-message group lists kept in one list, round-robin by slicing, a while loop over batches,
# the effect before the inbox row, filters as a dispatch table, schema diffs by set algebra.
ALTERNATIVE = {
    "sqs_queue": '''
import uuid
from dataclasses import dataclass


@dataclass
class _Message:
    id: str
    body: object
    visible_at: float
    received: int = 0
    handle: str = ""


class SQSQueue:
    def __init__(self, visibility_timeout, max_receive_count=None):
        if visibility_timeout < 0 or visibility_timeout > 12 * 3600:
            raise ValueError(visibility_timeout)
        if max_receive_count is not None:
            if isinstance(max_receive_count, bool) or not isinstance(max_receive_count, int):
                raise ValueError(max_receive_count)
            if max_receive_count < 1 or max_receive_count > 1000:
                raise ValueError(max_receive_count)
        self.vt, self.limit = visibility_timeout, max_receive_count
        self.queue, self.dlq = [], []

    def send(self, message_id, body, now):
        self.queue.append(_Message(message_id, body, now))

    def receive(self, now, max_messages=1):
        if isinstance(max_messages, bool) or not isinstance(max_messages, int) or not 0 < max_messages < 11:
            raise ValueError(max_messages)
        keep = []
        for m in self.queue:
            if self.limit is not None and m.visible_at <= now and m.received >= self.limit:
                self.dlq.append(m.id)
            else:
                keep.append(m)
        self.queue = keep
        out = []
        for m in (m for m in self.queue if m.visible_at <= now):
            if len(out) >= max_messages:
                break
            m.received, m.visible_at, m.handle = m.received + 1, now + self.vt, uuid.uuid4().hex
            out.append([m.id, m.body, m.handle, m.received])
        return out

    def delete(self, receipt_handle, now):
        before = len(self.queue)
        self.queue = [m for m in self.queue if m.handle != receipt_handle or not m.handle]
        return len(self.queue) < before

    def dead_letters(self):
        return self.dlq[:]

    def counts(self, now):
        visible = sum(m.visible_at <= now for m in self.queue)
        return {"in_flight": len(self.queue) - visible, "visible": visible}
''',
    "fifo_queue": '''
import uuid


class FifoQueue:
    def __init__(self, visibility_timeout, dedup_window=300):
        if not (0 <= visibility_timeout <= 43200) or dedup_window <= 0:
            raise ValueError("bad settings")
        self.vt, self.window = visibility_timeout, dedup_window
        self.first_seen = {}
        self.items = []  # dicts in send order

    def send(self, message_id, group, body, dedup_id, now):
        t = self.first_seen.get(dedup_id)
        if t is not None and now - t < self.window:
            return False
        self.first_seen[dedup_id] = now
        self.items.append({"id": message_id, "group": group, "body": body, "at": now, "n": 0, "h": None})
        return True

    def receive(self, now, max_messages=1):
        if type(max_messages) is not int or max_messages < 1 or max_messages > 10:
            raise ValueError(max_messages)
        seen, out = set(), []
        for item in self.items:
            if item["group"] in seen:
                continue
            seen.add(item["group"])
            if item["at"] <= now and len(out) < max_messages:
                item["n"] += 1
                item["at"] = now + self.vt
                item["h"] = str(uuid.uuid4())
                out.append([item["id"], item["group"], item["body"], item["h"], item["n"]])
        return out

    def delete(self, receipt_handle, now):
        for i, item in enumerate(self.items):
            if item["h"] is not None and item["h"] == receipt_handle:
                self.items.pop(i)
                return True
        return False
''',
    "partitioning": '''
import zlib


def partition_for(key, partitions):
    if type(key) is not str:
        raise TypeError(key)
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions <= 0:
        raise ValueError(partitions)
    return zlib.crc32(bytes(key, "utf-8")) % partitions


def assign_partitions(partitions, members, strategy="range"):
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions <= 0:
        raise ValueError(partitions)
    if strategy not in {"range", "roundrobin"} or len(members) != len(set(members)):
        raise ValueError((strategy, members))
    names = sorted(members)
    n = len(names)
    if strategy == "roundrobin":
        return {name: list(range(i, partitions, n)) for i, name in enumerate(names)}
    result = {}
    for i, name in enumerate(names):
        start = i * (partitions // n) + min(i, partitions % n)
        stop = (i + 1) * (partitions // n) + min(i + 1, partitions % n)
        result[name] = list(range(start, stop))
    return result
''',
    "consumer_actions": '''
def consumer_actions(committed, end, batch_size, mode):
    for value in (committed, end, batch_size):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(value)
    if committed < 0 or end < committed or batch_size < 1:
        raise ValueError((committed, end, batch_size))
    if mode not in ("at-least-once", "at-most-once"):
        raise ValueError(mode)
    actions = []
    for start in range(committed, end, batch_size):
        stop = min(end, start + batch_size)
        if mode == "at-most-once":
            actions.append(["commit", stop])
        actions.extend(["process", offset] for offset in range(start, stop))
        if mode == "at-least-once":
            actions.append(["commit", stop])
    return actions
''',
    "inbox_plan": '''
def inbox_plan(message):
    mid = message.get("id")
    if type(mid) is not str or not mid:
        raise ValueError(mid)
    if type(message.get("account")) is not str:
        raise ValueError("account")
    cents = message.get("cents")
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise ValueError(cents)
    # the effect first, then the inbox row: the same transaction, so the order inside it does not matter
    return [["begin"], ["add", message["account"], cents], ["record", mid], ["commit"]]
''',
    "filter_policies": '''
import operator

OPS = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _num(x):
    return type(x) in (int, float)


def _same(a, b):
    return (_num(a) and _num(b) and a == b) or (type(a) is str and type(b) is str and a == b)


def _check(cond):
    if isinstance(cond, dict):
        if len(cond) != 1:
            raise ValueError(cond)
        op, arg = next(iter(cond.items()))
        if op == "prefix":
            if type(arg) is not str:
                raise ValueError(cond)
        elif op == "numeric":
            if type(arg) is not list or len(arg) not in (2, 4):
                raise ValueError(cond)
            for i in range(0, len(arg), 2):
                if arg[i] not in OPS or not _num(arg[i + 1]):
                    raise ValueError(cond)
        elif op != "anything-but":
            raise ValueError(cond)


def _hit(cond, value):
    if not isinstance(cond, dict):
        return _same(value, cond)
    op, arg = next(iter(cond.items()))
    if op == "prefix":
        return type(value) is str and value[:len(arg)] == arg
    if op == "numeric":
        return _num(value) and all(OPS[arg[i]](value, arg[i + 1]) for i in range(0, len(arg), 2))
    banned = arg if type(arg) is list else [arg]
    return all(not _same(value, b) for b in banned)


def matches(policy, attributes):
    for conditions in policy.values():
        if type(conditions) is not list or len(conditions) == 0:
            raise ValueError(conditions)
        for c in conditions:
            _check(c)
    for key, conditions in policy.items():
        if key not in attributes:
            return False
        if not any(_hit(c, attributes[key]) for c in conditions):
            return False
    return True


def fan_out(subscriptions, messages):
    routed = {queue: [] for queue in subscriptions}
    for message in messages:
        for queue, policy in subscriptions.items():
            if matches(policy, message["attributes"]):
                routed[queue].append(message["id"])
    return routed
''',
    "breaking_changes": '''
KNOWN = ("string", "integer", "number", "boolean", "object", "array")


def breaking_changes(old, new, direction):
    if direction != "response" and direction != "request":
        raise ValueError(direction)
    if any(spec.get("type") not in KNOWN for spec in list(old.values()) + list(new.values())):
        raise ValueError("type")
    found = {}
    response = direction == "response"
    for name in set(old) - set(new):
        if response:
            found[name] = ["removed"]
    for name in set(new) - set(old):
        if not response and new[name].get("required"):
            found[name] = ["new required field"]
    for name in set(old) & set(new):
        a, b = old[name], new[name]
        reasons = []
        if a["type"] != b["type"]:
            found[name] = ["type changed"]
            continue
        ra, rb = bool(a.get("required")), bool(b.get("required"))
        if response and ra and not rb:
            reasons.append("now optional")
        if not response and rb and not ra:
            reasons.append("now required")
        ea, eb = a.get("enum"), b.get("enum")
        if response and ea is not None and (eb is None or set(eb) - set(ea)):
            reasons.append("enum value added")
        if not response and eb is not None and (ea is None or set(ea) - set(eb)):
            reasons.append("enum value removed")
        if reasons:
            found[name] = reasons
    return [[name, reason] for name in sorted(found) for reason in found[name]]
''',
    "sync_vs_async": '''
import math
from functools import reduce


def sync_chain(availabilities, latencies_ms):
    if len(availabilities) == 0 or len(availabilities) != len(latencies_ms):
        raise ValueError("lengths")
    if min(availabilities) < 0 or max(availabilities) > 1 or min(latencies_ms) < 0:
        raise ValueError("ranges")
    return {"latency_ms": sum(float(t) for t in latencies_ms),
            "availability": reduce(lambda x, y: x * y, availabilities, 1.0)}


def fanout_slow_probability(n_services, p_slow):
    if isinstance(n_services, bool) or not isinstance(n_services, int) or n_services < 1:
        raise ValueError(n_services)
    if p_slow < 0 or p_slow > 1:
        raise ValueError(p_slow)
    if p_slow == 1:
        return 1.0
    return -math.expm1(n_services * math.log1p(-p_slow))
''',
    "age_autoscaler": '''
class AgeAutoscaler:
    def __init__(self, min_consumers, max_consumers, target_age_s):
        for n in (min_consumers, max_consumers):
            if isinstance(n, bool) or not isinstance(n, int):
                raise ValueError(n)
        if min_consumers < 0 or max_consumers < 1 or max_consumers < min_consumers or not target_age_s > 0:
            raise ValueError("limits")
        self.bounds = (min_consumers, max_consumers)
        self.target = target_age_s

    def decide(self, oldest_age_s, consumers):
        if oldest_age_s < 0:
            raise ValueError(oldest_age_s)
        if 4 * oldest_age_s < self.target:
            n = (4 * consumers) // 5
        elif 2 * oldest_age_s > self.target:
            base = consumers if consumers > 0 else 1
            n = -(-(2 * base * oldest_age_s) // self.target)
        else:
            n = consumers
        low, high = self.bounds
        return int(sorted((low, n, high))[1])
''',
    "queue_sizing": '''
def consumers_needed(arrival_rate, seconds_per_message, target_utilisation=0.8):
    if arrival_rate < 0 or not seconds_per_message > 0 or not (0 < target_utilisation <= 1):
        raise ValueError("bad sizing input")
    return int(-(-(arrival_rate * seconds_per_message) // target_utilisation))


def drain_seconds(backlog, consumers, seconds_per_message, arrival_rate):
    if isinstance(consumers, bool) or not isinstance(consumers, int):
        raise ValueError(consumers)
    if min(backlog, consumers, arrival_rate) < 0 or seconds_per_message <= 0:
        raise ValueError("negative input")
    if not backlog:
        return 0.0
    rate = consumers / seconds_per_message
    return backlog / (rate - arrival_rate) if rate > arrival_rate else None
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """inbox_accepts_bool_cents passes every visible test; only the hidden cases find it."""
    assert_caught_by_hidden_tests(reports["inbox_accepts_bool_cents"], INBOX, "seed 1241", "True")
