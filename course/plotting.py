"""One figure style for every notebook in the course.

Every figure has a title, labelled axes and units, and uses colours that people with the common
forms of colour blindness can tell apart. ``new_figure`` enforces the first two; ``PALETTE`` (the
Okabe-Ito palette) is the colour cycle. Nothing here calls ``plt.show()``: Jupyter shows a figure
by itself, and under the non-interactive "Agg" backend (used by the tests) figures are only drawn
or saved.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
"""The Okabe-Ito colour-blind-safe palette (Okabe and Ito, "Color Universal Design", 2002),
most distinct colours first."""

FIGURE_SIZE_INCHES = (7, 4)

_STYLE = {
    "figure.figsize": FIGURE_SIZE_INCHES,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 13,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "lines.linewidth": 2.0,
    "legend.frameon": False,
}


def apply_style() -> None:
    """Set matplotlib's rcParams to the course style.

    Figures 7 x 4 inches at 100 dpi, a light grid, readable font sizes, no top or right spine, and
    the colour-blind-safe ``PALETTE`` as the colour cycle. Calling it again changes nothing more.
    ``new_figure`` calls it, so a notebook rarely needs to.
    """
    mpl.rcParams.update(_STYLE)


def _require_text(value: object, what: str) -> str:
    """Return ``value`` if it is a str with visible text, else raise naming ``what``."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {value!r} of type {type(value).__name__}")
    if not value.strip():
        raise ValueError(
            f"{what} must not be empty: every figure in the course has a title and labelled axes "
            "with units, such as 'latency (ms)'"
        )
    return value


def new_figure(
    title: str,
    xlabel: str,
    ylabel: str,
    *,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, Axes]:
    """Return ``(fig, ax)``: a new figure in the course style with one set of axes, titled and
    labelled.

    ``title``, ``xlabel`` and ``ylabel`` must be non-empty strings (``ValueError`` if empty or
    blank, ``TypeError`` if not a str); put units in the axis labels, such as ``"time (s)"``.
    ``figsize`` is ``(width, height)`` in inches; by default (7, 4).
    """
    title = _require_text(title, "title")
    xlabel = _require_text(xlabel, "xlabel")
    ylabel = _require_text(ylabel, "ylabel")
    apply_style()
    fig, ax = plt.subplots(figsize=figsize or FIGURE_SIZE_INCHES)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax
