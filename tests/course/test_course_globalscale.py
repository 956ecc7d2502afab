"""course.globalscale: the region data load and agree with each other; the failover simulator matches
hand-worked timelines and is seeded; the figures draw."""

from __future__ import annotations

import math

import pytest

from course.globalscale import load_regions, load_rtts, plot_floor_vs_measured, plot_recovery_curves, \
    recovery_quantile, simulate_failover


def test_regions_and_rtts_cover_the_same_ten_regions():
    regions = load_regions()
    rtts = load_rtts()
    assert len(regions) == 10 and regions["region"].is_unique
    assert regions["lat"].between(-90, 90).all() and regions["lon"].between(-180, 180).all()
    named = set(rtts["region_a"]) | set(rtts["region_b"])
    assert named == set(regions["region"]), named ^ set(regions["region"])
    assert len(rtts) == 45 and (rtts["rtt_ms"] > 0).all()


def test_without_caching_every_client_moves_at_the_threshold_th_failed_probe():
    times = simulate_failover(30, 3, 0, clients=50, seed=1)
    assert times == [90.0] * 50, times[:5]


def test_a_ttl_spreads_clients_over_one_ttl_after_detection():
    times = simulate_failover(10, 3, 60, clients=4000, seed=2)
    assert 30 <= min(times) and max(times) <= 90 + 1e-9, (min(times), max(times))
    assert abs(recovery_quantile(times, 0.5) - 60) < 3, recovery_quantile(times, 0.5)  # uniform over [30, 90]


def test_stale_resolvers_hold_the_old_answer_for_their_own_hold():
    times = simulate_failover(10, 1, 10, stale_share=1.0, stale_hold_s=600, clients=2000, seed=3)
    assert max(times) > 500 and all(10 <= t <= 610 + 1e-9 for t in times), (min(times), max(times))
    stale_shorter = simulate_failover(10, 1, 300, stale_share=1.0, stale_hold_s=5, clients=500, seed=3)
    assert max(stale_shorter) <= 310 + 1e-9  # a stale resolver never holds less than the TTL


def test_the_simulation_is_seeded():
    assert simulate_failover(30, 3, 60, 0.1, 900, clients=200, seed=7) == \
        simulate_failover(30, 3, 60, 0.1, 900, clients=200, seed=7)
    assert simulate_failover(30, 3, 60, 0.1, 900, clients=200, seed=7) != \
        simulate_failover(30, 3, 60, 0.1, 900, clients=200, seed=8)


@pytest.mark.parametrize("bad", [dict(interval_s=0), dict(threshold=0), dict(ttl_s=-1), dict(stale_share=1.5),
                                 dict(stale_hold_s=-1)])
def test_invalid_settings_are_refused(bad):
    args = dict(interval_s=30, threshold=3, ttl_s=60, stale_share=0.0, stale_hold_s=0.0) | bad
    with pytest.raises(ValueError):
        simulate_failover(**args)


def test_recovery_quantile_is_nearest_rank():
    assert recovery_quantile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0
    assert recovery_quantile([4.0, 1.0, 3.0, 2.0], 1.0) == 4.0
    assert recovery_quantile([4.0, 1.0, 3.0, 2.0], 0.01) == 1.0
    with pytest.raises(ValueError):
        recovery_quantile([1.0], 0.0)


def test_figures_draw_with_titles_and_labels():
    import matplotlib.pyplot as plt
    import pandas as pd

    pairs = pd.DataFrame({"distance_km": [1000.0, 9000.0], "rtt_ms": [20.0, 150.0],
                          "floor_ms": [10.0, 90.0]})
    fig, ax = plot_floor_vs_measured(pairs)
    assert ax.get_title() and "km" in ax.get_xlabel() and "ms" in ax.get_ylabel()
    fig2, ax2 = plot_recovery_curves({"a": [1.0, 2.0], "b": [3.0]}, horizon_s=5)
    assert len(ax2.get_lines()) == 2 and math.isclose(ax2.get_xlim()[1], 5)
    plt.close(fig)
    plt.close(fig2)


def test_cdn_trace_is_seeded_ordered_and_zipf_popular():
    from course.globalscale import cdn_trace

    trace = cdn_trace(5000, 200, 1.0, {"eu": 2, "us": 1}, rate_per_s=500, seed=5)
    assert trace == cdn_trace(5000, 200, 1.0, {"eu": 2, "us": 1}, rate_per_s=500, seed=5)
    assert all(a[0] <= b[0] for a, b in zip(trace, trace[1:]))
    assert {row[1] for row in trace} == {"eu", "us"}
    eu_share = sum(row[1] == "eu" for row in trace) / len(trace)
    assert 0.62 < eu_share < 0.72, eu_share
    sizes = {}
    for _, _, obj, size in trace:
        assert sizes.setdefault(obj, size) == size  # one size per object
    from collections import Counter
    top = Counter(row[2] for row in trace).most_common(1)[0][1]
    assert top > len(trace) / 20, top  # the most popular of 200 objects takes far more than 1/200
    assert 8 < trace[-1][0] / 1000 < 12, trace[-1][0]  # 5,000 requests at 500/s: about 10 s
    with pytest.raises(ValueError):
        cdn_trace(10, 0, 1.0, {"eu": 1}, 1, 0)


def test_dr_prices_load_with_their_sources():
    from course.data import load_csv
    from course.globalscale import load_dr_prices

    prices = load_dr_prices()
    assert set(prices) == {"instance_hour", "storage_gb_month", "transfer_gb"}
    assert all(0 < usd < 1 for usd in prices.values()), prices
    table = load_csv("dr_prices.csv")
    assert table["source"].str.contains("https://").all() and table["as_of"].notna().all()
