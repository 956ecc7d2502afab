"""Reference answers, seeded hidden-test cases, contracts and scenario judges for 16-raft-kv.

The grader's truth, written independently of the solution notebook. A node's state is module 06's
(``course.raft.initial_state``) plus ``last_applied`` and the service's ``machine``:

    {"kv": {"k0": "c0.1;c1.4;"}, "sessions": {"c0": {"seq": 3, "result": None}}}

A command is ``{"op": "get" | "put" | "append", "key", "value", "client", "seq"}`` or the leader's
``{"op": "noop"}``. Scenario tests run the learner's functions in ``course.raftkv.KVCluster`` (in the
grader) and judge the run with ``judge``: module 06's invariants, the apply-loop and machine checks of
``KVCluster``, an independent re-check of the apply records, and the linearizability of the client
history (``course.raftkv.linearize``).
"""

from __future__ import annotations

import copy

import numpy as np

from autograde.contracts import Contract, Rule, boundary, edge
from autograde.reference.raft import scenario_runs as raft_scenario_runs
from course.raft import project_state, restarted_commit_index
from course.raftkv import KV_EXPECTED, kv_initial_state, kv_judge

OPS = ("get", "put", "append")


# --------------------------------------------------------------------------- references

def apply_command(machine, command):
    op = command.get("op") if isinstance(command, dict) else None
    if op == "noop":
        return {"machine": copy.deepcopy(machine), "result": None}
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}")
    m = copy.deepcopy(machine)
    session = m["sessions"].get(command["client"])
    if session is not None and command["seq"] <= session["seq"]:
        return {"machine": m, "result": session["result"]}
    kv, key = m["kv"], command["key"]
    if op == "get":
        result = kv.get(key, "")
    elif op == "put":
        kv[key], result = command["value"], None
    else:
        kv[key], result = kv.get(key, "") + command["value"], None
    m["sessions"][command["client"]] = {"seq": command["seq"], "result": result}
    return {"machine": m, "result": result}


def apply_committed(state):
    s = copy.deepcopy(state)
    results = []
    for index in range(s["last_applied"] + 1, s["commit_index"] + 1):
        out = apply_command(s["machine"], s["log"][index - 1]["command"])
        s["machine"] = out["machine"]
        results.append([index, out["result"]])
    s["last_applied"] = max(s["last_applied"], s["commit_index"])
    return {"state": s, "results": results}


def persistent_state(state):
    return {"term": state["term"], "voted_for": state["voted_for"], "log": copy.deepcopy(state["log"])}


def restart(saved, node_id, n):
    return dict(kv_initial_state(node_id, n), term=saved["term"], voted_for=saved["voted_for"],
                log=copy.deepcopy(saved["log"]))


def read_ready(state, read):
    s, index = state, read["read_index"]
    if s["role"] != "leader" or s["term"] != read["term"]:
        return False
    if index < 1 or index > len(s["log"]) or s["log"][index - 1]["term"] != s["term"]:
        return False
    voters = set(read["acks"]) | {s["id"]}
    return 2 * len(voters) > s["n"] and s["last_applied"] >= index


def needs_persist(before, after):
    return any(before[k] != after[k] for k in ("term", "voted_for", "log"))


NODE = {"apply_committed": apply_committed, "persistent_state": persistent_state, "restart": restart,
        "read_ready": read_ready, "needs_persist": needs_persist}


# --------------------------------------------------------------------------- contract views

def applied_view(state):
    """What the contract fixes of ``apply_committed``'s answer: the Raft view, last_applied, machine, results."""
    out = apply_committed(state)
    return _applied_projection(out)


def _applied_projection(out):
    """``{"state", "results"}`` as returned, with the state cut to what the contract fixes (module 06's view:
    ``votes`` only for a candidate, ``match_index`` only for a leader) plus ``last_applied`` and ``machine``,
    so that a failure names the paths the learner's answer has."""
    s = out["state"]
    return {"state": dict(project_state(s), last_applied=s["last_applied"], machine=s["machine"]),
            "results": [list(r) for r in out["results"]]}


def viewed_apply_committed(fn):
    """The learner's ``apply_committed`` reduced to the contract view."""
    def apply_committed(state):
        return _applied_projection(fn(state))
    return apply_committed


def restarted_kv(persistent_state_fn, restart_fn, volatile=True):
    """A node crashed in ``state`` and restarted from what was saved, then brought (by the reference apply
    loop) to the commit index it had: its Raft view and the machine it then holds. With ``volatile`` (restart's
    contract), also its fresh volatile state and what it restarted with; without (persistent_state's contract,
    which is about what survives), not: a stale volatile state is then reported under restart's rule."""
    def crash_and_restart(state):
        new = restart_fn(persistent_state_fn(state), state["id"], state["n"])
        view = project_state(new, restarted=True)
        view["commit_index"] = restarted_commit_index(new["commit_index"], state["commit_index"])
        bad = (not isinstance(new.get("last_applied"), int) or not isinstance(new.get("machine"), dict)
               or new["last_applied"] > state["commit_index"])
        if bad:
            view["last_applied"], view["machine"] = new.get("last_applied"), new.get("machine")
            return view
        fresh = kv_initial_state(state["id"], state["n"])
        if not volatile:
            view["machine"] = apply_committed(dict(new, commit_index=state["commit_index"]))["state"]["machine"]
            return view
        view["volatile"] = {k: new.get(k) for k in ("votes", "next_index", "match_index")}
        kept = new["last_applied"] == state["last_applied"] and new["machine"] == state["machine"]
        rebuilt = new["last_applied"] == 0 and new["machine"] == fresh["machine"]
        view["restarted_with"] = (RESTARTED_WITH if kept or rebuilt
                                  else {"last_applied": new["last_applied"], "machine": new["machine"]})
        caught_up = apply_committed(dict(new, commit_index=state["commit_index"]))["state"]
        view["machine"] = caught_up["machine"]
        return view
    return crash_and_restart


