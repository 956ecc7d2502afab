"""Tests for course.sim: the queueing station against queueing theory and a reference model,
replay by seed, validation, and the in_system count."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.seeding import derive_seed
from course.sim import Simulation, Station, TraceEvent, poisson_arrivals


def run_open_queue(seed, arrival_rate, servers, service_time, until):
    """Run Poisson arrivals into one Station until `until`, drain it, and return the station."""
    sim = Simulation(seed)
    station = Station(sim, "server", servers=servers, service_time=service_time)
    poisson_arrivals(sim, arrival_rate, station.submit, until=until)
    sim.run()
    return sim, station


def erlang_c_mean_latency(arrival_rate, service_rate, servers):
    """Mean time in system of an M/M/c queue (Erlang C), the independent reference."""
    offered = arrival_rate / service_rate
    utilisation = offered / servers
    top = offered**servers / math.factorial(servers) / (1 - utilisation)
    bottom = sum(offered**k / math.factorial(k) for k in range(servers)) + top
    probability_of_waiting = top / bottom
    mean_wait = probability_of_waiting / (servers * service_rate - arrival_rate)
    return mean_wait + 1 / service_rate


# (case name, arrival rate /s, servers, service time sampler, theoretical mean latency in s)
QUEUE_CASES = [
    # M/M/1: 1 / (mu - lambda) = 1 / (1 - 0.5) = 2 s.
    ("M/M/1", 0.5, 1, lambda rng: rng.exponential(1.0), 2.0),
    # M/M/2 with lambda = 1, mu = 1 per server: Erlang C gives 4/3 s.
    ("M/M/2", 1.0, 2, lambda rng: rng.exponential(1.0), erlang_c_mean_latency(1.0, 1.0, 2)),
    # M/D/1 (Pollaczek-Khinchine): 1/mu + rho / (2 mu (1 - rho)) = 1 + 0.5 / 1 = 1.5 s.
    ("M/D/1", 0.5, 1, lambda rng: 1.0, 1.5),
]


@pytest.mark.parametrize(
    "name, arrival_rate, servers, service_time, expected",
    QUEUE_CASES,
    ids=[case[0] for case in QUEUE_CASES],
)
def test_station_mean_latency_matches_queueing_theory(
    name, arrival_rate, servers, service_time, expected
):
    """Check that the mean latency over three seeded runs of ~20,000 requests each is within 5%
    of the theoretical mean (the spread of one run's mean is about 2%, of three about 1%)."""
    seed = 20240501
    requests_per_run = 20_000
    latencies = []
    for run in range(3):
        _, station = run_open_queue(
            derive_seed(seed, name, run),
            arrival_rate,
            servers,
            service_time,
            until=requests_per_run / arrival_rate,
        )
        latencies.extend(station.completed)
    measured = float(np.mean(latencies))
    assert len(latencies) > 0.95 * 3 * requests_per_run
    assert measured == pytest.approx(expected, rel=0.05), (
        f"{name} (seed {seed}, {len(latencies)} requests): mean latency {measured:.4f} s, "
        f"theory {expected:.4f} s"
    )


def test_erlang_c_reference_agrees_with_the_m_m_1_formula():
    """Check the test's own reference: with one server Erlang C is 1 / (mu - lambda)."""
    assert erlang_c_mean_latency(0.5, 1.0, 1) == pytest.approx(2.0)
    assert erlang_c_mean_latency(1.0, 1.0, 2) == pytest.approx(4 / 3)


def test_poisson_arrivals_have_the_requested_rate_and_exponential_gaps():
    """Check that arrivals come at rate 4/s, with gaps whose spread matches an exponential."""
    sim = Simulation(11)
    times = []
    poisson_arrivals(sim, 4.0, lambda i: times.append((i, sim.now)), until=5_000)
    sim.run()
    indices = [i for i, _ in times]
    arrival_times = np.array([t for _, t in times])
    assert indices == list(range(len(times))), "on_arrival must get 0, 1, 2, ... in order"
    assert np.all(np.diff(arrival_times) >= 0)
    assert arrival_times.max() < 5_000
    assert len(times) == pytest.approx(20_000, rel=0.03)
    gaps = np.diff(arrival_times)
    assert gaps.mean() == pytest.approx(0.25, rel=0.03)
    # For an exponential distribution the standard deviation equals the mean.
    assert gaps.std() == pytest.approx(0.25, rel=0.05)


def traced_run(seed):
    """A small seeded run; returns its trace."""
    sim, _ = run_open_queue(seed, 0.8, 1, lambda rng: rng.exponential(1.0), until=200)
    return sim.trace


def test_same_seed_gives_an_identical_trace():
    """Check that two runs with seed 5 record exactly the same events."""
    first, second = traced_run(5), traced_run(5)
    assert len(first) > 50
    assert first == second


def test_different_seeds_give_different_traces():
    """Check that seeds 5 and 6 record different events."""
    assert traced_run(5) != traced_run(6)


def test_record_and_trace_frame():
    """Check that record stores the time, kind and fields, and trace_frame has one column each."""
    sim = Simulation(1)

    def script():
        sim.record("start", node="a")
        yield sim.timeout(1.5)
        sim.record("message", node="b", size=10)

    sim.process(script())
    sim.run()
    assert sim.trace == [
        TraceEvent(time=0, kind="start", fields={"node": "a"}),
        TraceEvent(time=1.5, kind="message", fields={"node": "b", "size": 10}),
    ]
    frame = sim.trace_frame()
    assert list(frame.columns) == ["time", "kind", "node", "size"]
    assert frame["time"].tolist() == [0, 1.5]
    assert frame["kind"].tolist() == ["start", "message"]
    assert frame["node"].tolist() == ["a", "b"]
    assert math.isnan(frame["size"].iloc[0]) and frame["size"].iloc[1] == 10


def test_trace_frame_of_an_empty_trace_has_time_and_kind_columns():
    """Check that a simulation that recorded nothing gives an empty frame with the base columns."""
    frame = Simulation(1).trace_frame()
    assert list(frame.columns) == ["time", "kind"] and len(frame) == 0


def test_trace_events_are_frozen():
    """Check that a recorded event cannot be changed afterwards."""
    event = TraceEvent(time=1.0, kind="x", fields={})
    with pytest.raises(AttributeError):
        event.time = 2.0


def test_now_run_until_and_timeout():
    """Check that run(until) stops the clock there and a timeout fires after its delay."""
    sim = Simulation(1)
    fired = []

    def script():
        yield sim.timeout(3)
        fired.append(sim.now)

    sim.process(script())
    sim.run(until=2)
    assert sim.now == 2 and fired == []
    sim.run(until=10)
    assert fired == [3]


def test_request_done_records_consistent_times():
    """Check each request_done event: arrived <= started <= finished, latency = finished - arrived,
    and the latencies match station.completed."""
    sim, station = run_open_queue(3, 1.5, 2, lambda rng: rng.exponential(1.0), until=300)
    done = [event for event in sim.trace if event.kind == "request_done"]
    assert len(done) == len(station.completed) > 100
    for event in done:
        f = event.fields
        assert f["station"] == "server"
        assert f["arrived"] <= f["started"] <= f["finished"] == event.time, f
        assert f["latency"] == pytest.approx(f["finished"] - f["arrived"]), f
    assert [event.fields["latency"] for event in done] == station.completed
    assert sorted(event.fields["request"] for event in done) == list(range(len(done)))


def reference_fifo_latencies(arrival_times, service_times, servers):
    """Latencies of a first-come-first-served queue with `servers` servers, computed directly:
    each request, in arrival order, starts on the server that frees up first."""
    free_at = [0.0] * servers
    latencies = []
    for arrived, service in zip(arrival_times, service_times):
        earliest = min(range(servers), key=lambda s: free_at[s])
        started = max(arrived, free_at[earliest])
        free_at[earliest] = started + service
        latencies.append(started + service - arrived)
    return latencies


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    servers=st.integers(min_value=1, max_value=4),
    jobs=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=3, allow_nan=False),  # gap before this arrival (s)
            st.floats(min_value=0.01, max_value=5, allow_nan=False),  # service time (s)
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_station_matches_a_reference_fifo_queue(servers, jobs):
    """Check that each request's latency equals that of a directly computed FIFO c-server queue."""
    gaps = [gap for gap, _ in jobs]
    service_times = [service for _, service in jobs]
    arrival_times = list(np.cumsum(gaps))
    sim = Simulation(0)
    queued_service_times = iter(service_times)
    station = Station(sim, "s", servers, service_time=lambda rng: next(queued_service_times))
    latency_by_request = {}

    def client():
        for request_id, gap in enumerate(gaps):
            yield sim.timeout(gap)
            station.submit(request_id)

    sim.process(client())
    sim.run()
    for event in sim.trace:
        latency_by_request[event.fields["request"]] = event.fields["latency"]
    expected = reference_fifo_latencies(arrival_times, service_times, servers)
    measured = [latency_by_request[i] for i in range(len(jobs))]
    assert measured == pytest.approx(expected, abs=1e-9), (
        f"servers={servers}, arrivals={arrival_times}, services={service_times}: "
        f"latencies {measured}, expected {expected}"
    )
    assert station.in_system == 0


