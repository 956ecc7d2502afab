"""Reference answers, seeded hidden-test cases and judges for 07-monitoring.

Written independently of the solution notebook (CI checks that the two agree: the solution must
score full marks). Every ``*_cases(seed, n)`` draws from ``numpy.random.default_rng(seed)`` only and
returns plain keyword-argument dicts; a case for which the reference raises ValueError expects the
learner's function to raise ValueError too. Judges receive the learner's result as plain data; the
ones that contain no answer (``histogram_judge``, ``same_episodes``) are in
``autograde.judges.monitoring``, shipped to students and imported by the test cells themselves.

Conventions stated in the notebook:
- percentiles: q in [0, 100], numpy's default "linear" method (Hyndman and Fan's type 7);
- histogram quantiles: q in [0, 1]; the true value is the nearest-rank one, rank max(1, ceil(q n))
  (numpy's "inverted_cdf"); an answer passes within ``rel_error`` of it;
- burn rate: (bad / requests over the window) / (1 - target); a window at minute t covers minutes
  t - w + 1 .. t that exist; missing minutes (NaN) count as no requests; a window without requests burns 0;
- a rule fires at minute t when both its long- and short-window burn rates are >= its threshold;
- z-score: the ``window`` values before t (NaNs dropped, at least 2 left), population standard
  deviation, flagged when |x - mean| > threshold * std; never flagged when std is 0 or x is NaN.
"""

from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------------------- percentiles

def percentile(samples, q):
    if len(samples) == 0:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError("q must be in [0, 100]")
    return float(np.percentile(np.asarray(samples, dtype=float), q, method="linear"))


def _heavy_sample(rng, size):
    kind = rng.choice(["lognormal", "pareto", "exponential", "normal", "uniform", "ints", "mixture"])
    if kind == "lognormal":
        x = rng.lognormal(rng.uniform(0, 5), rng.uniform(0.3, 2.5), size)
    elif kind == "pareto":
        x = (rng.pareto(rng.uniform(1.05, 3.0), size) + 1) * rng.uniform(0.5, 50)
    elif kind == "exponential":
        x = rng.exponential(rng.uniform(1, 100), size)
    elif kind == "normal":
        x = rng.normal(rng.uniform(-50, 50), rng.uniform(0.1, 20), size)
    elif kind == "uniform":
        x = rng.uniform(0, rng.uniform(1, 1000), size)
    elif kind == "ints":
        x = rng.integers(1, int(rng.integers(2, 20)), size).astype(float)   # many ties
    else:  # a fast majority and a slow minority (a bimodal service)
        slow = rng.random(size) < rng.uniform(0.01, 0.2)
        x = np.where(slow, rng.lognormal(6, 0.5, size), rng.lognormal(3, 0.4, size))
    return np.minimum(x, 1e9)


def percentile_cases(seed, n=150):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        size = int(rng.choice([1, 2, 3, int(rng.integers(4, 50)), int(rng.integers(50, 2000))]))
        q = float(rng.choice([0.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0, round(float(rng.uniform(0, 100)), 3)]))
        cases.append({"samples": [float(v) for v in _heavy_sample(rng, size)], "q": q})
    return cases + [{"samples": [], "q": 50.0}, {"samples": [1.0, 2.0], "q": -1.0},
                    {"samples": [1.0, 2.0], "q": 100.5}]


# --------------------------------------------------------------------------- histogram

def nearest_rank(values, q):
    """The value of rank max(1, ceil(q n)) in sorted order (q in [0, 1])."""
    v = np.sort(np.asarray(values, dtype=float))
    k = max(1, math.ceil(q * len(v)))
    return float(v[k - 1])


def histogram_cases(seed, n=30):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        hosts = []
        for _ in range(int(rng.integers(1, 5))):
            size = int(rng.choice([0, int(rng.integers(1, 30)), int(rng.integers(30, 1200))], p=[0.1, 0.3, 0.6]))
            hosts.append([float(v) for v in np.clip(np.abs(_heavy_sample(rng, size)), 1e-3, 1e7)])
        quantiles = [0.0, 0.5, 0.9, 0.99, 0.999, 1.0, round(float(rng.uniform(0, 1)), 4)]
        cases.append({"rel_error": float(rng.choice([0.005, 0.01, 0.02, 0.05])), "hosts": hosts, "quantiles": quantiles})
    return cases


# --------------------------------------------------------------------------- SLO arithmetic

