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
            if code in rows:
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
    down, flushed = False, []
    for op in ops:
        if op[0] == "click":
            pending[op[1]] = pending.get(op[1], 0) + op[2]
            clicked[op[1]] += op[2]
        elif op[0] in ("down", "up"):
            down = op[0] == "down"
        elif op[0] == "flush":
            if down:
                flushed.append(0)
            else:
                flushed.append(sum(pending.values()))
                for code, k in pending.items():
                    stored[code] += k
                pending = {}
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
