"""The grader's side of a sandboxed learner process: start it, talk to it, stop it.

``Zygote`` starts the pre-warmed forking process of one worker; ``Zygote.spawn()`` returns a
``LearnerProcess`` in a fresh sandbox. Test cells run in the grader's own process; inside them,
the learner's names are ``RemoteCallable`` / ``RemoteObject`` proxies whose calls travel to the
learner process and come back as plain data (or as another proxy). So every verdict is decided
here, on data, whatever the learner's code patched, redefined or rewrote in its own process.
"""

from __future__ import annotations

import builtins
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence

from autograde.isolation import (Limits, SandboxPlan, cgroup_cpu_seconds, cpu_wait_seconds, default_plan,
                                 full_isolation_possible,
                                 process_tree_cpu_seconds, remove_cgroup, sandbox_uid, zygote_environment)
from autograde.layout import REPO_ROOT

MAX_REPLY_BYTES = 16 * 1024 * 1024  # one reply (one line); a longer one kills the learner's process
MAX_ERROR_MESSAGE = 4000
INTERRUPT_GRACE_S = 3.0
CPU_POLL_S = 0.25  # how often a waiting grader reads the learner's CPU time
STARVED_SHARE = 0.1  # a cell that waited for a CPU this share of its wall-clock time ran on a busy machine


class SandboxError(RuntimeError):
    """The sandbox could not be started (a problem of the machine, not of the submission)."""


class CellTimeout(BaseException):
    """The learner's code ran out of time. A BaseException, so that no ``except Exception`` in
    test code (or in the verdict helper) can swallow it.

    ``reason``: "cpu" (it used its CPU time), "wall" (it ran out of wall-clock time on a machine
    that was not busy: sleeping, blocked, or CPU time could not be measured) or "backstop" (the
    machine was busy and even the stretched wall-clock limit ran out). ``retry``: the grader
    cannot tell whether the code was at fault (a busy machine): not graded, grade again."""

    def __init__(self, message: str = "", reason: str = "wall", retry: bool = False):
        super().__init__(message)
        self.reason, self.retry = reason, retry


def machine_busy() -> tuple[bool, str]:
    """Whether the machine is busier than its cores (1-minute load average), and how busy."""
    try:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
    except (AttributeError, OSError):
        return False, ""
    return load > cores, f"load {load:.1f} on {cores} cores"


class TestCodeError(BaseException):
    """The test code tried to pass something that cannot cross to the learner's process. A
    BaseException, so that ``check_raises(..., TypeError)`` cannot mistake it for the learner's error."""


class LearnerProcessDied(BaseException):
    """The learner's process ended (it exited, crashed, or hit a resource limit)."""


