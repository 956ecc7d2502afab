"""Make data/request_log.csv: one synthetic month of per-minute request logs for module 07.

Run from the repository root: ``python data/make_request_log.py``. Deterministic: the same bytes on
every run (numpy.random.default_rng(SEED), fixed formatting, no clock, no network).

Model (all synthetic; no real service's logs):
- traffic: Poisson requests per minute around 1,200 (20 per second), a daily cycle peaking at
  20:00 UTC (x1.6) with a trough at 08:00 (x0.4), weekends 20% quieter;
- latency: lognormal per request, median 30 ms x (1 + 0.3 x load) with sigma 0.5, so p95 sits near
  80 ms at night and about 100 ms at the evening peak;
- errors: 0.02% of requests fail at baseline; every weekday at 10:00 a deploy fails 3% for 2 minutes;
- the scripted incidents of ``course.monitoring.INCIDENTS`` (the single source of the schedule):
  a slow dependency (30% of requests +~300 ms), a 25-minute scrape gap (rows left empty),
  an error spike (12% for 30 minutes) and a slow leak (errors ramp 0.02% -> 0.9% over 3 days).

Columns: minute (since 2026-10-05 00:00 UTC), requests, errors, slow (requests over 250 ms),
p50_ms, p95_ms, p99_ms (numpy's default "linear" percentiles of that minute's latencies).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course.monitoring import DEPLOY_LENGTH, DEPLOY_MINUTES, INCIDENTS, LOG_DAYS, MINUTES_PER_DAY, SLOW_MS  # noqa: E402

SEED = 20261005
OUT = Path(__file__).resolve().parent / "request_log.csv"
MEAN_PER_MINUTE = 1200
BASE_ERROR = 0.0002


def main() -> None:
    rng = np.random.default_rng(SEED)
    deploys = {m + k for m in DEPLOY_MINUTES for k in range(DEPLOY_LENGTH)}
    by_kind = {kind: [i for i in INCIDENTS if i["kind"] == kind] for kind in ("latency", "errors", "gap")}
    lines = ["minute,requests,errors,slow,p50_ms,p95_ms,p99_ms"]
    for t in range(LOG_DAYS * MINUTES_PER_DAY):
        hour = (t % MINUTES_PER_DAY) / 60
        day = t // MINUTES_PER_DAY
        load = (1 + 0.6 * math.cos(2 * math.pi * (hour - 20) / 24)) * (0.8 if day % 7 >= 5 else 1.0)
        n = int(rng.poisson(MEAN_PER_MINUTE * load))
        median = 30.0 * (1 + 0.3 * load) * float(rng.lognormal(0.0, 0.05))
        latency = rng.lognormal(math.log(median), 0.5, size=n)
        p_error = 0.03 if t in deploys else BASE_ERROR
        for inc in by_kind["errors"]:
            if inc["start"] <= t < inc["end"]:
                if inc["name"] == "slow leak":
                    frac = (t - inc["start"]) / (inc["end"] - inc["start"])
                    p_error = BASE_ERROR + (0.009 - BASE_ERROR) * frac
                else:
                    p_error = 0.12
        for inc in by_kind["latency"]:
            if inc["start"] <= t < inc["end"]:
                hit = rng.random(n) < 0.30
                latency[hit] += rng.lognormal(math.log(300.0), 0.3, size=int(hit.sum()))
        errors = int(rng.binomial(n, p_error))
        if any(g["start"] <= t < g["end"] for g in by_kind["gap"]):
            lines.append(f"{t},,,,,,")
            continue
        slow = int((latency > SLOW_MS).sum())
        p50, p95, p99 = np.percentile(latency, [50, 95, 99])
        lines.append(f"{t},{n},{errors},{slow},{p50:.1f},{p95:.1f},{p99:.1f}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(lines) - 1} minutes)")


if __name__ == "__main__":
    main()
