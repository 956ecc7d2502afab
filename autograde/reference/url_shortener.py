"""Reference answers, judges and seeded hidden-test cases for 10-url-shortener.

Written independently of the solution notebook (CI checks that the two agree: the solution must
score full marks). Case generators take ``(seed, n)`` and draw from ``numpy.random.default_rng(seed)``
only; every case is plain data. A case for which a reference raises ValueError expects the learner's
function to raise ValueError too (``check_cases``). The judges that contain no answer (counter codes,
the schema) are in ``autograde.judges.url_shortener``, shipped to students and imported by the test
cells themselves.

Conventions stated in the notebook: base 62 with the alphabet digits, A-Z, a-z (value 0 is "0");
times are seconds (floats); a link with ``expires_at`` is expired from ``now >= expires_at``; a month
is 30 days; answers within 2% pass, whole numbers (servers) must be exact.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict

import numpy as np

DIGITS = "0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz"
VALUE = {ch: i for i, ch in enumerate(DIGITS)}
REL_TOL = 0.02
MAX_URL_LENGTH = 2048


# =========================================================================== base 62

def base62_encode(n):
    if type(n) is not int or n < 0:
        raise ValueError("n must be an int >= 0")
    digits = []
    while True:
        digits.append(DIGITS[n % 62])
        n //= 62
        if n == 0:
            return "".join(digits[::-1])


def base62_decode(code):
    if type(code) is not str or not code or any(ch not in VALUE for ch in code):
        raise ValueError("code must be a non-empty base-62 string")
    return sum(VALUE[ch] * 62 ** k for k, ch in enumerate(reversed(code)))


def base62_encode_cases(seed, n=1500):
    rng = np.random.default_rng(seed)
    cases = [{"n": v} for v in (0, 1, 61, 62, 63, 3843, 3844, 62 ** 7 - 1, 62 ** 7, 2 ** 63, 2 ** 128)]
    for _ in range(n):
        bits = int(rng.integers(1, 129))
        value = 0
        while bits > 0:
            chunk = min(62, bits)
            value = (value << chunk) | int(rng.integers(0, 2 ** chunk))
            bits -= chunk
        cases.append({"n": value})
    return cases + [{"n": -1}, {"n": -62}]


def base62_decode_cases(seed, n=1500):
    rng = np.random.default_rng(seed)
    cases = [{"code": c} for c in ("0", "z", "10", "zz", "000abc", "zzzzzzz")]
    for _ in range(n):
        cases.append({"code": "".join(rng.choice(list(DIGITS), size=int(rng.integers(1, 22))))})
    return cases + [{"code": ""}, {"code": "abc-1"}, {"code": "a b"}, {"code": "ab/"}, {"code": "é"}]


# =========================================================================== hash codes

def hash_code(long_url, attempt=0, length=7):
    if length < 1 or attempt < 0:
        raise ValueError("length must be >= 1 and attempt >= 0")
    text = long_url if attempt == 0 else f"{long_url}#{attempt}"
    value = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 62 ** length
    out = ""
    for _ in range(length):
        value, r = divmod(value, 62)
        out = DIGITS[r] + out
    return out


def pick_code(long_url, taken, length=7, max_attempts=10):
    if max_attempts < 1:
        raise ValueError("max_attempts must be >= 1")
    for attempt in range(max_attempts):
        code = hash_code(long_url, attempt, length)
        if taken.get(code, long_url) == long_url:
            return code
    raise RuntimeError("no free code")


def _url(rng, i):
    hosts = ["example.com", "news.example.org", "shop.example.net", "a.b.c.example.io"]
    words = ["docs", "2026", "item", "café", "search", "q", "very-long-path", "x"]
    path = "/".join(str(w) for w in rng.choice(words, size=int(rng.integers(0, 5))))
    return f"https://{hosts[int(rng.integers(0, len(hosts)))]}/{path}?id={i}"


def hash_code_cases(seed, n=400):
    rng = np.random.default_rng(seed)
    cases = [{"long_url": _url(rng, i), "attempt": int(rng.integers(0, 5)), "length": int(rng.integers(1, 12))}
             for i in range(n)]
    return cases + [{"long_url": "https://example.com/", "attempt": 0, "length": 0},
                    {"long_url": "https://example.com/", "attempt": -1, "length": 7}]


def pick_code_cases(seed, n=40):
    """Forced collisions: short codes (1 or 2 characters) in crowded tables, so retries are the rule.

    Some URLs are already stored (the same code must come back); some tables are so full that every
    attempt collides (RuntimeError expected).
    """
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        length = int(rng.choice([1, 1, 2]))
        space = 62 ** length
        fill = float(rng.choice([0.3, 0.6, 0.9, 0.97]))
        taken = {}
        for j in range(int(space * fill)):
            url = f"https://fill.example/{seed}/{i}/{j}"
            code = hash_code(url, 0, length)
            if code not in taken:
                taken[code] = url
        stored = list(taken.values())
        if rng.random() < 0.3 and stored:
            long_url = stored[int(rng.integers(0, len(stored)))]
        else:
            long_url = _url(rng, 10**6 + i)
        cases.append({"long_url": long_url, "taken": taken, "length": length,
                      "max_attempts": int(rng.choice([1, 3, 10]))})
    return cases


def pick_code_split(seed, n=40):
    """``pick_code_cases`` split in two: (cases with a code to return, cases that must raise RuntimeError)."""
    found, exhausted = [], []
    for case in pick_code_cases(seed, n):
        try:
            pick_code(**case)
            found.append(case)
        except RuntimeError:
            exhausted.append(case)
    return found, exhausted


# =========================================================================== URL validation

_HOST = re.compile(r"[A-Za-z0-9.-]+")


def validate_url(url):
    if type(url) is not str:
        raise ValueError("not a string")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError("too long")
    if any(ord(ch) <= 32 or ord(ch) >= 127 for ch in url):
        raise ValueError("space, control or non-ASCII character")
    scheme, colon, rest = url.partition(":")
    if not colon or scheme.lower() not in ("http", "https"):
        raise ValueError("scheme must be http or https")
    if not rest.startswith("//"):
        raise ValueError("missing //")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if "@" in authority:
        raise ValueError("user info")
    host, colon, port = authority.partition(":")
    if not _HOST.fullmatch(host or "-@"):
        raise ValueError("bad host")
    if colon and not (re.fullmatch(r"[0-9]{1,5}", port) and 1 <= int(port) <= 65535):
        raise ValueError("bad port")
    return url


def validate_url_cases(seed, n=300):
    rng = np.random.default_rng(seed)
    good = ["https://example.com", "http://example.com/", "HTTPS://Example.COM/Path?q=1#top",
            "https://sub.example.co.uk:8443/a/b?c=d&e=f", "http://127.0.0.1:8080/", "https://example.com?x",
            "https://xn--caf-dma.example/menu", "https://example.com/%E2%9C%93", "https://a-b.example/#",
            "https://example.com/" + "a" * 2000]
    bad = ["javascript:alert(1)", "JavaScript://example.com/%0Aalert(1)", "data:text/html;base64,PHNjcmlwdD4=",
           "vbscript:msgbox(1)", "file:///etc/passwd", "ftp://example.com/file", "mailto:a@example.com",
           "//example.com/path", "example.com", "https:/example.com", "https://", "https:///path",
           "https://user:pw@example.com/", "https://example.com@evil.example/", "https://exa mple.com/",
           " https://example.com", "https://example.com/\n", "https://example.com/\x00", "https://café.example/",
           "https://exa_mple.com/", "https://example.com:99999/", "https://example.com:0/",
           "https://example.com:80a/", "https://[::1]/", "https://example.com/" + "a" * 2100, "", "https://ex\tample.com"]
    cases = [{"url": u} for u in good + bad]
    schemes = ["http", "https", "HTTP", "Https", "javascript", "data", "ftp", "file", "ws"]
    hosts = ["example.com", "go.example.org", "10.0.0.1", "bad host.com", "under_score.io", "", "x.example@evil.io",
             "example.com:443", "example.com:70000", "[2001:db8::1]"]
    for _ in range(n):
        url = (f"{schemes[int(rng.integers(0, len(schemes)))]}://{hosts[int(rng.integers(0, len(hosts)))]}"
               f"/{'p' * int(rng.integers(0, 30))}")
        if rng.random() < 0.1:
            url = url + "a" * int(rng.integers(2000, 2100))
        if rng.random() < 0.05:
            url = url.replace("://", ":", 1)
        cases.append({"url": url})
    return cases


# =========================================================================== the store

def store_expected(ops):
    """What ``run_store_ops`` must return for ``ops``, from a dict model of the contract."""
    rows, out = {}, []
    for op in ops:
        kind = op[0]
        if kind == "reopen":
            out.append(None)
        elif kind == "create":
            _, code, url, created, expires = op
            if code is None or url is None or created is None:
                out.append("IntegrityError")  # NOT NULL: a bad row, not a taken code
            elif code in rows:
                out.append("CodeTaken")
            else:
                rows[code] = {"short_code": code, "long_url": url, "created_at": created, "expires_at": expires,
                              "click_count": 0}
                out.append(None)
        elif kind == "get":
            out.append(dict(rows[op[1]]) if op[1] in rows else None)
        elif kind == "resolve":
            row = rows.get(op[1])
            if row is None:
                out.append("LinkNotFound")
            elif row["expires_at"] is not None and op[2] >= row["expires_at"]:
                out.append("LinkExpired")
            else:
                out.append(row["long_url"])
        elif kind == "add_clicks":
            if op[2] < 0:
                out.append("ValueError")
            elif op[1] not in rows:
                out.append("LinkNotFound")
            else:
                rows[op[1]]["click_count"] += op[2]
                out.append(None)
        elif kind == "delete":
            out.append(rows.pop(op[1], None) is not None)
    return out


def store_scripts(seed, n=25, length=60, persistent=False):
    rng = np.random.default_rng(seed)
    scripts = []
    for s in range(n):
        codes = ["".join(rng.choice(list(DIGITS), size=7)) for _ in range(8)] + ["my-alias", "Promo2026"]
        now, ops = 1.7e9 + float(rng.integers(0, 10**6)), []
        for _ in range(length):
            now += float(rng.choice([0.5, 10.0, 3600.0]))
            code = codes[int(rng.integers(0, len(codes)))]
            kind = str(rng.choice(["create", "create", "resolve", "resolve", "get", "add_clicks", "delete", "reopen"]
                                  if persistent else
                                  ["create", "create", "resolve", "resolve", "get", "add_clicks", "delete"]))
            if kind == "create":
                expires = None if rng.random() < 0.5 else now + float(rng.choice([1.0, 60.0, 7200.0]))
                ops.append(["create", code, _url(rng, s * 1000 + len(ops)), now, expires])
            elif kind == "resolve":
                ops.append(["resolve", code, now])
            elif kind == "get":
                ops.append(["get", code])
            elif kind == "add_clicks":
                ops.append(["add_clicks", code, int(rng.choice([0, 1, 5, 1000, -3]))])
            elif kind == "delete":
                ops.append(["delete", code])
            else:
                ops.append(["reopen"])
        scripts.append(ops)
    return scripts


# =========================================================================== cache-aside resolver

def resolver_expected(capacity, ttl, links, ops):
    store = {code: (url, expires) for code, url, _created, expires in links}
    cache: OrderedDict = OrderedDict()
    hits = misses = reads = 0
    out = []
    for op in ops:
        kind = op[0]
        if kind == "resolve":
            code, now = op[1], op[2]
            entry = cache.get(code)
            if entry is not None and now < entry[1]:
                hits += 1
                cache.move_to_end(code)
                out.append(entry[0])
                continue
            cache.pop(code, None)
            misses += 1
            reads += 1
            if code not in store:
                out.append("LinkNotFound")
                continue
            url, expires = store[code]
            if expires is not None and now >= expires:
                out.append("LinkExpired")
                continue
            until = now + ttl if expires is None else min(now + ttl, expires)
            cache[code] = (url, until)
            while len(cache) > capacity:
                cache.popitem(last=False)
            out.append(url)
        elif kind == "delete":
            store.pop(op[1], None)
            cache.pop(op[1], None)
            out.append(None)
        elif kind == "stats":
            out.append({"hits": hits, "misses": misses, "size": len(cache)})
        elif kind == "store_reads":
            out.append(reads)
    return out


def resolver_scenarios(seed, n=12, length=150):
    rng = np.random.default_rng(seed)
    scenarios = []
    for s in range(n):
        now = 1000.0
        k = int(rng.integers(4, 15))
        links = []
        for i in range(k):
            expires = None if rng.random() < 0.6 else now + float(rng.uniform(5, 200))
            links.append([f"c{s}x{i}", _url(rng, i), 0.0, expires])
        codes = [link[0] for link in links] + ["nope1", "nope2"]
        weights = 1.0 / np.arange(1, len(codes) + 1)
        ops = []
        for _ in range(length):
            now += float(rng.choice([0.0, 0.5, 3.0, 20.0]))
            r = rng.random()
            if r < 0.85:
                ops.append(["resolve", codes[int(rng.choice(len(codes), p=weights / weights.sum()))], now])
            elif r < 0.9:
                ops.append(["delete", codes[int(rng.integers(0, len(codes)))]])
            else:
                ops.append(["stats"])
        ops += [["stats"], ["store_reads"]]
        scenarios.append({"capacity": int(rng.integers(1, 6)), "ttl": float(rng.choice([10.0, 60.0, 600.0])),
                          "links": links, "ops": ops})
    return scenarios


# =========================================================================== click counter

def click_counter_expected(codes, ops):
    stored = {c: 0 for c in codes}
    clicked = {c: 0 for c in codes}
    pending: dict = {}
    down, down_codes, flushed = False, set(), []
    for op in ops:
        if op[0] == "click":
            pending[op[1]] = pending.get(op[1], 0) + op[2]
            clicked[op[1]] += op[2]
        elif op[0] in ("down", "up") and len(op) > 1:      # a partial outage: writes of those codes fail
            down_codes = down_codes | set(op[1]) if op[0] == "down" else down_codes - set(op[1])
        elif op[0] in ("down", "up"):
            down, down_codes = op[0] == "down", set()
        elif op[0] == "flush":
            written = 0
            for code in list(pending):
                if not down and code not in down_codes:
                    k = pending.pop(code)
                    stored[code] += k
                    written += k
            flushed.append(written)
    return {"flushed": flushed, "pending": {c: k for c, k in pending.items() if k},
            "stored": dict(sorted(stored.items())), "clicked": dict(sorted(clicked.items()))}


def click_counter_scenarios(seed, n=8, length=40):
    rng = np.random.default_rng(seed)
    out = []
    for s in range(n):
        codes = [f"k{s}{i}" for i in range(int(rng.integers(2, 6)))]
        ops, down = [], False
        for _ in range(length):
            r = rng.random()
            if r < 0.6:
                ops.append(["click", codes[int(rng.integers(0, len(codes)))], int(rng.integers(1, 6))])
            elif r < 0.85:
                ops.append(["flush"])
            else:
                down = not down
                ops.append(["down" if down else "up"])
        ops += [["flush"]] + ([["up"], ["flush"]] if rng.random() < 0.5 else [])
        out.append({"codes": codes, "ops": ops})
    return out


# =========================================================================== analytics

def click_summary(clicks, code, top_n=3):
    import pandas as pd

    if top_n < 1:
        raise ValueError("top_n must be >= 1")
    frame = pd.DataFrame(list(clicks), columns=["clicked_at", "short_code", "visitor_id", "referrer", "country"])
    frame = frame[frame["short_code"] == code]
    referrer = frame["referrer"].where(frame["referrer"].notna() & (frame["referrer"] != ""), "(direct)")
    country = frame["country"].where(frame["country"].notna() & (frame["country"] != ""), "??")
    days = pd.to_datetime(frame["clicked_at"], utc=True).dt.strftime("%Y-%m-%d")
    ref_counts = referrer.value_counts()
    ranked = sorted(ref_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]
    return {"total": int(len(frame)), "unique_visitors": int(frame["visitor_id"].nunique()),
            "by_day": {d: int(k) for d, k in days.value_counts().sort_index().items()},
            "top_referrers": [[r, int(k)] for r, k in ranked],
            "by_country": {c: int(k) for c, k in country.value_counts().sort_index().items()}}


def click_logs(seed, n=4, rows=1500):
    """Hidden click logs: lists of row dicts, missing values as None or "", ties in referrer counts."""
    rng = np.random.default_rng(seed)
    out = []
    for s in range(n):
        codes = ["".join(rng.choice(list(DIGITS), size=7)) for _ in range(5)]
        refs = [None, "", "t.co", "www.google.com", "lobste.rs", "news.ycombinator.com", "a.example"]
        countries = ["US", "DE", "IN", "BR", None, ""]
        start = np.datetime64("2026-12-30T00:00:00") + np.timedelta64(int(rng.integers(0, 3600)), "s")
        log = []
        for _ in range(rows):
            t = start + np.timedelta64(int(rng.integers(0, 6 * 86400)), "s")
            log.append({"clicked_at": f"{str(t)}Z", "short_code": codes[int(rng.choice(5, p=[.4, .3, .15, .1, .05]))],
                        "visitor_id": f"v{int(rng.integers(0, 400)):04d}",
                        "referrer": refs[int(rng.integers(0, len(refs)))],
                        "country": countries[int(rng.integers(0, len(countries)))]})
        out.append({"clicks": log, "codes": codes + ["absent0"], "top_n": int(rng.integers(1, 8))})
    return out


# =========================================================================== capacity

def capacity_plan(urls_per_month, read_write_ratio, peak_factor, cache_hit_ratio, rps_per_server, hot_days,
                  bytes_per_cache_entry, target_utilisation=0.7, spares=1):
    if (urls_per_month <= 0 or read_write_ratio <= 0 or peak_factor < 1 or not 0 <= cache_hit_ratio <= 1
            or rps_per_server <= 0 or hot_days < 0 or bytes_per_cache_entry <= 0
            or not 0 < target_utilisation <= 1 or spares < 0):
        raise ValueError("invalid capacity parameters")
    peak = urls_per_month / (30 * 86_400) * read_write_ratio * peak_factor
    return {"peak_redirects_per_s": peak,
            "servers": math.ceil(peak / (rps_per_server * target_utilisation)) + spares,
            "db_reads_per_s": peak * (1 - cache_hit_ratio),
            "cache_bytes": urls_per_month / 30 * hot_days * bytes_per_cache_entry}


def capacity_plan_cases(seed, n=200):
    """Random plans, skipping those within 3% of a whole number of servers (a 30.44-day month may differ)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        case = {"urls_per_month": float(10 ** rng.uniform(5, 10)), "read_write_ratio": int(rng.integers(1, 500)),
                "peak_factor": round(float(rng.uniform(1, 5)), 2), "cache_hit_ratio": round(float(rng.uniform(0, 1)), 3),
                "rps_per_server": float(rng.choice([200, 500, 1000, 2500])), "hot_days": int(rng.integers(0, 60)),
                "bytes_per_cache_entry": int(rng.integers(100, 2000)),
                "target_utilisation": round(float(rng.uniform(0.3, 1.0)), 2), "spares": int(rng.integers(0, 3))}
        peak = case["urls_per_month"] / (30 * 86_400) * case["read_write_ratio"] * case["peak_factor"]
        ratio = peak / (case["rps_per_server"] * case["target_utilisation"])
        if abs(ratio - round(ratio)) > 0.03 * max(1.0, ratio):
            cases.append(case)
    base = {"urls_per_month": 1e8, "read_write_ratio": 100, "peak_factor": 3, "cache_hit_ratio": 0.95,
            "rps_per_server": 1000, "hot_days": 30, "bytes_per_cache_entry": 500}
    return cases + [dict(base, cache_hit_ratio=95), dict(base, peak_factor=0.5), dict(base, rps_per_server=0),
                    dict(base, target_utilisation=0)]


