"""Load balancing, health checks and autoscaling: simulators, drivers and figures for module 02.

The notebook's learners write balancing policies, a health checker, a health-aware pool and an
autoscaler. This module runs them and returns plain data, so that tests never call learner code
themselves (they hand a class and plain arguments to ``autograde.verdict``, which calls a driver
from here):

- drivers: ``run_picks``, ``replay_picks``, ``run_health_checks``, ``run_pool``,
  ``run_autoscaler``, ``follow_autoscaler`` and ``autoscaling_summary`` build the learner's object, feed it a sequence
  of calls and return what came back as lists and dicts;
- simulators: ``simulate_policies`` (requests arriving at servers of unequal speed, on the
  ``course.sim`` SimPy core), ``simulate_failure`` (a server dies mid-run, with and without health
  checks) and ``simulate_autoscaling`` (one day of traffic, minute by minute);
- ``day_of_demand``: a seeded day of traffic (a diurnal cycle from ``course.traffic`` plus a
  sudden surge) that drives the autoscaler;
- figures: ``plot_pick_sequences``, ``plot_policy_latency``, ``plot_failure_timeline``,
  ``plot_autoscaling`` and ``plot_settings_tradeoff``.

Every policy shares one interface: ``Policy(weights, seed=0)`` builds it for ``len(weights)``
servers, and ``policy.pick(loads)`` returns the index of the server for the next request, where
``loads[i]`` is the number of requests in flight on server ``i``. Times are seconds unless a name
says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from course.seeding import derive_seed, make_rng
from course.sim import Simulation, Station, poisson_arrivals
from course.traffic import MINUTES_PER_DAY, diurnal_profile

# --------------------------------------------------------------------------- constants

RPS_PER_SERVER = 100.0
"""Requests per second one server completes at 100% utilisation (a mean service time of 10 ms)."""

BOOT_S = 180
"""Seconds from asking for a server until it serves traffic (boot, start-up, first health checks)."""

SLO_P99_MS = 200.0
"""The autoscaling SLO: a minute violates it when the modelled p99 latency exceeds this."""

SLO_BUDGET_MINUTES = 14
"""SLO-violating minutes allowed in a day: 1% of 1,440 minutes, rounded down."""

SEED_SETTINGS = {"min_capacity": 4, "max_capacity": 100, "target": 0.7,
                 "scale_out_cooldown_s": 300, "scale_in_cooldown_s": 300}
"""The seed text's autoscaling group: min 4, max 100, 70% CPU, 300 s cooldowns."""

GRID_TARGETS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75)
GRID_SCALE_OUT_COOLDOWNS_S = (60, 180, 300)
GRID_SCALE_IN_COOLDOWNS_S = (300, 900)


def settings_grid() -> list[dict]:
    """Every combination of the grid's target and cooldowns (min 4, max 100), as settings dicts."""
    return [{"min_capacity": 4, "max_capacity": 100, "target": target,
             "scale_out_cooldown_s": out, "scale_in_cooldown_s": in_}
            for target in GRID_TARGETS for out in GRID_SCALE_OUT_COOLDOWNS_S
            for in_ in GRID_SCALE_IN_COOLDOWNS_S]


# --------------------------------------------------------------------------- a baseline policy

class RandomChoice:
    """The baseline policy: every request goes to a server drawn uniformly at random."""

    def __init__(self, weights, seed=0):
        if len(weights) < 1:
            raise ValueError("need at least one server")
        self.n = len(weights)
        self.rng = make_rng(seed)

    def pick(self, loads):
        return int(self.rng.integers(self.n))


class NaiveWeightedRoundRobin:
    """Weighted round robin done the obvious way: server i gets weights[i] picks in a row.

    It meets the weights over every cycle of sum(weights) picks, in bursts. Shown for contrast
    with the smooth interleaving nginx uses.
    """

    def __init__(self, weights, seed=0):
        if len(weights) < 1 or any(w < 1 for w in weights):
            raise ValueError("weights must be positive integers")
        self.cycle = [i for i, w in enumerate(weights) for _ in range(int(w))]
        self.position = 0

    def pick(self, loads):
        server = self.cycle[self.position % len(self.cycle)]
        self.position += 1
        return server


