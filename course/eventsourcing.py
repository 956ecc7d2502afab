"""Event sourcing, CQRS, the transactional outbox and sagas: the pieces module 09 builds on.

The learner writes an event store, an aggregate fold, a projection, an outbox writer and relay,
and a saga orchestrator. This module holds what they run against, and the *drivers* that the
tests use: each driver takes the learner's function or class plus plain data, exercises it, and
returns plain data (lists, dicts, numbers, strings) for ``autograde.verdict`` to compare or judge.

- Event store: ``ConcurrencyError`` (a stale writer's append), ``run_store`` (a script of appends
  and reads), ``concurrent_increments`` (writers in real threads racing on one stream, one call at a
  time), ``racing_appends`` (writers whose calls truly overlap, next to the learner's class).
- Copies, checked inside the learner's process: ``store_copy_probe`` (does editing what was appended
  or read change the store's history?), ``mutation_probe`` (which arguments did a call change in
  place?) and ``result_edit_probe`` (which arguments change when the caller edits the result?).
- Projections: ``run_projection`` (feed a sequence of deliveries, return the read model).
- Outbox: ``OUTBOX_SCHEMA``, ``connect``, ``execute_plan`` (run a transaction plan on SQLite),
  ``place_scenario``, ``FlakyBroker``, ``run_relay_round``, ``relay_scenario``, ``relay_summary`` (the
  scenario as every correct relay gives it), ``dual_write_vs_outbox``.
- Sagas: ``SAGA_STEPS``, ``Services``, ``saga_outcome``, ``saga_run``, ``saga_recovery``,
  ``saga_crash_runs``: a runtime that asks the learner's decision functions what to do next, does it,
  logs it, and crashes on demand.
- Figures and simulations: ``plot_time_travel``, ``plot_saga_timelines``, ``projection_lag``,
  ``plot_projection_lag``.

The learner's code never receives an object from here: the drivers pass it plain data and get plain
data back. That is what lets a grader run the learner's code in a separate, sandboxed process.

The probes and ``racing_appends`` are the exception: whether code changes its arguments in place,
hands out its own records, or races, cannot be seen across a process boundary (every argument and
result crosses it as a copy, and calls cross it one at a time). So test cells import them and wrap
them with ``autograde.beside.beside_learner``, which runs a fresh copy next to the learner's code;
they return plain data (a list of names, a dict of strings).
Randomness comes only from explicit seeds (``course.seeding.make_rng``).
"""

from __future__ import annotations

import inspect
import json
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from course.seeding import make_rng

__all__ = [
    "ConcurrencyError", "run_store", "concurrent_increments", "racing_appends", "store_copy_probe", "mutation_probe", "result_edit_probe",
    "run_projection",
    "OUTBOX_SCHEMA", "connect", "PlanError", "execute_plan", "place_scenario", "FlakyBroker", "run_relay_round",
    "relay_scenario", "relay_summary", "dual_write_vs_outbox",
    "SAGA_STEPS", "Services", "saga_outcome", "saga_run", "saga_recovery", "saga_crash_runs",
    "plot_time_travel", "plot_saga_timelines", "projection_lag", "plot_projection_lag",
]


# =========================================================================== event store

class ConcurrencyError(Exception):
    """An append's ``expected_version`` is not the stream's current version: someone else wrote first."""


# Errors are matched by class name: when a notebook is graded, the learner's code runs in another
# process and its exceptions come back as look-alike classes of the same name.
_APPEND_ERRORS = ("ConcurrencyError", "ValueError")


def run_store(store_class: type, ops: list) -> list:
    """Run a script of operations on a new ``store_class()`` and return one plain result per operation.

    Operations are lists:

    - ``["append", stream_id, events, expected_version]``: the new version, or ``"ConcurrencyError"`` /
      ``"ValueError"`` if the store raised that;
    - ``["read", stream_id, from_version]``: the records ``store.read(stream_id, from_version)`` returned
      (``["read", stream_id]``: ``store.read(stream_id)``, with its default);
    - ``["read_all", from_position]``: the records ``store.read_all(from_position)`` returned
      (``["read_all"]``: ``store.read_all()``).

    Any other exception propagates.
    """
    store = store_class()
    results = []
    for op in ops:
        kind = op[0]
        if kind == "append":
            _, stream_id, events, expected = op
            try:
                results.append(store.append(stream_id, json.loads(json.dumps(events)), expected))
            except Exception as exc:
                if type(exc).__name__ not in _APPEND_ERRORS:
                    raise
                results.append(type(exc).__name__)
        elif kind == "read":  # ["read", stream_id] calls read with its default from_version
            results.append(store.read(op[1], op[2]) if len(op) > 2 else store.read(op[1]))
        elif kind == "read_all":  # ["read_all"] calls read_all with its default from_position
            results.append(store.read_all(op[1]) if len(op) > 1 else store.read_all())
        else:
            raise ValueError(f"unknown operation {kind!r}")  # a bug in the script, not in the store
    return results


