"""Reference answers and seeded hidden-test cases for 05-replication-cap.

Written independently of the solution notebook; the solution must score full marks against them.
Each ``*_cases(seed, n)`` returns plain keyword-argument dicts drawn from
``numpy.random.default_rng(seed)`` (some also carry the learner's function or class, which the
test cell passes in). Where the reference raises ValueError the learner's code must raise it too.

Conventions stated in the notebook:

- a vector clock is a dict {node: count}; a node that is absent counts 0;
- an LWW state is [timestamp, replica, value]; the larger (timestamp, replica) wins;
- a history is a list of {"client", "kind", "value", "start", "end"}; operation a precedes b when
  a["end"] < b["start"]; the register starts at ``initial``. Touching operations (a["end"] ==
  b["start"]) may go either way: the contract tests it; the older seeded histories have distinct times;
- stale-read rates from the simulation must agree within ``RATE_TOL`` (absolute).
"""

from __future__ import annotations

import math

import numpy as np

from course.replication import merge_law_values, run_replicas, stale_read_rate, vector_clock_run

RATE_TOL = 0.005
ELEMENTS = ["book", "pen", "mug", "lamp", "socks"]


# --------------------------------------------------------------------------- quorums

def quorum_read(replies, r):
    if r < 1:
        raise ValueError("r must be at least 1")
    if len(replies) < r:
        return None
    best = max(replies[:r], key=lambda reply: reply[1])
    return [best[1], best[2]]


def quorum_read_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        count = int(rng.integers(0, 8))
        replicas = [f"r{i}" for i in rng.permutation(8)[:count]]
        versions = rng.integers(0, 6, size=count)
        replies = [[name, int(v), f"v{int(v)}"] for name, v in zip(replicas, versions)]
        cases.append({"replies": replies, "r": int(rng.integers(1, 6))})
    return cases + [{"replies": [["r0", 1, "v1"]], "r": 0}]


def quorum_scenarios(seed, n=4):
    """Simulation settings whose stale-read rate the learner's quorum_read must reproduce."""
    rng = np.random.default_rng(seed)
    configs = [(3, 1, 1), (3, 1, 2), (3, 2, 2), (5, 1, 3), (5, 2, 2), (5, 3, 3)]
    scenarios = []
    for index in rng.permutation(len(configs))[:n]:
        nn, r, w = configs[int(index)]
        scenarios.append({"n": nn, "r": r, "w": w, "seed": int(rng.integers(0, 10_000)), "duration_s": 4.0})
    scenarios.append({"n": 3, "r": 1, "w": 1, "seed": int(rng.integers(0, 10_000)), "duration_s": 4.0,
                      "partition": {"start": 1.0, "end": 3.0, "groups": [["r0", "r1", "writer", "reader1"], ["r2", "reader2"]]}})
    return scenarios


def reference_stale_read_rate(**scenario):
    """The simulation's stale-read rate for ``scenario`` with the reference quorum_read."""
    return stale_read_rate(quorum_read, **scenario)


def stale_read_probability(n, r, w):
    for name, value in (("n", n), ("r", r), ("w", w)):
        if type(value) is not int:
            raise ValueError(f"{name} must be an int")
    if not (1 <= r <= n and 1 <= w <= n):
        raise ValueError("need 1 <= r, w <= n")
    if r + w > n:
        return 0.0
    return math.comb(n - w, r) / math.comb(n, r)


def stale_read_probability_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        nn = int(rng.integers(1, 16))
        cases.append({"n": nn, "r": int(rng.integers(1, nn + 1)), "w": int(rng.integers(1, nn + 1))})
    return cases + [{"n": 3, "r": 0, "w": 2}, {"n": 3, "r": 2, "w": 4}]


# --------------------------------------------------------------------------- last writer wins

def lww_merge(a, b):
    if a[0] == b[0] and a[1] == b[1]:
        if a[2] != b[2]:
            raise ValueError("two different writes with the same timestamp and replica")
        return list(a)
    return list(a) if (a[0], a[1]) > (b[0], b[1]) else list(b)


def lww_merge_cases(seed, n=200):
    rng = np.random.default_rng(seed)
    writes = {}
    cases = []
    for _ in range(n):
        pair = []
        for _ in range(2):
            key = (int(rng.integers(0, 6)), str(rng.choice(["a", "b", "c"])))
            if key not in writes:
                cart = sorted(str(e) for e in rng.choice(ELEMENTS, size=int(rng.integers(0, 4)), replace=False))
                writes[key] = [float(key[0]), key[1], cart]
            pair.append(list(writes[key]))
        cases.append({"a": pair[0], "b": pair[1]})
    return cases + [{"a": [3.0, "a", ["book"]], "b": [3.0, "a", ["pen"]]}]


# --------------------------------------------------------------------------- vector clocks

def vc_increment(clock, node):
    out = dict(clock)
    out[node] = out.get(node, 0) + 1
    return out


def vc_merge(a, b):
    return {node: max(a.get(node, 0), b.get(node, 0)) for node in set(a) | set(b)}


def vc_compare(a, b):
    nodes = set(a) | set(b)
    less = any(a.get(k, 0) < b.get(k, 0) for k in nodes)
    more = any(a.get(k, 0) > b.get(k, 0) for k in nodes)
    return {(False, False): "equal", (True, False): "before", (False, True): "after"}.get((less, more), "concurrent")