# --------------------------------------------------------------------------- drivers

def run_picks(cls, weights, loads=None, n_picks=None, seed=0) -> list:
    """Build ``cls(weights, seed=seed)`` and return its picks, one per entry of ``loads``
    (``seed=None`` builds ``cls(weights)``, with the class's own default seed).

    ``loads`` is a list of load vectors (one per request, each of ``len(weights)`` in-flight
    counts). Without ``loads``, ``n_picks`` picks are made with every server idle (all loads 0).
    """
    if loads is None:
        if n_picks is None:
            raise ValueError("give loads or n_picks")
        loads = [[0] * len(weights)] * int(n_picks)
    policy = cls(list(weights)) if seed is None else cls(list(weights), seed=seed)
    return [policy.pick(list(vector)) for vector in loads]


def replay_picks(cls, weights, loads, seed=0) -> dict:
    """Run ``run_picks`` twice with the same seed: ``{"first": [...], "second": [...]}``.

    A seeded policy replays exactly, so the two lists must be equal.
    """
    return {"first": run_picks(cls, weights, loads, seed=seed),
            "second": run_picks(cls, weights, loads, seed=seed)}


def _given(**kwargs) -> dict:
    """The keyword arguments that are not None (None leaves an argument to the class's default)."""
    return {k: v for k, v in kwargs.items() if v is not None}


def run_health_checks(cls, results, fall=None, rise=None) -> list:
    """Build ``cls(fall=fall, rise=rise)``, feed it ``results`` (True = check passed) one at a
    time, and return what ``observe`` returned after each: True while the server counts as up.
    A ``fall`` or ``rise`` of None is left out, so the class's own default is used."""
    checker = cls(**_given(fall=fall, rise=rise))
    return [checker.observe(bool(ok)) for ok in results]


def run_pool(cls, n_servers, ops, fall=None, rise=None) -> list:
    """Build ``cls(n_servers, fall=fall, rise=rise)`` and apply ``ops``; return one result each
    (a ``fall`` or ``rise`` of None is left out, so the class's own default is used).

    An op is a list: ``["report", server, ok]``, ``["assign"]``, ``["finish", server]``,
    ``["drain", server]``, ``["in_flight", server]`` or ``["removable", server]``. The result is
    what the method returned (None for report, finish and drain), or the name of the exception
    when ``assign`` raised ``LookupError`` or ``finish`` raised ``ValueError``.
    """
    pool = cls(n_servers, **_given(fall=fall, rise=rise))
    results = []
    for op in ops:
        name, args = op[0], list(op[1:])
        if name == "assign":
            try:
                results.append(pool.assign())
            except LookupError:
                results.append("LookupError")
        elif name == "finish":
            try:
                results.append(pool.finish(*args))
            except ValueError:
                results.append("ValueError")
        elif name in ("report", "drain", "in_flight", "removable"):
            results.append(getattr(pool, name)(*args))
        else:
            raise ValueError(f"unknown op {op!r}")
    return results


def run_autoscaler(cls, settings, calls) -> list:
    """Build ``cls(**settings)`` and return ``decide(now_s, capacity, utilisation)`` for each call.

    ``calls`` is a list of ``[now_s, capacity, utilisation]``.
    """
    scaler = cls(**settings)
    return [scaler.decide(now_s, capacity, utilisation) for now_s, capacity, utilisation in calls]


def follow_autoscaler(cls, min_capacity, max_capacity, target, scale_out_cooldown_s, scale_in_cooldown_s,
                      capacity, steps) -> list:
    """Build the autoscaler from its five settings and ask it once per step ``[now_s, utilisation]``,
    starting at ``capacity``; each call gets the capacity the previous call returned, as a group
    that does what its autoscaler says would. Returns what ``decide`` returned, call by call."""
    scaler = cls(min_capacity=min_capacity, max_capacity=max_capacity, target=target,
                 scale_out_cooldown_s=scale_out_cooldown_s, scale_in_cooldown_s=scale_in_cooldown_s)
    answers = []
    for now_s, utilisation in steps:
        capacity = scaler.decide(now_s, capacity, utilisation)
        answers.append(capacity)
    return answers


