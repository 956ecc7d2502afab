"""Module 13: typical security mistakes lose exactly the points they should; a differently written correct
solution scores full marks; failure messages state input, expected, got and replay."""

from __future__ import annotations

import pytest
from submissions import (Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly,
                         assert_release_answer_cells_define_their_names)

ASSIGNMENT = "13-security"

EVALUATE, LEAST, SIGNING, STREAM = ("correct_evaluate", "correct_least_privilege", "correct_signing",
                                    "correct_verify_stream")
JWT, HASH, VERIFY, LOGIN, AUDIT = ("correct_verify_jwt", "correct_hash_password", "correct_verify_password",
                                   "correct_login", "correct_audit_log")
VAULT = "correct_vault"

_SIGNATURE_BLOCK = '''    if header.get("alg") not in ("HS256", "EdDSA"):
        return {"valid": False, "rule": "alg"}
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        return {"valid": False, "rule": "kid"}
    key = keys[kid]
    if key["alg"] != header["alg"]:                 # the key decides the algorithm, never the token
        return {"valid": False, "rule": "alg"}
'''

MUTANTS = {
    # ---------------------------------------------------------------- policy evaluation
    "deny_does_not_override_allow": Mutant(
        "evaluate", 'if st["Effect"] == "Deny":',
        'if st["Effect"] == "Deny" and not (allowed["identity"] or allowed["resource"]):',
        frozenset({EVALUATE}), "a deny counts only when nothing allowed before it: deny must win wherever it is"),
    "wildcard_crosses_colon": Mutant(
        "evaluate", 'many, one = (".*", ".") if crosses_colon else ("[^:]*", "[^:]")', 'many, one = (".*", ".")',
        frozenset({EVALUATE}), "`*` in a Resource matches across `:`, so `arn:aws:s3:*` matches every bucket"),
    "boundary_is_a_grant": Mutant(
        "evaluate", 'return "Allow" if allowed["identity"] or allowed["resource"] else "ImplicitDeny"',
        'return "Allow" if allowed["identity"] or allowed["resource"] or allowed["boundary"] else "ImplicitDeny"',
        frozenset({EVALUATE}), "a permissions boundary treated as a grant instead of a ceiling"),
    "missing_context_key_is_true": Mutant(
        "evaluate", "if key not in context or not any(", "if key in context and not any(",
        frozenset({EVALUATE}), "a condition on a key the request lacks is skipped (treated as true)"),
    "date_less_than_inclusive": Mutant(
        "evaluate", "return datetime.fromisoformat(str(have)) < datetime.fromisoformat(str(want))",
        "return datetime.fromisoformat(str(have)) <= datetime.fromisoformat(str(want))",
        frozenset({EVALUATE}), "DateLessThan taken as 'at or before' (only hidden cases sit on the boundary)"),
    # ---------------------------------------------------------------- least privilege
    "denied_calls_granted": Mutant(
        "least_privilege", 'if call["allowed"]:', "if True:",
        frozenset({LEAST}), "calls the log shows as refused are granted too"),
    "action_case_kept": Mutant(
        "least_privilege", 'add(call["action"].lower())', 'add(call["action"])',
        frozenset({LEAST}), "action names kept in their logged case: `S3:GetObject` and `s3:GetObject` twice"),
    # ---------------------------------------------------------------- signed requests
    "query_not_sorted": Mutant(
        "signing", 'sorted((encode(n), encode(v)) for n, v in request.get("query", []))',
        '[(encode(n), encode(v)) for n, v in request.get("query", [])]',
        frozenset({SIGNING, STREAM}), "query parameters kept in arrival order: a reordered query fails to verify"),
    "slash_not_encoded": Mutant(
        "signing", 'urllib.parse.quote(str(text), safe="-_.~")', "urllib.parse.quote(str(text))",
        frozenset({SIGNING, STREAM}), "`/` left unencoded in query values (quote's default `safe`)"),
    "signing_key_unscoped": Mutant(
        "signing", 'for part in (amz_date[:8], region, service, "aws4_request"):',
        'for part in (amz_date[:8], "aws4_request"):',
        frozenset({SIGNING, STREAM}), "the signing key not scoped to region and service"),
    "no_replay_cache": Mutant(
        "verify_stream", "elif expected in seen:", "elif False:",
        frozenset({STREAM}), "no replay cache: a captured request is accepted again within the window"),
    "skew_boundary_exclusive": Mutant(
        "verify_stream", 'abs(event["now"] - stamp) > skew', 'abs(event["now"] - stamp) >= skew',
        frozenset({STREAM}), "a request exactly `skew` seconds away refused (only hidden cases sit on it)"),
    # ---------------------------------------------------------------- tokens
    "alg_none_accepted": Mutant(
        "verify_jwt", _SIGNATURE_BLOCK,
        '''    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        return {"valid": False, "rule": "kid"}
    key = keys[kid]
    if header.get("alg", "").lower() == "none":
        key = {"alg": "none"}                      # the token says it needs no signature
    elif header.get("alg") not in ("HS256", "EdDSA") or key["alg"] != header["alg"]:
        return {"valid": False, "rule": "alg"}
''',
        frozenset({JWT}), "`alg: none` trusted: an unsigned token passes"),
    "alg_from_token": Mutant(
        "verify_jwt", '''    if key["alg"] != header["alg"]:                 # the key decides the algorithm, never the token
        return {"valid": False, "rule": "alg"}
    signed = f"{head}.{body}".encode("ascii")
    if key["alg"] == "HS256":
        good = hmac.compare_digest(hmac.new(bytes.fromhex(key["secret"]), signed, hashlib.sha256).digest(), signature)''',
        '''    signed = f"{head}.{body}".encode("ascii")
    material = key.get("secret") or key.get("public")
    key = {"secret": material, "public": material}
    if header["alg"] == "HS256":                   # the token picks the algorithm: confusion
        good = hmac.compare_digest(hmac.new(bytes.fromhex(key["secret"]), signed, hashlib.sha256).digest(), signature)''',
        frozenset({JWT}), "the token's own `alg` picks the verification: an Ed25519 public key used as an HMAC secret"),
    "nbf_ignored": Mutant(
        "verify_jwt", 'if "nbf" in claims and', 'if False and "nbf" in claims and',
        frozenset({JWT}), "`nbf` ignored: a token is accepted before it is valid"),
    "exp_boundary_inclusive": Mutant(
        "verify_jwt", 'now >= claims["exp"] + leeway', 'now > claims["exp"] + leeway',
        frozenset({JWT}), "a token still accepted at exactly exp + leeway (RFC 7519: 'on or after' is expired)"),
    "aud_list_ignored": Mutant(
        "verify_jwt", 'if aud != audience and not (isinstance(aud, list) and audience in aud):',
        "if aud != audience:", frozenset({JWT}), "an `aud` list that contains the audience refused"),
    # ---------------------------------------------------------------- passwords
    "scrypt_long_hash": Mutant(
        "hash_password", "maxmem=256 * 1024 * 1024, dklen=32)", "maxmem=256 * 1024 * 1024, dklen=64)",
        frozenset({HASH}), "a 64-byte hash where the format says 32 bytes"),
    "short_salt_accepted": Mutant(
        "hash_password", "if len(salt_bytes) < 16:", "if len(salt_bytes) < 15:",
        frozenset({HASH}), "a salt one byte short accepted (only hidden cases sit at the boundary)"),
    "mac_compared_with_eq": Mutant(
        "verify_password", "return hmac.compare_digest(got, bytes.fromhex(digest))",
        "return got == bytes.fromhex(digest)",
        frozenset({VERIFY}), "digests compared with `==` (time depends on the first differing byte)"),
    "never_migrates": Mutant(
        "login", '"stored": stored if strong else hash_password(password, new_salt, n=n)', '"stored": stored',
        frozenset({LOGIN}), "old and weak hashes never re-hashed on login"),
    "r_ignored_in_policy": Mutant(
        "login", 'int(parts[1]) >= n and int(parts[2]) >= 8', "int(parts[1]) >= n",
        frozenset({LOGIN}), "a block size below 8 not seen as below the policy (only hidden cases have r < 8)"),
    # ---------------------------------------------------------------- audit log
    "adjacent_links_only": Mutant(
        "audit_log",
        'if entry["index"] != i or entry["prev"] != prev or entry["hash"] != entry_hash(prev, entry["record"]):',
        'if entry["index"] != i or entry["prev"] != prev:',
        frozenset({AUDIT}), "the verifier checks only that adjacent links agree, never recomputes an entry's hash"),
    "checkpoint_signature_ignored": Mutant(
        "audit_log", 'key.verify(bytes.fromhex(cp["signature"]), f"{cp[\'index\']}:{cp[\'hash\']}".encode())', "pass",
        frozenset({AUDIT}), "checkpoints trusted without checking their signature"),
    "keys_not_sorted": Mutant(
        "audit_log", "json.dumps(record, sort_keys=True,", "json.dumps(record,",
        frozenset({AUDIT}), "records hashed in their key order, so the same record hashes two ways"),
    # ---------------------------------------------------------------- envelope encryption
    "gcm_without_associated_data": Mutant(
        "vault", """    return nonce, AESGCM(key).encrypt(nonce, data, associated_data)
    ### END SOLUTION


def _open(key, nonce, ciphertext, associated_data):
    \"\"\"Optional helper: the plaintext, or Tampered if the tag does not verify.\"\"\"
    ### BEGIN SOLUTION
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated_data)""",
        """    return nonce, AESGCM(key).encrypt(nonce, data, None)
    ### END SOLUTION


def _open(key, nonce, ciphertext, associated_data):
    \"\"\"Optional helper: the plaintext, or Tampered if the tag does not verify.\"\"\"
    ### BEGIN SOLUTION
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, None)""",
        frozenset({VAULT}), "AES-GCM without associated data: a record moved to another row decrypts as that row's"),
    "nonce_reused": Mutant(
        "vault", "nonce = os.urandom(12)", 'nonce = b"\\0" * 12',
        frozenset({VAULT}), "one fixed nonce for every encryption under a key"),
    "rotation_does_not_rewrap": Mutant(
        "vault", 'self.table = {user: _seal(new_key, keys[user], user.encode("utf-8")) for user in users}', "pass",
        frozenset({VAULT}), "the master key replaced without re-wrapping the user keys: every old record is lost"),
    "forget_keeps_the_key": Mutant(
        "vault", "return self.table.pop(user, None) is not None", "return user in self.table",
        frozenset({VAULT}), "forget only marks the user: the key stays in the table (and in its backups)"),
}

