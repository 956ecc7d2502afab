"""Sharding (module 03): drivers that exercise a learner's code and return plain data, the seed's
routing run in fresh processes, and the module's figures.

- ``call_in_subprocess`` runs a function in a fresh Python process with a chosen
  ``PYTHONHASHSEED``: the way to see that ``hash()`` of a str differs from process to process.
- ``seed_shard_key`` is the seed's router (``hash(user_id) % num_shards``), kept to be measured.
- ``run_ring``, ``ring_movement``, ``owners_before_after``, ``all_pages`` and ``loads_before_after``
  exercise a learner's ring class or routing function and return lists and dicts only (what the
  graders compare). Test cells import them, so when a notebook is graded they run in the grader and
  every call into the learner's code is a round trip to its sandbox: size their inputs accordingly
  (CONTRIBUTING: about 20,000 calls per test cell). ``ring_movement`` and ``owners_before_after``
  therefore use the routers' batch forms (``HashRing.owners(keys)``, ``route_many(keys, layout)``):
  100,000 keys cost one call per layout. ``call_in_subprocess`` is the exception: it needs
  the learner's function object, so it runs next to the learner's code.
- ``moved_fraction_by_n``, ``ring_imbalance``, ``time_lookups`` and ``lookup_seconds`` measure;
  ``ScanRing`` is a deliberately slow ring (a linear scan over the points) to compare look-up times
  with; ``plot_movement``, ``plot_imbalance``, ``draw_ring``, ``plot_lookup_times`` and
  ``plot_shard_loads`` draw.
"""

from __future__ import annotations

import inspect
import json
import marshal
import os
import pickle
import subprocess
import sys
import time
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course.seeding import make_rng

__all__ = ["seed_shard_key", "call_in_subprocess", "run_ring", "ring_movement", "owners_before_after",
           "all_pages", "loads_before_after", "make_keys", "zipf_accesses", "moved_fraction_by_n", "ring_imbalance",
           "lookup_seconds", "time_lookups", "ScanRing", "plot_movement", "plot_imbalance", "draw_ring", "plot_lookup_times",
           "plot_shard_loads", "seed_cross_shard_query"]


# --------------------------------------------------------------------------- the seed's router

def utf8_bytes(text: str) -> bytes:
    """``text`` encoded as UTF-8: a bytes key, made next to the learner's code by the tests
    (``beside_learner(utf8_bytes)("user:42")``), since bytes cannot cross to the sandbox as data."""
    return text.encode("utf-8")


def seed_shard_key(user_id: str, num_shards: int) -> int:
    """The seed's ``ShardingStrategy.get_shard_key``: ``hash(user_id) % num_shards`` (do not use)."""
    return hash(user_id) % num_shards


def seed_cross_shard_query(shards: Sequence[Sequence[dict]], user_id: str, limit: int) -> list[dict]:
    """The seed's ``cross_shard_query`` made concrete: each shard's rows for the user (newest
    first), concatenated shard after shard with ``extend``, then the first ``limit`` taken."""
    results: list[dict] = []
    for shard in shards:
        rows = [r for r in shard if r["user_id"] == user_id]
        results.extend(sorted(rows, key=lambda r: (r["ts"], r["item_id"]), reverse=True))
    return results[:limit]


# --------------------------------------------------------------------------- fresh processes

_CHILD = r"""
import builtins, importlib, json, marshal, pickle, sys, types

def build(spec, cache):
    if spec[0] == "function":
        _, code, name, defaults, names = spec
        glb = {"__builtins__": builtins, "__name__": "__learner__"}
        fn = types.FunctionType(marshal.loads(code), glb, name, pickle.loads(defaults))
        for key, sub in names.items():
            glb[key] = resolve(sub, cache)
        return fn
    return resolve(spec, cache)

def resolve(spec, cache):
    kind = spec[0]
    if kind == "module":
        return importlib.import_module(spec[1])
    if kind == "import":
        obj = importlib.import_module(spec[1])
        for part in spec[2].split("."):
            obj = getattr(obj, part)
        return obj
    if kind == "value":
        return pickle.loads(spec[1])
    if kind == "function":
        return build(spec, cache)
    raise ValueError(kind)

payload = pickle.loads(sys.stdin.buffer.read())
fn = build(payload["fn"], {})
out = []
for args in payload["calls"]:
    try:
        value = fn(*args)
        json.dumps(value)
        out.append(value)
    except Exception as exc:
        out.append("error: " + type(exc).__name__)
sys.stdout.write(json.dumps(out))
"""


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _portable(fn: Callable, depth: int = 0) -> tuple:
    """Describe ``fn`` so that a fresh interpreter can rebuild it: its bytecode (marshal), and for
    each global name it uses, the module to import, the object to import, a picklable value, or
    (recursively) another function defined alongside it."""
    fn = inspect.unwrap(fn)  # functools.lru_cache and friends: rebuild the plain function
    if not isinstance(fn, types.FunctionType):
        raise TypeError(f"{fn!r} is not a Python function")
    if depth > 20:
        raise RecursionError("functions refer to each other too deeply")
    names = {}
    for name in _code_names(fn.__code__):
        if name not in fn.__globals__:
            continue  # a builtin, an attribute name, or undefined (the child raises NameError)
        obj = fn.__globals__[name]
        names[name] = _portable_value(obj, depth, fn.__globals__)
    return ("function", marshal.dumps(fn.__code__), fn.__name__, pickle.dumps(fn.__defaults__), names)