def slo_status(target, window_days, elapsed_days, requests, errors):
    if not 0 < target < 1:
        raise ValueError("target must be a fraction in (0, 1)")
    if window_days <= 0 or not 0 <= elapsed_days <= window_days:
        raise ValueError("need window_days > 0 and 0 <= elapsed_days <= window_days")
    if requests < 0 or errors < 0 or errors > requests:
        raise ValueError("need 0 <= errors <= requests")
    budget = 1 - target
    burn = errors / requests / budget if requests else 0.0
    consumed = burn * elapsed_days / window_days
    remaining = 1 - consumed
    if burn == 0:
        days_left = None
    else:
        days_left = max(0.0, remaining) * window_days / burn
    return {"budget_minutes": budget * window_days * 1440, "burn_rate": burn, "budget_consumed": consumed,
            "budget_remaining": remaining, "days_left": days_left}


def slo_status_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        target = float(rng.choice([0.9, 0.99, 0.995, 0.999, 0.9995, 0.9999, round(float(rng.uniform(0.5, 0.99999)), 5)]))
        window = int(rng.choice([1, 7, 28, 30, 90]))
        elapsed = round(float(rng.uniform(0, window)), 3)
        requests = int(rng.choice([0, int(10 ** rng.uniform(0, 10))], p=[0.05, 0.95]))
        errors = min(requests, int(requests * (1 - target) * rng.choice([0, rng.uniform(0, 5), rng.uniform(5, 100)])))
        cases.append({"target": target, "window_days": window, "elapsed_days": elapsed,
                      "requests": requests, "errors": errors})
    bad = [(99.9, 30, 10, 100, 1), (0.999, 30, 31, 100, 1), (0.999, 30, 10, 100, 101), (0.999, 0, 0, 1, 0),
           (1.0, 30, 1, 10, 0), (0.999, 30, 10, 100, -1)]
    return cases + [dict(zip(("target", "window_days", "elapsed_days", "requests", "errors"), b)) for b in bad]


# --------------------------------------------------------------------------- windowed burn rate

def windowed_burn_rate(requests, bad, window_minutes, target):
    if len(requests) != len(bad):
        raise ValueError("requests and bad must have the same length")
    if int(window_minutes) != window_minutes or window_minutes < 1:
        raise ValueError("window_minutes must be a whole number >= 1")
    if not 0 < target < 1:
        raise ValueError("target must be a fraction in (0, 1)")
    r = np.nan_to_num(np.asarray(requests, dtype=float), nan=0.0)
    b = np.nan_to_num(np.asarray(bad, dtype=float), nan=0.0)
    cr, cb = np.concatenate([[0.0], np.cumsum(r)]), np.concatenate([[0.0], np.cumsum(b)])
    out = []
    for t in range(len(r)):
        lo = max(0, t - int(window_minutes) + 1)
        total, errs = cr[t + 1] - cr[lo], cb[t + 1] - cb[lo]
        out.append(float(errs / total / (1 - target)) if total > 0 else 0.0)
    return out


def _traffic(rng, minutes, mean):
    t = np.arange(minutes)
    shape = 1 + rng.uniform(0.2, 0.7) * np.cos(2 * np.pi * (t / 1440 - rng.uniform(0, 1)))
    return rng.poisson(mean * shape).astype(float)


def windowed_burn_rate_cases(seed, n=60):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        minutes = int(rng.choice([0, 1, int(rng.integers(2, 30)), int(rng.integers(30, 400))], p=[0.03, 0.03, 0.24, 0.7]))
        target = float(rng.choice([0.9, 0.99, 0.999, 0.9995]))
        req = _traffic(rng, minutes, float(rng.choice([0.5, 5, 50, 2000])))
        bad = rng.binomial(req.astype(int), np.minimum(1.0, (1 - target) * rng.uniform(0, 20, minutes))).astype(float)
        if minutes > 5 and rng.random() < 0.5:      # missing data: a run of NaN minutes
            a = int(rng.integers(0, minutes - 2))
            b = int(rng.integers(a + 1, min(minutes, a + 40)))
            req[a:b] = np.nan
            bad[a:b] = np.nan
        if minutes > 5 and rng.random() < 0.3:      # an idle stretch: zero requests
            a = int(rng.integers(0, minutes - 2))
            req[a:a + 20] = 0.0
            bad[a:a + 20] = 0.0
        window = int(rng.choice([1, 5, 30, 60, int(rng.integers(1, 500))]))
        cases.append({"requests": [float(x) for x in req], "bad": [float(x) for x in bad],
                      "window_minutes": window, "target": target})
    return cases + [{"requests": [1.0, 2.0], "bad": [0.0, 0.0], "window_minutes": 0, "target": 0.999},
                    {"requests": [1.0, 2.0], "bad": [0.0], "window_minutes": 5, "target": 0.999},
                    {"requests": [1.0, 2.0], "bad": [0.0, 0.0], "window_minutes": 5, "target": 99.9}]


# --------------------------------------------------------------------------- multiwindow alerts

