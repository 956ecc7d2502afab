"""Reference answers and contracts for module 11 (data stores). Hidden tests only; never shipped."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np

from autograde.contracts import OMIT, Contract, at_least, at_most, boundary, edge, greater_than, less_than
from course.datastores import access_requests, bloom_band, bloom_keys, occ_schedule, order_data

TOMB = object()
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600


# --------------------------------------------------------------------------- exercise 1: Bloom parameters

def bloom_parameters(n, p):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError("n must be an int >= 1")
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    m = math.ceil(-n * math.log(p) / math.log(2) ** 2)
    return {"m": m, "k": max(1, round(m / n * math.log(2)))}


def _bloom_params_draw(rng):
    return {"n": int(round(10 ** rng.uniform(0, 9))), "p": float(10 ** rng.uniform(-9, -0.05))}


# --------------------------------------------------------------------------- exercise 2: BloomFilter

def bloom_facts_expected(cls, n, p, seed, probes=1000, extra_keys=()):
    params = bloom_parameters(n, p)
    return {"m": params["m"], "k": params["k"], "false_negatives": 0,
            "rate_in_band": True if n + len(extra_keys) >= 20 else None}


def _bloom_draw(rng):
    return {"n": int(rng.integers(20, 400)), "p": float(10 ** rng.uniform(-3, -0.5)),
            "seed": int(rng.integers(0, 2 ** 31)), "probes": 1000,
            "extra_keys": [] if rng.random() < 0.5 else ["", "é", "日本語", "a" * int(rng.integers(1, 3000))]}


# --------------------------------------------------------------------------- exercise 3: LSM store

class LSMModel:
    """The contract's LSM store as dicts: memtable (survives a crash: the log replays it) and runs."""

    def __init__(self, memtable_limit):
        if not isinstance(memtable_limit, int) or memtable_limit < 1:
            raise ValueError("memtable_limit must be an int >= 1")
        self.limit, self.memtable, self.runs = memtable_limit, {}, []

    def _write(self, key, value):
        self.memtable[key] = value
        if len(self.memtable) >= self.limit:
            self.flush()

    def put(self, key, value):
        self._write(key, value)

    def delete(self, key):
        self._write(key, TOMB)

    def _lookup(self, key):
        for table in [self.memtable, *self.runs]:
            if key in table:
                return table[key]
        return TOMB

    def get(self, key):
        value = self._lookup(key)
        return None if value is TOMB else value

    def scan(self, lo, hi):
        keys = {k for table in [self.memtable, *self.runs] for k in table if lo <= k < hi}
        return [[k, self._lookup(k)] for k in sorted(keys) if self._lookup(k) is not TOMB]

    def flush(self):
        if self.memtable:
            self.runs.insert(0, dict(self.memtable))
            self.memtable = {}

    def compact(self, count=None):
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 2):
            raise ValueError("count must be None or an int >= 2")
        k = len(self.runs) if count is None else min(count, len(self.runs))
        merged = {}
        for run in reversed(self.runs[:k]):  # oldest first, newer entries overwrite
            merged.update(run)
        if k == len(self.runs):
            merged = {key: v for key, v in merged.items() if v is not TOMB}
        self.runs = ([merged] if merged else []) + self.runs[k:]

    def sizes(self):
        return [len(r) for r in self.runs]


def lsm_expected(cls, ops, memtable_limit=4):
    store = LSMModel(memtable_limit)
    out = []
    for op in ops:
        kind, args = op[0], list(op[1:])
        if kind == "crash":
            out.append(None)
        elif kind == "runs":
            out.append(store.sizes())
        else:
            try:
                out.append(getattr(store, kind)(*args))
            except ValueError:
                out.append("ValueError")
    return out


