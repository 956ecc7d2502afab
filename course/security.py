"""Helpers for module 13 (security and compliance by design): making tokens and signed checkpoints to
verify, a probe that sees whether a comparison went through ``hmac.compare_digest``, a scrypt cost
measurement and the figures.

Making a token or signing a checkpoint is not what the exercises ask (they ask you to *verify* them),
so these helpers give nothing away. Keys here are hex strings; the cryptography is the standard
library's (``hmac``, ``hashlib``) and the ``cryptography`` package's Ed25519, never home-made.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Callable

__all__ = ["b64url", "make_token", "ed25519_pair", "sign_checkpoint", "compare_digest_calls", "scrypt_costs",
           "plot_scrypt_costs"]


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515, section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_token(header: dict, claims: dict, key: dict | None, signature: bytes | None = None) -> str:
    """A compact JWS ``header.claims.signature``. ``key``: ``{"secret": hex}`` signs HS256 (HMAC-SHA-256),
    ``{"private": hex}`` signs Ed25519 (whatever ``header["alg"]`` says: forgeries are made that way), None
    leaves the signature empty; ``signature`` replaces the computed one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signed = f"{head}.{body}".encode()
    if signature is None and key is not None:
        if "secret" in key:
            signature = hmac.new(bytes.fromhex(key["secret"]), signed, hashlib.sha256).digest()
        else:
            signature = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key["private"])).sign(signed)
    return f"{head}.{body}.{b64url(signature or b'')}"


def ed25519_pair(seed_hex: str) -> tuple[str, str]:
    """``(private, public)`` as hex: the 32-byte private seed and its raw 32-byte public key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    return seed_hex, private.public_key().public_bytes_raw().hex()


def sign_checkpoint(private_hex: str, index: int, hash_hex: str) -> dict:
    """A checkpoint of the audit log: Ed25519 signature over the text ``f"{index}:{hash_hex}"``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return {"index": index, "hash": hash_hex, "signature": key.sign(f"{index}:{hash_hex}".encode()).hex()}


def compare_digest_calls(fn: Callable, kwargs: dict) -> dict:
    """Call ``fn(**kwargs)`` while ``hmac.compare_digest`` and ``secrets.compare_digest`` count their calls.
    Run it beside the learner's code (``autograde.beside.beside_learner``), where those modules are the
    learner's. Returns ``{"calls": n, "error": class name of what fn raised, or None}``."""
    import secrets

    calls = [0]
    original_hmac, original_secrets = hmac.compare_digest, secrets.compare_digest

    def counting(a, b):
        calls[0] += 1
        return original_hmac(a, b)

    hmac.compare_digest = secrets.compare_digest = counting
    error = None
    try:
        fn(**kwargs)
    except Exception as exc:  # what it raised is judged elsewhere; only the comparison counts here
        error = type(exc).__name__
    finally:
        hmac.compare_digest, secrets.compare_digest = original_hmac, original_secrets
    return {"calls": calls[0], "error": error}


def scrypt_costs(log2_ns=(10, 12, 14, 15, 16, 17), r: int = 8, p: int = 1, repeats: int = 3) -> list[dict]:
    """Seconds and memory of one ``hashlib.scrypt`` at each ``n = 2**k`` (best of ``repeats``): memory is
    128 * r * n bytes (Percival 2009)."""
    out = []
    for k in log2_ns:
        n = 2 ** k
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            hashlib.scrypt(b"password", salt=b"0" * 16, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)
            best = min(best, time.perf_counter() - start)
        out.append({"n": n, "seconds": best, "memory_mib": 128 * r * n / 2 ** 20})
    return out


def plot_scrypt_costs(costs: list[dict], sha256_seconds: float):
    """Seconds per password guess against scrypt's n (log-log), with one SHA-256 for comparison."""
    from course.plotting import new_figure

    fig, ax = new_figure("Cost of one password guess", "scrypt n (r = 8, p = 1)", "seconds per guess")
    ax.loglog([c["n"] for c in costs], [c["seconds"] for c in costs], "o-", base=2, label="scrypt")
    ax.axhline(sha256_seconds, color="tab:red", linestyle="--", label="one salted SHA-256 (the old format)")
    ax.legend()
    return fig, ax


# --------------------------------------------------------------------------- envelope encryption (exercise 10)

class KeyGone(LookupError):
    """The user's key does not exist: never created, or destroyed by ``forget`` (crypto-shredding)."""


class Tampered(ValueError):
    """A record did not decrypt: its ciphertext, nonce or wrapped key changed, or it was moved to another
    record id or user (AES-GCM's tag did not verify)."""