RESTARTED_WITH = "an empty machine at last_applied 0, or the saved machine at its own last_applied"


restarted_view = restarted_kv(persistent_state, restart)
saved_view = restarted_kv(persistent_state, restart, volatile=False)


# --------------------------------------------------------------------------- random cases

def _command(rng, clients, keys, seq):
    op = str(rng.choice(OPS))
    client = f"c{int(rng.integers(0, clients))}"
    return {"op": op, "key": f"k{int(rng.integers(0, keys))}", "value": "" if op == "get" else
            f"{client}.{seq};", "client": client, "seq": seq}


def _machine_after(commands):
    m = {"kv": {}, "sessions": {}}
    for c in commands:
        m = apply_command(m, c)["machine"]
    return m


def _random_commands(rng, length, clients, keys):
    """Commands as clients send them: each client's seq grows by one per new request; sometimes a retry
    (the same seq again, a duplicate) and a leader's no-op."""
    seqs, out = {}, []
    for _ in range(length):
        roll = rng.random()
        if roll < 0.1:
            out.append({"op": "noop"})
            continue
        c = f"c{int(rng.integers(0, clients))}"
        if roll < 0.3 and c in seqs:                         # a retry of the last request
            previous = [x for x in out if x.get("client") == c]
            out.append(dict(previous[-1]))
            continue
        seqs[c] = seqs.get(c, 0) + 1
        cmd = _command(rng, clients, keys, seqs[c])
        cmd["client"] = c
        if cmd["op"] != "get":
            cmd["value"] = f"{c}.{seqs[c]};"
        out.append(cmd)
    return out


def _draw_apply_command(rng):
    clients, keys = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    history = _random_commands(rng, int(rng.choice([int(rng.integers(0, 6)), int(rng.integers(6, 40))])),
                               clients, keys)
    machine = _machine_after(history)
    roll = rng.random()
    if roll < 0.35 and any("client" in c for c in history):     # a duplicate of something applied
        command = dict(rng.choice([c for c in history if "client" in c]))
    elif roll < 0.45:
        command = {"op": "noop"}
    else:
        c = f"c{int(rng.integers(0, clients))}"
        seq = machine["sessions"].get(c, {"seq": 0})["seq"] + 1
        command = _command(rng, clients, keys, seq)
        command["client"] = c
        if command["op"] != "get":
            command["value"] = f"{c}.{seq};" + ("é" if rng.random() < 0.1 else "")
    return {"machine": machine, "command": command}


def apply_command_cases(seed: int, n: int = 150) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [_draw_apply_command(rng) for _ in range(n)]


def _kv_state(rng, length=None, applied=None, committed=None, role=None):
    n = int(rng.integers(1, 8))
    me = int(rng.integers(0, n))
    if length is None:
        length = int(rng.choice([int(rng.integers(0, 6)), int(rng.integers(6, 30))]))
    commands = _random_commands(rng, length, int(rng.integers(1, 5)), int(rng.integers(1, 4)))
    terms = sorted(int(t) for t in rng.integers(1, 9, size=length))
    log = [{"term": t, "command": c} for t, c in zip(terms, commands)]
    commit = int(rng.integers(0, length + 1)) if committed is None else committed
    last_applied = int(rng.integers(0, commit + 1)) if applied is None else applied
    term = max(terms[-1] if terms else 1, int(rng.integers(1, 10)))
    s = dict(kv_initial_state(me, n), term=term, log=log, commit_index=commit, last_applied=last_applied,
             role=role or str(rng.choice(["follower", "candidate", "leader"])))
    s["voted_for"] = me if s["role"] != "follower" else (None if rng.random() < 0.5 else int(rng.integers(0, n)))
    if s["role"] == "candidate":
        s["votes"] = sorted({me} | {int(x) for x in rng.integers(0, n, size=int(rng.integers(0, n)))})
    if s["role"] == "leader":
        s["next_index"] = [int(rng.integers(1, length + 2)) for _ in range(n)]
        s["match_index"] = [min(x - 1, int(rng.integers(0, length + 1))) for x in s["next_index"]]
    s["machine"] = _machine_after([e["command"] for e in log[:last_applied]])
    return s


def apply_committed_cases(seed: int, n: int = 80) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"state": _kv_state(rng)} for _ in range(n)]


def persistence_cases(seed: int, n: int = 40) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"state": _kv_state(rng)} for _ in range(n)]


def _draw_read(rng):
    s = _kv_state(rng, role=str(rng.choice(["leader"] * 4 + ["follower", "candidate"])))
    if s["log"] and rng.random() < 0.6:               # the leader's term is its last entry's, often
        s["term"] = s["log"][-1]["term"]
    term = s["term"] if rng.random() < 0.85 else int(rng.integers(1, s["term"] + 1))
    read_index = int(rng.integers(0, len(s["log"]) + 1))
    acks = [int(x) for x in rng.integers(0, s["n"], size=int(rng.integers(0, s["n"] + 2)))]
    return {"state": s, "read": {"term": term, "read_index": read_index, "acks": acks}}


def read_ready_cases(seed: int, n: int = 150) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [_draw_read(rng) for _ in range(n)]


def _draw_persist(rng):
    """A node's state before a step and after it: any mix of the changes a step makes (a newer term, a vote,
    entries appended, a conflicting suffix replaced by as many entries, commit index, role, votes, indexes,
    applied entries), or none."""
    before = _kv_state(rng)
    after = copy.deepcopy(before)
    for change in rng.choice(["term", "vote", "append", "replace", "commit", "role", "applied", "none"],
                             size=int(rng.integers(1, 4)), replace=False):
        if change == "term":
            after["term"] += int(rng.integers(1, 4))
            after["voted_for"] = None
        elif change == "vote":
            after["voted_for"] = int(rng.integers(0, after["n"]))
        elif change == "append":
            after["log"].append({"term": after["term"], "command": {"op": "noop"}})
        elif change == "replace" and after["log"]:
            k = int(rng.integers(0, len(after["log"])))
            after["log"][k:] = [{"term": after["term"] + 1, "command": {"op": "noop"}}] * (len(after["log"]) - k)
        elif change == "commit":
            after["commit_index"] = int(rng.integers(after["commit_index"], len(after["log"]) + 1))
        elif change == "role":
            after["role"] = str(rng.choice(["follower", "candidate", "leader"]))
            after["votes"] = [after["id"]]
        elif change == "applied":
            after["last_applied"] = after["commit_index"]
            after["machine"] = _machine_after([e["command"] for e in after["log"][:after["commit_index"]]])
    return {"before": before, "after": after}


# --------------------------------------------------------------------------- fixed cases for the rules

def _put(c, seq, key="k0", value=None):
    return {"op": "put", "key": key, "value": value if value is not None else f"{c}.{seq};", "client": c, "seq": seq}


def _app(c, seq, key="k0", value=None):
    return {"op": "append", "key": key, "value": value if value is not None else f"{c}.{seq};", "client": c,
            "seq": seq}


def _get(c, seq, key="k0"):
    return {"op": "get", "key": key, "value": "", "client": c, "seq": seq}


_M = _machine_after([_put("c0", 1), _app("c1", 1), _app("c0", 2), _get("c1", 2)])   # c0 at 2, c1 at 2


def _ac(commands, commit, applied, term=2):
    log = [{"term": 1 if k < 2 else term, "command": c} for k, c in enumerate(commands)]
    return {"state": dict(kv_initial_state(0, 3), term=term, log=log, commit_index=commit, last_applied=applied,
                          machine=_machine_after(commands[:applied]))}


_LOG5 = [_put("c0", 1), {"op": "noop"}, _app("c0", 2), _app("c0", 2), _app("c1", 1)]


def _rd(n=5, term=4, log_terms=(1, 4, 4), applied=3, role="leader", read_term=4, read_index=3, acks=(0, 1, 2), me=0):
    log = [{"term": t, "command": {"op": "noop"}} for t in log_terms]
    s = dict(kv_initial_state(me, n), term=term, role=role, log=log, commit_index=applied, last_applied=applied,
             voted_for=me)
    if role == "leader":
        s["next_index"], s["match_index"] = [len(log) + 1] * n, [0] * n
    return {"state": s, "read": {"term": read_term, "read_index": read_index, "acks": list(acks)}}


def _np(**changes):
    before = _ac(_LOG5, 3, 2)["state"]
    after = copy.deepcopy(before)
    for key, value in changes.items():
        after[key] = value
    return {"before": before, "after": after}


_REPLACED = [dict(e) for e in _ac(_LOG5, 3, 2)["state"]["log"][:4]] + [{"term": 3, "command": {"op": "noop"}}]

_CRASH = [_ac(_LOG5, 5, 5)["state"], _ac(_LOG5, 4, 2)["state"], _ac(_LOG5, 0, 0)["state"],
          dict(_ac(_LOG5, 5, 5)["state"], role="leader", voted_for=0, next_index=[6, 6, 6], match_index=[5, 5, 4])]


# Nodes whose volatile state is far from fresh when they crash: a candidate with votes, a leader with its
# indexes, a follower deposed from leader that still holds them.
_STALE = [dict(_ac(_LOG5, 4, 3)["state"], term=3, role="candidate", voted_for=0, votes=[0, 2]),
          dict(_ac(_LOG5, 5, 5)["state"], role="leader", voted_for=0, votes=[0, 1], next_index=[6, 6, 4],
               match_index=[5, 5, 3]),
          dict(_ac(_LOG5, 3, 3)["state"], term=3, next_index=[4, 4, 2], match_index=[3, 3, 1])]


