"""Raft on a simulated, replayable network: the cluster simulator, invariant checks, scenarios,
drivers for the grader and figures, for module 06.

A Raft node here is a set of **pure functions over plain data** (the learner writes them):

    start_election(state)                  -> result     a follower's or candidate's election timer fired
    heartbeat(state)                       -> result     a leader's heartbeat timer fired
    handle_request_vote(state, msg)        -> result     and handle_vote_reply, handle_append_entries,
    handle_append_reply(state, msg)        -> result     one per message type
    persistent_state(state) -> saved,  restart(saved, node_id, n) -> state      crash and restart

``state`` is a dict with the names of the Raft paper's Figure 2 (see ``initial_state``) and a
``result`` is ``{"state": new_state, "send": [messages], "reset_timer": bool}``. Because nodes
take and return plain data, the simulator can run in the grader and call the learner's functions
through proxies, one call per delivered message or timer event.

``Cluster`` owns everything else: a SimPy clock (``course.sim.Simulation``) and its seeded random
generator, the election and heartbeat timers (election timeouts drawn at random from
``timeout_s``), a network that delays, drops, duplicates and reorders messages and can be
partitioned, nodes that crash and restart with only what ``persistent_state`` saved, and a client
that submits commands to the leader. After every step it checks four of the five properties of the
paper's Figure 3 (election safety, log matching, leader completeness, state-machine safety; the
fifth, leader append-only, is not checked) and stops at the first violation, keeping a short trace.
A run also stops, as a failure, after ``MAX_CALLS`` calls into the node functions. ``run_scenario``
runs one of the named, seeded ``SCENARIOS`` and returns plain data; ``replay`` runs it again and
draws it.

Times given to a ``Cluster`` are seconds of simulated time; records and traces use milliseconds.
"""

from __future__ import annotations

import textwrap
from collections import deque
from typing import Callable

from course.plotting import PALETTE, new_figure
from course.sim import Simulation

HEARTBEAT_S = 0.1                 # ten heartbeats a second (MIT 6.5840's lab allows no more)
ELECTION_TIMEOUT_S = (0.3, 0.6)   # random per timer: several heartbeat intervals, as the paper advises
DELAY_S = (0.005, 0.02)           # one-way message delay on a healthy network
MAX_CALLS = 4000                  # calls into the node functions a graded run may make before it fails

ROLES = ("follower", "candidate", "leader")
MESSAGE_FIELDS = {
    "request_vote": ("type", "term", "from", "to", "last_log_index", "last_log_term"),
    "vote_reply": ("type", "term", "from", "to", "granted"),
    "append_entries": ("type", "term", "from", "to", "prev_log_index", "prev_log_term", "entries", "leader_commit"),
    "append_reply": ("type", "term", "from", "to", "success", "match_index", "conflict_index"),
}
HANDLER_FOR = {"request_vote": "handle_request_vote", "vote_reply": "handle_vote_reply",
               "append_entries": "handle_append_entries", "append_reply": "handle_append_reply"}
STATE_KEYS = ("id", "n", "term", "voted_for", "log", "role", "commit_index", "votes", "next_index", "match_index")


class ContractError(ValueError):
    """A node function returned something outside the contract (the message says what)."""


def initial_state(node_id: int, n: int) -> dict:
    """The state of node ``node_id`` of ``n`` when the cluster first starts."""
    return {"id": node_id, "n": n, "term": 0, "voted_for": None, "log": [], "role": "follower",
            "commit_index": 0, "votes": [], "next_index": [1] * n, "match_index": [0] * n}


# --------------------------------------------------------------------------- contract views

def _copy_state(state: dict) -> dict:
    s = dict(state)
    for key, value in state.items():
        if isinstance(value, list):
            s[key] = [dict(v) if isinstance(v, dict) else v for v in value]
    return s


def _entries(log, where: str) -> list:
    if not isinstance(log, list):
        raise ContractError(f"{where} must be a list of entries, got {type(log).__name__}")
    out = []
    for i, e in enumerate(log):
        if not isinstance(e, dict) or "term" not in e or "command" not in e:
            raise ContractError(f"{where}[{i}] must be a dict with 'term' and 'command', got {e!r}")
        out.append({"term": e["term"], "command": e["command"]})
    return out


def project_state(state, restarted: bool = False, next_index: bool = False) -> dict:
    """The parts of ``state`` the contract fixes: extra keys are yours; ``votes`` counts only for a
    candidate, ``match_index`` only for a leader (its own entry ignored). With ``restarted``,
    ``commit_index`` is left out: ``restarted`` judges it against the commit index before the crash. With
    ``next_index``, a leader's ``next_index`` is part of the view too (its own entry ignored)."""
    if not isinstance(state, dict):
        raise ContractError(f"the state must be a dict, got {type(state).__name__}")
    missing = [k for k in STATE_KEYS if k not in state]
    if missing:
        raise ContractError(f"the state lacks {missing}")
    view = {k: state[k] for k in ("id", "n", "term", "voted_for", "role", "commit_index")}
    view["log"] = _entries(state["log"], "state['log']")
    if state["role"] == "candidate":
        view["votes"] = sorted(set(state["votes"]))
    if state["role"] == "leader":
        view["match_index"] = [m if i != state["id"] else None for i, m in enumerate(state["match_index"])]
        if next_index:
            view["next_index"] = [m if i != state["id"] else None for i, m in enumerate(state["next_index"])]
    if restarted:
        del view["commit_index"]
    return view


def project_message(msg, stale_refusal: bool = False) -> dict:
    """The fields of a message that the contract fixes: ``match_index`` of a failed append reply and
    ``conflict_index`` of a successful one are ignored; with ``stale_refusal`` (the reply answers an
    AppendEntries of an older term), a failed reply's ``conflict_index`` is ignored too."""
    if not isinstance(msg, dict) or msg.get("type") not in MESSAGE_FIELDS:
        raise ContractError(f"a message must be a dict whose 'type' is one of {sorted(MESSAGE_FIELDS)}; got {msg!r}")
    missing = [k for k in MESSAGE_FIELDS[msg["type"]] if k not in msg]
    if missing:
        raise ContractError(f"a {msg['type']} message lacks {missing}: {msg!r}")
    view = {k: msg[k] for k in MESSAGE_FIELDS[msg["type"]]}
    if msg["type"] == "append_entries":
        view["entries"] = _entries(msg["entries"], "entries")
    if msg["type"] == "append_reply":
        if view["success"]:
            del view["conflict_index"]
        else:
            del view["match_index"]
            if stale_refusal:
                del view["conflict_index"]
    return view