def _portable_value(obj: Any, depth: int, home: dict) -> tuple:
    if isinstance(obj, types.ModuleType):
        return ("module", obj.__name__)
    unwrapped = inspect.unwrap(obj) if callable(obj) else obj
    if isinstance(unwrapped, types.FunctionType) and (unwrapped.__globals__ is home or unwrapped.__module__ in (
            "__main__", "__learner__", None)):
        return _portable(unwrapped, depth + 1)  # a helper defined next to the function (a notebook cell)
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if module and qualname and module != "__main__" and "<" not in qualname:
        return ("import", module, qualname)
    try:
        return ("value", pickle.dumps(obj))
    except Exception:  # noqa: BLE001  (an unpicklable global: the child will report NameError)
        return ("value", pickle.dumps(None))


def call_in_subprocess(fn: Callable, calls: Sequence[Sequence[Any]], hash_seed: int,
                       timeout: float = 60.0) -> list:
    """Run ``fn(*args)`` for each ``args`` in ``calls`` in a fresh Python process whose string
    hashing is salted with ``PYTHONHASHSEED=hash_seed``, and return the results as a list.

    The function's bytecode is sent to the new process with the modules, imported names, plain
    values and helper functions it uses (so a function defined in a notebook works). A call that
    raises gives ``"error: <ExceptionType>"``; a result must be JSON data (numbers, strings, lists).
    """
    if type(hash_seed) is not int or not 0 <= hash_seed <= 4_294_967_295:
        raise ValueError("hash_seed must be an int in [0, 4294967295] (what PYTHONHASHSEED accepts)")
    payload = pickle.dumps({"fn": _portable(fn), "calls": [list(a) for a in calls]})
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))
    done = subprocess.run([sys.executable, "-c", _CHILD], input=payload, capture_output=True,
                          env=env, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"the fresh Python process failed: {tail[0]}")
    return json.loads(done.stdout)


# --------------------------------------------------------------------------- drivers

def _error_name(exc: BaseException) -> str:
    return type(exc).__name__


def run_ring(cls: type, vnodes: int, ops: Sequence[Sequence[Any]]) -> list:
    """Build ``cls(vnodes=vnodes)`` and apply ``ops``: ``["add", node]`` calls ``add_node``,
    ``["remove", node]`` calls ``remove_node``, ``["get", key]`` calls ``get_node`` and
    ``["owners", [key, ...]]`` calls ``owners`` (the batch look-up).

    Returns one entry per operation: None for a successful add or remove (whatever the method
    returned), the owner (a str) for a get, the list of owners for an owners, or the exception's
    type name (``"ValueError"``) for an operation that raised. If the constructor raises, returns
    ``[type name]``. ``vnodes=None`` builds ``cls()``, with the class's default.
    """
    try:
        ring = cls() if vnodes is None else cls(vnodes=vnodes)
    except Exception as exc:  # noqa: BLE001
        return [_error_name(exc)]
    names = {"add": "add_node", "remove": "remove_node", "get": "get_node", "owners": "owners"}
    methods: dict = {}  # bound methods looked up once (each look-up is a round trip when grading)
    results: list = []
    for op, arg in ops:
        try:
            if op not in methods:
                methods[op] = getattr(ring, names[op])
            value = methods[op](arg)
            results.append(value if op in ("get", "owners") else None)
        except Exception as exc:  # noqa: BLE001
            results.append(_error_name(exc))
    return results


