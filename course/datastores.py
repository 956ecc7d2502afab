"""Module 11 (data stores): drivers that exercise the learner's Bloom filter, LSM store, optimistic
concurrency and write sharding, and the provided simulators (a partitioned table with per-partition
throughput limits, the seed's naive read-modify-write).

Every driver takes the learner's class or functions as arguments, calls them, and returns plain data,
so hidden tests compare it with the reference's answer (``autograde.reference.data_stores``).
"""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
import tempfile
import uuid
from typing import Callable, Sequence

import numpy as np

# DynamoDB's per-partition limits: "a single partition can support a maximum of 3,000 read capacity
# units (RCUs) or 1,000 write capacity units (WCUs)" and a partition holds about 10 GB
# (Amazon DynamoDB Developer Guide, "Partitions and data distribution in DynamoDB",
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.Partitions.html).
PARTITION_RCU = 3000
PARTITION_WCU = 1000
PARTITION_BYTES = 10 * 1024 ** 3


# --------------------------------------------------------------------------- Bloom filter

def bloom_keys(seed: int, n: int, prefix: str = "k") -> list[str]:
    """``n`` distinct keys (strings) drawn from ``seed``; different prefixes never collide."""
    rng = np.random.default_rng(seed)
    raw = rng.choice(2 ** 40, size=n, replace=False)
    return [f"{prefix}{seed}-{int(x):x}" for x in raw]


def bloom_run(cls: Callable, n: int, p: float, seed: int, probes: int = 2000) -> dict:
    """Build ``cls(n, p)``, add ``n`` seeded keys, then ask about every added key and ``probes`` keys that
    were never added. Returns the filter's ``parameters()`` and what was measured:
    ``{"m", "k", "false_negatives", "false_positives", "probes", "false_positive_rate"}``."""
    bloom = cls(n, p)
    added = bloom_keys(seed, n, "in")
    for key in added:
        bloom.add(key)
    false_negatives = sum(1 for key in added if bloom.might_contain(key) is not True)
    false_positives = sum(1 for key in bloom_keys(seed + 1, probes, "out") if bloom.might_contain(key) is True)
    params = bloom.parameters()
    return {"m": params["m"], "k": params["k"], "false_negatives": false_negatives,
            "false_positives": false_positives, "probes": probes, "false_positive_rate": false_positives / probes}


def bloom_facts(cls: Callable, n: int, p: float, seed: int, probes: int = 1000, extra_keys: Sequence[str] = ()) -> dict:
    """What the tests grade of a Bloom filter: ``{"m", "k", "false_negatives", "rate_in_band"}``, where
    ``extra_keys`` are added too (and checked for false negatives) and ``rate_in_band`` says whether the
    false-positive rate measured on ``probes`` absent keys lies in :func:`bloom_band` of the filter's own
    ``m`` and ``k`` (None for fewer than 20 keys: a handful of bits is too coarse to judge)."""
    bloom = cls(n, p)
    added = bloom_keys(seed, n, "in") + list(extra_keys)
    for key in added:
        bloom.add(key)
    false_negatives = sum(1 for key in added if bloom.might_contain(key) is not True)
    absent = [k for k in bloom_keys(seed + 1, probes, "out") if k not in set(extra_keys)]
    rate = sum(1 for key in absent if bloom.might_contain(key) is True) / len(absent)
    params = bloom.parameters()
    low, high = bloom_band(params["m"], params["k"], len(added), len(absent))
    return {"m": params["m"], "k": params["k"], "false_negatives": false_negatives,
            "rate_in_band": bool(low <= rate <= high) if len(added) >= 20 else None}


def bloom_theory(m: int, k: int, n: int) -> float:
    """The expected false-positive rate ``(1 - e^(-kn/m))^k`` of a filter of ``m`` bits, ``k`` hashes, ``n`` keys."""
    return (1 - math.exp(-k * n / m)) ** k


