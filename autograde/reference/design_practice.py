"""Reference answers and contracts for 15-design-practice (hidden tests only; never shipped to learners).

Conventions stated in the notebook: money is an ``int`` of minor units (cents), never a float; times are ints
(seconds); a feed is ordered newest first, by time, then by post id (the larger first); results are plain data.
"""

from __future__ import annotations

import numpy as np

from autograde.contracts import Contract, Rule, boundary, edge
from course.practice import FlakyProvider, ProviderTimeout, paginate_while_posting, run_payments


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


# hand-written cases for the rules
_STAR = {"star": ["a", "b", "c"], "a": ["b"], "b": [], "c": []}
_STAR_EVENTS = [["post", "star", 1, 1], ["post", "a", 2, 2], ["read", "b", 3], ["post", "star", 3, 3],
                ["read", "b", 4], ["read", "c", 5]]
_TIES = [[5, 100], [7, 100], [6, 100], [1, 99], [9, 101]]

CONTRACTS = {c.name: c for c in [
    Contract(
        "post_transactions", post_transactions, draw=_draw_ledger,
        domain="0 to 39 transactions of 0 to 5 postings over accounts that differ in case or are non-ASCII, "
               "amounts from 1 cent to 9 x 10^9, with replays, unbalanced and one-posting transactions",
        rules=[Rule("every amount is an `int` of minor units: a `float` (even `10.0`), a `bool` or a `str` "
                    "raises `TypeError`", raises=TypeError,
                    at=[{"transactions": _T}],
                    inside=[{"transactions": [{"id": "t1", "postings": [["cash", 0], ["fees", 0]]}]}],
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
        rules=[Rule("`limit` is an `int` from 1 to 100, else `ValueError`",
                    at=[{"limit": 1}, {"limit": 100}], inside=[{"limit": 2}, {"limit": 99}],
                    outside=[{"limit": 0}, {"limit": 101}, {"limit": 2.0}]),
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
        rules=[Rule("`threshold` is an `int` >= 0, else `ValueError`",
                    at={"threshold": 0}, inside={"threshold": 1}, outside=[{"threshold": -1}, {"threshold": 2.5}]),
               Rule("`k` is an `int` >= 1, else `ValueError`",
                    at={"k": 1}, inside={"k": 2}, outside=[{"k": 0}, {"k": 3.0}]),
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
]}
