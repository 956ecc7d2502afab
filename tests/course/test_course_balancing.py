"""course.balancing: drivers return plain data, the simulators agree with queueing theory and with
what they document, the day of demand is seeded, and every figure is titled and labelled."""

import math

import numpy as np
import pytest

from course.balancing import (
    BOOT_S, SEED_SETTINGS, SLO_P99_MS, FailureRun, NaiveWeightedRoundRobin, RandomChoice, autoscaling_summary,
    day_of_demand, latency_table, p99_latency_ms, plot_autoscaling, plot_failure_timeline, plot_pick_sequences,
    plot_policy_latency, plot_settings_tradeoff, replay_picks, run_autoscaler, follow_autoscaler, run_health_checks, run_picks,
    run_pool, settings_grid, simulate_autoscaling, simulate_failure, simulate_policies, sweep_settings)
from course.seeding import derive_seed
from course.traffic import diurnal_profile

# ------------------------------------------------------------------ small learner-like classes


class Cycle:
    def __init__(self, weights, seed=0):
        self.n, self.k = len(weights), -1

    def pick(self, loads):
        self.k += 1
        return self.k % self.n


class Least:
    def __init__(self, weights, seed=0):
        pass

    def pick(self, loads):
        return loads.index(min(loads))


class Checker:
    def __init__(self, fall=3, rise=2):
        self.fall, self.rise, self.up, self.streak = fall, rise, True, 0

    def observe(self, ok):
        self.streak = 0 if ok == self.up else self.streak + 1
        if self.streak >= (self.fall if self.up else self.rise):
            self.up, self.streak = not self.up, 0
        return self.up


class Pool:
    """Least connections over healthy, non-draining servers (health from Checker)."""

    def __init__(self, n_servers, fall=3, rise=2):
        self.checks = [Checker(fall, rise) for _ in range(n_servers)]
        self.active = [0] * n_servers
        self.draining = [False] * n_servers

    def report(self, server, ok):
        self.checks[server].observe(ok)

    def assign(self):
        eligible = [s for s, c in enumerate(self.checks) if c.up and not self.draining[s]]
        if not eligible:
            raise LookupError("none")
        server = min(eligible, key=lambda s: self.active[s])
        self.active[server] += 1
        return server

    def finish(self, server):
        if not self.active[server]:
            raise ValueError("none in flight")
        self.active[server] -= 1

    def drain(self, server):
        self.draining[server] = True

    def in_flight(self, server):
        return self.active[server]

    def removable(self, server):
        return self.draining[server] and not self.active[server]


class Fixed:
    """An autoscaler that never changes capacity."""

    def __init__(self, **settings):
        pass

    def decide(self, now_s, capacity, utilisation):
        return capacity


class OneMore:
    """An autoscaler that asks for one more server at minute 10 only."""

    def __init__(self, **settings):
        pass

    def decide(self, now_s, capacity, utilisation):
        return capacity + 1 if now_s == 600 else capacity


class Tracking:
    """A plain target tracker without cooldowns."""

    def __init__(self, min_capacity, max_capacity, target, scale_out_cooldown_s, scale_in_cooldown_s):
        self.low, self.high, self.target = min_capacity, max_capacity, target

    def decide(self, now_s, capacity, utilisation):
        return max(self.low, min(self.high, math.ceil(capacity * utilisation / self.target - 1e-9)))


# ------------------------------------------------------------------ drivers


def test_run_picks_feeds_each_load_vector_or_idle_loads():
    assert run_picks(Cycle, [1, 1, 1], n_picks=5) == [0, 1, 2, 0, 1]
    assert run_picks(Least, [1, 1], loads=[[3, 1], [0, 2], [5, 5]]) == [1, 0, 0]
    with pytest.raises(ValueError):
        run_picks(Cycle, [1], loads=None, n_picks=None)


def test_replay_picks_runs_the_same_seed_twice():
    result = replay_picks(RandomChoice, [1] * 4, [[0] * 4] * 30, seed=5)
    assert set(result) == {"first", "second"} and result["first"] == result["second"]
    assert all(type(p) is int for p in result["first"])


def test_random_choice_is_seeded_and_roughly_uniform():
    picks = run_picks(RandomChoice, [1] * 4, n_picks=4000, seed=3)
    assert picks == run_picks(RandomChoice, [1] * 4, n_picks=4000, seed=3)
    assert picks != run_picks(RandomChoice, [1] * 4, n_picks=4000, seed=4)
    shares = np.bincount(picks, minlength=4) / 4000
    assert np.allclose(shares, 0.25, atol=0.03)


