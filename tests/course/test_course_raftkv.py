"""course.raftkv: the key-value cluster on module 06's simulator (a correct service passes every scenario,
each of its checks is shown to fire), the linearizability checker (against module 05's reference
enumeration), the seed's two mistakes, and the figures."""

import copy

import matplotlib.pyplot as plt
import numpy as np
import pytest

from autograde.reference import raft_kv as ref
from autograde.reference.replication_cap import linearizable_by_enumeration, small_history_cases
from course.raftkv import (CORE, KV_SCENARIOS, KVCluster, build_kv, events_per_second, history_problem,
                           kv_initial_state, kv_judge, linearize, plot_apply_grid, plot_kv_history, replay_kv,
                           run_kv, seed_no_sessions, seed_replica_reads)

NODE = dict(ref.NODE)


def test_same_seed_same_run_other_seed_other_run():
    a = run_kv(NODE, "kv_unreliable", seed=3)
    assert a == run_kv(NODE, "kv_unreliable", seed=3)
    assert a["history"] != run_kv(NODE, "kv_unreliable", seed=4)["history"]


@pytest.mark.parametrize("scenario", sorted(KV_SCENARIOS))
def test_a_correct_service_passes_every_scenario(scenario):
    for seed in (0, 1, 2):
        result = run_kv(NODE, scenario, seed)
        assert ref.judge(result) is None, f"scenario {scenario}, seed {seed}: {ref.judge(result)}"
        assert result["stats"]["answered"] == result["stats"]["operations"] > 10, (scenario, seed, result["stats"])


def test_a_service_that_rebuilds_from_the_log_and_one_that_keeps_its_machine_both_pass():
    def keep(state):
        return dict(ref.persistent_state(state), machine=copy.deepcopy(state["machine"]),
                    last_applied=state["last_applied"])

    def back(saved, node_id, n):
        return dict(ref.restart(saved, node_id, n), machine=saved["machine"], last_applied=saved["last_applied"])
    for seed in range(4):
        assert ref.judge(run_kv(NODE, "kv_crashes", seed)) is None
        assert ref.judge(run_kv(dict(NODE, persistent_state=keep, restart=back), "kv_crashes", seed)) is None


def _applying(shift=0, keep_last=False):
    def apply_committed(state):
        s = copy.deepcopy(state)
        results = []
        for index in range(max(1, s["last_applied"] + 1 - shift), s["commit_index"] + 1):
            out = ref.apply_command(s["machine"], s["log"][index - 1]["command"])
            s["machine"] = out["machine"]
            results.append([index, out["result"]])
        if not keep_last:
            s["last_applied"] = s["commit_index"]
        return {"state": s, "results": results}
    return apply_committed


def test_the_apply_loop_check_fires_on_a_repeated_index_and_on_a_stale_last_applied():
    twice = run_kv(dict(NODE, apply_committed=_applying(shift=1)), "kv_basic", seed=0)
    assert twice["violations"] and "apply loop" in twice["violations"][0], twice["violations"]
    stuck = run_kv(dict(NODE, apply_committed=_applying(keep_last=True)), "kv_basic", seed=0)
    assert stuck["violations"] and "set last_applied" in stuck["violations"][0], stuck["violations"]


def test_the_machine_check_fires_when_a_restarted_node_applies_twice():
    def keep(state):
        return dict(ref.persistent_state(state), machine=copy.deepcopy(state["machine"]))

    def back(saved, node_id, n):   # the machine survives, last_applied restarts at 0
        return dict(ref.restart(saved, node_id, n), machine=saved["machine"])
    found = [run_kv(dict(NODE, persistent_state=keep, restart=back), "kv_crashes", seed) for seed in range(4)]
    assert any(r["violations"] and "state machines disagree" in r["violations"][0] for r in found), \
        [r["violations"] for r in found]
    # A node compared with itself says so: "node 3 ..., the same node before its restart got ...", not "node 3".
    own = [r["violations"][0] for r in found
           if r["violations"] and "the same node before its restart" in r["violations"][0]]
    assert own, [r["violations"][:1] for r in found]
    for message in own:
        node = message.split("disagree: node ")[1].split(" ")[0]
        assert f"node {node} got" not in message.split("the same node")[1], message


