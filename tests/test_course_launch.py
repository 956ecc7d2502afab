"""`make course` runs `python -m course.lab`: it prints the start page's URL with its token, and one
Ctrl-C in its terminal stops JupyterLab and its kernels and exits 0."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from course.lab import lab_environment

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX terminal")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_until(fd: int, pattern: re.Pattern, seconds: float, seen: bytearray) -> re.Match | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        match = pattern.search(seen.decode(errors="replace"))
        if match:
            return match
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other end closed
                return pattern.search(seen.decode(errors="replace"))
            if not chunk:
                break
            seen += chunk
    return pattern.search(seen.decode(errors="replace"))


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the kernel")
def test_one_ctrl_c_stops_jupyterlab_and_its_kernels(tmp_path):
    port = _free_port()
    env = lab_environment() | {"JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    argv = [sys.executable, "-m", "course.lab", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1", f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
            f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: JupyterLab's launcher, in a terminal as a learner runs it
        os.execve(sys.executable, argv, env)
    seen = bytearray()
    try:
        url = _read_until(fd, re.compile(rf"http://127\.0\.0\.1:{port}/lab/tree/START-HERE\.ipynb\?token=([0-9a-f]+)"),
                          90, seen)
        assert url, f"no start-page URL with a token printed:\n{seen.decode(errors='replace')[-3000:]}"
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/kernels?token={url.group(1)}",
                                         data=b"{}", method="POST", headers={"Content-Type": "application/json"})
        for attempt in range(50):  # the URL is printed just before the server starts listening
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    kernel_id = json.load(response)["id"]
                break
            except OSError:
                if attempt == 49:
                    raise
                time.sleep(0.2)
        for _ in range(100):
            if _processes_mentioning(kernel_id):
                break
            time.sleep(0.1)
        assert _processes_mentioning(kernel_id), "the kernel process did not start"

        os.write(fd, b"\x03")  # Ctrl-C, typed in the terminal
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            _read_until(fd, re.compile(r"$^"), 0.2, seen)  # keep the terminal drained
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        assert status is not None and done, f"still running 30 s after Ctrl-C:\n{seen.decode(errors='replace')[-2000:]}"
        assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")[-2000:]
        assert "Shut down this Jupyter server" not in seen.decode(errors="replace")  # no y/n question
        for _ in range(50):
            if not _processes_mentioning(kernel_id):
                break
            time.sleep(0.1)
        assert not _processes_mentioning(kernel_id), "the kernel outlived JupyterLab"
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


def test_the_terminal_gets_the_course_python_first_on_path():
    env = lab_environment()
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["VIRTUAL_ENV"] == sys.prefix
