"""What module 13's operations cost on this machine, and what the notebook's grading costs per test cell.

    python benchmarks/security_costs.py [--grade]

Prints, per operation, the best of a few timed runs: one password guess with salted SHA-256 (the legacy
format) and with scrypt at n = 2^10 ... 2^17 (r = 8, p = 1; 2^17 is the OWASP minimum the notebook uses), so the
attacker's guesses per second per core; HMAC-SHA256 of a SigV4 string to sign, the whole SigV4 signature,
Ed25519 sign and verify, AES-256-GCM of a 1 KiB record; and the reference policy evaluator's decisions per
second. With ``--grade`` it also grades the solution notebook once and prints its wall time. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def best_of(fn, repeats: int = 5, number: int = 1) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grade", action="store_true", help="also grade the solution notebook once")
    args = parser.parse_args()

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from autograde.reference import security as ref

    rows = []
    sha = best_of(lambda: hashlib.sha256(b"0" * 16 + b"password").digest(), number=10_000)
    rows.append(("salted SHA-256 (legacy password hash)", sha))
    for k in (10, 12, 14, 16, 17):
        seconds = best_of(lambda: hashlib.scrypt(b"password", salt=b"0" * 16, n=2 ** k, r=8, p=1,
                                                 maxmem=2 ** 28, dklen=32), repeats=3)
        rows.append((f"scrypt n=2^{k}, r=8, p=1 ({128 * 8 * 2 ** k / 2 ** 20:g} MiB)", seconds))
    to_sign = ref.string_to_sign(ref.VANILLA["request"], ref.VANILLA["amz_date"], "us-east-1", "service").encode()
    rows.append(("HMAC-SHA256 of a SigV4 string to sign", best_of(lambda: hmac.new(b"k" * 32, to_sign, "sha256").digest(),
                                                                  number=10_000)))
    rows.append(("SigV4 signature (canonical request, key derivation, HMAC)",
                 best_of(lambda: ref.sign_request(**ref._SIGN_BASE), number=2_000)))
    private = Ed25519PrivateKey.from_private_bytes(b"\x01" * 32)
    public, signature = private.public_key(), private.sign(to_sign)
    rows.append(("Ed25519 sign", best_of(lambda: private.sign(to_sign), number=2_000)))
    rows.append(("Ed25519 verify", best_of(lambda: public.verify(signature, to_sign), number=2_000)))
    aes, record, nonce = AESGCM(b"\x02" * 32), os.urandom(1024), os.urandom(12)
    rows.append(("AES-256-GCM encrypt of 1 KiB", best_of(lambda: aes.encrypt(nonce, record, b"ana/r1"), number=10_000)))
    cases = ref.evaluate_cases(seed=1, n=2_000)
    per_case = best_of(lambda: [ref.evaluate(**c) for c in cases], repeats=3) / len(cases)
    rows.append(("reference policy evaluation (seeded requests)", per_case))

    width = max(len(name) for name, _ in rows)
    print(f"{'operation':<{width}}  {'time':>12}  {'per second, one core':>22}")
    for name, seconds in rows:
        shown = f"{seconds * 1e6:,.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:,.1f} ms"
        print(f"{name:<{width}}  {shown:>12}  {1 / seconds:>22,.0f}")
    slowest = rows[5][1]
    print(f"\nan offline guess at the policy (n=2^17) costs {slowest / sha:,.0f} times a salted SHA-256 guess")

    if args.grade:
        notebook = REPO / "solutions" / "13-security" / "13-security.ipynb"
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "autograde", "grade", str(notebook)], cwd=REPO,
                                capture_output=True, text=True)
        print(f"\ngrading the solution notebook: {time.perf_counter() - start:.1f} s wall "
              f"(exit {result.returncode})")
        print(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-500:])


if __name__ == "__main__":
    main()