class Zygote:
    """One worker's pre-warmed forking process."""

    def __init__(self, slot: int = 0, limits: Limits | None = None, plan: SandboxPlan | None = None,
                 start_timeout: float = 120.0, grader_pid: int | None = None, cgroups: bool | None = None):
        """``cgroups``: False keeps to per-process limits (rlimits) even where per-submission cgroups
        could be made; None (the default) means yes unless AUTOGRADE_CGROUPS=off."""
        self.slot = slot
        self.uid = sandbox_uid(slot, grader_pid)
        self.limits = limits or Limits()
        self.plan = plan or default_plan(REPO_ROOT)
        self.isolation = "full" if full_isolation_possible() else "limited"
        self.mode = self.isolation  # "full" or "limited"; isolation adds which limits hold
        self._lock = threading.Lock()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # The zygote's environment block is copied into every learner process, where
        # prctl(PR_SET_DUMPABLE, 1) + /proc/self/environ reads it back whatever os.environ says:
        # so it gets a minimal, explicit one, never the grader's (CI secrets, HOME, PWD).
        self._config_dir = tempfile.mkdtemp()  # a name that does not say "grader"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograde.zygote", str(theirs.fileno()), self.mode,
             "cgroups" if (os.environ.get("AUTOGRADE_CGROUPS") != "off" if cgroups is None else cgroups)
             else "no-cgroups"],
            pass_fds=[theirs.fileno()], env=zygote_environment(self._config_dir),
            stdin=subprocess.DEVNULL, cwd=str(REPO_ROOT))
        theirs.close()
        self.control = ours
        self.control.settimeout(start_timeout)
        try:
            ready = json.loads(self.control.recv(65536) or b"{}")
        except (OSError, ValueError) as exc:
            self.close()
            raise SandboxError(f"the grading sandbox did not start: {exc}") from exc
        if not ready.get("ready"):
            self.close()
            raise SandboxError("the grading sandbox did not start (the zygote exited)")
        self.cgroups = int(ready.get("cgroups") or 0)  # 2, 1, or 0: per-process rlimits only
        self.isolation += f"; {ready.get('limits') or 'per-process limits only'}"
        self.control.settimeout(60.0)

    def spawn(self, hidden: Sequence[str] = ()) -> "LearnerProcess":
        """A new learner process; ``hidden``: more paths it may not read (full isolation), besides the plan's."""
        ours, theirs = socket.socketpair()
        request = {"uid": self.uid, "limits": self.limits.to_dict(),
                   "plan": {"readonly": self.plan.readonly, "hidden": [*self.plan.hidden, *hidden]}}
        with self._lock:
            try:
                socket.send_fds(self.control, [json.dumps(request).encode()], [theirs.fileno()])
                reply = json.loads(self.control.recv(65536) or b"{}")
            except (OSError, ValueError) as exc:
                raise SandboxError(f"the grading sandbox stopped answering: {exc}") from exc
            finally:
                theirs.close()
        if "pid" not in reply:
            ours.close()
            raise SandboxError(f"could not start a sandboxed process: {reply.get('error', 'no reason given')}")
        return LearnerProcess(ours, int(reply["pid"]), self.isolation, self.limits, reply.get("cgroups") or {})

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self._config_dir, ignore_errors=True)

    def __enter__(self) -> "Zygote":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LearnerProcess:
    """One sandboxed process running a learner's cells, and the requests made to it."""

    def __init__(self, sock: socket.socket, pid: int, isolation: str, limits: Limits,
                 cgroups: dict[str, str] | None = None):
        self.sock, self.pid, self.isolation, self.limits = sock, pid, isolation, limits
        self.cgroups = dict(cgroups or {})
        self.buffer = bytearray()
        self._start = self._scanned = 0  # the unread part of buffer starts at _start; no newline before _scanned
        self.next_id = 0
        self.alive = True
        self._lock = threading.RLock()  # one request at a time, whichever grader thread makes it
        self.start_clock(limits.cell_seconds)

    # ------------------------------------------------------------------ time
    def cpu_seconds(self) -> float | None:
        """CPU time used so far by the learner's processes: its cgroup's, else its process tree's."""
        if self.cgroups:
            return cgroup_cpu_seconds(self.cgroups)
        return process_tree_cpu_seconds(self.pid)

    def start_clock(self, seconds: float, wall_cap: float | None = None, backstop_cap: float | None = None) -> None:
        """Give the next cell (or test cell) ``seconds`` of the learner's CPU time from now.

        On a machine that is not busy, ``seconds`` of wall-clock time also end it (as before: a
        sleeping or deadlocked cell uses no CPU). On a busy one (load above its cores, or the
        learner's code kept waiting for a CPU: see starved) the
        wall-clock limit stretches up to ``backstop_factor`` times; if that runs out too, the cell
        is not graded (CellTimeout with retry). ``deadline`` is the plain wall-clock limit."""
        now = time.monotonic()
        self.seconds = seconds
        self.deadline = now + seconds if wall_cap is None else min(now + seconds, wall_cap)
        backstop = now + seconds * max(1.0, self.limits.backstop_factor)
        self.backstop = backstop if backstop_cap is None else min(backstop, backstop_cap)
        used = self.cpu_seconds()
        self.cpu_until = None if used is None else used + seconds
        self.clock_started, self.waited_at_start = now, self.cpu_wait_seconds()

    def cpu_wait_seconds(self) -> float | None:
        """Time the learner's threads spent waiting for a CPU so far (see isolation.cpu_wait_seconds)."""
        return cpu_wait_seconds(self.pid, self.cgroups)

    def starved(self) -> bool:
        """Whether, since the clock started, the learner's code waited for a CPU for more than
        STARVED_SHARE of the time: the machine is busy for it now, whatever the load average says yet."""
        waited = self.cpu_wait_seconds()
        if waited is None or self.waited_at_start is None:
            return False
        return waited - self.waited_at_start > STARVED_SHARE * (time.monotonic() - self.clock_started)

    # ------------------------------------------------------------------ requests
    def request(self, message: dict, deadline: float | None = None) -> dict:
        """Send ``message`` and return its reply; raise CellTimeout or LearnerProcessDied."""
        with self._lock:
            return self._request(message, deadline)

    def _request(self, message: dict, deadline: float | None) -> dict:
        if not self.alive:
            raise LearnerProcessDied("the learner's process had already ended")
        deadline = self.deadline if deadline is None else deadline
        self.next_id += 1
        request_id = self.next_id
        try:
            self.sock.sendall((json.dumps({**message, "id": request_id}) + "\n").encode())
        except OSError as exc:
            self.kill()
            raise LearnerProcessDied(f"the learner's process ended ({exc.strerror})") from None
        reply = self._await(request_id, deadline)
        if isinstance(reply, str):  # out of time: interrupt, and kill if that does not work
            reason, retry = reply, reply == "backstop"
            try:
                self.sock.sendall(b'{"op": "interrupt"}\n')
            except OSError:
                pass
            if self._reply(request_id, time.monotonic() + INTERRUPT_GRACE_S) is None:
                self.kill()
                raise CellTimeout("it did not stop when interrupted, so its process was killed", reason, retry)
            raise CellTimeout("it was interrupted", reason, retry)
        if reply.get("interrupted"):
            raise CellTimeout("it was interrupted")
        return reply

    def _await(self, request_id: int, deadline: float) -> dict | str:
        """The reply, or why time ran out: "cpu", "wall" or "backstop" (see CellTimeout)."""
        hard = max(self.backstop, deadline)
        while True:
            cpu_until = self.cpu_until
            now = time.monotonic()
            until = deadline if cpu_until is None else min(hard, now + CPU_POLL_S)
            reply = self._reply(request_id, until)
            if reply is not None:
                return reply
            now = time.monotonic()
            if now >= hard:
                return "backstop" if cpu_until is not None else "wall"
            if cpu_until is not None:
                used = self.cpu_seconds()
                if used is not None and used >= cpu_until:
                    return "cpu"
            if now >= deadline and (cpu_until is None or not (machine_busy()[0] or self.starved())):
                return "wall"

    def _reply(self, request_id: int, deadline: float) -> dict | None:
        """The reply to ``request_id``, or None at the deadline. Other lines (stale replies, or
        whatever the learner's code wrote on the socket) are skipped, with the deadline checked
        after each one: a flood of tiny lines cannot hold the grader past it."""
        while True:
            line = self._line(deadline)
            if line is None:
                return None
            try:
                reply = json.loads(line)
            except ValueError:
                reply = None
            if isinstance(reply, dict) and reply.get("id") == request_id:
                return reply
            if time.monotonic() >= deadline:
                return None

    def _line(self, deadline: float) -> bytes | None:
        """The next full line (one already buffered is returned even past the deadline: its
        caller checks the deadline after each line), or None at the deadline. A line is taken by
        moving an offset, not by copying the buffer, so a burst of lines costs linear time."""
        while True:
            newline = self.buffer.find(b"\n", self._scanned)
            if newline >= 0:
                line = bytes(self.buffer[self._start:newline])
                self._start = self._scanned = newline + 1
                if self._start > 65536 and self._start * 2 > len(self.buffer):  # compact now and then
                    del self.buffer[:self._start]
                    self._start = self._scanned = 0
                return line
            self._scanned = len(self.buffer)
            if self._scanned - self._start > MAX_REPLY_BYTES:
                self.kill()
                raise LearnerProcessDied(f"a reply was larger than {MAX_REPLY_BYTES // 2**20} MB")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                return None
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                self.kill()
                raise LearnerProcessDied("the learner's process ended")
            self.buffer += chunk

    def execute(self, source: str, deadline: float) -> dict:
        """Run one cell of learner-side code; returns {"output", "error"?}."""
        return self.request({"op": "exec", "source": source}, deadline)

    def fresh(self, module: str, qualname: str):
        """A new copy, in this process, of ``module``'s ``qualname``, run from the grader's copy of the
        module's source (see :mod:`autograde.beside`)."""
        import importlib

        filename = importlib.import_module(module).__file__
        with open(filename, encoding="utf-8") as handle:
            source = handle.read()
        reply = self.request({"op": "fresh", "module": module, "filename": filename, "source": source,
                              "qualname": qualname})
        if "error" in reply:
            raise TestCodeError(f"the course helper {module}.{qualname} could not be set up beside your code: "
                                f"{reply['error'].get('type')}: {reply['error'].get('message')}")
        value = self.decode(reply, qualname)
        if isinstance(value, RemoteObject):
            object.__setattr__(value, "_label", qualname)
        return value

    def decode(self, reply: dict, name: str | None = None):
        if "error" in reply:
            raise rebuild_exception(reply["error"])
        if "value" in reply:
            return reply["value"]
        if "handle" in reply:
            cls = RemoteCallable if reply.get("callable") else RemoteObject
            value = cls(self, {"handle": reply["handle"]}, name or reply.get("type", "object"), reply.get("type", ""))
            if reply.get("type") in ("builtins.bytes", "builtins.bytearray", "builtins.complex") and reply.get("repr"):
                object.__setattr__(value, "_label", str(reply["repr"])[:200])  # shown as b'...' in messages
            return value
        raise LearnerProcessDied("the learner's process sent a malformed reply")

    def kill(self) -> None:
        """SIGKILL the sandbox: with full isolation, PID 1 of its namespace, so every process in it."""
        if not self.alive:
            return
        self.alive = False
        for kill in ((lambda: os.killpg(self.pid, signal.SIGKILL)), (lambda: os.kill(self.pid, signal.SIGKILL))):
            try:
                kill()
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.sock.close()
        except OSError:
            pass
        if self.cgroups:  # whatever still runs in it is killed; then the cgroup is removed
            remove_cgroup(self.cgroups)


