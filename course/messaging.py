"""Drivers, simulators and figures for module 12 (messaging: queues, logs, inboxes, fan-out).

Every driver runs in the grader and calls the learner's class or function with plain data only; it
never holds a solution. A driver takes the class (or function) to drive as its first argument, so the
same driver runs the learner's code and the grader's reference model, and the two results are compared
as plain data.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

# --------------------------------------------------------------------------- queues


def _handles_of(handles: dict, message_id, which: int):
    received = handles.get(message_id, [])
    if -len(received) <= which < len(received):
        return received[which]
    return f"no-such-handle-{message_id}-{which}"


def run_queue_ops(queue_class: type, visibility_timeout, max_receive_count, ops: list) -> list:
    """Run ``ops`` on ``queue_class(visibility_timeout, max_receive_count)``; one result per op.

    - ``["send", message_id, body, now]`` -> None
    - ``["receive", now, max_messages]`` (or ``["receive", now]``: the default) ->
      ``[[message_id, body, receive_count], ...]``; the driver keeps
      each receipt handle, per message, in the order they were handed out
    - ``["delete", message_id, which, now]`` -> bool: deletes with the message's ``which``-th receipt handle
      (0 the first, -1 the latest; a handle that was never handed out is a made-up string)
    - ``["dead"]`` -> the queue's ``dead_letters()``; ``["counts", now]`` -> ``counts(now)``
    """
    queue = queue_class(visibility_timeout, max_receive_count)
    handles: dict = {}
    out = []
    for op in ops:
        kind = op[0]
        if kind == "send":
            out.append(queue.send(op[1], op[2], op[3]))
        elif kind == "receive":
            got = queue.receive(*op[1:3])  # ["receive", now] leaves max_messages to its default
            row = []
            for message_id, body, handle, count in got:
                handles.setdefault(message_id, []).append(handle)
                row.append([message_id, body, count])
            out.append(row)
        elif kind == "delete":
            out.append(queue.delete(_handles_of(handles, op[1], op[2]), op[3]))
        elif kind == "dead":
            out.append(queue.dead_letters())
        elif kind == "counts":
            out.append(queue.counts(op[1]))
        else:
            raise ValueError(f"unknown op {op!r}")
    return out


def run_fifo_ops(queue_class: type, visibility_timeout, dedup_window, ops: list) -> list:
    """Run ``ops`` on ``queue_class(visibility_timeout, dedup_window)``; one result per op.

    - ``["send", message_id, group, body, dedup_id, now]`` -> bool (False: a duplicate inside the window)
    - ``["receive", now, max_messages]`` -> ``[[message_id, group, body, receive_count], ...]``
    - ``["delete", message_id, which, now]`` -> bool, as in :func:`run_queue_ops`
    """
    queue = queue_class(visibility_timeout, dedup_window)
    handles: dict = {}
    out = []
    for op in ops:
        kind = op[0]
        if kind == "send":
            out.append(queue.send(op[1], op[2], op[3], op[4], op[5]))
        elif kind == "receive":
            got = queue.receive(*op[1:3])
            row = []
            for message_id, group, body, handle, count in got:
                handles.setdefault(message_id, []).append(handle)
                row.append([message_id, group, body, count])
            out.append(row)
        elif kind == "delete":
            out.append(queue.delete(_handles_of(handles, op[1], op[2]), op[3]))
        else:
            raise ValueError(f"unknown op {op!r}")
    return out


def consumer_simulation(queue_class: type, visibility_timeout: float, max_receive_count: int, n_messages: int,
                        n_consumers: int, seed: int, crash_p: float = 0.15, stall_p: float = 0.1,
                        poison_p: float = 0.05) -> dict:
    """Consumers that crash, stall past the visibility timeout and retry, on one queue, in whole seconds.

    Messages ``m0``, ``m1``, ... are sent one a second. Each second every idle consumer receives one
    message; it works on it for 1 to ``visibility_timeout - 1`` seconds and deletes it, except that it
    crashes (never deletes) with probability ``crash_p``, or stalls for twice the timeout and then deletes
    with its now stale handle with probability ``stall_p``; a poison message (chance ``poison_p``) always
    crashes its consumer. All randomness comes from ``seed`` and is drawn the same way whatever the queue
    does with it. Returns ``{"completed": ids whose delete succeeded, sorted, "processed": how many times
    each id was worked on (sorted pairs), "dead": dead_letters(), "timeline": [[t, visible, in_flight]]}``.
    """
    rng = np.random.default_rng(seed)
    queue = queue_class(visibility_timeout, max_receive_count)
    poison = {f"m{i}" for i in range(n_messages) if rng.random() < poison_p}
    busy: dict[int, tuple] = {}  # consumer -> (finish_time, message_id, handle, deletes)
    processed: dict[str, int] = {}
    completed = []
    timeline = []
    horizon = n_messages + visibility_timeout * (max_receive_count + 3) * 3 + 10
    for t in range(int(horizon)):
        if t < n_messages:
            queue.send(f"m{t}", f"body {t}", float(t))
        for consumer in range(n_consumers):
            fate, work = rng.random(), int(rng.integers(1, max(2, int(visibility_timeout))))
            if consumer in busy and busy[consumer][0] <= t:
                _, message_id, handle, deletes = busy.pop(consumer)
                if deletes and queue.delete(handle, float(t)):
                    completed.append(message_id)
            if consumer in busy:
                continue
            got = queue.receive(float(t), 1)
            if not got:
                continue
            message_id, _body, handle, _count = got[0]
            processed[message_id] = processed.get(message_id, 0) + 1
            if message_id in poison or fate < crash_p:
                busy[consumer] = (t + work, message_id, handle, False)
            elif fate < crash_p + stall_p:
                busy[consumer] = (t + 2 * int(visibility_timeout) + 1, message_id, handle, True)
            else:
                busy[consumer] = (t + work, message_id, handle, True)
        counts = queue.counts(float(t))
        timeline.append([t, counts["visible"], counts["in_flight"]])
    return {"completed": sorted(completed, key=lambda m: int(m[1:])),
            "processed": sorted([[k, v] for k, v in processed.items()], key=lambda kv: int(kv[0][1:])),
            "dead": queue.dead_letters(), "timeline": timeline}


def plot_queue_timeline(timeline: list, title: str):
    from course.plotting import new_figure

    t = [row[0] for row in timeline]
    fig, ax = new_figure(title, "time (s)", "messages")
    ax.plot(t, [row[1] for row in timeline], label="visible (waiting)")
    ax.plot(t, [row[2] for row in timeline], label="in flight (received, not deleted)")
    ax.legend()
    return fig, ax


# --------------------------------------------------------------------------- the partitioned log

def _carry_out(action, state: dict) -> None:
    if action[0] == "process":
        state["done"].append(action[1])
    elif action[0] == "commit":
        state["committed"] = action[1]
    else:
        raise ValueError(f"unknown action {action!r}: use ['process', offset] or ['commit', offset]")


def crash_runs(consumer_actions: Callable, end: int, batch_size: int, mode: str) -> dict:
    """Run a consumer of offsets ``0 .. end - 1`` once per crash point and count lost and duplicated work.

    A run asks ``consumer_actions(committed, end, batch_size, mode)`` for its plan, carries it out (a
    ``["process", offset]`` works on one record, a ``["commit", offset]`` stores the committed offset)
    and, in the run for crash point ``k``, dies after its ``k``-th action; the restarted consumer asks
    again from the last committed offset and runs to the end. Returns ``{"runs", "worst_lost",
    "worst_duplicated", "lost_runs", "duplicated_runs"}`` over every crash point (and one run without a crash).
    """
    plan = consumer_actions(0, end, batch_size, mode)
    results = []
    for crash_at in range(len(plan) + 1):  # crash_at == len(plan): the run without a crash
        state = {"committed": 0, "done": []}
        for action in plan[:crash_at]:
            _carry_out(action, state)
        if crash_at < len(plan):
            for action in consumer_actions(state["committed"], end, batch_size, mode):
                _carry_out(action, state)
        done = state["done"]
        results.append((sum(1 for o in range(end) if o not in done), len(done) - len(set(done))))
    return {"runs": len(results), "worst_lost": max(r[0] for r in results),
            "worst_duplicated": max(r[1] for r in results),
            "lost_runs": sum(1 for r in results if r[0]), "duplicated_runs": sum(1 for r in results if r[1])}


# --------------------------------------------------------------------------- the inbox on SQLite

INBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (message_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, cents INTEGER NOT NULL);
"""