def concurrent_increments(store_class: type, n_threads: int, increments_per_thread: int,
                          seed: int) -> dict:
    """Race ``n_threads`` real threads, each adding ``increments_per_thread`` to a counter kept as a stream.

    Each writer reads the stream ``"counter"``, takes the last ``value`` (0 if empty) and appends one
    ``{"type": "Incremented", "data": {"value": last + 1, "writer": w}}`` with ``expected_version`` = the
    number of records it read; on ``ConcurrencyError`` it reads again and retries. In the first round
    every writer reads the empty stream, then all wait at a barrier and append together, so a store
    that does not check the expected version lets several of them "win" with the same value. Later
    rounds run freely, with seeded random pauses of up to 0.2 ms between a read and its append.

    Each single call to the store is made under one lock (when a notebook is graded the store lives in
    another process, reached through one channel), so the threads interleave between calls: the race
    tested is the stale read, which is what optimistic concurrency is for.

    Returns ``{"values": [...], "versions": [...], "conflicts": n, "appended": n, "errors": [...]}``.
    """
    store = store_class()
    barrier = threading.Barrier(n_threads)
    channel, lock = threading.Lock(), threading.Lock()
    totals = {"conflicts": 0, "appended": 0}
    errors: list[str] = []
    pauses = [make_rng(seed + w).uniform(0, 2e-4, size=1000) for w in range(n_threads)]

    def writer(w: int) -> None:
        done, attempt = 0, 0
        try:
            while done < increments_per_thread:
                with channel:
                    records = store.read("counter", 0)
                last = records[-1]["data"]["value"] if records else 0
                if attempt == 0:
                    barrier.wait(timeout=20)
                else:
                    time.sleep(float(pauses[w][attempt % 1000]))
                attempt += 1
                event = {"type": "Incremented", "data": {"value": last + 1, "writer": w}}
                try:
                    with channel:
                        store.append("counter", [event], len(records))
                except Exception as exc:
                    if type(exc).__name__ != "ConcurrencyError":
                        raise
                    with lock:
                        totals["conflicts"] += 1
                    continue
                with lock:
                    totals["appended"] += 1
                done += 1
                if attempt > 50 * increments_per_thread * n_threads:
                    raise RuntimeError(f"writer {w} gave up after {attempt} attempts")
        except Exception as exc:  # reported in the result, so the judge can say what went wrong
            barrier.abort()
            with lock:
                errors.append(f"writer {w}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    if any(t.is_alive() for t in threads):
        errors.append("a writer was still running after 30 s (a deadlock?)")
    with channel:
        final = store.read("counter", 0)
    return {"values": [r["data"]["value"] for r in final], "versions": [r["version"] for r in final],
            "conflicts": totals["conflicts"], "appended": totals["appended"], "errors": sorted(errors)}


class _YieldingKey(str):
    """A dict key (a ``str``, equal to and hashing like the plain one) whose every hashing pauses its
    thread for a moment, letting the other threads run: copying a dict that holds it (``copy.deepcopy``)
    hands the other threads a turn in the middle of the copy."""

    def __hash__(self) -> int:
        time.sleep(3e-4)  # long enough for a waiting thread to wake up and take its turn
        return str.__hash__(self)

    def __reduce__(self):
        return (_YieldingKey, (str(self),))


def racing_appends(store_class: type, n_threads: int = 8, rounds: int = 20, readers: int = 0) -> dict:
    """Race ``n_threads`` threads on one ``store_class()`` with no channel between them, in ``rounds``.

    In each round every thread waits at a barrier, then appends one event to stream ``"race"`` with
    ``expected_version`` = the round's starting version, all at once; exactly one of them must win and
    the others must get ``ConcurrencyError``. Unlike ``concurrent_increments``, the calls truly overlap:
    the thread switch interval is made tiny for the race, so a store that checks the version and
    stores the events in two steps without a lock lets two writers win the same round.

    With ``readers``, each append holds two events, whose data copies hand other threads a turn, and
    that many more threads call ``read("race", v)`` (even ones) or ``read_all(p)`` (odd ones) for the
    records after those they have seen, over and over, counting the *torn reads*: an odd number of records, half of an append
    (the events of one append are stored all or none, and a reader must not see half of them).

    Returns ``{"winners": [one count per round], "versions": [...], "errors": [...]}`` (and
    ``"torn_reads"`` with readers): a correct store gives ``[1] * rounds``, versions ``1..rounds`` (two
    per round with readers) and no torn read. Runs next to the learner's class
    (``autograde.beside.beside_learner``): across a process boundary the calls would be serialised.
    """
    import sys

    store = store_class()
    barrier = threading.Barrier(n_threads)
    lock = threading.Lock()
    winners = [0] * rounds
    errors: list[str] = []
    payload = {"note": "x" * 32, "lines": [{"sku": f"sku-{k}", "qty": k} for k in range(8)]}

    batch = 2 if readers else 1
    torn = [0]
    racing = threading.Event()

    def writer(w: int) -> None:
        try:
            for r in range(rounds):
                barrier.wait(timeout=20)
                events = [{"type": "Raced", "data": {"round": r, "writer": w, **payload}}]
                if readers:
                    events = [{"type": "Raced", "data": {_YieldingKey("round"): r, "part": p, "writer": w}}
                              for p in range(batch)]
                try:
                    store.append("race", events, r * batch)
                except Exception as exc:
                    if type(exc).__name__ != "ConcurrencyError":
                        raise
                    continue
                with lock:
                    winners[r] += 1
        except Exception as exc:  # reported in the result
            barrier.abort()
            with lock:
                errors.append(f"writer {w}: {type(exc).__name__}: {exc}")

    def reader(k: int) -> None:
        try:
            done = 0  # records seen so far, whole appends only: read only what is newer (short reads, many)
            while racing.is_set():  # even readers call read, odd ones read_all (one waiting on a lock must
                seen = store.read("race", done) if k % 2 == 0 else store.read_all(done)  # not hide the other)
                if len(seen) % batch:
                    with lock:
                        torn[0] += 1
                done += len(seen) - len(seen) % batch
        except Exception as exc:  # reported in the result
            with lock:
                errors.append(f"reader {k}: {type(exc).__name__}: {exc}")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    racing.set()
    try:
        watchers = [threading.Thread(target=reader, args=(k,), daemon=True) for k in range(readers)]
        threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(n_threads)]
        for t in watchers + threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        racing.clear()
        sys.setswitchinterval(interval)
    for t in watchers:
        t.join(timeout=30)
    if any(t.is_alive() for t in threads + watchers):
        errors.append("x: a thread was still running after 30 s (a deadlock?)")
    result = {"winners": winners, "versions": [r["version"] for r in store.read("race", 0)],
              "errors": sorted(set(e.split(": ", 1)[1] for e in errors))}
    if readers:
        result["torn_reads"] = torn[0]
    return result