def project_result(result, send: bool = True, stale_refusal: bool = False, next_index: bool = False) -> dict:
    """``{"state", "send", "reset_timer"}`` reduced to what the contract fixes; messages sorted by
    receiver and type. With ``send=False`` the messages are not part of the view; ``stale_refusal``
    is passed to ``project_message``; ``next_index`` to ``project_state``."""
    if not isinstance(result, dict) or "state" not in result or "send" not in result:
        raise ContractError("a handler must return a dict {'state': ..., 'send': [...], 'reset_timer': bool}; "
                            f"got {str(result)[:120]}")
    if not isinstance(result["send"], list):
        raise ContractError(f"result['send'] must be a list of messages, got {type(result['send']).__name__}")
    view = {"state": project_state(result["state"], next_index=next_index), "reset_timer": bool(result.get("reset_timer", False))}
    if send:
        msgs = [project_message(m, stale_refusal) for m in result["send"]]
        view["send"] = sorted(msgs, key=lambda m: (str(m.get("to")), m["type"]))
    return view


def is_stale_append(state, msg) -> bool:
    """True if ``msg`` is an AppendEntries from an older term than ``state``'s: the contract says the
    refusal's ``conflict_index`` is then ignored (the leader only reads the reply's newer term)."""
    return (isinstance(msg, dict) and msg.get("type") == "append_entries" and isinstance(state, dict)
            and msg.get("term", 0) < state.get("term", 0))


def viewed(handler: Callable, send: bool = True, next_index: bool = False) -> Callable:
    """``handler`` (yours, or a proxy to it) returning its contract view, under the same name (with
    ``next_index``, a leader's ``next_index`` is in the view)."""
    def call(state, msg=None):
        result = handler(state) if msg is None else handler(state, msg)
        return project_result(result, send=send, stale_refusal=is_stale_append(state, msg), next_index=next_index)
    call.__name__ = getattr(handler, "__name__", "handler")
    return call


def restarted_commit_index(after, before: int):
    """The contract view of a restarted node's ``commit_index``: 0 for any value from 0 to ``before``
    (the commit index when it crashed: 0 is Figure 2's volatile state, a persisted commit index is
    also safe), else the value itself. Above ``before`` it calls entries committed that may not be."""
    if isinstance(after, int) and not isinstance(after, bool) and 0 <= after <= before:
        return 0
    return after


def restarted(persistent_state: Callable, restart: Callable) -> Callable:
    """A function ``(state) -> view`` of the node after a crash in ``state`` and a restart from what
    ``persistent_state`` saved, as the grader sees it (``commit_index`` as ``restarted_commit_index``)."""
    def crash_and_restart(state):
        saved = persistent_state(state)
        new = restart(saved, state["id"], state["n"])
        view = project_state(new, restarted=True)
        view["commit_index"] = restarted_commit_index(new["commit_index"], state["commit_index"])
        return view
    return crash_and_restart


# --------------------------------------------------------------------------- election-only helpers

def election_only_append_entries(state, msg):
    """A follower that only understands heartbeats (no log): enough to test elections alone."""
    s = _copy_state(state)
    if msg["term"] < s["term"]:
        return {"state": s, "send": [{"type": "append_reply", "term": s["term"], "from": s["id"], "to": msg["from"],
                                      "success": False, "match_index": 0, "conflict_index": 0}], "reset_timer": False}
    if msg["term"] > s["term"]:
        s["term"], s["voted_for"] = msg["term"], None
    s["role"], s["votes"] = "follower", []
    return {"state": s, "send": [{"type": "append_reply", "term": s["term"], "from": s["id"], "to": msg["from"],
                                  "success": True, "match_index": msg["prev_log_index"], "conflict_index": 0}],
            "reset_timer": True}


def election_only_append_reply(state, msg):
    """A leader that only steps down on a higher term in an append reply."""
    s = _copy_state(state)
    if msg["term"] > s["term"]:
        s["term"], s["voted_for"], s["role"], s["votes"] = msg["term"], None, "follower", []
    return {"state": s, "send": [], "reset_timer": False}


# --------------------------------------------------------------------------- the cluster

def _node_spec(spec, marks: dict, n: int) -> int:
    if isinstance(spec, int):
        return spec
    base, _, offset = str(spec).partition("+")
    return (marks[base] + int(offset or 0)) % n