def test_a_function_that_changes_the_raft_state_or_raises_is_a_violation():
    def meddles(state):
        out = ref.apply_committed(state)
        out["state"]["term"] += 1
        return out
    bad = run_kv(dict(NODE, apply_committed=meddles), "kv_basic", seed=0)
    assert bad["violations"] and "changed the Raft state" in bad["violations"][0]

    def answers_maybe(state, read):
        return "yes"
    odd = run_kv(dict(NODE, read_ready=answers_maybe), "kv_reads", seed=0)
    assert odd["violations"] and "True or False" in odd["violations"][0]


def test_the_seeds_two_mistakes_break_linearizability():
    sessions = [kv_judge(run_kv(dict(NODE, apply_committed=seed_no_sessions(ref.apply_committed)), "kv_unreliable",
                                seed)) for seed in range(4)]
    assert sum("linearizability" in (p or "") for p in sessions) >= 2, sessions
    reads = kv_judge(run_kv(dict(NODE, read_ready=seed_replica_reads(ref.read_ready)), "kv_stale_read", seed=1))
    assert reads and "linearizability" in reads, reads


def _as_kv(history):
    return [{"client": op["client"], "kind": "put" if op["kind"] == "write" else "get", "key": "x",
             "value": "" if op["value"] == 0 else str(op["value"]), "start": op["start"], "end": op["end"]}
            for op in history]


def test_the_checker_agrees_with_module_05s_enumeration_on_register_histories():
    cases = [c for c in small_history_cases(seed=1605, n=200) if all(op["end"] >= op["start"] for op in c["history"])]
    verdicts = [linearizable_by_enumeration(c["history"], 0) for c in cases]
    assert 30 < sum(verdicts) < len(cases) - 30, "the cases must hold both verdicts"
    for case, expected in zip(cases, verdicts):
        got = linearize(_as_kv(case["history"]))["ok"]
        assert got == expected, f"input: {case['history']}; expected: {expected}; got: {got}; seed 1605"


def test_the_checker_on_appends_open_operations_and_a_stale_read():
    ok = [{"client": "a", "kind": "append", "key": "k", "value": "1;", "start": 0.0, "end": 1.0},
          {"client": "b", "kind": "append", "key": "k", "value": "2;", "start": 0.5, "end": 1.5},
          {"client": "c", "kind": "get", "key": "k", "value": "2;1;", "start": 1.6, "end": 1.7}]
    assert linearize(ok)["ok"]
    twice = ok[:2] + [dict(ok[2], value="1;2;2;")]
    assert not linearize(twice)["ok"] and "key 'k'" in history_problem(twice)
    stale = ok[:2] + [dict(ok[2], value="1;")]
    assert not linearize(stale)["ok"]
    open_write = [dict(ok[0], end=None), dict(ok[2], value="1;", start=3.0, end=3.1)]
    assert linearize(open_write)["ok"]                                  # it may have taken effect
    assert linearize([dict(ok[0], end=None), dict(ok[2], value="", start=3.0, end=3.1)])["ok"]   # or not
    order = linearize(ok)["order"]["k"]
    assert order == [1, 0, 2]


def test_a_history_checked_per_key_is_decided_quickly_even_when_long():
    result = run_kv(NODE, "kv_unreliable", seed=0)
    assert len(result["history"]) > 30 and linearize(result["history"])["ok"]


def test_figures_draw(tmp_path):
    cluster = build_kv(NODE, "kv_leader_loss", seed=1)
    cluster.run(cluster.end_s)
    fig, ax = plot_apply_grid(cluster)
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "log index"
    history = cluster.result()["history"]
    fig2, ax2 = plot_kv_history(history, "k0", order=linearize(history)["order"]["k0"])
    assert ax2.get_xlabel() == "time (s)"
    plt.close("all")
    again = replay_kv(NODE, "kv_basic", seed=0, picture=False)
    assert isinstance(again, KVCluster)


def test_events_per_second_reports_figures():
    speed = events_per_second(NODE, range(2))
    assert speed["events"] > 100 and speed["events_per_s"] > 0 and speed["learner_calls"] > 0
    assert speed["bytes_per_op"] == round(speed["bytes"] / speed["answered"]) and speed["bytes"] > 0


