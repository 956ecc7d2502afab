"""Module 16: typical wrong answers lose exactly the points they should; a differently written correct
solution scores full marks; a failing run names its scenario and seed, shows a trace, the history's problem
and the line that replays it."""

from __future__ import annotations

import pytest
from submissions import (Mutant, assert_caught_by_hidden_tests, assert_full_marks, assert_loses_exactly,
                         assert_release_answer_cells_define_their_names)

ASSIGNMENT = "16-raft-kv"

COMMAND, APPLY, PERSIST, READ = ("correct_apply_command", "correct_apply_committed", "correct_persistence",
                                 "correct_read_ready")
ORDER = "correct_needs_persist"
COMPACT, INSTALL = "correct_compact", "correct_install_snapshot"
CHANGE, COMMIT = "correct_can_change", "correct_advance_commit"

# Exercises 3, 4 and 5 run whole clusters through the learner's apply loop, so a broken loop loses them too.
LOOP = frozenset({APPLY, PERSIST, ORDER, READ})

MUTANTS = {
    "no_sessions": Mutant(
        "apply_command", '    if session is not None and command["seq"] <= session["seq"]:\n'
                         '        return {"machine": machine, "result": session["result"]}\n', "",
        frozenset({COMMAND, APPLY}),
        "duplicate appends from retried clients: the seed's 'idempotent operations' with nothing that remembers"),
    "duplicate_only_if_equal": Mutant(
        "apply_command", 'command["seq"] <= session["seq"]', 'command["seq"] == session["seq"]',
        frozenset({COMMAND}),
        "only the very last request counts as a retry: an older duplicate (a late copy) is applied again "
        "(only hidden cases see it)"),
    "get_result_not_saved": Mutant(
        "apply_command", 'sessions[command["client"]] = {"seq": command["seq"], "result": result}',
        'sessions[command["client"]] = {"seq": command["seq"], "result": None}',
        frozenset({COMMAND}), "a retried get is answered None instead of the value it read"),
    "missing_op_is_noop": Mutant(
        "apply_command", 'if op == "noop":', 'if op in ("noop", None):', frozenset({COMMAND}),
        "a command without an op is taken for a no-op instead of refused like an unknown op (only hidden cases see "
        "it: the cluster never sends one)"),
    "apply_from_last_applied": Mutant(
        "apply_committed", 'range(state["last_applied"] + 1, state["commit_index"] + 1)',
        'range(max(state["last_applied"], 1), state["commit_index"] + 1)',
        LOOP, "off by one: the last applied entry is applied again on every call"),
    "apply_one_short": Mutant(
        "apply_committed", 'range(state["last_applied"] + 1, state["commit_index"] + 1)',
        'range(state["last_applied"] + 1, state["commit_index"])',
        LOOP, "stops one short: the last committed entry waits for the next commit"),
    "last_applied_not_advanced": Mutant(
        "apply_committed", 'last_applied=max(state["last_applied"], state["commit_index"])',
        'last_applied=state["last_applied"]', LOOP,
        "forgets to record progress: every call applies everything committed again"),
    "applies_twice_after_restart": Mutant(
        "persistence", 'machine=saved["machine"], last_applied=saved["last_applied"])', 'machine=saved["machine"])',
        frozenset({PERSIST, ORDER}),
        "the machine survives but last_applied restarts at 0: every entry is applied twice (exercise 4's crash runs "
        "restart through it too)"),
    "machine_lost_after_restart": Mutant(
        "persistence", 'machine=saved["machine"], last_applied=saved["last_applied"])',
        'last_applied=saved["last_applied"])', frozenset({PERSIST, ORDER}),
        "last_applied survives but the machine does not: every entry before it is lost (exercise 4's crash runs "
        "restart through it too)"),
    "whole_state_restored": Mutant(
        "persistence", '''    return {"term": state["term"], "voted_for": state["voted_for"], "log": list(state["log"]),
            "machine": state["machine"], "last_applied": state["last_applied"]}
    ### END SOLUTION


def restart(saved, node_id, n):
    """The state of node `node_id` (of `n`) restarting from `saved`: a follower; machine and last_applied consistent."""
    ### BEGIN SOLUTION
    state = kv_initial_state(node_id, n)
''', '''    import copy
    return copy.deepcopy(state)


def restart(saved, node_id, n):
    state = dict(saved, role="follower")
''', frozenset({PERSIST}),
        "saves the whole state and restores it with only the role reset: the machine and last_applied agree and no "
        "run fails, but votes, next_index and match_index are not the fresh volatile state the text asks for (only "
        "hidden cases see it)"),
    "vote_forgotten": Mutant(
        "persistence", 'voted_for=saved["voted_for"]', "voted_for=None", frozenset({PERSIST}),
        "module 06's mistake again: a node that voted, crashed and restarted votes again in the same term (the new "
        "leader's no-op usually makes its log refuse the second candidate, so the contract's cases catch it)"),
    "replies_before_saving_the_log": Mutant(
        "needs_persist", '(before["term"], before["voted_for"], before["log"]) != (after["term"], after["voted_for"], '
                         'after["log"])',
        '(before["term"], before["voted_for"]) != (after["term"], after["voted_for"])', frozenset({ORDER}),
        "acknowledges entries before they are on disk: a crash loses entries the leader already committed"),
    "replies_before_saving_the_vote": Mutant(
        "needs_persist", '(before["term"], before["voted_for"], before["log"]) != (after["term"], after["voted_for"], '
                         'after["log"])',
        '(before["term"], before["log"]) != (after["term"], after["log"])', frozenset({ORDER}),
        "a vote given in the node's current term is not saved: after a crash it votes again (only hidden cases see it)"),
    "log_compared_by_length": Mutant(
        "needs_persist", '(before["term"], before["voted_for"], before["log"]) != (after["term"], after["voted_for"], '
                         'after["log"])',
        '(before["term"], before["voted_for"], len(before["log"])) != (after["term"], after["voted_for"], '
        'len(after["log"]))', frozenset({ORDER}),
        "a conflicting suffix replaced by as many entries keeps the length: the replacement is never saved"),
    "saves_every_step": Mutant(
        "needs_persist", '(before["term"], before["voted_for"], before["log"]) != (after["term"], after["voted_for"], '
                         'after["log"])', "True", frozenset({ORDER}),
        "an fsync on every step, heartbeats and commit-index moves included: safe, but every message waits for a disk"),
    "deposed_leader_reads": Mutant(
        "read_ready", "return len(confirmed) > state[\"n\"] / 2 and state[\"last_applied\"] >= index",
        "return state[\"last_applied\"] >= index", frozenset({READ}),
        "the seed's replica read: answers without a majority round, so a deposed leader serves stale data"),
    "ack_counted_twice": Mutant(
        "read_ready", 'confirmed = set(read["acks"]) | {state["id"]}', 'confirmed = list(read["acks"]) + [state["id"]]',
        frozenset({READ}), "counts answers, not nodes: the leader's own ack or a repeated one makes a false majority"),
    "read_before_applied": Mutant(
        "read_ready", ' and state["last_applied"] >= index', "", frozenset({READ}),
        "answers before the machine has applied up to the read index (only hidden cases see it)"),
    "any_term_read": Mutant(
        "read_ready", ' or state["term"] != read["term"]', "", frozenset({READ}),
        "a leader re-elected in a later term answers a read its older term collected acks for"),
    "snapshot_drops_unapplied_entries": Mutant(
        "compact", 'applied_here = state["last_applied"] - state["snapshot_index"]',
        'applied_here = state["commit_index"] - state["snapshot_index"]', frozenset({COMPACT}),
        "cuts the log at the commit index: committed entries not yet applied leave the log before the machine has "
        "them, and are lost"),
    "never_compacts": Mutant(
        "compact", 'if len(state["log"]) < threshold or applied_here <= 0:', "if True:", frozenset({COMPACT}),
        "the log grows forever: the bound on its size is broken"),
    "threshold_off_by_one": Mutant(
        "compact", 'len(state["log"]) < threshold', 'len(state["log"]) <= threshold', frozenset({COMPACT}),
        "compacts only past the threshold, not at it (only hidden cases see it)"),
    "accepts_older_snapshot": Mutant(
        "install_snapshot", '    if index <= s["last_applied"]:\n        return s\n', "", frozenset({INSTALL}),
        "a follower takes an older snapshot delayed in the network: its machine goes back in time"),
    "accepts_duplicate_snapshot": Mutant(
        "install_snapshot", 'if index <= s["last_applied"]:', 'if index < s["last_applied"]:', frozenset({INSTALL}),
        "a snapshot up to the index already applied is taken again (only hidden cases see it)"),
    "discards_matching_suffix": Mutant(
        "install_snapshot", 's["log"] = list(s["log"][position:])', 's["log"] = []', frozenset({INSTALL}),
        "drops entries after the snapshot that the follower holds and the leader agrees with (Figure 13 keeps them)"),
    "keeps_conflicting_suffix": Mutant(
        "install_snapshot", ' and s["log"][position - 1]["term"] == term', "", frozenset({INSTALL}),
        "keeps a suffix whose entry at the snapshot's index has another term: a log that conflicts with the leader's"),
    "older_term_snapshot_accepted": Mutant(
        "install_snapshot", '    if msg["term"] < state["term"]:\n        return state\n', "", frozenset({INSTALL}),
        "takes a snapshot from a deposed leader of an older term (and steps down to its term)"),
    "two_changes_in_flight": Mutant(
        "can_change", '''    if any(entry["command"].get("op") == "config" for entry in state["log"][commit:]):
        return False                                     # a change is in flight
''', "", frozenset({CHANGE}),
        "starts a change while another is uncommitted: two single-server changes add up to a two-server change "
        "whose old and new majorities need not overlap"),
    "learner_promoted_before_caught_up": Mutant(
        "can_change", ' and state["match_index"][server] >= commit', "", frozenset({CHANGE}),
        "promotes an empty learner: a voter that holds nothing counts toward majorities at once"),
    "changes_before_committing_its_term": Mutant(
        "can_change", ' or state["log"][commit - 1]["term"] != state["term"]', "", frozenset({CHANGE}),
        "a new leader changes the configuration before it committed an entry of its term (the 2015 single-server bug)"),
    "learner_counted_as_voter": Mutant(
        "advance_commit", 'voters = state["config"]["voters"]',
        'voters = state["config"]["voters"] + state["config"]["learners"]', frozenset({COMMIT}),
        "counts learners in the majority: an entry commits on copies held by servers that do not vote"),
    "removed_leader_counts_itself": Mutant(
        "advance_commit", 'holders = [v for v in voters if v == state["id"] or state["match_index"][v] >= index]',
        'holders = [v for v in voters if state["match_index"][v] >= index] + [state["id"]]', frozenset({COMMIT}),
        "a leader that is removing itself still counts its own copy (only hidden cases see it)"),
    "commits_older_terms_by_counting": Mutant(
        "advance_commit", '''        if state["log"][index - 1]["term"] != state["term"]:
            continue
''', "", frozenset({COMMIT}), "Figure 8 again: an entry of an older term committed by counting copies"),
}