def lsm_script(rng, n_ops, keys=12, weights=None):
    """A random script on ``keys`` keys (two of them non-ASCII): every kind of operation, crashes too."""
    names = [f"k{i:02d}" for i in range(keys - 2)] + ["é", "日本"]
    kinds = ["put", "get", "delete", "scan", "flush", "compact", "runs", "crash"]
    w = np.array(weights or [30, 25, 12, 8, 4, 4, 6, 5], float)
    ops = []
    for _ in range(n_ops):
        kind = kinds[rng.choice(len(kinds), p=w / w.sum())]
        if kind == "put":
            ops.append(["put", str(rng.choice(names)), f"v{int(rng.integers(0, 1000))}"])
        elif kind in ("get", "delete"):
            ops.append([kind, str(rng.choice(names + ["absent"]))])
        elif kind == "scan":
            a, b = sorted(str(x) for x in rng.choice(names + ["", "k05", "z"], size=2))
            ops.append(["scan", a, b] if rng.random() < 0.9 else ["scan", b, a])
        elif kind == "compact":
            ops.append(["compact", None if rng.random() < 0.4 else int(rng.integers(2, 5))])
        else:
            ops.append([kind])
    return ops


def lsm_scripts(seed, n, n_ops=150, memtable_limits=(1, 2, 3, 4, 6)):
    rng = np.random.default_rng(seed)
    return [(lsm_script(rng, n_ops), int(rng.choice(memtable_limits))) for _ in range(n)]


def _lsm_draw(rng):
    return {"ops": lsm_script(rng, int(rng.integers(1, 80)), keys=int(rng.integers(3, 14))),
            "memtable_limit": int(rng.integers(1, 8))}


def _ops(*ops):
    return {"ops": [list(o) for o in ops]}


# --------------------------------------------------------------------------- exercise 3b: amplification

class CountingModel(LSMModel):
    """The LSM model, counting the entries written into runs by flushes and compactions."""

    written = 0

    def flush(self):
        self.written += len(self.memtable)
        super().flush()

    def compact_counting(self, count=None):
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 2):
            raise ValueError("count must be None or an int >= 2")
        k = len(self.runs) if count is None else min(count, len(self.runs))
        rest = len(self.runs) - k
        LSMModel.compact(self, count)
        if len(self.runs) > rest:
            self.written += len(self.runs[0])


def amplification_expected(ops, memtable_limit):
    model = CountingModel(memtable_limit)
    user = 0
    for op in ops:
        kind, args = op[0], list(op[1:])
        if kind in ("put", "delete"):
            user += 1
            getattr(model, kind)(*args)
        elif kind == "flush":
            model.flush()
        elif kind == "compact":
            model.compact_counting(*args)
    model.flush()
    live = sum(1 for key in {k for run in model.runs for k in run} if model.get(key) is not None)
    total = sum(model.sizes())
    return {"write_amp": model.written / user if user else None,
            "space_amp": total / live if live else None}


def _amp_draw(rng):
    ops = lsm_script(rng, int(rng.integers(1, 120)), keys=int(rng.integers(3, 30)),
                     weights=[40, 25, 10, 3, 3, 4, 0, 0])
    return {"ops": ops, "memtable_limit": int(rng.integers(1, 9))}


# --------------------------------------------------------------------------- exercise 4: optimistic concurrency

def occ_expected(read_fn, write_fn, initial, deltas, schedule, key="item"):
    row = [initial, 0]
    state = [{"seen": None, "outcome": None, "attempts": 0} for _ in deltas]

    def step(i):
        s = state[i]
        if s["outcome"] is not None:
            return
        if s["seen"] is None:
            s["seen"] = list(row)
            return
        value, version = s["seen"]
        s["seen"] = None
        new = value + deltas[i]
        if new < 0:
            s["outcome"] = "refused"
            return
        s["attempts"] += 1
        if row[1] == version:
            row[:] = [new, version + 1]
            s["outcome"] = "done"

    for i in schedule:
        step(i)
    for _ in range(4 * len(deltas) * (len(deltas) + 2)):
        for i in range(len(deltas)):
            step(i)
    return {"final": list(row), "clients": [[s["outcome"], s["attempts"]] for s in state]}


def read_rows_expected(read_fn, rows, keys):
    table = {r[0]: [r[1], r[2]] for r in rows}
    return [table.get(k) for k in keys]


def _read_draw(rng):
    names = ["item", "Item", "é", "sku-1", "sku-2", "x" * 40]
    chosen = [str(x) for x in rng.choice(names, size=int(rng.integers(0, len(names) + 1)), replace=False)]
    rows = [[k, int(rng.integers(0, 10 ** int(rng.integers(1, 12)))), int(rng.integers(0, 50))] for k in chosen]
    return {"rows": rows, "keys": [str(x) for x in rng.choice(names + ["absent"], size=int(rng.integers(1, 8)))]}


