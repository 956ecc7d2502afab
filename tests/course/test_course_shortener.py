"""Tests for course.shortener: the seed's generator and its code-space arithmetic, the schema and
partitioning checks, the drivers (plain data out, errors by name), the seed's expiring counter and the
redirect simulation, and the click-log loader."""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course import shortener as sh


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- tiny correct classes

def encode(n, length):
    out = ""
    for _ in range(length):
        n, r = divmod(n, 62)
        out = sh.ALPHABET[r] + out
    return out


def decode(code):
    n = 0
    for ch in code:
        n = n * 62 + sh.ALPHABET.index(ch)
    return n


class AffineCodes:
    """A bijection, but one affine step: consecutive codes differ by the same amount."""

    def __init__(self, secret, length=7):
        if length < 1:
            raise ValueError(length)
        self.length, self.n, self.i, self.a = length, 62 ** length, 0, 1_000_003

    def next_codes(self, k):
        if k < 0 or self.i + k > self.n:
            raise ValueError(k)
        out = [encode((self.a * j + 17) % self.n, self.length) for j in range(self.i, self.i + k)]
        self.i += k
        return out

    def decode(self, code):
        if len(code) != self.length or any(ch not in sh.ALPHABET for ch in code):
            raise ValueError(code)
        return (decode(code) - 17) * pow(self.a, -1, self.n) % self.n


class MixedCodes(AffineCodes):
    """Affine steps and digit reversal, keyed by the secret."""

    def __init__(self, secret, length=7):
        super().__init__(secret, length)
        digest = hashlib.sha256(str(secret).encode()).digest()
        self.keys = []
        for r in range(4):
            a = int.from_bytes(digest[4 * r:4 * r + 4], "big") | 1
            while a % 31 == 0:
                a += 2
            self.keys.append((a, r * 7919 + 3))

    def _rev(self, x):
        return decode(encode(x, self.length)[::-1])

    def next_codes(self, k):
        if k < 0 or self.i + k > self.n:
            raise ValueError(k)
        out = []
        for j in range(self.i, self.i + k):
            x = j
            for a, b in self.keys:
                x = self._rev((a * x + b) % self.n)
            out.append(encode(x, self.length))
        self.i += k
        return out

    def decode(self, code):
        if len(code) != self.length or any(ch not in sh.ALPHABET for ch in code):
            raise ValueError(code)
        x = decode(code)
        for a, b in reversed(self.keys):
            x = (self._rev(x) - b) * pow(a, -1, self.n) % self.n
        return x


class DictStore:
    def __init__(self, path=":memory:"):
        self.rows = {}

    def create(self, code, long_url, created_at, expires_at=None):
        if code in self.rows:
            raise sh.CodeTaken(code)
        self.rows[code] = {"short_code": code, "long_url": long_url, "created_at": created_at,
                           "expires_at": expires_at, "click_count": 0}

    def get(self, code):
        return dict(self.rows[code]) if code in self.rows else None

    def resolve(self, code, now):
        row = self.get(code)
        if row is None:
            raise sh.LinkNotFound(code)
        if row["expires_at"] is not None and now >= row["expires_at"]:
            raise sh.LinkExpired(code)
        return row["long_url"]

    def add_clicks(self, code, n):
        if n < 0:
            raise ValueError(n)
        if code not in self.rows:
            raise sh.LinkNotFound(code)
        self.rows[code]["click_count"] += n

    def delete(self, code):
        return self.rows.pop(code, None) is not None


class Resolver:
    def __init__(self, store, capacity, ttl):
        self.store, self.capacity, self.ttl, self.cache, self.h, self.m = store, capacity, ttl, OrderedDict(), 0, 0

    def resolve(self, code, now):
        if code in self.cache and now < self.cache[code][1]:
            self.h += 1
            self.cache.move_to_end(code)
            return self.cache[code][0]
        self.cache.pop(code, None)
        self.m += 1
        row = self.store.get(code)
        if row is None:
            raise sh.LinkNotFound(code)
        if row["expires_at"] is not None and now >= row["expires_at"]:
            raise sh.LinkExpired(code)
        end = now + self.ttl if row["expires_at"] is None else min(now + self.ttl, row["expires_at"])
        self.cache[code] = (row["long_url"], end)
        if len(self.cache) > self.capacity:
            self.cache.popitem(last=False)
        return row["long_url"]

    def invalidate(self, code):
        self.cache.pop(code, None)

    def stats(self):
        return {"hits": self.h, "misses": self.m, "size": len(self.cache)}


