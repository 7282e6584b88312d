"""The closed-form engine: a tandem recursion per device instead of SimPy events, equal to the DES bit for bit.

It applies when no resource is shared between requests in a way that needs the event queue:

* every device has its own link (``network.sharing: per-device``): a shared cell is processor sharing;
* the cloud does not batch (``cloud.max_batch: 1``);
* every schedule is static (one Plan for every request; Janus's scheduler plans from recent transfers
  and stays on the DES, see :func:`fast_path_blocker`);
* the GPU pool never binds across devices: with one device the pool is solved exactly as a FIFO
  multi-server queue; with several, no cloud job may wait and no more jobs than GPUs may run at once.
  This last condition is known only after the recursion ran (:class:`PoolBinds`).

Per request it computes, stage by stage, departure = max(arrival, previous departure) + service, with the
trace's exact transfer time for the upload, in the same floating-point operations in the same order as
the SimPy model (so the clock readings agree to the last bit). Exact ties follow SimPy's event order: a
frame that arrives at the instant the previous frame's computation ends finds the device busy (its
arrival was scheduled first) and is dropped under ``on_busy: drop``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np

from simulator.engine import EngineSetup, arrival_times
from simulator.plan import Plan, PlanContext, PlanCost
from simulator.records import STATUS_DROPPED, STATUS_OK, STATUS_UNFINISHED, RecordBuffer
from simulator.schedules.base import Schedule


class PoolBinds(Exception):
    """The GPU pool would make a request wait for another device's job: only the DES models that."""


def fast_path_blocker(setup: EngineSetup, schedule: Schedule) -> str | None:
    """Why the fast path cannot run this schedule (known before running), or None when it can."""
    if setup.sharing == "shared-cell":
        return "network.sharing is 'shared-cell' (uploads share the cell by processor sharing)"
    if setup.max_batch > 1:
        return "cloud.max_batch > 1 (batches form from whichever jobs wait together)"
    if not schedule.static:
        return (f"schedule {schedule.label!r} plans each request from the device's recent transfers "
                "(Janus's scheduler), whose order at equal instants only the DES reproduces")
    return None


def simulate_fast(setup: EngineSetup, schedule: Schedule, cost: Callable[[Plan], PlanCost], *,
                  mean_mbps: float) -> RecordBuffer:
    """Records of one static schedule, as :func:`simulator.engine.simulate` would give them.

    Raises :class:`PoolBinds` when the GPU pool binds across devices.
    """
    plan = schedule.plan(PlanContext(0.0, 0, mean_mbps))
    priced = cost(plan)
    devices = [_Device(setup, d, plan, priced) for d in range(setup.devices)]
    if setup.devices > 1:
        _check_pool(devices, setup.gpus)
    return _records(setup, devices, plan, priced)


class _Device:
    """One device's requests through CPU, link, cloud and return, as Python lists (one entry per request)."""

    def __init__(self, setup: EngineSetup, device: int, plan: Plan, cost: PlanCost) -> None:
        self.device = device
        self.arrival: list[float] = []
        self.status: list[int] = []
        self.mobile_queue: list[float] = []
        self.uplink_queue: list[float] = []
        self.transfer: list[float] = []
        self.cloud_queue: list[float] = []
        self.done: list[float] = []
        self.cloud_busy: list[tuple[float, float]] = []
        self._run(setup, plan, cost, None if setup.arrival == "back-to-back" else arrival_times(setup, device))

    def _run(self, setup: EngineSetup, plan: Plan, cost: PlanCost, times: np.ndarray | None) -> None:
        mobile_s, cloud_s = cost.mobile_s, cost.cloud_s
        offloads = plan.offloads
        upload = plan.uplink_bytes + setup.overhead_bytes if offloads else 0
        half_rtt = setup.rtt_s / 2
        return_s = setup.rtt_s / 2 + (setup.result_bytes * 8 / (setup.downlink_mbps * 1e6)
                                      if setup.downlink_mbps else 0.0)
        drop = setup.on_busy == "drop" and mobile_s > 0 and times is not None
        offset = setup.start_offsets_s[self.device]
        transfer_end = setup.trace.transfer_end
        gpu_free = [0.0] * setup.gpus
        cpu_free, link_free, link_stuck = 0.0, 0.0, False
        cpu_holder: int | None = None  # the request whose computation ends at cpu_free
        arrival, status, done = self.arrival, self.status, self.done
        mobile_queue, uplink_queue, transfer = self.mobile_queue, self.uplink_queue, self.transfer
        cloud_queue, cloud_busy = self.cloud_queue, self.cloud_busy
        nan = math.nan
        closed = times is None
        targets = [] if times is None else times.tolist()
        limit, duration = setup.n_requests, setup.duration_s
        now = 0.0
        rid = 0
        while True:
            if closed:
                if (limit is not None and rid >= limit) or (duration is not None and now >= duration):
                    break
            else:
                if rid >= len(targets):
                    break
                t = targets[rid]
                if t > now:
                    now = now + (t - now)  # the clock as SimPy advances it: now + delay
            arrived = now
            arrival.append(arrived)
            if drop and (arrived < cpu_free or (arrived == cpu_free and cpu_holder == rid - 1)):
                status.append(STATUS_DROPPED)
                mobile_queue.append(nan), uplink_queue.append(nan), transfer.append(nan)
                cloud_queue.append(nan), done.append(nan)
                rid += 1
                continue
            ready = arrived
            waited = 0.0
            if mobile_s > 0:
                start = cpu_free if cpu_free > arrived else arrived
                waited = start - arrived
                ready = cpu_free = start + mobile_s
                cpu_holder = rid
            finished = ready
            queued = sent = in_queue = 0.0
            if offloads:
                if not link_stuck:
                    start = link_free if link_free > ready else ready
                    end = transfer_end(start + offset, upload) - offset
                    if math.isinf(end):
                        link_stuck = True
                    else:
                        link_free = start + max(end - start, 0.0)
                        queued, sent = start - ready, link_free - start
                if link_stuck:  # the trace ended before this upload could: the request never finishes
                    status.append(STATUS_UNFINISHED)
                    mobile_queue.append(nan), uplink_queue.append(nan), transfer.append(nan)
                    cloud_queue.append(nan), done.append(nan)
                    if closed:
                        break
                    rid += 1
                    continue
                at_cloud = link_free + half_rtt if half_rtt else link_free
                free = heapq.heappop(gpu_free)
                begin = free if free > at_cloud else at_cloud
                finished = begin + cloud_s
                heapq.heappush(gpu_free, finished)
                in_queue = begin - at_cloud
                cloud_busy.append((begin, finished))
                if return_s:
                    finished = finished + return_s
            status.append(STATUS_OK)
            mobile_queue.append(waited), uplink_queue.append(queued), transfer.append(sent)
            cloud_queue.append(in_queue), done.append(finished)
            if closed:
                now = finished
            rid += 1
        self.return_s = return_s


