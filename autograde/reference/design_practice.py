"""Reference answers and contracts for 15-design-practice (hidden tests only; never shipped to learners).

Conventions stated in the notebook: money is an ``int`` of minor units (cents), never a float; times are ints
(seconds); a feed is ordered newest first, by time, then by post id (the larger first); results are plain data.
"""

from __future__ import annotations

import math

import numpy as np

from autograde.contracts import OMIT, Contract, Rule, boundary, edge, greater_than
from course.practice import (FlakyProvider, ProviderTimeout, chat_simulation, city_ops, paginate_while_posting,
                             run_chat, run_grid, run_payments, run_reservations)


def _is_money(x) -> bool:
    return type(x) is int  # a bool is an int subclass, a float is not money: both refused


# --------------------------------------------------------------------------- ledger

def post_transactions(transactions):
    for t in transactions:
        for _, amount in t["postings"]:
            if not _is_money(amount):
                raise TypeError(f"amounts are ints of minor units, got {amount!r}")
    balances, applied, rejected = {}, set(), []
    for t in transactions:
        tid, postings = t["id"], t["postings"]
        if tid in applied:
            rejected.append([tid, "duplicate"])
        elif len(postings) < 2:
            rejected.append([tid, "too few postings"])
        elif sum(a for _, a in postings) != 0:
            rejected.append([tid, "unbalanced"])
        else:
            applied.add(tid)
            for account, amount in postings:
                balances[account] = balances.get(account, 0) + amount
    return {"balances": [[a, balances[a]] for a in sorted(balances)], "rejected": rejected}


# --------------------------------------------------------------------------- payment API

class ModelPaymentAPI:
    ATTEMPTS = 3

    def __init__(self, provider):
        self.provider = provider
        self.amounts, self.done = {}, {}

    def pay(self, key, amount):
        if not isinstance(key, str) or key == "":
            raise ValueError("key")
        if not _is_money(amount):
            raise TypeError("amount")
        if amount < 1:
            raise ValueError("amount")
        if self.amounts.setdefault(key, amount) != amount:
            raise ValueError("key reused with another amount")
        if key in self.done:
            return dict(self.done[key])
        for _ in range(self.ATTEMPTS):
            try:
                charge_id = self.provider.charge(key, amount)
            except ProviderTimeout:
                charge_id = self.provider.find(key)
                if charge_id is None:
                    continue
            self.done[key] = {"status": "succeeded", "charge_id": charge_id}
            return dict(self.done[key])
        return {"status": "failed"}


def payments_expected(api_class, provider_class, outcomes, requests):
    return run_payments(ModelPaymentAPI, FlakyProvider, outcomes, requests)


# --------------------------------------------------------------------------- reconciliation

def reconcile(ledger, settlement):
    for _, amount in list(ledger) + list(settlement):
        if not _is_money(amount):
            raise TypeError(f"amounts are ints of minor units, got {amount!r}")
    booked = {}
    for ref, amount in ledger:
        if ref in booked:
            raise ValueError(f"reference {ref!r} twice in the ledger")
        booked[ref] = amount
    settled = {}
    for ref, amount in settlement:
        settled.setdefault(ref, []).append(amount)
    report = {"matched": [], "missing_in_settlement": [], "missing_in_ledger": [], "duplicated": [],
              "amount_mismatch": []}
    for ref in sorted(booked):
        rows = settled.get(ref, [])
        if not rows:
            report["missing_in_settlement"].append(ref)
        elif len(rows) > 1:
            report["duplicated"].append(ref)
        elif rows[0] == booked[ref]:
            report["matched"].append(ref)
        else:
            report["amount_mismatch"].append([ref, booked[ref], rows[0]])
    report["missing_in_ledger"] = sorted(r for r in settled if r not in booked)
    return report


# --------------------------------------------------------------------------- feed pagination

def _limit_ok(limit):
    if type(limit) is not int or not 1 <= limit <= 100:
        raise ValueError("limit is an int from 1 to 100")


def feed_page(posts, cursor, limit):
    _limit_ok(limit)
    ordered = sorted(posts, key=lambda p: (p[1], p[0]), reverse=True)
    if cursor is not None:
        after = (cursor[0], cursor[1])
        ordered = [p for p in ordered if (p[1], p[0]) < after]
    items = ordered[:limit]
    return {"items": [p[0] for p in items],
            "cursor": [items[-1][1], items[-1][0]] if len(items) == limit else None}


def pagination_expected(page_fn, posts, limit, new_per_page, seed):
    return paginate_while_posting(feed_page, posts, limit, new_per_page, seed)


# --------------------------------------------------------------------------- hybrid feed

def hybrid_feed(followers, events, threshold, k):
    if type(threshold) is not int or threshold < 0:
        raise ValueError("threshold is an int >= 0")
    if type(k) is not int or k < 1:
        raise ValueError("k is an int >= 1")
    if any(user in fs for user, fs in followers.items()):
        raise ValueError("a user never follows itself")
    celebrity = {a for a, fs in followers.items() if len(fs) >= threshold}
    follows = {}
    for author, fs in followers.items():
        for f in fs:
            follows.setdefault(f, []).append(author)
    inbox, outbox = {}, {}
    writes = fetches = 0
    timelines = []
    for event in events:
        if event[0] == "post":
            _, author, post_id, t = event
            if author in celebrity:
                outbox.setdefault(author, []).append((t, post_id))
            else:
                for f in followers[author]:
                    inbox.setdefault(f, []).append((t, post_id))
                writes += len(followers[author])
        else:
            _, user, t = event
            stars = [a for a in follows.get(user, []) if a in celebrity]
            fetches += len(stars)
            candidates = list(inbox.get(user, []))
            for a in stars:
                candidates += outbox.get(a, [])
            timelines.append([user, [p for _, p in sorted(candidates, reverse=True)[:k]]])
    return {"timelines": timelines, "fanout_writes": writes, "pull_fetches": fetches}


def choose_threshold(followers, events, k, max_fetches_per_read):
    if not max_fetches_per_read >= 0:
        raise ValueError("max_fetches_per_read >= 0")
    reads = sum(1 for e in events if e[0] == "read")
    top = max((len(fs) for fs in followers.values()), default=0) + 1
    for threshold in range(0, top + 1):
        run = hybrid_feed(followers, events, threshold, k)
        per_read = run["pull_fetches"] / reads if reads else 0.0
        if per_read <= max_fetches_per_read:
            return {"threshold": threshold, "fanout_writes": run["fanout_writes"], "fetches_per_read": per_read}
    raise AssertionError("unreachable: a threshold above every follower count pulls nothing")


# --------------------------------------------------------------------------- chat