def test_in_system_counts_queued_and_in_service_requests():
    """Check in_system over time: three requests at t=0 on one server, 1 s of service each."""
    sim = Simulation(1)
    station = Station(sim, "single", servers=1, service_time=lambda rng: 1.0)
    for request_id in range(3):
        station.submit(request_id)
    # Counted at once, before the simulation runs: a balancer submitting at the same instant
    # must see every request it already sent.
    assert station.in_system == 3
    observed = []

    def observer():
        for t in (0.5, 1.5, 2.5, 3.5):
            yield sim.timeout(t - sim.now)
            observed.append(station.in_system)

    sim.process(observer())
    sim.run()
    assert observed == [3, 2, 1, 0]
    assert station.completed == [1.0, 2.0, 3.0]


def test_in_system_returns_to_zero_after_the_work_drains():
    """Check that in_system rises under load and is back to 0 once every request has finished."""
    sim = Simulation(9)
    station = Station(sim, "s", servers=2, service_time=lambda rng: rng.exponential(1.0))
    peak = 0

    def arrive(i):
        nonlocal peak
        station.submit(i)
        peak = max(peak, station.in_system)

    poisson_arrivals(sim, 1.8, arrive, until=500)
    sim.run()
    assert peak >= 5, f"a queue at 90% utilisation should build up; peak in_system was {peak}"
    assert len(station.completed) > 500
    assert station.in_system == 0


