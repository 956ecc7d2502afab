"""Reference answers, judges and seeded hidden-test cases for 02-load-balancing.

Written independently of the solution notebook. Case generators take ``(seed, n)`` and draw from
``numpy.random.default_rng(seed)`` only; they return plain keyword-argument dicts. Where several
answers are right (tie-breaking, random choices), a ``*_judge`` factory returns a judge for
``autograde.verdict.check_property``: it receives the learner's results as plain data and returns
None when they are acceptable, else a sentence that says what is wrong. The judges that contain no
answer (smooth weighted, least connections, two choices, replay, a table of settings results) are
in ``autograde.judges.load_balancing``, shipped to students and imported by the test cells
themselves; ``pool_judge`` and ``settings_judge`` run the reference health checker and autoscaler,
so they stay here, for the hidden tests only.

Conventions stated in the notebook:

- every policy is ``Policy(weights, seed=0)`` with ``pick(loads) -> server index``;
- smooth weighted round robin: in picks 1..W, W+1..2W, ... (W = sum of weights) server i appears
  exactly ``weights[i]`` times, and after any n picks its count is within 1 of ``n * w_i / W``;
- least connections and power of two choices may break ties either way;
- the health checker starts up; ``fall`` consecutive failures mark it down, ``rise`` consecutive
  successes mark it up again;
- the autoscaler rounds ``capacity * utilisation / target`` up (values within 1e-9 of a whole
  number count as that number; the cases avoid values near a whole number), clamps it to
  [min, max], scales out unless a scale-out happened less than ``scale_out_cooldown_s`` ago, and
  scales in unless any scaling happened less than ``scale_in_cooldown_s`` ago.
"""

from __future__ import annotations

import math

import numpy as np

from autograde.judges.load_balancing import COST_SLACK, SETTINGS_KEYS, is_index
from course.balancing import SLO_BUDGET_MINUTES, autoscaling_summary, day_of_demand, settings_grid, \
    simulate_autoscaling

# --------------------------------------------------------------------------- balancing policies


def round_robin_picks(weights, loads=None, n_picks=None, seed=0):
    n = len(weights)
    if n < 1:
        raise ValueError("need at least one server")
    count = len(loads) if loads is not None else n_picks
    return [k % n for k in range(count)]


def round_robin_cases(seed, n=80):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        servers = int(rng.integers(1, 9))
        weights = [int(w) for w in rng.integers(1, 6, size=servers)]
        picks = int(rng.integers(0, 40))
        if rng.random() < 0.5:
            loads = [[int(x) for x in rng.integers(0, 10, size=servers)] for _ in range(picks)]
            cases.append({"weights": weights, "loads": loads})
        else:
            cases.append({"weights": weights, "n_picks": picks})
    return cases


def smooth_weighted_cases(seed, n=40):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        servers = int(rng.integers(1, 8))
        high = int(rng.choice([3, 6, 12]))
        weights = [int(w) for w in rng.integers(1, high + 1, size=servers)]
        picks = 2 * sum(weights) + int(rng.integers(0, sum(weights)))
        cases.append({"weights": weights, "n_picks": picks})
    return cases


def least_connections_cases(seed, n=60):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        servers = int(rng.integers(1, 9))
        top = int(rng.choice([2, 4, 20]))  # small tops make many ties
        picks = int(rng.integers(1, 40))
        loads = [[int(x) for x in rng.integers(0, top, size=servers)] for _ in range(picks)]
        cases.append({"weights": [1] * servers, "loads": loads})
    return cases


def two_choices_cases(seed, n=5, picks=1200):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        servers = int(rng.integers(1, 9))
        vector = [int(x) for x in rng.permutation(servers) * int(rng.integers(1, 4))]
        cases.append({"weights": [1] * servers, "loads": [vector] * picks, "seed": int(rng.integers(0, 2**31))})
    return cases


# --------------------------------------------------------------------------- health checks

class HealthModel:
    """The reference health checker."""

    def __init__(self, fall=3, rise=2):
        if fall < 1 or rise < 1:
            raise ValueError("fall and rise must be at least 1")
        self.fall, self.rise = fall, rise
        self.up = True
        self.streak = 0  # consecutive results against the current state

    def observe(self, ok):
        if ok == self.up:
            self.streak = 0
        else:
            self.streak += 1
            if self.streak >= (self.fall if self.up else self.rise):
                self.up, self.streak = not self.up, 0
        return self.up


def health_checks(results, fall=3, rise=2):
    model = HealthModel(fall, rise)
    return [model.observe(bool(ok)) for ok in results]


