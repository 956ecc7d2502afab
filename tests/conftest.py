import pytest
import os

# Figures drawn by tests and graded notebooks never need a screen.
os.environ.setdefault("MPLBACKEND", "Agg")

# No test may leave a process behind: the run fails, listing them, when one does (tests/process_leaks.py).
from process_leaks import (  # noqa: E402,F401
    pytest_configure, pytest_sessionfinish, pytest_terminal_summary, pytest_testnodedown)


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright per test process, shared by the browser tests (tests/browser) and the hub's
    (tests/deploy): its sync API runs an event loop, and a second one started while the first is alive
    fails with "using Playwright Sync API inside the asyncio loop" (which happened whenever pytest-xdist
    put both folders in one process)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright
