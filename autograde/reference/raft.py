"""Reference answers, seeded hidden-test cases and scenario judges for 06-raft.

The grader's truth, written independently of the solution notebook. A Raft node is a handful of
pure functions over a plain-data ``state`` dict (the names of the paper's Figure 2):

    {"id": 0, "n": 3, "term": 0, "voted_for": None, "log": [{"term": 1, "command": 101}, ...],
     "role": "follower", "commit_index": 0, "votes": [], "next_index": [1, 1, 1], "match_index": [0, 0, 0]}

Log indexes are 1-based as in the paper: entry ``i`` is ``log[i - 1]``; index 0 means "before the
first entry" and has term 0. Every handler returns ``{"state": new_state, "send": [messages],
"reset_timer": bool}``. Hidden unit cases compare the *contract view* of a result
(``course.raft.project_result``): extra state keys, message order and the fields the contract
says are ignored do not count.

Scenario tests run the learner's functions in ``course.raft.Cluster`` (in the grader) and judge the
run with ``judge``: the four invariants the simulator checks (four of Figure 3's five), the
scenario's goals, and an independent re-check of election safety and state-machine safety from the
recorded leaders and applied entries.
"""

from __future__ import annotations

import numpy as np

from course.raft import judge as course_judge
from course.raft import is_stale_append, project_result, project_state, restarted_commit_index

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"


# --------------------------------------------------------------------------- references

def _copy(state: dict) -> dict:
    s = dict(state)
    s["log"] = [dict(e) for e in state["log"]]
    for key in ("votes", "next_index", "match_index"):
        s[key] = list(state.get(key) or [])
    return s


def _last(log: list) -> tuple[int, int]:
    return (log[-1]["term"] if log else 0), len(log)


def _adopt_term(s: dict, term: int) -> None:
    if term > s["term"]:
        s["term"], s["voted_for"], s["role"], s["votes"] = term, None, FOLLOWER, []


def log_is_up_to_date(last_log_term, last_log_index, my_last_term, my_last_index):
    if last_log_term != my_last_term:
        return last_log_term > my_last_term
    return last_log_index >= my_last_index


def handle_request_vote(state, msg):
    s = _copy(state)
    _adopt_term(s, msg["term"])
    my_term, my_index = _last(s["log"])
    grant = (msg["term"] == s["term"] and s["voted_for"] in (None, msg["from"])
             and log_is_up_to_date(msg["last_log_term"], msg["last_log_index"], my_term, my_index))
    if grant:
        s["voted_for"] = msg["from"]
    reply = {"type": "vote_reply", "term": s["term"], "from": s["id"], "to": msg["from"], "granted": grant}
    return {"state": s, "send": [reply], "reset_timer": grant}


def start_election(state):
    s = _copy(state)
    s["term"] += 1
    s["role"], s["voted_for"], s["votes"] = CANDIDATE, s["id"], [s["id"]]
    last_term, last_index = _last(s["log"])
    send = [{"type": "request_vote", "term": s["term"], "from": s["id"], "to": p,
             "last_log_index": last_index, "last_log_term": last_term}
            for p in range(s["n"]) if p != s["id"]]
    return {"state": s, "send": send, "reset_timer": True}


def _append_entries_to(s: dict, peer: int) -> dict:
    prev = s["next_index"][peer] - 1
    return {"type": "append_entries", "term": s["term"], "from": s["id"], "to": peer,
            "prev_log_index": prev, "prev_log_term": s["log"][prev - 1]["term"] if prev else 0,
            "entries": [dict(e) for e in s["log"][prev:]], "leader_commit": s["commit_index"]}


def heartbeat(state):
    s = _copy(state)
    if s["role"] != LEADER:
        return {"state": s, "send": [], "reset_timer": False}
    return {"state": s, "send": [_append_entries_to(s, p) for p in range(s["n"]) if p != s["id"]],
            "reset_timer": False}


def handle_vote_reply(state, msg):
    s = _copy(state)
    if msg["term"] > s["term"]:
        _adopt_term(s, msg["term"])
        return {"state": s, "send": [], "reset_timer": False}
    if s["role"] != CANDIDATE or msg["term"] != s["term"] or not msg["granted"]:
        return {"state": s, "send": [], "reset_timer": False}
    if msg["from"] not in s["votes"]:
        s["votes"].append(msg["from"])
    if 2 * len(s["votes"]) <= s["n"]:
        return {"state": s, "send": [], "reset_timer": False}
    s["role"] = LEADER
    s["next_index"] = [len(s["log"]) + 1] * s["n"]
    s["match_index"] = [0] * s["n"]
    return {"state": s, "send": heartbeat(s)["send"], "reset_timer": False}


def handle_append_entries(state, msg):
    s = _copy(state)
    reply = {"type": "append_reply", "term": s["term"], "from": s["id"], "to": msg["from"],
             "success": False, "match_index": 0, "conflict_index": 0}
    if msg["term"] < s["term"]:
        return {"state": s, "send": [reply], "reset_timer": False}
    _adopt_term(s, msg["term"])
    s["role"], s["votes"] = FOLLOWER, []
    reply["term"] = s["term"]
    prev, log = msg["prev_log_index"], s["log"]
    if prev > len(log):
        reply["conflict_index"] = len(log) + 1
        return {"state": s, "send": [reply], "reset_timer": True}
    if prev > 0 and log[prev - 1]["term"] != msg["prev_log_term"]:
        bad_term, first = log[prev - 1]["term"], prev
        while first > 1 and log[first - 2]["term"] == bad_term:
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
    if msg["leader_commit"] > s["commit_index"]:
        s["commit_index"] = max(s["commit_index"], min(msg["leader_commit"], last_new))
    reply.update(success=True, match_index=last_new)
    return {"state": s, "send": [reply], "reset_timer": True}