def _occ_draw(rng):
    clients = int(rng.integers(1, 7))
    counter = rng.random() < 0.4
    deltas = [1] * clients if counter else [-int(rng.integers(1, 4)) for _ in range(clients)]
    return {"initial": int(rng.integers(0, 5 if not counter else 100)), "deltas": deltas,
            "schedule": occ_schedule(int(rng.integers(0, 2 ** 31)), clients, int(rng.integers(0, 4 * clients + 1)))}


# --------------------------------------------------------------------------- exercise 5: hot partitions

def shards_needed(peak_wcu, partition_wcu=1000, utilisation=0.8):
    if peak_wcu < 0:
        raise ValueError("peak_wcu must be >= 0")
    if partition_wcu <= 0:
        raise ValueError("partition_wcu must be > 0")
    if not 0 < utilisation <= 1:
        raise ValueError("utilisation must be in (0, 1]")
    return max(1, math.ceil(peak_wcu / (partition_wcu * utilisation)))


def sharded_key(pk, item_id, shards):
    if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
        raise ValueError("shards must be an int >= 1")
    return f"{pk}#{int(hashlib.sha256(item_id.encode('utf-8')).hexdigest(), 16) % shards}"


def scatter_keys(pk, shards):
    if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
        raise ValueError("shards must be an int >= 1")
    return [f"{pk}#{i}" for i in range(shards)]


def _shards_draw(rng):
    return {"peak_wcu": float(10 ** rng.uniform(0, 6)) if rng.random() < 0.9 else 0.0,
            "partition_wcu": float(rng.choice([1000, 1000, 500, 3000, 40_000])) * float(rng.choice([1, 1.0, 0.5])),
            "utilisation": float(rng.uniform(0.05, 1.0))}


def _key_draw(rng):
    pk = str(rng.choice(["order-1", "user#42", "Ünïcode", "a", "x" * 50]))
    return {"pk": pk, "item_id": f"item-{int(rng.integers(0, 10 ** 9))}" if rng.random() < 0.9 else "é日",
            "shards": int(rng.integers(1, 200))}


def _scatter_draw(rng):
    return {"pk": str(rng.choice(["order-1", "user#42", "Ünïcode", "a"])), "shards": int(rng.integers(1, 300))}


# --------------------------------------------------------------------------- exercise 6: the priced decision

def request_units(item_kb, kind):
    """DynamoDB request units for one request on an item of ``item_kb`` KB (1 KB = 1,024 bytes)."""
    if kind == "write":
        return math.ceil(item_kb)
    return math.ceil(item_kb / 4) * (1 if kind == "strong_read" else 0.5)


def monthly_costs(workload, prices):
    w, p = workload, prices
    for name in ("reads_per_s", "writes_per_s", "storage_gb", "replicas"):
        if w[name] < 0:
            raise ValueError(f"{name} must be >= 0")
    if w["item_kb"] <= 0:
        raise ValueError("item_kb must be > 0")
    if w["instance"] not in p["rds"]["instance_per_hour"]:
        raise ValueError(f"unknown instance {w['instance']!r}")
    read_kind = "strong_read" if w.get("strong_reads", False) else "read"
    wru, rru = request_units(w["item_kb"], "write"), request_units(w["item_kb"], read_kind)
    d = p["dynamodb"]
    storage = w["storage_gb"] * d["storage_gb_month"]
    on_demand = (w["writes_per_s"] * wru * SECONDS_PER_MONTH / 1e6 * d["on_demand_per_million_wru"]
                 + w["reads_per_s"] * rru * SECONDS_PER_MONTH / 1e6 * d["on_demand_per_million_rru"] + storage)
    util = w.get("target_utilisation", 0.7)
    wcu, rcu = math.ceil(w["writes_per_s"] * wru / util), math.ceil(w["reads_per_s"] * rru / util)
    provisioned = HOURS_PER_MONTH * (wcu * d["wcu_hour"] + rcu * d["rcu_hour"]) + storage
    r = p["rds"]
    rds = (1 + w["replicas"]) * (HOURS_PER_MONTH * r["instance_per_hour"][w["instance"]]
                                 + w["storage_gb"] * r["storage_gb_month"])
    costs = {"rds": rds, "dynamodb_on_demand": on_demand, "dynamodb_provisioned": provisioned}
    cheapest = min(costs, key=lambda name: (round(costs[name], 6), list(costs).index(name)))
    return {**costs, "cheapest": cheapest}


