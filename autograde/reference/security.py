"""Reference answers, contracts and seeded hidden-test cases for 13-security.

Written independently of the solution notebook (CI checks that the two agree: the solution must score
full marks). Every case is plain data: keys, secrets, salts, hashes and signatures are hex strings,
tokens are text. Random cases come from ``numpy.random.default_rng(seed)`` only; keys are derived from
drawn bytes, never from ``secrets`` (a hidden case must replay), which is fine for tests and wrong for
production.

Conventions stated in the notebook:

- policies: ``Action``/``Resource`` wildcards ``*`` (any run of characters other than ``:``) and ``?`` (one
  character other than ``:``); a pattern that is exactly ``*`` matches everything; actions compare without
  regard to case, resources with it; ``StringLike`` wildcards do cross ``:``. A missing context key makes
  a condition false. Decisions are ``"Allow"``, ``"ExplicitDeny"`` or ``"ImplicitDeny"``.
- signed requests: AWS Signature Version 4's canonical request, string to sign and signing key, with the
  path taken as already encoded and every given header signed.
- tokens: compact JWS (RFC 7515) with HS256 (RFC 7518) or EdDSA over Ed25519 (RFC 8037); results say which
  rule a token broke.
- passwords: ``scrypt$n$r$p$salt$hash`` (hex, 32-byte hash); the old format ``sha256$salt$hash``.
- audit log: SHA-256 over the previous hash and the record's canonical JSON; Ed25519-signed checkpoints.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import json
import re
import urllib.parse
from datetime import datetime, timezone

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from autograde.contracts import OMIT, Contract, Rule, boundary, edge
from course.security import make_token

# =========================================================================== 1. policy evaluation

OPERATORS = ("StringEquals", "StringLike", "IpAddress", "DateLessThan", "Bool")


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, crosses_colon: bool) -> re.Pattern:
    star, one = (".*", ".") if crosses_colon else ("[^:]*", "[^:]")
    return re.compile("".join(star if ch == "*" else one if ch == "?" else re.escape(ch) for ch in pattern),
                      re.DOTALL)


def match_action(pattern: str, action: str) -> bool:
    return pattern == "*" or _glob(pattern.lower(), False).fullmatch(action.lower()) is not None


def match_resource(pattern: str, resource: str) -> bool:
    return pattern == "*" or _glob(pattern, False).fullmatch(resource) is not None


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _time(text):
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _op_holds(op, have, wanted) -> bool:
    if op == "StringEquals":
        return isinstance(have, str) and have == str(wanted)
    if op == "StringLike":
        return isinstance(have, str) and _glob(str(wanted), True).fullmatch(have) is not None
    if op == "IpAddress":
        try:
            return ipaddress.ip_address(str(have)) in ipaddress.ip_network(str(wanted), strict=False)
        except ValueError:
            return False
        except TypeError:
            return False
    if op == "DateLessThan":
        try:
            return _time(have) < _time(wanted)
        except (ValueError, TypeError):
            return False
    if op == "Bool":
        return str(have).lower() == str(wanted).lower()
    raise ValueError(f"unsupported condition operator {op!r}")


def _condition_holds(condition, context) -> bool:
    for op, block in condition.items():
        for key, wanted in block.items():
            if key not in context:
                return False
            if not any(_op_holds(op, context[key], w) for w in _as_list(wanted)):
                return False
    return True


def _validate(policy):
    for statement in policy.get("Statement", []):
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValueError(f"Effect must be Allow or Deny, not {statement.get('Effect')!r}")
        if ("Action" in statement) == ("NotAction" in statement):
            raise ValueError("a statement has exactly one of Action and NotAction")
        if "Resource" not in statement:
            raise ValueError("a statement needs a Resource")
        for op in statement.get("Condition", {}):
            if op not in OPERATORS:
                raise ValueError(f"unsupported condition operator {op!r}")


def _applies(statement, request, check_principal) -> bool:
    action = request["action"]
    if "Action" in statement:
        if not any(match_action(p, action) for p in _as_list(statement["Action"])):
            return False
    elif any(match_action(p, action) for p in _as_list(statement["NotAction"])):
        return False
    if not any(match_resource(p, request["resource"]) for p in _as_list(statement["Resource"])):
        return False
    if check_principal:
        principal = statement.get("Principal")
        if principal != "*" and not (isinstance(principal, dict)
                                     and request.get("principal") in _as_list(principal.get("AWS", []))):
            return False
    return _condition_holds(statement.get("Condition", {}), request.get("context", {}))


def evaluate(request, identity_policies, resource_policy=None, boundary=None):
    """AWS's order within one account: explicit deny anywhere; the boundary must allow; an allow from an
    identity policy or the resource policy; otherwise the default (implicit) deny."""
    sources = [("identity", p) for p in identity_policies]
    if resource_policy is not None:
        sources.append(("resource", resource_policy))
    if boundary is not None:
        sources.append(("boundary", boundary))
    for _, policy in sources:
        _validate(policy)
    effects = {"identity": set(), "resource": set(), "boundary": set()}
    for kind, policy in sources:
        for statement in policy.get("Statement", []):
            if _applies(statement, request, kind == "resource"):
                effects[kind].add(statement["Effect"])
    if any("Deny" in e for e in effects.values()):
        return "ExplicitDeny"
    if boundary is not None and "Allow" not in effects["boundary"]:
        return "ImplicitDeny"
    if "Allow" in effects["identity"] or "Allow" in effects["resource"]:
        return "Allow"
    return "ImplicitDeny"


ACCOUNT = "111122223333"
PRINCIPALS = [f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/bob",
              f"arn:aws:sts::{ACCOUNT}:assumed-role/Auditor/session1"]
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "dynamodb:GetItem",
           "dynamodb:PutItem", "dynamodb:Query", "iam:CreateUser", "kms:Decrypt", "kms:Encrypt"]
RESOURCES = ["arn:aws:s3:::reports", "arn:aws:s3:::reports/2026/q1.csv", "arn:aws:s3:::reports/2026/q2.csv",
             "arn:aws:s3:::payroll/2026/jan.csv", "arn:aws:s3:::reports-archive/old.csv",
             f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/Orders",
             f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/Orders/index/ByDate",
             f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Users",
             f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
             f"arn:aws:iam::{ACCOUNT}:user/carol"]
RESOURCE_PATTERNS = ["*", "arn:aws:s3:::reports/*", "arn:aws:s3:::reports*", "arn:aws:s3:::*/2026/*",
                     "arn:aws:s3:*", "arn:aws:s3:::reports/2026/q?.csv", f"arn:aws:dynamodb:*:{ACCOUNT}:table/Orders",
                     f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*", "arn:aws:dynamodb:eu-west-1:*",
                     "arn:aws:*:*:*:*", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*", f"arn:aws:iam::{ACCOUNT}:user/*"]
ACTION_PATTERNS = ["*", "s3:*", "s3:Get*", "s3:*Object", "dynamodb:*", "dynamodb:?etItem", "kms:*crypt",
                   "S3:getobject", "iam:*", "*:GetItem"]
IPS = ["10.0.1.5", "10.0.255.255", "10.1.0.0", "203.0.113.7", "192.0.2.44", "2001:db8::1"]
CIDRS = ["10.0.0.0/16", "203.0.113.0/24", "192.0.2.0/25", "0.0.0.0/0", "2001:db8::/32"]
TIMES = ["2026-03-01T00:00:00Z", "2026-06-30T23:59:59Z", "2026-07-01T00:00:00Z", "2026-12-07T12:00:00Z"]
TEAMS = ["blue", "red", "Blue", "reds", "rad"]


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


def _draw_condition(rng):
    op = _pick(rng, list(OPERATORS))
    if op == "StringEquals":
        return {op: {"aws:PrincipalTag/team": _pick(rng, TEAMS) if rng.random() < 0.7
                     else [_pick(rng, TEAMS), _pick(rng, TEAMS)]}}
    if op == "StringLike":
        return {op: {"aws:PrincipalTag/team": _pick(rng, ["b*", "r?d", "*e*", "B*"])}}
    if op == "IpAddress":
        return {op: {"aws:SourceIp": _pick(rng, CIDRS) if rng.random() < 0.7 else [_pick(rng, CIDRS),
                                                                                     _pick(rng, CIDRS)]}}
    if op == "DateLessThan":
        return {op: {"aws:CurrentTime": _pick(rng, TIMES)}}
    return {op: {"aws:SecureTransport": _pick(rng, ["true", "false", True, False])}}


def _draw_statement(rng, effect=None, principal=False):
    statement = {"Effect": effect or ("Deny" if rng.random() < 0.25 else "Allow")}
    key = "NotAction" if rng.random() < 0.15 else "Action"
    patterns = [(_pick(rng, ACTION_PATTERNS) if rng.random() < 0.5 else _pick(rng, ACTIONS))
                for _ in range(int(rng.integers(1, 3)))]
    statement[key] = patterns if len(patterns) > 1 or rng.random() < 0.3 else patterns[0]
    resources = [(_pick(rng, RESOURCE_PATTERNS) if rng.random() < 0.6 else _pick(rng, RESOURCES))
                 for _ in range(int(rng.integers(1, 3)))]
    statement["Resource"] = resources if len(resources) > 1 else resources[0]
    if principal:
        statement["Principal"] = "*" if rng.random() < 0.3 else {"AWS": _pick(rng, PRINCIPALS)}
    if rng.random() < 0.35:
        condition = _draw_condition(rng)
        if rng.random() < 0.3:
            condition.update(_draw_condition(rng))
        statement["Condition"] = condition
    return statement


def _draw_policy(rng, principal=False, low=1, high=4):
    return {"Version": "2012-10-17",
            "Statement": [_draw_statement(rng, principal=principal) for _ in range(int(rng.integers(low, high)))]}


def _draw_request(rng):
    context = {}
    if rng.random() < 0.85:
        context["aws:SourceIp"] = _pick(rng, IPS)
    if rng.random() < 0.85:
        context["aws:CurrentTime"] = _pick(rng, TIMES[:2] + ["2026-06-30T23:59:58Z", "2026-07-01T00:00:01Z"])
    if rng.random() < 0.8:
        context["aws:SecureTransport"] = bool(rng.random() < 0.7)
    if rng.random() < 0.7:
        context["aws:PrincipalTag/team"] = _pick(rng, TEAMS)
    return {"principal": _pick(rng, PRINCIPALS), "action": _pick(rng, ACTIONS), "resource": _pick(rng, RESOURCES),
            "context": context}


def _evaluate_case(rng):
    return {"request": _draw_request(rng),
            "identity_policies": [_draw_policy(rng) for _ in range(int(rng.integers(0, 4)))],
            "resource_policy": _draw_policy(rng, principal=True) if rng.random() < 0.5 else None,
            "boundary": _draw_policy(rng) if rng.random() < 0.35 else None}


def evaluate_cases(seed, n=3000):
    rng = np.random.default_rng(seed)
    return [_evaluate_case(rng) for _ in range(n)]


ALICE = PRINCIPALS[0]
Q1 = "arn:aws:s3:::reports/2026/q1.csv"
_GET_Q1 = {"principal": ALICE, "action": "s3:GetObject", "resource": Q1, "context": {}}
_ALLOW_ALL = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
_ALLOW_GET = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}
_DENY_GET = {"Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": Q1}]}


def _policy_of(statement):
    return {"Version": "2012-10-17", "Statement": [statement]}


def _with(request=_GET_Q1, identity=(), resource=None, bound=None):
    return {"request": request, "identity_policies": list(identity), "resource_policy": resource, "boundary": bound}


def _req(action="s3:GetObject", resource=Q1, principal=ALICE, **context):
    return {"principal": principal, "action": action, "resource": resource, "context": context}


def _cond(op, key, value):
    return _policy_of({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {op: {key: value}}})


# AWS IAM User Guide, "Policy evaluation for requests within a single account", example identity-based and
# resource-based policy evaluation: Carlos's identity policy (its three statements as documented).
CARLOS = f"arn:aws:iam::{ACCOUNT}:user/carlossalazar"
CARLOS_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "AllowS3ListRead", "Effect": "Allow",
     "Action": ["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints", "s3:ListAllMyBuckets"],
     "Resource": "arn:aws:s3:::*"},
    {"Sid": "AllowS3Self", "Effect": "Allow", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar"]},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"}]}
CARLOS_LOGS_BUCKET_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": CARLOS}, "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/*"}]}


def _carlos(action, resource, bucket_policy=None):
    return {"request": {"principal": CARLOS, "action": action, "resource": resource, "context": {}},
            "identity_policies": [CARLOS_POLICY], "resource_policy": bucket_policy, "boundary": None}


_EVALUATE_RULES = [
    edge("AWS's documented example (Carlos, \"Policy evaluation for requests within a single account\"): his "
         "policy's `DenyS3Logs` wins over any allow for the `...-logs` bucket; his own bucket and listing are allowed",
         _carlos("s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/trail.json",
                 CARLOS_LOGS_BUCKET_POLICY),
         _carlos("s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/notes.txt"),
         _carlos("s3:ListAllMyBuckets", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar"),
         _carlos("s3:DeleteObject", "arn:aws:s3:::amzn-s3-demo-bucket-other/x")),
    Rule("a statement's `Effect` is `\"Allow\"` or `\"Deny\"` (a misspelling such as `\"allow\"` is refused), "
         "`ValueError`, whether or not the statement applies to the request",
         at=[{"identity_policies": [_ALLOW_ALL]}], inside=[{"identity_policies": [_DENY_GET]}],
         outside=[{"identity_policies": [_policy_of({"Effect": "allow", "Action": "*", "Resource": "*"})]},
                  {"boundary": _policy_of({"Effect": "Permit", "Action": "iam:*", "Resource": "*"})}]),
    Rule("a statement has exactly one of `Action` and `NotAction`, and a `Resource`, else `ValueError`",
         at=[{"identity_policies": [_policy_of({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]}],
         inside=[{"identity_policies": [_ALLOW_GET]}],
         outside=[{"identity_policies": [_policy_of({"Effect": "Allow", "Action": "*", "NotAction": "iam:*",
                                                     "Resource": "*"})]},
                  {"identity_policies": [_policy_of({"Effect": "Allow", "Resource": "*"})]},
                  {"identity_policies": [_policy_of({"Effect": "Allow", "Action": "*"})]}]),
    Rule("a condition operator outside `StringEquals`, `StringLike`, `IpAddress`, `DateLessThan`, `Bool` "
         "gives `ValueError`",
         at=[{"identity_policies": [_cond("Bool", "aws:SecureTransport", "true")]}],
         inside=[{"identity_policies": [_cond("DateLessThan", "aws:CurrentTime", "2026-07-01T00:00:00Z")]},
                 {"identity_policies": [_policy_of({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
                     "StringEquals": {"aws:PrincipalTag/team": "blue"}, "StringLike": {"aws:PrincipalTag/team": "b*"},
                     "IpAddress": {"aws:SourceIp": "0.0.0.0/0"}, "DateLessThan": {"aws:CurrentTime": TIMES[-1]},
                     "Bool": {"aws:SecureTransport": "true"}}})]}],
         outside=[{"identity_policies": [_cond("NumericLessThan", "s3:max-keys", "10")]},
                  {"identity_policies": [_cond("StringEqualsIgnoreCase", "aws:PrincipalTag/team", "blue")]}]),
    boundary("an explicit deny anywhere (identity policy, resource policy or boundary) beats every allow",
             at=_with(identity=[_ALLOW_ALL, _DENY_GET]),
             inside=_with(identity=[_ALLOW_ALL], bound=_policy_of({"Effect": "Deny", "Action": "s3:Get*",
                                                                     "Resource": "*"})),
             outside=_with(identity=[_ALLOW_ALL], resource=_policy_of(
                 {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": Q1[:-6] + "q2.csv"}))),
    boundary("a permissions boundary grants nothing: it must allow too, and an identity or resource policy "
             "must also allow",
             at=_with(identity=[_ALLOW_GET], bound=_ALLOW_GET),
             inside=_with(identity=[], bound=_ALLOW_ALL),
             outside=_with(identity=[_ALLOW_GET], bound=_policy_of({"Effect": "Allow", "Action": "s3:PutObject",
                                                                      "Resource": "*"}))),
    boundary("within one account, an allow from the resource policy alone suffices (when it names the principal)",
             at=_with(resource=_policy_of({"Effect": "Allow", "Principal": {"AWS": [ALICE]}, "Action": "s3:*",
                                           "Resource": "arn:aws:s3:::reports/*"})),
             inside=_with(resource=_policy_of({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                               "Resource": Q1})),
             outside=_with(resource=_policy_of({"Effect": "Allow", "Principal": {"AWS": PRINCIPALS[1]},
                                                "Action": "s3:GetObject", "Resource": Q1}))),
    boundary("`*` and `?` in `Action` and `Resource` do not match `:`; a pattern that is exactly `*` matches "
             "everything",
             at=_with(identity=[_policy_of({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})]),
             inside=_with(identity=[_policy_of({"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::*"})]),
             outside=[_with(identity=[_policy_of({"Effect": "Allow", "Action": "s3:GetObject",
                                                  "Resource": "arn:aws:s3:*"})]),
                      _with(identity=[_policy_of({"Effect": "Allow", "Action": "s3:GetObject",
                                                  "Resource": "arn:aws:s3?::reports/2026/q1.csv"})]),
                      _with(identity=[_policy_of({"Effect": "Allow", "Action": "*GetObject", "Resource": "*"})])]),
    boundary("`?` matches exactly one character",
             at=_with(identity=[_policy_of({"Effect": "Allow", "Action": "s3:GetObject",
                                            "Resource": "arn:aws:s3:::reports/2026/q?.csv"})]),
             inside=_with(identity=[_policy_of({"Effect": "Allow", "Action": "s3:GetObjec?", "Resource": Q1})]),
             outside=_with(identity=[_policy_of({"Effect": "Allow", "Action": "s3:GetObject",
                                                 "Resource": "arn:aws:s3:::reports/2026/q??.csv"})])),
    edge("`NotAction` applies to every action it does not match",
         _with(identity=[_policy_of({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]),
         _with(identity=[_ALLOW_ALL], bound=_policy_of({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"})),
         _with(identity=[_ALLOW_ALL, _policy_of({"Effect": "Deny", "NotAction": "s3:Get*", "Resource": "*"})])),
    edge("actions compare without regard to case, resources with it",
         _with(identity=[_policy_of({"Effect": "Allow", "Action": "S3:getobject", "Resource": Q1})]),
         _with(identity=[_policy_of({"Effect": "Allow", "Action": "s3:GetObject", "Resource": Q1.upper()})])),
    boundary("`DateLessThan` is strict: a request at exactly the stated time is not before it",
             at=_with(request=_req(**{"aws:CurrentTime": "2026-07-01T00:00:00Z"}),
                      identity=[_cond("DateLessThan", "aws:CurrentTime", "2026-07-01T00:00:00Z")]),
             inside=_with(request=_req(**{"aws:CurrentTime": "2026-06-30T23:59:59Z"}),
                          identity=[_cond("DateLessThan", "aws:CurrentTime", "2026-07-01T00:00:00Z")]),
             outside=_with(request=_req(**{"aws:CurrentTime": "2026-07-01T00:00:01Z"}),
                           identity=[_cond("DateLessThan", "aws:CurrentTime", "2026-07-01T00:00:00Z")])),
    boundary("`IpAddress` includes both ends of the CIDR block",
             at=_with(request=_req(**{"aws:SourceIp": "10.0.255.255"}),
                      identity=[_cond("IpAddress", "aws:SourceIp", "10.0.0.0/16")]),
             inside=_with(request=_req(**{"aws:SourceIp": "10.0.0.0"}),
                          identity=[_cond("IpAddress", "aws:SourceIp", "10.0.0.0/16")]),
             outside=_with(request=_req(**{"aws:SourceIp": "10.1.0.0"}),
                           identity=[_cond("IpAddress", "aws:SourceIp", "10.0.0.0/16")])),
    edge("a condition on a key the request's context lacks is false (so its statement does not apply)",
         _with(request=_req(), identity=[_cond("Bool", "aws:SecureTransport", "false")]),
         _with(request=_req(), identity=[_ALLOW_ALL, {"Statement": [
             {"Effect": "Deny", "Action": "*", "Resource": "*",
              "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}])),
    edge("a condition with a list of values holds when any value matches; several keys or operators must all hold",
         _with(request=_req(**{"aws:PrincipalTag/team": "red", "aws:SecureTransport": True}),
               identity=[_policy_of({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
                   "StringEquals": {"aws:PrincipalTag/team": ["blue", "red"]}, "Bool": {"aws:SecureTransport": "true"}}})]),
         _with(request=_req(**{"aws:PrincipalTag/team": "red", "aws:SecureTransport": False}),
               identity=[_policy_of({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
                   "StringEquals": {"aws:PrincipalTag/team": ["blue", "red"]}, "Bool": {"aws:SecureTransport": "true"}}})])),
    edge("no policy at all: the default (implicit) deny", _with(), _with(identity=[{"Statement": []}])),
    edge("`resource_policy` and `boundary` default to None (no such policy)",
         {"resource_policy": OMIT, "boundary": OMIT}),
]

# =========================================================================== 2. least privilege


def least_privilege(log):
    """One Allow statement per resource that was successfully used, its actions in lower case, sorted."""
    used = {}
    for call in log:
        if call["allowed"]:
            used.setdefault(call["resource"], set()).add(call["action"].lower())
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": sorted(actions), "Resource": resource}
                          for resource, actions in sorted(used.items())]}


def _draw_log(rng):
    n = int(rng.integers(0, 40)) if rng.random() < 0.9 else int(rng.integers(40, 120))
    log = []
    for _ in range(n):
        action = _pick(rng, ACTIONS)
        if rng.random() < 0.15:
            action = action.lower() if rng.random() < 0.5 else action.upper()
        log.append({"principal": _pick(rng, PRINCIPALS), "action": action, "resource": _pick(rng, RESOURCES),
                    "allowed": bool(rng.random() < 0.85)})
    return {"log": log}


def unused_calls(log, rng, n=60):
    """Calls the log does not show as successful: near misses of the used ones first."""
    used = {(c["action"].lower(), c["resource"]) for c in log if c["allowed"]}
    out = []
    for _ in range(n * 5):
        if len(out) >= n:
            break
        action, resource = _pick(rng, ACTIONS), _pick(rng, RESOURCES)
        if rng.random() < 0.2:
            resource = resource + _pick(rng, ["x", "/", "2", ":"])
        if (action.lower(), resource) not in used:
            out.append({"principal": ALICE, "action": action, "resource": resource, "context": {}})
    return out


def judge_least_privilege(log, unused):
    """A judge for a learner's least-privilege policy: every logged success allowed, nothing unused."""
    def judge(policy):
        try:
            for call in log:
                request = {"principal": call["principal"], "action": call["action"], "resource": call["resource"],
                           "context": {}}
                if call["allowed"] and evaluate(request, [policy]) != "Allow":
                    return f"the policy does not allow the logged call {call['action']} on {call['resource']}"
            for request in unused:
                if evaluate(request, [policy]) == "Allow":
                    return f"the policy allows {request['action']} on {request['resource']}, which the log never used"
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"the policy is not a valid policy document ({type(exc).__name__})"
        return None
    return judge