def advance_commit_index(state):
    if state["role"] != LEADER:
        return state["commit_index"]
    log, me = state["log"], state["id"]
    for index in range(len(log), state["commit_index"], -1):
        if log[index - 1]["term"] != state["term"]:
            break  # terms never decrease along a log: every earlier entry is older too
        copies = 1 + sum(1 for p in range(state["n"]) if p != me and state["match_index"][p] >= index)
        if 2 * copies > state["n"]:
            return index
    return state["commit_index"]


def handle_append_reply(state, msg):
    s = _copy(state)
    if msg["term"] > s["term"]:
        _adopt_term(s, msg["term"])
        return {"state": s, "send": [], "reset_timer": False}
    if s["role"] != LEADER or msg["term"] != s["term"]:
        return {"state": s, "send": [], "reset_timer": False}
    peer = msg["from"]
    if msg["success"]:
        s["match_index"][peer] = max(s["match_index"][peer], msg["match_index"])
        s["next_index"][peer] = s["match_index"][peer] + 1
        s["commit_index"] = advance_commit_index(s)
    else:
        s["next_index"][peer] = max(s["match_index"][peer] + 1, min(msg["conflict_index"], len(s["log"]) + 1), 1)
    return {"state": s, "send": [], "reset_timer": False}


def persistent_state(state):
    return {"term": state["term"], "voted_for": state["voted_for"], "log": [dict(e) for e in state["log"]]}


def restart(saved, node_id, n):
    return {"id": node_id, "n": n, "term": saved["term"], "voted_for": saved["voted_for"],
            "log": [dict(e) for e in saved["log"]], "role": FOLLOWER, "commit_index": 0, "votes": [],
            "next_index": [1] * n, "match_index": [0] * n}


HANDLERS = {"start_election": start_election, "handle_request_vote": handle_request_vote,
            "handle_vote_reply": handle_vote_reply, "heartbeat": heartbeat,
            "handle_append_entries": handle_append_entries, "handle_append_reply": handle_append_reply,
            "persistent_state": persistent_state, "restart": restart}


# --------------------------------------------------------------------------- contract views

def viewed(fn, send: bool = True, next_index: bool = False):
    """The reference handler whose result is reduced to the contract view (what the tests compare)."""
    def call(state, msg=None):
        result = fn(state) if msg is None else fn(state, msg)
        return project_result(result, send=send, stale_refusal=is_stale_append(state, msg), next_index=next_index)
    call.__name__ = fn.__name__
    return call


def restarted_view(state):
    """The contract view of a node that crashed in ``state`` and restarted from what it saved."""
    new = restart(persistent_state(state), state["id"], state["n"])
    view = project_state(new, restarted=True)
    view["commit_index"] = restarted_commit_index(new["commit_index"], state["commit_index"])
    return view


# --------------------------------------------------------------------------- seeded cases

def _random_log(rng, length: int, max_term: int) -> list:
    terms = sorted(int(t) for t in rng.integers(1, max_term + 1, size=length))
    return [{"term": t, "command": int(rng.integers(100, 1000))} for t in terms]


