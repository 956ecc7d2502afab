"""course.datastores: the drivers and simulators of module 11 do what their docstrings say, and agree with
the reference's models (autograde.reference.data_stores) on stores written here independently."""

from __future__ import annotations

import math
import os
import sqlite3

import pytest

from autograde.reference import data_stores as ref
from course import datastores as ds


class DictStore:
    """An LSM-shaped store kept in one JSON file per instance directory: memtable and runs rewritten on every
    change (slow, obviously right, crash-proof), written here to test the driver against the reference model."""

    def __init__(self, directory, memtable_limit=4):
        import json

        if not isinstance(memtable_limit, int) or memtable_limit < 1:
            raise ValueError("limit")
        os.makedirs(directory, exist_ok=True)
        self.path, self.limit, self.json = os.path.join(directory, "state.json"), memtable_limit, json
        self.state = json.load(open(self.path)) if os.path.exists(self.path) else {"mem": {}, "runs": []}

    def _save(self):
        with open(self.path, "w") as f:
            self.json.dump(self.state, f)

    def _write(self, key, value):
        self.state["mem"][key] = value
        if len(self.state["mem"]) >= self.limit:
            self.flush()
        self._save()

    def put(self, key, value):
        self._write(key, value)

    def delete(self, key):
        self._write(key, None)

    def flush(self):
        if self.state["mem"]:
            self.state["runs"].insert(0, self.state["mem"])
            self.state["mem"] = {}
        self._save()

    def _find(self, key):
        for table in [self.state["mem"], *self.state["runs"]]:
            if key in table:
                return table[key]
        return None

    def get(self, key):
        return self._find(key)

    def scan(self, lo, hi):
        keys = sorted({k for t in [self.state["mem"], *self.state["runs"]] for k in t if lo <= k < hi})
        return [[k, self._find(k)] for k in keys if self._find(k) is not None]

    def compact(self, count=None):
        if count is not None and count < 2:
            raise ValueError("count")
        runs = self.state["runs"]
        k = len(runs) if count is None else min(count, len(runs))
        merged = {}
        for run in reversed(runs[:k]):
            merged.update(run)
        if k == len(runs):
            merged = {a: b for a, b in merged.items() if b is not None}
        self.state["runs"] = ([merged] if merged else []) + runs[k:]
        self._save()

    def runs(self):
        return [len(r) for r in self.state["runs"]]

    def reads(self):
        return 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_run_lsm_agrees_with_the_reference_model_on_an_independent_store(seed):
    for script, limit in ref.lsm_scripts(seed=seed, n=5, n_ops=120):
        assert ds.run_lsm(DictStore, script, limit) == ref.lsm_expected(None, script, limit), (seed, script)


def test_a_store_that_forgets_its_memtable_at_a_crash_is_told_apart():
    class Forgetful(DictStore):
        def _save(self):
            pass  # nothing reaches the disk

    ops = [["put", "a", "1"], ["crash"], ["get", "a"]]
    assert ds.run_lsm(DictStore, ops) == [None, None, "1"]
    assert ds.run_lsm(Forgetful, ops) == [None, None, None]


def test_run_lsm_reports_value_errors_and_refuses_unknown_operations():
    assert ds.run_lsm(DictStore, [["compact", 1]]) == ["ValueError"]
    with pytest.raises(ValueError, match="unknown operation"):
        ds.run_lsm(DictStore, [["frobnicate"]])


def test_without_bloom_filters_every_absent_lookup_reads_every_run():
    class Unfiltered(DictStore):
        count = 0

        def get(self, key):
            self.count += len(self.state["runs"])
            return self._find(key)

        def reads(self):
            return self.count

    out = ds.lsm_absent_reads(Unfiltered, seed=4, keys=100, lookups=50, memtable_limit=25)
    assert out["runs"] == 4 and out["reads_per_lookup"] == 4.0


def test_bloom_theory_and_band():
    assert ds.bloom_theory(9586, 7, 1000) == pytest.approx(0.01, rel=0.01)
    low, high = ds.bloom_band(9586, 7, 1000, 1000)
    assert low < ds.bloom_theory(9586, 7, 1000) < high
    assert ds.bloom_keys(5, 10) == ds.bloom_keys(5, 10) and len(set(ds.bloom_keys(5, 1000))) == 1000
    assert not set(ds.bloom_keys(5, 100, "in")) & set(ds.bloom_keys(5, 100, "out"))