# =========================================================================== copies (learner-side probes)

def _frozen(value: Any) -> str:
    """A text image of ``value`` to compare before and after (repr for anything JSON cannot write)."""
    return json.dumps(value, sort_keys=True, default=repr)


def _edit(records: Any) -> None:
    """What a careless caller does to records it was given: edit fields, nested data and the list."""
    if isinstance(records, list):
        for record in records:
            if isinstance(record, dict):
                record["type"] = "Edited"
                if "version" in record:
                    record["version"] = 99
                if isinstance(record.get("data"), dict):
                    record["data"]["qty"] = 99
        records.append({"type": "Forged", "data": {}})


def store_copy_probe(store_class: type) -> dict:
    """Whether a caller who edits what it gave to, or got from, a ``store_class()`` changes its history.

    Three fresh stores each get two events appended to stream ``"probe"``; then the caller edits the
    event list it appended (fields, nested data, the list), or what ``read("probe", 0)`` returned, or
    what ``read_all(0)`` returned. The history is what ``read`` and ``read_all`` return before and after.
    Returns ``{"after editing the appended events": ..., "after editing what read returned": ...,
    "after editing what read_all returned": ...}``, each ``"history unchanged"`` or ``"history changed"``.

    Runs in the learner's process (the notebook imports it in a provided cell): across a process
    boundary every argument and result is a copy, so sharing could not be seen.
    """
    def fresh():
        store = store_class()
        events = [{"type": "ItemAdded", "data": {"sku": "mug", "qty": 1}},
                  {"type": "ItemAdded", "data": {"sku": "pen", "qty": 2}}]
        store.append("probe", events, 0)
        return store, events

    def history(store) -> str:
        return _frozen([store.read("probe", 0), store.read_all(0)])

    result = {}
    for label, edit in (("after editing the appended events", lambda store, events: _edit(events)),
                        ("after editing what read returned", lambda store, events: _edit(store.read("probe", 0))),
                        ("after editing what read_all returned", lambda store, events: _edit(store.read_all(0)))):
        store, events = fresh()
        before = history(store)
        edit(store, events)
        result[label] = "history unchanged" if history(store) == before else "history changed"
    return result


def result_edit_probe(fn: Callable, args: list) -> list[str]:
    """Call ``fn(*args)``, then edit what it returned as a careless caller would (every dict in it gets
    a new key, every list a new item, at every depth), and return the names of the arguments that the
    edit changed: ``[]`` when the result shares no dict or list with the arguments. Runs in the
    learner's process (``autograde.beside.beside_learner``), like ``mutation_probe``.
    """
    if not isinstance(args, list):
        raise TypeError(f"args must be a list of positional arguments, got {type(args).__name__}")
    result = fn(*args)
    before = [_frozen(a) for a in args]

    def scribble(value: Any, depth: int = 0) -> None:
        if depth > 20:
            return
        if isinstance(value, dict):
            for item in list(value.values()):
                scribble(item, depth + 1)
            value["edited by the caller"] = 1
        elif isinstance(value, list):
            for item in list(value):
                scribble(item, depth + 1)
            value.append("edited by the caller")

    scribble(result)
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}"
            for i, a in enumerate(args) if _frozen(a) != before[i]]


def mutation_probe(fn: Callable, args: list) -> list[str]:
    """Call ``fn(*args)`` and return the names of the arguments it changed in place (``[]``: none).

    Names are ``fn``'s parameter names (``"argument 2"`` when they cannot be read). Whatever ``fn``
    returns is ignored; an exception from ``fn`` propagates. Runs in the learner's process (the
    notebook imports it in a provided cell): across a process boundary ``fn`` would get copies, and
    an in-place change could not be seen.
    """
    if not isinstance(args, list):
        raise TypeError(f"args must be a list of positional arguments, got {type(args).__name__}")
    before = [_frozen(a) for a in args]
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    fn(*args)
    return [names[i] if i < len(names) else f"argument {i + 1}"
            for i, a in enumerate(args) if _frozen(a) != before[i]]


# =========================================================================== projections

def run_projection(projection_class: type, deliveries: list[dict]) -> dict:
    """Feed every record in ``deliveries`` (in order, as copies) to ``projection_class().handle``
    and return ``projection.view()``."""
    projection = projection_class()
    for record in deliveries:
        projection.handle(json.loads(json.dumps(record)))
    return projection.view()


