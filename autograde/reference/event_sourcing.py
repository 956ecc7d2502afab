"""Reference answers, seeded hidden-test cases and judges for 09-event-sourcing.

Written independently of the solution notebook (CI checks that the two agree: the solution must
score full marks). Case generators take ``(seed, n)`` and draw only from
``numpy.random.default_rng(seed)``; they return plain data. Judges receive plain data (what a
``course.eventsourcing`` driver returned) and return None when it is acceptable, else a sentence.

Conventions stated in the notebook:

- a stored record is ``{"position", "stream_id", "version", "type", "data"}``; versions count from 1
  within a stream, positions from 1 across the whole store; a new stream is at version 0; an empty
  ``events`` list is a ValueError, checked before the expected version;
- an order's state is ``None`` before ``OrderPlaced``, then ``{"order_id", "customer", "status",
  "items", "paid_cents"}``; an item whose quantity reaches 0 leaves ``items``; no case removes more
  than the order holds (events were validated when recorded, so that is not the fold's business);
- ``rebuild`` returns ``{"version", "state"}``, the shape of a snapshot;
- the customer view counts orders ``placed`` or ``paid`` as open, and leaves cancelled orders out of
  items and money;
- the saga's end state is all-or-nothing: every effect done and "completed", or none and "compensated";
- a saga interrupted by a crash is rolled back (unless every forward action was logged "ok"): the
  recovery compensates, in reverse step order, exactly the steps whose latest entry is "ok" or
  "started" (in flight: may have taken effect), skipping compensations already logged "ok";
- an outbox plan is a list of ``["begin"]``, ``["insert", table, row]``, ``["commit"]`` statements; a
  quantity is a positive ``int`` and not a bool.
"""

from __future__ import annotations

import copy

import numpy as np

SAGA_ACTIONS = ("reserve_stock", "charge_payment", "create_shipment")
SAGA_COMPENSATIONS = ("release_stock", "refund_payment", "cancel_shipment")
SKUS = ("book", "lamp", "mug", "pen", "sock")


# =========================================================================== event store

def run_store(store_class, ops):
    """What ``course.eventsourcing.run_store`` must return for ``ops`` (``store_class`` is ignored)."""
    streams: dict[str, list[dict]] = {}
    log: list[dict] = []
    results = []
    for op in ops:
        if op[0] == "append":
            _, stream_id, events, expected = op
            current = len(streams.get(stream_id, []))
            if not events:
                results.append("ValueError")
            elif expected != current:
                results.append("ConcurrencyError")
            else:
                for k, e in enumerate(events):
                    record = {"position": len(log) + 1, "stream_id": stream_id, "version": current + k + 1,
                              "type": e["type"], "data": copy.deepcopy(e["data"])}
                    log.append(record)
                    streams.setdefault(stream_id, []).append(record)
                results.append(current + len(events))
        elif op[0] == "read":
            since = op[2] if len(op) > 2 else 0
            results.append([copy.deepcopy(r) for r in streams.get(op[1], []) if r["version"] > since])
        else:
            since = op[1] if len(op) > 1 else 0
            results.append([copy.deepcopy(r) for r in log if r["position"] > since])
    return results


def store_scripts(seed, n=30):
    """``n`` random scripts of appends (some stale, some empty) and reads over three streams."""
    rng = np.random.default_rng(seed)
    scripts = []
    for _ in range(n):
        versions: dict[str, int] = {}
        total = 0
        ops = []
        for _ in range(int(rng.integers(5, 25))):
            stream = f"order-{int(rng.integers(1, 4))}"
            kind = rng.random()
            if kind < 0.6:
                current = versions.get(stream, 0)
                roll = rng.random()
                if roll < 0.7:
                    expected = current
                elif roll < 0.9:
                    expected = max(0, current - int(rng.integers(1, 3))) if current else current + 1
                else:
                    expected = current + int(rng.integers(1, 3))
                k = 0 if rng.random() < 0.05 else int(rng.integers(1, 4))
                events = [{"type": str(rng.choice(["ItemAdded", "ItemRemoved", "Noted"])),
                           "data": {"sku": str(rng.choice(SKUS)), "qty": int(rng.integers(1, 4))}}
                          for _ in range(k)]
                ops.append(["append", stream, events, expected])
                if k and expected == current:
                    versions[stream] = current + k
                    total += k
            elif kind < 0.8:
                ops.append(["read", stream, int(rng.integers(0, versions.get(stream, 0) + 2))])
            else:
                ops.append(["read_all", int(rng.integers(0, total + 2))])
        scripts.append(ops)
    return scripts


def judge_increments(n_threads, increments_per_thread):
    """A judge for ``concurrent_increments``: no lost update, no duplicate, versions 1..N, no errors."""
    total = n_threads * increments_per_thread

    def judge(result):
        if result["errors"]:
            return f"a writer thread failed: {result['errors'][0]}"
        if result["appended"] != total:
            return f"{result['appended']} appends succeeded; {total} increments were made"
        if result["values"] != list(range(1, total + 1)):
            dupes = sorted({v for v in result["values"] if result["values"].count(v) > 1})
            return (f"the counter stream should read 1, 2, ..., {total}; "
                    + (f"values {dupes[:5]} were written more than once (a lost update: a stale writer "
                       "was not refused)" if dupes else f"it reads {result['values'][:12]}..."))
        if result["versions"] != list(range(1, total + 1)):
            return f"versions should be 1..{total}, got {result['versions'][:12]}..."
        return None
    return judge


# =========================================================================== order aggregate

def apply_event(state, event):
    kind, data = event["type"], event["data"]
    if state is None:
        if kind != "OrderPlaced":
            raise ValueError(f"{kind} before OrderPlaced")
        return {"order_id": data["order_id"], "customer": data["customer"], "status": "placed",
                "items": dict(data["items"]), "paid_cents": 0}
    if kind == "OrderPlaced":
        raise ValueError("order placed twice")
    new = copy.deepcopy(state)
    if kind == "ItemAdded":
        new["items"][data["sku"]] = new["items"].get(data["sku"], 0) + data["qty"]
    elif kind == "ItemRemoved":
        left = new["items"].get(data["sku"], 0) - data["qty"]
        new["items"].pop(data["sku"], None)
        if left > 0:
            new["items"][data["sku"]] = left
    elif kind == "OrderPaid":
        new["paid_cents"] += data["amount_cents"]
        new["status"] = "paid"
    elif kind == "OrderShipped":
        new["status"] = "shipped"
    elif kind == "OrderCancelled":
        new["status"] = "cancelled"
    else:
        raise ValueError(f"unknown event type {kind!r}")
    return new