def test_naive_weighted_round_robin_sends_bursts():
    assert run_picks(NaiveWeightedRoundRobin, [5, 1, 1], n_picks=8) == [0, 0, 0, 0, 0, 1, 2, 0]
    with pytest.raises(ValueError):
        NaiveWeightedRoundRobin([2, 0])


def test_run_health_checks_returns_the_state_after_each_result():
    assert run_health_checks(Checker, [False, False, False, True, True], fall=3, rise=2) == [
        True, True, False, False, True]


def test_run_pool_records_results_and_exception_names():
    ops = [["report", 0, False], ["assign"], ["assign"], ["finish", 0], ["drain", 1], ["in_flight", 1],
           ["removable", 1], ["finish", 1], ["removable", 1], ["assign"]]
    assert run_pool(Pool, 2, ops, fall=1, rise=1) == [None, 1, 1, "ValueError", None, 2, False, None, False,
                                                      "LookupError"]
    with pytest.raises(ValueError):
        run_pool(Pool, 2, [["explode"]])


def test_run_autoscaler_passes_each_call():
    calls = [[0, 10, 0.84], [60, 12, 0.35]]
    assert run_autoscaler(Tracking, SEED_SETTINGS, calls) == [12, 6]


def test_follow_autoscaler_gives_each_call_the_capacity_the_last_one_returned():
    steps = [[0, 0.84], [60, 0.95], [360, 0.95], [420, 0.3], [720, 0.3]]
    from autograde.reference.load_balancing import TargetTracking  # with cooldowns, as the worked example

    got = follow_autoscaler(TargetTracking, **SEED_SETTINGS, capacity=10, steps=steps)
    assert got == [12, 12, 17, 17, 8], f"input: seed settings, capacity 10, {steps}; expected [12, 12, 17, 17, 8], got {got}"
    assert follow_autoscaler(Tracking, **SEED_SETTINGS, capacity=7, steps=[]) == []


# ------------------------------------------------------------------ policies under load


def mm1_mean_latency(arrival_rate, service_rate):
    return 1 / (service_rate - arrival_rate)


def test_simulate_policies_one_server_matches_the_m_m_1_mean():
    """One server at 50% load: mean time in system 1 / (mu - lambda) = 20 ms, within 10%."""
    result = simulate_policies({"only": RandomChoice}, service_rates=[100], weights=[1], arrival_rate=50,
                               n_requests=20_000, seed=11)
    latencies = result["only"]
    assert 0.95 * 20_000 < len(latencies) < 1.05 * 20_000
    assert float(np.mean(latencies)) == pytest.approx(mm1_mean_latency(50, 100), rel=0.1)


def test_simulate_policies_replays_by_seed_and_least_connections_beats_round_robin():
    kwargs = dict(service_rates=[200, 100, 100], weights=[2, 1, 1], arrival_rate=300, n_requests=3000, seed=4)
    first = simulate_policies({"rr": Cycle, "lc": Least}, **kwargs)
    again = simulate_policies({"rr": Cycle, "lc": Least}, **kwargs)
    assert np.array_equal(first["rr"], again["rr"])
    table = latency_table(first)
    assert list(table.columns) == ["p50_ms", "p95_ms", "p99_ms"]
    assert table.loc["lc", "p99_ms"] < table.loc["rr", "p99_ms"]
    with pytest.raises(ValueError):
        simulate_policies({"rr": Cycle}, service_rates=[1, 2], weights=[1], arrival_rate=1, n_requests=1, seed=0)


# ------------------------------------------------------------------ a server fails


def test_no_failure_means_no_errors():
    run = simulate_failure(Pool, check_interval_s=5, fail_at_s=1000, recover_at_s=2000, duration_s=30, seed=1)
    assert isinstance(run, FailureRun) and run.total_errors == 0
    assert 0.8 * 3000 < run.requests.sum() < 1.2 * 3000


def test_errors_stop_once_health_checks_mark_the_server_down():
    """Checks every second with fall 2 mark the server down within 3 s of the crash at 10 s."""
    run = simulate_failure(Pool, check_interval_s=1, fall=2, rise=1, fail_at_s=10, recover_at_s=25,
                           duration_s=40, seed=2)
    seconds_with_errors = np.flatnonzero(run.errors)
    assert len(seconds_with_errors) and seconds_with_errors.min() >= 10 and seconds_with_errors.max() <= 12