SRE_RULES = [
    {"name": "page-1h", "long_minutes": 60, "short_minutes": 5, "burn_rate": 14.4, "severity": "page"},
    {"name": "page-6h", "long_minutes": 360, "short_minutes": 30, "burn_rate": 6.0, "severity": "page"},
    {"name": "ticket-3d", "long_minutes": 4320, "short_minutes": 360, "burn_rate": 1.0, "severity": "ticket"},
]


def _runs(mask):
    padded = np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def burn_rate_alerts(requests, bad, target, rules):
    alerts = []
    for order, rule in enumerate(rules):
        long_ = np.asarray(windowed_burn_rate(requests, bad, rule["long_minutes"], target))
        short = np.asarray(windowed_burn_rate(requests, bad, rule["short_minutes"], target))
        fire = (long_ >= rule["burn_rate"]) & (short >= rule["burn_rate"])
        alerts += [(a, order, {"rule": rule["name"], "start": a, "end": b}) for a, b in _runs(fire)]
    return [a for _, _, a in sorted(alerts, key=lambda x: (x[0], x[1]))]


def _incident_metrics(alerts, rules, incidents, grace=60):
    """Per incident: first page delay, last page end after the incident, first ticket delay; and false pages."""
    severity = {r["name"]: r["severity"] for r in rules}
    pages = [a for a in alerts if severity.get(a["rule"]) == "page"]
    tickets = [a for a in alerts if severity.get(a["rule"]) == "ticket"]
    rows, explained = [], set()
    for inc in incidents:
        s, e = inc["start"], inc["end"]
        hit = [i for i, a in enumerate(pages) if s <= a["start"] < e + grace]
        explained.update(hit)
        thit = [a for a in tickets if s <= a["start"] < e + 6 * grace]
        rows.append({"name": inc["name"],
                     "page_delay": min(pages[i]["start"] for i in hit) - s if hit else None,
                     "page_reset": max(pages[i]["end"] for i in hit) - e if hit else None,
                     "ticket_delay": min(a["start"] for a in thit) - s if thit else None})
    false_pages = [pages[i] for i in range(len(pages)) if i not in explained]
    return rows, false_pages


def alert_judge(requests, bad, target, rules, incidents, tolerance=3):
    """A judge for burn_rate_alerts on an incident log: detection time, reset time and false pages
    must match the reference within ``tolerance`` minutes (tickets within 2 * tolerance)."""
    ref_rows, ref_false = _incident_metrics(burn_rate_alerts(requests, bad, target, rules), rules, incidents)
    names = {r["name"] for r in rules}

    def close(got, want, tol):
        return (got is None) == (want is None) and (got is None or abs(got - want) <= tol)

    def say(v):
        return "never" if v is None else f"{v} min"

    def judge(result):
        if type(result) is not list or any(type(a) is not dict or set(a) != {"rule", "start", "end"} for a in result):
            return 'should be a list of {"rule": name, "start": minute, "end": minute} dicts'
        for a in result:
            if a["rule"] not in names or type(a["start"]) is not int or type(a["end"]) is not int or a["start"] > a["end"]:
                return f"malformed alert episode {a!r} (rule must be a rule's name, start <= end, whole minutes)"
        rows, false_pages = _incident_metrics(result, rules, incidents)
        if len(false_pages) > len(ref_false):
            return (f"{len(false_pages)} false page(s), e.g. {false_pages[0]!r}: a page that starts outside every "
                    f"incident (+60 min); the rules page {len(ref_false)} time(s) outside incidents here")
        for got, want, inc in zip(rows, ref_rows, incidents):
            where = f"incident {inc['name']!r} (minutes {inc['start']}-{inc['end']})"
            if not close(got["page_delay"], want["page_delay"], tolerance):
                return f"{where}: first page after {say(got['page_delay'])}; the rules page after {say(want['page_delay'])}"
            if not close(got["page_reset"], want["page_reset"], tolerance):
                return (f"{where}: pages stop {say(got['page_reset'])} after it ends; the rules stop "
                        f"{say(want['page_reset'])} after (the short window is what resets an alert)")
            if not close(got["ticket_delay"], want["ticket_delay"], 2 * tolerance):
                return f"{where}: first ticket after {say(got['ticket_delay'])}; the rules open one after {say(want['ticket_delay'])}"
        return None

    return judge


