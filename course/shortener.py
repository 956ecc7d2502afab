"""The URL-shortener capstone (module 10): the seed's mistakes, reproduced; drivers that exercise the
learner's functions and classes and return plain data; a simulated redirect path; the figures.

- Codes: ``ALPHABET`` (base 62: digits, upper case, lower case), ``seed_generate_short_code`` (the
  seed's generator, reproduced: 44 bits of SHA-256, base 62, truncated to 7 characters) and
  ``seed_code_space`` (how many codes it can really produce), ``plot_first_characters``.
- Errors the contracts name: ``InvalidURL``, ``CodeTaken`` (ValueError), ``LinkNotFound``,
  ``LinkExpired`` (LookupError), ``StoreUnavailable`` (RuntimeError). When a notebook is graded
  the learner's code runs in another process and its exceptions come back as look-alike classes
  of the same name, so the drivers match errors by class name.
- Storage: ``SEED_SCHEMA_SQLITE`` (the seed's tables in SQLite's dialect), ``index_report``,
  ``schema_facts`` (run a schema in a locked-down in-memory SQLite and describe it),
  ``SEED_POSTGRES_DDL`` and ``lint_partitioning`` (the seed's ``PARTITION OF`` mistake).
- ``MemoryLinkStore``: a small store with the same interface as the learner's ``LinkStore``, which
  counts its reads and can be switched "down" to fail writes.
- Drivers: ``issue_codes``, ``secret_overlap``, ``counter_codes_run``, ``schema_behaviour``, ``run_store_ops``,
  ``race_create``, ``run_resolver``, ``redirect_facts``, ``run_click_counter``, ``keeps_arguments``.
- The seed's expiring click counter: ``FakeRedis``, ``seed_click_counter_loss``, ``plot_click_loss``.
- Capacity: ``simulate_redirects`` (one server of the fleet on ``course.sim``), ``p95_sweep``,
  ``plot_latency_sweep``; analytics: ``load_click_log``, ``plot_clicks_by_day``.

Every random run takes an explicit seed. Times are seconds unless a name says ``_ms``.
"""

from __future__ import annotations

import hashlib
import math
import re
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from course.seeding import make_rng
from course.sim import Simulation, Station, poisson_arrivals

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
"""The base-62 alphabet of the course: digit value 0 is ``"0"``, 10 is ``"A"``, 61 is ``"z"``."""

SEED_TARGET_MS = 100.0   # the seed: "< 100ms latency for redirects"
SEED_P95_ALERT_MS = 100.0  # the seed: "P95 < 50ms, Alert if P95 > 100ms"
SEED_P95_GOAL_MS = 50.0


# --------------------------------------------------------------------------- errors

class InvalidURL(ValueError):
    """A URL the shortener refuses to redirect to."""


class CodeTaken(ValueError):
    """The short code (or custom alias) already belongs to a link."""


class LinkNotFound(LookupError):
    """No link has this short code."""


class LinkExpired(LookupError):
    """The link existed, but its expiry time has passed."""


class StoreUnavailable(RuntimeError):
    """The database did not take the write (it is down, or the connection broke)."""


REDIRECT_REASONS = {
    "permanent_is_cached": "A 301 (or 308) is permanent: browsers cache it and send later clicks straight to "
                           "the long URL, so the shortener never sees them and cannot count them.",
    "temporary_is_faster": "A 302 (or 307) is answered faster by the server than a 301.",
    "saves_requests": "A 301 (or 308) lets browsers skip the shortener on repeat visits, which saves requests "
                      "when clicks need not be counted.",
    "seo_forbids_301": "Search engines penalise every 301, so a shortener must never send one.",
}
"""The reasons offered in the 301-or-302 exercise: the learner returns one of the keys."""


def _error_name(exc: BaseException) -> str:
    return type(exc).__name__


# --------------------------------------------------------------------------- the seed's generator

def _pybase62_encode(n: int) -> str:
    """``base62.encode(n)`` of the PyPI package the seed imports (digits, A-Z, a-z; no padding)."""
    if n == 0:
        return ALPHABET[0]
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(ALPHABET[r])
    return "".join(reversed(out))


def seed_generate_short_code(long_url: str, user_id: Any = None, now: float = 0.0) -> str:
    """The seed's ``generate_short_code``, line for line, with the clock passed in as ``now``.

    ``hash_input = f"{long_url}_{user_id}_{time.time()}"``; the first 11 hex digits (44 bits) of its
    SHA-256 are base-62 encoded and the result truncated to 7 characters.
    """
    hash_input = f"{long_url}_{user_id}_{now}"
    hash_value = hashlib.sha256(hash_input.encode()).hexdigest()
    numeric_hash = int(hash_value[:11], 16)
    return _pybase62_encode(numeric_hash)[:7]


def seed_code_space(bits: int = 44, length: int = 7) -> dict:
    """How many distinct codes the seed's generator really draws from, and how unevenly.

    The seed base-62 encodes a ``bits``-bit number and keeps the first ``length`` characters (needs
    ``62**length <= 2**bits < 62**(length + 1)``). Returns ``{"bits", "space": 62**length,
    "effective_space", "share_truncated"}``: ``effective_space`` is ``1 / sum(p_c**2)``, the size of a
    space of uniform codes that would collide as often; ``share_truncated`` is the share of hashes
    that lose their last character (all of those codes start with one of the few digits 1, 2, ...).
    """
    values, space, short = 2 ** bits, 62 ** length, 62 ** (length - 1)
    if not space <= values < 62 * space:
        raise ValueError("needs 62**length <= 2**bits < 62**(length + 1)")
    # A value below 62**length is its own code. A larger one has length + 1 digits; truncation keeps
    # floor(v / 62), a code from `short` to `top`, which is also the code of that value itself.
    top = (values - 1) // 62
    in_last = values - 62 * top                        # values that truncate to `top` (at most 62)
    sum_counts_sq = (top - short) * 63 ** 2 + (1 + in_last) ** 2 + (space - 1 - top) + short
    return {"bits": bits, "space": space, "effective_space": values ** 2 / sum_counts_sq,
            "share_truncated": (values - space) / values}


