"""Set up a class on this machine for JupyterHub and nbgrader's exchange (run as root; `make hub` does).

What it makes, under BASE (default /srv/system-design; nothing outside it but the accounts):

- accounts: an instructor and a grader in the group ``formgrade-system-design`` (the course's graders,
  as nbgrader's docs name it), students in ``system-design-students``; each home is mode 700. Demo
  passwords are random, kept in ``BASE/hub/accounts.txt`` (root only) and printed;
- ``BASE/venv``: the Python every user's server runs: this course's dependencies and JupyterHub's
  single-user server, but not the course itself (so nothing of ``autograde/reference`` is importable);
- ``BASE/public``: the student bundle (``python -m autograde student-bundle``), read-only, on the students'
  ``PYTHONPATH``: the course package, the data, the visible-test grader. No solutions, no hidden tests;
- ``BASE/course``: the instructor's nbgrader course directory (solutions/, notebooks/, autograde/ with its
  reference, grading/ with the gradebook), owned by the instructor and the graders' group, mode 2770:
  a student cannot even list it;
- ``BASE/exchange``: nbgrader's exchange, ``chmod ugo+rw`` as nbgrader documents; nbgrader itself makes
  ``system-design/inbound`` 2733 (students drop in, nobody lists), ``outbound`` 755, ``feedback`` 711;
- ``BASE/etc/{student,instructor}``: the Jupyter configuration each kind of user gets
  (``JUPYTER_CONFIG_PATH``): course id and exchange for everyone; the formgrader and the create-assignment
  tools for the graders' group only;
- ``BASE/hub``: JupyterHub's own state (database, cookie secret), root only.

Run again at any time: the accounts, passwords and gradebook are kept; the course's files and the
student bundle are refreshed from this repository.
"""

from __future__ import annotations

import argparse
import fcntl
import grp
import hashlib
import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
COURSE_ID = "system-design"
GRADERS_GROUP = f"formgrade-{COURSE_ID}"
STUDENTS_GROUP = f"{COURSE_ID}-students"
DEFAULT_BASE = Path(os.environ.get("COURSE_HUB_BASE", "/srv/system-design"))
# What the instructor's course directory holds (the rest of the repository is for developers).
COURSE_PARTS = ["solutions", "notebooks", "course", "data", "autograde", "nbgrader_config.py", "pyproject.toml",
                "jupyter_lab_config.py", "lab-settings", "environment.yml"]
# What the batch grader's sandbox reads as its unprivileged user (autograde/sandbox.py binds them).
SANDBOX_READABLE = {"course", "data", "autograde"}
SKIPPED = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
# The nbgrader front-end parts only the graders' group gets (JupyterLab extension ids, server extensions).
INSTRUCTOR_LAB_EXTENSIONS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"]
INSTRUCTOR_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader"]


class SetupError(Exception):
    """Something the machine lacks; the message says what and how to get it."""


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, **kwargs)


# --- checks ------------------------------------------------------------------------------------


def check_machine(install_proxy: bool = True) -> str:
    """Root, useradd and the proxy; return the proxy's path. The proxy comes from npm (installed here
    when npm is present), everything else from PyPI via `make setup`."""
    if os.geteuid() != 0:
        raise SetupError("run as root (it creates accounts and starts each user's server as that user): "
                         "sudo make hub")
    for tool in ("useradd", "groupadd", "chpasswd", "usermod"):
        if shutil.which(tool) is None:
            raise SetupError(f"`{tool}` is missing: install the `passwd` package (Debian/Ubuntu: apt-get install passwd)")
    proxy = shutil.which("configurable-http-proxy")
    if proxy is None and install_proxy:
        npm = shutil.which("npm")
        if npm is None:
            raise SetupError("JupyterHub needs configurable-http-proxy, from npm, and npm is missing: install "
                             "Node.js and npm (Debian/Ubuntu: apt-get install nodejs npm), then run this again")
        print("installing configurable-http-proxy with npm (JupyterHub's proxy)")
        run([npm, "install", "-g", "--no-fund", "--no-audit", "configurable-http-proxy"], stdout=subprocess.DEVNULL)
        proxy = shutil.which("configurable-http-proxy")
    if proxy is None:
        raise SetupError("configurable-http-proxy is not on PATH: `npm install -g configurable-http-proxy`")
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        raise SetupError("JupyterHub is not installed in this Python: `make setup` installs the [hub] extra "
                         "(or pip install -e '.[hub]')") from None
    return proxy