def ring_movement(cls: type, vnodes: int | None, nodes: Sequence[str], new_node: str, keys: Sequence[str]) -> dict:
    """Owners of ``keys`` on a ring ``cls(vnodes=vnodes)`` (``cls()``, the class's default, if
    ``vnodes`` is None) of ``nodes``; after ``add_node(new_node)``; after removing it again.

    Each layout is one batch call, ``ring.owners(keys)``, so the number of calls into the ring does not
    grow with the number of keys. Returns ``{"before": [...], "after": [...], "after_remove": [...]}``
    (lists of node names).
    """
    ring = cls() if vnodes is None else cls(vnodes=vnodes)
    add = ring.add_node
    for node in nodes:
        add(node)
    owners = ring.owners
    before = owners(keys)
    add(new_node)
    after = owners(keys)
    ring.remove_node(new_node)
    after_remove = owners(keys)
    return {"before": before, "after": after, "after_remove": after_remove}


def owners_before_after(route_many: Callable, keys: Sequence[Any], before: Any, after: Any) -> dict:
    """``{"before": route_many(keys, before), "after": route_many(keys, after)}`` for a batch router
    ``route_many(keys, layout) -> [owner of each key]`` (a layout is a shard count or a list of
    nodes): two calls, whatever the number of keys."""
    return {"before": route_many(keys, before), "after": route_many(keys, after)}


def arguments_after_call(fn: Callable, kwargs: dict) -> dict:
    """Call ``fn(**kwargs)`` and return ``kwargs`` as they are afterwards: equal to what was passed
    when ``fn`` leaves its arguments unchanged (it must copy before it sorts or edits). Run beside the
    learner's code (``autograde.beside.beside_learner``), where a change in place would show."""
    fn(**kwargs)
    return kwargs