def test_in_system_never_exceeds_submitted_minus_finished():
    """Check in_system at every arrival against the count of submitted minus finished requests."""
    sim = Simulation(4)
    station = Station(sim, "s", servers=2, service_time=lambda rng: rng.exponential(1.2))
    mismatches = []

    def arrive(i):
        station.submit(i)
        finished = sum(1 for event in sim.trace if event.kind == "request_done")
        if station.in_system != i + 1 - finished:
            mismatches.append((sim.now, i, station.in_system, finished))

    poisson_arrivals(sim, 1.5, arrive, until=300)
    sim.run()
    assert mismatches == []
    assert station.in_system == 0


@pytest.mark.parametrize("rate", [0, -1.0, math.nan, math.inf, "1", None])
def test_poisson_arrivals_refuses_a_bad_rate(rate):
    """Check that a rate that is not a finite number > 0 raises ValueError."""
    with pytest.raises(ValueError, match="rate_per_s"):
        poisson_arrivals(Simulation(1), rate, lambda i: None, until=10)


def test_poisson_arrivals_refuses_a_bad_until_or_callback():
    """Check the other arguments of poisson_arrivals."""
    with pytest.raises(ValueError, match="until"):
        poisson_arrivals(Simulation(1), 1.0, lambda i: None, until=math.inf)
    with pytest.raises(TypeError, match="on_arrival"):
        poisson_arrivals(Simulation(1), 1.0, "not callable", until=10)


def test_simulation_refuses_an_unnamed_seed():
    """Check that Simulation needs an integer seed, like make_rng."""
    with pytest.raises(TypeError, match="seed"):
        Simulation(None)
    with pytest.raises(TypeError, match="seed"):
        Simulation(1.5)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"servers": 0}, ValueError),
        ({"servers": -2}, ValueError),
        ({"servers": 1.5}, TypeError),
        ({"servers": True}, TypeError),
        ({"name": ""}, ValueError),
        ({"service_time": 1.0}, TypeError),
    ],
)
def test_station_refuses_bad_arguments(kwargs, error):
    """Check that Station validates servers, name and service_time."""
    arguments = {"name": "s", "servers": 1, "service_time": lambda rng: 1.0, **kwargs}
    with pytest.raises(error):
        Station(Simulation(1), **arguments)


@pytest.mark.parametrize("bad_time", [-0.1, math.nan, math.inf, "1"])
def test_station_refuses_a_bad_service_time_when_serving(bad_time):
    """Check that a service_time callable returning a negative or non-finite value is reported."""
    sim = Simulation(1)
    station = Station(sim, "web", 1, service_time=lambda rng: bad_time)
    station.submit("r1")
    with pytest.raises(ValueError, match="service_time returned"):
        sim.run()


def test_timeout_and_record_refuse_bad_arguments():
    """Check that a negative or NaN delay and a field named 'time' are refused."""
    sim = Simulation(1)
    with pytest.raises(ValueError):
        sim.timeout(-1)
    with pytest.raises(ValueError):
        sim.timeout(math.nan)
    with pytest.raises(ValueError, match="time"):
        sim.record("event", time=3)
    with pytest.raises(ValueError):
        sim.record("")
