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


# --------------------------------------------------------------------------- contracts
# One per graded class or function (autograde.contracts). A class is checked through a driver that takes
# it as ``cls`` (supplied by the test cell). Where several answers are right (ties, random draws, a choice
# within 1% of the cheapest), the test checks a *view* of the learner's results that every right answer
# shares: the loads of the picked servers, whether each pick is one two random choices can make, the
# pool judge's verdict. The contract's reference computes the same view from the reference models.

from autograde.contracts import OMIT, Contract, Rule, at_least, boundary, edge, greater_than  # noqa: E402
from autograde.judges.load_balancing import least_connections_judge, smooth_weighted_judge  # noqa: E402
from autograde.verdict import NotPlainData, to_plain  # noqa: E402
from course.balancing import run_autoscaler, run_picks, run_pool  # noqa: E402

OK = "ok"
NO_SERVERS_SAYS = "`weights` holds at least one server, else `ValueError`"


def _no_servers(loads=True):
    """The rule, with load vectors that fit the number of servers (``loads=False``: idle picks)."""
    def case(weights, vectors):
        if loads:
            return {"weights": weights, "loads": vectors, "n_picks": OMIT}
        return {"weights": weights, "n_picks": len(vectors)}
    return Rule(NO_SERVERS_SAYS, at=case([3], [[0], [4], [1]]), inside=case([1, 4], [[2, 1], [0, 0], [5, 5]]),
                outside=case([], []))


def _plain_picks(picks):
    try:
        return to_plain(picks)
    except NotPlainData as exc:
        return str(exc)


def _need_servers(weights):
    if len(weights) < 1:
        raise ValueError("need at least one server")


def _loads_or_idle(weights, loads, n_picks):
    return loads if loads is not None else [[0] * len(weights)] * int(n_picks)


def _draw_weights(rng, low=1, high=None):
    """1 to 14 servers (10+ often enough that an order by string is wrong), weights up to 1 to 12."""
    servers = int(rng.choice([1, 2, 3, int(rng.integers(4, 10)), int(rng.integers(10, 15))]))
    high = high or int(rng.choice([1, 3, 6, 12]))
    return [int(w) for w in rng.integers(low, high + 1, size=servers)]


def _draw_loads(rng, servers, picks):
    top = int(rng.choice([1, 2, 4, 20, 1000]))  # small tops make many ties, 1 makes every load 0
    return [[int(x) for x in rng.integers(0, top, size=servers)] for _ in range(picks)]


def round_robin_run(cls, weights, loads=None, n_picks=None, seed=0):
    """The reference picks of round robin (``cls`` is the learner's class; it is not used)."""
    _need_servers(weights)
    return round_robin_picks(weights, _loads_or_idle(weights, loads, n_picks))


def _draw_picks_case(rng, weights_low=1):
    weights = _draw_weights(rng, low=weights_low)
    picks = int(rng.choice([0, 1, int(rng.integers(2, 30)), int(rng.integers(30, 120))]))
    case = {"weights": weights, "seed": int(rng.integers(0, 2**31))}
    if rng.random() < 0.5:
        case["loads"] = _draw_loads(rng, len(weights), picks)
    else:
        case["n_picks"] = picks
    return case


def smooth_weighted_view(cls, weights, n_picks, seed=0):
    """``"ok"`` when the learner's picks meet the weights in every block and stay smooth, else the reason."""
    return smooth_weighted_judge(weights)(_plain_picks(run_picks(cls, weights, n_picks=n_picks, seed=seed))) or OK


def smooth_weighted_reference(cls, weights, n_picks, seed=0):
    _need_servers(weights)
    if any(w < 1 for w in weights):
        raise ValueError("weights must be positive integers")
    return OK


def least_loads_view(cls, weights, loads, seed=0):
    """The loads of the servers the learner picked (the same for every tie order), or the reason a
    pick is not a least-loaded server."""
    picks = _plain_picks(run_picks(cls, weights, loads, seed=seed))
    problem = least_connections_judge(loads)(picks)
    return problem or [vector[p] for vector, p in zip(loads, picks)]


def least_loads_reference(cls, weights, loads, seed=0):
    _need_servers(weights)
    return [min(vector) for vector in loads]


def _possible_two_choice(vector, pick):
    """Could the less loaded of two distinct servers be ``pick``? Any server but a sole most loaded one."""
    if type(pick) is not int or not 0 <= pick < len(vector):
        return False
    return len(vector) == 1 or sum(load >= vector[pick] for load in vector) >= 2