class Cluster:
    """``n`` Raft nodes (your functions in ``handlers``) on a seeded simulated network."""

    def __init__(self, handlers: dict, n: int = 3, seed: int = 0, *, heartbeat_s: float = HEARTBEAT_S,
                 timeout_s: tuple = ELECTION_TIMEOUT_S, delay_s: tuple = DELAY_S, drop: float = 0.0,
                 duplicate: float = 0.0, long_delay: float = 0.0, jitter: bool = True, max_calls: int = MAX_CALLS,
                 name: str = "custom", label: str = "NODE"):
        self.handlers, self.n, self.seed, self.name, self.label = handlers, n, seed, name, label
        self.sim = Simulation(seed)
        self.env, self.rng = self.sim.env, self.sim.rng
        self.heartbeat_s, self.timeout_s, self.delay_s = heartbeat_s, tuple(timeout_s), tuple(delay_s)
        self.drop, self.duplicate, self.long_delay, self.jitter = drop, duplicate, long_delay, jitter
        self.max_calls = max_calls
        self.states = [initial_state(i, n) for i in range(n)]
        self.alive, self.connected, self.group = [True] * n, [True] * n, [0] * n
        self.saved: list = [None] * n
        self.timer_gen, self.beat_gen = [0] * n, [0] * n
        self.applied: list = [[[]] for _ in range(n)]   # per node, per incarnation: [index, term, command]
        self.leaders: list = []                          # [t_ms, node, term] each time a node becomes leader
        self.timeline: list = [[0.0, i, "follower", 0] for i in range(n)]   # [t_ms, node, role, term]
        self.commits: list = []                          # [t_ms, node, commit_index]
        self.sent_at: list = []                          # t_ms of every message sent
        self.actions: list = []                          # [t_ms, text] of scripted events
        self.violations: list = []
        self.failures: list = []
        self.calls = self.events = 0
        self.trace: deque = deque(maxlen=8)
        self.frozen_trace: list | None = None
        self.stopped = False
        self.committed: dict = {}      # index -> (term, command), the first entry any node applied there
        self.commit_term: dict = {}    # index -> term of the node that first committed it
        self.leader_of: dict = {}      # term -> node
        self.marks: dict = {}
        self.submitted: list = []
        for i in range(n):
            self._reset_timer(i)

    # ---------------------------------------------------------------- plumbing
    @property
    def now_ms(self) -> float:
        return round(self.env.now * 1000, 1)

    def _at(self, delay: float, fn: Callable, *args) -> None:
        event = self.env.timeout(max(0.0, delay))
        event.callbacks.append(lambda _e: None if self.stopped else fn(*args))

    def _note(self, text: str) -> None:
        self.trace.append(f"{self.now_ms:7.1f} ms  {text}")

    def _stop(self, problem: str, kind: str) -> None:
        (self.violations if kind == "violation" else self.failures).append(f"{problem} (t={self.now_ms} ms)")
        if self.frozen_trace is None:
            self._note(f"!! {problem}")
            self.frozen_trace = list(self.trace)
        self.stopped = True

    def link_up(self, a: int, b: int) -> bool:
        return (self.alive[a] and self.alive[b] and self.connected[a] and self.connected[b]
                and self.group[a] == self.group[b])

    @staticmethod
    def _describe(s: dict) -> str:
        last = s["log"][-1]["term"] if s["log"] else 0
        return (f"n{s['id']} {s['role']} term {s['term']} voted {s['voted_for']} "
                f"log {len(s['log'])}@{last} commit {s['commit_index']}")

    # ---------------------------------------------------------------- one step of one node
    def _step(self, i: int, name: str, *args) -> None:
        self.calls += 1
        self.events += 1
        if self.calls > self.max_calls:
            self._stop(f"more than {self.max_calls} calls into the node functions: a message storm?", "failure")
            return
        old = self.states[i]
        try:
            fn = self.handlers[name]
        except KeyError:
            raise KeyError(f"the handlers have no {name!r}") from None
        try:
            result = fn(_copy_state(old), *args)
            view = project_result(result, send=False)["state"]
            send = [dict(m) for m in result["send"]]
            for m in send:
                project_message(m)
                if m["from"] != i or m["to"] not in range(self.n) or m["to"] == i:
                    raise ContractError(f"node {i} sent a message with from={m['from']!r}, to={m['to']!r}")
        except ContractError as exc:
            self._stop(f"{name} on node {i}: {exc}", "violation")
            return
        except Exception as exc:  # the learner's function raised
            self._stop(f"{name} on node {i} raised {type(exc).__name__}: {str(exc)[:150]}", "violation")
            return
        new = result["state"]
        if view["id"] != i or view["n"] != self.n or view["role"] not in ROLES:
            self._stop(f"{name} on node {i} returned a state with id={view['id']}, n={view['n']}, "
                       f"role={view['role']!r}", "violation")
            return
        self.states[i] = new
        if (new["role"], new["term"]) != (old["role"], old["term"]):
            self.timeline.append([self.now_ms, i, new["role"], new["term"]])
        event = f"<- {args[0]['type']} from n{args[0]['from']}" if args else name
        self._note(f"n{i} {event} => {self._describe(new)[len(str(i)) + 2:]}" + (f", sends {len(send)}" if send else ""))
        if not self._check(i, old, new):
            return
        for m in send:
            self._send(m)
        if result.get("reset_timer"):
            self._reset_timer(i)

    # ---------------------------------------------------------------- invariants (paper, Figure 3; four of its five)
    def _check(self, i: int, old: dict, new: dict) -> bool:
        log = new["log"]
        if new["role"] == "leader" and (old["role"] != "leader" or old["term"] != new["term"]):
            term = new["term"]
            self.leaders.append([self.now_ms, i, term])
            first = self.leader_of.setdefault(term, i)
            if first != i:
                self._stop(f"election safety: node {first} and node {i} are both leaders of term {term}", "violation")
                return False
            for index, (e_term, command) in sorted(self.committed.items()):
                if self.commit_term[index] < term and (len(log) < index or
                                                       (log[index - 1]["term"], log[index - 1]["command"]) != (e_term, command)):
                    self._stop(f"leader completeness: node {i} leads term {term} without committed entry {index} "
                               f"{[e_term, command]}", "violation")
                    return False
            self.beat_gen[i] += 1
            self._at(self.heartbeat_s, self._on_heartbeat, i, self.beat_gen[i])
        if not self._log_matching(i):
            return False
        commit = new["commit_index"]
        if not isinstance(commit, int) or commit > len(log) or commit < old["commit_index"]:
            self._stop(f"node {i} moved commit_index from {old['commit_index']} to {commit!r} "
                       f"(log length {len(log)}): it must never go down or pass the log's end", "violation")
            return False
        if commit > old["commit_index"]:
            self.commits.append([self.now_ms, i, commit])
        done = self.applied[i][-1]
        for index in range(len(done) + 1, commit + 1):
            entry = (log[index - 1]["term"], log[index - 1]["command"])
            first = self.committed.setdefault(index, entry)
            self.commit_term.setdefault(index, new["term"])
            done.append([index, entry[0], entry[1]])
            if first != entry:
                self._stop(f"state-machine safety: node {i} applied {list(entry)} at index {index}, where "
                           f"{list(first)} was applied before", "violation")
                return False
        return True

    def _log_matching(self, i: int) -> bool:
        mine = self.states[i]["log"]
        for j in range(self.n):
            if j == i or not self.alive[j]:
                continue
            theirs = self.states[j]["log"]
            same_prefix = True
            for k in range(min(len(mine), len(theirs))):
                a, b = mine[k], theirs[k]
                equal = a["term"] == b["term"] and a["command"] == b["command"]
                if a["term"] == b["term"] and not (same_prefix and equal):
                    self._stop(f"log matching: nodes {i} and {j} both have term {a['term']} at index {k + 1} "
                               "but different entries up to there", "violation")
                    return False
                same_prefix = same_prefix and equal
        return True

    # ---------------------------------------------------------------- timers and network
    def _reset_timer(self, i: int) -> None:
        self.timer_gen[i] += 1
        low, high = self.timeout_s
        delay = float(self.rng.uniform(low, high)) if self.jitter else low
        self._at(delay, self._on_timer, i, self.timer_gen[i])

    def _on_timer(self, i: int, gen: int) -> None:
        if not self.alive[i] or gen != self.timer_gen[i]:
            return
        if self.states[i]["role"] != "leader":
            self._note(f"n{i} election timeout")
            self._step(i, "start_election")
        if not self.stopped:
            self._reset_timer(i)

    def _on_heartbeat(self, i: int, gen: int) -> None:
        if not self.alive[i] or gen != self.beat_gen[i] or self.states[i]["role"] != "leader":
            return
        self._step(i, "heartbeat")
        self._at(self.heartbeat_s, self._on_heartbeat, i, gen)

    def _send(self, msg: dict) -> None:
        self.sent_at.append(self.now_ms)
        a, b = msg["from"], msg["to"]
        if not self.link_up(a, b) or (self.drop and self.rng.random() < self.drop):
            return
        copies = 2 if self.duplicate and self.rng.random() < self.duplicate else 1
        for _ in range(copies):
            delay = float(self.rng.uniform(*self.delay_s))
            if self.long_delay and self.rng.random() < self.long_delay:
                delay += float(self.rng.uniform(0, 10 * self.delay_s[1]))
            self._at(delay, self._deliver, msg)

    def _deliver(self, msg: dict) -> None:
        if self.link_up(msg["from"], msg["to"]):
            self._step(msg["to"], HANDLER_FOR[msg["type"]], dict(msg))

    # ---------------------------------------------------------------- what a test (or you) can do
    def current_leader(self, among=None) -> int | None:
        """The node with role leader and the highest term among ``among`` (default: live, connected nodes)."""
        among = [i for i in (range(self.n) if among is None else among) if self.alive[i] and self.connected[i]]
        leaders = [i for i in among if self.states[i]["role"] == "leader"]
        return max(leaders, key=lambda i: self.states[i]["term"]) if leaders else None

    def disconnect(self, i: int) -> None:
        self.connected[i] = False
        self._act(f"disconnect n{i}")

    def connect(self, i: int) -> None:
        self.connected[i] = True
        self._act(f"connect n{i}")

    def partition(self, *groups) -> None:
        for g, members in enumerate(groups):
            for i in members:
                self.group[i] = g + 1
        self._act("partition " + " | ".join(",".join(f"n{i}" for i in m) for m in groups))

    def heal(self) -> None:
        self.group = [0] * self.n
        self.connected = [True] * self.n
        self._act("heal")

    def reliable(self) -> None:
        self.drop = self.duplicate = self.long_delay = 0.0
        self._act("network reliable")

    def crash(self, i: int) -> None:
        if not self.alive[i]:
            return
        self.calls += 1
        try:
            saved = self.handlers["persistent_state"](_copy_state(self.states[i]))
        except Exception as exc:
            self._stop(f"persistent_state on node {i} raised {type(exc).__name__}: {str(exc)[:150]}", "violation")
            return
        self.saved[i] = saved
        self.alive[i] = False
        self.timer_gen[i] += 1
        self.beat_gen[i] += 1
        self.timeline.append([self.now_ms, i, "down", self.states[i]["term"]])
        self._act(f"crash n{i}")

    def restart(self, i: int) -> None:
        if self.alive[i]:
            return
        self.calls += 1
        try:
            state = self.handlers["restart"](self.saved[i], i, self.n)
            project_state(state, restarted=True)
        except Exception as exc:
            self._stop(f"restart on node {i} raised {type(exc).__name__}: {str(exc)[:150]}", "violation")
            return
        self.states[i] = state
        self.alive[i] = True
        self.applied[i].append([])
        self.timeline.append([self.now_ms, i, state["role"], state["term"]])
        self._act(f"restart n{i}: {self._describe(state)}")
        old = dict(state, commit_index=0, role=state["role"])
        if self._check(i, old, state):
            self._reset_timer(i)

    def campaign(self, i: int) -> None:
        """Fire node ``i``'s election timer now."""
        if self.alive[i]:
            self._act(f"n{i} campaigns")
            self._step(i, "start_election")
            if not self.stopped:
                self._reset_timer(i)

    def submit_to(self, i: int, command) -> bool:
        """Give ``command`` to node ``i`` if it believes it is the leader (as a client would)."""
        s = self.states[i]
        if not self.alive[i] or s["role"] != "leader":
            return False
        s["log"] = list(s["log"]) + [{"term": s["term"], "command": command}]
        self.submitted.append([self.now_ms, i, command])
        self._act(f"client -> n{i}: {command} at index {len(s['log'])}")
        return True

    def submit(self, command, patience_s: float = 4.0, retry_s: float = 1.0) -> None:
        """Give ``command`` to the current leader; while some node has not applied it, give it again every
        ``retry_s`` (MIT's ``one()`` retries too), for up to ``patience_s``. A repeated command is a new entry
        of the current term: it also lets a new leader commit the entries it inherited from older terms."""
        give_up = self.env.now + patience_s

        def attempt():
            if len(self.holders(command)) == self.n:
                return
            leader = self.current_leader()
            if leader is not None:   # again even if its log holds it: an old-term copy commits only with a new entry
                self.submit_to(leader, command)
            if self.env.now + retry_s <= give_up:
                self._at(retry_s if leader is not None else 0.05, attempt)
        attempt()

    def _act(self, text: str) -> None:
        self.actions.append([self.now_ms, text])
        self._note(f"** {text}")

    def run(self, until_s: float) -> "Cluster":
        """Run the simulation up to ``until_s`` seconds (or the first invariant violation)."""
        while not self.stopped and self.env.peek() <= until_s:
            self.env.step()
        if not self.stopped and self.env.now < until_s:
            self.env.run(until=until_s)
        return self

    # ---------------------------------------------------------------- expectations
    def holders(self, command) -> list[int]:
        """The nodes that have applied ``command`` (in any incarnation)."""
        return [i for i in range(self.n) if any(c == command for run in self.applied[i] for _, _, c in run)]

    def messages_since(self, t_ms: float) -> int:
        return sum(1 for t in self.sent_at if t >= t_ms)

    def expect(self, kind: str, *args) -> None:
        """Check a goal now; a miss stops the run as a failure. Kinds: ``leader`` (among), ``no_leader``
        (among), ``same_leader`` (mark), ``committed`` (command, count, index), ``not_committed``
        (command), ``messages_at_most`` (since_ms, bound, what)."""
        if kind in ("leader", "no_leader"):
            among = [_node_spec(a, self.marks, self.n) for a in args[0]] if args else list(range(self.n))
            leader = self.current_leader(among)
            if kind == "leader":
                if leader is None:
                    self._stop(f"no leader among nodes {among}", "failure")
                else:
                    self.marks["L"] = leader
                    self.marks["T"] = self.states[leader]["term"]
                    self._act(f"leader is n{leader} (term {self.marks['T']})")
            elif leader is not None:
                self._stop(f"node {leader} is leader (term {self.states[leader]['term']}) among {among}, "
                           "which are not a majority", "failure")
        elif kind == "same_leader":
            leader = self.current_leader()
            if leader != self.marks.get("L") or self.states[leader]["term"] != self.marks.get("T"):
                self._stop(f"the leader changed from n{self.marks.get('L')} (term {self.marks.get('T')}) to "
                           f"n{leader} with no failure in between", "failure")
        elif kind == "committed":
            command, count, index = args
            have = self.holders(command)
            if len(have) < count:
                self._stop(f"command {command} is applied by {len(have)} node(s) {have}; expected at least {count}",
                           "failure")
            elif index is not None and self.committed.get(index, (None, None))[1] != command:
                self._stop(f"command {command} is not at index {index}", "failure")
        elif kind == "not_committed":
            have = self.holders(args[0])
            if have:
                self._stop(f"command {args[0]} was applied by {have} without a majority", "failure")
        elif kind == "messages_at_most":
            since, bound, what = args
            count = self.messages_since(since)
            if count > bound:
                self._stop(f"{count} messages {what}; at most {bound} expected", "failure")
        else:
            raise ValueError(f"unknown expectation {kind!r}")

    # ---------------------------------------------------------------- results
    def result(self) -> dict:
        """Plain data: what a judge needs (violations, failures, trace, leaders, applied) and stats."""
        return {"scenario": self.name, "seed": self.seed, "n": self.n, "violations": list(self.violations),
                "failures": list(self.failures), "trace": list(self.frozen_trace or self.trace),
                "leaders": [list(x) for x in self.leaders], "applied": self.applied,
                "stats": {"calls": self.calls, "events": self.events, "messages": len(self.sent_at),
                          "simulated_s": round(self.env.now, 3)},
                "replay": f"replay({self.label}, {self.name!r}, seed={self.seed})"}


