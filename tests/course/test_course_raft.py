"""course.raft: the simulated network and cluster, the invariant checks (each shown to fire), the
contract views, the scenarios (a correct node passes them all; each of the seed's rules breaks one),
the judge's message, and the figures."""

import time

import matplotlib.pyplot as plt
import pytest

from autograde.reference import raft as ref
from course.raft import (MAX_CALLS, SCENARIOS, Cluster, ContractError, build_scenario, election_handlers,
                         initial_state, judge, plot_cluster, plot_logs, plot_timeline, project_message,
                         project_result, project_state, replay, restarted, run_scenario, seed_commit_by_count,
                         seed_no_log_check, seed_votes, time_to_first_leader, viewed)

NODE = dict(ref.HANDLERS)
ELECTION = election_handlers(ref.start_election, ref.handle_request_vote, ref.handle_vote_reply, ref.heartbeat)


def test_same_seed_same_run_other_seed_other_run():
    a = run_scenario(NODE, "unreliable", seed=3)
    assert a == run_scenario(NODE, "unreliable", seed=3)
    assert a["leaders"] != run_scenario(NODE, "unreliable", seed=4)["leaders"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_correct_node_passes_every_scenario(scenario):
    handlers = ELECTION if scenario in ("initial_election", "reelection", "no_majority") else NODE
    for seed in (0, 1, 2):
        if scenario == "duplicates":
            continue   # the seed's vote counting needs it; a correct node may or may not elect in 4 s there
        result = run_scenario(handlers, scenario, seed)
        assert ref.judge(result) is None, ref.judge(result)


def test_each_of_the_seeds_rules_breaks_safety_in_a_seeded_run():
    votes = run_scenario(dict(NODE, handle_vote_reply=seed_votes(ref.handle_vote_reply)), "duplicates", seed=0)
    assert votes["violations"] and "election safety" in votes["violations"][0]
    no_check = run_scenario(dict(NODE, handle_request_vote=seed_no_log_check(ref.handle_request_vote)), "churn", seed=0)
    assert no_check["violations"] and "leader completeness" in no_check["violations"][0]
    count = run_scenario(dict(NODE, handle_append_reply=seed_commit_by_count(ref.handle_append_reply)), "figure8",
                         seed=1)
    assert count["violations"] and "leader completeness" in count["violations"][0]
    assert ref.judge(run_scenario(NODE, "figure8", seed=1)) is None      # the same script with the real rule


def test_log_matching_and_state_machine_checks_fire():
    diverged = Cluster(NODE, n=3, seed=1)
    diverged.states[0]["log"] = [{"term": 1, "command": 1}, {"term": 2, "command": 5}]
    diverged.states[1]["log"] = [{"term": 2, "command": 9}, {"term": 2, "command": 5}]
    assert not diverged._log_matching(0)
    assert "log matching: nodes 0 and 1 both have term 2 at index 2" in diverged.violations[0]
    consistent = Cluster(NODE, n=3, seed=1)
    consistent.states[0]["log"] = [{"term": 1, "command": 1}, {"term": 2, "command": 5}]
    consistent.states[1]["log"] = [{"term": 1, "command": 1}, {"term": 3, "command": 7}]
    assert consistent._log_matching(0)

    cluster = Cluster(NODE, n=3, seed=1)
    cluster.run(1.0)
    leader = cluster.current_leader()
    cluster.submit_to(leader, 5)
    cluster.run(1.5)
    assert cluster.holders(5) == [0, 1, 2] and not cluster.violations
    follower = (leader + 1) % 3
    cluster.applied[follower].append([])                 # as after a restart: it applies from index 1 again
    forged = dict(cluster.states[follower], log=[{"term": 99, "command": 6}], commit_index=1)
    assert not cluster._check(follower, dict(forged, commit_index=0), forged)
    assert "state-machine safety: node" in cluster.violations[0] and "[99, 6] at index 1" in cluster.violations[0]


def test_partitions_drop_messages_and_no_minority_elects():
    cluster = Cluster(ELECTION, n=5, seed=2)
    cluster.partition([0, 1], [2, 3, 4])
    cluster.run(2.0)
    assert cluster.current_leader([0, 1]) is None
    assert cluster.current_leader([2, 3, 4]) is not None
    lossy = Cluster(ELECTION, n=3, seed=2, drop=1.0)
    lossy.run(2.0)
    assert lossy.leaders == [] and lossy.messages_since(0) > 0


def test_duplicates_deliver_twice_and_the_call_budget_stops_a_storm():
    plain = Cluster(ELECTION, n=3, seed=5).run(1.0)
    doubled = Cluster(ELECTION, n=3, seed=5, duplicate=1.0).run(1.0)
    assert doubled.calls > plain.calls
    storm = Cluster(ELECTION, n=3, seed=5, max_calls=20).run(2.0)
    assert storm.failures and "message storm" in storm.failures[0]
    assert MAX_CALLS == 4000 and Cluster(ELECTION).max_calls == MAX_CALLS     # the limit exercise 6 states


def test_crash_keeps_only_what_was_saved():
    cluster = Cluster(NODE, n=3, seed=6).run(1.0)
    leader = cluster.current_leader()
    cluster.submit_to(leader, 42)
    cluster.run(1.5)
    term = cluster.states[leader]["term"]
    cluster.crash(leader)
    assert not cluster.alive[leader] and cluster.saved[leader]["term"] == term
    cluster.run(2.5)
    cluster.restart(leader)
    restarted_state = cluster.states[leader]
    assert restarted_state["role"] == "follower" and restarted_state["log"][-1]["command"] == 42
    cluster.run(4.0)
    assert not cluster.violations


def test_handlers_outside_the_contract_are_reported_not_raised():
    def junk(state):
        return {"state": state}                       # no "send"
    result = run_scenario(dict(ELECTION, start_election=junk), "initial_election", seed=0)
    assert "start_election on node" in result["violations"][0] and "'send'" in result["violations"][0]

    def boom(state, msg):
        raise RuntimeError("oops")
    result = run_scenario(dict(ELECTION, handle_request_vote=boom), "initial_election", seed=0)
    assert "raised RuntimeError: oops" in result["violations"][0]

    def wrong_sender(state):
        out = ref.start_election(state)
        out["send"][0]["from"] = 99
        return out
    result = run_scenario(dict(ELECTION, start_election=wrong_sender), "initial_election", seed=0)
    assert "from=99" in result["violations"][0]


def test_views_ignore_extra_keys_and_message_order_and_reject_bad_shapes():
    state = dict(initial_state(0, 3), term=2, role="candidate", votes=[2, 0, 0], extra="mine")
    view = project_state(state)
    assert view["votes"] == [0, 2] and "extra" not in view and "next_index" not in view
    leader = dict(initial_state(1, 3), role="leader", match_index=[4, 9, 2])
    assert project_state(leader)["match_index"] == [4, None, 2]
    assert "commit_index" not in project_state(leader, restarted=True)
    reply = {"type": "append_reply", "term": 1, "from": 0, "to": 1, "success": False, "match_index": 7,
             "conflict_index": 3, "note": "x"}
    assert project_message(reply) == {"type": "append_reply", "term": 1, "from": 0, "to": 1, "success": False,
                                      "conflict_index": 3}
    a = project_result(ref.start_election(initial_state(0, 5)))
    flipped = ref.start_election(initial_state(0, 5))
    flipped["send"].reverse()
    assert project_result(flipped) == a
    with pytest.raises(ContractError):
        project_state({"id": 0})
    with pytest.raises(ContractError):
        project_message({"type": "gossip"})
    with pytest.raises(ContractError):
        project_result([1, 2])
    assert viewed(ref.start_election).__name__ == "start_election"
    crash = restarted(ref.persistent_state, ref.restart)
    assert crash(dict(leader, term=3, voted_for=1)) == dict(id=1, n=3, term=3, voted_for=1, role="follower",
                                                             commit_index=0, log=[])


def test_a_stale_refusal_is_compared_without_its_conflict_index():
    follower = dict(initial_state(2, 3), term=3, log=[{"term": 1, "command": 1}])
    stale = {"type": "append_entries", "term": 2, "from": 0, "to": 2, "prev_log_index": 5, "prev_log_term": 2,
             "entries": [], "leader_commit": 0}

    def hint(value):
        def handler(state, msg):
            out = ref.handle_append_entries(state, msg)
            out["send"][0]["conflict_index"] = value
            return out
        return handler
    views = [viewed(hint(v))(follower, stale) for v in (0, 2, 99)]
    assert views[0] == views[1] == views[2] == ref.viewed(ref.handle_append_entries)(follower, stale)
    assert "conflict_index" not in views[0]["send"][0]
    current = dict(stale, term=3)                  # the same refusal from the current leader: the hint counts
    assert viewed(hint(99))(follower, current) != ref.viewed(ref.handle_append_entries)(follower, current)


def test_a_restart_may_restore_a_commit_index_up_to_the_one_before_the_crash():
    log = [{"term": 1, "command": 1}, {"term": 2, "command": 2}, {"term": 2, "command": 3}]
    before = dict(initial_state(0, 3), term=2, log=log, commit_index=1)

    def restart_with(commit):
        return lambda saved, node_id, n: dict(ref.restart(saved, node_id, n), commit_index=commit(saved))
    expected = ref.restarted_view(before)
    assert expected["commit_index"] == 0
    assert restarted(ref.persistent_state, restart_with(lambda saved: 1))(before) == expected
    wrong = restarted(ref.persistent_state, restart_with(lambda saved: len(saved["log"])))(before)
    assert wrong["commit_index"] == 3 and wrong != expected


def test_a_restart_that_counts_uncommitted_entries_committed_fails_its_scenario():
    def from_log_length(saved, node_id, n):
        return dict(ref.restart(saved, node_id, n), commit_index=len(saved["log"]))
    for seed in (0, 1, 2):
        result = run_scenario(dict(NODE, restart=from_log_length), "restart_uncommitted", seed)
        assert result["violations"] or result["failures"], seed


def test_figure8_runs_with_the_papers_terms():
    cluster = build_scenario(NODE, "figure8", seed=1, max_calls=10 ** 6).run(2.7)
    terms = [[e["term"] for e in s["log"]] for s in cluster.states]
    assert terms == [[1, 2], [1, 2], [1, 2], [1], [1, 3]]                      # the paper's (c)
    assert cluster.states[0]["role"] == "leader" and cluster.states[0]["term"] == 4
    assert all(s["commit_index"] == 1 for s in cluster.states)
    cluster.run(6.0)
    assert [[e["term"] for e in s["log"]] for s in cluster.states] == [[1, 3, 5]] * 5   # the paper's (d)


def test_message_counts_stay_within_the_scenario_bounds():
    cluster = Cluster(NODE, n=5, seed=11).run(2.0)
    start = cluster.now_ms
    cluster.run(3.0)
    assert 70 <= cluster.messages_since(start) <= 90      # 20 x (n - 1) = 80 a second while idle


def test_judge_names_scenario_seed_trace_and_replay_and_the_independent_check_works():
    result = run_scenario(dict(NODE, handle_append_reply=seed_commit_by_count(ref.handle_append_reply)), "figure8",
                          seed=1, label="SEEDY")
    message = judge(result)
    assert "scenario 'figure8' (n=5, seed 1)" in message and "replay(SEEDY, 'figure8', seed=1)" in message
    assert message.count(" ms  ") >= 5
    good = run_scenario(NODE, "basic_agreement", seed=2)
    assert ref.judge(good) is None
    forged = dict(good, leaders=good["leaders"] + [[9999.0, (good["leaders"][0][1] + 1) % 3,
                                                    good["leaders"][0][2]]])
    assert "two leaders in term" in ref.judge(forged)
    forged = dict(good, applied=[[[[1, 1, 101]]], [[[1, 1, 999]]], [[]]])
    assert "applied" in ref.judge(forged)


def test_fixed_timeouts_split_votes_and_random_ones_elect_quickly():
    assert max(time_to_first_leader(ELECTION, n=5, seeds=range(5), jitter=True)) < 1.5
    assert time_to_first_leader(ELECTION, n=5, seeds=range(3), jitter=False, limit_s=3.0) == [3.0, 3.0, 3.0]


def test_unknown_scenario_and_missing_handler_raise():
    with pytest.raises(ValueError):
        build_scenario(NODE, "nope", 1)
    with pytest.raises(KeyError):
        Cluster({}, n=3, seed=1).run(1.0)


def test_figures_have_titles_and_axis_labels():
    run = replay(NODE, "rejoin", seed=4, picture=False)
    for fig, ax in (plot_timeline(run), plot_cluster(run), plot_logs(run)):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        plt.close(fig)
    broken = replay(dict(NODE, handle_append_reply=seed_commit_by_count(ref.handle_append_reply)), "figure8", 1,
                    picture=False)
    fig, ax = plot_timeline(broken)
    assert "broken: leader completeness" in ax.get_xlabel()
    plt.close("all")


def test_simulator_speed_is_reported(capsys):
    started, events = time.perf_counter(), 0
    for seed in range(5):
        events += Cluster(NODE, n=5, seed=seed).run(3.0).events
    rate = events / (time.perf_counter() - started)
    print(f"simulator: {rate:,.0f} node events per second with the reference node")
    assert rate > 2000


def test_random_schedules_cover_every_size_partition_shape_and_crash():
    """The random schedules reach the whole domain: 2 to 7 nodes, splits into 2 and 3 groups, single nodes
    and the leader cut off, heals, crashes and restarts (issue 17: not one corner)."""
    sizes, kinds = set(), set()
    for seed in range(60):
        config, steps = SCENARIOS["random_crashes"](seed)
        sizes.add(config["n"])
        for _, action, *args in steps:
            kinds.add(f"partition into {len(args)}" if action == "partition" else
                      f"{action} leader" if args and args[0] == "L" else action)
    assert sizes == set(range(2, 8)), f"seeds 0-59: cluster sizes {sorted(sizes)}, expected 2 to 7"
    want = {"partition into 2", "partition into 3", "disconnect", "disconnect leader", "connect", "heal", "crash",
            "crash leader", "restart", "submit", "expect"}
    assert want <= kinds, f"seeds 0-59: missing {sorted(want - kinds)}"
    assert all("crash" not in a for a in {s[1] for seed in range(20) for s in SCENARIOS["random_partitions"](seed)[1]})


def test_a_majority_right_for_odd_clusters_only_breaks_election_safety_in_a_random_schedule():
    """(n + 1) // 2 votes is a majority of 3 or 5 nodes only; the random schedules' even clusters show it."""
    def odd_majority(state, msg):
        result = ref.handle_vote_reply(state, msg)
        s = result["state"]
        if s["role"] == "candidate" and len(set(s["votes"])) >= (s["n"] + 1) // 2:
            s = dict(s, role="leader", next_index=[len(s["log"]) + 1] * s["n"], match_index=[0] * s["n"])
            return {"state": s, "send": ref.heartbeat(s)["send"], "reset_timer": False}
        return result

    handlers = election_handlers(ref.start_election, ref.handle_request_vote, odd_majority, ref.heartbeat)
    problems = [ref.judge(run_scenario(handlers, "random_elections", seed)) for seed in (1, 9, 23)]
    assert all(p and "election safety" in p for p in problems), problems


def test_the_next_index_view_is_a_leaders_only_and_ignores_its_own_slot():
    leader = dict(initial_state(1, 3), term=2, role="leader", voted_for=1, next_index=[3, 9, 1], match_index=[2, 0, 0])
    view = project_state(leader, next_index=True)
    assert view["next_index"] == [3, None, 1] and "next_index" not in project_state(leader)
    assert "next_index" not in project_state(dict(leader, role="follower"), next_index=True)
    reply = {"type": "append_reply", "term": 2, "from": 0, "to": 1, "success": False, "match_index": 0,
             "conflict_index": 1}
    assert viewed(ref.handle_append_reply, send=False, next_index=True)(leader, reply)["state"]["next_index"] == [3, None, 1]
