"""Reference answers and contracts for 12-messaging (hidden tests only; never shipped to learners).

Classes are graded through the drivers of ``course.messaging``, which run in the grader: the same driver
runs the learner's class and the models below, and the results are compared as plain data.

Sources for the semantics: Amazon SQS Developer Guide, "Amazon SQS visibility timeout",
"Amazon SQS dead-letter queues", "Amazon SQS FIFO queues" / "Exactly-once processing in Amazon SQS";
Amazon SNS Developer Guide, "Amazon SNS message filtering"; Apache Kafka documentation, "Consumer
configs" (``partition.assignment.strategy``) and ``RangeAssignor`` / ``RoundRobinAssignor``.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from autograde.contracts import OMIT, Contract, Rule, at_least, at_most, boundary, edge, greater_than, one_of
from course.messaging import crash_runs, inbox_scenario, run_autoscaler, run_fifo_ops, run_queue_ops  # noqa: F401

MAX_VISIBILITY = 43_200  # 12 hours: SQS's upper limit for a visibility timeout


def _check_timeout(visibility_timeout):
    if not 0 <= visibility_timeout <= MAX_VISIBILITY:
        raise ValueError("visibility_timeout must be in [0, 43200] seconds")


def _check_batch(max_messages):
    if type(max_messages) is not int or not 1 <= max_messages <= 10:
        raise ValueError("max_messages must be an int from 1 to 10")


# --------------------------------------------------------------------------- standard queue

class ModelQueue:
    def __init__(self, visibility_timeout, max_receive_count=None):
        _check_timeout(visibility_timeout)
        if max_receive_count is not None and (type(max_receive_count) is not int or
                                              not 1 <= max_receive_count <= 1000):
            raise ValueError("max_receive_count must be None or an int from 1 to 1000")
        self.timeout, self.max_count = visibility_timeout, max_receive_count
        self.messages = {}  # id -> dict(body, visible_at, count, handle), in send order
        self.dead = []
        self.issued = 0

    def send(self, message_id, body, now):
        self.messages[message_id] = {"body": body, "visible_at": now, "count": 0, "handle": None}

    def receive(self, now, max_messages=1):
        _check_batch(max_messages)
        out = []
        for message_id in list(self.messages):
            m = self.messages[message_id]
            if m["visible_at"] <= now and self.max_count is not None and m["count"] >= self.max_count:
                del self.messages[message_id]
                self.dead.append(message_id)
        for message_id, m in self.messages.items():
            if len(out) == max_messages:
                break
            if m["visible_at"] > now:
                continue
            m["count"] += 1
            m["visible_at"] = now + self.timeout
            self.issued += 1
            m["handle"] = f"h{self.issued}"
            out.append([message_id, m["body"], m["handle"], m["count"]])
        return out

    def delete(self, receipt_handle, now):
        for message_id, m in self.messages.items():
            if m["handle"] == receipt_handle:
                del self.messages[message_id]
                return True
        return False

    def dead_letters(self):
        return list(self.dead)

    def counts(self, now):
        in_flight = sum(1 for m in self.messages.values() if m["visible_at"] > now)
        return {"visible": len(self.messages) - in_flight, "in_flight": in_flight}


def queue_reference(queue_class, visibility_timeout, max_receive_count, ops):
    return run_queue_ops(ModelQueue, visibility_timeout, max_receive_count, ops)


def _draw_queue(rng):
    timeout = float(rng.choice([0, 1, 5, 30, 30, 120, 43_200]))
    max_count = None if rng.random() < 0.25 else int(rng.choice([1, 1, 2, 3, 5, 1000]))
    n_ids = int(rng.integers(1, 12))
    ops, now, sent, step = [], 0.0, 0, max(timeout, 1.0)
    for _ in range(int(rng.integers(1, 60))):
        u = rng.random()
        now += float(rng.choice([0, 0, step / 2, step, step * 1.5]))
        if u < 0.3 and sent < n_ids:
            ops.append(["send", f"m{sent}", f"body {sent} é" if sent % 4 == 3 else f"body {sent}", now])
            sent += 1
        elif u < 0.65:
            ops.append(["receive", now, int(rng.choice([1, 1, 2, 3, 10]))])
        elif u < 0.9 and sent:
            ops.append(["delete", f"m{int(rng.integers(sent))}", int(rng.choice([-1, -1, 0, 1])), now])
        elif u < 0.95:
            ops.append(["counts", now])
        else:
            ops.append(["dead"])
    ops.append(["dead"])
    return {"visibility_timeout": timeout, "max_receive_count": max_count, "ops": ops}


def _ops(*ops):
    return {"ops": [list(o) for o in ops]}


_TIMEOUT_AT = _ops(["send", "a", "x", 0.0], ["receive", 0.0, 1], ["receive", 29.999, 1], ["receive", 30.0, 1],
                   ["counts", 30.0])
QUEUE_RULES = [
    Rule("`visibility_timeout` is in [0, 43200] seconds (SQS's limits), else `ValueError`",
         at=[{"visibility_timeout": 0.0}, {"visibility_timeout": 43_200.0}],
         inside=[{"visibility_timeout": 0.5}, {"visibility_timeout": 43_199.0}],
         outside=[{"visibility_timeout": -0.5}, {"visibility_timeout": 43_201.0}]),
    Rule("`max_receive_count` is None (no dead-letter queue) or an int (not a bool or float) from 1 to 1000, "
         "else `ValueError`",
         at=[{"max_receive_count": 1}, {"max_receive_count": 1000}, {"max_receive_count": None}],
         inside=[{"max_receive_count": 2}, {"max_receive_count": 999}],
         outside=[{"max_receive_count": 0}, {"max_receive_count": 1001}, {"max_receive_count": 2.0},
                  {"max_receive_count": True}]),
    Rule("`max_messages` is an int from 1 to 10, else `ValueError`",
         at=[_ops(["send", "a", "x", 0.0], ["receive", 0.0, 1]), _ops(["send", "a", "x", 0.0], ["receive", 0.0, 10])],
         inside=[_ops(["send", "a", "x", 0.0], ["receive", 0.0, 2]),
                 _ops(["send", "a", "x", 0.0], ["receive", 0.0, 9])],
         outside=[_ops(["receive", 0.0, 0]), _ops(["receive", 0.0, 11]), _ops(["receive", 0.0, 2.0])]),
    boundary("a received message is invisible while `now < receive time + visibility_timeout` and visible again "
             "from that time on",
             at={"visibility_timeout": 30.0, "max_receive_count": None, **_TIMEOUT_AT},
             inside={"visibility_timeout": 30.0, "max_receive_count": None,
                     **_ops(["send", "a", "x", 0.0], ["receive", 0.0, 1], ["receive", 29.5, 1], ["counts", 29.5])},
             outside={"visibility_timeout": 30.0, "max_receive_count": None,
                      **_ops(["send", "a", "x", 0.0], ["receive", 0.0, 1], ["receive", 30.5, 1], ["counts", 30.5])}),
    edge("receiving one message does not restart the timeout of another one in flight",
         {"visibility_timeout": 30.0, "max_receive_count": None,
          **_ops(["send", "a", "x", 0.0], ["send", "b", "y", 0.0], ["receive", 0.0, 1], ["receive", 20.0, 1],
                 ["receive", 30.0, 1], ["receive", 50.0, 1], ["counts", 50.0])}),
    edge("receive is at-least-once: a message received and not deleted comes back, with its receive count "
         "raised; received messages are not deleted",
         {"visibility_timeout": 5.0, "max_receive_count": None,
          **_ops(["send", "a", "x", 0.0], ["receive", 0.0, 1], ["receive", 5.0, 1], ["receive", 10.0, 1],
                 ["delete", "a", -1, 10.0], ["receive", 20.0, 1], ["counts", 20.0])}),
    edge("a delete with a stale receipt handle (the message was received again since) returns False and "
         "deletes nothing; the latest handle deletes it, even after its timeout ran out",
         {"visibility_timeout": 5.0, "max_receive_count": None,
          **_ops(["send", "a", "x", 0.0], ["receive", 0.0, 1], ["receive", 6.0, 1], ["delete", "a", 0, 7.0],
                 ["counts", 7.0], ["delete", "a", -1, 20.0], ["delete", "a", -1, 20.0], ["counts", 20.0])}),
    boundary("a message received `max_receive_count` times moves to the dead-letter queue (`dead_letters()`, in "
             "the order moved) when it is visible again and a receive comes: every receive first moves all such "
             "messages, oldest first, then returns others; nothing else moves messages",
             at={"visibility_timeout": 1.0, "max_receive_count": 2,
                 **_ops(["send", "a", "x", 0.0], ["receive", 0.0, 1], ["receive", 1.0, 1], ["dead"],
                        ["receive", 2.0, 1], ["dead"], ["counts", 2.0])},
             inside={"visibility_timeout": 1.0, "max_receive_count": 2,
                     **_ops(["send", "a", "x", 0.0], ["receive", 0.0, 1], ["receive", 1.0, 1], ["dead"],
                            ["counts", 1.5])},
             outside={"visibility_timeout": 1.0, "max_receive_count": 2,
                      **_ops(["send", "a", "x", 0.0], ["send", "b", "y", 0.0], ["receive", 0.0, 2],
                             ["receive", 1.0, 2], ["receive", 2.0, 2], ["receive", 3.0, 2], ["dead"],
                             ["counts", 3.0])}),
    edge("a receive returns visible messages oldest first, at most `max_messages`, skipping those dead-lettered",
         {"visibility_timeout": 10.0, "max_receive_count": 1,
          **_ops(["send", "a", "x", 0.0], ["send", "b", "y", 1.0], ["receive", 1.0, 1], ["send", "c", "z", 2.0],
                 ["receive", 11.0, 2], ["receive", 30.0, 10], ["dead"])}),
    edge("`max_messages` defaults to 1",
         {"visibility_timeout": 10.0, "max_receive_count": None,
          **_ops(["send", "a", "x", 0.0], ["send", "b", "y", 0.0], ["receive", 0.0], ["receive", 0.0])}),
    edge("an empty queue returns an empty list; an unknown handle deletes nothing",
         {"visibility_timeout": 10.0, "max_receive_count": 3,
          **_ops(["receive", 0.0, 10], ["delete", "zz", -1, 0.0], ["counts", 0.0], ["dead"])}),
]


# --------------------------------------------------------------------------- FIFO queue

class ModelFifo:
    def __init__(self, visibility_timeout, dedup_window=300):
        _check_timeout(visibility_timeout)
        if not dedup_window > 0:
            raise ValueError("dedup_window must be > 0")
        self.timeout, self.window = visibility_timeout, dedup_window
        self.messages = {}  # id -> dict, send order
        self.seen = {}  # dedup_id -> time first accepted
        self.issued = 0

    def send(self, message_id, group, body, dedup_id, now):
        first = self.seen.get(dedup_id)
        if first is not None and now < first + self.window:
            return False
        self.seen[dedup_id] = now
        self.messages[message_id] = {"group": group, "body": body, "visible_at": now, "count": 0, "handle": None}
        return True

    def receive(self, now, max_messages=1):
        _check_batch(max_messages)
        heads, out = {}, []
        for message_id, m in self.messages.items():
            heads.setdefault(m["group"], (message_id, m))
        for message_id, m in heads.values():
            if len(out) == max_messages:
                break
            if m["visible_at"] > now:
                continue  # in flight: the group waits
            m["count"] += 1
            m["visible_at"] = now + self.timeout
            self.issued += 1
            m["handle"] = f"f{self.issued}"
            out.append([message_id, m["group"], m["body"], m["handle"], m["count"]])
        return out

    def delete(self, receipt_handle, now):
        for message_id, m in self.messages.items():
            if m["handle"] == receipt_handle:
                del self.messages[message_id]
                return True
        return False


def fifo_reference(queue_class, visibility_timeout, dedup_window, ops):
    return run_fifo_ops(ModelFifo, visibility_timeout, dedup_window, ops)


def _draw_fifo(rng):
    timeout = float(rng.choice([0, 1, 5, 30, 30, 120]))
    window = float(rng.choice([1, 10, 60, 300, 300, 3600]))
    groups = ["g1", "g2", "G1", "grüppe"][: int(rng.integers(1, 5))]
    ops, now, sent = [], 0.0, 0
    for _ in range(int(rng.integers(1, 60))):
        u = rng.random()
        now += float(rng.choice([0, 0, 0.5, max(timeout, 1.0), window / 2, window]))
        if u < 0.35:
            dedup = f"d{int(rng.integers(sent + 1))}" if rng.random() < 0.3 else f"d{sent}"
            ops.append(["send", f"m{sent}", str(rng.choice(groups)), f"body {sent}", dedup, now])
            sent += 1
        elif u < 0.7:
            ops.append(["receive", now, int(rng.choice([1, 1, 2, 3, 10]))])
        elif sent:
            ops.append(["delete", f"m{int(rng.integers(sent))}", int(rng.choice([-1, -1, -1, 0])), now])
    return {"visibility_timeout": timeout, "dedup_window": window, "ops": ops}


FIFO_RULES = [
    Rule("`visibility_timeout` is in [0, 43200] seconds, else `ValueError`",
         at=[{"visibility_timeout": 0.0}, {"visibility_timeout": 43_200.0}],
         inside=[{"visibility_timeout": 0.5}, {"visibility_timeout": 43_199.0}],
         outside=[{"visibility_timeout": -0.5}, {"visibility_timeout": 43_201.0}]),
    Rule("`dedup_window` > 0 seconds, else `ValueError`",
         at={"dedup_window": 0.0}, inside={"dedup_window": 0.5}, outside={"dedup_window": -1.0}, at_allowed=False),
    boundary("a send whose `dedup_id` was accepted at time t is a duplicate (returns False, nothing is queued) "
             "while `now < t + dedup_window`, and accepted again from then on",
             at={"dedup_window": 300.0, "ops": [["send", "a", "g", "x", "d", 0.0], ["send", "b", "g", "x", "d", 300.0],
                                               ["receive", 300.0, 10]]},
             inside={"dedup_window": 300.0, "ops": [["send", "a", "g", "x", "d", 0.0],
                                                   ["send", "b", "g", "x", "d", 299.5], ["receive", 299.5, 10]]},
             outside={"dedup_window": 300.0, "ops": [["send", "a", "g", "x", "d", 0.0],
                                                    ["send", "b", "g", "x", "d", 300.5], ["receive", 300.5, 10]]}),
    edge("a duplicate does not restart the window: it counts from the accepted send",
         {"dedup_window": 300.0, "ops": [["send", "a", "g", "x", "d", 0.0], ["send", "b", "g", "x", "d", 200.0],
                                         ["send", "c", "g", "x", "d", 350.0], ["receive", 350.0, 10]]}),
    edge("one message in flight per group: the next message of a group waits until the one before is deleted "
         "(or its timeout runs out, and it is delivered again first)",
         {"visibility_timeout": 10.0,
          "ops": [["send", "a", "g", "x", "d1", 0.0], ["send", "b", "g", "y", "d2", 0.0], ["receive", 0.0, 10],
                  ["receive", 5.0, 10], ["receive", 10.0, 10], ["delete", "a", -1, 11.0], ["receive", 11.0, 10]]}),
    edge("a slow group does not hold up the others: other groups' messages are delivered meanwhile",
         {"visibility_timeout": 30.0,
          "ops": [["send", "a", "slow", "x", "d1", 0.0], ["send", "b", "slow", "y", "d2", 0.0],
                  ["send", "c", "fast", "z", "d3", 0.0], ["send", "e", "fast", "w", "d4", 0.0],
                  ["receive", 0.0, 1], ["receive", 1.0, 1], ["delete", "c", -1, 2.0], ["receive", 2.0, 1],
                  ["receive", 3.0, 10]]}),
    edge("a receive returns at most one message per group, groups ordered by their oldest message; group names "
         "that differ only in case, and non-ASCII ones, are different groups",
         {"visibility_timeout": 30.0,
          "ops": [["send", "a", "g", "x", "d1", 0.0], ["send", "b", "G", "y", "d2", 0.0],
                  ["send", "c", "g", "z", "d3", 0.0], ["send", "e", "grüppe", "w", "d4", 0.0], ["receive", 0.0, 10],
                  ["receive", 0.0, 10]]}),
    Rule("`max_messages` is an int from 1 to 10, else `ValueError`",
         at=[{"ops": [["send", "a", "g", "x", "d", 0.0], ["receive", 0.0, 1]]},
             {"ops": [["send", "a", "g", "x", "d", 0.0], ["receive", 0.0, 10]]}],
         inside=[{"ops": [["send", "a", "g", "x", "d", 0.0], ["receive", 0.0, 2]]},
                 {"ops": [["send", "a", "g", "x", "d", 0.0], ["receive", 0.0, 9]]}],
         outside=[{"ops": [["receive", 0.0, 0]]}, {"ops": [["receive", 0.0, 11]]}, {"ops": [["receive", 0.0, 2.0]]}]),
    edge("`max_messages` defaults to 1",
         {"visibility_timeout": 10.0, "ops": [["send", "a", "g", "x", "d1", 0.0], ["send", "b", "h", "y", "d2", 0.0],
                                             ["receive", 0.0], ["receive", 0.0]]}),
    edge("a delete with a stale receipt handle returns False and deletes nothing",
         {"visibility_timeout": 5.0,
          "ops": [["send", "a", "g", "x", "d1", 0.0], ["receive", 0.0, 1], ["receive", 5.0, 1],
                  ["delete", "a", 0, 6.0], ["receive", 11.0, 1], ["delete", "a", -1, 12.0], ["receive", 12.0, 1]]}),
]


# --------------------------------------------------------------------------- the partitioned log

def partition_for(key, partitions):
    if type(partitions) is not int or partitions < 1:
        raise ValueError("partitions must be an int >= 1")
    if not isinstance(key, str):
        raise TypeError("key must be a str")
    return zlib.crc32(key.encode("utf-8")) % partitions


def assign_partitions(partitions, members, strategy="range"):
    if type(partitions) is not int or partitions < 1:
        raise ValueError("partitions must be an int >= 1")
    if len(set(members)) != len(members):
        raise ValueError("members must be distinct")
    if strategy not in ("range", "roundrobin"):
        raise ValueError("strategy must be 'range' or 'roundrobin'")
    ordered = sorted(members)
    out = {m: [] for m in ordered}
    if not ordered:
        return out
    if strategy == "roundrobin":
        for p in range(partitions):
            out[ordered[p % len(ordered)]].append(p)
        return out
    share, extra = divmod(partitions, len(ordered))
    start = 0
    for i, m in enumerate(ordered):
        size = share + (1 if i < extra else 0)
        out[m] = list(range(start, start + size))
        start += size
    return out


_NAMES = ["c1", "c2", "c10", "C1", "consumer-é", "a", "b", "zeta", "node-3", "node-20", "x", "y"]


def _draw_assign(rng):
    k = int(rng.integers(0, 12))
    return {"partitions": int(rng.choice([1, 2, 3, 5, 6, 7, 12, 16, 50, 100])),
            "members": [str(x) for x in rng.permutation(_NAMES)[:k]],
            "strategy": str(rng.choice(["range", "roundrobin"]))}


def consumer_actions(committed, end, batch_size, mode):
    if type(committed) is not int or committed < 0 or type(end) is not int or end < committed:
        raise ValueError("need ints 0 <= committed <= end")
    if type(batch_size) is not int or batch_size < 1:
        raise ValueError("batch_size must be an int >= 1")
    if mode not in ("at-least-once", "at-most-once"):
        raise ValueError("mode must be 'at-least-once' or 'at-most-once'")
    actions = []
    for start in range(committed, end, batch_size):
        stop = min(start + batch_size, end)
        work = [["process", o] for o in range(start, stop)]
        commit = [["commit", stop]]
        actions += work + commit if mode == "at-least-once" else commit + work
    return actions


def crash_counts(consumer_actions_fn, end, batch_size, mode):
    """What ``crash_runs`` reports for the reference consumer (hidden check of the learner's plans)."""
    return crash_runs(consumer_actions, end, batch_size, mode)


def crash_cases(seed, n):
    rng = np.random.default_rng(seed)
    return [_draw_crash(rng) for _ in range(n)]


def _draw_consumer(rng):
    committed = int(rng.integers(0, 30))
    return {"committed": committed, "end": committed + int(rng.integers(0, 40)),
            "batch_size": int(rng.choice([1, 2, 3, 5, 10, 100])),
            "mode": str(rng.choice(["at-least-once", "at-most-once"]))}


def _draw_crash(rng):
    return {"end": int(rng.integers(0, 25)), "batch_size": int(rng.choice([1, 2, 3, 4, 7, 10, 50])),
            "mode": str(rng.choice(["at-least-once", "at-most-once"]))}


# --------------------------------------------------------------------------- inbox

def reference_inbox_plan(message):
    if not isinstance(message.get("id"), str) or not message["id"]:
        raise ValueError("a message id is a non-empty str")
    if not isinstance(message.get("account"), str) or type(message.get("cents")) is not int:
        raise ValueError("account is a str and cents an int")
    return [["begin"], ["record", message["id"]], ["add", message["account"], message["cents"]], ["commit"]]


def inbox_reference(inbox_plan, deliveries):
    return inbox_scenario(reference_inbox_plan, deliveries)


def _message(rng, i):
    return {"id": str(rng.choice([f"msg-{i}", f"MSG-{i}", f"msg-é{i}", f"{i}"])),
            "account": str(rng.choice(["alice", "bob", "Bob", "zoë"])),
            "cents": int(rng.choice([1, 250, -100, 0, 10**9]))}


def _draw_inbox(rng):
    messages = [_message(rng, i) for i in range(int(rng.integers(1, 6)))]
    deliveries = []
    for _ in range(int(rng.integers(1, 25))):
        m = messages[int(rng.integers(len(messages)))]
        deliveries.append([m, None if rng.random() < 0.5 else int(rng.integers(0, 6))])
    return {"deliveries": deliveries}


_M1 = {"id": "m1", "account": "alice", "cents": 500}
_M2 = {"id": "m2", "account": "bob", "cents": -200}


def _crash_everywhere(messages):
    out = []
    for m in messages:
        out += [[m, k] for k in range(5)] + [[m, None], [m, None]]
    return {"deliveries": out}


# --------------------------------------------------------------------------- filter policies

def _condition_matches(condition, value):
    if isinstance(condition, dict):
        if len(condition) != 1:
            raise ValueError("a condition object has exactly one operator")
        (op, arg), = condition.items()
        if op == "prefix":
            if not isinstance(arg, str):
                raise ValueError("prefix takes a str")
            return isinstance(value, str) and value.startswith(arg)
        if op == "anything-but":
            excluded = arg if isinstance(arg, list) else [arg]
            return not any(_same(value, x) for x in excluded)
        if op == "numeric":
            if not isinstance(arg, list) or len(arg) not in (2, 4):
                raise ValueError("numeric takes [op, n] or [op, n, op, n]")
            if not _is_number(value):
                return False
            for i in range(0, len(arg), 2):
                cmp, bound = arg[i], arg[i + 1]
                if cmp not in _CMP or not _is_number(bound):
                    raise ValueError(f"bad numeric comparison {cmp!r} {bound!r}")
                if not _CMP[cmp](value, bound):
                    return False
            return True
        raise ValueError(f"unknown operator {op!r}")
    return _same(value, condition)


_CMP = {"=": lambda a, b: a == b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _same(value, condition):
    if _is_number(condition):
        return _is_number(value) and value == condition
    return isinstance(value, str) and isinstance(condition, str) and value == condition


def matches(policy, attributes):
    for key, conditions in policy.items():  # an invalid policy is refused whatever the message
        if not isinstance(conditions, list) or not conditions:
            raise ValueError("each policy key takes a non-empty list of conditions")
        for c in conditions:
            _condition_matches(c, "")
            _condition_matches(c, 0)
    for key, conditions in policy.items():
        if key not in attributes or not any(_condition_matches(c, attributes[key]) for c in conditions):
            return False
    return True


def fan_out(subscriptions, messages):
    out = {}
    for queue, policy in subscriptions.items():
        out[queue] = [m["id"] for m in messages if matches(policy, m["attributes"])]
    return out


_STRINGS = ["order_placed", "order_paid", "ORDER_PLACED", "order", "", "refund", "é-order", "eu-west-1", "eu-", "us-east-1"]
_NUMBERS = [0, 1, 99.5, 100, 100.0, 250, -5, 1e6]


def _draw_condition(rng):
    u = rng.random()
    if u < 0.3:
        return str(rng.choice(_STRINGS))
    if u < 0.45:
        return _NUMBERS[int(rng.integers(len(_NUMBERS)))]
    if u < 0.65:
        return {"prefix": str(rng.choice(["order", "eu-", "ORDER", "é", "us-east-1", "x"]))}
    if u < 0.85:
        a = _NUMBERS[int(rng.integers(len(_NUMBERS)))]
        if rng.random() < 0.5:
            return {"numeric": [str(rng.choice(list(_CMP))), a]}
        return {"numeric": [">=", min(a, 100), "<", max(a, 100) + 1]}
    return {"anything-but": [str(rng.choice(_STRINGS)), _NUMBERS[int(rng.integers(len(_NUMBERS)))]][: int(rng.integers(1, 3))]}


def _draw_attributes(rng):
    out = {}
    for key in ("event", "region", "amount"):
        if rng.random() < 0.8:
            out[key] = str(rng.choice(_STRINGS)) if rng.random() < 0.6 else _NUMBERS[int(rng.integers(len(_NUMBERS)))]
    return out


def _draw_policy(rng):
    keys = [k for k in ("event", "region", "amount") if rng.random() < 0.5]
    return {k: [_draw_condition(rng) for _ in range(int(rng.integers(1, 4)))] for k in keys}


def _draw_matches(rng):
    return {"policy": _draw_policy(rng), "attributes": _draw_attributes(rng)}


def _draw_fan_out(rng):
    return {"subscriptions": {f"queue-{i}": _draw_policy(rng) for i in range(int(rng.integers(0, 5)))},
            "messages": [{"id": f"n{i}", "attributes": _draw_attributes(rng)} for i in range(int(rng.integers(0, 15)))]}


# --------------------------------------------------------------------------- API evolution

TYPES = ("string", "integer", "number", "boolean", "object", "array")


def _check_schema(schema):
    for name, spec in schema.items():
        if spec.get("type") not in TYPES:
            raise ValueError(f"field {name!r}: unknown type {spec.get('type')!r}")


def breaking_changes(old, new, direction):
    if direction not in ("response", "request"):
        raise ValueError("direction must be 'response' or 'request'")
    _check_schema(old)
    _check_schema(new)
    out = []
    for name in sorted(set(old) | set(new)):
        o, n = old.get(name), new.get(name)
        if n is None:
            if direction == "response":
                out.append([name, "removed"])
            continue
        if o is None:
            if direction == "request" and n.get("required", False):
                out.append([name, "new required field"])
            continue
        if o["type"] != n["type"]:
            out.append([name, "type changed"])
            continue
        o_req, n_req = o.get("required", False), n.get("required", False)
        if direction == "response" and o_req and not n_req:
            out.append([name, "now optional"])
        if direction == "request" and n_req and not o_req:
            out.append([name, "now required"])
        o_enum, n_enum = o.get("enum"), n.get("enum")
        # no enum means any value of the type: dropping the enum adds values, adding one removes values
        if direction == "response" and o_enum is not None and (n_enum is None or set(n_enum) - set(o_enum)):
            out.append([name, "enum value added"])
        if direction == "request" and n_enum is not None and (o_enum is None or set(o_enum) - set(n_enum)):
            out.append([name, "enum value removed"])
    return out


_FIELD_NAMES = ["id", "name", "email", "status", "created_at", "Name", "prénom", "tags", "field10", "field2"]


def _draw_field(rng):
    spec = {"type": str(rng.choice(TYPES[:4]))}
    if rng.random() < 0.6:
        spec["required"] = bool(rng.random() < 0.5)
    if spec["type"] == "string" and rng.random() < 0.4:
        spec["enum"] = sorted({str(rng.choice(["active", "banned", "pending", "ACTIVE"])) for _ in range(3)})
    return spec


def _mutate(rng, old):
    new = {k: dict(v) for k, v in old.items()}
    for _ in range(int(rng.integers(0, 4))):
        u = rng.random()
        names = sorted(new)
        if u < 0.2 and names:
            del new[str(rng.choice(names))]
        elif u < 0.4:
            new[str(rng.choice(_FIELD_NAMES))] = _draw_field(rng)
        elif u < 0.55 and names:
            name = str(rng.choice(names))
            new[name]["type"] = str(rng.choice(TYPES[:4]))
            new[name].pop("enum", None)
        elif u < 0.75 and names:
            new[str(rng.choice(names))]["required"] = bool(rng.random() < 0.5)
        elif names:
            name = str(rng.choice(names))
            if new[name]["type"] == "string":
                values = set(new[name].get("enum", ["active", "pending"]))
                if rng.random() < 0.5:
                    values.add(str(rng.choice(["archived", "deleted", "ACTIVE"])))
                elif len(values) > 1:
                    values.discard(sorted(values)[0])
                new[name]["enum"] = sorted(values)
                if rng.random() < 0.2:
                    del new[name]["enum"]
    return new


def _draw_schemas(rng):
    old = {str(n): _draw_field(rng) for n in rng.permutation(_FIELD_NAMES)[: int(rng.integers(0, 7))]}
    return {"old": old, "new": _mutate(rng, old), "direction": str(rng.choice(["response", "request"]))}


_USER_V1 = {"id": {"type": "integer", "required": True}, "name": {"type": "string", "required": True},
            "email": {"type": "string", "required": True}}
_USER_V2 = {"user_id": {"type": "integer", "required": True}, "full_name": {"type": "string", "required": True},
            "contact": {"type": "object", "required": True}}


# --------------------------------------------------------------------------- sync vs async

def sync_chain(availabilities, latencies_ms):
    if len(availabilities) != len(latencies_ms) or not availabilities:
        raise ValueError("one availability and one latency per service, at least one service")
    for a in availabilities:
        if not 0 <= a <= 1:
            raise ValueError("availabilities are fractions in [0, 1]")
    if min(latencies_ms) < 0:
        raise ValueError("latencies are >= 0")
    return {"availability": math.prod(availabilities), "latency_ms": float(sum(latencies_ms))}


def fanout_slow_probability(n_services, p_slow):
    if type(n_services) is not int or n_services < 1:
        raise ValueError("n_services is an int >= 1")
    if not 0 <= p_slow <= 1:
        raise ValueError("p_slow is a fraction in [0, 1]")
    return -math.expm1(n_services * math.log1p(-p_slow)) if p_slow < 1 else 1.0


# --------------------------------------------------------------------------- contracts

CONTRACTS = {c.name: c for c in [
    Contract("SQSQueue", queue_reference, draw=_draw_queue, supplied=("queue_class",),
             domain="timeouts from 0 to 12 hours, no DLQ or 1 to 1000 receives, 1 to 60 operations on up to 11 "
                    "messages, batches of 1 to 10, stale and made-up handles",
             rules=QUEUE_RULES),
    Contract("FifoQueue", fifo_reference, draw=_draw_fifo, supplied=("queue_class",),
             domain="timeouts from 0 to 120 s, windows from 1 s to 1 hour, 1 to 4 groups (names differing in case, "
                    "non-ASCII), repeated dedup ids, batches of 1 to 10",
             rules=FIFO_RULES),
    Contract("partition_for", partition_for,
             draw=lambda rng: {"key": str(rng.choice(["user-1", "user-2", "User-1", "zoë", "", "order:42", "a" * 50])),
                               "partitions": int(rng.choice([1, 2, 3, 6, 12, 64, 1000]))},
             domain="keys empty, ASCII, differing in case, non-ASCII; 1 to 1000 partitions",
             rules=[at_least("partitions", 1),
                    Rule("`key` is a str, else `TypeError`", at={"key": "k"}, inside={"key": "zoë"},
                         outside=[{"key": 42}, {"key": None}], raises=TypeError),
                    edge("one partition: every key goes to partition 0", {"partitions": 1, "key": "anything"})]),
    Contract("assign_partitions", assign_partitions, draw=_draw_assign,
             domain="1 to 100 partitions, 0 to 12 members (names that sort differently as text and as numbers, "
                    "differ in case, non-ASCII), both strategies",
             rules=[at_least("partitions", 1),
                    one_of("strategy", ["range", "roundrobin"], ["Range", "round-robin", "sticky"]),
                    Rule("members are distinct, else `ValueError`",
                         at={"members": ["a", "b"]}, inside={"members": ["a", "A"]},
                         outside={"members": ["a", "b", "a"]}),
                    edge("no members: an empty assignment", {"members": []}),
                    boundary("range: when partitions divide evenly every member gets the same count; otherwise the "
                             "first members in sorted order get one more",
                             at={"partitions": 6, "members": ["c2", "c1", "c3"], "strategy": "range"},
                             inside={"partitions": 7, "members": ["c2", "c1", "c3"], "strategy": "range"},
                             outside={"partitions": 5, "members": ["c2", "c1", "c3"], "strategy": "range"}),
                    edge("more members than partitions: the last members get none (an empty list)",
                         {"partitions": 2, "members": ["c3", "c1", "c2", "c4"]}),
                    edge("`strategy` defaults to 'range'", {"partitions": 7, "members": ["b", "a"],
                                                              "strategy": OMIT})]),
    Contract("consumer_actions", consumer_actions, draw=_draw_consumer,
             domain="committed offsets 0 to 29, 0 to 39 records to go, batches of 1 to 100, both modes",
             rules=[Rule("`committed` >= 0, else `ValueError`", at={"committed": 0, "end": 10},
                         inside={"committed": 1, "end": 10}, outside={"committed": -1, "end": 10}),
                    Rule("`end` >= `committed`, else `ValueError`", at={"committed": 5, "end": 5},
                         inside={"committed": 5, "end": 6}, outside={"committed": 5, "end": 4}),
                    # outside: nothing left to do, so a consumer without the check returns [] instead of looping
                    Rule("`batch_size` >= 1, else `ValueError`", at={"batch_size": 1}, inside={"batch_size": 2},
                         outside=[{"batch_size": 0, "committed": 5, "end": 5},
                                  {"batch_size": -1, "committed": 0, "end": 0}]),
                    one_of("mode", ["at-least-once", "at-most-once"], ["at_least_once", "exactly-once"]),
                    boundary("the last batch is cut short at `end`",
                             at={"committed": 0, "end": 6, "batch_size": 3},
                             inside={"committed": 0, "end": 5, "batch_size": 3},
                             outside={"committed": 0, "end": 7, "batch_size": 3}),
                    edge("nothing to do (`committed` == `end`): no actions", {"committed": 9, "end": 9})]),
    Contract("inbox_plan", inbox_reference, draw=_draw_inbox, supplied=("inbox_plan",),
             domain="1 to 5 messages (ids differing in case, non-ASCII; negative, zero and large amounts), 1 to 24 "
                    "deliveries, half of them dying after 0 to 5 statements",
             rules=[edge("a crash between any two steps, then redeliveries, applies each message exactly once",
                         _crash_everywhere([_M1, _M2])),
                    edge("a plain duplicate delivery changes nothing", {"deliveries": [[_M1, None], [_M1, None]]}),
                    edge("ids that differ only in case are different messages",
                         {"deliveries": [[_M1, None], [{**_M1, "id": "M1"}, None]]}),
                    edge("a message whose `id` is not a non-empty str, whose `account` is not a str or whose `cents` "
                         "is not an int (a bool or float) is refused with `ValueError` (the scenario shows "
                         "\"ValueError\") and changes nothing",
                         {"deliveries": [[{"id": "", "account": "a", "cents": 1}, None], [_M1, None]]},
                         {"deliveries": [[{"id": "x", "account": "a", "cents": True}, None]]},
                         {"deliveries": [[{"id": "x", "account": "a", "cents": 1.5}, None]]},
                         {"deliveries": [[{"id": 7, "account": "a", "cents": 1}, None]]},
                         {"deliveries": [[{"id": "x", "account": 5, "cents": 1}, None], [_M2, None]]},
                         {"deliveries": [[{"id": "é", "account": "", "cents": -1}, None]]})]),
    Contract("matches", matches, draw=_draw_matches,
             domain="policies of 0 to 3 keys, 1 to 3 conditions each (exact strings and numbers, prefix, numeric "
                    "ranges, anything-but), attributes present or missing, strings or numbers",
             rules=[edge("an empty policy matches every message", {"policy": {}, "attributes": {}}),
                    edge("keys are ANDed, the conditions of one key ORed",
                         {"policy": {"event": ["order_paid", "order_placed"], "region": [{"prefix": "eu-"}]},
                          "attributes": {"event": "order_placed", "region": "eu-west-1"}}),
                    edge("a prefix matches the start of a string, not only the whole string",
                         {"policy": {"region": [{"prefix": "eu-"}]}, "attributes": {"region": "eu-west-1"}}),
                    edge("exact matching is case-sensitive and typed: \"100\" is not 100",
                         {"policy": {"amount": [100]}, "attributes": {"amount": "100"}},
                         {"policy": {"event": ["ORDER_PLACED"]}, "attributes": {"event": "order_placed"}}),
                    boundary("numeric ranges include a bound only with `<=` / `>=`",
                             at={"policy": {"amount": [{"numeric": [">=", 100, "<", 200]}]},
                                 "attributes": {"amount": 100}},
                             inside={"policy": {"amount": [{"numeric": [">=", 100, "<", 200]}]},
                                     "attributes": {"amount": 199.5}},
                             outside={"policy": {"amount": [{"numeric": [">=", 100, "<", 200]}]},
                                      "attributes": {"amount": 200}}),
                    boundary("`>` leaves its bound out and `<=` takes it in: (100, 200] holds 200 but not 100",
                             at={"policy": {"amount": [{"numeric": [">", 100, "<=", 200]}]},
                                 "attributes": {"amount": 200}},
                             inside={"policy": {"amount": [{"numeric": [">", 100, "<=", 200]}]},
                                     "attributes": {"amount": 100.5}},
                             outside={"policy": {"amount": [{"numeric": [">", 100, "<=", 200]}]},
                                      "attributes": {"amount": 100}}),
                    edge("anything-but matches a present value not in its list; a missing attribute matches no "
                         "condition",
                         {"policy": {"event": [{"anything-but": ["refund"]}]}, "attributes": {"event": "order"}},
                         {"policy": {"event": [{"anything-but": ["refund"]}]}, "attributes": {}}),
                    Rule("an unknown operator, a malformed condition (two operators in one object, a prefix that "
                         "is not a str, a numeric list that is not [op, n] or [op, n, op, n] with the five ops and "
                         "numbers), or a policy key with an empty list, raises `ValueError`",
                         at=[{"policy": {"event": [{"prefix": "o"}]}},
                             {"policy": {"amount": [{"numeric": ["=", 5, "<=", 7.5]}]}}],
                         inside={"policy": {"event": ["o"]}},
                         outside=[{"policy": {"event": [{"suffix": "o"}]}}, {"policy": {"event": []}},
                                  {"policy": {"event": [{"prefix": "o", "anything-but": ["x"]}]}},
                                  {"policy": {"event": [{"prefix": 5}]}},
                                  {"policy": {"amount": [{"numeric": ["!=", 5]}]}},
                                  {"policy": {"amount": [{"numeric": [">", "5"]}]}},
                                  {"policy": {"amount": [{"numeric": [">", 5, "<"]}]}}])]),
    Contract("fan_out", fan_out, draw=_draw_fan_out,
             domain="0 to 4 subscribed queues, 0 to 14 messages",
             rules=[edge("no subscriptions: an empty dict; a queue nothing matches gets an empty list",
                         {"subscriptions": {}, "messages": [{"id": "n1", "attributes": {}}]},
                         {"subscriptions": {"q": {"event": ["x"]}}, "messages": [{"id": "n1", "attributes": {}}]})]),
    Contract("breaking_changes", breaking_changes, draw=_draw_schemas,
             domain="schemas of 0 to 6 fields, 0 to 3 random changes (removals, additions, type, required and enum "
                    "changes), both directions",
             rules=[one_of("direction", ["response", "request"], ["Response", "both"]),
                    Rule("a field type outside string, integer, number, boolean, object, array raises `ValueError`",
                         at={"old": {"id": {"type": "array"}}, "new": {"id": {"type": "array"}}},
                         inside={"old": {"id": {"type": "object"}}, "new": {"id": {"type": "object"}}},
                         outside={"old": {"id": {"type": "int"}}, "new": {"id": {"type": "int"}}}),
                    edge("the seed's user service: v1 plus `preferences` breaks nothing; its /v2 renames "
                         "(`user_id`, `full_name`, `contact`) break old clients",
                         {"old": _USER_V1, "new": {**_USER_V1, "preferences": {"type": "object"}},
                          "direction": "response"},
                         {"old": _USER_V1, "new": _USER_V2, "direction": "response"},
                         {"old": _USER_V1, "new": _USER_V2, "direction": "request"}),
                    edge("a removed response field breaks old clients even when it was optional",
                         {"old": {"nick": {"type": "string"}}, "new": {}, "direction": "response"}),
                    edge("adding a value to a response enum breaks old clients; removing one breaks old requests",
                         {"old": {"s": {"type": "string", "enum": ["a"]}},
                          "new": {"s": {"type": "string", "enum": ["a", "b"]}}, "direction": "response"},
                         {"old": {"s": {"type": "string", "enum": ["a", "b"]}},
                          "new": {"s": {"type": "string", "enum": ["a"]}}, "direction": "request"}),
                    edge("`required` defaults to False; no change at all breaks nothing",
                         {"old": _USER_V1, "new": _USER_V1}, {"old": {"x": {"type": "string"}},
                                                              "new": {"x": {"type": "string", "required": False}}})]),
    Contract("sync_chain", sync_chain,
             draw=lambda rng: (lambda k: {"availabilities": [float(1 - 10 ** -rng.uniform(0.5, 5)) for _ in range(k)],
                                          "latencies_ms": [round(float(rng.uniform(0, 300)), 2) for _ in range(k)]})(
                 int(rng.integers(1, 9))),
             domain="1 to 8 services, availabilities from 68% to 99.999%, latencies 0 to 300 ms",
             rules=[Rule("availabilities are fractions in [0, 1], else `ValueError`",
                         at={"availabilities": [1.0, 0.0], "latencies_ms": [1, 1]},
                         inside={"availabilities": [0.999, 0.001], "latencies_ms": [1, 1]},
                         outside=[{"availabilities": [99.9, 0.5], "latencies_ms": [1, 1]},
                                  {"availabilities": [0.5, -0.001], "latencies_ms": [1, 1]},
                                  {"availabilities": [1.001], "latencies_ms": [1]}]),
                    Rule("latencies >= 0, else `ValueError`",
                         at={"availabilities": [0.9], "latencies_ms": [0.0]},
                         inside={"availabilities": [0.9], "latencies_ms": [0.5]},
                         outside={"availabilities": [0.9], "latencies_ms": [-0.5]}),
                    Rule("one latency per availability and at least one service, else `ValueError`",
                         at={"availabilities": [0.9], "latencies_ms": [3]},
                         inside={"availabilities": [0.9, 0.8], "latencies_ms": [3, 4]},
                         outside=[{"availabilities": [0.9, 0.8], "latencies_ms": [3]},
                                  {"availabilities": [], "latencies_ms": []}])]),
    Contract("fanout_slow_probability", fanout_slow_probability,
             draw=lambda rng: {"n_services": int(rng.choice([1, 2, 5, 10, 50, 100, 1000, 10_000])),
                               "p_slow": float(rng.choice([0.0, 1e-4, 1e-3, 0.01, 0.05, 0.5, 1.0]))
                               if rng.random() < 0.5 else float(rng.uniform(0, 1))},
             domain="1 to 10,000 services, slow fractions anywhere in [0, 1]",
             rules=[at_least("n_services", 1),
                    Rule("`p_slow` is a fraction in [0, 1], else `ValueError`", at=[{"p_slow": 0.0}, {"p_slow": 1.0}],
                         inside=[{"p_slow": 0.001}, {"p_slow": 0.999}], outside=[{"p_slow": -0.001},
                                                                               {"p_slow": 1.001}]),
                    edge("one service: its own slow fraction", {"n_services": 1, "p_slow": 0.01})]),
]}


# --------------------------------------------------------------------------- hidden simulator checks

def simulation_cases(seed, n):
    rng = np.random.default_rng(seed)
    return [{"visibility_timeout": float(rng.choice([3, 5, 8])), "max_receive_count": int(rng.choice([1, 2, 3, 4])),
             "n_messages": int(rng.integers(5, 30)), "n_consumers": int(rng.integers(1, 4)),
             "seed": int(rng.integers(1_000_000))} for _ in range(n)]


# --------------------------------------------------------------------------- sizing (Little's law)

def consumers_needed(arrival_rate, seconds_per_message, target_utilisation=0.8):
    if arrival_rate < 0 or seconds_per_message <= 0 or not 0 < target_utilisation <= 1:
        raise ValueError("invalid sizing parameters")
    return math.ceil(arrival_rate * seconds_per_message / target_utilisation)


def drain_seconds(backlog, consumers, seconds_per_message, arrival_rate):
    if backlog < 0 or type(consumers) is not int or consumers < 0 or seconds_per_message <= 0 or arrival_rate < 0:
        raise ValueError("invalid drain parameters")
    if backlog == 0:
        return 0.0
    spare = consumers / seconds_per_message - arrival_rate
    return backlog / spare if spare > 0 else None


def _sizing_unambiguous(case):
    """A whole number of consumers in every order of computing it, or clearly not whole: near a whole
    number, float noise decides ceil (the exact boundary has its own rule, with numbers exact in binary)."""
    a, s, u = case["arrival_rate"], case["seconds_per_message"], case.get("target_utilisation", 0.8)
    if a < 0 or s <= 0 or not 0 < u <= 1:
        return True
    values = {a * s / u, a / u * s, s / u * a, a * (s / u)}
    if len(values) == 1 and float(next(iter(values))).is_integer():
        return True
    return all(abs(v - round(v)) > 1e-6 for v in values)


def _drain_unambiguous(case):
    if case["seconds_per_message"] <= 0 or type(case["consumers"]) is not int:
        return True
    spare = case["consumers"] / case["seconds_per_message"] - case["arrival_rate"]
    return abs(spare) > 1e-9 or spare == 0


SIZING_CONTRACTS = [
    Contract("consumers_needed", consumers_needed, accept=_sizing_unambiguous,
             draw=lambda rng: {"arrival_rate": round(float(10 ** rng.uniform(-1, 5)), 2),
                               "seconds_per_message": round(float(10 ** rng.uniform(-3, 2)), 3),
                               "target_utilisation": round(float(rng.uniform(0.05, 1.0)), 2)},
             domain="0.1 to 100,000 messages/s, 1 ms to 100 s a message, utilisation 5% to 100%",
             rules=[at_least("arrival_rate", 0, step=0.25), Rule(
                 "`seconds_per_message` > 0, else `ValueError`", at={"seconds_per_message": 0.0},
                 inside={"seconds_per_message": 0.25}, outside={"seconds_per_message": -0.25}, at_allowed=False),
                    greater_than("target_utilisation", 0, step=0.25),
                    at_most("target_utilisation", 1, step=0.25),
                    boundary("a load that needs exactly k consumers at the target gets k, not k + 1",
                             at={"arrival_rate": 16, "seconds_per_message": 0.25, "target_utilisation": 0.5},
                             inside={"arrival_rate": 15, "seconds_per_message": 0.25, "target_utilisation": 0.5},
                             outside={"arrival_rate": 17, "seconds_per_message": 0.25, "target_utilisation": 0.5}),
                    edge("no traffic needs no consumer", {"arrival_rate": 0}),
                    edge("`target_utilisation` defaults to 0.8",
                         {"arrival_rate": 100, "seconds_per_message": 0.5, "target_utilisation": OMIT})]),
    Contract("drain_seconds", drain_seconds, accept=_drain_unambiguous,
             draw=lambda rng: {"backlog": int(rng.choice([0, 1, 10, 1000, 100_000])) if rng.random() < 0.5
                               else int(rng.integers(0, 10**6)),
                               "consumers": int(rng.integers(0, 200)),
                               "seconds_per_message": float(rng.choice([0.01, 0.1, 0.25, 0.5, 1.0, 2.0, 10.0])),
                               "arrival_rate": round(float(rng.uniform(0, 500)), 1)},
             domain="backlogs of 0 to 10^6 messages, 0 to 199 consumers, 10 ms to 10 s a message, 0 to 500 "
                    "arrivals/s",
             rules=[at_least("backlog", 0), at_least("consumers", 0),
                    Rule("`consumers` is an int, else `ValueError`", at={"consumers": 3}, inside={"consumers": 4},
                         outside=[{"consumers": 2.5}, {"consumers": True}]),
                    Rule("`seconds_per_message` > 0, else `ValueError`", at={"seconds_per_message": 0.0},
                         inside={"seconds_per_message": 0.25}, outside={"seconds_per_message": -0.25},
                         at_allowed=False),
                    at_least("arrival_rate", 0, step=0.5),
                    boundary("a backlog drains only when the consumers outrun the arrivals; exactly even never "
                             "drains (None)",
                             at={"backlog": 100, "consumers": 10, "seconds_per_message": 0.5, "arrival_rate": 20.0},
                             inside={"backlog": 100, "consumers": 10, "seconds_per_message": 0.5,
                                     "arrival_rate": 19.5},
                             outside={"backlog": 100, "consumers": 10, "seconds_per_message": 0.5,
                                      "arrival_rate": 20.5}),
                    edge("an empty backlog is drained: 0.0, even with no consumer",
                         {"backlog": 0, "consumers": 0, "arrival_rate": 5.0})]),
]
CONTRACTS.update({c.name: c for c in SIZING_CONTRACTS})


# --------------------------------------------------------------------------- the age autoscaler

class ModelAgeScaler:
    def __init__(self, min_consumers, max_consumers, target_age_s):
        if type(min_consumers) is not int or min_consumers < 0:
            raise ValueError("min_consumers is an int >= 0")
        if type(max_consumers) is not int or max_consumers < max(1, min_consumers):
            raise ValueError("max_consumers is an int >= max(1, min_consumers)")
        if not target_age_s > 0:
            raise ValueError("target_age_s > 0")
        self.low, self.high, self.target = min_consumers, max_consumers, target_age_s

    def decide(self, oldest_age_s, consumers):
        if oldest_age_s < 0:
            raise ValueError("oldest_age_s >= 0")
        if oldest_age_s > self.target / 2:
            wanted = math.ceil(max(consumers, 1) * oldest_age_s / (self.target / 2))
        elif oldest_age_s < self.target / 4:
            wanted = consumers * 4 // 5
        else:
            wanted = consumers
        return max(self.low, min(self.high, wanted))


def autoscaler_reference(scaler_class, min_consumers, max_consumers, target_age_s, observations):
    return run_autoscaler(ModelAgeScaler, min_consumers, max_consumers, target_age_s, observations)


def _scale_value_unambiguous(age, consumers, target):
    c = max(consumers, 1)
    values = {c * age / (target / 2), c * age * 2 / target, c * (age / (target / 2)), 2 * c * age / target}
    if len(values) == 1 and float(next(iter(values))).is_integer():
        return True
    return all(abs(v - round(v)) > 1e-9 for v in values)


def _autoscaler_unambiguous(case):
    try:
        return all(_scale_value_unambiguous(a, c, case["target_age_s"]) for a, c in case["observations"]
                   if a > case["target_age_s"] / 2)
    except TypeError:
        return True


def _draw_autoscaler(rng):
    target = float(rng.choice([30, 60, 120, 300, 900, 3600]))
    low = int(rng.choice([0, 1, 1, 2, 5]))
    high = low + int(rng.choice([0, 1, 3, 10, 50, 500])) if low else int(rng.choice([1, 3, 10, 200]))
    obs = []
    for _ in range(int(rng.integers(1, 30))):
        u = rng.random()
        age = round(float(rng.uniform(0, target / 4)), 2) if u < 0.3 else \
            round(float(rng.uniform(target / 4, target / 2)), 2) if u < 0.5 else \
            round(float(rng.uniform(target / 2, 4 * target)), 2) if u < 0.9 else float(rng.choice([0.0, target / 4, target / 2]))
        obs.append([age, int(rng.integers(0, 3 * high + 2))])
    return {"min_consumers": low, "max_consumers": max(high, 1), "target_age_s": target, "observations": obs}


CONTRACTS["AgeAutoscaler"] = Contract(
    "AgeAutoscaler", autoscaler_reference, draw=_draw_autoscaler, accept=_autoscaler_unambiguous,
    supplied=("scaler_class",),
    domain="targets from 30 s to 1 hour, fleets of 0 to 505, 1 to 29 observations with ages from 0 to 4 targets and "
           "counts outside the limits too",
    rules=[Rule("`min_consumers` is an int >= 0, else `ValueError`", at={"min_consumers": 0, "max_consumers": 5},
                inside={"min_consumers": 1, "max_consumers": 5},
                outside=[{"min_consumers": -1, "max_consumers": 5}, {"min_consumers": 1.5, "max_consumers": 5}]),
           Rule("`max_consumers` is an int >= max(1, `min_consumers`), else `ValueError`",
                at=[{"min_consumers": 3, "max_consumers": 3}, {"min_consumers": 0, "max_consumers": 1}],
                inside={"min_consumers": 3, "max_consumers": 4},
                outside=[{"min_consumers": 3, "max_consumers": 2}, {"min_consumers": 0, "max_consumers": 0}]),
           Rule("`target_age_s` > 0, else `ValueError`", at={"target_age_s": 0.0}, inside={"target_age_s": 0.5},
                outside={"target_age_s": -1.0}, at_allowed=False),
           Rule("`oldest_age_s` >= 0, else `ValueError`",
                at={"target_age_s": 120.0, "observations": [[0.0, 4]]},
                inside={"target_age_s": 120.0, "observations": [[0.5, 4]]},
                outside={"target_age_s": 120.0, "observations": [[-0.5, 4]]}),
           boundary("scale out only when the age is over half the target, to ceil(max(consumers, 1) x age / "
                    "(target / 2))",
                    at={"min_consumers": 1, "max_consumers": 100, "target_age_s": 120.0,
                        "observations": [[60.0, 4], [60.25, 4]]},
                    inside={"min_consumers": 1, "max_consumers": 100, "target_age_s": 120.0,
                            "observations": [[59.75, 4]]},
                    outside={"min_consumers": 1, "max_consumers": 100, "target_age_s": 120.0,
                             "observations": [[90.0, 4], [600.0, 3]]}),
           boundary("scale in by a fifth (floor(consumers x 4 / 5)) only when the age is under a quarter of the "
                    "target",
                    at={"min_consumers": 1, "max_consumers": 100, "target_age_s": 120.0,
                        "observations": [[30.0, 10]]},
                    inside={"min_consumers": 1, "max_consumers": 100, "target_age_s": 120.0,
                            "observations": [[30.25, 10]]},
                    outside={"min_consumers": 1, "max_consumers": 100, "target_age_s": 120.0,
                             "observations": [[29.75, 10], [0.0, 7], [0.0, 1]]}),
           edge("no consumers and an old message: scale out from one, not from zero",
                {"min_consumers": 0, "max_consumers": 50, "target_age_s": 60.0, "observations": [[90.0, 0], [10.0, 0]]}),
           edge("every decision is clamped to [`min_consumers`, `max_consumers`], also for counts outside it",
                {"min_consumers": 2, "max_consumers": 6, "target_age_s": 60.0,
                 "observations": [[600.0, 5], [0.0, 2], [45.0, 9], [45.0, 0]]})])


def scaling_cases(seed, n):
    from course.messaging import arrivals_trace

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        minutes = int(rng.integers(60, 180))
        start = int(rng.integers(0, minutes // 2))
        slow_from = int(rng.integers(0, minutes))
        spm = float(rng.choice([0.1, 0.5, 1.0]))
        out.append({"arrivals": arrivals_trace(minutes, float(rng.uniform(5, 60)), float(rng.uniform(60, 200)), start,
                                               int(rng.integers(5, 60)), int(rng.integers(10**6))),
                    "seconds_per_message": [spm if m < slow_from else 2 * spm for m in range(minutes)],
                    "target_age_s": float(rng.choice([60, 120, 300])), "min_consumers": int(rng.choice([0, 1, 2])),
                    "max_consumers": int(rng.choice([50, 200, 400]))})
    return out