def random_history(rng, order_id, customer, length=None):
    """A valid list of events (``{"type", "data"}``) for one order, following the order's rules."""
    length = int(rng.integers(1, 12)) if length is None else length
    items = {str(s): int(rng.integers(1, 4)) for s in rng.choice(SKUS, size=int(rng.integers(1, 3)), replace=False)}
    events = [{"type": "OrderPlaced", "data": {"order_id": order_id, "customer": customer, "items": dict(items)}}]
    status = "placed"
    while len(events) < length and status in ("placed", "paid"):
        roll = rng.random()
        if status == "placed" and roll < 0.35:
            sku, qty = str(rng.choice(SKUS)), int(rng.integers(1, 4))
            items[sku] = items.get(sku, 0) + qty
            events.append({"type": "ItemAdded", "data": {"sku": sku, "qty": qty}})
        elif status == "placed" and roll < 0.55 and items:
            sku = str(rng.choice(sorted(items)))
            qty = int(rng.integers(1, items[sku] + 1))
            items[sku] -= qty
            if not items[sku]:
                del items[sku]
            events.append({"type": "ItemRemoved", "data": {"sku": sku, "qty": qty}})
        elif roll < 0.75:
            events.append({"type": "OrderPaid", "data": {"amount_cents": int(rng.integers(100, 20_000))}})
            status = "paid"
        elif roll < 0.88 and status == "paid":
            events.append({"type": "OrderShipped", "data": {}})
            status = "shipped"
        else:
            events.append({"type": "OrderCancelled", "data": {}})
            status = "cancelled"
    return events


def apply_event_cases(seed, n=150):
    """(state, event) pairs along random histories, plus events the contract refuses."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        history = random_history(rng, f"order-{len(cases)}", f"cust-{int(rng.integers(1, 9))}")
        state = None
        for event in history:
            cases.append({"state": copy.deepcopy(state), "event": event})
            state = apply_event(state, event)
        cases.append({"state": state, "event": {"type": "OrderRefunded", "data": {}}})
    cases.append({"state": None, "event": {"type": "OrderPaid", "data": {"amount_cents": 5}}})
    cases.append({"state": apply_event(None, cases[0]["event"]), "event": cases[0]["event"]})
    return cases


def apply_event_probe_cases(seed, n=60):
    """Arguments ``[state, event]`` for ``mutation_probe(apply_event, ...)``: valid steps of random
    histories, every event type included (``apply_event`` must change neither argument)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        history = random_history(rng, f"order-{len(cases)}", "cust-1")
        state = None
        for event in history:
            cases.append([copy.deepcopy(state), copy.deepcopy(event)])
            state = apply_event(state, event)
    return cases[:n]


def rebuild(events, snapshot=None):
    version, state = (0, None) if snapshot is None else (snapshot["version"], copy.deepcopy(snapshot["state"]))
    for e in events:
        if e["version"] <= version:
            continue
        if e["version"] != version + 1:
            raise ValueError(f"gap: version {e['version']} after {version}")
        state, version = apply_event(state, e), e["version"]
    return {"version": version, "state": state}


def _records(history, stream_id, first_position=1):
    return [{"position": first_position + i, "stream_id": stream_id, "version": i + 1,
             "type": e["type"], "data": e["data"]} for i, e in enumerate(history)]


def rebuild_cases(seed, n=80):
    """Whole streams, with and without a snapshot at a random version; tails only; and gaps."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        records = _records(random_history(rng, f"order-{i}", "cust-1", int(rng.integers(1, 15))), f"order-{i}")
        roll = rng.random()
        if roll < 0.25:
            cases.append({"events": records, "snapshot": None})
            continue
        k = int(rng.integers(0, len(records) + 1))
        snap = rebuild(records[:k])
        if roll < 0.6:
            cases.append({"events": records, "snapshot": snap})
        elif roll < 0.9 or len(records) - k < 2:
            cases.append({"events": records[k:], "snapshot": snap})
        else:
            cases.append({"events": records[k:k + 1] + records[k + 2:], "snapshot": snap})  # a gap
    cases.append({"events": [], "snapshot": None})
    return cases


def rebuild_probe_cases(seed, n=30):
    """Arguments ``[events, snapshot]`` for ``mutation_probe(rebuild, ...)``: a stream and a snapshot
    taken before its last events (``rebuild`` must change neither argument)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        records = _records(random_history(rng, f"order-{i}", "cust-1", int(rng.integers(2, 15))), f"order-{i}")
        k = int(rng.integers(1, len(records)))
        cases.append([records if rng.random() < 0.5 else records[k:], rebuild(records[:k])])
    return cases


# =========================================================================== projection

def customer_view(deliveries):
    """The read model, computed as a fold of each order's events (duplicates removed by version)."""
    by_stream: dict[str, dict[int, dict]] = {}
    for r in deliveries:
        by_stream.setdefault(r["stream_id"], {})[r["version"]] = r
    view: dict[str, dict] = {}
    for records in by_stream.values():
        state = rebuild([records[v] for v in sorted(records)])["state"]
        row = view.setdefault(state["customer"], {"open_orders": 0, "items_ordered": 0, "spent_cents": 0})
        if state["status"] in ("placed", "paid"):
            row["open_orders"] += 1
        if state["status"] != "cancelled":
            row["items_ordered"] += sum(state["items"].values())
            row["spent_cents"] += state["paid_cents"]
    return view


