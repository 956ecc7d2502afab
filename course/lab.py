"""``make course`` runs ``python -m course.lab``: JupyterLab on the course, stopped by one Ctrl-C.

The settings are in ``jupyter_lab_config.py`` at the repository root (start page, no news pop-up,
one Ctrl-C stops). This launcher adds two things a Makefile cannot:

- the course's Python comes first on ``PATH``, so that JupyterLab's terminal runs
  ``python -m autograde grade ...`` with the course's packages;
- JupyterLab runs as the terminal's foreground process group, so Ctrl-C reaches JupyterLab (which
  shuts its kernels down and exits) and not ``make`` (which would print "*** Interrupt" and fail).

Extra arguments are passed to JupyterLab: ``python -m course.lab --ServerApp.port=8899``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG = REPO_ROOT / "jupyter_lab_config.py"


def lab_command(extra: list[str], config: Path = CONFIG) -> list[str]:
    """The JupyterLab command line, with the course's settings file."""
    return [sys.executable, "-m", "jupyterlab", f"--config={config}", *extra]


def lab_environment() -> dict[str, str]:
    """This environment, with the course's Python first on PATH (as `source .venv/bin/activate` does)."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env["VIRTUAL_ENV"] = sys.prefix
    return env


def _terminal() -> int | None:
    """A file descriptor on the controlling terminal, or None without one (CI, a pipe, Windows)."""
    if os.name != "posix" or not sys.stdin.isatty():
        return None
    try:
        return os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    command = lab_command(sys.argv[1:] if argv is None else argv)
    env = lab_environment()
    tty = _terminal()
    if tty is None:
        return _exit_code(subprocess.call(command, cwd=REPO_ROOT, env=env))
    lab = subprocess.Popen(command, cwd=REPO_ROOT, env=env, process_group=0)
    # Hand the terminal to JupyterLab's group; a background group touching the terminal gets SIGTTOU.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        try:
            os.tcsetpgrp(tty, lab.pid)
        except OSError:  # JupyterLab already exited (a bad argument, a port in use): report its code
            pass
        return _exit_code(lab.wait())
    except KeyboardInterrupt:  # Ctrl-C before the terminal was handed over
        lab.send_signal(signal.SIGINT)
        return _exit_code(lab.wait())
    finally:
        os.tcsetpgrp(tty, os.getpgrp())
        signal.signal(signal.SIGTTOU, previous)
        os.close(tty)


def _exit_code(returncode: int) -> int:
    """Stopping JupyterLab with Ctrl-C is the normal way to end the course: exit 0 for it."""
    return 0 if returncode in (0, -signal.SIGINT, 128 + signal.SIGINT) else returncode


if __name__ == "__main__":
    sys.exit(main())