def plot_first_characters(codes_by_label: dict, title: str = "First character of 20,000 short codes"):
    """Bar chart of how often each first character occurs, one series per label. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "first character of the code (base-62 digit value)",
                         "share of codes (%)", figsize=(9, 4))
    width = 0.8 / max(1, len(codes_by_label))
    for i, (label, codes) in enumerate(codes_by_label.items()):
        counts = np.zeros(62)
        for code in codes:
            counts[ALPHABET.index(code[0])] += 1
        ax.bar(np.arange(62) + i * width, 100 * counts / max(1, len(codes)), width=width,
               color=PALETTE[i % len(PALETTE)], label=label)
    ticks = list(range(0, 62, 5))
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{ALPHABET[t]}\n{t}" for t in ticks])
    ax.set_xlim(-1, 62)
    ax.legend()
    return fig, ax


# --------------------------------------------------------------------------- storage: the seed's schema

SEED_SCHEMA_SQLITE = """
CREATE TABLE urls (
    id INTEGER PRIMARY KEY,
    short_code VARCHAR(10) UNIQUE NOT NULL,
    long_url TEXT NOT NULL,
    user_id BIGINT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    expires_at TIMESTAMP,
    is_active BOOLEAN DEFAULT TRUE,
    click_count BIGINT DEFAULT 0
);
CREATE INDEX idx_urls_short_code ON urls(short_code);
CREATE INDEX idx_urls_user_id ON urls(user_id);
CREATE INDEX idx_urls_created_at ON urls(created_at);
"""
"""The seed's ``urls`` table and indexes, in SQLite's dialect (BIGSERIAL becomes INTEGER PRIMARY KEY,
NOW() becomes CURRENT_TIMESTAMP); everything else is the seed's text."""


def index_report(conn: sqlite3.Connection, table: str) -> list[dict]:
    """The indexes SQLite keeps for ``table``: name, columns, unique, and where they come from.

    ``origin`` is SQLite's: ``"c"`` made by CREATE INDEX, ``"u"`` by a UNIQUE constraint, ``"pk"`` by
    a PRIMARY KEY. Returns one dict per index, sorted by name.
    """
    rows = []
    for _, name, unique, origin, _partial in conn.execute(f"PRAGMA index_list({_quote(table)})"):
        columns = [r[2] for r in conn.execute(f"PRAGMA index_info({_quote(name)})")]
        rows.append({"index": name, "columns": columns, "unique": bool(unique), "origin": origin})
    return sorted(rows, key=lambda r: r["index"])


def _quote(identifier: str) -> str:
    return '"' + str(identifier).replace('"', '""') + '"'


_ALLOWED_ACTIONS = {sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_INSERT,
                    sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_READ, sqlite3.SQLITE_SELECT,
                    sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_DELETE,
                    sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_REINDEX, sqlite3.SQLITE_DROP_TABLE,
                    sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_DROP_VIEW, sqlite3.SQLITE_CREATE_TRIGGER,
                    sqlite3.SQLITE_DROP_TRIGGER, sqlite3.SQLITE_ALTER_TABLE}


def _locked_down_connection() -> sqlite3.Connection:
    """An in-memory SQLite that runs only CREATE / DROP / ALTER of tables, indexes, views and triggers and
    plain reads and writes of its own tables: no ATTACH (which could create files), no PRAGMA, no
    recursive queries, and at most ~10 million steps."""
    conn = sqlite3.connect(":memory:")
    conn.set_authorizer(lambda action, *rest: sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS
                        else sqlite3.SQLITE_DENY)
    steps = {"n": 0}

    def progress() -> int:
        steps["n"] += 1
        return 1 if steps["n"] > 10_000 else 0   # called every 1,000 instructions

    conn.set_progress_handler(progress, 1000)
    return conn