# --- accounts ----------------------------------------------------------------------------------


def ensure_group(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        run(["groupadd", "--force", "--system", name])  # --force: another set-up made it meanwhile
        return grp.getgrnam(name).gr_gid


def ensure_user(name: str, group: str, primary: bool = False) -> pwd.struct_passwd:
    """A login account in ``group``; with ``primary`` that is its own group too, so that what a grader
    releases to the exchange (nbgrader's groupshared mode) is writable by the other graders."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        run(["useradd", "--create-home", "--shell", "/bin/bash",
             *(["--gid", group] if primary else ["--user-group", "--groups", group]), name])
    else:
        run(["usermod", *(["--gid", group] if primary else ["--append", "--groups", group]), name],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # "no changes" on a rerun
    entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    home.mkdir(exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    os.chmod(home, 0o700)  # one student's work is theirs alone
    return entry


def ensure_passwords(accounts: Path, names: list[str]) -> dict[str, str]:
    """Keep each account's demo password across runs; make one for a new account."""
    known = json.loads(accounts.read_text()) if accounts.is_file() else {}
    changed = [name for name in names if name not in known]
    for name in changed:
        known[name] = secrets.token_urlsafe(9)
    fd = os.open(accounts, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(known, out, indent=1)
    run(["chpasswd"], input="".join(f"{name}:{known[name]}\n" for name in names), text=True)
    return {name: known[name] for name in names}


# --- the Python and the files ------------------------------------------------------------------


def requirements() -> list[str]:
    """The course's own dependencies, and JupyterHub at the hub's version (the single-user server must
    match it)."""
    import jupyterhub

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], f"jupyterhub=={jupyterhub.__version__}"]


def shared_python(user: str) -> str:
    """A Python 3.11+ that every user can run (this one may live in root's home, as pyenv's does):
    COURSE_HUB_PYTHON, else the one running this, else the system's python3."""
    candidates = [os.environ.get("COURSE_HUB_PYTHON"), getattr(sys, "_base_executable", None), sys.executable,
                  "/usr/bin/python3"]
    tried = []
    for candidate in filter(None, candidates):
        probe = subprocess.run(["su", "-s", "/bin/sh", "-c", f"'{candidate}' -c 'import sys, venv; "
                                "sys.exit(sys.version_info < (3, 11))'", user], capture_output=True)
        if probe.returncode == 0:
            return candidate
        tried.append(candidate)
    raise SetupError(f"no Python 3.11+ with venv that user {user} can run (tried {', '.join(tried)}): install one "
                     "for all users (Debian/Ubuntu: apt-get install python3 python3-venv) or set COURSE_HUB_PYTHON")


def ensure_venv(venv: Path, user: str) -> None:
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:  # two set-ups sharing one Python wait in turn
        fcntl.flock(lock, fcntl.LOCK_EX)
        _ensure_venv(venv, user)