def load_prices():
    from course.data import data_path

    return json.loads(data_path("datastore_prices.json").read_text())


def _workload(rng, prices):
    return {"reads_per_s": float(10 ** rng.uniform(-1, 5)), "writes_per_s": float(10 ** rng.uniform(-1, 4.5)),
            "item_kb": float(rng.choice([0.1, 0.5, 1.0, 1.5, 3.9, 4.0, 4.1, 12.0, 400.0])),
            "storage_gb": float(10 ** rng.uniform(0, 4)), "replicas": int(rng.integers(0, 4)),
            "instance": str(rng.choice(sorted(prices["rds"]["instance_per_hour"]))),
            "strong_reads": bool(rng.random() < 0.3), "target_utilisation": float(rng.uniform(0.3, 1.0))}


def _costs_draw(rng):
    prices = load_prices()
    return {"workload": _workload(rng, prices), "prices": prices}


def _with(**changes):
    """An override that changes some workload fields of a fixed, valid workload."""
    base = {"reads_per_s": 200.0, "writes_per_s": 50.0, "item_kb": 2.0, "storage_gb": 100.0, "replicas": 1,
            "instance": "db.m6g.large", "strong_reads": False, "target_utilisation": 0.7}
    return {"workload": {**base, **changes}, "prices": load_prices()}


# --------------------------------------------------------------------------- exercise 6: DynamoDB data modelling

def answer_request(data, name, args):
    """The answer of one access pattern, from the raw data (no table)."""
    orders = data["orders"]
    if name == "customer_orders":
        mine = [o for o in orders if o["customer_id"] == args["customer_id"]]
        return [o["order_id"] for o in sorted(mine, key=lambda o: (o["placed_at"], o["order_id"]), reverse=True)]
    if name == "order_details":
        found = [o for o in orders if o["order_id"] == args["order_id"]]
        if not found:
            return None
        lines = sorted((l for l in data["lines"] if l["order_id"] == args["order_id"]), key=lambda l: l["line_no"])
        return {"customer_id": found[0]["customer_id"], "status": found[0]["status"],
                "lines": [[l["line_no"], l["sku"], l["quantity"]] for l in lines]}
    if name == "orders_by_status":
        chosen = [o for o in orders if o["status"] == args["status"] and o["placed_at"] >= args["since"]]
        return [o["order_id"] for o in sorted(chosen, key=lambda o: (o["placed_at"], o["order_id"]))]
    if name == "customer_by_email":
        found = [c["customer_id"] for c in data["customers"] if c["email"] == args["email"]]
        return found[0] if found else None
    raise ValueError(f"unknown access pattern {name!r}")


def patterns_expected(to_items, indexes_fn, patterns, table_cls, data, requests):
    return {"results": [answer_request(data, name, args) for name, args in requests], "one_query_each": True,
            "reads_within_bound": True, "problems": []}


def _patterns_draw(rng):
    data = order_data(int(rng.integers(0, 2 ** 31)), customers=int(rng.integers(1, 12)),
                      max_orders=int(rng.integers(0, 8)), max_lines=int(rng.integers(1, 13)))
    return {"data": data, "requests": access_requests(data, int(rng.integers(0, 2 ** 31)), int(rng.integers(1, 10)))}


def _fixed_data(**kw):
    return order_data(**kw)


def _req(data_seed, requests, **kw):
    return {"data": order_data(data_seed, **kw), "requests": requests}


def _same_second_data():
    data = order_data(7, customers=2, max_orders=3, max_lines=2)
    cid = data["customers"][0]["customer_id"]
    for i, stamp in enumerate(["2026-05-01T10:00:00Z", "2026-05-01T10:00:00Z", "2026-04-30T23:00:00Z"]):
        data["orders"].append({"order_id": f"o-tie-{i}", "customer_id": cid, "placed_at": stamp, "status": "PLACED",
                               "total_cents": 100})
        data["lines"].append({"order_id": f"o-tie-{i}", "line_no": 1, "sku": "SKU-1", "quantity": 1})
    return data, cid