class PlanError(ValueError):
    """A statement of an inbox plan is malformed."""


def _execute_inbox_plan(conn: sqlite3.Connection, plan: list, stop_after: int | None) -> int:
    """Run ``plan``; stop (the consumer dies) after ``stop_after`` statements. Returns statements run."""
    if not isinstance(plan, list):
        raise PlanError(f"a plan is a list of statements, got {type(plan).__name__}")
    for index, statement in enumerate(plan):
        if stop_after is not None and index >= stop_after:
            return index
        if not isinstance(statement, list) or not statement:
            raise PlanError(f"a statement is a non-empty list, got {statement!r}")
        kind = statement[0]
        if kind == "begin" and len(statement) == 1:
            conn.execute("BEGIN")
        elif kind == "commit" and len(statement) == 1:
            conn.execute("COMMIT")
        elif kind == "record" and len(statement) == 2 and isinstance(statement[1], str):
            conn.execute("INSERT INTO inbox (message_id) VALUES (?)", (statement[1],))
        elif kind == "add" and len(statement) == 3 and isinstance(statement[1], str) \
                and type(statement[2]) is int:
            conn.execute("INSERT INTO balances VALUES (?, ?) ON CONFLICT(account) DO UPDATE SET cents = cents + ?",
                         (statement[1], statement[2], statement[2]))
        else:
            raise PlanError(f"unknown statement {statement!r}: use ['begin'], ['commit'], ['record', message_id] "
                            "or ['add', account, cents]")
    return len(plan)


