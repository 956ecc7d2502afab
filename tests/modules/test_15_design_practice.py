"""Module 15: the classic mistakes of the design deep dives lose exactly their points; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import (Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly,
                         assert_release_answer_cells_define_their_names)

ASSIGNMENT = "15-design-practice"

LEDGER, PAY, RECONCILE = "correct_post_transactions", "correct_payment_api", "correct_reconcile"
PAGE, HYBRID, CHOOSE = "correct_feed_page", "correct_hybrid_feed", "correct_choose_threshold"
SEQUENCE, CHAT, GRID = "correct_assign_sequence", "correct_chat_client", "correct_driver_grid"
PRESENCE, CAPACITY, RESERVE = "correct_presence", "correct_capacity", "correct_reserve"

_BY_AMOUNT = '''    unmatched = list(settlement)
    for reference in sorted(booked):
        twin = next((row for row in unmatched if row[1] == booked[reference]), None)
        if twin is None:
            report["missing_in_settlement"].append(reference)
        else:
            unmatched.remove(twin)
            report["matched"].append(reference)
    report["missing_in_ledger"] = sorted({r for r, _ in unmatched})
'''

MUTANTS = {
    # payments
    "float_money_accepted": Mutant(
        "post_transactions", "            if type(amount) is not int:\n", "            if isinstance(amount, str):\n",
        frozenset({LEDGER}), "float money: 19.99 accepted as an amount (and True as 1 cent)"),
    "replay_applied_twice": Mutant(
        "post_transactions", '        if tid in applied:\n            reason = "duplicate"\n        elif', "        if",
        frozenset({LEDGER}), "no check of transaction ids: a replayed transaction is applied twice"),
    "unbalanced_applied": Mutant(
        "post_transactions", "sum(amount for _, amount in postings) != 0", "False",
        frozenset({LEDGER}), "postings not required to sum to zero: balances drift"),
    "zero_balances_dropped": Mutant(
        "post_transactions", "[[account, balances[account]] for account in sorted(balances)]",
        "[[account, balances[account]] for account in sorted(balances) if balances[account]]",
        frozenset({LEDGER}), "accounts whose balance came back to 0 dropped from the balances"),
    "retry_charges_twice": Mutant(
        "payment_api", "                    found = self.provider.find(key)\n",
        "                    found = None\n",
        frozenset({PAY}), "a timeout is retried blindly: a charge that happened before the timeout is made again"),
    "no_idempotency_store": Mutant(
        "payment_api", "        if key not in self.succeeded:\n", "        if True:\n",
        frozenset({PAY}), "the client's retry charges again: no stored result per key"),
    "key_reused_with_other_amount": Mutant(
        "payment_api", "        if self.amount_of.setdefault(key, amount) != amount:\n", "        if False:\n",
        frozenset({PAY}), "a key reused with another amount returns the first payment's result"),
    "reconcile_by_amount": Mutant(
        "reconcile", None, None, frozenset({RECONCILE}),
        "reconciliation that matches on amount alone (equal amounts on other references pair up)"),
    "unknown_listed_per_row": Mutant(
        "reconcile", 'report["missing_in_ledger"] = sorted(set(rows) - set(booked))',
        'report["missing_in_ledger"] = sorted(r for r, _ in settlement if r not in booked)',
        frozenset({RECONCILE}), "a charge settled twice but never booked is listed twice (only hidden tests see it)"),
    # feed
    "offset_pagination": Mutant(
        "feed_page", None, None, frozenset({PAGE}),
        "offset pagination: the cursor is the number of posts already shown"),
    "inclusive_cursor": Mutant(
        "feed_page", "newest_first = [key for key in newest_first if key < last]",
        "newest_first = [key for key in newest_first if key <= last]",
        frozenset({PAGE}), "the page starts at the cursor's post, not after it: one duplicate per page"),
    "ties_by_smaller_id": Mutant(
        "feed_page", "newest_first = sorted(((time, post_id) for post_id, time in posts), reverse=True)",
        "newest_first = sorted(((-time, post_id) for post_id, time in posts))\n    "
        "newest_first = [(-t, p) for t, p in newest_first]",
        frozenset({PAGE}), "posts with equal times ordered by the smaller id first, against the stated order"),
    "celebrity_fanned_out": Mutant(
        "hybrid_feed", "            if is_celebrity[author]:\n                own_posts",
        "            if False:\n                own_posts",
        frozenset({HYBRID, CHOOSE}), "a celebrity's post fanned out on write (its followers' reads still pull)"),
    "threshold_exclusive": Mutant(
        "hybrid_feed", "len(fs) >= threshold", "len(fs) > threshold",
        frozenset({HYBRID, CHOOSE}), "an author with exactly `threshold` followers not treated as a celebrity"),
    "own_posts_when_self_followed": Mutant(
        "hybrid_feed", '    if any(user in fs for user, fs in followers.items()):\n'
                       '        raise ValueError("a user never follows itself")\n', "",
        frozenset({HYBRID}), "a self-follow accepted: the reader's own posts reach its own feed (one bug, one "
                             "exercise: choose_threshold's cases have no self-follow)"),
    "limit_bool_accepted": Mutant(
        "feed_page", "    if type(limit) is not int or not 1 <= limit <= 100:",
        "    if not isinstance(limit, int) or not 1 <= limit <= 100:",
        frozenset({PAGE}), "limit=True taken as 1: a bool passes an isinstance(int) check"),
    "target_met_exactly_missed": Mutant(
        "choose_threshold", "if per_read <= max_fetches_per_read:", "if per_read < max_fetches_per_read:",
        frozenset({CHOOSE}), "a target met exactly counted as missed"),
    # chat
    "sender_assigned_seq": Mutant(
        "assign_sequence", "    for conv, _, _, message_id in arrivals:",
        "    for conv, _, sender_seq, message_id in arrivals:\n        seqs.append(sender_seq)\n        continue",
        frozenset({SEQUENCE}), "sequence numbers assigned by senders: two senders' first messages are both 1"),
    "retry_gets_new_seq": Mutant(
        "assign_sequence", "        if key not in assigned:\n", "        if True:\n",
        frozenset({SEQUENCE}), "a sender's retry is numbered again: the message appears twice"),
    "retry_across_conversations": Mutant(
        "assign_sequence", "        key = (conv, message_id)\n", "        key = message_id\n",
        frozenset({SEQUENCE}), "retries detected by message id across all conversations: the same id in another "
                               "conversation takes the first one's seq"),
    "seq_bool_accepted": Mutant(
        "chat_client", "        if type(seq) is not int or seq < 1:", "        if not isinstance(seq, int) or seq < 1:",
        frozenset({CHAT}), "seq=True taken as 1: a bool passes an isinstance(int) check"),
    "seq_clash_id_kept": Mutant(
        "chat_client", '        if message_id in state["ids"] or seq <= len(state["shown"]) or seq in state["waiting"]:\n'
                       '            return None\n        state["ids"].add(message_id)\n',
        '        if message_id in state["ids"]:\n            return None\n        state["ids"].add(message_id)\n'
        '        if seq <= len(state["shown"]) or seq in state["waiting"]:\n            return None\n',
        frozenset({CHAT}), "an id ignored for its seq counted as received: it is lost when it comes again with a "
                           "free seq"),
    "dedup_by_content": Mutant(
        "chat_client",
        'if message_id in state["ids"] or seq <= len(state["shown"]) or seq in state["waiting"]:\n'
        '            return None\n        state["ids"].add(message_id)',
        'if text in state["ids"] or seq <= len(state["shown"]) or seq in state["waiting"]:\n'
        '            return None\n        state["ids"].add(text)',
        frozenset({CHAT}), "de-duplication by content: a second \"ok\" is taken for a duplicate and lost"),
    "display_on_arrival": Mutant(
        "chat_client", '        while len(state["shown"]) + 1 in state["waiting"]:\n'
                       '            state["shown"].append(state["waiting"].pop(len(state["shown"]) + 1))\n',
        '        state["shown"].append(state["waiting"].pop(seq))\n',
        frozenset({CHAT}), "messages displayed as they arrive: reordering shows them out of order"),
    # ride sharing
    "own_cell_only": Mutant(
        "driver_grid",
        "        for cx in range(math.floor((x - r) / size), math.floor((x + r) / size) + 1):\n"
        "            for cy in range(math.floor((y - r) / size), math.floor((y + r) / size) + 1):\n",
        "        for cx in [math.floor(x / size)]:\n            for cy in [math.floor(y / size)]:\n",
        frozenset({GRID}), "a grid search of the rider's own cell: misses drivers just across a cell edge"),
    "three_by_three": Mutant(
        "driver_grid",
        "        for cx in range(math.floor((x - r) / size), math.floor((x + r) / size) + 1):\n"
        "            for cy in range(math.floor((y - r) / size), math.floor((y + r) / size) + 1):\n",
        "        for cx in range(math.floor(x / size) - 1, math.floor(x / size) + 2):\n"
        "            for cy in range(math.floor(y / size) - 1, math.floor(y / size) + 2):\n",
        frozenset({GRID}), "always the 3 x 3 cells around the rider: misses drivers when r is wider than a cell"),
    "truncated_cells": Mutant(
        "driver_grid", "cell = (math.floor(x / self.cell_km), math.floor(y / self.cell_km))",
        "cell = (int(x / self.cell_km), int(y / self.cell_km))",
        frozenset({GRID}), "int() truncates towards zero: drivers west or south of the centre sit in the wrong cell"),
    "radius_exclusive": Mutant(
        "driver_grid", "if distance <= r:", "if distance < r:",
        frozenset({GRID}), "a driver at exactly r km is left out"),
    "double_booked_driver": Mutant(
        "reserve", None, None, frozenset({RESERVE}),
        "check, then book in a second statement: two riders racing for one driver both get it"),
    "zero_hold_books_then_raises": Mutant(
        "reserve", '    if not hold_seconds > 0:\n        raise ValueError("hold_seconds must be > 0")\n',
        '    if not hold_seconds > 0:\n'
        '        conn.execute("UPDATE drivers SET rider = ?, hold_until = ? WHERE id = ? AND rider IS NULL",\n'
        '                     (rider_id, now + hold_seconds, driver_id))\n'
        '        conn.commit()\n        raise ValueError("hold_seconds must be > 0")\n',
        frozenset({RESERVE}), "hold_seconds <= 0 books a free driver, then raises: the error changed the table"),
    "zero_hold_takes_expired_hold": Mutant(
        "reserve", '    if not hold_seconds > 0:\n        raise ValueError("hold_seconds must be > 0")\n',
        '    if not hold_seconds > 0:\n'
        '        conn.execute("UPDATE drivers SET rider = ?, hold_until = ? WHERE id = ? AND rider IS NOT NULL "\n'
        '                     "AND hold_until <= ?", (rider_id, now + hold_seconds, driver_id, now))\n'
        '        conn.commit()\n        raise ValueError("hold_seconds must be > 0")\n',
        frozenset({RESERVE}), "hold_seconds <= 0 takes a driver whose hold ended, then raises (a free driver is "
                              "left alone): only a hidden case on an expired hold sees it"),
    "hold_never_lapses": Mutant(
        "reserve", " OR hold_until <= :now", "", frozenset({RESERVE}),
        "a reservation without a timeout: a rider who never confirms keeps the driver for ever"),
    "retry_refused": Mutant(
        "reserve", " OR rider = :rider)", ")", frozenset({RESERVE}),
        "the holder's own retry is refused (and its hold never restarts)"),
    # presence
    "no_grace": Mutant(
        "presence", "    silence = timeout + grace\n", "    silence = timeout\n",
        frozenset({PRESENCE}), "a presence timeout with no grace: one lost heartbeat flaps the user offline"),
    "late_heartbeat_at_deadline": Mutant(
        "presence", "if current - previous > silence:", "if current - previous >= silence:",
        frozenset({PRESENCE}), "a heartbeat arriving exactly at the deadline counted as late"),
    # capacity
    "servers_at_full_utilisation": Mutant(
        "capacity", "(rps_per_server * target_utilisation)", "rps_per_server",
        frozenset({CAPACITY}), "servers sized at 100% utilisation"),
    "storage_without_replicas": Mutant(
        "capacity", "* retention_days * replication", "* retention_days",
        frozenset({CAPACITY}), "storage counts one copy where the design keeps three"),
    "servers_for_writes_only": Mutant(
        "capacity", "math.ceil((peak_writes + peak_reads) /", "math.ceil(peak_writes /",
        frozenset({CAPACITY}), "servers sized for the writes, forgetting the reads"),
}

_OFFSET = '''    newest_first = sorted(((time, post_id) for post_id, time in posts), reverse=True)
    skip = cursor or 0
    page = newest_first[skip:skip + limit]
    return {"items": [post_id for _, post_id in page], "cursor": skip + limit if len(page) == limit else None}
'''


def _block(cell: str) -> tuple[str, str]:
    """The whole solution body of ``cell`` (for the mutants that rewrite it)."""
    from submissions import answer_sources
    from autograde.layout import source_notebook

    source = answer_sources(source_notebook(ASSIGNMENT))[cell]
    return source.split("### BEGIN SOLUTION\n", 1)[1].split("    ### END SOLUTION", 1)[0]


def _rewrite_mutants():
    body = _block("reconcile")
    start = body.index("    for reference in sorted(booked):")
    MUTANTS["reconcile_by_amount"] = Mutant("reconcile", body[start:], _BY_AMOUNT, MUTANTS["reconcile_by_amount"].loses,
                                            MUTANTS["reconcile_by_amount"].why)
    body = _block("feed_page")
    start = body.index("    newest_first = sorted(")
    MUTANTS["offset_pagination"] = Mutant("feed_page", body[start:], _OFFSET, MUTANTS["offset_pagination"].loses,
                                          MUTANTS["offset_pagination"].why)


_CHECK_THEN_BOOK = '''    row = conn.execute("SELECT rider, hold_until FROM drivers WHERE id = ?",
                       (driver_id,)).fetchone()
    if row is None or (row[0] is not None and row[1] > now and row[0] != rider_id):
        return False
    conn.execute("UPDATE drivers SET rider = ?, hold_until = ? WHERE id = ?", (rider_id, now + hold_seconds, driver_id))
    conn.commit()
    return True
'''


def _rewrite_reserve():
    body = _block("reserve")
    start = body.index("    booked = conn.execute(")
    MUTANTS["double_booked_driver"] = Mutant("reserve", body[start:], _CHECK_THEN_BOOK,
                                             MUTANTS["double_booked_driver"].loses, MUTANTS["double_booked_driver"].why)


_rewrite_mutants()
_rewrite_reserve()

# A correct solution written differently from ours: a ledger that validates with all(), a payment API that asks the
# provider before every attempt, reconciliation with Counters, pagination with bisect over a key list, the feed with
# a pull-side merge through heapq.merge, and the threshold found by trying each distinct follower count.
ALTERNATIVE = {
    "post_transactions": '''
from collections import defaultdict

def post_transactions(transactions):
    if not all(isinstance(a, int) and not isinstance(a, bool) for t in transactions for _, a in t["postings"]):
        raise TypeError("money is an int of minor units")
    balance, seen, rejected = defaultdict(int), set(), []
    for t in transactions:
        checks = [(t["id"] in seen, "duplicate"), (len(t["postings"]) <= 1, "too few postings"),
                  (sum(a for _, a in t["postings"]) != 0, "unbalanced")]
        failed = [why for bad, why in checks if bad]
        if failed:
            rejected.append([t["id"], failed[0]])
            continue
        seen.add(t["id"])
        for account, a in t["postings"]:
            balance[account] += a
    return {"rejected": rejected, "balances": sorted([k, v] for k, v in balance.items())}
''',
    "payment_api": '''
from course.practice import ProviderTimeout


class PaymentAPI:
    def __init__(self, provider):
        self.provider = provider
        self.requests = {}

    def pay(self, key, amount):
        if type(key) is not str or len(key) == 0:
            raise ValueError(key)
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError(amount)
        if amount <= 0:
            raise ValueError(amount)
        entry = self.requests.get(key)
        if entry is None:
            entry = self.requests[key] = {"amount": amount, "charge": None}
        if entry["amount"] != amount:
            raise ValueError("idempotency key reused with different parameters")
        attempts = 0
        while entry["charge"] is None and attempts < 3:
            attempts += 1
            try:
                entry["charge"] = self.provider.charge(key, amount)
            except ProviderTimeout:
                entry["charge"] = self.provider.find(key)
        if entry["charge"] is None:
            return {"status": "failed"}
        return {"charge_id": entry["charge"], "status": "succeeded"}
''',
    "reconcile": '''
from collections import Counter

def reconcile(ledger, settlement):
    if any(type(a) is not int for _, a in ledger + settlement):
        raise TypeError("money is an int of minor units")
    refs = Counter(r for r, _ in ledger)
    if refs and max(refs.values()) > 1:
        raise ValueError("duplicate reference in the ledger")
    ours = dict(ledger)
    count = Counter(r for r, _ in settlement)
    theirs = dict(settlement)
    return {
        "matched": sorted(r for r in ours if count[r] == 1 and theirs[r] == ours[r]),
        "missing_in_settlement": sorted(r for r in ours if count[r] == 0),
        "missing_in_ledger": sorted(r for r in count if r not in ours),
        "duplicated": sorted(r for r in ours if count[r] > 1),
        "amount_mismatch": sorted([r, ours[r], theirs[r]] for r in ours if count[r] == 1 and theirs[r] != ours[r]),
    }
''',
    "feed_page": '''
import bisect

def feed_page(posts, cursor, limit):
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1 or limit > 100:
        raise ValueError(limit)
    keys = sorted((-t, -i) for i, t in posts)          # ascending = newest first
    start = 0 if cursor is None else bisect.bisect_right(keys, (-cursor[0], -cursor[1]))
    chosen = keys[start:start + limit]
    items = [-i for _, i in chosen]
    next_cursor = [-chosen[-1][0], -chosen[-1][1]] if len(chosen) == limit else None
    return {"cursor": next_cursor, "items": items}
''',
    "hybrid_feed": '''
import heapq
from collections import defaultdict

def hybrid_feed(followers, events, threshold, k):
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ValueError(threshold)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(k)
    followees = defaultdict(set)
    for author, fs in followers.items():
        for f in fs:
            if f == author:
                raise ValueError(f"{author} follows itself")
            followees[f].add(author)
    pushed, stored = defaultdict(list), defaultdict(list)
    writes = fetches = 0
    timelines = []
    for e in events:
        if e[0] == "read":
            stars = [a for a in followees[e[1]] if len(followers[a]) >= threshold]
            fetches += len(stars)
            lists = [sorted(pushed[e[1]], reverse=True)] + [sorted(stored[a], reverse=True) for a in stars]
            merged = heapq.merge(*lists, reverse=True)
            timelines.append([e[1], [p for _, p in list(merged)[:k]]])
        elif len(followers[e[1]]) >= threshold:
            stored[e[1]].append((e[3], e[2]))
        else:
            writes += len(followers[e[1]])
            for f in followers[e[1]]:
                pushed[f].append((e[3], e[2]))
    return {"fanout_writes": writes, "pull_fetches": fetches, "timelines": timelines}
''',
    "choose_threshold": '''
def choose_threshold(followers, events, k, max_fetches_per_read):
    if not max_fetches_per_read >= 0:
        raise ValueError(max_fetches_per_read)
    n_reads = len([e for e in events if e[0] == "read"])
    # the costs only change where the threshold passes a follower count: try 0 and each count + 1, smallest first
    candidates = sorted({0} | {len(fs) + 1 for fs in followers.values()})
    for t in candidates:
        run = hybrid_feed(followers, events, t, k)
        per_read = run["pull_fetches"] / n_reads if n_reads else 0.0
        if per_read <= max_fetches_per_read:
            return {"threshold": t, "fanout_writes": run["fanout_writes"], "fetches_per_read": per_read}
    raise AssertionError("unreachable")
''',
    "assign_sequence": '''
from collections import defaultdict
from itertools import count

def assign_sequence(arrivals):
    counters = defaultdict(lambda: count(1))
    first_seq = {}
    out = []
    for arrival in arrivals:
        conv, message_id = arrival[0], arrival[3]
        if (conv, message_id) not in first_seq:
            first_seq[(conv, message_id)] = next(counters[conv])
        out.append(first_seq[(conv, message_id)])
    return out
''',
    "chat_client": '''
import heapq


class ChatClient:
    def __init__(self):
        self.shown, self.heaps, self.known = {}, {}, {}

    def receive(self, conv, seq, message_id, text):
        if isinstance(seq, bool) or not isinstance(seq, int) or seq <= 0:
            raise ValueError(seq)
        shown = self.shown.setdefault(conv, [])
        heap = self.heaps.setdefault(conv, [])
        ids, seqs = self.known.setdefault(conv, (set(), set()))
        if message_id in ids or seq in seqs:
            return
        ids.add(message_id)
        seqs.add(seq)
        heapq.heappush(heap, (seq, message_id))
        while heap and heap[0][0] == len(shown) + 1:
            shown.append(heapq.heappop(heap)[1])

    def displayed(self, conv):
        return self.shown.get(conv, [])[:]

    def cursor(self, conv):
        return len(self.shown.get(conv, ()))
''',
    "driver_grid": '''
import math
from collections import defaultdict


class DriverGrid:
    def __init__(self, cell_km):
        if cell_km <= 0:
            raise ValueError(cell_km)
        self.size = cell_km
        self.buckets = defaultdict(set)
        self.position = {}

    def _key(self, x, y):
        return math.floor(x / self.size), math.floor(y / self.size)

    def update(self, driver, x, y):
        if driver in self.position:
            self.buckets[self._key(*self.position[driver])].discard(driver)
        self.position[driver] = (x, y)
        self.buckets[self._key(x, y)].add(driver)

    def remove(self, driver):
        if driver in self.position:
            self.buckets[self._key(*self.position.pop(driver))].discard(driver)

    def nearest(self, x, y, k, r):
        if isinstance(k, bool) or not isinstance(k, int) or k <= 0 or r < 0:
            raise ValueError((k, r))
        (x0, y0), (x1, y1) = self._key(x - r, y - r), self._key(x + r, y + r)
        keys = [(cx, cy) for cx in range(x0, x1 + 1) for cy in range(y0, y1 + 1)]
        candidates = []
        for key in keys:
            for d in self.buckets.get(key, ()):
                px, py = self.position[d]
                dist = math.sqrt((px - x) ** 2 + (py - y) ** 2)
                if dist <= r:
                    candidates.append((dist, d))
        return {"cells": len(keys), "drivers": [d for _, d in sorted(candidates)[:k]]}
''',
    "presence": '''
def presence(heartbeats, timeout, grace, until):
    if timeout <= 0 or grace < 0 or any(a > b for a, b in zip(heartbeats, heartbeats[1:])):
        raise ValueError("bad arguments")
    events, online_until = [], None
    for t in heartbeats:
        if t > until:
            break
        if online_until is not None and t > online_until:
            events.append([online_until, "offline"])
        if online_until is None or t > online_until:
            events.append([t, "online"])
        online_until = t + timeout + grace
    if online_until is not None and online_until <= until:
        events.append([online_until, "offline"])
    return events
''',
    "reserve": '''
def reserve(conn, driver_id, rider_id, now, hold_seconds):
    if hold_seconds <= 0:
        raise ValueError(hold_seconds)
    before = conn.total_changes
    with conn:  # commits
        conn.execute("UPDATE drivers SET rider = ?, hold_until = ? "
                     "WHERE id = ? AND NOT (rider IS NOT NULL AND rider != ? AND hold_until > ?)",
                     (rider_id, now + hold_seconds, driver_id, rider_id, now))
    return conn.total_changes > before
''',
    "capacity": '''
def capacity(daily_active_users, actions_per_user, read_write_ratio, bytes_per_write, retention_days,
             peak_factor=3.0, replication=3, rps_per_server=1000, target_utilisation=0.7):
    if min(daily_active_users, actions_per_user, read_write_ratio, bytes_per_write, retention_days) < 0:
        raise ValueError("negative input")
    if not (peak_factor >= 1 and replication >= 1 and rps_per_server > 0 and 0 < target_utilisation <= 1):
        raise ValueError("bad parameter")
    seconds_per_day = 24 * 60 * 60
    peak_w = daily_active_users * actions_per_user * peak_factor / seconds_per_day
    peak_r = read_write_ratio * peak_w
    usable = rps_per_server * target_utilisation
    total = peak_w + peak_r
    servers = int(total // usable) + (1 if total % usable else 0)
    return dict(writes_per_s=peak_w / peak_factor, peak_writes_per_s=peak_w, peak_reads_per_s=peak_r,
                storage_bytes=replication * retention_days * bytes_per_write * daily_active_users * actions_per_user,
                peak_in_bytes_per_s=bytes_per_write * peak_w, peak_out_bytes_per_s=bytes_per_write * peak_r,
                servers=servers)
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """unknown_listed_per_row passes every visible test; only the hidden edge case finds it."""
    assert_caught_by_hidden_tests(reports["unknown_listed_per_row"], RECONCILE, "seed 1521", "missing_in_ledger")


@pytest.mark.parametrize("name, test_id, seed, words", [
    ("retry_across_conversations", SEQUENCE, "seed 1571", "the same id in another conversation"),
    ("zero_hold_books_then_raises", RESERVE, "seed 1621", "changes nothing"),
    ("zero_hold_takes_expired_hold", RESERVE, "seed 1621", "changes nothing"),
    ("own_posts_when_self_followed", HYBRID, "seed 1551", "never follows itself"),
    ("zero_balances_dropped", LEDGER, "seed 1501", "also when its balance is 0"),
])
def test_learner_test_variants_fail_on_the_rule_they_break(reports, name, test_id, seed, words):
    """Variants that scored full marks in the learner-test: each now fails a hidden case labelled with its rule."""
    assert_caught_by_hidden_tests(reports[name], test_id, seed, words)


def test_release_answer_cells_run_unchanged_and_define_their_names():
    assert_release_answer_cells_define_their_names(ASSIGNMENT, "check_environment")