# =========================================================================== outbox

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id    TEXT PRIMARY KEY,
    customer    TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    status      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    aggregate_id TEXT NOT NULL,
    type         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    published    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS injected_failures (tbl TEXT NOT NULL, key TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS fail_orders BEFORE INSERT ON orders
    WHEN EXISTS (SELECT 1 FROM injected_failures WHERE tbl = 'orders' AND key = NEW.order_id)
    BEGIN SELECT RAISE(ABORT, 'injected failure writing orders'); END;
CREATE TRIGGER IF NOT EXISTS fail_outbox BEFORE INSERT ON outbox
    WHEN EXISTS (SELECT 1 FROM injected_failures WHERE tbl = 'outbox' AND key = NEW.aggregate_id)
    BEGIN SELECT RAISE(ABORT, 'injected failure writing outbox'); END;
"""
"""The shop database: ``orders``, the ``outbox`` of events to publish, and the machinery that lets a
scenario make one insert fail (as a constraint violation or a crash would)."""

_COLUMNS = {"orders": ("order_id", "customer", "total_cents", "status"),
            "outbox": ("aggregate_id", "type", "payload")}


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (and create if needed) the shop database at ``path``, in autocommit mode: a statement
    outside ``BEGIN`` ... ``COMMIT`` is committed on its own.

    Commits are not forced to disk (``PRAGMA synchronous = OFF``): the scenarios here kill
    connections, not machines, and a commit stays a commit for every other connection.
    """
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.executescript(OUTBOX_SCHEMA)
    return conn


class PlanError(ValueError):
    """A statement of a transaction plan is malformed (unknown kind, table or column)."""


def execute_plan(conn: sqlite3.Connection, plan: list) -> None:
    """Run a plan of statements on ``conn``: ``["begin"]``, ``["insert", table, row]``, ``["commit"]``.

    ``row`` is a dict of column values for ``orders`` or ``outbox`` (an outbox ``payload`` may be any
    JSON-serialisable value; it is stored as JSON text). Raises ``PlanError`` for a malformed statement
    and ``sqlite3.Error`` when the database refuses one.
    """
    if not isinstance(plan, list):
        raise PlanError(f"a plan is a list of statements, got {type(plan).__name__}")
    for statement in plan:
        if not isinstance(statement, list) or not statement:
            raise PlanError(f"a statement is a non-empty list, got {statement!r}")
        kind = statement[0]
        if kind == "begin" and len(statement) == 1:
            conn.execute("BEGIN")
        elif kind == "commit" and len(statement) == 1:
            conn.execute("COMMIT")
        elif kind == "insert" and len(statement) == 3 and statement[1] in _COLUMNS \
                and isinstance(statement[2], dict) and set(statement[2]) <= set(_COLUMNS[statement[1]]):
            table, row = statement[1], dict(statement[2])
            if "payload" in row:
                row["payload"] = json.dumps(row["payload"])
            names = list(row)
            conn.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                         [row[n] for n in names])
        else:
            raise PlanError(f"unknown statement {statement!r}: use ['begin'], ['commit'] or "
                            f"['insert', table, row] with table in {sorted(_COLUMNS)}")


def _committed(path: Path) -> dict:
    """The committed contents, read through a fresh connection (what survives a restart)."""
    conn = sqlite3.connect(str(path))
    try:
        orders = [list(r) for r in conn.execute(
            "SELECT order_id, customer, total_cents, status FROM orders ORDER BY order_id")]
        outbox = [[r[0], r[1], json.loads(r[2]), r[3]] for r in conn.execute(
            "SELECT aggregate_id, type, payload, published FROM outbox ORDER BY id")]
    finally:
        conn.close()
    return {"orders": orders, "outbox": outbox}


def place_scenario(place_order_plan: Callable, prices: dict, script: list) -> dict:
    """Place orders with the plans ``place_order_plan(order_id, customer, items, prices)`` returns.

    A step of ``script`` is ``[order_id, customer, items, fail]``: ``fail`` is ``None``, ``"orders"`` or
    ``"outbox"``, the table whose insert for this order is made to fail. The plan runs on a real SQLite
    database; when a statement fails, the service dies there: its connection closes without a commit
    and a new one opens. Returns ``{"results": [...], "orders": [...], "outbox": [...]}``: per step
    ``"ok"``, ``"ValueError"`` (the plan function refused the order) or ``"IntegrityError"`` (a
    statement failed); then the committed rows, read by a fresh connection: orders as
    ``[order_id, customer, total_cents, status]`` sorted by id, outbox rows as
    ``[aggregate_id, type, payload, published]`` in id order.
    """
    with tempfile.TemporaryDirectory(prefix="course-outbox-") as tmp:
        path = Path(tmp) / "shop.db"
        conn = connect(path)
        results = []
        try:
            for order_id, customer, items, fail in script:
                conn.execute("DELETE FROM injected_failures")
                if fail:
                    conn.execute("INSERT INTO injected_failures VALUES (?, ?)", (fail, order_id))
                try:
                    plan = place_order_plan(order_id, customer, json.loads(json.dumps(items)),
                                            json.loads(json.dumps(prices)))
                except Exception as exc:
                    if type(exc).__name__ != "ValueError":
                        raise
                    results.append("ValueError")
                    continue
                try:
                    execute_plan(conn, plan)
                    results.append("ok")
                except sqlite3.Error as exc:
                    results.append(type(exc).__name__)
                if conn.in_transaction or results[-1] != "ok":  # the service dies: uncommitted work is lost
                    conn.close()
                    conn = connect(path)
        finally:
            conn.close()
        return {"results": results, **_committed(path)}


