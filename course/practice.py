"""Design practice (module 15): simulators that turn the seed's L6 problems into measured claims.

- ``power_law_followers(n_users, seed)``: a seeded follower graph whose follower counts follow a power law
  (networkx's Barabasi-Albert generator: a new user follows ``m`` users picked in proportion to how many
  followers they already have), as ``{user: [followers, sorted]}``;
- ``feed_workload(followers, n_posts, n_reads, seed)``: a time-ordered list of ``["post", author, post_id, t]``
  and ``["read", user, t]`` events (authors and readers drawn uniformly);
- ``paginate_while_posting(page_fn, posts, limit, new_per_page, seed)``: a reader pages through a feed with the
  learner's ``page_fn`` while new posts arrive between pages; it returns what the reader saw, the duplicates and
  the gaps (posts that existed before the first page and were never shown);
- ``FlakyProvider`` and ``ProviderTimeout``: a payment provider that, per call, charges, times out *after*
  charging, or times out before charging, by a scripted plan; ``run_payments(api_class, provider_class,
  outcomes, requests)`` drives the learner's payment API with client retries and returns the results and every
  charge the provider made;
- ``settlement_file(ledger, seed, ...)``: the provider's settlement file for a ledger, with injected missing,
  duplicated, amount-mismatched and unknown rows, and the truth of what was injected;
- ``plot_fanout_costs(rows)``: write amplification against read fetches, one point per threshold.

Every random draw comes from an explicit seed (``numpy.random.default_rng``). Drivers return plain data.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import networkx as nx
import numpy as np


# --------------------------------------------------------------------------- news feed

def power_law_followers(n_users: int, seed: int, m: int = 2) -> dict[str, list[str]]:
    """``{user: sorted followers}`` for users ``u0`` .. ``u{n-1}``: a Barabasi-Albert graph (``m`` edges per new
    user, preferential attachment), each edge read as "the newer user follows the older one", so early users
    collect followers the way celebrities do (a power-law tail: Barabasi and Albert, Science, 1999)."""
    if n_users <= m:
        raise ValueError(f"n_users must exceed m ({m}), got {n_users}")
    graph = nx.barabasi_albert_graph(n_users, m, seed=seed)
    followers: dict[str, list[str]] = {f"u{i}": [] for i in range(n_users)}
    for a, b in graph.edges():
        older, newer = min(a, b), max(a, b)
        followers[f"u{older}"].append(f"u{newer}")
    return {user: sorted(fs, key=lambda u: int(u[1:])) for user, fs in followers.items()}


def feed_workload(followers: dict[str, list[str]], n_posts: int, n_reads: int, seed: int) -> list[list]:
    """Posts and reads interleaved at random, at times 1, 2, 3, ... (one event per time step); post ids are
    ``1 .. n_posts`` in posting order. Authors and readers are drawn uniformly from the users."""
    rng = np.random.default_rng(seed)
    users = sorted(followers, key=lambda u: (len(u), u))
    kinds = ["post"] * n_posts + ["read"] * n_reads
    rng.shuffle(kinds)
    events, post_id = [], 0
    for t, kind in enumerate(kinds, start=1):
        user = users[int(rng.integers(len(users)))]
        if kind == "post":
            post_id += 1
            events.append(["post", user, post_id, t])
        else:
            events.append(["read", user, t])
    return events


def paginate_while_posting(page_fn: Callable, posts: Sequence[Sequence[int]], limit: int, new_per_page: int,
                           seed: int, max_pages: int = 200) -> dict:
    """Page through ``posts`` (``[post_id, time]``) with ``page_fn(posts, cursor, limit)`` from ``cursor=None``
    until it returns ``"cursor": None``; before every page after the first, ``new_per_page`` new posts arrive
    (newer than all others, ids above all others, seeded times). Returns ``{"pages": [[ids], ...],
    "duplicates": ids shown twice, "gaps": ids that existed before the first page and were never shown}``."""
    rng = np.random.default_rng(seed)
    current = [list(p) for p in posts]
    before = {p[0] for p in current}
    next_id = max([p[0] for p in current], default=0) + 1
    newest = max([p[1] for p in current], default=0)
    pages, shown, duplicates, cursor = [], set(), [], None
    for number in range(max_pages):
        if number > 0:
            for _ in range(new_per_page):
                newest += int(rng.integers(0, 3))  # ties with the newest post happen too
                current.append([next_id, newest])
                next_id += 1
        page = page_fn([list(p) for p in current], cursor, limit)
        items = list(page["items"])
        pages.append(items)
        for item in items:
            if item in shown:
                duplicates.append(item)
            shown.add(item)
        cursor = page["cursor"]
        if cursor is None:
            break
    return {"pages": pages, "duplicates": duplicates, "gaps": sorted(before - shown)}


def feed_posts(n_posts: int, seed: int, max_gap: int = 3) -> list[list[int]]:
    """``n_posts`` posts ``[post_id, time]``, ids 1..n in a shuffled order and times with ties (gaps of 0 to
    ``max_gap`` seconds), so that neither ids nor times alone order the feed."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.integers(0, max_gap + 1, size=n_posts)) + 1_000
    ids = rng.permutation(n_posts) + 1
    return [[int(i), int(t)] for i, t in zip(ids, times)]


