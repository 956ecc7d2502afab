"""`python -m autograde student-bundle`: what a class gets, and nothing it must not; and that what it
gets works: every release notebook, with the solution's answers put in, runs from the unzipped bundle
alone, in a kernel that cannot import the reference answers."""

import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from submissions import answer_sources

from autograde.bundle import (COURSE_FILES_WITH_ANSWERS, FORBIDDEN_CONTENT, MARKER_DEFINITIONS, bundle_modules,
                              modules_needing, write_bundle)
from autograde.layout import assignments, release_notebook, source_notebook
from autograde.notebook import cell_role, nbgrader_meta

PREFIX = "system-design-course/"


def test_bundle_has_the_course_and_no_answers(tmp_path):
    out = tmp_path / "class.zip"
    result = subprocess.run([sys.executable, "-m", "autograde", "student-bundle", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        for name in names:
            content = zf.read(name)
            for line in MARKER_DEFINITIONS.get(name.removeprefix(PREFIX), []):
                content = content.replace(line.encode(), b"", 1)  # the grader naming a marker it looks for
            assert not any(marker.encode() in content for marker in FORBIDDEN_CONTENT), name
        readme = zf.read(PREFIX + "README.md").decode()
        makefile = zf.read(PREFIX + "Makefile").decode()
        main = zf.read(PREFIX + "autograde/__main__.py").decode()
    held, left_out = bundle_modules()
    assert [line.split()[0] for line in left_out] == sorted(set(assignments()) - set(held)), left_out
    for line in left_out:
        assert line.split()[0] in result.stdout, result.stdout  # the instructor is told what was left out, and why
    for assignment in held:
        assert f"{PREFIX}notebooks/{assignment}/{assignment}.ipynb" in names
        assert f"(notebooks/{assignment}/{assignment}.ipynb)" in readme, f"{assignment} missing from the README"
    assert f"{PREFIX}autograde/verdict.py" in names and f"{PREFIX}course/sim.py" in names
    assert f"{PREFIX}autograde/judges/__init__.py" in names and f"{PREFIX}autograde/judges/common.py" in names
    assert f"{PREFIX}Makefile" in names and f"{PREFIX}pyproject.toml" in names
    for secret in ("solutions/", "autograde/reference/", "tests/", ".git/", "grading/", "autograde/cli.py",
                   "autograde/batch.py", "autograde/checks.py", "autograde/release.py", "autograde/bundle",
                   "nbgrader_config.py", "benchmarks/", "docs/images/instructor"):
        assert not any(n.startswith(PREFIX + secret) for n in names), secret
    # the learner's own README, Makefile and `python -m autograde`, not the instructor's
    assert "Visible tests only; hidden tests run when your instructor grades." in readme
    assert "For instructors" not in readme and "solutions/" not in readme and "make test" not in readme
    assert set(re.findall(r"^([a-z]+):", makefile, re.MULTILINE)) == {"setup", "course"}, makefile
    assert "from autograde.visible import main" in main, main


def test_a_course_file_with_a_modules_answers_never_ships_with_that_module(tmp_path):
    """course/raftkv.py holds module 06's Raft node, answered (module 16 builds on it): the default bundle has
    module 06 and neither that file nor module 16; module 16 comes in a bundle without 06; asking for both
    is refused, saying why."""
    from autograde.layout import UsageError

    for course_file, answered in COURSE_FILES_WITH_ANSWERS.items():
        needing = modules_needing(course_file)
        assert needing and answered not in needing, (course_file, needing)
        held, left_out = bundle_modules()
        assert answered in held and not set(needing) & set(held), (held, left_out)
        names = write_bundle(tmp_path / "default.zip")
        assert PREFIX + course_file not in names and PREFIX + f"notebooks/{answered}/{answered}.ipynb" in names
        assert not any(n.startswith(f"{PREFIX}notebooks/{name}/") for n in names for name in needing)
        names = write_bundle(tmp_path / "later.zip", needing)
        assert PREFIX + course_file in names, names
        assert not any(n.startswith(f"{PREFIX}notebooks/{answered}/") for n in names), names
        readme = zipfile.ZipFile(tmp_path / "later.zip").read(PREFIX + "README.md").decode()
        assert answered not in readme and all(name in readme for name in needing), readme
        with pytest.raises(UsageError, match=f"holds {answered}'s answers"):
            bundle_modules([answered, *needing])
    with pytest.raises(UsageError, match="no such module: 99-nothing"):
        bundle_modules(["99-nothing"])


def test_a_marker_outside_its_known_definition_is_refused():
    from autograde.bundle import _check

    _check("autograde/notebook.py", b'HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"\n')  # the definition itself
    for name, content in [("autograde/notebook.py", b'HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"\n# ### BEGIN HIDDEN TESTS'),
                          ("course/sim.py", b'HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"'),
                          ("notebooks/x.ipynb", b"### BEGIN SOLUTION")]:
        with pytest.raises(RuntimeError, match="not for students"):
            _check(name, content)


# What the bundle's kernel reports before the notebook runs: where `autograde` and `course` come
# from, and whether the reference answers can be imported.
PROBE = '''import json, sys
import autograde, autograde.judges, autograde.verdict, course
try:
    import autograde.reference
    reference = "importable from " + autograde.reference.__file__
except ModuleNotFoundError:
    reference = "missing"
print(json.dumps({"autograde": autograde.__file__, "course": course.__file__, "reference": reference}))'''


def bundle_kernel(folder: Path, root: Path) -> tuple[KernelSpecManager, dict]:
    """A kernelspec for the venv's Python that sees the packages of the bundle at ``root`` and the
    venv's third-party packages, and nothing of this repository: ``-S`` skips site-packages' .pth
    files, among them the editable install's finder, which would find ``autograde.reference`` here."""
    spec = folder / "kernels" / "bundle"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-S", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "bundle", "language": "python"}))
    site_packages = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COURSE_", "JUPYTER", "IPYTHON"))}
    env.update(PYTHONPATH=os.pathsep.join([str(root), *sorted(site_packages)]), PYTHONNOUSERSITE="1",
               IPYTHONDIR=str(folder / "ipython"), MPLCONFIGDIR=str(folder / "matplotlib"), MPLBACKEND="Agg")
    return KernelSpecManager(kernel_dirs=[str(folder / "kernels")]), env


def with_solution_answers(release: Path, assignment: str):
    """The bundle's release notebook with the solution's answer cells put in, matched by grade_id."""
    nb = nbformat.read(release, as_version=4)
    answers = answer_sources(source_notebook(assignment))
    filled = set()
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if cell_role(cell) in ("answer", "manual") and grade_id in answers:
            cell.source = answers[grade_id]
            filled.add(grade_id)
    assert filled == set(answers), f"{assignment}: answer cells missing from the release: {set(answers) - filled}"
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE))
    return nb


