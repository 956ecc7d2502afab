"""Replication, CAP and conflict resolution (module 05): a simulated quorum cluster, drivers that
exercise the learner's functions and classes and return plain data, and the module's figures.

- ``simulate_quorum``: N replicas of one register on a simulated network (``course.sim``) with
  random message delays and an optional network partition. One writer and some readers run
  sequential operations; every read is answered by the learner's ``read_fn(replies, r)``.
  ``stale_read_rate`` and ``quorum_history`` turn a run into numbers and into a history for a
  linearizability checker.
- ``run_replicas``, ``merge_law_values``: drive CRDT classes (``cls(replica_id)`` with
  ``merge(other)`` and ``value()``) through operations and deliveries, and report what they read.
- ``vector_clock_run``: give every event of a message-passing history its vector clock, using the
  learner's ``increment`` and ``merge``.
- ``decide_within``: run a linearizability checker under a limit of CPU time;
- ``arguments_after``: call a function and show its arguments afterwards (were they left unchanged?).
- ``plot_partition_timeline``, ``plot_stale_rates``, ``plot_history``: the figures.

Every run takes an explicit seed; the same seed replays the same run, message for message.
Times are seconds of simulated time.
"""

from __future__ import annotations

import copy
import math
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from course.sim import Simulation

OUTCOME_COLOURS = {"ok": "#009E73", "stale": "#E69F00", "rejected": "#D55E00"}  # PALETTE entries


# --------------------------------------------------------------------------- the quorum cluster

@dataclass(frozen=True)
class Partition:
    """From ``start`` to ``end`` (seconds), messages between nodes of different ``groups`` are lost.

    ``groups`` is a sequence of sequences of node names (replicas ``"r0"``, ``"r1"``, ... and
    clients ``"writer"``, ``"reader1"``, ...). A node listed in no group is alone in its own group.
    """

    start: float
    end: float
    groups: tuple

    def connected(self, a: str, b: str, t: float) -> bool:
        if not self.start <= t < self.end:
            return True
        return self._group(a) == self._group(b)

    def _group(self, node: str):
        for index, group in enumerate(self.groups):
            if node in group:
                return index
        return node


def _as_partition(partition) -> Partition | None:
    if partition is None or isinstance(partition, Partition):
        return partition
    if isinstance(partition, dict):
        return Partition(float(partition["start"]), float(partition["end"]),
                         tuple(tuple(g) for g in partition["groups"]))
    start, end, groups = partition
    return Partition(float(start), float(end), tuple(tuple(g) for g in groups))