def schema_facts(schema_sql: str) -> dict:
    """Run ``schema_sql`` in a locked-down in-memory SQLite and describe the ``urls`` table it makes.

    Returns plain data: ``{"error": str or None, "tables": [...], "columns": [...] (of urls),
    "indexes": index_report(urls), "redundant": [names of indexes whose column list is the start of
    another unique index's, or equal to another index's], "lookup_plan": the EXPLAIN QUERY PLAN text of
    ``SELECT long_url FROM urls WHERE short_code = ?``, "duplicate_rejected": bool (a second row with
    the same short_code is refused), "expires_nullable": bool}``.
    """
    facts: dict[str, Any] = {"error": None, "tables": [], "columns": [], "indexes": [], "redundant": [],
                             "lookup_plan": "", "duplicate_rejected": False, "expires_nullable": False}
    if type(schema_sql) is not str:
        facts["error"] = f"the schema is a {type(schema_sql).__name__}, not a str"
        return facts
    conn = _locked_down_connection()
    try:
        try:
            conn.executescript(schema_sql)
        except sqlite3.Error as exc:
            facts["error"] = f"{type(exc).__name__}: {exc}"
            return facts
        conn.set_authorizer(None)
        conn.set_progress_handler(None, 0)
        facts["tables"] = sorted(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        if "urls" not in facts["tables"]:
            facts["error"] = "there is no table called urls"
            return facts
        info = list(conn.execute("PRAGMA table_info(urls)"))
        facts["columns"] = [r[1] for r in info]
        facts["expires_nullable"] = any(r[1] == "expires_at" and not r[3] and r[5] == 0 for r in info)
        indexes = index_report(conn, "urls")
        pk_cols = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        rowid_pk = len(pk_cols) == 1 and any(r[1] == pk_cols[0] and r[2].upper() == "INTEGER" for r in info)
        if rowid_pk:   # an INTEGER PRIMARY KEY is the rowid itself: a unique key with no separate index
            indexes.append({"index": "(rowid primary key)", "columns": pk_cols, "unique": True, "origin": "pk"})
        facts["indexes"] = indexes
        redundant = []
        for a in indexes:
            for b in indexes:
                if a is b or a["origin"] != "c":
                    continue
                same = a["columns"] == b["columns"]
                prefix = b["unique"] and b["columns"][:len(a["columns"])] == a["columns"]
                if (same and (b["origin"] != "c" or b["index"] < a["index"])) or (prefix and not same):
                    redundant.append(a["index"])
                    break
        facts["redundant"] = sorted(set(redundant))
        if "short_code" in facts["columns"] and "long_url" in facts["columns"]:
            plan = conn.execute("EXPLAIN QUERY PLAN SELECT long_url FROM urls WHERE short_code = ?", ("x",))
            facts["lookup_plan"] = " | ".join(str(r[-1]) for r in plan)
            try:
                conn.execute("SAVEPOINT probe")
                values = {"short_code": "abc1234", "long_url": "https://example.com/", "created_at": 0.0}
                cols = [c for c in values if c in facts["columns"]]
                sql = f"INSERT INTO urls ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                conn.execute(sql, [values[c] for c in cols])
                try:
                    conn.execute(sql, [values[c] if c != "long_url" else "https://example.org/" for c in cols])
                except sqlite3.IntegrityError:
                    facts["duplicate_rejected"] = True
                conn.execute("ROLLBACK TO probe")
            except sqlite3.Error as exc:
                facts["error"] = f"inserting a row failed: {type(exc).__name__}: {exc}"
        return facts
    finally:
        conn.close()


SEED_POSTGRES_DDL = """
CREATE TABLE url_clicks (
    id BIGSERIAL PRIMARY KEY,
    short_code VARCHAR(10) NOT NULL,
    clicked_at TIMESTAMP DEFAULT NOW(),
    ip_address INET,
    user_agent TEXT,
    referrer TEXT,
    country VARCHAR(2),
    city VARCHAR(100)
);

CREATE TABLE url_clicks_y2024m01 PARTITION OF url_clicks
    FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
"""
"""The seed's click table and its first monthly partition, verbatim."""

FIXED_POSTGRES_DDL = """
CREATE TABLE url_clicks (
    id BIGSERIAL,
    short_code VARCHAR(10) NOT NULL,
    clicked_at TIMESTAMP NOT NULL DEFAULT NOW(),
    ip_address INET,
    user_agent TEXT,
    referrer TEXT,
    country VARCHAR(2),
    city VARCHAR(100),
    PRIMARY KEY (id, clicked_at)
) PARTITION BY RANGE (clicked_at);

CREATE TABLE url_clicks_y2024m01 PARTITION OF url_clicks
    FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
"""
"""The same tables as PostgreSQL accepts them: the parent declares PARTITION BY RANGE, and its primary
key includes the partition column."""


def _statements(ddl: str) -> list[str]:
    return [s.strip() for s in re.sub(r"--[^\n]*", "", ddl).split(";") if s.strip()]


def lint_partitioning(ddl: str) -> list[str]:
    """Check PostgreSQL DDL for the two partitioning rules the seed breaks, without a server.

    1. ``CREATE TABLE child PARTITION OF parent`` needs a parent created with ``PARTITION BY``.
    2. A primary key or unique constraint on a partitioned table must include every partition column.

    Returns PostgreSQL's own error message for each problem (as PostgreSQL 15 words them), or [].
    A static check of these two rules only, by regular expressions: not a SQL parser.
    """
    tables: dict[str, dict] = {}
    problems = []
    for stmt in _statements(ddl):
        head = re.match(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s*(.*)$", stmt, re.I | re.S)
        if not head:
            continue
        name, rest = head.group(1).lower(), head.group(2)
        child = re.match(r"PARTITION\s+OF\s+(\w+)", rest, re.I)
        if child:
            parent = child.group(1).lower()
            if parent not in tables:
                problems.append(f'ERROR:  relation "{parent}" does not exist')
            elif not tables[parent]["partition_by"]:
                problems.append(f'ERROR:  "{parent}" is not partitioned')
            continue
        by = re.search(r"\)\s*PARTITION\s+BY\s+\w+\s*\(([^)]*)\)\s*$", rest, re.I | re.S)
        part_cols = [c.strip().lower() for c in by.group(1).split(",")] if by else []
        tables[name] = {"partition_by": part_cols}
        if not part_cols:
            continue
        keys = []
        for line in rest.split("\n"):
            inline = re.match(r"\s*(\w+)\s+[^,]*\b(PRIMARY\s+KEY|UNIQUE)\b", line, re.I)
            if inline and inline.group(1).upper() not in ("PRIMARY", "UNIQUE", "CONSTRAINT"):
                keys.append((inline.group(2).upper().replace("  ", " "), [inline.group(1).lower()]))
        for kind, cols in re.findall(r"\b(PRIMARY\s+KEY|UNIQUE)\s*\(([^)]*)\)", rest, re.I):
            keys.append((re.sub(r"\s+", " ", kind.upper()), [c.strip().lower() for c in cols.split(",")]))
        for kind, cols in keys:
            missing = [c for c in part_cols if c not in cols]
            if missing:
                kind = "PRIMARY KEY" if kind.startswith("PRIMARY") else "UNIQUE"
                problems.append("ERROR:  unique constraint on partitioned table must include all partitioning "
                                f'columns\nDETAIL:  {kind} constraint on table "{name}" lacks column '
                                f'"{missing[0]}" which is part of the partition key.')
    return problems


# --------------------------------------------------------------------------- a store for the cache tests

class MemoryLinkStore:
    """A dict-backed store with ``LinkStore``'s interface, for testing what sits in front of a store.

    ``create(code, long_url, created_at, expires_at=None)``, ``get(code)`` (a row dict or None),
    ``resolve(code, now)``, ``add_clicks(code, n)``, ``delete(code)``. It counts ``reads`` (calls of
    ``get`` and ``resolve``) and ``writes`` (successful ``add_clicks``). While ``down`` is True,
    ``add_clicks`` raises ``StoreUnavailable`` and writes nothing; ``set_down(flag)`` switches it.
    """

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self.reads = 0
        self.writes = 0
        self.down = False
        self.down_codes: set = set()

    def set_down(self, flag: bool, codes: Sequence[str] | None = None) -> None:
        """``flag`` for the whole store, or with ``codes`` for those codes only (a partial outage:
        one shard of the database down, the others up)."""
        if codes is None:
            self.down, self.down_codes = bool(flag), set()
        elif flag:
            self.down_codes |= set(codes)
        else:
            self.down_codes -= set(codes)

    def create(self, code, long_url, created_at, expires_at=None):
        if code in self.rows:
            raise CodeTaken(code)
        self.rows[code] = {"short_code": code, "long_url": long_url, "created_at": float(created_at),
                           "expires_at": None if expires_at is None else float(expires_at), "click_count": 0}

    def get(self, code):
        self.reads += 1
        row = self.rows.get(code)
        return dict(row) if row else None

    def resolve(self, code, now):
        row = self.get(code)
        if row is None:
            raise LinkNotFound(code)
        if row["expires_at"] is not None and now >= row["expires_at"]:
            raise LinkExpired(code)
        return row["long_url"]

    def add_clicks(self, code, n):
        if self.down or code in self.down_codes:
            raise StoreUnavailable("the database is down" if self.down else f"the shard of {code!r} is down")
        if code not in self.rows:
            raise LinkNotFound(code)
        if n < 0:
            raise ValueError("n must be >= 0")
        self.rows[code]["click_count"] += int(n)
        self.writes += 1

    def delete(self, code):
        return self.rows.pop(code, None) is not None

    def click_counts(self):
        return {code: row["click_count"] for code, row in sorted(self.rows.items())}


# --------------------------------------------------------------------------- drivers

def issue_codes(cls: Callable, secret: int, length: int, blocks: Sequence[int], decode_every: int = 200,
                after: int | None = None, probes: Sequence[str] = ()) -> dict:
    """Build ``cls(secret, length)``, call ``next_codes(k)`` for each k in ``blocks`` and describe the codes.

    Returns ``{"issued", "distinct", "bad_length", "bad_chars", "decode_checked", "decode_wrong"
    (list of [code, expected id, got] for at most 3), "top_step_share" (the largest share of
    consecutive pairs whose values, read as base-62 numbers, differ by the same amount mod 62**length),
    "first_chars" (distinct first characters among the first 20,000 codes), "first_codes" (the first
    5), "after_error" (the class name of what ``next_codes(after)`` raised, or None, when ``after`` is
    given), "probe_errors" (for each string in ``probes``, the class name of what ``decode`` raised for
    it, or None)}``. A second instance with the same secret decodes every ``decode_every``-th code.
    """
    generator = cls(secret, length)
    codes: list = []
    for k in blocks:
        block = generator.next_codes(k)
        codes.extend(block if type(block) is list else [block])
    space = 62 ** length
    values, bad_chars = [], 0
    for code in codes:
        if type(code) is not str or any(ch not in ALPHABET for ch in code):
            bad_chars += 1
            values.append(None)
        else:
            v = 0
            for ch in code:
                v = v * 62 + ALPHABET.index(ch)
            values.append(v)
    steps: dict[int, int] = {}
    window = values[:20_000]
    for a, b in zip(window, window[1:]):
        if a is not None and b is not None:
            steps[(b - a) % space] = steps.get((b - a) % space, 0) + 1
    reader = cls(secret, length)
    decode_wrong, checked = [], 0
    for i in range(0, len(codes), max(1, decode_every)):
        if type(codes[i]) is not str:
            continue
        checked += 1
        got = reader.decode(codes[i])
        if got != i:
            decode_wrong.append([codes[i], i, got if type(got) in (int, float, str) else repr(got)])
    result = {"issued": len(codes), "distinct": len({c for c in codes if type(c) is str}),
              "bad_length": sum(1 for c in codes if type(c) is not str or len(c) != length),
              "bad_chars": bad_chars, "decode_checked": checked, "decode_wrong": decode_wrong[:3],
              "top_step_share": max(steps.values()) / max(1, sum(steps.values())) if steps else 0.0,
              "first_chars": len({c[0] for c in codes[:20_000] if type(c) is str and c}),
              "first_codes": [c if type(c) is str else repr(c) for c in codes[:5]], "after_error": None}
    if after is not None:
        try:
            generator.next_codes(after)
        except Exception as exc:  # the learner's error, whatever it is: report its name
            result["after_error"] = _error_name(exc)
    result["probe_errors"] = []
    for probe in probes:
        try:
            reader.decode(probe)
            result["probe_errors"].append(None)
        except Exception as exc:
            result["probe_errors"].append(_error_name(exc))
    return result


def schema_facts_from(schema_fn: Callable, repeat: int = 1) -> dict:
    """``schema_facts`` of the script ``schema_fn()`` returns, run ``repeat`` times in a row on one database."""
    script = schema_fn()
    if type(script) is not str:
        return schema_facts(script)
    return schema_facts(";\n".join([script] * repeat))


def secret_overlap(cls: Callable, secret_a: int, secret_b: int, length: int, n: int) -> dict:
    """Issue ``n`` codes from ``cls(secret_a, length)`` and from ``cls(secret_b, length)``.

    Returns ``{"same_position_share": share of positions where both gave the same code}``.
    """
    a = cls(secret_a, length).next_codes(n)
    b = cls(secret_b, length).next_codes(n)
    same = sum(1 for x, y in zip(a, b) if x == y)
    return {"same_position_share": same / max(1, n)}


def counter_codes_run(cls: Callable, secret: Any, blocks: Sequence[int], probes: Sequence[str] = (),
                      length: int | None = None, decode_at_most: int = 24) -> dict:
    """The checkable contract of ``CounterCodes``, whatever its bijection: build ``cls(secret, length)``
    (``cls(secret)`` when ``length`` is None), call ``next_codes(k)`` for each k in ``blocks`` (errors
    propagate), and let a second instance with the same secret decode up to ``decode_at_most`` of the
    codes (the first, the last and evenly spaced ones) and each string of ``probes``.

    Returns ``{"issued", "distinct", "bad_length", "bad_chars", "decoded_wrong": [[code, id, got], ...]
    (at most 3), "probes": [for each probe: the class name of what decode raised, or "an id" for an
    int in range(62 ** length), or its repr]}``.
    """
    generator = cls(secret) if length is None else cls(secret, length)
    size = 7 if length is None else length
    codes: list = []
    for k in blocks:
        block = generator.next_codes(k)
        codes.extend(block if type(block) is list else [block])
    reader = cls(secret) if length is None else cls(secret, length)
    picks = sorted({0, len(codes) - 1} | {round(i * (len(codes) - 1) / max(1, decode_at_most - 1))
                                          for i in range(decode_at_most)}) if codes else []
    wrong = []
    for i in picks:
        got = reader.decode(codes[i]) if type(codes[i]) is str else None
        if got != i:
            wrong.append([codes[i] if type(codes[i]) is str else repr(codes[i]), i,
                          got if type(got) in (int, str) else repr(got)])
    answers = []
    for probe in probes:
        try:
            got = reader.decode(probe)
        except Exception as exc:  # the learner's error, whatever it is: its name is the answer
            answers.append(_error_name(exc))
            continue
        answers.append("an id" if type(got) is int and 0 <= got < 62 ** size else repr(got))
    return {"issued": len(codes), "distinct": len({c for c in codes if type(c) is str}),
            "bad_length": sum(1 for c in codes if type(c) is not str or len(c) != size),
            "bad_chars": sum(1 for c in codes if type(c) is not str or any(ch not in ALPHABET for ch in c)),
            "decoded_wrong": wrong[:3], "probes": answers}


def schema_behaviour(schema_fn: Callable, rows: Sequence[Sequence], repeat: int = 1) -> dict:
    """Run the script ``schema_fn()`` ``repeat`` times on one locked-down in-memory SQLite, insert
    ``rows`` (``[short_code, long_url, created_at]`` or ``[..., expires_at]``: named columns, no
    click_count) one by one, and report what the table did.

    Returns ``{"error": None or why the script failed, "inserts": ["ok" or the sqlite3 error's class
    name, per row], "stored": [[short_code, expires_at, click_count], ...] sorted by short_code
    (a NULL code sorts first), "redundant": [redundant indexes], "indexed_lookup": bool}``.
    """
    script = schema_fn()
    out: dict[str, Any] = {"error": None, "inserts": [], "stored": [], "redundant": [], "indexed_lookup": False}
    if type(script) is not str:
        out["error"] = f"the schema is a {type(script).__name__}, not a str"
        return out
    facts = schema_facts(script)
    if facts["error"]:
        out["error"] = facts["error"]
        return out
    out["redundant"] = facts["redundant"]
    out["indexed_lookup"] = any(w in facts["lookup_plan"] for w in ("USING INDEX", "USING COVERING INDEX",
                                                                    "USING PRIMARY KEY"))
    conn = _locked_down_connection()
    try:
        try:
            conn.executescript(";\n".join([script] * repeat))
        except sqlite3.Error as exc:
            out["error"] = f"run {repeat} times: {type(exc).__name__}: {exc}"
            return out
        conn.set_authorizer(None)
        conn.set_progress_handler(None, 0)
        for row in rows:
            cols = ["short_code", "long_url", "created_at", "expires_at"][:len(row)]
            try:
                with conn:
                    conn.execute(f"INSERT INTO urls ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                 list(row))
                out["inserts"].append("ok")
            except sqlite3.Error as exc:
                out["inserts"].append(type(exc).__name__)
        stored = conn.execute("SELECT short_code, expires_at, click_count FROM urls").fetchall()
        out["stored"] = sorted(([c, e, k] for c, e, k in stored), key=lambda r: (r[0] is not None, str(r[0])))
        return out
    finally:
        conn.close()


def redirect_facts(redirect_fn: Callable, long_url: str, track_clicks: bool) -> dict:
    """What ``redirect_fn(long_url, track_clicks)`` answers, as the contract states it:
    ``{"kind": "temporary" (302 or 307), "permanent" (301 or 308) or the status's repr,
    "location": the Location, "reason": the reason key}``."""
    response = redirect_fn(long_url, track_clicks)
    if type(response) is not dict:
        return {"kind": f"not a dict: {type(response).__name__}", "location": None, "reason": None}
    status = response.get("status")
    kind = "temporary" if status in (302, 307) else "permanent" if status in (301, 308) else repr(status)
    return {"kind": kind, "location": response.get("location"), "reason": response.get("reason")}


def keeps_arguments(fn: Callable, args: dict) -> dict:
    """Call ``fn(**args)`` on deep copies and say whether it changed any of them (run it beside the
    learner: ``beside_learner(keeps_arguments)``). Returns ``{"changed": [names of changed arguments],
    "error": the class name of what it raised, or None}``."""
    import copy

    given = copy.deepcopy(args)
    error = None
    try:
        fn(**given)
    except Exception as exc:  # raising is judged elsewhere; here only the arguments matter
        error = _error_name(exc)
    return {"changed": sorted(k for k in args if given[k] != args[k]), "error": error}


def race_create(cls: Callable, rounds: int = 8, pause: float = 0.05) -> dict:
    """Two writers race to create the same code, ``rounds`` times: run it beside the learner
    (``beside_learner(race_create)``). Each round makes a new database file; two threads each open
    ``cls(path)``, meet at a barrier, and call ``create("race", their own URL, 1.0, None)``.

    While it runs, every connection ``sqlite3.connect`` opens waits ``pause`` seconds after each
    ``SELECT``, so a create that checks first and inserts after is raced for sure: both writers see
    the code free. A create that lets the ``UNIQUE`` constraint decide is not slowed at all.
    Returns ``{"one_winner": rounds with one success and one CodeTaken, "both_won": rounds where
    both succeeded, "errors": [names of other errors raised]}``.
    """
    import os
    import threading
    import time

    class _Cursor(sqlite3.Cursor):
        def execute(self, sql, *args):
            out = super().execute(sql, *args)
            if str(sql).lstrip().upper().startswith("SELECT"):
                time.sleep(pause)
            return out

    class _Connection(sqlite3.Connection):
        def cursor(self, factory=_Cursor):
            return super().cursor(factory)

        def execute(self, sql, *args):
            return self.cursor().execute(sql, *args)

    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        kwargs.setdefault("factory", _Connection)
        return real_connect(*args, **kwargs)

    one = both = 0
    errors: set = set()
    sqlite3.connect = connect
    try:
        for _ in range(rounds):
            path = f"/tmp/shortener-race-{uuid.uuid4().hex}.db"
            real_connect(path).close()
            barrier, results = threading.Barrier(2, timeout=30), [None, None]

            def writer(i):
                try:
                    store = cls(path)
                    barrier.wait()
                    store.create("race", f"https://writer{i}.example/", 1.0, None)
                    results[i] = "won"
                except threading.BrokenBarrierError:
                    results[i] = "BrokenBarrierError"
                except Exception as exc:  # the learner's error: its name is the result
                    results[i] = _error_name(exc)
                    barrier.abort()

            threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if results == ["won", "won"]:
                both += 1
            elif sorted(results) == ["CodeTaken", "won"]:
                one += 1
            else:
                errors |= {r for r in results if r not in ("won", "CodeTaken")}
            for suffix in ("", "-journal", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
    finally:
        sqlite3.connect = real_connect
    return {"one_winner": one, "both_won": both, "errors": sorted(errors)}


_STORE_ERRORS = ("CodeTaken", "LinkNotFound", "LinkExpired", "ValueError", "IntegrityError")


def run_store_ops(cls: Callable, ops: Sequence[Sequence], persistent: bool = False) -> list:
    """Run a script of operations on ``cls(path)`` and return one plain result per operation.

    ``path`` is ``":memory:"``, or with ``persistent=True`` a new file under /tmp (of the process the
    class runs in). Operations (lists):

    - ``["create", code, long_url, created_at, expires_at]``: None;
    - ``["get", code]``: the row dict or None;
    - ``["resolve", code, now]``: the long URL;
    - ``["add_clicks", code, n]``: None;
    - ``["delete", code]``: True or False;
    - ``["reopen"]``: a new ``cls(path)`` on the same file replaces the store; result None.

    An operation that raises CodeTaken, LinkNotFound, LinkExpired, ValueError or sqlite3.IntegrityError (a
    NOT NULL or CHECK failure, which is not a taken code) gives the error's class name instead; any other error
    propagates.
    """
    path = f"/tmp/shortener-{uuid.uuid4().hex}.db" if persistent else ":memory:"
    store = cls(path)
    results = []
    for op in ops:
        kind, args = op[0], list(op[1:])
        if kind == "reopen":
            store = cls(path)
            results.append(None)
            continue
        if kind not in ("create", "get", "resolve", "add_clicks", "delete"):
            raise ValueError(f"unknown operation {kind!r}")  # a bug in the script, not in the store
        try:
            results.append(getattr(store, kind)(*args))
        except Exception as exc:
            if _error_name(exc) not in _STORE_ERRORS:
                raise
            results.append(_error_name(exc))
    return results


def run_resolver(resolver_cls: Callable, store_cls: Callable, capacity: int, ttl: float,
                 links: Sequence[Sequence], ops: Sequence[Sequence]) -> list:
    """Put ``resolver_cls(store, capacity, ttl)`` in front of ``store = store_cls()`` and run ``ops``.

    ``links`` are ``[code, long_url, created_at, expires_at]`` created in the store first. Operations:
    ``["resolve", code, now]`` (the URL, or "LinkNotFound" / "LinkExpired"), ``["delete", code]``
    (deletes the link from the store, then calls ``resolver.invalidate(code)``; result None),
    ``["stats"]`` (the resolver's ``stats()``), ``["store_reads"]`` (how many times the store was read).
    """
    store = store_cls()
    for code, long_url, created_at, expires_at in links:
        store.create(code, long_url, created_at, expires_at)
    resolver = resolver_cls(store, capacity, ttl)
    results = []
    for op in ops:
        kind = op[0]
        if kind == "resolve":
            try:
                results.append(resolver.resolve(op[1], op[2]))
            except Exception as exc:
                if _error_name(exc) not in ("LinkNotFound", "LinkExpired"):
                    raise
                results.append(_error_name(exc))
        elif kind == "delete":
            store.delete(op[1])
            resolver.invalidate(op[1])
            results.append(None)
        elif kind == "stats":
            results.append(resolver.stats())
        elif kind == "store_reads":
            results.append(store.reads)
        else:
            raise ValueError(f"unknown operation {kind!r}")
    return results


def run_click_counter(counter_cls: Callable, store_cls: Callable, codes: Sequence[str],
                      ops: Sequence[Sequence]) -> dict:
    """Put ``counter_cls(store)`` in front of ``store = store_cls()`` holding ``codes`` and run ``ops``.

    Operations: ``["click", code, times]`` (calls ``click(code)`` ``times`` times), ``["flush"]``,
    ``["down"]`` / ``["up"]`` (the store starts or stops refusing writes), ``["down", [codes]]`` /
    ``["up", [codes]]`` (a partial outage: only writes for those codes fail). Returns
    ``{"flushed": [what each flush returned], "pending": counter.pending() at the end,
    "stored": {code: clicks in the store}, "clicked": {code: clicks made}}``.
    """
    store = store_cls()
    for code in codes:
        store.create(code, f"https://example.com/{code}", 0.0, None)
    counter = counter_cls(store)
    flushed, clicked = [], {code: 0 for code in codes}
    for op in ops:
        kind = op[0]
        if kind == "click":
            for _ in range(int(op[2])):
                counter.click(op[1])
            clicked[op[1]] += int(op[2])
        elif kind == "flush":
            flushed.append(counter.flush())
        elif kind in ("down", "up"):
            if len(op) > 1:
                store.set_down(kind == "down", list(op[1]))
            else:
                store.set_down(kind == "down")
        else:
            raise ValueError(f"unknown operation {kind!r}")
    return {"flushed": flushed, "pending": counter.pending(), "stored": store.click_counts(),
            "clicked": dict(sorted(clicked.items()))}


# --------------------------------------------------------------------------- the seed's expiring counter

class FakeRedis:
    """Just enough of Redis for the seed's click counter: INCR, EXPIRE, GET and DELETE, on a clock."""

    def __init__(self):
        self.values: dict[str, int] = {}
        self.expires: dict[str, float] = {}
        self.now = 0.0

    def _alive(self, key: str) -> bool:
        if key in self.expires and self.now >= self.expires[key]:
            self.values.pop(key, None)
            self.expires.pop(key, None)
        return key in self.values

    def incr(self, key: str) -> int:
        self.values[key] = (self.values[key] if self._alive(key) else 0) + 1
        return self.values[key]

    def expire(self, key: str, seconds: float) -> None:
        if self._alive(key):
            self.expires[key] = self.now + seconds

    def get(self, key: str):
        return self.values[key] if self._alive(key) else None

    def delete(self, key: str) -> None:
        self.values.pop(key, None)
        self.expires.pop(key, None)


def seed_click_counter_loss(rates_per_minute: Sequence[float], seed: int, hours: float = 6.0,
                            analytics_ttl: float = 300.0, sync_every: float = 600.0) -> list[dict]:
    """Run the seed's ``increment_click_count`` (INCR, then EXPIRE 5 minutes) against a sync job.

    One link per rate in ``rates_per_minute`` gets Poisson clicks for ``hours``; every ``sync_every``
    seconds a job reads each counter, adds it to the database and deletes it. Returns, per link,
    ``{"rate_per_minute", "clicks", "counted", "lost_share"}``.
    """
    rng = make_rng(seed)
    redis = FakeRedis()
    horizon = hours * 3600
    events = []
    for link, rate in enumerate(rates_per_minute):
        t = 0.0
        while True:
            t += rng.exponential(60.0 / rate)
            if t >= horizon:
                break
            events.append((t, link))
    syncs = [(k * sync_every, -1) for k in range(1, int(horizon // sync_every) + 1)]
    clicks = [0] * len(rates_per_minute)
    counted = [0] * len(rates_per_minute)
    for t, link in sorted(events + syncs):
        redis.now = t
        if link >= 0:
            clicks[link] += 1
            redis.incr(f"clicks:{link}")                 # pipeline.incr(f"clicks:{short_code}")
            redis.expire(f"clicks:{link}", analytics_ttl)  # pipeline.expire(..., self.analytics_ttl)
        else:
            for other in range(len(rates_per_minute)):
                value = redis.get(f"clicks:{other}")
                if value:
                    counted[other] += value
                    redis.delete(f"clicks:{other}")
    redis.now = horizon + sync_every
    for other in range(len(rates_per_minute)):   # a last sync after the run
        counted[other] += redis.get(f"clicks:{other}") or 0
    return [{"rate_per_minute": float(r), "clicks": c, "counted": n,
             "lost_share": (c - n) / c if c else 0.0} for r, c, n in zip(rates_per_minute, clicks, counted)]


def plot_click_loss(runs: dict, title: str = "The seed's click counter: clicks lost to EXPIRE"):
    """Share of clicks lost per link against its click rate (log scale), one line per labelled run of
    ``seed_click_counter_loss``. Returns (fig, ax)."""
    from matplotlib.ticker import FuncFormatter

    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "clicks per minute on the link (log scale)", "clicks never counted (%)")
    for i, (label, rows) in enumerate(runs.items()):
        ax.plot([r["rate_per_minute"] for r in rows], [100 * r["lost_share"] for r in rows], marker="o",
                color=PALETTE[(3, 0, 4)[i % 3]], label=label)
    ax.axhline(0, color=PALETTE[2], linestyle="--", label="a counter that never expires: 0%")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_ylim(-5, 130)   # room above 100% for the legend
    ax.set_yticks(range(0, 101, 20))
    ax.legend(loc="upper right", fontsize="small")
    return fig, ax


# --------------------------------------------------------------------------- redirect latency

def simulate_redirects(rps: float, hit_ratio: float, seed: int, *, cache_ms: float = 1.0, db_ms: float = 8.0,
                       cpu_ms: float = 0.5, workers: int = 32, seconds: float = 5.0) -> np.ndarray:
    """Redirect latencies (ms) at one server of the fleet, simulated on ``course.sim``.

    Requests arrive as a Poisson process at ``rps`` per second. Each holds one of ``workers`` workers
    for: CPU (exponential, mean ``cpu_ms``), a cache lookup (lognormal, median ``cache_ms``, sigma 0.3)
    and, with probability ``1 - hit_ratio``, a database read (lognormal, median ``db_ms``, sigma 0.9:
    a long tail). Returns the latency of every finished request, in milliseconds.
    """
    if not 0 <= hit_ratio <= 1:
        raise ValueError("hit_ratio must be in [0, 1]")
    sim = Simulation(seed)

    def service(rng) -> float:
        ms = rng.exponential(cpu_ms) + rng.lognormal(math.log(cache_ms), 0.3)
        if rng.random() >= hit_ratio:
            ms += rng.lognormal(math.log(db_ms), 0.9)
        return ms / 1000.0

    station = Station(sim, "redirect", workers, service)
    poisson_arrivals(sim, rps, station.submit, until=seconds)
    sim.run()
    return np.array(station.completed) * 1000.0


def p95_sweep(rps: float, hit_ratios: Sequence[float], db_ms_values: Sequence[float], seed: int,
              **kwargs) -> dict:
    """p95 redirect latency (ms) for each hit ratio, one list per database latency: {db_ms: [p95, ...]}."""
    return {float(db): [float(np.percentile(simulate_redirects(rps, h, seed + i, db_ms=db, **kwargs), 95))
                        for i, h in enumerate(hit_ratios)] for db in db_ms_values}


def plot_latency_sweep(hit_ratios: Sequence[float], sweep: dict, planned_hit_ratio: float | None = None,
                       title: str = "Redirect p95 against the cache hit ratio (simulated)"):
    """p95 against hit ratio, one line per database latency, with the seed's 50 and 100 ms marks."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "cache hit ratio (%)", "p95 redirect latency (ms)")
    for i, (db, p95s) in enumerate(sweep.items()):
        ax.plot(100 * np.asarray(hit_ratios), p95s, marker="o", color=PALETTE[i],
                label=f"database read: median {db:g} ms")
    ax.axhline(SEED_P95_ALERT_MS, color=PALETTE[3], linestyle="--", label="seed: alert if p95 > 100 ms")
    ax.axhline(SEED_P95_GOAL_MS, color=PALETTE[1], linestyle=":", label="seed: p95 < 50 ms")
    if planned_hit_ratio is not None:
        ax.axvline(100 * planned_hit_ratio, color="grey", linestyle="-.", label="your planned hit ratio")
    ax.set_yscale("log")
    ax.legend(fontsize="small")
    return fig, ax


# --------------------------------------------------------------------------- analytics

def load_click_log():
    """``data/click_log.csv`` as a DataFrame (hash-checked); missing referrer and country are NaN."""
    from course.data import load_csv

    return load_csv("click_log.csv", dtype={"referrer": "string", "country": "string"})


def load_click_records() -> list[dict]:
    """``data/click_log.csv`` as a list of row dicts (plain data), missing referrer and country as None."""
    frame = load_click_log()
    return [{k: (None if v is None or v != v or str(v) == "<NA>" else str(v)) for k, v in row.items()}
            for row in frame.astype(object).to_dict("records")]


def plot_clicks_by_day(by_day: dict, title: str):
    """Bar chart of a ``{"YYYY-MM-DD": clicks}`` dict. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "day (UTC, 2026)", "clicks per day")
    days = sorted(by_day)
    ax.bar(range(len(days)), [by_day[d] for d in days], color=PALETTE[0])
    ax.set_xticks(range(len(days)))
    ax.set_xticklabels([d[5:] for d in days], rotation=45, ha="right")
    return fig, ax
