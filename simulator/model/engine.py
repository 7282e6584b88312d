"""The SimPy model: per device a workload source and a CPU, an uplink, a cloud GPU pool, the return.

The engine executes Plans from a schedule and knows nothing of schedule names. One call of
:func:`simulate` runs one schedule on a fresh environment; every schedule sees the same arrivals and
trace offsets (common random numbers), derived from the seed alone, so runs are reproducible bit for bit.
Where no resource is shared between devices, :mod:`simulator.model.fastpath` computes the same records in
closed form.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import simpy

from simulator.inputs.profiles import Power
from simulator.model.cloud import BatchWindow, CloudPool
from simulator.model.graph_engine import GraphExecutor
from simulator.model.records import STATUS_DROPPED, STATUS_OK, RecordBuffer
from simulator.model.topology import ServerLink, ServerSetup, return_time_s
from simulator.model.uplink import device_links
from simulator.model.variability import ComputeSampler
from simulator.plans.plan import Plan, PlanContext, PlanCost, Schedule
from simulator.traces import Trace

_STREAM_ARRIVALS, _STREAM_OFFSETS = 0, 1


@dataclass(frozen=True)
class EngineSetup:
    """Everything the engine needs besides the schedule, in SI units (seconds, bytes, Mbit/s)."""

    devices: int
    arrival: Literal["periodic", "poisson", "back-to-back"]
    fps: float | None
    rate_per_s: float | None
    duration_s: float | None
    n_requests: int | None
    seed: int
    on_busy: Literal["queue", "drop"]
    trace: Trace
    start_offsets_s: tuple[float, ...]
    sharing: Literal["per-device", "shared-cell"]
    rtt_s: float
    downlink_mbps: float | None
    result_bytes: int
    overhead_bytes: int
    gpus: int
    max_batch: int
    batch_timeout_s: float
    cloud_batch_factor: Callable[[int], float]
    power: Power
    servers: tuple[ServerSetup, ...] = ()  # tiers beyond the cloud (simulator/model/topology.py)
    server_links: tuple[ServerLink, ...] = ()
    compute: ComputeSampler | None = None  # draws each request's compute (simulator/model/variability.py)
    batch_window: BatchWindow = "first-job"  # where the cloud's batch_timeout_s starts (simulator/model/cloud.py)

    def drawn(self, plan: Plan, cost: PlanCost, device: int, rid: int) -> PlanCost:
        """The compute request ``rid`` of ``device`` runs: ``cost`` itself, or a draw when compute is sampled."""
        return cost if self.compute is None else self.compute.draw(plan, device, rid)

    def trace_offset_s(self, device: int) -> float:
        """Where ``device``'s view of the trace starts (a shared cell has one offset for all)."""
        return self.start_offsets_s[0 if self.sharing == "shared-cell" else device]

    def plan_context(self, now_s: float, device: int, mean_mbps: float, recent_mbps: Sequence[float], *,
                     queue: int = 0, recent_latency_ms: Sequence[float] = (),
                     since_arrival_s: float | None = None) -> PlanContext:
        """What a schedule may know when it plans ``device``'s request at ``now_s`` (simulated or emulated)."""
        return PlanContext(now_s, device, mean_mbps, recent_mbps, self.trace, self.trace_offset_s(device),
                           self.overhead_bytes, self.return_s, queue, recent_latency_ms, since_arrival_s)

    @property
    def return_s(self) -> float:
        """The result's way back: RTT/2 plus its transfer on the downlink (if one is given)."""
        return return_time_s(self.rtt_s, self.downlink_mbps, self.result_bytes)

    @property
    def expected_requests(self) -> float:
        """Requests the workload will issue (estimated for duration-bound runs)."""
        if self.n_requests is not None:
            return float(self.n_requests * self.devices)
        rate = self.fps or self.rate_per_s
        assert self.duration_s is not None
        return float(self.duration_s * rate * self.devices) if rate else math.nan


