"""Property judges for 02-load-balancing, shipped to students (see ``autograde.judges``).

Each ``*_judge`` factory returns a judge for ``autograde.verdict.check_property``: it receives the
learner's results as plain data and returns None when they are acceptable, else a sentence that
says what is wrong. None of them contains a policy, a health checker or an autoscaler: the
reference models that the hidden tests need (the pool, the autoscaler) stay in
``autograde.reference.load_balancing``.
"""

from __future__ import annotations

import math

from course.balancing import SLO_BUDGET_MINUTES

COST_SLACK = 0.01
SETTINGS_KEYS = ("min_capacity", "max_capacity", "target", "scale_out_cooldown_s", "scale_in_cooldown_s")


def is_index(value, n):
    """An int (not a bool or a float) that names one of n servers."""
    return type(value) is int and 0 <= value < n


def smooth_weighted_judge(weights):
    """Judge a list of picks for ``weights``: exact counts per block of W picks, within 1 of the
    fair share after every prefix."""
    weights = list(weights)
    total = sum(weights)

    def judge(picks):
        if type(picks) is not list:
            return "the picks should be a list"
        counts = [0] * len(weights)
        for k, server in enumerate(picks, start=1):
            if not is_index(server, len(weights)):
                return f"pick {k} is {server!r}, not a server index from 0 to {len(weights) - 1}"
            counts[server] += 1
            for i, w in enumerate(weights):
                share = k * w / total
                if abs(counts[i] - share) > 1 + 1e-9:
                    return (f"after {k} picks server {i} (weight {w}) was picked {counts[i]} times, "
                            f"more than 1 away from its share {share:.2f}: picks come in bursts")
            if k % total == 0:
                block = picks[k - total:k]
                got = [block.count(i) for i in range(len(weights))]
                if got != weights:
                    return (f"picks {k - total + 1}..{k} (one block of sum(weights) = {total}) give the "
                            f"servers {got} picks; the weights are {weights}")
        return None

    return judge


def least_connections_judge(loads):
    """Judge picks made for the load vectors ``loads``: each pick is a least-loaded server."""

    def judge(picks):
        if type(picks) is not list or len(picks) != len(loads):
            return f"expected a list of {len(loads)} picks"
        for k, (server, vector) in enumerate(zip(picks, loads), start=1):
            if not is_index(server, len(vector)):
                return f"pick {k} is {server!r}, not a server index from 0 to {len(vector) - 1}"
            if vector[server] != min(vector):
                return (f"pick {k}: loads were {vector} and server {server} has {vector[server]} in flight, "
                        f"but the least is {min(vector)}")
        return None

    return judge


def two_choices_rank_probabilities(n):
    """P(the server with the r-th lowest of n distinct loads is picked), r = 1..n: two distinct
    servers drawn uniformly, the less loaded one wins, so P = 2 (n - r) / (n (n - 1))."""
    if n == 1:
        return [1.0]
    return [2 * (n - r) / (n * (n - 1)) for r in range(1, n + 1)]


TWO_CHOICES_Z = 5.5
"""A rank's share of the picks may differ from its probability p by 5.5 standard deviations
(sqrt(p (1 - p) / picks)) plus one pick: a correct policy fails this by chance with probability
below 1e-7 per rank, whatever random numbers it draws."""


def two_choices_judge(loads):
    """Judge picks made for ``loads`` (one fixed vector of distinct loads, repeated): never the
    most loaded server, and each rank picked about as often as two random choices would."""
    vector = loads[0]
    n = len(vector)
    order = sorted(range(n), key=lambda i: vector[i])  # rank 1 first
    expected = two_choices_rank_probabilities(n)

    def judge(picks):
        if type(picks) is not list or len(picks) != len(loads):
            return f"expected a list of {len(loads)} picks"
        for k, server in enumerate(picks, start=1):
            if not is_index(server, n):
                return f"pick {k} is {server!r}, not a server index from 0 to {n - 1}"
            if n > 1 and server == order[-1]:
                return (f"pick {k} went to server {server}, the most loaded ({vector[server]} in flight): "
                        "of two different servers, the less loaded one must win")
        total = len(picks)
        for rank, server in enumerate(order, start=1):
            share, p = picks.count(server) / total, expected[rank - 1]
            tolerance = TWO_CHOICES_Z * math.sqrt(p * (1 - p) / total) + 1 / total
            if abs(share - p) > tolerance:
                return (f"server {server} (load {vector[server]}, rank {rank} of {n}) got {share:.3f} of the picks; "
                        f"two random choices give it {p:.3f} (tolerance {tolerance:.3f}): are both candidates "
                        "drawn uniformly and distinct, and does the less loaded one win?")
        return None

    return judge


def replay_judge(picks):
    """Judge ``course.balancing.replay_picks``: two policies built with the same seed pick alike."""
    if type(picks) is not dict or picks.get("first") != picks.get("second"):
        return "two policies built with the same seed made different picks: draw from default_rng(seed)"
    return None


def settings_table_judge(results, budget_minutes=SLO_BUDGET_MINUTES, slack=COST_SLACK):
    """Judge a settings dict against a table of one day's results, computed once and written in
    the test cell: ``results`` maps (target, scale-out cooldown, scale-in cooldown) of each grid
    setting to (SLO-violating minutes, server-hours). The settings must keep min 4 and max 100,
    stay within ``budget_minutes``, and cost at most ``slack`` more than the cheapest setting of the
    table that does. Settings off the grid are not in the table, so this judge accepts them: the
    hidden tests run those with the reference autoscaler."""
    feasible = [(hours, key) for key, (minutes, hours) in results.items() if minutes <= budget_minutes]
    best_hours, best_key = min(feasible)

    def judge(settings):
        if type(settings) is not dict or sorted(settings) != sorted(SETTINGS_KEYS):
            return f"expected a dict with the keys {list(SETTINGS_KEYS)}"
        if settings["min_capacity"] != 4 or settings["max_capacity"] != 100:
            return "keep the seed's min_capacity=4 and max_capacity=100"
        key = (settings["target"], settings["scale_out_cooldown_s"], settings["scale_in_cooldown_s"])
        try:
            minutes, hours = results[key]
        except (KeyError, TypeError):
            return None  # off the grid: decided by the hidden tests
        if minutes > budget_minutes:
            return f"these settings violate the SLO for {minutes} minutes; the budget is {budget_minutes}"
        if hours > best_hours * (1 + slack):
            best = dict(zip(SETTINGS_KEYS, (4, 100) + best_key))
            return (f"these settings cost {hours:.1f} server-hours; the grid's cheapest within "
                    f"the budget costs {best_hours:.1f} ({best})")
        return None

    return judge