def simulate_quorum(read_fn: Callable, n: int, r: int, w: int, seed: int, *, duration_s: float = 10.0,
                    readers: int = 2, mean_delay_s: float = 0.005, timeout_s: float = 0.1,
                    think_time_s: float = 0.02, partition=None) -> list[dict]:
    """Run one writer and ``readers`` readers against ``n`` replicas; return one record per operation.

    Every replica ``"r0"``... holds ``(version, value)``, initially ``(0, 0)``. The writer's k-th write
    sends version k with value k to every replica and succeeds (``ok``) once ``w`` replicas have
    acknowledged it within ``timeout_s``; a replica keeps the highest version it has received. A read
    asks every replica; each reply ``[replica, version, value]`` arrives after a random delay, and
    ``read_fn(replies, r)`` is called with the replies that arrived within ``timeout_s``, in arrival
    order. It returns ``[version, value]`` or None (the read is rejected). Each message leg is delayed
    by an exponential time of mean ``mean_delay_s``; a message between nodes that ``partition``
    separates at the time it is sent is lost. Clients are sequential: each waits an exponential
    ``think_time_s`` between its operations.

    A client goes on as soon as the w-th ack or the r-th reply arrives (or after ``timeout_s``);
    ``read_fn`` is called at ``start + timeout_s`` with every reply that arrived by then, and must
    decide from the first ``r`` of them.

    A record is a dict with ``client``, ``kind`` ("write" or "read"), ``start``, ``end`` (the time the
    w-th ack or r-th reply arrived, or ``start + timeout_s``), ``ok``, ``version`` and ``value``
    (written, or returned; None if rejected), and for reads ``stale``: the read returned a version
    older than the newest write acknowledged before the read started.
    """
    if not (isinstance(n, int) and 1 <= r <= n and 1 <= w <= n):
        raise ValueError(f"need integers 1 <= r, w <= n; got n={n!r}, r={r!r}, w={w!r}")
    sim = Simulation(seed)
    part = _as_partition(partition)
    names = [f"r{i}" for i in range(n)]
    store = {name: (0, 0) for name in names}
    state = {"acked": 0, "next_version": 1}
    records: list[dict] = []

    def connected(a, b):
        return part is None or part.connected(a, b, sim.now)

    def leg(src, dst):
        """Delay of one message, or None if the partition drops it."""
        delay = sim.rng.exponential(mean_delay_s)
        return delay if connected(src, dst) else None

    def write_to(client, replica, version, acks, enough):
        there = leg(client, replica)
        if there is None:
            return
        yield sim.timeout(there)
        if version > store[replica][0]:
            store[replica] = (version, version)
        back = leg(replica, client)
        if back is None:
            return
        yield sim.timeout(back)
        acks.append(sim.now)
        if len(acks) == w:
            enough.succeed()

    def read_from(client, replica, replies, enough):
        there = leg(client, replica)
        if there is None:
            return
        yield sim.timeout(there)
        version, value = store[replica]
        back = leg(replica, client)
        if back is None:
            return
        yield sim.timeout(back)
        replies.append((sim.now, [replica, version, value]))
        if len(replies) == r:
            enough.succeed()

    def writer():
        while True:
            yield sim.timeout(sim.rng.exponential(think_time_s))
            if sim.now >= duration_s:
                return
            start, version = sim.now, state["next_version"]
            state["next_version"] += 1
            acks: list[float] = []
            enough = sim.env.event()
            for replica in names:
                sim.process(write_to("writer", replica, version, acks, enough))
            yield enough | sim.timeout(timeout_s)
            ok = len(acks) >= w
            if ok:
                state["acked"] = max(state["acked"], version)
            records.append(dict(client="writer", kind="write", start=start, end=sim.now, ok=ok,
                                version=version, value=version))

    def finish_read(client, start, end, newest_acked, replies):
        """At start + timeout_s, hand every reply that arrived to read_fn and record the outcome."""
        yield sim.timeout(start + timeout_s - sim.now)
        answer = read_fn([list(reply) for _, reply in replies], r)
        if answer is None:
            records.append(dict(client=client, kind="read", start=start, end=end, ok=False,
                                version=None, value=None, stale=False))
            return
        version, value = answer
        records.append(dict(client=client, kind="read", start=start, end=end, ok=True,
                            version=version, value=value, stale=version < newest_acked))

    def reader(client):
        while True:
            yield sim.timeout(sim.rng.exponential(think_time_s))
            if sim.now >= duration_s:
                return
            start, newest_acked = sim.now, state["acked"]
            replies: list = []
            enough = sim.env.event()
            for replica in names:
                sim.process(read_from(client, replica, replies, enough))
            yield enough | sim.timeout(timeout_s)
            sim.process(finish_read(client, start, sim.now, newest_acked, replies))

    sim.process(writer())
    for k in range(1, readers + 1):
        sim.process(reader(f"reader{k}"))
    sim.run()
    records.sort(key=lambda rec: (rec["start"], rec["client"]))
    return records


def stale_read_rate(read_fn: Callable, n: int, r: int, w: int, seed: int, **options) -> float:
    """The fraction of answered reads that were stale in ``simulate_quorum(read_fn, n, r, w, seed, ...)``."""
    reads = [rec for rec in simulate_quorum(read_fn, n, r, w, seed, **options) if rec["kind"] == "read" and rec["ok"]]
    return sum(rec["stale"] for rec in reads) / len(reads) if reads else 0.0


def quorum_history(records: Sequence[dict]) -> list[dict]:
    """The register history of a run, for a linearizability checker.

    Answered reads and successful writes keep their interval. A failed write may still have reached
    some replicas, so it stays in the history with no known end (``end`` = infinity: it may take
    effect at any time after it started). Rejected reads had no effect and are left out.
    """
    history = []
    for rec in records:
        if rec["kind"] == "read" and not rec["ok"]:
            continue
        end = rec["end"] if rec["ok"] else math.inf
        history.append({"client": rec["client"], "kind": rec["kind"], "value": rec["value"],
                        "start": rec["start"], "end": end})
    return history


# --------------------------------------------------------------------------- CRDT drivers

