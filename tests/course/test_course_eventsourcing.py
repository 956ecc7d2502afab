"""course.eventsourcing: the drivers return plain data and expose the mistakes they are meant to expose."""

import copy
import threading

import pytest

from course.eventsourcing import (
    SAGA_STEPS, ConcurrencyError, FlakyBroker, PlanError, Services, concurrent_increments, connect,
    dual_write_vs_outbox, execute_plan, mutation_probe, place_scenario, plot_projection_lag, plot_saga_timelines,
    plot_time_travel, projection_lag, racing_appends, relay_scenario, relay_summary, result_edit_probe, run_projection,
    run_store, saga_crash_runs, saga_outcome, saga_recovery, saga_run, store_copy_probe,
)

# --------------------------------------------------------------------------- small implementations


class LockedStore:
    def __init__(self, check_version=True):
        self.lock, self.log, self.streams, self.check_version = threading.Lock(), [], {}, check_version

    def append(self, stream_id, events, expected_version):
        if not events:
            raise ValueError("empty")
        with self.lock:
            stream = self.streams.setdefault(stream_id, [])
            if self.check_version and expected_version != len(stream):
                raise ConcurrencyError(stream_id)
            for e in events:
                r = {"position": len(self.log) + 1, "stream_id": stream_id, "version": len(stream) + 1, **e}
                stream.append(r)
                self.log.append(r)
            return len(stream)

    def read(self, stream_id, from_version=0):
        with self.lock:
            return [copy.deepcopy(r) for r in self.streams.get(stream_id, []) if r["version"] > from_version]

    def read_all(self, from_position=0):
        with self.lock:
            return [copy.deepcopy(r) for r in self.log[from_position:]]


class UncheckedStore(LockedStore):
    def __init__(self):
        super().__init__(check_version=False)


def plan_ok(order_id, customer, items, prices):
    if not items:
        raise ValueError("empty")
    total = sum(q * prices[k] for k, q in items.items())
    return [["begin"], ["insert", "orders", {"order_id": order_id, "customer": customer, "total_cents": total,
                                             "status": "placed"}],
            ["insert", "outbox", {"aggregate_id": order_id, "type": "OrderPlaced", "payload": {"order_id": order_id}}],
            ["commit"]]


def plan_two_transactions(order_id, customer, items, prices):
    plan = plan_ok(order_id, customer, items, prices)
    return plan[:2] + [["commit"], ["begin"]] + plan[2:]


def relay_ok(rows):
    out = []
    for r in sorted(rows, key=lambda r: r["id"]):
        out += [["publish", r], ["mark", r["id"]]]
    return out


def relay_mark_first(rows):
    out = []
    for r in sorted(rows, key=lambda r: r["id"]):
        out += [["mark", r["id"]], ["publish", r]]
    return out


def saga_next(log):
    outcome = dict((a, o) for a, o in log)
    failed = [i for i, (a, _) in enumerate(SAGA_STEPS) if outcome.get(a) == "failed"]
    if not failed:
        return next((a for a, _ in SAGA_STEPS if a not in outcome), "completed")
    return next((SAGA_STEPS[i][1] for i in range(failed[0] - 1, -1, -1) if outcome.get(SAGA_STEPS[i][1]) != "ok"),
                "compensated")


def saga_recover(log):
    status = dict((a, o) for a, o in log)
    if all(status.get(a) == "ok" for a, _ in SAGA_STEPS):
        return "completed"
    return next((c for a, c in reversed(SAGA_STEPS) if status.get(a) in ("ok", "started") and status.get(c) != "ok"),
                "compensated")


def saga_recover_trusting_outcomes(log):
    return saga_recover([entry for entry in log if entry[1] != "started"])


# --------------------------------------------------------------------------- event store