CONTRACTS = {c.name: c for c in [
    Contract(
        "apply_command", apply_command, draw=_draw_apply_command,
        domain="machines built from 0 to 40 commands of 1 to 5 clients on 1 to 4 keys; new requests, retries of "
               "any earlier request, no-ops, non-ASCII values",
        rules=[Rule("`op` is one of 'get', 'put', 'append' or 'noop', else `ValueError` (a command without `op` too)",
                    at=[{"command": _put("c0", 3)}, {"command": {"op": "noop"}}],
                    inside=[{"command": _get("c0", 3)}, {"command": _app("c0", 3)}],
                    outside=[{"command": dict(_put("c0", 3), op="Put")}, {"command": dict(_put("c0", 3), op="cas")},
                             {"command": {k: v for k, v in _put("c0", 3).items() if k != "op"}},
                             {"command": {}}]),
               boundary("a request whose `seq` is at most the client's last applied `seq` is a duplicate: the machine "
                        "is unchanged and the saved result is returned; a higher `seq` is applied",
                        at={"machine": _M, "command": _app("c0", 2)}, inside={"machine": _M, "command": _app("c0", 3)},
                        outside={"machine": _M, "command": _app("c0", 1)}),
               boundary("sessions are per client: another client's request with the same `seq` is applied",
                        at={"machine": _M, "command": _app("c2", 2)}, inside={"machine": _M, "command": _app("c2", 1)},
                        outside={"machine": _M, "command": _get("c1", 2)}),
               edge("a missing key reads as '' and an append to it starts from ''",
                    {"machine": _M, "command": _get("c0", 3, key="k9")},
                    {"machine": _M, "command": _app("c0", 3, key="k9")}),
               edge("a put replaces the value; its result, and an append's, is None; a get's result is saved too",
                    {"machine": _M, "command": _put("c1", 3)}, {"machine": _M, "command": _get("c1", 2)}),
               edge("a no-op changes nothing and returns None", {"machine": _M, "command": {"op": "noop"}}),
               edge("an empty machine takes a client's first request",
                    {"machine": {"kv": {}, "sessions": {}}, "command": _app("c3", 1, value="ü;")})]),
    Contract(
        "apply_committed", applied_view,
        draw=lambda rng: {"state": _kv_state(rng)},
        domain="nodes of every role in clusters of 1 to 7, logs of 0 to 30 commands with retries and no-ops, any "
               "commit index and any last_applied up to it (the machine matches last_applied)",
        rules=[boundary("entries `last_applied` + 1 to `commit_index` are applied, once each and in order; none when "
                        "`commit_index` equals `last_applied`",
                        at=_ac(_LOG5, 3, 3), inside=_ac(_LOG5, 4, 3), outside=_ac(_LOG5, 5, 1)),
               edge("a retried append committed twice is applied once (the session decides)", _ac(_LOG5, 4, 2)),
               edge("nothing applied yet: everything committed is applied from index 1", _ac(_LOG5, 5, 0)),
               edge("`results` lists [index, result] for each applied entry; a no-op's result is None",
                    _ac(_LOG5, 2, 0))]),
    Contract(
        "persistent_state", saved_view, draw=lambda rng: {"state": _kv_state(rng)},
        domain="nodes of every role in clusters of 1 to 7 with logs of 0 to 30 commands; each is crashed, restarted "
               "from what `persistent_state` saved, and checked as `crash_and_restart(state)`: the restarted Raft "
               "state and its `machine` once applied up to the old commit index (restart's cases also check its "
               "`volatile` part, `votes`, `next_index`, `match_index`, and what it `restarted_with`: machine and "
               "`last_applied`)",
        rules=[edge("term, vote and log survive; the machine and `last_applied` survive together or are both rebuilt "
                    "(an empty machine at 0)", *({"state": s} for s in _CRASH))]),
    Contract(
        "restart", restarted_view, draw=lambda rng: {"state": _kv_state(rng)},
        domain="as for `persistent_state`: a restarted node is a follower with fresh volatile state",
        rules=[edge("volatile state is fresh, as `kv_initial_state(node_id, n)` gives it: `votes` [], `next_index` "
                    "all 1, `match_index` all 0 (`commit_index` 0, or a saved one not above the old); `machine` and "
                    "`last_applied` are an empty machine at 0, or the saved machine at its own `last_applied` (not "
                    "the whole state restored with only the role reset)", *({"state": s} for s in _STALE)),
               edge("a leader comes back a follower; after applying up to the old commit index its machine is the one "
                    "it had (never an entry applied twice, never one lost)", *({"state": s} for s in _CRASH))]),
    Contract(
        "needs_persist", needs_persist, draw=_draw_persist,
        domain="states of every role in clusters of 1 to 7 with logs of 0 to 30 entries, before and after one to "
               "three of the changes a step makes, or none",
        rules=[boundary("a new term must be saved before the step's messages go out",
                        at=_np(term=3), inside=_np(term=4, voted_for=None), outside=_np(term=2)),
               boundary("a vote must be saved (changed alone, in the same term)",
                        at=_np(voted_for=1), inside=_np(voted_for=2), outside=_np(voted_for=None)),
               boundary("a changed log must be saved: entries appended, or a suffix replaced by as many entries",
                        at=_np(log=_REPLACED),
                        inside=_np(log=_ac(_LOG5, 3, 2)["state"]["log"] + [{"term": 2, "command": {"op": "noop"}}]),
                        outside=_np(log=[dict(e) for e in _ac(_LOG5, 3, 2)["state"]["log"]])),
               edge("volatile state alone (commit index, role, votes, next and match indexes, last_applied, machine) "
                    "needs no save: a save is a disk write the step's messages wait for",
                    _np(commit_index=4), _np(role="candidate", votes=[0]),
                    _np(next_index=[6, 2, 2], match_index=[5, 1, 1]),
                    _np(last_applied=3, machine=_machine_after(_LOG5[:3]))),
               edge("a step that changed nothing needs no save", _np())]),
    Contract(
        "read_ready", read_ready, draw=_draw_read,
        domain="leaders, followers and candidates of clusters of 1 to 7, reads of the node's term and older terms, "
               "any read index, acks with repeats and the node itself",
        rules=[boundary("a strict majority of the n nodes, the leader included and each node once, must have answered "
                        "a heartbeat sent after the read arrived: 2 of 4 is not one, 3 of 4 is",
                        at=_rd(n=4, acks=[1]), inside=_rd(n=4, acks=[1, 3]), outside=_rd(n=4, acks=[1, 1, 0])),
               boundary("the read waits until `last_applied` reaches `read_index`",
                        at=_rd(applied=3), inside=_rd(log_terms=(1, 4, 4, 4), applied=4),
                        outside=_rd(log_terms=(1, 4, 4, 4), applied=2)),
               boundary("only a leader still in the read's term answers",
                        at=_rd(), inside=_rd(term=4, read_term=4, acks=[0, 1, 2, 3]),
                        outside=[_rd(term=5, read_term=4), _rd(role="follower")]),
               boundary("the entry at `read_index` must be of the leader's term (it has committed in its term)",
                        at=_rd(log_terms=(1, 4, 4)), inside=_rd(log_terms=(4, 4, 4)),
                        outside=_rd(log_terms=(1, 3, 4), read_index=2, applied=3)),
               edge("a lone node (n = 1) is its own majority", _rd(n=1, acks=[], log_terms=(4,), applied=1,
                                                                  read_index=1)),
               edge("a read index of 0 (nothing committed) is never ready", _rd(read_index=0))]),
]}


