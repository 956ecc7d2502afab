"""Module 01: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "01-requirements-estimation"

RPS, PEAK, STORAGE, BANDWIDTH = "correct_average_rps", "correct_peak_rps", "correct_storage_bytes", "correct_bandwidth"
DOWNTIME, AVAIL, SERVERS = "correct_downtime_seconds", "correct_availability_composition", "correct_servers_needed"
CODE_LENGTH, SHORTENER = "correct_short_code_length", "correct_url_shortener_estimate"

MUTANTS = {
    "month_in_minutes": Mutant(
        "average_rps", '"month": 30 * 86_400', '"month": 30 * 1440',
        frozenset({RPS, PEAK, DOWNTIME, SHORTENER}), "a month counted in minutes, not seconds (60x)"),
    "unknown_period_keyerror": Mutant(
        "average_rps", "    if period not in SECONDS_PER:\n", "    if False:\n",
        frozenset({RPS}), "unknown period raises KeyError instead of ValueError"),
    "negative_count_accepted": Mutant(
        "average_rps", "    if count < 0:\n", "    if False:\n",
        frozenset({RPS}), "no validation of negative counts (only hidden tests see it)"),
    "peak_divides": Mutant(
        "peak_rps", "* peak_factor", "/ peak_factor", frozenset({PEAK}), "peak divided by the factor"),
    "storage_no_replication": Mutant(
        "storage_bytes", "* bytes_per_item * replication", "* bytes_per_item",
        frozenset({STORAGE}), "replication ignored"),
    "storage_growth_from_month_one": Mutant(
        "storage_bytes", "(rate ** months - 1) / (rate - 1)", "rate * (rate ** months - 1) / (rate - 1)",
        frozenset({STORAGE}), "growth applied from the first month"),
    "megabits_without_bits": Mutant(
        "bandwidth", "out_bytes * 8 / 1_000_000", "out_bytes / 1_000_000",
        frozenset({BANDWIDTH}), "megabytes reported as megabits (8x)"),
    "downtime_in_minutes": Mutant(
        "downtime_seconds", "* SECONDS_PER[period]", "* SECONDS_PER[period] / 60",
        frozenset({DOWNTIME}), "minutes instead of seconds"),
    "percentage_accepted": Mutant(
        "downtime_seconds", "if not 0 <= availability <= 1:", "if availability < 0:",
        frozenset({DOWNTIME}), "99.9 accepted as an availability"),
    "parallel_multiplies_availability": Mutant(
        "availability_composition", "all_down *= 1 - a", "all_down *= a",
        frozenset({AVAIL}), "parallel computed with availabilities, not unavailabilities"),
    "servers_rounded_not_ceiled": Mutant(
        "servers_needed", "math.ceil(peak_rps / (rps_per_server * target_utilisation))",
        "round(peak_rps / (rps_per_server * target_utilisation))",
        frozenset({SERVERS}), "rounding to the nearest server instead of up"),
    "servers_ignore_utilisation": Mutant(
        "servers_needed", "(rps_per_server * target_utilisation)", "rps_per_server",
        frozenset({SERVERS}), "servers sized at 100% utilisation"),
    "code_length_linear_bound": Mutant(
        "short_code_length", "n_items * (n_items - 1) / (2 * alphabet_size ** length)",
        "n_items / alphabet_size ** length", frozenset({CODE_LENGTH}),
        "collision chance taken as n/N instead of the birthday bound"),
    "retention_in_years_not_months": Mutant(
        "url_shortener_estimate", "storage_bytes(urls_per_month, bytes_per_url, 12 * years)",
        "storage_bytes(urls_per_month, bytes_per_url, years)", frozenset({SHORTENER}),
        "retention counted in years where months were meant"),
}

# A correct solution written differently from ours: other month length (365.25 / 12 days),
# loops instead of closed forms, integer ceiling, the union bound solved for L with logarithms.
ALTERNATIVE = {
    "average_rps": '''
DAY = 24 * 60 * 60
PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": DAY, "month": 365.25 / 12 * DAY, "year": 365 * DAY}

def average_rps(count, period):
    try:
        seconds = PERIODS[period]
    except KeyError:
        raise ValueError(period) from None
    if count < 0:
        raise ValueError(count)
    return count / seconds
''',
    "peak_rps": '''
def peak_rps(count, period, peak_factor=2.0):
    if not peak_factor >= 1:
        raise ValueError(peak_factor)
    return peak_factor * average_rps(count, period)
''',
    "storage_bytes": '''
def storage_bytes(items_per_month, bytes_per_item, months, replication=1, monthly_growth=0.0):
    if replication < 1 or monthly_growth <= -1 or min(items_per_month, bytes_per_item, months) < 0:
        raise ValueError("bad input")
    total, this_month = 0.0, float(items_per_month)
    for _ in range(months):
        total += this_month
        this_month *= 1 + monthly_growth
    return total * bytes_per_item * replication
''',
    "bandwidth": '''
def bandwidth(writes_per_s, reads_per_s, bytes_per_write, bytes_per_read):
    values = (writes_per_s, reads_per_s, bytes_per_write, bytes_per_read)
    if any(v < 0 for v in values):
        raise ValueError(values)
    out = reads_per_s * bytes_per_read
    return dict(out_megabits_per_s=out / 125_000, out_bytes_per_s=out, in_bytes_per_s=writes_per_s * bytes_per_write)
''',
    "downtime_seconds": '''
import numpy as np

def downtime_seconds(availability, period):
    if availability > 1 or availability < 0 or period not in PERIODS:
        raise ValueError((availability, period))
    return np.float64(1 - availability) * PERIODS[period]   # a numpy scalar is a fine answer too
''',
    "availability_composition": '''
import math
from functools import reduce

def series_availability(availabilities):
    if any(not 0 <= a <= 1 for a in availabilities):
        raise ValueError(availabilities)
    return math.prod(availabilities)

def parallel_availability(availabilities):
    if any(not 0 <= a <= 1 for a in availabilities):
        raise ValueError(availabilities)
    return 1 - reduce(lambda acc, a: acc * (1 - a), availabilities, 1.0)
''',
    "servers_needed": '''
def servers_needed(peak_rps, rps_per_server, target_utilisation=0.7, spares=1):
    if peak_rps <= 0 or rps_per_server <= 0 or not (0 < target_utilisation <= 1) or spares < 0:
        raise ValueError("bad input")
    usable = rps_per_server * target_utilisation
    return int(-(-peak_rps // usable)) + spares
''',
    "short_code_length": '''
import math

def short_code_length(n_items, max_collision_probability, alphabet_size=62):
    if n_items < 1 or not 0 < max_collision_probability < 1 or alphabet_size < 2:
        raise ValueError("bad input")
    needed_space = n_items * n_items / (2 * max_collision_probability)   # union bound: n^2 / 2N <= p
    return max(1, math.ceil(math.log(needed_space) / math.log(alphabet_size) - 1e-12))
''',
    "url_shortener_estimate": '''
def url_shortener_estimate(urls_per_month, read_write_ratio, bytes_per_url, years):
    w = average_rps(urls_per_month, "month")
    month = urls_per_month * bytes_per_url
    return {"writes_per_s": w, "reads_per_s": w * read_write_ratio, "storage_bytes_per_month": month,
            "storage_bytes_total": month * 12 * years, "out_bytes_per_s": w * read_write_ratio * bytes_per_url}
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """negative_count_accepted passes every visible test; only the hidden cases find it."""
    assert_caught_by_hidden_tests(reports["negative_count_accepted"], RPS, "seed 1101", "count=-1", "just outside")
