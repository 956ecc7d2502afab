"""A linearizable key-value service on Raft, for module 16: module 06's simulator (``course.raft.Cluster``)
with a state machine the learner's node applies itself, clients that retry, ReadIndex reads, and a
linearizability check of every run's client history.

What is new here, on top of ``course.raft`` (imported, not copied):

- ``CORE``: a complete Raft node (module 06's exercises, answered) with two additions from the Raft
  paper: a new leader appends a no-op entry of its term (section 8, so it can commit and serve reads),
  and every AppendEntries reply echoes the time its request was sent (``echo_ms``), so a leader knows
  which heartbeat round a reply answers (ReadIndex, thesis section 6.4). Do module 06 first: this is it.
- ``kv_initial_state(node_id, n)``: module 06's ``initial_state`` plus ``last_applied`` (0) and the
  service's ``machine`` (``{"kv": {}, "sessions": {}}``).
- ``KVCluster``: a ``Cluster`` whose nodes apply committed entries through the learner's
  ``apply_committed(state)`` (called after every step in which ``commit_index`` passed ``last_applied``),
  whose clients (simulated in the grader) send ``get``, ``put`` and ``append`` with a client id and a
  sequence number, retry on a timeout or a refusal with the *same* number, and record a history. With
  ``read_mode="read_index"`` a ``get`` does not go through the log: the leader answers it when the
  learner's ``read_ready(state, read)`` says so.
  On top of module 06's four invariants, a run checks that the apply loop applies each committed index
  once and in order, and that any two nodes that applied up to the same index hold the same machine.
- ``linearize(history)``: a checker for key-value histories (per key, Wing and Gong's search with
  memoisation as in Lowe 2017 and Porcupine); ``kv_judge(result)`` adds its verdict to module 06's.
- ``run_kv``, ``replay_kv``, ``plot_kv_history``, ``plot_apply_grid``: drivers and figures.

Times given to a cluster are seconds; records use milliseconds, histories seconds.
"""

from __future__ import annotations

import json
import math
from typing import Callable

import numpy as np

from course.plotting import PALETTE, new_figure
from course.raft import (Cluster, ContractError, _node_spec, _random_schedule, _script, initial_state,
                         judge as raft_judge, project_state, plot_timeline)

CLIENT_TIMEOUT_S = 0.5     # a client gives up waiting for one node and tries the next
NOOP = {"op": "noop"}
OPS = ("get", "put", "append")


# --------------------------------------------------------------------------- the provided Raft core

def _copy(state: dict) -> dict:
    s = dict(state)
    s["log"] = [dict(e) for e in state["log"]]
    for key in ("votes", "next_index", "match_index"):
        s[key] = list(state.get(key) or [])
    return s


def _adopt(s: dict, term: int) -> None:
    if term > s["term"]:
        s["term"], s["voted_for"], s["role"], s["votes"] = term, None, "follower", []


def _last(log):
    return (log[-1]["term"] if log else 0), len(log)


def core_start_election(state):
    s = _copy(state)
    s["term"] += 1
    s["role"], s["voted_for"], s["votes"] = "candidate", s["id"], [s["id"]]
    last_term, last_index = _last(s["log"])
    send = [{"type": "request_vote", "term": s["term"], "from": s["id"], "to": p, "last_log_index": last_index,
             "last_log_term": last_term} for p in range(s["n"]) if p != s["id"]]
    if s["n"] == 1:
        return core_handle_vote_reply(s, {"term": s["term"], "from": s["id"], "granted": True})
    return {"state": s, "send": send, "reset_timer": True}


def core_handle_request_vote(state, msg):
    s = _copy(state)
    _adopt(s, msg["term"])
    my_term, my_index = _last(s["log"])
    up_to_date = (msg["last_log_term"], msg["last_log_index"]) >= (my_term, my_index)
    grant = msg["term"] == s["term"] and s["voted_for"] in (None, msg["from"]) and up_to_date
    if grant:
        s["voted_for"] = msg["from"]
    return {"state": s, "send": [{"type": "vote_reply", "term": s["term"], "from": s["id"], "to": msg["from"],
                                  "granted": grant}], "reset_timer": grant}


def _append_to(s, peer):
    prev = s["next_index"][peer] - 1
    return {"type": "append_entries", "term": s["term"], "from": s["id"], "to": peer, "prev_log_index": prev,
            "prev_log_term": s["log"][prev - 1]["term"] if prev else 0,
            "entries": [dict(e) for e in s["log"][prev:]], "leader_commit": s["commit_index"]}


def core_heartbeat(state):
    s = _copy(state)
    if s["role"] != "leader":
        return {"state": s, "send": [], "reset_timer": False}
    return {"state": s, "send": [_append_to(s, p) for p in range(s["n"]) if p != s["id"]], "reset_timer": False}


def core_handle_vote_reply(state, msg):
    s = _copy(state)
    if msg["term"] > s["term"]:
        _adopt(s, msg["term"])
        return {"state": s, "send": [], "reset_timer": False}
    if s["role"] != "candidate" or msg["term"] != s["term"] or not msg["granted"]:
        return {"state": s, "send": [], "reset_timer": False}
    if msg["from"] not in s["votes"]:
        s["votes"].append(msg["from"])
    if 2 * len(s["votes"]) <= s["n"]:
        return {"state": s, "send": [], "reset_timer": False}
    s["role"] = "leader"
    s["log"].append({"term": s["term"], "command": dict(NOOP)})     # Raft section 8: a no-op of the new term
    s["next_index"] = [len(s["log"])] * s["n"]
    s["match_index"] = [0] * s["n"]
    s["match_index"][s["id"]] = len(s["log"])
    if s["n"] == 1:
        s["commit_index"] = len(s["log"])
    return {"state": s, "send": core_heartbeat(s)["send"], "reset_timer": False}


def core_handle_append_entries(state, msg):
    s = _copy(state)
    reply = {"type": "append_reply", "term": s["term"], "from": s["id"], "to": msg["from"], "success": False,
             "match_index": 0, "conflict_index": 0, "echo_ms": msg.get("sent_ms")}
    if msg["term"] < s["term"]:
        return {"state": s, "send": [reply], "reset_timer": False}
    _adopt(s, msg["term"])
    s["role"], s["votes"] = "follower", []
    reply["term"] = s["term"]
    prev, log = msg["prev_log_index"], s["log"]
    if prev > len(log):
        reply["conflict_index"] = len(log) + 1
        return {"state": s, "send": [reply], "reset_timer": True}
    if prev > 0 and log[prev - 1]["term"] != msg["prev_log_term"]:
        bad, first = log[prev - 1]["term"], prev
        while first > 1 and log[first - 2]["term"] == bad:
            first -= 1
        reply["conflict_index"] = first
        return {"state": s, "send": [reply], "reset_timer": True}
    for offset, entry in enumerate(msg["entries"]):
        index = prev + 1 + offset
        if index <= len(log) and log[index - 1]["term"] == entry["term"]:
            continue
        del log[index - 1:]
        log.extend(dict(e) for e in msg["entries"][offset:])
        break
    last_new = prev + len(msg["entries"])
    s["commit_index"] = max(s["commit_index"], min(msg["leader_commit"], last_new))
    reply.update(success=True, match_index=last_new)
    return {"state": s, "send": [reply], "reset_timer": True}


def core_handle_append_reply(state, msg):
    s = _copy(state)
    if msg["term"] > s["term"]:
        _adopt(s, msg["term"])
        return {"state": s, "send": [], "reset_timer": False}
    if s["role"] != "leader" or msg["term"] != s["term"]:
        return {"state": s, "send": [], "reset_timer": False}
    p = msg["from"]
    if msg["success"]:
        s["match_index"][p] = max(s["match_index"][p], msg["match_index"])
        s["next_index"][p] = s["match_index"][p] + 1
        for index in range(len(s["log"]), s["commit_index"], -1):
            if s["log"][index - 1]["term"] != s["term"]:
                break
            copies = 1 + sum(1 for q in range(s["n"]) if q != s["id"] and s["match_index"][q] >= index)
            if 2 * copies > s["n"]:
                s["commit_index"] = index
                break
    else:
        s["next_index"][p] = max(s["match_index"][p] + 1, min(msg["conflict_index"], len(s["log"]) + 1), 1)
    return {"state": s, "send": [], "reset_timer": False}