# --------------------------------------------------------------------------- scenario judges

def independent_problems(result: dict) -> list[str]:
    """Re-checked from the run's record, without the simulator: apply calls cover consecutive indexes."""
    problems, last = [], {}
    for t, node, first, final in result["apply_rows"]:
        if first > final:
            problems.append(f"node {node} recorded an empty apply {first}..{final} at {t} ms")
    for op in result["history"]:
        if op["end"] is not None and op["end"] < op["start"]:
            problems.append(f"{op['client']} ended before it started")
    del last
    return problems


def judge(result: dict) -> str | None:
    problem = kv_judge(result)
    if problem:
        return problem
    extra = independent_problems(result)
    return extra[0] if extra else None


SCENARIO_EXPECTED = KV_EXPECTED

PARTS = {
    "apply": [("kv_basic", 4), ("kv_leader_loss", 4), ("kv_unreliable", 4), ("kv_partitions", 6),
              ("kv_elections7", 1), ("kv_figure8_unreliable", 2), ("kv_concurrent", 1)],
    "persistence": [("kv_crashes", 10), ("kv_churn7", 3)],
    "reads": [("kv_stale_read", 5), ("kv_reads", 6)],
    "ordering": [("order_vote", 4), ("order_log", 3), ("order_crashes", 3)],
}


def scenario_runs(part: str, seed: int) -> list[tuple[str, int]]:
    """The (scenario, seed) pairs of one part of module 16's ``PARTS``, seeded as module 06's are."""
    return raft_scenario_runs(part, seed, PARTS)


# --------------------------------------------------------------------------- exercise 7: snapshots

def compact(state, threshold):
    if not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold must be an int of at least 1, not {threshold!r}")
    s = copy.deepcopy(state)
    upto = s["last_applied"]
    if len(s["log"]) < threshold or upto <= s["snapshot_index"]:
        return s
    cut = upto - s["snapshot_index"]
    s["snapshot_term"] = s["log"][cut - 1]["term"]
    s["snapshot_index"], s["snapshot"], s["log"] = upto, copy.deepcopy(s["machine"]), s["log"][cut:]
    return s


def install_snapshot(state, msg):
    s = copy.deepcopy(state)
    if msg["term"] < s["term"]:
        return s
    if msg["term"] > s["term"]:
        s["term"], s["voted_for"] = msg["term"], None
    s["role"], s["votes"] = "follower", []
    index, term = msg["last_included_index"], msg["last_included_term"]
    if index <= s["last_applied"]:
        return s
    k = index - s["snapshot_index"] - 1
    s["log"] = s["log"][k + 1:] if 0 <= k < len(s["log"]) and s["log"][k]["term"] == term else []
    s["snapshot_index"], s["snapshot_term"] = index, term
    s["snapshot"], s["machine"] = copy.deepcopy(msg["snapshot"]), copy.deepcopy(msg["snapshot"])
    s["last_applied"], s["commit_index"] = index, max(s["commit_index"], index)
    return s


SNAP_NODE = {"apply_command": apply_command, "compact": compact, "install_snapshot": install_snapshot}


def _snap_state(rng, snapshot_index=None, length=None, applied=None, committed=None):
    """A compacted node: a snapshot of the first ``snapshot_index`` commands, then ``length`` entries; commit and
    last_applied anywhere from the snapshot to the end (last_applied at most commit)."""
    total = int(rng.integers(0, 30)) if length is None else None
    commands = _random_commands(rng, 40, int(rng.integers(1, 5)), int(rng.integers(1, 4)))
    si = int(rng.integers(0, 12)) if snapshot_index is None else snapshot_index
    length = total if length is None else length
    terms = sorted(int(t) for t in rng.integers(1, 7, size=si + length + 1))
    log = [{"term": terms[k], "command": commands[k % len(commands)]} for k in range(si, si + length)]
    commit = int(rng.integers(si, si + length + 1)) if committed is None else committed
    last_applied = int(rng.integers(si, commit + 1)) if applied is None else applied
    every = [commands[k % len(commands)] for k in range(si + length)]
    n = int(rng.integers(1, 8))
    s = dict(kv_initial_state(int(rng.integers(0, n)), n), term=max(terms[-1], 1), log=log, commit_index=commit,
             last_applied=last_applied, role=str(rng.choice(["follower", "candidate", "leader"])),
             snapshot_index=si, snapshot_term=terms[si - 1] if si else 0,
             snapshot=_machine_after(every[:si]) if si else None)
    s["machine"] = _machine_after(every[:last_applied])
    return s, every, terms