# --------------------------------------------------------------------------- judging a run

SCENARIO_EXPECTED = "a run that keeps the four checked invariants of Figure 3 and meets the scenario's goals"


def judge(result: dict, extra: tuple = ()) -> str | None:
    """None if the run kept every invariant and met its goals; else what went wrong, where, the last
    events before it, and the line that replays it with a picture."""
    problems = list(result["violations"]) + list(result["failures"]) + list(extra)
    if not problems:
        return None
    trace = "\n".join(f"      {line}" for line in result["trace"])
    return (f"scenario {result['scenario']!r} (n={result['n']}, seed {result['seed']}): {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
            + f"\n  trace (last events before it):\n{trace}"
            + f"\n  replay with a picture in the notebook: {result['replay']}")


# --------------------------------------------------------------------------- scenarios

def _script(cluster: Cluster, steps: list) -> None:
    """Schedule ``steps``: (time_s, action, *args); action is a Cluster method name or ("expect", kind)."""
    def run(action, args):
        if action == "expect":
            cluster.expect(args[0], *args[1:])
            return
        if action == "mark":
            cluster.marks[args[0]] = cluster.marks["L"]
        elif action in ("disconnect", "connect", "crash", "restart", "campaign"):
            for node in (args[0] if isinstance(args[0], list) else [args[0]]):
                getattr(cluster, action)(_node_spec(node, cluster.marks, cluster.n))
        elif action == "submit_to":
            cluster.submit_to(_node_spec(args[0], cluster.marks, cluster.n), args[1])
        else:
            getattr(cluster, action)(*args)
    for t, action, *args in steps:
        cluster._at(t - cluster.env.now, run, action, args)


