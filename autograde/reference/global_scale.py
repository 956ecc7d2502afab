"""Reference answers and contracts for 14-global-scale.

The grader's truth, written independently of the solution notebook (CI checks that the two agree: the
solution must score full marks). Conventions stated in the notebook: the Earth is a sphere of radius
6,371.0 km; light in vacuum travels 299,792.458 km/s and in fibre at ``fibre_fraction`` of that (2/3 by
default); times are milliseconds for round trips and seconds for DNS failover. A record set that has no
healthy record is answered as if every record were healthy ("fail open", as Route 53 does).
"""

from __future__ import annotations

import math

import numpy as np

from autograde.contracts import OMIT, Contract, Rule, at_least, at_most, boundary, edge, greater_than, log_uniform, \
    one_of

EARTH_RADIUS_KM = 6371.0
C_KM_PER_S = 299_792.458
REL_TOL = 1e-3
TIME_REL_TOL = 1e-6
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657   # Twitter's epoch, 2010-11-04 01:42:54.657 UTC


# --------------------------------------------------------------------------- the speed-of-light floor

def _check_position(lat, lon):
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise ValueError("latitude must be in [-90, 90] and longitude in [-180, 180] degrees")


def great_circle_km(lat1, lon1, lat2, lon2):
    _check_position(lat1, lon1)
    _check_position(lat2, lon2)
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def rtt_floor_ms(distance_km, fibre_fraction=2 / 3):
    if distance_km < 0 or not 0 < fibre_fraction <= 1:
        raise ValueError("distance must be >= 0 and fibre_fraction in (0, 1]")
    return 2 * distance_km / (C_KM_PER_S * fibre_fraction) * 1000


def quorum_write_floor_ms(leader, replicas, quorum, coords, fibre_fraction=2 / 3):
    if leader not in coords or any(r not in coords for r in replicas):
        raise ValueError("every region must have coordinates")
    if not 1 <= quorum <= len(replicas) + 1:
        raise ValueError("quorum counts the leader: 1 <= quorum <= len(replicas) + 1")
    if quorum == 1:
        return 0.0
    lat, lon = coords[leader]
    rtts = sorted(rtt_floor_ms(great_circle_km(lat, lon, *coords[r]), fibre_fraction) for r in replicas)
    return rtts[quorum - 2]


# --------------------------------------------------------------------------- DNS routing

def health_status(results, threshold):
    if not 1 <= threshold <= 10:
        raise ValueError("threshold must be 1..10")
    healthy, run, out = True, 0, []
    for ok in results:
        run = 0 if ok == healthy else run + 1
        if run >= threshold:
            healthy, run = not healthy, 0
        out.append(healthy)
    return out


def _healthy_or_all(records, healthy):
    up = [r for r in records if healthy.get(r["id"], True)]
    return up or list(records)


def latency_answer(records, client_latency_ms, healthy):
    if any(r["region"] not in client_latency_ms for r in records):
        raise ValueError("every record's region needs a latency")
    candidates = _healthy_or_all(records, healthy)
    if not candidates:
        return None
    best = min(range(len(candidates)), key=lambda i: (client_latency_ms[candidates[i]["region"]], i))
    return candidates[best]["id"]


def _specificity(location, client):
    if location == "default":
        return 0
    kind, _, code = location.partition(":")
    if kind == "continent" and code == client["continent"]:
        return 1
    if kind == "country" and code == client["country"]:
        return 2
    return -1


def geolocation_answer(records, client, healthy):
    seen = set()
    for r in records:
        loc = r["location"]
        if not (loc == "default" or (loc.partition(":")[0] in ("country", "continent") and loc.partition(":")[2])):
            raise ValueError(f"bad location {loc!r}")
        if loc in seen:
            raise ValueError(f"two records for {loc!r}")
        seen.add(loc)
    matching = sorted((r for r in records if _specificity(r["location"], client) >= 0),
                      key=lambda r: -_specificity(r["location"], client))
    if not matching:
        return None
    for r in matching:
        if healthy.get(r["id"], True):
            return r["id"]
    return matching[0]["id"]


def weighted_answer(records, healthy, u):
    if not 0 <= u < 1:
        raise ValueError("u must be in [0, 1)")
    if any(not 0 <= r["weight"] <= 255 for r in records):
        raise ValueError("weights are 0..255")
    candidates = _healthy_or_all(records, healthy)
    if not candidates:
        return None
    weights = [r["weight"] for r in candidates]
    if sum(weights) == 0:
        weights = [1] * len(candidates)
    total, cumulative = sum(weights), 0
    for r, w in zip(candidates, weights):
        cumulative += w
        if u * total < cumulative:
            return r["id"]
    return candidates[-1]["id"]  # not reached: u < 1


def failover_answer(records, healthy):
    roles = [r["role"] for r in records]
    if any(role not in ("primary", "secondary") for role in roles) or roles.count("primary") != 1 \
            or roles.count("secondary") > 1:
        raise ValueError("one primary and at most one secondary")
    primary = next(r for r in records if r["role"] == "primary")
    secondary = next((r for r in records if r["role"] == "secondary"), None)
    if healthy.get(primary["id"], True):
        return primary["id"]
    if secondary is not None and healthy.get(secondary["id"], True):
        return secondary["id"]
    return primary["id"]


def recovery_time_s(interval_s, threshold, ttl_s, stale_share=0.0, stale_hold_s=0.0, fraction=1.0):
    if interval_s <= 0 or not 1 <= threshold <= 10 or ttl_s < 0 or not 0 <= stale_share <= 1 or stale_hold_s < 0 \
            or not 0 < fraction <= 1:
        raise ValueError("invalid failover settings")
    detect = interval_s * threshold
    hold = max(ttl_s, stale_hold_s)

    def moved(x):  # share of clients on the new answer x seconds after detection
        honest = 1.0 if ttl_s == 0 else min(x / ttl_s, 1.0)
        stale = 1.0 if hold == 0 else min(x / hold, 1.0)
        return (1 - stale_share) * honest + stale_share * stale

    # moved() is piecewise linear and continuous for x > 0, with knots at ttl_s and hold: bisect exactly
    if moved(0.0) >= fraction:
        return float(detect)
    lo, hi = 0.0, float(hold)
    for _ in range(200):
        mid = (lo + hi) / 2
        if moved(mid) >= fraction:
            hi = mid
        else:
            lo = mid
    return detect + hi


def _option_key(option, index):
    return (-option["ttl_s"], -option["interval_s"], -option["threshold"], index)


def choose_dns_settings(target_s, options, stale_share, stale_hold_s, fraction=1.0):
    if target_s < 0:
        raise ValueError("target_s must be >= 0")
    meeting = [(_option_key(o, i), i) for i, o in enumerate(options)
               if recovery_time_s(o["interval_s"], o["threshold"], o["ttl_s"], stale_share, stale_hold_s,
                                  fraction) <= target_s]
    return min(meeting)[1] if meeting else None


# --------------------------------------------------------------------------- global IDs

def snowflake_ids(readings_ms, region, worker):
    if not 0 <= region <= 31 or not 0 <= worker <= 31:
        raise ValueError("region and worker are 0..31")
    if any(r < SNOWFLAKE_EPOCH_MS or r - SNOWFLAKE_EPOCH_MS >= 2 ** 41 for r in readings_ms):
        raise ValueError("a reading outside the 41-bit range from the epoch")
    last, seq, out = -1, 0, []
    for reading in readings_ms:
        t = reading - SNOWFLAKE_EPOCH_MS
        if t > last:
            last, seq = t, 0
        else:
            seq += 1
            if seq == 4096:
                last, seq = last + 1, 0
        out.append((last << 22) | (region << 17) | (worker << 12) | seq)
    return out


# --------------------------------------------------------------------------- CDN cache keys

def _directives(value):
    return {d.strip().split("=", 1)[0].lower() for d in (value or "").split(",") if d.strip()}