def inbox_scenario(inbox_plan: Callable, deliveries: list) -> dict:
    """Deliver messages to a consumer whose plans ``inbox_plan(message)`` run on a real SQLite database.

    A delivery is ``[message, crash_after]``: the consumer runs the plan for ``message`` and dies after
    ``crash_after`` statements (``None``: it does not die). A dying consumer's connection closes without a
    commit; a new one opens. A statement the database refuses (a message id already in the inbox) makes
    the consumer roll back and acknowledge the message: it was processed before. Returns
    ``{"results": per delivery "committed" (the plan ran to its end), "rolled back" (the consumer died, or the
    database refused a statement) or "ValueError", "balances": [[account,
    cents]] sorted, "inbox": sorted ids}``, read through a fresh connection (what a restart sees).
    """
    with tempfile.TemporaryDirectory(prefix="course-inbox-") as tmp:
        path = Path(tmp) / "inbox.db"
        conn = _connect(path)
        results = []
        try:
            for message, crash_after in deliveries:
                try:
                    plan = inbox_plan(dict(message))
                except Exception as exc:
                    if type(exc).__name__ != "ValueError":
                        raise
                    results.append("ValueError")
                    continue
                try:
                    ran = _execute_inbox_plan(conn, plan, crash_after)
                    # a crash and a refusal look the same from outside: the plan did not run to its end
                    results.append("rolled back" if ran < len(plan) else "committed")
                except sqlite3.IntegrityError:
                    results.append("rolled back")
                if conn.in_transaction or results[-1] != "committed":
                    conn.close()
                    conn = _connect(path)
        finally:
            conn.close()
        read = sqlite3.connect(str(path))
        try:
            balances = [list(r) for r in read.execute("SELECT account, cents FROM balances ORDER BY account")]
            inbox = [r[0] for r in read.execute("SELECT message_id FROM inbox ORDER BY message_id")]
        finally:
            read.close()
        return {"results": results, "balances": balances, "inbox": inbox}


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.executescript(INBOX_SCHEMA)
    return conn


def redelivery_schedule(messages: list, plan_length: int) -> list:
    """Every message delivered once per crash point ``0 .. plan_length - 1`` and then once without a
    crash, then once more: redelivery after a crash between every pair of steps, and a plain duplicate."""
    out = []
    for message in messages:
        for k in range(plan_length):
            out.append([message, k])
        out.append([message, None])
        out.append([message, None])
    return out


# --------------------------------------------------------------------------- sync vs async

def simulate_fanout(n_services: int, p_slow: float, fast_ms: float, slow_ms: float, requests: int,
                    seed: int) -> np.ndarray:
    """Latency (ms) of ``requests`` calls that each wait for ``n_services`` parallel calls; each call takes
    ``fast_ms`` or, with probability ``p_slow``, ``slow_ms`` (seeded)."""
    rng = np.random.default_rng(seed)
    slow = rng.random((requests, n_services)) < p_slow
    return np.where(slow.any(axis=1), slow_ms, fast_ms)


# --------------------------------------------------------------------------- back-pressure: scaling on age