def test_a_set_is_a_perfect_filter_and_a_yes_filter_is_out_of_band():
    class Exact:
        def __init__(self, n, p):
            self.keys, self.sizes = set(), ref.bloom_parameters(n, p)

        def add(self, key):
            self.keys.add(key)

        def might_contain(self, key):
            return key in self.keys

        def parameters(self):
            return self.sizes

    class Yes(Exact):
        def might_contain(self, key):
            return True

    exact = ds.bloom_facts(Exact, 300, 0.3, seed=1)
    assert exact["false_negatives"] == 0 and exact["rate_in_band"] is False  # 0 false positives is far below 30%
    # at 1% and 1,000 probes the band's lower end is 0: a filter better than its theory is not refused there
    assert ds.bloom_facts(Exact, 300, 0.01, seed=1)["rate_in_band"] is True
    assert ds.bloom_facts(Yes, 300, 0.01, seed=1)["rate_in_band"] is False
    assert ds.bloom_facts(Yes, 3, 0.01, seed=1)["rate_in_band"] is None


def _read(conn, key):
    row = conn.execute("SELECT value, version FROM items WHERE key = ?", (key,)).fetchone()
    return None if row is None else list(row)


def _cas(conn, key, value, version):
    if value < 0:
        raise ValueError(value)
    with conn:
        return conn.execute("UPDATE items SET value = ?, version = version + 1 WHERE key = ? AND version = ?",
                            (value, key, version)).rowcount == 1


