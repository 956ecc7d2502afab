import os

# Figures drawn by tests and graded notebooks never need a screen.
os.environ.setdefault("MPLBACKEND", "Agg")

# No test may leave a process behind: the run fails, listing them, when one does (tests/process_leaks.py).
from process_leaks import (  # noqa: E402,F401
    pytest_configure, pytest_sessionfinish, pytest_terminal_summary, pytest_testnodedown)
