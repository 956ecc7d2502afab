"""Global scale (module 14): region data, a DNS-failover simulator and the module's figures.

- ``load_regions()``: ``data/region_coordinates.csv`` (ten AWS regions placed at a city);
- ``load_rtts()``: ``data/inter_region_rtt.csv`` (measured average RTTs, about 2017);
- ``simulate_failover(...)``: a region goes down at time 0; health checkers probe it every
  ``interval_s``; after ``threshold`` failed probes DNS answers the standby; each client's resolver
  refreshes its cached answer on its own phase, every ``ttl_s`` seconds, or every ``stale_hold_s``
  for the share of resolvers that ignore the TTL. Returns when each client reaches the standby;
- ``recovery_quantile(times, fraction)``: the time by which ``fraction`` of clients had moved;
- ``plot_floor_vs_measured``, ``plot_recovery_curves``: the module's figures.

Every random draw comes from an explicit seed. The simulator is independent of the exercise's
closed form: it places probes and cache refreshes on a timeline and reads the answer each refresh
gets, so comparing the two checks both.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def load_regions():
    """The ten regions as a DataFrame: region, name, city, lat, lon (degrees)."""
    from course.data import load_csv

    return load_csv("region_coordinates.csv")


def load_rtts():
    """Measured average round-trip times: region_a, region_b, rtt_ms (one row per pair)."""
    from course.data import load_csv

    return load_csv("inter_region_rtt.csv")


def simulate_failover(interval_s: float, threshold: int, ttl_s: float, stale_share: float = 0.0,
                      stale_hold_s: float = 0.0, *, clients: int = 10_000, seed: int = 0) -> list[float]:
    """Seconds from the outage (t = 0) until each client's resolver hands out the standby, sorted.

    Probes run at ``k * interval_s`` (k = 1, 2, ...; the outage starts just after the probe at 0);
    the record fails over at the ``threshold``-th failed probe. A resolver refreshes at
    ``phase + k * hold`` for a uniform random phase in [0, hold), where hold is ``ttl_s``, or
    ``max(ttl_s, stale_hold_s)`` for a resolver that ignores TTLs (a share ``stale_share`` of them,
    drawn per client); a refresh before the failover still gets the old answer.
    """
    if interval_s <= 0 or threshold < 1 or ttl_s < 0 or stale_hold_s < 0 or not 0 <= stale_share <= 1:
        raise ValueError("invalid failover settings")
    if clients < 1:
        raise ValueError("clients must be >= 1")
    rng = np.random.default_rng(seed)
    failed_over = 0.0
    for probe in range(1, threshold + 1):   # walk the probes: every one fails while the region is down
        failed_over = probe * interval_s
    stale = rng.random(clients) < stale_share
    hold = np.where(stale, max(ttl_s, stale_hold_s), ttl_s).astype(float)
    phase = rng.random(clients) * hold                 # this resolver refreshes at phase + k * hold
    safe = np.where(hold > 0, hold, 1.0)
    k = np.ceil((failed_over - phase) / safe)          # the first refresh at or after the failover
    times = np.where(hold > 0, phase + k * safe, failed_over)  # no caching: the next lookup is new
    return sorted(float(t) for t in times)


def recovery_quantile(times: Sequence[float], fraction: float) -> float:
    """The time by which ``fraction`` (0 < fraction <= 1) of the clients had moved (nearest rank)."""
    if not 0 < fraction <= 1 or not times:
        raise ValueError("fraction in (0, 1] and at least one time")
    ordered = sorted(times)
    return float(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)])


def plot_floor_vs_measured(pairs):
    """Scatter of measured RTT against the fibre floor, one point per region pair.

    ``pairs``: a DataFrame with columns ``distance_km``, ``floor_ms`` and ``rtt_ms``."""
    from course.plotting import new_figure

    fig, ax = new_figure("Measured RTT between AWS regions against the fibre floor",
                         "great-circle distance (km)", "round-trip time (ms)")
    ax.scatter(pairs["distance_km"], pairs["rtt_ms"], s=18, label="measured average RTT (2017)")
    xs = np.linspace(0, float(pairs["distance_km"].max()) * 1.05, 50)
    ax.plot(xs, 2 * xs / (299_792.458 * 2 / 3) * 1000, color="black", label="floor: fibre at 2/3 c, straight line")
    ax.axhline(50, color="tab:red", linestyle=":", label="50 ms budget")
    ax.axhline(100, color="tab:orange", linestyle=":", label="100 ms budget")
    ax.legend(loc="upper left", fontsize=8)
    return fig, ax


def plot_recovery_curves(curves: dict[str, Sequence[float]], horizon_s: float):
    """Share of clients on the standby against time since the outage, one line per setting."""
    from course.plotting import new_figure

    fig, ax = new_figure("Clients moved to the standby region after an outage", "seconds since the outage",
                         "share of clients on the standby")
    for label, times in curves.items():
        ordered = np.sort(np.asarray(times, dtype=float))
        share = np.arange(1, len(ordered) + 1) / len(ordered)
        ax.step(np.append(ordered, horizon_s), np.append(share, 1.0), where="post", label=label)
    ax.set_xlim(0, horizon_s)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize=8)
    return fig, ax


def cdn_trace(n_requests: int, n_objects: int, alpha: float, region_weights: dict[str, float],
              rate_per_s: float, seed: int) -> list[list]:
    """A seeded CDN request trace: ``[t_ms, region, object, size_bytes]`` rows in time order.

    Object popularity is Zipf(``alpha``) over ``n_objects`` (the same objects in every region, as for
    video segments or images); arrivals are a Poisson process of ``rate_per_s`` requests a second,
    rounded to whole milliseconds; each request's region is drawn with ``region_weights``; each
    object has one size, log-normal around 200 KB (from 1 KB to 20 MB).
    """
    from course.caching import zipf_trace

    if n_requests < 0 or n_objects < 1 or rate_per_s <= 0 or not region_weights:
        raise ValueError("n_requests >= 0, n_objects >= 1, rate_per_s > 0 and at least one region")
    rng = np.random.default_rng(seed)
    names = list(region_weights)
    weights = np.array([region_weights[r] for r in names], dtype=float)
    keys = zipf_trace(n_requests, n_objects, alpha, seed) if n_requests else np.array([], dtype=np.int64)
    sizes = np.clip(rng.lognormal(np.log(200_000), 1.2, n_objects), 1_000, 20_000_000).astype(int)
    times = np.floor(np.cumsum(rng.exponential(1000 / rate_per_s, n_requests))).astype(int)
    regions = rng.choice(len(names), size=n_requests, p=weights / weights.sum())
    return [[int(t), names[int(r)], f"obj{int(k)}", int(sizes[int(k)])] for t, r, k in zip(times, regions, keys)]


def cdn_summary(simulate, **arguments) -> dict:
    """Call ``simulate(**arguments)`` (a learner's ``simulate_cdn``) and return its result without the
    per-request ``latencies_ms`` list: the figures a large trace is graded on."""
    result = simulate(**arguments)
    return {key: value for key, value in dict(result).items() if key != "latencies_ms"}


def load_dr_prices() -> dict[str, float]:
    """``data/dr_prices.csv`` as ``{item: usd}``: instance_hour, storage_gb_month, transfer_gb."""
    from course.data import load_csv

    table = load_csv("dr_prices.csv")
    return {str(item): float(usd) for item, usd in zip(table["item"], table["usd"])}