def all_pages(fn: Callable, shards: list, user_id: str, limit: int) -> list:
    """Walk every page of ``fn(shards, user_id, limit, cursor)`` from ``cursor=None`` until
    ``next_cursor`` is None; return the item ids in the order the pages gave them.

    Stops after (number of rows + 2) pages, so a cursor that never advances cannot loop forever.
    """
    total = sum(len(s) for s in shards)
    ids: list = []
    cursor = None
    for _ in range(total + 2):
        page = fn(shards, user_id, limit, cursor)
        ids.extend(item["item_id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return ids


def loads_before_after(fn: Callable, accesses: Sequence[str], num_shards: int, hot: Sequence[str],
                       fanout: int) -> dict:
    """``{"before": fn(accesses, num_shards), "after": fn(accesses, num_shards, hot, fanout)}``
    for a load function ``fn(accesses, num_shards, hot=(), fanout=1) -> list of counts``."""
    return {"before": fn(accesses, num_shards), "after": fn(accesses, num_shards, hot, fanout)}


# --------------------------------------------------------------------------- data for the demos

def make_keys(n: int, seed: int, prefix: str = "user:") -> list[str]:
    """``n`` random keys such as ``user:3f9c0a...`` from an explicit seed."""
    rng = make_rng(seed)
    return [f"{prefix}{v:016x}" for v in rng.integers(0, 2**63, size=n, dtype=np.int64)]


def zipf_accesses(n_accesses: int, n_keys: int, exponent: float, seed: int, prefix: str = "item:") -> list[str]:
    """An access log of ``n_accesses`` keys where the key of popularity rank r is drawn with
    probability proportional to ``r ** -exponent`` (a Zipf-like skew), from an explicit seed."""
    rng = make_rng(seed)
    weights = 1.0 / np.arange(1, n_keys + 1) ** exponent
    ranks = rng.choice(n_keys, size=n_accesses, p=weights / weights.sum())
    return [f"{prefix}{r:05d}" for r in ranks]


# --------------------------------------------------------------------------- measurements

def moved_fraction_by_n(routers: dict[str, Callable], keys: Sequence[Any], shard_counts: Sequence[int]) -> dict:
    """For each router ``route_all(keys, n) -> owners`` and each n in ``shard_counts``, the
    fraction of ``keys`` whose owner changes from n to n + 1 shards. Returns
    ``{"n": [...], name: [...], ...}``."""
    table: dict[str, list] = {"n": list(shard_counts)}
    for name, route_all in routers.items():
        fractions = []
        for n in shard_counts:
            before, after = route_all(keys, n), route_all(keys, n + 1)
            fractions.append(float(np.mean([b != a for b, a in zip(before, after)])))
        table[name] = fractions
    return table


def ring_imbalance(cls: type, vnode_counts: Sequence[int], nodes: Sequence[str], keys: Sequence[str]) -> dict:
    """Max/mean keys per node on a ring ``cls(vnodes=v)`` of ``nodes``, for each v in
    ``vnode_counts``. Returns ``{"vnodes": [...], "max_over_mean": [...]}``."""
    ratios = []
    for v in vnode_counts:
        ring = cls(vnodes=v)
        for node in nodes:
            ring.add_node(node)
        counts: dict[str, int] = dict.fromkeys(nodes, 0)
        for k in keys:
            counts[ring.get_node(k)] += 1
        ratios.append(max(counts.values()) / (len(keys) / len(nodes)))
    return {"vnodes": list(vnode_counts), "max_over_mean": ratios}


def time_lookups(ring: Any, keys: Sequence[str], max_seconds: float = 5.0) -> dict:
    """Call ``ring.get_node(k)`` for the keys in order, for at most about ``max_seconds`` of wall
    time (checked every 1,000 keys), so a slow ring cannot hold a notebook up. Returns
    ``{"lookups": how many were made, "seconds": how long they took}``."""
    if max_seconds <= 0:
        raise ValueError("max_seconds must be > 0")
    get = ring.get_node
    done = 0
    started = time.perf_counter()
    while done < len(keys):
        for k in keys[done:done + 1000]:
            get(k)
        done = min(done + 1000, len(keys))
        if time.perf_counter() - started > max_seconds:
            break
    return {"lookups": done, "seconds": time.perf_counter() - started}


class ScanRing:
    """A correct but slow ring, for comparison only: node ``n`` owns the points
    ``point_hash(f"{n}#{i}")`` for i < vnodes, and ``get_node`` scans the sorted points one by one
    for the first at or after the key's hash (O(P) per look-up, where a binary search is O(log P))."""

    def __init__(self, point_hash: Callable[[str], int], vnodes: int):
        if vnodes < 1:
            raise ValueError("vnodes must be >= 1")
        self.point_hash, self.vnodes = point_hash, vnodes
        self.points: list[tuple[int, str]] = []

    def add_node(self, node: str) -> None:
        self.points = sorted(self.points + [(self.point_hash(f"{node}#{i}"), node) for i in range(self.vnodes)])

    def get_node(self, key: str) -> str:
        if not self.points:
            raise ValueError("the ring is empty")
        h = self.point_hash(key)
        for point, node in self.points:
            if point >= h:
                return node
        return self.points[0][1]


def lookup_seconds(ring: Any, keys: Sequence[str], repeats: int = 1) -> float:
    """Wall-clock seconds for ``ring.get_node(k)`` over all ``keys``: the fastest of ``repeats``
    passes (the minimum is the least disturbed by other work on the machine)."""
    get = ring.get_node
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for k in keys:
            get(k)
        best = min(best, time.perf_counter() - started)
    return best


# --------------------------------------------------------------------------- figures

def plot_movement(table: dict, title: str = "Keys that move when one shard is added"):
    """Fraction of keys moved from n to n + 1 shards for each router in ``table`` (from
    ``moved_fraction_by_n``), with the ideal 1/(n+1) and mod-N's n/(n+1) as black guide lines drawn
    on top of the measurements."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "shards before adding one (n)", "keys moved (%)")
    n = np.array(table["n"], dtype=float)
    markers = "osD^v<>"
    for i, name in enumerate(k for k in table if k != "n"):
        ax.plot(n, 100 * np.array(table[name]), marker=markers[i % len(markers)], color=PALETTE[i],
                label=name, alpha=0.9)
    # the guides are drawn last, on top, in black: mod-N's measured line lies on n/(n+1)
    ax.plot(n, 100 * n / (n + 1), linestyle=(0, (4, 3)), color="black", linewidth=1.2, zorder=5,
            label="n/(n+1): almost all")
    ax.plot(n, 100 / (n + 1), ":", color="black", linewidth=1.5, zorder=5, label="1/(n+1): the minimum")
    ax.set_ylim(0, 100)
    ax.legend(loc="center right", fontsize=9)
    return fig, ax


def plot_imbalance(result: dict, title: str = "Load imbalance of a hash ring"):
    """Max/mean keys per node against virtual nodes per node (log scale), from ``ring_imbalance``."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "virtual nodes per physical node (log scale)", "busiest node / mean load (x)")
    ax.plot(result["vnodes"], result["max_over_mean"], marker="o", color=PALETTE[0], label="measured")
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="perfect balance")
    ax.set_xscale("log")
    ax.legend()
    return fig, ax


def draw_ring(point_hash: Callable[[str], int], owner: Callable[[str], str], nodes: Sequence[str], vnodes: int,
              keys: Sequence[str], title: str = "A hash ring: each key goes to the next point clockwise"):
    """Draw the ring with networkx: the points of each node (``point_hash(f"{node}#{i}")``) on a
    circle coloured by node, and each key with an arrow to its owner (``owner(key)``). The axes are
    turned off: a position on the ring is an angle, 0 at the top, growing clockwise to 2^64."""
    import networkx as nx

    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "position on the ring (clockwise from the top, 0 to 2^64)",
                         "position on the ring", figsize=(7, 7))
    colour = {node: PALETTE[i % len(PALETTE)] for i, node in enumerate(nodes)}
    graph = nx.DiGraph()
    pos = {}

    def angle(h):
        return np.pi / 2 - 2 * np.pi * (h / 2**64)

    circle = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(circle), np.sin(circle), color="lightgrey", linewidth=1, zorder=0)
    points = sorted((point_hash(f"{node}#{i}"), node) for node in nodes for i in range(vnodes))
    for h, node in points:
        name = f"{node}#{h}"
        graph.add_node(name, kind="point", owner=node)
        pos[name] = (np.cos(angle(h)), np.sin(angle(h)))
    for key in keys:
        h = point_hash(key)
        graph.add_node(key, kind="key")
        pos[key] = (0.78 * np.cos(angle(h)), 0.78 * np.sin(angle(h)))
        nxt = next(((p, n) for p, n in points if p >= h), points[0])
        graph.add_edge(key, f"{nxt[1]}#{nxt[0]}")
        if owner(key) != nxt[1]:
            raise ValueError(f"owner({key!r}) = {owner(key)!r}, but the next point clockwise belongs to {nxt[1]!r}")
    point_nodes = [n for n, d in graph.nodes(data=True) if d["kind"] == "point"]
    key_nodes = [n for n, d in graph.nodes(data=True) if d["kind"] == "key"]
    nx.draw_networkx_nodes(graph, pos, nodelist=point_nodes, ax=ax, node_size=160,
                           node_color=[colour[graph.nodes[n]["owner"]] for n in point_nodes])
    nx.draw_networkx_nodes(graph, pos, nodelist=key_nodes, ax=ax, node_size=40, node_color="black", node_shape="s")
    nx.draw_networkx_edges(graph, pos, ax=ax, edge_color="grey", arrows=True, arrowsize=10,
                           connectionstyle="arc3,rad=0.2", node_size=160)
    for node in nodes:
        ax.scatter([], [], color=colour[node], s=60, label=f"points of {node}")
    ax.scatter([], [], color="black", marker="s", s=20, label="a key -> its owner's point")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    ax.annotate("0 = 2^64", (0, 1), xytext=(0, 1.1), ha="center", fontsize=9, color="grey",
                arrowprops={"arrowstyle": "-", "color": "grey"})
    ax.annotate("", (0.5, 0.95), xytext=(0.18, 1.06), color="grey",
                arrowprops={"arrowstyle": "->", "color": "grey", "connectionstyle": "arc3,rad=-0.15"})
    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-1.15, 1.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.tight_layout()
    return fig, ax