def test_run_store_reports_versions_conflicts_and_reads():
    e = {"type": "T", "data": {"x": 1}}
    results = run_store(LockedStore, [["append", "a", [e, e], 0], ["append", "a", [e], 0], ["append", "a", [], 2],
                                      ["read", "a", 1], ["read_all", 0]])
    assert results[:3] == [2, "ConcurrencyError", "ValueError"]
    assert [r["version"] for r in results[3]] == [2]
    assert [r["position"] for r in results[4]] == [1, 2]


def test_concurrent_increments_counts_with_a_correct_store():
    result = concurrent_increments(LockedStore, n_threads=5, increments_per_thread=4, seed=1)
    assert result["values"] == list(range(1, 21)) and result["versions"] == list(range(1, 21))
    assert result["appended"] == 20 and result["errors"] == [] and result["conflicts"] >= 4


def test_concurrent_increments_exposes_a_store_without_a_version_check():
    result = concurrent_increments(UncheckedStore, n_threads=4, increments_per_thread=2, seed=1)
    # All four read the empty stream before the barrier, so all four first appends carry value 1 and
    # "win"; when they land among the later appends depends on the scheduler, so only count them.
    assert result["values"].count(1) == 4, result["values"]


class CopyingStore(LockedStore):
    def append(self, stream_id, events, expected_version):
        return super().append(stream_id, copy.deepcopy(events), expected_version)


class LeakyStore(CopyingStore):
    def read(self, stream_id, from_version=0):
        return [r for r in self.streams.get(stream_id, []) if r["version"] > from_version]

    def read_all(self, from_position=0):
        return self.log  # the store's own list


def test_store_copy_probe_sees_shared_records_on_the_way_in_and_out():
    unchanged = "history unchanged"
    assert store_copy_probe(CopyingStore) == {"after editing the appended events": unchanged,
                                              "after editing what read returned": unchanged,
                                              "after editing what read_all returned": unchanged}
    assert store_copy_probe(LockedStore)["after editing the appended events"] == "history changed"  # keeps data
    leaky = store_copy_probe(LeakyStore)
    assert leaky["after editing what read returned"] == leaky["after editing what read_all returned"] == \
        "history changed"


def test_mutation_probe_names_the_arguments_changed_in_place():
    def add_in_place(state, event):
        state["items"][event["sku"]] = state["items"].get(event["sku"], 0) + 1
        return state

    def add_shallow(state, event):
        new = dict(state)
        new["items"][event["sku"]] = 1
        return new

    def add_copy(state, event):
        return {**state, "items": {**state["items"], event["sku"]: 1}}

    args = [{"items": {"mug": 1}}, {"sku": "pen"}]
    assert mutation_probe(add_in_place, copy.deepcopy(args)) == ["state"]
    assert mutation_probe(add_shallow, copy.deepcopy(args)) == ["state"]
    assert mutation_probe(add_copy, args) == [] and args == [{"items": {"mug": 1}}, {"sku": "pen"}]
    assert mutation_probe(lambda *a: a[1].clear(), copy.deepcopy(args)) == ["argument 2"]
    with pytest.raises(ZeroDivisionError):
        mutation_probe(lambda x: 1 / x, [0])


# --------------------------------------------------------------------------- projection


def test_run_projection_feeds_copies_and_returns_the_view():
    class Counter:
        def __init__(self):
            self.seen = []

        def handle(self, record):
            record["data"]["touched"] = True
            self.seen.append(record["version"])

        def view(self):
            return {"versions": self.seen}

    deliveries = [{"stream_id": "a", "version": 1, "data": {}}, {"stream_id": "a", "version": 2, "data": {}}]
    assert run_projection(Counter, deliveries) == {"versions": [1, 2]}
    assert deliveries[0]["data"] == {}


# --------------------------------------------------------------------------- outbox

PRICES = {"mug": 10, "pen": 1}