def _random_state(rng, role: str | None = None) -> dict:
    n = int(rng.choice([3, 5]))
    me = int(rng.integers(0, n))
    term = int(rng.integers(1, 8))
    log = _random_log(rng, int(rng.integers(0, 7)), term)
    role = role or str(rng.choice([FOLLOWER, FOLLOWER, CANDIDATE, LEADER]))
    voted_for = me if role != FOLLOWER else (None if rng.random() < 0.5 else int(rng.integers(0, n)))
    state = {"id": me, "n": n, "term": term, "voted_for": voted_for, "log": log, "role": role,
             "commit_index": int(rng.integers(0, len(log) + 1)), "votes": [],
             "next_index": [len(log) + 1] * n, "match_index": [0] * n}
    if role == CANDIDATE:
        others = [p for p in range(n) if p != me]
        k = int(rng.integers(0, n // 2))  # 1 + k <= n // 2: never a majority already
        state["votes"] = sorted([me] + [int(p) for p in rng.choice(others, size=k, replace=False)])
    if role == LEADER:
        state["log"] = state["log"] + [{"term": term, "command": 999}] * int(rng.integers(0, 3))
        log = state["log"]
        state["commit_index"] = min(state["commit_index"], len(log))
        state["match_index"] = [int(rng.integers(0, len(log) + 1)) for _ in range(n)]
        state["match_index"][me] = 0
        state["next_index"] = [int(rng.integers(m + 1, len(log) + 2)) for m in state["match_index"]]
    return state


def log_is_up_to_date_cases(seed: int, n: int = 200) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        a_term, b_term = (int(x) for x in rng.integers(0, 5, size=2))
        a_index = 0 if a_term == 0 else int(rng.integers(1, 6))
        b_index = 0 if b_term == 0 else int(rng.integers(1, 6))
        if rng.random() < 0.3:
            b_term = a_term
            b_index = a_index if rng.random() < 0.3 else b_index if b_term else 0
        cases.append(dict(last_log_term=a_term, last_log_index=a_index, my_last_term=b_term, my_last_index=b_index))
    return cases


def request_vote_cases(seed: int, n: int = 120, state=None) -> list[dict]:
    rng = np.random.default_rng(seed)
    make = state or _random_state
    cases = []
    for _ in range(n):
        s = make(rng)
        cand = int(rng.choice([p for p in range(s["n"]) if p != s["id"]]))
        if rng.random() < 0.3 and s["role"] == FOLLOWER:
            s["voted_for"] = cand
        term = s["term"] + int(rng.choice([-1, 0, 0, 1, 2]))
        clog = _random_log(rng, int(rng.integers(0, 8)), max(term, 1))
        last_term, last_index = _last(clog)
        if rng.random() < 0.3 and s["log"]:  # same last term, different lengths
            last_term, last_index = s["log"][-1]["term"], max(1, len(s["log"]) + int(rng.integers(-2, 3)))
        msg = {"type": "request_vote", "term": max(term, 1), "from": cand, "to": s["id"],
               "last_log_index": last_index, "last_log_term": last_term}
        cases.append(dict(state=s, msg=msg))
    return cases


def election_cases(seed: int, n: int = 60, state=None) -> list[dict]:
    """Cases for ``start_election(state)`` (msg None) and ``handle_vote_reply(state, msg)``."""
    rng = np.random.default_rng(seed)
    make = state or _random_state
    starts, replies = [], []
    for _ in range(n):
        s = make(rng, role=str(rng.choice([FOLLOWER, CANDIDATE])))
        starts.append(dict(state=s))
    for _ in range(2 * n):
        s = make(rng, role=str(rng.choice([FOLLOWER, CANDIDATE, CANDIDATE, CANDIDATE, LEADER])))
        voter = int(rng.choice([p for p in range(s["n"]) if p != s["id"]]))
        term = s["term"] + int(rng.choice([-1, 0, 0, 0, 1]))
        granted = bool(rng.random() < 0.7) and term <= s["term"]
        if s["role"] == CANDIDATE and rng.random() < 0.3 and len(s["votes"]) > 1:
            voter = int(rng.choice([v for v in s["votes"] if v != s["id"]]))  # a duplicate reply
        replies.append(dict(state=s, msg={"type": "vote_reply", "term": max(term, 1), "from": voter,
                                          "to": s["id"], "granted": granted}))
    return starts, replies


def heartbeat_cases(seed: int, n: int = 40, state=None) -> list[dict]:
    rng = np.random.default_rng(seed)
    make = state or _random_state
    return [dict(state=make(rng, role=LEADER if rng.random() < 0.9 else FOLLOWER)) for _ in range(n)]


def append_entries_cases(seed: int, n: int = 150, state=None) -> list[dict]:
    rng = np.random.default_rng(seed)
    make = state or _random_state
    cases = []
    for _ in range(n):
        s = make(rng, role=str(rng.choice([FOLLOWER, FOLLOWER, CANDIDATE])))
        leader = int(rng.choice([p for p in range(s["n"]) if p != s["id"]]))
        term = max(1, s["term"] + int(rng.choice([-1, 0, 0, 1, 2])))
        # the leader's log: shares a prefix with ours, then maybe diverges
        keep = int(rng.integers(0, len(s["log"]) + 1))
        llog = [dict(e) for e in s["log"][:keep]]
        floor = llog[-1]["term"] if llog else 1
        if rng.random() < 0.6 and len(s["log"]) > keep and floor < term:
            llog += _random_log(rng, int(rng.integers(1, 4)), term)  # terms >= floor after sorting below
            llog = llog[:keep] + sorted((e for e in llog[keep:]), key=lambda e: e["term"])
            for e in llog[keep:]:
                e["term"] = max(e["term"], floor)
        else:
            llog += [dict(e) for e in s["log"][keep:]]
            if rng.random() < 0.6:
                llog += [{"term": term, "command": int(rng.integers(100, 1000))}
                         for _ in range(int(rng.integers(1, 3)))]
        prev = int(rng.integers(0, len(llog) + 1))
        if rng.random() < 0.2 and len(s["log"]) >= 3 and s["role"] == FOLLOWER:
            # a late message from the current leader: we already hold all of it and have committed past it
            llog = [dict(e) for e in s["log"]]
            s["commit_index"] = len(s["log"])
            prev = int(rng.integers(0, len(llog) - 1))
            msg = {"type": "append_entries", "term": max(s["term"], 1), "from": leader, "to": s["id"],
                   "prev_log_index": prev, "prev_log_term": llog[prev - 1]["term"] if prev else 0,
                   "entries": [dict(e) for e in llog[prev:prev + 1]], "leader_commit": len(llog) + 1}
            cases.append(dict(state=s, msg=msg))
            continue
        if rng.random() < 0.2:
            prev = min(len(llog), len(s["log"]) + int(rng.integers(1, 3)))
        count = int(rng.integers(0, len(llog) - prev + 1))
        msg = {"type": "append_entries", "term": term, "from": leader, "to": s["id"], "prev_log_index": prev,
               "prev_log_term": llog[prev - 1]["term"] if prev else 0,
               "entries": [dict(e) for e in llog[prev:prev + count]],
               "leader_commit": int(rng.integers(0, len(llog) + 1))}
        cases.append(dict(state=s, msg=msg))
    return cases


def commit_cases(seed: int, n: int = 150, state=None) -> list[dict]:
    rng = np.random.default_rng(seed)
    make = state or _random_state
    cases = []
    for _ in range(n):
        s = make(rng, role=LEADER if rng.random() < 0.85 else FOLLOWER)
        if s["role"] == LEADER and rng.random() < 0.5:
            # Figure 8: older-term entries on a majority, no current-term entry on a majority
            s["log"] = _random_log(rng, int(rng.integers(1, 5)), s["term"] - 1 if s["term"] > 1 else 1)
            s["log"] += [{"term": s["term"], "command": 999}] * int(rng.integers(0, 3))
            s["commit_index"] = int(rng.integers(0, 2))
            s["match_index"] = [int(rng.integers(0, len(s["log"]) + 1)) for _ in range(s["n"])]
            s["match_index"][s["id"]] = 0
        s["commit_index"] = min(s["commit_index"], len(s["log"]))
        cases.append(dict(state=s))
    return cases


def append_reply_cases(seed: int, n: int = 150, state=None) -> list[dict]:
    rng = np.random.default_rng(seed)
    make = state or _random_state
    cases = []
    for _ in range(n):
        s = make(rng, role=LEADER if rng.random() < 0.85 else CANDIDATE)
        peer = int(rng.choice([p for p in range(s["n"]) if p != s["id"]]))
        term = max(1, s["term"] + int(rng.choice([-1, 0, 0, 0, 0, 1])))
        success = bool(rng.random() < 0.6)
        length = len(s["log"])
        msg = {"type": "append_reply", "term": term, "from": peer, "to": s["id"], "success": success,
               "match_index": int(rng.integers(0, length + 1)) if success else 0,
               "conflict_index": 0 if success else int(rng.integers(1, length + 2))}
        cases.append(dict(state=s, msg=msg))
    return cases


def persistence_cases(seed: int, n: int = 40, state=None) -> list[dict]:
    rng = np.random.default_rng(seed)
    make = state or _random_state
    return [dict(state=make(rng)) for _ in range(n)]


# --------------------------------------------------------------------------- scenario judges

def independent_problems(result: dict) -> list[str]:
    """Election safety and state-machine safety re-checked from the run's record, without the simulator."""
    problems, leader_of = [], {}
    for t, node, term in result["leaders"]:
        if leader_of.setdefault(term, node) != node:
            problems.append(f"two leaders in term {term}: node {leader_of[term]} and node {node} (t={t} ms)")
    entry_at = {}
    for node, runs in enumerate(result["applied"]):
        for run in runs:
            for index, term, command in run:
                if entry_at.setdefault(index, (term, command)) != (term, command):
                    problems.append(f"node {node} applied {[term, command]} at index {index}, another node "
                                    f"applied {list(entry_at[index])}")
    return problems


def judge(result: dict) -> str | None:
    """The course judge (invariants, goals, trace, replay line) plus the independent re-check."""
    return course_judge(result, extra=() if result["violations"] else tuple(independent_problems(result)))


SCENARIO_EXPECTED = "a run that keeps the four checked invariants of Figure 3 and meets the scenario's goals"

# Hidden scenario runs per graded part: (scenario, how many seeds). Seeds are 100 * base + k.
PARTS = {
    "election": [("initial_election", 30), ("reelection", 25), ("no_majority", 20), ("random_elections", 6)],
    "replication": [("basic_agreement", 4), ("failed_follower", 3), ("no_commit_without_majority", 2),
                    ("rejoin", 3), ("backup", 2), ("figure8", 3), ("unreliable", 2), ("churn", 3),
                    ("random_partitions", 3)],
    "persistence": [("vote_then_crash", 10), ("log_survives_crash", 8), ("restart_uncommitted", 4),
                    ("crash_churn", 6), ("random_crashes", 4)],
}


def scenario_runs(part: str, seed: int, parts: dict | None = None) -> list[tuple[str, int]]:
    """The (scenario, seed) pairs of one part of ``parts`` (default: this module's ``PARTS``): every scenario
    on its own distinct seeds."""
    runs, k = [], 0
    for name, count in (PARTS if parts is None else parts)[part]:
        for _ in range(count):
            runs.append((name, 100 * seed + k))
            k += 1
    return runs


# --------------------------------------------------------------------------- contracts (issue 17)
#
# One table per graded function: the rules each exercise states, as fixed cases at, just inside and
# just outside every boundary (the term rules, Log Matching, the commit rule of Figure 8), and random
# cases from the whole domain: clusters of 1 (where a function allows it) to 7 nodes, terms up to 100,
# logs up to 25 entries, every role. Handlers are compared by their contract view (``viewed``).

from functools import partial  # noqa: E402

from autograde.contracts import Contract, boundary, edge  # noqa: E402


def _wide_state(rng, role: str | None = None, min_n: int = 2) -> dict:
    """A random valid node state over the whole domain: 1 (or ``min_n``) to 7 nodes, terms 1 to 100,
    0 to 25 entries of non-decreasing terms, any role, a leader's match/next indexes anywhere valid."""
    n = int(rng.integers(min_n, 8))
    me = int(rng.integers(0, n))
    term = int(rng.integers(1, 9)) if rng.random() < 0.6 else int(rng.integers(9, 101))
    log = _random_log(rng, int(rng.choice([int(rng.integers(0, 7)), int(rng.integers(7, 26))])), term)
    role = role or str(rng.choice([FOLLOWER, FOLLOWER, CANDIDATE, LEADER]))
    voted_for = me if role != FOLLOWER else (None if rng.random() < 0.5 else int(rng.integers(0, n)))
    state = {"id": me, "n": n, "term": term, "voted_for": voted_for, "log": log, "role": role,
             "commit_index": int(rng.integers(0, len(log) + 1)), "votes": [],
             "next_index": [len(log) + 1] * n, "match_index": [0] * n}
    if role == CANDIDATE:
        others = [p for p in range(n) if p != me]
        k = int(rng.integers(0, max(1, (n + 1) // 2 - 1)))   # 1 + k votes: never a strict majority already
        k = min(k, len(others))
        while 2 * (1 + k) > n and k > 0:
            k -= 1
        state["votes"] = sorted([me] + [int(p) for p in rng.choice(others, size=k, replace=False)]) if k else [me]
    if role == LEADER:
        state["log"] = state["log"] + [{"term": term, "command": int(rng.integers(100, 1000))}
                                       for _ in range(int(rng.integers(0, 4)))]
        log = state["log"]
        state["commit_index"] = min(state["commit_index"], len(log))
        state["match_index"] = [int(rng.integers(0, len(log) + 1)) for _ in range(n)]
        state["match_index"][me] = 0
        state["next_index"] = [int(rng.integers(m + 1, len(log) + 2)) for m in state["match_index"]]
    return state


def _st(node_id, n, term, log_terms, role=FOLLOWER, voted_for=None, commit=0, votes=None, next_index=None,
        match_index=None) -> dict:
    """A fixed state for a rule's case."""
    log = [{"term": t, "command": 100 + k} for k, t in enumerate(log_terms)]
    return {"id": node_id, "n": n, "term": term, "voted_for": voted_for, "log": log, "role": role,
            "commit_index": commit, "votes": list(votes or ([] if role != CANDIDATE else [node_id])),
            "next_index": list(next_index or [len(log) + 1] * n), "match_index": list(match_index or [0] * n)}


def _draw_up_to_date(rng) -> dict:
    def end():
        term = int(rng.integers(0, 31))
        return term, (0 if term == 0 else int(rng.integers(1, 61)))
    (a_term, a_index), (b_term, b_index) = end(), end()
    if rng.random() < 0.35:                                  # a tie on the last term
        b_term = a_term
        b_index = a_index if (rng.random() < 0.3 or a_term == 0) else int(rng.integers(1, 61))
    return dict(last_log_term=a_term, last_log_index=a_index, my_last_term=b_term, my_last_index=b_index)


def _vote_request(state, term, frm, last_term, last_index):
    return {"type": "request_vote", "term": term, "from": frm, "to": state["id"], "last_log_index": last_index,
            "last_log_term": last_term}


_VOTER = _st(1, 3, 5, [1, 2, 4])                      # follower 1 of 3, term 5, log terms [1, 2, 4]


def _rv(state=_VOTER, term=5, frm=0, last_term=4, last_index=3, **changes):
    state = dict(state, **changes)
    return {"state": state, "msg": _vote_request(state, term, frm, last_term, last_index)}


def _vote_reply(state, term, frm, granted=True):
    return {"state": state, "msg": {"type": "vote_reply", "term": term, "from": frm, "to": state["id"],
                                    "granted": granted}}


def _ae(state, term, prev, prev_term, entries, leader_commit, frm=0):
    return {"state": state, "msg": {"type": "append_entries", "term": term, "from": frm, "to": state["id"],
                                    "prev_log_index": prev, "prev_log_term": prev_term,
                                    "entries": [{"term": t, "command": c} for t, c in entries],
                                    "leader_commit": leader_commit}}


_F5 = _st(2, 3, 3, [1, 1, 2, 2, 2], commit=1)          # follower 2 of 3 in term 3, log terms [1, 1, 2, 2, 2]


def _ar(state, term, frm, success, match=0, conflict=0):
    return {"state": state, "msg": {"type": "append_reply", "term": term, "from": frm, "to": state["id"],
                                    "success": success, "match_index": match, "conflict_index": conflict}}


# leader 0 of 5 in term 4, log terms [1, 2, 4, 4], commit 1; node 1 holds 3, node 2 holds 1
_L5 = _st(0, 5, 4, [1, 2, 4, 4], role=LEADER, voted_for=0, commit=1, next_index=[5, 4, 2, 5, 1],
          match_index=[0, 3, 1, 0, 0])


def _commit_case(n, log_terms, term, match, commit=0, role=LEADER, me=0):
    return {"state": _st(me, n, term, log_terms, role=role, voted_for=me, commit=commit, match_index=match,
                         next_index=[m + 1 for m in match])}


_RESTARTED = [_st(1, 3, 4, [3, 4], role=LEADER, voted_for=1, commit=2, next_index=[3, 3, 3], match_index=[2, 0, 2]),
              _st(0, 1, 7, [1, 7, 7], role=LEADER, voted_for=0, commit=3, match_index=[0]),
              _st(2, 5, 9, [], role=CANDIDATE, voted_for=2, votes=[2, 4]),
              _st(3, 4, 6, [1, 1, 5, 6, 6, 6], voted_for=None, commit=4)]

CONTRACTS = {c.name: c for c in [
    Contract(
        "log_is_up_to_date", log_is_up_to_date, draw=_draw_up_to_date,
        domain="last terms 0 to 30 and last indexes 0 to 60 (0 with an empty log), a third of them tied on the term",
        rules=[boundary("equal last terms: the candidate's log is up to date when it is at least as long (equal "
                        "lengths count)",
                        at=dict(last_log_term=4, last_log_index=7, my_last_term=4, my_last_index=7),
                        inside=dict(last_log_term=4, last_log_index=8, my_last_term=4, my_last_index=7),
                        outside=dict(last_log_term=4, last_log_index=6, my_last_term=4, my_last_index=7)),
               boundary("different last terms: the later term wins, however long the other log",
                        at=dict(last_log_term=3, last_log_index=2, my_last_term=2, my_last_index=9),
                        inside=dict(last_log_term=3, last_log_index=20, my_last_term=2, my_last_index=9),
                        outside=dict(last_log_term=2, last_log_index=9, my_last_term=3, my_last_index=2)),
               edge("two empty logs are equal: up to date", dict(last_log_term=0, last_log_index=0, my_last_term=0,
                                                                  my_last_index=0)),
               edge("an empty log is behind any entry; any entry is ahead of an empty log",
                    dict(last_log_term=0, last_log_index=0, my_last_term=1, my_last_index=1),
                    dict(last_log_term=1, last_log_index=1, my_last_term=0, my_last_index=0))]),
    Contract(
        "handle_request_vote", viewed(handle_request_vote),
        draw=lambda rng: request_vote_cases(int(rng.integers(0, 2**31)), 1, state=_wide_state)[0],
        domain="voters of every role in clusters of 2 to 7 nodes, terms up to 100, logs up to 25 entries, requests "
               "from older, equal and newer terms",
        rules=[boundary("a request of an older term is refused and changes nothing; of the node's term it may be "
                        "granted; of a newer term the node adopts it first",
                        at=_rv(term=5), inside=_rv(term=6), outside=_rv(term=4)),
               boundary("one vote per term: `voted_for` None or already the candidate grants (a repeated request "
                        "gets the same answer); another node is refused",
                        at=_rv(voted_for=0), inside=_rv(voted_for=None), outside=_rv(voted_for=2)),
               boundary("a newer term forgets the old vote before deciding",
                        at=_rv(term=6, voted_for=2), inside=_rv(term=7, voted_for=0), outside=_rv(term=5, voted_for=2)),
               boundary("equal last terms: a candidate's log as long as the voter's is up to date, a shorter one is not",
                        at=_rv(last_term=4, last_index=3), inside=_rv(last_term=4, last_index=4),
                        outside=_rv(last_term=4, last_index=2)),
               boundary("a later last term wins over a longer log",
                        at=_rv(last_term=5, last_index=1), inside=_rv(last_term=5, last_index=9),
                        outside=_rv(last_term=3, last_index=9)),
               edge("a candidate or a leader has voted for itself: it refuses everyone else in its own term",
                    _rv(role=CANDIDATE, voted_for=1, votes=[1]),
                    _rv(role=LEADER, voted_for=1, next_index=[4, 4, 4], match_index=[0, 0, 0])),
               edge("a candidate or leader that sees a newer term steps down and may vote",
                    _rv(term=6, role=CANDIDATE, voted_for=1, votes=[1]),
                    _rv(term=9, role=LEADER, voted_for=1, next_index=[4, 4, 4], match_index=[0, 0, 0])),
               edge("an empty log grants any candidate of the term", _rv(state=_st(1, 3, 5, []), last_term=0,
                                                                        last_index=0))]),
    Contract(
        "start_election", viewed(start_election),
        draw=lambda rng: election_cases(int(rng.integers(0, 2**31)), 1, state=_wide_state)[0][0],
        domain="followers and candidates of clusters of 2 to 7 nodes, terms up to 100, logs up to 25 entries",
        rules=[edge("an empty log asks with `last_log_index` 0 and `last_log_term` 0", {"state": _st(0, 3, 4, [])}),
               edge("a candidate whose election timed out starts another: next term, votes only itself",
                    {"state": _st(3, 5, 6, [1, 6], role=CANDIDATE, voted_for=3, votes=[3, 1])}),
               edge("two nodes: it asks its one peer", {"state": _st(1, 2, 1, [1])}),
               edge("seven nodes: it asks all six others", {"state": _st(6, 7, 11, [2, 2, 9], voted_for=4)})]),
    Contract(
        "heartbeat", viewed(heartbeat),
        draw=lambda rng: heartbeat_cases(int(rng.integers(0, 2**31)), 1, state=_wide_state)[0],
        domain="leaders (and a few others) of clusters of 2 to 7 nodes with logs up to 28 entries and every valid "
               "next_index",
        rules=[boundary("`prev_log_index` is `next_index[p]` - 1: from 1 every entry is sent, from len(log) + 1 none",
                        at={"state": dict(_L5, next_index=[5, 1, 1, 1, 1], match_index=[0, 0, 0, 0, 0])},
                        inside={"state": dict(_L5, next_index=[5, 2, 3, 4, 2], match_index=[0, 1, 2, 3, 1])},
                        outside={"state": dict(_L5, next_index=[5, 5, 5, 5, 5], match_index=[0, 4, 4, 4, 4])}),
               edge("a node that is not leader sends nothing",
                    {"state": _st(1, 3, 5, [1, 2])}, {"state": _st(1, 3, 5, [1, 2], role=CANDIDATE, voted_for=1)})]),
    Contract(
        "handle_vote_reply", viewed(handle_vote_reply),
        draw=lambda rng: election_cases(int(rng.integers(0, 2**31)), 1, state=_wide_state)[1][0],
        domain="candidates (and followers and leaders) of clusters of 2 to 7 nodes, replies of older, equal and newer "
               "terms, granted or not, duplicates",
        rules=[boundary("a strict majority (more than n / 2, itself included) makes a leader: 2 of 4 is not one",
                        at=_vote_reply(_st(0, 4, 3, [1, 3], role=CANDIDATE, voted_for=0, votes=[0]), 3, 1),
                        inside=_vote_reply(_st(0, 4, 3, [1, 3], role=CANDIDATE, voted_for=0, votes=[0, 2]), 3, 1),
                        outside=_vote_reply(_st(0, 4, 3, [1, 3], role=CANDIDATE, voted_for=0, votes=[0, 2]), 3, 1,
                                            granted=False)),
               boundary("only replies of the current term count; a newer term is adopted",
                        at=_vote_reply(_st(0, 3, 5, [], role=CANDIDATE, voted_for=0), 5, 2),
                        inside=_vote_reply(_st(0, 3, 5, [], role=CANDIDATE, voted_for=0), 6, 2, granted=False),
                        outside=_vote_reply(_st(0, 3, 5, [], role=CANDIDATE, voted_for=0), 4, 2)),
               edge("a voter counts once, however many copies of its answer arrive",
                    _vote_reply(_st(0, 5, 2, [1], role=CANDIDATE, voted_for=0, votes=[0, 3]), 2, 3)),
               edge("two nodes: both votes are needed, and two make a leader",
                    _vote_reply(_st(1, 2, 8, [1, 8], role=CANDIDATE, voted_for=1, votes=[1]), 8, 0)),
               edge("after the state changed (already leader, or a follower again), a granted reply of the term "
                    "changes nothing",
                    _vote_reply(_st(0, 3, 5, [5], role=LEADER, voted_for=0, votes=[0, 2], next_index=[2, 2, 2],
                                    match_index=[0, 0, 1]), 5, 1),
                    _vote_reply(_st(0, 3, 5, [5], voted_for=0, votes=[0, 2]), 5, 1))]),
    Contract(
        "handle_append_entries", viewed(handle_append_entries),
        draw=lambda rng: append_entries_cases(int(rng.integers(0, 2**31)), 1, state=_wide_state)[0],
        domain="followers and candidates of clusters of 2 to 7 nodes, logs up to 25 entries, messages of older, equal "
               "and newer terms that match, conflict, lag behind or run ahead",
        rules=[boundary("an AppendEntries of an older term is refused without restarting the timer; of the node's "
                        "term or newer it is the leader's",
                        at=_ae(_F5, 3, 5, 2, [], 1), inside=_ae(_F5, 4, 5, 2, [], 1), outside=_ae(_F5, 2, 5, 2, [], 1)),
               boundary("consistency check on length: `prev_log_index` up to len(log) is checked, beyond it is refused "
                        "with `conflict_index` len(log) + 1",
                        at=_ae(_F5, 3, 5, 2, [(3, 9)], 0), inside=_ae(_F5, 3, 4, 2, [(2, 100 + 4), (3, 9)], 0),
                        outside=_ae(_F5, 3, 6, 3, [(3, 9)], 0)),
               boundary("a term mismatch at `prev_log_index` is refused with the first index of the node's term there",
                        at=_ae(_F5, 3, 5, 3, [], 0), inside=_ae(_F5, 3, 3, 3, [], 0), outside=_ae(_F5, 3, 2, 3, [], 0)),
               boundary("entries that match are kept (a late, shorter message truncates nothing); the first that "
                        "conflicts goes with all after it",
                        at=_ae(_F5, 3, 1, 1, [(1, 101), (2, 102)], 0),
                        inside=_ae(_F5, 3, 3, 2, [(2, 103), (2, 104), (3, 7)], 0),
                        outside=_ae(_F5, 3, 1, 1, [(1, 101), (3, 8)], 0)),
               boundary("`commit_index` becomes min(`leader_commit`, `prev_log_index` + len(entries)) when that is "
                        "higher, and is never lowered",
                        at=_ae(_F5, 3, 2, 1, [(2, 102)], 3), inside=_ae(_F5, 3, 2, 1, [(2, 102)], 2),
                        outside=_ae(_F5, 3, 2, 1, [(2, 102)], 5)),
               edge("a leader commit below the node's commit index does not lower it",
                    _ae(dict(_F5, commit_index=4), 3, 5, 2, [], 2)),
               edge("a candidate of the same term steps down to follower",
                    _ae(dict(_F5, role=CANDIDATE, voted_for=2, votes=[2]), 3, 5, 2, [], 1)),
               edge("an empty log accepts entries from index 1", _ae(_st(1, 3, 2, []), 2, 0, 0, [(1, 5), (2, 6)], 2))]),
    Contract(
        "advance_commit_index", advance_commit_index,
        draw=lambda rng: commit_cases(int(rng.integers(0, 2**31)), 1, state=partial(_wide_state, min_n=1))[0],
        domain="leaders (and others) of 1 to 7 nodes, half of them in Figure 8's position (older-term entries on a "
               "majority), terms up to 100, logs up to 28 entries",
        rules=[boundary("Figure 8: an entry of an older term is not committed by counting replicas; one of the "
                        "current term is, with every entry before it",
                        at=_commit_case(5, [1, 2, 4], 4, [0, 3, 2, 2, 0], commit=1),
                        inside=_commit_case(5, [1, 2, 4], 4, [0, 3, 3, 2, 0], commit=1),
                        outside=_commit_case(5, [1, 2, 2], 4, [0, 3, 3, 3, 3], commit=1)),
               boundary("a strict majority of the n nodes, the leader included: 2 of 4 is not one, 3 of 4 is",
                        at=_commit_case(4, [2, 2], 2, [0, 2, 0, 0]), inside=_commit_case(4, [2, 2], 2, [0, 2, 1, 0]),
                        outside=_commit_case(4, [2, 2], 2, [0, 0, 0, 0])),
               edge("the leader's own match_index slot is not a replica (the leader counts once)",
                    _commit_case(3, [1, 1], 1, [2, 0, 0])),
               edge("a follower or candidate returns `commit_index` unchanged",
                    _commit_case(3, [1, 1], 1, [0, 2, 2], commit=1, role=FOLLOWER),
                    _commit_case(3, [1, 1], 1, [0, 2, 2], commit=0, role=CANDIDATE)),
               edge("a lone node (n = 1) commits its current-term entries by itself",
                    _commit_case(1, [1, 3, 3], 3, [0])),
               edge("never lower: nothing above `commit_index` qualifies", _commit_case(3, [1, 2], 2, [0, 1, 1],
                                                                                         commit=2))]),
    Contract(
        "handle_append_reply", viewed(handle_append_reply, send=False, next_index=True),
        draw=lambda rng: append_reply_cases(int(rng.integers(0, 2**31)), 1, state=_wide_state)[0],
        domain="leaders (and candidates) of clusters of 2 to 7 nodes, replies of older, equal and newer terms, "
               "successes and refusals with any match and conflict index; `next_index` is compared too",
        rules=[boundary("a newer term ends the leadership; an older term is ignored; the current term is read",
                        at=_ar(_L5, 4, 2, True, match=4), inside=_ar(_L5, 5, 2, False, conflict=2),
                        outside=_ar(_L5, 3, 2, True, match=4)),
               boundary("`match_index[p]` never moves back (replies arrive out of order)",
                        at=_ar(_L5, 4, 1, True, match=3), inside=_ar(_L5, 4, 1, True, match=4),
                        outside=_ar(_L5, 4, 1, True, match=2)),
               boundary("a refusal moves `next_index[p]` to `conflict_index`, never below `match_index[p]` + 1 nor "
                        "beyond len(log) + 1",
                        at=_ar(_L5, 4, 2, False, conflict=2), inside=_ar(_L5, 4, 2, False, conflict=3),
                        outside=[_ar(_L5, 4, 2, False, conflict=1), _ar(_L5, 4, 2, False, conflict=9)]),
               boundary("a success commits through the commit rule: entry 4 (term 4) on 3 of 5 commits 1..4; an "
                        "old-term entry on a majority commits nothing",
                        at=_ar(_L5, 4, 2, True, match=4),
                        inside=_ar(dict(_L5, match_index=[0, 4, 1, 0, 0]), 4, 3, True, match=4),
                        outside=_ar(_st(0, 5, 4, [1, 2], role=LEADER, voted_for=0, commit=1,
                                        next_index=[3, 3, 2, 1, 1], match_index=[0, 2, 1, 0, 0]), 4, 2, True, match=2)),
               edge("a node that is no longer leader ignores replies of its term",
                    _ar(_st(0, 3, 4, [4], voted_for=0), 4, 1, True, match=1),
                    _ar(_st(0, 3, 4, [4], role=CANDIDATE, voted_for=0), 4, 1, False, conflict=1))]),
    Contract(
        "persistent_state", restarted_view,
        draw=lambda rng: persistence_cases(int(rng.integers(0, 2**31)), 1, state=partial(_wide_state, min_n=1))[0],
        domain="nodes of every role in clusters of 1 to 7, terms up to 100, logs up to 28 entries; checked through "
               "`course.raft.restarted(persistent_state, restart)`",
        rules=[edge("term, vote and log survive a crash (a leader, a lone node, a candidate, a follower)",
                    *({"state": s} for s in _RESTARTED))]),
    Contract(
        "restart", restarted_view,
        draw=lambda rng: persistence_cases(int(rng.integers(0, 2**31)), 1, state=partial(_wide_state, min_n=1))[0],
        domain="as for `persistent_state`: a restarted node is a follower with fresh volatile state",
        rules=[edge("a leader or candidate comes back a follower with its saved term, vote and log, and a "
                    "`commit_index` no higher than before the crash (never the log's length)",
                    *({"state": s} for s in _RESTARTED))]),
]}