def health_check_cases(seed, n=100):
    """Random pass/fail sequences with runs (a flaky server fails in bursts), fall and rise 1-5."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        length = int(rng.integers(1, 61))
        stay = float(rng.uniform(0.3, 0.95))  # chance that the next result repeats the last one
        ok = bool(rng.random() < 0.6)
        results = []
        for _ in range(length):
            results.append(ok)
            if rng.random() > stay:
                ok = not ok
        cases.append({"results": results, "fall": int(rng.integers(1, 6)), "rise": int(rng.integers(1, 6))})
    return cases


# --------------------------------------------------------------------------- the health-aware pool

def pool_judge(n_servers, ops, fall=3, rise=2):
    """Judge the results of ``run_pool``: replay the ops on a reference model of health, draining
    and in-flight counts (following the learner's own assignments), and check every result."""

    def judge(results):
        if type(results) is not list or len(results) != len(ops):
            return f"expected a list of {len(ops)} results"
        health = [HealthModel(fall, rise) for _ in range(n_servers)]
        draining = [False] * n_servers
        in_flight = [0] * n_servers
        for k, (op, got) in enumerate(zip(ops, results)):
            where = f"op {k} {op!r}"
            name = op[0]
            if name == "report":
                health[op[1]].observe(op[2])
                expected = None
            elif name == "assign":
                eligible = [s for s in range(n_servers) if health[s].up and not draining[s]]
                if not eligible:
                    if got != "LookupError":
                        return f"{where}: no server is up and not draining, so assign must raise LookupError; got {got!r}"
                    continue
                if not is_index(got, n_servers):
                    return f"{where}: got {got!r}, expected a server index (eligible: {eligible})"
                if got not in eligible:
                    state = "draining" if draining[got] else "down"
                    return f"{where}: assigned server {got}, which is {state}; eligible servers: {eligible}"
                least = min(in_flight[s] for s in eligible)
                if in_flight[got] != least:
                    return (f"{where}: assigned server {got} with {in_flight[got]} in flight, but an eligible "
                            f"server has only {least} (in flight: {in_flight}, eligible: {eligible})")
                in_flight[got] += 1
                continue
            elif name == "finish":
                if in_flight[op[1]] == 0:
                    expected = "ValueError"
                else:
                    in_flight[op[1]] -= 1
                    expected = None
            elif name == "drain":
                draining[op[1]] = True
                expected = None
            elif name == "in_flight":
                expected = in_flight[op[1]]
            elif name == "removable":
                expected = draining[op[1]] and in_flight[op[1]] == 0
            else:
                raise ValueError(f"unknown op {op!r}")
            if got != expected or type(got) is not type(expected):
                return f"{where}: expected {expected!r}, got {got!r} (in flight before: {in_flight})"
        return None

    return judge


def pool_cases(seed, n=40):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        servers = int(rng.integers(1, 6))
        fall, rise = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        dead = {s for s in range(servers) if rng.random() < 0.4}
        ops = []
        for _ in range(int(rng.integers(20, 90))):
            u = rng.random()
            s = int(rng.integers(servers))
            if u < 0.35:
                ops.append(["assign"])
            elif u < 0.55:
                ops.append(["finish", s])
            elif u < 0.8:
                if rng.random() < 0.1:  # a dead server recovers, or a live one dies
                    dead ^= {s}
                ops.append(["report", s, s not in dead])
            elif u < 0.84:
                ops.append(["drain", s])
            elif u < 0.92:
                ops.append(["in_flight", s])
            else:
                ops.append(["removable", s])
        cases.append({"n_servers": servers, "ops": ops, "fall": fall, "rise": rise})
    return cases


# --------------------------------------------------------------------------- autoscaling

class TargetTracking:
    """The reference target-tracking autoscaler."""

    def __init__(self, min_capacity, max_capacity, target, scale_out_cooldown_s, scale_in_cooldown_s):
        if not 1 <= min_capacity <= max_capacity:
            raise ValueError("need 1 <= min_capacity <= max_capacity")
        if not 0 < target <= 1:
            raise ValueError("target must be a fraction in (0, 1]")
        if scale_out_cooldown_s < 0 or scale_in_cooldown_s < 0:
            raise ValueError("cooldowns must not be negative")
        self.low, self.high, self.target = min_capacity, max_capacity, target
        self.out_cooldown, self.in_cooldown = scale_out_cooldown_s, scale_in_cooldown_s
        self.last_out = -math.inf
        self.last_any = -math.inf

    def decide(self, now_s, capacity, utilisation):
        wanted = math.ceil(capacity * utilisation / self.target - 1e-9)
        wanted = max(self.low, min(self.high, wanted))
        if wanted > capacity and now_s - self.last_out >= self.out_cooldown:
            self.last_out = self.last_any = now_s
            return wanted
        if wanted < capacity and now_s - self.last_any >= self.in_cooldown:
            self.last_any = now_s
            return wanted
        return capacity


def autoscaler_decisions(settings, calls):
    scaler = TargetTracking(**settings)
    return [scaler.decide(*call) for call in calls]


def _random_settings(rng):
    low = int(rng.integers(1, 6))
    return {"min_capacity": low, "max_capacity": low + int(rng.integers(0, 60)),
            "target": round(float(rng.uniform(0.3, 0.95)), 2),
            "scale_out_cooldown_s": int(rng.choice([0, 60, 120, 300])),
            "scale_in_cooldown_s": int(rng.choice([0, 60, 300, 600]))}


def autoscaler_cases(seed, n=60):
    """Call sequences where capacity follows the reference's own answers and utilisation wanders;
    ``now_s`` steps by 60 s (sometimes more). Values of capacity * utilisation / target within
    1e-6 of a whole number are redrawn, so every rounding convention agrees."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        settings = _random_settings(rng)
        scaler = TargetTracking(**settings)
        capacity = int(rng.integers(settings["min_capacity"], settings["max_capacity"] + 1))
        now, level, calls = int(rng.integers(0, 1000)), float(rng.uniform(0.2, 1.2)), []
        for _ in range(int(rng.integers(5, 60))):
            level = float(np.clip(level * rng.lognormal(0, 0.15), 0.01, 3.0))
            while True:
                utilisation = round(level * float(rng.uniform(0.95, 1.05)), 4)
                x = capacity * utilisation / settings["target"]
                if abs(x - round(x)) > 1e-6:
                    break
            calls.append([now, capacity, utilisation])
            capacity = scaler.decide(now, capacity, utilisation)
            now += int(rng.choice([60, 60, 60, 120, 300]))
        cases.append({"settings": settings, "calls": calls})
    return cases


def autoscaling_day(settings, day_seed):
    """The reference autoscaler's {"slo_minutes", "server_hours"} on day ``day_seed``."""
    return autoscaling_summary(TargetTracking, settings, day_seed)


def autoscaling_day_cases(seed, n=2):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        settings = {"min_capacity": 4, "max_capacity": 100,
                    "target": float(rng.choice([0.55, 0.6, 0.7, 0.8])),
                    "scale_out_cooldown_s": int(rng.choice([60, 180, 300])),
                    "scale_in_cooldown_s": int(rng.choice([300, 900]))}
        cases.append({"settings": settings, "day_seed": int(rng.integers(0, 2**31))})
    return cases


# --------------------------------------------------------------------------- choosing settings

def cheapest_feasible(demand_rps):
    """The grid's settings with the fewest server-hours among those within the SLO budget."""
    runs = [(simulate_autoscaling(TargetTracking, s, demand_rps).summary(), s) for s in settings_grid()]
    feasible = [(r["server_hours"], r["slo_minutes"], s) for r, s in runs if r["slo_minutes"] <= SLO_BUDGET_MINUTES]
    hours, minutes, settings = min(feasible, key=lambda x: x[0])
    return {"settings": settings, "server_hours": hours, "slo_minutes": minutes}


def settings_judge(demand_rps):
    """Judge a settings dict for ``demand_rps``: min 4 and max 100 kept, within the SLO budget,
    and no more than COST_SLACK above the cheapest grid setting that meets the budget."""
    best = cheapest_feasible(demand_rps)

    def judge(settings):
        if type(settings) is not dict or sorted(settings) != sorted(SETTINGS_KEYS):
            return f"expected a dict with the keys {list(SETTINGS_KEYS)}"
        if settings["min_capacity"] != 4 or settings["max_capacity"] != 100:
            return "keep the seed's min_capacity=4 and max_capacity=100"
        try:
            got = simulate_autoscaling(TargetTracking, settings, demand_rps).summary()
        except (ValueError, TypeError) as exc:
            return f"these settings are invalid: {exc}"
        if got["slo_minutes"] > SLO_BUDGET_MINUTES:
            return (f"these settings violate the SLO for {got['slo_minutes']} minutes; the budget is "
                    f"{SLO_BUDGET_MINUTES}")
        if got["server_hours"] > best["server_hours"] * (1 + COST_SLACK):
            return (f"these settings cost {got['server_hours']:.1f} server-hours; the grid's cheapest within "
                    f"the budget costs {best['server_hours']:.1f} ({best['settings']})")
        return None

    return judge


def settings_days(seed, n=2):
    """Hidden days to choose settings for: day seeds drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return [int(s) for s in rng.integers(0, 2**31, size=n)]


def demand_of_day(day_seed):
    return [float(x) for x in day_of_demand(day_seed)]
