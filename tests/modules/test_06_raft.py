"""Module 06: typical wrong answers lose exactly the points they should; a differently written
correct solution scores full marks; failure messages state input, expected, got and replay, and a
failing cluster run names its scenario and seed, shows a trace and the line that replays it."""

from __future__ import annotations

import pytest
from submissions import Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly

ASSIGNMENT = "06-raft"

UP_TO_DATE, VOTE, ELECTION = "correct_log_is_up_to_date", "correct_handle_request_vote", "correct_election"
APPEND, COMMIT, REPLY, PERSIST = ("correct_handle_append_entries", "correct_advance_commit_index",
                                  "correct_handle_append_reply", "correct_persistence")

MUTANTS = {
    "up_to_date_by_length_only": Mutant(
        "log_is_up_to_date", "    if last_log_term != my_last_term:\n        return last_log_term > my_last_term\n", "",
        frozenset({UP_TO_DATE, VOTE, REPLY}),
        "compares log lengths only: a long log of old terms wins elections and overwrites committed entries"),
    "two_votes_per_term": Mutant(
        "handle_request_vote", 'and state["voted_for"] in (None, msg["from"])\n', "and True\n",
        frozenset({VOTE, ELECTION, REPLY, PERSIST}), "votes for every candidate that asks: two leaders in one term"),
    "answers_counted_not_voters": Mutant(
        "election", 'voters = set(state["votes"]) | {msg["from"]}', 'voters = state["votes"] + [msg["from"]]',
        frozenset({ELECTION}),
        "the seed's votes_received += 1: a duplicated reply counts twice (only hidden tests see it)"),
    "old_answers_count": Mutant(
        "election", 'and msg["term"] == state["term"] and msg["granted"]', 'and msg["granted"]',
        frozenset({ELECTION}), "a yes from an election the candidate already gave up on is counted"),
    "no_heartbeat_on_winning": Mutant(
        "election", "            return heartbeat(state)\n", "",
        frozenset({ELECTION}), "a new leader stays silent until its first heartbeat timer"),
    "heartbeat_skips_an_entry": Mutant(
        "election", '"entries": state["log"][prev:]', '"entries": state["log"][prev + 1:]',
        frozenset({ELECTION, REPLY, PERSIST}), "off by one between 1-based indexes and list positions"),
    "truncate_on_every_append": Mutant(
        "handle_append_entries", 'elif log[index - 1]["term"] != entry["term"]:', "else:",
        frozenset({APPEND, REPLY}), "a late, shorter AppendEntries erases entries a newer one added"),
    "no_fast_backoff": Mutant(
        "handle_append_entries",
        'reply["conflict_index"] = next(i + 1 for i, e in enumerate(log) if e["term"] == conflict_term)',
        'reply["conflict_index"] = prev', frozenset({APPEND, REPLY}),
        "the conflict hint steps back one entry, not one term: long divergent logs repair slowly"),
    "commit_index_goes_down": Mutant(
        "handle_append_entries",
        'state["commit_index"] = max(state["commit_index"], min(msg["leader_commit"], last_new))',
        'state["commit_index"] = min(msg["leader_commit"], last_new)',
        frozenset({APPEND}), "a late message with few entries lowers the commit index"),
    "seed_commit_rule": Mutant(
        "advance_commit_index", ' and state["log"][index - 1]["term"] == state["term"]', "",
        frozenset({COMMIT, REPLY}), "the seed's rule: an old-term entry on a majority counted as committed (Figure 8)"),
    "back_off_one_entry": Mutant(
        "handle_append_reply", 'back_to = min(msg["conflict_index"], len(state["log"]) + 1)',
        'back_to = state["next_index"][peer] - 1',
        frozenset({REPLY}), "ignores the conflict hint: a log 30 entries behind takes 30 heartbeats to repair"),
    "match_index_moves_back": Mutant(
        "handle_append_reply", 'max(state["match_index"][peer], msg["match_index"])', 'msg["match_index"]',
        frozenset({REPLY}), "a reordered, older reply moves match_index back"),
    "vote_not_persisted": Mutant(
        "persistence", '"voted_for": state["voted_for"]', '"voted_for": None',
        frozenset({PERSIST}), "a node that crashes after voting votes again in the same term"),
    "log_not_persisted": Mutant(
        "persistence", '"log": list(state["log"])}', '"log": []}',
        frozenset({PERSIST}), "the log lives in memory only: a cluster-wide restart loses committed entries"),
    "commit_index_from_log_length": Mutant(
        "persistence", 'log=list(saved["log"]))', 'log=list(saved["log"]), commit_index=len(saved["log"]))',
        frozenset({PERSIST}),
        "a restarted node counts its whole saved log committed, uncommitted tail included (only hidden tests see it)"),
    # The six classes of issue 17. Class 5 (races) is the simulator's reordered and duplicated messages here:
    # answers_counted_not_voters and match_index_moves_back above; class 6 (a tolerance wider than the gap) is
    # commit_index_from_log_length above: any restarted commit index from 0 to the old one passes, len(log) does not.
    "commit_counts_leaders_own_slot": Mutant(
        "advance_commit_index", "if peer != state[\"id\"] and m >= index)", "if m >= index)",
        frozenset({COMMIT}), "class 1, a rule with no case before: the leader's own match_index slot counted as one "
        "more replica (the simulator keeps it 0, so only the contract's case shows it)"),
    "commit_with_half": Mutant(
        "advance_commit_index", "if 2 * copies > state[\"n\"] and", "if 2 * copies >= state[\"n\"] and",
        frozenset({COMMIT, REPLY}), "class 2, an exact boundary: an entry on exactly half of an even cluster counted "
        "committed"),
    "majority_for_odd_clusters_only": Mutant(
        "election", "if 2 * len(voters) > state[\"n\"]:", "if len(voters) >= (state[\"n\"] + 1) // 2:",
        frozenset({ELECTION}), "class 3, a corner of the domain: (n + 1) // 2 votes is a majority of 3 or 5 nodes, "
        "but 2 of 4 (and 1 of 2) is not"),
    "leader_counts_late_votes": Mutant(
        "election", 'elif state["role"] == "candidate" and msg["term"] == state["term"] and msg["granted"]:',
        'elif msg["term"] == state["term"] and msg["granted"]:', frozenset({ELECTION, REPLY}),
        "class 4, an event after a state change: a late vote reaching a leader (or a follower again) is counted, "
        "and a leader re-initialises next_index and match_index (and the backup run then needs 161 "
        "messages, over its 160)"),
}