def plot_fanout_costs(rows: Sequence[dict], title: str):
    """One point per threshold: fan-out writes per post (x) against fetches per read (y)."""
    from course.plotting import new_figure

    fig, ax = new_figure(title, "fan-out writes per post (write amplification)", "fetches per read")
    ax.plot([r["writes_per_post"] for r in rows], [r["fetches_per_read"] for r in rows], marker="o")
    for r in rows:
        ax.annotate(str(r["threshold"]), (r["writes_per_post"], r["fetches_per_read"]), fontsize=8,
                    xytext=(3, 3), textcoords="offset points")
    return fig, ax


# --------------------------------------------------------------------------- payments

class ProviderTimeout(Exception):
    """The payment provider did not answer in time: the charge may or may not have happened."""


class FlakyProvider:
    """A payment provider scripted by ``outcomes``, one per ``charge`` call (then ``"ok"`` for ever):

    - ``"ok"``: charge and return the charge id (``"ch_1"``, ``"ch_2"``, ...);
    - ``"timeout_after"``: charge, then raise ``ProviderTimeout`` (the answer was lost on the way back);
    - ``"timeout_before"``: raise ``ProviderTimeout`` without charging.

    ``find(reference)`` returns the id of the first charge made with that reference, or None (a provider's
    "search by merchant reference", which always answers). ``charges()`` lists every charge as
    ``[charge_id, reference, amount]``."""

    def __init__(self, outcomes: Sequence[str] = ()):
        unknown = [o for o in outcomes if o not in ("ok", "timeout_after", "timeout_before")]
        if unknown:
            raise ValueError(f"unknown outcomes {unknown}")
        self._outcomes = list(outcomes)
        self._calls = 0
        self._charges: list[list] = []

    def charge(self, reference: str, amount: int) -> str:
        outcome = self._outcomes[self._calls] if self._calls < len(self._outcomes) else "ok"
        self._calls += 1
        if outcome == "timeout_before":
            raise ProviderTimeout(f"no answer for {reference!r}")
        charge_id = f"ch_{len(self._charges) + 1}"
        self._charges.append([charge_id, reference, amount])
        if outcome == "timeout_after":
            raise ProviderTimeout(f"no answer for {reference!r}")
        return charge_id

    def find(self, reference: str):
        for charge_id, ref, _ in self._charges:
            if ref == reference:
                return charge_id
        return None

    def charges(self) -> list[list]:
        return [list(c) for c in self._charges]

    def calls(self) -> int:
        return self._calls