def two_choices_view(cls, weights, loads, seed=0):
    """For each pick, whether two random choices can make it; and whether a second instance built
    with the same seed replays the same picks."""
    first = _plain_picks(run_picks(cls, weights, loads, seed=seed))
    second = _plain_picks(run_picks(cls, weights, loads, seed=seed))
    if type(first) is not list or len(first) != len(loads):
        return {"picks": first}
    return {"possible": [_possible_two_choice(v, p) for v, p in zip(loads, first)], "replays": first == second}


def two_choices_reference(cls, weights, loads, seed=0):
    _need_servers(weights)
    return {"possible": [True] * len(loads), "replays": True}


def health_checks_run(cls, results, fall=3, rise=2):
    """The reference's up/down answers (``cls`` is the learner's class; it is not used)."""
    return health_checks(results, fall, rise)


def _draw_results(rng):
    length = int(rng.choice([0, 1, int(rng.integers(2, 20)), int(rng.integers(20, 80))]))
    stay = float(rng.uniform(0.2, 0.97))
    ok, results = bool(rng.random() < 0.6), []
    for _ in range(length):
        results.append(ok)
        if rng.random() > stay:
            ok = not ok
    return results


F, T = False, True

CONTRACTS = {c.name: c for c in [
    Contract(
        "RoundRobin", round_robin_run, supplied=("cls",),
        draw=_draw_picks_case,
        domain="1 to 14 servers of weights 1 to 12, 0 to 120 picks, idle or with random loads, any seed",
        rules=[_no_servers(),
               edge("the first pick is server 0", {"weights": [2, 9, 1], "n_picks": 1, "loads": OMIT}),
               edge("one server gets every pick", {"weights": [5], "n_picks": 7, "loads": OMIT}),
               edge("weights and loads are ignored (except for how many servers there are)",
                    {"weights": [9, 1, 1, 1], "loads": [[0, 9, 9, 9]] * 9, "n_picks": OMIT},
                    {"weights": list(range(1, 13)), "n_picks": 30, "loads": OMIT})]),
    Contract(
        "SmoothWeightedRoundRobin", smooth_weighted_reference, supplied=("cls",),
        draw=lambda rng: (lambda w: {"weights": w, "n_picks": int(rng.integers(0, 3 * sum(w) + 1)),
                                     "seed": int(rng.integers(0, 2**31))})(_draw_weights(rng)),
        domain="1 to 14 servers, weights 1 to 12, equal or not, up to three blocks of sum(weights) picks",
        rules=[_no_servers(loads=False),
               Rule("every weight is >= 1, else `ValueError`",
                    at={"weights": [1, 3]}, inside={"weights": [2, 3]},
                    outside=[{"weights": [3, 0]}, {"weights": [0]}, {"weights": [4, -1, 2]}]),
               edge("equal weights are plain round robin", {"weights": [2, 2, 2], "n_picks": 12}),
               edge("one server gets every pick", {"weights": [7], "n_picks": 9}),
               edge("one heavy weight among light ones (5:1:1, 11 servers of 1 and one of 10)",
                    {"weights": [5, 1, 1], "n_picks": 21}, {"weights": [1] * 11 + [10], "n_picks": 42})]),
    Contract(
        "LeastConnections", least_loads_reference, supplied=("cls",),
        draw=lambda rng: (lambda w: {"weights": w, "seed": int(rng.integers(0, 2**31)),
                                     "loads": _draw_loads(rng, len(w), int(rng.integers(0, 60)))})(
            _draw_weights(rng)),
        domain="1 to 14 servers, loads from all 0 to 1,000, with and without ties, 0 to 60 picks",
        rules=[_no_servers(),
               edge("ties go to any of the least loaded", {"weights": [1, 1, 1], "loads": [[2, 1, 1], [7, 7, 7]]}),
               edge("server 10 and above (not an order by name)",
                    {"weights": [1] * 12, "loads": [[5] * 11 + [0], [9] * 10 + [1, 3]]}),
               edge("one server gets every pick", {"weights": [4], "loads": [[3], [0], [8]]})]),
    Contract(
        "PowerOfTwoChoices", two_choices_reference, supplied=("cls",),
        draw=lambda rng: (lambda w: {"weights": w, "seed": int(rng.integers(0, 2**31)),
                                     "loads": _draw_loads(rng, len(w), int(rng.integers(0, 60)))})(
            _draw_weights(rng)),
        domain="1 to 14 servers, loads from all 0 to 1,000, 0 to 60 picks, any seed; each pick must be one "
               "that two distinct random candidates can give, and a second instance with the same seed must "
               "replay it",
        rules=[_no_servers(),
               edge("with one server, pick 0", {"weights": [1], "loads": [[5], [0], [2]]}),
               edge("the sole most loaded server is never picked",
                    {"weights": [1] * 2, "loads": [[0, 1]] * 40}, {"weights": [1] * 4, "loads": [[3, 0, 2, 1]] * 60}),
               edge("equal loads: any server", {"weights": [1] * 5, "loads": [[2] * 5] * 30}),
               edge("`seed` defaults to 0 (built without one, it still replays)",
                    {"weights": [1] * 6, "loads": [[0, 3, 1, 4, 1, 5]] * 30, "seed": None})]),
    Contract(
        "HealthChecker", health_checks_run, supplied=("cls",),
        draw=lambda rng: {"results": _draw_results(rng), "fall": int(rng.integers(1, 7)),
                          "rise": int(rng.integers(1, 7))},
        domain="0 to 80 results in runs of passes and failures, `fall` and `rise` from 1 to 6",
        rules=[at_least("fall", 1), at_least("rise", 1),
               boundary("exactly `fall` consecutive failures mark it down, one fewer does not",
                        at={"results": [T, F, F, F], "fall": 3}, inside={"results": [T, F, F], "fall": 3},
                        outside={"results": [T, F, F, F, F], "fall": 3}),
               boundary("a pass between failures starts the count again",
                        at={"results": [F, F, T, F, F], "fall": 3}, inside={"results": [F, T, F, F], "fall": 3},
                        outside={"results": [F, F, T, F, F, F], "fall": 3}),
               boundary("exactly `rise` consecutive passes mark it up again, one fewer does not",
                        at={"results": [F, F, T, T], "fall": 2, "rise": 2},
                        inside={"results": [F, F, T], "fall": 2, "rise": 2},
                        outside={"results": [F, F, T, T, T], "fall": 2, "rise": 2}),
               edge("passes from before it went down do not count toward `rise`",
                    {"results": [T, T, F, F, T, T], "fall": 2, "rise": 3}),
               edge("it starts up", {"results": [T]}, {"results": [F], "fall": 2}),
               edge("no results, no answers", {"results": []}),
               edge("`fall` and `rise` default to 3 and 2", {"fall": OMIT, "rise": OMIT},
                    {"fall": OMIT, "rise": OMIT, "results": [F, F, T, F, F, F, T, F, T, T, T]})]),
]}