class FlakyBroker:
    """A message broker whose deliveries follow a script.

    ``publish(message)`` takes the next outcome from ``outcomes`` (``"ok"`` once they run out):
    ``"ok"`` delivers; ``"down"`` raises ``ConnectionError`` and delivers nothing; ``"ack_lost"``
    delivers, then raises ``ConnectionError`` (the broker has the message, the sender never hears so).
    ``delivered`` lists every delivered message (copies), duplicates included.
    """

    def __init__(self, outcomes: list[str] | None = None):
        self.outcomes = list(outcomes or [])
        self.delivered: list[dict] = []

    def publish(self, message: Any) -> None:
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "down":
            raise ConnectionError("broker unavailable")
        self.delivered.append(json.loads(json.dumps(message)))
        if outcome == "ack_lost":
            raise ConnectionError("connection lost before the broker's acknowledgement")


def _unpublished(conn: sqlite3.Connection, rng) -> list[dict]:
    rows = [{"id": r[0], "aggregate_id": r[1], "type": r[2], "payload": json.loads(r[3])}
            for r in conn.execute("SELECT id, aggregate_id, type, payload FROM outbox WHERE published = 0")]
    if rng is not None:
        rng.shuffle(rows)  # a query without ORDER BY promises no order
    return rows


def run_relay_round(relay_actions: Callable, conn: sqlite3.Connection, broker: FlakyBroker,
                    crash_after: int | None = None, rng=None) -> dict:
    """One run of the relay process: read the unpublished rows, ask ``relay_actions(rows)`` what to do,
    and do it in order. ``["publish", message]`` calls ``broker.publish``; ``["mark", id]`` sets that
    row's ``published`` to 1 (committed). The round ends at the first publish that raises, or when the
    process "crashes" after ``crash_after`` actions. Returns ``{"ended": "done" | "broker error" |
    "crash", "actions": n}``.
    """
    plan = relay_actions(_unpublished(conn, rng))
    if not isinstance(plan, list):
        raise PlanError(f"relay_actions must return a list of actions, got {type(plan).__name__}")
    for done, action in enumerate(plan):
        if crash_after is not None and done >= crash_after:
            return {"ended": "crash", "actions": done}
        if isinstance(action, list) and len(action) == 2 and action[0] == "publish":
            try:
                broker.publish(action[1])
            except ConnectionError:
                return {"ended": "broker error", "actions": done}
        elif isinstance(action, list) and len(action) == 2 and action[0] == "mark" and type(action[1]) is int:
            conn.execute("UPDATE outbox SET published = 1 WHERE id = ?", (action[1],))
        else:
            raise PlanError(f"unknown relay action {action!r}: use ['publish', message] or ['mark', id]")
    return {"ended": "done", "actions": len(plan)}


def relay_scenario(relay_actions: Callable, events: list[dict], rounds: list, seed: int = 0) -> dict:
    """Fill the outbox with ``events`` (each ``{"aggregate_id", "type", "payload"}``), then run relay rounds.

    A round is ``[outcomes, crash_after]``: the broker's next outcomes (see ``FlakyBroker``) and the
    number of actions after which the relay process crashes (``None``: it does not). After the rounds,
    relay rounds with a healthy broker run until the outbox is empty (at most 5). Rows are handed to
    ``relay_actions`` in a seeded random order, as a query without ORDER BY may return them.

    Returns ``{"delivered": [...], "published": [...], "outbox_ids": [...], "rounds": [...]}``: every
    delivered message in order, each row's ``published`` flag (read by a fresh connection at the end),
    the outbox ids in order, and how each round ended.
    """
    rng = make_rng(seed)
    with tempfile.TemporaryDirectory(prefix="course-relay-") as tmp:
        path = Path(tmp) / "shop.db"
        conn = connect(path)
        for e in events:
            conn.execute("INSERT INTO outbox (aggregate_id, type, payload) VALUES (?, ?, ?)",
                         (e["aggregate_id"], e["type"], json.dumps(e["payload"])))
        broker, ended = FlakyBroker(), []
        try:
            for outcomes, crash_after in rounds:
                broker.outcomes = list(outcomes)
                ended.append(run_relay_round(relay_actions, conn, broker, crash_after, rng)["ended"])
            for _ in range(5):
                broker.outcomes = []
                ended.append(run_relay_round(relay_actions, conn, broker, None, rng)["ended"])
                if not _unpublished(conn, None):
                    break
        finally:
            conn.close()
        check = sqlite3.connect(str(path))
        try:
            rows = list(check.execute("SELECT id, published FROM outbox ORDER BY id"))
        finally:
            check.close()
        return {"delivered": broker.delivered, "published": [r[1] for r in rows],
                "outbox_ids": [r[0] for r in rows], "rounds": ended}


def relay_summary(relay_actions: Callable, events: list[dict], rounds: list, seed: int = 0) -> dict:
    """``relay_scenario``, summed up as every correct relay gives it (whether it marks each row right after
    its publish or publishes everything first, and however often it redelivers).

    Returns ``{"first_deliveries": [...], "messages": [...], "published": [...]}``: the row ids in the
    order of their first delivery, the first delivered message of each (in that order), and each row's
    ``published`` flag at the end. A correct relay gives the outbox ids in order, each row itself
    (``{"id", "aggregate_id", "type", "payload"}``), and all flags 1.
    """
    result = relay_scenario(relay_actions, events, rounds, seed)
    first: dict = {}
    for message in result["delivered"]:
        key = json.dumps(message.get("id") if isinstance(message, dict) else message, sort_keys=True)
        first.setdefault(key, message)
    messages = list(first.values())
    return {"first_deliveries": [m.get("id") if isinstance(m, dict) else None for m in messages],
            "messages": messages, "published": result["published"]}