def _incident_log(rng, minutes, target):
    budget = 1 - target
    req = _traffic(rng, minutes, float(rng.uniform(200, 3000)))
    p = np.full(minutes, budget * rng.uniform(0.05, 0.3))
    incidents, t = [], int(rng.integers(300, 900))
    kinds = list(rng.permutation(["fast", "medium", "blip", "slow", "gap", "fast"]))
    nan = np.zeros(minutes, dtype=bool)
    for kind in kinds:
        if kind == "fast":
            length, level = int(rng.integers(8, 46)), min(0.9, budget * rng.uniform(30, 200))
        elif kind == "medium":
            length, level = int(rng.integers(300, 481)), budget * rng.uniform(8, 12)
        elif kind == "blip":
            length, level = int(rng.integers(1, 3)), min(0.5, budget * rng.uniform(20, 60))
        elif kind == "slow":
            length, level = int(rng.integers(1440, 2161)), budget * rng.uniform(3, 5)
        else:
            length, level = int(rng.integers(10, 91)), 0.0
        if t + length + 60 >= minutes:
            continue
        if kind == "slow":
            p[t:t + length] = np.linspace(p[t], level, length)
        elif kind == "gap":
            nan[t:t + length] = True
        else:
            p[t:t + length] = level
        incidents.append({"name": f"{kind} #{len(incidents)}", "start": t, "end": t + length})
        t += length + int(rng.integers(480, 900))
    bad = rng.binomial(req.astype(int), np.minimum(p, 1.0)).astype(float)
    req[nan], bad[nan] = np.nan, np.nan
    return [float(x) for x in req], [float(x) for x in bad], incidents


def alert_cases(seed, n=8, minutes=7200):
    """Hidden incident logs: (args for burn_rate_alerts, incidents for the judge). Logs on which the
    reference itself pages outside an incident are skipped, so a correct answer has no false page."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        target = float(rng.choice([0.999, 0.995, 0.99, 0.9995]))
        req, bad, incidents = _incident_log(rng, minutes, target)
        args = {"requests": req, "bad": bad, "target": target, "rules": SRE_RULES}
        _, false_pages = _incident_metrics(burn_rate_alerts(req, bad, target, SRE_RULES), SRE_RULES, incidents)
        if not false_pages:
            cases.append((args, incidents))
    return cases


# --------------------------------------------------------------------------- z-score anomalies

def _zscores(values, window):
    v = np.asarray(values, dtype=float)
    out = []
    for t in range(len(v)):
        if t < window or math.isnan(v[t]):
            out.append(None)
            continue
        prev = v[t - window:t]
        prev = prev[~np.isnan(prev)]
        if len(prev) < 2:
            out.append(None)
            continue
        mean, std = prev.mean(), prev.std()
        out.append(None if std == 0 else (abs(v[t] - mean), std))
    return out


def zscore_anomalies(values, window, threshold):
    if int(window) != window or window < 2:
        raise ValueError("window must be a whole number >= 2")
    if threshold <= 0:
        raise ValueError("threshold must be > 0")
    return [t for t, z in enumerate(_zscores(values, int(window))) if z is not None and z[0] > threshold * z[1]]


def zscore_cases(seed, n=80):
    """Random series; a series where some |z| is within 1e-6 of the threshold is skipped (rounding)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        length = int(rng.choice([0, 3, int(rng.integers(5, 60)), int(rng.integers(60, 500))], p=[0.03, 0.03, 0.3, 0.64]))
        t = np.arange(length)
        v = (rng.uniform(10, 100) * (1 + 0.3 * np.sin(2 * np.pi * t / rng.uniform(50, 300)))
             + rng.standard_t(rng.uniform(2, 10), length) * rng.uniform(0.5, 5))
        for _ in range(int(rng.integers(0, 4))):          # spikes and level shifts
            if length > 10:
                a = int(rng.integers(0, length - 1))
                v[a:a + int(rng.integers(1, 15))] += rng.choice([-1, 1]) * rng.uniform(5, 60)
        if length > 10 and rng.random() < 0.4:             # missing data
            a = int(rng.integers(0, length - 1))
            v[a:a + int(rng.integers(1, 30))] = np.nan
        v = np.round(v, 3)
        window, threshold = int(rng.integers(2, 40)), round(float(rng.uniform(1.5, 5)), 2)
        zs = [z for z in _zscores(v, window) if z is not None]
        if any(abs(d - threshold * s) <= 1e-6 * max(d, 1e-9) for d, s in zs):
            continue
        cases.append({"values": [float(x) for x in v], "window": window, "threshold": threshold})
    flat = [5.0] * 30 + [7.0] + [5.0] * 5 + [float("nan")] * 3 + [50.0]
    return cases + [{"values": flat, "window": 10, "threshold": 3.0},
                    {"values": [1.0, 2.0, 3.0], "window": 1, "threshold": 3.0},
                    {"values": [1.0, 2.0, 3.0], "window": 5, "threshold": 0.0}]


# --------------------------------------------------------------------------- contracts (issue 17)
#
# One table per graded function or class: the rules each exercise states, with cases at, just
# inside and just outside every boundary, and random cases over the whole domain. The exercise text
# shows each table's block (``python -m autograde contracts 07-monitoring --write``).

from autograde.contracts import Contract, Rule, boundary, edge, greater_than, less_than, log_uniform  # noqa: E402

