"""Executing a stage graph (simulator/plans/graph.py) for one request inside the SimPy model.

The engine's model (simulator/model/engine.py) runs two-tier Plans on a path of its own; a Plan with a graph
comes here. Each node yields to the same resources the two-tier path uses (the device's CPU, its link to
the cloud, the cloud's GPU pool) plus those of the scenario's other servers (simulator/model/topology.py).

The record of a graph request keeps the two-tier columns, summed per kind of stage along the path that
decided its latency (in a fork, the branch that ended last; in a branch, the arm taken): device compute
(``mobile``), transfers from the device (``uplink``), server compute and transfers between servers
(``cloud``), transfers to the device (``return``). ``uplink_bytes`` counts every byte the device sent. Every
stage also gets a row of its own (:class:`StageRows`), for ``stages.parquet``.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy

from simulator.model.cloud import CloudPool
from simulator.model.topology import ServerLink, ServerSetup, return_time_s
from simulator.model.uplink import DedicatedLink, SharedCell, device_links
from simulator.plans.graph import CLOUD, DEVICE, Branch, Chain, Compute, Fork, Step, Transfer, leaves, needs_stage_table

_STREAM_BRANCHES = 2  # arrivals and trace offsets use streams 0 and 1 (simulator/model/engine.py)


@dataclass
class PathSums:
    """Seconds per kind of stage along the path that decided a request's latency."""

    mobile_queue: float = 0.0
    mobile: float = 0.0
    uplink_queue: float = 0.0
    uplink: float = 0.0
    uplink_rtt: float = 0.0  # the half-RTTs inside ``uplink`` (the radio is not sending then)
    cloud_queue: float = 0.0
    cloud: float = 0.0
    back: float = 0.0
    sent_bytes: int = 0
    accuracy: float | None = None

    def add(self, other: PathSums) -> None:
        self.mobile_queue += other.mobile_queue
        self.mobile += other.mobile
        self.uplink_queue += other.uplink_queue
        self.uplink += other.uplink
        self.uplink_rtt += other.uplink_rtt
        self.cloud_queue += other.cloud_queue
        self.cloud += other.cloud
        self.back += other.back
        self.sent_bytes += other.sent_bytes
        if other.accuracy is not None:
            self.accuracy = other.accuracy


@dataclass
class StageRows:
    """One row per executed stage: which request, what, where, when it was ready, queued, served."""

    columns: dict[str, list[Any]] = field(default_factory=lambda: {name: [] for name in STAGE_COLUMNS})

    def add(self, device: int, rid: int, index: int, name: str, kind: str, where: str, ready: float,
            queue: float, service: float, n_bytes: int) -> None:
        for key, value in zip(STAGE_COLUMNS, (device, rid, index, name, kind, where, ready, queue * 1e3,
                                              service * 1e3, ready + queue + service, n_bytes), strict=True):
            self.columns[key].append(value)

    def frame(self, schedule: str) -> pd.DataFrame:
        frame = pd.DataFrame(self.columns)
        frame.insert(0, "schedule", schedule)
        return frame.sort_values(["ready_s", "device", "request_id", "stage"], kind="stable", ignore_index=True)


STAGE_COLUMNS = ("device", "request_id", "stage", "name", "kind", "where", "ready_s", "queue_ms", "service_ms",
                 "end_s", "bytes")