def _plain_value(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return value


def _apply(replica, op):
    name = op[0]
    if name == "inc":
        replica.increment(*op[2:])  # ["inc", i] calls increment() with its default amount
    elif name == "dec":
        replica.decrement(*op[2:])
    elif name == "add":
        replica.add(op[2])
    elif name == "remove":
        replica.remove(op[2])
    else:
        raise ValueError(f"unknown operation {op!r}")


def copy_state(replica):
    """A copy of a replica, as sending its state over the network would make (``copy.deepcopy``)."""
    return copy.deepcopy(replica)


def run_replicas(cls, replicas: Sequence[str], ops: Sequence[Sequence], copy_state: Callable = copy_state) -> list:
    """Create ``cls(replica_id)`` for each id in ``replicas``, apply ``ops`` in order, return what was read.

    Operations (plain lists): ``["inc", i, amount]`` calls ``increment(amount)`` on replica number
    ``i`` (``["inc", i]`` calls ``increment()``, its default amount); likewise ``["dec", i, amount]``
    (``decrement``), ``["add", i, element]`` and
    ``["remove", i, element]``; ``["merge", i, j]`` delivers a copy of replica j's state to replica i
    (``replicas[i].merge(copy_of_j)``, as if sent over the network); ``["value", i]`` appends
    ``replica_i.value()`` to the result (a set is returned as a sorted list).

    ``copy_state(replica)`` makes the copies. When grading, the test passes a ``copy_state`` that runs
    where the learner's objects live (the grader only holds proxies to them).
    """
    objects = [cls(replica_id) for replica_id in replicas]
    reads = []
    for op in ops:
        if op[0] == "merge":
            objects[op[1]].merge(copy_state(objects[op[2]]))
        elif op[0] == "value":
            reads.append(_plain_value(objects[op[1]].value()))
        else:
            _apply(objects[op[1]], op)
    return reads


def merge_law_values(cls, local_ops: dict, copy_state: Callable = copy_state) -> dict:
    """Build replicas "a", "b" and "c" from ``local_ops`` and report the value of each way of merging them.

    ``local_ops`` maps "a", "b", "c" to lists of operations without a replica number (``["inc", 2]``,
    ``["add", "book"]``, ...). Returns the values of a⊔b, b⊔a, (a⊔b)⊔c, a⊔(b⊔c) and a⊔a, and of a alone.
    For a CRDT, a⊔b equals b⊔a (commutative), (a⊔b)⊔c equals a⊔(b⊔c) (associative) and a⊔a equals
    a (idempotent). Every merge works on copies made by ``copy_state``, so no replica sees another's objects.
    """
    base = {}
    for name in ("a", "b", "c"):
        replica = cls(name)
        for op in local_ops.get(name, []):
            _apply(replica, [op[0], None, *op[1:]])
        base[name] = replica

    def join(x, y):
        left = copy_state(x)
        left.merge(copy_state(y))
        return left

    a, b, c = base["a"], base["b"], base["c"]
    results = {"a": a, "a⊔b": join(a, b), "b⊔a": join(b, a), "(a⊔b)⊔c": join(join(a, b), c),
               "a⊔(b⊔c)": join(a, join(b, c)), "a⊔a": join(a, a)}
    return {key: _plain_value(replica.value()) for key, replica in results.items()}


# --------------------------------------------------------------------------- vector clocks

def vector_clock_run(increment: Callable, merge: Callable, events: Sequence[Sequence]) -> list[dict]:
    """The vector clock of every event of a message-passing history, computed with the given functions.

    ``events`` are ``["local", p]``, ``["send", p, message_id]`` and ``["recv", p, message_id]`` in the
    order they happened. Each process starts with the empty clock ``{}``. A local event or a send
    ticks the process: ``clock = increment(clock, p)``; a send attaches that clock to the message.
    A receive merges the message's clock in, then ticks: ``clock = increment(merge(clock, msg), p)``.
    Returns the clock after each event, with zero entries dropped (absent means 0).
    """
    clocks: dict[str, dict] = {}
    messages: dict = {}
    out = []
    for event in events:
        kind, process = event[0], event[1]
        clock = copy.deepcopy(clocks.get(process, {}))
        if kind == "recv":
            clock = merge(clock, copy.deepcopy(messages[event[2]]))
        clock = increment(clock, process)
        if kind == "send":
            messages[event[2]] = copy.deepcopy(clock)
        clocks[process] = clock
        out.append({str(k): v for k, v in dict(clock).items() if v})
    return out


# --------------------------------------------------------------------------- linearizability

class _OutOfCpuTime(BaseException):
    """Raised inside a checker whose CPU time ran out; a BaseException, so ``except Exception`` in the
    checker cannot swallow it."""


def decide_within(checker: Callable, history: list[dict], seconds: float = 2.0, initial=0):
    """Return ``checker(history, initial)``, or raise ``TimeoutError`` if the call used over ``seconds``
    of CPU time.

    The time is the CPU time of the process the checker runs in (``time.process_time``), not wall-clock
    time, so a busy machine does not make a fast checker late. In the main thread a CPU-time alarm
    (``signal.setitimer(signal.ITIMER_PROF, ...)``) stops a checker the moment it has used ``seconds``, so an
    exponential one is told so in ``seconds`` of CPU, not after minutes; elsewhere the checker runs to the
    end and is judged then. When grading, run this helper beside the learner's code
    (``autograde.beside.beside_learner``), so that it times the learner's process.
    """
    def out_of_time(elapsed: float) -> TimeoutError:
        return TimeoutError(f"the checker used {elapsed:.1f} s of CPU time on a history of {len(history)} "
                            f"operations; the limit is {seconds:g} s")

    def alarm(signum, frame):
        raise _OutOfCpuTime

    history = copy.deepcopy(history)
    in_main_thread = threading.current_thread() is threading.main_thread()
    started = time.process_time()
    if in_main_thread:
        previous = signal.signal(signal.SIGPROF, alarm)
        signal.setitimer(signal.ITIMER_PROF, seconds + 0.05)
    try:  # the alarm fires once at most; wherever it lands before it is disarmed, it is caught here
        try:
            verdict = checker(history, initial)
        finally:
            if in_main_thread:
                signal.setitimer(signal.ITIMER_PROF, 0)
    except _OutOfCpuTime:
        raise out_of_time(time.process_time() - started) from None
    finally:
        if in_main_thread:
            signal.signal(signal.SIGPROF, previous)
    elapsed = time.process_time() - started
    if elapsed > seconds:
        raise out_of_time(elapsed)
    return verdict


def arguments_after(fn: Callable, **arguments) -> dict:
    """Call ``fn(**arguments)`` and return what it returned next to the arguments as they are afterwards.

    ``{"returned": ..., "arguments after the call": {...}}``: a function that was to leave its arguments
    unchanged but changed one in place shows it here. A returned dict (a vector clock) is shown without
    its zero entries, since an absent process counts 0. When grading, run it beside the learner's code
    (``autograde.beside.beside_learner``): there the arguments are the learner's own objects.
    """
    returned = fn(**arguments)
    if isinstance(returned, dict):
        returned = {k: v for k, v in returned.items() if v != 0}
    return {"returned": returned, "arguments after the call": copy.deepcopy(arguments)}


# --------------------------------------------------------------------------- figures

def plot_partition_timeline(runs: dict, partition, title: str = "Requests during a partition"):
    """One row per (configuration, client); every request is a dot coloured by its outcome.

    ``runs`` maps a configuration label (such as "CP: N=3, R=W=2") to the records of
    ``simulate_quorum``. Outcomes: ok, stale (a read older than the newest acknowledged write) and
    rejected (a read without enough replies, or a write without enough acknowledgements).
    Returns ``(fig, ax)``.
    """
    from course.plotting import new_figure

    part = _as_partition(partition)
    rows = []
    for label, records in runs.items():
        clients = sorted({rec["client"] for rec in records}, key=lambda c: (c != "writer", c))
        rows += [(label, client) for client in clients]
    fig, ax = new_figure(title, "simulated time (s)", "configuration / client",
                         figsize=(9, 0.5 * len(rows) + 1.8))
    for y, (label, client) in enumerate(rows):
        records = [rec for rec in runs[label] if rec["client"] == client]
        for outcome in ("ok", "stale", "rejected"):
            xs = [rec["start"] for rec in records if _outcome(rec) == outcome]
            ax.scatter(xs, [y] * len(xs), s=14, color=OUTCOME_COLOURS[outcome], marker="|" if outcome == "ok" else "o",
                       label=outcome if y == 0 or outcome != "ok" else None, zorder=3)
    if part is not None:
        ax.axvspan(part.start, part.end, color="grey", alpha=0.15, label="partition")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{label}  {client}" for label, client in rows])
    ax.invert_yaxis()
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=4)
    fig.tight_layout()
    return fig, ax