def bloom_band(m: int, k: int, n: int, probes: int) -> tuple[float, float]:
    """The band a measured false-positive rate must fall in: theory +/- (4 binomial standard deviations
    of ``probes`` draws + 25% of theory)."""
    theory = bloom_theory(m, k, n)
    half = 4 * math.sqrt(theory * (1 - theory) / probes) + 0.25 * theory
    return max(0.0, theory - half), theory + half


# --------------------------------------------------------------------------- LSM store

LSM_OPS = ("put", "get", "delete", "scan", "flush", "compact", "runs", "crash", "reads")


def run_lsm(cls: Callable, ops: Sequence[Sequence], memtable_limit: int = 4) -> list:
    """Run a script of operations on ``cls(directory, memtable_limit)``; one plain result per operation.

    ``directory`` is a new path under the temporary folder of the process the class runs in (the class
    creates it). Operations: ``["put", key, value]``, ``["delete", key]``, ``["flush"]``: None;
    ``["get", key]``: the value or None; ``["scan", lo, hi]``: ``[[key, value], ...]`` with
    ``lo <= key < hi``, sorted; ``["compact", count]``: None (``count`` None merges every run);
    ``["runs"]``: the entry count of each run, newest first; ``["reads"]``: runs read by ``get`` so far;
    ``["crash"]``: the store is abandoned without any call and ``cls(directory, memtable_limit)`` replaces
    it (result None). A ValueError gives ``"ValueError"``; any other error propagates. The directory is removed
    at the end (when the class runs in this process).
    """
    directory = os.path.join(tempfile.gettempdir(), f"lsm-{uuid.uuid4().hex}")
    try:
        store = cls(directory, memtable_limit)
        results = []
        for op in ops:
            kind, args = op[0], list(op[1:])
            if kind not in LSM_OPS:
                raise ValueError(f"unknown operation {kind!r}")  # a bug in the script, not in the store
            if kind == "crash":
                store = cls(directory, memtable_limit)
                results.append(None)
                continue
            try:
                results.append(getattr(store, kind)(*args))
            except ValueError:
                results.append("ValueError")
        return results
    finally:
        # the directory is in the filesystem of the process the class runs in: when that is this one, clean up
        shutil.rmtree(directory, ignore_errors=True)


def lsm_absent_reads(cls: Callable, seed: int, keys: int = 400, lookups: int = 400, memtable_limit: int = 50) -> dict:
    """Load ``keys`` seeded keys (so ``keys / memtable_limit`` runs), then ``get`` ``lookups`` keys that were
    never written, then every key of the oldest run. Returns ``{"runs", "lookups", "run_reads",
    "reads_per_lookup", "reads_at_start", "present_reads_per_lookup"}``: without a Bloom filter every absent lookup
    reads every run; a key of the oldest run needs at least that run read."""
    stored = bloom_keys(seed, keys, "in")
    oldest = stored[:memtable_limit]
    ops = [["reads"]] + [["put", key, "v"] for key in stored] + [["flush"], ["runs"], ["reads"]]
    ops += [["get", key] for key in bloom_keys(seed + 1, lookups, "out")] + [["reads"]]
    ops += [["get", key] for key in oldest] + [["reads"]]
    out = run_lsm(cls, ops, memtable_limit)
    start, runs, before = out[0], len(out[keys + 2]), out[keys + 3]
    after = out[keys + 4 + lookups]
    found = out[keys + 5 + lookups:keys + 5 + lookups + len(oldest)]
    last = out[-1]
    return {"runs": runs, "lookups": lookups, "run_reads": after - before, "reads_per_lookup": (after - before) / lookups,
            "reads_at_start": start, "present_found": all(v == "v" for v in found),
            "present_reads_per_lookup": (last - after) / len(oldest)}


# --------------------------------------------------------------------------- optimistic concurrency

ITEMS_SCHEMA = "CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, value INTEGER NOT NULL, version INTEGER NOT NULL)"