class GraphExecutor:
    """The tiers' resources beyond the two-tier path's, and the recursion over a graph's nodes."""

    def __init__(self, env: simpy.Environment, setup: Any, cpus: Sequence[simpy.Resource], cloud: CloudPool,
                 cloud_links: Sequence[DedicatedLink | SharedCell], recent: Sequence[Any]) -> None:
        self.env, self.setup, self.cpus, self.recent = env, setup, cpus, recent
        self.pools: dict[str, CloudPool] = {CLOUD: cloud}
        self.uplinks: dict[str, Sequence[DedicatedLink | SharedCell]] = {CLOUD: cloud_links}
        self.servers: dict[str, ServerSetup] = {s.name: s for s in setup.servers}
        for server in setup.servers:
            self.pools[server.name] = CloudPool(env, server.gpus, server.max_batch, server.batch_timeout_s,
                                                server.batch_factor, server.batch_window)
            self.uplinks[server.name] = device_links(env, server.trace, server.start_offsets_s, server.sharing,
                                                     setup.devices)
        self.between: dict[frozenset[str], ServerLink] = {link.ends: link for link in setup.server_links}
        self.rows = StageRows()
        self.shaped = False  # whether any graph run had a fork, a branch or more than two tiers
        self._shapes: dict[int, bool] = {}

    def run(self, graph: Step, compute_s: Mapping[Compute, float], device: int,
            rid: int) -> Generator[Any, Any, PathSums]:
        """Execute ``graph`` for request ``rid`` of ``device``; return the sums along its deciding path."""
        if not self.shaped:
            shaped = self._shapes.get(id(graph))
            if shaped is None:
                shaped = self._shapes[id(graph)] = needs_stage_table(graph)
            self.shaped = shaped
        return (yield from self._step(graph, _Request(device, rid, compute_s)))

    def _step(self, step: Step, req: _Request) -> Generator[Any, Any, PathSums]:
        if isinstance(step, Compute):
            return (yield from self._compute(step, req))
        if isinstance(step, Transfer):
            return (yield from self._transfer(step, req))
        if isinstance(step, Chain):
            sums = PathSums()
            for s in step.steps:
                sums.add((yield from self._step(s, req)))
            return sums
        if isinstance(step, Fork):
            return (yield from self._fork(step, req))
        assert isinstance(step, Branch)
        taken = req.draw(self.setup.seed) < step.p
        sums = yield from self._step(step.then if taken else step.otherwise, req)
        accuracy = step.then_accuracy if taken else step.otherwise_accuracy
        if accuracy is not None:
            sums.accuracy = accuracy
        return sums

    def _fork(self, step: Fork, req: _Request) -> Generator[Any, Any, PathSums]:
        """Every branch at once; the sums of the branch that ended last (the first such on a tie)."""
        ended: list[tuple[float, int]] = []

        def branch(i: int, s: Step) -> Generator[Any, Any, PathSums]:
            sums = yield from self._step(s, req)
            ended.append((self.env.now, i))
            return sums

        processes = [self.env.process(branch(i, s)) for i, s in enumerate(step.branches)]
        if not processes:
            return PathSums()
        yield self.env.all_of(processes)
        last = max(ended, key=lambda e: (e[0], -e[1]))[1]
        sums = processes[last].value
        sums.sent_bytes = sum(p.value.sent_bytes for p in processes)
        return sums

    def _compute(self, step: Compute, req: _Request) -> Generator[Any, Any, PathSums]:
        env, ready, device, seconds = self.env, self.env.now, req.device, req.compute_s[step]
        if step.tier == DEVICE:
            queue = 0.0
            if seconds > 0:
                with self.cpus[device].request() as slot:
                    yield slot
                    queue = env.now - ready
                    yield env.timeout(seconds)
            self._row(req, step.name, "compute", DEVICE, ready, queue, seconds, 0)
            return PathSums(mobile_queue=queue, mobile=seconds)
        queue, service = yield from self.pools[step.tier].run(seconds)
        self._row(req, step.name, "compute", step.tier, ready, queue, service, 0)
        return PathSums(cloud_queue=queue, cloud=service)

    def _transfer(self, step: Transfer, req: _Request) -> Generator[Any, Any, PathSums]:
        env, setup, ready, device = self.env, self.setup, self.env.now, req.device
        where = f"{step.src}->{step.dst}"
        if step.src == DEVICE:
            server = self.servers.get(step.dst)
            overhead, rtt = (setup.overhead_bytes, setup.rtt_s) if server is None else \
                (server.overhead_bytes, server.rtt_s)
            n_bytes = step.n_bytes + overhead
            queue, transfer = yield from self.uplinks[step.dst][device].send(n_bytes)
            if step.dst == CLOUD and transfer > 0:
                self.recent[device].append(n_bytes * 8 / transfer / 1e6)
            if rtt:
                yield env.timeout(rtt / 2)
            self._row(req, step.name, "transfer", where, ready, queue, env.now - ready - queue, n_bytes)
            return PathSums(uplink_queue=queue, uplink=transfer + rtt / 2, uplink_rtt=rtt / 2, sent_bytes=n_bytes)
        if step.dst == DEVICE:
            server = self.servers.get(step.src)
            back = return_time_s(setup.rtt_s, setup.downlink_mbps, step.n_bytes) if server is None else \
                server.return_s(step.n_bytes)
            if back:
                yield env.timeout(back)
            self._row(req, step.name, "transfer", where, ready, 0.0, back, step.n_bytes)
            return PathSums(back=back)
        seconds = self.between[frozenset((step.src, step.dst))].transfer_s(step.n_bytes)
        yield env.timeout(seconds)
        self._row(req, step.name, "transfer", where, ready, 0.0, seconds, step.n_bytes)
        return PathSums(cloud=seconds)

    def _row(self, req: _Request, name: str, kind: str, where: str, ready: float, queue: float,
             service: float, n_bytes: int) -> None:
        self.rows.add(req.device, req.rid, req.stages, name, kind, where, ready, queue, service, n_bytes)
        req.stages += 1


@dataclass
class _Request:
    """One request's walk through its graph: its stage count and its own random stream."""

    device: int
    rid: int
    compute_s: Mapping[Compute, float]
    stages: int = 0
    rng: np.random.Generator | None = None

    def draw(self, seed: int) -> float:
        """The next uniform draw of this request, from a stream keyed by (seed, device, request) alone."""
        if self.rng is None:
            self.rng = np.random.default_rng([seed, _STREAM_BRANCHES, self.device, self.rid])
        return float(self.rng.random())


def check_graph(graph: Step, servers: Sequence[str], server_links: Sequence[frozenset[str]]) -> str | None:
    """Why the scenario's tiers cannot run ``graph`` (an unknown tier, a missing link), or None."""
    known = {DEVICE, CLOUD, *servers}
    for leaf in leaves(graph):
        if isinstance(leaf, Compute):
            if leaf.tier not in known:
                return f"compute on unknown tier {leaf.tier!r} (tiers: {', '.join(sorted(known))})"
            continue
        for end in (leaf.src, leaf.dst):
            if end not in known:
                return f"transfer {leaf.name!r} names unknown tier {end!r} (tiers: {', '.join(sorted(known))})"
        if leaf.src == leaf.dst:
            return f"transfer {leaf.name!r} goes from {leaf.src!r} to itself"
        if DEVICE not in (leaf.src, leaf.dst) and frozenset((leaf.src, leaf.dst)) not in server_links:
            return f"no server_links entry between {leaf.src!r} and {leaf.dst!r}"
    return None