def _header(headers, name):
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def cache_key(url, request_headers, response_headers, keep_params=None):
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("an absolute http(s) URL")
    control = _directives(_header(response_headers, "cache-control"))
    vary = [v.strip().lower() for v in (_header(response_headers, "vary") or "").split(",") if v.strip()]
    if "private" in control or "no-store" in control or "*" in vary:
        return None
    if _header(request_headers, "authorization") is not None and not control & {"public", "s-maxage"}:
        return None
    params = [p for p in parts.query.split("&") if p]
    if keep_params is not None:
        params = [p for p in params if p.split("=", 1)[0] in keep_params]
    key = f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path or '/'}"
    if params:
        key += "?" + "&".join(sorted(params))
    for name in sorted(set(vary)):
        value = _header(request_headers, name)
        key += f"|{name}={'' if value is None else value.strip()}"
    return key


def simulate_cdn(trace, ttl_ms, rtt_ms, shield=True, collapse=True):
    if ttl_ms < 0:
        raise ValueError("ttl_ms must be >= 0")
    if any(b[0] < a[0] for a, b in zip(trace, trace[1:])):
        raise ValueError("the trace must be in time order")
    edges, shield_cache = {}, {}
    origin_fetches = origin_bytes = total_bytes = 0
    latencies = []

    def lookup(cache, key, t):
        entry = cache.get(key)
        if entry is not None and entry[0] <= t < entry[1]:
            return "hit", 0
        if entry is not None and t < entry[0] and collapse:
            return "wait", entry[0] - t
        return "miss", 0

    for t, region, key, size in trace:
        total_bytes += size
        edge = edges.setdefault(region, {})
        state, wait = lookup(edge, key, t)
        if state == "hit":
            latencies.append(rtt_ms["edge"])
            continue
        if state == "wait":
            latencies.append(rtt_ms["edge"] + wait)
            continue
        if shield:
            s_state, s_wait = lookup(shield_cache, key, t)
            upstream = rtt_ms["shield"][region] + s_wait
            if s_state == "miss":
                upstream += rtt_ms["shield_origin"]
                origin_fetches += 1
                origin_bytes += size
                ready = t + rtt_ms["shield_origin"]
                shield_cache[key] = (ready, ready + ttl_ms)
        else:
            upstream = rtt_ms["origin"][region]
            origin_fetches += 1
            origin_bytes += size
        ready = t + upstream
        edge[key] = (ready, ready + ttl_ms)
        latencies.append(rtt_ms["edge"] + upstream)
    if not latencies:
        return {"requests": 0, "origin_fetches": 0, "origin_bytes": 0, "offload": 0.0, "p95_ms": 0.0,
                "latencies_ms": []}
    ordered = sorted(latencies)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {"requests": len(trace), "origin_fetches": origin_fetches, "origin_bytes": origin_bytes,
            "offload": 1 - origin_bytes / total_bytes if total_bytes else 0.0, "p95_ms": float(p95),
            "latencies_ms": latencies}


# --------------------------------------------------------------------------- disaster recovery

DR_STRATEGIES = ("backup_restore", "pilot_light", "warm_standby", "active_active")


def dr_objectives(strategy, backup_interval_s, replication_lag_s, detection_s, restore_s, provision_s, scale_s,
                  switch_s):
    if strategy not in DR_STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    if min(backup_interval_s, replication_lag_s, detection_s, restore_s, provision_s, scale_s, switch_s) < 0:
        raise ValueError("durations must be >= 0")
    if strategy == "backup_restore":
        return {"rpo_s": backup_interval_s, "rto_s": detection_s + restore_s + provision_s + switch_s}
    steps = {"pilot_light": provision_s + scale_s, "warm_standby": scale_s, "active_active": 0}[strategy]
    return {"rpo_s": replication_lag_s, "rto_s": detection_s + steps + switch_s}


HOURS_PER_MONTH = 730


def dr_monthly_cost(strategy, servers, standby_servers, core_servers, data_gb, changed_gb_per_month, prices):
    if strategy not in DR_STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    if min(servers, standby_servers, core_servers, data_gb, changed_gb_per_month) < 0:
        raise ValueError("sizes must be >= 0")
    if not core_servers <= standby_servers <= servers:
        raise ValueError("core_servers <= standby_servers <= servers")
    hour, gb, transfer = prices["instance_hour"], prices["storage_gb_month"], prices["transfer_gb"]
    stored = data_gb * gb
    shipped = changed_gb_per_month * transfer
    running = {"backup_restore": 0, "pilot_light": core_servers, "warm_standby": standby_servers,
               "active_active": servers}[strategy]
    if strategy == "active_active":
        shipped *= 2           # both regions take writes and ship their changes to the other
    return running * hour * HOURS_PER_MONTH + stored + shipped


def cheapest_dr(rpo_target_s, rto_target_s, durations, monthly_cost):
    if rpo_target_s < 0 or rto_target_s < 0:
        raise ValueError("targets must be >= 0")
    if set(monthly_cost) != set(DR_STRATEGIES):
        raise ValueError("a monthly cost for each of the four strategies")
    best = None
    for i, strategy in enumerate(DR_STRATEGIES):
        o = dr_objectives(strategy, **durations)
        if o["rpo_s"] <= rpo_target_s and o["rto_s"] <= rto_target_s:
            if best is None or (monthly_cost[strategy], i) < best[0]:
                best = ((monthly_cost[strategy], i), strategy)
    return None if best is None else best[1]


# --------------------------------------------------------------------------- data residency

def residency_report(users, residency, default_region, log):
    homes = {}
    for user, country in users.items():
        allowed = residency.get(country)
        if allowed is not None and not allowed:
            raise ValueError(f"no allowed region for {country}")
        homes[user] = allowed[0] if allowed else default_region
    served_in, crossed = [], []
    for i, (user, region, op) in enumerate(log):
        if user not in users:
            raise ValueError(f"unknown user {user!r}")
        if op not in ("read", "write"):
            raise ValueError(f"unknown operation {op!r}")
        allowed = residency.get(users[user])
        inside = allowed is None or region in allowed
        served_in.append(region if op == "read" and inside else homes[user])
        if not inside:
            crossed.append(i)
    return {"homes": homes, "served_in": served_in, "crossed": crossed}


# --------------------------------------------------------------------------- contracts

def _lat(rng):
    return round(float(rng.uniform(-90, 90)), 4)


def _lon(rng):
    return round(float(rng.uniform(-180, 180)), 4)


def _draw_gc(rng):
    case = {"lat1": _lat(rng), "lon1": _lon(rng), "lat2": _lat(rng), "lon2": _lon(rng)}
    if rng.random() < 0.25:  # nearby points too: a city pair in one metro area
        case["lat2"] = round(min(90.0, max(-90.0, case["lat1"] + float(rng.normal(0, 0.5)))), 4)
        case["lon2"] = round(min(180.0, max(-180.0, case["lon1"] + float(rng.normal(0, 0.5)))), 4)
    return case


def _position_rule(lat, lon):
    return Rule(f"`{lat}` is in [-90, 90] and `{lon}` in [-180, 180] (degrees), else `ValueError`",
                at=[{lat: 90.0}, {lat: -90.0}, {lon: 180.0}, {lon: -180.0}],
                inside=[{lat: 89.999}, {lon: -179.999}],
                outside=[{lat: 90.001}, {lat: -90.001}, {lon: 180.001}, {lon: -180.001}, {lat: 120.0}])


def _coords(rng, n):
    return {f"r{i}": [_lat(rng), _lon(rng)] for i in range(n)}


def _draw_quorum(rng):
    n = int(rng.integers(1, 9))
    coords = _coords(rng, n + int(rng.integers(0, 3)))
    names = list(coords)[:n]
    leader = names[int(rng.integers(0, n))]
    replicas = [r for r in names if r != leader]
    return {"leader": leader, "replicas": replicas, "quorum": int(rng.integers(1, len(replicas) + 2)),
            "coords": coords, "fibre_fraction": round(float(rng.uniform(0.3, 1.0)), 3)}