# --------------------------------------------------------------------------- policies under load

def simulate_policies(policies: dict, service_rates, weights, arrival_rate: float, n_requests: int,
                      seed: int) -> dict:
    """Send the same Poisson stream of requests through each policy; return latencies in seconds.

    ``policies`` maps a name to a policy class. Server ``i`` is a one-server FIFO queue
    (``course.sim.Station``) with exponential service times of mean ``1 / service_rates[i]``
    seconds; the policy is built as ``cls(weights, seed=...)`` and asked ``pick(loads)`` at each
    arrival, where ``loads`` are the stations' requests in system. Requests arrive at
    ``arrival_rate`` per second until about ``n_requests`` have arrived; the run then drains.
    Returns ``{name: numpy array of latencies}``, and each run reuses ``seed`` for the arrivals.
    """
    if len(service_rates) != len(weights):
        raise ValueError("one weight per server")
    results = {}
    for name, cls in policies.items():
        sim = Simulation(seed)
        stations = [Station(sim, f"server{i}", 1, _exponential(rate)) for i, rate in enumerate(service_rates)]
        policy = cls(list(weights), seed=derive_seed(seed, "policy", name))

        def arrive(index, stations=stations, policy=policy):
            server = policy.pick([s.in_system for s in stations])
            stations[server].submit(index)

        poisson_arrivals(sim, arrival_rate, arrive, until=n_requests / arrival_rate)
        sim.run()
        results[name] = np.concatenate([np.asarray(s.completed) for s in stations])
    return results


def _exponential(rate: float) -> Callable:
    mean = 1.0 / rate
    return lambda rng: rng.exponential(mean)


def latency_table(latencies: dict):
    """p50, p95 and p99 latency in milliseconds for each policy, as a DataFrame (one row each)."""
    import pandas as pd

    rows = {name: {f"p{q}_ms": float(np.percentile(values, q)) * 1000 for q in (50, 95, 99)}
            for name, values in latencies.items()}
    return pd.DataFrame(rows).T.rename_axis("policy")