def run_payments(api_class: Callable, provider_class: Callable, outcomes: Sequence[str],
                 requests: Sequence[Sequence[Any]]) -> dict:
    """Build ``provider = provider_class(outcomes)`` and ``api = api_class(provider)``, then send each request
    ``[idempotency_key, amount]`` to ``api.pay``. A result is what ``pay`` returned, or ``["error", name]``
    when it raised. Returns ``{"results": [...], "charges": provider.charges()}``."""
    provider = provider_class(list(outcomes))
    api = api_class(provider)
    results = []
    for key, amount in requests:
        try:
            results.append(api.pay(key, amount))
        except Exception as exc:  # noqa: BLE001 (the error's name is the result)
            results.append(["error", type(exc).__name__])
    return {"results": results, "charges": provider.charges()}


def settlement_file(ledger: Sequence[Sequence], seed: int, p_missing: float = 0.05, p_duplicate: float = 0.03,
                    p_mismatch: float = 0.03, n_unknown: int = 2) -> dict:
    """The provider's settlement rows ``[reference, amount]`` for a ledger of ``[reference, amount]``, shuffled,
    with rows dropped (``p_missing``), repeated (``p_duplicate``), settled for another amount (``p_mismatch``:
    a fee taken, a currency rounding) and ``n_unknown`` charges the ledger never recorded. Returns
    ``{"rows": [...], "injected": {"missing": [...], "duplicated": [...], "mismatched": [...], "unknown": [...]}}``
    with references sorted."""
    rng = np.random.default_rng(seed)
    rows, injected = [], {"missing": [], "duplicated": [], "mismatched": [], "unknown": []}
    for reference, amount in ledger:
        u = rng.random()
        if u < p_missing:
            injected["missing"].append(reference)
            continue
        if u < p_missing + p_mismatch:
            injected["mismatched"].append(reference)
            amount = amount - int(rng.integers(1, 100))
        rows.append([reference, amount])
        if rng.random() < p_duplicate:
            injected["duplicated"].append(reference)
            rows.append([reference, amount])
    for k in range(n_unknown):
        reference = f"x-{seed}-{k}"
        injected["unknown"].append(reference)
        rows.append([reference, int(rng.integers(100, 100_000))])
    order = rng.permutation(len(rows))
    return {"rows": [rows[i] for i in order], "injected": {k: sorted(v) for k, v in injected.items()}}