_THREE = {"us-east-1": [39.04, -77.49], "eu-central-1": [50.11, 8.68], "ap-northeast-1": [35.68, 139.69]}


def _draw_health(rng):
    n = int(rng.integers(0, 41))
    p_fail = float(rng.uniform(0, 1))
    results = []
    while len(results) < n:  # runs of failures and successes, so thresholds are reached and missed
        ok = bool(rng.random() >= p_fail)
        results += [ok] * int(rng.integers(1, 8))
    return {"results": results[:n], "threshold": int(rng.integers(1, 11))}


REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "ap-southeast-1",
           "ap-southeast-2", "sa-east-1"]


def _healthy(rng, ids):
    p = float(rng.uniform(0, 1))
    return {i: bool(rng.random() >= p) for i in ids if rng.random() < 0.8}  # some records have no check


def _draw_latency(rng):
    n = int(rng.integers(1, 9))
    regions = [str(rng.choice(REGIONS)) for _ in range(n)]
    records = [{"id": f"rec{i}", "region": reg} for i, reg in enumerate(regions)]
    latency = {reg: int(rng.integers(5, 300)) if rng.random() < 0.5 else round(float(rng.uniform(1, 300)), 2)
               for reg in REGIONS}
    return {"records": records, "client_latency_ms": latency, "healthy": _healthy(rng, [r["id"] for r in records])}


COUNTRIES = {"DE": "EU", "FR": "EU", "IE": "EU", "US": "NA", "CA": "NA", "JP": "AS", "SG": "AS", "BR": "SA",
             "AU": "OC", "ZA": "AF"}


def _draw_client(rng):
    country = str(rng.choice(list(COUNTRIES)))
    return {"country": country, "continent": COUNTRIES[country]}


def _draw_geo(rng):
    locations = [f"country:{c}" for c in COUNTRIES] + [f"continent:{c}" for c in sorted(set(COUNTRIES.values()))]
    chosen = list(rng.choice(locations, size=int(rng.integers(0, 8)), replace=False))
    if rng.random() < 0.6:
        chosen.insert(int(rng.integers(0, len(chosen) + 1)), "default")
    records = [{"id": f"rec{i}", "location": str(loc)} for i, loc in enumerate(chosen)]
    return {"records": records, "client": _draw_client(rng), "healthy": _healthy(rng, [r["id"] for r in records])}


def _draw_weighted(rng):
    n = int(rng.integers(1, 9))
    records = [{"id": f"rec{i}", "weight": int(rng.integers(0, 256)) if rng.random() < 0.8 else int(rng.integers(0, 3))}
               for i in range(n)]
    return {"records": records, "healthy": _healthy(rng, [r["id"] for r in records]),
            "u": round(float(rng.uniform(0, 1)), 6) % 1.0}


def _weighted_unambiguous(case):
    """Away from a boundary between two records (where float division order decides): the boundary has its rule."""
    records = _healthy_or_all(case["records"], case["healthy"])
    weights = [r["weight"] for r in records] or [1]
    if sum(weights) == 0:
        weights = [1] * len(weights)
    total, cum = sum(weights), np.cumsum(weights)
    return all(abs(case["u"] - c / total) > 1e-9 or (case["u"] == c / total and case["u"] * total == c)
               for c in cum)


def _draw_failover(rng):
    records = [{"id": "p", "role": "primary"}]
    if rng.random() < 0.8:
        records.append({"id": "s", "role": "secondary"})
    if rng.random() < 0.5:
        records.reverse()
    return {"records": records, "healthy": _healthy(rng, [r["id"] for r in records])}


def _draw_recovery(rng):
    return {"interval_s": int(rng.choice([10, 30])) if rng.random() < 0.5 else round(log_uniform(rng, 1, 120), 2),
            "threshold": int(rng.integers(1, 11)),
            "ttl_s": 0 if rng.random() < 0.1 else int(rng.choice([1, 5, 10, 30, 60, 300, 900, 3600, 86400])),
            "stale_share": 0.0 if rng.random() < 0.25 else round(float(rng.uniform(0, 1)), 3),
            "stale_hold_s": 0 if rng.random() < 0.1 else int(rng.integers(0, 7200)),
            "fraction": 1.0 if rng.random() < 0.3 else round(float(rng.uniform(0.01, 1)), 3)}


def _draw_options(rng):
    return [{"interval_s": int(rng.choice([10, 30])), "threshold": int(rng.integers(1, 11)),
             "ttl_s": int(rng.choice([5, 10, 30, 60, 120, 300, 900, 3600]))} for _ in range(int(rng.integers(0, 10)))]


def _draw_choose(rng):
    return {"target_s": round(log_uniform(rng, 20, 4000), 1), "options": _draw_options(rng),
            "stale_share": 0.0 if rng.random() < 0.3 else round(float(rng.uniform(0, 0.5)), 3),
            "stale_hold_s": int(rng.integers(0, 900)),
            "fraction": 1.0 if rng.random() < 0.4 else round(float(rng.uniform(0.5, 1)), 3)}


def _choose_unambiguous(case):
    """No option whose recovery time is within 1 ms of the target (float noise would decide): the exact
    boundary has its own rule."""
    for o in case["options"]:
        t = recovery_time_s(o["interval_s"], o["threshold"], o["ttl_s"], case["stale_share"], case["stale_hold_s"],
                            case.get("fraction", 1.0))
        if 0 < abs(t - case["target_s"]) < 1e-3:
            return False
    return True


def _draw_snowflake(rng):
    start = SNOWFLAKE_EPOCH_MS + int(rng.integers(0, 2 ** 41 - 10 ** 7))
    readings, now = [], start
    for _ in range(int(rng.integers(0, 61))):
        r = rng.random()
        if r < 0.4:
            pass                                   # the same millisecond
        elif r < 0.85:
            now += int(rng.integers(1, 50))        # time moves on
        else:
            now -= int(rng.integers(1, 30))        # an NTP step back
        readings.append(max(now, SNOWFLAKE_EPOCH_MS))
    return {"readings_ms": readings, "region": int(rng.integers(0, 32)), "worker": int(rng.integers(0, 32))}


HOSTS = ["cdn.example.com", "API.Example.com", "img.example.org", "static.example.net"]
PARAMS = ["id=42", "lang=en", "utm_source=mail", "page=2", "b=2", "a=1", "q=caf%C3%A9", "size=large"]
REQUEST_HEADERS = {"Accept-Encoding": "gzip, br", "Accept-Language": " de-DE ", "Authorization": "Bearer user-17",
                   "Cookie": "session=abc123", "User-Agent": "curl/8.5"}
CACHE_CONTROLS = ["public, max-age=86400", "max-age=60", "private, max-age=60", "no-store", "s-maxage=300", "",
                  "Public, Max-Age=3600", "no-cache"]
VARYS = ["", "Accept-Encoding", "accept-encoding, Accept-Language", "Cookie", "*", "Authorization",
         "Accept-Encoding, accept-encoding", "User-Agent,Accept-Language"]


def _case(rng, text):
    return "".join(ch.upper() if rng.random() < 0.3 else ch for ch in text)