# =========================================================================== 3. signed requests

ALGORITHM = "AWS4-HMAC-SHA256"


def _uri_encode(text):
    return urllib.parse.quote(str(text), safe="-_.~")


def canonical_request(request):
    query = sorted((_uri_encode(k), _uri_encode(v)) for k, v in request.get("query", []))
    headers = {}
    for name, value in request["headers"].items():
        headers[name.lower().strip()] = " ".join(str(value).split())
    names = sorted(headers)
    return "\n".join([request["method"].upper(), request.get("path") or "/",
                      "&".join(f"{k}={v}" for k, v in query),
                      "".join(f"{n}:{headers[n]}\n" for n in names), ";".join(names),
                      hashlib.sha256(request.get("body", "").encode("utf-8")).hexdigest()])


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key, date, region, service):
    if not re.fullmatch(r"\d{8}", str(date)):
        raise ValueError("date is YYYYMMDD")
    k = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    for part in (region, service, "aws4_request"):
        k = _hmac(k, part)
    return k.hex()


def string_to_sign(request, amz_date, region, service):
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    return "\n".join([ALGORITHM, amz_date, scope,
                      hashlib.sha256(canonical_request(request).encode("utf-8")).hexdigest()])


def sign_request(request, secret_key, amz_date, region, service):
    if not re.fullmatch(r"\d{8}T\d{6}Z", str(amz_date)):
        raise ValueError("amz_date is YYYYMMDDTHHMMSSZ")
    key = bytes.fromhex(signing_key(secret_key, amz_date[:8], region, service))
    return hmac.new(key, string_to_sign(request, amz_date, region, service).encode("utf-8"),
                    hashlib.sha256).hexdigest()