def test_without_health_checks_errors_last_the_whole_failure():
    run = simulate_failure(Pool, check_interval_s=None, fail_at_s=10, recover_at_s=25, duration_s=40, seed=2)
    seconds_with_errors = np.flatnonzero(run.errors)
    assert seconds_with_errors.min() >= 10 and seconds_with_errors.max() == 24
    assert run.errors[30:].sum() == 0


# ------------------------------------------------------------------ autoscaling


def test_day_of_demand_is_seeded_and_contains_one_surge():
    day = day_of_demand(7)
    assert day.shape == (1440,) and np.array_equal(day, day_of_demand(7))
    assert not np.array_equal(day, day_of_demand(8))
    ratio = day / diurnal_profile(2000.0, 2.5, seed=derive_seed(7, "diurnal"))
    assert ratio.max() == pytest.approx(1.6)
    assert ratio.min() == pytest.approx(1.0)
    surge = np.flatnonzero(ratio > 1.0 + 1e-12)
    assert 8 * 60 <= surge.min() < 17 * 60 and len(surge) < 80


def test_p99_model_is_the_m_m_1_percentile():
    assert p99_latency_ms(0.0) == pytest.approx(1000 * math.log(100) / 100)
    assert p99_latency_ms(0.5) == pytest.approx(2 * p99_latency_ms(0.0))
    assert p99_latency_ms(1.0) == math.inf and p99_latency_ms(1.3) == math.inf
    assert p99_latency_ms(0.76) < SLO_P99_MS < p99_latency_ms(0.78)


def test_fixed_capacity_costs_capacity_times_hours():
    demand = np.full(120, 1000.0)
    settings = {**SEED_SETTINGS, "target": 0.5}
    run = simulate_autoscaling(Fixed, settings, demand)
    assert np.all(run.capacity == 20) and run.server_hours == pytest.approx(40.0)
    assert np.allclose(run.utilisation, 0.5) and run.slo_minutes == 0


def test_new_servers_serve_after_the_boot_delay_but_cost_at_once():
    run = simulate_autoscaling(OneMore, {**SEED_SETTINGS, "target": 0.5}, np.full(30, 1000.0))
    boot_minutes = BOOT_S // 60
    assert run.capacity[10] == 20 and run.capacity[11] == 21
    assert run.in_service[9 + boot_minutes] == 20 and run.in_service[10 + boot_minutes] == 21


def test_overload_violates_the_slo_and_decide_must_return_an_int():
    run = simulate_autoscaling(Fixed, SEED_SETTINGS, [1000.0, 5000.0])
    assert list(run.violations) == [False, True]

    class Floaty(Fixed):
        def decide(self, now_s, capacity, utilisation):
            return capacity * 1.0

    with pytest.raises(TypeError):
        simulate_autoscaling(Floaty, SEED_SETTINGS, [1000.0])


def test_tracking_follows_the_day_and_summary_is_plain():
    summary = autoscaling_summary(Tracking, SEED_SETTINGS, day_seed=3)
    assert set(summary) == {"slo_minutes", "server_hours"}
    assert type(summary["slo_minutes"]) is int and type(summary["server_hours"]) is float
    run = simulate_autoscaling(Tracking, SEED_SETTINGS, day_of_demand(3))
    assert run.capacity.max() > 3 * run.capacity.min()


def test_settings_grid_and_sweep():
    grid = settings_grid()
    assert len(grid) == 36 and len({tuple(sorted(s.items())) for s in grid}) == 36
    assert all(s["min_capacity"] == 4 and s["max_capacity"] == 100 for s in grid)
    results = sweep_settings(Tracking, grid[:3], day_of_demand(1))
    assert all({"slo_minutes", "server_hours", "target"} <= set(r) for r in results)


# ------------------------------------------------------------------ figures


def labelled(ax):
    return ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_every_figure_has_a_title_and_axis_labels():
    latencies = simulate_policies({"rr": Cycle}, [100, 100], [1, 1], 100, 500, seed=1)
    runs = [simulate_failure(Pool, check_interval_s=2, duration_s=50, fail_at_s=10, recover_at_s=30, seed=1)]
    day = simulate_autoscaling(Tracking, SEED_SETTINGS, day_of_demand(1))
    results = sweep_settings(Tracking, settings_grid()[:4], day_of_demand(1))
    figures = [plot_pick_sequences({"a": [0, 1, 0]}, 2), plot_policy_latency(latency_table(latencies)),
               plot_failure_timeline(runs, 10, 30), plot_autoscaling(day),
               plot_settings_tradeoff(results, highlight=settings_grid()[0])]
    for fig, ax in figures:
        assert labelled(ax), ax
    assert "latency (ms)" == figures[1][1].get_ylabel()
