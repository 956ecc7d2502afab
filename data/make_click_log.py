"""Make data/click_log.csv: two synthetic weeks of redirect clicks for module 10 (URL shortener).

Run from the repository root: ``python data/make_click_log.py``. Deterministic: the same bytes on
every run (numpy.random.default_rng(SEED), fixed formatting, no clock, no network).

Model (all synthetic; no real service's clicks): 40 short codes whose popularity is Zipf-like
(weight 1/rank); 14 days from Monday 2 November 2026, 00:00 UTC; each link has its own daily
volume that decays after its "launch" day (a link is clicked most when it is first shared); clicks
within a day follow a daily cycle peaking around 18:00 UTC; visitors come from a pool of 6,000, so
some click several times; referrers and countries are drawn from fixed weights, with about a fifth
of clicks carrying no referrer (typed, from an app or stripped) and 2% no country (geolocation
failed).

Columns: clicked_at (ISO 8601, UTC, to the second), short_code, visitor_id, referrer (host name,
empty when missing), country (ISO 3166-1 alpha-2, empty when unknown).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

SEED = 20261102
OUT = Path(__file__).resolve().parent / "click_log.csv"
START = datetime(2026, 11, 2, tzinfo=timezone.utc)
DAYS = 14
N_CODES = 40
N_VISITORS = 6000
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
REFERRERS = {"": 0.21, "t.co": 0.18, "www.google.com": 0.16, "news.ycombinator.com": 0.12,
             "www.reddit.com": 0.11, "www.linkedin.com": 0.08, "www.facebook.com": 0.07,
             "mail.google.com": 0.04, "duckduckgo.com": 0.03}
COUNTRIES = {"US": 0.34, "IN": 0.12, "GB": 0.08, "DE": 0.08, "BR": 0.06, "FR": 0.05, "CA": 0.05,
             "JP": 0.04, "NL": 0.04, "AU": 0.03, "ES": 0.03, "PL": 0.03, "NG": 0.02, "MX": 0.01, "": 0.02}


def main() -> None:
    rng = np.random.default_rng(SEED)
    codes = ["".join(rng.choice(list(ALPHABET), size=7)) for _ in range(N_CODES)]
    weight = 1.0 / np.arange(1, N_CODES + 1)
    daily_base = 900 * weight                       # clicks on launch day for each code
    launch = rng.integers(0, DAYS - 2, size=N_CODES)
    visitors = [f"v{n:05d}" for n in range(N_VISITORS)]
    visitor_weight = 1.0 / np.arange(1, N_VISITORS + 1) ** 0.6
    visitor_weight /= visitor_weight.sum()
    ref_names, ref_p = list(REFERRERS), np.array(list(REFERRERS.values()))
    country_names, country_p = list(COUNTRIES), np.array(list(COUNTRIES.values()))
    rows = []
    for c, code in enumerate(codes):
        for day in range(DAYS):
            age = day - launch[c]
            if age < 0:
                continue
            n = int(rng.poisson(daily_base[c] * 0.6 ** age + 2))
            hours = np.mod(rng.normal(18.0, 4.5, size=n), 24.0)
            who = rng.choice(N_VISITORS, size=n, p=visitor_weight)
            refs = rng.choice(len(ref_names), size=n, p=ref_p / ref_p.sum())
            places = rng.choice(len(country_names), size=n, p=country_p / country_p.sum())
            for h, v, r, k in zip(hours, who, refs, places):
                t = START + timedelta(days=day, seconds=int(h * 3600))
                rows.append((t, code, visitors[v], ref_names[r], country_names[k]))
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    lines = ["clicked_at,short_code,visitor_id,referrer,country"]
    lines += [f"{t:%Y-%m-%dT%H:%M:%SZ},{code},{v},{r},{k}" for t, code, v, r, k in rows]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(rows):,} clicks)")


if __name__ == "__main__":
    main()