def _ensure_venv(venv: Path, user: str) -> None:
    python = shared_python(user)
    wanted = requirements()
    stamp = venv / ".course-requirements"
    digest = hashlib.sha256("\n".join([python, *wanted]).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest and (venv / "bin" / "jupyterhub-singleuser").is_file():
        return
    print(f"creating the users' Python in {venv} from {python} (once; about a minute)")
    shutil.rmtree(venv, ignore_errors=True)
    run([python, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
        stderr=subprocess.DEVNULL if os.environ.get("COURSE_HUB_QUIET") else None)
    stamp.write_text(digest)


def refresh_public(public: Path, modules: list[str] | None = None) -> None:
    """The student bundle of ``modules`` (default: the bundle's own choice), unpacked read-only: what a learner
    may see of the course. Module 16 builds on module 06's answers, so the default leaves it out; a rerun
    with ``--bundle-module 16-raft-kv`` (and no 06) hands it out once 06 is graded."""
    from autograde.bundle import PREFIX, write_bundle

    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "bundle.zip"
        write_bundle(archive, modules)
        fresh = public.with_name(public.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(fresh)
        inner = fresh / PREFIX
        shutil.rmtree(public, ignore_errors=True)
        inner.rename(public)
        shutil.rmtree(fresh)
    for path in [public, *public.rglob("*")]:
        os.chown(path, 0, 0, follow_symlinks=False)
        if not path.is_symlink():
            os.chmod(path, 0o755 if path.is_dir() else 0o644)


def refresh_course(course: Path, owner: pwd.struct_passwd, graders_gid: int) -> None:
    """The instructor's course directory: this repository's course files, and grading/ kept as it is."""
    course.mkdir(exist_ok=True)
    for name in COURSE_PARTS:
        source, target = REPO_ROOT / name, course / name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=SKIPPED, symlinks=True)
        elif source.is_file():
            shutil.copy2(source, target)
    (course / "grading").mkdir(exist_ok=True)
    # nbgrader also reads the nbgrader_config.py of the folder it runs in, last: the course's own file must
    # name the class's exchange, or a release from the course directory goes to its private grading/exchange.
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\n# Added by deploy/jupyterhub/setup_hub.py: the class's exchange, shared by the graders.\n"
                     f"c.Exchange.root = {str(course.parent / 'exchange')!r}\n"
                     f"c.CourseDirectory.groupshared = True\n")
    for path in [course, *course.rglob("*")]:
        if path.is_symlink():
            continue
        os.chown(path, owner.pw_uid, graders_gid)
        mode = path.stat().st_mode
        # What the grader's sandbox binds for a submission (course/, data/, autograde/ but its reference)
        # is readable by the sandbox's unprivileged user; a student still cannot pass the course directory
        # itself (2770), and sees the same files in the student bundle anyway.
        relative = path.relative_to(course).parts
        shared = bool(relative) and relative[0] in SANDBOX_READABLE and relative[:2] != ("autograde", "reference")
        if path.is_dir():  # graders share it (nbgrader's groupshared); others cannot even list it
            os.chmod(path, 0o2775 if shared else 0o2770)
        elif mode & stat.S_IXUSR:
            os.chmod(path, 0o775 if shared else 0o770)
        else:
            os.chmod(path, 0o664 if shared else 0o660)


def write_jupyter_config(etc: Path, base: Path) -> None:
    """Two Jupyter configuration folders, chosen per user by JUPYTER_CONFIG_PATH (jupyterhub_config.py)."""
    exchange = base / "exchange"
    common = (f"c = get_config()  # noqa: F821\n"
              f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
              f"c.Exchange.root = {str(exchange)!r}\n"
              f"# Short tracebacks when a learner validates: nothing of a test cell's source beyond its line.\n"
              f"c.Execute.extra_arguments = ['--InteractiveShell.xmode=Minimal']\n")
    student, instructor = etc / "student", etc / "instructor"
    for folder in (student, instructor, student / "labconfig", instructor / "labconfig"):
        folder.mkdir(parents=True, exist_ok=True)
    (student / "nbgrader_config.py").write_text(
        "# A student's nbgrader: the course and the exchange, no course directory.\n" + common)
    (student / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}}}, indent=1))
    (student / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {name: True for name in INSTRUCTOR_LAB_EXTENSIONS}}, indent=1))
    course_config = base / "course" / "nbgrader_config.py"
    (instructor / "nbgrader_config.py").write_text(
        "# The graders' nbgrader: the course directory's own configuration, then the class's exchange.\n"
        f"c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(course_config)!r})  # noqa: F821\n"
        + common.split("\n", 1)[1]
        + "# instructor and grader share the course directory and what they release\n"
        "c.CourseDirectory.groupshared = True\n")
    (instructor / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {name: True for name in INSTRUCTOR_SERVER_EXTENSIONS}}}, indent=1))
    (instructor / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {}}, indent=1))
    # No pop-up about Jupyter news and no update check, as in `make course` (jupyter_lab_config.py).
    quiet_lab = {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}
    for folder in (student, instructor):
        config = json.loads((folder / "jupyter_server_config.json").read_text())
        (folder / "jupyter_server_config.json").write_text(json.dumps(config | {"LabApp": quiet_lab}, indent=1))
    for path in [etc, *etc.rglob("*")]:
        os.chown(path, 0, 0)
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def setup(base: Path, instructor: str, graders: list[str], students: list[str], install_proxy: bool = True,
          venv: Path | None = None, bundle_modules: list[str] | None = None) -> dict:
    proxy = check_machine(install_proxy)
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    hub_state = base / "hub"
    hub_state.mkdir(exist_ok=True)
    os.chmod(hub_state, 0o700)

    graders_gid = ensure_group(GRADERS_GROUP)
    ensure_group(STUDENTS_GROUP)
    owner = ensure_user(instructor, GRADERS_GROUP, primary=True)
    for name in graders:
        ensure_user(name, GRADERS_GROUP, primary=True)
    for name in students:
        ensure_user(name, STUDENTS_GROUP)
    passwords = ensure_passwords(hub_state / "accounts.txt", [instructor, *graders, *students])

    venv = venv or base / "venv"
    ensure_venv(venv, students[0] if students else instructor)
    if venv != base / "venv":
        if (base / "venv").is_symlink():
            (base / "venv").unlink()
        (base / "venv").symlink_to(venv)
    refresh_public(base / "public", bundle_modules)
    # The course's JupyterLab defaults (lab-settings/overrides.json) for every user's JupyterLab.
    settings = Path(venv) / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "lab-settings" / "overrides.json", settings / "overrides.json")
    refresh_course(base / "course", owner, graders_gid)
    exchange = base / "exchange"
    exchange.mkdir(exist_ok=True)
    os.chmod(exchange, 0o777)  # nbgrader's docs: `chmod ugo+rw` on the exchange; nbgrader sets what is inside
    write_jupyter_config(base / "etc", base)

    roles = {"course_id": COURSE_ID, "instructors": [instructor, *graders], "students": students,
             "graders_group": GRADERS_GROUP, "students_group": STUDENTS_GROUP, "proxy": proxy, "venv": str(venv)}
    (hub_state / "roles.json").write_text(json.dumps(roles, indent=1))
    return {"passwords": passwords, **roles}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, default=DEFAULT_BASE, help=f"where everything goes (default {DEFAULT_BASE})")
    parser.add_argument("--instructor", default="instructor")
    parser.add_argument("--grader", action="append", default=None, help="a grader's account (default: grader)")
    parser.add_argument("--student", action="append", default=None, help="a student's account (default: student1, student2)")
    parser.add_argument("--venv", type=Path, help="the users' Python (default BASE/venv; made once, reused)")
    parser.add_argument("--bundle-module", action="append", default=None,
                        help="the modules whose files students see in BASE/public (repeatable; default: every module "
                             "that can go with the others, see `python -m autograde student-bundle`)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT))
    from autograde.layout import UsageError

    try:
        done = setup(args.base.resolve(), args.instructor, args.grader or ["grader"], args.student or ["student1", "student2"],
                     venv=args.venv.resolve() if args.venv else None, bundle_modules=args.bundle_module)
    except SetupError as exc:
        print(f"setup_hub: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:  # a bundle that cannot be made as asked (two modules that cannot go together)
        print(f"setup_hub: {exc}", file=sys.stderr)
        return 2
    print(f"class set up in {args.base}: course {done['course_id']}")
    for name, password in done["passwords"].items():
        role = "instructor (formgrader)" if name in done["instructors"] else "student"
        print(f"  {name:12} password {password:14} {role}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
