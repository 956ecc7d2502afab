"""course.security (module 13's helpers) and the reference's cryptography, checked against independent
sources: AWS's published SigV4 example, the `cryptography` package's own Ed25519 verification, and the
stated IAM evaluation order on AWS's documented examples."""

from __future__ import annotations

import hashlib
import hmac
import json
import os

import numpy as np
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from autograde.reference import security as ref
from course import security as sec


def test_sigv4_matches_aws_published_get_vanilla_signature():
    """AWS's Signature Version 4 test suite, request `get-vanilla` (AWS documentation example secret)."""
    got = ref.sign_request(**ref._SIGN_BASE)
    assert got == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", got


def test_sigv4_reordered_query_same_signature_tampered_header_not():
    rng = np.random.default_rng(7)
    for case_index in range(50):
        case = ref._sign_case(rng)
        base = ref.sign_request(**case)
        reordered = dict(case, request=dict(case["request"], query=case["request"]["query"][::-1]))
        assert ref.sign_request(**reordered) == base, f"seed 7, case {case_index}"
        tampered = dict(case, request=ref._tampered(rng, case["request"]))
        assert ref.sign_request(**tampered) != base, f"seed 7, case {case_index}"


def test_make_token_is_verified_by_cryptography_and_hmac():
    private, public = sec.ed25519_pair("7b" * 32)
    token = sec.make_token({"alg": "EdDSA", "kid": "a"}, {"sub": "x"}, {"private": private})
    head, body, sig = token.split(".")
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(ref.b64url_decode(sig), f"{head}.{body}".encode())
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(ref.b64url_decode(sig), f"{head}.x".encode())
    token = sec.make_token({"alg": "HS256", "kid": "h"}, {"sub": "x"}, {"secret": "00" * 32})
    head, body, sig = token.split(".")
    assert hmac.compare_digest(hmac.new(b"\0" * 32, f"{head}.{body}".encode(), hashlib.sha256).digest(),
                               ref.b64url_decode(sig))
    assert json.loads(ref.b64url_decode(head)) == {"alg": "HS256", "kid": "h"}
    # the course's and the reference's token makers agree byte for byte
    assert token == ref.make_token({"alg": "HS256", "kid": "h"}, {"sub": "x"}, {"secret": "00" * 32})


def test_checkpoints_of_course_and_reference_agree_and_verify():
    private, public = sec.ed25519_pair("22" * 32)
    cp = sec.sign_checkpoint(private, 3, "ab" * 32)
    assert cp == ref.sign_checkpoint(private, 3, "ab" * 32)
    entries = ref.build_log([{"i": i} for i in range(5)])
    cps = [sec.sign_checkpoint(private, 3, entries[3]["hash"])]
    assert ref.verify_log(entries, cps, public) is None
    assert ref.verify_log(entries, [dict(cps[0], index=2)], public) == 0


def test_compare_digest_probe_counts_calls_and_restores():
    def uses_it(a, b):
        return hmac.compare_digest(a, b)

    def uses_eq(a, b):
        return a == b

    original = hmac.compare_digest
    assert sec.compare_digest_calls(uses_it, {"a": b"x", "b": b"y"}) == {"calls": 1, "error": None}
    assert sec.compare_digest_calls(uses_eq, {"a": b"x", "b": b"y"}) == {"calls": 0, "error": None}
    assert sec.compare_digest_calls(lambda: 1 / 0, {}) == {"calls": 0, "error": "ZeroDivisionError"}
    assert hmac.compare_digest is original


def test_scrypt_costs_memory_formula():
    costs = sec.scrypt_costs(log2_ns=(4, 6), repeats=1)
    assert [c["memory_mib"] for c in costs] == [128 * 8 * 16 / 2 ** 20, 128 * 8 * 64 / 2 ** 20]
    assert all(c["seconds"] > 0 for c in costs)


def test_plot_scrypt_costs_draws_labelled_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = sec.plot_scrypt_costs([{"n": 16, "seconds": 1e-4}, {"n": 64, "seconds": 4e-4}], 1e-6)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    plt.close(fig)


BOUNDARY = {"Statement": [{"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}]}
CREATE = {"Statement": [{"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"}]}


@pytest.mark.parametrize("action, identity, boundary, expected", [
    # AWS, "Permissions boundaries for IAM entities": the boundary allows S3, CloudWatch and EC2, the identity
    # policy allows iam:CreateUser, so CreateUser is denied (not in the boundary).
    ("iam:CreateUser", [CREATE], BOUNDARY, "ImplicitDeny"),
    ("s3:GetObject", [CREATE], BOUNDARY, "ImplicitDeny"),       # the boundary grants nothing
    ("s3:GetObject", [BOUNDARY], BOUNDARY, "Allow"),
    ("s3:GetObject", [BOUNDARY, {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}], None,
     "ExplicitDeny"),
    ("s3:GetObject", [], None, "ImplicitDeny"),
])
def test_reference_evaluation_order_on_documented_examples(action, identity, boundary, expected):
    request = {"principal": ref.ALICE, "action": action, "resource": "arn:aws:s3:::reports/a", "context": {}}
    assert ref.evaluate(request, identity, boundary=boundary) == expected


def test_reference_wildcards_do_not_cross_colons():
    assert ref.match_resource("arn:aws:s3:::reports/*", "arn:aws:s3:::reports/2026/q1.csv")
    assert not ref.match_resource("arn:aws:s3:*", "arn:aws:s3:::reports")
    assert ref.match_resource("*", "arn:aws:s3:::reports")
    assert ref.match_action("S3:get*", "s3:GetObject")
    assert not ref.match_action("*GetObject", "s3:GetObject")


def test_reference_contracts_have_no_problems():
    for name, contract in ref.CONTRACTS.items():
        assert contract.problems() == [], name


def test_run_vault_reports_bad_blobs_and_reused_nonces():
    """The driver says what is wrong with a blob, and sees a nonce used twice."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    class Leaky:
        """Stores the plaintext in the blob, and a fixed nonce: every check of the driver should object."""

        def __init__(self, kid, key):
            self.kid = kid

        def put(self, user, record_id, plaintext):
            nonce = "00" * 12
            return {"key_nonce": nonce, "wrapped_key": "00", "nonce": nonce, "ciphertext": plaintext.encode().hex()}

        def get(self, user, record_id, blob):
            return bytes.fromhex(blob["ciphertext"]).decode()

        def key_table(self):
            return {}

    ops = [["put", "ana", "r1", "secret text"], ["put", "ana", "r2", "ab"], ["put", "ana", "r3", "cd"]]
    assert sec.run_vault(Leaky, ops, "m0", "00" * 32) == ["the plaintext appears in the blob", "stored", "stored",
                                                          {"nonces_unique": False}]

    class ShortNonce(Leaky):
        def put(self, user, record_id, plaintext):
            key = AESGCM.generate_key(bit_length=256)
            nonce = os.urandom(8)
            return {"key_nonce": os.urandom(12).hex(), "wrapped_key": key.hex(), "nonce": nonce.hex(),
                    "ciphertext": AESGCM(key).encrypt(nonce, plaintext.encode(), None).hex()}

    assert sec.run_vault(ShortNonce, ops[:1], "m0", "00" * 32)[0].startswith("nonces are 12 bytes")
    assert ref.run_vault(None, ops, "m0", "00" * 32) == ["stored"] * 3 + [{"nonces_unique": True}]