def judge_capacity(expected):
    """Numbers within REL_TOL, servers exact."""
    def judge(got):
        if type(got) is not dict or set(got) != set(expected):
            return f"the result must be a dict with the keys {sorted(expected)}"
        if got["servers"] != expected["servers"]:
            return f"servers should be exactly {expected['servers']}, got {got['servers']}"
        for key, value in expected.items():
            if type(got[key]) not in (int, float) or abs(got[key] - value) > REL_TOL * abs(value) + 1e-9:
                return f"{key} should be {value:.6g} (within 2%), got {got[key]!r}"
        return None
    return judge


# =========================================================================== 301 or 302

def judge_redirect(track_clicks, long_url):
    def judge(response):
        if type(response) is not dict or set(response) != {"status", "location", "reason"}:
            return "the result must be a dict with exactly the keys 'status', 'location' and 'reason'"
        if response["location"] != long_url:
            return "location must be the long URL, unchanged"
        if track_clicks:
            if response["status"] not in (302, 307):
                return ("while clicks are counted the redirect must be temporary (302 or 307): a permanent one is "
                        "cached by browsers and later clicks never reach the shortener")
            if response["reason"] != "permanent_is_cached":
                return f"the reason {response['reason']!r} is not why a temporary redirect is needed here"
        else:
            if response["status"] not in (301, 308):
                return "with nothing to count, a permanent redirect (301 or 308) saves every repeat request"
            if response["reason"] != "saves_requests":
                return f"the reason {response['reason']!r} is not why a permanent redirect is right here"
        return None
    return judge