def run_occ_schedule(read_fn: Callable, write_fn: Callable, initial: int, deltas: Sequence[int],
                     schedule: Sequence[int], key: str = "item") -> dict:
    """Clients race to change one row of a real SQLite file, each on its own connection.

    Client ``i`` adds ``deltas[i]`` (a negative delta takes stock) by read-modify-write: it reads
    ``read_fn(conn, key) -> [value, version]``, then writes ``write_fn(conn, key, value + delta, version)``;
    a False answer (someone wrote first) sends it back to read again. A client whose new value would be
    negative gives up ("refused") without writing. ``schedule`` says which client takes its next step
    (a read or a write); after it, unfinished clients go round-robin. Returns
    ``{"final": [value, version], "clients": [[outcome, attempts], ...]}``.
    """
    path = os.path.join(tempfile.gettempdir(), f"occ-{uuid.uuid4().hex}.db")
    setup = sqlite3.connect(path)
    with setup:
        setup.execute(ITEMS_SCHEMA)
        setup.execute("INSERT INTO items VALUES (?, ?, 0)", (key, initial))
    setup.close()
    conns = [sqlite3.connect(path, timeout=1.0) for _ in deltas]
    state = [{"seen": None, "outcome": None, "attempts": 0} for _ in deltas]

    def step(i: int) -> None:
        s = state[i]
        if s["outcome"] is not None:
            return
        if s["seen"] is None:
            s["seen"] = list(read_fn(conns[i], key))
            return
        value, version = s["seen"]
        s["seen"] = None
        new = value + deltas[i]
        if new < 0:
            s["outcome"] = "refused"
            return
        s["attempts"] += 1
        if write_fn(conns[i], key, new, version) is True:
            s["outcome"] = "done"

    try:
        for i in schedule:
            step(i)
        for _ in range(4 * len(deltas) * (len(deltas) + 2)):
            for i in range(len(deltas)):
                step(i)
        check = sqlite3.connect(path)
        final = list(check.execute("SELECT value, version FROM items WHERE key = ?", (key,)).fetchone())
        check.close()
    finally:
        for conn in conns:
            conn.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    return {"final": final, "clients": [[s["outcome"], s["attempts"]] for s in state]}


def read_rows(read_fn: Callable, rows: Sequence[Sequence], keys: Sequence[str]) -> list:
    """A real SQLite file holding ``rows`` (``[key, value, version]``) in the items table; returns
    ``read_fn(conn, key)`` for each of ``keys``, as lists."""
    path = os.path.join(tempfile.gettempdir(), f"occ-{uuid.uuid4().hex}.db")
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(ITEMS_SCHEMA)
            conn.executemany("INSERT INTO items VALUES (?, ?, ?)", [tuple(r) for r in rows])
        out = []
        for key in keys:
            row = read_fn(conn, key)
            out.append(None if row is None else list(row))
        return out
    finally:
        conn.close()
        os.remove(path)


def occ_write_negative(write_fn: Callable) -> dict:
    """``write_fn(conn, "item", -1, 0)`` on a row (5, version 0): which error it raised, and the row after."""
    path = os.path.join(tempfile.gettempdir(), f"occ-{uuid.uuid4().hex}.db")
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(ITEMS_SCHEMA)
            conn.execute("INSERT INTO items VALUES ('item', 5, 0)")
        try:
            write_fn(conn, "item", -1, 0)
            error = None
        except Exception as exc:  # noqa: BLE001 (which one is the point)
            error = type(exc).__name__
        if conn.in_transaction:
            conn.rollback()
        row = list(conn.execute("SELECT value, version FROM items WHERE key = 'item'").fetchone())
        return {"error": error, "row": row}
    finally:
        conn.close()
        os.remove(path)


def naive_read(conn: sqlite3.Connection, key: str) -> list:
    """The seed's read: the value (and a version nobody checks)."""
    return list(conn.execute("SELECT value, version FROM items WHERE key = ?", (key,)).fetchone())


