"""course.messaging: the drivers and simulators module 12 grades with (each test can fail)."""

from __future__ import annotations

import pytest

from autograde.reference import messaging as ref
from course.messaging import (PlanError, consumer_simulation, crash_runs, inbox_scenario, redelivery_schedule,
                              run_fifo_ops, run_queue_ops, simulate_fanout)


def test_run_queue_ops_feeds_back_the_handles_it_was_given():
    ops = [["send", "a", "x", 0.0], ["receive", 0.0, 1], ["receive", 30.0, 1], ["delete", "a", 0, 31.0],
           ["delete", "a", 5, 31.0], ["delete", "a", -1, 31.0], ["counts", 31.0]]
    assert run_queue_ops(ref.ModelQueue, 30.0, None, ops) == [
        None, [["a", "x", 1]], [["a", "x", 2]], False, False, True, {"visible": 0, "in_flight": 0}]


def test_run_fifo_ops_reports_group_and_dedup():
    ops = [["send", "a", "g", "x", "d", 0.0], ["send", "b", "g", "y", "d", 1.0], ["receive", 1.0, 10]]
    assert run_fifo_ops(ref.ModelFifo, 30.0, 300.0, ops) == [True, False, [["a", "g", "x", 1]]]


class _DeletingOnReceive(ref.ModelQueue):
    def receive(self, now, max_messages=1):
        got = super().receive(now, max_messages)
        for row in got:
            self.delete(row[2], now)
        return got


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_consumer_simulation_accounts_for_every_message_with_a_correct_queue(seed):
    run = consumer_simulation(ref.ModelQueue, 5, 3, n_messages=30, n_consumers=3, seed=seed)
    assert sorted(run["completed"] + run["dead"], key=lambda m: int(m[1:])) == [f"m{i}" for i in range(30)], run
    assert run == consumer_simulation(ref.ModelQueue, 5, 3, n_messages=30, n_consumers=3, seed=seed)  # replayable


def test_consumer_simulation_shows_at_most_once_losing_messages():
    run = consumer_simulation(_DeletingOnReceive, 5, 3, n_messages=30, n_consumers=3, seed=1)
    assert len(run["completed"]) + len(run["dead"]) < 30, run["completed"]


def _commit_first(committed, end, batch_size, mode):
    return ref.consumer_actions(committed, end, batch_size, "at-most-once")


def test_crash_runs_counts_loss_and_duplicates_per_mode():
    assert crash_runs(ref.consumer_actions, 10, 4, "at-least-once")["worst_lost"] == 0
    assert crash_runs(ref.consumer_actions, 10, 4, "at-least-once")["worst_duplicated"] == 4
    wrong = crash_runs(_commit_first, 10, 4, "at-least-once")
    assert wrong["worst_lost"] == 4 and wrong["worst_duplicated"] == 0, wrong


def test_crash_runs_refuses_unknown_actions():
    with pytest.raises(ValueError):
        crash_runs(lambda c, e, b, m: [["skip", 0]], 3, 1, "at-least-once")


def _two_transactions(message):
    return [["begin"], ["add", message["account"], message["cents"]], ["commit"], ["begin"],
            ["record", message["id"]], ["commit"]]


def test_inbox_scenario_applies_once_with_one_transaction_and_twice_without():
    message = {"id": "m1", "account": "alice", "cents": 500}
    good = inbox_scenario(ref.reference_inbox_plan, redelivery_schedule([message], 4))
    assert good["balances"] == [["alice", 500]] and good["inbox"] == ["m1"], good
    bad = inbox_scenario(_two_transactions, redelivery_schedule([message], 6))
    assert bad["balances"][0][1] > 500, bad


def test_inbox_scenario_reports_refused_messages_and_malformed_plans():
    out = inbox_scenario(ref.reference_inbox_plan, [[{"id": "", "account": "a", "cents": 1}, None]])
    assert out == {"results": ["ValueError"], "balances": [], "inbox": []}
    with pytest.raises(PlanError):
        inbox_scenario(lambda m: [["drop", "table"]], [[{"id": "x", "account": "a", "cents": 1}, None]])


def test_redelivery_schedule_crashes_between_every_pair_of_steps():
    schedule = redelivery_schedule([{"id": "a"}], 4)
    assert [crash for _, crash in schedule] == [0, 1, 2, 3, None, None]


def test_simulate_fanout_matches_the_formula_on_a_fixed_seed():
    slow = float((simulate_fanout(100, 0.01, 10, 1000, 20_000, seed=12) > 10).mean())
    assert abs(slow - ref.fanout_slow_probability(100, 0.01)) < 0.02, slow


def test_scaled_run_lets_a_scaler_object_decide_and_shows_a_stuck_fleet():
    from course.messaging import arrivals_trace, run_autoscaler, scaled_run

    arrivals = arrivals_trace(60, 20, 80, 10, 20, seed=3)
    spm = [0.5] * 60
    good = scaled_run(ref.ModelAgeScaler, arrivals, spm, 120.0, min_consumers=1, max_consumers=100)
    assert max(good["oldest_age_s"]) <= 240, good["oldest_age_s"]

    class Frozen(ref.ModelAgeScaler):
        def decide(self, oldest_age_s, consumers):
            return self.low

    stuck = scaled_run(Frozen, arrivals, spm, 120.0, min_consumers=1, max_consumers=100)
    assert max(stuck["oldest_age_s"]) > 2 * max(good["oldest_age_s"]), stuck["oldest_age_s"]
    assert run_autoscaler(ref.ModelAgeScaler, 1, 10, 120.0, [[600.0, 3], [0.0, 5]]) == [10, 4]