def test_execute_plan_runs_inserts_and_refuses_what_it_does_not_know():
    conn = connect(":memory:")
    execute_plan(conn, [["insert", "outbox", {"aggregate_id": "o", "type": "T", "payload": {"a": [1]}}]])
    assert conn.execute("SELECT payload, published FROM outbox").fetchall() == [('{"a": [1]}', 0)]
    for bad in ([["drop", "orders"]], [["insert", "sqlite_master", {}]], [["insert", "orders", {"x; --": 1}]], "x"):
        with pytest.raises(PlanError):
            execute_plan(conn, bad)


def test_place_scenario_commits_both_rows_or_neither():
    script = [["o1", "a", {"mug": 1}, None], ["o2", "b", {"pen": 2}, "outbox"], ["o3", "c", {}, None],
              ["o1", "d", {"pen": 1}, None], ["o4", "e", {"pen": 3}, "orders"]]
    out = place_scenario(plan_ok, PRICES, script)
    assert out["results"] == ["ok", "IntegrityError", "ValueError", "IntegrityError", "IntegrityError"]
    assert out["orders"] == [["o1", "a", 10, "placed"]]
    assert out["outbox"] == [["o1", "OrderPlaced", {"order_id": "o1"}, 0]]


def test_place_scenario_exposes_an_orphan_order_from_two_transactions():
    out = place_scenario(plan_two_transactions, PRICES, [["o2", "b", {"pen": 2}, "outbox"]])
    assert out["results"] == ["IntegrityError"] and out["orders"] == [["o2", "b", 2, "placed"]] and out["outbox"] == []


def test_place_scenario_loses_an_uncommitted_plan():
    out = place_scenario(lambda *args: plan_ok(*args)[:-1], PRICES, [["o1", "a", {"mug": 1}, None]])
    assert out["results"] == ["ok"] and out["orders"] == [] and out["outbox"] == []


def test_flaky_broker_follows_its_script():
    broker = FlakyBroker(["down", "ack_lost", "ok"])
    with pytest.raises(ConnectionError):
        broker.publish({"id": 1})
    with pytest.raises(ConnectionError):
        broker.publish({"id": 2})
    broker.publish({"id": 3})
    broker.publish({"id": 4})  # script exhausted: ok
    assert [m["id"] for m in broker.delivered] == [2, 3, 4]


EVENTS = [{"aggregate_id": f"o{k}", "type": "OrderPlaced", "payload": {"k": k}} for k in range(3)]


def test_relay_scenario_with_a_correct_relay_delivers_everything():
    out = relay_scenario(relay_ok, EVENTS, [[["ok", "down"], None], [["ack_lost"], None], [[], 1]], seed=2)
    assert [m["id"] for m in out["delivered"]] == [1, 2, 2, 2, 3]  # ack lost, then a crash before the mark
    assert out["published"] == [1, 1, 1] and out["rounds"][:3] == ["broker error", "broker error", "crash"]


def test_relay_scenario_shuffles_rows_and_exposes_marking_first():
    def unsorted(rows):
        return [a for r in rows for a in (["publish", r], ["mark", r["id"]])]

    orders = {tuple(m["id"] for m in relay_scenario(unsorted, EVENTS, [], seed=s)["delivered"]) for s in range(6)}
    assert len(orders) > 1
    out = relay_scenario(relay_mark_first, EVENTS, [[["ok", "down"], None]])
    assert 2 not in [m["id"] for m in out["delivered"]] and out["published"] == [1, 1, 1]


def test_dual_write_loses_events_and_the_outbox_does_not():
    out = dual_write_vs_outbox(plan_ok, relay_ok, n_orders=300, crash_probability=0.05, seed=3)
    assert out["dual write"]["orders never announced"] > 0
    assert out["outbox"]["orders never announced"] == 0 and out["outbox"]["duplicate deliveries"] > 0


# --------------------------------------------------------------------------- sagas