def naive_write(conn: sqlite3.Connection, key: str, value: int, version: int) -> bool:
    """The seed's write: UPDATE ... SET value = ? with no condition, so it always 'succeeds'."""
    with conn:
        conn.execute("UPDATE items SET value = ? WHERE key = ?", (value, key))
    return True


def occ_schedule(seed: int, clients: int, steps: int) -> list[int]:
    """A seeded schedule: which client moves at each step."""
    rng = np.random.default_rng(seed)
    return [int(x) for x in rng.integers(0, clients, size=steps)]


# --------------------------------------------------------------------------- hot partitions

def zipf_writes(seed: int, keys: int, writes: int, s: float = 1.2) -> list[int]:
    """``writes`` key indices in ``range(keys)`` with Zipf(s) popularity (index 0 hottest)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, keys + 1) ** s
    return [int(x) for x in rng.choice(keys, size=writes, p=weights / weights.sum())]


def simulate_partitions(per_second: Sequence[Sequence[str]], partitions: int, wcu_per_partition: int = PARTITION_WCU) -> dict:
    """Writes of 1 WCU each, grouped by second; each partition key hashes (SHA-256) to one of ``partitions``
    partitions, and a partition accepts at most ``wcu_per_partition`` writes per second, throttling the rest.
    Returns ``{"writes", "throttled", "busiest_partition_wcu"}``."""
    import hashlib

    throttled = total = busiest = 0
    for second in per_second:
        load: dict[int, int] = {}
        for pk in second:
            part = int(hashlib.sha256(pk.encode()).hexdigest(), 16) % partitions
            load[part] = load.get(part, 0) + 1
        total += len(second)
        throttled += sum(max(0, n - wcu_per_partition) for n in load.values())
        busiest = max([busiest, *load.values()])
    return {"writes": total, "throttled": throttled, "busiest_partition_wcu": busiest}


def hot_key_run(key_fn: Callable, scatter_fn: Callable, shards: int, seed: int, seconds: int = 1,
                writes_per_second: int = 3000, partitions: int = 40, zipf_s: float = 1.5) -> dict:
    """A Zipf write workload on 200 order keys (``order-0`` takes about a fifth of the writes), each write
    keyed by ``key_fn(pk, item_id, shards)``, through :func:`simulate_partitions`; then which keys the
    scatter read ``scatter_fn(pk, shards)`` queries for the hottest key. Returns the simulator's figures and
    ``{"read_queries", "read_covers_writes"}`` (every key a write of ``order-0`` used is in the scatter)."""
    per_second, hot_keys = [], set()
    for t in range(seconds):
        picks = zipf_writes(seed + t, 200, writes_per_second, zipf_s)
        keys = []
        for j, index in enumerate(picks):
            key = key_fn(f"order-{index}", f"item-{seed}-{t}-{j}", shards)
            keys.append(key)
            if index == 0:
                hot_keys.add(key)
        per_second.append(keys)
    out = simulate_partitions(per_second, partitions)
    scatter = list(scatter_fn("order-0", shards))
    out.update(read_queries=len(scatter), read_covers_writes=hot_keys <= set(scatter),
               distinct_hot_keys=len(hot_keys))
    return out


def unsharded_key(pk: str, item_id: str, shards: int) -> str:
    """Every write of an order on its own partition key (no sharding): the seed's design."""
    return pk


def unsharded_scatter(pk: str, shards: int) -> list[str]:
    return [pk]


# --------------------------------------------------------------------------- DynamoDB data modelling

DYNAMO_SK_OPS = (None, "eq", "begins_with", "between", "lt", "le", "gt", "ge")


def attribute_size(value) -> int:
    """Bytes DynamoDB counts for one attribute value (Amazon DynamoDB Developer Guide, "Item sizes and
    formats"): a string its UTF-8 length; a number about one byte per two significant digits plus one; a
    boolean or null one byte. Simplified: numbers use their decimal digits."""
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, float)):
        digits = sum(ch.isdigit() for ch in repr(abs(value)).lstrip("0.") or "0")
        return (digits + 1) // 2 + 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    raise ValueError(f"attribute values are str, int, float, bool or None, not {type(value).__name__}")