def assign_sequence(arrivals):
    next_seq, given, out = {}, {}, []
    for conv, _sender, _sender_seq, message_id in arrivals:
        if (conv, message_id) not in given:
            next_seq[conv] = next_seq.get(conv, 0) + 1
            given[(conv, message_id)] = next_seq[conv]
        out.append(given[(conv, message_id)])
    return out


class ModelChatClient:
    def __init__(self):
        self.shown, self.waiting, self.ids = {}, {}, {}

    def receive(self, conv, seq, message_id, text):
        if type(seq) is not int or seq < 1:
            raise ValueError("seq is an int >= 1")
        shown = self.shown.setdefault(conv, [])
        waiting = self.waiting.setdefault(conv, {})
        ids = self.ids.setdefault(conv, set())
        if message_id in ids or seq <= len(shown) or seq in waiting:
            return None
        ids.add(message_id)
        waiting[seq] = message_id
        while len(shown) + 1 in waiting:
            shown.append(waiting.pop(len(shown) + 1))
        return None

    def displayed(self, conv):
        return list(self.shown.get(conv, []))

    def cursor(self, conv):
        return len(self.shown.get(conv, []))


def chat_expected(client_class, ops):
    return run_chat(ModelChatClient, ops)


def chat_simulation_expected(client_class, **case):
    return chat_simulation(ModelChatClient, **case)


def chat_simulation_cases(seed, n):
    """Seeded cases for ``chat_simulation``: 1 to 4 conversations, up to 40 messages, up to 30% drops and
    duplicates, delays up to 10 s."""
    rng = np.random.default_rng(seed)
    return [{"n_convs": int(rng.integers(1, 5)), "n_messages": int(rng.integers(1, 41)),
             "p_drop": float(rng.uniform(0, 0.3)), "p_duplicate": float(rng.uniform(0, 0.3)),
             "max_delay": int(rng.integers(0, 11)), "seed": int(rng.integers(0, 10**6))} for _ in range(n)]


# --------------------------------------------------------------------------- ride sharing

class ModelGrid:
    """Brute force: every available driver's distance, every time (``cells``: the fewest a grid search could report,
    the cells that hold the drivers it returns)."""

    def __init__(self, cell_km):
        if not cell_km > 0:
            raise ValueError("cell_km > 0")
        self.cell_km = cell_km
        self.where = {}

    def update(self, driver, x, y):
        self.where[driver] = (x, y)

    def remove(self, driver):
        self.where.pop(driver, None)

    def distances(self, x, y):
        return sorted((math.hypot(px - x, py - y), d) for d, (px, py) in self.where.items())

    def nearest(self, x, y, k, r):
        if type(k) is not int or k < 1:
            raise ValueError("k is an int >= 1")
        if not r >= 0:
            raise ValueError("r >= 0")
        drivers = [d for dist, d in self.distances(x, y) if dist <= r][:k]
        return {"drivers": drivers, "cells": len({self.cell_of(d) for d in drivers})}

    def cell_of(self, driver):
        return tuple(math.floor(v / self.cell_km) for v in self.where[driver])


def grid_expected(grid_class, cell_km, ops):
    return run_grid(ModelGrid, cell_km, ops)


def _grid_unambiguous(case):
    """No two drivers' distances to a rider closer than 10^-9 km without being equal, and none that close to `r`:
    there, float rounding (hypot or sqrt, in which order) would decide. Exact ties come from equal offsets (drivers
    at one point, or the rule's 3-4-5 triangles), which every method computes alike."""
    if not case["cell_km"] > 0:
        return True
    model = ModelGrid(case["cell_km"])
    for op in case["ops"]:
        if op[0] == "update":
            model.update(op[1], op[2], op[3])
        elif op[0] == "remove":
            model.remove(op[1])
        else:
            dists = [d for d, _ in model.distances(op[1], op[2])]
            if any(0 < abs(d - op[4]) < 1e-9 for d in dists) or any(0 < b - a < 1e-9 for a, b in zip(dists, dists[1:])):
                return False
    return True


# --------------------------------------------------------------------------- matching under contention

def reserve(conn, driver_id, rider_id, now, hold_seconds):
    if not hold_seconds > 0:
        raise ValueError("hold_seconds > 0")
    cursor = conn.execute("UPDATE drivers SET rider = ?, hold_until = ? WHERE id = ? AND "
                          "(rider IS NULL OR hold_until <= ? OR rider = ?)",
                          (rider_id, now + hold_seconds, driver_id, now, rider_id))
    conn.commit()
    return cursor.rowcount == 1


def reservations_expected(reserve_fn, drivers, ops):
    return run_reservations(reserve, drivers, ops)


# --------------------------------------------------------------------------- presence

def presence(heartbeats, timeout, grace, until):
    if not timeout > 0:
        raise ValueError("timeout > 0")
    if not grace >= 0:
        raise ValueError("grace >= 0")
    if any(b < a for a, b in zip(heartbeats, heartbeats[1:])):
        raise ValueError("heartbeats are sorted")
    out, deadline = [], None
    for t in heartbeats:
        if t > until:
            break
        if deadline is None:
            out.append([t, "online"])
        elif t > deadline:
            out += [[deadline, "offline"], [t, "online"]]
        deadline = t + timeout + grace
    if deadline is not None and deadline <= until:
        out.append([deadline, "offline"])
    return out


# --------------------------------------------------------------------------- capacity

def capacity(daily_active_users, actions_per_user, read_write_ratio, bytes_per_write, retention_days,
             peak_factor=3.0, replication=3, rps_per_server=1000, target_utilisation=0.7):
    if min(daily_active_users, actions_per_user, read_write_ratio, bytes_per_write, retention_days) < 0:
        raise ValueError("counts, ratios and sizes are >= 0")
    if peak_factor < 1 or replication < 1 or not rps_per_server > 0 or not 0 < target_utilisation <= 1:
        raise ValueError("peak_factor >= 1, replication >= 1, rps_per_server > 0, 0 < target_utilisation <= 1")
    writes_per_day = daily_active_users * actions_per_user
    average = writes_per_day / 86_400
    peak_writes = average * peak_factor
    peak_reads = peak_writes * read_write_ratio
    return {"writes_per_s": average, "peak_writes_per_s": peak_writes, "peak_reads_per_s": peak_reads,
            "storage_bytes": writes_per_day * bytes_per_write * retention_days * replication,
            "peak_in_bytes_per_s": peak_writes * bytes_per_write, "peak_out_bytes_per_s": peak_reads * bytes_per_write,
            "servers": math.ceil((peak_writes + peak_reads) / (rps_per_server * target_utilisation))}


# --------------------------------------------------------------------------- contracts: draws


_ACCOUNTS = ["cash", "Cash", "revenue", "alice", "bob", "fees", "café", "escrow"]


def _amount(rng):
    return int(rng.choice([1, 99, 100, 1_000, 12_345, 10**6, 10**9])) * int(rng.integers(1, 10))