def test_bytes_grow_when_heartbeats_resend_the_whole_log():
    """6.5840's RPCBytes: the same runs with a heartbeat that always sends from index 1 carry more bytes per op."""
    from course.raftkv import _append_to, core_heartbeat

    def resend_all(state):
        out = core_heartbeat(state)
        s = out["state"]
        if s["role"] == "leader":
            out["send"] = [_append_to(dict(s, next_index=[1] * s["n"]), p) for p in range(s["n"]) if p != s["id"]]
        return out
    import course.raftkv as kv
    lean = events_per_second(NODE, range(3))["bytes_per_op"]
    original = kv.CORE["heartbeat"]
    kv.CORE["heartbeat"] = resend_all
    try:
        fat = events_per_second(NODE, range(3))["bytes_per_op"]
    finally:
        kv.CORE["heartbeat"] = original
    assert fat > 3 * lean, (lean, fat)


def test_core_is_module_06s_node_plus_a_noop():
    state = dict(kv_initial_state(0, 3), term=2, role="candidate", voted_for=0, votes=[0])
    out = CORE["handle_vote_reply"](state, {"type": "vote_reply", "term": 2, "from": 1, "to": 0, "granted": True})
    assert out["state"]["role"] == "leader" and out["state"]["log"] == [{"term": 2, "command": {"op": "noop"}}]
    assert {m["to"] for m in out["send"]} == {1, 2}


def test_unknown_read_mode_and_scenario_are_refused():
    with pytest.raises(ValueError):
        KVCluster(NODE, read_mode="lease")
    with pytest.raises(ValueError):
        build_kv(NODE, "kv_nope", seed=0)


def test_reference_contracts_hold_their_own_rules():
    for contract in ref.CONTRACTS.values():
        assert contract.problems() == [], contract.problems()
    rng = np.random.default_rng(0)
    assert all(isinstance(ref.read_ready(**ref._draw_read(rng)), bool) for _ in range(50))


def test_ordering_mode_a_node_that_never_saves_gives_its_vote_twice():
    def never(before, after):
        return False
    runs = [run_kv(dict(NODE, needs_persist=never), "order_vote", seed) for seed in range(1, 4)]
    assert all(r["violations"] and "election safety" in r["violations"][0] for r in runs), [r["violations"] for r in runs]
    assert all(ref.judge(run_kv(NODE, "order_vote", seed)) is None for seed in range(4))


def test_ordering_mode_entries_acknowledged_but_not_saved_are_lost():
    def no_log(before, after):
        return (before["term"], before["voted_for"]) != (after["term"], after["voted_for"])
    lost = run_kv(dict(NODE, needs_persist=no_log), "order_log", seed=0)
    assert lost["violations"] and "leader completeness" in lost["violations"][0], lost["violations"]
    fine = run_kv(NODE, "order_log", seed=0)
    assert ref.judge(fine) is None and fine["stats"]["saves"] > 0


def test_ordering_mode_restarts_from_the_last_save_not_from_the_crash():
    cluster = build_kv(dict(NODE, needs_persist=lambda before, after: False), "order_vote", seed=1)
    cluster.run(0.2)
    assert cluster.saved[1] == NODE["persistent_state"](kv_initial_state(1, 3))   # never saved: a fresh node


# --------------------------------------------------------------------------- snapshots (exercise 7)

from course.raftkv import (apply_compacted, last_index, plot_snapshot_grid, snap_initial_state,  # noqa: E402
                           snapshot_judge, snapshot_run, term_at)

SNAP = dict(ref.SNAP_NODE)


def _snap(compact=None, install=None):
    node = dict(SNAP)
    if compact:
        node["compact"] = compact
    if install:
        node["install_snapshot"] = install
    return node


def _compact_at(field):
    """compact that snapshots the machine but cuts the log at ``field`` (commit_index: the classic mistake)."""
    def compact(state, threshold):
        s = copy.deepcopy(state)
        upto = s[field]
        if len(s["log"]) < threshold or upto <= s["snapshot_index"]:
            return s
        cut = upto - s["snapshot_index"]
        s.update(snapshot_term=s["log"][cut - 1]["term"], snapshot_index=upto, snapshot=copy.deepcopy(s["machine"]),
                 log=s["log"][cut:])
        return s
    return compact