def item_size(item: dict) -> int:
    """An item's size: the UTF-8 length of each attribute name plus the size of its value."""
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


class ConditionalCheckFailed(Exception):
    """A conditional write whose condition did not hold (DynamoDB's ConditionalCheckFailedException)."""


class DynamoTable:
    """An in-memory table with DynamoDB's data model: items keyed by the string attributes ``PK`` (partition key)
    and ``SK`` (sort key); global secondary indexes ``{name: [pk_attribute, sk_attribute or None]}`` that hold only
    the items having the index's key attributes (sparse), as strings; ``query`` on one partition key with an
    optional sort-key condition, in sort-key order (Python string order, as DynamoDB compares UTF-8 bytes); ``scan``.
    Every read is logged with the items it read and the read capacity it would consume (eventually consistent:
    half a unit per started 4 KB of the items read, at least half a unit)."""

    MAX_INDEXES = 20  # "Global secondary indexes per table: 20" (Amazon DynamoDB Developer Guide, "Quotas")

    def __init__(self, indexes: dict | None = None):
        indexes = dict(indexes or {})
        if len(indexes) > self.MAX_INDEXES:
            raise ValueError(f"at most {self.MAX_INDEXES} global secondary indexes")
        for name, keys in indexes.items():
            if not isinstance(name, str) or not isinstance(keys, (list, tuple)) or len(keys) != 2 \
                    or not isinstance(keys[0], str) or not (keys[1] is None or isinstance(keys[1], str)):
                raise ValueError(f"index {name!r}: give [partition key attribute, sort key attribute or None]")
        self.indexes = {name: (keys[0], keys[1]) for name, keys in indexes.items()}
        self.items: dict[tuple[str, str], dict] = {}
        self._log: list[dict] = []
        self.rejected_units = 0

    def put_item(self, item: dict, condition: dict | None = None) -> int:
        """Store ``item`` (replacing one with the same PK and SK); returns the write units it consumes (one per
        started KB). ``condition``, like a ``ConditionExpression``, is checked against the stored item first:
        ``{"attribute_not_exists": name}`` (no stored item, or one without that attribute) or
        ``{"equals": [name, value]}`` (the stored item has that value); when it does not hold, nothing is written
        and :class:`ConditionalCheckFailed` is raised (DynamoDB still bills the write units)."""
        if not isinstance(item, dict) or not isinstance(item.get("PK"), str) or not isinstance(item.get("SK"), str):
            raise ValueError(f"an item needs string PK and SK attributes: {item!r}")
        for name, value in item.items():
            attribute_size(value)
        if item_size(item) > 400 * 1024:
            raise ValueError("an item is at most 400 KB")
        units = math.ceil(item_size(item) / 1024)
        if condition is not None:
            stored = self.items.get((item["PK"], item["SK"]))
            if set(condition) == {"attribute_not_exists"}:
                holds = stored is None or condition["attribute_not_exists"] not in stored
            elif set(condition) == {"equals"}:
                name, value = condition["equals"]
                holds = stored is not None and name in stored and stored[name] == value
            else:
                raise ValueError(f"unknown condition {condition!r}")
            if not holds:
                self.rejected_units += units
                raise ConditionalCheckFailed(f"condition {condition} does not hold for {item['PK']}/{item['SK']}")
        self.items[(item["PK"], item["SK"])] = dict(item)
        return units

    def load(self, items: Sequence[dict]) -> int:
        """Put every item; returns how many items the table holds."""
        for item in items:
            self.put_item(item)
        return len(self.items)

    def _keys(self, index: str | None) -> tuple[str, str | None]:
        if index is None:
            return "PK", "SK"
        if index not in self.indexes:
            raise ValueError(f"no index {index!r}")
        return self.indexes[index]

    def _record(self, op: str, index: str | None, read: list[dict]) -> None:
        size = sum(item_size(i) for i in read)
        self._log.append({"op": op, "index": index, "items_read": len(read),
                          "rcu": max(0.5, math.ceil(size / 4096) * 0.5)})

    def query(self, pk: str, index: str | None = None, sk_op: str | None = None, sk=None, forward: bool = True,
              limit: int | None = None) -> list[dict]:
        """Items whose partition key (of the table or ``index``) equals ``pk`` and whose sort key satisfies
        ``sk_op`` (``eq``, ``begins_with``, ``between`` with ``sk=[low, high]`` inclusive, ``lt``, ``le``, ``gt``,
        ``ge``), in sort-key order (reversed when ``forward`` is False), at most ``limit``."""
        if sk_op not in DYNAMO_SK_OPS:
            raise ValueError(f"sk_op must be one of {DYNAMO_SK_OPS}")
        pk_attr, sk_attr = self._keys(index)
        if sk_op is not None and sk_attr is None:
            raise ValueError(f"index {index!r} has no sort key")
        tests = {None: lambda v: True, "eq": lambda v: v == sk, "begins_with": lambda v: v.startswith(sk),
                 "between": lambda v: sk[0] <= v <= sk[1], "lt": lambda v: v < sk, "le": lambda v: v <= sk,
                 "gt": lambda v: v > sk, "ge": lambda v: v >= sk}
        found = [i for i in self.items.values() if isinstance(i.get(pk_attr), str) and i[pk_attr] == pk
                 and (sk_attr is None or isinstance(i.get(sk_attr), str))
                 and (sk_op is None or tests[sk_op](i[sk_attr]))]
        found.sort(key=lambda i: (i[sk_attr] if sk_attr else "", i["PK"], i["SK"]), reverse=not forward)
        if limit is not None:
            found = found[:limit]
        self._record("Query", index, found)
        return [dict(i) for i in found]

    def scan(self, index: str | None = None) -> list[dict]:
        """Every item (of the table or the index): reads the whole table."""
        pk_attr, sk_attr = self._keys(index)
        found = [i for i in self.items.values() if isinstance(i.get(pk_attr), str)
                 and (sk_attr is None or isinstance(i.get(sk_attr), str))]
        self._record("Scan", index, found)
        return [dict(i) for i in found]

    def log_since(self, start: int = 0) -> list[dict]:
        """The reads logged from position ``start`` on."""
        return [dict(e) for e in self._log[start:]]

    def log_length(self) -> int:
        return len(self._log)