NAN, INF = float("nan"), float("inf")


def _size(rng) -> int:
    """1, 2, 3, a few, or many (10+ so that anything sorted as text is wrong)."""
    return int(rng.choice([1, 2, 3, int(rng.integers(4, 50)), int(rng.integers(50, 2000))]))


def _percentile_draw(rng) -> dict:
    samples = [float(v) for v in _heavy_sample(rng, _size(rng))]
    if rng.random() < 0.2:
        samples = [int(v) for v in samples]                 # ints are numbers too
    q = float(rng.choice([0.0, 50.0, 90.0, 99.0, 99.9, 100.0, round(float(rng.uniform(0, 100)), 3),
                          float(rng.uniform(0, 100))]))
    return {"samples": samples, "q": q}


def _histogram_draw(rng) -> dict:
    hosts = []
    for _ in range(int(rng.integers(1, 5))):
        size = int(rng.choice([0, int(rng.integers(1, 30)), int(rng.integers(30, 400))], p=[0.1, 0.4, 0.5]))
        hosts.append([float(v) for v in np.clip(np.abs(_heavy_sample(rng, size)), 1e-3, 1e7)])
    quantiles = [0.0, 0.5, 0.99, 1.0, round(float(rng.uniform(0, 1)), 4), float(rng.uniform(0, 1))]
    rel_error = float(rng.choice([0.005, 0.01, 0.02, 0.05, round(log_uniform(rng, 0.001, 0.2), 4)]))
    return {"rel_error": rel_error, "hosts": hosts, "quantiles": quantiles}


def histogram_reference(cls, rel_error, hosts, quantiles):
    """What ``autograde.judges.monitoring.histogram_report`` gives for a correct class (``cls`` unused):
    every quantile and the bucket count "ok", and the number of values; ValueError where the class must raise."""
    if not 0 < rel_error < 1:
        raise ValueError("rel_error must be in (0, 1)")
    for values in hosts:
        for v in values:
            if not (v > 0 and math.isfinite(v)):
                raise ValueError("values must be positive and finite")
    for q in quantiles:
        if not 0 <= q <= 1:
            raise ValueError("q must be in [0, 1]")
    ok = ["ok"] * len(quantiles)
    return {"count": sum(len(h) for h in hosts), "quantiles": ok, "first_host": list(ok), "bucket_count": "ok"}


def _slo_draw(rng) -> dict:
    target = float(rng.choice([0.9, 0.99, 0.995, 0.999, 0.9995, 0.9999, round(float(rng.uniform(0.01, 0.99999)), 5)]))
    window = rng.choice([int(rng.choice([1, 7, 28, 30, 90])), round(float(rng.uniform(0.01, 365)), 3)])
    window = window.item() if hasattr(window, "item") else window
    elapsed = float(rng.choice([0.0, window, round(float(rng.uniform(0, window)), 3)]))
    requests = int(rng.choice([0, int(10 ** rng.uniform(0, 10))], p=[0.05, 0.95]))
    errors = min(requests, int(requests * (1 - target) * rng.choice([0, rng.uniform(0, 1), rng.uniform(1, 5),
                                                                     rng.uniform(5, 1000)])))
    return {"target": target, "window_days": window, "elapsed_days": min(elapsed, window),
            "requests": requests, "errors": errors}


def _burn_draw(rng) -> dict:
    case = windowed_burn_rate_cases(int(rng.integers(0, 2**31)), n=1)[0]
    case["target"] = float(rng.choice([0.9, 0.99, 0.999, 0.9995, round(float(rng.uniform(0.01, 0.9999)), 4)]))
    if rng.random() < 0.2:
        case["window_minutes"] = float(case["window_minutes"])       # a whole number as a float is allowed
    return case


def _near_threshold(requests, bad, target, rules) -> bool:
    for rule in rules:
        for w in (rule["long_minutes"], rule["short_minutes"]):
            burn = np.asarray(windowed_burn_rate(requests, bad, w, target))
            if np.any(np.abs(burn - rule["burn_rate"]) <= 1e-9 * rule["burn_rate"]):
                return True
    return False


def _random_rules(rng) -> list:
    if rng.random() < 0.4:
        return [dict(r) for r in SRE_RULES]
    rules = []
    for k in range(int(rng.integers(0, 4))):
        long_ = int(rng.integers(2, 721))
        rules.append({"name": f"rule-{k}", "long_minutes": long_, "short_minutes": int(rng.integers(1, long_ + 1)),
                      "burn_rate": round(log_uniform(rng, 0.5, 50), 2),
                      "severity": str(rng.choice(["page", "ticket"]))})
    return rules


