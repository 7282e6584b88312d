"""The closed-form engine: a tandem recursion per device instead of SimPy events, equal to the DES bit for bit.

It applies when no resource is shared between requests in a way that needs the event queue:

* every device has its own link (``network.sharing: per-device``): a shared cell is processor sharing;
* the cloud does not batch (``cloud.max_batch: 1``, where ``cloud.batch_window`` has no window to place);
* every schedule is static (one Plan for every request; Janus's scheduler plans from recent transfers
  and stays on the DES, see :func:`fast_path_blocker`);
* the Plan is a two-tier chain (device, uplink, cloud, return): a stage graph (forks, branches, other
  servers; simulator/plans/graph.py) runs on the DES;
* the GPU pool never binds across devices: with one device the pool is solved exactly as a FIFO
  multi-server queue; with several, no cloud job may wait and no more jobs than GPUs may run at once.
  This last condition is known only after the recursion ran (:class:`PoolBinds`).

Per request it computes, stage by stage, departure = max(arrival, previous departure) + service, with the
trace's exact transfer time for the upload, in the same floating-point operations in the same order as
the SimPy model (so the clock readings agree to the last bit). Exact ties follow SimPy's event order: a
frame that arrives at the instant the previous frame's computation ends finds the device busy (its
arrival was scheduled first) and is dropped under ``on_busy: drop``. Sampled compute (``compute: {variability:
profile}``, simulator/model/variability.py) costs each request its own draw, the same one the DES makes.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable

import numpy as np

from simulator.model.engine import EngineSetup, arrival_times
from simulator.model.records import STATUS_DROPPED, STATUS_OK, STATUS_UNFINISHED, RecordBuffer
from simulator.plans.plan import Plan, PlanContext, PlanCost, Schedule
from simulator.traces import Trace


class PoolBinds(Exception):
    """The GPU pool would make a request wait for another device's job: only the DES models that."""


def fast_path_blocker(setup: EngineSetup, schedule: Schedule) -> str | None:
    """Why the fast path cannot run this schedule (known before running), or None when it can."""
    if setup.sharing == "shared-cell":
        return "network.sharing is 'shared-cell' (uploads share the cell by processor sharing)"
    if setup.max_batch > 1:
        return "cloud.max_batch > 1 (batches form from whichever jobs wait together)"
    if not schedule.static:
        return (f"schedule {schedule.label!r} plans each request from what the device sees at that moment "
                "(Janus's scheduler, adaptive Mercury, the oracle), whose order at equal instants only the DES "
                "reproduces")
    if schedule.plan(PlanContext(0.0, 0, math.nan)).graph is not None:
        return (f"schedule {schedule.label!r} plans a stage graph; the fast path covers two-tier chains on "
                "unshared resources only")
    return None


def simulate_fast(setup: EngineSetup, schedule: Schedule, cost: Callable[[Plan], PlanCost], *,
                  mean_mbps: float) -> RecordBuffer:
    """Records of one static schedule, as :func:`simulator.model.engine.simulate` would give them.

    Raises :class:`PoolBinds` when the GPU pool binds across devices.
    """
    plan = schedule.plan(PlanContext(0.0, 0, mean_mbps))
    priced = cost(plan)
    devices = [_Device(setup, d, plan, priced) for d in range(setup.devices)]
    if setup.devices > 1:
        _check_pool(devices, setup.gpus)
    return _records(setup, devices, plan, priced)


