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

from autograde.contracts import OMIT, Contract, Rule, at_least, at_most, boundary, edge, greater_than, less_than, \
    log_uniform, one_of

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


# --------------------------------------------------------------------------- contracts
# One per graded function: the rules each exercise states, with cases at, just inside and just outside
# every boundary, and random cases drawn from the whole stated domain (autograde.contracts).

PERIODS = list(PERIOD_SECONDS)
NOT_PERIODS = ["fortnight", "Day", "week", "months"]


def _draw_period(rng):
    return str(rng.choice(PERIODS))


def _count(rng):
    """A request count anywhere from 0 to 10^13, whole or not (a rate times a time need not be whole)."""
    value = log_uniform(rng, 1, 1e13)
    return round(value) if rng.random() < 0.7 else round(value, 3)


def _fraction_draw(rng):
    """An availability anywhere in [0, 1]: half uniform, half 'nines' (1 - 10^-k, k up to 6)."""
    if rng.random() < 0.5:
        return float(rng.uniform(0.0, 1.0))
    return 1 - 10 ** -float(rng.uniform(0.3, 6))


FRACTION_RULE = Rule(
    "every availability is a fraction in [0, 1] (a percentage such as `99.9` is a mistake), else `ValueError`",
    at=[{"availabilities": [0.0, 0.5]}, {"availabilities": [1.0, 0.9]}],
    inside=[{"availabilities": [0.001]}, {"availabilities": [0.999, 0.5]}],
    outside=[{"availabilities": [0.99, 1.001]}, {"availabilities": [-0.001]}, {"availabilities": [0.99, 99.9]}])


def _availabilities(rng):
    return {"availabilities": [round(_fraction_draw(rng), 9) for _ in range(int(rng.integers(1, 8)))]}


def _servers_case(rng):
    return {"peak_rps": round(log_uniform(rng, 0.5, 1e6), 2), "rps_per_server": round(log_uniform(rng, 1, 1e4), 1),
            "target_utilisation": round(float(rng.uniform(0.05, 1.0)), 2), "spares": int(rng.integers(0, 5))}