def arrivals_trace(minutes: int, base_per_s: float, burst_per_s: float, burst_start: int, burst_minutes: int,
                   seed: int) -> list[int]:
    """Messages arriving each minute: Poisson around ``base_per_s``, ``burst_per_s`` during the burst (seeded)."""
    rng = np.random.default_rng(seed)
    rates = [burst_per_s if burst_start <= m < burst_start + burst_minutes else base_per_s for m in range(minutes)]
    return [int(rng.poisson(r * 60)) for r in rates]


def run_autoscaler(scaler_class: type, min_consumers, max_consumers, target_age_s, observations: list) -> list:
    """``scaler_class(min_consumers, max_consumers, target_age_s)``, then ``decide(oldest_age_s, consumers)`` for
    each ``[oldest_age_s, consumers]`` of ``observations``: the list of decisions."""
    scaler = scaler_class(min_consumers, max_consumers, target_age_s)
    return [scaler.decide(age, consumers) for age, consumers in observations]


def scaled_run(scaler_class: type, arrivals: list[int], seconds_per_message: list[float], target_age_s: float,
               min_consumers: int = 1, max_consumers: int = 200) -> dict:
    """:func:`simulate_scaling` with ``scaler_class(min_consumers, max_consumers, target_age_s)`` deciding."""
    scaler = scaler_class(min_consumers, max_consumers, target_age_s)
    return simulate_scaling(arrivals, seconds_per_message, scaler, target_age_s, 1.0, min_consumers, max_consumers)


def simulate_scaling(arrivals: list[int], seconds_per_message: list[float], policy, target_age_s: float,
                     assumed_seconds_per_message: float, min_consumers: int = 1, max_consumers: int = 200) -> dict:
    """Minute-by-minute queue with consumers scaled by ``policy`` (decided each minute, in effect the next).

    ``"length"``: AWS's backlog-per-instance target, computed once from ``assumed_seconds_per_message``
    (acceptable backlog per consumer = target age / assumed time per message). ``"age"``: scale out in
    proportion to the oldest message's age when it is over half the target, and in by 20% when it is
    under a quarter of it. ``seconds_per_message[m]`` is the real processing time in minute ``m``.
    ``policy`` may also be an object whose ``decide(oldest_age_s, consumers)`` returns the next count.
    Returns per minute ``consumers``, ``backlog`` and ``oldest_age_s``, and ``consumer_minutes``.
    """
    backlog: list[list[int]] = []  # [arrival minute, count], oldest first
    consumers = min_consumers
    out = {"consumers": [], "backlog": [], "oldest_age_s": []}
    per_consumer_target = target_age_s / assumed_seconds_per_message
    for minute, arriving in enumerate(arrivals):
        if arriving:
            backlog.append([minute, arriving])
        capacity = int(consumers * 60 / seconds_per_message[minute])
        while capacity and backlog:
            take = min(capacity, backlog[0][1])
            backlog[0][1] -= take
            capacity -= take
            if backlog[0][1] == 0:
                backlog.pop(0)
        waiting = sum(count for _, count in backlog)
        age = (minute + 1 - backlog[0][0]) * 60.0 if backlog else 0.0
        out["consumers"].append(consumers)
        out["backlog"].append(waiting)
        out["oldest_age_s"].append(age)
        if not isinstance(policy, str):  # an object with decide(oldest_age_s, consumers)
            wanted = policy.decide(age, consumers)
        elif policy == "length":
            wanted = int(np.ceil(waiting / per_consumer_target)) if waiting else min_consumers
        elif policy == "age":
            if age > target_age_s / 2:
                wanted = int(np.ceil(consumers * age / (target_age_s / 2)))
            elif age < target_age_s / 4:
                wanted = int(consumers * 0.8)
            else:
                wanted = consumers
        else:
            raise ValueError(f"unknown policy {policy!r}")
        consumers = max(min_consumers, min(max_consumers, wanted))
    out["consumer_minutes"] = int(sum(out["consumers"]))
    return out


def plot_scaling(runs: dict, target_age_s: float, title: str):
    from course.plotting import new_figure

    fig, ax = new_figure(title, "minute", "age of the oldest message (s)")
    for name, run in runs.items():
        ax.plot(run["oldest_age_s"], label=f"scaled on {name} ({run['consumer_minutes']:,} consumer-minutes)")
    ax.axhline(target_age_s, color="grey", linestyle="--", label=f"SLO: {target_age_s:.0f} s")
    ax.legend()
    return fig, ax