def amz_epoch(amz_date):
    return datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()


def verify_stream(events, secrets, skew=300):
    """Verdict per event, checked in order: unknown-key, skew, bad-signature, replay, else ok."""
    seen, out = set(), []
    for event in events:
        secret = secrets.get(event["access_key"])
        if secret is None:
            out.append("unknown-key")
            continue
        if abs(event["now"] - amz_epoch(event["amz_date"])) > skew:
            out.append("skew")
            continue
        expected = sign_request(event["request"], secret, event["amz_date"], event["region"], event["service"])
        if not hmac.compare_digest(expected, str(event["signature"])):
            out.append("bad-signature")
            continue
        if expected in seen:
            out.append("replay")
            continue
        seen.add(expected)
        out.append("ok")
    return out


HEADER_NAMES = ["Host", "X-Amz-Date", "Content-Type", "X-Amz-Meta-Owner", "x-amz-content-sha256", "Accept"]
QUERY_WORDS = ["prefix", "max-keys", "list-type", "a", "A", "b", "key with space", "ü", "x/y", "tilde~", "*"]


def _draw_text(rng, alphabet="abcXYZ012 -_.~/é+=&*", low=0, high=12):
    return "".join(_pick(rng, list(alphabet)) for _ in range(int(rng.integers(low, high))))