def _n_for(seed: int) -> int:
    return 3 if seed % 2 == 0 else 5


def _initial_election(seed):
    n = _n_for(seed)
    return dict(n=n), [
        (1.5, "expect", "messages_at_most", 0.0, 40 * (n - 1), "sent in the first 1.5 s (the first election)"),
        (1.5, "expect", "leader"),
        (2.5, "expect", "same_leader"),
        (3.5, "expect", "same_leader"),
        (3.5, "expect", "messages_at_most", 2500.0, 30 * (n - 1), "sent in one idle second"),
    ]


def _reelection(seed):
    return dict(n=3), [
        (1.5, "expect", "leader"), (1.5, "mark", "A"), (1.5, "disconnect", "A"),
        (3.5, "expect", "leader", ["A+1", "A+2"]), (3.5, "connect", "A"),          # the old leader rejoins
        (4.5, "expect", "leader"), (4.5, "disconnect", ["L", "L+1"]),             # no majority left
        (6.5, "expect", "no_leader", ["L+2"]), (6.5, "connect", "L+1"),
        (8.5, "expect", "leader", ["L+1", "L+2"]),
    ]


def _no_majority(seed):
    n = 5
    cut = sorted(int(x) for x in Simulation(seed + 1).rng.choice(n, size=3, replace=False))
    rest = [i for i in range(n) if i not in cut]
    return dict(n=n), [(0.0, "disconnect", cut), (2.0, "expect", "no_leader", rest), (2.0, "heal"),
                       (4.0, "expect", "leader")]


def _basic_agreement(seed):
    n = _n_for(seed)
    steps = [(1.5, "expect", "leader")]
    steps += [(1.5 + 0.2 * k, "submit", 101 + k) for k in range(5)]
    steps += [(3.5, "expect", "committed", 101 + k, n, 1 + k) for k in range(5)]
    return dict(n=n), steps


def _failed_follower(seed):
    return dict(n=3), [
        (1.5, "expect", "leader"), (1.5, "submit", 101), (2.5, "expect", "committed", 101, 3, 1),
        (2.5, "disconnect", "L+1"), (2.5, "submit", 102), (2.6, "submit", 103),
        (4.0, "expect", "committed", 102, 2, None), (4.0, "expect", "committed", 103, 2, None),
        (4.0, "connect", "L+1"), (4.0, "submit", 104),
        (7.0, "expect", "committed", 104, 3, None), (7.0, "expect", "committed", 102, 3, None),
    ]


def _no_commit_without_majority(seed):
    return dict(n=5), [
        (1.5, "expect", "leader"), (1.5, "submit", 10), (2.5, "expect", "committed", 10, 5, 1),
        (2.5, "disconnect", ["L+1", "L+2", "L+3"]), (2.6, "submit_to", "L", 20),
        (4.5, "expect", "not_committed", 20), (4.5, "heal"), (4.6, "submit", 30),
        (7.5, "expect", "committed", 30, 5, None),
    ]


def _rejoin(seed):
    return dict(n=3), [
        (1.5, "expect", "leader"), (1.5, "mark", "A"), (1.5, "submit", 101), (2.5, "expect", "committed", 101, 3, 1),
        (2.5, "disconnect", "A"),                                   # the old leader, cut off, takes three commands
        (2.5, "submit_to", "A", 202), (2.5, "submit_to", "A", 203), (2.5, "submit_to", "A", 204),
        (4.0, "expect", "leader", ["A+1", "A+2"]), (4.0, "mark", "B"), (4.0, "submit", 103),
        (5.0, "expect", "committed", 103, 2, None),
        (5.0, "disconnect", "B"), (5.0, "connect", "A"),            # the old leader rejoins, the new one leaves
        (7.0, "submit", 104), (8.0, "expect", "committed", 104, 2, None),
        (8.0, "heal"), (8.0, "submit", 105), (10.0, "expect", "committed", 105, 3, None),
        (10.0, "expect", "not_committed", 202),
    ]