def random_causal_history(rng, processes=3, events=20):
    """Random local, send and receive events; every receive takes a message already sent."""
    names = [f"p{i}" for i in range(processes)]
    history, in_flight, next_id = [], [], 0
    for _ in range(events):
        choice = rng.random()
        if choice < 0.35 and in_flight:
            msg, sender = in_flight.pop(int(rng.integers(0, len(in_flight))))
            receiver = str(rng.choice([p for p in names if p != sender]))
            history.append(["recv", receiver, msg])
        elif choice < 0.7:
            sender = str(rng.choice(names))
            history.append(["send", sender, next_id])
            in_flight.append((next_id, sender))
            next_id += 1
        else:
            history.append(["local", str(rng.choice(names))])
    return history


def happened_before(history):
    """before[i] = the set of events that happened before event i (Lamport's relation, by graph search)."""
    parents = {i: set() for i in range(len(history))}
    last, sent = {}, {}
    for i, event in enumerate(history):
        if event[1] in last:
            parents[i].add(last[event[1]])
        last[event[1]] = i
        if event[0] == "send":
            sent[event[2]] = i
        elif event[0] == "recv":
            parents[i].add(sent[event[2]])
    before = {}
    for i in range(len(history)):  # events are in a causal order, so parents come first
        before[i] = set().union(*[{p} | before[p] for p in parents[i]]) if parents[i] else set()
    return before


def vector_clock_run_cases(seed, n=60):
    """Histories for vector_clock_run(increment, merge, events); the test adds the learner's functions."""
    rng = np.random.default_rng(seed)
    return [{"events": random_causal_history(rng, int(rng.integers(2, 5)), int(rng.integers(1, 30)))}
            for _ in range(n)]


def reference_vector_clock_run(increment, merge, events):
    return vector_clock_run(vc_increment, vc_merge, events)


def vc_compare_cases(seed, n=300):
    """Pairs of clocks from random causal histories; the answer is the graph's happened-before relation."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        history = random_causal_history(rng, int(rng.integers(2, 5)), int(rng.integers(2, 25)))
        clocks = vector_clock_run(vc_increment, vc_merge, history)
        before = happened_before(history)
        for _ in range(5):
            i, j = (int(x) for x in rng.integers(0, len(history), size=2))
            truth = ("equal" if i == j else "before" if i in before[j] else "after" if j in before[i]
                     else "concurrent")
            a, b = dict(clocks[i]), dict(clocks[j])
            if rng.random() < 0.3:  # an explicit zero means the same as an absent node
                a.setdefault(f"p{int(rng.integers(0, 5))}", 0)
            if vc_compare(a, b) != truth:
                raise AssertionError(f"reference vector clocks disagree with the graph on {history}")
            cases.append({"a": a, "b": b})
    return cases[:n]


# --------------------------------------------------------------------------- CRDTs

class GCounter:
    def __init__(self, replica_id):
        self.id, self.counts = replica_id, {}

    def increment(self, amount=1):
        if amount < 0:
            raise ValueError("a G-Counter only grows")
        self.counts[self.id] = self.counts.get(self.id, 0) + amount

    def merge(self, other):
        for key, count in other.counts.items():
            self.counts[key] = max(self.counts.get(key, 0), count)

    def value(self):
        return sum(self.counts.values())


class PNCounter:
    def __init__(self, replica_id):
        self.up, self.down = GCounter(replica_id), GCounter(replica_id)

    def increment(self, amount=1):
        self.up.increment(amount)

    def decrement(self, amount=1):
        self.down.increment(amount)

    def merge(self, other):
        self.up.merge(other.up)
        self.down.merge(other.down)

    def value(self):
        return self.up.value() - self.down.value()


class ORSet:
    def __init__(self, replica_id):
        self.id, self.seq, self.added, self.removed = replica_id, 0, set(), set()

    def add(self, element):
        self.seq += 1
        self.added.add((element, self.id, self.seq))

    def remove(self, element):
        self.removed |= {tag for tag in self.added if tag[0] == element}

    def merge(self, other):
        self.added |= other.added
        self.removed |= other.removed

    def value(self):
        return sorted({tag[0] for tag in self.added - self.removed})


REFERENCE_CLASSES = {"gcounter": GCounter, "pncounter": PNCounter, "orset": ORSet}


def _random_op(rng, kind, replicas):
    i = int(rng.integers(0, replicas))
    if kind == "orset":
        return ["add" if rng.random() < 0.6 else "remove", i, str(rng.choice(ELEMENTS[:3]))]
    if kind == "pncounter" and rng.random() < 0.4:
        return ["dec", i, int(rng.integers(1, 6))]
    return ["inc", i, int(rng.integers(1, 6))]


def crdt_run_cases(kind, seed, n=40):
    """Random updates, deliveries in a random order, reads along the way, then full anti-entropy."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        k = int(rng.integers(2, 5))
        ops = []
        for _ in range(int(rng.integers(5, 40))):
            roll = rng.random()
            if roll < 0.55:
                ops.append(_random_op(rng, kind, k))
            elif roll < 0.85:
                i, j = (int(x) for x in rng.choice(k, size=2, replace=False))
                ops.append(["merge", i, j])
            else:
                ops.append(["value", int(rng.integers(0, k))])
        pairs = [[i, j] for i in range(k) for j in range(k) if i != j]
        for _ in range(2):  # two rounds of gossip in a random order: every replica hears of everything
            for index in rng.permutation(len(pairs)):
                ops.append(["merge", *pairs[int(index)]])
        ops += [["value", i] for i in range(k)]
        cases.append({"replicas": [f"n{i}" for i in range(k)], "ops": ops})
    if kind != "orset":
        bad = "dec" if kind == "pncounter" else "inc"
        cases.append({"replicas": ["n0", "n1"], "ops": [[bad, 0, -2]]})
    return cases