def pool_view(cls, n_servers, ops, fall=None, rise=None):
    """``"ok"`` when every result of the learner's pool is one a reference pool that follows its
    assignments (ties either way) gives, else the first result that is not. A ``fall`` or ``rise``
    left out is left out of the learner's constructor too (its defaults must be 3 and 2)."""
    results = run_pool(cls, n_servers, ops, fall, rise)
    try:
        results = to_plain(results)
    except NotPlainData as exc:
        return str(exc)
    return pool_judge(n_servers, ops, 3 if fall is None else fall, 2 if rise is None else rise)(results) or OK


def pool_reference(cls, n_servers, ops, fall=3, rise=2):
    if n_servers < 1:
        raise ValueError("need at least one server")
    HealthModel(fall, rise)
    return OK


def _draw_ops(rng, servers, count):
    dead = {s for s in range(servers) if rng.random() < float(rng.uniform(0, 0.6))}
    mix = rng.dirichlet([3, 2, 3, 0.5, 1, 1])  # assign, finish, report, drain, in_flight, removable
    ops = []
    for _ in range(count):
        kind = int(rng.choice(6, p=mix))
        s = int(rng.integers(servers))
        if kind == 0:
            ops.append(["assign"])
        elif kind == 1:
            ops.append(["finish", s])
        elif kind == 2:
            if rng.random() < 0.1:  # a dead server recovers, or a live one dies
                dead ^= {s}
            ops.append(["report", s, s not in dead])
        else:
            ops.append([("drain", "in_flight", "removable")[kind - 3], s])
    return ops


def _draw_pool(rng):
    servers = int(rng.choice([1, 2, int(rng.integers(3, 10)), int(rng.integers(10, 14))]))
    return {"n_servers": servers, "ops": _draw_ops(rng, servers, int(rng.integers(0, 120))),
            "fall": int(rng.integers(1, 6)), "rise": int(rng.integers(1, 6))}


