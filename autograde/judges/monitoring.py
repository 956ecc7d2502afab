"""Property judges for 07-monitoring, shipped to students (see ``autograde.judges``).

They compare the learner's results with what is true of the recorded values (the exact
nearest-rank quantile, the number of values) or with episodes the test cell lists; none contains
a histogram, a burn-rate calculation or an alerting rule. ``alert_judge``, which runs the
reference alerting, stays in ``autograde.reference.monitoring``.
"""

from __future__ import annotations

import math

import numpy as np


def max_buckets(rel_error, values):
    """Buckets a log-bucketed histogram may use for ``values``: twice what a ratio-(1 + rel_error) grid needs, + 4."""
    if len(values) == 0:
        return 4
    lo, hi = min(values), max(values)
    return int(2 * math.log(hi / lo) / math.log1p(rel_error)) + 4


def _quantile_problem(got, values, q, rel_error, where):
    if len(values) == 0:
        return None if got is None else f"{where}: an empty histogram's quantile({q}) should be None, got {got!r}"
    if type(got) not in (int, float) or isinstance(got, bool):
        return f"{where}: quantile({q}) should be a number, got {got!r}"
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    ranks = {max(1, math.ceil(q * n - 1e-9)), max(1, math.ceil(q * n + 1e-9))}   # float noise in q*n
    truths = [float(v[min(k, n) - 1]) for k in ranks]
    if any(abs(got - t) <= rel_error * abs(t) * (1 + 1e-9) + 1e-12 for t in truths):
        return None
    return (f"{where}: quantile({q}) = {got!r} is not within {rel_error:g} (relative) of the true "
            f"nearest-rank value {truths[0]!r} of the {n} values recorded")


def histogram_judge(rel_error, hosts, quantiles):
    """A judge for ``run_histogram(cls, rel_error, hosts, quantiles)``."""
    everything = [v for h in hosts for v in h]
    first = hosts[0] if hosts else []

    def judge(result):
        if type(result) is not dict or set(result) != {"quantiles", "first_host", "count", "bucket_count"}:
            return "the driver's result is malformed (did a method return something odd?)"
        if result["count"] != len(everything):
            return f"count() of the merged histogram is {result['count']!r}; {len(everything)} values were recorded"
        for q, got in zip(quantiles, result["quantiles"]):
            problem = _quantile_problem(got, everything, q, rel_error, "merged histogram")
            if problem:
                return problem
        for q, got in zip(quantiles, result["first_host"]):
            problem = _quantile_problem(got, first, q, rel_error, "first host's histogram after the merge")
            if problem:
                return problem
        bound = max_buckets(rel_error, everything)
        if type(result["bucket_count"]) is not int or result["bucket_count"] > bound:
            return (f"bucket_count() is {result['bucket_count']!r}; a log-bucketed histogram of these values "
                    f"needs at most {bound}")
        return None

    return judge


def same_episodes(expected):
    """A judge: the result holds exactly these (rule, start, end) episodes, in any order."""
    want = sorted(tuple(e) for e in expected)

    def judge(result):
        if type(result) is not list or any(type(a) is not dict or set(a) != {"rule", "start", "end"} for a in result):
            return 'should be a list of {"rule": name, "start": minute, "end": minute} dicts'
        got = sorted((a["rule"], a["start"], a["end"]) for a in result)
        if got != want:
            missing = [e for e in want if e not in got]
            extra = [e for e in got if e not in want]
            return f"episodes differ: missing {missing}, unexpected {extra}"
        return None

    return judge


# --------------------------------------------------------------------------- contract drivers (issue 17)

def histogram_report(cls, rel_error, hosts, quantiles):
    """Run ``course.monitoring.run_histogram`` on ``cls`` and judge every answer on its own: ``"ok"`` or
    what is wrong with it, per quantile of the merged and of the first host's histogram, and for the
    bucket count; and ``count()``. A correct class gives ``"ok"`` everywhere (any bucket scheme within
    ``rel_error`` does), so a contract can compare this report with the ideal one. Exceptions propagate."""
    from course.monitoring import run_histogram

    result = run_histogram(cls, rel_error, hosts, quantiles)
    everything = [v for h in hosts for v in h]
    first = hosts[0] if hosts else []
    if type(result) is not dict or set(result) != {"quantiles", "first_host", "count", "bucket_count"}:
        return {"count": None, "quantiles": "the driver's result is malformed", "first_host": None, "bucket_count": None}
    bound = max_buckets(rel_error, everything)
    buckets = result["bucket_count"]
    return {
        "count": result["count"],
        "quantiles": [_quantile_problem(got, everything, q, rel_error, "merged histogram") or "ok"
                      for q, got in zip(quantiles, result["quantiles"])],
        "first_host": [_quantile_problem(got, first, q, rel_error, "first host's histogram after the merge") or "ok"
                       for q, got in zip(quantiles, result["first_host"])],
        "bucket_count": "ok" if type(buckets) is int and buckets <= bound else
        f"bucket_count() is {buckets!r}; a log-bucketed histogram of these values needs at most {bound}"}


def sorted_alerts(alerts, requests, bad, target, rules):
    """``alerts(requests, bad, target, rules)`` (the learner's burn_rate_alerts), its episodes sorted by
    (rule, start, end): the exercise allows any order. A result that is not a list of dicts is returned as is."""
    result = alerts(requests, bad, target, rules)
    try:
        return sorted(result, key=lambda a: (a["rule"], a["start"], a["end"]))
    except (TypeError, KeyError):
        return result
