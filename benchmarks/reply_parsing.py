"""How fast the grader reads replies from a learner's socket: N tiny lines, then the reply.

Compares the reader before issue 18 (it copied the whole buffer for every line, and checked the
deadline only when no full line was buffered) with today's ``LearnerProcess._reply``. Prints the
seconds each takes to reach the reply; no learner process or sandbox is involved (a socket pair
and a writer thread stand in for the learner).

    .venv/bin/python benchmarks/reply_parsing.py [N ...]
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time

from autograde.isolation import Limits
from autograde.sandbox import LearnerProcess


class _Offline(LearnerProcess):
    def kill(self) -> None:  # no process behind this socket: never signal anything
        self.alive = False


def _old_reply(process: LearnerProcess, request_id: int, deadline: float):
    """The reader as it was (autograde/sandbox.py before issue 18, item 8)."""
    def line():
        while b"\n" not in process.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([process.sock], [], [], remaining)
            if not ready:
                return None
            chunk = process.sock.recv(1 << 20)
            if not chunk:
                return None
            process.buffer += chunk
        first, _, rest = bytes(process.buffer).partition(b"\n")
        process.buffer = bytearray(rest)
        return first

    while True:
        text = line()
        if text is None:
            return None
        try:
            reply = json.loads(text)
        except ValueError:
            continue
        if isinstance(reply, dict) and reply.get("id") == request_id:
            return reply


def _measure(lines: int, reader: str, deadline_s: float = 120.0) -> tuple[float, bool]:
    ours, theirs = socket.socketpair()
    payload = b"{}\n" * lines + json.dumps({"id": 1, "value": "done"}).encode() + b"\n"

    def write():
        try:
            theirs.sendall(payload)
        except OSError:
            pass

    writer = threading.Thread(target=write, daemon=True)
    process = _Offline(ours, pid=-1, isolation="none", limits=Limits())
    writer.start()
    started = time.monotonic()
    if reader == "old":
        reply = _old_reply(process, 1, started + deadline_s)
    else:
        reply = process._reply(1, started + deadline_s)
    elapsed = time.monotonic() - started
    ours.close()
    theirs.close()
    writer.join(timeout=5)
    return elapsed, reply is not None


def main(counts: list[int]) -> None:
    print(f"{'tiny lines':>12}  {'before (s)':>11}  {'after (s)':>10}  lines/s after")
    for n in counts:
        old, old_ok = _measure(n, "old") if n <= 200_000 else (float("nan"), False)
        new, new_ok = _measure(n, "new")
        old_text = f"{old:11.3f}" if old_ok else f"{'(skipped)' if old != old else '(deadline)':>11}"
        print(f"{n:>12,}  {old_text}  {new:10.3f}  {n / new:,.0f}" + ("" if new_ok else "  (deadline!)"))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 50_000, 200_000, 2_000_000])