ORDER_STATUSES = ("PLACED", "SHIPPED", "DELIVERED", "CANCELLED")


def order_data(seed: int, customers: int = 5, max_orders: int = 4, max_lines: int = 3,
               statuses: Sequence[str] = ORDER_STATUSES) -> dict:
    """A seeded data set of the seed's order service: customers (id, name, email), orders (id, customer, placed_at
    as ISO 8601 UTC, status, total in cents) and order lines (order, line number from 1, sku, quantity). Ids are
    random (their order says nothing about time); some orders share a timestamp; names are non-ASCII sometimes."""
    rng = np.random.default_rng(seed)
    names = ["Ada", "Björn", "Chiara", "Dương", "Émile", "Farah", "Grace", "Hiro", "Zoë", "O'Neil"]
    out: dict = {"customers": [], "orders": [], "lines": []}
    used: set[str] = set()

    def new_id(prefix: str) -> str:
        while True:
            value = f"{prefix}{int(rng.integers(0, 36 ** 6)):06x}"
            if value not in used:
                used.add(value)
                return value

    for c in range(customers):
        cid = new_id("c")
        out["customers"].append({"customer_id": cid, "name": str(rng.choice(names)),
                                 "email": f"user{c}-{cid}@example.com"})
        stamps = [f"2026-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}T"
                  f"{int(rng.integers(0, 24)):02d}:00:00Z" for _ in range(int(rng.integers(0, max_orders + 1)))]
        if len(stamps) > 1 and rng.random() < 0.3:
            stamps[1] = stamps[0]  # two orders in the same second
        for stamp in stamps:
            oid = new_id("o")
            out["orders"].append({"order_id": oid, "customer_id": cid, "placed_at": stamp,
                                  "status": str(rng.choice(list(statuses))),
                                  "total_cents": int(rng.integers(100, 10 ** 6))})
            for line_no in range(1, int(rng.integers(1, max_lines + 1)) + 1):
                out["lines"].append({"order_id": oid, "line_no": line_no,
                                     "sku": f"SKU-{int(rng.integers(0, 10 ** 5)):05d}",
                                     "quantity": int(rng.integers(1, 6))})
    return out