def deliveries(rng, n_orders, n_customers, duplicate_rate=0.25):
    """Records of ``n_orders`` streams, interleaved at random (each stream in order) with redeliveries
    of earlier records of the same stream (at-least-once), sometimes a whole replayed prefix."""
    streams = []
    position = 1
    for i in range(n_orders):
        history = random_history(rng, f"order-{i}", f"cust-{int(rng.integers(1, n_customers + 1))}")
        streams.append(_records(history, f"order-{i}", position))
        position += len(history)
    # positions: give each stream's records global positions in one plausible append order
    pending = [list(s) for s in streams]
    out, sent = [], {i: 0 for i in range(n_orders)}
    while any(pending):
        i = int(rng.choice([k for k, p in enumerate(pending) if p]))
        out.append(pending[i].pop(0))
        sent[i] += 1
        if rng.random() < duplicate_rate:
            j = int(rng.choice([k for k in sent if sent[k]]))
            start = int(rng.integers(0, sent[j]))
            stop = start + 1 if rng.random() < 0.7 else sent[j]
            out.extend(copy.deepcopy(streams[j][start:stop]))
    return out


def projection_cases(seed, n=40):
    rng = np.random.default_rng(seed)
    return [{"deliveries": deliveries(rng, int(rng.integers(1, 8)), int(rng.integers(1, 4)))} for _ in range(n)]


def run_projection(projection_class, deliveries):
    """What ``course.eventsourcing.run_projection`` must return (``projection_class`` is ignored)."""
    return customer_view(deliveries)


# =========================================================================== outbox

PRICES = {"book": 1500, "lamp": 4200, "mug": 1200, "pen": 250, "sock": 800}


def _order_total(items, prices):
    if not items:
        raise ValueError("no items")
    total = 0
    for sku, qty in items.items():
        if type(qty) is not int or qty <= 0 or sku not in prices:
            raise ValueError(f"bad line {sku!r}: {qty!r}")
        total += qty * prices[sku]
    return total


def place_expected(place_order_plan, prices, script):
    """What ``course.eventsourcing.place_scenario`` must return (``place_order_plan`` is ignored)."""
    orders, outbox, results = {}, [], []
    for order_id, customer, items, fail in script:
        try:
            total = _order_total(items, prices)
        except ValueError:
            results.append("ValueError")
            continue
        if order_id in orders or fail in ("orders", "outbox"):
            results.append("IntegrityError")
            continue
        orders[order_id] = [order_id, customer, total, "placed"]
        outbox.append([order_id, "OrderPlaced", {"order_id": order_id, "customer": customer, "items": dict(items),
                                                 "total_cents": total}, 0])
        results.append("ok")
    return {"results": results, "orders": [orders[k] for k in sorted(orders)], "outbox": outbox}


def place_cases(seed, n=25):
    """Scripts of orders, some with an insert made to fail, a repeated id, an unknown sku or a bad quantity."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        script, used = [], []
        for _ in range(int(rng.integers(1, 8))):
            order_id = str(rng.choice(used)) if used and rng.random() < 0.15 else f"o-{int(rng.integers(100, 999))}"
            skus = rng.choice(SKUS, size=int(rng.integers(1, 4)), replace=False)
            items = {str(s): int(rng.integers(1, 5)) for s in skus}
            roll = rng.random()
            if roll < 0.05:
                items = {}
            elif roll < 0.1:
                items["kite"] = 1
            elif roll < 0.15:
                items[str(skus[0])] = int(rng.integers(-2, 1))
            fail = str(rng.choice(["orders", "outbox"])) if rng.random() < 0.3 else None
            script.append([order_id, f"cust-{int(rng.integers(1, 5))}", items, fail])
            used.append(order_id)
        cases.append({"prices": dict(PRICES), "script": script})
    # quantities that are not a positive int: a bool (True is an int to Python), a float, zero
    cases.append({"prices": dict(PRICES), "script": [
        ["o-700", "cust-1", {"mug": True}, None], ["o-701", "cust-1", {"pen": 2.0}, None],
        ["o-702", "cust-2", {"mug": 1, "pen": False}, None], ["o-703", "cust-2", {"sock": 0}, None],
        ["o-704", "cust-3", {"mug": 2, "book": 1}, None]]})
    return cases


def relay_cases(seed, n=30):
    """Outbox contents and relay rounds: a broker that is down or loses acknowledgements, relay crashes."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        events = [{"aggregate_id": f"o-{int(rng.integers(1, 6))}",
                   "type": str(rng.choice(["OrderPlaced", "OrderPaid"])), "payload": {"n": i}}
                  for i in range(int(rng.integers(0, 9)))]
        rounds = []
        for _ in range(int(rng.integers(1, 5))):
            outcomes = [str(o) for o in rng.choice(["ok", "ok", "down", "ack_lost"], size=int(rng.integers(0, 5)))]
            crash = int(rng.integers(0, 2 * len(events) + 1)) if rng.random() < 0.3 else None
            rounds.append([outcomes, crash])
        cases.append({"events": events, "rounds": rounds, "seed": int(rng.integers(0, 1000))})
    return cases


def judge_relay(events):
    """A judge for ``course.eventsourcing.relay_scenario`` run on the outbox ``events``."""

    def judge(result):
        ids = result["outbox_ids"]
        for k, m in enumerate(result["delivered"]):
            if not isinstance(m, dict) or set(m) != {"id", "aggregate_id", "type", "payload"}:
                return f"delivered message {k} should be a dict with keys id, aggregate_id, type, payload; got {m!r}"
            if m["id"] not in ids:
                return f"delivered message {k} has id {m['id']!r}, which is not an outbox row"
            e = events[ids.index(m["id"])]
            if [m["aggregate_id"], m["type"], m["payload"]] != [e["aggregate_id"], e["type"], e["payload"]]:
                return f"delivered message {k} does not match outbox row {m['id']}: {m!r}"
        delivered_ids = [m["id"] for m in result["delivered"]]
        missing = [i for i in ids if i not in delivered_ids]
        if missing:
            return f"outbox rows {missing} were never delivered (a message was lost: marked before it was published?)"
        first = sorted(set(delivered_ids), key=delivered_ids.index)
        if first != ids:
            return f"messages were first delivered in the order {first}, not in outbox id order {ids}"
        if any(p != 1 for p in result["published"]):
            return (f"after the relay ran with a healthy broker, the published flags are {result['published']}: "
                    "every row should be marked")
        return None
    return judge