def crdt_law_cases(kind, seed, n=40):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        local = {}
        for name in ("a", "b", "c"):
            ops = [_random_op(rng, kind, 1) for _ in range(int(rng.integers(0, 6)))]
            local[name] = [[op[0], op[2]] for op in ops]
        cases.append({"local_ops": local})
    return cases


def reference_run(kind):
    def run(cls, replicas, ops, copy_state=None):
        return run_replicas(REFERENCE_CLASSES[kind], replicas, ops)
    return run


def reference_laws(kind):
    def laws(cls, local_ops, copy_state=None):
        return merge_law_values(REFERENCE_CLASSES[kind], local_ops)
    return laws


# --------------------------------------------------------------------------- linearizability

def _precedes(a, b):
    return a["end"] < b["start"]


def linearizable_by_enumeration(history, initial=0):
    """Try every order that respects real time (no memoisation); for small histories only."""
    ops = list(history)

    def search(remaining, value):
        if not remaining:
            return True
        for i in remaining:
            op = ops[i]
            if any(_precedes(ops[j], op) for j in remaining if j != i):
                continue
            if op["kind"] == "read" and op["value"] != value:
                continue
            if search(remaining - {i}, op["value"] if op["kind"] == "write" else value):
                return True
        return False

    return search(frozenset(range(len(ops))), initial)


def _random_times(rng, clients, ops_per_client, mean_gap=1.0, mean_duration=1.5):
    spans = []
    for c in range(clients):
        t = float(rng.exponential(mean_gap))
        for _ in range(ops_per_client):
            duration = 0.05 + float(rng.exponential(mean_duration))
            spans.append((f"c{c}", round(t, 3), round(t + duration, 3)))
            t += duration + float(rng.exponential(mean_gap))
    return spans


def linearizable_history(rng, clients, ops_per_client, write_share=0.4, values=None):
    """A history made linearizable by construction: each operation takes effect at a random point
    inside its interval. Writes get unique values 1, 2, ... unless ``values`` (a list) is given."""
    spans = _random_times(rng, clients, ops_per_client)
    points = [float(rng.uniform(s, e)) for _, s, e in spans]
    history, current, next_value = [], 0, 1
    for k in np.argsort(points):
        client, start, end = spans[int(k)]
        if rng.random() < write_share:
            value = int(rng.choice(values)) if values else next_value
            next_value += 1
            current = value
            history.append({"client": client, "kind": "write", "value": value, "start": start, "end": end})
        else:
            history.append({"client": client, "kind": "read", "value": current, "start": start, "end": end})
    history.sort(key=lambda op: op["start"])
    return history


def _distinct_times(history):
    times = [op["start"] for op in history] + [op["end"] for op in history]
    return len(set(times)) == len(times)