def _draw_compact(rng):
    s, _, _ = _snap_state(rng)
    threshold = int(rng.choice([1, int(rng.integers(1, 8)), int(rng.integers(8, 40))]))
    return {"state": s, "threshold": threshold}


def _draw_install(rng):
    s, every, terms = _snap_state(rng)
    top = s["snapshot_index"] + len(s["log"]) + 6
    index = int(rng.integers(1, top + 1))
    roll = rng.random()
    if roll < 0.3:
        index = int(rng.integers(1, s["last_applied"] + 1)) if s["last_applied"] else index   # stale or duplicate
    if index - 1 < len(terms) and rng.random() < 0.6:
        term = terms[index - 1]                                                # matches the node's entry
    else:
        term = int(rng.integers(1, 9))
    extra = _random_commands(rng, max(0, index - len(every)), 2, 2)
    snapshot = _machine_after((every + extra)[:index])
    msg_term = s["term"] + int(rng.choice([-1, 0, 0, 0, 1, 2])) if s["term"] > 1 else s["term"] + int(rng.integers(0, 2))
    return {"state": s, "msg": {"type": "install_snapshot", "term": msg_term, "from": 0, "last_included_index": index,
                                "last_included_term": term, "snapshot": snapshot}}


def _cs(si, length, applied, commit=None, term=3):
    """A fixed compacted node: snapshot of _LOG5-like commands up to si, then length entries of terms 2, 3, ..."""
    commands = [_put("c0", 1), _app("c1", 1), _app("c0", 2), _app("c0", 2), _app("c1", 2), _app("c2", 1),
                _app("c0", 3), _app("c1", 3), _app("c2", 2), _app("c0", 4)]
    terms = [1, 1, 2, 2, 2, 3, 3, 3, 3, 3]
    commit = applied if commit is None else commit
    return dict(kv_initial_state(1, 3), term=term, voted_for=0, log=[{"term": terms[k], "command": commands[k]}
                                                                    for k in range(si, si + length)],
                commit_index=commit, last_applied=applied, snapshot_index=si, snapshot_term=terms[si - 1] if si else 0,
                snapshot=_machine_after(commands[:si]) if si else None, machine=_machine_after(commands[:applied]))


_CMDS10 = [_put("c0", 1), _app("c1", 1), _app("c0", 2), _app("c0", 2), _app("c1", 2), _app("c2", 1),
           _app("c0", 3), _app("c1", 3), _app("c2", 2), _app("c0", 4)]
_TERMS10 = [1, 1, 2, 2, 2, 3, 3, 3, 3, 3]


def _snap_msg(index, term=None, msg_term=3):
    return {"type": "install_snapshot", "term": msg_term, "from": 0, "last_included_index": index,
            "last_included_term": _TERMS10[index - 1] if term is None else term,
            "snapshot": _machine_after(_CMDS10[:index])}


def _cp(si, length, applied, threshold, commit=None):
    return {"state": _cs(si, length, applied, commit), "threshold": threshold}


def _is(state, msg):
    return {"state": state, "msg": msg}