def _draw_http(rng):
    headers = {}
    for name in HEADER_NAMES:
        if name == "Host" or rng.random() < 0.5:
            value = _draw_text(rng, "abcdefghijklmnop.-0123456789", 3, 20) if name == "Host" else \
                _draw_text(rng, "abc XYZ0123;=/,", 0, 16)
            if rng.random() < 0.2:
                value = "  " + value.replace(" ", "   ") + " "
            headers[name if rng.random() < 0.7 else name.upper()] = value
    query = [[_pick(rng, QUERY_WORDS), _draw_text(rng)] for _ in range(int(rng.integers(0, 6)))]
    return {"method": _pick(rng, ["GET", "PUT", "POST", "DELETE", "get"]),
            "path": _pick(rng, ["/", "", "/reports/2026/q1.csv", "/a%20b/c", "/~user/x.txt"]),
            "query": query, "headers": headers, "body": _draw_text(rng, low=0, high=30) if rng.random() < 0.5 else ""}


def _amz_date(rng):
    t = int(rng.integers(1_700_000_000, 1_900_000_000))
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _hex(rng, n):
    return bytes(int(b) for b in rng.integers(0, 256, n)).hex()


def _draw_secret(rng):
    return _draw_text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 16, 41)


REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-2"]
SERVICES = ["s3", "dynamodb", "execute-api", "iam", "service"]


def _sign_case(rng):
    return {"request": _draw_http(rng), "secret_key": _draw_secret(rng), "amz_date": _amz_date(rng),
            "region": _pick(rng, REGIONS), "service": _pick(rng, SERVICES)}


def _tampered(rng, request):
    request = json.loads(json.dumps(request))
    what = int(rng.integers(4))
    if what == 0:
        name = _pick(rng, list(request["headers"]))
        request["headers"][name] = request["headers"][name] + "x"
    elif what == 1:
        request["query"].append(["evil", "1"])
    elif what == 2:
        request["body"] = request.get("body", "") + "!"
    else:
        request["path"] = (request.get("path") or "/") + "x"
    return request


def _draw_stream(rng):
    keys = {f"AKIA{_draw_text(rng, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 12, 13)}": _draw_secret(rng)
            for _ in range(int(rng.integers(1, 4)))}
    skew = int(_pick(rng, [60, 300, 900]))
    now = float(rng.integers(1_700_000_000, 1_900_000_000))
    events, signed = [], []
    for _ in range(int(rng.integers(1, 16))):
        now += float(rng.integers(0, 120))
        roll = rng.random()
        if signed and roll < 0.2:           # a replay, or a replay reordered (same signature)
            event = json.loads(json.dumps(_pick(rng, signed)))
            if rng.random() < 0.5:
                event["request"]["query"] = event["request"]["query"][::-1]
            event["now"] = now
            events.append(event)
            continue
        access_key = _pick(rng, list(keys)) if rng.random() < 0.9 else "AKIAUNKNOWN000000"
        delta = float(_pick(rng, [0, 1, -1, skew, -skew, skew + 1, -skew - 1, 3600])) if rng.random() < 0.4 \
            else float(rng.integers(-skew, skew + 1))
        stamp = datetime.fromtimestamp(now + delta, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        request = _draw_http(rng)
        region, service = _pick(rng, REGIONS), _pick(rng, SERVICES)
        signature = sign_request(request, keys.get(access_key, "x"), stamp, region, service)
        event = {"request": request, "access_key": access_key, "amz_date": stamp, "region": region,
                 "service": service, "signature": signature, "now": now}
        if rng.random() < 0.25:
            event = dict(event, request=_tampered(rng, request))
        elif rng.random() < 0.1:
            event = dict(event, region=_pick(rng, REGIONS), service=_pick(rng, SERVICES))
        elif rng.random() < 0.1:
            event = dict(event, signature=signature[:-1] + ("0" if signature[-1] != "0" else "1"))
        else:
            signed.append(event)
        events.append(event)
    return {"events": events, "secrets": keys, "skew": skew}


# the documented example of AWS's SigV4 test suite ("get-vanilla"): checked in tests/course
VANILLA = {"request": {"method": "GET", "path": "/", "query": [],
                       "headers": {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"}, "body": ""},
           "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "amz_date": "20150830T123600Z",
           "region": "us-east-1", "service": "service"}

# =========================================================================== 4. tokens


def b64url_decode(text):
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _bad(rule):
    return {"valid": False, "rule": rule}


def verify_jwt(token, keys, now, audience, issuer, leeway=30):
    if leeway < 0:
        raise ValueError("leeway must be >= 0")
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header, claims = json.loads(b64url_decode(head_b64)), json.loads(b64url_decode(body_b64))
        signature = b64url_decode(sig_b64)
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise ValueError("not objects")
    except (ValueError, AttributeError, TypeError, UnicodeDecodeError):
        return _bad("malformed")
    alg = header.get("alg")
    if alg not in ("HS256", "EdDSA"):
        return _bad("alg")
    key = keys.get(header.get("kid")) if isinstance(header.get("kid"), str) else None
    if key is None:
        return _bad("kid")
    if key["alg"] != alg:
        return _bad("alg")
    signed = f"{head_b64}.{body_b64}".encode("ascii")
    if alg == "HS256":
        good = hmac.compare_digest(hmac.new(bytes.fromhex(key["secret"]), signed, hashlib.sha256).digest(), signature)
    else:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public"])).verify(signature, signed)
            good = True
        except InvalidSignature:
            good = False
    if not good:
        return _bad("signature")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool) or now >= exp + leeway:
        return _bad("exp")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, (int, float)) or isinstance(nbf, bool) or now < nbf - leeway):
        return _bad("nbf")
    if claims.get("iss") != issuer:
        return _bad("iss")
    aud = claims.get("aud")
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        return _bad("aud")
    return {"valid": True, "claims": claims}


# make_token: the course's own (course/security.py), which the notebook's forgeries use too.


def ed25519_pair(seed_hex):
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    return seed_hex, private.public_key().public_bytes_raw().hex()


def _draw_keyring(rng):
    ring, private = {}, {}
    for i in range(int(rng.integers(2, 5))):
        kid = f"k{int(rng.integers(1000))}-{i}"
        if rng.random() < 0.5:
            secret = _hex(rng, int(rng.integers(32, 65)))
            ring[kid], private[kid] = {"alg": "HS256", "secret": secret}, {"secret": secret}
        else:
            seed_hex, public = ed25519_pair(_hex(rng, 32))
            ring[kid], private[kid] = {"alg": "EdDSA", "public": public}, {"private": seed_hex}
    return ring, private


FORGERIES = ["valid", "valid", "valid", "none", "confusion", "bad_signature", "other_key", "unknown_kid",
             "retired_kid", "expired", "not_yet", "wrong_aud", "wrong_iss", "aud_list", "no_exp", "malformed",
             "tampered_claims", "unsupported_alg", "edge_exp", "edge_nbf"]