def _draw_cache_key(rng):
    scheme = str(rng.choice(["https", "http", "HTTPS"]))
    path = str(rng.choice(["", "/", "/video/seg-0001.ts", "/api/v1/me", "/Index.HTML"]))
    chosen = [str(p) for p in rng.choice(PARAMS, size=int(rng.integers(0, 6)), replace=False)]
    url = f"{scheme}://{rng.choice(HOSTS)}{path}" + ("?" + "&".join(chosen) if chosen or rng.random() < 0.1 else "")
    keep = None if rng.random() < 0.4 else sorted({str(p).split("=")[0] for p in rng.choice(PARAMS, size=int(rng.integers(0, 5)))})
    request = {_case(rng, k): v for k, v in REQUEST_HEADERS.items()
               if rng.random() < (0.15 if k == "Authorization" else 0.5)}
    response = {}
    if rng.random() < 0.8:
        response[_case(rng, "Cache-Control")] = str(rng.choice(CACHE_CONTROLS))
    if rng.random() < 0.7:
        response[_case(rng, "Vary")] = str(rng.choice(VARYS))
    return {"url": url, "request_headers": request, "response_headers": response, "keep_params": keep}


DURATIONS = ("backup_interval_s", "replication_lag_s", "detection_s", "restore_s", "provision_s", "scale_s", "switch_s")


def _draw_durations(rng):
    return {"backup_interval_s": round(log_uniform(rng, 60, 7 * 86400)), "replication_lag_s": round(float(rng.uniform(0, 600)), 1),
            "detection_s": round(log_uniform(rng, 10, 3600)), "restore_s": round(log_uniform(rng, 300, 86400)),
            "provision_s": round(log_uniform(rng, 30, 3600)), "scale_s": round(float(rng.uniform(0, 1800))),
            "switch_s": round(float(rng.uniform(0, 600)))}


def _draw_dr(rng):
    return {"strategy": str(rng.choice(DR_STRATEGIES)), **_draw_durations(rng)}


def _draw_cheapest(rng):
    base = sorted(round(log_uniform(rng, 50, 50_000)) for _ in DR_STRATEGIES)
    if rng.random() < 0.2:
        base = [int(x) for x in rng.permutation(base)]
    return {"rpo_target_s": round(log_uniform(rng, 10, 2 * 86400)), "rto_target_s": round(log_uniform(rng, 300, 2 * 86400)),
            "durations": _draw_durations(rng), "monthly_cost": dict(zip(DR_STRATEGIES, base))}


_D = {"backup_interval_s": 86400, "replication_lag_s": 5, "detection_s": 300, "restore_s": 7200, "provision_s": 900,
      "scale_s": 600, "switch_s": 60}
_COST = {"backup_restore": 100, "pilot_light": 800, "warm_standby": 3000, "active_active": 9000}


def _draw_cdn(rng):
    regions = ["eu", "us", "ap"][:int(rng.integers(1, 4))]
    keys = [f"obj{i}" for i in range(int(rng.integers(1, 9)))]
    sizes = {k: int(log_uniform(rng, 100, 5e6)) for k in keys}
    t, trace = int(rng.integers(0, 1000)), []
    gap = int(rng.choice([5, 30, 200, 2000]))
    for _ in range(int(rng.integers(0, 61))):
        t += int(rng.integers(0, gap + 1))
        k = keys[min(int(rng.zipf(1.6)) - 1, len(keys) - 1)]
        trace.append([t, str(rng.choice(regions)), k, sizes[k]])
    rtt = {"edge": int(rng.integers(1, 40)),
           "shield": {r: int(rng.integers(5, 120)) for r in ["eu", "us", "ap"]},
           "origin": {r: int(rng.integers(10, 300)) for r in ["eu", "us", "ap"]},
           "shield_origin": int(rng.integers(5, 200))}
    return {"trace": trace, "ttl_ms": int(rng.choice([0, 50, 500, 5000, 60000])) if rng.random() < 0.8
            else int(rng.integers(0, 10000)), "rtt_ms": rtt, "shield": bool(rng.random() < 0.6),
            "collapse": bool(rng.random() < 0.6)}


_RTT = {"edge": 10, "shield": {"eu": 20, "us": 30}, "origin": {"eu": 90, "us": 40}, "shield_origin": 70}


RES_REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-northeast-1", "sa-east-1"]
RES_RULES = {"DE": ["eu-central-1", "eu-west-1"], "FR": ["eu-west-1", "eu-central-1"], "IE": ["eu-west-1"],
             "BR": ["sa-east-1"], "JP": ["ap-northeast-1", "us-west-2"]}


def _draw_residency(rng):
    countries = ["DE", "FR", "IE", "BR", "JP", "US", "CA"]
    rules = {c: r for c, r in RES_RULES.items() if rng.random() < 0.7}
    users = {f"u{i}": str(rng.choice(countries)) for i in range(int(rng.integers(1, 12)))}
    log = [[str(rng.choice(list(users))), str(rng.choice(RES_REGIONS)), str(rng.choice(["read", "write"]))]
           for _ in range(int(rng.integers(0, 40)))]
    return {"users": users, "residency": rules, "default_region": str(rng.choice(RES_REGIONS)), "log": log}


PRICES = {"instance_hour": 0.0816, "storage_gb_month": 0.023, "transfer_gb": 0.02}


def _draw_dr_cost(rng):
    servers = int(rng.integers(0, 200))
    standby = int(rng.integers(0, servers + 1))
    core = int(rng.integers(0, standby + 1))
    prices = dict(PRICES) if rng.random() < 0.5 else {
        "instance_hour": round(log_uniform(rng, 0.005, 5), 4), "storage_gb_month": round(log_uniform(rng, 0.001, 0.2), 4),
        "transfer_gb": round(log_uniform(rng, 0.005, 0.15), 4)}
    return {"strategy": str(rng.choice(DR_STRATEGIES)), "servers": servers, "standby_servers": standby,
            "core_servers": core, "data_gb": round(log_uniform(rng, 1, 1e6)),
            "changed_gb_per_month": round(log_uniform(rng, 0.1, 1e5), 1), "prices": prices}


_T = SNOWFLAKE_EPOCH_MS + 1_000_000