_TIE_DATA, _TIE_CUSTOMER = _same_second_data()


def _many_lines_data():
    data = order_data(8, customers=1, max_orders=1, max_lines=1)
    oid = "o-big"
    data["orders"].append({"order_id": oid, "customer_id": data["customers"][0]["customer_id"],
                           "placed_at": "2026-06-01T00:00:00Z", "status": "SHIPPED", "total_cents": 5})
    data["lines"] += [{"order_id": oid, "line_no": n, "sku": f"SKU-{100 - n}", "quantity": n % 5 + 1}
                      for n in range(12, 0, -1)]
    return data, oid


_BIG_DATA, _BIG_ORDER = _many_lines_data()
_ALL_STATUS = order_data(9, customers=8, max_orders=6, max_lines=2, statuses=("CANCELLED", "DELIVERED"))


def _pattern_contract(name, says_edges, domain_note=""):
    return Contract(
        name, patterns_expected, draw=_patterns_draw, supplied=("to_items", "indexes_fn", "patterns", "table_cls"),
        domain="1 to 11 customers, 0 to 7 orders each with 1 to 12 lines, every status, same-second orders, "
               "1 to 9 requests of the four patterns with unknown ids and e-mails" + domain_note,
        rules=says_edges)


def _near_tie(cheaper_by):
    """RDS on db.t4g.micro alone (11.68 dollars) against on-demand reads that cost ``cheaper_by`` less; provisioned
    capacity at 25% utilisation costs more than both."""
    prices = load_prices()
    rds = HOURS_PER_MONTH * prices["rds"]["instance_per_hour"]["db.t4g.micro"]
    per_read_per_s = SECONDS_PER_MONTH * 0.5 / 1e6 * prices["dynamodb"]["on_demand_per_million_rru"]
    return _with(reads_per_s=(rds - cheaper_by) / per_read_per_s, writes_per_s=0.0, item_kb=1.0, storage_gb=0.0,
                 replicas=0, instance="db.t4g.micro", strong_reads=False, target_utilisation=0.25)


# --------------------------------------------------------------------------- contracts

