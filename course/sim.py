"""A small discrete-event simulation core on SimPy.

The modules on load balancing, caching, replication and Raft build on these pieces:

- ``Simulation``: a SimPy environment, the seeded random generator every random draw must use,
  and a trace of what happened (``record``), which ``trace_frame`` turns into a DataFrame.
- ``poisson_arrivals``: requests arriving at random, as a Poisson process.
- ``Station``: a queue in front of one or more identical servers (an M/M/c queue when both the
  arrivals and the service times are exponential).

All randomness comes from ``Simulation.rng``, so the same seed replays the same run, event for
event. Times are in seconds of simulated time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from course.seeding import make_rng

if TYPE_CHECKING:  # pandas is imported lazily, only when a trace is turned into a DataFrame
    import pandas as pd


@dataclass(frozen=True)
class TraceEvent:
    """One line of a simulation trace: at simulated ``time`` (seconds), something of ``kind``
    happened, described by ``fields`` (for example ``{"station": "web", "request": 7}``)."""

    time: float
    kind: str
    fields: dict = field(hash=False)


class Simulation:
    """A seeded, traced SimPy simulation.

    ``Simulation(seed)`` holds ``seed``, ``env`` (a ``simpy.Environment``), ``rng`` (a
    ``numpy.random.Generator`` made from the seed; draw every random number from it) and
    ``trace`` (the list of ``TraceEvent`` written by ``record``). Two simulations built with the
    same seed and driven by the same code produce identical traces.

    >>> sim = Simulation(seed=1)
    >>> def hello():
    ...     yield sim.timeout(2.5)
    ...     sim.record("hello", who="world")
    >>> _ = sim.process(hello())
    >>> sim.run()
    >>> sim.trace
    [TraceEvent(time=2.5, kind='hello', fields={'who': 'world'})]
    """

    def __init__(self, seed: int):
        self.rng: np.random.Generator = make_rng(seed)  # validates the seed first
        self.seed: int = int(seed)
        self.env: simpy.Environment = simpy.Environment()
        self.trace: list[TraceEvent] = []

    def __repr__(self) -> str:
        return f"Simulation(seed={self.seed}, now={self.now}, trace events={len(self.trace)})"

    @property
    def now(self) -> float:
        """The current simulated time in seconds."""
        return self.env.now

    def record(self, kind: str, **fields: Any) -> None:
        """Append ``TraceEvent(time=now, kind=kind, fields=fields)`` to the trace.

        ``kind`` must be a non-empty str; a field may not be called ``time`` (that column is the
        event time in ``trace_frame``).
        """
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"kind must be a non-empty str, got {kind!r}")
        if "time" in fields:
            raise ValueError(
                "a trace field may not be called 'time': the event time is recorded already"
            )
        self.trace.append(TraceEvent(time=self.env.now, kind=kind, fields=dict(fields)))

    def process(self, generator: Generator) -> simpy.Process:
        """Start ``generator`` as a SimPy process (``env.process``) and return the process."""
        return self.env.process(generator)

    def timeout(self, delay: float) -> simpy.Timeout:
        """Return an event that fires ``delay`` seconds from now (``env.timeout``); ``yield`` it."""
        if not _is_finite_number(delay) or delay < 0:
            raise ValueError(f"delay must be a finite number of seconds >= 0, got {delay!r}")
        return self.env.timeout(delay)

    def run(self, until: float | None = None) -> None:
        """Run the simulation until simulated time ``until``, or until no events are left."""
        self.env.run(until=until)

    def trace_frame(self) -> pd.DataFrame:
        """Return the trace as a pandas DataFrame.

        Columns: ``time``, ``kind``, then one column per field name in the order the names first
        appear; an event without a field has NaN/None there. One row per event, in trace order.
        """
        import pandas as pd

        field_names: dict[str, None] = {}  # a dict keeps first-seen order without duplicates
        for event in self.trace:
            field_names.update(dict.fromkeys(event.fields))
        columns = ["time", "kind", *field_names]
        rows = [{"time": event.time, "kind": event.kind, **event.fields} for event in self.trace]
        return pd.DataFrame(rows, columns=columns)


def _is_finite_number(value: object) -> bool:
    """True for a finite real number (int or float, NumPy included), False for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return False
    try:
        return math.isfinite(value)  # type: ignore[arg-type]
    except TypeError:
        return False