def _check_pool(devices: list[_Device], gpus: int) -> None:
    """Raise PoolBinds unless every cloud job of every device could start on arrival on ``gpus`` GPUs."""
    if any(q > 0 for d in devices for q in d.cloud_queue if q == q):
        raise PoolBinds("a device's cloud jobs queue for the GPU pool")
    spans = np.array([span for d in devices for span in d.cloud_busy], dtype=np.float64).reshape(-1, 2)
    if len(spans) <= gpus:
        return
    times = np.concatenate([spans[:, 0], spans[:, 1]])
    steps = np.concatenate([np.ones(len(spans)), -np.ones(len(spans))])
    order = np.lexsort((steps, times))  # at equal instants a GPU frees before the next job takes it
    peak = int(np.cumsum(steps[order]).max())
    if peak > gpus:
        raise PoolBinds(f"{peak} cloud jobs run at once on {gpus} GPU(s)")


def _records(setup: EngineSetup, devices: list[_Device], plan: Plan, cost: PlanCost) -> RecordBuffer:
    """Fill a RecordBuffer column by column with the same values (and the same arithmetic) as the DES."""
    total = sum(len(d.arrival) for d in devices)
    buffer = RecordBuffer(total)
    buffer.size = total
    cols = buffer.columns
    power = setup.power
    upload = plan.uplink_bytes + setup.overhead_bytes if plan.offloads else 0
    half_rtt = setup.rtt_s / 2 if plan.offloads else 0.0
    back = devices[0].return_s if plan.offloads and devices else 0.0
    row = 0
    for d in devices:
        n = len(d.arrival)
        rows = slice(row, row + n)
        row += n
        status = np.array(d.status, dtype=np.int8)
        ok = status == STATUS_OK
        arrived = np.array(d.arrival, dtype=np.float64)
        cols["device"][rows] = d.device
        cols["request_id"][rows] = np.arange(n)
        cols["arrival_s"][rows] = arrived
        cols["uplink_bytes"][rows] = upload
        cols["accuracy"][rows], cols["split_after"][rows], cols["parameter"][rows] = \
            plan.accuracy, plan.split_after, plan.parameter
        cols["status"][rows] = status
        mobile_queue = np.array(d.mobile_queue, dtype=np.float64)
        uplink_queue = np.array(d.uplink_queue, dtype=np.float64)
        transfer = np.array(d.transfer, dtype=np.float64)
        cloud_queue = np.array(d.cloud_queue, dtype=np.float64)
        cloud = cost.cloud_s if plan.offloads else 0.0
        uplink = transfer + half_rtt
        waiting = uplink_queue + (uplink - transfer) + cloud_queue + cloud + back
        values = {
            "mobile_queue_ms": mobile_queue * 1e3, "mobile_ms": np.full(n, cost.mobile_s * 1e3),
            "uplink_queue_ms": uplink_queue * 1e3, "uplink_ms": uplink * 1e3,
            "cloud_queue_ms": cloud_queue * 1e3, "cloud_ms": np.full(n, cloud * 1e3),
            "return_ms": np.full(n, back * 1e3),
            "total_ms": (np.array(d.done, dtype=np.float64) - arrived) * 1e3,
            "energy_j": power.compute * cost.mobile_s + power.radio * transfer + power.idle * waiting,
        }
        for name, column in values.items():
            cols[name][rows] = np.where(ok, column, np.nan)
    return buffer