CONTRACTS = {
    "bloom_parameters": Contract(
        "bloom_parameters", bloom_parameters, draw=_bloom_params_draw,
        domain="`n` from 1 to 10^9, `p` from 10^-9 to 0.89, uniform in order of magnitude",
        rules=[at_least("n", 1), greater_than("p", 0.0, step=1e-12), less_than("p", 1.0, step=1e-9),
               edge("`n` is an int: a float such as 100.0 gives `ValueError`", {"n": 100.0}, {"n": True}),
               edge("one key: `m` = ceil(-ln p / (ln 2)^2), `k` at least 1", {"n": 1, "p": 0.5}, {"n": 1, "p": 0.9},
                    {"n": 1, "p": 1e-9}),
               edge("p = 1% gives about 9.59 bits per key and 7 hash functions", {"n": 1000, "p": 0.01},
                    {"n": 10 ** 6, "p": 0.01})]),
    "BloomFilter": Contract(
        "BloomFilter", bloom_facts_expected, draw=_bloom_draw, supplied=("cls",), constant=("probes",),
        domain="20 to 400 keys, `p` from 0.001 to 0.32, 1,000 absent keys probed (fixed: it sets the band)",
        rules=[at_least("n", 1, says="`BloomFilter(n, p)` with `n` < 1 gives `ValueError`"),
               greater_than("p", 0.0, step=1e-12, says="`p` <= 0 gives `ValueError`"),
               less_than("p", 1.0, step=1e-9, says="`p` >= 1 gives `ValueError`"),
               edge("no false negative, also for the empty string, non-ASCII keys and a 3,000-character key",
                    {"extra_keys": ["", "é", "日本語", "a" * 3000, "A", "a"]}),
               edge("one key only (the rate is judged from 20 keys on)", {"n": 1, "p": 0.3, "extra_keys": []})]),
    "LSMStore": Contract(
        "LSMStore", lsm_expected, draw=_lsm_draw, supplied=("cls",),
        domain="scripts of 1 to 80 operations of every kind on 3 to 13 keys (two non-ASCII), memtable limits 1 to 7",
        rules=[at_least("memtable_limit", 1, says="`memtable_limit` < 1 gives `ValueError`"),
               boundary("the memtable is flushed as soon as it holds `memtable_limit` keys",
                        at={"memtable_limit": 3, **_ops(["put", "a", "1"], ["put", "b", "2"], ["put", "c", "3"],
                                                        ["runs"])},
                        inside={"memtable_limit": 3, **_ops(["put", "a", "1"], ["put", "b", "2"], ["put", "a", "3"],
                                                            ["runs"])},
                        outside={"memtable_limit": 3, **_ops(["put", "a", "1"], ["put", "b", "2"], ["delete", "c"],
                                                             ["put", "d", "4"], ["runs"])}),
               boundary("`compact(count)` merges the `count` newest runs; `count` < 2 gives `ValueError`",
                        at={"memtable_limit": 1, **_ops(["put", "a", "1"], ["put", "b", "2"], ["put", "c", "3"],
                                                        ["compact", 2], ["runs"])},
                        inside={"memtable_limit": 1, **_ops(["put", "a", "1"], ["put", "b", "2"], ["put", "c", "3"],
                                                            ["compact", 3], ["runs"], ["compact", 9], ["runs"])},
                        outside={"memtable_limit": 1, **_ops(["put", "a", "1"], ["put", "b", "2"], ["compact", 1],
                                                             ["compact", 0], ["runs"])}),
               edge("a tombstone is dropped only by a compaction that includes the oldest run",
                    {"memtable_limit": 2, **_ops(["put", "a", "old"], ["put", "b", "x"], ["delete", "a"],
                                                 ["put", "c", "y"], ["put", "d", "z"], ["put", "e", "w"],
                                                 ["compact", 2], ["get", "a"], ["runs"], ["compact", None],
                                                 ["get", "a"], ["runs"], ["scan", "", "z"])}),
               edge("reads find the newest version: memtable, then runs newest first",
                    {"memtable_limit": 2, **_ops(["put", "a", "1"], ["put", "b", "1"], ["put", "a", "2"],
                                                 ["put", "c", "1"], ["put", "a", "3"], ["get", "a"], ["flush"],
                                                 ["get", "a"], ["scan", "a", "b"], ["compact", None], ["get", "a"])}),
               edge("a crash loses nothing that `put` or `delete` returned from, also after a flush or compaction",
                    {"memtable_limit": 3, **_ops(["put", "a", "1"], ["delete", "b"], ["crash"], ["get", "a"],
                                                 ["put", "b", "2"], ["crash"], ["crash"], ["scan", "", "z"],
                                                 ["runs"], ["flush"], ["put", "c", "3"], ["compact", None],
                                                 ["crash"], ["runs"], ["scan", "", "z"])}),
               edge("scans merge runs and memtable: each live key once, sorted, `hi` excluded, deleted keys absent",
                    {"memtable_limit": 2, **_ops(["put", "b", "1"], ["put", "a", "1"], ["put", "c", "2"],
                                                 ["delete", "a"], ["put", "b", "3"], ["scan", "a", "c"],
                                                 ["scan", "a", "d"], ["scan", "c", "a"], ["scan", "b", "b"])}),
               edge("an empty store: reads find nothing, flush and compaction do nothing",
                    {"memtable_limit": 4, **_ops(["get", "a"], ["scan", "", "z"], ["flush"], ["compact", None],
                                                 ["runs"], ["crash"], ["runs"])})]),
    "lsm_amplification": Contract(
        "lsm_amplification", amplification_expected, draw=_amp_draw,
        domain="scripts of 1 to 119 puts, deletes, gets, scans, flushes and compactions on 3 to 29 keys, "
               "memtable limits 1 to 8",
        rules=[edge("no put or delete: `write_amp` is None; no live key at the end: `space_amp` is None",
                    {"ops": [["scan", "", "z"]], "memtable_limit": 2},
                    {"ops": [["put", "a", "1"], ["delete", "a"]], "memtable_limit": 3}),
               edge("the final flush counts as a write; a compaction writes its merged run (tombstones it drops are "
                    "not written)",
                    {"ops": [["put", "a", "1"], ["put", "b", "1"], ["delete", "a"], ["put", "c", "1"],
                             ["compact", None]], "memtable_limit": 2}),
               edge("an overwritten key is stored once per run that holds it (space), and counts once per write",
                    {"ops": [["put", "a", "1"], ["get", "a"], ["put", "b", "2"], ["get", "a"], ["put", "a", "3"],
                             ["flush"], ["put", "a", "4"], ["compact", 2]], "memtable_limit": 2})]),
    "read_row": Contract(
        "read_row", read_rows_expected, draw=_read_draw, supplied=("read_fn",),
        domain="0 to 6 rows (keys differing in case, non-ASCII, 40 characters; values up to 10^11), 1 to 7 lookups",
        rules=[edge("a key that is not in the table gives None", {"rows": [], "keys": ["item"]}),
               edge("keys that differ only in case are different rows",
                    {"rows": [["item", 1, 0], ["Item", 2, 5]], "keys": ["Item", "item", "ITEM"]})]),
    "write_if_version": Contract(
        "write_if_version", occ_expected, draw=_occ_draw, supplied=("read_fn", "write_fn"),
        domain="1 to 6 clients on one row, counters (+1 each) and stock (-1 to -3 each, 0 to 4 in stock), "
               "seeded schedules of 0 to 4 steps per client, then round-robin",
        rules=[edge("two clients read the same version: the second write fails and retries (no lost update)",
                    {"initial": 10, "deltas": [1, 1], "schedule": [0, 1, 0, 1]}),
               edge("stock never goes below 0: a client that would oversell re-reads and is refused",
                    {"initial": 3, "deltas": [-2, -2], "schedule": [0, 1, 0, 1]}),
               edge("a client alone writes at its first attempt", {"initial": 0, "deltas": [5], "schedule": []}),
               edge("the version rises by one per successful write",
                    {"initial": 0, "deltas": [1, 1, 1, 1, 1], "schedule": [0, 1, 2, 3, 4, 4, 3, 2, 1, 0]})]),
    "shards_needed": Contract(
        "shards_needed", shards_needed, draw=_shards_draw,
        domain="peaks from 1 to 10^6 WCU (and 0), partition limits 250 to 40,000, utilisation 0.05 to 1",
        rules=[at_least("peak_wcu", 0.0, step=0.001), greater_than("partition_wcu", 0.0, step=0.001),
               greater_than("utilisation", 0.0, step=1e-6),
               at_most("utilisation", 1.0, step=0.001),
               boundary("a peak that fills its shards exactly needs no extra shard",
                        at={"peak_wcu": 4000.0, "partition_wcu": 1000.0, "utilisation": 0.8},
                        inside={"peak_wcu": 3999.0, "partition_wcu": 1000.0, "utilisation": 0.8},
                        outside={"peak_wcu": 4001.0, "partition_wcu": 1000.0, "utilisation": 0.8}),
               edge("no load still needs one shard; the defaults are 1,000 WCU and 0.8",
                    {"peak_wcu": 0.0}, {"peak_wcu": 1601.0, "partition_wcu": OMIT, "utilisation": OMIT})]),
    "sharded_key": Contract(
        "sharded_key", sharded_key, draw=_key_draw,
        domain="partition keys with '#', non-ASCII and 50 characters, item ids up to 10^9, 1 to 199 shards",
        rules=[at_least("shards", 1), edge("`shards` is an int: 2.0 or True gives `ValueError`", {"shards": 2.0}, {"shards": True}),
               edge("one shard: every item gets suffix 0", {"shards": 1}),
               edge("the suffix is computed from the UTF-8 bytes of `item_id`", {"item_id": "é日", "shards": 97})]),
    "scatter_keys": Contract(
        "scatter_keys", scatter_keys, draw=_scatter_draw,
        domain="1 to 299 shards",
        rules=[at_least("shards", 1), edge("`shards` is an int: 3.0 gives `ValueError`", {"shards": 3.0}),
               edge("one shard: one key", {"shards": 1})]),
    "table_indexes": _pattern_contract("table_indexes", [
        edge("an index holds every item it must: orders of every status, cancelled and delivered too",
             {"data": _ALL_STATUS, "requests": [["orders_by_status", {"status": "CANCELLED", "since": ""}],
                                                ["orders_by_status", {"status": "DELIVERED", "since": ""}]]})]),
    "to_items": _pattern_contract("to_items", [
        edge("customers without orders and orders in the same second are stored and found",
             {"data": _TIE_DATA, "requests": [["customer_orders", {"customer_id": _TIE_CUSTOMER}],
                                              ["order_details", {"order_id": "o-tie-1"}]]})]),
    "customer_orders": _pattern_contract("customer_orders", [
        edge("newest first; orders of the same second by order id, descending",
             {"data": _TIE_DATA, "requests": [["customer_orders", {"customer_id": _TIE_CUSTOMER}]]}),
        edge("an unknown customer has no orders: []",
             {"data": _TIE_DATA, "requests": [["customer_orders", {"customer_id": "c-unknown"}]]})]),
    "order_details": _pattern_contract("order_details", [
        edge("lines in line-number order, also with 10 or more lines",
             {"data": _BIG_DATA, "requests": [["order_details", {"order_id": _BIG_ORDER}]]}),
        edge("an unknown order gives None",
             {"data": _BIG_DATA, "requests": [["order_details", {"order_id": "o-unknown"}]]})]),
    "orders_by_status": _pattern_contract("orders_by_status", [
        boundary("`since` is inclusive: an order placed exactly at `since` is listed",
                 at={"data": _TIE_DATA, "requests": [["orders_by_status", {"status": "PLACED",
                                                                           "since": "2026-05-01T10:00:00Z"}]]},
                 inside={"data": _TIE_DATA, "requests": [["orders_by_status", {"status": "PLACED",
                                                                               "since": "2026-05-01T09:59:59Z"}]]},
                 outside={"data": _TIE_DATA, "requests": [["orders_by_status", {"status": "PLACED",
                                                                                "since": "2026-05-01T10:00:01Z"}]]}),
        edge("a status no order has gives []",
             {"data": _ALL_STATUS, "requests": [["orders_by_status", {"status": "PLACED", "since": ""}]]})]),
    "customer_by_email": _pattern_contract("customer_by_email", [
        edge("an unknown e-mail gives None",
             {"data": _TIE_DATA, "requests": [["customer_by_email", {"email": "nobody@example.com"}]]})]),
    "monthly_costs": Contract(
        "monthly_costs", monthly_costs, draw=_costs_draw, constant=("prices",),
        domain="0.1 to 100,000 reads/s, 0.1 to 30,000 writes/s, items 0.1 to 400 KB, 1 to 10,000 GB, "
               "0 to 3 replicas, every instance of the table; prices: the table in data/ (one table on purpose)",
        rules=[boundary("a write uses one WRU per started KB", at=_with(item_kb=1.0), inside=_with(item_kb=0.999),
                        outside=_with(item_kb=1.001)),
               boundary("an eventually consistent read uses half an RRU per started 4 KB, a strong one a whole",
                        at=_with(item_kb=4.0), inside=_with(item_kb=3.9, strong_reads=True),
                        outside=_with(item_kb=4.1)),
               edge("`item_kb` <= 0, a negative rate, size or replica count, or an unknown instance: `ValueError`",
                    _with(item_kb=0.0), _with(reads_per_s=-1.0), _with(replicas=-1), _with(instance="db.x9.huge")),
               edge("no traffic: DynamoDB costs only its storage, RDS its instances",
                    _with(reads_per_s=0.0, writes_per_s=0.0)),
               edge("a tie is broken in the order rds, dynamodb_on_demand, dynamodb_provisioned",
                    _with(reads_per_s=0.0, writes_per_s=0.0, storage_gb=0.0, instance="db.t4g.micro")),
               boundary("costs are compared rounded to 6 decimals: on-demand 3e-7 dollars cheaper than RDS is a tie "
                        "(RDS), 3e-6 cheaper is not",
                        at=_near_tie(0.0), inside=_near_tie(3e-7), outside=_near_tie(3e-6))]),
}