CORE = {"start_election": core_start_election, "handle_request_vote": core_handle_request_vote,
        "handle_vote_reply": core_handle_vote_reply, "heartbeat": core_heartbeat,
        "handle_append_entries": core_handle_append_entries, "handle_append_reply": core_handle_append_reply}


def kv_initial_state(node_id: int, n: int) -> dict:
    """Module 06's ``initial_state`` plus ``last_applied`` 0 and an empty service ``machine``."""
    return dict(initial_state(node_id, n), last_applied=0, machine={"kv": {}, "sessions": {}})


# --------------------------------------------------------------------------- checking histories

def _plain(value):
    return json.loads(json.dumps(value))


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _search(ops: list, budget: int):
    """One key's history: an order of its operations that respects real time and the register's
    semantics (put sets, append adds at the end, get reads), or None. Open operations (no end: the
    client never heard back) may be placed anywhere after their start, or left out."""
    n = len(ops)
    required = sum(1 << k for k, op in enumerate(ops) if op["end"] is not None)
    seen, stack, steps = set(), [(0, "", [])], 0
    while stack:
        done, value, path = stack.pop()
        if done & required == required:
            return path
        if (done, value) in seen:
            continue
        seen.add((done, value))
        steps += 1
        if steps > budget:
            raise RuntimeError(f"undecided after {budget} search states")
        horizon = min(op["end"] for k, op in enumerate(ops) if op["end"] is not None and not done >> k & 1)
        for k in range(n - 1, -1, -1):
            op = ops[k]
            if done >> k & 1 or op["start"] > horizon:
                continue
            if op["kind"] == "get":
                if op["value"] != value:
                    continue
                after = value
            elif op["kind"] == "put":
                after = op["value"]
            else:
                after = value + op["value"]
            stack.append((done | 1 << k, after, path + [k]))
    return None


def linearize(history: list, budget: int = 200_000) -> dict:
    """``{"ok": bool, "key": the first key with no linearization or None, "order": {key: [op numbers in
    linearization order]}}`` for a key-value history (a list of ``{"client", "kind", "key", "value",
    "start", "end"}``, times in seconds, ``end`` None for an operation never answered). Linearizability is
    local (Herlihy and Wing 1990), so each key is checked alone."""
    by_key: dict = {}
    for number, op in enumerate(history):
        if op["kind"] == "get" and op["end"] is None:
            continue                      # an unanswered read changed nothing and showed nothing
        by_key.setdefault(op["key"], []).append(number)
    order = {}
    for key in sorted(by_key):
        numbers = sorted(by_key[key], key=lambda k: history[k]["start"])
        path = _search([history[k] for k in numbers], budget)
        if path is None:
            return {"ok": False, "key": key, "order": order}
        order[key] = [numbers[k] for k in path]
    return {"ok": True, "key": None, "order": order}


def history_problem(history: list) -> str | None:
    """None if ``history`` is linearizable, else a sentence naming the key and the operations on it."""
    verdict = linearize(history)
    if verdict["ok"]:
        return None
    ops = [op for op in history if op["key"] == verdict["key"] and not (op["kind"] == "get" and op["end"] is None)]
    shown = "; ".join(f"{op['client']} {op['kind']}({op['value']!r}) {op['start']:.3f}-"
                      f"{'open' if op['end'] is None else format(op['end'], '.3f')} s" for op in ops[-8:])
    return (f"linearizability: the {len(ops)} operations on key {verdict['key']!r} have no order that respects "
            f"real time and get/put/append (the last of them: {shown})")


# --------------------------------------------------------------------------- the cluster with a service

class _Client:
    def __init__(self, cid: str, guess: int):
        self.id, self.guess, self.seq, self.gen = cid, guess, 0, 0
        self.op: dict | None = None
        self.record: dict | None = None
        self.scripted: list = []