# A correct service written differently from ours: a machine changed in place after a deep copy, the
# apply loop as a while loop over last_applied, a node that rebuilds its machine from the log after a
# restart (nothing but Figure 2's state persisted), a majority counted with a sorted list, a compaction that
# copies the machine by hand, and an InstallSnapshot that deep-copies through JSON and finds the entry at the
# snapshot's index through a map of index to term, membership rules as one table, and a commit index read off the
# sorted copies of the voters.
ALTERNATIVE = {
    "apply_command": '''
import copy

def apply_command(machine, command):
    if "op" not in command:
        raise ValueError("a command needs an op")
    if command["op"] == "noop":
        return {"machine": machine, "result": None}
    if command["op"] not in {"get", "put", "append"}:
        raise ValueError("op must be get, put, append or noop")
    m = copy.deepcopy(machine)
    last = m["sessions"].get(command["client"], {"seq": 0, "result": None})
    if command["seq"] <= last["seq"]:
        return {"machine": m, "result": last["result"]}
    old = m["kv"].get(command["key"], "")
    result = {"get": old, "put": None, "append": None}[command["op"]]
    if command["op"] != "get":
        m["kv"][command["key"]] = (old if command["op"] == "append" else "") + command["value"]
    m["sessions"][command["client"]] = {"seq": command["seq"], "result": result}
    return {"machine": m, "result": result}
''',
    "apply_committed": '''
def apply_committed(state):
    state = dict(state)
    results = []
    while state["last_applied"] < state["commit_index"]:
        state["last_applied"] += 1
        out = apply_command(state["machine"], state["log"][state["last_applied"] - 1]["command"])
        state["machine"] = out["machine"]
        results.append([state["last_applied"], out["result"]])
    return {"state": state, "results": results}
''',
    "persistence": '''
def persistent_state(state):
    return {"term": state["term"], "voted_for": state["voted_for"], "log": [dict(e) for e in state["log"]]}


def restart(saved, node_id, n):
    return dict(kv_initial_state(node_id, n), term=saved["term"], voted_for=saved["voted_for"],
                log=[dict(e) for e in saved["log"]])
''',
    "needs_persist": '''
def needs_persist(before, after):
    return any(before[key] != after[key] for key in ("term", "voted_for", "log"))
''',
    "read_ready": '''
def read_ready(state, read):
    if (state["role"], state["term"]) != ("leader", read["term"]):
        return False
    i = read["read_index"]
    if i <= 0 or i > len(state["log"]) or state["log"][i - 1]["term"] != read["term"]:
        return False
    if state["last_applied"] < i:
        return False
    return 2 * len(sorted(set(read["acks"] + [state["id"]]))) > state["n"]
''',
    "compact": '''
def compact(state, threshold):
    if type(threshold) is not int or threshold <= 0:
        raise ValueError("threshold must be a positive int")
    state = {key: value for key, value in state.items()}
    keep_from = state["last_applied"] - state["snapshot_index"]
    if keep_from > 0 and len(state["log"]) >= threshold:
        state["snapshot_term"] = state["log"][keep_from - 1]["term"]
        state["snapshot_index"] = state["last_applied"]
        state["snapshot"] = {"kv": dict(state["machine"]["kv"]),
                             "sessions": {c: dict(v) for c, v in state["machine"]["sessions"].items()}}
        state["log"] = state["log"][keep_from:]
    return state
''',
    "install_snapshot": '''
import json


def install_snapshot(state, msg):
    new = json.loads(json.dumps(state))
    if msg["term"] < new["term"]:
        return new
    new["voted_for"] = None if msg["term"] > new["term"] else new["voted_for"]
    new.update(term=msg["term"], role="follower", votes=[])
    last = msg["last_included_index"]
    if last > new["last_applied"]:
        mine = {new["snapshot_index"] + 1 + k: e["term"] for k, e in enumerate(new["log"])}
        suffix = new["log"][last - new["snapshot_index"]:] if mine.get(last) == msg["last_included_term"] else []
        new.update(log=suffix, snapshot_index=last, snapshot_term=msg["last_included_term"],
                   snapshot=json.loads(json.dumps(msg["snapshot"])), machine=json.loads(json.dumps(msg["snapshot"])),
                   last_applied=last, commit_index=max(new["commit_index"], last))
    return new
''',
    "can_change": '''
def can_change(state, change):
    kind, who = change["action"], change["server"]
    if kind not in {"add_learner": 1, "promote": 2, "remove": 3}:
        raise ValueError("bad action")
    c = state["commit_index"]
    pending = [e for e in state["log"][c:] if e["command"].get("op") == "config"]
    ready = state["role"] == "leader" and not pending and c >= 1 and state["log"][c - 1]["term"] == state["term"]
    if not ready:
        return False
    cfg = state["config"]
    return {"add_learner": who not in cfg["voters"] + cfg["learners"],
            "promote": who in cfg["learners"] and state["match_index"][who] >= c,
            "remove": who in cfg["voters"] and len(cfg["voters"]) >= 2}[kind]
''',
    "advance_commit": '''
def advance_commit(state):
    voters = state["config"]["voters"]
    held = sorted((len(state["log"]) if v == state["id"] else state["match_index"][v] for v in voters),
                  reverse=True)
    majority_holds = held[len(voters) // 2]          # the highest index more than half of the voters hold
    for index in range(min(majority_holds, len(state["log"])), state["commit_index"], -1):
        if state["log"][index - 1]["term"] == state["term"]:
            return index
    return state["commit_index"]
''',
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_points(reports, name):
    assert_loses_exactly(reports[name], name, MUTANTS[name])


def test_alternative_correct_solution_scores_full_marks(reports):
    assert_full_marks(reports["alternative"])


def test_hidden_tests_alone_catch_an_older_duplicate(reports):
    """A duplicate check on equality passes every visible test; only the hidden contract cases (an older
    retry arriving late) find it."""
    assert_caught_by_hidden_tests(reports["duplicate_only_if_equal"], COMMAND, "seed 161")


def test_a_failing_run_names_scenario_seed_trace_and_replay(reports):
    """A machine restored without its last_applied fails a crash run (the visible one): the message names the
    scenario and seed, the machines that disagree, shows the last events and the line that replays it."""
    test = next(t for t in reports["applies_twice_after_restart"].tests if t.id == PERSIST)
    for part in ("scenario 'kv_crashes'", "seed 2", "state machines disagree", "trace (last events before it)",
                 "replay_kv(KV, 'kv_crashes', seed=2)"):
        assert part in test.message, f"message lacks {part!r}:\n{test.message}"


def test_release_answer_cells_run_unchanged_and_define_their_names():
    assert_release_answer_cells_define_their_names(ASSIGNMENT, "kv_helpers")
