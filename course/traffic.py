"""Synthetic request-rate profiles: a day of traffic with a realistic daily cycle.

Used to show why fleets are sized for the peak (module 01) and, later, to drive autoscaling
(module 02) and alerting (module 07). Every profile is drawn from an explicit seed.
"""

from __future__ import annotations

import math

import numpy as np

from course.seeding import make_rng

MINUTES_PER_DAY = 1440


def _shape_peak_ratio(k: float) -> float:
    """max/mean of exp(k cos t) over a full period: e^k / I0(k)."""
    return math.exp(k) / float(np.i0(k))


def diurnal_profile(average_rps: float, peak_factor: float, seed: int, *, peak_hour: float = 20.0,
                    noise: float = 0.05, minutes: int = MINUTES_PER_DAY) -> np.ndarray:
    """Requests per second for each minute of one day.

    The smooth daily cycle is ``exp(k cos(2 pi (t - peak_hour) / 24 h))`` with ``k`` chosen so that
    its peak is ``peak_factor`` times its mean; minute-to-minute noise is lognormal with standard
    deviation ``noise``. The result is rescaled so that its mean is exactly ``average_rps``.
    """
    if average_rps <= 0:
        raise ValueError("average_rps must be positive")
    if not 1.0 <= peak_factor < 20.0:
        raise ValueError("peak_factor must be in [1, 20)")
    low, high = 0.0, 50.0
    for _ in range(100):  # bisection: the ratio grows monotonically with k
        mid = (low + high) / 2
        low, high = (mid, high) if _shape_peak_ratio(mid) < peak_factor else (low, mid)
    k = (low + high) / 2
    t = np.arange(minutes)
    shape = np.exp(k * np.cos(2 * np.pi * (t - peak_hour * 60) / MINUTES_PER_DAY))
    rng = make_rng(seed)
    rates = shape * rng.lognormal(mean=0.0, sigma=noise, size=minutes)
    return rates * (average_rps / rates.mean())


def plot_profile(profile: np.ndarray, title: str, ax=None):
    """Plot a per-minute profile in hours, with its average and peak marked. Returns (fig, ax)."""
    from course.plotting import PALETTE, new_figure

    if ax is None:
        fig, ax = new_figure(title, "hour of day", "requests per second")
    else:
        fig = ax.figure
        ax.set_title(title)
    hours = np.arange(len(profile)) / 60
    ax.plot(hours, profile, color=PALETTE[0], linewidth=1, label="requests/s, each minute")
    ax.axhline(profile.mean(), color=PALETTE[1], linestyle="--", label=f"average {profile.mean():,.0f}/s")
    ax.axhline(profile.max(), color=PALETTE[2], linestyle=":", label=f"peak {profile.max():,.0f}/s")
    ax.set_xlim(0, len(profile) / 60)
    ax.set_ylim(0, profile.max() * 1.3)  # room above the peak for the legend
    ax.legend(loc="upper left", ncol=3, fontsize="small")
    return fig, ax