class KVCluster(Cluster):
    """Module 06's cluster with the learner's apply loop, persistence and (optionally) ReadIndex reads.

    ``node`` holds the learner's ``apply_committed``, ``persistent_state``, ``restart`` and, for
    ``read_mode="read_index"``, ``read_ready``. Clients issue random operations on ``keys`` keys until
    ``ops_until_s``; each waits ``think_s`` between operations."""

    def __init__(self, node: dict, n: int = 3, seed: int = 0, *, clients: int = 3, keys: int = 2,
                 read_mode: str = "log", ops_until_s: float = 4.0, think_s: tuple = (0.0, 0.1),
                 client_timeout_s: float = CLIENT_TIMEOUT_S, ordering: bool = False, name: str = "custom",
                 label: str = "KV", **options):
        if read_mode not in ("log", "read_index"):
            raise ValueError(f"read_mode must be 'log' or 'read_index', not {read_mode!r}")
        handlers = dict(CORE, **{k: node[k] for k in ("persistent_state", "restart") if k in node})
        super().__init__(handlers, n=n, seed=seed, max_calls=10 ** 7, name=name, label=label, **options)
        self.node, self.read_mode, self.keys = node, read_mode, keys
        self.ops_until_s, self.think_s, self.client_timeout_s = ops_until_s, tuple(think_s), client_timeout_s
        self.states = [kv_initial_state(i, n) for i in range(n)]
        self.ordering = ordering                      # persistence-ordering mode: a crash keeps only what was saved
        self.durable: list = [None] * n               # per node, what the last save wrote (ordering mode)
        self.saves = 0
        self.bytes_sent = 0                           # JSON bytes of every Raft message sent (6.5840's RPCBytes)
        self.learner_calls = 0
        self.machine_at: dict = {}      # last_applied -> (canonical machine, node) of the first node there
        self.result_at: dict = {}       # index -> (canonical result, node)
        self.lives = [0] * self.n       # restarts of each node so far: a node may apply an index again after one
        self.apply_rows: list = []      # [t_ms, node, first index, last index] of every apply_committed call
        self.waiting: dict = {}         # (node, index) -> (client, seq, gen)
        self.reads: list = [[] for _ in range(n)]   # pending ReadIndex reads per node
        self.history: list = []
        self.clients = [_Client(f"c{k}", k % n) for k in range(clients)]
        for k, client in enumerate(self.clients):
            self._at(0.3 + 0.05 * k, self._next_op, client)

    # ---------------------------------------------------------------- the learner's apply loop
    def _step(self, i: int, name: str, *args) -> None:
        before = self.states[i]
        super()._step(i, name, *args)
        if self.stopped or not self.alive[i]:
            return
        after = self.states[i]
        if "last_applied" not in after or "machine" not in after:   # the core keeps them; a bad restart may not
            after.setdefault("last_applied", before.get("last_applied", 0))
            after.setdefault("machine", before.get("machine"))
        if self.ordering and not self._persist_if_needed(i, before, after):
            return
        self._apply(i)
        if not self.stopped and self.reads[i]:
            self._check_reads(i)

    def _apply(self, i: int) -> None:
        s = self.states[i]
        start = s["last_applied"]
        if self.stopped or s["commit_index"] <= start:
            return
        self.calls += 1
        self.learner_calls += 1
        try:
            out = self.node["apply_committed"](_plain(s))
            if not isinstance(out, dict) or "state" not in out or "results" not in out:
                raise ContractError("apply_committed must return {'state': ..., 'results': [[index, result], ...]}; "
                                    f"got {str(out)[:120]}")
            new, results = out["state"], out["results"]
            if project_state(new) != project_state(s):
                raise ContractError("apply_committed changed the Raft state (term, vote, log, role or commit index); "
                                    "it may change only last_applied and machine")
            if not isinstance(results, list) or any(not isinstance(r, list) or len(r) != 2 for r in results):
                raise ContractError(f"results must be a list of [index, result] pairs; got {str(results)[:120]}")
        except ContractError as exc:
            self._stop(f"apply_committed on node {i}: {exc}", "violation")
            return
        except Exception as exc:  # the learner's function raised
            self._stop(f"apply_committed on node {i} raised {type(exc).__name__}: {str(exc)[:150]}", "violation")
            return
        indexes = [r[0] for r in results]
        wanted = list(range(start + 1, s["commit_index"] + 1))
        if indexes != wanted:
            self._stop(f"apply loop: node {i} with last_applied {start} and commit_index {s['commit_index']} "
                       f"applied indexes {indexes[:12]}; expected {wanted[:12]} (each once, in order)", "violation")
            return
        if new.get("last_applied") != s["commit_index"]:
            self._stop(f"apply loop: node {i} applied up to {s['commit_index']} but set last_applied to "
                       f"{new.get('last_applied')!r}", "violation")
            return
        self.states[i] = new
        self.apply_rows.append([self.now_ms, i, start + 1, s["commit_index"]])
        self._note(f"n{i} applied {start + 1}..{s['commit_index']}")
        for index, value in results:
            first = self.result_at.setdefault(index, (_canonical(value), i, self.lives[i]))
            if first[0] != _canonical(value):
                self._stop(f"state machines disagree: node {i} got result {value!r} at index {index}, "
                           f"{self._who(first, i)} got {json.loads(first[0])!r}", "violation")
                return
        first = self.machine_at.setdefault(new["last_applied"], (_canonical(new["machine"]), i, self.lives[i]))
        if first[0] != _canonical(new["machine"]):
            self._stop(f"state machines disagree: after index {new['last_applied']} node {i} holds "
                       f"{_short(new['machine'])}, {self._who(first, i)} held {_short(json.loads(first[0]))}: an "
                       "entry applied twice, or one lost", "violation")
            return
        for index, value in results:
            waiter = self.waiting.pop((i, index), None)
            if waiter is None:
                continue
            client, seq, gen = waiter
            command = new["log"][index - 1]["command"]
            if command.get("client") == client.id and command.get("seq") == seq:
                self._to_client(i, client, seq, gen, "ok", value)

    # ---------------------------------------------------------------- persistence ordering
    def _persist_if_needed(self, i: int, before: dict, after: dict) -> bool:
        """Ordering mode: the step's messages are already on their way; the state is durable only if the
        learner's ``needs_persist(before, after)`` asked for a save, which writes ``persistent_state(after)``.
        A crash before the next save restarts the node from the last one. A step that changed nothing at all is
        not asked about (nothing to save; it keeps the number of calls into the learner's process down)."""
        if before == after:
            return True
        self.calls += 1
        self.learner_calls += 1
        try:
            wanted = self.node["needs_persist"](_plain(before), _plain(after))
            if wanted not in (True, False):
                raise ContractError(f"needs_persist returned {wanted!r}; it must return True or False")
            if wanted:
                self.durable[i] = self.handlers["persistent_state"](_plain(after))
                self.saves += 1
        except ContractError as exc:
            self._stop(f"needs_persist on node {i}: {exc}", "violation")
            return False
        except Exception as exc:
            self._stop(f"needs_persist or persistent_state on node {i} raised {type(exc).__name__}: {str(exc)[:150]}",
                       "violation")
            return False
        return True

    def _who(self, first: tuple, i: int) -> str:
        """The node that first applied an index, named so that a node compared with itself says when."""
        if first[1] != i:
            return f"node {first[1]}"
        return "the same node before its restart" if first[2] != self.lives[i] else "the same node earlier"

    def restart(self, i: int) -> None:
        if not self.alive[i]:
            self.lives[i] += 1
        if self.ordering and not self.alive[i]:
            if self.durable[i] is None:           # never saved: it comes back as a fresh node
                self.durable[i] = self.handlers["persistent_state"](_plain(kv_initial_state(i, self.n)))
            self.saved[i] = self.durable[i]
        super().restart(i)
        if self.alive[i] and not self.stopped:
            s = self.states[i]
            if not isinstance(s.get("last_applied"), int) or not isinstance(s.get("machine"), dict):
                self._stop(f"restart on node {i} returned a state without an int last_applied and a machine dict",
                           "violation")
                return
            if s["last_applied"] > s["commit_index"]:
                s["commit_index"] = s["last_applied"]   # what was applied was committed
            self._apply(i)

    def crash(self, i: int) -> None:
        super().crash(i)
        self.reads[i] = []
        self.waiting = {k: v for k, v in self.waiting.items() if k[0] != i}

    # ---------------------------------------------------------------- ReadIndex
    def _send(self, msg: dict) -> None:
        if msg["type"] == "append_entries":
            msg["sent_ms"] = self.now_ms
        self.bytes_sent += len(json.dumps(msg, separators=(",", ":"), default=str))
        super()._send(msg)

    def _deliver(self, msg: dict) -> None:
        if msg["type"] == "append_reply" and self.link_up(msg["from"], msg["to"]):
            s = self.states[msg["to"]]
            for read in self.reads[msg["to"]]:
                if (msg["term"] == read["term"] == s["term"] and msg.get("echo_ms") is not None
                        and msg["echo_ms"] >= read["arrived_ms"] and msg["from"] not in read["acks"]):
                    read["acks"].append(msg["from"])
        super()._deliver(msg)

    def _check_reads(self, i: int) -> None:
        s = self.states[i]
        keep = []
        for read in self.reads[i]:
            self.calls += 1
            self.learner_calls += 1
            view = {"term": read["term"], "read_index": read["read_index"], "acks": sorted(read["acks"])}
            try:
                ready = self.node["read_ready"](_plain(s), view)
            except Exception as exc:
                self._stop(f"read_ready on node {i} raised {type(exc).__name__}: {str(exc)[:150]}", "violation")
                return
            if ready is True:
                value = s["machine"]["kv"].get(read["key"], "") if isinstance(s["machine"].get("kv"), dict) else None
                self._note(f"n{i} answers read of {read['key']!r} (read index {read['read_index']}, acks "
                           f"{sorted(read['acks'])})")
                self._to_client(i, read["client"], read["seq"], read["gen"], "ok", value)
            elif ready is False:
                keep.append(read)
            else:
                self._stop(f"read_ready on node {i} returned {ready!r}; it must return True or False", "violation")
                return
        self.reads[i] = keep

    # ---------------------------------------------------------------- clients
    def _next_op(self, client: _Client) -> None:
        if client.scripted:
            kind, key, target = client.scripted.pop(0)
            client.guess = target
        elif self.env.now >= self.ops_until_s:
            return
        else:
            kind = str(self.rng.choice(OPS, p=(0.4, 0.25, 0.35)))
            key = f"k{int(self.rng.integers(0, self.keys))}"
        client.seq += 1
        value = "" if kind == "get" else f"{client.id}.{client.seq};"
        client.op = {"op": kind, "key": key, "value": value, "client": client.id, "seq": client.seq}
        client.record = {"client": client.id, "kind": kind, "key": key, "value": value,
                         "start": round(self.env.now, 4), "end": None}
        self.history.append(client.record)
        self._attempt(client)

    def _attempt(self, client: _Client) -> None:
        client.gen += 1
        gen, seq, target = client.gen, client.seq, client.guess
        copies = 2 if self.duplicate and self.rng.random() < self.duplicate else 1
        if self.drop and self.rng.random() < self.drop:
            copies = 0
        for _ in range(copies):
            self._at(float(self.rng.uniform(*self.delay_s)), self._arrive, client, target, seq, gen)
        self._at(self.client_timeout_s, self._timeout, client, seq, gen)

    def _timeout(self, client: _Client, seq: int, gen: int) -> None:
        if client.gen == gen and client.seq == seq and client.record and client.record["end"] is None:
            client.guess = (client.guess + 1) % self.n
            self._attempt(client)

    def _arrive(self, client: _Client, i: int, seq: int, gen: int) -> None:
        if not (self.alive[i] and self.connected[i]):
            return
        s = self.states[i]
        if s["role"] != "leader":
            self._to_client(i, client, seq, gen, "wrong_leader", None)
            return
        op = dict(client.op)
        if op["seq"] != seq:
            return
        if op["op"] == "get" and self.read_mode == "read_index":
            committed = s["commit_index"] > 0 and s["log"][s["commit_index"] - 1]["term"] == s["term"]
            if not committed:                     # nothing of its term committed yet: come back soon
                self._to_client(i, client, seq, gen, "wrong_leader", None, retry_s=0.05, keep_guess=True)
                return
            self.reads[i].append({"client": client, "seq": seq, "gen": gen, "key": op["key"], "term": s["term"],
                                  "read_index": s["commit_index"], "acks": [i], "arrived_ms": self.now_ms})
            self._note(f"n{i} read of {op['key']!r} from {client.id} at read index {s['commit_index']}")
            self._check_reads(i)
            return
        before = _plain(s) if self.ordering else None
        s["log"] = list(s["log"]) + [{"term": s["term"], "command": op}]
        s["match_index"][i] = len(s["log"])
        self.waiting[(i, len(s["log"]))] = (client, seq, gen)
        if self.ordering and not self._persist_if_needed(i, before, s):   # a client's entry is a step too
            return
        self._note(f"client {client.id} -> n{i}: {op['op']} {op['key']} #{seq} at index {len(s['log'])}")

    def _to_client(self, i: int, client: _Client, seq: int, gen: int, status: str, value,
                   retry_s: float = 0.0, keep_guess: bool = False) -> None:
        if not self.connected[i] or (self.drop and self.rng.random() < self.drop):
            return
        delay = float(self.rng.uniform(*self.delay_s))
        self._at(delay, self._reply, client, i, seq, gen, status, value, retry_s, keep_guess)

    def _reply(self, client, i, seq, gen, status, value, retry_s, keep_guess) -> None:
        record = client.record
        if record is None or client.seq != seq or record["end"] is not None:
            return                                # a late or duplicate answer
        if status == "ok":
            if record["kind"] == "get":
                record["value"] = value
            record["end"] = round(self.env.now, 4)
            client.guess = i
            pause = float(self.rng.uniform(*self.think_s))
            self._at(pause, self._next_op, client)
        elif gen == client.gen:
            if not keep_guess:
                client.guess = (i + 1) % self.n
            self._at(retry_s, self._attempt, client)

    def partition(self, *groups) -> None:
        super().partition(*[[_node_spec(x, self.marks, self.n) for x in group] for group in groups])

    def read_from(self, node, key: str) -> None:
        """A new client sends one ``get`` of ``key`` to ``node`` first (then behaves as any client)."""
        client = _Client(f"r{len(self.clients)}", 0)
        client.scripted.append(("get", key, _node_spec(node, self.marks, self.n)))
        self.clients.append(client)
        self._act(f"client {client.id} reads {key!r} from n{client.scripted[0][2]}")
        self._next_op(client)

    def put_via_leader(self, key: str) -> None:
        """A new client sends one ``put`` of ``key`` to the current leader (then behaves as any client)."""
        leader = self.current_leader()
        client = _Client(f"w{len(self.clients)}", 0)
        client.scripted.append(("put", key, 0 if leader is None else leader))
        self.clients.append(client)
        self._act(f"client {client.id} puts {key!r}")
        self._next_op(client)

    def result(self) -> dict:
        out = super().result()
        out.pop("applied")
        out["history"] = [dict(op) for op in self.history]
        out["apply_rows"] = [list(r) for r in self.apply_rows]
        out["stats"]["learner_calls"] = self.learner_calls
        out["stats"]["saves"] = self.saves
        out["stats"]["bytes"] = self.bytes_sent
        out["stats"]["operations"] = len(self.history)
        out["stats"]["answered"] = sum(op["end"] is not None for op in self.history)
        out["replay"] = f"replay_kv({self.label}, {self.name!r}, seed={self.seed})"
        return out