# =========================================================================== saga

def _all_or_nothing(run):
    state, result = run["state"], run["result"]
    if result not in ("completed", "compensated"):
        return f"the saga did not end properly: {result}"
    values = set(state.values())
    if values == {True}:
        return None if result == "completed" else f"every step is done but the saga returned {result!r}"
    if values == {False}:
        return None if result == "compensated" else f"every step is undone but the saga returned {result!r}"
    return f"the order is left half done: {state} (the saga returned {result!r})"


def saga_next(log):
    """The next action of the order saga, given the outcomes so far (``[[action, outcome], ...]``)."""
    outcomes = {}
    for action, outcome in log:
        outcomes[action] = outcome
    done = [i for i, a in enumerate(SAGA_ACTIONS) if outcomes.get(a) == "ok"]
    failed = any(outcomes.get(a) == "failed" for a in SAGA_ACTIONS)
    if not failed:
        for a in SAGA_ACTIONS:
            if a not in outcomes:
                return a
        return "completed"
    for i in sorted(done, reverse=True):
        if outcomes.get(SAGA_COMPENSATIONS[i]) != "ok":
            return SAGA_COMPENSATIONS[i]
    return "compensated"


def _saga_logs(fail):
    log, logs = [], [[]]
    while True:
        action = saga_next(log)
        if action in ("completed", "compensated"):
            return logs
        log = log + [[action, "failed" if action == fail else "ok"]]
        logs.append(log)


def saga_next_cases(seed, n=None):
    """Every log the saga can reach without a crash, for success and each failing step, in seeded order."""
    rng = np.random.default_rng(seed)
    cases = [{"log": log} for fail in (None, *SAGA_ACTIONS) for log in _saga_logs(fail)]
    unique = list({str(c["log"]): c for c in cases}.values())
    order = rng.permutation(len(unique))
    return [unique[i] for i in order]


def saga_outcome(saga_next_fn, fail=None):
    """What ``course.eventsourcing.saga_outcome`` must return (``saga_next_fn`` is ignored): the steps in
    order up to the failed one, then the compensations of the completed steps in reverse order."""
    done = len(SAGA_ACTIONS) if fail is None else SAGA_ACTIONS.index(fail)
    calls = [f"{a}:ok" for a in SAGA_ACTIONS[:done]]
    if fail is None:
        return {"result": "completed", "state": {"stock": True, "payment": True, "shipment": True}, "calls": calls}
    calls.append(f"{fail}:failed")
    calls += [f"{c}:ok" for c in reversed(SAGA_COMPENSATIONS[:done])]
    return {"result": "compensated", "state": {"stock": False, "payment": False, "shipment": False}, "calls": calls}


def _saga_log(fail):
    """The full durable log (``"started"`` entries included) of a saga run without a crash."""
    log = []
    while True:
        action = saga_next([e for e in log if e[1] != "started"])
        if action in ("completed", "compensated"):
            return log
        log = log + [[action, "started"], [action, "failed" if action == fail else "ok"]]


def saga_recover(log):
    """The next decision after a crash: roll back, in reverse step order, every step that may have taken
    effect (latest entry "ok" or "started"), unless every forward action was logged "ok"."""
    latest = {}
    for action, outcome in log:
        latest[action] = outcome
    if all(latest.get(a) == "ok" for a in SAGA_ACTIONS):
        return "completed"
    for i in reversed(range(len(SAGA_ACTIONS))):
        if latest.get(SAGA_ACTIONS[i]) in ("ok", "started") and latest.get(SAGA_COMPENSATIONS[i]) != "ok":
            return SAGA_COMPENSATIONS[i]
    return "compensated"


def _recovery_from(log):
    """The compensations the recovery calls from ``log`` (each succeeds), and how it ends."""
    calls = []
    for _ in range(len(SAGA_COMPENSATIONS) + 1):
        decision = saga_recover(log)
        if decision in ("completed", "compensated"):
            return calls, decision
        calls.append(f"{decision}:ok")
        log = log + [[decision, "started"], [decision, "ok"]]
    raise AssertionError("the reference recovery did not end")  # cannot happen


def saga_recover_cases(seed, n=None):
    """Every log a recovery can see: each prefix of a run's log (a crash there), for success and each
    failing step, followed by the recovery's own entries (as it proceeds, or crashes again), in seeded order."""
    rng = np.random.default_rng(seed)
    logs = []
    for fail in (None, *SAGA_ACTIONS):
        full = _saga_log(fail)
        for k in range(len(full) + 1):
            log = full[:k]
            logs.append(log)
            for _ in range(len(SAGA_COMPENSATIONS) + 1):
                decision = saga_recover(log)
                if decision in ("completed", "compensated"):
                    break
                log = log + [[decision, "started"]]
                logs.append(log)
                log = log + [[decision, "ok"]]
                logs.append(log)
    unique = list({str(log): log for log in logs}.values())
    return [{"log": unique[i]} for i in rng.permutation(len(unique))]


def judge_crash_runs(fail):
    """A judge for ``saga_crash_runs(saga_next, saga_recover, fail)``: at every crash point the recovery
    makes exactly the calls the roll-back rule asks for, from the log as it was at the crash, and ends
    all done and "completed" or all undone and "compensated"."""

    def judge(runs):
        if not runs:
            return "no crash points: the saga performed no operations"
        for run in runs:
            where = f"crash point {run['crash_at']}"
            if not run["crashed"]:
                return f"{where}: the run did not crash (it must let Crash propagate)"
            expected_calls, expected_result = _recovery_from(run["log_at_crash"])
            got_calls = [f"{c['action']}:{c['outcome']}" for c in run["calls"] if c["phase"] == "recovery"]
            if got_calls != expected_calls or run["result"] != expected_result:
                return (f"{where}: the log at the crash was {run['log_at_crash']}; the recovery should call "
                        f"{expected_calls} and end {expected_result!r}, but it called {got_calls} and ended "
                        f"{run['result']!r}")
            problem = _all_or_nothing(run)
            if problem:
                return f"{where}: after recovery {problem}"
        return None
    return judge


