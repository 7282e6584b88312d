"""Offered load: how much of each resource a schedule's requests ask for, against what the resource can serve.

For each resource a schedule uses, ``rho = arrival rate x mean service demand per request / capacity``:

* ``device_cpu``: a device's request rate x the mean mobile compute seconds per request, against one core
  (1 s of compute per second); the busiest device's rho.
* ``uplink``: a device's rate x the mean bytes it uploads per request (protocol overhead included) x 8,
  against the link's mean bit rate (the replayed trace's time-weighted mean after packet framing, or
  ``network.mean_mbps`` in mean mode); the busiest device's, or, for a shared cell, every device's rates
  summed against the one cell.
* ``gpu_pool``: every device's rate summed x the mean batch-1 cloud compute seconds x
  ``batch_factor(max_batch) / max_batch`` / ``gpus``: the pool's capacity at its largest batch, so batching
  is credited (full batches are the best the pool can do).
* ``<server>_pool`` and ``<server>_uplink``: the same for each server a stage graph computes on or sends to.
  Links between servers carry no queue (simulator/model/topology.py) and have no entry.

Rates: a device's requests (dropped ones too) over its arrival span, ``(n - 1) / (last - first)``, which is
the frame rate exactly for a periodic camera; for Poisson arrivals the configured ``rate_per_s``, the rate the
workload offers (a run's own count is noisy: 60 arrivals estimate it within about 13 %, so a device at rho 0.8
would be called overloaded in a sixth of 60-second runs). The device CPU is offered every request; the resources after
it are offered the requests the device admitted (``on_busy: drop`` skips frames before they reach the link;
without it the two counts are the same).

Demands: where a record holds a request's demand exactly (``mobile_ms``, ``uplink_bytes`` of a two-tier
plan) its mean over the completed requests; otherwise from the plans the engine priced (one pricing per
request of an adaptive schedule, one for a static one): cloud compute at batch 1, which the records mix with
batching, and every demand of a stage graph, whose records sum one path only (here each branch is weighted
by its probability and a fork's branches add up).

rho >= 1 means the resource cannot keep up on average, so a queue grows for as long as the run lasts (unless
the device drops frames, or the workload is closed-loop and waits for each answer). rho < 1 promises no
short queue: bursts and a fluctuating trace queue too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.plans.graph import CLOUD, DEVICE, Branch, Chain, Compute, Fork, Step, Transfer
from simulator.plans.plan import Plan, PlanCost

if TYPE_CHECKING:
    from simulator.model.engine import EngineSetup


def graph_demand(step: Step, seconds: Mapping[Compute, float] | None = None) -> dict[str, float]:
    """Expected demand of one request of a stage graph: ``compute:<tier>`` seconds (from ``seconds``),
    ``bytes:<tier>`` sent from the device to that tier (payload only) and ``sends:<tier>`` (how many sends)."""
    out: dict[str, float] = {}
    _walk(step, seconds or {}, 1.0, out)
    return out


def _walk(step: Step, seconds: Mapping[Compute, float], weight: float, out: dict[str, float]) -> None:
    def add(key: str, value: float) -> None:
        out[key] = out.get(key, 0.0) + weight * value

    if isinstance(step, Compute):
        add(f"compute:{step.tier}", seconds.get(step, 0.0))
    elif isinstance(step, Transfer):
        if step.src == DEVICE:
            add(f"bytes:{step.dst}", float(step.n_bytes))
            add(f"sends:{step.dst}", 1.0)
    elif isinstance(step, Chain | Fork):
        for s in step.steps if isinstance(step, Chain) else step.branches:
            _walk(s, seconds, weight, out)
    elif isinstance(step, Branch):
        _walk(step.then, seconds, weight * step.p, out)
        _walk(step.otherwise, seconds, weight * (1.0 - step.p), out)


def plan_demand(plan: Plan, cost: PlanCost) -> dict[str, float]:
    """One request's demand under ``plan`` (keys as :func:`graph_demand`'s)."""
    if plan.graph is not None:
        return graph_demand(plan.graph, cost.compute_s)
    sends = 1.0 if plan.offloads else 0.0
    return {f"compute:{DEVICE}": cost.mobile_s, f"compute:{CLOUD}": cost.cloud_s * sends,
            f"bytes:{CLOUD}": float(plan.uplink_bytes) * sends, f"sends:{CLOUD}": sends}


class PricedPlans:
    """The engine's cost function, adding up the demand of every plan it prices (the run is unchanged)."""

    def __init__(self, cost: Callable[[Plan], PlanCost]) -> None:
        self._cost = cost
        self._demands: dict[Plan, dict[str, float]] = {}
        self.totals: dict[str, float] = {}
        self.priced = 0
        self.graphs = False  # whether any priced plan was a stage graph

    def __call__(self, plan: Plan) -> PlanCost:
        cost = self._cost(plan)
        demand = self._demands.get(plan)
        if demand is None:
            demand = self._demands[plan] = plan_demand(plan, cost)
            self.graphs = self.graphs or plan.graph is not None
        for key, value in demand.items():
            self.totals[key] = self.totals.get(key, 0.0) + value
        self.priced += 1
        return cost

    def mean(self, key: str) -> float:
        """Mean demand per priced plan (0 when no plan asked for it)."""
        return self.totals.get(key, 0.0) / self.priced if self.priced else 0.0