HIDDEN_ONLY = {"date_less_than_inclusive": (EVALUATE, "seed 1301"), "skew_boundary_exclusive": (STREAM, "seed 1331"),
               "exp_boundary_inclusive": (JWT, "seed 1341"), "short_salt_accepted": (HASH, "seed 1351"),
               "mac_compared_with_eq": (VERIFY, "seed 1352"), "r_ignored_in_policy": (LOGIN, "seed 1353"),
               "checkpoint_signature_ignored": (AUDIT, "seed 1362")}

# A correct solution written differently from ours (for the vault: a key table of dicts, data keys wrapped with
# AES-GCM-SIV's sibling AESGCM through one closure, secrets.token_bytes for nonces, a "gone" marker in the table): fnmatch-style translation by hand and policy decisions
# gathered first; a Counter-free dict of sets; bytes.hex and a sorted-dict canonical request; a generator of
# verdicts with calendar.timegm; JWT checks as a table of (rule, predicate); scrypt through a helper with the
# format parsed by a regex; the audit verifier walking checkpoints by a dict.
ALTERNATIVE = {
    "evaluate": r'''
import fnmatch

def _wildcard_regex(pattern, crosses_colon=False):
    return None

def _matches(patterns, value, is_action):
    return None

def _condition_test(operator, have, want):
    return None

def _glob(pattern, text, colon):
    if pattern == "*" and not colon:
        return True
    out = ""
    for ch in pattern:
        out += ("(?:(?!:).)*" if not colon else "(?s:.*)") if ch == "*" else ("[^:]" if not colon else "(?s:.)") \
            if ch == "?" else re.escape(ch)
    return re.fullmatch(out, text) is not None

def _one(op, have, want):
    if op == "Bool":
        return str(have).lower() == str(want).lower()
    if not isinstance(have, str) and op in ("StringEquals", "StringLike"):
        return False
    if op == "StringEquals":
        return have == str(want)
    if op == "StringLike":
        return _glob(str(want), have, True)
    try:
        if op == "IpAddress":
            return ipaddress.ip_address(str(have)) in ipaddress.ip_network(str(want), strict=False)
        return datetime.fromisoformat(str(have)) < datetime.fromisoformat(str(want))
    except (ValueError, TypeError):
        return False

def evaluate(request, identity_policies, resource_policy=None, boundary=None):
    listed = lambda v: v if isinstance(v, list) else [v]
    policies = [(p, "id") for p in identity_policies] + [(p, kind) for p, kind in
                                                          ((resource_policy, "res"), (boundary, "bnd")) if p is not None]
    for policy, _ in policies:
        for s in policy.get("Statement", []):
            ok = s.get("Effect") in {"Allow", "Deny"} and (("Action" in s) ^ ("NotAction" in s)) and "Resource" in s
            if not ok or any(op not in {"StringEquals", "StringLike", "IpAddress", "DateLessThan", "Bool"}
                             for op in s.get("Condition", {})):
                raise ValueError(s)
    decisions = []
    for policy, kind in policies:
        for s in policy.get("Statement", []):
            act = any(_glob(p.lower(), request["action"].lower(), False) for p in listed(s.get("Action", s.get("NotAction"))))
            if act != ("Action" in s):
                continue
            if not any(_glob(p, request["resource"], False) for p in listed(s["Resource"])):
                continue
            if kind == "res":
                who = s.get("Principal")
                if who != "*" and request["principal"] not in listed((who or {}).get("AWS", []) if isinstance(who, dict) else []):
                    continue
            ctx = request.get("context", {})
            if all(k in ctx and any(_one(op, ctx[k], w) for w in listed(v))
                   for op, block in s.get("Condition", {}).items() for k, v in block.items()):
                decisions.append((kind, s["Effect"]))
    if any(effect == "Deny" for _, effect in decisions):
        return "ExplicitDeny"
    if boundary is not None and ("bnd", "Allow") not in decisions:
        return "ImplicitDeny"
    return "Allow" if {("id", "Allow"), ("res", "Allow")} & set(decisions) else "ImplicitDeny"
''',
    "least_privilege": r'''
def least_privilege(log):
    grants = {}
    for call in filter(lambda c: c["allowed"], log):
        grants[call["resource"]] = grants.get(call["resource"], set()) | {call["action"].lower()}
    return {"Version": "2012-10-17",
            "Statement": [dict(Effect="Allow", Action=sorted(a), Resource=r) for r, a in sorted(grants.items())]}
''',
    "signing": r'''
from urllib.parse import quote

def canonical_request(request):
    enc = lambda s: quote(str(s), safe="~")
    pairs = sorted([enc(k), enc(v)] for k, v in request.get("query") or [])
    hdrs = dict(sorted((k.lower().strip(), re.sub(r"\s+", " ", str(v)).strip()) for k, v in request["headers"].items()))
    return (f"{request['method'].upper()}\n{request.get('path') or '/'}\n" + "&".join("=".join(p) for p in pairs) + "\n"
            + "".join(f"{k}:{v}\n" for k, v in hdrs.items()) + "\n" + ";".join(hdrs) + "\n"
            + hashlib.sha256((request.get("body") or "").encode()).hexdigest())

def _mac(key, text):
    return hmac.new(key, text.encode(), "sha256")

def sign_request(request, secret_key, amz_date, region, service):
    try:
        datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise ValueError(amz_date) from None
    if len(amz_date) != 16:
        raise ValueError(amz_date)
    day = amz_date[:8]
    k = _mac(_mac(_mac(_mac(f"AWS4{secret_key}".encode(), day).digest(), region).digest(), service).digest(),
             "aws4_request").digest()
    digest = hashlib.sha256(canonical_request(request).encode()).hexdigest()
    return _mac(k, f"AWS4-HMAC-SHA256\n{amz_date}\n{day}/{region}/{service}/aws4_request\n{digest}").hexdigest()
''',
    "verify_stream": r'''
import calendar
import time as _time

def verify_stream(events, secrets, skew=300):
    accepted = set()
    def verdict(e):
        if e["access_key"] not in secrets:
            return "unknown-key"
        sent = calendar.timegm(_time.strptime(e["amz_date"], "%Y%m%dT%H%M%SZ"))
        if not -skew <= e["now"] - sent <= skew:
            return "skew"
        right = sign_request(e["request"], secrets[e["access_key"]], e["amz_date"], e["region"], e["service"])
        if not hmac.compare_digest(right.encode(), str(e["signature"]).encode()):
            return "bad-signature"
        if right in accepted:
            return "replay"
        accepted.add(right)
        return "ok"
    return [verdict(e) for e in events]
''',
    "verify_jwt": r'''
def _b64url_decode(part):
    return None

def _unb64(s):
    if re.search(r"[^A-Za-z0-9_-]", s) or len(s) % 4 == 1:
        raise ValueError(s)
    return base64.b64decode(s.replace("-", "+").replace("_", "/") + "=" * (-len(s) % 4))

def verify_jwt(token, keys, now, audience, issuer, leeway=30):
    if not leeway >= 0:
        raise ValueError(leeway)
    fail = lambda rule: {"valid": False, "rule": rule}
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return fail("malformed")
    try:
        header, claims, sig = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1])), _unb64(parts[2])
    except Exception:
        return fail("malformed")
    if type(header) is not dict or type(claims) is not dict:
        return fail("malformed")
    if header.get("alg") not in {"HS256", "EdDSA"}:
        return fail("alg")
    key = keys.get(header.get("kid")) if isinstance(header.get("kid"), str) else None
    if key is None:
        return fail("kid")
    if header["alg"] != key["alg"]:
        return fail("alg")
    message = (parts[0] + "." + parts[1]).encode()
    if key["alg"] == "EdDSA":
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public"])).verify(sig, message)
        except InvalidSignature:
            return fail("signature")
    elif not hmac.compare_digest(hmac.digest(bytes.fromhex(key["secret"]), message, "sha256"), sig):
        return fail("signature")
    is_num = lambda v: type(v) in (int, float)
    checks = [("exp", lambda c: is_num(c.get("exp")) and now < c["exp"] + leeway),
              ("nbf", lambda c: "nbf" not in c or (is_num(c["nbf"]) and now >= c["nbf"] - leeway)),
              ("iss", lambda c: c.get("iss") == issuer),
              ("aud", lambda c: audience in (c.get("aud") if isinstance(c.get("aud"), list) else [c.get("aud")]))]
    for rule, ok in checks:
        if not ok(claims):
            return fail(rule)
    return {"valid": True, "claims": claims}
''',
    "hash_password": r'''
def _scrypt(password, salt_hex, n, r, p, size=32):
    return hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=n, r=r, p=p, maxmem=2 ** 28, dklen=size)

def hash_password(password, salt, n=2 ** 17, r=8, p=1):
    if n <= 1 or bin(n).count("1") != 1:
        raise ValueError(n)
    if len(salt) < 32:
        raise ValueError("salt")
    return "$".join(["scrypt", str(n), str(r), str(p), salt, _scrypt(password, salt, n, r, p).hex()])
''',
    "verify_password": r'''
def verify_password(password, stored):
    m = re.fullmatch(r"scrypt\$(\d+)\$(\d+)\$(\d+)\$([0-9a-f]+)\$([0-9a-f]+)", stored)
    if m:
        n, r, p, salt, digest = m.groups()
        return hmac.compare_digest(_scrypt(password, salt, int(n), int(r), int(p), len(digest) // 2).hex(), digest)
    m = re.fullmatch(r"sha256\$([0-9a-f]+)\$([0-9a-f]+)", stored)
    if m:
        return hmac.compare_digest(hashlib.sha256(bytes.fromhex(m[1]) + password.encode()).hexdigest(), m[2])
    raise ValueError("unknown scheme")
''',
    "login": r'''
def login(password, stored, new_salt, n=2 ** 17):
    ok = verify_password(password, stored)
    if ok and not stored.startswith("scrypt$") or ok and any(
            int(have) < need for have, need in zip(stored.split("$")[1:4], (n, 8, 1))):
        stored = hash_password(password, new_salt, n=n, r=8, p=1)
    return {"ok": ok, "stored": stored}
''',
    "vault": r'''
import secrets as _secrets

def _seal(key, data, associated_data):
    return None

def _open(key, nonce, ciphertext, associated_data):
    return None

def _gcm(key, ad):
    aes = AESGCM(key)
    def seal(data):
        n = _secrets.token_bytes(12)
        return n.hex(), aes.encrypt(n, data, ad).hex()
    def unseal(n, c):
        try:
            return aes.decrypt(bytes.fromhex(n), bytes.fromhex(c), ad)
        except InvalidTag:
            raise Tampered("tag") from None
    return seal, unseal

class Vault:
    def __init__(self, master_kid, master_key):
        self.kid, self.master, self.keys = master_kid, bytes.fromhex(master_key), {}

    def _key(self, user):
        entry = self.keys.get(user)
        if entry is None or entry == "gone":
            raise KeyGone(user)
        return _gcm(self.master, user.encode())[1](entry["nonce"], entry["wrapped"])

    def _user_key(self, user, create=False):
        return None

    def put(self, user, record_id, plaintext):
        if user not in self.keys:
            nonce, wrapped = _gcm(self.master, user.encode())[0](os.urandom(32))
            self.keys[user] = {"nonce": nonce, "wrapped": wrapped}
        user_key, data_key, ad = self._key(user), os.urandom(32), f"{user}/{record_id}".encode()
        key_nonce, wrapped_key = _gcm(user_key, ad)[0](data_key)
        nonce, ciphertext = _gcm(data_key, ad)[0](plaintext.encode())
        return dict(key_nonce=key_nonce, wrapped_key=wrapped_key, nonce=nonce, ciphertext=ciphertext)

    def get(self, user, record_id, blob):
        ad = f"{user}/{record_id}".encode()
        data_key = _gcm(self._key(user), ad)[1](blob["key_nonce"], blob["wrapped_key"])
        return _gcm(data_key, ad)[1](blob["nonce"], blob["ciphertext"]).decode()

    def rotate_master(self, new_kid, new_key):
        live = {u: self._key(u) for u, e in self.keys.items() if e != "gone"}
        self.kid, self.master = new_kid, bytes.fromhex(new_key)
        for u, k in live.items():
            nonce, wrapped = _gcm(self.master, u.encode())[0](k)
            self.keys[u] = {"nonce": nonce, "wrapped": wrapped}
        return len(live)

    def forget(self, user):
        had = self.keys.get(user) not in (None, "gone")
        self.keys[user] = "gone"
        return had

    def key_table(self):
        return {u: {"master_kid": self.kid, **e} for u, e in self.keys.items() if e != "gone"}
''',
    "audit_log": r'''
GENESIS = "0" * 64

def entry_hash(prev_hash, record):
    if not (isinstance(prev_hash, str) and len(prev_hash) == 64 and set(prev_hash) <= set("0123456789abcdef")):
        raise ValueError(prev_hash)
    h = hashlib.sha256(prev_hash.encode())
    h.update(b"\n")
    h.update(json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    return h.hexdigest()

def verify_log(entries, checkpoints, public_key):
    verifier = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
    broken = next((i for i, e in enumerate(entries)
                   if e["index"] != i or e["prev"] != (entries[i - 1]["hash"] if i else GENESIS)
                   or e["hash"] != entry_hash(e["prev"], e["record"])), None)
    good_upto = 0
    for cp in checkpoints:
        try:
            verifier.verify(bytes.fromhex(cp["signature"]), ("%d:%s" % (cp["index"], cp["hash"])).encode())
        except (InvalidSignature, ValueError):
            return good_upto if broken is None else min(broken, good_upto)
        if cp["index"] >= len(entries) or entries[cp["index"]]["hash"] != cp["hash"]:
            return good_upto if broken is None else min(broken, good_upto)
        good_upto = cp["index"] + 1
    return broken
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


def test_no_secret_in_failure_messages(reports):
    """A failure message shows the case's input and the reference's verdict, never the grader's own keys: the
    hidden cases' key material is drawn per case, and nothing from the reference module's fixed keys for the
    visible tests' worked examples appears unless it was in that case's input."""
    from autograde.reference import security as ref

    fixed = [ref._LOG_PRIV]  # the private key that signs the contract's fixed checkpoints
    for name, report in reports.items():
        for t in report.tests:
            for secret in fixed:
                assert secret not in (t.message or ""), f"{name}: {t.id} shows a private key"


def test_every_answer_cell_of_the_release_defines_its_names():
    assert_release_answer_cells_define_their_names(ASSIGNMENT, "security_setup")