def _backup(seed):
    batch = 30
    steps = [(1.5, "expect", "leader"), (1.5, "submit", 1), (2.5, "expect", "committed", 1, 5, 1),
             (2.5, "disconnect", ["L+2", "L+3", "L+4"])]
    steps += [(2.6, "submit_to", "L", 1000 + k) for k in range(batch)]          # never committed
    steps += [(3.0, "disconnect", ["L", "L+1"]), (3.0, "connect", ["L+2", "L+3", "L+4"]),
              (4.5, "expect", "leader", ["L+2", "L+3", "L+4"])]
    steps += [(4.5, "submit_to", "L", 2000 + k) for k in range(batch)]          # committed on three
    steps += [(5.5, "expect", "committed", 2000 + batch - 1, 3, None),
              (5.5, "heal"), (6.0, "submit", 3000),
              (7.0, "expect", "committed", 3000, 5, None),
              (7.0, "expect", "messages_at_most", 5500.0, 160, "sent while repairing two logs 30 entries behind "
               "(from healing to everyone holding the next command): back off one term at a time")]
    return dict(n=5), steps


def _figure8(seed):
    """The paper's Figure 8 with its terms, scripted with partitions instead of crashes (nodes 0..4 are
    the paper's S1..S5). Every campaign is on a follower: a cut-off leader first learns a newer term."""
    return dict(n=5, timeout_s=(30.0, 40.0)), [
        (0.0, "campaign", 1), (0.3, "submit_to", 1, 1), (0.8, "expect", "committed", 1, 5, 1),  # entry 1, term 1
        (0.8, "campaign", 0),                                                       # (a) S1 leads term 2
        (1.0, "partition", [0, 1], [2, 3, 4]), (1.0, "submit_to", 0, 2),            # index 2 reaches S2 only
        (1.2, "campaign", 4),                                 # (b) S5 leads term 3 with votes of S3, S4, itself
        (1.6, "submit_to", 4, 3), (1.6, "disconnect", 4),                           # and keeps its index 2
        (1.8, "partition", [0, 1, 2], [3]),        # S1 hears term 3 from S3 and steps down
        (2.0, "campaign", 0),                      # (c) S1 leads term 4, copies its index 2 (term 2) onto S3
        (2.8, "disconnect", 0), (2.8, "connect", 4), (2.8, "partition", [1, 2, 3, 4]),  # S1 gone, S5 back
        (3.1, "campaign", 4), (3.6, "submit_to", 4, 4),        # (d) S5 leads term 5, overwrites index 2
        (4.6, "heal"), (6.0, "expect", "committed", 4, 5, 3), (6.0, "expect", "committed", 3, 5, 2),
    ]


def _unreliable(seed):
    n = 5
    steps = [(1.5 + 0.2 * k, "submit", 100 + k) for k in range(15)]
    steps += [(5.0, "reliable"), (5.0, "submit", 999), (8.0, "expect", "committed", 999, n, None)]
    return dict(n=n, drop=0.1, duplicate=0.1, long_delay=0.1), steps


def _churn(seed):
    """Random disconnections (the leader half of the time) while commands arrive; then heal."""
    rng = Simulation(seed + 7).rng
    n, steps, t = 5, [], 1.0
    cmd = 500
    while t < 6.0:
        if rng.random() < 0.5:
            steps.append((t, "disconnect", "L" if rng.random() < 0.5 else int(rng.integers(0, n))))
        else:
            steps.append((t, "connect", int(rng.integers(0, n))))
        steps.append((t, "submit", cmd))
        cmd += 1
        t += float(rng.uniform(0.2, 0.6))
        if rng.random() < 0.3:
            steps.append((t, "heal"))
    steps = [(0.9, "expect", "leader")] + steps
    steps += [(6.5, "heal"), (7.5, "submit", 9999), (10.0, "expect", "committed", 9999, n, None)]
    return dict(n=n, long_delay=0.05), steps


def _vote_then_crash(seed):
    return dict(n=3, timeout_s=(30.0, 40.0)), [
        (0.0, "disconnect", 2), (0.0, "campaign", 0),                 # node 1 votes for node 0 in term 1
        (0.3, "crash", 1), (0.35, "restart", 1),
        (0.4, "disconnect", 0), (0.4, "connect", 2), (0.4, "campaign", 2),   # node 1 must refuse node 2
        (0.8, "heal"), (1.0, "campaign", 1), (1.3, "submit", 7), (2.5, "expect", "committed", 7, 3, None),
    ]


def _log_survives_crash(seed):
    return dict(n=3), [
        (1.5, "expect", "leader"), (1.5, "submit", 101), (1.6, "submit", 102), (1.7, "submit", 103),
        (2.5, "expect", "committed", 103, 3, 3),
        (2.5, "crash", 0), (2.55, "crash", 1), (2.6, "crash", 2),
        (2.7, "restart", 0), (2.75, "restart", 1), (2.8, "restart", 2),
        (4.5, "expect", "leader"), (4.5, "submit", 104), (6.0, "expect", "committed", 104, 3, 4),
    ]


def _restart_uncommitted(seed):
    """A cut-off leader takes two commands it can never commit, crashes and restarts: it must not count
    them committed (commit_index is volatile), and the others' entries at those indexes win."""
    return dict(n=3), [
        (1.5, "expect", "leader"), (1.5, "mark", "A"), (1.5, "submit", 101), (2.5, "expect", "committed", 101, 3, 1),
        (2.5, "disconnect", "A"), (2.5, "submit_to", "A", 202), (2.5, "submit_to", "A", 203),   # never committed
        (2.7, "crash", "A"), (2.8, "restart", "A"),
        (2.9, "expect", "not_committed", 202), (2.9, "expect", "not_committed", 203),
        (4.0, "expect", "leader", ["A+1", "A+2"]), (4.0, "submit", 103), (5.0, "expect", "committed", 103, 2, 2),
        (5.0, "connect", "A"), (5.0, "submit", 104),
        (8.0, "expect", "committed", 104, 3, None), (8.0, "expect", "not_committed", 202),
    ]


def _crash_churn(seed):
    rng = Simulation(seed + 11).rng
    n, steps, t, cmd = 5, [(0.9, "expect", "leader")], 1.0, 700
    while t < 6.0:
        target = "L" if rng.random() < 0.5 else int(rng.integers(0, n))
        steps += [(t, "crash", target), (t, "submit", cmd)]
        t += float(rng.uniform(0.2, 0.6))
        steps.append((t, "restart", int(rng.integers(0, n))))
        cmd += 1
    steps += [(6.5, "restart", list(range(n))), (7.0, "submit", 9999), (10.0, "expect", "committed", 9999, n, None)]
    return dict(n=n), steps