def _draw_token_case(rng):
    ring, private = _draw_keyring(rng)
    kid = _pick(rng, sorted(ring))
    alg = ring[kid]["alg"]
    now = float(rng.integers(1_700_000_000, 1_900_000_000))
    leeway = int(_pick(rng, [0, 30, 60, 120]))
    issuer, audience = _pick(rng, ["https://auth.example.com", "https://id.example.org/"]), \
        _pick(rng, ["api", "billing", "https://api.example.com"])
    claims = {"sub": f"user-{int(rng.integers(10_000))}", "iss": issuer, "aud": audience,
              "iat": now - 60, "exp": now + float(rng.integers(1, 3600))}
    if rng.random() < 0.4:
        claims["nbf"] = now - float(rng.integers(0, 600))
    if rng.random() < 0.3:
        claims["name"] = _pick(rng, ["Zoë", "李雷", "O'Brien"])
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    kind = _pick(rng, FORGERIES)
    key = private[kid]
    signature = None
    if kind == "none":
        header, key = dict(header, alg=_pick(rng, ["none", "None", "NONE"])), None
    elif kind == "confusion":
        others = [k for k in ring if ring[k]["alg"] == "EdDSA"]
        if others:
            kid = _pick(rng, others)
            header = dict(header, alg="HS256", kid=kid)
            key = {"secret": ring[kid]["public"]}   # the public key used as an HMAC secret
        else:
            header = dict(header, alg="EdDSA")
    elif kind == "bad_signature":
        signature = bytes(int(b) for b in rng.integers(0, 256, 32 if alg == "HS256" else 64))
    elif kind == "other_key":
        key = ({"secret": _hex(rng, 32)} if alg == "HS256" else {"private": _hex(rng, 32)})
    elif kind == "unknown_kid":
        header = dict(header, kid="k-unknown")
    elif kind == "retired_kid":
        ring = {k: v for k, v in ring.items() if k != kid}
    elif kind == "expired":
        claims["exp"] = now - leeway - float(rng.integers(1, 3600))
    elif kind == "edge_exp":
        claims["exp"] = now - leeway + float(_pick(rng, [0, 1, -1]))
    elif kind == "not_yet":
        claims["nbf"] = now + leeway + float(rng.integers(1, 3600))
    elif kind == "edge_nbf":
        claims["nbf"] = now + leeway + float(_pick(rng, [0, 1, -1]))
    elif kind == "wrong_aud":
        claims["aud"] = _pick(rng, ["apis", "API", "other", ["other", "x"]])
    elif kind == "aud_list":
        claims["aud"] = ["other", audience] if rng.random() < 0.7 else ["other"]
    elif kind == "wrong_iss":
        claims["iss"] = issuer.rstrip("/") + "/" if not issuer.endswith("/") else issuer[:-1]
    elif kind == "no_exp":
        del claims["exp"]
    elif kind == "unsupported_alg":
        header = dict(header, alg=_pick(rng, ["RS256", "HS512", "ES256"]))
    token = make_token(header, claims, key, signature)
    if kind == "malformed":
        token = _pick(rng, [token + ".x", token.replace(".", "", 1), "a.b.c", token[:-3] + "!!!", ""])
    elif kind == "tampered_claims":
        head, _, sig = token.split(".")
        token = f"{head}.{b64url(json.dumps(dict(claims, sub='admin')).encode())}.{sig}"
    return {"token": token, "keys": ring, "now": now, "audience": audience, "issuer": issuer, "leeway": leeway}


# =========================================================================== 5. passwords

POLICY_N, POLICY_R, POLICY_P = 2 ** 17, 8, 1
MAXMEM = 256 * 1024 * 1024


def hash_password(password, salt, n=POLICY_N, r=POLICY_R, p=POLICY_P):
    if not isinstance(n, int) or n < 2 or n & (n - 1):
        raise ValueError("n must be a power of 2 above 1")
    if not isinstance(r, int) or r < 1 or not isinstance(p, int) or p < 1:
        raise ValueError("r and p must be >= 1")
    if len(bytes.fromhex(salt)) < 16:
        raise ValueError("salt must be at least 16 bytes")
    digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=n, r=r, p=p, maxmem=MAXMEM,
                            dklen=32)
    return f"scrypt${n}${r}${p}${salt}${digest.hex()}"


def verify_password(password, stored):
    scheme = stored.split("$", 1)[0]
    if scheme == "scrypt":
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=MAXMEM, dklen=len(bytes.fromhex(digest)))
        return hmac.compare_digest(got, bytes.fromhex(digest))
    if scheme == "sha256":
        _, salt, digest = stored.split("$")
        got = hashlib.sha256(bytes.fromhex(salt) + password.encode("utf-8")).digest()
        return hmac.compare_digest(got, bytes.fromhex(digest))
    raise ValueError(f"unknown hash scheme {scheme!r}")


def needs_rehash(stored, n=POLICY_N, r=POLICY_R, p=POLICY_P):
    parts = stored.split("$")
    if parts[0] == "sha256":
        return True
    if parts[0] != "scrypt":
        raise ValueError(f"unknown hash scheme {parts[0]!r}")
    return int(parts[1]) < n or int(parts[2]) < r or int(parts[3]) < p


def login(password, stored, new_salt, n=POLICY_N):
    if not verify_password(password, stored):
        return {"ok": False, "stored": stored}
    if needs_rehash(stored, n=n):
        return {"ok": True, "stored": hash_password(password, new_salt, n=n)}
    return {"ok": True, "stored": stored}


PASSWORDS = ["correct horse battery staple", "hunter2", "", "pässwörd", "密码123", "a" * 100, "Tr0ub4dor&3"]


def _small_n(rng):
    return int(2 ** int(rng.integers(1, 11)))


def _hash_case(rng):
    return {"password": _pick(rng, PASSWORDS) if rng.random() < 0.5 else _draw_text(rng, low=0, high=20),
            "salt": _hex(rng, int(rng.integers(16, 33))), "n": _small_n(rng), "r": int(rng.integers(1, 9)),
            "p": int(rng.integers(1, 3))}


def _stored_for(rng, password):
    roll = rng.random()
    salt = _hex(rng, 16)
    if roll < 0.35:
        return f"sha256${salt}${hashlib.sha256(bytes.fromhex(salt) + password.encode()).hexdigest()}"
    return hash_password(password, salt, n=_small_n(rng), r=int(rng.integers(1, 9)), p=1)


def _login_case(rng):
    password = _pick(rng, PASSWORDS) if rng.random() < 0.5 else _draw_text(rng, low=0, high=20)
    tried = password if rng.random() < 0.6 else _pick(rng, [password + " ", password.upper() + "x", "hunter3", ""])
    return {"password": tried, "stored": _stored_for(rng, password), "new_salt": _hex(rng, 16),
            "n": _small_n(rng)}


# =========================================================================== 6. audit log

GENESIS = "0" * 64


def canonical_json(record):
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(prev_hash, record):
    if not re.fullmatch(r"[0-9a-f]{64}", str(prev_hash)):
        raise ValueError("prev_hash is 64 lower-case hex digits")
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical_json(record)).hexdigest()


def build_log(records):
    entries, prev = [], GENESIS
    for index, record in enumerate(records):
        h = entry_hash(prev, record)
        entries.append({"index": index, "record": record, "prev": prev, "hash": h})
        prev = h
    return entries


def sign_checkpoint(private_hex, index, hash_hex):
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return {"index": index, "hash": hash_hex, "signature": key.sign(f"{index}:{hash_hex}".encode()).hex()}


def _checkpoint_ok(checkpoint, public):
    try:
        public.verify(bytes.fromhex(checkpoint["signature"]), f"{checkpoint['index']}:{checkpoint['hash']}".encode())
        return True
    except (InvalidSignature, ValueError):
        return False


def verify_log(entries, checkpoints, public_key):
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
    bad, prev = None, GENESIS
    for i, entry in enumerate(entries):
        if entry.get("index") != i or entry.get("prev") != prev or entry.get("hash") != entry_hash(prev, entry["record"]):
            bad = i
            break
        prev = entry["hash"]
    last_good = -1
    for checkpoint in sorted(checkpoints, key=lambda c: c["index"]):
        k = checkpoint["index"]
        if _checkpoint_ok(checkpoint, public) and k < len(entries) and entries[k].get("hash") == checkpoint["hash"]:
            last_good = k
            continue
        bad = last_good + 1 if bad is None else min(bad, last_good + 1)
        break
    return bad


ACTORS = ["alice", "bob", "carol", "Zoë", "svc-payroll"]
EVENTS = ["login", "export", "grant", "revoke", "approve-payment", "delete-record"]


