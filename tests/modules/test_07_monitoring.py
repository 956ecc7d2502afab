"""Module 07: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "07-monitoring"

PCT, HIST, SLO = "correct_percentile", "correct_latency_histogram", "correct_slo_status"
WBR, ALERTS, ZSCORE = "correct_windowed_burn_rate", "correct_burn_rate_alerts", "correct_zscore_anomalies"

MUTANTS = {
    "percentile_unsorted": Mutant(
        "percentile", "xs = sorted(samples)", "xs = list(samples)",
        frozenset({PCT}), "forgot to sort: right on the sorted visible examples only (only hidden tests see it)"),
    "percentile_rank_n_not_n_minus_1": Mutant(
        "percentile", "h = (len(xs) - 1) * q / 100", "h = len(xs) * q / 100",
        frozenset({PCT}), "position q n instead of q (n - 1): off by a fraction of a rank, out of range at q=100"),
    "histogram_lower_edge": Mutant(
        "latency_histogram", "return 2 * self.gamma ** i / (self.gamma + 1)", "return self.gamma ** (i - 1)",
        frozenset({HIST}), "returns the bucket's lower edge: up to twice the allowed relative error"),
    "histogram_merge_overwrites": Mutant(
        "latency_histogram", "self.buckets[i] = self.buckets.get(i, 0) + c", "self.buckets[i] = c",
        frozenset({HIST}), "merge replaces a bucket's count instead of adding to it"),
    "histogram_stores_values": Mutant(
        "latency_histogram", "i = math.ceil(math.log(value) / self.log_gamma)",
        "i = math.log(value) / self.log_gamma", frozenset({HIST}),
        "no bucketing: one 'bucket' per distinct value (exact, but unbounded memory)"),
    "slo_consumed_ignores_elapsed": Mutant(
        "slo_status", "consumed = burn_rate * elapsed_days / window_days", "consumed = burn_rate",
        frozenset({SLO}), "budget consumed taken as the burn rate, ignoring how much of the window has passed"),
    "slo_budget_in_seconds": Mutant(
        "slo_status", "allowed * window_days * 24 * 60,", "allowed * window_days * 24 * 60 * 60,",
        frozenset({SLO}), "budget in seconds where minutes were asked (60x)"),
    "burn_window_one_too_long": Mutant(
        "windowed_burn_rate", "lo = max(0, t + 1 - window_minutes)", "lo = max(0, t - window_minutes)",
        frozenset({WBR, ALERTS}), "window of w + 1 minutes (off by one), which also shifts every alert"),
    "burn_nan_poisons_sums": Mutant(
        "windowed_burn_rate", "(0.0 if math.isnan(r) else r)", "r",
        frozenset({WBR, ALERTS}), "missing minutes not skipped: one NaN poisons every later window"),
    "alerts_long_window_only": Mutant(
        "burn_rate_alerts", 'firing = slow >= rule["burn_rate"] and fast >= rule["burn_rate"]',
        'firing = slow >= rule["burn_rate"]',
        frozenset({ALERTS}), "no short window: pages keep firing long after the incident ends"),
    "alerts_short_window_only": Mutant(
        "burn_rate_alerts", 'firing = slow >= rule["burn_rate"] and fast >= rule["burn_rate"]',
        'firing = fast >= rule["burn_rate"]',
        frozenset({ALERTS}), "no long window: a two-minute blip pages someone"),
    "zscore_sample_std": Mutant(
        "zscore_anomalies", "std = math.sqrt(sum((v - mean) ** 2 for v in recent) / len(recent))",
        "std = math.sqrt(sum((v - mean) ** 2 for v in recent) / (len(recent) - 1))",
        frozenset({ZSCORE}), "sample standard deviation where the contract says population"),
    "zscore_includes_current": Mutant(
        "zscore_anomalies", "values[t - window:t]", "values[t - window + 1:t + 1]",
        frozenset({ZSCORE}), "the point itself is part of its own baseline, which hides it"),
    # The six classes of issue 17 (class 5, races, does not apply: nothing in this module is concurrent).
    "histogram_accepts_nan_and_inf": Mutant(
        "latency_histogram", "if not (value > 0 and math.isfinite(value)):", "if value <= 0:",
        frozenset({HIST}), "class 1, a contract rule with no case: only value <= 0 checked, so infinity raises OverflowError (from "
        "ceil), not ValueError"),
    "burn_window_accepts_fractions": Mutant(
        "windowed_burn_rate", "if window_minutes < 1 or int(window_minutes) != window_minutes:",
        "if window_minutes < 1:", frozenset({WBR}),
        "class 1: a window of 2.5 minutes accepted (and silently truncated) where the contract says ValueError"),
    "slo_elapsed_past_window_accepted": Mutant(
        "slo_status", "if window_days <= 0 or not 0 <= elapsed_days <= window_days:",
        "if window_days <= 0 or elapsed_days < 0:", frozenset({SLO}),
        "class 1: elapsed_days beyond the window accepted"),
    "alerts_strict_threshold": Mutant(
        "burn_rate_alerts", 'firing = slow >= rule["burn_rate"] and fast >= rule["burn_rate"]',
        'firing = slow > rule["burn_rate"] and fast > rule["burn_rate"]', frozenset({ALERTS}),
        "class 2, exact boundary: a burn rate exactly at the threshold does not fire (the text says >=)"),
    "zscore_flags_at_threshold": Mutant(
        "zscore_anomalies", "if std > 0 and abs(x - mean) > threshold * std:",
        "if std > 0 and abs(x - mean) >= threshold * std:", frozenset({ZSCORE}),
        "class 2: a point exactly threshold deviations away is flagged (the text says strictly more)"),
    "percentile_sorted_as_text": Mutant(
        "percentile", "xs = sorted(samples)", "xs = sorted(samples, key=str)", frozenset({PCT}),
        "class 3, a corner of the domain: sorting as text is right for fewer than 10 one-digit samples only"),
    "histogram_fixed_one_percent": Mutant(
        "latency_histogram", "self.gamma = (1 + rel_error) / (1 - rel_error)", "self.gamma = 1.01 / 0.99",
        frozenset({HIST}), "class 3: rel_error ignored, right only for the 1% of the visible tests"),
    "percentile_sorts_in_place": Mutant(
        "percentile", "xs = sorted(samples)", "samples.sort()\n    xs = samples", frozenset({PCT}),
        "class 4, a state rule: the caller's list is sorted in place (the text says leave arguments unchanged)"),
    "histogram_upper_edge": Mutant(
        "latency_histogram", "return 2 * self.gamma ** i / (self.gamma + 1)", "return self.gamma ** i",
        frozenset({HIST}), "class 6, a tolerance near the gap: the bucket's upper edge is off by up to 2 rel_error, "
        "which only values near a bucket's lower edge show"),
}

# A correct solution written differently from ours: numpy throughout, HdrHistogram-style linear
# sub-buckets within powers of two instead of a geometric grid, alert episodes in rule order
# rather than sorted by start, days left computed as window / burn - elapsed.
ALTERNATIVE = {
    "percentile": '''
import numpy as np

def percentile(samples, q):
    x = np.sort(np.asarray(samples, dtype=float))
    if x.size == 0 or q < 0 or q > 100:
        raise ValueError((len(x), q))
    pos = q / 100 * (x.size - 1)
    below = int(np.floor(pos))
    above = int(np.ceil(pos))
    w = pos - below
    return (1 - w) * x[below] + w * x[above]
''',
    "latency_histogram": '''
import math
from collections import Counter

class LatencyHistogram:
    def __init__(self, rel_error=0.01):
        if rel_error <= 0 or rel_error >= 1:
            raise ValueError(rel_error)
        self.rel_error = rel_error
        self.sub = math.ceil(1 / (2 * rel_error))     # linear sub-buckets per power of two
        self.counts = Counter()

    def record(self, value):
        if not value > 0 or value == float("inf"):
            raise ValueError(value)
        m, e = math.frexp(value)                     # value = m * 2**e, 0.5 <= m < 1
        self.counts[(e, min(self.sub - 1, int((2 * m - 1) * self.sub)))] += 1

    def merge(self, other):
        if other.rel_error != self.rel_error:
            raise ValueError("rel_error differs")
        self.counts.update(other.counts)

    def quantile(self, q):
        if q < 0 or q > 1:
            raise ValueError(q)
        n = self.count()
        if n == 0:
            return None
        rank, seen = max(1, math.ceil(q * n)), 0
        for (e, s) in sorted(self.counts):
            seen += self.counts[(e, s)]
            if seen >= rank:
                low = 2.0 ** (e - 1)
                return low * (1 + (s + 0.5) / self.sub)

    def count(self):
        return sum(self.counts.values())

    def bucket_count(self):
        return sum(1 for c in self.counts.values() if c > 0)
''',
    "slo_status": '''
def slo_status(target, window_days, elapsed_days, requests, errors):
    if target <= 0 or target >= 1 or window_days <= 0 or elapsed_days < 0 or elapsed_days > window_days:
        raise ValueError("bad SLO parameters")
    if errors < 0 or errors > requests:
        raise ValueError("bad counts")
    budget = 1 - target
    burn = 0.0 if requests == 0 else errors / (requests * budget)
    used = elapsed_days * burn / window_days
    left = None if burn == 0 else max(0.0, window_days / burn - elapsed_days)
    return dict(days_left=left, budget_remaining=1 - used, budget_consumed=used, burn_rate=burn,
                budget_minutes=budget * window_days * 1440)
''',
    "windowed_burn_rate": '''
import numpy as np

def windowed_burn_rate(requests, bad, window_minutes, target):
    if len(requests) != len(bad) or not (0 < target < 1) or window_minutes < 1 or window_minutes % 1:
        raise ValueError("bad arguments")
    r = np.nan_to_num(np.array(requests, dtype=float))
    b = np.nan_to_num(np.array(bad, dtype=float))
    w = int(window_minutes)
    cr = np.concatenate([[0.0], r.cumsum()])
    cb = np.concatenate([[0.0], b.cumsum()])
    end = np.arange(1, len(r) + 1)
    start = np.maximum(0, end - w)
    total, failed = cr[end] - cr[start], cb[end] - cb[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        burn = np.where(total > 0, failed / total / (1 - target), 0.0)
    return burn.tolist()
''',
    "burn_rate_alerts": '''
import numpy as np

def burn_rate_alerts(requests, bad, target, rules):
    out = []
    for rule in rules:
        hot = ((np.array(windowed_burn_rate(requests, bad, rule["long_minutes"], target)) >= rule["burn_rate"])
               & (np.array(windowed_burn_rate(requests, bad, rule["short_minutes"], target)) >= rule["burn_rate"]))
        edges = np.flatnonzero(np.diff(np.concatenate([[0], hot.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            out.append({"end": int(b) - 1, "start": int(a), "rule": rule["name"]})
    return out
''',
    "zscore_anomalies": '''
import numpy as np

def zscore_anomalies(values, window, threshold):
    if window < 2 or window != int(window) or threshold <= 0:
        raise ValueError("bad arguments")
    v = np.asarray(values, dtype=float)
    found = []
    for t in range(int(window), len(v)):
        past = v[t - int(window):t]
        past = past[~np.isnan(past)]
        if np.isnan(v[t]) or past.size < 2:
            continue
        s = past.std()
        if s > 0 and abs(v[t] - past.mean()) / s > threshold:
            found.append(t)
    return found
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """percentile_unsorted passes every visible test (their samples are sorted); only hidden cases find it."""
    assert_caught_by_hidden_tests(reports["percentile_unsorted"], PCT, "seed 711", "case")
