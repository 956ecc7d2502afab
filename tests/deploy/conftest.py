"""A class on this machine, as `make hub` sets it up (deploy/jupyterhub/), with accounts of its own.

The module-scoped fixture ``hub_class`` runs deploy/jupyterhub/setup_hub.py into
``COURSE_HUB_TEST_BASE/<tag>`` (default /srv/system-design-test; the module's ``HUB_TAG``), with test
accounts ``sdt<tag>-*``, and removes those accounts, their homes and that folder at the end. The users'
Python, ``COURSE_HUB_TEST_BASE/venv``, is kept between runs and shared: it takes a minute to make. It needs root, ``useradd`` and ``configurable-http-proxy`` (or npm to install it):
without them every test here is skipped, saying which is missing; ``COURSE_REQUIRE_HUB=1`` (set by
.ci/run) makes that a failure instead.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy" / "jupyterhub"
sys.path.insert(0, str(DEPLOY))

from grade_class import as_user  # noqa: E402

ROOT = Path(os.environ.get("COURSE_HUB_TEST_BASE", "/srv/system-design-test"))
REQUIRED = os.environ.get("COURSE_REQUIRE_HUB") == "1"


def why_hub_tests_cannot_run() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "they need root (accounts are created and each user's server runs as its user)"
    for tool in ("useradd", "userdel", "chpasswd", "su"):
        if shutil.which(tool) is None:
            return f"`{tool}` is missing (Debian/Ubuntu: apt-get install passwd login)"
    if shutil.which("configurable-http-proxy") is None and shutil.which("npm") is None:
        return "neither configurable-http-proxy nor npm to install it (apt-get install npm)"
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "JupyterHub is not installed (`make setup` installs the [hub] extra)"
    return None


SKIP_REASON = why_hub_tests_cannot_run()


def pytest_collection_modifyitems(config, items):
    if SKIP_REASON is None or REQUIRED:
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here) and "hub_class" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(reason=f"hub tests skipped: {SKIP_REASON}"))


@dataclass
class HubClass:
    base: Path
    instructor: str
    grader: str
    students: list[str]
    passwords: dict[str, str]

    @property
    def course(self) -> Path:
        return self.base / "course"

    @property
    def exchange(self) -> Path:
        return self.base / "exchange" / "system-design"

    def run(self, user: str, *command: str, cwd: Path | str | None = None, check: bool = True
            ) -> subprocess.CompletedProcess:
        """``command`` as ``user``, with their server's environment (in the course directory for graders)."""
        instructor = user in (self.instructor, self.grader)
        result = as_user(user, list(command), self.base, cwd=cwd or (self.course if instructor else None),
                         instructor=instructor, capture_output=True, text=True, timeout=300)
        if check and result.returncode:
            raise AssertionError(f"{' '.join(command)} as {user} exited {result.returncode}:\n"
                                 f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return result

    def home(self, user: str) -> Path:
        return Path(pwd.getpwnam(user).pw_dir)


def _remove_accounts(names: list[str]) -> None:
    for name in names:
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
        _end_processes_of(uid)
        subprocess.run(["userdel", "--remove", name], capture_output=True)


def _end_processes_of(uid: int) -> None:
    """Every process still running as a test account (a server the hub failed to stop), one by one."""
    for attempt in range(20):
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM if attempt < 10 else signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)


def _owner(proc: Path) -> int | None:
    try:
        return proc.stat().st_uid
    except OSError:
        return None


def _clear(base: Path) -> None:
    if base.is_symlink() or base.is_file():
        base.unlink()
    elif base.is_dir():
        shutil.rmtree(base)


@pytest.fixture(scope="module")
def hub_class(request) -> HubClass:
    if SKIP_REASON is not None:
        pytest.fail(f"COURSE_REQUIRE_HUB=1 but the hub tests cannot run: {SKIP_REASON}")
    tag = request.module.HUB_TAG
    base, prefix = ROOT / tag, f"sdt{tag}-"
    instructor, grader = prefix + "teacher", prefix + "grader"
    students = [prefix + name for name in ("alice", "bob", "carol")]
    accounts = [instructor, grader, *students]
    _remove_accounts(accounts)
    _clear(base)
    ROOT.mkdir(parents=True, exist_ok=True)
    os.chmod(ROOT, 0o755)
    command = [sys.executable, str(DEPLOY / "setup_hub.py"), "--base", str(base), "--venv", str(ROOT / "venv"),
               "--instructor", instructor, "--grader", grader,
               *[arg for name in students for arg in ("--student", name)]]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"COURSE_HUB_QUIET": "1"},
                              timeout=900)
        assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr[-4000:]}"
        passwords = json.loads((base / "hub" / "accounts.txt").read_text())
        yield HubClass(base, instructor, grader, students, passwords)
    finally:
        _remove_accounts(accounts)
        _clear(base)