# =========================================================================== contracts (issue 17)
# One contract per graded function or class. Classes are checked through their course drivers
# (``course.shortener``): the contract's reference is the reference model of that driver, and the
# test cell supplies the learner's class. Random cases cover the whole stated domain; each stated
# rule has cases at, just inside and just outside its boundary.

from autograde.contracts import OMIT, Contract, Rule, at_least, boundary, edge, greater_than, log_uniform  # noqa: E402


def _any_int(rng, low_bits=1, high_bits=128):
    bits = int(rng.integers(low_bits, high_bits + 1))
    value = 0
    while bits > 0:
        chunk = min(62, bits)
        value = (value << chunk) | int(rng.integers(0, 2 ** chunk))
        bits -= chunk
    return value


def _code(rng, size):
    return "".join(rng.choice(list(DIGITS), size=size))


# ---------------------------------------------------------------- base 62

def _encode_draw(rng):
    return {"n": int(rng.integers(0, 62)) if rng.random() < 0.1 else _any_int(rng)}


def _decode_draw(rng):
    code = _code(rng, int(rng.integers(1, 23)))
    if rng.random() < 0.1:
        code = "0" * int(rng.integers(1, 4)) + code
    return {"code": code}


# ---------------------------------------------------------------- counter codes

def counter_codes_expected(cls, secret, blocks, probes=(), length=None, decode_at_most=24):
    """What ``course.shortener.counter_codes_run`` returns for a correct ``CounterCodes``."""
    size = 7 if length is None else length
    if type(size) is not int or size < 1:
        raise ValueError("length must be >= 1")
    space, issued = 62 ** size, 0
    for k in blocks:
        if k < 0 or issued + k > space:
            raise ValueError("k < 0, or fewer than k ids left")
        issued += k
    answers = ["an id" if type(p) is str and len(p) == size and p and all(ch in VALUE for ch in p)
               else "ValueError" for p in probes]
    return {"issued": issued, "distinct": issued, "bad_length": 0, "bad_chars": 0, "decoded_wrong": [],
            "probes": answers}