# =========================================================================== contracts (issue 17)
# Each graded function and class, with every rule the exercise states. Classes and the functions whose
# effect is seen through a runtime are checked through their ``course.eventsourcing`` driver: the
# contract's reference is the reference driver, and the test cell supplies the learner's class or
# function. Boundaries and edges are whole scripts (the drivers take one script), drawn once here.

from autograde.contracts import OMIT, Contract, Rule, boundary, edge  # noqa: E402

_NAMES = ("ada", "bob", "cy", "Ada", "zoë", "李", "dev", "eve", "fay", "gus", "hal", "ivy", "jo")
_SKUS_WIDE = SKUS + ("Mug", "kite", "näpf", "tea", "cup", "hat", "box")


def _store_script(rng, n_streams=None, length=None):
    """One random script of appends (some stale, some ahead, some empty, some of several events) and reads
    over 1 to 12 streams, whose ids differ only in case or are not ASCII now and then."""
    n_streams = int(rng.integers(1, 13)) if n_streams is None else n_streams
    pool = [f"order-{k}" for k in range(1, n_streams + 1)]
    if rng.random() < 0.3:
        pool += ["Order-1", "commande-é"]
    versions: dict[str, int] = {}
    total, ops = 0, []
    for _ in range(int(rng.integers(1, 31)) if length is None else length):
        stream = str(rng.choice(pool))
        kind = rng.random()
        if kind < 0.6:
            current = versions.get(stream, 0)
            roll = rng.random()
            if roll < 0.7:
                expected = current
            elif roll < 0.85 and current:
                expected = current - int(rng.integers(1, current + 1))
            else:
                expected = current + int(rng.integers(1, 3))
            k = 0 if rng.random() < 0.05 else int(rng.integers(1, 5))
            events = [{"type": str(rng.choice(["ItemAdded", "ItemRemoved", "Noted"])),
                       "data": {"sku": str(rng.choice(_SKUS_WIDE)), "qty": int(rng.integers(1, 4)),
                                "tags": [str(rng.choice(_NAMES))]}}
                      for _ in range(k)]
            ops.append(["append", stream, events, expected])
            if k and expected == current:
                versions[stream] = current + k
                total += k
        elif kind < 0.8:
            ops.append(["read", stream] if rng.random() < 0.1 else
                       ["read", stream, int(rng.integers(0, versions.get(stream, 0) + 2))])
        else:
            ops.append(["read_all"] if rng.random() < 0.1 else ["read_all", int(rng.integers(0, total + 2))])
    return ops


def _ev(sku="mug", qty=1):
    return {"type": "ItemAdded", "data": {"sku": sku, "qty": qty}}


_TWO = [["append", "o-1", [_ev("mug"), _ev("pen", 2)], 0]]  # stream o-1 at version 2, store at position 2

STORE_RULES = [
    boundary("`append` stores the events when `expected_version` is the stream's version (the number of its "
             "events); one less or one more raises `ConcurrencyError` and stores nothing",
             at={"ops": _TWO + [["append", "o-1", [_ev("lamp")], 2], ["read", "o-1", 0], ["read_all", 0]]},
             inside={"ops": _TWO + [["append", "o-1", [_ev("lamp")], 1], ["read", "o-1", 0], ["read_all", 0]]},
             outside={"ops": _TWO + [["append", "o-1", [_ev("lamp")], 3], ["read", "o-1", 0], ["read_all", 0]]}),
    boundary("a stream never written is at version 0",
             at={"ops": _TWO + [["append", "o-2", [_ev()], 0], ["read", "o-2", 0]]},
             inside={"ops": _TWO + [["append", "o-2", [_ev()], 1], ["read", "o-2", 0]]},
             outside={"ops": _TWO + [["append", "o-2", [_ev()], -1], ["read_all", 0]]}),
    edge("an empty `events` list raises `ValueError`, checked before the version (also when it is stale)",
         {"ops": [["append", "o-1", [], 0]]}, {"ops": _TWO + [["append", "o-1", [], 0], ["read_all", 0]]},
         {"ops": _TWO + [["append", "o-1", [], 2], ["read", "o-1", 0]]}),
    edge("the events of one `append` get consecutive versions and positions, after the store's last position",
         {"ops": [["append", "o-2", [_ev()], 0]] + _TWO + [["append", "o-2", [_ev("a"), _ev("b"), _ev("c")], 1],
                                                          ["read_all", 0], ["read", "o-2", 1]]}),
    boundary("`read(stream_id, from_version)` returns the records with version > `from_version`",
             at={"ops": _TWO + [["read", "o-1", 2]]}, inside={"ops": _TWO + [["read", "o-1", 1]]},
             outside={"ops": _TWO + [["read", "o-1", 3], ["read", "o-1", 0]]}),
    boundary("`read_all(from_position)` returns the records with position > `from_position`",
             at={"ops": _TWO + [["append", "o-2", [_ev()], 0], ["read_all", 3]]},
             inside={"ops": _TWO + [["append", "o-2", [_ev()], 0], ["read_all", 2]]},
             outside={"ops": _TWO + [["append", "o-2", [_ev()], 0], ["read_all", 4], ["read_all", 0]]}),
    edge("`from_version` and `from_position` default to 0: every record",
         {"ops": _TWO + [["append", "o-2", [_ev()], 0], ["read", "o-1"], ["read_all"]]}),
    edge("`read` of a stream never written is `[]`", {"ops": [["read", "o-9", 0]]},
         {"ops": _TWO + [["read", "o-9", 0], ["read_all", 0]]}),
    edge("stream ids that differ only in case, or are not ASCII, are separate streams",
         {"ops": _TWO + [["append", "O-1", [_ev()], 0], ["append", "o-1", [_ev()], 2], ["append", "ö-1", [_ev()], 0],
                         ["read", "O-1", 0], ["read", "ö-1", 0], ["read_all", 0]]}),
    edge("10 or more streams and positions (ids and numbers are not sorted as strings)",
         {"ops": [["append", f"order-{k}", [_ev()], 0] for k in range(1, 13)]
          + [["read_all", 9], ["read", "order-10", 0], ["read", "order-2", 0]]}),
]


