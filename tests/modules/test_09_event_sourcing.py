"""Module 09: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "09-event-sourcing"

STORE, APPLY, REBUILD, VIEW = "correct_event_store", "correct_apply_event", "correct_rebuild", "correct_customer_view"
PLACE, RELAY, NEXT, RECOVER = ("correct_place_order_plan", "correct_relay_actions", "correct_saga_next",
                               "correct_saga_recover")

MUTANTS = {
    "no_version_check": Mutant(
        "event_store", "            if expected_version != len(stream):\n", "            if False:\n",
        frozenset({STORE}), "a stale writer's append is accepted: the lost update optimistic concurrency prevents"),
    "empty_append_accepted": Mutant(
        "event_store", "        if not events:\n", "        if False:\n",
        frozenset({STORE}), "an empty append is not refused"),
    "version_checked_before_empty": Mutant(
        "event_store",
        '        if not events:\n'
        '            raise ValueError("append needs at least one event")\n'
        '        with self._lock:\n'
        '            stream = self._streams.setdefault(stream_id, [])\n'
        '            if expected_version != len(stream):\n'
        '                raise ConcurrencyError(f"{stream_id} is at version {len(stream)}, not {expected_version}")\n',
        '        with self._lock:\n'
        '            stream = self._streams.setdefault(stream_id, [])\n'
        '            if expected_version != len(stream):\n'
        '                raise ConcurrencyError(f"{stream_id} is at version {len(stream)}, not {expected_version}")\n'
        '            if not events:\n'
        '                raise ValueError("append needs at least one event")\n',
        frozenset({STORE}), "a stale empty append gets ConcurrencyError: the text says events are checked first"),
    "batch_versions_restart": Mutant(
        "event_store", '"version": len(stream) + 1', '"version": expected_version + 1',
        frozenset({STORE}), "every event of one append gets the same version (only hidden tests append several "
                            "events at once)"),
    "read_returns_stored_records": Mutant(
        "event_store", "return [copy.deepcopy(r) for r in self._streams.get(", "return [r for r in self._streams.get(",
        frozenset({STORE}), "read hands out the stored records themselves: a caller's edit rewrites history "
                            "(seen only by store_copy_probe, which runs next to the class)"),
    "position_per_stream": Mutant(
        "event_store", '"position": len(self._log) + 1', '"position": len(stream) + 1',
        frozenset({STORE}), "the global position is numbered per stream, like the version"),
    "zero_quantity_kept": Mutant(
        "apply_event", 'if new["items"][data["sku"]] <= 0:', 'if new["items"][data["sku"]] < 0:',
        frozenset({APPLY, REBUILD}), "an item removed down to 0 stays in the basket (rebuild folds with it too)"),
    "shallow_copy_state": Mutant(
        "apply_event", "    new = copy.deepcopy(state)\n", "    new = dict(state)\n",
        frozenset({APPLY, REBUILD}), "a shallow copy shares items with the old state, so ItemAdded changes a snapshot "
                                     "(seen only by mutation_probe; rebuild then changes its snapshot too)"),
    "unknown_event_ignored": Mutant(
        "apply_event", "        raise ValueError(f\"cannot apply {kind!r} to order {state['order_id']}\")",
        "        pass", frozenset({APPLY}), "an unknown event type is silently skipped"),
    "snapshot_ignored": Mutant(
        "rebuild", 'version, state = snapshot["version"], snapshot["state"]', "version, state = 0, None",
        frozenset({REBUILD}), "the snapshot is ignored, so a stream tail after it cannot be folded"),
    "rebuild_into_snapshot": Mutant(
        "rebuild", '    return {"version": version, "state": state}\n',
        '    if snapshot is not None:\n'
        '        snapshot.update(version=version, state=state)\n'
        '        return snapshot\n'
        '    return {"version": version, "state": state}\n',
        frozenset({REBUILD}), "the fold is written into the caller's snapshot, which then no longer describes "
                              "its version"),
    "gap_not_detected": Mutant(
        "rebuild", '        if record["version"] != version + 1:\n', "        if False:\n",
        frozenset({REBUILD}), "missing events are folded over without a word"),
    "projection_not_idempotent": Mutant(
        "customer_view", 'if record["version"] <= self._seen.get(stream, 0):', "if False:",
        frozenset({VIEW}), "a redelivered event is applied again (at-least-once delivery ignored)"),
    "projection_global_checkpoint": Mutant(
        "customer_view",
        '        if record["version"] <= self._seen.get(stream, 0):\n'
        "            return  # a redelivery: at-least-once delivery means duplicates\n"
        '        self._orders[stream] = apply_event(self._orders.get(stream), record)\n'
        '        self._seen[stream] = record["version"]\n',
        '        if record["position"] <= self._seen.get("checkpoint", 0):\n'
        "            return  # a redelivery: at-least-once delivery means duplicates\n"
        '        self._orders[stream] = apply_event(self._orders.get(stream), record)\n'
        '        self._seen["checkpoint"] = record["position"]\n',
        frozenset({VIEW}), "one global checkpoint by position: wrong once streams interleave (only hidden tests "
                           "interleave them)"),
    "outbox_in_a_second_transaction": Mutant(
        "place_order_plan", '        ["insert", "outbox",',
        '        ["commit"], ["begin"],\n        ["insert", "outbox",', frozenset({PLACE}),
        "order and event in two transactions: a failure between them leaves an order no one hears of"),
    "bool_quantity_accepted": Mutant(
        "place_order_plan", "if type(qty) is not int or qty <= 0:", "if not isinstance(qty, int) or qty <= 0:",
        frozenset({PLACE}), "isinstance lets True through as a quantity of 1"),
    "mark_before_publish": Mutant(
        "relay_actions", '        actions.append(["publish", message])\n        actions.append(["mark", row["id"]])\n',
        '        actions.append(["mark", row["id"]])\n        actions.append(["publish", message])\n',
        frozenset({RELAY}), "marking before publishing: at-most-once, a failed publish loses the event"),
    "relay_unordered": Mutant(
        "relay_actions", 'sorted(rows, key=lambda r: r["id"])', "rows",
        frozenset({RELAY}), "rows relayed in the order the query returned them, not in outbox order"),
    "compensate_in_forward_order": Mutant(
        "saga_next", "range(failed[0] - 1, -1, -1)", "range(0, failed[0])",
        frozenset({NEXT}), "compensations run in the order of the steps, not in reverse"),
    "no_compensation": Mutant(
        "saga_next", "            return compensation\n", "            pass\n",
        frozenset({NEXT}), "a failed step ends the saga without undoing the completed steps"),
    "recovery_trusts_outcomes_only": Mutant(
        "saga_recover", 'if status.get(action) in ("ok", "started") and', 'if status.get(action) == "ok" and',
        frozenset({RECOVER}), "a call in flight at the crash is assumed not to have happened, so its effect stays"),
    "roll_forward_by_retry": Mutant(
        "saga_recover", "    status = {}\n",
        '    return saga_next([entry for entry in log if entry[1] != "started"])\n    status = {}\n',
        frozenset({RECOVER}), "retrying from the last logged outcome finishes the saga, against the shop's roll-back "
                              "rule (the customer was told the order failed)"),
    "compensate_never_started": Mutant(
        "saga_recover", 'if status.get(action) in ("ok", "started") and', 'if status.get(action) != "failed" and',
        frozenset({RECOVER}), "compensates steps that never started (a refund of a card never charged)"),
    "compensate_failed_step": Mutant(
        "saga_recover", 'if status.get(action) in ("ok", "started") and',
        'if status.get(action) in ("ok", "started", "failed") and',
        frozenset({RECOVER}), "compensates a step that failed, which did nothing"),
    # issue 17's six classes (6, a tolerance, does not apply: nothing here is compared with a tolerance)
    "float_quantity_accepted": Mutant(  # class 1: a contract rule ("an int, not a float") with no case before
        "place_order_plan", "if type(qty) is not int or qty <= 0:", "if isinstance(qty, bool) or qty <= 0:",
        frozenset({PLACE}), "refuses bools but lets a quantity of 2.0 mugs through"),
    "redelivery_of_latest_applied": Mutant(  # class 2: exactly at the boundary (the version just applied)
        "customer_view", 'if record["version"] <= self._seen.get(stream, 0):',
        'if record["version"] < self._seen.get(stream, 0):',
        frozenset({VIEW}), "an immediate redelivery of the record just applied is applied again (older ones are "
                           "skipped, so the visible tests pass)"),
    "relay_ids_sorted_as_strings": Mutant(  # class 3: a corner of the domain (fewer than 10 rows)
        "relay_actions", 'sorted(rows, key=lambda r: r["id"])', 'sorted(rows, key=lambda r: str(r["id"]))',
        frozenset({RELAY}), "ids sorted as strings: row 10 goes out before row 2, seen only with 10 or more rows"),
    "append_keeps_callers_data": Mutant(  # class 4: a state rule (keep copies of what was appended)
        "event_store", '"data": copy.deepcopy(event["data"])}', '"data": event["data"]}',
        frozenset({STORE}), "the store keeps the caller's data dict: editing the appended event rewrites history"),
    "placed_state_shares_event_items": Mutant(  # class 4 again: a shallow copy of nested data
        "apply_event", '"items": dict(data["items"]), "paid_cents": 0}', '"items": data["items"], "paid_cents": 0}',
        frozenset({APPLY}), "the new order's items dict is the event's own: a caller who edits the state rewrites the "
                            "stored event (seen only by result_edit_probe, next to the function)"),
    "unlocked_read_all": Mutant(  # class 5 again: a reader racing writers
        "event_store", "        with self._lock:\n            return [copy.deepcopy(r) for r in self._log[from_position:]]",
        "        if True:\n            return [copy.deepcopy(r) for r in self._log[from_position:]]",
        frozenset({STORE}), "read_all without the lock sees one event of a two-event append without the other (only "
                            "racing_appends' reader threads, next to the class, read during an append)"),
    "unlocked_append": Mutant(  # class 5: a race that only truly overlapping calls show
        "event_store", "        with self._lock:\n            stream = self._streams.setdefault(stream_id, [])\n",
        "        if True:\n            stream = self._streams.setdefault(stream_id, [])\n",
        frozenset({STORE}), "check and append are two steps without the lock: two writers can both pass the version "
                            "check (only racing_appends, next to the class, makes calls overlap)"),
}

# A correct solution written differently from ours: an RLock and one list of records with JSON copies,
# a functional fold, reduce with a version check up front, a projection that dedupes by (stream, version)
# and keeps running totals, the outbox row inserted before the order, a relay that publishes everything
# before marking anything, and a recovery that lists the steps that may have happened, then undoes them.
ALTERNATIVE = {
    "event_store": '''
class EventStore:
    def __init__(self):
        self._records, self._versions, self._guard = [], {}, threading.RLock()

    def append(self, stream_id, events, expected_version):
        events = list(events)
        if len(events) == 0:
            raise ValueError("nothing to append")
        with self._guard:
            current = self._versions.get(stream_id, 0)
            if current != expected_version:
                raise ConcurrencyError(f"expected {expected_version}, stream is at {current}")
            base = len(self._records)
            self._records.extend(
                dict(position=base + i + 1, stream_id=stream_id, version=current + i + 1,
                     type=e["type"], data=json.loads(json.dumps(e["data"]))) for i, e in enumerate(events))
            self._versions[stream_id] = current + len(events)
            return self._versions[stream_id]

    def read(self, stream_id, from_version=0):
        with self._guard:
            return json.loads(json.dumps([r for r in self._records
                                          if r["stream_id"] == stream_id and r["version"] > from_version]))

    def read_all(self, from_position=0):
        with self._guard:
            return json.loads(json.dumps([r for r in self._records if r["position"] > from_position]))
''',
    "apply_event": '''
def apply_event(state, event):
    kind, data = event["type"], event["data"]
    if kind == "OrderPlaced":
        if state is not None:
            raise ValueError("already placed")
        return {"order_id": data["order_id"], "customer": data["customer"], "status": "placed",
                "items": {**data["items"]}, "paid_cents": 0}
    if state is None:
        raise ValueError("no such order")
    items = dict(state["items"])
    if kind == "ItemAdded":
        items[data["sku"]] = items.get(data["sku"], 0) + data["qty"]
        return {**state, "items": items}
    if kind == "ItemRemoved":
        left = items.pop(data["sku"]) - data["qty"]
        if left:
            items[data["sku"]] = left
        return {**state, "items": items}
    statuses = {"OrderPaid": "paid", "OrderShipped": "shipped", "OrderCancelled": "cancelled"}
    if kind not in statuses:
        raise ValueError(kind)
    paid = state["paid_cents"] + (data["amount_cents"] if kind == "OrderPaid" else 0)
    return {**state, "items": items, "status": statuses[kind], "paid_cents": paid}
''',
    "rebuild": '''
from functools import reduce

def rebuild(events, snapshot=None):
    start = snapshot or {"version": 0, "state": None}
    todo = [e for e in events if e["version"] > start["version"]]
    if [e["version"] for e in todo] != list(range(start["version"] + 1, start["version"] + 1 + len(todo))):
        raise ValueError("a gap in the versions")
    return {"version": start["version"] + len(todo), "state": reduce(apply_event, todo, start["state"])}
''',
    "customer_view": '''
class CustomerView:
    def __init__(self):
        self.seen, self.orders, self.rows = set(), {}, {}

    @staticmethod
    def _share(order):
        if order is None:
            return (0, 0, 0)
        live = order["status"] != "cancelled"
        return (int(order["status"] in ("placed", "paid")), sum(order["items"].values()) if live else 0,
                order["paid_cents"] if live else 0)

    def handle(self, record):
        key = (record["stream_id"], record["version"])
        if key in self.seen:
            return
        self.seen.add(key)
        old = self.orders.get(record["stream_id"])
        new = apply_event(old, record)
        self.orders[record["stream_id"]] = new
        row = self.rows.setdefault(new["customer"], [0, 0, 0])
        for i, (a, b) in enumerate(zip(self._share(new), self._share(old))):
            row[i] += a - b

    def view(self):
        return {c: {"open_orders": r[0], "items_ordered": r[1], "spent_cents": r[2]} for c, r in self.rows.items()}
''',
    "place_order_plan": '''
def place_order_plan(order_id, customer, items, prices):
    bad = [s for s, q in items.items() if s not in prices or type(q) is not int or q < 1]
    if bad or not items:
        raise ValueError(f"cannot order {bad or 'nothing'}")
    total = sum(prices[s] * q for s, q in items.items())
    payload = dict(order_id=order_id, customer=customer, items=dict(items), total_cents=total)
    return [["begin"],
            ["insert", "outbox", dict(aggregate_id=order_id, type="OrderPlaced", payload=payload)],
            ["insert", "orders", dict(order_id=order_id, customer=customer, status="placed", total_cents=total)],
            ["commit"]]
''',
    "relay_actions": '''
def relay_actions(rows):
    ordered = sorted(rows, key=lambda r: r["id"])
    return [["publish", dict(r)] for r in ordered] + [["mark", r["id"]] for r in ordered]
''',
    "saga_next": '''
def saga_next(log):
    results = dict(log)
    forward = [a for a, _ in SAGA_STEPS]
    if "failed" not in [results.get(a) for a in forward]:
        pending = [a for a in forward if a not in results]
        return pending[0] if pending else "completed"
    completed = [c for a, c in SAGA_STEPS if results.get(a) == "ok"]
    todo = [c for c in reversed(completed) if results.get(c) != "ok"]
    return todo[0] if todo else "compensated"
''',
    "saga_recover": '''
def saga_recover(log):
    latest = dict(log)  # later entries win
    if [latest.get(a) for a, _ in SAGA_STEPS] == ["ok"] * len(SAGA_STEPS):
        return "completed"
    touched = [c for a, c in SAGA_STEPS if latest.get(a) in ("started", "ok")]
    todo = [c for c in touched[::-1] if latest.get(c) != "ok"]
    return todo[0] if todo else "compensated"
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_mistakes_the_visible_tests_miss(reports):
    """Batch appends, a global checkpoint, string-sorted ids, an unlocked store and a redelivery of the latest
    record pass every visible test; only the hidden cases find them."""
    assert_caught_by_hidden_tests(reports["batch_versions_restart"], STORE, "seed 911")
    assert_caught_by_hidden_tests(reports["projection_global_checkpoint"], VIEW, "seed 941")
    assert_caught_by_hidden_tests(reports["relay_ids_sorted_as_strings"], RELAY, "seed 963")
    # Either racing case may be the one where the unlocked writers overlap first (seed 918 races writers only,
    # 919 adds readers); on a loaded machine the threads of 918 can run one after another and 919 catches it.
    assert_caught_by_hidden_tests(reports["unlocked_append"], STORE, "racing_appends")
    unlocked_message = next(t.message for t in reports["unlocked_append"].tests if t.id == STORE)
    assert "seed 918" in unlocked_message or "seed 919" in unlocked_message, unlocked_message
    assert_caught_by_hidden_tests(reports["unlocked_read_all"], STORE, "seed 919", "torn_reads")
    assert_caught_by_hidden_tests(reports["redelivery_of_latest_applied"], VIEW, "seed 94")
    assert_caught_by_hidden_tests(reports["placed_state_shares_event_items"], APPLY, "seed 924")