def _random_schedule(seed: int, commands: bool, crashes: bool) -> tuple[dict, list]:
    """A random cluster schedule over the whole domain: 2 to 7 nodes; for about 4 s, random partitions
    (2 or 3 groups of any sizes), single nodes and the leader cut off or back, heals, and (with ``crashes``)
    crashes and restarts of any node; commands throughout (with ``commands``). Then everything heals and
    restarts: a leader within 2.5 s, and (with ``commands``) a last command on every node 3 s later."""
    rng = Simulation(seed + 13).rng
    n = int(rng.integers(2, 8))
    steps, t, cmd = [(1.5, "expect", "leader")], 1.5, 800
    while t < 5.5:
        kind = str(rng.choice(["partition", "isolate", "leader", "connect", "heal"] + ["crash", "restart"] * crashes))
        if kind == "partition" and n >= 2:
            order = [int(x) for x in rng.permutation(n)]
            cuts = sorted(int(c) for c in rng.choice(range(1, n), size=min(n - 1, int(rng.integers(1, 3))),
                                                      replace=False))
            steps.append((t, "partition", *[order[a:b] for a, b in zip([0] + cuts, cuts + [n])]))
        elif kind == "isolate":
            steps.append((t, "disconnect", int(rng.integers(0, n))))
        elif kind == "leader":
            steps.append((t, "disconnect", "L"))      # the leader of the last check
        elif kind == "connect":
            steps.append((t, "connect", int(rng.integers(0, n))))
        elif kind == "heal":
            steps.append((t, "heal"))
        elif kind == "crash":
            steps.append((t, "crash", "L" if rng.random() < 0.4 else int(rng.integers(0, n))))
        else:
            steps.append((t, "restart", int(rng.integers(0, n))))
        if commands and rng.random() < 0.7:
            steps.append((t, "submit", cmd))
            cmd += 1
        t = round(t + float(rng.uniform(0.15, 0.7)), 3)
    end = round(t, 3)
    steps.append((end, "heal"))
    if crashes:
        steps.append((end, "restart", list(range(n))))
    steps.append((end + 2.5, "expect", "leader"))
    if commands:
        steps += [(end + 2.5, "submit", 9999), (end + 5.5, "expect", "committed", 9999, n, None)]
    return dict(n=n), steps


SCENARIOS = {
    # election (heartbeat-only followers are enough)
    "initial_election": _initial_election, "reelection": _reelection, "no_majority": _no_majority,
    # replication and the commit rule
    "basic_agreement": _basic_agreement, "failed_follower": _failed_follower,
    "no_commit_without_majority": _no_commit_without_majority, "rejoin": _rejoin, "backup": _backup,
    "figure8": _figure8, "unreliable": _unreliable, "churn": _churn,
    # persistence
    "vote_then_crash": _vote_then_crash, "log_survives_crash": _log_survives_crash,
    "restart_uncommitted": _restart_uncommitted, "crash_churn": _crash_churn,
    # random schedules over the whole domain (issue 17): 2 to 7 nodes, any partition, crashes
    "random_elections": lambda seed: _random_schedule(seed, commands=False, crashes=False),
    "random_partitions": lambda seed: _random_schedule(seed, commands=True, crashes=False),
    "random_crashes": lambda seed: _random_schedule(seed, commands=True, crashes=True),
}


def build_scenario(handlers: dict, name: str, seed: int, max_calls: int = MAX_CALLS, label: str = "NODE") -> Cluster:
    """The cluster of scenario ``name`` with ``seed``, its script scheduled, not yet run. ``label`` is the
    name of the handlers dict in the notebook, for the replay line."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose from {sorted(SCENARIOS)}")
    config, steps = SCENARIOS[name](seed)
    cluster = Cluster(handlers, seed=seed, name=name, max_calls=max_calls, label=label, **config)
    _script(cluster, steps)
    cluster.end_s = max(t for t, *_ in steps) + 1e-6
    return cluster


def run_scenario(handlers: dict, scenario: str, seed: int, label: str = "NODE", max_calls: int = MAX_CALLS) -> dict:
    """Run one seeded scenario with the node functions in ``handlers``; return ``Cluster.result()``."""
    cluster = build_scenario(handlers, scenario, seed, max_calls, label)
    cluster.run(cluster.end_s)
    return cluster.result()


def election_handlers(start_election, handle_request_vote, handle_vote_reply, heartbeat) -> dict:
    """Your election functions with followers that only understand heartbeats (no logs yet)."""
    return {"start_election": start_election, "handle_request_vote": handle_request_vote,
            "handle_vote_reply": handle_vote_reply, "heartbeat": heartbeat,
            "handle_append_entries": election_only_append_entries,
            "handle_append_reply": election_only_append_reply}


# --------------------------------------------------------------------------- the seed's three mistakes

def seed_votes(handle_vote_reply: Callable) -> Callable:
    """The seed's synchronous vote loop on a real network: every granted answer is counted as a fresh
    vote for the current election (``votes_received += 1``), whoever sent it and for whichever term."""
    counter = {"k": 0}

    def counting(state, msg):
        counter["k"] += 1
        if msg["granted"] and msg["term"] <= state["term"]:
            msg = dict(msg, term=state["term"], **{"from": state["n"] + counter["k"]})
        return handle_vote_reply(state, msg)
    counting.__name__ = "seed_vote_counting"
    return counting


def seed_no_log_check(handle_request_vote: Callable) -> Callable:
    """A voter that never compares logs: the candidate's log always looks up to date."""
    def grant_any_log(state, msg):
        return handle_request_vote(state, dict(msg, last_log_term=10 ** 9, last_log_index=10 ** 9))
    grant_any_log.__name__ = "seed_request_vote"
    return grant_any_log


def seed_commit_by_count(handle_append_reply: Callable) -> Callable:
    """The seed's commit rule: an entry stored on a majority is committed, whatever its term."""
    def count_replicas(state, msg):
        result = handle_append_reply(state, msg)
        s = result["state"]
        if s["role"] == "leader":
            for index in range(len(s["log"]), s["commit_index"], -1):
                copies = 1 + sum(1 for p in range(s["n"]) if p != s["id"] and s["match_index"][p] >= index)
                if 2 * copies > s["n"]:
                    s["commit_index"] = index
                    break
        return result
    count_replicas.__name__ = "seed_commit_rule"
    return count_replicas


def duplicate_heavy(seed: int) -> tuple[dict, list]:
    """A scenario for the seed's vote counting: every message may arrive twice, elections start together."""
    return dict(n=5, duplicate=0.6, timeout_s=(0.3, 0.33)), [(4.0, "expect", "leader")]


SCENARIOS["duplicates"] = duplicate_heavy


# --------------------------------------------------------------------------- figures

ROLE_COLOURS = {"follower": "#BBBBBB", "candidate": PALETTE[1], "leader": PALETTE[0], "down": "#333333"}