def _servers_unambiguous(case):
    """A whole number of servers in every order of division, or clearly not whole (over 10^-6 away):
    near a whole number, float noise decides ceil, and that is no one's mistake. The exact boundary has
    its own rule, with numbers that are exact in binary."""
    p, r, u = case["peak_rps"], case["rps_per_server"], case.get("target_utilisation", 0.7)
    ratios = {p / (r * u), p / r / u, p / u / r}
    if len(ratios | {float(p // (r * u)), float(-(-p // (r * u)))}) == 1:
        return True  # whole in every way of computing it (the boundary rule's case)
    return all(abs(x - round(x)) > 1e-6 for x in ratios)


def _length_by(probability, n, p, alphabet):
    length = 1
    while probability(n, alphabet ** length) > p:
        length += 1
    return length


CODE_LENGTH_METHODS = [collision_probability,
                       lambda k, space: min(1.0, k * k / (2 * space)),           # union bound
                       lambda k, space: -math.expm1(-k * k / (2 * space))]        # exp approximation


def _code_length_methods_agree(case):
    """The text accepts any standard form of the birthday bound: use only cases where they agree."""
    return len({_length_by(m, case["n_items"], case["max_collision_probability"],
                           case.get("alphabet_size", 62))
                for m in CODE_LENGTH_METHODS}) == 1


CONTRACTS = {c.name: c for c in [
    Contract(
        "average_rps", average_rps,
        draw=lambda rng: {"count": _count(rng), "period": _draw_period(rng)},
        domain="counts from 0 to 10^13, whole or not, and every period",
        rules=[one_of("period", PERIODS, NOT_PERIODS),
               at_least("count", 0, says="`count` >= 0, else `ValueError`")]),
    Contract(
        "peak_rps", peak_rps,
        draw=lambda rng: {"count": _count(rng), "period": _draw_period(rng),
                          "peak_factor": round(float(rng.uniform(1, 10)), 3)},
        domain="counts from 0 to 10^13, every period, peak factors from 1 to 10",
        rules=[at_least("peak_factor", 1, step=0.01),
               edge("`peak_factor` defaults to 2.0", {"peak_factor": OMIT})]),
    Contract(
        "storage_bytes", storage_bytes,
        draw=lambda rng: {"items_per_month": round(log_uniform(rng, 1, 1e10)),
                          "bytes_per_item": int(rng.integers(1, 1_000_000)), "months": int(rng.integers(0, 121)),
                          "replication": int(rng.integers(1, 6)),
                          "monthly_growth": 0.0 if rng.random() < 0.3 else round(float(rng.uniform(-0.5, 0.5)), 4)},
        domain="up to 10^10 items a month, up to 10 years, 1 to 5 replicas, growth from -50% to +50% a month",
        rules=[at_least("items_per_month", 0), at_least("bytes_per_item", 0), at_least("months", 0),
               at_least("replication", 1),
               greater_than("monthly_growth", -1, step=0.01),
               boundary("`monthly_growth` of 0 is no growth: `months` equal months",
                        at={"monthly_growth": 0.0}, inside={"monthly_growth": 0.001},
                        outside={"monthly_growth": -0.001}),
               edge("`months` = 0 stores nothing", {"months": 0}),
               edge("`replication` and `monthly_growth` default to 1 and 0.0",
                    {"replication": OMIT, "monthly_growth": OMIT})]),
    Contract(
        "bandwidth", bandwidth,
        draw=lambda rng: {"writes_per_s": round(log_uniform(rng, 0.01, 1e6), 3),
                          "reads_per_s": round(log_uniform(rng, 0.01, 1e7), 3),
                          "bytes_per_write": int(rng.integers(1, 1_000_000)),
                          "bytes_per_read": int(rng.integers(1, 1_000_000))},
        domain="rates from 0.01 to 10^7 per second, sizes up to 1 MB",
        rules=[at_least(name, 0, step=0.5, says=f"`{name}` >= 0, else `ValueError`")
               for name in ("writes_per_s", "reads_per_s", "bytes_per_write", "bytes_per_read")]),
    Contract(
        "downtime_seconds", downtime_seconds,
        draw=lambda rng: {"availability": _fraction_draw(rng), "period": _draw_period(rng)},
        domain="availabilities anywhere in [0, 1] and every period",
        rules=[Rule("`availability` is a fraction in [0, 1] (a percentage such as `99.9` is a mistake), "
                    "else `ValueError`",
                    at=[{"availability": 0.0}, {"availability": 1.0}],
                    inside=[{"availability": 0.001}, {"availability": 0.999}],
                    outside=[{"availability": -0.001}, {"availability": 1.001}, {"availability": 99.9}]),
               one_of("period", PERIODS, NOT_PERIODS)]),
    Contract(
        "series_availability", series_availability, draw=_availabilities,
        domain="1 to 7 availabilities anywhere in [0, 1]",
        rules=[FRACTION_RULE, edge("an empty list is a chain of nothing: 1.0", {"availabilities": []}),
               edge("one component is its own availability", {"availabilities": [0.97]})]),
    Contract(
        "parallel_availability", parallel_availability, draw=_availabilities,
        domain="1 to 7 availabilities anywhere in [0, 1]",
        rules=[FRACTION_RULE, edge("an empty list is a group of nothing: 0.0", {"availabilities": []}),
               edge("one component is its own availability", {"availabilities": [0.97]})]),
    Contract(
        "servers_needed", servers_needed, draw=_servers_case, accept=_servers_unambiguous,
        domain="peaks from 0.5 to 10^6 requests/s, 1 to 10^4 per server, utilisation 5% to 100%, 0 to 4 spares",
        rules=[greater_than("peak_rps", 0, step=0.01), greater_than("rps_per_server", 0, step=0.01),
               greater_than("target_utilisation", 0, step=0.01), at_most("target_utilisation", 1, step=0.01),
               at_least("spares", 0),
               boundary("a load that needs exactly k servers at the target gets k (plus spares), not k + 1",
                        at={"peak_rps": 1000, "rps_per_server": 100, "target_utilisation": 0.5},
                        inside={"peak_rps": 999, "rps_per_server": 100, "target_utilisation": 0.5},
                        outside={"peak_rps": 1001, "rps_per_server": 100, "target_utilisation": 0.5}),
               edge("`target_utilisation` and `spares` default to 0.7 and 1",
                    {"target_utilisation": OMIT, "spares": OMIT})]),
    Contract(
        "short_code_length", short_code_length,
        draw=lambda rng: {"n_items": round(log_uniform(rng, 1, 1e12)),
                          "max_collision_probability": float(f"{log_uniform(rng, 1e-9, 0.9):.3g}"),
                          "alphabet_size": int(rng.choice([2, 10, 16, 36, 62, 64, 1000]))},
        accept=_code_length_methods_agree,
        domain="1 to 10^12 codes, probabilities from 10^-9 to 0.9, alphabets of 2 to 1,000 symbols "
               "(only where the standard forms of the bound agree)",
        rules=[at_least("n_items", 1),
               greater_than("max_collision_probability", 0, step=0.001),
               less_than("max_collision_probability", 1, step=0.001),
               at_least("alphabet_size", 2),
               edge("one code never collides: length 1",
                    {"n_items": 1, "max_collision_probability": 0.5, "alphabet_size": 62}),
               edge("`alphabet_size` defaults to 62",  # cases where 61 or 63 symbols would give another length
                    {"n_items": 10_000, "max_collision_probability": 0.05, "alphabet_size": OMIT},
                    {"n_items": 10_000_000, "max_collision_probability": 1e-6, "alphabet_size": OMIT})]),
    Contract(
        "url_shortener_estimate", url_shortener_estimate,
        draw=lambda rng: {"urls_per_month": round(log_uniform(rng, 1, 1e11)),
                          "read_write_ratio": round(log_uniform(rng, 0.1, 1e4), 2),
                          "bytes_per_url": int(rng.integers(1, 100_000)), "years": int(rng.integers(1, 21))},
        domain="1 to 10^11 URLs a month, 0.1 to 10,000 reads per write, up to 100 KB a URL, 1 to 20 years",
        rules=[]),
]}