def plot_lookup_times(points: Sequence[int], micros: Sequence[float],
                      title: str = "Ring look-up time against ring size", label: str = "your HashRing",
                      compare: dict[str, Sequence[float]] | None = None):
    """Microseconds per ``get_node`` against the number of points on the ring, both axes on log
    scales; ``compare`` adds other rings' times at the same sizes (``{label: micros}``)."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "points on the ring (nodes x virtual nodes, log scale)",
                         "time per look-up (µs, log scale)")
    ax.plot(points, micros, marker="o", color=PALETTE[0], label=label)
    markers = "sD^v"
    for i, (name, values) in enumerate((compare or {}).items()):
        ax.plot(points, values, marker=markers[i % len(markers)], color=PALETTE[3 + i], linestyle="--", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend(loc="upper left")
    return fig, ax


def plot_shard_loads(before: Sequence[int], after: Sequence[int],
                     title: str = "Requests per shard, before and after splitting hot keys"):
    """Side-by-side bars of requests per shard."""
    from course.plotting import PALETTE, new_figure

    fig, ax = new_figure(title, "shard", "requests (count)")
    x = np.arange(len(before))
    ax.bar(x - 0.2, before, width=0.4, color=PALETTE[3], label=f"hash only (max/mean {_ratio(before):.2f})")
    ax.bar(x + 0.2, after, width=0.4, color=PALETTE[0], label=f"hot keys split (max/mean {_ratio(after):.2f})")
    ax.axhline(sum(before) / len(before), color="grey", linestyle="--", linewidth=1, label="mean")
    ax.set_xticks(x)
    ax.legend(loc="upper left")
    return fig, ax


def _ratio(loads: Sequence[int]) -> float:
    return max(loads) / (sum(loads) / len(loads))