class Counting:
    def __init__(self, store):
        self.store, self.c = store, Counter()

    def click(self, code):
        self.c[code] += 1

    def flush(self):
        done = 0
        for code, n in list(self.c.items()):
            try:
                self.store.add_clicks(code, n)
            except sh.StoreUnavailable:
                continue
            done += n
            del self.c[code]
        return done

    def pending(self):
        return dict(self.c)


# --------------------------------------------------------------------------- the seed's generator

def test_seed_generator_is_the_seeds_code_and_depends_on_the_clock():
    """Check that the reproduction hashes url_user_time, keeps 11 hex digits and truncates to 7."""
    value = int(hashlib.sha256(b"https://a.example/_None_1.0").hexdigest()[:11], 16)
    digits = ""
    while value:
        value, r = divmod(value, 62)
        digits = sh.ALPHABET[r] + digits
    assert sh.seed_generate_short_code("https://a.example/", None, 1.0) == digits[:7]
    assert sh.seed_generate_short_code("https://a.example/", None, 1.0) != sh.seed_generate_short_code(
        "https://a.example/", None, 2.0)


def test_seed_code_space_matches_brute_force_on_a_small_analogue():
    """Check the closed form for the effective code space against counting every value (14 bits, 2 chars)."""
    counts = Counter(sh._pybase62_encode(v)[:2] for v in range(2 ** 14))
    brute = (2 ** 14) ** 2 / sum(c * c for c in counts.values())
    assert sh.seed_code_space(14, 2)["effective_space"] == pytest.approx(brute, rel=1e-12)
    full = sh.seed_code_space()
    assert 9 < full["space"] / full["effective_space"] < 11
    with pytest.raises(ValueError):
        sh.seed_code_space(10, 7)


# --------------------------------------------------------------------------- schema and partitioning

def test_seed_schema_has_exactly_one_redundant_index():
    """Check that schema_facts finds the seed's duplicate short_code index and nothing else."""
    facts = sh.schema_facts(sh.SEED_SCHEMA_SQLITE)
    assert facts["error"] is None and facts["redundant"] == ["idx_urls_short_code"]
    assert facts["duplicate_rejected"] and "USING INDEX" in facts["lookup_plan"]


@pytest.mark.parametrize("sql, redundant", [
    ("CREATE TABLE urls (short_code TEXT PRIMARY KEY, long_url TEXT, created_at REAL, expires_at REAL,"
     " click_count INTEGER DEFAULT 0) WITHOUT ROWID;", []),
    ("CREATE TABLE urls (id INTEGER PRIMARY KEY, short_code TEXT UNIQUE, long_url TEXT, created_at REAL,"
     " expires_at REAL, click_count INTEGER); CREATE INDEX c ON urls(short_code, created_at);", []),
    ("CREATE TABLE urls (id INTEGER PRIMARY KEY, short_code TEXT, long_url TEXT); CREATE UNIQUE INDEX u ON"
     " urls(short_code, long_url); CREATE INDEX p ON urls(short_code);", ["p"]),
    ("CREATE TABLE urls (short_code TEXT, long_url TEXT); CREATE INDEX a ON urls(short_code);"
     " CREATE INDEX b ON urls(short_code);", ["b"]),
])
def test_redundant_indexes(sql, redundant):
    """Check that an index is redundant only if it repeats another or prefixes a unique one."""
    assert sh.schema_facts(sql)["redundant"] == redundant


