"""Tests for course.latency: the latency table loads as published and the chart is readable."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from course.latency import format_duration_ns, load_latency_numbers, plot_latency_numbers


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_latency_table_has_the_fourteen_classic_rows():
    """Check the shape, types and a few well-known figures of the ~2012 table."""
    table = load_latency_numbers()
    assert list(table.columns) == ["operation", "latency_ns", "year", "source"]
    assert len(table) == 14
    assert (table["latency_ns"] > 0).all()
    assert table["operation"].is_unique
    assert (table["year"] == 2012).all()
    assert table["source"].str.contains("gist.github.com/jboner/2841832").all()
    by_operation = table.set_index("operation")["latency_ns"]
    assert by_operation["L1 cache reference"] == 0.5
    assert by_operation["Main memory reference"] == 100
    assert by_operation["Round trip within same datacenter"] == 500_000
    assert by_operation["Send packet CA->Netherlands->CA"] == 150_000_000


def test_latency_table_is_in_increasing_order_as_published():
    """Check that the rows run from fastest to slowest, as in the source."""
    assert load_latency_numbers()["latency_ns"].is_monotonic_increasing


def test_plot_has_log_x_axis_title_labels_and_sorted_bars():
    """Check the chart: log x scale, title, labelled axes, one bar per row, fastest on top."""
    table = load_latency_numbers()
    fig, ax = plot_latency_numbers()
    assert ax.get_xscale() == "log"
    assert ax.get_title() == "Latency numbers (~2012)"
    assert "ns" in ax.get_xlabel() and ax.get_ylabel()
    bars = ax.patches
    assert len(bars) == len(table)
    bar_ends = [bar.get_x() + bar.get_width() for bar in sorted(bars, key=lambda b: b.get_y())]
    # The y axis is inverted, so the smallest y is drawn on top: ends must increase downwards.
    assert ax.yaxis_inverted()
    assert bar_ends == pytest.approx(sorted(table["latency_ns"]))
    lines_at = sorted(line.get_xdata()[0] for line in ax.get_lines())
    assert lines_at == pytest.approx([1e3, 1e6, 1e9])
    left, right = ax.get_xlim()
    assert left <= 0.5 and right >= 1e9
    texts = [text.get_text() for text in ax.texts]
    assert any("Source" in text and "jboner" in text for text in texts)
    fig.canvas.draw()


def test_plot_sorts_an_unsorted_table_and_uses_a_given_axes():
    """Check that a shuffled table is drawn sorted, on the axes passed in."""
    shuffled = pd.DataFrame(
        {"operation": ["slow", "fast", "middle"], "latency_ns": [1e8, 2.0, 5e4]}
    )
    fig, given_ax = plt.subplots()
    returned_fig, ax = plot_latency_numbers(shuffled, ax=given_ax)
    assert ax is given_ax and returned_fig is fig
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert labels == ["fast", "middle", "slow"]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_plot_refuses_non_positive_latencies():
    """Check that a zero latency, which a log axis cannot show, raises ValueError."""
    with pytest.raises(ValueError):
        plot_latency_numbers(pd.DataFrame({"operation": ["x"], "latency_ns": [0.0]}))


@pytest.mark.parametrize(
    "nanoseconds, text",
    [(0.5, "0.5 ns"), (100, "100 ns"), (3_000, "3 µs"), (150_000, "150 µs"),
     (1_000_000, "1 ms"), (150_000_000, "150 ms"), (2e9, "2 s")],
)
def test_format_duration_ns(nanoseconds, text):
    """Check that durations are written in the largest unit that keeps them >= 1."""
    assert format_duration_ns(nanoseconds) == text