def autoscaler_run(cls, min_capacity, max_capacity, target, scale_out_cooldown_s, scale_in_cooldown_s,
                   capacity, steps):
    """The reference autoscaler's answers, the group following them (``cls`` is not used)."""
    scaler = TargetTracking(min_capacity, max_capacity, target, scale_out_cooldown_s, scale_in_cooldown_s)
    answers = []
    for now_s, utilisation in steps:
        capacity = scaler.decide(now_s, capacity, utilisation)
        answers.append(capacity)
    return answers


def _autoscaler_unambiguous(case):
    """A valid case in which ``capacity * utilisation / target`` is never within 1e-6 of a whole number
    unless it is within 1e-9 (an exact case, which the text says counts as that number): between the
    two, float noise decides the ceiling, and that is no one's mistake."""
    low, high, target = case["min_capacity"], case["max_capacity"], case["target"]
    if not (type(low) is int and type(high) is int and 1 <= low <= high and 0 < target <= 1
            and low <= case["capacity"] <= high):
        return False
    capacity = case["capacity"]
    scaler = TargetTracking(low, high, target, case["scale_out_cooldown_s"], case["scale_in_cooldown_s"])
    for now_s, utilisation in case["steps"]:
        x = capacity * utilisation / target
        if 1e-9 < abs(x - round(x)) <= 1e-6:
            return False
        capacity = scaler.decide(now_s, capacity, utilisation)
    return True


def _draw_autoscaler(rng):
    low = int(rng.choice([1, int(rng.integers(1, 6)), int(rng.integers(5, 30))]))
    high = low + int(rng.choice([0, int(rng.integers(1, 10)), int(rng.integers(10, 200))]))
    cooldowns = [0, 60, 120, 180, 300, 600, int(rng.integers(1, 1000))]
    now, level, steps = int(rng.integers(0, 1000)), float(rng.uniform(0.05, 1.5)), []
    for _ in range(int(rng.choice([0, 1, int(rng.integers(2, 20)), int(rng.integers(20, 80))]))):
        level = float(np.clip(level * rng.lognormal(0, 0.25), 0.005, 3.0))
        steps.append([now, round(level, 4)])
        now += int(rng.choice([0, 30, 60, 60, 60, 120, 300, 301]))
    return {"min_capacity": low, "max_capacity": high,
            "target": 1.0 if rng.random() < 0.1 else round(float(rng.uniform(0.2, 1.0)), 2),
            "scale_out_cooldown_s": int(rng.choice(cooldowns)), "scale_in_cooldown_s": int(rng.choice(cooldowns)),
            "capacity": int(rng.integers(low, high + 1)), "steps": steps}


def _scaler_case(capacity, steps, target=0.5, out=300, in_=300, low=1, high=100):
    return {"min_capacity": low, "max_capacity": high, "target": target, "scale_out_cooldown_s": out,
            "scale_in_cooldown_s": in_, "capacity": capacity, "steps": steps}


_SETTINGS_CACHE: dict = {}


def _best_for(demand_rps):
    key = tuple(demand_rps)
    if key not in _SETTINGS_CACHE:
        runs = [(simulate_autoscaling(TargetTracking, s, demand_rps).summary(), s) for s in settings_grid()]
        feasible = [r["server_hours"] for r, s in runs if r["slo_minutes"] <= SLO_BUDGET_MINUTES]
        _SETTINGS_CACHE.clear()
        _SETTINGS_CACHE[key] = min(feasible) if feasible else None
    return _SETTINGS_CACHE[key]


def choose_settings_reference(demand_rps):
    """``"ok"``: the learner's choice is judged by ``settings_view``; ValueError when no grid setting
    meets the budget."""
    if _best_for(demand_rps) is None:
        raise ValueError("no setting on the grid meets the SLO budget")
    return OK


def settings_view(fn):
    """A function of ``demand_rps`` that runs the learner's ``choose_settings`` (``fn``) and returns
    ``"ok"`` when its choice passes ``settings_judge``, else the reason."""

    def choose_settings(demand_rps):
        choice = fn(demand_rps=demand_rps)
        try:
            choice = to_plain(choice)
        except NotPlainData as exc:
            return str(exc)
        return settings_judge(demand_rps)(choice) or OK

    return choose_settings


def _day(seed, average_rps, peak_factor):
    return [round(float(x), 3) for x in day_of_demand(seed, average_rps=average_rps, peak_factor=peak_factor)]