def _outcome(rec: dict) -> str:
    if not rec["ok"]:
        return "rejected"
    return "stale" if rec.get("stale") else "ok"


def plot_stale_rates(rows: Sequence[dict], title: str = "Stale reads for quorum sizes"):
    """Bar chart of measured stale-read rates with a marker for the closed-form bound.

    ``rows`` are dicts with ``n``, ``r``, ``w``, ``measured`` and ``bound`` (fractions). Returns (fig, ax).
    """
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "configuration (N, R, W)", "stale reads (% of answered reads)")
    labels = [f"N={row['n']} R={row['r']} W={row['w']}" for row in rows]
    xs = range(len(rows))
    ax.bar(xs, [100 * row["measured"] for row in rows], color=PALETTE[0], label="measured in the simulation")
    ax.scatter(xs, [100 * row["bound"] for row in rows], color=PALETTE[3], marker="_", s=400, linewidths=3,
               label="closed form (read right after the write is acknowledged)", zorder=3)
    for x, row in zip(xs, rows):
        if row["r"] + row["w"] > row["n"]:
            ax.annotate("R+W>N", (x, 1), ha="center", fontsize=9)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, rotation=20, ha="right")
    ax.set_ylim(0, 115)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig, ax


def plot_history(history: Sequence[dict], title: str, ax=None):
    """Draw a register history: one row per client, each operation a bar from start to end.

    Writes are labelled ``w(v)`` and reads ``r→v``. Returns ``(fig, ax)``.
    """
    from course.plotting import PALETTE, new_figure

    clients = sorted({op["client"] for op in history})
    if ax is None:
        fig, ax = new_figure(title, "time (s)", "client", figsize=(7, 0.7 * len(clients) + 1.6))
    else:
        fig = ax.figure
        ax.set_title(title)
    finite_ends = [op["end"] for op in history if math.isfinite(op["end"])]
    right = max(finite_ends + [op["start"] for op in history]) + 0.5
    for op in history:
        y = clients.index(op["client"])
        end = op["end"] if math.isfinite(op["end"]) else right
        colour = PALETTE[0] if op["kind"] == "write" else PALETTE[1]
        ax.barh(y, end - op["start"], left=op["start"], height=0.5, color=colour, alpha=0.85)
        text = f"w({op['value']})" if op["kind"] == "write" else f"r→{op['value']}"
        ax.text((op["start"] + end) / 2, y, text, ha="center", va="center", fontsize=10, color="black")
    ax.set_yticks(range(len(clients)))
    ax.set_yticklabels(clients)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig, ax


