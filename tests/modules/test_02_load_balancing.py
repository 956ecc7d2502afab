"""Module 02: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "02-load-balancing"

RR, SWRR, LC, P2C = ("correct_round_robin", "correct_smooth_weighted_round_robin", "correct_least_connections",
                     "correct_power_of_two_choices")
HEALTH, POOL = "correct_health_checker", "correct_healthy_pool"
SCALER, CHOOSE = "correct_target_tracking_autoscaler", "correct_choose_settings"

MUTANTS = {
    "rr_starts_at_one": Mutant(
        "round_robin", "return server", "return self.next",
        frozenset({RR}), "the counter is advanced before it is used, so the first request goes to server 1"),
    "swrr_subtracts_own_weight": Mutant(
        "smooth_weighted_round_robin", "self.current[best] -= self.total", "self.current[best] -= self.weights[best]",
        frozenset({SWRR}), "the picked server loses its own weight instead of the total: the heaviest always wins"),
    "swrr_zero_weight_accepted": Mutant(
        "smooth_weighted_round_robin", "any(w < 1 for w in weights)", "any(w < 0 for w in weights)",
        frozenset({SWRR}), "a weight of 0 accepted (a server that can never be picked)"),
    "lc_picks_most_loaded": Mutant(
        "least_connections", "return min(range(self.n)", "return max(range(self.n)",
        frozenset({LC}), "max where min was meant"),
    "p2c_with_replacement": Mutant(
        "power_of_two_choices", "replace=False", "replace=True",
        frozenset({P2C}), "the two candidates may be the same server, so the most loaded one is sometimes picked"),
    "p2c_unseeded": Mutant(
        "power_of_two_choices", "np.random.default_rng(seed)", "np.random.default_rng()",
        frozenset({P2C}), "the generator ignores the seed, so a run cannot be replayed"),
    "health_failures_not_reset_on_pass": Mutant(
        "health_checker", "            self.failures = 0\n", "            pass\n",
        frozenset({HEALTH, POOL}),
        "failures counted in total, not consecutively (the pool uses the checker, so it loses too)"),
    "health_successes_not_reset_on_failure": Mutant(
        "health_checker", "            self.successes = 0\n", "            pass\n",
        frozenset({HEALTH, POOL}),
        "passes from before the server went down count toward rise (only hidden tests see it)"),
    "pool_routes_to_draining": Mutant(
        "healthy_pool", " and not self.draining[s]", "",
        frozenset({POOL}), "a draining server keeps getting new requests"),
    "pool_ignores_health": Mutant(
        "healthy_pool", "if self.up[s] and not", "if not",
        frozenset({POOL}), "health checks recorded but not used for routing"),
    "pool_removable_ignores_in_flight": Mutant(
        "healthy_pool", "return self.draining[server] and self.active[server] == 0", "return self.draining[server]",
        frozenset({POOL}), "a draining server removed before its requests finish"),
    "autoscaler_rounds_to_nearest": Mutant(
        "target_tracking_autoscaler", "math.ceil(capacity * utilisation / self.target - 1e-9)",
        "round(capacity * utilisation / self.target)",
        frozenset({SCALER, CHOOSE}),
        "rounding to the nearest server instead of up (choose_settings, searching with it, then picks settings "
        "that are too dear or too slow with a correct autoscaler, so it loses too)"),
    "autoscaler_scale_out_does_not_block_scale_in": Mutant(
        "target_tracking_autoscaler", "self.last_scale_out = self.last_scaling = now_s", "self.last_scale_out = now_s",
        frozenset({SCALER, CHOOSE}), "scale-in allowed right after a scale-out (misleads choose_settings on a hidden day)"),
    "autoscaler_cooldown_strict": Mutant(
        "target_tracking_autoscaler", "now_s - self.last_scale_out >= self.scale_out_cooldown_s",
        "now_s - self.last_scale_out > self.scale_out_cooldown_s",
        frozenset({SCALER}), "a scale-out exactly one cooldown later is refused (only hidden tests see it)"),
    "autoscaler_no_max_clamp": Mutant(
        "target_tracking_autoscaler", "max(self.min_capacity, min(self.max_capacity, desired))",
        "max(self.min_capacity, desired)", frozenset({SCALER, CHOOSE}),
        "max_capacity ignored (so choose_settings finds a setting for an impossible load and never raises)"),
    # issue 17's classes of mistakes that used to score full marks (class 5, races, does not apply: nothing here
    # runs concurrently)
    "pool_accepts_zero_servers": Mutant(  # class 1: a stated error rule that had no hidden case
        "healthy_pool", "if n_servers < 1:", "if n_servers < 0:",
        frozenset({POOL}), "a pool of 0 servers accepted (the text says ValueError; only the contract tries it)"),
    "autoscaler_scale_out_cooldown_unchecked": Mutant(  # class 1
        "target_tracking_autoscaler", "if scale_out_cooldown_s < 0 or scale_in_cooldown_s < 0:",
        "if scale_in_cooldown_s < 0:",
        frozenset({SCALER}), "a negative scale-out cooldown accepted (the old hidden tests tried only scale-in)"),
    "autoscaler_scale_in_cooldown_strict": Mutant(  # classes 2 and 6: exact boundary; the day totals' tolerance hid it
        "target_tracking_autoscaler", "now_s - self.last_scaling >= self.scale_in_cooldown_s",
        "now_s - self.last_scaling > self.scale_in_cooldown_s",
        frozenset({SCALER}),
        "a scale-in exactly one cooldown later is refused: whole days differ by less than the 2% their totals "
        "allow, so only the contract's boundary case catches it"),
    "lc_compares_loads_as_text": Mutant(  # class 3: loads of 10 and more, which one corner of the domain lacks
        "least_connections", "key=lambda i: loads[i])", "key=lambda i: str(loads[i]))",
        frozenset({LC}), "loads compared as strings: 10 looks smaller than 9"),
    "pool_finish_refused_on_down_server": Mutant(  # class 4: requests in flight on a server that then went down
        "healthy_pool", "if self.active[server] == 0:", "if self.active[server] == 0 or not self.up[server]:",
        frozenset({POOL}), "a down server's requests can never finish, so it stays loaded forever"),
    "health_default_rise_3": Mutant(  # class 1: a stated default that no case left out
        "health_checker", "def __init__(self, fall=3, rise=2):", "def __init__(self, fall=3, rise=3):",
        frozenset({HEALTH}), "HealthChecker() needs three passes to come back up (the drivers passed rise, always)"),
    "pool_default_rise_3": Mutant(  # class 1
        "healthy_pool", "def __init__(self, n_servers, fall=3, rise=2):",
        "def __init__(self, n_servers, fall=3, rise=3):",
        frozenset({POOL}), "HealthyPool(n) keeps a recovered server out for one check too many"),
    "p2c_default_seed_invalid": Mutant(  # class 1: the interface's default seed=0 was never left out
        "power_of_two_choices", "def __init__(self, weights, seed=0):", "def __init__(self, weights, seed=-1):",
        frozenset({P2C}), "PowerOfTwoChoices(weights) raises: default_rng(-1) refuses a negative seed"),
    "choose_budget_strict": Mutant(  # class 2: a setting exactly at the budget
        "choose_settings", "run.slo_minutes <= SLO_BUDGET_MINUTES", "run.slo_minutes < SLO_BUDGET_MINUTES",
        frozenset({CHOOSE}), "a setting with exactly 14 SLO-violating minutes refused, so a dearer one is chosen"),
    "choose_ignores_slo": Mutant(
        "choose_settings", "run.slo_minutes <= SLO_BUDGET_MINUTES and ", "",
        frozenset({CHOOSE}), "the cheapest setting chosen whatever its SLO violations"),
}

# A correct solution written differently from ours: itertools, numpy arrays and the opposite tie order,
# the last least-loaded server, a different way to draw two distinct servers, a sliding window for the
# health checker, IndexError (a LookupError) from the pool, an integer-ceiling autoscaler with -inf
# start times, and choose_settings through course.balancing.sweep_settings.
ALTERNATIVE = {
    "round_robin": '''
import itertools

class RoundRobin:
    def __init__(self, weights, seed=0):
        if not weights:
            raise ValueError("no servers")
        self._order = itertools.cycle(range(len(weights)))

    def pick(self, loads):
        return next(self._order)
''',
    "smooth_weighted_round_robin": '''
import numpy as np

class SmoothWeightedRoundRobin:
    def __init__(self, weights, seed=0):
        w = np.asarray(weights, dtype=np.int64)
        if w.size == 0 or (w <= 0).any():
            raise ValueError(weights)
        self.w, self.cur = w, np.zeros_like(w)

    def pick(self, loads):
        self.cur += self.w
        best = len(self.cur) - 1 - np.argmax(self.cur[::-1])   # ties go to the highest index
        self.cur[best] -= self.w.sum()
        return best   # a numpy integer
''',
    "least_connections": '''
class LeastConnections:
    def __init__(self, weights, seed=0):
        if len(weights) == 0:
            raise ValueError("no servers")

    def pick(self, loads):
        least = min(loads)
        return max(i for i, load in enumerate(loads) if load == least)   # the last of the least loaded
''',
    "power_of_two_choices": '''
import numpy as np

class PowerOfTwoChoices:
    def __init__(self, weights, seed=0):
        if len(weights) == 0:
            raise ValueError("no servers")
        self.n = len(weights)
        self.rng = np.random.default_rng(seed)

    def pick(self, loads):
        if self.n < 2:
            return 0
        first = int(self.rng.integers(self.n))
        second = (first + 1 + int(self.rng.integers(self.n - 1))) % self.n   # uniform over the others
        return second if loads[second] <= loads[first] else first
''',
    "health_checker": '''
from collections import deque

class HealthChecker:
    def __init__(self, fall=3, rise=2):
        if min(fall, rise) < 1:
            raise ValueError((fall, rise))
        self.fall, self.rise = fall, rise
        self.recent = deque(maxlen=max(fall, rise))
        self.state = "up"

    def observe(self, ok):
        self.recent.append(ok)
        window = list(self.recent)
        if self.state == "up" and len(window) >= self.fall and not any(window[-self.fall:]):
            self.state = "down"
        elif self.state == "down" and len(window) >= self.rise and all(window[-self.rise:]):
            self.state = "up"
        return self.state == "up"
''',
    "healthy_pool": '''
class HealthyPool:
    def __init__(self, n_servers, fall=3, rise=2):
        if n_servers <= 0:
            raise ValueError(n_servers)
        self.servers = {s: {"check": HealthChecker(fall=fall, rise=rise), "up": True, "draining": False, "busy": 0}
                        for s in range(n_servers)}

    def report(self, server, ok):
        entry = self.servers[server]
        entry["up"] = entry["check"].observe(ok)

    def assign(self):
        open_ = [(e["busy"], -s, s) for s, e in self.servers.items() if e["up"] and not e["draining"]]
        if not open_:
            raise IndexError("no server available")   # IndexError is a LookupError
        server = min(open_)[2]                          # ties to the highest index
        self.servers[server]["busy"] += 1
        return server

    def finish(self, server):
        entry = self.servers[server]
        if entry["busy"] < 1:
            raise ValueError("nothing in flight")
        entry["busy"] -= 1

    def drain(self, server):
        self.servers[server]["draining"] = True

    def in_flight(self, server):
        return self.servers[server]["busy"]

    def removable(self, server):
        entry = self.servers[server]
        return bool(entry["draining"] and entry["busy"] == 0)
''',
    "target_tracking_autoscaler": '''
class TargetTrackingAutoscaler:
    def __init__(self, min_capacity, max_capacity, target, scale_out_cooldown_s, scale_in_cooldown_s):
        if min_capacity < 1 or max_capacity < min_capacity or target <= 0 or target > 1:
            raise ValueError("bad capacity or target")
        if min(scale_out_cooldown_s, scale_in_cooldown_s) < 0:
            raise ValueError("bad cooldown")
        self.bounds = (min_capacity, max_capacity)
        self.target = target
        self.cooldown = {"out": scale_out_cooldown_s, "in": scale_in_cooldown_s}
        self.last = {"out": float("-inf"), "any": float("-inf")}

    def decide(self, now_s, capacity, utilisation):
        exact = round(capacity * utilisation / self.target, 9)
        desired = int(-(-exact // 1))                       # ceiling by floor division
        desired = min(max(desired, self.bounds[0]), self.bounds[1])
        if desired > capacity and now_s >= self.last["out"] + self.cooldown["out"]:
            self.last["out"] = self.last["any"] = now_s
            return desired
        if desired < capacity and now_s >= self.last["any"] + self.cooldown["in"]:
            self.last["any"] = now_s
            return desired
        return capacity
''',
    "choose_settings": '''
from course.balancing import SLO_BUDGET_MINUTES, settings_grid, sweep_settings

KEYS = ("min_capacity", "max_capacity", "target", "scale_out_cooldown_s", "scale_in_cooldown_s")

def choose_settings(demand_rps):
    results = sweep_settings(TargetTrackingAutoscaler, settings_grid(), demand_rps)
    ok = sorted((r for r in results if r["slo_minutes"] <= SLO_BUDGET_MINUTES), key=lambda r: r["server_hours"])
    if not ok:
        raise ValueError("nothing meets the SLO budget")
    return {k: ok[0][k] for k in KEYS}
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """health_successes_not_reset_on_failure passes every visible test of the health checker; only the
    seeded hidden sequences find it, and the message names the seed and the failing sequence."""
    failing = {t.id: t for t in reports["health_successes_not_reset_on_failure"].tests if t.status == "fail"}
    assert HEALTH in failing
    message = failing[HEALTH].message
    assert "seed 2511" in message and "run_health_checks(" in message and "results=[" in message


def test_hidden_tests_alone_catch_an_off_by_one_cooldown(reports):
    """autoscaler_cooldown_strict passes the visible calls; the hidden call sequences (seed 2711) catch it."""
    assert_caught_by_hidden_tests(reports["autoscaler_cooldown_strict"], SCALER, "seed 2711", "run_autoscaler(")