def _state_after(history):
    state = None
    for event in history:
        state = apply_event(state, event)
    return state


def _apply_draw(rng):
    """A state along a random order's history (None before it exists) and the next event of that history."""
    customer = str(rng.choice(_NAMES))
    history = random_history(rng, f"order-{int(rng.integers(1, 1000))}", customer, int(rng.integers(1, 14)))
    k = int(rng.integers(0, len(history)))
    event = copy.deepcopy(history[k])
    if rng.random() < 0.3:  # a stored record: more keys, which apply_event ignores
        event = {"position": int(rng.integers(1, 10_000)), "stream_id": "s", "version": k + 1, **event}
    return {"state": _state_after(history[:k]), "event": event}


_PLACED_EV = {"type": "OrderPlaced", "data": {"order_id": "o1", "customer": "ada", "items": {"mug": 2, "pen": 1}}}
_PLACED = _state_after([_PLACED_EV])
_PAID = _state_after([_PLACED_EV, {"type": "OrderPaid", "data": {"amount_cents": 900}}])

APPLY_RULES = [
    Rule("an event type outside the table raises `ValueError` (types are matched exactly)",
         at=[{"state": _PLACED, "event": {"type": "OrderCancelled", "data": {}}}],
         inside=[{"state": _PAID, "event": {"type": "OrderShipped", "data": {}}}],
         outside=[{"state": _PLACED, "event": {"type": "OrderRefunded", "data": {}}},
                  {"state": _PAID, "event": {"type": "orderShipped", "data": {}}},
                  {"state": _PLACED, "event": {"type": "", "data": {}}}]),
    Rule("an event other than `OrderPlaced` when `state` is `None` raises `ValueError`",
         at=[{"state": None, "event": _PLACED_EV}],
         inside=[{"state": None, "event": {"type": "OrderPlaced",
                                           "data": {"order_id": "o2", "customer": "zoë", "items": {"näpf": 1}}}}],
         outside=[{"state": None, "event": {"type": "OrderPaid", "data": {"amount_cents": 5}}},
                  {"state": None, "event": _ev()},
                  {"state": None, "event": {"type": "OrderCancelled", "data": {}}}]),
    Rule("`OrderPlaced` for an order that exists raises `ValueError`",
         at=[{"state": _PLACED, "event": _ev("mug", 1)}], inside=[{"state": _PAID, "event": _ev("kite", 3)}],
         outside=[{"state": _PLACED, "event": _PLACED_EV}, {"state": _PAID, "event": _PLACED_EV}]),
    boundary("`ItemRemoved` down to a quantity of 0 takes the sku out of `items`",
             at={"state": _PLACED, "event": {"type": "ItemRemoved", "data": {"sku": "mug", "qty": 2}}},
             inside={"state": _PLACED, "event": {"type": "ItemRemoved", "data": {"sku": "mug", "qty": 1}}},
             outside={"state": _PAID, "event": {"type": "ItemRemoved", "data": {"sku": "pen", "qty": 1}}}),
    edge("`ItemAdded` of a sku not in the order adds it; skus that differ only in case are different items",
         {"state": _PLACED, "event": _ev("Mug", 4)}, {"state": _PLACED, "event": _ev("näpf", 1)}),
    edge("`OrderPaid` adds to `paid_cents` (a second payment too) and sets status `paid`",
         {"state": _PAID, "event": {"type": "OrderPaid", "data": {"amount_cents": 250}}}),
    edge("a stored record (with `position`, `stream_id`, `version`) is applied by its `type` and `data`",
         {"state": _PAID, "event": {"position": 7, "stream_id": "o1", "version": 3, "type": "OrderShipped",
                                    "data": {}}}),
]


def _stream(rng, length=None, customer=None):
    customer = str(rng.choice(_NAMES)) if customer is None else customer
    i = int(rng.integers(1, 1000))
    return _records(random_history(rng, f"order-{i}", customer, int(rng.integers(1, 16)) if length is None
                                   else length), f"order-{i}", int(rng.integers(1, 50)))


def _rebuild_draw(rng):
    records = _stream(rng)
    roll = rng.random()
    if roll < 0.3:
        return {"events": records, "snapshot": OMIT if rng.random() < 0.5 else None}
    k = int(rng.integers(0, len(records) + 1))
    snap = rebuild(records[:k])
    return {"events": records if roll < 0.65 else records[k:], "snapshot": snap}


_R = _records([_PLACED_EV, _ev("kite", 2), {"type": "OrderPaid", "data": {"amount_cents": 700}},
               {"type": "ItemRemoved", "data": {"sku": "mug", "qty": 2}}, {"type": "OrderShipped", "data": {}}],
              "o1", 3)
_SNAP2 = rebuild(_R[:2])

REBUILD_RULES = [
    Rule("the events after the starting point (the snapshot's version, else 0) must continue its versions one "
         "by one, else `ValueError`; events the starting point already includes are skipped",
         at=[{"events": _R[2:], "snapshot": _SNAP2}],
         inside=[{"events": _R, "snapshot": _SNAP2}, {"events": _R[1:], "snapshot": _SNAP2}],
         outside=[{"events": _R[3:], "snapshot": _SNAP2}, {"events": _R[:2] + _R[3:], "snapshot": None},
                  {"events": _R[1:], "snapshot": None}]),
    edge("no events: the starting point itself (`{\"version\": 0, \"state\": None}` without a snapshot)",
         {"events": [], "snapshot": None}, {"events": [], "snapshot": _SNAP2}, {"events": [], "snapshot": OMIT}),
    edge("a snapshot at the stream's last version, with the whole stream: the snapshot's state",
         {"events": _R, "snapshot": rebuild(_R)}),
    edge("a snapshot at version 0 (state `None`) is the same as none", {"events": _R, "snapshot":
                                                                           {"version": 0, "state": None}}),
    edge("`snapshot` defaults to `None`", {"events": _R, "snapshot": OMIT}),
]


