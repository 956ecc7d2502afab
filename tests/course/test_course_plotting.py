"""Tests for course.plotting: figures have titles and labels, the style applies, Agg works."""

import io

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import pytest

from course.plotting import PALETTE, apply_style, new_figure


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test opens, so pyplot does not pile them up."""
    yield
    plt.close("all")


def test_new_figure_sets_title_and_axis_labels():
    """Check that the title and both labels appear on the returned axes."""
    fig, ax = new_figure("Queue length over time", "time (s)", "requests waiting")
    assert ax.get_title() == "Queue length over time"
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_ylabel() == "requests waiting"
    assert ax.figure is fig and fig.axes == [ax]


def test_new_figure_uses_the_course_size_unless_told_otherwise():
    """Check the default 7 x 4 inch size and that figsize overrides it."""
    fig, _ = new_figure("t", "x (s)", "y (s)")
    assert tuple(fig.get_size_inches()) == pytest.approx((7, 4))
    wide, _ = new_figure("t", "x (s)", "y (s)", figsize=(10, 3))
    assert tuple(wide.get_size_inches()) == pytest.approx((10, 3))


@pytest.mark.parametrize(
    "title, xlabel, ylabel",
    [("", "x (s)", "y (s)"), ("t", "", "y (s)"), ("t", "x (s)", ""), ("  ", "x (s)", "y (s)")],
)
def test_new_figure_refuses_empty_title_or_labels(title, xlabel, ylabel):
    """Check that an empty or blank title or axis label raises ValueError."""
    with pytest.raises(ValueError):
        new_figure(title, xlabel, ylabel)


def test_new_figure_refuses_a_title_that_is_not_text():
    """Check that a non-str title raises TypeError."""
    with pytest.raises(TypeError):
        new_figure(None, "x (s)", "y (s)")


def test_apply_style_sets_the_course_rcparams():
    """Check the style: size, dpi, grid on, no top/right spines, palette as colour cycle."""
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        apply_style()
        params = matplotlib.rcParams
        assert tuple(params["figure.figsize"]) == (7, 4)
        assert params["figure.dpi"] == 100
        assert params["axes.grid"] is True
        assert params["axes.spines.top"] is False and params["axes.spines.right"] is False
        assert params["font.size"] >= 10
        colours = [mcolors.to_hex(c["color"]) for c in params["axes.prop_cycle"]]
        assert colours == [c.lower() for c in PALETTE]
        apply_style()  # a second call changes nothing
        assert tuple(params["figure.figsize"]) == (7, 4)


def test_new_figure_axes_have_no_top_or_right_spine():
    """Check that a new figure is drawn in the course style."""
    _, ax = new_figure("t", "x (s)", "y (s)")
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()


def test_palette_is_distinct_valid_colours():
    """Check that PALETTE is a tuple of several distinct, valid colours."""
    assert isinstance(PALETTE, tuple) and len(PALETTE) >= 5
    assert all(mcolors.is_color_like(colour) for colour in PALETTE)
    assert len({mcolors.to_hex(colour) for colour in PALETTE}) == len(PALETTE)


def test_figures_render_to_png_under_agg():
    """Check that a figure draws and saves under the non-interactive Agg backend."""
    assert matplotlib.get_backend().lower() == "agg"
    fig, ax = new_figure("A line", "x (s)", "y (requests)")
    ax.plot([0, 1, 2], [0, 1, 4])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