def run_from_bundle(assignment: str, root: Path, folder: Path) -> dict:
    """Run one filled-in release notebook in the bundle's kernel; returns what the probe printed."""
    release = root / "notebooks" / assignment / f"{assignment}.ipynb"
    nb = with_solution_answers(release, assignment)
    specs, env = bundle_kernel(folder / assignment, root)
    km = KernelManager(kernel_name="bundle", kernel_spec_manager=specs)
    client = NotebookClient(nb, km=km, timeout=300, allow_errors=False, record_timing=False,
                            resources={"metadata": {"path": str(release.parent)}})
    # nbclient shuts down only kernels it started with a manager of its own: this one is ours to end.
    try:
        client.execute(env=env, cleanup_kc=True)  # raises CellExecutionError, naming the cell, if any cell fails
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return json.loads("".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("name") == "stdout"))


def test_every_release_notebook_runs_from_the_bundle_alone(tmp_path):
    """A student unzips the bundle and runs a notebook with correct answers: every cell, visible tests
    included, runs without error, and nothing the bundle leaves out (the reference answers) is needed."""
    held, _ = bundle_modules()
    bundles = {"class": held, "later": sorted(set(assignments()) - set(held))}  # the default, and what it left out
    roots = {}
    for bundle, modules in bundles.items():
        if modules:
            write_bundle(tmp_path / f"{bundle}.zip", modules)
            with zipfile.ZipFile(tmp_path / f"{bundle}.zip") as zf:
                zf.extractall(tmp_path / bundle)
            roots.update((name, (tmp_path / bundle / PREFIX).resolve()) for name in modules)
    assert sorted(roots) == assignments(), sorted(roots)
    with ThreadPoolExecutor(max_workers=2) as pool:
        probes = dict(zip(assignments(), pool.map(lambda a: run_from_bundle(a, roots[a], tmp_path / "kernels"),
                                                  assignments())))
    for assignment, probe in probes.items():
        assert probe["reference"] == "missing", (assignment, probe)
        for package in ("autograde", "course"):
            assert Path(probe[package]).resolve().is_relative_to(roots[assignment]), (assignment, probe)