def _alerts_draw(rng) -> dict:
    while True:
        target = float(rng.choice([0.999, 0.995, 0.99, 0.9995, round(float(rng.uniform(0.9, 0.9999)), 4)]))
        minutes = int(rng.choice([int(rng.integers(0, 60)), int(rng.integers(60, 1500)), int(rng.integers(1500, 6000))]))
        if minutes >= 1500 and rng.random() < 0.6:
            req, bad, _ = _incident_log(rng, minutes, target)
        else:
            case = windowed_burn_rate_cases(int(rng.integers(0, 2**31)), n=1)[0]
            req, bad = case["requests"], case["bad"]
        rules = _random_rules(rng)
        if not _near_threshold(req, bad, target, rules):     # no burn rate within 1e-9 of a threshold (rounding)
            return {"requests": req, "bad": bad, "target": target, "rules": rules}


def alerts_reference(alerts, requests, bad, target, rules):
    """The episodes of ``burn_rate_alerts``, sorted by (rule, start) as
    ``autograde.judges.monitoring.sorted_alerts`` sorts the learner's (``alerts`` unused)."""
    return sorted(burn_rate_alerts(requests, bad, target, rules), key=lambda a: (a["rule"], a["start"], a["end"]))


def _zscore_draw(rng) -> dict:
    while True:
        case = zscore_cases(int(rng.integers(0, 2**31)), n=1)[0]
        case["window"] = int(rng.choice([2, 3, case["window"], int(rng.integers(40, 200))]))
        case["threshold"] = float(rng.choice([case["threshold"], round(float(rng.uniform(0.1, 1.5)), 2),
                                              round(float(rng.uniform(5, 20)), 1)]))
        if rng.random() < 0.2:
            case["window"] = float(case["window"])
        zs = [z for z in _zscores(case["values"], int(case["window"])) if z is not None]
        if not any(abs(d - case["threshold"] * s) <= 1e-6 * max(d, 1e-9) for d, s in zs):
            return case


_TARGET_RULES = [greater_than("target", 0, step=0.001), less_than("target", 1, step=0.001),
                 Rule("a percentage such as `99.9` is not a target, else `ValueError`",
                      at={"target": 0.999}, inside={"target": 0.5}, outside={"target": 99.9})]
_R7 = [100.0] * 7

