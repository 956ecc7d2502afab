"""Module 10: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import (Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly,
                         assert_release_answer_cells_define_their_names)

ASSIGNMENT = "10-url-shortener"

BASE62, COUNTER, HASH = "correct_base62", "correct_counter_codes", "correct_hash_codes"
VALIDATE, SCHEMA, STORE = "correct_validate_url", "correct_schema_sql", "correct_link_store"
RESOLVER, REDIRECT, CLICKS = "correct_cached_resolver", "correct_redirect_response", "correct_click_counter"
SUMMARY, CAPACITY = "correct_click_summary", "correct_capacity_plan"

MUTANTS = {
    "base62_least_significant_first": Mutant(
        "base62", 'return "".join(reversed(digits))', 'return "".join(digits)',
        frozenset({BASE62, COUNTER, HASH}), "digits written least significant first (codes built on it break too)"),
    "base62_decode_accepts_bad_characters": Mutant(
        "base62", "        if digit < 0:\n", "        if digit < -1:\n",
        frozenset({BASE62, COUNTER}), "str.find's -1 used as a digit: 'ab-c' decodes instead of raising"),
    "counter_not_obfuscated": Mutant(
        "counter_codes", "    ROUNDS = 4", "    ROUNDS = 0",
        frozenset({COUNTER}), "a plain counter: consecutive codes, anyone can enumerate every link"),
    "hash_attempt_always_salted": Mutant(
        "hash_codes", 'text = long_url if attempt == 0 else f"{long_url}#{attempt}"', 'text = f"{long_url}#{attempt}"',
        frozenset({HASH}), "attempt 0 hashes 'url#0', not the URL itself"),
    "pick_code_ignores_own_url": Mutant(
        "hash_codes", "if code not in taken or taken[code] == long_url:", "if code not in taken:",
        frozenset({HASH}), "the same URL shortened twice gets a second code"),
    "user_info_allowed": Mutant(
        "validate_url", 'if "@" in parts.netloc:', "if False:",
        frozenset({VALIDATE}), "https://bank.example@evil.example/ accepted: it goes to evil.example"),
    "port_zero_accepted": Mutant(
        "validate_url", 'if port == 0 or (":" in parts.netloc and port is None):', "if False:",
        frozenset({VALIDATE}), "port 0 accepted (only the hidden cases contain one)"),
    "seed_redundant_index": Mutant(
        "schema_sql", ") WITHOUT ROWID;", ") WITHOUT ROWID;\n    CREATE INDEX IF NOT EXISTS idx_urls_short_code ON urls(short_code);",
        frozenset({SCHEMA}), "the seed's CREATE INDEX on a column that is already the key"),
    "schema_not_idempotent": Mutant(
        "schema_sql", "CREATE TABLE IF NOT EXISTS urls (", "CREATE TABLE urls (",
        frozenset({SCHEMA, STORE}), "reopening a database file fails: the table already exists"),
    "expiry_off_by_one": Mutant(
        "link_store", 'now >= row["expires_at"]', 'now > row["expires_at"]',
        frozenset({STORE}), "a link still resolves at the very second it expires"),
    "alias_conflict_ignored": Mutant(
        "link_store", 'raise CodeTaken(f"{code!r} is taken") from None', "return None",
        frozenset({STORE}), "a taken alias is silently not created instead of raising CodeTaken"),
    "not_null_called_taken": Mutant(
        "link_store", '            if exc.sqlite_errorname not in ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"):\n'
                      '                raise                                 # NOT NULL or CHECK: a bad row, not a taken code\n',
        "", frozenset({STORE}), "every IntegrityError read as a taken code, also a NOT NULL failure"),
    "cache_outlives_link": Mutant(
        "cached_resolver", "min(now + self.ttl, expires)", "now + self.ttl",
        frozenset({RESOLVER}), "a cached link keeps redirecting after it expired"),
    "cache_fifo_not_lru": Mutant(
        "cached_resolver", "            self.entries.move_to_end(code)\n", "",
        frozenset({RESOLVER}), "hits do not refresh recency: FIFO eviction, not LRU"),
    "invalidate_does_nothing": Mutant(
        "cached_resolver", "        self.entries.pop(code, None)\n        ### END SOLUTION",
        "        pass\n        ### END SOLUTION",
        frozenset({RESOLVER}), "a deleted (taken-down) link keeps redirecting from the cache"),
    "seed_301": Mutant(
        "redirect_response", '{"status": 302, "location": long_url, "reason": "permanent_is_cached"}',
        '{"status": 301, "location": long_url, "reason": "permanent_is_cached"}',
        frozenset({REDIRECT}), "the seed's 301 for tracked links: browsers cache it and clicks go uncounted"),
    "always_temporary": Mutant(
        "redirect_response", '{"status": 301, "location": long_url, "reason": "saves_requests"}',
        '{"status": 302, "location": long_url, "reason": "saves_requests"}',
        frozenset({REDIRECT}), "302 even when nothing is counted (only the hidden case asks)"),
    "clicks_dropped_on_failure": Mutant(
        "click_counter", "                continue                      # keep it: the next flush tries again",
        "                del self.counts[code]; continue",
        frozenset({CLICKS}), "pending clicks discarded when the store is down"),
    "one_click_per_flush": Mutant(
        "click_counter", "self.store.add_clicks(code, n)", "self.store.add_clicks(code, 1)",
        frozenset({CLICKS}), "writes 1 instead of the pending count"),
    "unique_counts_rows": Mutant(
        "click_summary", 'frame["visitor_id"].nunique()', 'frame["visitor_id"].count()',
        frozenset({SUMMARY}), "unique visitors counted as clicks"),
    "empty_country_kept": Mutant(
        "click_summary", 'country = frame["country"].where(frame["country"].fillna("") != "", "??")',
        'country = frame["country"].fillna("??")',
        frozenset({SUMMARY}), "an empty-string country is not counted as unknown"),
    "hit_ratio_percentage_accepted": Mutant(
        "capacity_plan", "if not 0 <= cache_hit_ratio <= 1:", "if cache_hit_ratio < 0:",
        frozenset({CAPACITY}), "95 accepted as a hit ratio"),
    "servers_rounded_not_ceiled": Mutant(
        "capacity_plan", "math.ceil(peak / (rps_per_server * target_utilisation))",
        "round(peak / (rps_per_server * target_utilisation))",
        frozenset({CAPACITY}), "servers rounded to nearest (the seed's example rounds up anyway: hidden only)"),
    # issue 17's six classes, each a mistake learners made that used to score full marks
    # 1. a contract rule with no hidden case
    "base62_accepts_bool": Mutant(
        "base62", "if type(n) is not int or n < 0:", "if not isinstance(n, int) or n < 0:",
        frozenset({BASE62}), "True encoded as \"1\" and 7.0 refused only by accident: the contract says an int"),
    "max_attempts_unchecked": Mutant(
        "hash_codes", "    if max_attempts < 1:\n        raise ValueError(\"max_attempts must be at least 1\")\n", "",
        frozenset({HASH}), "max_attempts=0 raises RuntimeError (no free code) instead of ValueError"),
    # 2. an exact boundary never hit
    "servers_int_plus_one": Mutant(
        "capacity_plan", "math.ceil(peak / (rps_per_server * target_utilisation))",
        "int(peak / (rps_per_server * target_utilisation)) + 1",
        frozenset({CAPACITY}), "int(x) + 1 for ceil: one server too many when the load divides exactly"),
    "url_length_off_by_one": Mutant(
        "validate_url", "if len(url) > MAX_URL_LENGTH:", "if len(url) >= MAX_URL_LENGTH:",
        frozenset({VALIDATE}), "a URL of exactly 2,048 characters refused"),
    # 3. inputs from a corner of the stated domain: keys that differ only in case
    "codes_case_insensitive": Mutant(
        "schema_sql", "short_code  TEXT NOT NULL PRIMARY KEY,", "short_code  TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,",
        frozenset({SCHEMA, STORE}), "'Promo' and 'promo' are one code: the second custom alias is refused as taken"),
    # 4. state rules: arguments left unchanged, partial outages
    "pick_code_reserves_in_taken": Mutant(
        "hash_codes", "        if code not in taken or taken[code] == long_url:\n            return code",
        "        if code not in taken or taken[code] == long_url:\n            taken[code] = long_url\n            return code",
        frozenset({HASH}), "pick_code writes into the caller's table: a code 'reserved' for a link nobody created"),
    "flush_stops_at_first_failure": Mutant(
        "click_counter", "                continue                      # keep it: the next flush tries again",
        "                break",
        frozenset({CLICKS}), "one unavailable shard stops the flush: codes on healthy shards wait for no reason"),
    # 5. a race: check-then-insert, shown by two writers on one file (course.shortener.race_create)
    "create_checks_then_replaces": Mutant(
        "link_store", """        try:
            with self.db:
                self.db.execute("INSERT INTO urls""", """        if self.get(code) is not None:
            raise CodeTaken(f"{code!r} is taken")
        try:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO urls""",
        frozenset({STORE}), "check, then INSERT OR REPLACE: right one at a time, but two racing writers both win"),
    # 6. a tolerance wider than the gap between the right and a wrong model
    "month_of_30_44_days": Mutant(
        "capacity_plan", "peak = urls_per_month / (30 * 86_400)", "peak = urls_per_month / (30.44 * 86_400)",
        frozenset({CAPACITY}), "a 30.44-day month, 1.5% off (inside the 2% tolerance) except in whole servers"),
}