def poisson_arrivals(
    sim: Simulation,
    rate_per_s: float,
    on_arrival: Callable[[int], object],
    until: float,
) -> simpy.Process:
    """Call ``on_arrival(i)`` for i = 0, 1, 2, ... at the times of a Poisson process.

    The gaps between arrivals are exponential with mean ``1 / rate_per_s`` seconds, drawn from
    ``sim.rng``. Arrivals happen at simulated times strictly before ``until`` (an absolute time in
    seconds); the first gap is measured from the current time. Returns the SimPy process that
    generates them; the caller still calls ``sim.run``.

    Raises ``ValueError`` unless ``rate_per_s`` is a finite number > 0 and ``until`` is a finite
    number, and ``TypeError`` if ``on_arrival`` is not callable.
    """
    if not _is_finite_number(rate_per_s) or rate_per_s <= 0:
        raise ValueError(f"rate_per_s must be a finite number > 0, got {rate_per_s!r}")
    if not _is_finite_number(until):
        raise ValueError(f"until must be a finite simulated time in seconds, got {until!r}")
    if not callable(on_arrival):
        raise TypeError(f"on_arrival must be callable as on_arrival(i), got {on_arrival!r}")
    mean_gap = 1.0 / rate_per_s

    def arrivals() -> Generator:
        index = 0
        while True:
            gap = sim.rng.exponential(mean_gap)
            if sim.now + gap >= until:
                return
            yield sim.timeout(gap)
            on_arrival(index)
            index += 1

    return sim.process(arrivals())


class Station:
    """A queue in front of ``servers`` identical servers, served first come, first served.

    ``service_time`` is a callable ``rng -> float`` that returns one service time in seconds; it
    is called with ``sim.rng`` when a request starts service. For example
    ``lambda rng: rng.exponential(1.0)`` (mean 1 s) or ``lambda rng: 0.2`` (always 0.2 s).

    Attributes:

    - ``completed``: the latency (seconds from arrival to finish) of every finished request, in
      the order they finished.
    - ``in_system``: how many submitted requests have not finished yet (waiting in the queue plus
      in service). It goes up as soon as ``submit`` is called, so a load balancer that submits
      several requests at the same instant sees each one counted (least-connections balancing).

    Each finished request is also written to the trace as ``request_done`` with the fields
    ``station``, ``request``, ``arrived``, ``started``, ``finished`` and ``latency``.
    """

    def __init__(
        self,
        sim: Simulation,
        name: str,
        servers: int,
        service_time: Callable[[np.random.Generator], float],
    ):
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        if isinstance(servers, (bool, np.bool_)) or not isinstance(servers, (int, np.integer)):
            raise TypeError(f"servers must be an int >= 1, got {servers!r}")
        if servers < 1:
            raise ValueError(f"servers must be an int >= 1, got {servers}")
        if not callable(service_time):
            raise TypeError(
                f"service_time must be a callable rng -> seconds, got {service_time!r}"
            )
        self.sim = sim
        self.name = name
        self.servers = int(servers)
        self.service_time = service_time
        self.completed: list[float] = []
        self.in_system: int = 0
        self._servers = simpy.Resource(sim.env, capacity=self.servers)

    def __repr__(self) -> str:
        return (
            f"Station(name={self.name!r}, servers={self.servers}, in_system={self.in_system}, "
            f"completed={len(self.completed)})"
        )

    def submit(self, request_id: Any) -> simpy.Process:
        """Send request ``request_id`` to this station now and return its SimPy process.

        The process waits for a free server, holds it for one service time, then records
        ``request_done`` and appends the latency to ``completed``. ``yield`` the returned process
        to wait for the request to finish.
        """
        self.in_system += 1
        return self.sim.process(self._serve(request_id, arrived=self.sim.now))

    def _serve(self, request_id: Any, arrived: float) -> Generator:
        try:
            with self._servers.request() as server:
                yield server
                started = self.sim.now
                duration = self.service_time(self.sim.rng)
                if not _is_finite_number(duration) or duration < 0:
                    raise ValueError(
                        f"station {self.name!r}: service_time returned {duration!r} for request "
                        f"{request_id!r}; it must return a finite number of seconds >= 0"
                    )
                yield self.sim.timeout(duration)
        finally:
            self.in_system -= 1
        finished = self.sim.now
        latency = finished - arrived
        self.completed.append(latency)
        self.sim.record(
            "request_done",
            station=self.name,
            request=request_id,
            arrived=arrived,
            started=started,
            finished=finished,
            latency=latency,
        )