def _blob_problem(blob: Any, plaintext: str) -> str | None:
    if not isinstance(blob, dict) or not blob or not all(isinstance(k, str) and isinstance(v, str)
                                                          for k, v in blob.items()):
        return "put must return a dict of str to hex str"
    for value in blob.values():
        try:
            bytes.fromhex(value)
        except ValueError:
            return "every value of the blob is hex"
    if sorted(blob) != ["ciphertext", "key_nonce", "nonce", "wrapped_key"]:
        return "the blob has the keys key_nonce, wrapped_key, nonce and ciphertext"
    if len(blob["nonce"]) != 24 or len(blob["key_nonce"]) != 24:
        return "nonces are 12 bytes (24 hex digits), the length NIST SP 800-38D recommends for GCM"
    encoded = plaintext.encode("utf-8")
    if len(encoded) >= 4 and any(plaintext in v or encoded.hex() in v for v in blob.values()):
        return "the plaintext appears in the blob"
    return None


def run_vault(cls: Callable, ops: list, master_kid: str, master_key: str) -> list:
    """Drive a learner's ``Vault(master_kid, master_key)`` through ``ops`` and return one plain result per op,
    then whether every nonce it used was different. The driver keeps every blob ``put`` returned (the database
    and its backups); ops:

    - ``["put", user, record_id, text]`` -> ``"stored"`` (or what is wrong with the blob, or the error's name);
    - ``["get", user, record_id]`` / ``["get_old", user, record_id]`` -> the text, from the latest / the first blob
      stored for that record (an old backup), or the error's name (``"KeyGone"``, ``"Tampered"``);
    - ``["swap", user, record_a, record_b]`` -> ``get(user, record_a, blob of record_b)``;
    - ``["cross", user_a, user_b, record_id]`` -> ``get(user_b, record_id, blob of user_a's record)``;
    - ``["flip", user, record_id]`` -> ``get`` with the last hex digit of the ciphertext changed;
    - ``["rotate", kid, key]`` -> ``rotate_master(kid, key)``; ``["forget", user]`` -> ``forget(user)``;
    - ``["table"]`` -> ``key_table()`` as sorted ``[user, master_kid]`` pairs.
    """
    vault = cls(master_kid, master_key)
    first, latest, nonces, out, wrapped = {}, {}, [], [], set()

    def call(method, *args):
        try:
            return getattr(vault, method)(*args)
        except (KeyGone, Tampered) as exc:
            return type(exc).__name__
        except Exception as exc:  # noqa: BLE001 (any other error is reported by name, and is wrong)
            return f"{type(exc).__name__}"

    def note_table():  # the user keys' wrapping nonces, each distinct (user, master key, nonce) once
        table = call("key_table")
        if isinstance(table, dict):
            wrapped.update((u, str(v.get("master_kid")), str(v.get("nonce"))) for u, v in table.items())

    for op in ops:
        kind, args = op[0], op[1:]
        if kind == "put":
            blob = call("put", *args)
            if isinstance(blob, str):
                out.append(blob)
                continue
            problem = _blob_problem(blob, args[2])
            if problem:
                out.append(problem)
                continue
            key = (args[0], args[1])
            first.setdefault(key, dict(blob))
            latest[key] = dict(blob)
            nonces += [v for k, v in blob.items() if "nonce" in k]
            note_table()
            out.append("stored")
        elif kind in ("get", "get_old"):
            out.append(call("get", args[0], args[1], (latest if kind == "get" else first)[(args[0], args[1])]))
        elif kind == "swap":
            out.append(call("get", args[0], args[1], latest[(args[0], args[2])]))
        elif kind == "cross":
            out.append(call("get", args[1], args[2], latest[(args[0], args[2])]))
        elif kind == "flip":
            blob = dict(latest[(args[0], args[1])])
            name = "ciphertext" if "ciphertext" in blob else sorted(blob)[-1]
            blob[name] = blob[name][:-1] + ("0" if blob[name][-1:] != "0" else "1")
            out.append(call("get", args[0], args[1], blob))
        elif kind == "rotate":
            out.append(call("rotate_master", *args))
            note_table()
        elif kind == "forget":
            out.append(call("forget", *args))
        elif kind == "table":
            table = call("key_table")
            out.append(sorted([u, str(v.get("master_kid"))] for u, v in table.items()) if isinstance(table, dict)
                       else table)
        else:
            raise ValueError(f"unknown op {kind!r}")
    note_table()
    nonces += [nonce for _, _, nonce in wrapped]
    out.append({"nonces_unique": len(nonces) == len(set(nonces))})
    return out
