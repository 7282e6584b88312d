"""Janus: ToMe with the declining schedule Delta_l = floor(2^(alpha (L - l))), split after s.

Static (alpha and split given, or alpha chosen for a target accuracy), or Janus's own scheduler
(``alpha: auto``, Algorithm 1): per request, the smallest alpha in 0, 0.01, ..., alpha_max (Eq. 2), i.e.
the most accurate, whose best split among the fine-to-coarse candidates (Eq. 3) meets the SLA under the
bandwidth estimate; when none does, the fastest configuration overall. The SLA is ``sla_ms``; a scenario
that leaves it out gives the scheduler its ``workload.deadline_ms`` (simulator/config/scenario.py fills it in).
Predicted latency = device and cloud compute of the split + RTT + (payload + the engine's per-upload
overhead bytes) / bandwidth.
Accuracy comes from the table; above the table's last alpha it is NaN (never extrapolated), but the scan
still covers the algorithm's whole range.

The bandwidth estimate is a harmonic mean (FESTIVE, as Janus cites) of the last ``bandwidth_window``
samples, from one of two sources (``bandwidth_source``):

* ``radio`` (default): the link capacity the device's radio reports once per trace sample, whether or not
  it uploads. Janus describes only "a harmonic mean of observed throughput samples" with the offline mean
  as cold start, and no probing; its scheduler keeps adapting as bandwidth changes, which needs samples
  while it runs device-only, so this is the reading taken by default. A zero-capacity sample lengthens
  the transfer that waits it out (simulator/schedules/bandwidth.py); a window of nothing but outage gives
  0 (device-only).
* ``uploads``: the throughputs of the device's own completed uploads (FESTIVE's per-download samples,
  read literally); cold start: the trace mean. Once the scheduler picks device-only it uploads nothing
  more, so its estimate freezes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from simulator.inputs.vit import janus_alpha_max, janus_deltas, tome_tokens
from simulator.plans.plan import Plan, PlanContext, Stage, block_stages, stages_ms
from simulator.schedules.bandwidth import estimate_mbps, harmonic_mean  # noqa: F401 - harmonic_mean re-exported
from simulator.schedules.base import ScheduleError, ScheduleInputs, accuracy_at, resolve_parameter
from simulator.schedules.tome_split import tome_split_plan

ALPHA_STEP = 0.01


def split_candidates(depth: int, k: int) -> list[int]:
    """Janus Eq. 3: {0, L+1} and s_1 = 1, s_i = s_(i-1) + ceil(i / k) while s_i <= L."""
    chosen = [1]
    i = 2
    while chosen[-1] + math.ceil(i / k) <= depth:
        chosen.append(chosen[-1] + math.ceil(i / k))
        i += 1
    return [0, *chosen, depth + 1]


@dataclass
class JanusSchedule:
    label: str
    inputs: ScheduleInputs
    split_after: int | str
    alpha: float | str | None
    target_accuracy: float | None = None
    sla_ms: float | None = None
    bandwidth_window: int = 20
    split_candidates_k: int = 5
    image_bytes: int = 2_200_000
    bandwidth_source: Literal["radio", "uploads"] = "radio"
    static: bool = True
    _plan: Plan | None = field(init=False, default=None)

    @property
    def bandwidth_history(self) -> int:
        """Upload throughputs per device the engine keeps for this schedule."""
        return self.bandwidth_window if not self.static and self.bandwidth_source == "uploads" else 0

    def __post_init__(self) -> None:
        if self.alpha == "auto":
            if self.sla_ms is None:  # refused before any table is read, not mid-run
                raise ScheduleError("Janus's scheduler needs sla_ms (a scenario gives it workload.deadline_ms)")
            self.static = False
            self._prepare_scheduler()
            return
        assert isinstance(self.split_after, int)
        given = None if self.alpha is None else float(self.alpha)
        alpha, curve = resolve_parameter(self.inputs, given, "alpha", self.target_accuracy, "janus", self.split_after,
                                         step=ALPHA_STEP)
        self._plan = self._plan_for(alpha, self.split_after, accuracy_at(curve, alpha, self.inputs.warnings,
                                                                      self.inputs.baseline_accuracy(),
                                                                      self.inputs.interpolated))

    def _plan_for(self, alpha: float, split: int, accuracy: float) -> Plan:
        spec = self.inputs.spec
        merges = janus_deltas(spec, alpha)
        if split == 0:
            blocks = tome_tokens(spec, merges)
            n0 = spec.num_tokens
            cloud = (Stage("embed", n0, n0), *block_stages(blocks, merge_step=True),
                     Stage("head", blocks[-1][1], blocks[-1][1]))
            return Plan(0, alpha, (), self.image_bytes, cloud, accuracy)
        return tome_split_plan(self.inputs, merges, min(split, spec.depth), alpha, accuracy)

    # -- Janus's scheduler -----------------------------------------------------------------------------
    def _prepare_scheduler(self) -> None:
        spec = self.inputs.spec
        curve = self.inputs.curve("janus", None)
        top = janus_alpha_max(spec)
        alphas = np.round(np.arange(0.0, top + ALPHA_STEP / 2, ALPHA_STEP), 2)
        if curve is not None and curve.range[1] < top:
            self.inputs.warnings.append(f"the accuracy table for {curve.label} ends at alpha {curve.range[1]:g}; "
                                        f"the scheduler scans up to {top:g} and reports accuracy NaN above it")
        splits = split_candidates(spec.depth, self.split_candidates_k)
        self._alphas = alphas
        self._plans: list[list[Plan]] = []
        compute, payload, offloads = [], [], []
        baseline = self.inputs.baseline_accuracy()
        for alpha in alphas:
            accuracy = accuracy_at(curve, float(alpha), baseline=baseline, interpolated=self.inputs.interpolated)
            row = [self._plan_for(float(alpha), s, accuracy) for s in splits]
            self._plans.append(row)
            compute.append([(stages_ms(self.inputs.mobile, spec, p.mobile) +
                             stages_ms(self.inputs.cloud, spec, p.cloud)) / 1e3 + (self.inputs.rtt_s if
                                                                                   p.offloads else 0.0)
                            for p in row])
            payload.append([p.uplink_bytes for p in row])
            offloads.append([p.offloads for p in row])
        self._compute_s = np.array(compute)
        self._payload_bits = np.array(payload, dtype=float) * 8.0
        self._offloads = np.array(offloads, dtype=float)

    def bandwidth_estimate(self, ctx: PlanContext) -> float:
        """Mbit/s the scheduler plans with: harmonic mean of the last ``bandwidth_window`` samples."""
        return estimate_mbps(ctx, self.bandwidth_window, self.bandwidth_source)

    def plan(self, ctx: PlanContext) -> Plan:
        if self._plan is not None:
            return self._plan
        mbps = max(self.bandwidth_estimate(ctx), 1e-9)
        bits = self._payload_bits + self._offloads * (8.0 * ctx.overhead_bytes)
        predicted = self._compute_s + bits / (mbps * 1e6)
        best_split = predicted.argmin(axis=1)
        best = predicted[np.arange(len(self._alphas)), best_split]
        assert self.sla_ms is not None  # checked in __post_init__
        feasible = np.nonzero(best <= self.sla_ms / 1e3)[0]
        a = int(feasible[0]) if feasible.size else int(best.argmin())
        return self._plans[a][int(best_split[a])]
