"""Plans: what one request runs where. The engine executes Plans and never sees schedule names.

A :class:`Schedule` is anything that turns a request's context into a Plan (the shipped ones: simulator/schedules/).

A Plan lists the mobile stages, the upload, and the cloud stages with their token counts, plus the
expected accuracy. :func:`cost_plan` prices a Plan on two device profiles (batch 1); the cloud applies
its batch scaling on top when it batches.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from simulator.inputs.profiles import Profile
from simulator.inputs.vit import BlockTokens, ViTSpec
from simulator.plans.graph import CLOUD, DEVICE, Chain, Compute, Stage, Step, Transfer, leaves
from simulator.traces import Trace


@dataclass(frozen=True)
class Plan:
    """What runs on the device, what is uploaded, what runs in the cloud, and the accuracy to expect."""

    split_after: int
    parameter: float
    mobile: tuple[Stage, ...]
    uplink_bytes: int
    cloud: tuple[Stage, ...]
    accuracy: float
    tokens_sent: int = 0
    fallback: bool = False  # an adaptive schedule found no choice meeting its constraint and took the fastest
    graph: Step | None = None  # a stage graph (simulator/plans/graph.py) instead of the two-tier fields above

    @property
    def offloads(self) -> bool:
        return bool(self.cloud)


@dataclass(frozen=True)
class PlanCost:
    """Batch-1 compute time of a Plan on each side, in seconds (a graph's: each Compute's, and the sums)."""

    mobile_s: float
    cloud_s: float
    compute_s: Mapping[Compute, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanContext:
    """What a schedule may know when it plans a request.

    ``recent_mbps`` holds the device's last upload throughputs (as many as the schedule's
    ``bandwidth_history`` asks the engine to keep); ``trace`` and ``trace_offset_s`` say what the device's
    radio sees (the link's capacity at simulation time t is the trace's at t + offset); every upload
    carries ``overhead_bytes`` of protocol on top of the Plan's payload; the result takes ``return_s`` to
    come back. Only an oracle reads the trace's future.

    What the device knows of its own recent decisions, filled only for a schedule whose
    ``decision_history`` asks for it (others see the defaults): ``queue``, how many of its earlier requests
    still wait for or use its CPU or uplink; ``recent_latency_ms``, the end-to-end latencies of its last
    ``decision_history`` completed requests, oldest first; ``since_arrival_s``, the time since its previous
    request arrived (None for its first).
    """

    now_s: float
    device: int
    mean_mbps: float
    recent_mbps: Sequence[float] = field(default_factory=tuple)
    trace: Trace | None = None
    trace_offset_s: float = 0.0
    overhead_bytes: int = 0
    return_s: float = 0.0
    queue: int = 0
    recent_latency_ms: Sequence[float] = field(default_factory=tuple)
    since_arrival_s: float | None = None


class Schedule(Protocol):
    """Turns the request context into a Plan. Static schedules return the same Plan every time.

    A schedule that plans from its device's upload throughputs also has ``bandwidth_history``: how many the
    engine keeps per device for ``PlanContext.recent_mbps`` (none when absent). One that plans from its own
    past decisions has ``decision_history``: how many latencies the engine keeps per device for
    ``PlanContext.recent_latency_ms``; any value above 0 also fills ``queue`` and ``since_arrival_s``.
    """

    label: str
    static: bool

    def plan(self, ctx: PlanContext) -> Plan: ...


def stage_ms(profile: Profile, spec: ViTSpec, stage: Stage) -> float:
    """Latency of one stage on one profile (batch 1): its curve at its tokens, times its ``mac_scale``."""
    if stage.kind == "block":
        curve_ms = profile.block_ms(spec, stage.n_in, stage.n_out)
    elif stage.kind == "tome_merge":
        curve_ms = profile.merge_ms(spec, stage.n_in, stage.n_out)
    else:
        curve_ms = profile.stage_ms(spec, stage.kind, stage.n_in)
    return curve_ms * stage.mac_scale  # x * 1.0 == x exactly: unscaled stages price as measured


def stages_ms(profile: Profile, spec: ViTSpec, stages: Sequence[Stage]) -> float:
    return math.fsum(stage_ms(profile, spec, s) for s in stages)


def cost_plan(plan: Plan, spec: ViTSpec, mobile: Profile, cloud: Profile) -> PlanCost:
    """Seconds of mobile and cloud compute for one request."""
    return PlanCost(stages_ms(mobile, spec, plan.mobile) / 1e3, stages_ms(cloud, spec, plan.cloud) / 1e3)


def cost_graph(graph: Step, price: Callable[[Compute], float]) -> PlanCost:
    """Seconds of every Compute of a graph (priced by ``price``), with the device's and the servers' sums
    over all of them (both arms of a branch: the sums are for checks, the engine uses ``compute_s``)."""
    compute_s = {leaf: price(leaf) for leaf in leaves(graph) if isinstance(leaf, Compute)}
    mobile = math.fsum(s for c, s in compute_s.items() if c.tier == DEVICE)
    return PlanCost(mobile, math.fsum(s for c, s in compute_s.items() if c.tier != DEVICE), compute_s)


def block_stages(blocks: Sequence[BlockTokens], *, merge_step: bool = False) -> list[Stage]:
    """Blocks as stages; ``merge_step`` adds ToMe's bipartite matching wherever a block merges tokens
    (priced with the profile's ``tome_block`` when it has one: :meth:`Profile.merge_ms`)."""
    out: list[Stage] = []
    for n_in, n_out in blocks:
        out.append(Stage("block", n_in, n_out))
        if merge_step and n_out < n_in:
            out.append(Stage("tome_merge", n_in, n_out))
    return out


def replace_fallback(plan: Plan) -> Plan:
    """The same Plan, marked as an adaptive schedule's fallback (no choice met its constraint)."""
    return dataclasses.replace(plan, fallback=True)


def chain_of(plan: Plan, result_bytes: int) -> Chain:
    """The stage graph a two-tier Plan stands for: device compute, upload, cloud compute, result back."""
    steps: list[Step] = []
    if plan.mobile:
        steps.append(Compute(DEVICE, plan.mobile))
    if plan.offloads:
        steps += [Transfer(DEVICE, CLOUD, plan.uplink_bytes), Compute(CLOUD, plan.cloud),
                  Transfer(CLOUD, DEVICE, result_bytes)]
    return Chain(tuple(steps))
