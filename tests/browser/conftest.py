"""Browser tests: what a learner and an instructor see in JupyterLab, driven by Playwright.

They drive the system's Chromium (no browser download) against a JupyterLab that this file starts
on loopback, with the course's own launcher and settings (``course/lab.py``,
``jupyter_lab_config.py``), on a copy of the course in a temporary folder, so nothing in the
repository is written. Every test saves screenshots to ``artifacts/screenshots/``.

Without Chromium or Playwright these tests are skipped, and the run ends with a line saying so and how
to enable them; set ``COURSE_REQUIRE_BROWSER=1`` (``.ci/run`` does) to make that a failure instead.
``COURSE_CHROMIUM=/path/to/chrome`` picks another Chromium-based browser. JupyterLab gets
``COURSE_LAB_START_SECONDS`` (default 240) to start; the run ends with a line saying how long it took.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from course.lab import lab_command, lab_environment

from lab_ui import SCREENSHOTS

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENABLE_HINT = ("install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`) or point "
               "COURSE_CHROMIUM at a Chromium-based browser, then run `make test` again")
# The flags a headless Chromium needs on a machine without a screen and without internet access.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium() -> str | None:
    configured = os.environ.get("COURSE_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _why_browser_tests_cannot_run() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (`pip install -e '.[test]'` installs it; `make test` does)"
    if find_chromium() is None:
        where = os.environ.get("COURSE_CHROMIUM")
        return f"no Chromium at COURSE_CHROMIUM={where}" if where else "no Chromium found on PATH"
    return None


SKIP_REASON = _why_browser_tests_cannot_run()


REQUIRED = os.environ.get("COURSE_REQUIRE_BROWSER") == "1"
# How long JupyterLab may take to start: generous, because a busy machine (other test runs, a CI
# neighbour) can make a start that takes 10 s when quiet take minutes.
DEFAULT_LAB_START_SECONDS = 240.0
LAB_STARTUP: dict[str, float] = {}  # what the last start took, for the run's summary


def lab_start_seconds() -> float:
    value = os.environ.get("COURSE_LAB_START_SECONDS", "")
    if not value.strip():
        return DEFAULT_LAB_START_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise pytest.UsageError(f"COURSE_LAB_START_SECONDS must be a positive number of seconds; got {value!r}")
    return seconds


def pytest_collection_modifyitems(config, items):
    if SKIP_REASON is None or REQUIRED:  # when required, the `lab` fixture fails every test instead
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {SKIP_REASON}; to run them, {ENABLE_HINT}"))


def pytest_terminal_summary(terminalreporter):
    if LAB_STARTUP:
        terminalreporter.write_line(f"JupyterLab started in {LAB_STARTUP['seconds']:.1f} s (allowed "
                                    f"{LAB_STARTUP['limit']:g} s; set COURSE_LAB_START_SECONDS to change)")
    if SKIP_REASON is not None and not REQUIRED:
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED", yellow=True)
        terminalreporter.write_line(f"{SKIP_REASON}. To run them, {ENABLE_HINT}.")


# --- the course, served by JupyterLab ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab on a copy of the course; ``url(path)`` adds the token."""

    def __init__(self, course_dir: Path, port: int, token: str, log: Path):
        self.course_dir, self.port, self.token, self.log = course_dir, port, token, log

    def url(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{separator}token={self.token}"

    @property
    def notebooks(self) -> Path:
        return self.course_dir / "notebooks"


def copy_course(target: Path) -> Path:
    """What an instructor's course folder holds: source, release, and the nbgrader and JupyterLab settings."""
    for folder in ("solutions", "notebooks"):
        shutil.copytree(REPO_ROOT / folder, target / folder,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    for name in ("nbgrader_config.py", "jupyter_lab_config.py"):
        shutil.copy2(REPO_ROOT / name, target / name)
    shutil.copytree(REPO_ROOT / "lab-settings", target / "lab-settings")
    return target


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    if SKIP_REASON is not None:  # only reached with COURSE_REQUIRE_BROWSER=1 (otherwise skipped at collection)
        pytest.fail(f"COURSE_REQUIRE_BROWSER=1 but the browser tests cannot run: {SKIP_REASON}")
    root = tmp_path_factory.mktemp("browser")
    course_dir = copy_course(root / "course")
    port, token = _free_port(), secrets.token_hex(16)
    # Lab settings and workspaces in the temporary folder: nothing is written under ~/.jupyter.
    command = lab_command([f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
                           f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
                           f"--LabApp.user_settings_dir={root / 'lab-user-settings'}",
                           f"--LabApp.workspaces_dir={root / 'lab-workspaces'}"],
                          config=course_dir / "jupyter_lab_config.py")
    env = lab_environment() | {"JUPYTER_RUNTIME_DIR": str(root / "runtime")}
    env.pop("MPLBACKEND", None)  # tests/conftest.py sets Agg for pytest; a learner's kernel draws inline
    log = root / "jupyterlab.log"
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=course_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(course_dir, port, token, log)
    try:
        limit = lab_start_seconds()
        took = _wait_until_serving(lab, server, limit)
        LAB_STARTUP.update(seconds=took, limit=limit)
        print(f"JupyterLab started in {took:.1f} s (allowed {limit:g} s)")
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_serving(lab: Lab, server: subprocess.Popen, timeout: float) -> float:
    """Wait until JupyterLab answers; return the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {server.returncode} after {time.monotonic() - started:.1f} s:"
                               f"\n{lab.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(lab.url("api/status"), timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"JupyterLab did not answer within {timeout:g} s (COURSE_LAB_START_SECONDS; default "
                       f"{DEFAULT_LAB_START_SECONDS:g}):\n{lab.log.read_text()[-3000:]}")


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(lab, playwright_driver):
    chromium = playwright_driver.chromium.launch(executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:  # what the page showed when the test failed
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"FAILED-{_safe(request.node.name)}.png")
    context.close()


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
    lab = item.funcargs.get("lab") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(lab, Lab) and lab.log.is_file():  # what the server said (a kernel that died)
        report.sections.append(("jupyterlab.log, last 60 lines", "\n".join(lab.log.read_text().splitlines()[-60:])))