HIDDEN_ONLY = {"port_zero_accepted": (VALIDATE, "seed 1041"), "always_temporary": (REDIRECT, "seed 1081"),
               "servers_rounded_not_ceiled": (CAPACITY, "seed 10111"), "base62_accepts_bool": (BASE62, "seed 1013"),
               "max_attempts_unchecked": (HASH, "seed 1034"), "servers_int_plus_one": (CAPACITY, "seed 10112"),
               "url_length_off_by_one": (VALIDATE, "seed 104"), "pick_code_reserves_in_taken": (HASH, "seed 1035"),
               "flush_stops_at_first_failure": (CLICKS, "seed 1092"),
               "create_checks_then_replaces": (STORE, "seed 1064"), "month_of_30_44_days": (CAPACITY, "seed 10112")}

# A correct solution written differently from ours: recursion and dict lookups for base 62; a different
# keyed bijection (keys from random.Random, three rounds of affine step, digit rotation and a digit
# substitution table); hexdigest;
# a regular expression instead of urlsplit; a rowid table with a UNIQUE column and INSERT OR IGNORE;
# an LRU kept as a list; 307/308; a Counter; plain Python instead of pandas; the peak computed in another order.
ALTERNATIVE = {
    "base62": '''
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}

def base62_encode(n):
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(n)
    return ALPHABET[n] if n < 62 else base62_encode(n // 62) + ALPHABET[n % 62]

def base62_decode(code):
    if code == "" or not all(ch in VALUES for ch in code):
        raise ValueError(code)
    total = 0
    for power, ch in enumerate(code[::-1]):
        total += VALUES[ch] * 62 ** power
    return total
''',
    "counter_codes": '''
import random

class CounterCodes:
    def __init__(self, secret, length=7):
        if length <= 0:
            raise ValueError(length)
        self.n, self.length, self.issued = 62 ** length, length, 0
        rnd = random.Random(f"codes-{secret}")
        self.keys = []
        for _ in range(3):
            a = rnd.randrange(1, self.n)
            while a % 2 == 0 or a % 31 == 0:
                a = rnd.randrange(1, self.n)
            sbox = list(range(62))
            rnd.shuffle(sbox)
            self.keys.append((a, rnd.randrange(self.n), pow(a, -1, self.n), sbox, {v: i for i, v in enumerate(sbox)}))

    def _digits(self, x, table):
        out, place = 0, 1
        for _ in range(self.length):
            x, d = divmod(x, 62)
            out += table[d] * place
            place *= 62
        return out

    def _rotate(self, x, left):
        if self.length == 1:
            return x
        shift = 62 ** (self.length - 1)
        return (x % shift) * 62 + x // shift if left else (x % 62) * shift + x // 62

    def _forward(self, x):
        for a, b, _, sbox, _ in self.keys:
            x = self._digits(self._rotate((a * x + b) % self.n, True), sbox)
        return x

    def _backward(self, x):
        for a, b, inv, _, unsbox in self.keys[::-1]:
            x = (self._rotate(self._digits(x, unsbox), False) - b) * inv % self.n
        return x

    def next_codes(self, k):
        if not 0 <= k <= self.n - self.issued:
            raise ValueError(k)
        out = [base62_encode(self._forward(i)).rjust(self.length, ALPHABET[0]) for i in range(self.issued, self.issued + k)]
        self.issued += k
        return out

    def decode(self, code):
        if len(code) != self.length or any(ch not in ALPHABET for ch in code):
            raise ValueError(code)
        return self._backward(base62_decode(code))
''',
    "hash_codes": '''
def hash_code(long_url, attempt=0, length=7):
    if length < 1 or attempt < 0:
        raise ValueError((attempt, length))
    source = f"{long_url}#{attempt}" if attempt else long_url
    number = int(hashlib.sha256(source.encode("utf-8")).hexdigest(), 16) % (62 ** length)
    chars = []
    for _ in range(length):
        number, r = divmod(number, 62)
        chars.append(ALPHABET[r])
    return "".join(reversed(chars))

def pick_code(long_url, taken, length=7, max_attempts=10):
    if max_attempts < 1:
        raise ValueError(max_attempts)
    codes = (hash_code(long_url, a, length) for a in range(max_attempts))
    for c in codes:
        if taken.get(c) in (None, long_url):
            return c
    raise RuntimeError("exhausted")
''',
    "validate_url": '''
import re

PATTERN = re.compile(r"(?i)(https?)://([^/?#]*)(.*)", re.S)

def validate_url(url):
    if type(url) is not str or len(url) > 2048:
        raise InvalidURL("not a string, or too long")
    if re.search(r"[^\\x21-\\x7e]", url):
        raise InvalidURL("bad character")
    m = PATTERN.fullmatch(url)
    if not m:
        raise InvalidURL("scheme")
    host, sep, port = m.group(2).partition(":")
    if "@" in m.group(2) or not re.fullmatch(r"[A-Za-z0-9.-]+", host):
        raise InvalidURL("host")
    if sep and (not re.fullmatch(r"\\d{1,5}", port) or not 0 < int(port) < 65536):
        raise InvalidURL("port")
    return url
''',
    "schema_sql": '''
def schema_sql():
    return """CREATE TABLE IF NOT EXISTS urls (id INTEGER PRIMARY KEY, short_code TEXT NOT NULL UNIQUE,
        long_url TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL, click_count INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS urls_by_created ON urls(created_at);"""
''',
    "link_store": '''
class LinkStore:
    def __init__(self, path=":memory:"):
        self.conn = sqlite3.connect(path, isolation_level=None)   # autocommit
        self.conn.row_factory = sqlite3.Row
        self.conn.executescript(schema_sql())

    def create(self, code, long_url, created_at, expires_at=None):
        # ON CONFLICT ... DO NOTHING skips only a taken code; INSERT OR IGNORE would also swallow NOT NULL failures
        cur = self.conn.execute("INSERT INTO urls (short_code, long_url, created_at, expires_at) "
                                "VALUES (?, ?, ?, ?) ON CONFLICT(short_code) DO NOTHING",
                                (code, long_url, created_at, expires_at))
        if cur.rowcount == 0:
            raise CodeTaken(code)

    def get(self, code):
        row = self.conn.execute("SELECT * FROM urls WHERE short_code = ?", (code,)).fetchone()
        if row is None:
            return None
        return {k: row[k] for k in ("short_code", "long_url", "created_at", "expires_at", "click_count")}

    def resolve(self, code, now):
        row = self.get(code)
        if not row:
            raise LinkNotFound(code)
        if row["expires_at"] is not None and row["expires_at"] <= now:
            raise LinkExpired(code)
        return row["long_url"]

    def add_clicks(self, code, n):
        if n < 0:
            raise ValueError(n)
        if self.get(code) is None:
            raise LinkNotFound(code)
        self.conn.execute("UPDATE urls SET click_count = click_count + ? WHERE short_code = ?", (n, code))

    def delete(self, code):
        return self.conn.execute("DELETE FROM urls WHERE short_code = ?", (code,)).rowcount > 0
''',
    "cached_resolver": '''
class CachedResolver:
    def __init__(self, store, capacity, ttl):
        self.store, self.capacity, self.ttl = store, capacity, ttl
        self.values, self.order = {}, []
        self.counts = {"hits": 0, "misses": 0}

    def resolve(self, code, now):
        if code in self.values and self.values[code][1] > now:
            self.counts["hits"] += 1
            self.order.remove(code)
            self.order.append(code)
            return self.values[code][0]
        self.invalidate(code)
        self.counts["misses"] += 1
        row = self.store.get(code)
        if not row:
            raise LinkNotFound(code)
        end = now + self.ttl
        if row["expires_at"] is not None:
            if row["expires_at"] <= now:
                raise LinkExpired(code)
            end = min(end, row["expires_at"])
        self.values[code] = (row["long_url"], end)
        self.order.append(code)
        if len(self.order) > self.capacity:
            del self.values[self.order.pop(0)]
        return row["long_url"]

    def invalidate(self, code):
        if code in self.values:
            del self.values[code]
            self.order.remove(code)

    def stats(self):
        return dict(self.counts, size=len(self.values))
''',
    "redirect_response": '''
def redirect_response(long_url, track_clicks):
    status = 307 if track_clicks else 308
    reason = "permanent_is_cached" if track_clicks else "saves_requests"
    return dict(status=status, location=long_url, reason=reason)
''',
    "click_counter": '''
from collections import Counter

class ClickCounter:
    def __init__(self, store):
        self.store, self.buffer = store, Counter()

    def click(self, code):
        self.buffer[code] += 1

    def flush(self):
        failed, done = Counter(), 0
        for code, n in self.buffer.items():
            try:
                self.store.add_clicks(code, n)
                done += n
            except StoreUnavailable:
                failed[code] = n
        self.buffer = failed
        return done

    def pending(self):
        return {code: n for code, n in self.buffer.items() if n > 0}
''',
    "click_summary": '''
from collections import Counter

def click_summary(clicks, code, top_n=3):
    if top_n < 1:
        raise ValueError(top_n)
    rows = [r for r in clicks if r["short_code"] == code]
    missing = lambda v: v is None or v == "" or v != v
    referrers = Counter("(direct)" if missing(r["referrer"]) else r["referrer"] for r in rows)
    return {"total": len(rows), "unique_visitors": len({r["visitor_id"] for r in rows}),
            "by_day": dict(Counter(r["clicked_at"][:10] for r in rows)),
            "top_referrers": [[k, v] for k, v in sorted(referrers.items(), key=lambda kv: (-kv[1], kv[0]))][:top_n],
            "by_country": dict(Counter("??" if missing(r["country"]) else r["country"] for r in rows))}
''',
    "capacity_plan": '''
def capacity_plan(urls_per_month, read_write_ratio, peak_factor, cache_hit_ratio, rps_per_server, hot_days,
                  bytes_per_cache_entry, target_utilisation=0.7, spares=1):
    checks = [urls_per_month > 0, read_write_ratio > 0, peak_factor >= 1, 0 <= cache_hit_ratio <= 1,
              rps_per_server > 0, hot_days >= 0, bytes_per_cache_entry > 0, 0 < target_utilisation <= 1, spares >= 0]
    if not all(checks):
        raise ValueError("bad plan")
    month_s = 30 * 86_400
    peak = urls_per_month * read_write_ratio * peak_factor / month_s
    usable = rps_per_server * target_utilisation
    servers = int(peak // usable) + (peak % usable > 0) + spares
    return {"peak_redirects_per_s": peak, "servers": servers, "db_reads_per_s": peak - peak * cache_hit_ratio,
            "cache_bytes": urls_per_month / 30 * hot_days * bytes_per_cache_entry}
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
    assert_release_answer_cells_define_their_names(ASSIGNMENT, "shortener_setup")
