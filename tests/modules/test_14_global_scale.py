"""Module 14: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly


ASSIGNMENT = "14-global-scale"

GC, RTT, QUORUM = "correct_great_circle_km", "correct_rtt_floor_ms", "correct_quorum_write_floor_ms"
HEALTH, LATENCY, GEO = "correct_health_status", "correct_latency_answer", "correct_geolocation_answer"
WEIGHTED, FAILOVER = "correct_weighted_answer", "correct_failover_answer"
RECOVERY, CHOOSE, SNOWFLAKE = "correct_recovery_time_s", "correct_choose_dns_settings", "correct_snowflake_ids"
CACHE_KEY, DR, CHEAPEST = "correct_cache_key", "correct_dr_objectives", "correct_cheapest_dr"
CDN, RESIDENCY = "correct_simulate_cdn", "correct_residency_report"
DR_COST = "correct_dr_monthly_cost"

MUTANTS = {
    # the mistakes the issue names
    "haversine_in_degrees": Mutant(
        "great_circle_km", "phi1, phi2 = math.radians(lat1), math.radians(lat2)\n"
                           "    dphi, dlam = math.radians(lat2 - lat1), math.radians(lon2 - lon1)",
        "phi1, phi2 = lat1, lat2\n    dphi, dlam = lat2 - lat1, lon2 - lon1",
        frozenset({GC, QUORUM}), "degrees fed to sin and cos: the classic haversine slip"),
    "failover_ignores_threshold": Mutant(
        "health_status", "        if streak == threshold:", "        if streak >= 1:",
        frozenset({HEALTH}), "status flips on the first failed probe: the health check's threshold ignored"),
    "geolocation_without_default": Mutant(
        "geolocation_answer", '            ranked.append((0, r["id"]))\n            continue',
        "            continue", frozenset({GEO}),
        "the default record never matches, so clients from unlisted countries get no answer"),
    "snowflake_repeats_after_step_back": Mutant(
        "snowflake_ids", "        if last is None or now > last:", "        if last is None or now != last:",
        frozenset({SNOWFLAKE}), "a clock step back restarts the sequence on an old timestamp: repeated IDs"),
    "cache_key_ignores_vary": Mutant(
        "cache_key", '''    for name in vary:
        key += f"|{name}={(_get(request_headers, name) or '').strip()}"
''', "", frozenset({CACHE_KEY}),
        "the key ignores Vary: a gzip response served to a client that cannot read it"),
    "rpo_is_backup_interval_with_replication": Mutant(
        "dr_objectives", 'rpo = backup_interval_s if strategy == "backup_restore" else replication_lag_s',
        "rpo = backup_interval_s", frozenset({DR, CHEAPEST}),
        "RPO taken as the backup interval for continuous replication"),
    "shield_bypassed_on_misses": Mutant(
        "simulate_cdn", "                shield_cache[obj] = (t + rtt_ms[\"shield_origin\"], t + rtt_ms[\"shield_origin\"] + ttl_ms)\n",
        "", frozenset({CDN}), "a shield miss goes to the origin without storing the object at the shield"),
    # more classic mistakes
    "warm_standby_priced_as_full_fleet": Mutant(
        "dr_monthly_cost", '"warm_standby": standby_servers,', '"warm_standby": servers,', frozenset({DR_COST}),
        "a warm standby costed as a second full fleet"),
    "active_active_ships_once": Mutant(
        "dr_monthly_cost", 'copies_shipped = 2 if strategy == "active_active" else 1', "copies_shipped = 1",
        frozenset({DR_COST}), "active-active replication counted in one direction only"),
    "only_writes_cross_borders": Mutant(
        "residency_report", "        if not landed_inside:", '        if not landed_inside and op == "write":',
        frozenset({RESIDENCY}), "reads of personal data in another jurisdiction not counted as transfers"),
    "reads_served_where_they_land": Mutant(
        "residency_report", 'region if landed_inside and op == "read" else homes[user]',
        'region if op == "read" else homes[user]', frozenset({RESIDENCY}),
        "reads served wherever latency routing sent them, outside the allowed regions"),
    "collapsing_ignored": Mutant(
        "simulate_cdn", "        if ready is not None and t < ready and collapse:", "        if False:",
        frozenset({CDN}), "requests for an object in flight each start their own fetch: the miss storm"),
    "personal_responses_shared": Mutant(
        "cache_key", '    if {"private", "no-store"} & directives or "*" in vary:', '    if "*" in vary:',
        frozenset({CACHE_KEY}), "Cache-Control: private ignored: one user's response served to others"),
    "cheapest_ignores_rto": Mutant(
        "cheapest_dr", "\n               and dr_objectives(s, **durations)[\"rto_s\"] <= rto_target_s]", "]",
        frozenset({CHEAPEST}), "only the RPO target is checked"),
    "one_way_not_round_trip": Mutant(
        "rtt_floor_ms", "    return 2 * one_way_s * 1000", "    return one_way_s * 1000",
        frozenset({RTT, QUORUM}), "one-way delay reported as the round trip"),
    "quorum_waits_for_all": Mutant(
        "quorum_write_floor_ms", "floors[quorum - 2]", "floors[-1]",
        frozenset({QUORUM}), "the leader waits for the farthest replica, not the quorum's nearest"),
    "latency_ignores_health": Mutant(
        "latency_answer", "    for r in _healthy_candidates(records, healthy):", "    for r in records:",
        frozenset({LATENCY}), "latency routing sends clients to an unhealthy region"),
    "unhealthy_answers_nothing": Mutant(
        "weighted_answer", "    candidates = _healthy_candidates(records, healthy)",
        '    candidates = [r for r in records if healthy.get(r["id"], True)]',
        frozenset({WEIGHTED}), "no fail-open: a record set with no healthy record answers nothing "
                                "(only the hidden tests try it)"),
    "failover_to_unhealthy_secondary": Mutant(
        "failover_answer", "and secondary is not None and healthy.get(secondary, True):",
        "and secondary is not None:", frozenset({FAILOVER}),
        "fails over to a secondary that is down too, instead of failing open to the primary"),
    "recovery_without_threshold": Mutant(
        "recovery_time_s", "    detection = interval_s * threshold", "    detection = interval_s",
        frozenset({RECOVERY, CHOOSE}), "detection after one probe interval, whatever the threshold"),
    "recovery_ignores_stale_resolvers": Mutant(
        "recovery_time_s", "(stale_share, max(ttl_s, stale_hold_s))", "(stale_share, ttl_s)",
        frozenset({RECOVERY, CHOOSE}), "resolvers assumed to honour every TTL"),
    "choose_shortest_ttl": Mutant(
        "choose_dns_settings", "        if best is None or rank > best[0]:", "        if best is None or rank < best[0]:",
        frozenset({CHOOSE}), "prefers the most expensive setting that meets the target"),
}

# A correct solution written differently from ours: Vincenty's formula on the sphere, a heap for the quorum,
# dicts of handlers, bisection for the recovery time, a generator class for IDs.
ALTERNATIVE = {
    "great_circle_km": '''
import math

def great_circle_km(lat1, lon1, lat2, lon2):
    if abs(lat1) > 90 or abs(lat2) > 90 or abs(lon1) > 180 or abs(lon2) > 180:
        raise ValueError("not a position on Earth")
    p1, p2, dl = map(math.radians, (lat1, lat2, lon2 - lon1))
    y = math.hypot(math.cos(p2) * math.sin(dl), math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl))
    x = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.atan2(y, x)     # Vincenty's formula on a sphere: no clamping needed
''',
    "rtt_floor_ms": '''
def rtt_floor_ms(distance_km, fibre_fraction=2 / 3):
    if distance_km < 0 or fibre_fraction <= 0 or fibre_fraction > 1:
        raise ValueError((distance_km, fibre_fraction))
    km_per_ms = 299.792458 * fibre_fraction
    return distance_km * 2 / km_per_ms
''',
    "quorum_write_floor_ms": '''
import heapq

def quorum_write_floor_ms(leader, replicas, quorum, coords, fibre_fraction=2 / 3):
    if leader not in coords or not set(replicas) <= set(coords) or not 0 < quorum <= 1 + len(replicas):
        raise ValueError("bad quorum")
    if quorum == 1:
        return 0.0
    rtts = [rtt_floor_ms(great_circle_km(coords[leader][0], coords[leader][1], coords[r][0], coords[r][1]),
                         fibre_fraction) for r in replicas]
    return heapq.nsmallest(quorum - 1, rtts)[-1]
''',
    "health_status": '''
def health_status(results, threshold):
    if threshold not in range(1, 11):
        raise ValueError(threshold)
    out, state, window = [], True, []
    for r in results:
        window = (window + [r])[-threshold:]
        if len(window) == threshold and all(x == (not state) for x in window):
            state, window = not state, []
        out.append(state)
    return out
''',
    "latency_answer": '''
def latency_answer(records, client_latency_ms, healthy):
    if not all(r["region"] in client_latency_ms for r in records):
        raise ValueError("missing latency")
    if not records:
        return None
    up = [r for r in records if healthy.get(r["id"]) is not False] or records
    return sorted(enumerate(up), key=lambda p: (client_latency_ms[p[1]["region"]], p[0]))[0][1]["id"]
''',
    "geolocation_answer": '''
def geolocation_answer(records, client, healthy):
    locations = [r["location"] for r in records]
    if len(set(locations)) != len(locations):
        raise ValueError("duplicate location")
    wanted = {f"country:{client['country']}": 0, f"continent:{client['continent']}": 1, "default": 2}
    for loc in locations:
        kind, sep, code = loc.partition(":")
        if loc != "default" and not (sep and code and kind in ("country", "continent")):
            raise ValueError(loc)
    matches = sorted((wanted[r["location"]], r["id"]) for r in records if r["location"] in wanted)
    healthy_matches = [m for m in matches if healthy.get(m[1], True)]
    chosen = healthy_matches or matches
    return chosen[0][1] if chosen else None
''',
    "weighted_answer": '''
import bisect

def weighted_answer(records, healthy, u):
    if u < 0 or u >= 1 or any(r["weight"] < 0 or r["weight"] > 255 for r in records):
        raise ValueError("bad input")
    pool = [r for r in records if healthy.get(r["id"], True)] or list(records)
    if not pool:
        return None
    weights = [r["weight"] for r in pool]
    if not any(weights):
        weights = [1] * len(pool)
    edges, running = [], 0
    for w in weights:
        running += w
        edges.append(running)
    return pool[bisect.bisect_right(edges, u * running)]["id"]
''',
    "failover_answer": '''
def failover_answer(records, healthy):
    primaries = [r["id"] for r in records if r["role"] == "primary"]
    secondaries = [r["id"] for r in records if r["role"] == "secondary"]
    if len(primaries) != 1 or len(secondaries) > 1 or len(primaries) + len(secondaries) != len(records):
        raise ValueError("one primary, at most one secondary")
    ok = lambda i: healthy.get(i, True)
    for candidate in primaries + secondaries:
        if ok(candidate):
            return candidate
    return primaries[0]
''',
    "recovery_time_s": '''
def recovery_time_s(interval_s, threshold, ttl_s, stale_share=0.0, stale_hold_s=0.0, fraction=1.0):
    if not (interval_s > 0 and 1 <= threshold <= 10 and ttl_s >= 0 and stale_hold_s >= 0
            and 0 <= stale_share <= 1 and 0 < fraction <= 1):
        raise ValueError("bad settings")
    hold = max(ttl_s, stale_hold_s)
    def share(x):
        a = 1 if ttl_s == 0 else min(1, x / ttl_s)
        b = 1 if hold == 0 else min(1, x / hold)
        return (1 - stale_share) * a + stale_share * b
    lo, hi = 0.0, float(hold)
    if share(lo) >= fraction:
        return interval_s * threshold
    for _ in range(100):                  # bisection instead of a closed form
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if share(mid) >= fraction else (mid, hi)
    return interval_s * threshold + hi
''',
    "choose_dns_settings": '''
def choose_dns_settings(target_s, options, stale_share, stale_hold_s, fraction=1.0):
    if target_s < 0:
        raise ValueError(target_s)
    ok = [i for i, o in enumerate(options)
          if recovery_time_s(o["interval_s"], o["threshold"], o["ttl_s"], stale_share, stale_hold_s, fraction) <= target_s]
    ok.sort(key=lambda i: (-options[i]["ttl_s"], -options[i]["interval_s"], -options[i]["threshold"], i))
    return ok[0] if ok else None
''',
    "snowflake_ids": '''
EPOCH_MS = 1288834974657

class _Worker:
    def __init__(self, region, worker):
        self.machine = (region << 5 | worker) << 12
        self.stamp, self.seq = -1, 0

    def next_id(self, now):
        if now > self.stamp:
            self.stamp, self.seq = now, 0
        elif self.seq == 4095:
            self.stamp, self.seq = self.stamp + 1, 0
        else:
            self.seq += 1
        return (self.stamp << 22) + self.machine + self.seq

def snowflake_ids(readings_ms, region, worker):
    if region not in range(32) or worker not in range(32):
        raise ValueError("region and worker are 5 bits each")
    if any(not EPOCH_MS <= r < EPOCH_MS + 2 ** 41 for r in readings_ms):
        raise ValueError("reading out of range")
    w = _Worker(region, worker)
    return [w.next_id(r - EPOCH_MS) for r in readings_ms]
''',
    "cache_key": '''
from urllib.parse import urlsplit

def cache_key(url, request_headers, response_headers, keep_params=None):
    u = urlsplit(url)
    if u.scheme.lower() not in {"http", "https"} or not u.netloc:
        raise ValueError(url)
    req = {k.lower(): v for k, v in request_headers.items()}
    resp = {k.lower(): v for k, v in response_headers.items()}
    cc = [d.strip().lower().partition("=")[0] for d in resp.get("cache-control", "").split(",")]
    vary = sorted({h.strip().lower() for h in resp.get("vary", "").split(",")} - {""})
    if "private" in cc or "no-store" in cc or vary.count("*"):
        return None
    if "authorization" in req and "public" not in cc and "s-maxage" not in cc:
        return None
    query = sorted(q for q in u.query.split("&") if q and (keep_params is None or q.partition("=")[0] in keep_params))
    out = u.scheme.lower() + "://" + u.netloc.lower() + (u.path if u.path else "/") + ("?" + "&".join(query) if query else "")
    return out + "".join("|%s=%s" % (h, req.get(h, "").strip()) for h in vary)
''',
    "dr_objectives": '''
def dr_objectives(strategy, backup_interval_s, replication_lag_s, detection_s, restore_s, provision_s, scale_s,
                  switch_s):
    if min(backup_interval_s, replication_lag_s, detection_s, restore_s, provision_s, scale_s, switch_s) < 0:
        raise ValueError("negative duration")
    table = {
        "backup_restore": (backup_interval_s, [detection_s, provision_s, restore_s, switch_s]),
        "pilot_light": (replication_lag_s, [detection_s, provision_s, scale_s, switch_s]),
        "warm_standby": (replication_lag_s, [detection_s, scale_s, switch_s]),
        "active_active": (replication_lag_s, [detection_s, switch_s]),
    }
    try:
        rpo, steps = table[strategy]
    except KeyError:
        raise ValueError(strategy) from None
    return dict(rto_s=sum(steps), rpo_s=rpo)
''',
    "cheapest_dr": '''
ORDER = ("backup_restore", "pilot_light", "warm_standby", "active_active")

def cheapest_dr(rpo_target_s, rto_target_s, durations, monthly_cost):
    if min(rpo_target_s, rto_target_s) < 0 or set(monthly_cost) != set(ORDER):
        raise ValueError("bad targets or costs")
    best = None
    for name in sorted(ORDER, key=lambda n: (monthly_cost[n], ORDER.index(n))):
        o = dr_objectives(name, **durations)
        if o["rpo_s"] <= rpo_target_s and o["rto_s"] <= rto_target_s:
            best = name
            break
    return best
''',
    "simulate_cdn": '''
import math

class _Tier:
    def __init__(self, ttl, collapse):
        self.ttl, self.collapse, self.entries = ttl, collapse, {}

    def state(self, obj, t):
        if obj in self.entries:
            ready, expires = self.entries[obj]
            if ready <= t < expires:
                return 0
            if t < ready and self.collapse:
                return ready - t
        return None                      # a miss

    def store(self, obj, ready):
        self.entries[obj] = (ready, ready + self.ttl)

def simulate_cdn(trace, ttl_ms, rtt_ms, shield=True, collapse=True):
    if ttl_ms < 0 or any(trace[i][0] > trace[i + 1][0] for i in range(len(trace) - 1)):
        raise ValueError("bad ttl or trace order")
    edges, top = {}, _Tier(ttl_ms, collapse)
    out = dict(requests=len(trace), origin_fetches=0, origin_bytes=0)
    lat, total = [], 0
    for t, region, obj, size in trace:
        total += size
        edge = edges.setdefault(region, _Tier(ttl_ms, collapse))
        wait = edge.state(obj, t)
        if wait is None:
            if shield:
                up = top.state(obj, t)
                if up is None:
                    top.store(obj, t + rtt_ms["shield_origin"])
                    up = rtt_ms["shield_origin"]
                    out["origin_fetches"] += 1
                    out["origin_bytes"] += size
                wait = rtt_ms["shield"][region] + up
            else:
                wait = rtt_ms["origin"][region]
                out["origin_fetches"] += 1
                out["origin_bytes"] += size
            edge.store(obj, t + wait)
        lat.append(rtt_ms["edge"] + wait)
    out["offload"] = (total - out["origin_bytes"]) / total if total else 0.0
    out["p95_ms"] = float(sorted(lat)[-(-95 * len(lat) // 100) - 1]) if lat else 0.0
    out["latencies_ms"] = lat
    return out
''',
    "residency_report": '''
def residency_report(users, residency, default_region, log):
    for country, regions in residency.items():
        if not regions:
            raise ValueError(country)
    home = lambda u: (residency.get(users[u]) or [default_region])[0]
    report = {"homes": {u: home(u) for u in users}, "served_in": [], "crossed": []}
    for i, entry in enumerate(log):
        user, landed, op = entry
        if user not in users or op not in {"read", "write"}:
            raise ValueError(entry)
        ok_regions = residency.get(users[user])
        if ok_regions is not None and landed not in ok_regions:
            report["crossed"].append(i)
            report["served_in"].append(home(user))
        else:
            report["served_in"].append(landed if op == "read" else home(user))
    return report
''',
    "dr_monthly_cost": '''
def dr_monthly_cost(strategy, servers, standby_servers, core_servers, data_gb, changed_gb_per_month, prices):
    plans = {"backup_restore": (0, 1), "pilot_light": (core_servers, 1), "warm_standby": (standby_servers, 1),
             "active_active": (servers, 2)}
    if strategy not in plans or data_gb < 0 or changed_gb_per_month < 0 \\
            or not 0 <= core_servers <= standby_servers <= servers:
        raise ValueError("bad strategy or sizes")
    n, directions = plans[strategy]
    monthly_hours = 365 * 24 / 12                          # 730
    return sum([n * monthly_hours * prices["instance_hour"], data_gb * prices["storage_gb_month"],
                directions * changed_gb_per_month * prices["transfer_gb"]])
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """unhealthy_answers_nothing passes every visible test; only the hidden cases find it."""
    assert_caught_by_hidden_tests(reports["unhealthy_answers_nothing"], WEIGHTED, "seed 1407", "no healthy record")