def _transaction(rng, tid, balanced=True):
    n = int(rng.integers(2, 6))
    accounts = [_ACCOUNTS[int(i)] for i in rng.integers(0, int(rng.integers(2, len(_ACCOUNTS) + 1)), size=n)]
    amounts = [_amount(rng) * int(rng.choice([-1, 1])) for _ in range(n - 1)]
    last = -sum(amounts)
    if not balanced:
        last += int(rng.choice([-1, 1, 100, -10**6]))
    return {"id": tid, "postings": [[a, x] for a, x in zip(accounts, amounts + [last])]}


def _draw_ledger(rng):
    txns, ids = [], []
    for _ in range(int(rng.choice([0, 1, 2, int(rng.integers(3, 40))]))):
        u = rng.random()
        if u < 0.12 and ids:
            txns.append(_transaction(rng, ids[int(rng.integers(len(ids)))]))  # a replay (or a resend)
            continue
        tid = f"t{len(txns)}"
        ids.append(tid)
        if u < 0.22:
            txns.append(_transaction(rng, tid, balanced=False))
        elif u < 0.28:
            txns.append({"id": tid, "postings": [] if rng.random() < 0.5 else [["cash", int(rng.integers(0, 5))]]})
        else:
            txns.append(_transaction(rng, tid))
    return {"transactions": txns}


_T = [{"id": "t1", "postings": [["cash", 1000], ["revenue", -1000]]}]


def _payments_draw(rng):
    keys = [f"k{i}" for i in range(int(rng.integers(1, 7)))]
    amounts = {k: int(rng.integers(1, 10**6)) for k in keys}
    p = rng.dirichlet([2, 1, 1])
    outcomes = [str(x) for x in rng.choice(["ok", "timeout_after", "timeout_before"], size=int(rng.integers(0, 25)),
                                           p=p)]
    requests = []
    for _ in range(int(rng.integers(1, 16))):
        key = keys[int(rng.integers(len(keys)))]
        amount = amounts[key] if rng.random() < 0.9 else amounts[key] + int(rng.integers(1, 5))
        requests.append([key, amount])
    return {"outcomes": outcomes, "requests": requests}


def _reconcile_draw(rng):
    seed = int(rng.integers(0, 10**6))
    n = int(rng.choice([0, 1, 2, int(rng.integers(3, 80))]))
    from course.practice import payment_ledger, settlement_file

    ledger = payment_ledger(n, seed)
    rows = settlement_file(ledger, seed, p_missing=float(rng.uniform(0, 0.3)), p_duplicate=float(rng.uniform(0, 0.3)),
                           p_mismatch=float(rng.uniform(0, 0.3)), n_unknown=int(rng.integers(0, 4)))["rows"]
    return {"ledger": ledger, "settlement": rows}


def _draw_posts(rng):
    from course.practice import feed_posts

    return feed_posts(int(rng.choice([0, 1, 2, int(rng.integers(3, 120))])), int(rng.integers(0, 10**6)),
                      max_gap=int(rng.integers(0, 4)))


def _page_draw(rng):
    posts = _draw_posts(rng)
    limit = int(rng.choice([1, 2, 3, 10, 100, int(rng.integers(1, 101))]))
    cursor = None
    if posts and rng.random() < 0.7:
        p = posts[int(rng.integers(len(posts)))]
        cursor = [p[1], p[0]] if rng.random() < 0.8 else [p[1] + int(rng.integers(-1, 2)), 10**6]
    return {"posts": posts, "cursor": cursor, "limit": limit}


def _paginate_draw(rng):
    return {"posts": _draw_posts(rng), "limit": int(rng.choice([1, 2, 5, int(rng.integers(1, 101))])),
            "new_per_page": int(rng.integers(0, 6)), "seed": int(rng.integers(0, 10**6))}


def pagination_cases(seed, n):
    """Seeded cases for ``paginate_while_posting``: feeds, limits and arrival rates from the whole domain."""
    rng = np.random.default_rng(seed)
    return [{"posts": _TIES, "limit": 2, "new_per_page": 3, "seed": 1}] + [_paginate_draw(rng) for _ in range(n)]


def _small_graph(rng):
    from course.practice import power_law_followers

    n = int(rng.integers(4, 60))
    return power_law_followers(n, int(rng.integers(0, 10**6)), m=int(rng.integers(1, min(4, n - 1) + 1)))


def _feed_draw(rng):
    from course.practice import feed_workload

    followers = _small_graph(rng)
    events = feed_workload(followers, int(rng.integers(0, 60)), int(rng.integers(0, 40)), int(rng.integers(0, 10**6)))
    top = max(len(fs) for fs in followers.values())
    return {"followers": followers, "events": events, "threshold": int(rng.integers(0, top + 3)),
            "k": int(rng.choice([1, 2, 5, 10, int(rng.integers(1, 50))]))}


def _choose_draw(rng):
    case = _feed_draw(rng)
    del case["threshold"]
    case["max_fetches_per_read"] = float(rng.choice([0.0, 0.5, 1.0, float(rng.uniform(0, 4)), 10.0]))
    return case


def _arrivals_draw(rng):
    convs = ["general", "General", "café", "dm-ab"][:int(rng.integers(1, 5))]
    senders = ["ann", "bob", "cy", "dee"][:int(rng.integers(1, 5))]
    counters, sent, arrivals = {}, [], []
    for _ in range(int(rng.choice([0, 1, 2, int(rng.integers(3, 60))]))):
        if sent and rng.random() < 0.25:
            arrivals.append(list(sent[int(rng.integers(len(sent)))]))  # a sender's retry
            continue
        conv, sender = convs[int(rng.integers(len(convs)))], senders[int(rng.integers(len(senders)))]
        counters[(conv, sender)] = counters.get((conv, sender), 0) + 1
        n = counters[(conv, sender)]
        message = [conv, sender, n, f"{sender}-{n}-{int(rng.integers(10**6))}"]
        sent.append(message)
        arrivals.append(list(message))
    return {"arrivals": arrivals}


def _chat_ops_draw(rng):
    from course.practice import chat_deliveries

    run = chat_deliveries(int(rng.integers(1, 4)), int(rng.integers(1, 25)), float(rng.uniform(0, 0.4)),
                          float(rng.uniform(0, 0.4)), int(rng.integers(0, 8)), int(rng.integers(0, 10**6)))
    ops = []
    for conv, seq, message_id, text in run["deliveries"]:
        ops.append(["recv", conv, seq, message_id, text])
        if rng.random() < 0.2:
            ops.append([str(rng.choice(["displayed", "cursor"])), conv])
    for conv in sorted(run["logs"]) + ["unknown"]:
        ops += [["displayed", conv], ["cursor", conv]]
    return {"ops": ops}


