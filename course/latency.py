"""The "latency numbers every programmer should know" (~2012), as a table and as a chart.

The figures come from ``data/latency_numbers.csv``; see ``data/README.md`` for their provenance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course.data import load_csv

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LATENCY_FILE = "latency_numbers.csv"

# Reference lines drawn across the chart: (nanoseconds, label).
_REFERENCE_LINES_NS = ((1e3, "1 µs"), (1e6, "1 ms"), (1e9, "1 s"))


def load_latency_numbers() -> pd.DataFrame:
    """Return the latency table (verified against its hash) as a DataFrame.

    Columns: ``operation`` (str), ``latency_ns`` (float, nanoseconds), ``year`` (int) and
    ``source`` (str); one row per operation, in the order of the source.
    """
    return load_csv(LATENCY_FILE)


def format_duration_ns(nanoseconds: float) -> str:
    """Return a duration in nanoseconds in the largest unit that keeps it >= 1.

    ``format_duration_ns(0.5)`` is ``"0.5 ns"``, ``150_000`` is ``"150 µs"``, ``1.5e8`` is
    ``"150 ms"``.
    """
    for unit, size in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if nanoseconds >= size:
            return f"{nanoseconds / size:,.3g} {unit}"
    return f"{nanoseconds:.3g} ns"


def plot_latency_numbers(
    df: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Draw the latency table as horizontal bars on a log-scale axis in nanoseconds.

    ``df`` has the columns of ``load_latency_numbers()`` (``operation`` and ``latency_ns``; a
    ``source`` column becomes the caption, a single ``year`` goes in the title); by default the
    course's table. Bars are sorted from fastest (top) to slowest (bottom), each labelled with its
    latency, and dashed lines mark 1 µs, 1 ms and 1 s. Draws on ``ax`` if given, else on a new
    figure. Returns ``(fig, ax)``.
    """
    from course.plotting import PALETTE, apply_style, new_figure

    if df is None:
        df = load_latency_numbers()
    missing = {"operation", "latency_ns"} - set(df.columns)
    if missing:
        raise ValueError(
            f"df needs the columns operation and latency_ns; missing {sorted(missing)}"
        )
    if (df["latency_ns"] <= 0).any():
        raise ValueError("every latency_ns must be > 0 to be drawn on a log scale")

    title = "Latency numbers"
    if "year" in df.columns and df["year"].nunique() == 1:
        title = f"Latency numbers (~{df['year'].iloc[0]})"
    xlabel = "latency (ns, log scale)"
    ylabel = "operation"
    if ax is None:
        fig, ax = new_figure(title, xlabel, ylabel, figsize=(8, 6))
    else:
        apply_style()
        fig = ax.figure
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)

    ordered = df.sort_values("latency_ns", kind="stable").reset_index(drop=True)
    positions = range(len(ordered))
    ax.set_xscale("log")
    lowest_ns = 0.1
    ax.barh(
        positions,
        ordered["latency_ns"] - lowest_ns,
        left=lowest_ns,
        color=PALETTE[0],
        height=0.7,
    )
    ax.set_yticks(list(positions), ordered["operation"])
    ax.invert_yaxis()  # fastest at the top, reading down to the slowest
    ax.grid(axis="y", visible=False)

    for position, latency in zip(positions, ordered["latency_ns"]):
        ax.annotate(
            format_duration_ns(latency),
            xy=(latency, position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            # A white box keeps a label readable where a reference line crosses it.
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
            zorder=4,
        )
    for line_ns, label in _REFERENCE_LINES_NS:
        ax.axvline(line_ns, color=PALETTE[3], linestyle="--", linewidth=1.2, zorder=3)
        ax.annotate(
            label,
            xy=(line_ns, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            color=PALETTE[3],
        )
    ax.set_xlim(lowest_ns, 1e10)
    ax.set_title(title, pad=16)  # room for the reference-line labels above the axes

    if "source" in df.columns:
        sources = "; ".join(str(source) for source in df["source"].dropna().unique())
        ax.annotate(
            f"Source: {sources}",
            xy=(0, 0),
            xycoords="figure fraction",
            xytext=(6, 4),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=8,
            color="0.35",
        )
    return fig, ax