@pytest.mark.parametrize("seed", range(6))
def test_occ_driver_on_real_sqlite_agrees_with_the_reference_model(seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    for _ in range(10):
        case = ref._occ_draw(rng)
        assert ds.run_occ_schedule(_read, _cas, **case) == ref.occ_expected(None, None, **case), (seed, case)


def test_the_naive_write_loses_updates_and_oversells():
    schedule = ds.occ_schedule(seed=5, clients=6, steps=24)
    naive = ds.run_occ_schedule(ds.naive_read, ds.naive_write, 100, [1] * 6, schedule)
    assert naive["final"][0] < 106
    sold = ds.run_occ_schedule(ds.naive_read, ds.naive_write, 3, [-2, -2], [0, 1, 0, 1])
    assert sold["clients"] == [["done", 1], ["done", 1]]


def test_read_rows_and_negative_write_probe():
    assert ds.read_rows(_read, [["a", 1, 2]], ["a", "A"]) == [[1, 2], None]
    assert ds.occ_write_negative(_cas) == {"error": "ValueError", "row": [5, 0]}
    assert ds.occ_write_negative(ds.naive_write) == {"error": None, "row": [-1, 0]}


def test_partitions_throttle_above_their_limit():
    out = ds.simulate_partitions([["k"] * 1500, ["k"] * 900], partitions=10)
    assert out == {"writes": 2400, "throttled": 500, "busiest_partition_wcu": 1500}


def test_hot_key_run_shows_the_hot_key_and_its_fix():
    seed_design = ds.hot_key_run(ds.unsharded_key, ds.unsharded_scatter, shards=1, seed=3)
    assert seed_design["throttled"] > 0
    sharded = ds.hot_key_run(ref.sharded_key, ref.scatter_keys, shards=ref.shards_needed(1324), seed=3)
    assert sharded["throttled"] == 0 and sharded["read_covers_writes"]
    assert ds.hot_key_run(ref.sharded_key, ref.scatter_keys, 2, 3) == ds.hot_key_run(ref.sharded_key,
                                                                                      ref.scatter_keys, 2, 3)


def test_price_table_and_a_hand_computed_bill():
    prices = ref.load_prices()
    costs = ref.monthly_costs(ref._with()["workload"], prices)
    assert costs["dynamodb_on_demand"] == pytest.approx(50 * 2 * 730 * 3600 / 1e6 * 0.625
                                                        + 200 * 0.5 * 730 * 3600 / 1e6 * 0.125 + 100 * 0.25)
    assert costs["rds"] == pytest.approx(2 * (730 * 0.159 + 100 * 0.115))
    assert math.ceil(100 / 0.7) == 143 and costs["dynamodb_provisioned"] == pytest.approx(
        730 * (143 * 0.00065 + 143 * 0.00013) + 25)


def test_dynamo_table_queries_sparse_indexes_and_logs_reads():
    table = ds.DynamoTable({"ByStatus": ["status", "when"], "ByMail": ["mail", None]})
    table.load([{"PK": "O#1", "SK": "A", "status": "OPEN", "when": "2026-01-02"},
                {"PK": "O#1", "SK": "L#2", "qty": 1}, {"PK": "O#1", "SK": "L#10", "qty": 2},
                {"PK": "O#2", "SK": "A", "status": "OPEN", "when": "2026-01-01"},
                {"PK": "C#1", "SK": "P", "mail": "a@example.com"}])
    assert [i["SK"] for i in table.query("O#1")] == ["A", "L#10", "L#2"]  # text order: L#10 before L#2
    assert [i["SK"] for i in table.query("O#1", sk_op="begins_with", sk="L#", forward=False)] == ["L#2", "L#10"]
    assert [i["PK"] for i in table.query("OPEN", index="ByStatus")] == ["O#2", "O#1"]
    assert [i["PK"] for i in table.query("OPEN", index="ByStatus", sk_op="ge", sk="2026-01-02")] == ["O#1"]
    assert table.query("a@example.com", index="ByMail")[0]["PK"] == "C#1"
    assert len(table.scan()) == 5 and len(table.scan("ByStatus")) == 2
    log = table.log_since(0)
    assert [e["op"] for e in log] == ["Query"] * 5 + ["Scan", "Scan"]
    assert [e["items_read"] for e in log[:3]] == [3, 2, 2] and all(e["rcu"] >= 0.5 for e in log)
    with pytest.raises(ValueError):
        table.query("x", index="Nope")
    with pytest.raises(ValueError):
        table.put_item({"PK": "no sort key"})


def test_item_sizes_follow_the_stated_rules():
    assert ds.item_size({"PK": "ab", "SK": "é"}) == 2 + 2 + 2 + 2
    assert ds.attribute_size(True) == 1 and ds.attribute_size(12345) == 4


def test_access_pattern_driver_counts_queries_and_reads():
    data = ds.order_data(seed=1, customers=3, max_orders=3, max_lines=2)

    def to_items(d):
        return [{"PK": "O#" + o["order_id"], "SK": "A", **o} for o in d["orders"]]

    def scan_orders(table, customer_id):
        return [i["order_id"] for i in table.scan() if i.get("customer_id") == customer_id]

    cid = data["orders"][0]["customer_id"]
    out = ds.run_access_patterns(to_items, lambda: {}, {"customer_orders": scan_orders}, ds.DynamoTable, data,
                                 [["customer_orders", {"customer_id": cid}]])
    assert out["one_query_each"] is False and out["reads_within_bound"] is True
    assert "not one Query" in out["problems"][0]
    requests = ds.access_requests(data, seed=2, n=20)
    assert {r[0] for r in requests} == {"customer_orders", "order_details", "orders_by_status", "customer_by_email"}


def test_sqlite_amplification_counts_pages_and_batching_helps():
    ops = ds.lsm_workload(seed=1, n=300, keys=50)
    one, batched = ds.sqlite_amplification(ops, batch=1), ds.sqlite_amplification(ops, batch=100)
    assert one["pages_written"] >= 280 and one["write_amp"] > 10 * batched["write_amp"] / 2
    assert 1 <= one["space_amp"] < 20 and one["space_amp"] == batched["space_amp"]


def test_amplification_reference_on_a_hand_counted_script():
    ops = [["put", "a", "1"], ["put", "b", "2"], ["put", "a", "3"], ["flush"], ["put", "a", "4"], ["compact", 2]]
    assert ref.amplification_expected(ops, 2) == {"write_amp": 1.5, "space_amp": 1.5}


def test_conditional_writes_are_compare_and_set():
    table = ds.DynamoTable()
    assert table.put_item({"PK": "item", "SK": "A", "stock": 3, "version": 0}, {"attribute_not_exists": "PK"}) == 1
    with pytest.raises(ds.ConditionalCheckFailed):
        table.put_item({"PK": "item", "SK": "A", "stock": 9, "version": 0}, {"attribute_not_exists": "PK"})
    table.put_item({"PK": "item", "SK": "A", "stock": 1, "version": 1}, {"equals": ["version", 0]})
    with pytest.raises(ds.ConditionalCheckFailed):  # a second writer that read version 0 loses
        table.put_item({"PK": "item", "SK": "A", "stock": 1, "version": 1}, {"equals": ["version", 0]})
    assert table.query("item")[0]["stock"] == 1 and table.rejected_units == 2
    with pytest.raises(ValueError):
        table.put_item({"PK": "item", "SK": "A"}, {"version_is": 1})


def test_several_processes_lose_no_increment_with_a_version_check():
    """Real processes on one SQLite file: the conditional write keeps every increment (exactly), and retries
    where it lost a race. The naive write's losses depend on the scheduler, so they are printed by
    benchmarks/data_stores_amplification.py --processes, not asserted here."""
    out = ds.increment_from_processes(_read, _cas, processes=3, increments=100)
    assert out["final"] == out["expected"] == 300 and out["lost"] == 0 and out["attempts"] >= 300
