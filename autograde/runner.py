"""The learner side of grading: runs inside the sandbox, as an unprivileged process.

It executes the learner's cells (answer cells and the notebook's provided cells) in an IPython
shell, and answers the grader's requests to call the learner's functions, classes and methods.
Every result leaves as plain data (JSON) or as an opaque handle; the grader compares it with the
expected value in its own process. Test cells and hidden tests never come here.

Protocol: one JSON object per line on a socket inherited from the grader. Requests carry an
``id``; each reply echoes it. An ``{"op": "interrupt"}`` line, read by a watcher thread,
raises KeyboardInterrupt in whatever the learner's code is doing.
"""

from __future__ import annotations

import _thread
import importlib
import io
import json
import queue
import sys
import threading
import traceback
import types
from typing import Any

from autograde.verdict import NotPlainData, to_plain

MAX_LINE = 16 * 1024 * 1024
STDOUT_KEEP = 20_000


class _CappedText(io.TextIOBase):
    """A text stream that keeps the first STDOUT_KEEP characters and counts the rest."""

    def __init__(self):
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = STDOUT_KEEP - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n... ({self.dropped} more characters of output not kept)"
        self.parts, self.kept, self.dropped = [], 0, 0
        return text


def _describe_exception(exc: BaseException) -> dict:
    bases = [cls.__name__ for cls in type(exc).__mro__ if cls.__module__ == "builtins"]
    try:
        message = str(exc)
    except Exception:  # a hostile __str__
        message = "<the exception's message could not be read>"
    return {"type": type(exc).__name__, "module": type(exc).__module__, "builtin_bases": bases,
            "message": message[:4000]}


class Runner:
    def __init__(self, sock):
        from IPython.core.interactiveshell import InteractiveShell

        self.sock = sock
        self.reader = sock.makefile("rb")
        self.requests: queue.Queue = queue.Queue()
        self.handles: dict[int, Any] = {}
        self.output = _CappedText()
        self.shell = InteractiveShell.instance(colors="NoColor", xmode="Minimal", history_length=0)
        self.shell.history_manager.enabled = False
        sys.stdout = sys.stderr = self.output
        self.send_lock = threading.Lock()

    # ------------------------------------------------------------------ transport
    def _watch(self) -> None:
        """Read requests; an interrupt goes straight to the main thread."""
        while True:
            line = self.reader.readline(MAX_LINE)
            if not line:
                self.requests.put(None)
                return
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("op") == "interrupt":
                _thread.interrupt_main()
            else:
                self.requests.put(message)

    def _send(self, reply: dict) -> None:
        data = (json.dumps(reply, allow_nan=True) + "\n").encode()
        with self.send_lock:
            self.sock.sendall(data)

    def serve(self) -> None:
        threading.Thread(target=self._watch, daemon=True).start()
        while True:
            try:
                message = self.requests.get()
                if message is None:
                    return
                reply = self._handle(message)
            except KeyboardInterrupt:
                reply = {"interrupted": True}
                message = message if isinstance(message, dict) else {}
            except BaseException as exc:  # keep serving whatever the learner's code raised
                reply = {"error": _describe_exception(exc)}
            reply["id"] = message.get("id") if isinstance(message, dict) else None
            try:
                self._send(reply)
            except (TypeError, ValueError):
                self._send({"id": reply["id"], "error": {"type": "TypeError", "builtin_bases": ["TypeError"],
                                                         "message": "the result could not be encoded"}})

    # ------------------------------------------------------------------ requests
    def _handle(self, message: dict) -> dict:
        op = message.get("op")
        if op == "exec":
            return self._exec(message["source"])
        if op == "lookup":
            name = message["name"]
            if name not in self.shell.user_ns or name.startswith("_"):
                return {"exists": False}
            return {"exists": True, **self._encode(self.shell.user_ns[name])}
        if op == "call":
            target = self._target(message["target"])
            args = [self._decode(a) for a in message.get("args", [])]
            kwargs = {k: self._decode(v) for k, v in message.get("kwargs", {}).items()}
            return self._encode(target(*args, **kwargs))
        if op == "fresh":  # a course helper, from source the grader sent, as a module nothing refers to
            try:  # the real one must be importable by name: dataclasses look a class's module up there
                importlib.import_module(str(message["module"]))
            except ImportError:
                pass
            module = types.ModuleType(str(message["module"]))
            module.__file__ = str(message["filename"])
            exec(compile(message["source"], module.__file__, "exec"), module.__dict__)  # noqa: S102
            shared = sys.modules.get(module.__name__)  # its exception classes stay the ones the learner catches
            for key, value in list(vars(module).items()):
                theirs = getattr(shared, key, None)
                if (isinstance(value, type) and issubclass(value, BaseException) and isinstance(theirs, type)
                        and issubclass(theirs, BaseException)):
                    setattr(module, key, theirs)
            return self._encode(getattr(module, str(message["qualname"])))
        if op == "getattr":
            return self._encode(getattr(self._target(message["target"]), message["name"]))
        if op == "ping":
            return {"pong": True}
        return {"error": {"type": "ValueError", "builtin_bases": ["ValueError"], "message": f"unknown op {op!r}"}}

    def _exec(self, source: str) -> dict:
        try:
            result = self.shell.run_cell(source, store_history=False)
        except KeyboardInterrupt:
            raise
        error = result.error_before_exec or result.error_in_exec
        reply: dict = {"output": self.output.take()}
        if isinstance(error, KeyboardInterrupt):
            reply["interrupted"] = True
        elif error is not None:
            reply["error"] = _describe_exception(error)
        return reply

    def _target(self, spec: dict):
        if "handle" in spec:
            return self.handles[int(spec["handle"])]
        return self.shell.user_ns[spec["name"]]

    def _decode(self, value):
        if isinstance(value, dict):
            if set(value) == {"__handle__"}:
                return self.handles[int(value["__handle__"])]
            return {k: self._decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._decode(v) for v in value]
        return value

    def _encode(self, value) -> dict:
        try:
            return {"value": to_plain(value)}
        except NotPlainData as exc:
            handle = len(self.handles) + 1
            self.handles[handle] = value
            kind = type(value)
            reply = {"handle": handle, "type": f"{kind.__module__}.{kind.__qualname__}",
                     "callable": callable(value), "not_plain": str(exc)}
            if kind in (bytes, bytearray, complex):  # built-in types, whose repr no learner code can change
                reply["repr"] = repr(value)[:200]
            return reply


def serve(sock) -> None:
    """Run the learner side on ``sock`` until the grader closes it."""
    try:
        Runner(sock).serve()
    except BaseException:  # report, then end: the grader sees the socket close
        traceback.print_exc(file=sys.__stderr__)
