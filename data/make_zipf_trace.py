"""Make data/zipf_trace.csv: a seeded request trace whose key popularity follows Zipf's law.

200,000 requests over a catalogue of 5,000 keys; the key of popularity rank r (1 = most popular)
is requested with probability proportional to 1 / r ** 1.0. Rank r is given a key id by a seeded
random permutation, so a key's id says nothing about its popularity. Deterministic: the same bytes
on every run (numpy.random.default_rng(SEED), no clock, no network).

    python data/make_zipf_trace.py        # writes data/zipf_trace.csv next to this script
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 404
CATALOGUE = 5_000
REQUESTS = 200_000
ALPHA = 1.0
OUT = Path(__file__).resolve().parent / "zipf_trace.csv"


def make_trace(seed: int = SEED, catalogue: int = CATALOGUE, requests: int = REQUESTS,
               alpha: float = ALPHA) -> np.ndarray:
    """Key ids (ints in [0, catalogue)) of ``requests`` requests, drawn i.i.d. from Zipf(alpha)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, catalogue + 1) ** alpha
    cdf = np.cumsum(weights / weights.sum())
    ranks = np.minimum(np.searchsorted(cdf, rng.random(requests), side="right"), catalogue - 1)
    key_of_rank = rng.permutation(catalogue)
    return key_of_rank[ranks]


def main() -> None:
    keys = make_trace()
    OUT.write_text("key\n" + "\n".join(str(int(k)) for k in keys) + "\n", encoding="ascii")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(keys):,} requests)")


if __name__ == "__main__":
    main()