def dual_write_vs_outbox(place_order_plan: Callable, relay_actions: Callable, n_orders: int,
                         crash_probability: float, seed: int) -> dict:
    """Place ``n_orders`` orders two ways while the service crashes with ``crash_probability`` right
    after its database commit.

    *Dual write* (the seed's "publish events to Kinesis after commit"): commit the order, then publish;
    a crash between the two loses the event. *Outbox*: the plan commits order and event together and
    the relay publishes; a crash only delays publication until the relay runs again, and a lost
    acknowledgement (same probability) causes a duplicate. Returns counts for each design.
    """
    rng = make_rng(seed)
    crashes = rng.random(n_orders) < crash_probability
    ack_lost = rng.random(n_orders) < crash_probability
    prices = {"mug": 1200}
    out = {}
    with tempfile.TemporaryDirectory(prefix="course-dual-") as tmp:
        conn, broker = connect(Path(tmp) / "dual.db"), FlakyBroker()
        for i in range(n_orders):
            conn.execute("INSERT INTO orders VALUES (?, 'c', 1200, 'placed')", (f"o{i}",))
            if not crashes[i]:
                broker.publish({"aggregate_id": f"o{i}", "type": "OrderPlaced"})
        conn.close()
        out["dual write"] = _delivery_counts(n_orders, broker.delivered)
        conn = connect(Path(tmp) / "outbox.db")
        broker = FlakyBroker(["ack_lost" if lost else "ok" for lost in ack_lost])
        for i in range(n_orders):
            execute_plan(conn, place_order_plan(f"o{i}", "c", {"mug": 1}, prices))
            if not crashes[i]:
                run_relay_round(relay_actions, conn, broker)
        for _ in range(100):
            if not _unpublished(conn, None):
                break
            run_relay_round(relay_actions, conn, broker)
        conn.close()
        out["outbox"] = _delivery_counts(n_orders, broker.delivered)
    return out


def _delivery_counts(n_orders: int, delivered: list[dict]) -> dict:
    ids = [m["aggregate_id"] for m in delivered]
    distinct = set(ids)
    return {"orders committed": n_orders, "events delivered": len(ids),
            "orders never announced": n_orders - len(distinct), "duplicate deliveries": len(ids) - len(distinct)}


# =========================================================================== sagas

SAGA_STEPS: tuple[tuple[str, str], ...] = (
    ("reserve_stock", "release_stock"),
    ("charge_payment", "refund_payment"),
    ("create_shipment", "cancel_shipment"),
)
"""The order saga: (action, compensation) for the inventory, payment and shipping services, in order."""

_EFFECT = {"reserve_stock": ("stock", True), "release_stock": ("stock", False),
           "charge_payment": ("payment", True), "refund_payment": ("payment", False),
           "create_shipment": ("shipment", True), "cancel_shipment": ("shipment", False)}
SAGA_END = ("completed", "compensated")
MAX_SAGA_DECISIONS = 30


class Services:
    """The inventory, payment and shipping services of one order.

    ``call(action)`` performs one action or compensation of ``SAGA_STEPS`` and returns ``"ok"``, or
    ``"failed"`` for the forward action named in ``fail`` (a business failure: out of stock, card
    declined; it changes nothing). Every call is idempotent: reserving twice reserves once, and a
    compensation of something never done does nothing. Compensations always succeed. ``state`` holds
    ``{"stock", "payment", "shipment"}`` booleans; ``calls`` lists every call as
    ``{"action", "outcome", "phase"}``.
    """

    def __init__(self, fail: str | None = None):
        if fail is not None and fail not in {a for a, _ in SAGA_STEPS}:
            raise ValueError(f"fail must be a forward action of SAGA_STEPS, got {fail!r}")
        self.fail = fail
        self.state = {"stock": False, "payment": False, "shipment": False}
        self.calls: list[dict] = []
        self.phase = "run"

    def call(self, action: str) -> str:
        if action not in _EFFECT:
            raise ValueError(f"unknown action {action!r}")
        if action == self.fail:
            self.calls.append({"action": action, "outcome": "failed", "phase": self.phase})
            return "failed"
        key, value = _EFFECT[action]
        self.state[key] = value
        self.calls.append({"action": action, "outcome": "ok", "phase": self.phase})
        return "ok"


class _Crashed(Exception):
    """The orchestrator process died (inside the runtime only; learner code never sees it)."""


class _Runtime:
    """The orchestrator's runtime: asks a decision function what to do, does it, and logs it.

    Before each service call it appends ``[action, "started"]`` to the durable log, and after it
    ``[action, outcome]``. Operations (log appends and service calls) are counted; crash point ``c``
    kills the process before (``c`` even) or after (``c`` odd) operation ``c // 2``; ``crash_after``
    kills it right after that service action has taken effect.
    """

    def __init__(self, services: Services, crash_at: int | None = None, crash_after: str | None = None):
        self.services, self.crash_at, self.crash_after = services, crash_at, crash_after
        self.log: list[list[str]] = []
        self.ops = 0

    def _op(self, effect: Callable[[], Any], action: str | None = None):
        if self.crash_at is not None and self.crash_at == 2 * self.ops:
            raise _Crashed()
        result = effect()
        self.ops += 1
        if (self.crash_at is not None and self.crash_at == 2 * self.ops - 1) or (
                action is not None and action == self.crash_after):
            raise _Crashed()
        return result

    def drive(self, decide: Callable, view: Callable[[list], list]) -> str:
        for _ in range(MAX_SAGA_DECISIONS):
            action = decide(view(json.loads(json.dumps(self.log))))
            if action in SAGA_END:
                return action
            if action not in _EFFECT:
                return f"invalid action {action!r}"
            self._op(lambda: self.log.append([action, "started"]))
            outcome = self._op(lambda: self.services.call(action), action)
            self._op(lambda: self.log.append([action, outcome]))
        return f"no end after {MAX_SAGA_DECISIONS} actions"


