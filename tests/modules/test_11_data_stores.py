"""Module 11: typical wrong answers lose exactly the points they should (the classic LSM, Bloom filter,
lost-update, sharding and pricing mistakes); a differently written correct solution scores full marks."""

from __future__ import annotations

import pytest
from submissions import (Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly,
                         assert_release_answer_cells_define_their_names)

ASSIGNMENT = "11-data-stores"

PARAMS, BLOOM, LSM = "correct_bloom_parameters", "correct_bloom_filter", "correct_lsm_store"
OCC, SHARD, COSTS = "correct_optimistic_concurrency", "correct_write_sharding", "correct_monthly_costs"
ORDER, AMP = "correct_order_model", "correct_lsm_amplification"

MUTANTS = {
    # Bloom filters
    "k_floored": Mutant(
        "bloom_parameters", "max(1, round(m / n * math.log(2)))", "max(1, int(m / n * math.log(2)))",
        frozenset({PARAMS, BLOOM}), "k truncated, not rounded: 6 hash functions at 1% instead of 7"),
    "m_in_log10": Mutant(
        "bloom_parameters", "m = math.ceil(-n * math.log(p) / math.log(2) ** 2)",
        "m = math.ceil(-n * math.log10(p) / math.log(2) ** 2)",
        frozenset({PARAMS, BLOOM}), "log10 for ln: a filter 2.3 times too small"),
    "bit_set_overwrites_byte": Mutant(
        "bloom_filter", "self.bits[bit >> 3] |= 1 << (bit & 7)", "self.bits[bit >> 3] = 1 << (bit & 7)",
        frozenset({BLOOM, LSM}), "setting a bit clears its neighbours: false negatives (and wrong LSM reads)"),
    "query_any_bit": Mutant(
        "bloom_filter", "return all(self.bits[bit >> 3]", "return any(self.bits[bit >> 3]",
        frozenset({BLOOM}), "one set bit answers 'maybe': the false-positive rate far above theory"),
    # LSM store
    "tombstone_dropped_too_early": Mutant(
        "lsm_store", "        if k == len(self.run_data):\n", "        if True:\n",
        frozenset({LSM}), "tombstones dropped by every compaction: a deleted key comes back from an older run"),
    "older_run_first": Mutant(
        "lsm_store", "for data, bloom in zip(self.run_data, self.filters):",
        "for data, bloom in zip(reversed(self.run_data), reversed(self.filters)):",
        frozenset({LSM}), "runs read oldest first: an overwritten value is returned"),
    "log_not_replayed": Mutant(
        "lsm_store", "                    key, value = json.loads(line)\n                    self.memtable[key] = value\n",
        "                    pass\n",
        frozenset({LSM}), "the log is written but not replayed: writes in the memtable are lost at a crash"),
    "log_not_written": Mutant(
        "lsm_store", '            log.write(json.dumps([key, value]) + "\\n")', "            pass",
        frozenset({LSM}), "no write-ahead log: the memtable is lost at a crash"),
    "scan_duplicates": Mutant(
        "lsm_store", "return [[key, newest[key]] for key in sorted(newest) if newest[key] is not None]",
        "return [[k, v] for t in [self.memtable, *self.run_data] for k, v in sorted(t.items()) "
        "if lo <= k < hi and v is not None]",
        frozenset({LSM}), "a scan that concatenates runs: duplicates, stale values, keys out of order"),
    "scan_misses_older_runs": Mutant(
        "lsm_store", "for table in [self.memtable, *self.run_data]:", "for table in [self.memtable, *self.run_data[:1]]:",
        frozenset({LSM}), "a scan that reads only the memtable and the newest run"),
    "scan_hi_inclusive": Mutant(
        "lsm_store", "if lo <= key < hi and key not in newest:", "if lo <= key <= hi and key not in newest:",
        frozenset({LSM}), "hi included in the scan (only hidden scans end on a stored key)"),
    "no_bloom_skip": Mutant(
        "lsm_store", "            if not bloom.might_contain(key):\n                continue\n", "",
        frozenset({LSM}), "filters built but never asked: every lookup of an absent key reads every run"),
    "compact_count_one_allowed": Mutant(
        "lsm_store", "count < 2)", "count < 1)",
        frozenset({LSM}), "compact(1) accepted (only the hidden rule cases ask)"),
    # amplification
    "compaction_writes_not_counted": Mutant(
        "lsm_amplification", '        if kind == "compact":\n            kept -= len(before) if args[0] is None else min(args[0], len(before))\n', "",
        frozenset({AMP}), "only flushes counted: the rewrites compaction does, the cost of LSM trees, are missed"),
    "final_flush_not_counted": Mutant(
        "lsm_amplification", '    apply("flush", [])\n', "    store.flush()\n",
        frozenset({AMP}), "the last memtable's entries are stored but not counted as written"),
    "space_over_every_key": Mutant(
        "lsm_amplification", "live = sum(1 for key in keys if store.get(key) is not None)", "live = len(keys)",
        frozenset({AMP}), "deleted keys counted as live data"),
    # optimistic concurrency
    "unconditional_update": Mutant(
        "optimistic_concurrency", 'WHERE key = ? AND version = ?",\n                              (value, key, version))',
        'WHERE key = ?",\n                              (value, key))',
        frozenset({OCC}), "the seed's read-modify-write: the version is bumped but never checked (lost updates)"),
    "version_not_bumped": Mutant(
        "optimistic_concurrency", "version = version + 1 WHERE", "version = version WHERE",
        frozenset({OCC}), "the version never changes, so every conditional write wins"),
    "negative_stock_written": Mutant(
        "optimistic_concurrency", "    if value < 0:\n", "    if False:\n",
        frozenset({OCC}), "a negative value written (only the hidden case tries one)"),
    # DynamoDB data modelling
    "sparse_index_misses_cancelled": Mutant(
        "order_model", '"GSI1SK": when, "GSI2SK": when}',
        '"GSI1SK": when, **({"GSI2SK": when} if o["status"] != "CANCELLED" else {})}',
        frozenset({ORDER}), "a GSI that misses items: cancelled orders never reach the status index (hidden data only)"),
    "line_numbers_not_padded": Mutant(
        "order_model", 'f"LINE#{line[\'line_no\']:05d}"', 'f"LINE#{line[\'line_no\']}"',
        frozenset({ORDER}), "LINE#10 sorts before LINE#2: lines out of order from ten lines on (hidden data only)"),
    "status_date_filtered_in_python": Mutant(
        "order_model", 'table.query(status, index="ByStatus", sk_op="ge", sk=since)]',
        'table.query(status, index="ByStatus") if i["placed_at"] >= since]',
        frozenset({ORDER}), "a filter on a non-key condition: reads every order of the status (hidden data only)"),
    "email_by_scan": Mutant(
        "order_model", 'found = table.query(email, index="ByEmail", limit=1)',
        'found = [i for i in table.scan() if i.get("email") == email][:1]',
        frozenset({ORDER}), "a Scan with a filter instead of an index"),
    "customer_orders_oldest_first": Mutant(
        "order_model", 'index="ByCustomer", forward=False)', 'index="ByCustomer")',
        frozenset({ORDER}), "oldest first: the sort key read forward"),
    # hot partitions
    "process_salted_hash": Mutant(
        "write_sharding", "int(hashlib.sha256(item_id.encode('utf-8')).hexdigest(), 16) % shards",
        "hash(item_id) % shards",
        frozenset({SHARD}), "Python's hash(): a different shard for the same item in every process"),
    "scatter_misses_last_shard": Mutant(
        "write_sharding", 'return [f"{pk}#{s}" for s in range(shards)]', 'return [f"{pk}#{s}" for s in range(shards - 1)]',
        frozenset({SHARD}), "the scatter read misses one shard's writes"),
    "shards_rounded": Mutant(
        "write_sharding", "max(1, math.ceil(peak_wcu / (partition_wcu * utilisation)))",
        "max(1, round(peak_wcu / (partition_wcu * utilisation)))",
        frozenset({SHARD}), "shards rounded to nearest (1,200 WCU rounds up anyway: hidden only)"),
    # pricing
    "reads_always_strong": Mutant(
        "monthly_costs", '(1.0 if w["strong_reads"] else 0.5)', "1.0",
        frozenset({COSTS}), "eventually consistent reads billed as strong ones (twice the read price)"),
    "item_size_not_rounded": Mutant(
        "monthly_costs", 'wru = math.ceil(w["item_kb"])', 'wru = w["item_kb"]',
        frozenset({COSTS}), "fractional write units: DynamoDB bills each started KB"),
    "thirty_day_month": Mutant(
        "monthly_costs", "    hours = 730\n", "    hours = 720\n",
        frozenset({COSTS}), "a 30-day month, not the 730 hours the price pages use"),
}

