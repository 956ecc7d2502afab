"""Reference answers and seeded hidden-test cases for 01-requirements-estimation.

These are the grader's truth, written independently of the solution notebook (CI checks
that the two agree: the solution must score full marks). Each ``*_cases(seed, n)`` returns
plain keyword-argument dicts drawn from ``numpy.random.default_rng(seed)``; a case for which
the reference raises ValueError expects the learner's function to raise ValueError too.

Conventions stated in the notebook: a month is 30 days, a year 365 days; sizes are bytes;
rates are per second; availabilities are fractions (0.999, not 99.9). Answers within 2% pass,
so a 30.44-day month or a closed form instead of a loop is accepted.
"""

from __future__ import annotations

import math

import numpy as np

PERIOD_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400,
                  "month": 30 * 86_400, "year": 365 * 86_400}
REL_TOL = 0.02


def _period(period: str) -> int:
    if period not in PERIOD_SECONDS:
        raise ValueError(f"unknown period {period!r}")
    return PERIOD_SECONDS[period]


def _fraction(a: float) -> float:
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"availability must be a fraction in [0, 1], got {a!r}")
    return a


# --------------------------------------------------------------------------- references

def average_rps(count, period):
    if count < 0:
        raise ValueError("count must be >= 0")
    return count / _period(period)


def peak_rps(count, period, peak_factor=2.0):
    if peak_factor < 1:
        raise ValueError("peak_factor must be >= 1")
    return average_rps(count, period) * peak_factor


def storage_bytes(items_per_month, bytes_per_item, months, replication=1, monthly_growth=0.0):
    if items_per_month < 0 or bytes_per_item < 0 or months < 0 or replication < 1 or monthly_growth <= -1:
        raise ValueError("invalid storage parameters")
    items = sum(items_per_month * (1 + monthly_growth) ** k for k in range(int(months)))
    return items * bytes_per_item * replication


def bandwidth(writes_per_s, reads_per_s, bytes_per_write, bytes_per_read):
    if min(writes_per_s, reads_per_s, bytes_per_write, bytes_per_read) < 0:
        raise ValueError("rates and sizes must be >= 0")
    out_bytes = reads_per_s * bytes_per_read
    return {"in_bytes_per_s": writes_per_s * bytes_per_write, "out_bytes_per_s": out_bytes,
            "out_megabits_per_s": out_bytes * 8 / 1e6}


def downtime_seconds(availability, period):
    return (1 - _fraction(availability)) * _period(period)


def series_availability(availabilities):
    return math.prod(_fraction(a) for a in availabilities)


def parallel_availability(availabilities):
    return 1 - math.prod(1 - _fraction(a) for a in availabilities)


def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    if peak_rps <= 0 or rps_per_server <= 0 or not 0 < target_utilisation <= 1 or spares < 0:
        raise ValueError("invalid capacity parameters")
    return math.ceil(peak_rps / (rps_per_server * target_utilisation)) + spares


def collision_probability(n_items, space):
    """Birthday bound: P(any two of n uniformly random codes collide) ~ 1 - exp(-n(n-1)/2N)."""
    return -math.expm1(-n_items * (n_items - 1) / (2 * space))


def short_code_length(n_items, max_collision_probability, alphabet_size=62):
    if n_items < 1 or not 0 < max_collision_probability < 1 or alphabet_size < 2:
        raise ValueError("invalid code-length parameters")
    length = 1
    while collision_probability(n_items, alphabet_size ** length) > max_collision_probability:
        length += 1
    return length


def url_shortener_estimate(urls_per_month, read_write_ratio, bytes_per_url, years):
    writes = average_rps(urls_per_month, "month")
    reads = writes * read_write_ratio
    per_month = storage_bytes(urls_per_month, bytes_per_url, 1)
    return {"writes_per_s": writes, "reads_per_s": reads, "storage_bytes_per_month": per_month,
            "storage_bytes_total": storage_bytes(urls_per_month, bytes_per_url, 12 * years),
            "out_bytes_per_s": bandwidth(writes, reads, bytes_per_url, bytes_per_url)["out_bytes_per_s"]}


# --------------------------------------------------------------------------- seeded cases

def _log_uniform(rng, low, high):
    return float(10 ** rng.uniform(math.log10(low), math.log10(high)))


def _periods(rng, n):
    return [str(p) for p in rng.choice(list(PERIOD_SECONDS), size=n)]