def test_services_are_idempotent_and_fail_without_effect():
    services = Services(fail="charge_payment")
    assert services.call("reserve_stock") == "ok" and services.call("reserve_stock") == "ok"
    assert services.call("charge_payment") == "failed"
    services.call("cancel_shipment")  # never shipped: nothing happens
    assert services.state == {"stock": True, "payment": False, "shipment": False}
    with pytest.raises(ValueError):
        services.call("teleport")


def test_saga_outcome_runs_the_decisions():
    assert saga_outcome(saga_next, fail="create_shipment")["calls"] == [
        "reserve_stock:ok", "charge_payment:ok", "create_shipment:failed", "refund_payment:ok", "release_stock:ok"]
    assert saga_outcome(lambda log: "teleport")["result"] == "invalid action 'teleport'"
    assert saga_outcome(lambda log: "reserve_stock")["result"].startswith("no end after")


def test_crash_after_an_action_leaves_it_started_in_the_log():
    run = saga_run(saga_next, saga_recover, crash_after="charge_payment")
    assert run["crashed"] and run["result"] == "compensated"
    assert run["log"][:4] == [["reserve_stock", "started"], ["reserve_stock", "ok"], ["charge_payment", "started"],
                              ["refund_payment", "started"]]
    assert [c["phase"] for c in run["calls"]] == ["run", "run", "recovery", "recovery"]


def test_saga_recovery_sums_up_a_crash_and_what_the_recovery_did():
    out = saga_recovery(saga_next, saga_recover, crash_after="charge_payment")
    assert out == {"log_at_crash": [["reserve_stock", "started"], ["reserve_stock", "ok"],
                                    ["charge_payment", "started"]],
                   "recovery_calls": ["refund_payment:ok", "release_stock:ok"], "result": "compensated",
                   "state": {"stock": False, "payment": False, "shipment": False}}
    assert saga_run(saga_next)["log_at_crash"] is None
    assert saga_recovery(saga_next, saga_recover, crash_at=0)["log_at_crash"] == []


def test_saga_crash_runs_covers_every_point_and_exposes_a_trusting_recovery():
    clean = saga_run(saga_next)
    runs = saga_crash_runs(saga_next, saga_recover)
    assert clean["ops"] == 3 * 3 and len(runs) == 2 * clean["ops"]
    assert all(r["crashed"] for r in runs)
    assert all(set(r["state"].values()) in ({True}, {False}) for r in runs)
    bad = saga_crash_runs(saga_next, saga_recover_trusting_outcomes)
    assert any(set(r["state"].values()) == {True, False} for r in bad)


# --------------------------------------------------------------------------- simulation and figures


def test_projection_lag_is_seeded_and_grows_in_a_burst():
    a = projection_lag(seed=4, until=30)
    assert a.equals(projection_lag(seed=4, until=30))
    assert (a["lag"] >= 0).all() and list(a.columns) == ["appended", "applied", "lag"]
    assert a[a.appended.between(14, 15)].lag.median() > 10 * a[a.appended < 9].lag.median()
    with pytest.raises(ValueError):
        projection_lag(seed=1, apply_rate=0)


def test_figures_have_titles_and_labels():
    history = [{"version": 1, "type": "OrderPlaced", "items": 2, "paid_cents": 0, "status": "placed"},
               {"version": 2, "type": "OrderPaid", "items": 2, "paid_cents": 500, "status": "paid"}]
    for fig, ax in (plot_time_travel(history), plot_projection_lag(projection_lag(seed=1, until=20), 10, 5),
                    plot_saga_timelines({"ok": saga_run(saga_next)["calls"]})):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_lag_chart_plots_seconds():
    lag = projection_lag(seed=1, until=20)
    fig, ax = plot_projection_lag(lag, 10, 5)
    assert ax.get_ylabel().endswith("(s)")
    assert max(ax.get_lines()[0].get_ydata()) == pytest.approx(lag["lag"].max())