def _draw_record(rng, t):
    record = {"t": t, "actor": _pick(rng, ACTORS), "event": _pick(rng, EVENTS)}
    if rng.random() < 0.5:
        record["amount"] = int(rng.integers(1, 100_000))
    if rng.random() < 0.2:
        record["details"] = {"ip": _pick(rng, IPS), "note": _pick(rng, ["", "ok", "über", "a\"b"])}
    return record


TAMPERS = ["none", "none", "alter", "alter_rehash", "rewrite_tail", "delete", "delete_tail", "swap", "insert",
           "forge_checkpoint", "reindex"]


def _draw_log_case(rng):
    seed_hex = _hex(rng, 32)
    private, public = ed25519_pair(seed_hex)
    n = int(rng.integers(1, 40))
    t = int(rng.integers(1_700_000_000, 1_800_000_000))
    records = []
    for _ in range(n):
        t += int(rng.integers(1, 600))
        records.append(_draw_record(rng, t))
    entries = build_log(records)
    every = int(rng.integers(1, 11))
    checkpoints = [sign_checkpoint(private, i, entries[i]["hash"]) for i in range(every - 1, n, every)]
    kind = _pick(rng, TAMPERS)
    i = int(rng.integers(n))
    if kind == "alter":
        entries[i]["record"] = dict(entries[i]["record"], actor="mallory")
    elif kind == "alter_rehash":
        entries[i]["record"] = dict(entries[i]["record"], amount=1)
        entries[i]["hash"] = entry_hash(entries[i]["prev"], entries[i]["record"])
    elif kind == "rewrite_tail":
        records[i] = dict(records[i], event="approve-payment", amount=999_999)
        entries = build_log(records)
    elif kind == "delete" and n > 1:
        del entries[i]
    elif kind == "delete_tail":
        entries = entries[:i]
    elif kind == "swap" and n > 1:
        j = (i + 1) % n
        entries[i], entries[j] = entries[j], entries[i]
    elif kind == "insert":
        entries.insert(i, dict(entries[i], record=_draw_record(rng, t)))
    elif kind == "forge_checkpoint" and checkpoints:
        c = _pick(rng, range(len(checkpoints)))
        checkpoints[c] = dict(checkpoints[c], hash=entries[min(n - 1, checkpoints[c]["index"])]["prev"])
    elif kind == "reindex" and n > 1:
        entries[i] = dict(entries[i], index=i + 1)
    return {"entries": entries, "checkpoints": checkpoints, "public_key": public}


def log_cases(seed, n=150):
    rng = np.random.default_rng(seed)
    return [_draw_log_case(rng) for _ in range(n)]



# =========================================================================== 7. envelope encryption


def run_vault(cls, ops, master_kid, master_key):
    """What ``course.security.run_vault`` must return for a correct ``Vault`` (a model: no cryptography needed
    to say what each operation gives). ``cls`` is not used."""
    has_key, forgotten, texts, kid, out = set(), set(), {}, master_kid, []
    for op in ops:
        kind, args = op[0], op[1:]
        if kind == "put":
            if args[0] in forgotten:
                out.append("KeyGone")
                continue
            has_key.add(args[0])
            texts.setdefault((args[0], args[1]), []).append(args[2])
            out.append("stored")
        elif kind in ("get", "get_old"):
            out.append("KeyGone" if args[0] in forgotten else texts[(args[0], args[1])][-1 if kind == "get" else 0])
        elif kind in ("swap", "flip"):
            out.append("KeyGone" if args[0] in forgotten else "Tampered")
        elif kind == "cross":
            out.append("KeyGone" if args[1] in forgotten or args[1] not in has_key else "Tampered")
        elif kind == "rotate":
            kid = args[0]
            out.append(len(has_key - forgotten))
        elif kind == "forget":
            out.append(args[0] in has_key and args[0] not in forgotten)
            forgotten.add(args[0])
        elif kind == "table":
            out.append(sorted([u, kid] for u in has_key - forgotten))
    out.append({"nonces_unique": True})
    return out


VAULT_USERS = ["ana", "ben", "chloé", "dev-1"]
VAULT_TEXTS = ["", "hello", "Zoë's diagnosis: healthy", "密码", "x" * 200, "card 4111-1111-1111-1111"]


def _draw_vault(rng):
    users = VAULT_USERS[:int(rng.integers(1, 5))]
    stored, ops, forgotten, rotations = [], [], set(), 0
    for _ in range(int(rng.integers(3, 41))):
        roll = rng.random()
        user = _pick(rng, users)
        if not stored or roll < 0.35:
            record = f"r{int(rng.integers(1, 6))}"
            text = _pick(rng, VAULT_TEXTS) if rng.random() < 0.5 else _draw_text(rng, low=0, high=40)
            ops.append(["put", user, record, text])
            if user not in forgotten:
                stored.append((user, record))
            continue
        user, record = _pick(rng, stored)
        if roll < 0.55:
            ops.append([_pick(rng, ["get", "get", "get_old"]), user, record])
        elif roll < 0.62:
            others = [r for u, r in stored if u == user and r != record]
            ops.append(["swap", user, record, _pick(rng, others)] if others else ["flip", user, record])
        elif roll < 0.69:
            ops.append(["cross", user, _pick(rng, [u for u in VAULT_USERS if u != user]), record])
        elif roll < 0.75:
            ops.append(["flip", user, record])
        elif roll < 0.83 and rotations < 3:
            rotations += 1
            ops.append(["rotate", f"master-{rotations}", _hex(rng, 32)])
        elif roll < 0.9:
            ops.append(["forget", user])
            forgotten.add(user)
        else:
            ops.append(["table"])
    return {"ops": ops, "master_kid": "master-0", "master_key": _hex(rng, 32)}


_V = {"master_kid": "m0", "master_key": "42" * 32}

# =========================================================================== contracts

_SIGN_BASE = {"request": VANILLA["request"], "secret_key": VANILLA["secret_key"], "amz_date": VANILLA["amz_date"],
              "region": "us-east-1", "service": "service"}


def _reordered(request):
    return dict(request, query=request["query"][::-1])


_Q = {"method": "GET", "path": "/reports", "headers": {"Host": "s3.example.com", "X-Amz-Date": "20261207T111500Z"},
      "body": ""}

_KEYS_FIXED = {"h1": {"alg": "HS256", "secret": "11" * 32}}
_NOW = 1_800_000_000.0


def _fixed_token(claims, leeway=30, header=None):
    return {"token": make_token(header or {"alg": "HS256", "kid": "h1"}, claims, {"secret": "11" * 32}),
            "keys": _KEYS_FIXED, "now": _NOW, "audience": "api", "issuer": "https://auth.example.com",
            "leeway": leeway}


_CLAIMS = {"sub": "u1", "iss": "https://auth.example.com", "aud": "api", "exp": _NOW + 100}

_LOG_PRIV, _LOG_PUB = ed25519_pair("22" * 32)
_LOG_RECORDS = [{"t": 1_800_000_000 + i, "actor": "alice", "event": "export"} for i in range(6)]


def _log_case(tamper=None, checkpoints_at=(2, 5)):
    entries = build_log(_LOG_RECORDS)
    checkpoints = [sign_checkpoint(_LOG_PRIV, i, entries[i]["hash"]) for i in checkpoints_at]
    if tamper:
        entries, checkpoints = tamper(entries, checkpoints)
    return {"entries": entries, "checkpoints": checkpoints, "public_key": _LOG_PUB}


def _rehash_at(i):
    def tamper(entries, checkpoints):
        records = [e["record"] for e in entries]
        records[i] = dict(records[i], event="grant")
        return build_log(records), checkpoints
    return tamper


_stream_event = {"request": VANILLA["request"], "access_key": "AKIDEXAMPLE", "amz_date": "20150830T123600Z",
                 "region": "us-east-1", "service": "service", "signature": sign_request(**_SIGN_BASE)}