def _install_without_staleness_check(state, msg):
    s = copy.deepcopy(state)
    s.update(log=[], snapshot_index=msg["last_included_index"], snapshot_term=msg["last_included_term"],
             snapshot=copy.deepcopy(msg["snapshot"]), machine=copy.deepcopy(msg["snapshot"]),
             last_applied=msg["last_included_index"], commit_index=max(s["commit_index"], msg["last_included_index"]))
    return s


def test_a_correct_node_passes_every_snapshot_run_and_the_log_stays_bounded():
    for seed in range(12):
        for threshold in (1, 2, 5, 13):
            result = snapshot_run(SNAP, seed, threshold)
            assert snapshot_judge(result) is None, (seed, threshold, snapshot_judge(result))
            assert result["snapshots"] >= 2 and result["messages"], (seed, threshold, result["messages"])
            assert result["grid"][2]["snapshot_index"] > 0, f"seed {seed}: node 2 was not brought up by a snapshot"
            assert len({(r["last_index"], r["last_applied"]) for r in result["grid"]}) == 1, result["grid"]


def test_same_seed_same_run():
    assert snapshot_run(SNAP, 5, 3) == snapshot_run(SNAP, 5, 3)
    assert snapshot_run(SNAP, 5, 3)["sizes"] != snapshot_run(SNAP, 6, 3)["sizes"]


def test_a_snapshot_that_drops_unapplied_entries_is_caught_in_every_run():
    for seed, threshold, rounds in ref.snapshot_runs(7):
        problem = snapshot_judge(snapshot_run(_snap(compact=_compact_at("commit_index")), seed, threshold, rounds))
        assert problem and "replay: snapshot_run(SNAP, seed=" in problem, (seed, threshold, problem)


def test_a_log_that_is_never_compacted_breaks_the_bound():
    problem = snapshot_judge(snapshot_run(_snap(compact=lambda state, threshold: state), 3, 4))
    assert problem and "at most 3 should remain" in problem, problem


def test_a_follower_that_accepts_an_older_snapshot_goes_back_and_is_caught():
    caught = [s for s, t, r in ref.snapshot_runs(8)
              if snapshot_judge(snapshot_run(_snap(install=_install_without_staleness_check), s, t, r))]
    assert len(caught) >= len(ref.snapshot_runs(8)) - 1, caught
    problem = snapshot_judge(snapshot_run(_snap(install=_install_without_staleness_check), 3, 5))
    assert "went back to last_applied" in problem, problem


def test_a_follower_that_ignores_every_snapshot_never_catches_up():
    problem = snapshot_judge(snapshot_run(_snap(install=lambda state, msg: state), 3, 5))
    assert problem and "before the leader's snapshot" in problem, problem


def test_without_install_snapshot_no_node_is_cut_off():
    result = snapshot_run(dict(SNAP, install_snapshot=None), 3, 5)
    assert snapshot_judge(result) is None and result["messages"] == []
    assert result["grid"][2]["last_applied"] == result["grid"][0]["commit_index"]


def test_compacted_log_helpers_and_the_apply_loop_refuses_a_missing_entry():
    s = dict(snap_initial_state(0, 3), snapshot_index=4, snapshot_term=2,
             log=[{"term": 3, "command": {"op": "noop"}}] * 2, commit_index=6, last_applied=4)
    assert (last_index(s), term_at(s, 4), term_at(s, 6), term_at(s, 3), term_at(s, 7)) == (6, 2, 3, None, None)
    assert apply_compacted(s, ref.apply_command)["last_applied"] == 6
    with pytest.raises(LookupError, match="no longer in the log"):
        apply_compacted(dict(s, last_applied=3), ref.apply_command)


def test_the_snapshot_grid_draws_one_row_per_node():
    fig, ax = plot_snapshot_grid(snapshot_run(SNAP, 3, 5))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["n0", "n1", "n2"]
    plt.close(fig)


# --------------------------------------------------------------------------- the harder schedules

@pytest.mark.parametrize("scenario", ["kv_elections7", "kv_figure8_unreliable", "kv_concurrent"])
def test_the_harder_schedules_hold_over_many_seeds(scenario):
    """6.5840's many elections on seven nodes, Figure 8 on an unreliable network and concurrent starts, over 12
    seeds each: the invariants, the apply checks and linearizability hold, and every client is answered."""
    for seed in range(12):
        result = run_kv(NODE, scenario, seed)
        assert ref.judge(result) is None, f"scenario {scenario}, seed {seed}: {ref.judge(result)}"
        assert result["stats"]["answered"] == result["stats"]["operations"] > 10, (scenario, seed, result["stats"])