class UnlockedStore(LockedStore):
    """Checks the version and stores the events in two steps, with no lock around both."""

    def append(self, stream_id, events, expected_version):
        stream = self.streams.setdefault(stream_id, [])
        if expected_version != len(stream):
            raise ConcurrencyError(stream_id)
        for e in events:
            r = {"position": len(self.log) + 1, "stream_id": stream_id, "version": len(stream) + 1,
                 **copy.deepcopy(e)}
            stream.append(r)
            self.log.append(r)
        return len(stream)


def test_racing_appends_lets_exactly_one_writer_win_each_round_of_a_locked_store():
    out = racing_appends(LockedStore, n_threads=8, rounds=30)
    assert out == {"winners": [1] * 30, "versions": list(range(1, 31)), "errors": []}, out


def test_racing_appends_exposes_a_store_without_a_lock():
    """Truly overlapping calls: two writers pass the same version check (seen in every run tried)."""
    outs = [racing_appends(UnlockedStore, n_threads=8, rounds=40) for _ in range(3)]
    assert any(out["winners"] != [1] * 40 for out in outs), outs


def test_relay_summary_is_the_same_for_every_correct_relay():
    def publish_all_then_mark(rows):
        ordered = sorted(rows, key=lambda r: r["id"])
        return [["publish", dict(r)] for r in ordered] + [["mark", r["id"]] for r in ordered]

    rounds = [[["ok", "down"], None], [["ack_lost"], None], [[], 1]]
    first = relay_summary(relay_ok, EVENTS, rounds, seed=2)
    assert first == relay_summary(publish_all_then_mark, EVENTS, rounds, seed=2)
    assert first["first_deliveries"] == [1, 2, 3] and first["published"] == [1, 1, 1]
    assert [m["payload"] for m in first["messages"]] == [e["payload"] for e in EVENTS]
    lost = relay_summary(relay_mark_first, EVENTS, [[["ok", "down"], None]])
    assert lost["first_deliveries"] == [1, 3], lost


def test_result_edit_probe_names_an_argument_the_result_shares():
    def shares(state, event):
        return {"items": event["data"]["items"]}

    def copies(state, event):
        return {"items": dict(event["data"]["items"])}

    event = {"type": "OrderPlaced", "data": {"items": {"mug": 1}}}
    assert result_edit_probe(shares, [None, copy.deepcopy(event)]) == ["event"]
    assert result_edit_probe(copies, [None, copy.deepcopy(event)]) == []


class DeepCopyingStore(LockedStore):
    """Copies each event's data (copy.deepcopy) inside its lock, as the solution does."""

    def append(self, stream_id, events, expected_version):
        return super().append(stream_id, [copy.deepcopy(e) for e in events], expected_version)


class UnlockedReadStore(LockedStore):
    """Appends under its lock, one record at a time with a copy in between, but reads without it."""

    def append(self, stream_id, events, expected_version):
        with self.lock:
            stream = self.streams.setdefault(stream_id, [])
            if expected_version != len(stream):
                raise ConcurrencyError(stream_id)
            for e in events:
                r = {"position": len(self.log) + 1, "stream_id": stream_id, "version": len(stream) + 1,
                     **copy.deepcopy(e)}
                stream.append(r)
                self.log.append(r)
            return len(stream)

    def read(self, stream_id, from_version=0):
        return [copy.deepcopy(r) for r in self.streams.get(stream_id, []) if r["version"] > from_version]

    def read_all(self, from_position=0):
        return [copy.deepcopy(r) for r in self.log[from_position:]]


def test_racing_appends_with_readers_sees_no_torn_read_of_a_locked_store():
    out = racing_appends(DeepCopyingStore, n_threads=2, rounds=30, readers=2)
    assert out == {"winners": [1] * 30, "versions": list(range(1, 61)), "errors": [], "torn_reads": 0}, out


def test_racing_appends_with_readers_catches_reads_without_the_lock():
    outs = [racing_appends(UnlockedReadStore, n_threads=2, rounds=60, readers=2) for _ in range(3)]
    assert any(out["torn_reads"] for out in outs), outs