def _probes(rng, size):
    out = []
    for _ in range(int(rng.integers(1, 5))):
        kind = int(rng.integers(0, 5))
        if kind == 0:
            out.append(_code(rng, size))                                       # a valid code: an id
        elif kind == 1:
            out.append(_code(rng, max(0, size + int(rng.choice([-1, 1])))))    # one character short or long
        elif kind == 2:
            text = list(_code(rng, size))
            text[int(rng.integers(0, size))] = str(rng.choice(["-", " ", "_", "é", "/", "+"]))
            out.append("".join(text))                                          # a character outside ALPHABET
        elif kind == 3:
            out.append(_code(rng, size + int(rng.integers(2, 6))))
        else:
            out.append("")
    return out


def _counter_draw(rng):
    size = int(rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 10]))
    space = 62 ** size
    total = int(rng.integers(0, min(space, 400) + 1))
    if size == 1 and rng.random() < 0.3:
        total = space                                                          # the whole space, exactly
    cuts = sorted(int(c) for c in rng.integers(0, total + 1, size=int(rng.integers(0, 4))))
    blocks = [b - a for a, b in zip([0] + cuts, cuts + [total])]
    secret = int(rng.integers(0, 2 ** 62)) if rng.random() < 0.8 else f"secret-{int(rng.integers(0, 10**6))}"
    return {"secret": secret, "length": size, "blocks": blocks, "probes": _probes(rng, size)}


# ---------------------------------------------------------------- hash codes

def _hash_draw(rng):
    return {"long_url": _url(rng, int(rng.integers(0, 10**6))), "attempt": int(rng.integers(0, 3)) if rng.random() < 0.5
            else int(rng.integers(0, 10**4)), "length": int(rng.integers(1, 16))}


def _padded_example():
    """A URL whose 5-character code starts with "0" (its hash mod 62^5 is below 62^4): padding shows."""
    i = 0
    while hash_code(f"https://example.com/p{i}", 0, 5)[0] != "0":
        i += 1
    return f"https://example.com/p{i}"


PADDED_URL = _padded_example()
_U = "https://example.com/a?b=c"
_C = [hash_code(_U, a, 7) for a in range(11)]
_OTHER = "https://other.example/"


def _pick_draw(rng):
    length = int(rng.choice([1, 1, 2, 2, 3]))
    space = 62 ** length
    fill = float(rng.uniform(0, 0.97)) if length < 3 else 0.0
    taken, seed = {}, int(rng.integers(0, 10**9))
    for j in range(int(space * fill)):
        url = f"https://fill.example/{seed}/{j}"
        taken.setdefault(hash_code(url, 0, length), url)
    stored = list(taken.values())
    long_url = stored[int(rng.integers(0, len(stored)))] if stored and rng.random() < 0.3 else \
        _url(rng, int(rng.integers(0, 10**6)))
    if length == 3:      # a few planted collisions on the URL's own attempts
        for a in range(int(rng.integers(0, 5))):
            taken[hash_code(long_url, a, 3)] = _OTHER
    return {"long_url": long_url, "taken": taken, "length": length, "max_attempts": int(rng.integers(1, 13))}


def _pick(taken, max_attempts):
    return {"long_url": _U, "taken": taken, "length": 7, "max_attempts": max_attempts}


# ---------------------------------------------------------------- URL validation

_GOOD_HOSTS = ["example.com", "go.example.org", "10.0.0.1", "a", "xn--caf-dma.example", "a-b.c-d.example",
               "EXAMPLE.COM", "localhost"]
_PATH_CHARS = list("abcXYZ019-._~!$&'()*+,;=:@%/")


def _url_draw(rng):
    scheme = str(rng.choice(["http", "https", "HTTP", "Https", "hTTPs"]))
    host = str(rng.choice(_GOOD_HOSTS))
    port = ""
    if rng.random() < 0.3:
        port = ":" + str(rng.choice([str(int(rng.integers(1, 65536))), "080", "1", "65535", "443"]))
    path = "/" + "".join(rng.choice(_PATH_CHARS, size=int(rng.integers(0, 40)))) if rng.random() < 0.8 else ""
    query = "?" + "".join(rng.choice(_PATH_CHARS + ["?"], size=int(rng.integers(0, 20)))) if rng.random() < 0.3 else ""
    frag = "#" + "".join(rng.choice(_PATH_CHARS + ["#", "?"], size=int(rng.integers(0, 10)))) if rng.random() < 0.2 else ""
    url = f"{scheme}://{host}{port}{path}{query}{frag}"
    if rng.random() < 0.1:
        url = url + "a" * int(rng.integers(0, max(1, 2100 - len(url))))
    if rng.random() < 0.15:     # one character made unacceptable (valid cases come from the rest)
        bad = str(rng.choice([" ", "\t", "\n", "\x00", "\x7f", "\x80", "é", "☕", "\u200b"]))
        at = int(rng.integers(0, len(url) + 1))
        url = url[:at] + bad + url[at:]
    return {"url": url}


