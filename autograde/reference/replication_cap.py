"""Reference answers and seeded hidden-test cases for 05-replication-cap.

Written independently of the solution notebook; the solution must score full marks against them.
Each ``*_cases(seed, n)`` returns plain keyword-argument dicts drawn from
``numpy.random.default_rng(seed)`` (some also carry the learner's function or class, which the
test cell passes in). Where the reference raises ValueError the learner's code must raise it too.

Conventions stated in the notebook:

- a vector clock is a dict {node: count}; a node that is absent counts 0;
- an LWW state is [timestamp, replica, value]; the larger (timestamp, replica) wins;
- a history is a list of {"client", "kind", "value", "start", "end"}; operation a precedes b when
  a["end"] < b["start"]; the register starts at ``initial``. Hidden histories have no two equal
  times, so whether touching intervals overlap never matters;
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
