"""Grade one assignment of the class on this machine: collect, grade with the hardened grader, release feedback.

    python deploy/jupyterhub/grade_class.py 01-requirements-estimation [--base /srv/system-design]

1. ``nbgrader collect`` as the instructor: the latest submission of each student, from the exchange's
   inbound into ``BASE/course/grading/submitted/`` (``--update`` replaces an older collected one);
2. ``python -m autograde batch grading/submitted --assignment A``: the course's hardened grader, as root
   when this runs as root (``isolation: full``: a submission cannot read the solutions, the gradebook or
   another submission), else as the user running it (``isolation: limited``; see docs/jupyterhub.md);
   grading/ is then given back to the instructor and the graders' group;
3. ``nbgrader generate_feedback`` (hidden tests stripped, see nbgrader_config.py) and
   ``nbgrader release_feedback`` as the instructor: each student fetches their own from the Assignments
   tab (or ``nbgrader fetch_feedback A``).

Exit status: the first step that failed's, else the batch's (0 all graded, 3 some unusable, 4 grader faults).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

DEFAULT_BASE = Path(os.environ.get("COURSE_HUB_BASE", "/srv/system-design"))


def venv_of(base: Path) -> Path:
    """The users' Python: BASE/venv, or where BASE/venv links to (setup_hub.py --venv)."""
    return (base / "venv").resolve()


def user_environment(base: Path, instructor: bool) -> dict[str, str]:
    """What a user's server gets from jupyterhub_config.py, for running nbgrader from a shell."""
    env = {"PATH": f"{venv_of(base) / 'bin'}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    if instructor:
        return env | {"JUPYTER_CONFIG_PATH": str(base / "etc" / "instructor"), "PYTHONPATH": str(base / "course")}
    return env | {"JUPYTER_CONFIG_PATH": str(base / "etc" / "student"), "PYTHONPATH": str(base / "public")}


def as_user(user: str, command: list[str], base: Path, cwd: Path | str | None = None, instructor: bool = False,
            **kwargs) -> subprocess.CompletedProcess:
    """Run ``command`` as ``user`` (su when root and another user, else directly), in ``cwd`` (default
    their home), with the environment their server would have."""
    entry = pwd.getpwnam(user)
    env = user_environment(base, instructor) | {"HOME": entry.pw_dir, "USER": user, "LOGNAME": user}
    cwd = str(cwd or entry.pw_dir)
    if os.geteuid() == entry.pw_uid:
        return subprocess.run(command, cwd=cwd, env=os.environ | env, **kwargs)
    if os.geteuid() != 0:
        raise PermissionError(f"only root can run commands as {user}")

    def become():
        os.setgid(entry.pw_gid)
        os.initgroups(user, entry.pw_gid)
        os.setuid(entry.pw_uid)

    return subprocess.run(command, cwd=cwd, env=env, preexec_fn=become, **kwargs)


def instructor_of(base: Path) -> str:
    return pwd.getpwuid((base / "course").stat().st_uid).pw_name


def give_back(folder: Path, uid: int, gid: int) -> None:
    """What root wrote in grading/ belongs to the instructor and the graders' group again."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        os.chown(path, uid, gid)
        os.chmod(path, (path.stat().st_mode & 0o7777) | (0o2070 if path.is_dir() else 0o060))


def grade(assignment: str, base: Path, collect: bool = True, feedback: bool = True) -> int:
    """Collect, batch-grade, release feedback; without ``collect`` or ``feedback`` (done from the
    formgrader's buttons instead) only the rest."""
    course = base / "course"
    instructor = instructor_of(base)
    python = str(venv_of(base) / "bin" / "python")
    steps = [["nbgrader", "collect", assignment, "--update"]] if collect else []
    for step in steps:
        result = as_user(instructor, step, base, cwd=course, instructor=True)
        if result.returncode:
            print(f"grade_class: `{' '.join(step)}` failed ({result.returncode})", file=sys.stderr)
            return result.returncode
    batch = [python, "-m", "autograde", "batch", "grading/submitted", "--assignment", assignment, "--workers", "2"]
    if os.geteuid() == 0:
        env = user_environment(base, instructor=True)
        graded = subprocess.run(batch, cwd=course, env=env).returncode
        info = course.stat()
        give_back(course / "grading", info.st_uid, info.st_gid)
    else:
        graded = as_user(instructor, batch, base, cwd=course, instructor=True).returncode
    if graded not in (0, 3):
        print(f"grade_class: the batch grader exited {graded}: feedback not released", file=sys.stderr)
        return graded
    for step in (["nbgrader", "generate_feedback", assignment], ["nbgrader", "release_feedback", assignment]
                 ) if feedback else ():
        result = as_user(instructor, step, base, cwd=course, instructor=True)
        if result.returncode:
            print(f"grade_class: `{' '.join(step)}` failed ({result.returncode})", file=sys.stderr)
            return result.returncode
    grades = course / "grading" / "grades.csv"
    print(f"graded {assignment}: {grades}; feedback released to the exchange")
    return graded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--base", type=Path, default=DEFAULT_BASE)
    args = parser.parse_args(argv)
    if not (args.base / "course").is_dir():
        print(f"grade_class: no class set up in {args.base} (run `make hub` or setup_hub.py first)", file=sys.stderr)
        return 2
    return grade(args.assignment, args.base.resolve())


if __name__ == "__main__":
    sys.exit(main())