def _recv(conv, seq, mid, text="ok"):
    return ["recv", conv, seq, mid, text]


_SHOW = [["displayed", "a"], ["cursor", "a"]]

def _grid_draw(rng):
    cell = float(rng.choice([0.125, 0.25, 0.5, 1.0, 2.0, 5.0]))
    return {"cell_km": cell,
            "ops": city_ops(int(rng.choice([0, 1, 2, int(rng.integers(3, 60))])), int(rng.integers(1, 60)),
                            float(rng.choice([1.0, 5.0, 20.0, 60.0])), int(rng.integers(0, 10**6)),
                            k_max=int(rng.integers(1, 12)), r_max=cell * float(rng.choice([0.5, 1.0, 3.0, 12.0])))}


_EDGE = [["update", "west", 0.999, 0.5], ["update", "east", 1.001, 0.5], ["update", "far", 1.6, 0.5]]

def _presence_draw(rng):
    from course.practice import heartbeat_trace

    interval = float(rng.choice([0.5, 1.0, 5.0, 30.0]))
    sessions, t = [], float(rng.uniform(0, 10 * interval))
    for _ in range(int(rng.integers(0, 4))):
        length = float(rng.uniform(1, 60)) * interval
        sessions.append([round(t, 3), round(t + length, 3)])
        t += length + float(rng.uniform(0, 20)) * interval
    beats = heartbeat_trace(interval, float(rng.uniform(0, 0.4)), float(rng.uniform(0, interval)), sessions,
                            int(rng.integers(0, 10**6)))
    return {"heartbeats": beats, "timeout": interval * float(rng.choice([1.0, 1.5, 2.0, 3.0])),
            "grace": interval * float(rng.choice([0.0, 0.5, 1.0, 2.0, 5.0])),
            "until": round(t + float(rng.uniform(-30, 30)) * interval, 3)}


def _presence_unambiguous(case):
    """No heartbeat (nor `until`) within 10^-6 s of a deadline unless it is exactly there however the deadline is
    summed: `(t + timeout) + grace` and `t + (timeout + grace)` can differ in the last bit."""
    beats, timeout, grace = case.get("heartbeats", []), case.get("timeout", 1.0), case.get("grace", 0.0)
    if not (isinstance(timeout, (int, float)) and isinstance(grace, (int, float))):
        return True
    for a, b in list(zip(beats, beats[1:])) + ([(beats[-1], case.get("until", 0.0))] if beats else []):
        d1, d2 = (a + timeout) + grace, a + (timeout + grace)
        if min(abs(d1 - b), abs(d2 - b)) < 1e-6 and not d1 == d2 == b:
            return False
    return True


_BEATS = [0.0, 1.0, 2.0, 5.0, 6.0]

def _capacity_draw(rng):
    from autograde.contracts import log_uniform

    return {"daily_active_users": round(log_uniform(rng, 1, 2e9)),
            "actions_per_user": round(log_uniform(rng, 0.01, 500), 2),
            "read_write_ratio": round(log_uniform(rng, 0.01, 1000), 2), "bytes_per_write": int(rng.integers(1, 10**7)),
            "retention_days": int(rng.choice([0, 1, 30, 365, 1825, int(rng.integers(1, 3650))])),
            "peak_factor": round(float(rng.uniform(1, 10)), 2), "replication": int(rng.integers(1, 6)),
            "rps_per_server": round(log_uniform(rng, 10, 1e5), 1),
            "target_utilisation": round(float(rng.uniform(0.1, 1.0)), 2)}


def _capacity_unambiguous(case):
    """Servers exactly whole, or clearly not (over 10^-6 away): near a whole number, float noise (which order the
    divisions run in) would decide ceil. The exact boundary has its own rule, with numbers exact in binary."""
    try:
        got = capacity(**case)
    except ValueError:
        return True
    load = got["peak_writes_per_s"] + got["peak_reads_per_s"]
    x = load / (case.get("rps_per_server", 1000) * case.get("target_utilisation", 0.7))
    return x == round(x) or abs(x - round(x)) > 1e-6


_CAP = {"daily_active_users": 86_400, "actions_per_user": 10, "read_write_ratio": 4, "bytes_per_write": 100,
        "retention_days": 10, "peak_factor": 2.0, "replication": 1, "rps_per_server": 100, "target_utilisation": 0.5}

def _reserve_draw(rng):
    drivers = [f"d{i}" for i in range(int(rng.integers(1, 6)))]
    riders = ["ann", "bob", "Ann", "zoë", "cy"][:int(rng.integers(1, 6))]
    now, ops = float(rng.integers(0, 100)), []
    for _ in range(int(rng.integers(1, 30))):
        now += float(rng.choice([0.0, 0.5, 1.0, 5.0, 30.0]))
        driver = drivers[int(rng.integers(len(drivers)))] if rng.random() < 0.95 else "ghost"
        ops.append(["reserve", driver, riders[int(rng.integers(len(riders)))], now,
                    float(rng.choice([0.5, 1.0, 5.0, 30.0, 60.0]))])
    return {"drivers": drivers, "ops": ops}


_HOLD = [["reserve", "d0", "ann", 0.0, 30.0]]

# hand-written cases for the rules

_STAR = {"star": ["a", "b", "c"], "a": ["b"], "b": [], "c": []}
_STAR_EVENTS = [["post", "star", 1, 1], ["post", "a", 2, 2], ["read", "b", 3], ["post", "star", 3, 3],
                ["read", "b", 4], ["read", "c", 5]]
_TIES = [[5, 100], [7, 100], [6, 100], [1, 99], [9, 101]]
_MUTUAL = {"a": ["b"], "b": ["a"]}  # a and b follow each other: neither follows itself
_MUTUAL_EVENTS = [["post", "a", 1, 1], ["post", "b", 2, 2], ["read", "a", 3], ["read", "b", 4]]

