"""The end-of-run check of tests/process_leaks.py: a run whose test leaves a process behind fails and names
it (a child, and an orphan found by its environment mark), and the leaked processes are killed; a clean
run passes. Each case runs pytest in a subprocess on a small test file, with the check loaded as a plugin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

LEAKY_CHILD = '''
import subprocess
def test_leaks_a_child():
    subprocess.Popen(["sleep", "{tag}"])
'''
LEAKY_ORPHAN = '''
import subprocess
def test_leaks_an_orphan():
    # setsid and a background job whose shell exits at once: the sleep becomes a child of init
    subprocess.run(["setsid", "sh", "-c", "sleep {tag} >/dev/null 2>&1 &"], check=True)
'''
# The bug of issue 19: nbclient never shuts down a kernel whose manager it was handed.
LEAKY_KERNEL = '''
import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
def test_leaks_a_kernel():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1  # {tag}")])
    NotebookClient(nb, km=KernelManager(kernel_name="python3"), timeout=60).execute()
'''
CLEAN = '''
import subprocess
def test_waits_for_its_child():
    subprocess.run(["sleep", "0.1"], check=True)
'''


def _run_pytest(tmp_path: Path, source: str, *options: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_case.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "LEAKCHECK_RUN"}
    env.update(PYTHONPATH=str(TESTS), LEAKCHECK_GRACE_SECONDS="1")
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "process_leaks", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), "-c", os.devnull, *options, str(tmp_path / "test_case.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def _alive_with(tag: str) -> list[str]:
    alive = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"sleep {tag}".encode() in (entry / "cmdline").read_bytes().replace(b"\0", b" ") \
                    and b"Z" != (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[0]:
                alive.append(entry.name)
        except OSError:
            pass
    return alive


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="the check reads /proc (Linux)")


def _xdist(workers: str) -> tuple[str, ...]:
    if workers:
        pytest.importorskip("xdist", reason="pytest-xdist is not installed")
        return ("-n", workers)
    return ()


@pytest.mark.parametrize("workers", ["", "2"], ids=["serial", "xdist"])
@pytest.mark.parametrize("template", [LEAKY_CHILD, LEAKY_ORPHAN], ids=["child", "orphan"])
def test_a_run_that_leaves_a_process_behind_fails_and_names_it(tmp_path, template, workers):
    tag = f"{3000 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"  # a unique sleep to recognise
    result = _run_pytest(tmp_path, template.format(tag=tag), *_xdist(workers))
    out = result.stdout + result.stderr
    assert result.returncode != 0, f"a leaking test run must fail; got exit 0:\n{out}"
    assert "PROCESSES LEFT BEHIND" in out and re.search(rf"pid \d+: sleep {re.escape(tag)}", out), \
        f"expected the leaked 'sleep {tag}' to be listed; got:\n{out}"
    assert "1 passed" in out, f"the test itself passed; only the check fails the run:\n{out}"
    deadline = time.monotonic() + 10
    while _alive_with(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive_with(tag), f"the check must kill what it reports; still alive: {_alive_with(tag)}"


@pytest.mark.parametrize("workers", ["", "2"], ids=["serial", "xdist"])
def test_a_clean_run_passes(tmp_path, workers):
    result = _run_pytest(tmp_path, CLEAN, *_xdist(workers))
    out = result.stdout + result.stderr
    assert result.returncode == 0, f"a run that ends what it starts must pass; got {result.returncode}:\n{out}"
    assert "PROCESSES LEFT BEHIND" not in out, out


def test_a_kernel_left_running_by_nbclient_is_caught(tmp_path):
    result = _run_pytest(tmp_path, LEAKY_KERNEL.format(tag="leak"))
    out = result.stdout + result.stderr
    assert result.returncode != 0, f"a run that leaves a kernel must fail; got exit 0:\n{out}"
    assert "PROCESSES LEFT BEHIND" in out and re.search(r"pid \d+: \S*python\S* -m ipykernel_launcher", out), \
        f"expected the kernel to be listed; got:\n{out}"