def plot_policy_latency(table, title="Latency by balancing policy"):
    """Grouped bars of p50, p95 and p99 latency (ms) per policy. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "balancing policy", "latency (ms)")
    x = np.arange(len(table))
    width = 0.26
    for k, column in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        bars = ax.bar(x + (k - 1) * width, table[column], width, color=PALETTE[k], label=column[:3])
        if column == "p99_ms":
            ax.bar_label(bars, fmt="%.0f", fontsize=9, padding=2)
    ax.set_xticks(x, list(table.index))
    ax.legend(title="percentile")
    return fig, ax


def plot_pick_sequences(sequences: dict, n_servers: int, title="Which server gets each request"):
    """One row per policy, one square per pick, coloured by server. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "request number", "policy", figsize=(7, 1.3 + 0.6 * len(sequences)))
    names = list(sequences)
    for row, name in enumerate(names):
        for number, server in enumerate(sequences[name], start=1):
            ax.barh(row, 1, left=number - 0.5, height=0.6, color=PALETTE[server % len(PALETTE)],
                    edgecolor="white", linewidth=1.5)
    from matplotlib.patches import Patch

    handles = [Patch(color=PALETTE[server % len(PALETTE)], label=f"server {server}") for server in range(n_servers)]
    longest = max(len(picks) for picks in sequences.values())
    ax.set_xticks(range(1, longest + 1, max(1, longest // 10)))
    ax.set_xlim(0.4, longest + 0.6)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.grid(False)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig, ax


# --------------------------------------------------------------------------- a server fails

@dataclass
class FailureRun:
    """Per-second counts of one ``simulate_failure`` run."""

    label: str
    requests: np.ndarray  # requests arriving in each second
    errors: np.ndarray    # requests that failed, by the second the client saw the failure

    @property
    def total_errors(self) -> int:
        return int(self.errors.sum())


def simulate_failure(pool_cls, *, check_interval_s: float | None, fall: int = 3, rise: int = 2,
                     n_servers: int = 4, arrival_rate: float = 100.0, service_s: float = 0.05,
                     fail_at_s: float = 37.0, recover_at_s: float = 160.0, duration_s: float = 200.0,
                     failed_server: int = 1, seed: int = 0, label: str | None = None) -> FailureRun:
    """Route Poisson requests through ``pool_cls(n_servers, fall, rise)`` while one server dies.

    Server ``failed_server`` is dead from ``fail_at_s`` until ``recover_at_s``: a request the pool
    assigns to it fails at once, and one it was serving fails when it dies. Every
    ``check_interval_s`` seconds (from time 0) each server is checked and the pool is told with
    ``report(server, alive)``; ``check_interval_s=None`` means no health checks at all. A request
    for which ``assign`` raises ``LookupError`` fails too. Service times are exponential with mean
    ``service_s``. Returns per-second request and error counts.
    """
    sim = Simulation(seed)
    pool = pool_cls(n_servers, fall=fall, rise=rise)
    seconds = int(math.ceil(duration_s))
    requests, errors = np.zeros(seconds, dtype=int), np.zeros(seconds, dtype=int)

    def alive(server: int) -> bool:
        return not (server == failed_server and fail_at_s <= sim.now < recover_at_s)

    def fail(at: float):
        errors[min(int(at), seconds - 1)] += 1

    def serve(server: int, arrived: float):
        yield sim.timeout(sim.rng.exponential(service_s))
        if server == failed_server and arrived < fail_at_s <= sim.now:
            fail(fail_at_s)  # the server died while serving it: the client sees the connection drop
        pool.finish(server)

    def arrive(index: int):
        second = int(sim.now)
        requests[second] += 1
        try:
            server = pool.assign()
        except LookupError:
            fail(sim.now)
            return
        if not alive(server):
            fail(sim.now)
            pool.finish(server)
            return
        sim.process(serve(server, sim.now))

    def health_checks():
        while True:
            for server in range(n_servers):
                pool.report(server, alive(server))
            yield sim.timeout(check_interval_s)

    if check_interval_s is not None:
        sim.process(health_checks())
    poisson_arrivals(sim, arrival_rate, arrive, until=duration_s)
    sim.run(until=duration_s + 10 * service_s + 1)
    text = label or ("no health checks" if check_interval_s is None
                     else f"checks every {check_interval_s:g} s, fall {fall}")
    return FailureRun(text, requests, errors)


def plot_failure_timeline(runs, fail_at_s: float, recover_at_s: float,
                          title="Errors seen by clients when a server fails"):
    """Cumulative failed requests over time for each run, the failure window shaded. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "time (s)", "failed requests so far")
    ax.axvspan(fail_at_s, recover_at_s, color="0.92", label="server 1 is down")
    for k, run in enumerate(runs):
        seconds = np.arange(len(run.errors) + 1)
        ax.plot(seconds, np.concatenate([[0], np.cumsum(run.errors)]), color=PALETTE[k],
                label=f"{run.label}: {run.total_errors:,}")
    ax.set_xlim(0, len(runs[0].errors))
    ax.legend(loc="upper left")
    return fig, ax


# --------------------------------------------------------------------------- autoscaling

def day_of_demand(seed: int, average_rps: float = 2000.0, peak_factor: float = 2.5,
                  surge_factor: float = 1.6) -> np.ndarray:
    """Requests per second for each minute of one day: a diurnal cycle plus one sudden surge.

    The cycle is ``course.traffic.diurnal_profile`` (mean ``average_rps``, peak ``peak_factor``
    times the mean, at 20:00). Once a day, at a random minute between 08:00 and 17:00, traffic
    jumps to ``surge_factor`` times the cycle within 5 minutes (a push notification, a TV
    advert), stays there 30 minutes and fades over 30 more. Everything is drawn from ``seed``.
    """
    base = diurnal_profile(average_rps, peak_factor, seed=derive_seed(seed, "diurnal"))
    rng = make_rng(derive_seed(seed, "surge"))
    start = int(rng.integers(8 * 60, 17 * 60))
    t = np.arange(MINUTES_PER_DAY) - start
    bump = np.clip(t / 5, 0, 1) * np.clip(1 - (t - 35) / 30, 0, 1)
    return base * (1 + (surge_factor - 1) * bump)


def p99_latency_ms(utilisation: float, rps_per_server: float = RPS_PER_SERVER) -> float:
    """Modelled p99 latency (ms) of servers at ``utilisation``: each an M/M/1 queue.

    Requests spread evenly over identical servers with exponential service at ``rps_per_server``;
    the time in an M/M/1 system is exponential with rate mu - lambda, so its 99th percentile is
    ln(100) / (mu (1 - utilisation)). Infinite at or above 100%.
    """
    if utilisation >= 1:
        return math.inf
    return 1000 * math.log(100) / (rps_per_server * (1 - utilisation))


@dataclass
class AutoscalingRun:
    """Minute-by-minute record of ``simulate_autoscaling``."""

    settings: dict
    demand_rps: np.ndarray
    capacity: np.ndarray      # servers paid for (in service + booting), per minute
    in_service: np.ndarray    # servers serving traffic, per minute
    utilisation: np.ndarray   # demand / (in_service * RPS_PER_SERVER), per minute
    p99_ms: np.ndarray
    violations: np.ndarray    # bool per minute: p99 above the SLO

    @property
    def slo_minutes(self) -> int:
        return int(self.violations.sum())

    @property
    def server_hours(self) -> float:
        return float(self.capacity.sum()) / 60

    def summary(self) -> dict:
        return {"slo_minutes": self.slo_minutes, "server_hours": round(self.server_hours, 3)}


def simulate_autoscaling(cls, settings: dict, demand_rps, *, rps_per_server: float = RPS_PER_SERVER,
                         boot_s: int = BOOT_S, slo_p99_ms: float = SLO_P99_MS) -> AutoscalingRun:
    """Run the autoscaler ``cls(**settings)`` against ``demand_rps`` (one value per minute).

    The group starts warm, with ``ceil(demand[0] / (rps_per_server * target))`` servers (within
    min and max) in service. Each minute ``m`` (``now_s = 60 m``): servers whose boot finished
    join; utilisation is demand over in-service capacity; the minute violates the SLO when the
    modelled p99 (``p99_latency_ms``) exceeds ``slo_p99_ms``; then
    ``decide(now_s, capacity, utilisation)`` is asked for the new capacity, where ``capacity``
    counts booting servers too. Added servers serve ``boot_s`` seconds later; removed servers go
    at once (booting ones first). Every server paid for, booting or not, counts toward cost.
    """
    scaler = cls(**settings)
    lo, hi = settings["min_capacity"], settings["max_capacity"]
    demand = np.asarray(demand_rps, dtype=float)
    minutes = len(demand)
    start = min(hi, max(lo, math.ceil(demand[0] / (rps_per_server * settings["target"]))))
    in_service, booting = start, []  # booting: list of ready times (s), oldest first
    record = {key: np.zeros(minutes) for key in ("capacity", "in_service", "utilisation", "p99_ms")}
    for m in range(minutes):
        now = 60 * m
        ready = [t for t in booting if t <= now]
        booting = [t for t in booting if t > now]
        in_service += len(ready)
        capacity = in_service + len(booting)
        utilisation = demand[m] / (in_service * rps_per_server) if in_service else math.inf
        record["capacity"][m] = capacity
        record["in_service"][m] = in_service
        record["utilisation"][m] = utilisation
        record["p99_ms"][m] = p99_latency_ms(utilisation, rps_per_server)
        wanted = scaler.decide(now, capacity, float(utilisation))
        if isinstance(wanted, (bool, np.bool_)) or not isinstance(wanted, (int, np.integer)):
            raise TypeError(f"decide returned {wanted!r} at now_s={now}; it must return an int")
        wanted = int(wanted)
        if wanted > capacity:
            booting += [now + boot_s] * (wanted - capacity)
        elif wanted < capacity:
            remove = capacity - wanted
            cancelled = min(remove, len(booting))
            booting = booting[:len(booting) - cancelled]
            in_service -= remove - cancelled
    violations = record["p99_ms"] > slo_p99_ms
    return AutoscalingRun(dict(settings), demand, record["capacity"], record["in_service"],
                          record["utilisation"], record["p99_ms"], violations)


def autoscaling_summary(cls, settings: dict, day_seed: int) -> dict:
    """``simulate_autoscaling`` on ``day_of_demand(day_seed)``: ``{"slo_minutes", "server_hours"}``."""
    return simulate_autoscaling(cls, settings, day_of_demand(day_seed)).summary()


def plot_autoscaling(run: AutoscalingRun, title="Autoscaling over one day",
                     rps_per_server: float = RPS_PER_SERVER):
    """Demand (in servers' worth of load) and capacity over the day, SLO-violating minutes marked.

    Returns (fig, ax).
    """
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "hour of day", "servers")
    hours = np.arange(len(run.demand_rps)) / 60
    ax.plot(hours, run.demand_rps / rps_per_server, color=PALETTE[0], linewidth=1,
            label="load (servers at 100%)")
    ax.plot(hours, run.demand_rps / (rps_per_server * run.settings["target"]), color=PALETTE[0],
            linewidth=1, linestyle=":", label=f"load at the {run.settings['target']:.0%} target")
    ax.step(hours, run.capacity, where="post", color=PALETTE[1], label="capacity paid for")
    ax.step(hours, run.in_service, where="post", color=PALETTE[2], linewidth=1, label="in service")
    bad = np.flatnonzero(run.violations)
    if len(bad):
        ax.scatter(hours[bad], run.in_service[bad], color=PALETTE[3], s=14, zorder=3,
                   label=f"SLO violated: {run.slo_minutes} min")
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.legend(loc="upper left", fontsize=9)
    ax.text(0.99, 0.02, f"{run.server_hours:,.0f} server-hours", transform=ax.transAxes,
            ha="right", va="bottom")
    return fig, ax


def sweep_settings(cls, settings_list, demand_rps) -> list[dict]:
    """``simulate_autoscaling`` for each settings dict: the settings plus slo_minutes, server_hours."""
    return [{**s, **simulate_autoscaling(cls, s, demand_rps).summary()} for s in settings_list]


def plot_settings_tradeoff(results, budget_minutes: int = SLO_BUDGET_MINUTES, highlight: dict | None = None,
                           title="Cost against SLO violations, one day"):
    """Scatter of server-hours against SLO-violating minutes, one point per setting.

    ``results`` is what ``sweep_settings`` returns; points are coloured by target. ``highlight``
    (a settings dict) is circled. Returns (fig, ax).
    """
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "SLO-violating minutes in the day", "cost (server-hours)")
    targets = sorted({r["target"] for r in results})
    for k, target in enumerate(targets):
        points = [r for r in results if r["target"] == target]
        ax.scatter([r["slo_minutes"] for r in points], [r["server_hours"] for r in points],
                   color=PALETTE[k % len(PALETTE)], label=f"target {target:.0%}", s=30)
    ax.axvline(budget_minutes, color="0.4", linestyle="--")
    ax.annotate(f"budget: {budget_minutes} min", (budget_minutes, 0), xycoords=("data", "axes fraction"),
                xytext=(4, 6), textcoords="offset points", color="0.3")
    if highlight is not None:
        keys = ("target", "scale_out_cooldown_s", "scale_in_cooldown_s")
        match = [r for r in results if all(r[k] == highlight[k] for k in keys)]
        if match:
            ax.scatter([match[0]["slo_minutes"]], [match[0]["server_hours"]], s=220, facecolors="none",
                       edgecolors="black", linewidths=1.5, label="your choice")
    ax.set_xscale("symlog", linthresh=10)
    ticks = [t for t in (0, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
             if t <= max(r["slo_minutes"] for r in results) * 1.5 or t <= 20]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.legend(loc="upper right", fontsize=9, ncol=2)
    return fig, ax