class _Device:
    """One device's requests through CPU, link, cloud and return (one entry per request in each array)."""

    def __init__(self, setup: EngineSetup, device: int, plan: Plan, cost: PlanCost) -> None:
        self.device = device
        self.mobile_s, self.cloud_s = cost.mobile_s, cost.cloud_s
        # Sampled compute (simulator/model/variability.py): each request's own draw, the DES's, in these arrays.
        self.draw = None if setup.compute is None else \
            (lambda rid: setup.drawn(plan, cost, device, rid))
        self.mobile_drawn: array | None = None if self.draw is None else array("d")
        self.cloud_drawn: array | None = None if self.draw is None else array("d")
        self.offloads = plan.offloads
        self.upload = plan.uplink_bytes + setup.overhead_bytes if plan.offloads else 0
        self.half_rtt = setup.rtt_s / 2
        self.return_s = setup.return_s
        self.trace, self.offset = setup.trace, setup.start_offsets_s[device]
        self.gpu_free = [0.0] * setup.gpus  # heap of the instants each GPU falls idle
        # Compact typed arrays (8 bytes a value), not lists of float objects: a million requests stay small.
        self.arrival, self.mobile_queue = array("d"), array("d")
        self.uplink_queue, self.transfer, self.cloud_queue, self.done = array("d"), array("d"), array("d"), array("d")
        self.status = array("b")
        self.cloud_start, self.cloud_end = array("d"), array("d")  # when each cloud job holds a GPU
        if setup.arrival == "back-to-back":
            self._closed_loop(setup.n_requests, setup.duration_s)
        else:
            self._open_loop(arrival_times(setup, device).tolist(), setup.on_busy == "drop")

    # -- open loop: stage by stage over all requests ---------------------------------------------------
    def _open_loop(self, targets: list[float], drop: bool) -> None:
        """Arrivals and the CPU (a scalar pass), the link (vectorised), the cloud and the return (a pass)."""
        arrival, status, mobile_queue = self.arrival, self.status, self.mobile_queue
        mobile_s = self.mobile_s
        computes = mobile_s > 0
        drop = drop and computes
        draw, mobile_drawn, cloud_drawn = self.draw, self.mobile_drawn, self.cloud_drawn
        ready = array("d")
        now = cpu_free = 0.0
        cpu_holder = -2  # the request whose computation ends at cpu_free
        for rid, t in enumerate(targets):
            if t > now:
                now = now + (t - now)  # the clock as SimPy advances it: now + delay
            arrival.append(now)
            if drop and (now < cpu_free or (now == cpu_free and cpu_holder == rid - 1)):
                status.append(STATUS_DROPPED)
                mobile_queue.append(math.nan)
                continue
            status.append(STATUS_OK)
            if draw is not None:
                drawn = draw(rid)
                mobile_s = drawn.mobile_s
                mobile_drawn.append(mobile_s), cloud_drawn.append(drawn.cloud_s)  # type: ignore[union-attr]
            if computes:
                start = cpu_free if cpu_free > now else now
                mobile_queue.append(start - now)
                cpu_free = start + mobile_s
                cpu_holder = rid
                ready.append(cpu_free)
            else:
                mobile_queue.append(0.0)
                ready.append(now)
        accepted = np.flatnonzero(np.frombuffer(status, dtype=np.int8) == STATUS_OK).tolist()
        n = len(arrival)
        self.uplink_queue = uplink_queue = array("d", [math.nan]) * n
        self.transfer = transfer = array("d", [math.nan]) * n
        self.cloud_queue = cloud_queue = array("d", [math.nan]) * n
        self.done = done = array("d", [math.nan]) * n
        if not self.offloads:
            for k, finished in zip(accepted, ready, strict=True):
                uplink_queue[k] = transfer[k] = cloud_queue[k] = 0.0
                done[k] = finished
            return
        starts, ends = _fifo_link(self.trace, self.offset, self.upload, np.frombuffer(ready, dtype=np.float64))
        cloud_s = cloud_drawn or [self.cloud_s] * len(accepted)
        for j, (k, at, start, end) in enumerate(zip(accepted, ready, starts.tolist(), ends.tolist(), strict=False)):
            uplink_queue[k], transfer[k] = start - at, end - start
            cloud_queue[k], done[k] = self._cloud(end, cloud_s[j])
        for k in accepted[len(starts):]:  # the trace ended before these uploads could: never finished
            status[k] = STATUS_UNFINISHED
            mobile_queue[k] = math.nan

    # -- closed loop: one request at a time, each after the previous one finished ------------------------
    def _closed_loop(self, limit: int | None, duration: float | None) -> None:
        """Back to back: nothing ever queues, but each arrival is the previous completion."""
        now = 0.0
        while (limit is None or len(self.arrival) < limit) and (duration is None or now < duration):
            mobile_s, cloud_s = self.mobile_s, self.cloud_s
            if self.draw is not None:
                drawn = self.draw(len(self.arrival))
                mobile_s, cloud_s = drawn.mobile_s, drawn.cloud_s
                self.mobile_drawn.append(mobile_s), self.cloud_drawn.append(cloud_s)  # type: ignore[union-attr]
            self.arrival.append(now)
            ready = now + mobile_s if self.mobile_s > 0 else now
            queued = sent = in_queue = 0.0
            finished = ready
            if self.offloads:
                end = self.trace.transfer_end(ready + self.offset, self.upload) - self.offset
                if math.isinf(end):  # the trace ended before this upload could: the source stops here
                    self.status.append(STATUS_UNFINISHED)
                    for column in (self.mobile_queue, self.uplink_queue, self.transfer, self.cloud_queue, self.done):
                        column.append(math.nan)
                    return
                end = ready + max(end - ready, 0.0)
                sent = end - ready
                in_queue, finished = self._cloud(end, cloud_s)
            self.status.append(STATUS_OK)
            self.mobile_queue.append(0.0), self.uplink_queue.append(queued), self.transfer.append(sent)
            self.cloud_queue.append(in_queue), self.done.append(finished)
            now = finished

    def _cloud(self, uploaded: float, cloud_s: float) -> tuple[float, float]:
        """RTT/2, the FIFO GPU pool (``cloud_s`` of compute) and the return after an upload ends: (cloud queue,
        completion)."""
        at_cloud = uploaded + self.half_rtt if self.half_rtt else uploaded
        free = heapq.heappop(self.gpu_free)
        begin = free if free > at_cloud else at_cloud
        finished = begin + cloud_s
        heapq.heappush(self.gpu_free, finished)
        self.cloud_start.append(begin)
        self.cloud_end.append(finished)
        return begin - at_cloud, finished + self.return_s if self.return_s else finished