def plot_timeline(result_or_cluster, title: str | None = None, ax=None):
    """Each node's role over time (grey follower, orange candidate, blue leader, black down), its term
    written where it changes, scripted actions as dotted lines, a violation as a red cross."""
    cluster = result_or_cluster if isinstance(result_or_cluster, Cluster) else None
    if cluster is None:
        raise TypeError("plot_timeline takes a Cluster (use replay(...) to rebuild one from a seed)")
    end = cluster.env.now * 1000 * (1.02 if cluster.violations or cluster.failures else 1.0)
    if ax is None:
        fig, ax = new_figure(title or f"Raft timeline: {cluster.name}, seed {cluster.seed}", "time (s)", "node",
                             figsize=(10, 1.6 + 0.55 * cluster.n))
    else:
        fig = ax.figure
    for node in range(cluster.n):
        changes = [row for row in cluster.timeline if row[1] == node]
        for k, (t, _, role, term) in enumerate(changes):
            t_next = changes[k + 1][0] if k + 1 < len(changes) else end
            ax.barh(node, (t_next - t) / 1000, left=t / 1000, height=0.6, color=ROLE_COLOURS[role],
                    edgecolor="white", linewidth=0.5)
            if role != "down" and (t_next - t) > 0.03 * max(end, 1):
                ax.text(t / 1000 + 0.01 * end / 1000, node, f"T{term}", va="center", fontsize=8,
                        color="white" if role == "leader" else "black")
    for t, text in cluster.actions:
        if not text.startswith(("client", "leader is")):
            ax.axvline(t / 1000, color="#777777", linestyle=":", linewidth=1)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    handles = [Patch(color=c, label=r) for r, c in ROLE_COLOURS.items()]
    handles.append(Line2D([], [], color="#777777", linestyle=":", label="scripted event"))
    problems = cluster.violations + cluster.failures
    if problems:
        ax.plot([end / 1000], [cluster.n - 0.45], marker="X", color=PALETTE[3], markersize=14, linestyle="none",
                clip_on=False)
        handles.append(Line2D([], [], marker="X", color=PALETTE[3], linestyle="none", markersize=10,
                              label="invariant broken"))
        ax.set_xlabel("time (s)\n" + "\n".join(textwrap.wrap("broken: " + problems[0], 95)))
    ax.set_yticks(range(cluster.n), [f"n{i}" for i in range(cluster.n)])
    ax.set_ylim(-0.5, cluster.n - 0.3)
    ax.invert_yaxis()
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    fig.tight_layout()
    return fig, ax


def plot_cluster(cluster: Cluster, title: str | None = None):
    """The cluster as a graph (networkx): nodes coloured by role with term, log length and commit index;
    a solid edge where the network carries messages, a dashed red one where it does not."""
    import networkx as nx
    graph = nx.complete_graph(cluster.n)
    pos = nx.circular_layout(graph)
    fig, ax = new_figure(title or f"Cluster at t = {cluster.env.now:.2f} s", "(layout only: no axis units)",
                         "(layout only: no axis units)", figsize=(5.5, 5))
    up = [(a, b) for a, b in graph.edges if cluster.link_up(a, b)]
    down = [(a, b) for a, b in graph.edges if not cluster.link_up(a, b)]
    nx.draw_networkx_edges(graph, pos, edgelist=up, ax=ax, edge_color="#555555", width=1.5)
    nx.draw_networkx_edges(graph, pos, edgelist=down, ax=ax, edge_color=PALETTE[3], style="dashed", alpha=0.5)
    colours = [ROLE_COLOURS["down" if not cluster.alive[i] else cluster.states[i]["role"]] for i in range(cluster.n)]
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colours, node_size=2300)
    labels = {i: f"n{i}\nterm {s['term']}\nlog {len(s['log'])}, commit {s['commit_index']}"
              for i, s in enumerate(cluster.states)}
    nx.draw_networkx_labels(graph, pos, labels, ax=ax, font_size=8)
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.35, 1.35)
    ax.set_xticks([])
    ax.set_yticks([])
    return fig, ax


def plot_logs(cluster: Cluster, title: str | None = None):
    """Every node's log as a row of boxes (index across, the entry's term inside, colour by term);
    committed entries (up to the node's commit index) have a thick outline."""
    from matplotlib.patches import Rectangle
    longest = max([len(s["log"]) for s in cluster.states] + [1])
    fig, ax = new_figure(title or f"Logs at t = {cluster.env.now:.2f} s", "log index", "node",
                         figsize=(min(9, 2 + 0.7 * longest), 1.2 + 0.55 * cluster.n))
    for node, s in enumerate(cluster.states):
        for k, entry in enumerate(s["log"]):
            colour = PALETTE[(entry["term"] - 1) % len(PALETTE)]
            ax.add_patch(Rectangle((k + 0.55, node - 0.35), 0.9, 0.7, facecolor=colour, alpha=0.55,
                                   edgecolor="black", linewidth=2.5 if k < s["commit_index"] else 0.5))
            ax.text(k + 1, node, f"T{entry['term']}", ha="center", va="center", fontsize=9)
    ax.set_xlim(0.4, longest + 0.6)
    ax.set_ylim(cluster.n - 0.5, -0.5)
    ax.set_xticks(range(1, longest + 1))
    ax.set_yticks(range(cluster.n), [f"n{i}" + ("" if cluster.alive[i] else " (down)") for i in range(cluster.n)])
    ax.grid(False)
    fig.tight_layout()
    return fig, ax


def replay(handlers: dict, scenario: str, seed: int, picture: bool = True, max_calls: int = MAX_CALLS):
    """Run ``scenario`` with ``seed`` again, print what went wrong and the trace, and draw the timeline.
    With the graded runs' call limit by default, so a run that failed for too many calls fails here too."""
    cluster = build_scenario(handlers, scenario, seed, max_calls=max_calls)
    cluster.run(cluster.end_s)
    problems = cluster.violations + cluster.failures
    for problem in problems:
        print("PROBLEM:", problem)
    if problems:
        print("\n".join(cluster.frozen_trace or list(cluster.trace)))
    else:
        print(f"{scenario}, seed {seed}: every invariant held and every goal was met "
              f"({cluster.events} node events, {len(cluster.sent_at)} messages, {cluster.env.now:.1f} s simulated)")
    if picture:
        plot_timeline(cluster)
    return cluster


def time_to_first_leader(handlers: dict, n: int, seeds, jitter: bool = True, limit_s: float = 10.0) -> list:
    """Seconds until the first leader, for each seed (``limit_s`` if none by then)."""
    times = []
    for seed in seeds:
        cluster = Cluster(handlers, n=n, seed=seed, jitter=jitter, max_calls=10 ** 6)
        while not cluster.leaders and cluster.env.now < limit_s and not cluster.stopped:
            cluster.run(cluster.env.now + 0.05)
        times.append(cluster.leaders[0][0] / 1000 if cluster.leaders else limit_s)
    return times
