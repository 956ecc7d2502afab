"""course.traffic: seeded daily profiles with the requested mean and peak factor."""

import numpy as np
import pytest

from course.traffic import diurnal_profile, plot_profile


def test_mean_is_exact_and_peak_factor_close():
    for factor in (1.5, 2.5, 4.0):
        profile = diurnal_profile(average_rps=1000.0, peak_factor=factor, seed=3, noise=0.0)
        assert profile.mean() == pytest.approx(1000.0)
        assert profile.max() / profile.mean() == pytest.approx(factor, rel=1e-3)


def test_peak_is_at_the_requested_hour():
    profile = diurnal_profile(average_rps=10.0, peak_factor=3.0, seed=1, peak_hour=9.0, noise=0.0)
    assert int(np.argmax(profile)) == 9 * 60


def test_same_seed_same_profile_other_seed_other_profile():
    a = diurnal_profile(100.0, 2.0, seed=11)
    assert np.array_equal(a, diurnal_profile(100.0, 2.0, seed=11))
    assert not np.array_equal(a, diurnal_profile(100.0, 2.0, seed=12))


@pytest.mark.parametrize("kwargs", [dict(average_rps=0, peak_factor=2), dict(average_rps=1, peak_factor=0.5)])
def test_invalid_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        diurnal_profile(seed=0, **kwargs)


def test_plot_marks_average_and_peak():
    fig, ax = plot_profile(diurnal_profile(50.0, 2.0, seed=0), title="a day")
    assert ax.get_title() == "a day" and ax.get_xlabel() == "hour of day"
    assert len(ax.get_lines()) == 3