# --- grading the visible tests, as `python -m autograde grade` does in the bundle ------------------------


def _solved_copy(assignment: str, folder: Path) -> Path:
    nb = with_solution_answers(release_notebook(assignment), assignment)
    nb.cells.pop(0)  # the probe
    path = folder / f"{assignment}.ipynb"
    nbformat.write(nb, path)
    return path


def test_visible_grading_passes_a_solved_notebook_and_says_visible_tests_only(tmp_path):
    from autograde.visible import grade_visible, table, to_json

    report = grade_visible(_solved_copy("01-requirements-estimation", tmp_path))
    failing = [(t.id, t.status, t.message) for t in report.tests if t.status != "pass"]
    assert report.tests and not failing, f"the solution's answers must pass every visible test; failing: {failing}"
    text = table(report)
    assert "VISIBLE TESTS ONLY: hidden tests run when your instructor grades." in text, text
    assert f"{len(report.tests)} of {len(report.tests)} test cells pass their visible tests" in text, text
    assert to_json(report)["visible_tests_only"] is True


def test_visible_grading_fails_a_blank_notebook_with_what_to_fix():
    from autograde.visible import grade_visible, table

    release = release_notebook("01-requirements-estimation")
    report = grade_visible(release)
    assert report.tests and all(t.status == "fail" for t in report.tests), [(t.id, t.status) for t in report.tests]
    text = table(report)
    assert "0 of" in text and "raised NotImplementedError" in text and "expected:" in text, text


# --- every command the bundle's text tells a learner to run, in a fresh virtual environment -----------------

COMMAND_START = re.compile(r"^(make|python3?|pip|conda|cd) |^(\.venv|\.\.)/\S*bin/")
# The conda route (README's "What is here"): no conda channel can be reached here, so these are not run;
# tests/test_setup_files.py keeps environment.yml in step with pyproject.toml instead. Any other command is run.
CONDA_ROUTE = {"conda env create -f environment.yml", "conda activate system-design-course", "pip install -e . --no-deps",
               "python -m course.lab"}
# Commands that start JupyterLab and run until Ctrl-C: started in a terminal, checked, stopped with one Ctrl-C.
SERVER = re.compile(r"^make( \w+=\S+)* course$|-m course\.lab$")
FENCE = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")


def learner_commands(markdown: str) -> list[str]:
    """Every shell command in a text: each line of a fenced code block, and each inline code span that reads
    as a command (starts with make, python, a path or cd)."""
    commands = []
    for block in FENCE.findall(markdown):
        commands += [line.split(" # ")[0].strip() for line in block.splitlines() if line.strip()]
    outside = FENCE.sub("", markdown)
    commands += [span.strip() for span in INLINE.findall(outside) if COMMAND_START.match(span.strip())]
    return list(dict.fromkeys(commands))


def test_learner_commands_finds_blocks_and_inline_commands():
    text = ("Run\n\n```\nmake course\ncd a && python -m x  # why\n```\n\nor `make PORT=1 course`, "
            "`.venv/bin/python -m y`; not `passed: ...`, `.venv/` or `make`.\n")
    assert learner_commands(text) == ["make course", "cd a && python -m x", "make PORT=1 course", ".venv/bin/python -m y"]