def test_many_elections_on_seven_nodes_are_many():
    cluster = build_kv(NODE, "kv_elections7", seed=0)
    cluster.run(cluster.end_s)
    assert cluster.n == 7 and max(s["term"] for s in cluster.states) >= 5, [s["term"] for s in cluster.states]


def test_a_service_without_sessions_fails_the_unreliable_figure8_runs():
    """Duplicated client requests on the unreliable network: without sessions an append is applied twice (in 2 of
    these 6 seeds today; a run without a duplicate that lands after its original is applied cannot show it)."""
    caught = [seed for seed in range(6)
              if ref.judge(run_kv(dict(NODE, apply_committed=seed_no_sessions(ref.apply_committed)),
                                  "kv_figure8_unreliable", seed))]
    assert len(caught) >= 2, caught


# --------------------------------------------------------------------------- membership runs (exercise 8)

from course.raftkv import membership_judge, membership_run, split_brain  # noqa: E402


def test_split_brain_finds_disjoint_majorities_exactly_when_they_exist():
    import itertools
    servers = range(6)
    for a_size in range(1, 5):
        for b_size in range(1, 5):
            for a in itertools.combinations(servers, a_size):
                for b in itertools.combinations(servers, b_size):
                    brute = any(not set(x) & set(y) for x in itertools.combinations(a, a_size // 2 + 1)
                                for y in itertools.combinations(b, b_size // 2 + 1))
                    pair = split_brain(list(a), list(b))
                    assert bool(pair) == brute, (a, b, pair)
                    if pair:
                        assert not set(pair[0]) & set(pair[1]) and set(pair[0]) <= set(a) and set(pair[1]) <= set(b)
                        assert (len(pair[0]), len(pair[1])) == (a_size // 2 + 1, b_size // 2 + 1), (a, b, pair)


def test_a_correct_can_change_passes_membership_runs_and_changes_happen():
    for seed in range(20):
        result = membership_run(ref.can_change, seed)
        assert membership_judge(result) is None, (seed, membership_judge(result))
        assert len(result["changes"]) >= 5, (seed, result["changes"])
        actions = {c[1] for r in [result] for c in r["changes"]}
    assert actions == {"add_learner", "promote", "remove"}, actions


def _without(rule):
    def can_change(state, change):
        s = copy.deepcopy(state)
        if rule == "in_flight":
            s["log"] = s["log"][:s["commit_index"]] + [e for e in s["log"][s["commit_index"]:]
                                                       if e["command"].get("op") != "config"]
        else:
            s["match_index"] = [10 ** 6] * len(s["match_index"])
        return ref.can_change(s, change)
    return can_change


def test_two_changes_in_flight_show_two_disjoint_majorities():
    caught = [membership_judge(membership_run(_without("in_flight"), seed)) for seed in range(10)]
    assert sum(bool(c) for c in caught) >= 6, caught
    assert any(c and "elect two leaders in one term" in c and "replay: membership_run(" in c for c in caught), caught


def test_a_learner_promoted_before_it_caught_up_is_caught():
    caught = [membership_judge(membership_run(_without("caught_up"), seed)) for seed in range(10)]
    assert any(c and "a learner counted as a voter before it caught up" in c for c in caught), caught


def test_a_failing_apply_committed_case_names_the_paths_the_function_returns():
    """The contract compares a cut-down state, but under the keys apply_committed returns: a wrong machine is
    reported at result['state']['machine'], never at a key of a projection the learner never built."""
    from autograde.verdict import VerdictFailure, check_contract

    def one_short(state):
        out = ref.apply_committed(dict(state, commit_index=max(state["last_applied"], state["commit_index"] - 1)))
        out["state"]["commit_index"] = state["commit_index"]
        out["state"]["last_applied"] = state["commit_index"]
        return out
    with pytest.raises(VerdictFailure) as failure:
        check_contract(ref.viewed_apply_committed(one_short), ref.CONTRACTS["apply_committed"], seed=1622)
    message = str(failure.value)
    assert "result['state']['machine']" in message or "result['results']" in message, message
    assert "'raft'" not in message, message
