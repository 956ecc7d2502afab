"""`make hub`'s set-up refuses clearly what it cannot do: run by a user who is not root, it changes nothing
and says to run it as root (exit 2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SETUP = Path(__file__).resolve().parents[2] / "deploy" / "jupyterhub" / "setup_hub.py"


def test_setup_hub_run_by_a_user_who_is_not_root_stops_and_says_why(tmp_path):
    base = tmp_path / "class"
    command = [sys.executable, str(SETUP), "--base", str(base)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv is missing: cannot drop root to try it as another user")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=os.environ | {"HOME": "/tmp"})
    assert result.returncode == 2, f"expected exit 2, got {result.returncode}: {result.stderr[-1500:]}"
    assert "run as root" in result.stderr, result.stderr[-1500:]
    assert not base.exists(), "nothing may be made before the checks pass"