# A correct node written differently from ours: tuple comparison, deep copies and an extra state key,
# voters kept in a list, the commit index from the sorted match indexes, truncation at the first
# mismatch, an immediate retry after a refusal, the commit index persisted too, and a refusal of an old
# leader that carries a conflict_index of len(log) + 1 (the contract does not read it).
ALTERNATIVE = {
    "log_is_up_to_date": '''
def log_is_up_to_date(last_log_term, last_log_index, my_last_term, my_last_index):
    return (last_log_term, last_log_index) >= (my_last_term, my_last_index)
''',
    "handle_request_vote": '''
import copy

def handle_request_vote(state, msg):
    s = copy.deepcopy(state)
    s.setdefault("leader_hint", None)
    if msg["term"] > s["term"]:
        s["term"], s["voted_for"], s["role"] = msg["term"], None, "follower"
    ok_term = msg["term"] == s["term"]
    free = s["voted_for"] is None or s["voted_for"] == msg["from"]
    mine = (s["log"][-1]["term"] if s["log"] else 0, len(s["log"]))
    fresh = log_is_up_to_date(msg["last_log_term"], msg["last_log_index"], *mine)
    granted = bool(ok_term and free and fresh)
    if granted:
        s["voted_for"] = msg["from"]
    return {"reset_timer": granted, "state": s,
            "send": [dict(type="vote_reply", term=s["term"], to=msg["from"], granted=granted, **{"from": s["id"]})]}
''',
    "election": '''
import copy

def _ae(s, p):
    prev = s["next_index"][p] - 1
    return {"type": "append_entries", "term": s["term"], "from": s["id"], "to": p, "prev_log_index": prev,
            "prev_log_term": 0 if prev == 0 else s["log"][prev - 1]["term"],
            "entries": [dict(e) for e in s["log"][prev:]], "leader_commit": s["commit_index"]}

def start_election(state):
    s = copy.deepcopy(state)
    s["term"] += 1
    s["role"] = "candidate"
    s["voted_for"] = s["id"]
    s["votes"] = [s["id"]]
    out = []
    for p in reversed(range(s["n"])):
        if p != s["id"]:
            out.append({"type": "request_vote", "term": s["term"], "from": s["id"], "to": p,
                        "last_log_index": len(s["log"]), "last_log_term": s["log"][-1]["term"] if s["log"] else 0})
    return {"state": s, "send": out, "reset_timer": True}

def heartbeat(state):
    if state["role"] != "leader":
        return {"state": state, "send": [], "reset_timer": False}
    return {"state": state, "send": [_ae(state, p) for p in range(state["n"]) if p != state["id"]],
            "reset_timer": False}

def handle_vote_reply(state, msg):
    s = copy.deepcopy(state)
    if msg["term"] > s["term"]:
        s.update(term=msg["term"], voted_for=None, role="follower", votes=[])
        return {"state": s, "send": [], "reset_timer": False}
    if s["role"] == "candidate" and msg["term"] == s["term"] and msg["granted"]:
        if msg["from"] not in s["votes"]:
            s["votes"].append(msg["from"])
        if len(s["votes"]) > s["n"] // 2:
            s["role"] = "leader"
            s["next_index"] = [len(s["log"]) + 1 for _ in range(s["n"])]
            s["match_index"] = [0 for _ in range(s["n"])]
            return {"state": s, "send": heartbeat(s)["send"], "reset_timer": False}
    return {"state": s, "send": [], "reset_timer": False}
''',
    "handle_append_entries": '''
import copy

def handle_append_entries(state, msg):
    s = copy.deepcopy(state)
    def reply(**kw):
        base = {"type": "append_reply", "term": s["term"], "from": s["id"], "to": msg["from"], "success": False,
                "match_index": 0, "conflict_index": 0}
        base.update(kw)
        return base
    if msg["term"] < s["term"]:
        return {"state": s, "send": [reply(conflict_index=len(s["log"]) + 1)], "reset_timer": False}
    if msg["term"] > s["term"]:
        s["voted_for"] = None
    s["term"], s["role"] = msg["term"], "follower"
    s["leader_hint"] = msg["from"]
    log, prev = s["log"], msg["prev_log_index"]
    if len(log) < prev:
        return {"state": s, "send": [reply(conflict_index=len(log) + 1)], "reset_timer": True}
    if prev and log[prev - 1]["term"] != msg["prev_log_term"]:
        k = prev
        while k > 1 and log[k - 2]["term"] == log[prev - 1]["term"]:
            k -= 1
        return {"state": s, "send": [reply(conflict_index=k)], "reset_timer": True}
    entries = msg["entries"]
    mismatch = next((k for k, e in enumerate(entries)
                     if prev + k >= len(log) or log[prev + k]["term"] != e["term"]), None)
    if mismatch is not None:
        s["log"] = log[:prev + mismatch] + [dict(e) for e in entries[mismatch:]]
    last = prev + len(entries)
    s["commit_index"] = max(s["commit_index"], min(msg["leader_commit"], last))
    return {"state": s, "send": [reply(success=True, match_index=last)], "reset_timer": True}
''',
    "advance_commit_index": '''
def advance_commit_index(state):
    if state["role"] != "leader":
        return state["commit_index"]
    held = sorted(len(state["log"]) if p == state["id"] else m for p, m in enumerate(state["match_index"]))
    majority_index = held[(state["n"] - 1) // 2]        # held by more than half of the nodes
    if majority_index > state["commit_index"] and state["log"][majority_index - 1]["term"] == state["term"]:
        return majority_index
    return state["commit_index"]
''',
    "handle_append_reply": '''
import copy

def handle_append_reply(state, msg):
    s = copy.deepcopy(state)
    if msg["term"] > s["term"]:
        s.update(term=msg["term"], voted_for=None, role="follower", votes=[])
        return {"state": s, "send": [], "reset_timer": False}
    if s["role"] != "leader" or msg["term"] < s["term"]:
        return {"state": s, "send": [], "reset_timer": False}
    p = msg["from"]
    if msg["success"]:
        if msg["match_index"] > s["match_index"][p]:
            s["match_index"][p] = msg["match_index"]
        s["next_index"][p] = s["match_index"][p] + 1
        s["commit_index"] = advance_commit_index(s)
        return {"state": s, "send": [], "reset_timer": False}
    s["next_index"][p] = min(max(msg["conflict_index"], s["match_index"][p] + 1, 1), len(s["log"]) + 1)
    return {"state": s, "send": [_ae(s, p)], "reset_timer": False}    # retry at once
''',
    "persistence": '''
import json

def persistent_state(state):
    return json.loads(json.dumps({k: state[k] for k in ("term", "voted_for", "log", "commit_index")}))

def restart(saved, node_id, n):
    return {"id": node_id, "n": n, "role": "follower", "votes": [], "next_index": [1] * n, "match_index": [0] * n,
            "term": saved["term"], "voted_for": saved["voted_for"], "log": saved["log"],
            "commit_index": saved["commit_index"]}
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_a_mistake_the_visible_tests_miss(reports):
    """answers_counted_not_voters passes every visible test; only the hidden seeded cases find it."""
    assert_caught_by_hidden_tests(reports["answers_counted_not_voters"], ELECTION, "seed 631", "handle_vote_reply")


def test_hidden_tests_alone_catch_a_commit_index_restored_from_the_log_length(reports):
    """Restoring commit_index as len(log) passes the visible test (its log is all committed); the hidden cases
    with an uncommitted tail, and the restart_uncommitted runs, catch it."""
    assert_caught_by_hidden_tests(reports["commit_index_from_log_length"], PERSIST, "seed 671", "commit_index")


def test_the_notebook_states_how_many_hidden_cluster_runs_there_are():
    """The 'How to work' text gives the number of graded cluster runs per exercise: keep it equal to the PARTS."""
    import json
    import re

    from autograde.layout import source_notebook
    from autograde.reference import raft as ref
    cells = json.loads(source_notebook(ASSIGNMENT).read_text())["cells"]
    text = " ".join(" ".join("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")
    found = re.search(r"(\d+) seeded cluster runs when the notebook is graded \((\d+) in exercise 3, (\d+) in "
                      r"exercise 6, (\d+) in exercise 7", text)
    assert found, "the 'How to work' cell no longer states the number of runs in the expected words"
    total, election, replication, persistence = (int(x) for x in found.groups())
    counts = {part: sum(k for _, k in runs) for part, runs in ref.PARTS.items()}
    assert (election, replication, persistence) == (counts["election"], counts["replication"], counts["persistence"])
    assert total == sum(counts.values())
    assert f"(these {replication}, exercise 3's and exercise 7's)" in text


def test_a_failing_cluster_run_names_scenario_seed_trace_and_replay(reports):
    """Backing off one entry at a time fails the backup run: the message says which run and seed, shows the last
    events, and gives the line that replays it in the notebook, within the grader's message limit."""
    reply = next(t for t in reports["back_off_one_entry"].tests if t.id == REPLY)
    for part in ("scenario 'backup'", "seed 662", "trace (last events before it)", "<- append_reply from n",
                 "replay with a picture in the notebook: replay(NODE, 'backup', seed=662", "replay:   seed 662"):
        assert part in reply.message, f"message lacks {part!r}:\n{reply.message}"
    assert "message cut" not in reply.message