CONTRACTS = {c.name: c for c in [
    Contract(
        "great_circle_km", great_circle_km, draw=_draw_gc,
        domain="any two points on Earth, a quarter of them less than a degree apart",
        rules=[_position_rule("lat1", "lon1"), _position_rule("lat2", "lon2"),
               edge("a point to itself is 0 km", {"lat1": 48.85, "lon1": 2.35, "lat2": 48.85, "lon2": 2.35}),
               edge("antipodes are half the circumference, 20,015 km (clamp rounding so it is no NaN)",
                    {"lat1": 0.0, "lon1": 0.0, "lat2": 0.0, "lon2": 180.0},
                    {"lat1": 90.0, "lon1": 0.0, "lat2": -90.0, "lon2": 0.0}),
               edge("longitudes -180 and 180 are the same meridian",
                    {"lat1": 10.0, "lon1": -180.0, "lat2": 10.0, "lon2": 180.0})]),
    Contract(
        "rtt_floor_ms", rtt_floor_ms,
        draw=lambda rng: {"distance_km": round(log_uniform(rng, 0.1, 20_015), 3),
                          "fibre_fraction": round(float(rng.uniform(0.05, 1.0)), 4)},
        domain="0.1 km to half the Earth's circumference, any fibre fraction in (0, 1]",
        rules=[at_least("distance_km", 0, step=0.001), greater_than("fibre_fraction", 0, step=0.001),
               at_most("fibre_fraction", 1, step=0.001),
               edge("`fibre_fraction` defaults to 2/3", {"fibre_fraction": OMIT}),
               edge("0 km is 0 ms", {"distance_km": 0})]),
    Contract(
        "quorum_write_floor_ms", quorum_write_floor_ms, draw=_draw_quorum,
        domain="1 to 8 regions anywhere on Earth, every quorum size, fibre fractions 0.3 to 1",
        rules=[Rule("`quorum` counts the leader: 1 <= `quorum` <= len(`replicas`) + 1, else `ValueError`",
                    at=[{"leader": "a", "replicas": ["b", "c"], "quorum": 1,
                         "coords": {"a": [0.0, 0.0], "b": [0.0, 10.0], "c": [0.0, 20.0]}},
                        {"leader": "a", "replicas": ["b", "c"], "quorum": 3,
                         "coords": {"a": [0.0, 0.0], "b": [0.0, 10.0], "c": [0.0, 20.0]}}],
                    inside=[{"leader": "a", "replicas": ["b", "c"], "quorum": 2,
                             "coords": {"a": [0.0, 0.0], "b": [0.0, 10.0], "c": [0.0, 20.0]}}],
                    outside=[{"leader": "a", "replicas": ["b", "c"], "quorum": 0,
                              "coords": {"a": [0.0, 0.0], "b": [0.0, 10.0], "c": [0.0, 20.0]}},
                             {"leader": "a", "replicas": ["b", "c"], "quorum": 4,
                              "coords": {"a": [0.0, 0.0], "b": [0.0, 10.0], "c": [0.0, 20.0]}}]),
               Rule("the leader and every replica have coordinates in `coords`, else `ValueError`",
                    at=[{"leader": "a", "replicas": ["b"], "quorum": 2, "coords": {"a": [0.0, 0.0], "b": [1.0, 1.0]}}],
                    inside=[{"leader": "a", "replicas": ["b"], "quorum": 1,
                             "coords": {"a": [0.0, 0.0], "b": [1.0, 1.0], "c": [2.0, 2.0]}}],
                    outside=[{"leader": "a", "replicas": ["b", "x"], "quorum": 2,
                              "coords": {"a": [0.0, 0.0], "b": [1.0, 1.0]}},
                             {"leader": "x", "replicas": ["b"], "quorum": 1, "coords": {"b": [1.0, 1.0]}}]),
               edge("a quorum of 1 is the leader alone: 0 ms, also with no replicas",
                    {"leader": "a", "replicas": [], "quorum": 1, "coords": {"a": [10.0, 10.0]}}),
               edge("a majority of three regions on three continents waits for the nearer of the other two",
                    {"leader": "us-east-1", "replicas": ["eu-central-1", "ap-northeast-1"], "quorum": 2,
                     "coords": _THREE},
                    {"leader": "us-east-1", "replicas": ["ap-northeast-1", "eu-central-1"], "quorum": 3,
                     "coords": _THREE}),
               edge("`fibre_fraction` defaults to 2/3", {"fibre_fraction": OMIT})]),
    Contract(
        "health_status", health_status, draw=_draw_health,
        domain="0 to 40 results in runs of passes and failures, every threshold 1 to 10",
        rules=[Rule("`threshold` is 1 to 10 (as Route 53 allows), else `ValueError`",
                    at=[{"threshold": 1}, {"threshold": 10}], inside=[{"threshold": 2}, {"threshold": 9}],
                    outside=[{"threshold": 0}, {"threshold": 11}]),
               boundary("exactly `threshold` failures in a row make it unhealthy; one fewer does not",
                        at={"results": [True, False, False, False, True], "threshold": 3},
                        inside={"results": [True, False, False, True, False], "threshold": 3},
                        outside={"results": [False, False, False, False, True], "threshold": 3}),
               boundary("an unhealthy endpoint needs exactly `threshold` passes in a row to be healthy again",
                        at={"results": [False, False, True, True, False], "threshold": 2},
                        inside={"results": [False, False, True, False, True], "threshold": 2},
                        outside={"results": [False, False, True, True, True, False], "threshold": 2}),
               edge("an endpoint starts healthy; no results give an empty list", {"results": []}),
               edge("threshold 1 follows every result", {"results": [True, False, True, False, False],
                                                         "threshold": 1})]),
    Contract(
        "latency_answer", latency_answer, draw=_draw_latency,
        domain="1 to 8 records over 8 regions, whole and fractional latencies, any health",
        rules=[Rule("every record's region is in `client_latency_ms`, else `ValueError`",
                    at=[{"records": [{"id": "a", "region": "x"}], "client_latency_ms": {"x": 5}, "healthy": {}}],
                    inside=[{"records": [{"id": "a", "region": "x"}], "client_latency_ms": {"x": 5, "y": 1},
                             "healthy": {}}],
                    outside=[{"records": [{"id": "a", "region": "x"}, {"id": "b", "region": "y"}],
                              "client_latency_ms": {"x": 5}, "healthy": {}}]),
               edge("the lowest-latency healthy record wins, not the lowest-latency record",
                    {"records": [{"id": "a", "region": "x"}, {"id": "b", "region": "y"}],
                     "client_latency_ms": {"x": 5, "y": 80}, "healthy": {"a": False, "b": True}}),
               edge("a record with no health check (absent from `healthy`) is healthy",
                    {"records": [{"id": "a", "region": "x"}, {"id": "b", "region": "y"}],
                     "client_latency_ms": {"x": 5, "y": 80}, "healthy": {"b": True}}),
               edge("no healthy record: answer as if all were healthy",
                    {"records": [{"id": "a", "region": "x"}, {"id": "b", "region": "y"}],
                     "client_latency_ms": {"x": 50, "y": 8}, "healthy": {"a": False, "b": False}}),
               edge("a tie goes to the record listed first",
                    {"records": [{"id": "a", "region": "y"}, {"id": "b", "region": "x"}],
                     "client_latency_ms": {"x": 20, "y": 20}, "healthy": {}}),
               edge("no records: `None`", {"records": [], "healthy": {}})]),
    Contract(
        "geolocation_answer", geolocation_answer, draw=_draw_geo,
        domain="0 to 7 country and continent records over 10 countries, with or without a default, any health",
        rules=[Rule("each `location` is `\"default\"`, `\"country:XX\"` or `\"continent:XX\"`, else `ValueError`",
                    at=[{"records": [{"id": "a", "location": "default"}, {"id": "b", "location": "country:DE"},
                                     {"id": "c", "location": "continent:EU"}]}],
                    inside=[{"records": [{"id": "a", "location": "country:JP"}]}],
                    outside=[{"records": [{"id": "a", "location": "DE"}]},
                             {"records": [{"id": "a", "location": "region:EU"}]},
                             {"records": [{"id": "a", "location": "country:"}]}]),
               Rule("two records for one `location` are refused with `ValueError`",
                    at=[{"records": [{"id": "a", "location": "country:DE"}, {"id": "b", "location": "continent:EU"}]}],
                    inside=[{"records": [{"id": "a", "location": "country:DE"}, {"id": "b", "location": "country:FR"}]}],
                    outside=[{"records": [{"id": "a", "location": "country:DE"}, {"id": "b", "location": "country:DE"}]},
                             {"records": [{"id": "a", "location": "default"}, {"id": "b", "location": "default"}]}]),
               edge("the most specific match wins: country, then continent, then default",
                    {"records": [{"id": "d", "location": "default"}, {"id": "eu", "location": "continent:EU"},
                                 {"id": "de", "location": "country:DE"}],
                     "client": {"country": "DE", "continent": "EU"}, "healthy": {}},
                    {"records": [{"id": "d", "location": "default"}, {"id": "eu", "location": "continent:EU"},
                                 {"id": "de", "location": "country:DE"}],
                     "client": {"country": "FR", "continent": "EU"}, "healthy": {}}),
               edge("a client no record matches gets the default record",
                    {"records": [{"id": "d", "location": "default"}, {"id": "de", "location": "country:DE"}],
                     "client": {"country": "BR", "continent": "SA"}, "healthy": {}}),
               edge("without a default record, a client no record matches gets `None` (no answer)",
                    {"records": [{"id": "de", "location": "country:DE"}],
                     "client": {"country": "BR", "continent": "SA"}, "healthy": {}}),
               edge("an unhealthy match falls back to the next less specific healthy match",
                    {"records": [{"id": "d", "location": "default"}, {"id": "eu", "location": "continent:EU"},
                                 {"id": "de", "location": "country:DE"}],
                     "client": {"country": "DE", "continent": "EU"}, "healthy": {"de": False, "eu": True}},
                    {"records": [{"id": "d", "location": "default"}, {"id": "eu", "location": "continent:EU"},
                                 {"id": "de", "location": "country:DE"}],
                     "client": {"country": "DE", "continent": "EU"}, "healthy": {"de": False, "eu": False}}),
               edge("no matching record is healthy: the most specific match (fail open)",
                    {"records": [{"id": "d", "location": "default"}, {"id": "de", "location": "country:DE"}],
                     "client": {"country": "DE", "continent": "EU"}, "healthy": {"d": False, "de": False}})]),
    Contract(
        "weighted_answer", weighted_answer, draw=_draw_weighted, accept=_weighted_unambiguous,
        domain="1 to 8 records, weights 0 to 255, any health, any u (away from a boundary between records)",
        rules=[Rule("`u` is in [0, 1), else `ValueError`", at={"u": 0.0}, inside={"u": 0.999999},
                    outside=[{"u": 1.0}, {"u": -0.000001}]),
               Rule("every weight is 0 to 255, else `ValueError`",
                    at=[{"records": [{"id": "a", "weight": 0}, {"id": "b", "weight": 255}], "u": 0.3}],
                    inside=[{"records": [{"id": "a", "weight": 1}, {"id": "b", "weight": 254}], "u": 0.3}],
                    outside=[{"records": [{"id": "a", "weight": -1}, {"id": "b", "weight": 3}], "u": 0.3},
                             {"records": [{"id": "a", "weight": 256}], "u": 0.3}]),
               boundary("record i answers `u` in [its cumulative share before it, its cumulative share): "
                        "`u` exactly at a boundary goes to the next record",
                        at={"records": [{"id": "a", "weight": 1}, {"id": "b", "weight": 1}], "healthy": {}, "u": 0.5},
                        inside={"records": [{"id": "a", "weight": 1}, {"id": "b", "weight": 1}], "healthy": {},
                                "u": 0.499},
                        outside={"records": [{"id": "a", "weight": 1}, {"id": "b", "weight": 1}], "healthy": {},
                                 "u": 0.501}),
               edge("only healthy records share the traffic",
                    {"records": [{"id": "a", "weight": 9}, {"id": "b", "weight": 1}], "healthy": {"a": False},
                     "u": 0.2}),
               edge("a weight of 0 gets no traffic while another record has weight",
                    {"records": [{"id": "a", "weight": 0}, {"id": "b", "weight": 3}], "healthy": {}, "u": 0.0}),
               edge("all candidate weights 0: every candidate equally likely",
                    {"records": [{"id": "a", "weight": 0}, {"id": "b", "weight": 0}], "healthy": {}, "u": 0.75}),
               edge("no healthy record: answer as if all were healthy",
                    {"records": [{"id": "a", "weight": 1}, {"id": "b", "weight": 3}],
                     "healthy": {"a": False, "b": False}, "u": 0.1}),
               edge("no records: `None`", {"records": [], "healthy": {}, "u": 0.5})]),
    Contract(
        "failover_answer", failover_answer, draw=_draw_failover,
        domain="a primary with or without a secondary, in either order, any health",
        rules=[Rule("exactly one `\"primary\"` and at most one `\"secondary\"`, no other role, else `ValueError`",
                    at=[{"records": [{"id": "p", "role": "primary"}, {"id": "s", "role": "secondary"}]}],
                    inside=[{"records": [{"id": "p", "role": "primary"}]}],
                    outside=[{"records": [{"id": "s", "role": "secondary"}]},
                             {"records": [{"id": "p", "role": "primary"}, {"id": "q", "role": "primary"}]},
                             {"records": [{"id": "p", "role": "primary"}, {"id": "s", "role": "secondary"},
                                          {"id": "t", "role": "secondary"}]},
                             {"records": [{"id": "p", "role": "Primary"}]}, {"records": []}]),
               edge("a healthy primary answers", {"records": [{"id": "s", "role": "secondary"},
                                                              {"id": "p", "role": "primary"}],
                                                  "healthy": {"p": True, "s": True}}),
               edge("an unhealthy primary fails over to a healthy secondary",
                    {"records": [{"id": "p", "role": "primary"}, {"id": "s", "role": "secondary"}],
                     "healthy": {"p": False}}),
               edge("both unhealthy: the primary (fail open)",
                    {"records": [{"id": "p", "role": "primary"}, {"id": "s", "role": "secondary"}],
                     "healthy": {"p": False, "s": False}},
                    {"records": [{"id": "p", "role": "primary"}], "healthy": {"p": False}})]),
    Contract(
        "recovery_time_s", recovery_time_s, draw=_draw_recovery,
        domain="check intervals 1 to 120 s, thresholds 1 to 10, TTLs 0 to a day, any share of stale resolvers "
               "holding up to 2 h, any fraction of clients",
        rules=[greater_than("interval_s", 0, step=0.5),
               Rule("`threshold` is 1 to 10, else `ValueError`", at=[{"threshold": 1}, {"threshold": 10}],
                    inside={"threshold": 5}, outside=[{"threshold": 0}, {"threshold": 11}]),
               at_least("ttl_s", 0), at_least("stale_hold_s", 0),
               Rule("`stale_share` is in [0, 1], else `ValueError`", at=[{"stale_share": 0.0}, {"stale_share": 1.0}],
                    inside={"stale_share": 0.5}, outside=[{"stale_share": -0.01}, {"stale_share": 1.01}]),
               Rule("`fraction` is in (0, 1], else `ValueError`", at={"fraction": 1.0}, inside={"fraction": 0.01},
                    outside=[{"fraction": 0.0}, {"fraction": 1.01}]),
               boundary("the last client moves at detection + max(TTL, stale hold) when some resolvers are stale, "
                        "detection + TTL when none are",
                        at={"interval_s": 30, "threshold": 3, "ttl_s": 60, "stale_share": 0.0, "stale_hold_s": 900,
                            "fraction": 1.0},
                        inside={"interval_s": 30, "threshold": 3, "ttl_s": 60, "stale_share": 0.0,
                                "stale_hold_s": 900, "fraction": 0.5},
                        outside={"interval_s": 30, "threshold": 3, "ttl_s": 60, "stale_share": 0.001,
                                 "stale_hold_s": 900, "fraction": 1.0}),
               edge("a TTL of 0 and no stale resolvers: recovery is detection alone",
                    {"interval_s": 10, "threshold": 3, "ttl_s": 0, "stale_share": 0.0, "fraction": 1.0}),
               edge("a stale hold shorter than the TTL: stale resolvers keep the TTL",
                    {"interval_s": 10, "threshold": 2, "ttl_s": 300, "stale_share": 0.4, "stale_hold_s": 60,
                     "fraction": 0.9}),
               edge("the seed's settings: 30 s checks, 3 failures, 60 s TTL",
                    {"interval_s": 30, "threshold": 3, "ttl_s": 60, "stale_share": 0.1, "stale_hold_s": 900,
                     "fraction": 0.99}),
               edge("`stale_share`, `stale_hold_s` and `fraction` default to 0, 0 and 1",
                    {"stale_share": OMIT, "stale_hold_s": OMIT, "fraction": OMIT})]),
    Contract(
        "choose_dns_settings", choose_dns_settings, draw=_draw_choose, accept=_choose_unambiguous,
        domain="0 to 9 options of 10 or 30 s checks, thresholds 1 to 10, TTLs 5 s to 1 h, targets 20 s to 67 min",
        rules=[at_least("target_s", 0, step=0.1),
               boundary("an option whose recovery time equals the target meets it",
                        at={"target_s": 90, "options": [{"interval_s": 10, "threshold": 3, "ttl_s": 60}],
                            "stale_share": 0.0, "stale_hold_s": 0, "fraction": 1.0},
                        inside={"target_s": 91, "options": [{"interval_s": 10, "threshold": 3, "ttl_s": 60}],
                                "stale_share": 0.0, "stale_hold_s": 0, "fraction": 1.0},
                        outside={"target_s": 89, "options": [{"interval_s": 10, "threshold": 3, "ttl_s": 60}],
                                 "stale_share": 0.0, "stale_hold_s": 0, "fraction": 1.0}),
               edge("no option meets the target, or no options: `None`", {"options": []},
                    {"target_s": 1, "options": [{"interval_s": 10, "threshold": 1, "ttl_s": 5}]}),
               edge("ties on TTL go to the longer interval, then the higher threshold, then the first listed",
                    {"target_s": 1000, "stale_share": 0.0, "stale_hold_s": 0, "fraction": 1.0,
                     "options": [{"interval_s": 10, "threshold": 3, "ttl_s": 60},
                                 {"interval_s": 30, "threshold": 2, "ttl_s": 60},
                                 {"interval_s": 30, "threshold": 3, "ttl_s": 60},
                                 {"interval_s": 30, "threshold": 3, "ttl_s": 60}]}),
               edge("`fraction` defaults to 1", {"fraction": OMIT})]),
    Contract(
        "snowflake_ids", snowflake_ids, draw=_draw_snowflake,
        domain="0 to 60 readings over the whole 41-bit range, repeats, steps forward and steps back, "
               "every region and worker",
        rules=[Rule("`region` and `worker` are 0 to 31, else `ValueError`",
                    at=[{"region": 0, "worker": 31}, {"region": 31, "worker": 0}],
                    inside={"region": 30, "worker": 1},
                    outside=[{"region": 32}, {"worker": 32}, {"region": -1}, {"worker": -1}]),
               Rule("every reading is from the epoch to 2^41 - 1 ms after it, else `ValueError`",
                    at=[{"readings_ms": [SNOWFLAKE_EPOCH_MS]}, {"readings_ms": [SNOWFLAKE_EPOCH_MS + 2 ** 41 - 1]}],
                    inside=[{"readings_ms": [SNOWFLAKE_EPOCH_MS + 1, SNOWFLAKE_EPOCH_MS + 1]}],
                    outside=[{"readings_ms": [SNOWFLAKE_EPOCH_MS - 1]},
                             {"readings_ms": [_T, SNOWFLAKE_EPOCH_MS + 2 ** 41]}]),
               boundary("4,096 IDs fit in one millisecond; the 4,097th borrows the next millisecond",
                        at={"readings_ms": [_T] * 4096}, inside={"readings_ms": [_T] * 4095},
                        outside={"readings_ms": [_T] * 4097 + [_T + 1, _T + 2]}),
               edge("a clock that steps back keeps the last timestamp and counts on: no repeats, still increasing",
                    {"readings_ms": [_T, _T + 5, _T + 2, _T + 3, _T + 5, _T + 6]},
                    {"readings_ms": [_T + 10, _T, _T, _T + 11]}),
               edge("no readings: no IDs", {"readings_ms": []})]),
    Contract(
        "cache_key", cache_key, draw=_draw_cache_key,
        domain="http and https URLs in any letter case, 0 to 5 query parameters in any order, any subset of five "
               "request headers, eight Cache-Control and eight Vary values",
        rules=[Rule("`url` is an absolute `http` or `https` URL, else `ValueError`",
                    at=[{"url": "http://a.example/"}], inside=[{"url": "HTTPS://a.example/x?y=1"}],
                    outside=[{"url": "ftp://a.example/x"}, {"url": "/relative/path"}, {"url": "https:///x"}]),
               edge("query parameters are sorted, and only those in `keep_params` kept (all when it is `None`)",
                    {"url": "https://cdn.example.com/v?utm_source=mail&b=2&a=1", "request_headers": {},
                     "response_headers": {}, "keep_params": ["a", "b"]},
                    {"url": "https://cdn.example.com/v?b=2&a=1", "request_headers": {}, "response_headers": {},
                     "keep_params": None},
                    {"url": "https://cdn.example.com/v?utm_source=mail", "request_headers": {}, "response_headers": {},
                     "keep_params": []}),
               edge("scheme and host are lower-cased, the path is not; an empty path is `/`",
                    {"url": "HTTPS://CDN.Example.com/Index.HTML", "request_headers": {}, "response_headers": {},
                     "keep_params": None},
                    {"url": "https://cdn.example.com", "request_headers": {}, "response_headers": {},
                     "keep_params": None}),
               edge("each header `Vary` names (any case, once each, sorted) adds `|name=value`, empty when the "
                    "request lacks it",
                    {"url": "https://cdn.example.com/a", "request_headers": {"accept-encoding": " gzip "},
                     "response_headers": {"Vary": "Accept-Encoding, accept-language, ACCEPT-ENCODING"},
                     "keep_params": None}),
               edge("`Vary: *`, `Cache-Control: private` or `no-store`: not stored at a shared cache (`None`)",
                    {"url": "https://cdn.example.com/a", "request_headers": {}, "response_headers": {"Vary": "*"},
                     "keep_params": None},
                    {"url": "https://api.example.com/me", "request_headers": {},
                     "response_headers": {"cache-control": "Private, max-age=60"}, "keep_params": None},
                    {"url": "https://api.example.com/me", "request_headers": {},
                     "response_headers": {"Cache-Control": "no-store"}, "keep_params": None}),
               edge("a request with `Authorization` is stored only if the response says `public` or `s-maxage`",
                    {"url": "https://api.example.com/me", "request_headers": {"Authorization": "Bearer u1"},
                     "response_headers": {"Cache-Control": "max-age=86400"}, "keep_params": None},
                    {"url": "https://api.example.com/news", "request_headers": {"authorization": "Bearer u1"},
                     "response_headers": {"Cache-Control": "public, max-age=86400"}, "keep_params": None})]),
    Contract(
        "dr_objectives", dr_objectives, draw=_draw_dr,
        domain="every strategy; backups every minute to every week, lags to 10 min, detection 10 s to 1 h, "
               "restores 5 min to a day",
        rules=[one_of("strategy", DR_STRATEGIES, ["backup", "pilot-light", "Warm_standby", "multi_site"]),
               *[at_least(d, 0, says=f"`{d}` >= 0, else `ValueError`") for d in DURATIONS],
               edge("continuous replication (pilot light, warm standby, active-active): RPO is the replication lag, "
                    "not the backup interval",
                    {"strategy": "pilot_light", **_D}, {"strategy": "warm_standby", **_D},
                    {"strategy": "active_active", **_D}),
               edge("backup and restore: RPO is the backup interval; RTO counts detection, provisioning, restore and "
                    "the switch", {"strategy": "backup_restore", **_D})]),
    Contract(
        "cheapest_dr", cheapest_dr, draw=_draw_cheapest,
        domain="RPO targets from 10 s and RTO targets from 5 min to two days, random durations, monthly costs $50 to $50,000, usually rising with "
               "readiness",
        rules=[at_least("rpo_target_s", 0), at_least("rto_target_s", 0),
               Rule("`monthly_cost` has exactly the four strategies, else `ValueError`",
                    at={"monthly_cost": dict(_COST)}, inside={"monthly_cost": {**_COST, "active_active": 1}},
                    outside=[{"monthly_cost": {k: v for k, v in _COST.items() if k != "pilot_light"}},
                             {"monthly_cost": {**_COST, "multi_site": 5}}]),
               boundary("a strategy whose RPO and RTO equal the targets meets them",
                        at={"rpo_target_s": 5, "rto_target_s": 1860, "durations": _D, "monthly_cost": _COST},
                        inside={"rpo_target_s": 6, "rto_target_s": 1861, "durations": _D, "monthly_cost": _COST},
                        outside={"rpo_target_s": 5, "rto_target_s": 1859, "durations": _D, "monthly_cost": _COST}),
               edge("no strategy meets the targets: `None`",
                    {"rpo_target_s": 1, "rto_target_s": 100000, "durations": _D, "monthly_cost": _COST}),
               edge("equal costs go to the strategy listed first (backup_restore, pilot_light, warm_standby, "
                    "active_active)",
                    {"rpo_target_s": 10, "rto_target_s": 100000, "durations": _D,
                     "monthly_cost": {**_COST, "warm_standby": 800}})]),
    Contract(
        "simulate_cdn", simulate_cdn, draw=_draw_cdn,
        domain="0 to 60 requests over 1 to 3 regions and 1 to 8 Zipf-popular objects, gaps from 0 to 2 s, "
               "TTLs from 0 to 60 s, every combination of shield and collapsing",
        rules=[at_least("ttl_ms", 0),
               Rule("the trace is in time order (equal times allowed), else `ValueError`",
                    at=[{"trace": [[0, "eu", "a", 10], [0, "eu", "a", 10]]}],
                    inside=[{"trace": [[0, "eu", "a", 10], [1, "eu", "a", 10]]}],
                    outside=[{"trace": [[5, "eu", "a", 10], [4, "eu", "a", 10]]}]),
               boundary("an object is served from a cache from the moment its fetch completes until just before it "
                        "expires (ready <= t < ready + ttl)",
                        at={"trace": [[0, "eu", "a", 10], [90, "eu", "a", 10], [1090, "eu", "a", 10]],
                            "ttl_ms": 1000, "rtt_ms": _RTT, "shield": True, "collapse": True},
                        inside={"trace": [[0, "eu", "a", 10], [91, "eu", "a", 10], [1089, "eu", "a", 10]],
                                "ttl_ms": 1000, "rtt_ms": _RTT, "shield": True, "collapse": True},
                        outside={"trace": [[0, "eu", "a", 10], [89, "eu", "a", 10], [1091, "eu", "a", 10]],
                                 "ttl_ms": 1000, "rtt_ms": _RTT, "shield": True, "collapse": True}),
               edge("a miss at one edge is a hit at the shield for another region's edge (tiered caching)",
                    {"trace": [[0, "eu", "a", 10], [500, "us", "a", 10]], "ttl_ms": 5000, "rtt_ms": _RTT,
                     "shield": True, "collapse": False}),
               edge("requests for an object already being fetched wait for that fetch when collapsing, and fetch "
                    "again when not",
                    {"trace": [[0, "eu", "a", 10], [30, "eu", "a", 10], [40, "us", "a", 10]], "ttl_ms": 5000,
                     "rtt_ms": _RTT, "shield": True, "collapse": True},
                    {"trace": [[0, "eu", "a", 10], [30, "eu", "a", 10], [40, "us", "a", 10]], "ttl_ms": 5000,
                     "rtt_ms": _RTT, "shield": True, "collapse": False}),
               edge("without a shield every edge miss goes to the origin",
                    {"trace": [[0, "eu", "a", 10], [500, "us", "a", 10], [600, "eu", "a", 10]], "ttl_ms": 5000,
                     "rtt_ms": _RTT, "shield": False, "collapse": True}),
               edge("a TTL of 0 caches nothing", {"ttl_ms": 0}),
               edge("an empty trace: zeros", {"trace": []}),
               edge("`shield` and `collapse` default to True", {"shield": OMIT, "collapse": OMIT})]),
    Contract(
        "residency_report", residency_report, draw=_draw_residency,
        domain="1 to 11 users from seven countries, any subset of five countries' rules, 0 to 39 reads and writes "
               "landing in six regions",
        rules=[Rule("every user in `log` is in `users`, else `ValueError`",
                    at=[{"users": {"a": "DE"}, "log": [["a", "us-east-1", "read"]]}],
                    inside=[{"users": {"a": "DE", "b": "US"}, "log": [["a", "eu-west-1", "write"]]}],
                    outside=[{"users": {"a": "DE"}, "log": [["a", "us-east-1", "read"], ["b", "us-east-1", "read"]]}]),
               Rule("each operation is `\"read\"` or `\"write\"`, else `ValueError`",
                                  at=[{"users": {"a": "FR"}, "log": [["a", "eu-west-1", "read"], ["a", "eu-west-1", "write"]]}],
                                  inside=[{"users": {"a": "FR"}, "log": [["a", "us-east-1", "write"]]}],
                                  outside=[{"users": {"a": "FR"}, "log": [["a", "eu-west-1", "READ"]]},
                                           {"users": {"a": "FR"}, "log": [["a", "eu-west-1", "delete"]]}]),
               Rule("a rule with no allowed region is refused with `ValueError`",
                    at=[{"residency": {"DE": ["eu-central-1"]}, "users": {"a": "DE"}, "log": [["a", "eu-west-1", "read"]]}],
                    inside=[{"residency": {"DE": ["eu-central-1", "eu-west-1"]}, "users": {"a": "DE"},
                             "log": [["a", "eu-west-1", "read"]]}],
                    outside=[{"residency": {"DE": []}, "users": {"a": "DE"}, "log": [["a", "eu-west-1", "read"]]}]),
               edge("a user's home is the first allowed region of their country, else `default_region`",
                    {"users": {"a": "FR", "b": "US"}, "residency": {"FR": ["eu-west-1", "eu-central-1"]},
                     "default_region": "us-east-1", "log": []}),
               edge("a read that lands in an allowed region is served there; a write always goes home",
                    {"users": {"a": "DE"}, "residency": {"DE": ["eu-central-1", "eu-west-1"]},
                     "default_region": "us-east-1",
                     "log": [["a", "eu-west-1", "read"], ["a", "eu-west-1", "write"]]}),
               edge("a read or write that lands outside the allowed regions is forwarded home and reported",
                    {"users": {"a": "DE"}, "residency": {"DE": ["eu-central-1"]}, "default_region": "us-east-1",
                     "log": [["a", "us-east-1", "read"], ["a", "us-east-1", "write"]]}),
               edge("a user whose country has no rule never crosses a border",
                    {"users": {"a": "US"}, "residency": {"DE": ["eu-central-1"]}, "default_region": "us-east-1",
                     "log": [["a", "eu-central-1", "read"], ["a", "ap-northeast-1", "write"]]}),
               edge("an empty log: homes only", {"log": []})]),
    Contract(
        "dr_monthly_cost", dr_monthly_cost, draw=_draw_dr_cost,
        domain="every strategy, fleets of 0 to 199 servers, 1 GB to 1 PB of data, 0.1 GB to 100 TB changed a month, "
               "the data file's prices and others",
        rules=[one_of("strategy", DR_STRATEGIES, ["backup", "Pilot_light", "multi_site"]),
               *[at_least(p, 0, says=f"`{p}` >= 0, else `ValueError`") for p in
                 ("data_gb", "changed_gb_per_month")],
               Rule("`core_servers` <= `standby_servers` <= `servers` (all >= 0), else `ValueError`",
                    at=[{"servers": 10, "standby_servers": 10, "core_servers": 10},
                        {"servers": 0, "standby_servers": 0, "core_servers": 0}],
                    inside=[{"servers": 10, "standby_servers": 3, "core_servers": 1}],
                    outside=[{"servers": 10, "standby_servers": 11, "core_servers": 1},
                             {"servers": 10, "standby_servers": 3, "core_servers": 4},
                             {"servers": 10, "standby_servers": 3, "core_servers": -1}]),
               edge("backup and restore runs no server; pilot light runs the core; warm standby the standby fleet; "
                    "active-active the whole fleet and ships changes both ways",
                    *[{"strategy": st, "servers": 40, "standby_servers": 8, "core_servers": 2, "data_gb": 2000,
                       "changed_gb_per_month": 3000, "prices": PRICES} for st in DR_STRATEGIES])]),
]}


def cdn_summary_reference(**arguments):
    """simulate_cdn's figures without the per-request latencies (what course.globalscale.cdn_summary returns)."""
    return {k: v for k, v in simulate_cdn(**arguments).items() if k != "latencies_ms"}