def arrival_times(setup: EngineSetup, device: int) -> np.ndarray:
    """Arrival instants of one device (periodic or Poisson), from the seed and the device index only.

    Periodic frames of a single device start at 0; with several devices each gets a random phase so
    cameras are not synchronised.
    """
    rng = np.random.default_rng([setup.seed, _STREAM_ARRIVALS, device])
    if setup.arrival == "periodic":
        assert setup.fps is not None
        period = 1.0 / setup.fps
        phase = rng.uniform(0.0, period) if setup.devices > 1 else 0.0
        count = setup.n_requests if setup.n_requests is not None else \
            max(0, math.ceil((setup.duration_s - phase) / period))  # type: ignore[operator]
        times = phase + period * np.arange(count, dtype=np.float64)
    else:
        assert setup.rate_per_s is not None
        if setup.n_requests is not None:
            times = np.cumsum(rng.exponential(1.0 / setup.rate_per_s, setup.n_requests))
        else:
            assert setup.duration_s is not None
            chunks, total, last = [], 0, 0.0
            chunk = max(16, int(setup.duration_s * setup.rate_per_s * 1.1) + 16)
            while last < setup.duration_s:
                gaps = np.cumsum(rng.exponential(1.0 / setup.rate_per_s, chunk)) + last
                chunks.append(gaps)
                last = float(gaps[-1])
                total += chunk
            times = np.concatenate(chunks)
    if setup.duration_s is not None:
        times = times[times < setup.duration_s]
    return times


def start_offsets(seed: int, devices: int, trace_duration_s: float) -> tuple[float, ...]:
    """Random trace start positions, one per device, reproducible from the seed."""
    return tuple(float(np.random.default_rng([seed, _STREAM_OFFSETS, d]).uniform(0.0, trace_duration_s))
                 for d in range(devices))


class _Decisions:
    """What each device knows of its own past decisions (``PlanContext.queue``, ``recent_latency_ms``,
    ``since_arrival_s``), kept only for a schedule whose ``decision_history`` asks (``kept`` latencies each)."""

    def __init__(self, devices: int, kept: int) -> None:
        self.kept = kept
        self.queue = [0] * devices  # admitted requests not yet past the device's CPU and uplink
        self.latency_ms: list[deque[float]] = [deque(maxlen=max(kept, 1)) for _ in range(devices)]
        self.last_arrival: list[float | None] = [None] * devices