HIDDEN_ONLY = {"scan_hi_inclusive": (LSM, "seed 1103"),
               "negative_stock_written": (OCC, "seed 1107"), "shards_rounded": (SHARD, "seed 1110"),
               "sparse_index_misses_cancelled": (ORDER, "seed 112"), "line_numbers_not_padded": (ORDER, "seed 112"),
               "status_date_filtered_in_python": (ORDER, "seed 112")}

# A correct solution written differently from ours: k independent BLAKE2b hashes and a Python int as the bit
# array; an LSM store that keeps no run in memory (it reads run files from disk on every get and scan, merges with
# heapq, and logs with os.write on an O_APPEND descriptor); an explicit transaction and changes() for the
# conditional write; a digest read as bytes for the shard suffix; prices computed per hour.
ALTERNATIVE = {
    "bloom_parameters": '''
def bloom_parameters(n, p):
    if type(n) is not int or n < 1 or not (p > 0 and p < 1):
        raise ValueError((n, p))
    ln2 = math.log(2)
    m = math.ceil(n * -math.log(p) / (ln2 * ln2))
    k = round(ln2 * m / n)
    return {"m": m, "k": k if k >= 1 else 1}
''',
    "bloom_filter": '''
class BloomFilter:
    def __init__(self, n, p):
        got = bloom_parameters(n, p)
        self.m, self.k, self.word = got["m"], got["k"], 0

    def _bits(self, key):
        data = key.encode("utf-8")
        for i in range(self.k):
            h = hashlib.blake2b(data, digest_size=8, salt=i.to_bytes(16, "little")).digest()
            yield int.from_bytes(h, "little") % self.m

    def add(self, key):
        for b in self._bits(key):
            self.word |= 1 << b

    def might_contain(self, key):
        for b in self._bits(key):
            if not (self.word >> b) & 1:
                return False
        return True

    def parameters(self):
        return dict(m=self.m, k=self.k)
''',
    "lsm_store": '''
import heapq


class LSMStore:
    def __init__(self, directory, memtable_limit=4):
        if type(memtable_limit) is not int or memtable_limit <= 0:
            raise ValueError("memtable_limit")
        self.dir, self.limit, self.count = directory, memtable_limit, 0
        os.makedirs(directory, exist_ok=True)
        self.log = os.path.join(directory, "log.jsonl")
        self.mem = {}
        if os.path.exists(self.log):
            with open(self.log, encoding="utf-8") as f:
                for line in f:
                    record = json.loads(line)
                    self.mem[record["k"]] = record.get("v")
        self.blooms = {name: self._bloom(name) for name in self._names()}
        if len(self.mem) >= self.limit:
            self.flush()

    def _names(self):
        return sorted((n for n in os.listdir(self.dir) if n.endswith(".run")), key=lambda n: -int(n[:-4]))

    def _entries(self, name):
        with open(os.path.join(self.dir, name), encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def _bloom(self, name):
        entries = self._entries(name)
        bloom = BloomFilter(len(entries), 0.01)
        for k, _ in entries:
            bloom.add(k)
        return bloom

    def _log(self, key, value):
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, (json.dumps({"k": key, "v": value}) + "\\n").encode("utf-8"))
        finally:
            os.close(fd)
        self.mem[key] = value
        if len(self.mem) >= self.limit:
            self.flush()

    def put(self, key, value):
        self._log(key, value)

    def delete(self, key):
        self._log(key, None)

    def _write_run(self, items):
        names = self._names()
        name = f"{(int(names[0][:-4]) + 1) if names else 1}.run"
        with open(os.path.join(self.dir, name), "w", encoding="utf-8") as f:
            for k, v in items:
                f.write(json.dumps([k, v]) + "\\n")
        self.blooms[name] = self._bloom(name)
        return name

    def flush(self):
        if self.mem:
            self._write_run(sorted(self.mem.items()))
            self.mem = {}
            os.remove(self.log)

    def get(self, key):
        if key in self.mem:
            return self.mem[key]
        for name in self._names():
            if self.blooms[name].might_contain(key):
                self.count += 1
                for k, v in self._entries(name):
                    if k == key:
                        return v
        return None

    def _merged(self, sources):
        # sources newest first; heapq.merge on (key, age) keeps the newest entry of each key first
        streams = [[(k, age, v) for k, v in src] for age, src in enumerate(sources)]
        last = object()
        for k, age, v in heapq.merge(*streams):
            if k != last:
                last = k
                yield k, v

    def scan(self, lo, hi):
        sources = [sorted(self.mem.items())] + [self._entries(n) for n in self._names()]
        return [[k, v] for k, v in self._merged(sources) if lo <= k < hi and v is not None]

    def compact(self, count=None):
        if count is not None and (type(count) is not int or count <= 1):
            raise ValueError("count")
        names = self._names()
        chosen = names if count is None else names[:count]
        items = list(self._merged([self._entries(n) for n in chosen]))
        if len(chosen) == len(names):
            items = [(k, v) for k, v in items if v is not None]
        if items:
            self._write_run(items)          # the highest number: newest of all, as the runs it replaces were
        for n in chosen:
            os.remove(os.path.join(self.dir, n))
            del self.blooms[n]

    def runs(self):
        return [len(self._entries(n)) for n in self._names()]

    def reads(self):
        return self.count
''',
    "optimistic_concurrency": '''
def read_row(conn, key):
    rows = conn.execute("SELECT value, version FROM items WHERE key = ?", [key]).fetchall()
    return list(rows[0]) if rows else None


def write_if_version(conn, key, value, version):
    if not value >= 0:
        raise ValueError("negative")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE items SET version = ? + 1, value = ? WHERE version = ? AND key = ?",
                 [version, value, version, key])
    changed = conn.execute("SELECT changes()").fetchone()[0]
    conn.commit()
    return changed > 0
''',
    "order_model": '''
def table_indexes():
    return {"ByOrder": ["opk", "osk"], "ByStatus": ["st", "st_sk"], "ByMail": ["mail", "mail_sk"]}


def to_items(data):
    out = [{"PK": "C#" + c["customer_id"], "SK": "P", "mail": c["email"], "mail_sk": "x", "cid": c["customer_id"]}
           for c in data["customers"]]
    for o in data["orders"]:
        stamp = o["placed_at"] + "|" + o["order_id"]
        out.append({"PK": "C#" + o["customer_id"], "SK": "O#" + stamp, "oid": o["order_id"], "cid": o["customer_id"],
                    "state": o["status"], "opk": o["order_id"], "osk": "0", "st": o["status"], "st_sk": stamp})
    out += [{"PK": "L#" + l["order_id"], "SK": "%08d" % l["line_no"], "opk": l["order_id"], "osk": "L%08d" % l["line_no"],
             "n": l["line_no"], "sku": l["sku"], "q": l["quantity"]} for l in data["lines"]]
    return out


def customer_orders(table, customer_id):
    return [i["oid"] for i in table.query("C#" + customer_id, sk_op="begins_with", sk="O#", forward=False)]


def order_details(table, order_id):
    rows = table.query(order_id, index="ByOrder")
    head = [r for r in rows if r["osk"] == "0"]
    if not head:
        return None
    return {"customer_id": head[0]["cid"], "status": head[0]["state"],
            "lines": [[r["n"], r["sku"], r["q"]] for r in rows if r["osk"] != "0"]}


def orders_by_status(table, status, since):
    if since == "":
        rows = table.query(status, index="ByStatus")
    else:
        rows = table.query(status, index="ByStatus", sk_op="between", sk=[since, "\\uffff"])
    return [r["opk"] for r in rows]


def customer_by_email(table, email):
    rows = table.query(email, index="ByMail", sk_op="eq", sk="x")
    return rows[0]["cid"] if rows else None
''',
    "lsm_amplification": '''
def lsm_amplification(ops, memtable_limit):
    import tempfile
    import uuid

    store = LSMStore(os.path.join(tempfile.gettempdir(), "amp-" + uuid.uuid4().hex), memtable_limit)
    writes = [op for op in ops if op[0] in ("put", "delete")]
    entries_written = 0
    for op in ops + [["flush"]]:
        count_before = len(store.runs())
        getattr(store, op[0])(*op[1:])
        sizes = store.runs()
        if op[0] == "compact":
            merged = count_before if op[1] is None else min(op[1], count_before)
            grew = len(sizes) == count_before - merged + 1
        else:
            grew = len(sizes) == count_before + 1
        entries_written += sizes[0] if grew else 0
    live = [k for k in {op[1] for op in writes} if store.get(k) is not None]
    result = {"write_amp": entries_written / len(writes) if writes else None,
              "space_amp": sum(store.runs()) / len(live) if live else None}
    import shutil
    shutil.rmtree(store.dir, ignore_errors=True)
    return result
''',
    "write_sharding": '''
def shards_needed(peak_wcu, partition_wcu=1000, utilisation=0.8):
    if not (peak_wcu >= 0 and partition_wcu > 0 and 0 < utilisation <= 1):
        raise ValueError("bad input")
    return max(int(math.ceil(peak_wcu / (utilisation * partition_wcu))), 1)


def _check_shards(shards):
    if isinstance(shards, bool) or not isinstance(shards, int) or shards <= 0:
        raise ValueError(shards)


def sharded_key(pk, item_id, shards):
    _check_shards(shards)
    digest = hashlib.sha256(item_id.encode("utf-8")).digest()
    return "%s#%d" % (pk, int.from_bytes(digest, "big") % shards)


def scatter_keys(pk, shards):
    _check_shards(shards)
    return list(map(lambda s: pk + "#" + str(s), range(shards)))
''',
    "monthly_costs": '''
def monthly_costs(workload, prices):
    w = workload
    if w["item_kb"] <= 0 or any(w[f] < 0 for f in ("reads_per_s", "writes_per_s", "storage_gb", "replicas")):
        raise ValueError("workload")
    try:
        instance_hour = prices["rds"]["instance_per_hour"][w["instance"]]
    except KeyError:
        raise ValueError(w["instance"]) from None
    d = prices["dynamodb"]
    per_write = -(-w["item_kb"] // 1)
    per_read = -(-w["item_kb"] // 4) / (1 if w["strong_reads"] else 2)
    hour = 3600
    storage = d["storage_gb_month"] * w["storage_gb"]
    od_hourly = hour * (w["writes_per_s"] * per_write * d["on_demand_per_million_wru"]
                        + w["reads_per_s"] * per_read * d["on_demand_per_million_rru"]) / 1_000_000
    wcu = -(-(w["writes_per_s"] * per_write) // w["target_utilisation"])
    rcu = -(-(w["reads_per_s"] * per_read) // w["target_utilisation"])
    result = {
        "rds": 730 * instance_hour * (1 + w["replicas"]) + (1 + w["replicas"]) * w["storage_gb"] * prices["rds"]["storage_gb_month"],
        "dynamodb_on_demand": 730 * od_hourly + storage,
        "dynamodb_provisioned": 730 * wcu * d["wcu_hour"] + 730 * rcu * d["rcu_hour"] + storage,
    }
    best = "rds"
    for name in ("dynamodb_on_demand", "dynamodb_provisioned"):
        if round(result[name], 6) < round(result[best], 6):
            best = name
    result["cheapest"] = best
    return result
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


@pytest.mark.parametrize("name", sorted(HIDDEN_ONLY))
def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports, name):
    """These mutants pass every visible test; only the seeded hidden cases find them."""
    cell, seed = HIDDEN_ONLY[name]
    assert_caught_by_hidden_tests(reports[name], cell, seed)


def test_every_answer_cell_of_the_release_defines_its_names():
    assert_release_answer_cells_define_their_names(ASSIGNMENT, "datastores_setup")