CONTRACTS = {c.name: c for c in [
    Contract(
        "evaluate", evaluate, draw=_evaluate_case,
        domain="3 principals, 10 actions, 10 resources of S3, DynamoDB, KMS and IAM; 0 to 3 identity policies of "
               "1 to 3 statements, a resource policy half the time, a boundary a third of the time; wildcards, "
               "`NotAction`, and conditions of all five operators on a varying context",
        rules=_EVALUATE_RULES),
    Contract(
        "least_privilege", least_privilege, draw=_draw_log,
        domain="logs of 0 to 120 calls by 3 principals over 10 actions and 10 resources, 15% of them denied, "
               "some action names in another case",
        rules=[edge("an empty log grants nothing: a policy with no statements", {"log": []}),
               edge("a call the log shows as denied (`allowed` false) is not granted",
                    {"log": [{"principal": ALICE, "action": "s3:GetObject", "resource": Q1, "allowed": False}]},
                    {"log": [{"principal": ALICE, "action": "s3:GetObject", "resource": Q1, "allowed": False},
                             {"principal": ALICE, "action": "s3:PutObject", "resource": Q1, "allowed": True}]}),
               edge("action names that differ only in case are one action, written in lower case",
                    {"log": [{"principal": ALICE, "action": "s3:GetObject", "resource": Q1, "allowed": True},
                             {"principal": ALICE, "action": "S3:GETOBJECT", "resource": Q1, "allowed": True}]}),
               edge("statements are sorted by resource, actions sorted within each; every resource appears once",
                    {"log": [{"principal": ALICE, "action": a, "resource": r, "allowed": True}
                             for a, r in [("s3:PutObject", "arn:aws:s3:::b"), ("s3:GetObject", "arn:aws:s3:::a"),
                                          ("s3:DeleteObject", "arn:aws:s3:::b"), ("s3:GetObject", "arn:aws:s3:::b")]]})]),
    Contract(
        "canonical_request", canonical_request, draw=lambda rng: {"request": _draw_http(rng)},
        domain="methods, paths, 0 to 5 query parameters with spaces, `~`, `/`, `*` and non-ASCII, 1 to 6 headers in "
               "mixed case with runs of spaces, bodies of 0 to 30 characters",
        rules=[edge("query parameters are sorted by encoded name, then value: any order of the same parameters "
                    "gives the same text",
                    {"request": dict(_Q, query=[["b", "2"], ["a", "1"], ["a", "0"]])},
                    {"request": dict(_Q, query=[["a", "0"], ["a", "1"], ["b", "2"]])},
                    {"request": dict(_Q, query=[["B", "1"], ["a", "1"]])}),
               edge("names and values are percent-encoded except `A-Z a-z 0-9 - _ . ~` (a space is `%20`, `/` is "
                    "`%2F`)", {"request": dict(_Q, query=[["key with space", "x/y~z*"], ["ü", "é+="]])}),
               edge("header names are lower-cased and sorted; values trimmed, inner runs of spaces made one",
                    {"request": dict(_Q, headers={"X-Amz-Date": "  20261207T111500Z ", "host": "a   b"})}),
               edge("an empty path is `/`; no query is an empty line; the body is hashed even when empty",
                    {"request": {"method": "get", "path": "", "query": [], "headers": {"Host": "h"}, "body": ""}})]),
    Contract(
        "sign_request", sign_request, draw=_sign_case,
        domain="requests as for `canonical_request`, secrets of 16 to 40 characters, dates from 2023 to 2030, "
               "4 regions and 5 services",
        rules=[Rule("`amz_date` is `YYYYMMDDTHHMMSSZ`, else `ValueError`",
                    at={"amz_date": "20150830T123600Z"}, inside={"amz_date": "20261207T000000Z"},
                    outside=[{"amz_date": "2015-08-30T12:36:00Z"}, {"amz_date": "20150830"},
                             {"amz_date": "20150830T123600"}]),
               edge("AWS's documented example `get-vanilla` (Signature Version 4 test suite)", _SIGN_BASE),
               edge("the same parameters in another order give the same signature",
                    dict(_SIGN_BASE, request=dict(_Q, query=[["prefix", "2026/"], ["max-keys", "10"]])),
                    dict(_SIGN_BASE, request=dict(_Q, query=[["max-keys", "10"], ["prefix", "2026/"]])))]),
    Contract(
        "verify_stream", verify_stream, draw=_draw_stream,
        domain="1 to 15 requests from 1 to 3 keys, skews of 60, 300 and 900 s, with replays (some with the query "
               "reordered), tampered headers, query, body and path, other scopes, altered signatures, unknown "
               "keys, and clocks at, inside and outside the window",
        rules=[edge("a request exactly `skew` seconds away is inside the window; one more second is outside",
                    {"events": [dict(_stream_event, now=amz_epoch("20150830T123600Z") + 300)],
                     "secrets": {"AKIDEXAMPLE": VANILLA["secret_key"]}, "skew": 300},
                    {"events": [dict(_stream_event, now=amz_epoch("20150830T123600Z") - 301)],
                     "secrets": {"AKIDEXAMPLE": VANILLA["secret_key"]}, "skew": 300}),
               edge("the same signed request a second time is a replay; a bad one never enters the replay cache",
                    {"events": [dict(_stream_event, now=amz_epoch("20150830T123600Z"))] * 2,
                     "secrets": {"AKIDEXAMPLE": VANILLA["secret_key"]}, "skew": 300},
                    {"events": [dict(_stream_event, now=amz_epoch("20150830T123600Z"),
                                     request=_tampered(np.random.default_rng(0), VANILLA["request"])),
                                dict(_stream_event, now=amz_epoch("20150830T123600Z"))],
                     "secrets": {"AKIDEXAMPLE": VANILLA["secret_key"]}, "skew": 300}),
               edge("an unknown access key is reported before anything else",
                    {"events": [dict(_stream_event, access_key="AKIDOTHER", now=0.0)],
                     "secrets": {"AKIDEXAMPLE": VANILLA["secret_key"]}, "skew": 300}),
               edge("`skew` defaults to 300 seconds",
                    {"events": [dict(_stream_event, now=amz_epoch("20150830T123600Z") + d) for d in (300, 301)],
                     "secrets": {"AKIDEXAMPLE": VANILLA["secret_key"]}, "skew": OMIT})]),
    Contract(
        "verify_jwt", verify_jwt, draw=_draw_token_case,
        domain="key rings of 2 to 4 HS256 and Ed25519 keys; valid tokens and forgeries of every kind the exercise "
               "names, with leeways of 0 to 120 s and claims with non-ASCII text",
        rules=[Rule("`leeway` >= 0, else `ValueError`", at=_fixed_token(_CLAIMS, leeway=0),
                    inside=_fixed_token(_CLAIMS, leeway=1), outside=_fixed_token(_CLAIMS, leeway=-1)),
               boundary("a token is expired from `now >= exp + leeway` on",
                        at=_fixed_token(dict(_CLAIMS, exp=_NOW - 30)), inside=_fixed_token(dict(_CLAIMS, exp=_NOW - 29)),
                        outside=_fixed_token(dict(_CLAIMS, exp=_NOW - 31))),
               boundary("a token is not yet valid while `now < nbf - leeway`",
                        at=_fixed_token(dict(_CLAIMS, nbf=_NOW + 30)), inside=_fixed_token(dict(_CLAIMS, nbf=_NOW + 29)),
                        outside=_fixed_token(dict(_CLAIMS, nbf=_NOW + 31))),
               edge("`alg: none` in any letter case is refused (rule `alg`)",
                    _fixed_token(_CLAIMS, header={"alg": "none", "kid": "h1"}),
                    _fixed_token(_CLAIMS, header={"alg": "HS512", "kid": "h1"})),
               edge("a header or claims that are JSON but not objects are `malformed`, even when signed",
                    dict(_fixed_token(_CLAIMS), token=make_token({"alg": "HS256", "kid": "h1"}, ["not", "claims"],
                                                                 {"secret": "11" * 32})),
                    dict(_fixed_token(_CLAIMS), token=b64url(b"[1]") + "." + b64url(b"{}") + ".")),
               edge("the `alg` rule comes before the `kid` rule: `{ }` as header, or `none` without `kid`, is `alg`",
                    dict(_fixed_token(_CLAIMS), token="eyB9.eyB9."),
                    _fixed_token(_CLAIMS, header={"alg": "none"})),
               edge("a token without `kid`, or with a `kid` not in `keys`, breaks rule `kid`",
                    _fixed_token(_CLAIMS, header={"alg": "HS256"}),
                    _fixed_token(_CLAIMS, header={"alg": "HS256", "kid": "h2"})),
               edge("`aud` may be a list that contains `audience`", _fixed_token(dict(_CLAIMS, aud=["x", "api"])),
                    _fixed_token(dict(_CLAIMS, aud=["x", "API"]))),
               edge("a token without `exp` breaks rule `exp`",
                    _fixed_token({k: v for k, v in _CLAIMS.items() if k != "exp"})),
               edge("`leeway` defaults to 30 seconds", dict(_fixed_token(dict(_CLAIMS, exp=_NOW - 30)), leeway=OMIT),
                    dict(_fixed_token(dict(_CLAIMS, exp=_NOW - 29)), leeway=OMIT))]),
    Contract(
        "hash_password", hash_password, draw=_hash_case,
        domain="passwords of 0 to 100 characters (some non-ASCII), salts of 16 to 32 bytes, n from 2 to 1,024, "
               "r from 1 to 8, p 1 or 2 (small costs keep the tests fast)",
        rules=[Rule("`n` is a power of 2 greater than 1, else `ValueError`", at={"n": 2}, inside={"n": 4},
                    outside=[{"n": 1}, {"n": 3}, {"n": 1000}]),
               Rule("`salt` has at least 16 bytes (32 hex digits), else `ValueError`", at={"salt": "ab" * 16},
                    inside={"salt": "ab" * 17}, outside={"salt": "ab" * 15}),
               edge("an empty and a non-ASCII password hash as UTF-8", {"password": ""}, {"password": "密码 ü"}),
               edge("`n`, `r` and `p` default to the policy: 2**17, 8 and 1",
                    {"password": "pw", "salt": "00" * 16, "n": OMIT, "r": OMIT, "p": OMIT})]),
    Contract(
        "verify_password", verify_password,
        draw=lambda rng: (lambda c: {"password": c["password"], "stored": c["stored"]})(_login_case(rng)),
        domain="both formats, stored at n from 2 to 1,024, right and near-miss passwords",
        rules=[Rule("a stored hash of another scheme gives `ValueError`",
                    at={"stored": "sha256$" + "00" * 16 + "$" + hashlib.sha256(b"\0" * 16 + b"pw").hexdigest(),
                        "password": "pw"},
                    inside={"stored": hash_password("pw", "00" * 16, n=2, r=1), "password": "pw"},
                    outside=[{"stored": "md5$00$00"}, {"stored": "bcrypt$2b$12$abc"}]),
               edge("a password that differs only by a trailing space or case is wrong",
                    {"password": "pw ", "stored": hash_password("pw", "00" * 16, n=2, r=1)},
                    {"password": "PW", "stored": hash_password("pw", "00" * 16, n=2, r=1)})]),
    Contract(
        "login", login, draw=_login_case,
        domain="old SHA-256 and scrypt hashes at costs below, at and above the policy's `n`, right and wrong passwords",
        rules=[boundary("a hash at exactly the policy's cost is kept; one below it is replaced",
                        at={"password": "pw", "stored": hash_password("pw", "00" * 16, n=64, r=8), "n": 64},
                        inside={"password": "pw", "stored": hash_password("pw", "00" * 16, n=128, r=8), "n": 64},
                        outside={"password": "pw", "stored": hash_password("pw", "00" * 16, n=32, r=8), "n": 64}),
               edge("an `r` below 8 is below the policy too",
                    {"password": "pw", "stored": hash_password("pw", "00" * 16, n=64, r=4), "n": 64}),
               edge("a wrong password never re-hashes, whatever the format",
                    {"password": "nope", "stored": "sha256$" + "00" * 16 + "$"
                     + hashlib.sha256(b"\0" * 16 + b"pw").hexdigest(), "n": 16}),
               edge("`n` defaults to the policy's 2**17",
                    {"password": "pw", "stored": "sha256$" + "00" * 16 + "$"
                     + hashlib.sha256(b"\0" * 16 + b"pw").hexdigest(), "new_salt": "11" * 16, "n": OMIT}),
               edge("an old `sha256$` hash is replaced by an scrypt one on a successful login",
                    {"password": "pw", "stored": "sha256$" + "00" * 16 + "$"
                     + hashlib.sha256(b"\0" * 16 + b"pw").hexdigest(), "n": 16})]),
    Contract(
        "entry_hash", entry_hash,
        draw=lambda rng: {"prev_hash": _hex(rng, 32) if rng.random() < 0.8 else GENESIS,
                          "record": _draw_record(rng, int(rng.integers(1_700_000_000, 1_800_000_000)))},
        domain="random previous hashes and the genesis hash; records with nested objects and non-ASCII text",
        rules=[Rule("`prev_hash` is 64 lower-case hex digits, else `ValueError`", at={"prev_hash": GENESIS},
                    inside={"prev_hash": "ab" * 32}, outside=[{"prev_hash": "0" * 63}, {"prev_hash": "AB" * 32}]),
               edge("key order in the record does not change the hash; non-ASCII is hashed as UTF-8",
                    {"prev_hash": GENESIS, "record": {"b": 1, "a": "Zoë"}},
                    {"prev_hash": GENESIS, "record": {"a": "Zoë", "b": 1}})]),
    Contract(
        "verify_log", verify_log, draw=_draw_log_case,
        domain="logs of 1 to 39 entries, a signed checkpoint every 1 to 10 entries, intact or with one alteration, "
               "re-hashed alteration, rewritten tail, deletion, truncation, swap, insertion, re-indexing or forged "
               "checkpoint",
        rules=[edge("an intact log gives None", _log_case()),
               edge("an altered record whose own hash was recomputed is found at the next entry",
                    _log_case(lambda e, c: (e[:2] + [dict(e[2], record={"t": 0}, hash=entry_hash(e[2]["prev"],
                                                                                                  {"t": 0}))] + e[3:], c))),
               edge("a tail rewritten with valid links is found by the signed checkpoint: the entry after the last "
                    "checkpoint that agrees", _log_case(_rehash_at(4)), _log_case(_rehash_at(1))),
               edge("a checkpoint whose signature does not verify does not vouch for anything",
                    _log_case(lambda e, c: (e, [c[0], dict(c[1], signature=c[0]["signature"])]))),
               edge("entries deleted from the end are found by a checkpoint past the end",
                    _log_case(lambda e, c: (e[:4], c))),
               edge("an empty log with no checkpoints is intact", {"entries": [], "checkpoints": [],
                                                                   "public_key": _LOG_PUB})]),
    Contract(
        "Vault", run_vault, draw=_draw_vault, supplied=("cls",), constant=("master_kid",),
        domain="scripts of 3 to 40 operations on 1 to 4 users and 5 record ids, texts of 0 to 200 characters "
               "(some non-ASCII), up to 3 master-key rotations, forgotten users, swapped, moved and altered "
               "records; `master_kid` is always `master-0` (the rotations name the others)",
        rules=[edge("a record reads back, also an empty and a non-ASCII text, also from an old backup",
                    dict(_V, ops=[["put", "ana", "r1", ""], ["put", "ana", "r2", "Zoë 密码"], ["get", "ana", "r1"],
                                  ["put", "ana", "r2", "new"], ["get_old", "ana", "r2"], ["get", "ana", "r2"]])),
               edge("a record's blob moved to another record id, or to another user, gives `Tampered`",
                    dict(_V, ops=[["put", "ana", "r1", "one"], ["put", "ana", "r2", "two"], ["swap", "ana", "r1", "r2"],
                                  ["put", "ben", "r1", "bens"], ["cross", "ana", "ben", "r1"]])),
               edge("an altered ciphertext gives `Tampered`",
                    dict(_V, ops=[["put", "ana", "r1", "secret text"], ["flip", "ana", "r1"]])),
               edge("after `forget`, every record of the user, old backups included, gives `KeyGone`; a second "
                    "`forget` says False; a new `put` for that user gives `KeyGone`",
                    dict(_V, ops=[["put", "ana", "r1", "a"], ["put", "ben", "r1", "b"], ["forget", "ana"],
                                  ["get_old", "ana", "r1"], ["get", "ben", "r1"], ["forget", "ana"],
                                  ["put", "ana", "r2", "c"], ["table"]])),
               edge("after a master-key rotation, every record stored before it still reads, and the key table "
                    "names the new master key only",
                    dict(_V, ops=[["put", "ana", "r1", "a"], ["put", "ben", "r1", "b"], ["rotate", "m1", "17" * 32],
                                  ["get_old", "ana", "r1"], ["table"], ["rotate", "m2", "18" * 32],
                                  ["get", "ben", "r1"], ["table"]])),
               edge("a user who never stored anything has no key: `KeyGone`; forgetting them says False",
                    dict(_V, ops=[["put", "ana", "r1", "a"], ["cross", "ana", "ben", "r1"], ["forget", "ben"]]))]),
]}