def _fifo_link(trace: Trace, offset_s: float, n_bytes: int, ready: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each upload on a FIFO link: start = max(ready, previous end), in trace time.

    Uploads that never end (a 'stop' trace ran out) and all after them are cut off. Vectorised: first
    every upload as if the link were idle, then a few rounds that move starts behind busy predecessors;
    what is still unsettled after them (a long busy period) is finished one upload at a time.
    """

    def ends_from(starts: np.ndarray) -> np.ndarray:
        end = trace.transfer_ends(starts + offset_s, n_bytes) - offset_s
        return starts + np.maximum(end - starts, 0.0)

    starts = ready.copy()
    ends = ends_from(starts)
    for _ in range(_VECTOR_ROUNDS):
        cut = _first_inf(ends)
        starts, ends, ready = starts[:cut], ends[:cut], ready[:cut]
        before = np.concatenate(([0.0], ends[:-1]))
        wanted = np.maximum(ready, before)
        moved = np.flatnonzero(wanted != starts)
        if moved.size == 0:
            return starts, ends
        starts[moved] = wanted[moved]
        ends[moved] = ends_from(starts[moved])
    first = int(moved[0])
    for k in range(first, len(starts)):
        start = ready[k] if k == 0 or ready[k] >= ends[k - 1] else ends[k - 1]
        end = trace.transfer_end(start + offset_s, n_bytes) - offset_s
        if math.isinf(end):
            return starts[:k], ends[:k]
        starts[k], ends[k] = start, start + max(end - start, 0.0)
    return starts, ends


_VECTOR_ROUNDS = 6


def _first_inf(values: np.ndarray) -> int:
    hits = np.flatnonzero(np.isinf(values))
    return int(hits[0]) if hits.size else len(values)


def _check_pool(devices: list[_Device], gpus: int) -> None:
    """Raise PoolBinds unless every cloud job of every device could start on arrival on ``gpus`` GPUs."""
    if any(q > 0 for d in devices for q in d.cloud_queue if q == q):
        raise PoolBinds("a device's cloud jobs queue for the GPU pool")
    starts = np.concatenate([np.frombuffer(d.cloud_start, dtype=np.float64) for d in devices])
    if len(starts) <= gpus:
        return
    times = np.concatenate([starts, *[np.frombuffer(d.cloud_end, dtype=np.float64) for d in devices]])
    steps = np.concatenate([np.ones(len(starts)), -np.ones(len(starts))])
    order = np.lexsort((steps, times))  # at equal instants a GPU frees before the next job takes it
    peak = int(np.cumsum(steps[order]).max())
    if peak > gpus:
        raise PoolBinds(f"{peak} cloud jobs run at once on {gpus} GPU(s)")


def _records(setup: EngineSetup, devices: list[_Device], plan: Plan, cost: PlanCost) -> RecordBuffer:
    """Fill a RecordBuffer column by column with the same values (and the same arithmetic) as the DES.

    Energy is not filled here: the runner computes it for both engines (simulator/model/energy.py).
    """
    total = sum(len(d.arrival) for d in devices)
    buffer = RecordBuffer(total)
    buffer.size = total
    cols = buffer.columns
    upload = plan.uplink_bytes + setup.overhead_bytes if plan.offloads else 0
    half_rtt = setup.rtt_s / 2 if plan.offloads else 0.0
    back = devices[0].return_s if plan.offloads and devices else 0.0
    row = 0
    for d in devices:
        n = len(d.arrival)
        rows = slice(row, row + n)
        row += n
        status = np.frombuffer(d.status, dtype=np.int8)
        ok = status == STATUS_OK
        arrived = np.frombuffer(d.arrival, dtype=np.float64)
        cols["device"][rows] = d.device
        cols["request_id"][rows] = np.arange(n)
        cols["arrival_s"][rows] = arrived
        cols["uplink_bytes"][rows] = upload
        cols["accuracy"][rows], cols["split_after"][rows], cols["parameter"][rows] = \
            plan.accuracy, plan.split_after, plan.parameter
        cols["status"][rows] = status
        mobile_queue = np.frombuffer(d.mobile_queue, dtype=np.float64)
        uplink_queue = np.frombuffer(d.uplink_queue, dtype=np.float64)
        transfer = np.frombuffer(d.transfer, dtype=np.float64)
        cloud_queue = np.frombuffer(d.cloud_queue, dtype=np.float64)
        cloud = cost.cloud_s if plan.offloads else 0.0
        uplink = transfer + half_rtt
        mobile_ms, cloud_ms = np.full(n, cost.mobile_s * 1e3), np.full(n, cloud * 1e3)
        if d.mobile_drawn is not None and d.cloud_drawn is not None:  # sampled: each admitted request's own
            mobile_ms[ok] = np.frombuffer(d.mobile_drawn, dtype=np.float64)[:int(ok.sum())] * 1e3
            if plan.offloads:
                cloud_ms[ok] = np.frombuffer(d.cloud_drawn, dtype=np.float64)[:int(ok.sum())] * 1e3
        values = {
            "mobile_queue_ms": mobile_queue * 1e3, "mobile_ms": mobile_ms,
            "uplink_queue_ms": uplink_queue * 1e3, "uplink_ms": uplink * 1e3,
            "cloud_queue_ms": cloud_queue * 1e3, "cloud_ms": cloud_ms,
            "return_ms": np.full(n, back * 1e3),
            "total_ms": (np.frombuffer(d.done, dtype=np.float64) - arrived) * 1e3,
        }
        for name, column in values.items():
            cols[name][rows] = np.where(ok, column, np.nan)
    return buffer
