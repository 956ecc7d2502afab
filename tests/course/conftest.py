"""Shared set-up for the tests of the course package: draw figures off screen."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # before anything imports matplotlib.pyplot

import matplotlib  # noqa: E402

matplotlib.use("Agg")