def _v(url):
    return {"url": url}


# ---------------------------------------------------------------- schema

REFERENCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    short_code  TEXT NOT NULL PRIMARY KEY,
    long_url    TEXT NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL,
    click_count INTEGER NOT NULL DEFAULT 0
);
"""


def schema_expected(schema_fn, rows, repeat=1):
    """``course.shortener.schema_behaviour`` of a correct schema (the reference's)."""
    from course.shortener import schema_behaviour

    return schema_behaviour(lambda: REFERENCE_SCHEMA, rows, repeat)


def _schema_draw(rng):
    codes = [_code(rng, 7) for _ in range(4)] + ["Promo", "promo", "my-alias", "é-code"]
    rows = []
    for _ in range(int(rng.integers(0, 14))):
        r = rng.random()
        code = None if r < 0.07 else codes[int(rng.integers(0, len(codes)))]
        url = None if 0.07 <= r < 0.14 else _url(rng, len(rows))
        created = None if 0.14 <= r < 0.18 else 1.7e9 + float(rng.integers(0, 10**6)) + 0.5
        row = [code, url, created]
        if rng.random() < 0.5:
            row.append(None if rng.random() < 0.5 else created + 3600.0 if created else 1.7e9)
        rows.append(row)
    return {"rows": rows, "repeat": int(rng.integers(1, 4))}


# ---------------------------------------------------------------- link store

def link_store_expected(cls, ops, persistent=False):
    return store_expected(ops)


def _store_draw(rng):
    persistent = bool(rng.random() < 0.15)
    return {"ops": store_scripts(int(rng.integers(0, 2 ** 31)), n=1, length=int(rng.integers(1, 50)),
                                 persistent=persistent)[0], "persistent": persistent}


def _ops(*ops):
    return {"ops": [list(op) for op in ops], "persistent": False}


# ---------------------------------------------------------------- cached resolver

def resolver_model(resolver_cls, store_cls, capacity, ttl, links, ops):
    return resolver_expected(capacity, ttl, links, ops)


def _resolver_draw(rng):
    s = resolver_scenarios(int(rng.integers(0, 2 ** 31)), n=1, length=int(rng.integers(1, 120)))[0]
    s["capacity"] = int(rng.choice([1, 2, 3, 5, 8, 20]))
    s["ttl"] = round(log_uniform(rng, 0.5, 1000), 3)
    return s


_L2 = [["a", "https://a.example/", 0.0, None], ["b", "https://b.example/", 0.0, 100.0],
       ["c", "https://c.example/", 0.0, None]]


def _scene(capacity, ttl, *ops):
    return {"capacity": capacity, "ttl": ttl, "links": _L2, "ops": [list(op) for op in ops] + [["stats"], ["store_reads"]]}


# ---------------------------------------------------------------- redirect

def redirect_expected(redirect_fn, long_url, track_clicks):
    if track_clicks:
        return {"kind": "temporary", "location": long_url, "reason": "permanent_is_cached"}
    return {"kind": "permanent", "location": long_url, "reason": "saves_requests"}


# ---------------------------------------------------------------- click counter

def click_counter_model(counter_cls, store_cls, codes, ops):
    return click_counter_expected(codes, ops)


def _clicks_draw(rng):
    codes = [f"k{i}" for i in range(int(rng.integers(1, 9)))]
    ops, length = [], int(rng.integers(1, 60))
    for _ in range(length):
        r = rng.random()
        if r < 0.55:
            ops.append(["click", codes[int(rng.integers(0, len(codes)))], int(rng.integers(1, 6))])
        elif r < 0.8:
            ops.append(["flush"])
        elif r < 0.9:
            ops.append([str(rng.choice(["down", "up"]))])
        else:
            some = sorted(set(str(c) for c in rng.choice(codes, size=int(rng.integers(1, len(codes) + 1)))))
            ops.append([str(rng.choice(["down", "up"])), some])
    ops.append(["flush"])
    return {"codes": codes, "ops": ops}


# ---------------------------------------------------------------- click summary

_REFS = [None, "", float("nan"), "t.co", "T.co", "www.google.com", "lobste.rs", "bücher.example", "a.example"]
_COUNTRIES = ["US", "DE", "IN", "BR", None, "", float("nan"), "us"]


def _summary_draw(rng):
    codes = [_code(rng, 7) for _ in range(int(rng.integers(1, 6)))]
    weights = rng.dirichlet(np.ones(len(codes)))
    start = np.datetime64("2026-12-30T00:00:00") + np.timedelta64(int(rng.integers(0, 86400)), "s")
    visitors = int(rng.integers(1, 300))
    clicks = []
    for _ in range(int(rng.integers(0, 250)) if rng.random() < 0.9 else int(rng.integers(0, 12))):
        t = start + np.timedelta64(int(rng.integers(0, int(rng.choice([3600, 86400, 10 * 86400])))), "s")
        clicks.append({"clicked_at": f"{t}Z", "short_code": codes[int(rng.choice(len(codes), p=weights))],
                       "visitor_id": f"v{int(rng.integers(0, visitors))}",
                       "referrer": _REFS[int(rng.integers(0, len(_REFS)))],
                       "country": _COUNTRIES[int(rng.integers(0, len(_COUNTRIES)))]})
    code = codes[0] if rng.random() < 0.7 else str(rng.choice(codes + ["absent0"]))
    return {"clicks": clicks, "code": code, "top_n": int(rng.integers(1, 11))}


def _row(t, code="x", visitor="v1", referrer="t.co", country="US"):
    return {"clicked_at": t, "short_code": code, "visitor_id": visitor, "referrer": referrer, "country": country}


_TIES = [_row("2026-11-02T10:00:00Z", referrer=r) for r in ("b.example", "a.example", "c.example", "b.example",
                                                            None, "a.example")]


# ---------------------------------------------------------------- capacity

def _servers_ratio(case):
    peak = case["urls_per_month"] / (30 * 86_400) * case["read_write_ratio"] * case["peak_factor"]
    return peak / (case["rps_per_server"] * case.get("target_utilisation", 0.7))


def _capacity_unambiguous(case):
    """Random cases where a 30.44-day month gives the same servers and the load is not exactly whole
    (where rounding up differs from int() + 1); the rules' own cases (rps_per_server 1250, never drawn)
    test that edge on purpose."""
    if case.get("rps_per_server") == 1250:
        return True
    try:
        ratio = _servers_ratio(case)
    except (ZeroDivisionError, TypeError):
        return True
    return math.ceil(ratio) == math.ceil(ratio * 30 / 30.44) and ratio != round(ratio)


def _capacity_draw(rng):
    return {"urls_per_month": round(log_uniform(rng, 1e3, 1e11)), "read_write_ratio": round(log_uniform(rng, 0.1, 1e3), 2),
            "peak_factor": 1.0 if rng.random() < 0.15 else round(float(rng.uniform(1, 10)), 2),
            "cache_hit_ratio": float(rng.choice([0.0, 1.0])) if rng.random() < 0.15 else round(float(rng.uniform(0, 1)), 3),
            "rps_per_server": float(rng.choice([50, 200, 500, 1000, 2500, 10_000])),
            "hot_days": int(rng.integers(0, 400)), "bytes_per_cache_entry": int(rng.integers(1, 5000)),
            "target_utilisation": round(float(rng.uniform(0.05, 1.0)), 2), "spares": int(rng.integers(0, 5))}


# exactly 10 servers' worth of 625 redirects/s each (1,250 at 50%) with a 30-day month; every number here is
# exact in binary floating point, so any order of the divisions gives 10.0
_EXACT = {"urls_per_month": 162_000_000, "read_write_ratio": 100, "peak_factor": 1.0, "rps_per_server": 1250,
          "target_utilisation": 0.5, "spares": 1}


# ---------------------------------------------------------------- the table

CONTRACTS = {c.name: c for c in [
    Contract(
        "base62_encode", base62_encode, draw=_encode_draw,
        domain="whole numbers from 0 to 2^128",
        rules=[at_least("n", 0, says="`n` >= 0, else `ValueError`"),
               Rule("`n` is an `int` (a float such as `7.0`, a bool or a string of digits is refused), else `ValueError`",
                    at=[{"n": 7}], inside=[{"n": 2 ** 70}], outside=[{"n": 7.0}, {"n": True}, {"n": "7"}]),
               boundary("a second digit starts at 62: 61 is `\"z\"`, 62 is `\"10\"`",
                        at={"n": 62}, inside={"n": 61}, outside={"n": 63}),
               boundary("an eighth digit starts at 62^7", at={"n": 62 ** 7}, inside={"n": 62 ** 7 - 1},
                        outside={"n": 62 ** 7 + 1}),
               edge("`0` is `\"0\"`", {"n": 0}),
               edge("numbers far beyond 64 bits", {"n": 2 ** 64}, {"n": 2 ** 128 + 12345})]),
    Contract(
        "base62_decode", base62_decode, draw=_decode_draw,
        domain="codes of 1 to 25 characters from all of `ALPHABET`, some with leading zeros",
        rules=[Rule("`code` is a non-empty `str` of `ALPHABET` characters, else `ValueError`",
                    at=[{"code": "0"}], inside=[{"code": "z"}, {"code": "Zz9"}],
                    outside=[{"code": ""}, {"code": "ab-c"}, {"code": "a b"}, {"code": "é"}, {"code": "ab/"},
                             {"code": "abc\n"}]),
               edge("leading zeros are allowed: `\"007\"` is 7", {"code": "007"}, {"code": "0000"}),
               edge("letter case matters: `\"A\"` is 10, `\"a\"` is 36", {"code": "A"}, {"code": "a"}),
               edge("codes far beyond 64 bits", {"code": "z" * 30})]),
    Contract(
        "CounterCodes", counter_codes_expected, draw=_counter_draw, supplied=("cls",),
        domain="lengths 1 to 10, integer and string secrets, 0 to 400 codes in 1 to 4 calls of `next_codes`, "
               "all 62 codes of length 1, decoded by a second instance with the same secret",
        rules=[Rule("`length` >= 1, else `ValueError` from the constructor",
                    at={"length": 1, "blocks": [2, 3]}, inside={"length": 2, "blocks": [10]},
                    outside=[{"length": 0, "blocks": [1]}, {"length": -1, "blocks": [0]}]),
               Rule("`next_codes(k)` needs `k` >= 0 and at least `k` ids left, else `ValueError`",
                    at=[{"length": 1, "blocks": [62]}, {"length": 2, "blocks": [0]}, {"length": 1, "blocks": [40, 22]}],
                    inside=[{"length": 1, "blocks": [61]}, {"length": 1, "blocks": [1, 60]}],
                    outside=[{"length": 1, "blocks": [63]}, {"length": 1, "blocks": [40, 23]},
                             {"length": 1, "blocks": [62, 1]}, {"length": 3, "blocks": [-1]}]),
               edge("`decode` refuses a code of another length or with a character outside `ALPHABET`: `ValueError`",
                    {"length": 2, "blocks": [3], "probes": ["", "a", "abc", "a-", "a b", "é", "zz"]}),
               edge("`length` defaults to 7", {"length": OMIT, "blocks": [5, 5], "probes": ["abcdefg", "abcdef"]})]),
    Contract(
        "hash_code", hash_code, draw=_hash_draw,
        domain="URLs with non-ASCII paths, attempts 0 to 10,000, lengths 1 to 15 (62^15 is far beyond 64 bits)",
        rules=[at_least("length", 1), at_least("attempt", 0),
               edge("a code is left-padded with `\"0\"` to exactly `length` characters",
                    {"long_url": PADDED_URL, "attempt": 0, "length": 5}),
               edge("the URL is hashed as UTF-8", {"long_url": "https://example.com/café/☕"}),
               edge("`attempt` and `length` default to 0 and 7", {"attempt": OMIT, "length": OMIT})]),
    Contract(
        "pick_code", pick_code, draw=_pick_draw, errors=(ValueError, TypeError, RuntimeError),
        domain="codes of 1 to 3 characters in tables 0% to 97% full, some URLs already stored, 1 to 12 attempts",
        rules=[Rule("`max_attempts` >= 1, else `ValueError`", at=_pick({}, 1), inside=_pick({_C[0]: _OTHER}, 2),
                    outside=[_pick({}, 0), _pick({}, -1)]),
               Rule("when all `max_attempts` attempts collide with other URLs, `RuntimeError`",
                    at=[_pick({_C[0]: _OTHER, _C[1]: _OTHER}, 3)], inside=[_pick({_C[0]: _OTHER}, 3)],
                    outside=[_pick({_C[0]: _OTHER, _C[1]: _OTHER, _C[2]: _OTHER}, 3),
                             _pick({_C[0]: _OTHER}, 1)], raises=RuntimeError),
               edge("a code that already belongs to `long_url` comes back", _pick({_C[0]: _U}, 10),
                    _pick({_C[0]: _OTHER, _C[1]: _U}, 10)),
               edge("codes that differ only in letter case are different codes",
                    _pick({_C[0].swapcase(): _OTHER}, 1)),
               edge("`length` and `max_attempts` default to 7 and 10: the tenth attempt is the last",
                    {"long_url": _U, "taken": {c: _OTHER for c in _C[:9]}, "length": OMIT, "max_attempts": OMIT},
                    {"long_url": _U, "taken": {c: _OTHER for c in _C[:10]}, "length": OMIT, "max_attempts": OMIT})]),
    Contract(
        "validate_url", validate_url, draw=_url_draw,
        domain="http(s) URLs in any letter case with hosts, ports, paths, queries and fragments drawn from every "
               "allowed character, some longer than 2,048 characters, some with one refused character",
        rules=[Rule("a `str`, else `InvalidURL`",
                    at=_v("https://example.com/"), inside=_v("http://a/"),
                    outside=[_v(None), _v(42), _v(["https://example.com/"]), _v(2048.0)]),
               Rule("at most 2,048 characters, else `InvalidURL`",
                    at=_v("https://example.com/" + "a" * 2028), inside=_v("https://example.com/" + "a" * 2027),
                    outside=_v("https://example.com/" + "a" * 2029)),
               Rule("only code points 33 (`!`) to 126 (`~`), else `InvalidURL`",
                    at=[_v("https://example.com/!"), _v("https://example.com/~")], inside=_v("https://example.com/\"}"),
                    outside=[_v("https://example.com/ "), _v("https://example.com/\x7f"), _v("https://example.com/\x80"),
                             _v("https://example.com/é"), _v("https://exa\tmple.com/"), _v("https://example.com/\x00"),
                             _v("https://example.com/\u200b")]),
               Rule("the scheme is `http` or `https` in any letter case, followed by `://`, else `InvalidURL`",
                    at=[_v("http://example.com/"), _v("https://example.com/")],
                    inside=[_v("HTTP://example.com/"), _v("hTtPs://example.com/")],
                    outside=[_v("javascript:alert(1)"), _v("data:text/html,x"), _v("ftp://example.com/"),
                             _v("httpx://example.com/"), _v("https:/example.com/"), _v("https:example.com"),
                             _v("//example.com/"), _v("example.com"), _v("file:///etc/passwd")]),
               Rule("no `@` in the authority (an `@` in the path or query is fine), else `InvalidURL`",
                    at=_v("https://example.com/@user"), inside=_v("https://example.com/?to=a@b.example"),
                    outside=[_v("https://bank.example@evil.example/"), _v("https://u:p@example.com/"),
                             _v("https://@example.com/")]),
               Rule("a port is 1 to 5 digits worth 1 to 65535 (leading zeros are fine), else `InvalidURL`",
                    at=[_v("https://example.com:1/"), _v("https://example.com:65535/")],
                    inside=[_v("https://example.com:080/"), _v("https://example.com:8080")],
                    outside=[_v("https://example.com:0/"), _v("https://example.com:00/"),
                             _v("https://example.com:65536/"), _v("https://example.com:/"),
                             _v("https://example.com:80a/"), _v("https://example.com:123456/")]),
               Rule("the host is not empty and has only ASCII letters, digits, `-` and `.`, else `InvalidURL`",
                    at=_v("https://a/"), inside=[_v("https://xn--caf-dma.example/"), _v("https://10.0.0.1/")],
                    outside=[_v("https:///path"), _v("https://"), _v("https://exa_mple.com/"), _v("https://[::1]/"),
                             _v("https://ex!ample.com/")]),
               edge("a query or fragment may follow the host directly",
                    _v("https://example.com?x"), _v("https://example.com#top"))]),
    Contract(
        "schema_sql", schema_expected, draw=_schema_draw, supplied=("schema_fn",),
        domain="0 to 13 inserts naming short_code, long_url, created_at and sometimes expires_at, with duplicate "
               "codes, codes differing only in case, and NULLs; the script run 1 to 3 times",
        rules=[edge("the script can run again on the same database", {"rows": [], "repeat": 3}),
               edge("`short_code` is unique, and codes that differ only in letter case are different codes",
                    {"rows": [["Promo", "https://a.example/", 1.0], ["promo", "https://b.example/", 2.0],
                              ["Promo", "https://c.example/", 3.0]]}),
               edge("`short_code`, `long_url` and `created_at` refuse NULL (in SQLite a `TEXT PRIMARY KEY` alone "
                    "does not)",
                    {"rows": [[None, "https://a.example/", 1.0], [None, "https://b.example/", 2.0],
                              ["a", None, 1.0], ["b", "https://b.example/", None]]}),
               edge("`expires_at` is NULL unless given, `click_count` starts at 0",
                    {"rows": [["a", "https://a.example/", 1.0], ["b", "https://b.example/", 1.0, 5.0]]})]),
    Contract(
        "LinkStore", link_store_expected, draw=_store_draw, supplied=("cls",),
        domain="scripts of 1 to 50 operations on 10 codes (7 random ones, `my-alias`, `Promo2026`), times a "
               "second to hours apart, some on a file reopened between operations",
        rules=[boundary("a link with `expires_at` is expired from `now >= expires_at` on",
                        at=_ops(["create", "c", "https://a.example/", 100.0, 200.0], ["resolve", "c", 200.0]),
                        inside=_ops(["create", "c", "https://a.example/", 100.0, 200.0], ["resolve", "c", 199.999]),
                        outside=_ops(["create", "c", "https://a.example/", 100.0, 200.0], ["resolve", "c", 200.001])),
               boundary("`add_clicks(code, n)` with `n` < 0 gives `ValueError`, checked before `LinkNotFound`",
                        at=_ops(["create", "c", "https://a.example/", 1.0, None], ["add_clicks", "c", 0],
                                ["add_clicks", "nope", 0], ["get", "c"]),
                        inside=_ops(["create", "c", "https://a.example/", 1.0, None], ["add_clicks", "c", 1],
                                    ["get", "c"]),
                        outside=_ops(["create", "c", "https://a.example/", 1.0, None], ["add_clicks", "c", -1],
                                     ["add_clicks", "nope", -1], ["get", "c"])),
               edge("`CodeTaken` even when the link with that code has expired",
                    _ops(["create", "c", "https://a.example/", 1.0, 2.0], ["resolve", "c", 3.0],
                         ["create", "c", "https://b.example/", 3.0, None], ["get", "c"])),
               edge("a `NOT NULL` failure is not a taken code: it stays `sqlite3.IntegrityError`",
                    _ops(["create", "c", None, 1.0, None], ["create", "c", "https://a.example/", 1.0, None],
                         ["get", "c"]),
                    _ops(["create", "d", "https://a.example/", None, None], ["resolve", "d", 2.0])),
               edge("codes that differ only in letter case are different links",
                    _ops(["create", "Promo", "https://a.example/", 1.0, None],
                         ["create", "promo", "https://b.example/", 1.0, None], ["resolve", "PROMO", 2.0],
                         ["resolve", "promo", 2.0], ["delete", "PROMO"], ["resolve", "Promo", 2.0])),
               edge("`delete` says True once, then False", _ops(["create", "c", "https://a.example/", 1.0, None],
                                                                ["delete", "c"], ["delete", "c"], ["get", "c"],
                                                                ["create", "c", "https://b.example/", 1.0, None])),
               edge("links and click counts survive reopening the file",
                    {"ops": [["create", "k", "https://example.com/k", 1.5, 9.5], ["add_clicks", "k", 4], ["reopen"],
                             ["get", "k"], ["reopen"], ["resolve", "k", 9.5]], "persistent": True})]),
    Contract(
        "CachedResolver", resolver_model, draw=_resolver_draw, supplied=("resolver_cls", "store_cls"),
        domain="2 to 16 links (40% expiring), capacities 1 to 20, TTLs 0.5 s to 1,000 s, 1 to 120 resolves, "
               "deletes and stats",
        rules=[boundary("an entry is a hit while `now` is before its end of validity; at `now + ttl` it is a miss",
                        at=_scene(4, 60.0, ["resolve", "a", 0.0], ["resolve", "a", 60.0]),
                        inside=_scene(4, 60.0, ["resolve", "a", 0.0], ["resolve", "a", 59.999]),
                        outside=_scene(4, 60.0, ["resolve", "a", 0.0], ["resolve", "a", 60.001])),
               boundary("an entry's validity ends at the link's `expires_at` when that comes before `now + ttl`",
                        at=_scene(4, 60.0, ["resolve", "b", 50.0], ["resolve", "b", 100.0]),
                        inside=_scene(4, 60.0, ["resolve", "b", 50.0], ["resolve", "b", 99.999]),
                        outside=_scene(4, 40.0, ["resolve", "b", 50.0], ["resolve", "b", 95.0])),
               boundary("holding more than `capacity` entries evicts the least recently used",
                        at=_scene(2, 600.0, ["resolve", "a", 0.0], ["resolve", "c", 1.0], ["resolve", "a", 2.0],
                                  ["resolve", "c", 3.0]),
                        inside=_scene(3, 600.0, ["resolve", "a", 0.0], ["resolve", "c", 1.0], ["resolve", "a", 2.0]),
                        outside=_scene(2, 600.0, ["resolve", "a", 0.0], ["resolve", "c", 1.0], ["resolve", "b", 1.5],
                                       ["resolve", "a", 2.0], ["resolve", "c", 3.0], ["resolve", "b", 4.0])),
               edge("`capacity` 1 keeps only the last link", _scene(1, 600.0, ["resolve", "a", 0.0],
                                                                    ["resolve", "c", 1.0], ["resolve", "a", 2.0])),
               edge("unknown and expired links are not cached: each try reads the store",
                    _scene(4, 600.0, ["resolve", "zz", 0.0], ["resolve", "zz", 1.0], ["resolve", "b", 100.0],
                           ["resolve", "b", 101.0])),
               edge("a deleted link is forgotten at once", _scene(4, 600.0, ["resolve", "a", 0.0], ["delete", "a"],
                                                                  ["resolve", "a", 1.0]))]),
    Contract(
        "redirect_response", redirect_expected, draw=lambda rng: {"long_url": _url(rng, int(rng.integers(0, 10**6))),
                                                                  "track_clicks": bool(rng.random() < 0.5)},
        supplied=("redirect_fn",),
        domain="URLs with paths, queries and non-ASCII characters; clicks counted or not",
        rules=[edge("while clicks are counted: a temporary redirect (302 or 307), because a permanent one is cached",
                    {"track_clicks": True}),
               edge("with nothing to count: a permanent redirect (301 or 308), which saves repeat requests",
                    {"track_clicks": False}),
               edge("`location` is the long URL exactly as given",
                    {"long_url": "https://example.com/a%20b?q=1&r=%C3%A9#frag"}, {"long_url": "https://example.com/café"})]),
    Contract(
        "ClickCounter", click_counter_model, draw=_clicks_draw, supplied=("counter_cls", "store_cls"),
        domain="1 to 8 codes, 1 to 60 clicks, flushes and outages of the whole store or of some codes",
        rules=[edge("a flush with nothing pending writes nothing and returns 0", {"codes": ["a"], "ops": [["flush"]]}),
               edge("an outage keeps every pending click for the next flush",
                    {"codes": ["a", "b"], "ops": [["click", "a", 2], ["click", "b", 1], ["down"], ["flush"],
                                                  ["click", "a", 1], ["flush"], ["up"], ["flush"], ["flush"]]}),
               edge("an outage of some codes keeps only theirs; the others are written",
                    {"codes": ["a", "b", "c"], "ops": [["click", "a", 2], ["click", "b", 3], ["click", "c", 1],
                                                       ["down", ["a"]], ["flush"], ["click", "b", 1], ["up", ["a"]],
                                                       ["down", ["c"]], ["flush"], ["up"], ["flush"]]}),
               edge("`pending()` leaves out codes with nothing pending",
                    {"codes": ["a", "b"], "ops": [["click", "a", 1], ["click", "b", 1], ["down", ["b"]], ["flush"]]})]),
    Contract(
        "click_summary", click_summary, draw=_summary_draw,
        domain="logs of 0 to 250 clicks on 1 to 5 codes over an hour to ten days, up to 300 visitors, missing "
               "values as None, NaN or \"\", referrers differing only in case, `top_n` 1 to 10",
        rules=[at_least("top_n", 1),
               edge("an empty log, or a code with no clicks, gives zeros and empty collections",
                    {"clicks": [], "code": "x"}, {"clicks": [_row("2026-11-02T10:00:00Z", code="y")], "code": "x"}),
               edge("ties among referrers are in alphabetical order, `(direct)` included",
                    {"clicks": _TIES, "code": "x", "top_n": 2}, {"clicks": _TIES, "code": "x", "top_n": 4}),
               edge("days are UTC days: 23:59:59 and 00:00:00 are different days",
                    {"clicks": [_row("2026-12-31T23:59:59Z"), _row("2027-01-01T00:00:00Z", visitor="v2")], "code": "x"}),
               edge("a missing referrer or country may be None, NaN or `\"\"`",
                    {"clicks": [_row("2026-11-02T10:00:00Z", referrer=r, country=c)
                                for r, c in ((None, ""), (float("nan"), None), ("", float("nan")))], "code": "x"}),
               edge("`top_n` larger than the number of referrers lists them all",
                    {"clicks": _TIES, "code": "x", "top_n": 50}),
               edge("`top_n` defaults to 3", {"clicks": _TIES, "code": "x", "top_n": OMIT})]),
    Contract(
        "capacity_plan", capacity_plan, draw=_capacity_draw, accept=_capacity_unambiguous,
        domain="10^3 to 10^11 URLs a month, 0.1 to 1,000 reads per write, peak factors 1 to 10, hit ratios 0 to 1, "
               "servers of 50 to 10,000 redirects/s at 5% to 100%, 0 to 4 spares; random cases avoid loads just above a "
               "whole number of servers, and the rules test that edge",
        rules=[greater_than("urls_per_month", 0, step=0.5), greater_than("read_write_ratio", 0, step=0.01),
               at_least("peak_factor", 1, step=0.01),
               Rule("`cache_hit_ratio` is a fraction in [0, 1] (95 for 95% is refused), else `ValueError`",
                    at=[{"cache_hit_ratio": 0.0}, {"cache_hit_ratio": 1.0}],
                    inside=[{"cache_hit_ratio": 0.001}, {"cache_hit_ratio": 0.999}],
                    outside=[{"cache_hit_ratio": -0.001}, {"cache_hit_ratio": 1.001}, {"cache_hit_ratio": 95}]),
               greater_than("rps_per_server", 0, step=0.5), at_least("hot_days", 0),
               greater_than("bytes_per_cache_entry", 0, step=1),
               greater_than("target_utilisation", 0, step=0.01),
               Rule("`target_utilisation` <= 1, else `ValueError`", at={"target_utilisation": 1.0},
                    inside={"target_utilisation": 0.99}, outside={"target_utilisation": 1.01}),
               at_least("spares", 0),
               boundary("a peak that needs exactly k servers gets k (plus spares); a month is 30 days (a 30.44-day month is "
                        "1.5% off, inside the 2% for the numbers, but it changes `servers` just above a whole number)",
                        at=dict(_EXACT), inside=dict(_EXACT, urls_per_month=161_000_000),
                        outside=dict(_EXACT, urls_per_month=163_000_000)),
               edge("`target_utilisation` and `spares` default to 0.7 and 1",
                    {"target_utilisation": OMIT, "spares": OMIT})]),
]}