def _outcomes_only(log: list) -> list:
    return [entry for entry in log if entry[1] != "started"]


def saga_outcome(saga_next: Callable, fail: str | None = None) -> dict:
    """Run the saga with ``saga_next(log)`` deciding each step, without a crash.

    ``saga_next`` sees the log of finished calls, ``[[action, "ok" | "failed"], ...]``. Returns
    ``{"result", "state", "calls"}`` with each call written ``"action:outcome"``, in order.
    """
    services = Services(fail)
    result = _Runtime(services).drive(saga_next, _outcomes_only)
    return {"result": result, "state": dict(services.state),
            "calls": [f"{c['action']}:{c['outcome']}" for c in services.calls]}


def saga_run(saga_next: Callable, saga_recover: Callable | None = None, fail: str | None = None,
             crash_at: int | None = None, crash_after: str | None = None) -> dict:
    """Run the saga with ``saga_next`` deciding; if the orchestrator crashes, restart it and let
    ``saga_recover(log)`` decide every later step, from the durable log (nothing crashes twice).

    ``saga_recover`` sees the whole log, ``"started"`` entries included, so a call whose outcome was
    never logged shows as ``[action, "started"]``. Returns ``{"crashed", "result", "state", "calls",
    "ops", "log", "log_at_crash"}``: whether it crashed, the final result, the services' state, every
    service call (``phase`` "run" or "recovery"), the operations performed before the end or the crash,
    the log, and the log as it was at the crash (None without a crash).
    """
    services = Services(fail)
    runtime = _Runtime(services, crash_at, crash_after)
    crashed = False
    try:
        result = runtime.drive(saga_next, _outcomes_only)
    except _Crashed:
        crashed = True
    ops = runtime.ops
    log_at_crash = json.loads(json.dumps(runtime.log)) if crashed else None
    if crashed:
        if saga_recover is None:
            result = "crashed"
        else:
            runtime.crash_at = runtime.crash_after = None
            services.phase = "recovery"
            result = runtime.drive(saga_recover, lambda log: log)
    return {"crashed": crashed, "result": result, "state": dict(services.state), "calls": services.calls,
            "ops": ops, "log": runtime.log, "log_at_crash": log_at_crash}


def saga_recovery(saga_next: Callable, saga_recover: Callable, fail: str | None = None,
                  crash_at: int | None = None, crash_after: str | None = None) -> dict:
    """``saga_run`` with a crash, summed up: ``{"log_at_crash", "recovery_calls", "result", "state"}``.

    ``recovery_calls`` lists the service calls made after the restart, each ``"action:outcome"``.
    """
    run = saga_run(saga_next, saga_recover, fail, crash_at, crash_after)
    return {"log_at_crash": run["log_at_crash"],
            "recovery_calls": [f"{c['action']}:{c['outcome']}" for c in run["calls"] if c["phase"] == "recovery"],
            "result": run["result"], "state": run["state"]}


def saga_crash_runs(saga_next: Callable, saga_recover: Callable, fail: str | None = None) -> list[dict]:
    """Crash the orchestrator at every point of the saga (before and after each log append and each
    service call), recover, and return one ``saga_run`` result per crash point, with ``"crash_at"``.
    The number of points comes from a run without a crash: ``2 * ops``."""
    clean = saga_run(saga_next, None, fail)
    return [{"crash_at": c, **saga_run(saga_next, saga_recover, fail, c)} for c in range(2 * clean["ops"])]


# =========================================================================== figures and simulations

def plot_time_travel(history: list[dict]):
    """Draw an order's state after each event: items in the basket and amount paid, by version.

    ``history`` is a list of ``{"version", "type", "items", "paid_cents", "status"}``. Returns (fig, ax).
    """
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure("Time travel: one order replayed event by event",
                         "event version (1 = first event)", "items in the order")
    versions = [h["version"] for h in history]
    ax.step(versions, [h["items"] for h in history], where="post", color=PALETTE[0], label="items (left axis)")
    ax.set_ylim(0, max(h["items"] for h in history) + 2)
    right = ax.twinx()
    right.step(versions, [h["paid_cents"] / 100 for h in history], where="post", color=PALETTE[1],
               linestyle="--", label="paid (right axis)")
    right.set_ylabel("amount paid ($)")
    right.set_ylim(0, max(h["paid_cents"] for h in history) / 100 * 1.3 + 1)
    right.grid(False)
    for h in history:
        ax.annotate(f"{h['type']}\n→ {h['status']}", (h["version"], h["items"]), xytext=(0, 8),
                    textcoords="offset points", ha="center", fontsize=8)
    ax.set_xticks(versions)
    ax.set_xlim(min(versions) - 0.5, max(versions) + 0.8)
    lines = ax.get_lines() + right.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], loc="lower right")
    return fig, ax


