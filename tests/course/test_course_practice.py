"""course.practice: the simulators and drivers module 15 grades with (each test can fail)."""

from __future__ import annotations

import pytest

from autograde.reference import design_practice as ref
from course.practice import (FlakyProvider, ProviderTimeout, cells_in_reach, chat_deliveries, chat_simulation,
                             city_ops, feed_posts, feed_workload, heartbeat_trace, paginate_while_posting,
                             payment_ledger, power_law_followers, presence_report, race_reservations, run_chat,
                             run_grid, run_payments, run_reservations, settlement_file)


@pytest.mark.parametrize("seed", [0, 1, 1530])
def test_follower_graph_is_seeded_and_has_a_heavy_tail(seed):
    graph = power_law_followers(1_000, seed, m=2)
    assert graph == power_law_followers(1_000, seed, m=2), f"seed {seed}: not replayable"
    counts = sorted((len(f) for f in graph.values()), reverse=True)
    assert sum(counts) == 2 * (1_000 - 2), f"seed {seed}: expected {2 * 998} follows (m per new user), " \
                                           f"got {sum(counts)}"
    median = counts[len(counts) // 2]
    assert counts[0] >= 10 * max(median, 1), f"seed {seed}: most followed {counts[0]}, median {median}: no heavy tail"
    for user, fs in graph.items():
        assert user not in fs, f"seed {seed}: {user} follows itself"
        assert all(int(f[1:]) > int(user[1:]) for f in fs), f"seed {seed}: {user} followed by an older user"


def test_follower_graph_refuses_too_few_users():
    with pytest.raises(ValueError):
        power_law_followers(2, 0, m=2)


def test_feed_workload_is_time_ordered_with_consecutive_post_ids():
    graph = power_law_followers(50, 3)
    events = feed_workload(graph, 40, 30, seed=9)
    assert events == feed_workload(graph, 40, 30, seed=9)
    assert [e[-1] for e in events] == list(range(1, 71)), "input: 70 events; expected: times 1..70"
    assert [e[2] for e in events if e[0] == "post"] == list(range(1, 41))
    assert sum(1 for e in events if e[0] == "read") == 30
    assert {e[1] for e in events} <= set(graph)


def test_feed_posts_have_ties_and_unordered_ids():
    posts = feed_posts(100, seed=4, max_gap=1)
    assert sorted(p[0] for p in posts) == list(range(1, 101))
    times = [p[1] for p in posts]
    assert len(set(times)) < len(times), "expected ties in time with max_gap=1"
    assert [p[0] for p in posts] != sorted(p[0] for p in posts), "ids must not follow time order"


def _offset_page(posts, cursor, limit):
    skip = cursor or 0
    page = sorted(posts, key=lambda p: (p[1], p[0]), reverse=True)[skip:skip + limit]
    return {"items": [p[0] for p in page], "cursor": skip + limit if len(page) == limit else None}


def test_paginate_while_posting_finds_the_duplicates_of_offset_pagination():
    posts = feed_posts(60, seed=1)
    good = paginate_while_posting(ref.feed_page, posts, limit=10, new_per_page=3, seed=1)
    bad = paginate_while_posting(_offset_page, posts, limit=10, new_per_page=3, seed=1)
    assert good["duplicates"] == [] and good["gaps"] == [], good
    assert len(bad["duplicates"]) == 3 * (len(bad["pages"]) - 1), bad
    shown = [i for page in good["pages"] for i in page]
    assert set(p[0] for p in posts) <= set(shown)


def test_paginate_while_posting_finds_gaps():
    def skipping(posts, cursor, limit):  # drops the first post after the cursor
        page = ref.feed_page(posts, cursor, limit + 1)
        return {"items": page["items"][1:], "cursor": page["cursor"]}

    run = paginate_while_posting(skipping, feed_posts(30, seed=2), limit=5, new_per_page=0, seed=2)
    assert run["gaps"], run


def test_flaky_provider_follows_its_script():
    provider = FlakyProvider(["timeout_after", "timeout_before", "ok"])
    with pytest.raises(ProviderTimeout):
        provider.charge("a", 100)
    assert provider.find("a") == "ch_1"
    with pytest.raises(ProviderTimeout):
        provider.charge("b", 200)
    assert provider.find("b") is None
    assert provider.charge("b", 200) == "ch_2"
    assert provider.charge("c", 1) == "ch_3"  # after the script: ok
    assert provider.charges() == [["ch_1", "a", 100], ["ch_2", "b", 200], ["ch_3", "c", 1]]
    assert provider.calls() == 4
    with pytest.raises(ValueError):
        FlakyProvider(["fine"])


class _BlindRetry(ref.ModelPaymentAPI):
    def pay(self, key, amount):
        for _ in range(3):
            try:
                return {"status": "succeeded", "charge_id": self.provider.charge(key, amount)}
            except ProviderTimeout:
                continue
        return {"status": "failed"}


def test_run_payments_shows_a_double_charge_and_its_fix():
    outcomes, requests = ["timeout_after"], [["k", 500], ["k", 500]]
    good = run_payments(ref.ModelPaymentAPI, FlakyProvider, outcomes, requests)
    bad = run_payments(_BlindRetry, FlakyProvider, outcomes, requests)
    assert good == {"results": [{"status": "succeeded", "charge_id": "ch_1"}] * 2, "charges": [["ch_1", "k", 500]]}
    assert len(bad["charges"]) == 3, bad
    errors = run_payments(ref.ModelPaymentAPI, FlakyProvider, [], [["k", 5.0], ["", 5]])
    assert errors["results"] == [["error", "TypeError"], ["error", "ValueError"]]


@pytest.mark.parametrize("seed", [0, 7, 1515])
def test_settlement_file_injects_what_it_says(seed):
    ledger = payment_ledger(400, seed)
    day = settlement_file(ledger, seed, p_missing=0.1, p_duplicate=0.1, p_mismatch=0.1, n_unknown=3)
    report = ref.reconcile(ledger, day["rows"])
    injected = day["injected"]
    assert report["missing_in_settlement"] == injected["missing"], f"seed {seed}"
    assert report["duplicated"] == injected["duplicated"], f"seed {seed}"
    assert report["missing_in_ledger"] == injected["unknown"], f"seed {seed}"
    mismatched = sorted(set(injected["mismatched"]) - set(injected["duplicated"]))
    assert [r[0] for r in report["amount_mismatch"]] == mismatched, f"seed {seed}"
    assert len(set(a for _, a in ledger)) < len(ledger), f"seed {seed}: amounts must repeat"


def test_chat_deliveries_drop_duplicate_and_reorder():
    run = chat_deliveries(3, 40, p_drop=0.1, p_duplicate=0.2, max_delay=5, seed=11)
    assert run == chat_deliveries(3, 40, p_drop=0.1, p_duplicate=0.2, max_delay=5, seed=11), "not replayable"
    ids = [d[2] for d in run["deliveries"]]
    every = {m[1] for log in run["logs"].values() for m in log}
    assert len(ids) != len(set(ids)), "seed 11: expected duplicates"
    assert set(ids) < every, "seed 11: expected drops"
    per_conv = [[d[1] for d in run["deliveries"] if d[0] == conv] for conv in run["logs"]]
    assert any(seqs != sorted(seqs) for seqs in per_conv), "seed 11: expected reordering"
    texts = [m[2] for m in run["logs"]["c0"]]
    assert len(set(texts)) < len(texts), "seed 11: texts must repeat (de-duplication by content must fail)"


def test_chat_deliveries_without_faults_deliver_the_logs_in_order():
    run = chat_deliveries(2, 10, 0.0, 0.0, 0, seed=1)
    for conv, log in run["logs"].items():
        assert [d[1:] for d in run["deliveries"] if d[0] == conv] == log


def test_chat_simulation_syncs_a_correct_client_and_exposes_a_naive_one():
    class OnArrival(ref.ModelChatClient):
        def receive(self, conv, seq, message_id, text):
            self.shown.setdefault(conv, []).append(message_id)

    case = dict(n_convs=3, n_messages=30, p_drop=0.2, p_duplicate=0.2, max_delay=4, seed=5)
    logs = chat_deliveries(**case)["logs"]
    good = chat_simulation(ref.ModelChatClient, **case)
    assert good["displayed"] == [[c, [m[1] for m in logs[c]]] for c in ["c0", "c1", "c2"]], good
    assert good["cursors"] == [[c, 30] for c in ["c0", "c1", "c2"]]
    assert any(cursor < 30 for _, cursor in good["cursors_before_sync"]), "seed 5: drops must leave gaps to sync"
    bad = chat_simulation(OnArrival, **case)
    assert bad["displayed"] != good["displayed"]


def test_run_chat_reports_errors_by_name():
    assert run_chat(ref.ModelChatClient, [["recv", "a", 0, "m", "x"], ["recv", "a", 1, "m", "x"], ["displayed", "a"],
                                          ["cursor", "a"], ["cursor", "b"]]) == [["error", "ValueError"], None,
                                                                                ["m"], 1, 0]
    with pytest.raises(ValueError):
        run_chat(ref.ModelChatClient, [["nope"]])


def test_cells_in_reach_counts_the_cells_a_square_touches():
    assert cells_in_reach(0.5, 0.5, 0.4, 1.0) == 1
    assert cells_in_reach(0.5, 0.5, 0.5, 1.0) == 4  # the square reaches x = 1.0 and y = 1.0, the next cells
    assert cells_in_reach(-0.5, -0.5, 0.2, 1.0) == 1
    assert cells_in_reach(0.0, 0.0, 2.0, 1.0) == 25


class _Bucketless(ref.ModelGrid):
    def nearest(self, x, y, k, r):
        return {**super().nearest(x, y, k, r), "cells": 10**9}


class _OwnCellOnly(ref.ModelGrid):
    def nearest(self, x, y, k, r):
        got = super().nearest(x, y, k, r)
        same = [d for d in got["drivers"] if int(self.where[d][0] // 1) == int(x // 1)]
        return {"drivers": same, "cells": 1}


def test_run_grid_reports_cells_beyond_reach_and_missed_drivers():
    ops = [["update", "w", 0.999, 0.5], ["update", "e", 1.001, 0.5], ["nearest", 0.999, 0.5, 3, 0.5]]
    assert run_grid(ref.ModelGrid, 1.0, ops) == [None, None, [["w", "e"], True]]
    assert run_grid(_Bucketless, 1.0, ops)[-1] == [["w", "e"], False]
    assert run_grid(_OwnCellOnly, 1.0, ops)[-1] == [["w"], True]
    assert run_grid(ref.ModelGrid, 1.0, [["nearest", 0, 0, 0, 1.0]]) == [["error", "ValueError"]]
    with pytest.raises(ValueError):
        run_grid(ref.ModelGrid, 1.0, [["teleport", "a"]])


def test_city_ops_is_seeded_and_moves_removes_and_queries():
    ops = city_ops(30, 200, 10.0, seed=8)
    assert ops == city_ops(30, 200, 10.0, seed=8)
    kinds = {op[0] for op in ops}
    assert kinds == {"update", "remove", "nearest"}, kinds
    assert all(-5 <= op[1] <= 5 for op in ops if op[0] == "nearest")
    moved = {op[1] for op in ops[30:] if op[0] == "update"}
    assert len(moved) > 5, f"seed 8: expected drivers to move, moved {moved}"


def test_heartbeat_trace_sends_only_while_connected_and_loses_some():
    beats = heartbeat_trace(5.0, 0.2, 1.0, [[0.0, 100.0], [200.0, 300.0]], seed=3)
    assert beats == sorted(beats) == heartbeat_trace(5.0, 0.2, 1.0, [[0.0, 100.0], [200.0, 300.0]], seed=3)
    assert all(0 <= b <= 101 or 200 <= b <= 301 for b in beats), beats
    assert 20 < len(beats) < 40, f"seed 3: 40 sent, 20% lost; got {len(beats)}"


def test_presence_report_counts_flaps_and_detection():
    case = dict(interval=5.0, p_loss=0.2, max_delay=1.0, sessions=[[0.0, 500.0]], until=700.0, seed=4)
    strict = presence_report(ref.presence, timeout=6.0, grace=0.0, **case)
    patient = presence_report(ref.presence, timeout=6.0, grace=30.0, **case)
    assert strict["false_offline"] > 0, strict
    assert patient["false_offline"] == 0, patient
    assert 30 <= patient["detection"][0] <= 6 + 30 + 5, patient  # the last beat was sent up to one interval early
    never = presence_report(lambda beats, t, g, u: [], timeout=6.0, grace=0.0, **case)
    assert never == {"transitions": 0, "false_offline": 0, "detection": [None]}


def _check_then_book(conn, driver_id, rider_id, now, hold_seconds):
    row = conn.execute("SELECT rider, hold_until FROM drivers WHERE id = ?", (driver_id,)).fetchone()
    if row is None or (row[0] is not None and row[1] > now and row[0] != rider_id):
        return False
    conn.execute("UPDATE drivers SET rider = ?, hold_until = ? WHERE id = ?",
                 (rider_id, now + hold_seconds, driver_id))
    conn.commit()
    return True


def test_race_reservations_shows_the_double_booking_of_check_then_book():
    assert race_reservations(ref.reserve, riders=2, rounds=5) == {
        "rounds": 5, "double_booked": 0, "unbooked": 0, "holder_mismatch": 0, "errors": 0}
    racy = race_reservations(_check_then_book, riders=2, rounds=5)
    assert racy["double_booked"] >= 3, f"input: 2 riders, 5 rounds; expected: the race to show; got {racy}"


def test_run_reservations_runs_on_a_real_table_and_leaves_no_file(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ops = [["reserve", "d0", "ann", 0.0, 30.0], ["reserve", "d0", "bob", 29.5, 30.0],
           ["reserve", "d0", "bob", 30.0, 1.0], ["reserve", "d0", "cy", 0.0, 0.0]]
    assert run_reservations(ref.reserve, ["d0", "d1"], ops) == {
        "results": [True, False, True, ["error", "ValueError"]],
        "table": [["d0", "bob", 31.0], ["d1", None, None]]}
    assert list(tmp_path.iterdir()) == []


def test_run_grid_refuses_a_cell_count_below_the_cells_holding_the_answer():
    class _Zero(ref.ModelGrid):
        def nearest(self, x, y, k, r):
            return {**super().nearest(x, y, k, r), "cells": 0}

    ops = [["update", "w", 0.999, 0.5], ["update", "e", 1.001, 0.5], ["nearest", 0.999, 0.5, 3, 0.5],
           ["nearest", 50.0, 50.0, 3, 0.5]]
    assert run_grid(_Zero, 1.0, ops)[2:] == [[["w", "e"], False], [[], True]]
    assert run_grid(ref.ModelGrid, 1.0, ops)[2:] == [[["w", "e"], True], [[], True]]