def _learner_env(root: Path, tmp: Path) -> dict:
    """A learner's shell: no virtual environment active, `python3` the machine's Python, Jupyter's
    per-user folders in the temporary folder."""
    # The folder of the machine's real interpreter (not a symlink in the temporary folder: the venv's python
    # would point through it, and the grader's full sandbox shows the learner only Python's own folders).
    bin_dir = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable))).parent
    assert (bin_dir / "python3").exists(), f"no python3 beside the base interpreter in {bin_dir}"
    venv_bin = str(Path(sys.executable).parent)
    path = [str(bin_dir)] + [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "COURSE_", "MPL", "PORT"))}
    env.update(PATH=os.pathsep.join(path), JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "lab-settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-ws"))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def _run(command: str, cwd: Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (f"`{command}` (in {cwd}) exited {result.returncode}, expected 0:\n"
                                    f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result


def _serve_and_stop(command: str, cwd: Path, env: dict, start_seconds: float) -> float:
    """Run a command that starts JupyterLab in a terminal, wait for the start page's URL, check the server
    answers with that token, then type one Ctrl-C: it must exit 0. Returns the seconds to the URL."""
    import pty
    import select
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:  # `make course`'s port 8888 may be taken on a shared machine: use a free one
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = re.sub(r"\bPORT=\d+", f"PORT={port}", command)
    env = env | {"PORT": str(port)}
    if "course.lab" in command:
        command += f" --ServerApp.port={port}"
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:  # the child: a learner's terminal
        os.chdir(cwd)
        os.execvpe("bash", ["bash", "-c", command], env)
    seen = bytearray()

    def read(seconds: float) -> None:
        ready, _, _ = select.select([fd], [], [], seconds)
        if ready:
            try:
                seen.extend(os.read(fd, 65536))
            except OSError:
                pass

    url = re.compile(rf"http://(?:127\.0\.0\.1|localhost):{port}/lab/tree/START-HERE\.ipynb\?token=([0-9a-f]+)")
    try:
        while not url.search(seen.decode(errors="replace")) and time.monotonic() - started < start_seconds:
            read(0.5)
            if os.waitpid(pid, os.WNOHANG)[0]:
                pytest.fail(f"`{command}` ended before serving:\n{seen.decode(errors='replace')[-3000:]}")
        found = url.search(seen.decode(errors="replace"))
        assert found, f"`{command}` printed no start-page URL within {start_seconds:g} s:\n" \
                      f"{seen.decode(errors='replace')[-3000:]}"
        took = time.monotonic() - started
        for attempt in range(100):  # the URL is printed just before the server listens
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={found.group(1)}",
                                            timeout=10) as response:
                    assert response.status == 200
                break
            except OSError:
                if attempt == 99:
                    raise
                time.sleep(0.3)
        os.write(fd, b"\x03")  # one Ctrl-C
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            read(0.2)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        else:
            pytest.fail(f"`{command}` still running 60 s after Ctrl-C:\n{seen.decode(errors='replace')[-2000:]}")
        assert os.waitstatus_to_exitcode(status) == 0, \
            f"`{command}` exited {os.waitstatus_to_exitcode(status)} after Ctrl-C, expected 0:\n" \
            f"{seen.decode(errors='replace')[-2000:]}"
        return took
    finally:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os.close(fd)


def _check_output(command: str, output: str) -> None:
    if "-m autograde grade" in command:
        assert "VISIBLE TESTS ONLY: hidden tests run when your instructor grades." in output, \
            f"`{command}` must say it ran the visible tests only; it printed:\n{output[-2000:]}"


def _light_venv(root: Path, env: dict) -> None:
    """``root/.venv`` made without downloading anything: a venv whose site-packages points at this test run's
    third-party packages by a plain path line (so none of their .pth files run, and this repository's
    editable install is not seen). The README's `make course` then installs only the bundle itself into it,
    as its recipe says. Learner processes see only Python's and the venv's folders in the full sandbox, so
    this venv grades with limited isolation (as a learner who is not root does)."""
    subprocess.run(["python3", "-m", "venv", "--without-pip", ".venv"], cwd=root, env=env, check=True)
    paths = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    site = root / ".venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    (site / "third-party-packages-of-the-test-run.pth").write_text("\n".join(paths) + "\n")
    env["AUTOGRADE_ISOLATION"] = "limited"


@pytest.mark.slow
def test_every_command_the_bundle_tells_a_learner_to_run_works_there(tmp_path, capsys):
    """Unzip the bundle, and run, in order and where each text says, every command of its README, of the start
    page, and the grading line each module's environment check prints. The notebooks hold the solution's
    answers, so every visible test must pass.

    With COURSE_BUNDLE_VENV=fresh the README's own `make course` creates a fresh virtual environment and
    installs everything from the package index (pip's cache and the machine's wheel folders allowed): minutes
    on a busy machine (benchmarks/bundle_venv.py times it). By default the venv borrows this run's
    third-party packages (see _light_venv) and `make course` installs only the bundle itself."""
    import time

    held, _ = bundle_modules()
    write_bundle(tmp_path / "class.zip", held)
    with zipfile.ZipFile(tmp_path / "class.zip") as zf:
        zf.extractall(tmp_path / "class")
    root = (tmp_path / "class" / PREFIX).resolve()
    env = _learner_env(root, tmp_path)
    mode = os.environ.get("COURSE_BUNDLE_VENV", "light")
    assert mode in ("light", "fresh"), f"COURSE_BUNDLE_VENV must be light or fresh; got {mode!r}"
    if mode == "light":
        _light_venv(root, env)
    start_seconds = float(os.environ.get("COURSE_LAB_START_SECONDS") or 240)
    for assignment in held:  # the learner has done every exercise
        solved = _solved_copy(assignment, tmp_path)
        solved.replace(root / "notebooks" / assignment / f"{assignment}.ipynb")
    readme = learner_commands((root / "README.md").read_text())
    start_page = nbformat.read(root / "notebooks" / "START-HERE.ipynb", as_version=4)
    start_here = learner_commands("\n\n".join(c.source for c in start_page.cells if c.cell_type == "markdown"))
    assert "make course" in readme and any("-m autograde grade" in c for c in readme), readme
    assert any("-m autograde grade" in c for c in start_here), start_here
    timings = []

    # The README, from the bundle's folder, in a shell with no environment active.
    assert {c for c in readme if c.startswith(("conda ", "pip ", "python "))} == CONDA_ROUTE, readme
    for command in [c for c in readme if c not in CONDA_ROUTE]:
        started = time.monotonic()
        if SERVER.search(command):
            _serve_and_stop(command, root, env, start_seconds)
        else:
            result = _run(command, root, env)
            _check_output(command, result.stdout)
        timings.append((f"README: {command}", time.monotonic() - started))
        if command == "make course":
            assert (root / ".venv" / ".installed").is_file(), "make course set up no .venv/"

    # The start page, in JupyterLab's terminal: it opens in notebooks/ with the course's Python first on PATH.
    terminal = env | {"PATH": os.pathsep.join([str(root / ".venv" / "bin"), env["PATH"]]),
                      "VIRTUAL_ENV": str(root / ".venv")}
    for command in start_here:
        started = time.monotonic()
        if SERVER.search(command):
            _serve_and_stop(command, root, env, start_seconds)
        else:
            _check_output(command, _run(command, root / "notebooks", terminal).stdout)
        timings.append((f"START-HERE: {command}", time.monotonic() - started))

    # nbgrader's Validate button (the README's and the start page's other way to check) runs nbgrader's
    # validator on the saved notebook: the same, from the bundle alone, without the instructor's nbgrader_config.
    started = time.monotonic()
    module = root / "notebooks" / "01-requirements-estimation"
    validated = _run(".venv/bin/python -m nbgrader validate "
                     f"{shlex.quote(str(module / '01-requirements-estimation.ipynb'))}", root, env)
    assert "Success! Your notebook passes all the tests." in validated.stdout + validated.stderr, \
        f"nbgrader validate of the solved module 01 in the bundle:\n{validated.stdout[-2000:]}{validated.stderr[-2000:]}"
    timings.append(("nbgrader validate (the Validate button's check), module 01", time.monotonic() - started))

    # A module the first bundle left out (16 builds on 06's answers) comes later in a bundle of its own,
    # unzipped over the same folder; the editable install of `make course` sees its files.
    later = sorted(set(assignments()) - set(held))
    if later:
        write_bundle(tmp_path / "later.zip", later)
        with zipfile.ZipFile(tmp_path / "later.zip") as zf:
            zf.extractall(tmp_path / "class")
        for assignment in later:
            _solved_copy(assignment, tmp_path).replace(root / "notebooks" / assignment / f"{assignment}.ipynb")

    # Each module's environment check, run by the course's Python in the module's folder, prints the line.
    python = root / ".venv" / "bin" / "python"

    def module_line(assignment: str) -> tuple[str, float]:
        started = time.monotonic()
        folder = root / "notebooks" / assignment
        first_code = next(c for c in nbformat.read(folder / f"{assignment}.ipynb", as_version=4).cells
                          if c.cell_type == "code")
        printed = _run(f"{python} -c {shlex.quote(first_code.source)}", folder, env).stdout
        assert "All checks passed." in printed, f"{assignment}'s environment check failed in the bundle:\n{printed}"
        assert "Visible tests only; hidden tests run when your instructor grades." in printed, printed
        line = printed.strip().splitlines()[-1].strip()
        graded = _run(line, tmp_path, env).stdout  # pasted into a terminal anywhere
        _check_output(line, graded)
        assert re.search(r"(\d+) of \1 test cells pass their visible tests", graded), \
            f"{assignment}: the solution's answers must pass every visible test; `{line}` printed:\n{graded}"
        return line, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=2) as pool:
        for assignment, (line, seconds) in zip(assignments(), pool.map(module_line, assignments())):
            timings.append((f"{assignment} environment check, then its line", seconds))
    with capsys.disabled():
        print(f"\nstudent bundle, {mode} venv: seconds per command")
        for what, seconds in timings:
            print(f"  {seconds:6.1f}  {what}")