def _deliveries_draw(rng):
    n_orders = int(rng.integers(0, 13))
    out = deliveries(rng, n_orders, int(rng.integers(1, 6)), duplicate_rate=float(rng.uniform(0, 0.5))) \
        if n_orders else []
    if rng.random() < 0.3:  # customers beyond cust-N: names that differ only in case, non-ASCII
        names = {f"cust-{k}": str(rng.choice(_NAMES)) for k in range(1, 6)}
        for r in out:
            if r["type"] == "OrderPlaced":
                r["data"]["customer"] = names.get(r["data"]["customer"], r["data"]["customer"])
    return {"deliveries": out}


def _rec(position, stream, version, kind, **data):
    return {"position": position, "stream_id": stream, "version": version, "type": kind, "data": data}


_O1 = [_rec(1, "o1", 1, "OrderPlaced", order_id="o1", customer="ada", items={"mug": 2}),
       _rec(2, "o1", 2, "OrderPaid", amount_cents=900), _rec(5, "o1", 3, "OrderShipped")]
_O2 = [_rec(3, "o2", 1, "OrderPlaced", order_id="o2", customer="Ada", items={"pen": 1}),
       _rec(4, "o2", 2, "ItemAdded", sku="pen", qty=2), _rec(6, "o2", 3, "OrderPaid", amount_cents=300),
       _rec(7, "o2", 4, "OrderCancelled")]

VIEW_RULES = [
    edge("nothing delivered: an empty view `{}`", {"deliveries": []}),
    edge("a record delivered again, also after newer records of its stream, changes nothing",
         {"deliveries": _O1 + [_O1[1], _O1[0]]}, {"deliveries": _O1[:2] + [_O1[0], _O1[1]] + _O1[2:] + _O1}),
    edge("streams interleave in any order (positions are no help)",
         {"deliveries": [_O2[0], _O1[0], _O2[1], _O1[1], _O1[2], _O2[2]]}),
    boundary("`open_orders` counts orders `placed` or `paid`; items and money leave out cancelled orders only",
             at={"deliveries": _O1[:2] + _O2[:3]}, inside={"deliveries": _O1[:1] + _O2[:2]},
             outside={"deliveries": _O1 + _O2}),
    edge("customers whose names differ only in case, or are not ASCII, are different customers",
         {"deliveries": _O1 + _O2[:3] + [_rec(8, "o3", 1, "OrderPlaced", order_id="o3", customer="zoë",
                                              items={"näpf": 1})]}),
]


def _prices_draw(rng):
    skus = [str(s) for s in rng.choice(_SKUS_WIDE, size=int(rng.integers(2, len(_SKUS_WIDE) + 1)), replace=False)]
    return {s: int(rng.integers(0, 20_000)) if rng.random() < 0.9 else 0 for s in skus}


def _place_draw(rng):
    prices = _prices_draw(rng)
    known = sorted(prices)
    script, used = [], []
    for _ in range(int(rng.integers(1, 11))):
        order_id = str(rng.choice(used)) if used and rng.random() < 0.15 else f"o-{int(rng.integers(1, 10_000))}"
        skus = rng.choice(known, size=int(rng.integers(1, min(4, len(known)) + 1)), replace=False)
        items = {str(s): int(rng.integers(1, 12)) for s in skus}
        roll = rng.random()
        if roll < 0.04:
            items = {}
        elif roll < 0.08:
            items["unpriced"] = 1
        elif roll < 0.12:
            items[str(skus[0])] = [0, -1, True, 2.0][int(rng.integers(0, 4))]
        fail = str(rng.choice(["orders", "outbox"])) if rng.random() < 0.25 else None
        script.append([order_id, str(rng.choice(_NAMES)), items, fail])
        used.append(order_id)
    return {"prices": prices, "script": script}


_P = {"mug": 1200, "pen": 250, "näpf": 990}


def _one(items, fail=None, then=()):
    return {"prices": dict(_P), "script": [["o-1", "ada", {"pen": 2}, None], ["o-2", "bob", items, fail], *then]}


PLACE_RULES = [
    boundary("a quantity is a positive `int` (not a bool, not a float), else `ValueError`",
             at=_one({"mug": 1}), inside=_one({"mug": 2, "pen": 3}),
             outside=[_one({"mug": 0}), _one({"mug": -1}), _one({"mug": True}), _one({"mug": 1, "pen": False}),
                      _one({"mug": 2.0})]),
    edge("no items is a `ValueError`", _one({})),
    edge("a sku with no price is a `ValueError` (`Mug` is not `mug`)", _one({"kite": 1}), _one({"Mug": 1}),
         _one({"mug": 1, "kite": 1})),
    edge("a failing insert of the order or of its outbox row leaves neither (a duplicate `order_id` fails by "
         "itself)", _one({"mug": 1}, "orders"), _one({"mug": 1}, "outbox"),
         {"prices": dict(_P), "script": [["o-1", "ada", {"pen": 2}, None], ["o-1", "bob", {"mug": 1}, None]]}),
    edge("customers and skus that are not ASCII are stored as given; a price of 0 is free",
         {"prices": {**_P, "tea": 0}, "script": [["o-1", "zoë", {"näpf": 3, "tea": 2}, None]]}),
]


def _relay_draw(rng):
    events = [{"aggregate_id": f"o-{int(rng.integers(1, 30))}", "type": str(rng.choice(["OrderPlaced", "OrderPaid"])),
               "payload": {"n": i, "who": str(rng.choice(_NAMES))}}
              for i in range(int(rng.integers(0, 16)))]
    rounds = []
    for _ in range(int(rng.integers(0, 6))):
        outcomes = [str(o) for o in rng.choice(["ok", "ok", "down", "ack_lost"], size=int(rng.integers(0, 6)))]
        crash = int(rng.integers(0, 2 * len(events) + 1)) if rng.random() < 0.3 else None
        rounds.append([outcomes, crash])
    return {"events": events, "rounds": rounds, "seed": int(rng.integers(0, 10_000))}