def small_history_cases(seed, n=150):
    """Histories of 3 to 7 operations with repeated values; verdicts by enumeration. About half are
    perturbed (one read returns another value), so many are not linearizable and most need search."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        clients = int(rng.integers(2, 4))
        history = linearizable_history(rng, clients, int(rng.integers(1, 3)) + 1, write_share=0.5, values=[1, 2, 3])
        history = history[: int(rng.integers(3, 8))]
        reads = [op for op in history if op["kind"] == "read"]
        if reads and rng.random() < 0.7:
            rng.choice(reads)["value"] = int(rng.integers(0, 4))
        if _distinct_times(history):
            cases.append({"history": history, "initial": 0})
    cases.append({"history": [{"client": "c0", "kind": "write", "value": 1, "start": 2.0, "end": 1.0}],
                  "initial": 0})
    return cases


def reference_small_verdict(history, initial=0):
    if any(op["end"] < op["start"] or op["kind"] not in ("read", "write") for op in history):
        raise ValueError("invalid operation")
    return linearizable_by_enumeration(history, initial)


def _inject_stale_read(rng, history):
    """Make one late read return a value two writes old: certainly not linearizable (values are unique)."""
    writes = [op for op in history if op["kind"] == "write"]
    reads = [op for op in history if op["kind"] == "read"]
    for read in sorted(reads, key=lambda op: -op["start"])[: len(reads) // 3]:
        done = [w for w in writes if w["end"] < read["start"]]
        for newer in sorted(done, key=lambda w: -w["end"]):
            older = [w for w in done if w["end"] < newer["start"]]
            if older:
                read["value"] = older[int(rng.integers(0, len(older)))]["value"]
                return history
    raise AssertionError("no place to inject a stale read")


DIAMOND_ROUNDS = 18


def large_history_cases(seed):
    """A diamond history that only a memoised (or otherwise polynomial) search decides in time, then
    histories of 300 to 400 operations from 4 clients with known verdicts (by construction)."""
    rng = np.random.default_rng(seed)
    cases = [({"history": diamond_history(DIAMOND_ROUNDS), "initial": 0}, False)]
    for ops_per_client, linearizable in ((75, True), (100, True), (75, False), (100, False)):
        while True:
            history = linearizable_history(rng, 4, ops_per_client)
            if _distinct_times(history):
                break
        if not linearizable:
            history = _inject_stale_read(rng, history)
        cases.append(({"history": history, "initial": 0}, linearizable))
    return cases


def diamond_history(rounds):
    """``rounds`` rounds of two overlapping writes, then a read of the first value: not linearizable.

    Each round's writes may go in either order, so a search without memoisation tries 2**rounds
    orders before it can say no; with memoisation it sees about 2 states per round.
    """
    history = []
    for i in range(rounds):
        history.append({"client": "A", "kind": "write", "value": 2 * i + 1, "start": 10.0 * i, "end": 10.0 * i + 5})
        history.append({"client": "B", "kind": "write", "value": 2 * i + 2, "start": 10.0 * i + 1, "end": 10.0 * i + 4})
    history.append({"client": "C", "kind": "read", "value": 1, "start": 10.0 * rounds + 1, "end": 10.0 * rounds + 2})
    return history


# --------------------------------------------------------------------------- contracts (issue 17)
# Classes are checked through run_replicas (the reference ignores the learner's class); vector-clock
# functions through course.replication.arguments_after, which also shows an argument changed in place.

from autograde.contracts import OMIT, Contract, Rule, at_least, boundary, edge, of_type  # noqa: E402

_REPLICA_IDS = ["r0", "r1", "r2", "r9", "r10", "r11", "a", "A", "b", "é", "節點", "node-3"]


def _sized(rng, low, high):
    """An int from ``low`` to ``high``, its order of magnitude about uniform (small and large)."""
    return int(min(high, max(low, round(10 ** rng.uniform(0, math.log10(high + 1)) - 1))))


def _draw_quorum(rng):
    count = _sized(rng, 0, 12)
    names = [str(x) for x in rng.permutation(np.array(_REPLICA_IDS, dtype=object))[:count]]
    top = int(rng.choice([3, 12, 10 ** 6]))  # few versions (ties), versions past 9 (not string order), huge
    replies = []
    for name in names:
        version = int(rng.integers(0, top + 1))
        replies.append([name, version, f"v{version}"])
    return {"replies": replies, "r": int(rng.integers(1, count + 3))}


def _draw_stale(rng):
    n = _sized(rng, 1, 60)
    return {"n": n, "r": int(rng.integers(1, n + 1)), "w": int(rng.integers(1, n + 1))}


_CARTS = [[], ["book"], ["book", "pen"], ["charger"], ["mug", "lamp", "socks"], ["é"]]


def _lww_state(rng, writes):
    stamp = float(rng.choice([0.0, 0.5, 3.0, 7.25, 1.7e9, 1.7e9 + 0.125, -2.0]))
    replica = str(rng.choice(_REPLICA_IDS))
    key = (stamp, replica)
    if key not in writes:  # one replica never writes two values at one instant
        writes[key] = [stamp, replica, list(_CARTS[int(rng.integers(len(_CARTS)))])]
    return list(writes[key])


def _draw_lww(rng):
    writes = {}
    a = _lww_state(rng, writes)
    b = _lww_state(rng, writes) if rng.random() < 0.8 else [a[0], str(rng.choice(_REPLICA_IDS)), list(a[2])]
    if b[0] == a[0] and b[1] == a[1]:
        b = list(a)
    return {"a": a, "b": b}


_CLOCK_NODES = ["p0", "p1", "p2", "p9", "p10", "p11", "a", "A", "é", "節點"]


def _clock(rng):
    nodes = list(rng.permutation(np.array(_CLOCK_NODES, dtype=object)))[:_sized(rng, 0, len(_CLOCK_NODES))]
    top = int(rng.choice([2, 12, 10 ** 6]))
    return {str(k): int(rng.integers(0, top + 1)) for k in nodes}


def _draw_increment(rng):
    clock = _clock(rng)
    node = str(rng.choice(list(clock) + _CLOCK_NODES[:3])) if clock and rng.random() < 0.6 else \
        str(rng.choice(_CLOCK_NODES))
    return {"clock": clock, "node": node}


def _draw_merge(rng):
    a, b = _clock(rng), _clock(rng)
    if rng.random() < 0.3:
        b = {k: max(0, v + int(rng.integers(-2, 3))) for k, v in a.items()}  # close clocks: ties and near ties
    return {"a": a, "b": b}


def _draw_compare(rng):
    if rng.random() < 0.5:  # two events of a random message history: the true happened-before relation
        history = random_causal_history(rng, int(rng.integers(2, 6)), _sized(rng, 2, 60))
        clocks = vector_clock_run(vc_increment, vc_merge, history)
        i, j = (int(x) for x in rng.integers(0, len(history), size=2))
        a, b = dict(clocks[i]), dict(clocks[j])
        if rng.random() < 0.3:
            a.setdefault(str(rng.choice(_CLOCK_NODES)), 0)  # an explicit zero: the same clock
        return {"a": a, "b": b}
    return _draw_merge(rng)


def _clock_driver(reference):
    def driver(fn, **arguments):
        import copy as _copy
        before = _copy.deepcopy(arguments)
        returned = reference(**arguments)
        if isinstance(returned, dict):
            returned = {k: v for k, v in returned.items() if v != 0}
        return {"returned": returned, "arguments after the call": before}
    driver.__name__ = f"arguments_after_{reference.__name__}"
    return driver


def _draw_crdt(kind):
    def draw(rng):
        k = _sized(rng, 1, 6)
        ids = [str(x) for x in rng.permutation(np.array(_REPLICA_IDS, dtype=object))[:k]]
        top = int(rng.choice([0, 5, 10 ** 6]))
        ops = []
        for _ in range(_sized(rng, 1, 80)):
            roll, i = rng.random(), int(rng.integers(k))
            if roll < 0.5:
                if kind == "orset":
                    ops.append(["add" if rng.random() < 0.6 else "remove", i,
                                str(rng.choice(ELEMENTS + ["Book", "café", "本"]))])
                else:
                    op = ["dec" if kind == "pncounter" and rng.random() < 0.4 else "inc", i,
                          int(rng.integers(0, top + 1))]
                    ops.append(op[:2] if rng.random() < 0.1 else op)  # no amount: the default, 1
            elif roll < 0.8:
                ops.append(["merge", i, int(rng.integers(k))])  # sometimes its own state: idempotence
            else:
                ops.append(["value", i])
        return {"replicas": ids, "ops": ops + [["value", i] for i in range(k)]}
    return draw


def _crdt_amount_rule(op):
    return Rule(f"`{'increment' if op == 'inc' else 'decrement'}` amounts are >= 0 (0 changes nothing), "
                "else `ValueError`",
                at={"replicas": ["a", "b"], "ops": [[op, 0, 0], ["merge", 1, 0], ["value", 0], ["value", 1]]},
                inside={"replicas": ["a", "b"], "ops": [[op, 0, 1], ["merge", 1, 0], ["value", 0], ["value", 1]]},
                outside={"replicas": ["a", "b"], "ops": [[op, 0, -1], ["value", 0]]})


def _counter_rules(kind):
    amount = 3 if kind == "gcounter" else -3
    op = "inc" if kind == "gcounter" else "dec"
    return [
        edge("a state delivered twice, or a replica's own state, counts once (merge is idempotent)",
             {"replicas": ["a", "b"], "ops": [["inc", 0, 2], [op, 1, 3], ["merge", 0, 1], ["merge", 0, 1],
                                               ["merge", 0, 0], ["value", 0], ["merge", 1, 0], ["value", 1]]}),
        edge("replicas converge whatever the order of delivery, through a third replica too",
             {"replicas": ["a", "b", "c"], "ops": [["inc", 0, 1], [op, 1, 2], ["merge", 2, 1], ["inc", 2, 4],
                                                    ["merge", 0, 2], ["merge", 1, 0], ["merge", 2, 0],
                                                    ["value", 0], ["value", 1], ["value", 2]]}),
        edge("replica ids that differ only in case, or are non-ASCII, are different replicas",
             {"replicas": ["a", "A", "é"], "ops": [["inc", 0, 1], ["inc", 1, 10], [op, 2, 100], ["merge", 0, 1],
                                                    ["merge", 0, 2], ["value", 0]]}),
        edge("`increment()`" + ("" if kind == "gcounter" else " and `decrement()`") + " without an amount count 1",
             {"replicas": ["a", "b"], "ops": [["inc", 0], ["inc", 0], ["value", 0], [op, 1], ["merge", 0, 1],
                                               ["value", 0]]}),
        edge(f"a fresh replica reads 0; the worked example reads {5 if kind == 'gcounter' else 3}",
             {"replicas": ["a", "b"], "ops": [["value", 0], ["inc", 0, 2 if kind == "gcounter" else 5],
                                               [op, 1, abs(amount)], ["merge", 0, 1], ["merge", 1, 0],
                                               ["value", 0], ["value", 1]]}),
    ]


def _draw_history(rng):
    clients = int(rng.integers(1, 5))
    unique = rng.random() < 0.2  # unique values 1, 2, ...; else repeated ones, which force backtracking
    history = linearizable_history(rng, clients, int(rng.integers(1, 4)), write_share=float(rng.uniform(0.2, 0.8)),
                                   values=None if unique else [0, 1, 2])
    history = history[: _sized(rng, 0, 8)]
    initial = int(rng.choice([0, 0, 1, 7]))
    reads = [op for op in history if op["kind"] == "read"]
    if reads and rng.random() < 0.6:  # one read returns another value: often not linearizable
        reads[int(rng.integers(len(reads)))]["value"] = int(rng.choice([0, 1, 2, 3, initial]))
    writes = [op for op in history if op["kind"] == "write"]
    if writes and rng.random() < 0.15:  # a write whose outcome is unknown
        writes[int(rng.integers(len(writes)))]["end"] = math.inf
    if rng.random() < 0.3:  # values need not be ints
        name = {0: "x", 1: "y", 2: "é", 3: "Y", 7: "z"}
        for op in history:
            op["value"] = name.get(op["value"], f"v{op['value']}")
        initial = name[initial]
    return {"history": history, "initial": initial}


def _op(client, kind, value, start, end):
    return {"client": client, "kind": kind, "value": value, "start": start, "end": end}


_W1 = _op("A", "write", 1, 0.0, 2.0)

# From Porcupine's porcupine_test.go (TestRegisterModel, after MIT 6.824's 2017 quiz 2, and TestZeroDuration),
# with the verdicts its tests assert: True, False, True, False (data/porcupine_register_histories.json; the
# development tests check the reference against them).
_PORCUPINE_HISTORIES = [
    [_op("c0", "write", 100, 0.0, 100.0), _op("c1", "read", 100, 25.0, 75.0), _op("c2", "read", 0, 30.0, 60.0)],
    [_op("c0", "write", 200, 0.0, 100.0), _op("c1", "read", 200, 10.0, 30.0), _op("c2", "read", 0, 40.0, 90.0)],
    [_op("c0", "write", 100, 0.0, 100.0), _op("c1", "read", 100, 25.0, 75.0), _op("c2", "read", 0, 30.0, 30.0),
     _op("c3", "read", 0, 30.0, 30.0)],
    [_op("c0", "write", 200, 0.0, 100.0), _op("c1", "read", 200, 10.0, 10.0), _op("c2", "read", 200, 10.0, 10.0),
     _op("c3", "read", 0, 40.0, 90.0)],
]

CONTRACTS = {c.name: c for c in [
    Contract(
        "quorum_read", quorum_read, draw=_draw_quorum,
        domain="0 to 12 replies from replicas named r0 to r11, a, A, é and more, versions up to 3, 12 or 10^6 "
               "(ties and versions past 9), r from 1 to 2 more than the replies",
        rules=[Rule("`r` >= 1, else `ValueError`", at={"r": 1}, inside={"r": 2},
                    outside=[{"r": 0}, {"r": -1, "replies": [["r0", 1, "v1"], ["r1", 2, "v2"], ["r2", 3, "v3"]]},
                             {"r": -5, "replies": [["r0", 1, "v1"]] * 6}]),
               boundary("with fewer than `r` replies the read cannot be answered: `None`",
                        at={"replies": [["r0", 1, "v1"], ["r1", 2, "v2"]], "r": 2},
                        inside={"replies": [["r0", 1, "v1"], ["r1", 2, "v2"], ["r2", 0, "v0"]], "r": 2},
                        outside=[{"replies": [["r0", 1, "v1"]], "r": 2}, {"replies": [], "r": 1}]),
               edge("only the first `r` replies count: a newer reply after them is ignored",
                    {"replies": [["r2", 3, "v3"], ["r0", 5, "v5"], ["r1", 9, "v9"]], "r": 2}),
               edge("versions are compared as numbers: 10 is newer than 9",
                    {"replies": [["r9", 9, "v9"], ["r10", 10, "v10"]], "r": 2}),
               edge("replies with equal versions carry the same value (a tie)",
                    {"replies": [["r0", 4, "v4"], ["r1", 4, "v4"], ["r2", 1, "v1"]], "r": 3})]),
    Contract(
        "stale_read_probability", stale_read_probability, draw=_draw_stale,
        domain="N from 1 to 60, R and W anywhere from 1 to N",
        rules=[Rule("`n`, `r` and `w` are ints (not floats, bools or strings), else `ValueError`",
                    at={"n": 5, "r": 2, "w": 2}, inside={"n": 3, "r": 1, "w": 3},
                    outside=[{"n": 5.0, "r": 2, "w": 2}, {"n": 5, "r": 2.0, "w": 2}, {"n": 5, "r": 2, "w": 2.0},
                             {"n": 5, "r": True, "w": 2}, {"n": 5, "r": 2, "w": True}, {"n": "5", "r": 2, "w": 2}]),
               Rule("`1 <= r <= n`, else `ValueError`",
                    at=[{"n": 5, "r": 1, "w": 2}, {"n": 5, "r": 5, "w": 2}], inside={"n": 5, "r": 4, "w": 2},
                    outside=[{"n": 5, "r": 0, "w": 2}, {"n": 5, "r": 6, "w": 2}, {"n": 5, "r": -1, "w": 2}]),
               Rule("`1 <= w <= n`, else `ValueError`",
                    at=[{"n": 5, "r": 2, "w": 1}, {"n": 5, "r": 2, "w": 5}], inside={"n": 5, "r": 2, "w": 4},
                    outside=[{"n": 5, "r": 2, "w": 0}, {"n": 5, "r": 2, "w": 6}]),
               boundary("it is 0 when R + W > N, and more than 0 when R + W = N",
                        at={"n": 5, "r": 3, "w": 3}, inside={"n": 5, "r": 4, "w": 3}, outside={"n": 5, "r": 2, "w": 3}),
               edge("one replica: R = W = N = 1 is never stale", {"n": 1, "r": 1, "w": 1})]),
    Contract(
        "lww_merge", lww_merge, draw=_draw_lww,
        domain="timestamps from -2 to 1.7 x 10^9 with frequent ties, replica ids differing only in case, "
               "non-ASCII, r9 against r10",
        rules=[Rule("two states with the same timestamp and replica must carry the same value, else `ValueError`",
                    at={"a": [3.0, "a", ["book"]], "b": [3.0, "a", ["book"]]},
                    inside={"a": [3.0, "a", ["book"]], "b": [3.0, "b", ["pen"]]},
                    outside=[{"a": [3.0, "a", ["book"]], "b": [3.0, "a", ["pen"]]},
                             {"a": [3.0, "a", []], "b": [3.0, "a", ["book"]]}]),
               boundary("the larger timestamp wins; on equal timestamps the larger replica id (string order)",
                        at={"a": [5.0, "phone", ["book"]], "b": [5.0, "laptop", ["pen"]]},
                        inside={"a": [5.0, "phone", ["book"]], "b": [5.5, "laptop", ["pen"]]},
                        outside={"a": [5.5, "phone", ["book"]], "b": [5.0, "laptop", ["pen"]]}),
               edge("replica ids compare as strings: \"r9\" beats \"r10\", \"a\" beats \"A\"",
                    {"a": [1.0, "r10", ["pen"]], "b": [1.0, "r9", ["mug"]]},
                    {"a": [1.0, "a", ["pen"]], "b": [1.0, "A", ["mug"]]}),
               edge("the argument order does not matter (the worked example both ways)",
                    {"a": [5.0, "phone", ["book", "headphones"]], "b": [7.0, "laptop", ["book", "charger"]]},
                    {"a": [7.0, "laptop", ["book", "charger"]], "b": [5.0, "phone", ["book", "headphones"]]})]),
    Contract(
        "vc_increment", _clock_driver(vc_increment), draw=_draw_increment, supplied=("fn",),
        domain="clocks of 0 to 10 processes (p9 and p10, a and A, non-ASCII) with counts up to 2, 12 or 10^6, "
               "explicit zeros, the node present or absent",
        rules=[edge("an absent node counts 0: it becomes 1", {"clock": {}, "node": "a"}, {"clock": {"b": 2}, "node": "a"}),
               edge("an explicit zero entry counts 0 too", {"clock": {"a": 0, "b": 3}, "node": "a"}),
               edge("the clock passed in is left unchanged (a new dict is returned)",
                    {"clock": {"a": 1, "b": 2}, "node": "b"}),
               edge("nodes that differ only in case are different nodes", {"clock": {"a": 1}, "node": "A"})]),
    Contract(
        "vc_merge", _clock_driver(vc_merge), draw=_draw_merge, supplied=("fn",),
        domain="pairs of clocks of 0 to 10 processes, counts up to 2, 12 or 10^6, explicit zeros, near-equal pairs",
        rules=[edge("the worked example: every node of either clock appears, with the larger count",
                    {"a": {"a": 2, "b": 1}, "b": {"b": 3, "c": 1}}),
               edge("both clocks passed in are left unchanged", {"a": {"a": 1, "b": 5}, "b": {"a": 4, "c": 2}}),
               edge("empty clocks", {"a": {}, "b": {}}, {"a": {}, "b": {"a": 1}}, {"a": {"a": 1}, "b": {}}),
               edge("counts compare as numbers: 10 is larger than 9", {"a": {"p": 9}, "b": {"p": 10}}),
               edge("nodes that differ only in case are different nodes", {"a": {"a": 3}, "b": {"A": 1}})]),
    Contract(
        "vc_compare", _clock_driver(vc_compare), draw=_draw_compare, supplied=("fn",),
        domain="clocks of events of random message histories (2 to 5 processes, up to 60 events) and random clock "
               "pairs with explicit zeros and counts up to 10^6",
        rules=[boundary("\"before\" needs every entry <= and one <; all equal is \"equal\"; one entry larger each "
                        "way is \"concurrent\"",
                        at={"a": {"a": 1, "b": 2}, "b": {"a": 1, "b": 2}},
                        inside={"a": {"a": 1, "b": 1}, "b": {"a": 1, "b": 2}},
                        outside={"a": {"a": 2, "b": 1}, "b": {"a": 1, "b": 2}}),
               edge("absent means 0: {\"a\": 1} equals {\"a\": 1, \"b\": 0}; {\"a\": 1} is before {\"a\": 1, \"b\": 1}",
                    {"a": {"a": 1}, "b": {"a": 1, "b": 0}}, {"a": {"a": 1}, "b": {"a": 1, "b": 1}},
                    {"a": {"a": 1, "b": 1}, "b": {"a": 1}}),
               edge("empty clocks are equal", {"a": {}, "b": {}}, {"a": {}, "b": {"x": 0}}),
               edge("counts compare as numbers: 10 is after 9", {"a": {"p": 10}, "b": {"p": 9}}),
               edge("the clocks passed in are left unchanged", {"a": {"a": 2, "b": 0}, "b": {"a": 1, "c": 1}})]),
    Contract(
        "GCounter", reference_run("gcounter"), draw=_draw_crdt("gcounter"), supplied=("cls", "copy_state"),
        domain="1 to 6 replicas (ids differing only in case, non-ASCII), 1 to 80 increments of 0 to 10^6, "
               "deliveries in any order (a replica's own state too), reads",
        rules=[_crdt_amount_rule("inc"), *_counter_rules("gcounter")]),
    Contract(
        "PNCounter", reference_run("pncounter"), draw=_draw_crdt("pncounter"), supplied=("cls", "copy_state"),
        domain="1 to 6 replicas, 1 to 80 increments and decrements of 0 to 10^6, deliveries in any order, reads",
        rules=[_crdt_amount_rule("inc"), _crdt_amount_rule("dec"), *_counter_rules("pncounter"),
               edge("the value may go below 0", {"replicas": ["a", "b"], "ops": [["dec", 0, 4], ["inc", 1, 1],
                                                                                ["merge", 0, 1], ["value", 0]]})]),
    Contract(
        "ORSet", reference_run("orset"), draw=_draw_crdt("orset"), supplied=("cls", "copy_state"),
        domain="1 to 6 replicas, 1 to 80 adds and removes of 8 elements (differing only in case, non-ASCII), "
               "deliveries in any order (a replica's own state too), reads",
        rules=[edge("a remove removes only the adds its replica has seen: a concurrent add wins",
                    {"replicas": ["a", "b"], "ops": [["add", 0, "book"], ["merge", 1, 0], ["remove", 1, "book"],
                                                     ["add", 0, "book"], ["merge", 0, 1], ["merge", 1, 0],
                                                     ["value", 0], ["value", 1]]}),
               edge("an observed remove wins on every replica",
                    {"replicas": ["a", "b"], "ops": [["add", 0, "book"], ["merge", 1, 0], ["remove", 1, "book"],
                                                     ["merge", 0, 1], ["value", 0], ["value", 1]]}),
               edge("removing what the replica does not have does nothing; a removed element can be added again",
                    {"replicas": ["a"], "ops": [["add", 0, "pen"], ["remove", 0, "pen"], ["remove", 0, "mug"],
                                                ["value", 0], ["add", 0, "pen"], ["value", 0]]}),
               edge("two replicas adding the same element: one remove that saw only one add keeps the other",
                    {"replicas": ["a", "b", "c"], "ops": [["add", 0, "pen"], ["add", 1, "pen"], ["merge", 2, 0],
                                                          ["remove", 2, "pen"], ["merge", 0, 2], ["merge", 1, 2],
                                                          ["merge", 2, 1], ["value", 0], ["value", 1], ["value", 2]]}),
               edge("elements that differ only in case, or are non-ASCII, are different; `value()` is sorted",
                    {"replicas": ["a"], "ops": [["add", 0, "book"], ["add", 0, "Book"], ["add", 0, "é"],
                                                ["add", 0, "a"], ["remove", 0, "Book"], ["value", 0]]})]),
    Contract(
        "is_linearizable", reference_small_verdict, draw=_draw_history,
        domain="histories of 0 to 8 operations from 1 to 4 clients, repeated int or string values, initial values "
               "0, 1, 7 or a string, writes that never end; larger histories in the timed tests",
        rules=[Rule("an operation may not end before it starts (ending when it starts is fine), else `ValueError`",
                    at={"history": [_op("A", "write", 1, 1.0, 1.0)], "initial": 0},
                    inside={"history": [_op("A", "write", 1, 1.0, 1.001)], "initial": 0},
                    outside={"history": [_W1, _op("B", "read", 1, 3.0, 2.999)], "initial": 0}),
               Rule("`kind` is \"read\" or \"write\", else `ValueError`",
                    at={"history": [_W1, _op("B", "read", 1, 3.0, 4.0)], "initial": 0},
                    inside={"history": [_op("A", "write", 1, 0.0, 1.0)], "initial": 0},
                    outside=[{"history": [_W1, _op("B", "Read", 1, 3.0, 4.0)], "initial": 0},
                             {"history": [_op("A", "cas", 1, 0.0, 1.0)], "initial": 0}]),
               boundary("a precedes b only when a ends strictly before b starts: touching operations may go either way",
                        at={"history": [_W1, _op("B", "read", 0, 2.0, 3.0)], "initial": 0},
                        inside={"history": [_W1, _op("B", "read", 0, 1.5, 3.0)], "initial": 0},
                        outside={"history": [_W1, _op("B", "read", 0, 2.001, 3.0)], "initial": 0}),
               edge("an empty history is linearizable; `initial` defaults to 0",
                    {"history": [], "initial": 0}, {"history": [_op("B", "read", 0, 0.0, 1.0)], "initial": OMIT},
                    {"history": [_op("B", "read", 5, 0.0, 1.0)], "initial": OMIT}),
               edge("a read before any write returns `initial`",
                    {"history": [_op("B", "read", "x", 0.0, 1.0), _op("A", "write", "y", 2.0, 3.0)], "initial": "x"}),
               edge("a write that never ends (`end` is `math.inf`) may take effect at any time after its start",
                    {"history": [_op("A", "write", 1, 0.0, math.inf), _op("B", "read", 0, 1.0, 2.0),
                                 _op("C", "read", 1, 3.0, 4.0), _op("B", "read", 0, 5.0, 6.0)], "initial": 0},
                    {"history": [_op("A", "write", 1, 0.0, math.inf), _op("B", "read", 0, 1.0, 2.0)], "initial": 0}),
               edge("histories whose verdicts an independent checker publishes (Porcupine's register tests: "
                    "True, False, True, False)",
                    *[{"history": h, "initial": 0} for h in _PORCUPINE_HISTORIES]),
               edge("the two worked examples, and a stale read after two writes",
                    {"history": [_op("A", "write", 1, 0.0, 3.0), _op("B", "write", 2, 0.5, 2.5),
                                 _op("C", "read", 1, 3.5, 4.5), _op("B", "read", 1, 4.0, 5.0)], "initial": 0},
                    {"history": [_op("A", "write", 1, 0.0, 5.0), _op("B", "read", 1, 1.0, 2.0),
                                 _op("C", "read", 0, 3.0, 4.0)], "initial": 0},
                    {"history": [_op("A", "write", 1, 0.0, 1.0), _op("A", "write", 2, 2.0, 3.0),
                                 _op("B", "read", 1, 4.0, 5.0)], "initial": 0})]),
]}
