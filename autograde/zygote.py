"""A pre-warmed process that forks one sandboxed learner process per submission.

The grader starts one zygote per worker. The zygote imports, once, everything a notebook
usually needs (numpy, pandas, matplotlib, IPython, the course package), and then, for each
submission, forks; the fork enters the sandbox (``autograde.isolation``) and becomes the
learner's process (``autograde.runner``) with those imports already done. Interpreter start-up
and imports are paid once per worker instead of once per notebook.

The zygote itself never runs learner code, never imports the reference answers and never sees a
test cell. It talks to the grader over a SOCK_SEQPACKET socket (fd given as argv[1]): a request
is a JSON object with the runner's socket attached as a file descriptor; the reply is a JSON
object with the host PID to kill when the submission is done.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import tempfile
import traceback


def preload() -> None:
    """Import what notebooks use, so every fork starts warm."""
    import importlib
    import pkgutil

    import matplotlib

    matplotlib.use("Agg")
    for name in ("numpy", "pandas", "matplotlib.pyplot", "simpy", "networkx", "sqlite3", "hashlib",
                 "IPython.core.interactiveshell", "autograde.runner", "course"):
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional library only costs speed
            pass
    import course

    from autograde.layout import COURSE_FILES_WITH_ANSWERS

    # not a file that holds a module's answers: loaded here, it would be in every learner's memory (gc finds
    # its functions) even where the file is hidden; the module that needs it imports it itself
    withheld = {name.removesuffix(".py").replace("/", ".") for name in COURSE_FILES_WITH_ANSWERS}
    for module in pkgutil.iter_modules(course.__path__):
        if f"course.{module.name}" in withheld:
            continue
        try:
            importlib.import_module(f"course.{module.name}")
        except Exception:
            pass


_spawned = 0


def _spawn_full(request: dict, runner_fd: int, new_root: str, cgroups: dict[str, str]) -> int:
    """Fork: its own cgroup(s) if any, new namespaces, a tiny init as PID 1 (root), the learner's
    process as PID 2."""
    from autograde import isolation

    read_end, write_end = os.pipe()
    child = os.fork()
    if child:
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            line = pipe.readline().strip()
        os.waitpid(child, 0)  # the intermediate process exits once it has reported
        if not line.isdigit():
            raise RuntimeError(f"the sandbox did not start: {line or 'no reason given'}")
        return int(line)
    # intermediate process
    try:
        os.close(read_end)
        os.close(_lifeline_write)
        os.setsid()
        if cgroups:  # before anything forks: every process of the sandbox inherits the cgroup(s)
            isolation.join_cgroup(cgroups)
        isolation.unshare_namespaces()
        init = os.fork()
        if init:
            os.write(write_end, f"{init}\n".encode())
            os._exit(0)
        _sandbox_init(request, runner_fd, new_root, write_end)
    except BaseException as exc:
        try:
            os.write(write_end, f"{type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(1)


PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
_lifeline = -1  # read end of a pipe whose write end only the zygote holds: EOF means the zygote died
_lifeline_write = -1


def _prctl(option: int, value: int) -> None:
    import ctypes

    ctypes.CDLL(None).prctl(option, value, 0, 0, 0)


def _sandbox_init(request: dict, runner_fd: int, new_root: str, report_fd: int) -> None:
    """PID 1 of the sandbox: build the file system, start the learner's process, reap, exit.

    It exits (and the kernel then kills everything in the namespace) when the learner's process
    ends, or when the zygote dies, so a grader killed with -9 leaves nothing behind."""
    import select

    from autograde import isolation

    try:
        os.close(report_fd)
        plan = isolation.SandboxPlan(**request["plan"])
        limits = isolation.Limits(**request["limits"])
        uid = int(request["uid"])
        isolation.build_root(new_root, plan)
        isolation.loopback_up()
        os.makedirs("/tmp/work", exist_ok=True)
        os.chown("/tmp/work", uid, uid)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        learner = os.fork()
        if learner == 0:
            _become_learner(runner_fd, limits, uid)
        os.close(runner_fd)
        while True:  # reap every orphan until the learner's process ends or the zygote dies
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == learner:
                os._exit(0)
            if pid == 0 and select.select([_lifeline], [], [], 0.2)[0]:
                os._exit(0)
    except ChildProcessError:
        os._exit(0)
    except BaseException:
        traceback.print_exc()
        os._exit(1)


def _become_learner(runner_fd: int, limits, uid: int | None) -> None:
    from autograde import isolation, runner

    try:
        if _lifeline >= 0:
            os.close(_lifeline)
        _keep_only_fds(runner_fd)
        os.chdir("/tmp/work" if os.path.isdir("/tmp/work") else tempfile.gettempdir())
        if uid is not None:
            isolation.drop_privileges(uid)
        isolation.apply_limits(limits)
        os.environ.clear()
        os.environ.update(isolation.learner_environment())
        runner.serve(socket.socket(fileno=runner_fd))
    finally:
        os._exit(0)


def _keep_only_fds(runner_fd: int) -> None:
    """Close every inherited descriptor (the zygote's control socket above all) but the runner's;
    stdin reads nothing, stdout and stderr of C code and child processes go nowhere."""
    os.closerange(3, runner_fd)
    os.closerange(runner_fd + 1, 65536)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)


def _spawn_limited(request: dict, runner_fd: int) -> int:
    """Fork a learner process with resource limits and its own session only."""
    from autograde import isolation

    child = os.fork()
    if child:
        return child
    os.setsid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    limits = isolation.Limits(**request["limits"])
    limits = isolation.Limits(**{**limits.to_dict(), "processes": 100_000})  # RLIMIT_NPROC counts all the user's processes
    _become_learner(runner_fd, limits, None)
    return 0  # not reached


def main() -> None:
    global _lifeline, _lifeline_write, _spawned
    from autograde import isolation

    control = socket.socket(fileno=int(sys.argv[1]))
    full = sys.argv[2] == "full"
    if sys.platform.startswith("linux"):
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)   # the grader died: so do we
        _prctl(PR_SET_CHILD_SUBREAPER, 1)           # orphaned sandbox inits are reaped here
    _lifeline, _lifeline_write = os.pipe()
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # learner processes are reaped automatically
    new_root = tempfile.mkdtemp(prefix="autograde-root-") if full else ""
    if not full:
        support = isolation.CgroupSupport(reason="no full isolation")
    elif sys.argv[3:4] == ["no-cgroups"]:
        support = isolation.CgroupSupport(reason="cgroups turned off")
    else:
        support = isolation.detect_cgroups()
    control.send(json.dumps({"ready": True, "limits": support.describe(), "cgroups": support.version}).encode())
    try:
        while True:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
            if not message:
                return
            request = json.loads(message)
            try:
                if not fds:
                    raise RuntimeError("no runner socket attached")
                cgroups: dict[str, str] = {}
                if full:
                    if support.version:
                        _spawned += 1
                        cgroups = isolation.create_cgroup(support, f"{isolation.CGROUP_PREFIX}{os.getpid()}-{_spawned}",
                                                          isolation.Limits(**request["limits"]))
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    try:
                        pid = _spawn_full(request, fds[0], new_root, cgroups)
                    except BaseException:
                        isolation.remove_cgroup(cgroups)
                        raise
                    finally:
                        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
                else:
                    pid = _spawn_limited(request, fds[0])
                reply = {"pid": pid, "cgroups": cgroups}
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            for fd in fds:
                os.close(fd)
            control.send(json.dumps(reply).encode())
    finally:
        if new_root:
            os.rmdir(new_root)


if __name__ == "__main__":
    main()