def _short(value, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------- scenarios

def _kv_basic(seed):
    return dict(n=3 if seed % 2 == 0 else 5, clients=3, keys=2, ops_until_s=3.5), [
        (1.5, "expect", "leader"), (5.0, "expect", "answered", 3.0)]


def _kv_leader_loss(seed):
    return dict(n=3, clients=3, keys=2, ops_until_s=4.5), [
        (1.2, "expect", "leader"), (1.8, "disconnect", "L"), (3.3, "connect", "L"),
        (7.0, "expect", "answered", 4.0)]


def _kv_unreliable(seed):
    return dict(n=5, clients=4, keys=2, ops_until_s=4.5, drop=0.1, duplicate=0.2, long_delay=0.1), [
        (5.0, "reliable"), (8.0, "expect", "answered", 4.4)]


def _kv_random(seed, crashes):
    config, steps = _random_schedule(seed, commands=False, crashes=crashes)
    end = max(t for t, *_ in steps)
    config.update(clients=3, keys=2, ops_until_s=end - 2.0, long_delay=0.05)
    return config, steps + [(end + 2.5, "expect", "answered", end - 2.0)]


def _kv_churn7(seed):
    """6.5840's harder schedules on seven nodes: an unreliable network (drops, duplicates, long delays) while
    nodes, the leader often, are cut off, reconnected, crashed and restarted; then everything heals."""
    rng = np.random.default_rng(seed + 17)
    n, t, steps = 7, 1.6, [(1.5, "expect", "leader")]
    while t < 5.0:
        kind = str(rng.choice(["crash", "restart", "disconnect", "connect"]))
        target = "L" if kind in ("crash", "disconnect") and rng.random() < 0.4 else int(rng.integers(0, n))
        steps.append((round(t, 3), kind, target))
        t += float(rng.uniform(0.15, 0.5))
    steps += [(5.2, "heal"), (5.2, "restart", list(range(n))), (5.2, "reliable"), (7.5, "expect", "leader"),
              (10.0, "expect", "answered", 6.5)]
    return dict(n=n, clients=4, keys=2, ops_until_s=7.0, drop=0.05, duplicate=0.1, long_delay=0.1), steps


def _kv_stale_read(seed):
    return dict(n=5, clients=2, keys=1, ops_until_s=4.0, read_mode="read_index"), [
        (1.5, "expect", "leader"), (1.5, "mark", "A"),
        (1.6, "partition", ["A", "A+1"], ["A+2", "A+3", "A+4"]),   # the old leader keeps believing it leads
        (2.8, "put_via_leader", "k0"),
        (3.4, "read_from", "A", "k0"), (3.5, "read_from", "A", "k0"), (3.6, "read_from", "A+1", "k0"),
        (4.5, "heal"), (7.0, "expect", "answered", 4.0)]


def _kv_reads(seed):
    return dict(n=3 if seed % 2 == 0 else 5, clients=4, keys=2, ops_until_s=4.0, read_mode="read_index",
                drop=0.05), [(1.2, "expect", "leader"), (2.2, "disconnect", "L"), (3.2, "heal"),
                             (7.0, "expect", "answered", 4.0)]


def _order_vote(seed):
    """Module 06's vote_then_crash with a crash point between the vote's reply and its save: node 1 votes for
    node 0, crashes 50 to 110 ms after the campaign (its reply delivered), restarts, and is asked by node 2 in the same
    term. A node that saved neither its term nor its vote gives the vote twice: two leaders of term 1. (A vote lost
    alone is refused anyway once the first leader's no-op reached the voter, so the contract's cases catch that one.)"""
    crash_at = 0.05 + 0.02 * (seed % 4)
    return dict(n=3, timeout_s=(30.0, 40.0), clients=2, ops_until_s=2.5, ordering=True), [
        (0.0, "disconnect", 2), (0.0, "campaign", 0), (crash_at, "crash", 1), (crash_at + 0.05, "restart", 1),
        (0.2, "disconnect", 0), (0.2, "connect", 2), (0.2, "campaign", 2),
        (0.6, "heal"), (0.7, "campaign", 1), (5.0, "expect", "answered", 2.5)]


def _order_log(seed):
    """A follower acknowledges entries (its reply already sent), then crashes with the leader before either
    writes again; the follower comes back with a node that missed those entries. Entries it acknowledged but
    never saved were committed on its word: lost, or overwritten by the new leader."""
    crash_at = 2.3 + 0.05 * (seed % 4)
    return dict(n=3, clients=3, keys=1, ops_until_s=5.0, ordering=True, think_s=(0.0, 0.02)), [
        (1.5, "expect", "leader"), (1.5, "disconnect", "L+2"),
        (crash_at, "crash", ["L", "L+1"]), (crash_at + 0.1, "restart", "L+1"), (crash_at + 0.1, "connect", "L+2"),
        (crash_at + 2.0, "restart", "L"), (9.0, "expect", "answered", 5.0)]


KV_SCENARIOS = {
    "kv_basic": _kv_basic, "kv_leader_loss": _kv_leader_loss, "kv_unreliable": _kv_unreliable,
    "kv_partitions": lambda seed: _kv_random(seed, crashes=False),
    "kv_crashes": lambda seed: _kv_random(seed, crashes=True),
    "kv_stale_read": _kv_stale_read, "kv_reads": _kv_reads,
    "kv_churn7": _kv_churn7, "order_vote": _order_vote, "order_log": _order_log,
    "order_crashes": lambda seed: _ordered(_kv_random(seed, crashes=True)),
}


def _ordered(scenario):
    config, steps = scenario
    return dict(config, ordering=True), steps


def _expect_answered(cluster: KVCluster, issued_before_s: float) -> None:
    late = [op for op in cluster.history if op["end"] is None and op["start"] < issued_before_s]
    if late:
        op = late[0]
        cluster._stop(f"{len(late)} operation(s) issued before {issued_before_s} s were never answered, e.g. "
                      f"{op['client']} {op['kind']} {op['key']!r} from {op['start']} s", "failure")


def build_kv(node: dict, scenario: str, seed: int, label: str = "KV") -> KVCluster:
    """The cluster of ``scenario`` with ``seed`` and the learner's ``node`` functions, scheduled, not run."""
    if scenario not in KV_SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {sorted(KV_SCENARIOS)}")
    config, steps = KV_SCENARIOS[scenario](seed)
    cluster = KVCluster(node, seed=seed, name=scenario, label=label, **config)
    plain = [s for s in steps if not (s[1] == "expect" and s[2] == "answered")]
    _script(cluster, plain)
    for t, _, _, before in [s for s in steps if s[1] == "expect" and s[2] == "answered"]:
        cluster._at(t, _expect_answered, cluster, before)
    cluster.end_s = max(t for t, *_ in steps) + 1e-6
    return cluster


def run_kv(node: dict, scenario: str, seed: int, label: str = "KV") -> dict:
    """Run one seeded key-value scenario; return plain data (``KVCluster.result()``)."""
    cluster = build_kv(node, scenario, seed, label)
    cluster.run(cluster.end_s)
    return cluster.result()


KV_EXPECTED = ("a run that keeps Raft's invariants, applies every committed index once and in order, keeps every "
               "node's machine equal at equal indexes, answers every client, and whose history is linearizable")


def kv_judge(result: dict) -> str | None:
    """Module 06's judge (invariants, goals, trace, replay line) plus the linearizability of the history."""
    extra = ()
    if not result["violations"] and not result["failures"]:
        problem = history_problem(result["history"])
        extra = (problem,) if problem else ()
    return raft_judge(result, extra=extra)


def replay_kv(node: dict, scenario: str, seed: int, picture: bool = True):
    """Run ``scenario`` with ``seed`` again, print what went wrong (or the run's figures) and draw its timeline."""
    cluster = build_kv(node, scenario, seed)
    cluster.run(cluster.end_s)
    result = cluster.result()
    problem = kv_judge(result)
    if problem:
        print("PROBLEM:", problem)
        verdict = linearize(result["history"]) if not (result["violations"] or result["failures"]) else None
        if picture and verdict and not verdict["ok"]:
            key = verdict["key"]
            ops = [op for op in result["history"] if op["key"] == key]
            plot_kv_history(ops[-14:], key, title=f"{scenario}, seed {seed}: the last operations on {key!r}, "
                                                  "which have no linearization")
    else:
        stats = result["stats"]
        print(f"{scenario}, seed {seed}: invariants held, history linearizable ({stats['answered']} of "
              f"{stats['operations']} operations answered, {stats['events']} node events)")
    if picture:
        plot_timeline(cluster)
    return cluster


# --------------------------------------------------------------------------- figures

def plot_kv_history(history: list, key: str, title: str | None = None, order: list | None = None):
    """The operations on ``key``, one row per client, as module 05 draws a register history (puts and
    appends as writes, gets as reads; a value of several appended tokens is shown as how many there are and
    the last one, ``3…c0.2``); with ``order`` (numbers into ``history``), each operation's place
    in the linearization is written above its bar."""
    from course.replication import plot_history
    numbers = [k for k, op in enumerate(history) if op["key"] == key and not (op["kind"] == "get" and op["end"] is None)]
    ops = [{"client": history[k]["client"], "kind": "read" if history[k]["kind"] == "get" else "write",
            "value": ("+" if history[k]["kind"] == "append" else "") + _label(history[k]["value"]),
            "start": history[k]["start"], "end": math.inf if history[k]["end"] is None else history[k]["end"]}
           for k in numbers]
    fig, ax = plot_history(ops, title or f"Operations on {key!r}")
    ax.set_xlabel("time (s)")
    if order:
        clients = sorted({op["client"] for op in ops})
        for place, k in enumerate(order):
            op = history[k]
            end = op["end"] if op["end"] is not None else op["start"] + 0.05
            ax.text((op["start"] + end) / 2, clients.index(op["client"]) - 0.33, f"#{place + 1}", ha="center",
                    fontsize=8, color=PALETTE[3])
    return fig, ax


def _label(value) -> str:
    """A value as a bar's label: a long one (several appends) as its number of tokens and the last token."""
    tokens = [t for t in str(value).split(";") if t]
    return str(value) if len(tokens) <= 1 else f"{len(tokens)}…{tokens[-1]}"


def plot_apply_grid(cluster: KVCluster, title: str | None = None):
    """Per node, the indexes each ``apply_committed`` call applied (a bar per call) against time: what a
    node applied, when, and that no index was applied twice."""
    fig, ax = new_figure(title or f"Applied entries per node: {cluster.name}, seed {cluster.seed}", "time (s)",
                         "log index", figsize=(9, 4))
    for t, node, first, last in cluster.apply_rows:
        ax.plot([t / 1000, t / 1000], [first - 0.4, last + 0.4], color=PALETTE[node % len(PALETTE)], linewidth=3,
                alpha=0.8)
    for node in range(cluster.n):
        ax.plot([], [], color=PALETTE[node % len(PALETTE)], linewidth=3, label=f"n{node}")
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    return fig, ax


def events_per_second(node: dict, seeds, scenario: str = "kv_basic") -> dict:
    """Simulator speed (node events and wall seconds over the seeds) and network cost (JSON bytes of the Raft
    messages sent, per answered client operation), for the benchmark and the notebook."""
    import time
    started, events, calls, sent, answered = time.perf_counter(), 0, 0, 0, 0
    for seed in seeds:
        cluster = build_kv(node, scenario, seed)
        cluster.run(cluster.end_s)
        events += cluster.events
        calls += cluster.learner_calls
        sent += cluster.bytes_sent
        answered += sum(op["end"] is not None for op in cluster.history)
    elapsed = time.perf_counter() - started
    return {"events": events, "learner_calls": calls, "seconds": round(elapsed, 3),
            "events_per_s": round(events / elapsed) if elapsed else None,
            "bytes": sent, "answered": answered, "bytes_per_op": round(sent / answered) if answered else None}


# --------------------------------------------------------------------------- the seed's two mistakes

def seed_no_sessions(apply_committed: Callable) -> Callable:
    """The seed's service: "idempotent operations" promised, but nothing remembers which requests were
    applied. Every log entry is made to look like a new client's first request, so your sessions never
    see a retry."""
    def forgetful(state):
        original = [dict(e) for e in state["log"]]
        for index, entry in enumerate(state["log"], start=1):
            command = entry["command"]
            if "client" in command:
                entry["command"] = dict(command, client=f"{command['client']}@{index}", seq=1)
        out = apply_committed(state)
        out["state"]["log"] = original
        sessions = out["state"]["machine"].get("sessions", {})
        for client in [c for c in sessions if "@" in c]:
            del sessions[client]
        return out
    forgetful.__name__ = "seed_apply_committed"
    return forgetful


def seed_replica_reads(read_ready: Callable) -> Callable:
    """The seed's reads ("use read replica for better performance"): the node answers from what it has
    applied, with no round of heartbeats to learn whether it is still the leader."""
    def unconfirmed(state, read):
        return read_ready(state, dict(read, acks=list(range(state["n"]))))
    unconfirmed.__name__ = "seed_read_ready"
    return unconfirmed


# --------------------------------------------------------------------------- snapshots (exercise 7)
#
# A compacted node keeps ``snapshot_index`` (the last index the snapshot covers), ``snapshot_term`` (that entry's
# term) and ``snapshot`` (the machine after it); its ``log`` holds only the entries after ``snapshot_index``, so
# entry ``i`` is ``log[i - snapshot_index - 1]``. This is Figure 13 of the Raft paper and 6.5840's Lab 3D. The
# run below drives the learner's ``compact`` and ``install_snapshot`` with the learner's ``apply_command`` on a
# leader, a follower that keeps up and a follower cut off for a long partition, and checks every step against
# the machine the committed commands make.

def snap_initial_state(node_id: int, n: int) -> dict:
    """``kv_initial_state`` plus an empty snapshot: ``snapshot_index`` 0, ``snapshot_term`` 0, ``snapshot`` None."""
    return dict(kv_initial_state(node_id, n), snapshot_index=0, snapshot_term=0, snapshot=None)


def last_index(state: dict) -> int:
    """The index of a compacted node's last entry (its snapshot's when the log is empty)."""
    return state["snapshot_index"] + len(state["log"])


def term_at(state: dict, index: int):
    """The term of entry ``index`` of a compacted node: the snapshot's at ``snapshot_index``, None if the node no
    longer holds it (inside the snapshot) or never had it (beyond its log)."""
    if index == state["snapshot_index"]:
        return state["snapshot_term"]
    k = index - state["snapshot_index"] - 1
    return state["log"][k]["term"] if 0 <= k < len(state["log"]) else None


def apply_compacted(state: dict, apply_command: Callable) -> dict:
    """The apply loop of a compacted node (given, not graded here): applies ``last_applied + 1 .. commit_index``
    with ``apply_command``. Raises ``LookupError`` when an entry it must apply is no longer in the log."""
    import copy
    s = dict(state)
    machine = copy.deepcopy(s["machine"])
    for index in range(s["last_applied"] + 1, s["commit_index"] + 1):
        k = index - s["snapshot_index"] - 1
        if not 0 <= k < len(s["log"]):
            raise LookupError(f"entry {index} is committed but not applied, and it is no longer in the log "
                              f"(snapshot_index {s['snapshot_index']}, {len(s['log'])} entries after it)")
        machine = apply_command(machine, s["log"][k]["command"])["machine"]
    s["machine"], s["last_applied"] = machine, max(s["last_applied"], s["commit_index"])
    return s


def _stream(rng, length: int) -> list:
    """Client commands as a leader receives them: three clients, two keys, retries of the last request."""
    seqs, out = {}, []
    for _ in range(length):
        client = f"c{int(rng.integers(0, 3))}"
        if client in seqs and rng.random() < 0.2:
            out.append(dict(next(c for c in reversed(out) if c.get("client") == client)))
            continue
        seqs[client] = seqs.get(client, 0) + 1
        op = str(rng.choice(OPS, p=(0.2, 0.3, 0.5)))
        out.append({"op": op, "key": f"k{int(rng.integers(0, 2))}", "value": "" if op == "get" else
                    f"{client}.{seqs[client]};", "client": client, "seq": seqs[client]})
    return out


def snapshot_run(node: dict, seed: int, threshold: int = 8, rounds: int = 30) -> dict:
    """A leader (node 0) and two followers. Each round the leader takes one to three client commands, follower 1
    copies them, the entries commit, and each node applies some of what is committed (its apply loop lags at
    random) and calls the learner's ``compact(state, threshold)``. Follower 2 is cut off from round 3 to the end
    (a long partition); then the leader brings it up with ``InstallSnapshot`` (the learner's
    ``install_snapshot``) and the entries after the snapshot. With ``node["install_snapshot"]`` None, follower 2
    is never cut off and no snapshot is sent (a run of ``compact`` alone). Last, an old snapshot message delayed in the
    network and a duplicate of the newest arrive at both followers.

    Returns plain data: ``problems`` (what went wrong, first first), ``sizes`` (each node's log length after each
    round), ``grid`` (each node's snapshot index, last index, last_applied and commit index at the end) and
    ``messages``. Checked: the log-size bound, each machine against the machine the committed commands make
    (under the learner's own ``apply_command``, so exercise 1 is not graded twice),
    agreement of all three nodes after the partition, and that no stale or duplicate snapshot moves a node back."""
    import copy
    rng = np.random.default_rng(seed)
    commands = _stream(rng, rounds * 3)
    truth = [{"kv": {}, "sessions": {}}]          # truth[i]: the machine after committed entry i
    apply_command, compact, install = node["apply_command"], node["compact"], node.get("install_snapshot")
    cut_from = 3 if install is not None else rounds + 1      # without install_snapshot, node 2 is never cut off
    nodes = [dict(snap_initial_state(i, 3), term=1, role="leader" if i == 0 else "follower", voted_for=0)
             for i in range(3)]
    sizes, problems, messages, old_snapshots = [[], [], []], [], [], []

    def fail(text):
        if not problems:
            problems.append(f"{text} (replay: snapshot_run(SNAP, seed={seed}, threshold={threshold}, rounds={rounds}))")

    def check_machine(i, where):
        s = nodes[i]
        if s["last_applied"] >= len(truth) or _canonical(s["machine"]) != _canonical(truth[s["last_applied"]]):
            fail(f"{where}: node {i} at last_applied {s['last_applied']} holds {_short(s['machine'])}; the committed "
                 f"commands make {_short(truth[min(s['last_applied'], len(truth) - 1)])}")

    def step(i, where):
        s = nodes[i]
        s["commit_index"] = min(nodes[0]["commit_index"], last_index(s))
        upto = int(rng.integers(s["last_applied"], s["commit_index"] + 1))
        try:
            nodes[i] = apply_compacted(dict(s, commit_index=upto), apply_command)
            nodes[i]["commit_index"] = s["commit_index"]
        except LookupError as exc:
            fail(f"{where}: node {i}: {exc}: a snapshot dropped entries that were not applied yet")
            return
        check_machine(i, where)
        before = _plain(nodes[i])
        after = compact(_plain(nodes[i]), threshold)
        if not isinstance(after, dict) or not all(k in after for k in ("snapshot_index", "snapshot_term", "snapshot",
                                                                       "log", "last_applied", "machine")):
            fail(f"{where}: compact on node {i} returned {_short(after)}, not a state with the snapshot fields")
            return
        if (after["term"], after["commit_index"], after["last_applied"], _canonical(after["machine"])) != (
                before["term"], before["commit_index"], before["last_applied"], _canonical(before["machine"])):
            fail(f"{where}: compact on node {i} changed term, commit index, last_applied or machine")
            return
        for index in range(after["snapshot_index"] + 1, last_index(before) + 1):
            if term_at(after, index) != term_at(before, index):
                fail(f"{where}: after compact, node {i} has entry {index} of term {term_at(after, index)}; it was "
                     f"{term_at(before, index)} (last index {last_index(before)} before, {last_index(after)} after)")
                return
        if last_index(after) != last_index(before):
            fail(f"{where}: compact on node {i} moved the last index from {last_index(before)} to {last_index(after)}")
            return
        if after["snapshot_index"] > before["snapshot_index"] and (
                after["snapshot_index"] > before["last_applied"]
                or _canonical(after["snapshot"]) != _canonical(truth[after["snapshot_index"]])):
            fail(f"{where}: node {i} snapshotted up to index {after['snapshot_index']} with last_applied "
                 f"{before['last_applied']}: its snapshot is {_short(after['snapshot'])}, the machine at that index "
                 f"is {_short(truth[min(after['snapshot_index'], len(truth) - 1)])}")
            return
        bound = max(threshold - 1, last_index(before) - before["last_applied"])
        if len(after["log"]) > bound:
            fail(f"{where}: node {i} keeps {len(after['log'])} log entries with threshold {threshold} and "
                 f"{last_index(before) - before['last_applied']} entries not applied; at most {bound} should remain")
            return
        nodes[i] = after

    def send_snapshot(i, msg, where):
        before = _plain(nodes[i])
        after = install(_plain(before), _plain(msg))
        messages.append([where, i, msg["last_included_index"], before["last_applied"],
                         after.get("last_applied") if isinstance(after, dict) else None])
        if not isinstance(after, dict) or "last_applied" not in after:
            fail(f"{where}: install_snapshot on node {i} returned {_short(after)}")
            return
        if after["last_applied"] < before["last_applied"] or after.get("snapshot_index", 0) < before["snapshot_index"]:
            fail(f"{where}: node {i} at last_applied {before['last_applied']} (snapshot {before['snapshot_index']}) "
                 f"accepted a snapshot up to {msg['last_included_index']}: it went back to last_applied "
                 f"{after['last_applied']}, snapshot {after.get('snapshot_index')}")
            return
        nodes[i] = after
        check_machine(i, where)

    for r in range(rounds):
        leader = nodes[0]
        for _ in range(int(rng.integers(1, 4))):
            if not commands:
                break
            leader["log"].append({"term": 1, "command": commands.pop(0)})
        for f in ([1] if r >= cut_from else [1, 2]):
            follower = nodes[f]
            follower["log"] = follower["log"] + [dict(e) for e in leader["log"][
                last_index(follower) - leader["snapshot_index"]:]]
        for index in range(leader["commit_index"] + 1, last_index(leader) + 1):
            command = leader["log"][index - leader["snapshot_index"] - 1]["command"]
            truth.append(copy.deepcopy(apply_command(copy.deepcopy(truth[-1]), copy.deepcopy(command))["machine"]))
        leader["commit_index"] = last_index(leader)
        for i in ([0, 1] if r >= cut_from else [0, 1, 2]):
            step(i, f"round {r + 1}")
            if problems:
                break
        if problems:
            break
        for i in range(3):
            sizes[i].append(len(nodes[i]["log"]))
        if nodes[0]["snapshot_index"] and (not old_snapshots or
                                           old_snapshots[-1]["last_included_index"] != nodes[0]["snapshot_index"]):
            old_snapshots.append({"type": "install_snapshot", "term": 1, "from": 0,
                                  "last_included_index": nodes[0]["snapshot_index"],
                                  "last_included_term": nodes[0]["snapshot_term"],
                                  "snapshot": copy.deepcopy(nodes[0]["snapshot"])})
    if not problems:                                  # the partition heals: nodes 0 and 1 apply all, node 2 is brought up
        for i in ((0, 1) if install is not None else (0, 1, 2)):
            try:
                nodes[i] = apply_compacted(dict(nodes[i], commit_index=nodes[0]["commit_index"]), apply_command)
            except LookupError as exc:
                fail(f"at the end: node {i}: {exc}: a snapshot dropped entries that were not applied yet")
            check_machine(i, "at the end")
    if not problems and install is not None:
        leader, lagging = nodes[0], nodes[2]
        if last_index(lagging) < leader["snapshot_index"] and old_snapshots:
            send_snapshot(2, old_snapshots[-1], "after the partition")
        if not problems:
            lagging = nodes[2]
            start = last_index(lagging) - leader["snapshot_index"]
            if start < 0:
                fail(f"after the partition: node 2 ends at index {last_index(lagging)}, before the leader's snapshot "
                     f"at {leader['snapshot_index']}, after InstallSnapshot")
            else:
                lagging["log"] = lagging["log"] + [dict(e) for e in leader["log"][start:]]
                nodes[2] = apply_compacted(dict(lagging, commit_index=leader["commit_index"]), apply_command)
                check_machine(2, "after the partition")
        for i in (1, 2):
            if problems:
                break
            if nodes[i]["last_applied"] != leader["commit_index"]:
                fail(f"after the partition: node {i} applied up to {nodes[i]['last_applied']}, the leader committed "
                     f"{leader['commit_index']}")
        for msg in (old_snapshots[:1] + old_snapshots[-1:]) if len(old_snapshots) > 1 else []:
            for i in (1, 2):
                if not problems:
                    send_snapshot(i, msg, f"a delayed snapshot up to {msg['last_included_index']}")
    grid = [{"node": i, "snapshot_index": s["snapshot_index"], "last_index": last_index(s),
             "last_applied": s["last_applied"], "commit_index": s["commit_index"],
             "terms": [e["term"] for e in s["log"]]} for i, s in enumerate(nodes)]
    return {"problems": problems, "sizes": sizes, "grid": grid, "messages": messages,
            "snapshots": len(old_snapshots), "committed": len(truth) - 1}


SNAPSHOT_EXPECTED = ("a run in which each log stays under its bound, every snapshot is the machine at its index, no "
                     "committed entry is lost before it is applied, the lagging follower agrees after InstallSnapshot, "
                     "and no stale or duplicate snapshot moves a node back")


def snapshot_judge(result: dict) -> str | None:
    """None when ``snapshot_run`` found nothing wrong, else its first problem and the line that replays it."""
    if result["problems"]:
        return result["problems"][0]
    return None


def plot_snapshot_grid(result: dict, title: str | None = None):
    """Per node, the indexes its snapshot covers (grey), the log entries it still holds (blue) and its
    last_applied (a black tick): how compaction keeps each log short and where the lagging node restarted."""
    fig, ax = new_figure(title or "Snapshot and log per node at the end of the run", "log index", "node",
                         figsize=(9, 2.6))
    for row in result["grid"]:
        y = row["node"]
        if row["snapshot_index"]:
            ax.barh(y, row["snapshot_index"], left=0.5, color="#bbbbbb", height=0.5)
        if row["last_index"] > row["snapshot_index"]:
            ax.barh(y, row["last_index"] - row["snapshot_index"], left=row["snapshot_index"] + 0.5, color=PALETTE[0],
                    height=0.5)
        ax.plot([row["last_applied"] + 0.5] * 2, [y - 0.35, y + 0.35], color="black", linewidth=2)
    ax.set_yticks([r["node"] for r in result["grid"]])
    ax.set_yticklabels([f"n{r['node']}" for r in result["grid"]])
    ax.barh([], [], color="#bbbbbb", label="in the snapshot")
    ax.barh([], [], color=PALETTE[0], label="still in the log")
    ax.plot([], [], color="black", label="last_applied")
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    fig.tight_layout()
    return fig, ax


# --------------------------------------------------------------------------- the harder schedules (6.5840's)

def _kv_elections7(seed):
    """Many elections on seven nodes (6.5840's TestManyElections): every 0.6 s three nodes, the leader often among
    them, are cut off and the others reconnected, on a network that drops and delays; then everything heals."""
    rng = np.random.default_rng(seed + 29)
    n, steps, t = 7, [(1.5, "expect", "leader")], 1.6
    while t < 6.0:
        steps.append((round(t, 3), "heal"))
        out = ["L"] + [int(x) for x in rng.choice(n, size=2, replace=False)] if rng.random() < 0.6 else \
            [int(x) for x in rng.choice(n, size=3, replace=False)]
        steps.append((round(t, 3), "disconnect", out))
        t += 0.6
    steps += [(6.2, "heal"), (6.2, "reliable"), (8.0, "expect", "leader"), (10.0, "expect", "answered", 6.5)]
    return dict(n=n, clients=4, keys=2, ops_until_s=7.0, drop=0.05, long_delay=0.05), steps


def _kv_figure8_unreliable(seed):
    """6.5840's TestFigure8Unreliable with clients: on five nodes and a network that drops, duplicates and delays
    long, the leader is cut off again and again, and cut-off nodes come back at random, so entries of older terms
    sit on minorities while new leaders are elected; then the network heals and becomes reliable."""
    rng = np.random.default_rng(seed + 31)
    n, steps, t = 5, [(1.5, "expect", "leader")], 1.6
    while t < 6.5:
        if rng.random() < 0.6:
            steps.append((round(t, 3), "disconnect", "L"))
        if rng.random() < 0.5:
            steps.append((round(t, 3), "connect", int(rng.integers(0, n))))
        t += float(rng.uniform(0.2, 0.7))
    steps += [(6.8, "heal"), (6.8, "reliable"), (9.0, "expect", "leader"), (11.0, "expect", "answered", 7.0)]
    return dict(n=n, clients=3, keys=2, ops_until_s=7.5, drop=0.1, duplicate=0.1, long_delay=0.15), steps


def _kv_concurrent(seed):
    """Concurrent starts (6.5840's TestConcurrentStarts): six clients with no pause between operations on two
    keys, so requests reach the leader at once and their entries interleave in one heartbeat. (Ten clients on one key
    make histories the checker cannot decide within its budget.)"""
    return dict(n=3 if seed % 2 == 0 else 5, clients=6, keys=2, ops_until_s=3.0, think_s=(0.0, 0.0)), [
        (1.2, "expect", "leader"), (5.5, "expect", "answered", 3.0)]


KV_SCENARIOS.update({"kv_elections7": _kv_elections7, "kv_figure8_unreliable": _kv_figure8_unreliable,
                     "kv_concurrent": _kv_concurrent})


# --------------------------------------------------------------------------- membership runs (exercise 8)

def _majority(size: int) -> int:
    return size // 2 + 1


def split_brain(a: list, b: list):
    """Two disjoint majorities, one of voters ``a`` and one of voters ``b``, or None if every majority of one meets
    every majority of the other. They exist exactly when the two majorities together fit in the union."""
    ma, mb = _majority(len(a)), _majority(len(b))
    if ma + mb > len(set(a) | set(b)):
        return None
    only_a, only_b = [x for x in a if x not in b], [x for x in b if x not in a]
    shared = [x for x in a if x in b]
    need_a = max(0, ma - len(only_a))
    return sorted(only_a + shared[:need_a])[:ma], sorted(only_b + shared[need_a:])[:mb]


def membership_run(can_change: Callable, seed: int, steps: int = 60) -> dict:
    """A leader (server 0) of servers 0 to 7 that starts with voters 0, 1, 2 and asks the learner's
    ``can_change(state, change)`` about a random change at every step; an allowed change is appended as a
    configuration entry and used at once. Servers copy the log at random speeds; an entry commits when every voter of
    the leader's configuration holds it (a stricter rule than a majority, so that it is not exercise 8's answer);
    now and then the leader is re-elected in a new term with a no-op. Checked after every change: any two
    configurations that may be in use at once (the last committed one and every one after it) have no two disjoint
    majorities (else a partition between them elects two leaders in one term), and no server becomes a voter before it
    holds the committed log."""
    rng = np.random.default_rng(seed)
    state = dict(kv_initial_state(0, 8), term=1, role="leader", voted_for=0,
                 log=[{"term": 1, "command": dict(NOOP)}], commit_index=0,
                 config={"voters": [0, 1, 2], "learners": []})
    state["match_index"], state["next_index"] = [1, 0, 0, 0, 0, 0, 0, 0], [2] * 8
    problems, changes, rows = [], [], []

    def fail(text):
        if not problems:
            problems.append(f"{text} (replay: membership_run(can_change, seed={seed}, steps={steps}))")

    def configs_in_use():
        committed = {"voters": [0, 1, 2], "learners": []}
        later = []
        for index, entry in enumerate(state["log"], start=1):
            if entry["command"].get("op") == "config":
                if index <= state["commit_index"]:
                    committed = entry["command"]
                else:
                    later.append(entry["command"])
        return [committed] + later

    for step in range(steps):
        roll = rng.random()
        if roll < 0.08:                                    # re-elected in a new term: a no-op of that term
            state["term"] += 1
            state["log"].append({"term": state["term"], "command": dict(NOOP)})
            state["match_index"][0] = len(state["log"])
        action = str(rng.choice(["add_learner", "promote", "remove"]))
        server = int(rng.integers(1, 8))
        change = {"action": action, "server": server}
        allowed = can_change(_plain(state), dict(change))
        if allowed not in (True, False):
            fail(f"step {step + 1}: can_change returned {allowed!r}; it must return True or False")
            break
        if allowed:
            voters, learners = list(state["config"]["voters"]), list(state["config"]["learners"])
            if action == "add_learner":
                learners.append(server)
            elif action == "promote" and server in learners:
                learners.remove(server)
                voters.append(server)
                if state["match_index"][server] < state["commit_index"]:
                    fail(f"step {step + 1}: server {server} became a voter holding entries up to "
                         f"{state['match_index'][server]} of the {state['commit_index']} committed: a learner counted "
                         "as a voter before it caught up")
            elif action == "remove" and server in voters:
                voters.remove(server)
            config = {"op": "config", "voters": sorted(set(voters)), "learners": sorted(set(learners) - set(voters))}
            state["log"].append({"term": state["term"], "command": config})
            state["match_index"][0] = len(state["log"])
            state["config"] = {"voters": config["voters"], "learners": config["learners"]}
            changes.append([step + 1, action, server, len(state["log"])])
            in_use = configs_in_use()
            for k, first in enumerate(in_use):
                for second in in_use[k + 1:]:
                    pair = split_brain(first["voters"], second["voters"])
                    if pair:
                        fail(f"step {step + 1}: configurations with voters {first['voters']} and {second['voters']} "
                             f"may both be in use (the second not committed); majorities {pair[0]} and {pair[1]} share "
                             "no server, so a partition between them can elect two leaders in one term")
        if problems:
            break
        for peer in range(1, 8):                           # replication at random speeds
            if rng.random() < 0.5:
                state["match_index"][peer] = min(len(state["log"]),
                                                 state["match_index"][peer] + int(rng.integers(1, 3)))
        for index in range(len(state["log"]), state["commit_index"], -1):
            if state["log"][index - 1]["term"] == state["term"] and all(
                    state["match_index"][v] >= index for v in state["config"]["voters"]):
                state["commit_index"] = index
                break
        rows.append([step + 1, state["term"], state["commit_index"], len(state["log"]),
                     list(state["config"]["voters"]), list(state["config"]["learners"])])
    return {"problems": problems, "changes": changes, "rows": rows}


MEMBERSHIP_EXPECTED = ("a run in which any two configurations that may be in use at once share a server in every pair "
                       "of their majorities, and no server votes before it has caught up")


def membership_judge(result: dict) -> str | None:
    return result["problems"][0] if result["problems"] else None