class _Model:
    """One schedule's run: SimPy resources, processes and the record buffer."""

    def __init__(self, setup: EngineSetup, schedule: Schedule, cost: Callable[[Plan], PlanCost],
                 mean_mbps: float, on_progress: Callable[[float], None] | None = None) -> None:
        self.setup = setup
        self.schedule = schedule
        self.cost = cost
        self.mean_mbps = mean_mbps
        self.env = simpy.Environment()
        self.records = RecordBuffer(int(min(setup.expected_requests, 5e6)) if math.isfinite(
            setup.expected_requests) else 1024)
        self.cpus = [simpy.Resource(self.env, capacity=1) for _ in range(setup.devices)]
        self.recent = [deque(maxlen=getattr(schedule, "bandwidth_history", 0)) for _ in range(setup.devices)]
        self.decisions = _Decisions(setup.devices, getattr(schedule, "decision_history", 0))
        self.links = device_links(self.env, setup.trace, setup.start_offsets_s, setup.sharing, setup.devices)
        self.cloud = CloudPool(self.env, setup.gpus, setup.max_batch, setup.batch_timeout_s,
                               setup.cloud_batch_factor, setup.batch_window)
        self.return_s = setup.return_s
        self.graphs: GraphExecutor | None = None  # built when the first stage graph arrives
        self.radio_rtt_s: dict[int, float] = {}  # a graph request's row -> its uploads' RTTs (for energy)
        self.completed = 0
        self.on_progress = on_progress
        # A static schedule's one Plan, priced once (not per request).
        self._static: tuple[Plan, PlanCost] | None = None
        if schedule.static:
            plan = schedule.plan(PlanContext(0.0, 0, mean_mbps))
            self._static = plan, cost(plan)
        expected = setup.expected_requests
        self._expected = expected if math.isfinite(expected) and expected > 0 else 0.0
        self._report_every = max(1, int(self._expected // 200)) if self._expected else 1000
        for device in range(setup.devices):
            source = self._closed_loop(device) if setup.arrival == "back-to-back" else \
                self._open_loop(device, arrival_times(setup, device))
            self.env.process(source)

    # -- workload sources ------------------------------------------------------------------------------
    def _open_loop(self, device: int, times: np.ndarray) -> Generator[Any, Any, None]:
        env = self.env
        for rid, t in enumerate(times.tolist()):
            if t > env.now:
                yield env.timeout(t - env.now)
            self._start(device, rid)

    def _closed_loop(self, device: int) -> Generator[Any, Any, None]:
        env, setup = self.env, self.setup
        rid = 0
        while (setup.n_requests is None or rid < setup.n_requests) and \
                (setup.duration_s is None or env.now < setup.duration_s):
            yield self._start(device, rid)
            rid += 1

    def _start(self, device: int, rid: int) -> simpy.Process:
        """Start request ``rid`` of ``device`` (it plans when SimPy first runs it, at this instant)."""
        return self.env.process(self._request(device, rid))

    # -- one request -----------------------------------------------------------------------------------
    def _request(self, device: int, rid: int) -> Generator[Any, Any, None]:
        env, setup, cols = self.env, self.setup, self.records.columns
        arrived = env.now
        decisions = self.decisions
        if self._static is not None:
            plan, cost = self._static
        else:
            plan = self.schedule.plan(self.plan_context(device))
            cost = self.cost(plan)
        i = self.records.new()
        if plan.graph is not None:
            yield from self._graph_request(plan, cost, device, rid, i, arrived)
            return
        upload = plan.uplink_bytes + setup.overhead_bytes if plan.offloads else 0
        cols["uplink_bytes"][i] = upload
        if not self._admitted(plan, cost, device, rid, i, arrived):
            return
        if decisions.kept:
            decisions.queue[device] += 1
        drawn = setup.drawn(plan, cost, device, rid)
        cpu = self.cpus[device]
        mobile_queue = 0.0
        if cost.mobile_s > 0:
            with cpu.request() as slot:
                yield slot
                mobile_queue = env.now - arrived
                yield env.timeout(drawn.mobile_s)
        uplink_queue = transfer = cloud_queue = cloud = back = 0.0
        if plan.offloads:
            uplink_queue, transfer = yield from self.links[device].send(upload)
            if decisions.kept:
                decisions.queue[device] -= 1
            if transfer > 0:
                self.recent[device].append(upload * 8 / transfer / 1e6)
            if setup.rtt_s:
                yield env.timeout(setup.rtt_s / 2)
            cloud_queue, cloud = yield from self.cloud.run(drawn.cloud_s)
            back = self.return_s
            if back:
                yield env.timeout(back)
        elif decisions.kept:
            decisions.queue[device] -= 1
        uplink = transfer + (setup.rtt_s / 2 if plan.offloads else 0.0)
        cols["mobile_queue_ms"][i], cols["mobile_ms"][i] = mobile_queue * 1e3, drawn.mobile_s * 1e3
        cols["uplink_queue_ms"][i], cols["uplink_ms"][i] = uplink_queue * 1e3, uplink * 1e3
        cols["cloud_queue_ms"][i], cols["cloud_ms"][i] = cloud_queue * 1e3, cloud * 1e3
        cols["return_ms"][i], cols["total_ms"][i] = back * 1e3, (env.now - arrived) * 1e3
        self._completed(i)

    def _admitted(self, plan: Plan, cost: PlanCost, device: int, rid: int, i: int, arrived: float) -> bool:
        """Write the request's identity and its Plan's columns; False when a busy device drops it."""
        cols = self.records.columns
        cols["device"][i], cols["request_id"][i], cols["arrival_s"][i] = device, rid, arrived
        cols["accuracy"][i], cols["split_after"][i], cols["parameter"][i] = plan.accuracy, plan.split_after, \
            plan.parameter
        cols["fallback"][i] = plan.fallback
        cpu = self.cpus[device]
        if self.setup.on_busy == "drop" and cost.mobile_s > 0 and (cpu.count or cpu.queue):
            cols["status"][i] = STATUS_DROPPED
            return False
        return True

    def plan_context(self, device: int) -> PlanContext:
        """What ``device`` knows when it plans a request arriving now; notes the arrival for the next one."""
        now, decisions = self.env.now, self.decisions
        if not decisions.kept:
            return self.setup.plan_context(now, device, self.mean_mbps, self.recent[device])
        last = decisions.last_arrival[device]
        decisions.last_arrival[device] = now
        return self.setup.plan_context(now, device, self.mean_mbps, self.recent[device],
                                       queue=decisions.queue[device],
                                       recent_latency_ms=tuple(decisions.latency_ms[device]),
                                       since_arrival_s=None if last is None else now - last)

    def _completed(self, i: int) -> None:
        cols = self.records.columns
        cols["status"][i] = STATUS_OK
        if self.decisions.kept:
            self.decisions.latency_ms[int(cols["device"][i])].append(float(cols["total_ms"][i]))
        self.completed += 1
        if self.on_progress is not None and self.completed % self._report_every == 0 and self._expected:
            self.on_progress(min(1.0, self.completed / self._expected))

    def _graph_request(self, plan: Plan, cost: PlanCost, device: int, rid: int, i: int,
                       arrived: float) -> Generator[Any, Any, None]:
        """A request whose Plan is a stage graph (simulator/model/graph_engine.py)."""
        assert plan.graph is not None
        env, setup, cols = self.env, self.setup, self.records.columns
        if self.graphs is None:
            self.graphs = GraphExecutor(env, setup, self.cpus, self.cloud, self.links, self.recent)
        if not self._admitted(plan, cost, device, rid, i, arrived):
            return
        compute_s = setup.drawn(plan, cost, device, rid).compute_s
        decisions = self.decisions
        if decisions.kept:  # a graph counts on its device until it finishes
            decisions.queue[device] += 1
        sums = yield from self.graphs.run(plan.graph, compute_s, device, rid)
        if decisions.kept:
            decisions.queue[device] -= 1
        cols["uplink_bytes"][i] = sums.sent_bytes
        cols["accuracy"][i] = plan.accuracy if sums.accuracy is None else sums.accuracy
        cols["mobile_queue_ms"][i], cols["mobile_ms"][i] = sums.mobile_queue * 1e3, sums.mobile * 1e3
        cols["uplink_queue_ms"][i], cols["uplink_ms"][i] = sums.uplink_queue * 1e3, sums.uplink * 1e3
        cols["cloud_queue_ms"][i], cols["cloud_ms"][i] = sums.cloud_queue * 1e3, sums.cloud * 1e3
        cols["return_ms"][i], cols["total_ms"][i] = sums.back * 1e3, (env.now - arrived) * 1e3
        self.radio_rtt_s[i] = 2 * sums.uplink_rtt
        self._completed(i)


def simulate(setup: EngineSetup, schedule: Schedule, cost: Callable[[Plan], PlanCost], *, mean_mbps: float,
             on_progress: Callable[[float], None] | None = None) -> RecordBuffer:
    """Run one schedule to completion (every issued request finished or stuck) and return its records."""
    model = _Model(setup, schedule, cost, mean_mbps, on_progress)
    model.env.run()
    if model.graphs is not None:
        rtt = np.full(model.records.size, setup.rtt_s)
        rtt[list(model.radio_rtt_s)] = list(model.radio_rtt_s.values())
        model.records.radio_rtt_s = rtt
        if model.graphs.shaped:  # stages.parquet only for forks, branches or more than two tiers
            model.records.stage_rows = model.graphs.rows
    if on_progress is not None:
        on_progress(1.0)
    return model.records