SNAP_CONTRACTS = [
    Contract(
        "compact", compact, draw=_draw_compact,
        domain="compacted and fresh nodes of every role in clusters of 1 to 7, snapshots of 0 to 11 entries, 0 to 29 "
               "entries after them, any commit index and last_applied at or after the snapshot, thresholds 1 to 39",
        rules=[boundary("`threshold` is an int of at least 1, else `ValueError`",
                        at=_cp(0, 6, 4, 1), inside=_cp(0, 6, 4, 2), outside=_cp(0, 6, 4, 0)),
               boundary("compaction starts when the log holds at least `threshold` entries",
                        at=_cp(0, 6, 4, 6), inside=_cp(0, 6, 4, 5), outside=_cp(0, 6, 4, 7)),
               boundary("the snapshot covers exactly the applied entries: up to `last_applied`, never a committed entry "
                        "not yet applied, nor an entry not committed",
                        at=_cp(0, 8, 5, 3, commit=7), inside=_cp(2, 8, 9, 3, commit=10),
                        outside=_cp(0, 8, 0, 3, commit=6)),
               boundary("nothing applied after the current snapshot: the state is returned unchanged",
                        at=_cp(4, 6, 4, 2, commit=8), inside=_cp(4, 6, 5, 2, commit=8),
                        outside=_cp(4, 0, 4, 1)),
               edge("the snapshot's term is the term of the entry at its index; the entries after it stay, and term, "
                    "vote, commit index, last_applied and machine do not change",
                    _cp(3, 6, 6, 4, commit=8), _cp(0, 10, 10, 10))]),
    Contract(
        "install_snapshot", install_snapshot, draw=_draw_install,
        domain="compacted and fresh nodes of every role in clusters of 1 to 7; snapshots up to any index from 1 to 6 "
               "past the node's last entry, of the node's term, an older or a newer one; matching and conflicting "
               "last included terms",
        rules=[boundary("a message of an older term is refused: the state is returned unchanged",
                        at=_is(_cs(2, 6, 3), _snap_msg(6, msg_term=3)),
                        inside=_is(_cs(2, 6, 3), _snap_msg(6, msg_term=4)),
                        outside=_is(_cs(2, 6, 3), _snap_msg(6, msg_term=2))),
               boundary("a snapshot up to an index at most `last_applied` is stale or a duplicate: refused (only the "
                        "term is adopted and the node follows)",
                        at=_is(_cs(2, 6, 5), _snap_msg(5)), inside=_is(_cs(2, 6, 5), _snap_msg(6)),
                        outside=_is(_cs(2, 6, 5), _snap_msg(4))),
               boundary("the node's entry at the last included index with the same term: the entries after it stay; "
                        "a different term, or no entry there, discards the whole log",
                        at=_is(_cs(0, 8, 2), _snap_msg(8)), inside=_is(_cs(0, 8, 2), _snap_msg(5)),
                        outside=[_is(_cs(0, 8, 2), _snap_msg(5, term=9)), _is(_cs(0, 4, 2), _snap_msg(7))]),
               edge("an accepted snapshot becomes the machine and the snapshot; last_applied and snapshot_index move "
                    "to its index, commit index to at least its index",
                    _is(_cs(0, 2, 0, term=2), _snap_msg(9)), _is(_cs(3, 7, 4, commit=10), _snap_msg(6))),
               edge("a newer term is adopted (no vote in it) and a leader or candidate steps down",
                    _is(dict(_cs(2, 3, 2), role="leader"), _snap_msg(7, msg_term=5)),
                    _is(dict(_cs(2, 3, 2), role="candidate", votes=[1]), _snap_msg(2, msg_term=4)))]),
]

CONTRACTS.update({c.name: c for c in SNAP_CONTRACTS})

SNAPSHOT_RUNS = [(threshold, rounds) for threshold in (1, 2, 3, 5, 8, 13) for rounds in (12, 30)]


def snapshot_runs(seed: int) -> list[tuple[int, int, int]]:
    """Seeded (seed, threshold, rounds) triples for the hidden snapshot runs."""
    return [(100 * seed + k, threshold, rounds) for k, (threshold, rounds) in enumerate(SNAPSHOT_RUNS)]


# --------------------------------------------------------------------------- exercise 8: membership changes

ACTIONS = ("add_learner", "promote", "remove")


def _in_flight(state):
    return any(e["command"].get("op") == "config" for e in state["log"][state["commit_index"]:])


def can_change(state, change):
    action, server = change["action"], change["server"]
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    if state["role"] != "leader" or _in_flight(state):
        return False
    c = state["commit_index"]
    if c == 0 or state["log"][c - 1]["term"] != state["term"]:
        return False
    voters, learners = state["config"]["voters"], state["config"]["learners"]
    if action == "add_learner":
        return server not in voters and server not in learners
    if action == "promote":
        return server in learners and state["match_index"][server] >= c
    return server in voters and len(voters) > 1


def advance_commit(state):
    voters = state["config"]["voters"]
    for index in range(len(state["log"]), state["commit_index"], -1):
        if state["log"][index - 1]["term"] != state["term"]:
            break
        have = sum(1 for v in voters if (len(state["log"]) if v == state["id"] else state["match_index"][v]) >= index)
        if 2 * have > len(voters):
            return index
    return state["commit_index"]


def _config_cmd(voters, learners):
    return {"op": "config", "voters": sorted(voters), "learners": sorted(learners)}


def _member_state(rng, in_flight=None, role=None):
    """A node that knows a configuration of 1 to 6 voters and 0 to 2 learners among server ids 0 to 7, a log of 1 to
    14 entries of terms up to its own (some of them configuration entries), any commit index, match indexes."""
    n = 8
    ids = [int(x) for x in rng.permutation(n)]
    voters = sorted(ids[:int(rng.integers(1, 7))])
    learners = sorted(ids[len(voters):len(voters) + int(rng.integers(0, 3))])
    me = int(rng.choice(voters)) if rng.random() < 0.9 else int(rng.integers(0, n))
    length = int(rng.integers(1, 15))
    term = int(rng.integers(1, 6))
    terms = sorted(int(t) for t in rng.integers(1, term + 1, size=length))
    if rng.random() < 0.7:
        terms[-1] = term
    log = [{"term": t, "command": {"op": "noop"}} for t in terms]
    commit = int(rng.integers(0, length + 1))
    if rng.random() < 0.5 and commit:
        log[commit - 1]["term"] = term
        terms = [e["term"] for e in log]
        for k in range(commit, length):
            log[k]["term"] = max(log[k]["term"], term)
    flight = rng.random() < 0.3 if in_flight is None else in_flight
    spots = list(range(commit, length)) if flight else list(range(0, commit))
    if spots:
        log[int(rng.choice(spots))]["command"] = _config_cmd(voters, learners)
    s = dict(kv_initial_state(me, n), term=term, log=log, commit_index=commit,
             role=role or str(rng.choice(["leader"] * 5 + ["follower", "candidate"])),
             config={"voters": voters, "learners": learners})
    s["match_index"] = [int(rng.integers(0, length + 1)) for _ in range(n)]
    s["next_index"] = [m + 1 for m in s["match_index"]]
    return s