@pytest.mark.parametrize("sql", ["ATTACH DATABASE '/tmp/escape.db' AS x;", "PRAGMA writable_schema = 1;",
                                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT * FROM c;"])
def test_schema_facts_refuses_what_could_escape_or_run_forever(sql, tmp_path):
    """Check that ATTACH, PRAGMA and endless recursion are refused in the grader's SQLite."""
    facts = sh.schema_facts(sql)
    assert facts["error"] and "not authorized" in facts["error"]


def test_schema_facts_reports_broken_sql_and_non_strings():
    assert "OperationalError" in sh.schema_facts("CREATE TABLE (")["error"]
    assert sh.schema_facts(None)["error"].startswith("the schema is a NoneType")
    assert sh.schema_facts_from(lambda: "CREATE TABLE IF NOT EXISTS urls (short_code TEXT PRIMARY KEY, long_url TEXT);",
                                repeat=2)["error"] is None
    assert sh.schema_facts_from(lambda: "CREATE TABLE urls (short_code TEXT);", repeat=2)["error"]


def test_lint_partitioning_finds_both_postgres_errors():
    """Check that the seed's DDL, the half-fixed DDL and the fixed DDL give PostgreSQL's verdicts."""
    assert sh.lint_partitioning(sh.SEED_POSTGRES_DDL) == ['ERROR:  "url_clicks" is not partitioned']
    half = sh.SEED_POSTGRES_DDL.replace("city VARCHAR(100)\n)", "city VARCHAR(100)\n) PARTITION BY RANGE (clicked_at)")
    problems = sh.lint_partitioning(half)
    assert len(problems) == 1 and 'lacks column "clicked_at"' in problems[0]
    assert sh.lint_partitioning(sh.FIXED_POSTGRES_DDL) == []
    assert sh.lint_partitioning("CREATE TABLE p PARTITION OF nowhere FOR VALUES IN (1);") == [
        'ERROR:  relation "nowhere" does not exist']


# --------------------------------------------------------------------------- drivers

def test_issue_codes_on_a_good_and_an_affine_generator():
    """Check that issue_codes sees a full bijection for both, and the constant step of the affine one."""
    good = sh.issue_codes(MixedCodes, 5, 3, [1000, 62 ** 3 - 1000], decode_every=101, after=1, probes=["ab", "a-b"])
    assert good["issued"] == good["distinct"] == 62 ** 3 and good["bad_length"] == good["bad_chars"] == 0
    assert good["decode_wrong"] == [] and good["after_error"] == "ValueError"
    assert good["probe_errors"] == ["ValueError", "ValueError"]
    mixed = sh.issue_codes(MixedCodes, 5, 7, [20_000], decode_every=1000)
    assert mixed["top_step_share"] < 0.01 and mixed["first_chars"] >= 40
    affine = sh.issue_codes(AffineCodes, 5, 7, [20_000], decode_every=1000)
    assert affine["top_step_share"] > 0.99
    assert sh.secret_overlap(MixedCodes, 1, 2, 7, 500)["same_position_share"] < 0.01
    assert sh.secret_overlap(AffineCodes, 1, 2, 7, 500)["same_position_share"] == 1.0


def test_run_store_ops_reports_errors_by_name_and_reopens():
    ops = [["create", "a", "https://a/", 1.0, 5.0], ["create", "a", "https://b/", 1.0, None], ["resolve", "a", 5.0],
           ["resolve", "zz", 1.0], ["add_clicks", "a", -1], ["reopen"], ["get", "a"], ["delete", "a"]]
    got = sh.run_store_ops(DictStore, ops)
    assert got[:5] == [None, "CodeTaken", "LinkExpired", "LinkNotFound", "ValueError"]
    assert got[5] is None and got[6] is None and got[7] is False   # a DictStore forgets on reopen


def test_run_resolver_and_memory_store_count_reads():
    links = [["a", "https://a/", 0.0, None]]
    ops = [["resolve", "a", 0.0], ["resolve", "a", 1.0], ["delete", "a"], ["resolve", "a", 2.0], ["stats"],
           ["store_reads"]]
    assert sh.run_resolver(Resolver, sh.MemoryLinkStore, 2, 10.0, links, ops) == [
        "https://a/", "https://a/", None, "LinkNotFound", {"hits": 1, "misses": 2, "size": 0}, 2]


def test_run_click_counter_through_an_outage():
    ops = [["click", "a", 2], ["down"], ["flush"], ["click", "b", 1], ["up"], ["flush"]]
    assert sh.run_click_counter(Counting, sh.MemoryLinkStore, ["a", "b"], ops) == {
        "flushed": [0, 3], "pending": {}, "stored": {"a": 2, "b": 1}, "clicked": {"a": 2, "b": 1}}


def test_drivers_propagate_unexpected_errors():
    class Broken(DictStore):
        def get(self, code):
            raise KeyError(code)

    with pytest.raises(KeyError):
        sh.run_store_ops(Broken, [["get", "a"]])


# --------------------------------------------------------------------------- seed counter and simulation

def test_seed_click_counter_loses_sparse_clicks_only_and_replays():
    rows = sh.seed_click_counter_loss([0.02, 30.0], seed=3, hours=24, sync_every=3600)
    assert rows == sh.seed_click_counter_loss([0.02, 30.0], seed=3, hours=24, sync_every=3600)
    assert rows[0]["lost_share"] > 0.6 and rows[1]["lost_share"] < 0.01
    redis = sh.FakeRedis()
    redis.incr("k")
    redis.expire("k", 5)
    redis.now = 4.9
    assert redis.get("k") == 1
    redis.now = 5.0
    assert redis.get("k") is None


def test_simulate_redirects_tail_follows_the_miss_rate():
    hot = sh.simulate_redirects(200, 0.99, seed=1, seconds=2.0)
    cold = sh.simulate_redirects(200, 0.8, seed=1, seconds=2.0)
    assert np.percentile(hot, 95) < 5 < np.percentile(cold, 95)
    assert np.array_equal(hot, sh.simulate_redirects(200, 0.99, seed=1, seconds=2.0))
    with pytest.raises(ValueError):
        sh.simulate_redirects(100, 95, seed=1)


def test_figures_have_titles_and_labels():
    sweep = sh.p95_sweep(100, [0.9, 0.99], [8.0], seed=2, seconds=1.0)
    figures = [sh.plot_latency_sweep([0.9, 0.99], sweep, 0.95)[1],
               sh.plot_click_loss({"x": sh.seed_click_counter_loss([1.0], seed=1, hours=1)})[1],
               sh.plot_first_characters({"a": ["abc", "Zzz"]})[1],
               sh.plot_clicks_by_day({"2026-11-02": 3}, "t")[1]]
    for ax in figures:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_click_log_records_are_plain_data():
    records = sh.load_click_records()
    assert len(records) == len(sh.load_click_log()) > 5000
    assert set(records[0]) == {"clicked_at", "short_code", "visitor_id", "referrer", "country"}
    assert any(r["referrer"] is None for r in records) and any(r["country"] is None for r in records)
    assert all(type(v) in (str, type(None)) for r in records[:500] for v in r.values())


# --------------------------------------------------------------------------- contract drivers (issue 17)

def test_counter_codes_run_matches_the_reference_for_a_correct_class_and_not_for_wrong_ones():
    from autograde.reference import url_shortener as ref

    contract = ref.CONTRACTS["CounterCodes"]
    for seed in (0, 1):
        for index, case in enumerate(contract.cases(seed, n=30)):
            try:
                expected = ref.counter_codes_expected(cls=MixedCodes, **case.args)
            except ValueError:
                with pytest.raises(ValueError):
                    sh.counter_codes_run(MixedCodes, **case.args)
                continue
            got = sh.counter_codes_run(MixedCodes, **case.args)
            assert got == expected, f"{case.args} ({case.label}): expected {expected}, got {got} (seed {seed}, case {index})"

    class Repeats(MixedCodes):          # every id after the first 10 gets id 0's code
        def next_codes(self, k):
            out = super().next_codes(k)
            return [c if self.i - k + j < 10 else out[0] for j, c in enumerate(out)]

    class AcceptsAnyLength(MixedCodes):
        def decode(self, code):
            return 0

    args = dict(secret=3, length=2, blocks=[30], probes=["a", "ab", "a-"])
    expected = ref.counter_codes_expected(cls=None, **args)
    assert sh.counter_codes_run(Repeats, **args)["distinct"] < expected["distinct"]
    assert sh.counter_codes_run(AcceptsAnyLength, **args)["probes"] != expected["probes"]


def test_schema_behaviour_tells_a_primary_key_that_holds_null_from_one_that_does_not():
    from autograde.reference import url_shortener as ref

    rows = [[None, "https://a.example/", 1.0], [None, "https://b.example/", 2.0], ["Promo", "https://c.example/", 3.0],
            ["promo", "https://d.example/", 3.0]]
    right = sh.schema_behaviour(lambda: ref.REFERENCE_SCHEMA, rows, repeat=2)
    assert right["inserts"] == ["IntegrityError", "IntegrityError", "ok", "ok"], right
    nullable = ref.REFERENCE_SCHEMA.replace("TEXT NOT NULL PRIMARY KEY", "TEXT PRIMARY KEY")
    assert sh.schema_behaviour(lambda: nullable, rows)["inserts"] == ["ok", "ok", "ok", "ok"]
    nocase = ref.REFERENCE_SCHEMA.replace("TEXT NOT NULL PRIMARY KEY", "TEXT NOT NULL PRIMARY KEY COLLATE NOCASE")
    assert sh.schema_behaviour(lambda: nocase, rows)["inserts"][3] == "IntegrityError"
    once = ref.REFERENCE_SCHEMA.replace("IF NOT EXISTS ", "")
    assert sh.schema_behaviour(lambda: once, [], repeat=2)["error"]


def test_redirect_facts_and_keeps_arguments():
    assert sh.redirect_facts(lambda u, t: {"status": 307, "location": u, "reason": "r"}, "https://x/", True) == \
        {"kind": "temporary", "location": "https://x/", "reason": "r"}
    assert sh.redirect_facts(lambda u, t: None, "https://x/", True)["kind"].startswith("not a dict")

    def reserves(taken, code):
        taken[code] = "reserved"
        return code

    assert sh.keeps_arguments(reserves, {"taken": {"a": "x"}, "code": "b"}) == {"changed": ["taken"], "error": None}
    assert sh.keeps_arguments(lambda taken, code: 1 / 0, {"taken": {}, "code": "b"}) == \
        {"changed": [], "error": "ZeroDivisionError"}


def test_a_partial_outage_fails_only_its_codes():
    store = sh.MemoryLinkStore()
    for code in "abc":
        store.create(code, f"https://{code}.example/", 0.0)
    store.set_down(True, ["a", "b"])
    store.set_down(False, ["b"])
    with pytest.raises(sh.StoreUnavailable):
        store.add_clicks("a", 1)
    store.add_clicks("b", 2)
    store.set_down(False)                      # the whole store up again ends every partial outage
    store.add_clicks("a", 1)
    assert store.click_counts() == {"a": 1, "b": 2, "c": 0}


def test_race_create_shows_a_check_then_insert_every_round_and_never_blames_an_atomic_insert():
    import sqlite3

    from autograde.reference.url_shortener import REFERENCE_SCHEMA

    class Atomic:
        def __init__(self, path):
            self.db = sqlite3.connect(path)
            self.db.executescript(REFERENCE_SCHEMA)

        def create(self, code, url, created_at, expires_at=None):
            try:
                with self.db:
                    self.db.execute("INSERT INTO urls (short_code, long_url, created_at) VALUES (?, ?, ?)",
                                    (code, url, created_at))
            except sqlite3.IntegrityError:
                raise sh.CodeTaken(code) from None

    class CheckThenReplace(Atomic):
        def create(self, code, url, created_at, expires_at=None):
            if self.db.cursor().execute("SELECT 1 FROM urls WHERE short_code = ?", (code,)).fetchone():
                raise sh.CodeTaken(code)
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO urls (short_code, long_url, created_at) VALUES (?, ?, ?)",
                                (code, url, created_at))

    real_connect = sqlite3.connect
    assert sh.race_create(Atomic, rounds=5) == {"one_winner": 5, "both_won": 0, "errors": []}
    assert sh.race_create(CheckThenReplace, rounds=5) == {"one_winner": 0, "both_won": 5, "errors": []}
    assert sqlite3.connect is real_connect, "race_create must put sqlite3.connect back"
