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

def viewed(fn, send: bool = True):
    """The reference handler whose result is reduced to the contract view (what the tests compare)."""
    def call(state, msg=None):
        result = fn(state) if msg is None else fn(state, msg)
        return project_result(result, send=send, stale_refusal=is_stale_append(state, msg))
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


def request_vote_cases(seed: int, n: int = 120) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        s = _random_state(rng)
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


def election_cases(seed: int, n: int = 60) -> list[dict]:
    """Cases for ``start_election(state)`` (msg None) and ``handle_vote_reply(state, msg)``."""
    rng = np.random.default_rng(seed)
    starts, replies = [], []
    for _ in range(n):
        s = _random_state(rng, role=str(rng.choice([FOLLOWER, CANDIDATE])))
        starts.append(dict(state=s))
    for _ in range(2 * n):
        s = _random_state(rng, role=str(rng.choice([FOLLOWER, CANDIDATE, CANDIDATE, CANDIDATE, LEADER])))
        voter = int(rng.choice([p for p in range(s["n"]) if p != s["id"]]))
        term = s["term"] + int(rng.choice([-1, 0, 0, 0, 1]))
        granted = bool(rng.random() < 0.7) and term <= s["term"]
        if s["role"] == CANDIDATE and rng.random() < 0.3 and len(s["votes"]) > 1:
            voter = int(rng.choice([v for v in s["votes"] if v != s["id"]]))  # a duplicate reply
        replies.append(dict(state=s, msg={"type": "vote_reply", "term": max(term, 1), "from": voter,
                                          "to": s["id"], "granted": granted}))
    return starts, replies


def heartbeat_cases(seed: int, n: int = 40) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [dict(state=_random_state(rng, role=LEADER if rng.random() < 0.9 else FOLLOWER)) for _ in range(n)]


def append_entries_cases(seed: int, n: int = 150) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        s = _random_state(rng, role=str(rng.choice([FOLLOWER, FOLLOWER, CANDIDATE])))
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


def commit_cases(seed: int, n: int = 150) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        s = _random_state(rng, role=LEADER if rng.random() < 0.85 else FOLLOWER)
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


def append_reply_cases(seed: int, n: int = 150) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        s = _random_state(rng, role=LEADER if rng.random() < 0.85 else CANDIDATE)
        peer = int(rng.choice([p for p in range(s["n"]) if p != s["id"]]))
        term = max(1, s["term"] + int(rng.choice([-1, 0, 0, 0, 0, 1])))
        success = bool(rng.random() < 0.6)
        length = len(s["log"])
        msg = {"type": "append_reply", "term": term, "from": peer, "to": s["id"], "success": success,
               "match_index": int(rng.integers(0, length + 1)) if success else 0,
               "conflict_index": 0 if success else int(rng.integers(1, length + 2))}
        cases.append(dict(state=s, msg=msg))
    return cases


def persistence_cases(seed: int, n: int = 40) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [dict(state=_random_state(rng)) for _ in range(n)]


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
    "election": [("initial_election", 30), ("reelection", 25), ("no_majority", 20)],
    "replication": [("basic_agreement", 4), ("failed_follower", 3), ("no_commit_without_majority", 2),
                    ("rejoin", 3), ("backup", 2), ("figure8", 3), ("unreliable", 2), ("churn", 3)],
    "persistence": [("vote_then_crash", 10), ("log_survives_crash", 8), ("restart_uncommitted", 4),
                    ("crash_churn", 6)],
}


def scenario_runs(part: str, seed: int) -> list[tuple[str, int]]:
    """The (scenario, seed) pairs of one part: every scenario on its own distinct seeds."""
    runs, k = [], 0
    for name, count in PARTS[part]:
        for _ in range(count):
            runs.append((name, 100 * seed + k))
            k += 1
    return runs