def access_requests(data: dict, seed: int, n: int = 12) -> list:
    """Seeded requests of the four access patterns on ``data``, unknown ids and e-mails included."""
    rng = np.random.default_rng(seed)
    customers = [c["customer_id"] for c in data["customers"]] + ["c-unknown"]
    orders = [o["order_id"] for o in data["orders"]] + ["o-unknown"]
    emails = [c["email"] for c in data["customers"]] + ["nobody@example.com"]
    out = []
    for _ in range(n):
        kind = int(rng.integers(0, 4))
        if kind == 0:
            out.append(["customer_orders", {"customer_id": str(rng.choice(customers))}])
        elif kind == 1:
            out.append(["order_details", {"order_id": str(rng.choice(orders))}])
        elif kind == 2:
            out.append(["orders_by_status", {"status": str(rng.choice(list(ORDER_STATUSES))),
                                             "since": f"2026-{int(rng.integers(1, 13)):02d}-01T00:00:00Z"}])
        else:
            out.append(["customer_by_email", {"email": str(rng.choice(emails))}])
    return out


def _items_needed(name: str, result) -> int:
    """How many items an answer needs to read: one per order listed, the order and each line, one customer."""
    if result is None:
        return 0
    if name == "order_details":
        return 1 + len(result.get("lines", []))
    if name == "customer_by_email":
        return 1
    return len(result)


def run_access_patterns(to_items: Callable, indexes_fn: Callable, patterns: dict, table_cls: Callable,
                        data: dict, requests: Sequence[Sequence]) -> dict:
    """Load ``to_items(data)`` into ``table_cls(indexes_fn())``, then answer each request ``[name, args]`` with
    ``patterns[name](table, **args)``. Returns ``{"results": [...], "one_query_each": bool,
    "reads_within_bound": bool, "problems": [...]}``: each call must make exactly one Query and no Scan, and read
    at most one item more than its answer needs (:func:`_items_needed`)."""
    table = table_cls(indexes_fn())
    table.load(to_items(data))
    results, problems = [], []
    for index, (name, args) in enumerate(requests):
        start = table.log_length()
        result = patterns[name](table, **args)
        log = table.log_since(start)
        results.append(result)
        ops = [e["op"] for e in log]
        if ops != ["Query"]:
            problems.append(f"request {index} ({name} {args}): made {ops or 'no read'}, not one Query")
        elif log[0]["items_read"] > _items_needed(name, result) + 1:
            problems.append(f"request {index} ({name} {args}): read {log[0]['items_read']} items for an answer "
                            f"that needs {_items_needed(name, result)}")
    return {"results": results,
            "one_query_each": not any("not one Query" in p for p in problems),
            "reads_within_bound": not any("items for an answer" in p for p in problems),
            "problems": problems[:3]}


# --------------------------------------------------------------------------- amplification next to SQLite