def relay_summary(relay_actions, events, rounds, seed=0):
    """What ``course.eventsourcing.relay_summary`` must return (``relay_actions`` is ignored): every row
    first delivered once, in id order, as the row itself, and every row marked at the end."""
    ids = list(range(1, len(events) + 1))
    return {"first_deliveries": ids,
            "messages": [{"id": i, **{k: e[k] for k in ("aggregate_id", "type", "payload")}}
                         for i, e in zip(ids, events)],
            "published": [1] * len(events)}


def _evs(n):
    return [{"aggregate_id": f"o-{k}", "type": "OrderPlaced", "payload": {"n": k}} for k in range(1, n + 1)]


RELAY_RULES = [
    edge("an empty outbox: nothing to do", {"events": [], "rounds": [], "seed": 1},
         {"events": [], "rounds": [[["down"], None]], "seed": 2}),
    edge("one row", {"events": _evs(1), "rounds": [], "seed": 3}),
    edge("10 or more rows in any order: ids are numbers (row 10 comes after row 9)",
         {"events": _evs(12), "rounds": [], "seed": 4}, {"events": _evs(12), "rounds": [[["ok"] * 3, None]], "seed": 5}),
    edge("a broker that is down, or takes a message and loses its acknowledgement: nothing is lost",
         {"events": _evs(4), "rounds": [[["ok", "down"], None], [["ack_lost"], None]], "seed": 6},
         {"events": _evs(3), "rounds": [[["down"], None], [["ack_lost", "ack_lost", "down"], None]], "seed": 7}),
    edge("the relay process crashes after any action: nothing is lost",
         *({"events": _evs(3), "rounds": [[[], k]], "seed": 8 + k} for k in range(7))),
]


def _saga_draw(rng):
    fail = [None, *SAGA_ACTIONS][int(rng.integers(0, 4))]
    logs = _saga_logs(fail)
    return {"log": copy.deepcopy(logs[int(rng.integers(0, len(logs)))])}


NEXT_RULES = [
    edge("an empty log starts with the first step", {"log": []}),
    edge("every forward action ok: `completed`",
         {"log": [["reserve_stock", "ok"], ["charge_payment", "ok"], ["create_shipment", "ok"]]}),
    edge("the first step failed: nothing completed, so `compensated` at once", {"log": [["reserve_stock", "failed"]]}),
    edge("after a failure, the compensations of the completed steps, last one first (not the failed step's)",
         {"log": [["reserve_stock", "ok"], ["charge_payment", "ok"], ["create_shipment", "failed"]]},
         {"log": [["reserve_stock", "ok"], ["charge_payment", "ok"], ["create_shipment", "failed"],
                  ["refund_payment", "ok"]]},
         {"log": [["reserve_stock", "ok"], ["charge_payment", "failed"], ["release_stock", "ok"]]}),
]


def _recover_logs():
    return [c["log"] for c in saga_recover_cases(seed=0)]


_RECOVER_LOGS = _recover_logs()


def _recover_draw(rng):
    return {"log": copy.deepcopy(_RECOVER_LOGS[int(rng.integers(0, len(_RECOVER_LOGS)))])}


_S = [["reserve_stock", "started"], ["reserve_stock", "ok"], ["charge_payment", "started"], ["charge_payment", "ok"],
      ["create_shipment", "started"]]

RECOVER_RULES = [
    edge("a crash before anything was logged: nothing to undo, `compensated`", {"log": []}),
    boundary("`completed` only when every forward action's latest entry is `ok`; a last step still `started` "
             "is rolled back",
             at={"log": _S + [["create_shipment", "ok"]]}, inside={"log": _S + [["create_shipment", "failed"]]},
             outside={"log": _S}),
    edge("a step whose latest entry is `started` may have taken effect: compensate it",
         {"log": _S[:3]}, {"log": _S[:1]}),
    edge("a step that failed or never started is not compensated",
         {"log": _S[:3] + [["charge_payment", "failed"]]}, {"log": _S[:2]}),
    edge("a compensation logged `ok` is skipped; one only `started` is called again",
         {"log": _S[:3] + [["refund_payment", "started"]]},
         {"log": _S[:3] + [["refund_payment", "started"], ["refund_payment", "ok"]]},
         {"log": _S + [["cancel_shipment", "started"], ["cancel_shipment", "ok"], ["refund_payment", "started"]]}),
]


CONTRACTS = {c.name: c for c in [
    Contract("EventStore", run_store, draw=lambda rng: {"ops": _store_script(rng)}, rules=STORE_RULES,
             supplied=("store_class",),
             domain="scripts of 1 to 30 appends and reads over 1 to 12 streams, with stale, ahead, empty and "
                    "multi-event appends"),
    Contract("apply_event", apply_event, draw=_apply_draw, rules=APPLY_RULES,
             domain="each step of random order histories of up to 13 events, every event type"),
    Contract("rebuild", rebuild, draw=_rebuild_draw, rules=REBUILD_RULES,
             domain="streams of 1 to 15 records, with no snapshot or one at any version, whole or only the tail"),
    Contract("CustomerView", run_projection, draw=_deliveries_draw, rules=VIEW_RULES,
             supplied=("projection_class",),
             domain="0 to 12 orders of 1 to 5 customers, interleaved, with up to one redelivery in two"),
    Contract("place_order_plan", place_expected, draw=_place_draw, rules=PLACE_RULES,
             supplied=("place_order_plan",),
             domain="scripts of 1 to 10 orders against random price lists, some failing, repeated or invalid"),
    Contract("relay_actions", relay_summary, draw=_relay_draw, rules=RELAY_RULES, supplied=("relay_actions",),
             domain="0 to 15 rows, up to 5 rounds of a broker that is down or loses acknowledgements, and "
                    "crashes of the relay"),
    Contract("saga_next", saga_next, draw=_saga_draw, rules=NEXT_RULES,
             domain="every log a saga reaches, with no step failing or each one failing"),
    Contract("saga_recover", saga_recover, draw=_recover_draw, rules=RECOVER_RULES,
             domain="every log a recovery can meet, also after a second crash"),
]}