def rebuild_exception(error: dict) -> Exception:
    """The exception the learner's code raised, rebuilt here: the course's own exception class if
    it came from ``course`` (so ``isinstance`` works in drivers), else one of the same name that
    subclasses the nearest built-in exception class."""
    if not isinstance(error, dict):
        error = {"message": error}
    name = str(error.get("type", "Exception"))[:100]
    message = str(error.get("message", ""))[:MAX_ERROR_MESSAGE]  # the learner's side cuts too, unless tampered with
    module = str(error.get("module", ""))[:200]
    if module == "course" or module.startswith("course."):
        import importlib

        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:
            cls = None
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                return cls(message)
            except Exception:
                pass
    base = Exception
    bases = error.get("builtin_bases", [])
    for candidate in bases[:50] if isinstance(bases, list) else []:
        cls = getattr(builtins, str(candidate), None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            base = cls
            break
    if getattr(builtins, name, None) is base:
        return base(message) if base is not KeyError else KeyError(message)
    return type(name if name.isidentifier() else "LearnerError", (base,), {"__str__": lambda self: message})(message)


def _encode_argument(value):
    if isinstance(value, RemoteObject):
        return {"__handle__": value._target["handle"]} if "handle" in value._target else value._target
    if isinstance(value, (list, tuple)):
        return [_encode_argument(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode_argument(v) for k, v in value.items()}
    if value is None or type(value) in (bool, int, float, str):
        return value
    raise TestCodeError(f"a test passed a {type(value).__name__} to the learner's code; only plain data "
                        "(and the learner's own objects) can cross to the sandbox")


class RemoteObject:
    """A learner's object that is not plain data, living in the learner's process."""

    def __init__(self, process: LearnerProcess, target: dict, name: str, type_name: str = ""):
        object.__setattr__(self, "_process", process)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "__name__", name)
        object.__setattr__(self, "_type_name", type_name)

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        reply = self._process.request({"op": "getattr", "target": self._target, "name": attribute})
        if "error" in reply and reply["error"].get("type") == "AttributeError":
            raise AttributeError(reply["error"].get("message", attribute))
        return self._process.decode(reply, attribute)

    def __setattr__(self, attribute, value):
        raise TypeError("test code may not change the learner's objects directly")

    def __repr__(self) -> str:
        label = self.__dict__.get("_label")
        return label or f"<{self._type_name or 'object'} in the learner's process>"


class RemoteCallable(RemoteObject):
    """A learner's function, class or method: calling it runs it in the learner's process."""

    def __call__(self, *args, **kwargs):
        reply = self._process.request({"op": "call", "target": self._target,
                                       "args": [_encode_argument(a) for a in args],
                                       "kwargs": {k: _encode_argument(v) for k, v in kwargs.items()}})
        return self._process.decode(reply)


class LearnerNames(dict):
    """Globals of a test cell: names the cell does not define, and that the assignment's answer cells
    define (``answer_names``), are looked up in the learner's process. Any other name is not: a
    helper a provided cell imported could be replaced by an answer cell, so a test cell imports what it
    needs itself (and wraps it with :func:`autograde.beside.beside_learner` to run it next to the
    learner's code)."""

    def __init__(self, process: LearnerProcess, answer_names: frozenset[str] | None = None):
        super().__init__(__name__="__main__", __builtins__=builtins)
        self._process = process
        self._answer_names = answer_names

    def __missing__(self, name: str):
        if name.startswith("__") or hasattr(builtins, name):
            raise KeyError(name)
        if self._answer_names is not None and name not in self._answer_names:
            raise TestCodeError(f"the test uses {name!r}, which no answer cell defines; a test cell may reach "
                                "only the names your answer cells define")
        reply = self._process.request({"op": "lookup", "name": name})
        if not reply.get("exists"):
            raise KeyError(name)
        value = self._process.decode(reply, name)
        if isinstance(value, RemoteObject):  # shown as its name in failure messages, ready to paste
            object.__setattr__(value, "_label", name)
        self[name] = value
        return value