def payment_ledger(n: int, seed: int) -> list[list]:
    """``n`` ledger entries ``[reference, amount in cents]`` with unique references ``pay-<seed>-<k>`` and
    amounts from 1 cent to 10,000.00, where several payments share an amount (a price list)."""
    rng = np.random.default_rng(seed)
    prices = [int(x) for x in rng.integers(1, 1_000_000, size=max(1, n // 4))]
    return [[f"pay-{seed}-{k}", prices[int(rng.integers(len(prices)))]] for k in range(n)]


# --------------------------------------------------------------------------- chat

def run_chat(client_class: Callable, ops: Sequence[Sequence[Any]]) -> list:
    """Build ``client = client_class()`` and apply ``ops``: ``["recv", conv, seq, message_id, text]`` calls
    ``client.receive(conv, seq, message_id, text)`` (result None, or ``["error", name]`` when it raised),
    ``["displayed", conv]`` and ``["cursor", conv]`` record what those methods return."""
    client = client_class()
    results = []
    for op in ops:
        if op[0] == "recv":
            try:
                results.append(client.receive(op[1], op[2], op[3], op[4]))
            except Exception as exc:  # noqa: BLE001 (the error's name is the result)
                results.append(["error", type(exc).__name__])
        elif op[0] == "displayed":
            results.append(client.displayed(op[1]))
        elif op[0] == "cursor":
            results.append(client.cursor(op[1]))
        else:
            raise ValueError(f"unknown op {op!r}")
    return results


CHAT_WORDS = ["ok", "lol", "see you", "on my way", "👍", "ok", "thanks", "ok"]


def chat_deliveries(n_convs: int, n_messages: int, p_drop: float, p_duplicate: float, max_delay: int,
                    seed: int) -> dict:
    """Conversations ``c0 .. c{n-1}``, each with a log of ``n_messages`` messages (ids ``c0-m1`` .., seq 1..n,
    texts that repeat: "ok" is common), sent one per second each, and what a lossy network delivers: each copy
    is dropped with ``p_drop``, duplicated with ``p_duplicate`` and delayed by 0 to ``max_delay`` seconds, so
    copies arrive out of order. Returns ``{"logs": {conv: [[seq, id, text], ...]}, "deliveries": [[conv, seq,
    id, text], ...]}`` in arrival order."""
    rng = np.random.default_rng(seed)
    logs, arrivals = {}, []
    for c in range(n_convs):
        conv = f"c{c}"
        logs[conv] = [[s, f"{conv}-m{s}", CHAT_WORDS[int(rng.integers(len(CHAT_WORDS)))]] for s in
                      range(1, n_messages + 1)]
        for seq, message_id, text in logs[conv]:
            copies = 1 + (1 if rng.random() < p_duplicate else 0)
            for _ in range(copies):
                if rng.random() < p_drop:
                    continue
                arrivals.append((seq + int(rng.integers(0, max_delay + 1)), float(rng.random()),
                                 [conv, seq, message_id, text]))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    return {"logs": logs, "deliveries": [a[2] for a in arrivals]}


def chat_simulation(client_class: Callable, n_convs: int, n_messages: int, p_drop: float, p_duplicate: float,
                    max_delay: int, seed: int) -> dict:
    """Deliver ``chat_deliveries(...)`` to ``client_class()``, then sync each conversation from the client's
    cursor: the server resends every message with a seq above it, in order, without loss. Returns what the client
    displayed and its cursors before and after the sync."""
    run = chat_deliveries(n_convs, n_messages, p_drop, p_duplicate, max_delay, seed)
    client = client_class()
    for conv, seq, message_id, text in run["deliveries"]:
        client.receive(conv, seq, message_id, text)
    convs = sorted(run["logs"], key=lambda c: int(c[1:]))
    before = [[conv, client.cursor(conv)] for conv in convs]
    for conv, cursor in before:
        for seq, message_id, text in run["logs"][conv]:
            if seq > cursor:
                client.receive(conv, seq, message_id, text)
    return {"cursors_before_sync": before, "displayed": [[conv, client.displayed(conv)] for conv in convs],
            "cursors": [[conv, client.cursor(conv)] for conv in convs]}


# --------------------------------------------------------------------------- ride sharing

def cells_in_reach(x: float, y: float, r: float, cell_km: float) -> int:
    """How many grid cells (cell of a point: ``(floor(x / cell_km), floor(y / cell_km))``) the square of side ``2r``
    centred on ``(x, y)`` touches: the most a grid search for drivers within ``r`` needs to look into."""
    import math

    across = math.floor((x + r) / cell_km) - math.floor((x - r) / cell_km) + 1
    down = math.floor((y + r) / cell_km) - math.floor((y - r) / cell_km) + 1
    return across * down


def run_grid(grid_class: Callable, cell_km: float, ops: Sequence[Sequence[Any]]) -> list:
    """Build ``grid = grid_class(cell_km)`` and apply ``ops``: ``["update", driver, x, y]`` and ``["remove",
    driver]`` (result None), ``["nearest", x, y, k, r]``: ``[drivers, plausible]``, the ids ``nearest`` returned and
    whether the number of cells it reports is an ``int`` at most ``cells_in_reach(x, y, r, cell_km)`` and at least the
    number of distinct cells that hold the drivers it returned. A call that raises gives ``["error", name]``."""
    import math

    unknown = [op for op in ops if op[0] not in ("update", "remove", "nearest")]
    if unknown:
        raise ValueError(f"unknown ops {unknown}")
    grid = grid_class(cell_km)
    results, where = [], {}
    for op in ops:
        try:
            if op[0] == "update":
                results.append(grid.update(op[1], op[2], op[3]))
                where[op[1]] = (math.floor(op[2] / cell_km), math.floor(op[3] / cell_km))
            elif op[0] == "remove":
                results.append(grid.remove(op[1]))
                where.pop(op[1], None)
            else:
                got = grid.nearest(op[1], op[2], op[3], op[4])
                cells = got["cells"]
                holding = len({where.get(d) for d in got["drivers"]})
                results.append([got["drivers"], type(cells) is int
                                and holding <= cells <= cells_in_reach(op[1], op[2], op[4], cell_km)])
        except Exception as exc:  # noqa: BLE001 (the error's name is the result)
            results.append(["error", type(exc).__name__])
    return results


def city_ops(n_drivers: int, n_steps: int, size_km: float, seed: int, k_max: int = 10, r_max: float = 5.0) -> list:
    """A seeded day in a city ``size_km`` wide centred on (0, 0): drivers ``d0`` .. appear at random points (to the
    metre), then each step moves a driver a little, takes one off the road (a ride), brings one back, or asks for
    the nearest ``k`` within ``r`` km of a random rider."""
    rng = np.random.default_rng(seed)
    half = size_km / 2

    def point():
        return [round(float(rng.uniform(-half, half)), 3), round(float(rng.uniform(-half, half)), 3)]

    where = {f"d{i}": point() for i in range(n_drivers)}
    ops = [["update", d, *p] for d, p in where.items()]
    for _ in range(n_steps):
        u = rng.random()
        driver = f"d{int(rng.integers(n_drivers))}" if n_drivers else None
        if driver and u < 0.35:
            x, y = where[driver]
            where[driver] = [round(x + float(rng.normal(0, 0.3)), 3), round(y + float(rng.normal(0, 0.3)), 3)]
            ops.append(["update", driver, *where[driver]])
        elif driver and u < 0.45:
            ops.append(["remove", driver])
        elif driver and u < 0.5:
            ops.append(["update", driver, *where[driver]])
        else:
            ops.append(["nearest", *point(), int(rng.integers(1, k_max + 1)),
                        round(float(rng.uniform(0, r_max)), 3)])
    return ops


# --------------------------------------------------------------------------- presence

def heartbeat_trace(interval: float, p_loss: float, max_delay: float, sessions: Sequence[Sequence[float]],
                    seed: int) -> list[float]:
    """Arrival times (sorted, rounded to the millisecond) of the heartbeats a client sends every ``interval`` seconds
    while connected (``sessions``: ``[start, end]`` pairs), each lost with ``p_loss`` and delayed by up to
    ``max_delay`` seconds on the way."""
    rng = np.random.default_rng(seed)
    arrivals = []
    for start, end in sessions:
        t = float(start)
        while t < end:
            if rng.random() >= p_loss:
                arrivals.append(round(t + float(rng.uniform(0, max_delay)), 3))
            t += interval
    return sorted(arrivals)


def presence_report(presence_fn: Callable, interval: float, p_loss: float, max_delay: float,
                    sessions: Sequence[Sequence[float]], timeout: float, grace: float, until: float,
                    seed: int) -> dict:
    """Run ``presence_fn(heartbeats, timeout, grace, until)`` on ``heartbeat_trace(...)`` and score it against the
    truth: ``false_offline``, offline transitions while the client was connected (flaps), and ``detection``, for each
    session that ended before ``until``, the seconds from its end to the first offline transition after it (None
    when none came)."""
    beats = heartbeat_trace(interval, p_loss, max_delay, sessions, seed)
    transitions = presence_fn(beats, timeout, grace, until)
    offline = [t for t, state in transitions if state == "offline"]
    connected = [(float(s), float(e)) for s, e in sessions]
    false_offline = sum(1 for t in offline if any(s <= t < e for s, e in connected))
    detection = []
    for _, end in connected:
        if end <= until:
            later = [t - end for t in offline if t >= end]
            detection.append(round(min(later), 3) if later else None)
    return {"transitions": len(transitions), "false_offline": false_offline, "detection": detection}


# --------------------------------------------------------------------------- matching under contention

DRIVERS_SCHEMA = "CREATE TABLE drivers (id TEXT PRIMARY KEY, rider TEXT, hold_until REAL)"


def _driver_db(drivers: Sequence[str]) -> str:
    import os
    import sqlite3
    import tempfile
    import uuid

    path = os.path.join(tempfile.gettempdir(), f"drivers-{uuid.uuid4().hex}.db")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(DRIVERS_SCHEMA)
        conn.executemany("INSERT INTO drivers VALUES (?, NULL, NULL)", [(d,) for d in drivers])
    conn.close()
    return path


def _remove_db(path: str) -> None:
    import os

    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def _table(path: str) -> list:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return [list(row) for row in conn.execute("SELECT id, rider, hold_until FROM drivers ORDER BY id")]
    finally:
        conn.close()


def run_reservations(reserve_fn: Callable, drivers: Sequence[str], ops: Sequence[Sequence[Any]]) -> dict:
    """A real SQLite file with ``drivers`` (all free), and ``reserve_fn(conn, driver, rider, now, hold_seconds)``
    called for each ``["reserve", driver, rider, now, hold_seconds]`` on one connection. A result is what it returned,
    or ``["error", name]``. Returns ``{"results": [...], "table": [[id, rider, hold_until], ...]}``."""
    import sqlite3

    path = _driver_db(drivers)
    conn = sqlite3.connect(path, timeout=5.0)
    conn.execute("PRAGMA synchronous = OFF")  # a test table: no fsync per commit (locking is unchanged)
    try:
        results = []
        for _, driver, rider, now, hold in ops:
            try:
                results.append(reserve_fn(conn, driver, rider, now, hold))
            except Exception as exc:  # noqa: BLE001 (the error's name is the result)
                results.append(["error", type(exc).__name__])
            if conn.in_transaction:
                conn.rollback()
        conn.close()
        return {"results": results, "table": _table(path)}
    finally:
        conn.close()
        _remove_db(path)


class YieldingConnection:
    """A sqlite3 connection that lets other threads run after every statement, so a read-then-write split over two
    statements is interleaved with other riders' (a single conditional UPDATE is atomic, and is not)."""

    def __init__(self, path: str):
        import sqlite3

        self._conn = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
        self._conn.execute("PRAGMA synchronous = OFF")  # no fsync per commit; locking is unchanged

    def execute(self, sql, parameters=()):
        import time

        cursor = self._conn.execute(sql, parameters)
        time.sleep(0.002)
        return cursor

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def __enter__(self):
        return self._conn.__enter__()

    def __exit__(self, *exc):
        return self._conn.__exit__(*exc)


def race_reservations(reserve_fn: Callable, riders: int = 4, rounds: int = 10) -> dict:
    """``rounds`` times, ``riders`` threads (each on its own connection) call ``reserve_fn`` for the same free driver
    at the same moment. Returns how many rounds booked the driver twice or more, booked no one, or left a holder in
    the table other than the one rider told yes (``"double_booked"``, ``"unbooked"``, ``"holder_mismatch"``)."""
    import threading

    drivers = [f"d{r}" for r in range(rounds)]
    path = _driver_db(drivers)
    counts = {"rounds": rounds, "double_booked": 0, "unbooked": 0, "holder_mismatch": 0, "errors": 0}
    try:
        for r, driver in enumerate(drivers):
            conns = [YieldingConnection(path) for _ in range(riders)]
            barrier = threading.Barrier(riders)
            answers = [None] * riders

            def ask(i: int) -> None:
                barrier.wait()
                try:
                    answers[i] = reserve_fn(conns[i], driver, f"rider-{i}", float(r), 30.0)
                except Exception:  # noqa: BLE001 (counted)
                    answers[i] = "error"

            threads = [threading.Thread(target=ask, args=(i,)) for i in range(riders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for c in conns:
                c.close()
            yes = [i for i, a in enumerate(answers) if a is True]
            counts["errors"] += sum(1 for a in answers if a == "error")
            counts["double_booked"] += len(yes) > 1
            counts["unbooked"] += not yes
            holder = dict((row[0], row[1]) for row in _table(path))[driver]
            counts["holder_mismatch"] += len(yes) == 1 and holder != f"rider-{yes[0]}"
        return counts
    finally:
        _remove_db(path)