CONTRACTS = {c.name: c for c in [
    Contract(
        "post_transactions", post_transactions, draw=_draw_ledger,
        domain="0 to 39 transactions of 0 to 5 postings over accounts that differ in case or are non-ASCII, "
               "amounts from 1 cent to 9 x 10^9, with replays, unbalanced and one-posting transactions",
        rules=[Rule("every amount is an `int` of minor units: a `float` (even `10.0`), a `bool` or a `str` "
                    "raises `TypeError`", raises=TypeError,
                    at=[{"transactions": _T}],
                    inside=[{"transactions": [{"id": "t1", "postings": [["cash", 1], ["fees", -1]]}]}],
                    outside=[{"transactions": [{"id": "t1", "postings": [["cash", 10.0], ["revenue", -10.0]]}]},
                             {"transactions": [{"id": "t1", "postings": [["cash", 0.1], ["b", 0.2], ["c", -0.3]]}]},
                             {"transactions": _T + [{"id": "t2", "postings": [["cash", True], ["b", -1]]}]},
                             {"transactions": _T + [{"id": "t2", "postings": [["cash", "5"], ["b", -5]]}]}]),
               boundary("postings that sum to exactly 0 apply; one cent off is rejected as `\"unbalanced\"`",
                        at={"transactions": _T},
                        inside={"transactions": [{"id": "t1", "postings": [["a", 1], ["b", 1], ["c", -2]]}]},
                        outside=[{"transactions": [{"id": "t1", "postings": [["cash", 1000], ["revenue", -999]]}]},
                                 {"transactions": [{"id": "t1", "postings": [["cash", 999], ["revenue", -1000]]}]}]),
               boundary("a transaction needs at least 2 postings, else it is rejected as `\"too few postings\"`",
                        at={"transactions": _T},
                        inside={"transactions": [{"id": "t1", "postings": [["a", 1], ["b", 1], ["c", -2]]}]},
                        outside=[{"transactions": [{"id": "t1", "postings": [["cash", 0]]}]},
                                 {"transactions": [{"id": "t1", "postings": []}]}]),
               edge("an id already applied is rejected as `\"duplicate\"`; an id that was rejected may be sent "
                    "again and then applies",
                    {"transactions": _T + _T},
                    {"transactions": [{"id": "t1", "postings": [["cash", 5], ["b", -4]]}] + _T + _T}),
               edge("rejections are checked in the order duplicate, too few postings, unbalanced",
                    {"transactions": _T + [{"id": "t1", "postings": [["cash", 3]]}]}),
               edge("every account an applied transaction touched has a row, also when its balance is 0",
                    {"transactions": [{"id": "t1", "postings": [["cash", 0], ["fees", 0]]}]},
                    {"transactions": [{"id": "t1", "postings": [["a", 5], ["b", -5]]},
                                      {"id": "t2", "postings": [["a", -5], ["b", 5]]}]}),
               edge("no transactions: no balances, nothing rejected", {"transactions": []}),
               edge("accounts that differ only in case, and non-ASCII accounts, are different accounts",
                    {"transactions": [{"id": "t1", "postings": [["cash", 5], ["Cash", -5]]},
                                      {"id": "t2", "postings": [["café", 7], ["cafe", -7]]}]})]),
    Contract(
        "PaymentAPI", payments_expected, draw=_payments_draw, supplied=("api_class", "provider_class"),
        domain="1 to 6 keys, 1 to 15 requests with retries, 0 to 24 scripted provider outcomes in random "
               "proportions; some retries change the amount",
        rules=[edge("a retry of a key that succeeded returns the same result and charges nothing",
                    {"outcomes": [], "requests": [["k1", 500], ["k1", 500], ["k1", 500]]}),
               edge("a timeout after charging is found with `find` and is a success: one charge",
                    {"outcomes": ["timeout_after"], "requests": [["k1", 500], ["k1", 500]]}),
               edge("a timeout before charging is retried: one charge",
                    {"outcomes": ["timeout_before", "timeout_after"], "requests": [["k1", 500]]}),
               boundary("`pay` tries the provider at most 3 times, then returns `{\"status\": \"failed\"}`; a later "
                        "call with the same key tries again",
                        at={"outcomes": ["timeout_before"] * 3, "requests": [["k1", 500], ["k1", 500]]},
                        inside={"outcomes": ["timeout_before"] * 2, "requests": [["k1", 500], ["k1", 500]]},
                        outside={"outcomes": ["timeout_before"] * 4, "requests": [["k1", 500], ["k1", 500]]}),
               edge("a key reused with another amount raises `ValueError` and charges nothing, also after a "
                    "failure",
                    {"outcomes": [], "requests": [["k1", 500], ["k1", 501], ["k1", 500]]},
                    {"outcomes": ["timeout_before"] * 3, "requests": [["k1", 500], ["k1", 499]]}),
               edge("an amount that is not an `int` (a `float` such as `5.0`, a `bool`) raises `TypeError`; "
                    "an `int` below 1 raises `ValueError`",
                    {"outcomes": [], "requests": [["k1", 5.0], ["k2", True], ["k3", 0], ["k4", -5], ["k5", 1]]}),
               edge("a key that is not a non-empty `str` raises `ValueError`",
                    {"outcomes": [], "requests": [["", 100], [7, 100], ["k", 100]]}),
               edge("`pay` checks the key first, then the amount's type, then its value: a call that raises fixes no "
                    "amount for its key",
                    {"outcomes": [], "requests": [["", 5.0], [7, True], ["", 0], ["k1", 0], ["k1", 5.0], ["k1", True],
                                                  ["k1", 500], ["k1", 500]]}),
               edge("keys that differ only in case are different keys",
                    {"outcomes": [], "requests": [["K", 100], ["k", 100], ["K", 100]]})]),
    Contract(
        "reconcile", reconcile, draw=_reconcile_draw,
        domain="ledgers of 0 to 79 payments whose amounts repeat (a price list), settlement files with up to 30% "
               "missing, duplicated and mismatched rows and 0 to 3 unknown charges, shuffled",
        rules=[Rule("every amount is an `int` of minor units: a `float` or a `bool` raises `TypeError`",
                    raises=TypeError,
                    at={"ledger": [["p1", 500]], "settlement": [["p1", 500]]},
                    inside={"ledger": [["p1", 0]], "settlement": []},
                    outside=[{"ledger": [["p1", 5.0]], "settlement": [["p1", 500]]},
                             {"ledger": [["p1", 500]], "settlement": [["p1", 500.0]]},
                             {"ledger": [["p1", 1]], "settlement": [["p1", True]]}]),
               Rule("a reference twice in the ledger raises `ValueError`",
                    at={"ledger": [["p1", 5], ["p2", 5]], "settlement": []},
                    inside={"ledger": [["p1", 5], ["P1", 5]], "settlement": []},
                    outside={"ledger": [["p1", 5], ["p1", 5]], "settlement": []}),
               edge("rows are matched by reference, never by amount: equal amounts on other references do not match",
                    {"ledger": [["p1", 500], ["p2", 700]], "settlement": [["p3", 500], ["p2", 500]]}),
               boundary("a reference settled more than once is `duplicated` (whatever its amounts), not matched",
                        at={"ledger": [["p1", 500]], "settlement": [["p1", 500], ["p1", 500]]},
                        inside={"ledger": [["p1", 500]], "settlement": [["p1", 500]]},
                        outside={"ledger": [["p1", 500]], "settlement": [["p1", 500], ["p1", 400], ["p1", 500]]}),
               boundary("one cent of difference is an `amount_mismatch`",
                        at={"ledger": [["p1", 500]], "settlement": [["p1", 500]]},
                        inside={"ledger": [["p1", 500]], "settlement": [["p1", 500]]},
                        outside=[{"ledger": [["p1", 500]], "settlement": [["p1", 499]]},
                                 {"ledger": [["p1", 500]], "settlement": [["p1", 501]]}]),
               edge("a reference only in the settlement file is `missing_in_ledger`, listed once even when settled "
                    "twice",
                    {"ledger": [], "settlement": [["x1", 5], ["x1", 5], ["x0", 9]]}),
               edge("empty ledger and file: every list empty", {"ledger": [], "settlement": []})]),
    Contract(
        "feed_page", feed_page, draw=_page_draw,
        domain="0 to 119 posts with ties in time, ids in shuffled order, limits 1 to 100, cursors of posts still "
               "in the feed and of posts no longer there",
        rules=[Rule("`limit` is an `int` from 1 to 100 (a `bool` is not an `int` here), else `ValueError`",
                    at=[{"limit": 1}, {"limit": 100}], inside=[{"limit": 2}, {"limit": 99}],
                    outside=[{"limit": 0}, {"limit": 101}, {"limit": 2.0}, {"limit": True}]),
               boundary("a page of exactly `limit` posts returns a cursor (the next page may be empty); a shorter "
                        "page returns `None`",
                        at={"posts": _TIES, "cursor": None, "limit": 5},
                        inside={"posts": _TIES, "cursor": None, "limit": 4},
                        outside={"posts": _TIES, "cursor": None, "limit": 6}),
               edge("posts with the same time are ordered by id, the larger first; the cursor continues "
                    "inside a tie", {"posts": _TIES, "cursor": [100, 7], "limit": 2},
                    {"posts": _TIES, "cursor": [100, 6], "limit": 10}),
               edge("a cursor whose post is gone still continues after its place",
                    {"posts": _TIES, "cursor": [100, 8], "limit": 3}),
               edge("no posts: no items, cursor `None`", {"posts": [], "cursor": None, "limit": 10})]),
    Contract(
        "hybrid_feed", hybrid_feed, draw=_feed_draw,
        domain="power-law graphs of 4 to 59 users (1 to 4 follows per new user), 0 to 59 posts and 0 to 39 reads, "
               "thresholds from 0 to 2 above the largest follower count, k from 1 to 49",
        rules=[Rule("`threshold` is an `int` >= 0 (a `bool` is not an `int` here), else `ValueError`",
                    at={"threshold": 0}, inside={"threshold": 1},
                    outside=[{"threshold": -1}, {"threshold": 2.5}, {"threshold": True}]),
               Rule("`k` is an `int` >= 1 (a `bool` is not an `int` here), else `ValueError`",
                    at={"k": 1}, inside={"k": 2}, outside=[{"k": 0}, {"k": 3.0}, {"k": True}]),
               Rule("a user never follows itself: a user in its own list of followers raises `ValueError`",
                    at={"followers": _STAR, "events": _STAR_EVENTS},
                    inside={"followers": _MUTUAL, "events": _MUTUAL_EVENTS},
                    outside=[{"followers": {**_STAR, "c": ["c"]}, "events": _STAR_EVENTS + [["post", "c", 4, 6]]},
                             {"followers": {**_STAR, "star": ["a", "b", "c", "star"]}, "events": _STAR_EVENTS},
                             {"followers": {**_MUTUAL, "a": ["b", "a"]}, "events": _MUTUAL_EVENTS}]),
               boundary("an author with at least `threshold` followers is a celebrity (pulled at read time); "
                        "fewer, and its posts are pushed to every follower",
                        at={"followers": _STAR, "events": _STAR_EVENTS, "threshold": 3, "k": 5},
                        inside={"followers": _STAR, "events": _STAR_EVENTS, "threshold": 2, "k": 5},
                        outside={"followers": _STAR, "events": _STAR_EVENTS, "threshold": 4, "k": 5}),
               edge("a read sees only posts made before it, newest first, ties in time by id, the larger first",
                    {"followers": _STAR, "events": [["post", "star", 7, 1], ["post", "a", 9, 1], ["read", "b", 1],
                                                    ["post", "a", 8, 2], ["read", "b", 2]], "threshold": 2, "k": 5}),
               edge("a user who follows no one reads an empty timeline; no events, no costs",
                    {"followers": _STAR, "events": [["read", "star", 1]], "threshold": 1, "k": 3},
                    {"followers": _STAR, "events": [], "threshold": 1, "k": 3})]),
    Contract(
        "choose_threshold", choose_threshold, draw=_choose_draw,
        domain="the same workloads, targets from 0 to 10 fetches per read",
        rules=[Rule("`max_fetches_per_read` >= 0, else `ValueError`",
                    at={"max_fetches_per_read": 0.0}, inside={"max_fetches_per_read": 0.25},
                    outside={"max_fetches_per_read": -0.25}),
               boundary("a threshold whose fetches per read equal the target meets it",
                        at={"followers": _STAR, "events": _STAR_EVENTS, "k": 5, "max_fetches_per_read": 1.0},
                        inside={"followers": _STAR, "events": _STAR_EVENTS, "k": 5, "max_fetches_per_read": 1.1},
                        outside={"followers": _STAR, "events": _STAR_EVENTS, "k": 5, "max_fetches_per_read": 0.9}),
               edge("no reads: 0 fetches per read, so threshold 0 (pull everything) wins",
                    {"followers": _STAR, "events": [["post", "a", 1, 1]], "k": 5, "max_fetches_per_read": 0.0})]),
    Contract(
        "assign_sequence", assign_sequence, draw=_arrivals_draw,
        domain="0 to 59 arrivals in 1 to 4 conversations (names that differ in case, non-ASCII) from 1 to 4 "
               "senders, a quarter of them retries of an earlier message",
        rules=[edge("each conversation counts from 1 on its own, in arrival order, whatever the senders' counters",
                    {"arrivals": [["a", "ann", 1, "x1"], ["a", "bob", 1, "y1"], ["b", "ann", 1, "x2"],
                                  ["a", "ann", 2, "x3"]]}),
               edge("a retried message (same conversation, same id) gets the seq it got the first time",
                    {"arrivals": [["a", "ann", 1, "x1"], ["a", "bob", 1, "y1"], ["a", "ann", 1, "x1"],
                                  ["a", "bob", 2, "y2"]]}),
               edge("the same id in another conversation is another message",
                    {"arrivals": [["a", "ann", 1, "m"], ["b", "ann", 1, "m"], ["a", "ann", 1, "m"]]},
                    {"arrivals": [["a", "ann", 1, "p"], ["a", "ann", 2, "x"], ["b", "bob", 1, "x"]]},
                    {"arrivals": [["a", "ann", 1, "x"], ["b", "bob", 1, "y"], ["b", "bob", 2, "x"], ["a", "ann", 1, "x"],
                                  ["b", "bob", 2, "x"]]}),
               edge("conversations that differ only in case are different conversations",
                    {"arrivals": [["a", "ann", 1, "m1"], ["A", "ann", 1, "m2"], ["a", "ann", 2, "m3"]]}),
               edge("no arrivals: no seqs", {"arrivals": []})]),
    Contract(
        "ChatClient", chat_expected, draw=_chat_ops_draw, supplied=("client_class",),
        domain="1 to 3 conversations of 1 to 24 messages, up to 40% of copies dropped and duplicated, delays up "
               "to 7 s, with reads of `displayed` and `cursor` in between",
        rules=[boundary("`receive` raises `ValueError` for a `seq` that is not an `int` >= 1 (a `bool` is not an "
                        "`int` here)",
                        at={"ops": [_recv("a", 1, "m1")] + _SHOW},
                        inside={"ops": [_recv("a", 2, "m2"), _recv("a", 1, "m1")] + _SHOW},
                        outside=[{"ops": [_recv("a", 0, "m0")] + _SHOW}, {"ops": [_recv("a", 1.0, "m1")] + _SHOW},
                                 {"ops": [_recv("a", -1, "m1"), _recv("a", 1, "m1")] + _SHOW},
                                 {"ops": [_recv("a", True, "m1"), _recv("a", 1, "m1")] + _SHOW}]),
               edge("a message waits until every smaller seq is displayed, then they show in seq order",
                    {"ops": [_recv("a", 3, "m3"), _recv("a", 2, "m2")] + _SHOW + [_recv("a", 1, "m1")] + _SHOW}),
               edge("a duplicate delivery (same id) is shown once, also while it waits",
                    {"ops": [_recv("a", 2, "m2"), _recv("a", 2, "m2"), _recv("a", 1, "m1"), _recv("a", 1, "m1"),
                             _recv("a", 2, "m2")] + _SHOW}),
               edge("different messages with the same text are different messages",
                    {"ops": [_recv("a", 1, "m1", "ok"), _recv("a", 2, "m2", "ok"), _recv("a", 3, "m3", "ok")]
                     + _SHOW}),
               edge("a seq already displayed or already waiting is ignored, whatever its id; an id so ignored does "
                    "not count as received (it is kept if it comes again with a free seq)",
                    {"ops": [_recv("a", 1, "m1"), _recv("a", 1, "zz"), _recv("a", 3, "m3"), _recv("a", 3, "yy"),
                             _recv("a", 2, "m2")] + _SHOW},
                    {"ops": [_recv("a", 1, "m1"), _recv("a", 1, "zz"), _recv("a", 2, "zz")] + _SHOW},
                    {"ops": [_recv("a", 3, "m3"), _recv("a", 3, "yy"), _recv("a", 1, "m1"), _recv("a", 2, "yy")]
                     + _SHOW}),
               edge("conversations are independent; names that differ in case differ; an unknown one shows "
                    "nothing, cursor 0",
                    {"ops": [_recv("a", 1, "m1"), _recv("A", 2, "m2"), _recv("b", 1, "m1")] + _SHOW
                     + [["displayed", "A"], ["cursor", "A"], ["displayed", "b"], ["displayed", "zz"],
                        ["cursor", "zz"]]})]),
    Contract(
        "DriverGrid", grid_expected, draw=_grid_draw, accept=_grid_unambiguous, supplied=("grid_class",),
        domain="cells of 0.125 to 5 km, cities 1 to 60 km wide around (0, 0) (negative coordinates too), 0 to 59 "
               "drivers that move, leave and come back, radii up to 12 cells, k from 1 to 11",
        rules=[greater_than("cell_km", 0, step=0.125, says="`cell_km` > 0, else `ValueError`"),
               boundary("a driver just across a cell edge is found when within `r`",
                        at={"cell_km": 1.0, "ops": _EDGE + [["nearest", 0.999, 0.5, 3, 0.5]]},
                        inside={"cell_km": 1.0, "ops": _EDGE + [["nearest", 1.001, 0.5, 3, 0.5]]},
                        outside={"cell_km": 1.0, "ops": _EDGE + [["nearest", 0.98, 0.5, 3, 0.02]]}),
               boundary("a driver at exactly `r` counts; farther does not",
                        at={"cell_km": 1.0, "ops": [["update", "a", 3.0, 4.0], ["nearest", 0.0, 0.0, 5, 5.0]]},
                        inside={"cell_km": 1.0, "ops": [["update", "a", 3.0, 4.0], ["nearest", 0.0, 0.0, 5, 5.5]]},
                        outside={"cell_km": 1.0, "ops": [["update", "a", 3.0, 4.0], ["nearest", 0.0, 0.0, 5, 4.5]]}),
               edge("a radius wider than several cells finds drivers several cells away; negative coordinates work",
                    {"cell_km": 0.5, "ops": [["update", "a", -3.2, -0.1], ["update", "b", 2.9, 2.9],
                                             ["update", "c", -0.2, -0.3], ["nearest", 0.1, 0.1, 5, 4.5]]}),
               edge("equal distances are ordered by driver id; at most `k` are returned",
                    {"cell_km": 1.0, "ops": [["update", "b", 3.0, 4.0], ["update", "a", 4.0, 3.0],
                                             ["update", "c", 0.0, 5.0], ["nearest", 0.0, 0.0, 2, 6.0],
                                             ["nearest", 0.0, 0.0, 5, 6.0]]}),
               edge("a moved driver is found only at its new place; a removed one is not found; `remove` of an "
                    "unknown driver does nothing",
                    {"cell_km": 1.0, "ops": [["update", "a", 0.2, 0.2], ["update", "a", 7.5, 7.5], ["remove", "zz"],
                                             ["nearest", 0.0, 0.0, 3, 2.0], ["nearest", 7.0, 7.0, 3, 2.0],
                                             ["remove", "a"], ["nearest", 7.0, 7.0, 3, 2.0]]}),
               edge("`k` is an `int` >= 1 (a `bool` is not an `int` here) and `r` >= 0, else `nearest` raises "
                    "`ValueError`; `r` = 0 finds a driver exactly at the rider",
                    {"cell_km": 1.0, "ops": [["update", "a", 0.5, 0.5], ["nearest", 0.5, 0.5, 0, 1.0],
                                             ["nearest", 0.5, 0.5, 1.5, 1.0], ["nearest", 0.5, 0.5, True, 1.0],
                                             ["nearest", 0.5, 0.5, 1, -0.001],
                                             ["nearest", 0.5, 0.5, 1, 0.0]]}),
               edge("no drivers: nothing found", {"cell_km": 1.0, "ops": [["nearest", 0.0, 0.0, 3, 10.0]]})]),
    Contract(
        "presence", presence, draw=_presence_draw, accept=_presence_unambiguous,
        domain="0 to 3 sessions of 1 to 60 heartbeat intervals (0.5 to 30 s), up to 40% of heartbeats lost and "
               "delays up to one interval, timeouts of 1 to 3 intervals, grace of 0 to 5 intervals, `until` before, "
               "inside or after the last session",
        rules=[greater_than("timeout", 0, step=0.5, says="`timeout` > 0, else `ValueError`"),
               Rule("`grace` >= 0, else `ValueError`", at={"grace": 0.0}, inside={"grace": 0.5},
                    outside={"grace": -0.5}),
               Rule("`heartbeats` are sorted (equal times allowed), else `ValueError`",
                    at={"heartbeats": [1.0, 1.0, 2.0]}, inside={"heartbeats": [1.0, 2.0]},
                    outside={"heartbeats": [2.0, 1.0]}),
               boundary("offline at `last + timeout + grace` when no heartbeat came by then; a heartbeat at that "
                        "very moment keeps the user online",
                        at={"heartbeats": _BEATS, "timeout": 2.0, "grace": 1.0, "until": 10.0},
                        inside={"heartbeats": _BEATS, "timeout": 2.0, "grace": 1.5, "until": 10.0},
                        outside={"heartbeats": _BEATS, "timeout": 2.0, "grace": 0.5, "until": 10.0}),
               boundary("transitions up to `until` included",
                        at={"heartbeats": _BEATS, "timeout": 2.0, "grace": 1.0, "until": 9.0},
                        inside={"heartbeats": _BEATS, "timeout": 2.0, "grace": 1.0, "until": 9.5},
                        outside={"heartbeats": _BEATS, "timeout": 2.0, "grace": 1.0, "until": 8.5}),
               edge("no heartbeats: never online", {"heartbeats": [], "timeout": 2.0, "grace": 1.0, "until": 9.0}),
               edge("a heartbeat at exactly `until` is seen",
                    {"heartbeats": [0.0, 1.0, 10.0], "timeout": 2.0, "grace": 0.0, "until": 10.0},
                    {"heartbeats": [10.0], "timeout": 2.0, "grace": 0.0, "until": 10.0}),
               edge("heartbeats after `until` are not seen",
                    {"heartbeats": [0.0, 1.0, 20.0], "timeout": 2.0, "grace": 0.0, "until": 10.0})]),
    Contract(
        "capacity", capacity, draw=_capacity_draw, accept=_capacity_unambiguous,
        domain="1 to 2 x 10^9 daily users, 0.01 to 500 actions each, 0.01 to 1,000 reads per write, writes up to "
               "10 MB, 0 to 10 years kept, peak factors 1 to 10, 1 to 5 replicas, 10 to 10^5 requests/s per server",
        rules=[Rule("`daily_active_users`, `actions_per_user`, `read_write_ratio`, `bytes_per_write` and "
                    "`retention_days` are >= 0, else `ValueError`",
                    at=[{"daily_active_users": 0}, {"read_write_ratio": 0}, {"retention_days": 0}],
                    inside=[{"actions_per_user": 0.5}, {"bytes_per_write": 1}],
                    outside=[{"daily_active_users": -1}, {"actions_per_user": -0.5}, {"read_write_ratio": -1},
                             {"bytes_per_write": -1}, {"retention_days": -1}]),
               Rule("`peak_factor` >= 1 and `replication` >= 1, else `ValueError`",
                    at=[{"peak_factor": 1.0}, {"replication": 1}], inside=[{"peak_factor": 1.01}, {"replication": 2}],
                    outside=[{"peak_factor": 0.99}, {"replication": 0}]),
               greater_than("rps_per_server", 0, step=0.5, says="`rps_per_server` > 0, else `ValueError`"),
               Rule("`target_utilisation` is in (0, 1], else `ValueError`",
                    at=[{"target_utilisation": 1.0}],
                    inside=[{"target_utilisation": 0.01}, {"target_utilisation": 0.99}],
                    outside=[{"target_utilisation": 0.0}, {"target_utilisation": 1.01}, {"target_utilisation": 70}]),
               boundary("a load that needs exactly n servers at the target gets n, not n + 1",
                        at=_CAP, inside={**_CAP, "read_write_ratio": 3.9}, outside={**_CAP, "read_write_ratio": 4.1}),
               edge("the defaults are a peak factor of 3, 3 replicas, 1,000 requests/s per server at 70%",
                    {"peak_factor": OMIT, "replication": OMIT, "rps_per_server": OMIT, "target_utilisation": OMIT})]),
    Contract(
        "reserve", reservations_expected, draw=_reserve_draw, supplied=("reserve_fn",),
        domain="1 to 5 drivers, 1 to 5 riders (names that differ in case, non-ASCII), 1 to 29 requests at times that "
               "advance by 0 to 30 s, holds of 0.5 to 60 s, a few for a driver that does not exist",
        rules=[boundary("a hold ends at `now + hold_seconds`: from that moment another rider may take the driver",
                        at={"drivers": ["d0"], "ops": _HOLD + [["reserve", "d0", "bob", 30.0, 30.0]]},
                        inside={"drivers": ["d0"], "ops": _HOLD + [["reserve", "d0", "bob", 30.5, 30.0]]},
                        outside={"drivers": ["d0"], "ops": _HOLD + [["reserve", "d0", "bob", 29.5, 30.0]]}),
               edge("the rider who holds the driver gets `True` again, and the hold restarts",
                    {"drivers": ["d0"], "ops": _HOLD + [["reserve", "d0", "ann", 20.0, 30.0],
                                                        ["reserve", "d0", "bob", 35.0, 30.0]]}),
               edge("riders whose names differ only in case are different riders",
                    {"drivers": ["d0"], "ops": _HOLD + [["reserve", "d0", "Ann", 1.0, 30.0]]}),
               edge("a driver that does not exist is `False` and changes nothing",
                    {"drivers": ["d0"], "ops": [["reserve", "ghost", "ann", 0.0, 30.0]]}),
               edge("`hold_seconds` <= 0 raises `ValueError` and changes nothing",
                    {"drivers": ["d0"], "ops": [["reserve", "d0", "ann", 0.0, 0.0],
                                                ["reserve", "d0", "bob", 0.0, -5.0],
                                                ["reserve", "d0", "cy", 0.0, 0.5]]},
                    {"drivers": ["d0", "d1"], "ops": [["reserve", "d0", "ann", 5.0, 0.0],
                                                      ["reserve", "d1", "bob", 5.0, -5.0]]},
                    {"drivers": ["d0"], "ops": _HOLD + [["reserve", "d0", "bob", 40.0, 0.0]]},
                    {"drivers": ["d0"], "ops": _HOLD + [["reserve", "d0", "ann", 10.0, -1.0]]})]),
]}