# --------------------------------------------------------------------------- the shopping cart

def cart_story(lww_merge: Callable, orset_cls) -> list[dict]:
    """The seed's cart on two replicas, "phone" and "laptop", kept two ways; returns one row per step.

    As a last-writer-wins register (``lww_merge`` on states ``[timestamp, replica, items]``, the
    whole cart being one value) and as an observed-remove set (``orset_cls(replica_id)``). The phone
    adds a book and both replicas sync; a partition starts; the phone adds headphones at t=2 and the
    laptop, a second later, a charger; the partition heals and the replicas exchange states.
    Each row has ``step`` and the carts (sorted lists) of both replicas under both designs.
    """
    lww = {"phone": [0.0, "phone", []], "laptop": [0.0, "laptop", []]}
    sets = {name: orset_cls(name) for name in ("phone", "laptop")}
    rows = []

    def snapshot(step):
        rows.append({"step": step, "LWW phone": sorted(lww["phone"][2]), "LWW laptop": sorted(lww["laptop"][2]),
                     "OR-set phone": sorted(sets["phone"].value()), "OR-set laptop": sorted(sets["laptop"].value())})

    def lww_add(replica, item, timestamp):
        lww[replica] = [timestamp, replica, sorted(set(lww[replica][2]) | {item})]
        sets[replica].add(item)

    def sync():
        phone, laptop = copy.deepcopy(lww["phone"]), copy.deepcopy(lww["laptop"])
        lww["phone"], lww["laptop"] = list(lww_merge(phone, laptop)), list(lww_merge(laptop, phone))
        phone_set, laptop_set = copy.deepcopy(sets["phone"]), copy.deepcopy(sets["laptop"])
        sets["phone"].merge(laptop_set)
        sets["laptop"].merge(phone_set)

    lww_add("phone", "book", 1.0)
    sync()
    snapshot("t=1 phone adds book; replicas sync")
    lww_add("phone", "headphones", 2.0)
    snapshot("t=2 (partition) phone adds headphones")
    lww_add("laptop", "charger", 3.0)
    snapshot("t=3 (partition) laptop adds charger")
    sync()
    snapshot("t=4 partition heals; replicas sync")
    return rows