def average_rps_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    cases = [{"count": round(_log_uniform(rng, 1, 1e13)), "period": p} for p in _periods(rng, n)]
    return cases + [{"count": 1000, "period": "fortnight"}, {"count": -5, "period": "day"}]


def peak_rps_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    cases = [{"count": round(_log_uniform(rng, 1, 1e13)), "period": p,
              "peak_factor": round(float(rng.uniform(1, 10)), 2)} for p in _periods(rng, n)]
    return cases + [{"count": 10, "period": "day", "peak_factor": 0.5}]


def storage_bytes_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        cases.append({"items_per_month": round(_log_uniform(rng, 1, 1e10)),
                      "bytes_per_item": int(rng.integers(1, 100_000)),
                      "months": int(rng.integers(0, 121)),
                      "replication": int(rng.integers(1, 6)),
                      "monthly_growth": round(float(rng.choice([0.0, rng.uniform(-0.05, 0.2)])), 4)})
    return cases + [{"items_per_month": 10, "bytes_per_item": 5, "months": 3, "replication": 0,
                     "monthly_growth": 0.0},
                    {"items_per_month": 10, "bytes_per_item": 5, "months": -1, "replication": 1,
                     "monthly_growth": 0.0}]


def bandwidth_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    return [{"writes_per_s": round(_log_uniform(rng, 0.1, 1e6), 3),
             "reads_per_s": round(_log_uniform(rng, 0.1, 1e7), 3),
             "bytes_per_write": int(rng.integers(1, 1_000_000)),
             "bytes_per_read": int(rng.integers(1, 1_000_000))} for _ in range(n)]


def downtime_seconds_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    nines = [0.9, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999]
    cases = [{"availability": float(rng.choice([rng.choice(nines), rng.uniform(0.5, 1.0)])), "period": p}
             for p in _periods(rng, n)]
    return cases + [{"availability": 99.9, "period": "month"}, {"availability": 0.999, "period": "week"}]


def availability_cases(seed, n=200):
    """Cases for series_availability and parallel_availability (same argument shape)."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        k = int(rng.integers(1, 7))
        cases.append({"availabilities": [round(float(a), 6) for a in rng.uniform(0.8, 0.99999, size=k)]})
    return cases + [{"availabilities": [0.99, 99.9]}]


def servers_needed_cases(seed, n=200):
    """Random cases, skipping those within 1e-6 of a whole number of servers (rounding noise)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        case = {"peak_rps": round(_log_uniform(rng, 1, 1e6), 2),
                "rps_per_server": round(_log_uniform(rng, 10, 1e4), 1),
                "target_utilisation": round(float(rng.uniform(0.3, 1.0)), 2), "spares": int(rng.integers(0, 4))}
        ratio = case["peak_rps"] / (case["rps_per_server"] * case["target_utilisation"])
        if abs(ratio - round(ratio)) > 1e-6:
            cases.append(case)
    return cases + [{"peak_rps": 100, "rps_per_server": 10, "target_utilisation": 1.5, "spares": 1}]


def _length_by(probability, n, p, alphabet):
    length = 1
    while probability(n, alphabet ** length) > p:
        length += 1
    return length


def short_code_length_cases(seed, n=200):
    """Cases where the usual birthday formulas all give the same length (any of them passes)."""
    methods = [collision_probability,
               lambda k, space: min(1.0, k * k / (2 * space)),           # union bound
               lambda k, space: -math.expm1(-k * k / (2 * space))]        # exp approximation
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        case = {"n_items": round(_log_uniform(rng, 10, 1e12)), "max_collision_probability": float(
            f"{_log_uniform(rng, 1e-9, 0.5):.3g}"), "alphabet_size": int(rng.choice([62, 62, 36, 16, 64]))}
        lengths = {_length_by(m, case["n_items"], case["max_collision_probability"], case["alphabet_size"])
                   for m in methods}
        if len(lengths) == 1:
            cases.append(case)
    return cases + [{"n_items": 100, "max_collision_probability": 0.0, "alphabet_size": 62},
                    {"n_items": 100, "max_collision_probability": 0.1, "alphabet_size": 1}]


def url_shortener_cases(seed, n=100):
    rng = np.random.default_rng(seed)
    return [{"urls_per_month": round(_log_uniform(rng, 1e4, 1e10)), "read_write_ratio": int(rng.integers(1, 1000)),
             "bytes_per_url": int(rng.integers(50, 5000)), "years": int(rng.integers(1, 11))} for _ in range(n)]
