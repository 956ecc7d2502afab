"""Monitoring module (07): the month of request logs, drivers for learner code, alert bookkeeping, figures.

- ``LOG_FILE`` / ``load_request_log``: one synthetic month of per-minute request logs (made by
  ``data/make_request_log.py`` from the incident schedule ``INCIDENTS`` below), verified by hash.
- ``host_latencies``: a SimPy run of hosts behind an uneven load balancer (course.sim), to show why
  per-host percentiles cannot be averaged.
- ``run_histogram``: the driver the tests use to exercise a learner's histogram class and return plain data.
- ``threshold_alerts``, ``episodes``, ``alert_report``: the seed's per-minute threshold rule and how
  a set of alert episodes scores against the incidents (detection delay, false pages).
- ``plot_*``: the module's figures (every one titled, with labelled axes and units).

Times in the log are minutes since ``LOG_START`` (Monday 5 October 2026, 00:00 UTC).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

LOG_FILE = "request_log.csv"
LOG_START = "2026-10-05 00:00"
MINUTES_PER_DAY = 1440
LOG_DAYS = 30
AVAILABILITY_SLO = 0.999     # "error rate < 0.1%" (the seed's target), as an SLO
LATENCY_SLO = 0.99           # 99% of requests faster than SLOW_MS
SLOW_MS = 250.0


def _minute(day: int, hour: int, minute: int = 0) -> int:
    return day * MINUTES_PER_DAY + hour * 60 + minute


# The scripted incidents of the month. start/end are minutes since LOG_START, end exclusive.
# kind: "latency" (a slow dependency), "errors" (failing requests), "gap" (no data was scraped).
# page: whether an on-call engineer should have been paged for it.
INCIDENTS: tuple[dict[str, Any], ...] = (
    {"name": "slow dependency", "kind": "latency", "start": _minute(8, 14), "end": _minute(8, 15, 30),
     "page": True, "detail": "30% of requests wait ~300 ms more on a slow downstream call"},
    {"name": "scrape gap", "kind": "gap", "start": _minute(11, 3), "end": _minute(11, 3, 25),
     "page": False, "detail": "the metrics pipeline lost 25 minutes of data"},
    {"name": "error spike", "kind": "errors", "start": _minute(15, 20, 5), "end": _minute(15, 20, 35),
     "page": True, "detail": "a bad config push fails 12% of requests for 30 minutes"},
    {"name": "slow leak", "kind": "errors", "start": _minute(21, 0), "end": _minute(24, 0),
     "page": True, "detail": "a memory leak: error rate climbs from 0.02% to 0.9% over 3 days, then a restart"},
)
# Deploys: every weekday at 10:00 a rolling restart fails 3% of requests for 2 minutes. Not an incident.
DEPLOY_MINUTES: tuple[int, ...] = tuple(_minute(d, 10) for d in range(LOG_DAYS) if d % 7 < 5)
DEPLOY_LENGTH = 2

# The multiwindow, multi-burn-rate rules of the Google SRE Workbook, chapter 5 ("Alerting on SLOs"),
# for a 30-day SLO window: page when 2% of the month's budget burns in 1 hour (burn rate 14.4) or 5% in
# 6 hours (6); open a ticket when 10% burns in 3 days (1). Each rule also needs its short window
# (1/12 of the long one) to burn as fast, so that the alert stops soon after the problem does.
SRE_RULES: tuple[dict[str, Any], ...] = (
    {"name": "page-1h", "long_minutes": 60, "short_minutes": 5, "burn_rate": 14.4, "severity": "page"},
    {"name": "page-6h", "long_minutes": 360, "short_minutes": 30, "burn_rate": 6.0, "severity": "page"},
    {"name": "ticket-3d", "long_minutes": 4320, "short_minutes": 360, "burn_rate": 1.0, "severity": "ticket"},
)


# --------------------------------------------------------------------------- the month of logs

def load_request_log() -> pd.DataFrame:
    """The month of per-minute logs, verified against data/manifest.json, with a ``time`` column.

    Columns: ``minute`` (since LOG_START), ``requests``, ``errors`` (5xx responses), ``slow``
    (requests slower than 250 ms), ``p50_ms``, ``p95_ms``, ``p99_ms`` (percentiles of that minute's
    latencies, milliseconds), ``time`` (a pandas Timestamp). Minutes the scraper lost are NaN.
    """
    import pandas as pd

    from course.data import load_csv

    df = load_csv(LOG_FILE)
    df["time"] = pd.Timestamp(LOG_START) + pd.to_timedelta(df["minute"], unit="min")
    return df


def incident_frame() -> pd.DataFrame:
    """``INCIDENTS`` as a DataFrame with start/end also as day numbers (float days since LOG_START)."""
    import pandas as pd

    df = pd.DataFrame(list(INCIDENTS))
    df["start_day"] = df["start"] / MINUTES_PER_DAY
    df["end_day"] = df["end"] / MINUTES_PER_DAY
    return df


# --------------------------------------------------------------------------- percentiles across hosts

def host_latencies(seed: int, hosts: int = 4, rate_per_s: float = 40.0, seconds: float = 600.0,
                   weights: tuple[float, ...] = (0.55, 0.25, 0.15, 0.05),
                   mean_service_ms: float = 25.0) -> dict[str, list[float]]:
    """Simulate ``hosts`` single-server hosts behind a load balancer that sends them uneven shares
    (``weights``) of Poisson traffic; return each host's request latencies in milliseconds.

    Each host serves one request at a time with exponential service times (mean
    ``mean_service_ms``), so the busiest host queues most: its latencies have the longest tail
    while it also serves the most requests. The run is a ``course.sim.Simulation`` with ``seed``.
    """
    from course.sim import Simulation, Station, poisson_arrivals

    if len(weights) != hosts or not math.isclose(sum(weights), 1.0):
        raise ValueError("weights must have one share per host and sum to 1")
    sim = Simulation(seed)
    mean_s = mean_service_ms / 1000
    stations = [Station(sim, f"host-{i}", 1, lambda rng: rng.exponential(mean_s)) for i in range(hosts)]
    choices = sim.rng.choice(hosts, size=int(rate_per_s * seconds * 2), p=list(weights))

    def route(i: int) -> None:
        stations[int(choices[i % len(choices)])].submit(i)

    poisson_arrivals(sim, rate_per_s, route, until=seconds)
    sim.run()
    return {s.name: [t * 1000 for t in s.completed] for s in stations}


# --------------------------------------------------------------------------- drivers for learner code

def run_histogram(cls: type, rel_error: float, hosts: list[list[float]], quantiles: list[float]) -> dict:
    """Exercise a learner's histogram class the way a metrics pipeline does; return plain data.

    One histogram ``cls(rel_error)`` per host records that host's values (``record(v)``), then a
    fresh ``cls(rel_error)`` merges them all (``merge(h)``). Returns ``{"quantiles": [merged.quantile(q)
    for q in quantiles], "first_host": [hosts[0]'s histogram .quantile(q) ...] (after the merge, to
    catch a merge that changes its argument), "count": merged.count(), "bucket_count":
    merged.bucket_count()}``. Exceptions from the class propagate.
    """
    per_host = []
    for values in hosts:
        h = cls(rel_error)
        for v in values:
            h.record(v)
        per_host.append(h)
    merged = cls(rel_error)
    for h in per_host:
        merged.merge(h)
    first = per_host[0] if per_host else cls(rel_error)
    return {"quantiles": [merged.quantile(q) for q in quantiles],
            "first_host": [first.quantile(q) for q in quantiles],
            "count": merged.count(), "bucket_count": merged.bucket_count()}


# --------------------------------------------------------------------------- alert bookkeeping

def episodes(mask) -> list[tuple[int, int]]:
    """Maximal runs of True in a boolean sequence, as (first index, last index) pairs (inclusive)."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return []
    padded = np.concatenate([[False], m, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def threshold_alerts(values, threshold: float, name: str, above: bool = True) -> list[dict]:
    """The seed's kind of rule: fire every minute the metric is above (or below) ``threshold``.

    Returns alert episodes ``{"rule": name, "start": minute, "end": minute}``; NaN minutes never fire.
    """
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        fire = (v > threshold) if above else (v < threshold)
    fire &= ~np.isnan(v)
    return [{"rule": name, "start": a, "end": b} for a, b in episodes(fire)]


def alert_report(alerts: list[dict], incidents=INCIDENTS, grace_minutes: int = 60) -> pd.DataFrame:
    """Score alert episodes against incidents, one row per rule.

    An episode that starts between an incident's start and ``grace_minutes`` after its end detects
    it; any other episode is a false alert. Columns: ``rule``, one ``<incident> (min)`` column per
    paging incident with the detection delay in minutes (None if missed), ``false alerts`` and
    ``alerts`` (episodes in all).
    """
    import pandas as pd

    rules = list(dict.fromkeys(a["rule"] for a in alerts))
    rows = []
    for rule in rules:
        mine = [a for a in alerts if a["rule"] == rule]
        row: dict[str, Any] = {"rule": rule}
        explained = set()
        for inc in incidents:
            hits = [a for a in mine if inc["start"] <= a["start"] < inc["end"] + grace_minutes]
            explained.update(id(a) for a in hits)
            if inc["page"]:
                row[f"{inc['name']} (min)"] = (min(a["start"] for a in hits) - inc["start"]) if hits else None
        row["false alerts"] = sum(1 for a in mine if id(a) not in explained)
        row["alerts"] = len(mine)
        rows.append(row)
    return pd.DataFrame(rows)


def binned(values, minutes: int = 5, how: str = "mean") -> np.ndarray:
    """A per-minute series averaged (or summed) over consecutive bins of ``minutes``; a bin with no
    data is NaN. The last, partial bin is dropped."""
    v = np.asarray(values, dtype=float)
    bins = v[: len(v) // minutes * minutes].reshape(-1, minutes)
    valid = (~np.isnan(bins)).sum(axis=1)
    total = np.nansum(bins, axis=1)
    out = total / np.where(valid > 0, valid, 1) if how == "mean" else total
    return np.where(valid > 0, out, np.nan)


# --------------------------------------------------------------------------- figures

def plot_burn_rates(burns: dict[str, list[float]], thresholds: dict[str, float], title: str):
    """Burn rate over the month for several windows (log scale), with each rule's threshold."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "day of the month", "burn rate (x budget, log scale)", figsize=(10, 4.5))
    for i, (label, series) in enumerate(burns.items()):
        b = np.asarray(series, dtype=float)
        days = np.arange(len(b)) / MINUTES_PER_DAY
        ax.plot(days, np.maximum(b, 1e-3), color=PALETTE[i], linewidth=1, label=label)
    for i, (label, level) in enumerate(thresholds.items()):
        ax.axhline(level, color=PALETTE[i], linestyle="--", linewidth=1, label=label)
    _shade_incidents(ax)
    _plain_log_axis(ax, (0.01, 0.1, 1, 6, 14.4, 100))
    ax.set_ylim(1e-2, None)
    ax.set_xlim(0, LOG_DAYS)
    ax.legend(loc="upper left", ncol=2, fontsize=9)
    return fig, ax


def _shade_incidents(ax, incidents=INCIDENTS, scale: float = 1 / MINUTES_PER_DAY, label: bool = True) -> None:
    from course.plotting import PALETTE

    for i, inc in enumerate(incidents):
        colour = "0.6" if inc["kind"] == "gap" else PALETTE[3]
        ax.axvspan(inc["start"] * scale, max(inc["end"], inc["start"] + 30) * scale, color=colour, alpha=0.2,
                   label=("incident" if label and i == 0 else None))


def plot_latency_dashboard(df: pd.DataFrame, threshold_ms: float | None = 100.0):
    """Hourly latency percentiles over the month (the hour's median of the per-minute values, and the
    hour's worst minute for p99), incidents shaded. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure("Request latency over the month (synthetic log)", "day of the month",
                         "latency (ms, log scale)", figsize=(10, 4.5))
    hourly = df.groupby(df["minute"] // 60)
    days = hourly["minute"].first() / MINUTES_PER_DAY
    ax.plot(days, hourly["p50_ms"].median(), color=PALETTE[0], linewidth=1, label="p50 (hourly median of minutes)")
    ax.plot(days, hourly["p95_ms"].median(), color=PALETTE[1], linewidth=1, label="p95 (hourly median of minutes)")
    ax.plot(days, hourly["p99_ms"].max(), color=PALETTE[2], linewidth=1, label="p99 (worst minute of the hour)")
    if threshold_ms is not None:
        ax.axhline(threshold_ms, color=PALETTE[7], linestyle="--", linewidth=1, label=f"seed: alert if p95 > {threshold_ms:g} ms")
    _shade_incidents(ax)
    _plain_log_axis(ax, (20, 50, 100, 200, 500))
    ax.set_xlim(0, LOG_DAYS)
    ax.legend(loc="upper left", ncol=2, fontsize=9)
    return fig, ax


def _plain_log_axis(ax, ticks) -> None:
    """A log-scale y axis labelled with plain numbers at ``ticks``."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot_error_dashboard(df: pd.DataFrame, slo: float = AVAILABILITY_SLO):
    """Hourly error rate (errors summed over the hour / requests summed over the hour), incidents shaded."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure("Error rate over the month (synthetic log)", "day of the month",
                         "error rate (%, log scale)", figsize=(10, 4.5))
    hourly = df.groupby(df["minute"] // 60)[["requests", "errors"]].sum(min_count=1)
    days = hourly.index * 60 / MINUTES_PER_DAY
    ax.plot(days, 100 * hourly["errors"] / hourly["requests"], color=PALETTE[0], linewidth=1,
            label="hourly error rate")
    ax.axhline(100 * (1 - slo), color=PALETTE[7], linestyle="--", linewidth=1,
               label=f"SLO budget: {100 * (1 - slo):.1f}% errors")
    _shade_incidents(ax)
    _plain_log_axis(ax, (0.01, 0.1, 1, 10))
    ax.set_xlim(0, LOG_DAYS)
    ax.legend(loc="upper left")
    return fig, ax


def plot_percentile_averaging(latencies: dict[str, list[float]], q: float = 99.0):
    """Each host's p-q latency, their plain average, and the true p-q of all requests. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    names = list(latencies)
    per_host = [float(np.percentile(latencies[n], q)) for n in names]
    counts = [len(latencies[n]) for n in names]
    everything = np.concatenate([np.asarray(latencies[n], dtype=float) for n in names])
    fig, ax = new_figure(f"p{q:g} latency per host and for the whole service", "host (share of requests)",
                         f"p{q:g} latency (ms)")
    labels = [f"{n}\n({c / sum(counts):.0%})" for n, c in zip(names, counts)]
    ax.bar(labels, per_host, color=PALETTE[5])
    ax.axhline(float(np.mean(per_host)), color=PALETTE[1], linestyle="--", label=f"average of host p{q:g}: {np.mean(per_host):.0f} ms")
    ax.axhline(float(np.percentile(everything, q)), color=PALETTE[3], label=f"true p{q:g} of all requests: {np.percentile(everything, q):.0f} ms")
    ax.legend(loc="upper right")
    return fig, ax


def plot_alert_timeline(alerts: list[dict], rules: list[str], incidents=INCIDENTS, days: float = LOG_DAYS):
    """One row per rule, a mark for each alert episode, incidents shaded. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure("When each alerting rule fires", "day of the month", "rule",
                         figsize=(10, 0.6 * len(rules) + 1.8))
    for row, rule in enumerate(rules):
        mine = [a for a in alerts if a["rule"] == rule]
        spans = [(a["start"] / MINUTES_PER_DAY, max(a["end"] - a["start"] + 1, 20) / MINUTES_PER_DAY) for a in mine]
        ax.broken_barh(spans, (row - 0.3, 0.6), color=PALETTE[row % 5])
    _shade_incidents(ax)
    for inc in incidents:
        if inc["kind"] != "gap":
            ax.annotate(inc["name"], (inc["start"] / MINUTES_PER_DAY, len(rules) - 0.4), fontsize=8,
                        ha="left", va="bottom")
    ax.set_yticks(range(len(rules)), rules)
    ax.set_ylim(-0.6, len(rules) + 0.2)
    ax.set_xlim(0, days)
    ax.grid(axis="y", visible=False)
    return fig, ax


def plot_anomalies(values, flagged: list[int], title: str, ylabel: str, start_minute: int = 0,
                   step_minutes: int = 5, incidents=INCIDENTS):
    """A metric series with the points an anomaly detector flagged. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "day of the month", ylabel, figsize=(10, 4))
    v = np.asarray(values, dtype=float)
    days = (start_minute + step_minutes * np.arange(len(v))) / MINUTES_PER_DAY
    ax.plot(days, v, color=PALETTE[0], linewidth=0.8, label="metric")
    idx = np.asarray(flagged, dtype=int)
    if idx.size:
        ax.scatter(days[idx], v[idx], color=PALETTE[3], s=18, zorder=3, label=f"flagged ({idx.size})")
    in_range = [i for i in incidents if start_minute <= i["start"] < start_minute + step_minutes * len(v)]
    _shade_incidents(ax, in_range)
    ax.set_xlim(days[0], days[-1] + step_minutes / MINUTES_PER_DAY)
    ax.legend(loc="upper left")
    return fig, ax


def merge_histograms(cls: type, rel_errors: list[float]) -> int:
    """Make one ``cls(r)`` per ``r`` in ``rel_errors``, record 1.0 in each, merge the others into the
    first and return its ``count()``. Histograms with different ``rel_error`` must refuse to merge
    (``ValueError``), which propagates."""
    histograms = [cls(r) for r in rel_errors]
    for h in histograms:
        h.record(1.0)
    for h in histograms[1:]:
        histograms[0].merge(h)
    return histograms[0].count()


def arguments_changed(fn, args: list) -> list[str]:
    """Call ``fn(*args)`` and return the positions (``"argument 1"``, ...) of the arguments it changed in
    place; ``[]`` when it left them all unchanged. Compared as text (``repr``), so a NaN equals itself.
    The result of ``fn`` is ignored; an exception from ``fn`` propagates. Must run in the learner's
    process (``autograde.beside.beside_learner``): across a process boundary ``fn`` gets copies."""
    if not isinstance(args, list):
        raise TypeError(f"args must be a list of positional arguments, got {type(args).__name__}")
    before = [repr(a) for a in args]
    fn(*args)
    return [f"argument {i + 1}" for i, a in enumerate(args) if repr(a) != before[i]]