def _draw_change(rng):
    s = _member_state(rng)
    roll = rng.random()
    pool = s["config"]["learners"] if roll < 0.35 and s["config"]["learners"] else (
        s["config"]["voters"] if roll < 0.7 else list(range(8)))
    action = str(rng.choice(ACTIONS)) if rng.random() < 0.95 else "add_voter"
    return {"state": s, "change": {"action": action, "server": int(rng.choice(pool))}}


def _mb(voters=(0, 1, 2), learners=(3,), commit=4, terms=(1, 2, 2, 2, 2), config_at=None, role="leader", me=0,
        match=(5, 4, 3, 4, 0, 0), term=2):
    log = [{"term": t, "command": {"op": "noop"}} for t in terms]
    if config_at:
        log[config_at - 1]["command"] = _config_cmd(voters, learners)
    s = dict(kv_initial_state(me, 6), term=term, log=log, commit_index=commit, role=role,
             config={"voters": list(voters), "learners": list(learners)})
    s["match_index"], s["next_index"] = list(match), [m + 1 for m in match]
    return s


def _ch(action, server, **state):
    return {"state": _mb(**state), "change": {"action": action, "server": server}}


def _ad(**state):
    return {"state": _mb(**state)}


MEMBER_CONTRACTS = [
    Contract(
        "can_change", can_change, draw=_draw_change,
        domain="leaders (mostly), followers and candidates knowing 1 to 6 voters and 0 to 2 learners among 8 server "
               "ids, logs of 1 to 14 entries with a configuration entry committed or in flight, any commit index and "
               "match indexes; changes of voters, learners and other servers, and an unknown action",
        rules=[Rule("`action` is one of 'add_learner', 'promote', 'remove', else `ValueError`",
                    at=[_ch("add_learner", 4), _ch("remove", 2)], inside=[_ch("promote", 3)],
                    outside=[_ch("add_voter", 4), _ch("Promote", 3)]),
               boundary("one change at a time: a configuration entry after the commit index is in flight, and no "
                        "other change starts until it commits",
                        at=_ch("add_learner", 4, config_at=4), inside=_ch("add_learner", 4, config_at=2),
                        outside=_ch("add_learner", 4, config_at=5)),
               boundary("a learner is promoted only once caught up: its match index at least the commit index",
                        at=_ch("promote", 3, match=(5, 4, 3, 4, 0, 0)), inside=_ch("promote", 3, match=(5, 4, 3, 5, 0, 0)),
                        outside=_ch("promote", 3, match=(5, 4, 3, 3, 0, 0))),
               boundary("only a leader that has committed an entry of its own term changes the configuration",
                        at=_ch("remove", 2), inside=_ch("remove", 2, commit=5),
                        outside=[_ch("remove", 2, terms=(1, 1, 1, 1, 2)), _ch("remove", 2, commit=0),
                                 _ch("remove", 2, role="follower")]),
               edge("add_learner only a server in neither list; promote only a learner; remove only a voter, never "
                    "the last one", _ch("add_learner", 3), _ch("add_learner", 1), _ch("promote", 1), _ch("remove", 3),
                    _ch("remove", 0, voters=(0,), learners=()), _ch("remove", 0))]),
    Contract(
        "advance_commit", advance_commit, draw=lambda rng: {"state": _member_state(rng, role="leader")},
        domain="leaders knowing 1 to 6 voters and 0 to 2 learners among 8 server ids (the leader itself outside the "
               "voters one time in ten), logs of 1 to 14 entries, any commit index and match indexes",
        rules=[boundary("an index commits when more than half of the **voters** hold it (the leader counts itself "
                        "only if it is a voter): 2 of 3 is a majority",
                        at=_ad(match=(5, 5, 0, 5, 0, 0)), inside=_ad(match=(5, 5, 5, 0, 0, 0)),
                        outside=_ad(match=(5, 0, 0, 5, 5, 5))),
               boundary("learners never count, however far they are",
                        at=_ad(voters=(0, 1, 2, 3), learners=(4, 5), match=(5, 5, 0, 0, 5, 5)),
                        inside=_ad(voters=(0, 1, 2, 3), learners=(4, 5), match=(5, 5, 5, 0, 5, 5)),
                        outside=_ad(voters=(0, 1, 2, 3), learners=(4, 5), match=(5, 0, 0, 0, 5, 5))),
               boundary("a leader being removed (not among the voters) does not count itself",
                        at=_ad(voters=(1, 2, 3), learners=(), match=(5, 5, 5, 0, 0, 0)),
                        inside=_ad(voters=(1, 2, 3), learners=(), match=(5, 5, 5, 5, 0, 0)),
                        outside=_ad(voters=(1, 2, 3), learners=(), match=(5, 5, 0, 0, 0, 0))),
               edge("only an entry of the leader's term commits by counting (Figure 8); the answer is the highest such "
                    "index, or the commit index unchanged", _ad(terms=(1, 1, 1, 1, 1), commit=2, term=2),
                    _ad(terms=(1, 2, 2, 2, 2), commit=1, match=(5, 3, 0, 0, 0, 0)),
                    _ad(voters=(0,), learners=(1,), commit=2)),
               edge("an empty log commits nothing: the answer is 0", _ad(terms=(), commit=0))]),
]

CONTRACTS.update({c.name: c for c in MEMBER_CONTRACTS})