def _draw_demand(rng):
    """A day (or part of one) of demand: averages of 300 to 6,000 requests/s, peaks 1.2 to 3.5 times
    the average, surges up to 2.2 times, windows of one hour to a whole day."""
    day = day_of_demand(int(rng.integers(0, 2**31)), average_rps=log_uniform(rng, 300, 6000),
                        peak_factor=float(rng.uniform(1.2, 3.5)), surge_factor=float(rng.uniform(1.0, 2.2)))
    length = int(rng.choice([60, int(rng.integers(60, 1440)), 1440]))
    start = int(rng.integers(0, 1440 - length + 1))
    return {"demand_rps": [round(float(x), 3) for x in day[start:start + length]]}


from autograde.contracts import log_uniform  # noqa: E402

_STEP_OUT = [[0, 0.6], [300, 0.6]]

CONTRACTS.update({c.name: c for c in [
    Contract(
        "HealthyPool", pool_reference, supplied=("cls",), draw=_draw_pool,
        domain="1 to 13 servers, 0 to 120 operations in random mixes, servers dying and recovering, "
               "`fall` and `rise` from 1 to 5; every result is judged against a reference pool that follows "
               "your assignments",
        rules=[Rule("`n_servers` >= 1, else `ValueError`",
                    at={"n_servers": 1, "ops": [["assign"], ["report", 0, False], ["finish", 0], ["assign"]]},
                    inside={"n_servers": 2, "ops": [["assign"], ["assign"], ["finish", 1], ["in_flight", 0]]},
                    outside={"n_servers": 0, "ops": [["assign"]]}),
               at_least("fall", 1, says="`fall` >= 1 (its health checkers raise), else `ValueError`"),
               at_least("rise", 1, says="`rise` >= 1 (its health checkers raise), else `ValueError`"),
               edge("`finish` on a server with nothing in flight gives `ValueError`",
                    {"n_servers": 2, "ops": [["finish", 1]]},
                    {"n_servers": 2, "ops": [["assign"], ["assign"], ["finish", 0], ["finish", 0]]}),
               edge("`assign` with every server down or draining gives `LookupError`",
                    {"n_servers": 2, "fall": 1, "ops": [["report", 0, False], ["drain", 1], ["assign"]]},
                    {"n_servers": 1, "ops": [["drain", 0], ["assign"], ["removable", 0]]}),
               edge("`finish` works on down and draining servers",
                    {"n_servers": 2, "fall": 1, "rise": 1,
                     "ops": [["assign"], ["assign"], ["report", 0, False], ["drain", 1], ["finish", 0],
                             ["finish", 1], ["in_flight", 0], ["removable", 1], ["finish", 1]]}),
               edge("a server that is up again gets requests again",
                    {"n_servers": 2, "fall": 1, "rise": 2,
                     "ops": [["report", 0, False], ["assign"], ["assign"], ["report", 0, True], ["assign"],
                             ["report", 0, True], ["assign"], ["assign"], ["in_flight", 0]]}),
               edge("`removable` is False for a server that is not draining, even an idle one",
                    {"n_servers": 3, "ops": [["removable", 2], ["drain", 2], ["removable", 2]]}),
               edge("servers 10 and above", {"n_servers": 12, "fall": 1,
                                             "ops": [["report", s, False] for s in range(10)] +
                                                    [["assign"]] * 5 + [["in_flight", 11], ["finish", 10]]}),
               edge("`fall` and `rise` default to 3 and 2",
                    {"fall": OMIT, "rise": OMIT, "n_servers": 2,
                     "ops": [["report", 0, False]] * 2 + [["assign"]] * 2 + [["report", 0, False], ["assign"],
                                                                            ["in_flight", 0], ["in_flight", 1]]},
                    {"fall": OMIT, "rise": OMIT, "n_servers": 2,
                     "ops": [["report", 0, False]] * 3 + [["assign"]] * 2 + [["report", 0, True]] * 2 + [["assign"]]},
                    {"fall": OMIT, "rise": OMIT, "n_servers": 2,
                     "ops": [["report", 0, False]] * 3 + [["assign"]] * 2 + [["report", 0, True], ["assign"],
                                                                            ["in_flight", 0]]})]),
    Contract(
        "TargetTrackingAutoscaler", autoscaler_run, supplied=("cls",), draw=_draw_autoscaler,
        accept=_autoscaler_unambiguous,
        domain="min 1 to 29, max up to 200 above it, targets 0.2 to 1, cooldowns 0 to 1,000 s, 0 to 80 calls "
               "0 to 301 s apart, utilisation 0.005 to 3; each call gets the capacity the previous one returned",
        rules=[at_least("min_capacity", 1),
               Rule("`max_capacity` >= `min_capacity`, else `ValueError`",
                    at={"min_capacity": 5, "max_capacity": 5, "capacity": 5},
                    inside={"min_capacity": 5, "max_capacity": 6, "capacity": 5},
                    outside={"min_capacity": 5, "max_capacity": 4, "capacity": 5}),
               greater_than("target", 0, step=0.01),
               Rule("`target` <= 1 (a fraction: `70` is a mistake), else `ValueError`",
                    at={"target": 1.0}, inside={"target": 0.99}, outside=[{"target": 1.01}, {"target": 70}]),
               at_least("scale_out_cooldown_s", 0), at_least("scale_in_cooldown_s", 0),
               boundary("`desired` rounds up, and a value within 1e-9 of a whole number is that number "
                        "(10 × 0.84 / 0.7 is 12)",
                        at=_scaler_case(10, [[0, 0.84]], target=0.7),
                        inside=_scaler_case(10, [[0, 0.8399]], target=0.7),
                        outside=_scaler_case(10, [[0, 0.8401]], target=0.7)),
               boundary("a scale-out exactly `scale_out_cooldown_s` after the last one is allowed",
                        at=_scaler_case(10, _STEP_OUT), inside=_scaler_case(10, [[0, 0.6], [301, 0.6]]),
                        outside=_scaler_case(10, [[0, 0.6], [299, 0.6]])),
               boundary("a scale-in exactly `scale_in_cooldown_s` after the last scale-out is allowed",
                        at=_scaler_case(10, [[0, 0.6], [300, 0.2]], out=60),
                        inside=_scaler_case(10, [[0, 0.6], [301, 0.2]], out=60),
                        outside=_scaler_case(10, [[0, 0.6], [299, 0.2]], out=60)),
               boundary("a scale-in exactly `scale_in_cooldown_s` after the last scale-in is allowed",
                        at=_scaler_case(20, [[0, 0.2], [600, 0.1]], in_=600),
                        inside=_scaler_case(20, [[0, 0.2], [601, 0.1]], in_=600),
                        outside=_scaler_case(20, [[0, 0.2], [599, 0.1]], in_=600)),
               edge("a scale-in does not hold back a scale-out",
                    _scaler_case(20, [[0, 0.2], [60, 0.9]])),
               edge("before the first scaling nothing blocks, even at `now_s` = 0",
                    _scaler_case(10, [[0, 0.9]], out=600, in_=600), _scaler_case(10, [[0, 0.1]], out=600, in_=600)),
               edge("`desired` is clamped to [`min_capacity`, `max_capacity`]",
                    _scaler_case(10, [[0, 3.0]], high=20), _scaler_case(10, [[0, 0.01]], low=4)),
               edge("a clamped `desired` equal to `capacity` is no scaling, so it starts no cooldown",
                    _scaler_case(20, [[0, 2.0], [60, 0.1]], high=20, in_=300),
                    _scaler_case(4, [[0, 0.01], [60, 0.9]], low=4, out=300)),
               edge("no calls, no answers", _scaler_case(7, []))]),
    Contract(
        "choose_settings", choose_settings_reference, draw=_draw_demand,
        domain="demand from a seeded day: averages of 300 to 6,000 requests/s, peaks 1.2 to 3.5 times the "
               "average, surges up to 2.2 times, one hour to a whole day; a choice passes when it keeps min 4 "
               "and max 100, meets the budget with a reference autoscaler and costs at most 1% more than the "
               "cheapest grid setting that does",
        rules=[edge("no grid setting meets the budget: `ValueError`", {"demand_rps": [20_000.0] * 30}),
               edge("a load the minimum of 4 servers carries: every setting costs the same",
                    {"demand_rps": [150.0] * 120}),
               edge("day seed 2, the worked example",
                    {"demand_rps": [round(float(x), 3) for x in day_of_demand(2)]}),
               edge("a setting with exactly 14 SLO-violating minutes is within the budget, one with 15 is not",
                    {"demand_rps": _day(266270, 1743, 1.81)},    # the cheapest has 14; the cheapest with < 14 is 3% dearer
                    {"demand_rps": _day(361264, 2163, 2.19)})]),  # a setting with 15 is 3% cheaper than the cheapest
]})