def lsm_workload(seed: int, n: int, keys: int, compact_every: int | None = None, memtable_limit: int = 50,
                 delete_share: float = 0.05) -> list:
    """``n`` seeded puts (values of 100 characters) and some deletes over ``keys`` keys with Zipf-like popularity
    (so keys are overwritten), with ``["compact", None]`` after every ``compact_every`` memtables' worth of writes."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, keys + 1) ** 0.8
    picks = rng.choice(keys, size=n, p=weights / weights.sum())
    ops: list = []
    for i, k in enumerate(picks):
        key = f"user{int(k):06d}"
        if rng.random() < delete_share:
            ops.append(["delete", key])
        else:
            ops.append(["put", key, f"{int(rng.integers(0, 10 ** 9)):09d}" * 11 + "x"])
        if compact_every and (i + 1) % (compact_every * memtable_limit) == 0:
            ops.append(["compact", None])
    return ops


def sqlite_amplification(ops: Sequence[Sequence], batch: int = 1) -> dict:
    """The same writes into SQLite's B-tree (a ``WITHOUT ROWID`` table keyed by ``key``), committed every ``batch``
    writes, in WAL mode with automatic checkpoints off, so every page SQLite writes is one frame of the log:
    ``write_amp`` = frames × page size / bytes of the keys and values written (SQLite file format, "The WAL file
    format": a 32-byte header, then frames of a 24-byte header and one page); ``space_amp`` = the database file's
    size after a checkpoint and VACUUM / bytes of the live keys and values."""
    path = os.path.join(tempfile.gettempdir(), f"amp-{uuid.uuid4().hex}.db")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        start = os.path.getsize(path + "-wal")
        user_bytes, pending, live = 0, 0, {}
        conn.execute("BEGIN")
        for op in ops:
            if op[0] == "put":
                conn.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (op[1], op[2]))
                user_bytes += len(op[1]) + len(op[2])
                live[op[1]] = len(op[1]) + len(op[2])
            elif op[0] == "delete":
                conn.execute("DELETE FROM kv WHERE key = ?", (op[1],))
                user_bytes += len(op[1])
                live.pop(op[1], None)
            else:
                continue
            pending += 1
            if pending == batch:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
                pending = 0
        conn.execute("COMMIT")
        frames = (os.path.getsize(path + "-wal") - max(start, 32)) / (page + 24)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = os.path.getsize(path)
        return {"write_amp": frames * page / user_bytes, "space_amp": size / sum(live.values()),
                "pages_written": int(frames), "page_size": page}
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def _increment_worker(path: str, key: str, increments: int, read_fn: Callable, write_fn: Callable, queue) -> None:
    conn = sqlite3.connect(path, timeout=30.0)
    attempts = 0
    try:
        for _ in range(increments):
            while True:
                value, version = read_fn(conn, key)
                attempts += 1
                if write_fn(conn, key, value + 1, version) is True:
                    break
    finally:
        conn.close()
        queue.put(attempts)


def increment_from_processes(read_fn: Callable, write_fn: Callable, processes: int = 4, increments: int = 200) -> dict:
    """``processes`` operating-system processes (forked) each add 1 to one counter row ``increments`` times by
    read-modify-write on a real SQLite file, retrying a write that returns False. Returns
    ``{"expected", "final", "lost", "attempts"}``: with the seed's unconditional write some increments are usually
    lost (how many depends on the scheduler); with a version check none are. Every process is joined."""
    import multiprocessing

    path = os.path.join(tempfile.gettempdir(), f"occ-{uuid.uuid4().hex}.db")
    setup = sqlite3.connect(path)
    with setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute(ITEMS_SCHEMA)
        setup.execute("INSERT INTO items VALUES ('counter', 0, 0)")
    setup.close()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_increment_worker, args=(path, "counter", increments, read_fn, write_fn, queue))
               for _ in range(processes)]
    try:
        for w in workers:
            w.start()
        attempts = sum(queue.get(timeout=120) for _ in workers)
    finally:
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.kill()
                w.join()
    conn = sqlite3.connect(path)
    final = conn.execute("SELECT value FROM items WHERE key = 'counter'").fetchone()[0]
    conn.close()
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    expected = processes * increments
    return {"expected": expected, "final": final, "lost": expected - final, "attempts": attempts}