CONTRACTS = {c.name: c for c in [
    Contract(
        "percentile", percentile, draw=_percentile_draw,
        domain="1 to 2,000 samples, ints or floats, heavy-tailed, with ties, in any order; q anywhere in [0, 100]",
        rules=[Rule("`samples` is a non-empty list, else `ValueError`",
                    at={"samples": [7.5]}, inside={"samples": [7.5, 1.0]}, outside={"samples": []}),
               Rule("`q` is in [0, 100], else `ValueError`",
                    at=[{"q": 0.0}, {"q": 100.0}], inside=[{"q": 0.001}, {"q": 99.999}],
                    outside=[{"q": -0.001}, {"q": 100.001}]),
               boundary("where (n - 1) q / 100 is a whole number h, the percentile is exactly x_h",
                        at={"samples": [50.0, 10.0, 40.0, 20.0, 30.0], "q": 25.0},
                        inside={"samples": [50.0, 10.0, 40.0, 20.0, 30.0], "q": 25.001},
                        outside={"samples": [50.0, 10.0, 40.0, 20.0, 30.0], "q": 24.999}),
               edge("one sample is every percentile of itself", {"samples": [3.0], "q": 37.0}),
               edge("ties: equal samples", {"samples": [2.0, 2.0, 2.0, 1.0, 2.0, 9.0, 2.0, 2.0, 2.0, 2.0, 2.0]}),
               edge("samples in any order (10+ of them, descending)",
                    {"samples": [float(v) for v in range(120, 0, -1)], "q": 90.0})]),
    Contract(
        "LatencyHistogram", histogram_reference, draw=_histogram_draw, supplied=("cls",),
        domain="1 to 4 hosts of 0 to 400 values from 0.001 to 10^7 ms, rel_error from 0.001 to 0.2, "
               "quantiles anywhere in [0, 1]; driven by `course.monitoring.run_histogram`",
        rules=[Rule("`rel_error` is in (0, 1), else `ValueError`",
                    at=[{"rel_error": 0.0}, {"rel_error": 1.0}], inside=[{"rel_error": 0.001}, {"rel_error": 0.5}],
                    outside=[{"rel_error": -0.01}, {"rel_error": 1.5}], at_allowed=False),
               Rule("`record(value)` takes a value > 0 and finite, else `ValueError`",
                    at={"hosts": [[5.0, 0.0]]}, inside={"hosts": [[5.0, 1e-6]]},
                    outside=[{"hosts": [[5.0, -1e-6]]}, {"hosts": [[5.0, NAN]]}, {"hosts": [[5.0, INF]]}],
                    at_allowed=False),
               Rule("`quantile(q)` takes q in [0, 1], else `ValueError`",
                    at={"quantiles": [0.0, 1.0]}, inside={"quantiles": [0.001, 0.999]},
                    outside=[{"quantiles": [-0.001]}, {"quantiles": [1.001]}, {"quantiles": [99.0]}]),
               edge("nothing recorded: `quantile(q)` is None and `count()` 0", {"hosts": [[]], "quantiles": [0.5, 1.0]}),
               edge("one value is every quantile of itself", {"hosts": [[42.0]]}),
               edge("ties: one value many times", {"hosts": [[3.0] * 50, [3.0] * 7]}),
               edge("values from 0.001 ms to 10^7 ms in one histogram", {"hosts": [[0.001, 1.0, 1e7], [5e6]]})]),
    Contract(
        "slo_status", slo_status, draw=_slo_draw,
        domain="targets from 0.01 to 0.99999, windows from 0.01 to 365 days, 0 to 10^10 requests, error rates from "
               "0 to the whole traffic",
        rules=[*_TARGET_RULES,
               Rule("`window_days` > 0, else `ValueError`", at={"window_days": 0, "elapsed_days": 0.0},
                    inside={"window_days": 0.001, "elapsed_days": 0.0}, outside={"window_days": -0.001, "elapsed_days": 0.0},
                    at_allowed=False),
               Rule("0 <= `elapsed_days`, else `ValueError`", at={"elapsed_days": 0.0},
                    inside={"elapsed_days": 0.001}, outside={"elapsed_days": -0.001}),
               Rule("`elapsed_days` <= `window_days`, else `ValueError`",
                    at={"window_days": 30, "elapsed_days": 30}, inside={"window_days": 30, "elapsed_days": 29.999},
                    outside={"window_days": 30, "elapsed_days": 30.001}),
               Rule("0 <= `errors`, else `ValueError`", at={"requests": 100, "errors": 0},
                    inside={"requests": 100, "errors": 1}, outside={"requests": 100, "errors": -1}),
               Rule("`errors` <= `requests`, else `ValueError`", at={"requests": 100, "errors": 100},
                    inside={"requests": 100, "errors": 99}, outside={"requests": 100, "errors": 101}),
               boundary("a budget spent exactly: `budget_remaining` 0 and `days_left` 0; overspent: negative and 0",
                        at={"target": 0.75, "window_days": 30, "elapsed_days": 15, "requests": 1000, "errors": 500},
                        inside={"target": 0.75, "window_days": 30, "elapsed_days": 15, "requests": 1000, "errors": 499},
                        outside={"target": 0.75, "window_days": 30, "elapsed_days": 15, "requests": 1000, "errors": 501}),
               edge("no requests: burn rate 0.0 and `days_left` None", {"requests": 0, "errors": 0}),
               edge("no errors: burn rate 0.0 and `days_left` None", {"requests": 12345, "errors": 0}),
               edge("nothing elapsed yet: nothing consumed", {"elapsed_days": 0.0, "requests": 10, "errors": 10})]),
    Contract(
        "windowed_burn_rate", windowed_burn_rate, draw=_burn_draw,
        domain="logs of 0 to 400 minutes with missing (NaN) and idle stretches, windows from 1 to 500 minutes "
               "(shorter and longer than the log), targets from 0.01 to 0.9999",
        rules=[Rule("`requests` and `bad` have the same length, else `ValueError`",
                    at={"requests": [5.0, 2.0], "bad": [1.0, 0.0]}, inside={"requests": [5.0], "bad": [1.0]},
                    outside=[{"requests": [5.0, 2.0], "bad": [1.0]}, {"requests": [], "bad": [0.0]}]),
               Rule("`window_minutes` is a whole number >= 1 (`3.0` is whole), else `ValueError`",
                    at={"window_minutes": 1}, inside=[{"window_minutes": 2}, {"window_minutes": 3.0}],
                    outside=[{"window_minutes": 0}, {"window_minutes": 2.5}, {"window_minutes": -1}]),
               *_TARGET_RULES,
               boundary("the window ending at minute t holds exactly `window_minutes` minutes, t - w + 1 .. t",
                        at={"requests": _R7, "bad": [70.0, 0, 0, 0, 0, 0, 0], "window_minutes": 3, "target": 0.9},
                        inside={"requests": _R7, "bad": [0, 70.0, 0, 0, 0, 0, 0], "window_minutes": 3, "target": 0.9},
                        outside={"requests": _R7, "bad": [0, 0, 0, 0, 70.0, 0, 0], "window_minutes": 3, "target": 0.9}),
               edge("an empty log gives []", {"requests": [], "bad": []}),
               edge("missing minutes (NaN) count as no requests; a window without requests burns 0.0",
                    {"requests": [100.0, NAN, NAN, NAN, 0.0, 50.0], "bad": [10.0, NAN, NAN, NAN, 0.0, 5.0],
                     "window_minutes": 2}),
               edge("a window longer than the log covers the minutes that exist",
                    {"requests": [10.0, 20.0, 30.0], "bad": [1.0, 0.0, 3.0], "window_minutes": 500})]),
    Contract(
        "burn_rate_alerts", alerts_reference, draw=_alerts_draw, supplied=("alerts",),
        domain="logs of 0 to 6,000 minutes (incident logs and random ones, with gaps), the SRE rules or 0 to 3 "
               "random rules, targets from 0.9 to 0.9999; compared as a set of episodes",
        rules=[boundary("a rule fires when both burn rates are >= its threshold (exactly equal fires)",
                        at={"requests": _R7, "bad": [0, 0, 50.0, 50.0, 50.0, 0, 0], "target": 0.75,
                            "rules": [{"name": "r", "long_minutes": 2, "short_minutes": 1, "burn_rate": 2.0,
                                       "severity": "page"}]},
                        inside={"requests": _R7, "bad": [0, 0, 51.0, 51.0, 51.0, 0, 0], "target": 0.75,
                                "rules": [{"name": "r", "long_minutes": 2, "short_minutes": 1, "burn_rate": 2.0,
                                           "severity": "page"}]},
                        outside={"requests": _R7, "bad": [0, 0, 49.0, 49.0, 49.0, 0, 0], "target": 0.75,
                                 "rules": [{"name": "r", "long_minutes": 2, "short_minutes": 1, "burn_rate": 2.0,
                                            "severity": "page"}]}),
               boundary("an episode still firing at the last minute ends there",
                        at={"requests": _R7, "bad": [0, 0, 0, 0, 0, 0, 60.0], "target": 0.75,
                            "rules": [{"name": "r", "long_minutes": 1, "short_minutes": 1, "burn_rate": 2.0,
                                       "severity": "page"}]},
                        inside={"requests": _R7, "bad": [0, 0, 0, 0, 0, 60.0, 60.0], "target": 0.75,
                                "rules": [{"name": "r", "long_minutes": 1, "short_minutes": 1, "burn_rate": 2.0,
                                           "severity": "page"}]},
                        outside={"requests": _R7, "bad": [0, 0, 0, 0, 0, 60.0, 0], "target": 0.75,
                                 "rules": [{"name": "r", "long_minutes": 1, "short_minutes": 1, "burn_rate": 2.0,
                                            "severity": "page"}]}),
               edge("an empty log gives []", {"requests": [], "bad": []}),
               edge("an all-missing log gives []", {"requests": [NAN] * 30, "bad": [NAN] * 30}),
               edge("no rules give []", {"rules": []})]),
    Contract(
        "zscore_anomalies", zscore_anomalies, draw=_zscore_draw,
        domain="series of 0 to 500 values with spikes, level shifts and missing data, windows from 2 to 200, "
               "thresholds from 0.1 to 20",
        rules=[Rule("`window` is a whole number >= 2 (`3.0` is whole), else `ValueError`",
                    at={"window": 2}, inside=[{"window": 3}, {"window": 3.0}],
                    outside=[{"window": 1}, {"window": 2.5}, {"window": 0}]),
               greater_than("threshold", 0, step=0.01),
               boundary("a point exactly `threshold` standard deviations away is not flagged (strictly more is)",
                        at={"values": [1.0, 3.0, 1.0, 3.0, 5.0], "window": 4, "threshold": 3.0},
                        inside={"values": [1.0, 3.0, 1.0, 3.0, 5.0], "window": 4, "threshold": 2.99},
                        outside={"values": [1.0, 3.0, 1.0, 3.0, 5.0], "window": 4, "threshold": 3.01}),
               boundary("the standard deviation is the population one (divide by the count)",
                        at={"values": [1.0, 3.0, 1.0, 3.0, 4.1], "window": 4, "threshold": 2.0},
                        inside={"values": [1.0, 3.0, 1.0, 3.0, 4.3], "window": 4, "threshold": 2.0},
                        outside={"values": [1.0, 3.0, 1.0, 3.0, 3.9], "window": 4, "threshold": 2.0}),
               edge("an empty series, or one no longer than `window`, gives []",
                    {"values": [], "window": 3}, {"values": [1.0, 50.0, 1.0], "window": 3}),
               edge("a flat window (standard deviation 0) flags nothing",
                    {"values": [5.0] * 12 + [9.0], "window": 4, "threshold": 2.0}),
               edge("NaNs are dropped from the window; fewer than 2 left, or a NaN point, is never flagged",
                    {"values": [1.0, 2.0, 1.0, NAN, NAN, 2.0, 9.0, NAN, NAN, NAN, 50.0, NAN], "window": 3,
                     "threshold": 1.5})]),
]}