def plot_saga_timelines(runs: dict[str, list[dict]]):
    """One row per scenario: each service call of the saga as a marker, in the order they happened.

    ``runs`` maps a scenario label to its calls (``{"action", "outcome", "phase"}``, as ``saga_run``
    returns them). Forward actions are filled circles, compensations are left-pointing triangles,
    failures a cross; calls made by the recovery after a crash sit right of a dashed "crash" line.
    Returns (fig, ax).
    """
    from course.plotting import PALETTE, new_figure

    colour = {}
    for i, (action, compensation) in enumerate(SAGA_STEPS):
        colour[action] = colour[compensation] = PALETTE[i]
    compensations = {c for _, c in SAGA_STEPS}
    labels = list(runs)
    width = max(len(calls) for calls in runs.values())
    fig, ax = new_figure("Order saga: service calls in order, with compensations",
                         "service call number (in the order the orchestrator made them)", "scenario",
                         figsize=(9, 0.7 * len(labels) + 2.6))
    for row, label in enumerate(labels):
        y = len(labels) - 1 - row
        calls = runs[label]
        first_recovery = next((i for i, c in enumerate(calls) if c.get("phase") == "recovery"), None)
        for i, c in enumerate(calls):
            x = i + 1
            if c["outcome"] == "failed":
                ax.plot(x, y, marker="X", markersize=13, color=PALETTE[3], linestyle="none")
            elif c["action"] in compensations:
                ax.plot(x, y, marker="<", markersize=11, color=colour[c["action"]], linestyle="none")
            else:
                ax.plot(x, y, marker="o", markersize=10, color=colour[c["action"]], linestyle="none")
            short = c["action"].split("_")[0]
            ax.annotate(short, (x, y), xytext=(0, -15), textcoords="offset points", ha="center", fontsize=7)
        if first_recovery is not None:
            ax.plot([first_recovery + 0.5] * 2, [y - 0.35, y + 0.35], color=PALETTE[7], linestyle="--")
            ax.annotate("crash; recovery from here", (first_recovery + 0.6, y + 0.22), fontsize=8, ha="left")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(list(reversed(labels)))
    ax.set_xlim(0.3, width + 1)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.set_xticks(range(1, width + 1))
    handles = [ax.plot([], [], marker="o", color=PALETTE[i], linestyle="none",
                       label=f"{a} / {c}")[0] for i, (a, c) in enumerate(SAGA_STEPS)]
    handles.append(ax.plot([], [], marker="<", color="grey", linestyle="none", label="compensation")[0])
    handles.append(ax.plot([], [], marker="X", color=PALETTE[3], linestyle="none", label="step failed")[0])
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=9)
    fig.tight_layout()
    return fig, ax


def projection_lag(seed: int, base_rate: float = 200.0, burst_rate: float = 2000.0,
                   burst_start: float = 10.0, burst_seconds: float = 5.0, apply_rate: float = 600.0,
                   until: float = 40.0):
    """Simulate a projector applying events one at a time while appends arrive, with a burst.

    Events are appended as a Poisson process at ``base_rate`` per second, plus ``burst_rate`` more per
    second from ``burst_start`` for ``burst_seconds``. One projector applies them in order, taking an
    exponential time with mean ``1 / apply_rate`` seconds each. The *lag* of an event is the time from
    its append to the moment the read model shows it. Returns a DataFrame with columns
    ``appended``, ``applied`` and ``lag`` (seconds of simulated time), one row per event.
    """
    import pandas as pd

    from course.sim import Simulation, Station, poisson_arrivals

    for name, value in (("base_rate", base_rate), ("apply_rate", apply_rate)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
    sim = Simulation(seed)
    projector = Station(sim, "projector", servers=1, service_time=lambda rng: rng.exponential(1 / apply_rate))
    counter = {"n": 0}

    def append(_index: int) -> None:
        projector.submit(counter["n"])
        counter["n"] += 1

    poisson_arrivals(sim, base_rate, append, until=until)

    def burst():
        yield sim.timeout(burst_start)
        poisson_arrivals(sim, burst_rate, append, until=burst_start + burst_seconds)

    if burst_rate > 0 and burst_seconds > 0:
        sim.process(burst())
    sim.run()
    frame = sim.trace_frame()
    frame = frame[frame["kind"] == "request_done"]
    return pd.DataFrame({"appended": frame["arrived"].to_numpy(), "applied": frame["finished"].to_numpy(),
                         "lag": frame["latency"].to_numpy()}).sort_values("appended", ignore_index=True)


def plot_projection_lag(lag, burst_start: float, burst_seconds: float):
    """Plot read-model lag (s) against append time, with appends per second on a second axis. (fig, ax)."""
    import numpy as np

    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure("Read-model lag under a burst of events", "time the event was appended (s)",
                         "lag until the read model shows it (s)")
    ax.plot(lag["appended"], lag["lag"], color=PALETTE[0], linewidth=1, label="lag per event (left)")
    ax.axvspan(burst_start, burst_start + burst_seconds, color=PALETTE[1], alpha=0.15, label="burst")
    right = ax.twinx()
    edges = np.arange(0, np.ceil(lag["appended"].max()) + 1)
    counts, _ = np.histogram(lag["appended"], bins=edges)
    right.step(edges[:-1], counts, where="post", color=PALETTE[2], linestyle=":", label="appends/s (right)")
    right.set_ylabel("events appended per second")
    right.grid(False)
    right.set_ylim(0, counts.max() * 1.15)
    handles = ax.get_lines() + ax.patches + right.get_lines()
    ax.legend(handles, [h.get_label() for h in handles], loc="upper right")
    return fig, ax