@dataclass(frozen=True)
class ResourceLoad:
    """One resource's offered load: rho, the rate offered, the demand per request and the terms in words."""

    resource: str
    rho: float
    rate_per_s: float  # requests per second it is offered (a per-device resource: its busiest device's)
    demand: float  # per request: seconds of compute, or bytes for a link
    terms: str  # the demand, capacity and rate as a sentence fragment

    @property
    def is_link(self) -> bool:
        return self.resource.endswith("uplink")

    def as_json(self) -> dict[str, Any]:
        return {"rho": _finite(self.rho), "rate_per_s": _finite(self.rate_per_s),
                "bytes_per_request" if self.is_link else "demand_s": _finite(self.demand), "terms": self.terms}


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def device_rates(rows: pd.DataFrame, devices: int,
                 nominal: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per device: requests per second over its arrival span (or ``nominal``, the configured rate, where
    given), and the rate it admitted (NaN: < 2 arrivals)."""
    frame = pd.DataFrame({"device": rows.device.to_numpy(), "arrival_s": rows.arrival_s.to_numpy(float),
                          "dropped": (rows.status == "dropped").to_numpy()})
    per = frame.groupby("device").agg(n=("arrival_s", "size"), first=("arrival_s", "min"),
                                      last=("arrival_s", "max"), dropped=("dropped", "sum"))
    offered, admitted = np.full(devices, math.nan), np.full(devices, math.nan)
    for device, n, first, last, dropped in per.itertuples():
        if n >= 2 and last > first:
            offered[int(device)] = (n - 1) / (last - first) if nominal is None else nominal
            admitted[int(device)] = offered[int(device)] * (n - dropped) / n
    return offered, admitted


def schedule_loads(rows: pd.DataFrame, priced: PricedPlans, setup: EngineSetup) -> list[ResourceLoad]:
    """The offered load of every resource one schedule's requests use (``rows``: its records)."""
    offered, admitted = device_rates(rows, setup.devices, setup.rate_per_s if setup.arrival == "poisson" else None)
    ok = rows[rows.status == "ok"]
    exact = not priced.graphs and len(ok) > 0  # two-tier records hold the device's and the link's demand
    out = []
    mobile_s = float(ok.mobile_ms.mean()) / 1e3 if exact else priced.mean(f"compute:{DEVICE}")
    if mobile_s > 0:
        rho = offered * mobile_s
        busiest = _busiest(rho)
        out.append(ResourceLoad("device_cpu", rho[busiest], offered[busiest], mobile_s,
                                f"{mobile_s:.3g} s of compute per request on one core, {offered[busiest]:.3g} "
                                f"requests/s{_of_devices(setup.devices)}"))
    links = [("uplink", CLOUD, setup.trace.mean_mbps, setup.sharing, setup.overhead_bytes)]
    pools = [("gpu_pool", CLOUD, setup.gpus, setup.max_batch, setup.cloud_batch_factor)]
    for server in setup.servers:
        links.append((f"{server.name}_uplink", server.name, server.trace.mean_mbps, server.sharing,
                      server.overhead_bytes))
        pools.append((f"{server.name}_pool", server.name, server.gpus, server.max_batch, server.batch_factor))
    for resource, tier, mbps, sharing, overhead in links:
        n_bytes = float(ok.uplink_bytes.mean()) if exact and tier == CLOUD else \
            priced.mean(f"bytes:{tier}") + priced.mean(f"sends:{tier}") * overhead
        if n_bytes > 0:
            out.append(_link_load(resource, n_bytes, mbps, admitted, sharing == "shared-cell"))
    for resource, tier, gpus, max_batch, factor in pools:
        seconds = priced.mean(f"compute:{tier}")
        if seconds > 0:
            scale = factor(max_batch) / max_batch if max_batch > 1 else 1.0
            rate = float(np.nansum(admitted))
            batching = f", x{factor(max_batch):.3g} for a batch of {max_batch}" if max_batch > 1 else ""
            plural = "s" if gpus > 1 else ""
            out.append(ResourceLoad(resource, rate * seconds * scale / gpus, rate, seconds,
                                    f"{seconds:.3g} s per request at batch 1{batching} on {gpus} GPU{plural}, "
                                    f"{rate:.3g} requests/s"))
    return out


def _link_load(resource: str, n_bytes: float, mbps: float, admitted: np.ndarray, shared: bool) -> ResourceLoad:
    per_request = n_bytes * 8 / (mbps * 1e6)
    if shared:
        rate = float(np.nansum(admitted))
        return ResourceLoad(resource, rate * per_request, rate, n_bytes,
                            f"{n_bytes:,.0f} bytes per request at {mbps:,.4g} Mbit/s, {rate:.3g} requests/s from "
                            f"{admitted.size} device{'s' if admitted.size > 1 else ''} in one cell")
    busiest = _busiest(admitted)
    return ResourceLoad(resource, admitted[busiest] * per_request, admitted[busiest], n_bytes,
                        f"{n_bytes:,.0f} bytes per request at {mbps:,.4g} Mbit/s, {admitted[busiest]:.3g} "
                        f"requests/s{_of_devices(admitted.size)}")


def _busiest(values: np.ndarray) -> int:
    """The device with the highest value (the first when none is known)."""
    return int(np.nanargmax(values)) if np.isfinite(values).any() else 0


def _of_devices(devices: int) -> str:
    return f" (the busiest of {devices} devices)" if devices > 1 else ""
