"""Adaptive Mercury: per request, the reduction (and optionally the split) chosen from a bandwidth estimate.

Objective ``max-accuracy``: the most accurate candidate whose predicted latency meets the budget (ties:
the faster); when none does, the fastest candidate, and the record's ``fallback`` says so. Objective
``min-latency``: the fastest candidate whose accuracy meets the floor. Predicted latency = device and
cloud compute + RTT + (payload + overhead bytes) / estimated bandwidth, as Janus's scheduler predicts, with
the same estimators (simulator/schedules/bandwidth.py).
Candidates are static Mercury plans on a reduction grid (steps of ``reduction_step`` up to the accuracy
table's last row and the anchor-window limit); a candidate whose accuracy is unknown is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from simulator.inputs.vit import mercury_max_reduction
from simulator.plans.plan import Plan, PlanContext, cost_plan, replace_fallback
from simulator.schedules.bandwidth import Estimator, Source, estimate_mbps
from simulator.schedules.base import ScheduleError, ScheduleInputs
from simulator.schedules.mercury import MercurySchedule


@dataclass
class AdaptiveMercurySchedule:
    label: str
    inputs: ScheduleInputs
    splits: list[int]
    objective: Literal["max-accuracy", "min-latency"]
    latency_budget_ms: float | None = None
    accuracy_floor: float | None = None
    reduction_step: float = 0.05
    reconstruction: str = "learned"
    window: int = 2
    estimator: Estimator = "harmonic"
    bandwidth_window: int = 20
    bandwidth_source: Source = "radio"
    static: bool = False
    _plans: list[Plan] = field(init=False, default_factory=list)

    @property
    def bandwidth_history(self) -> int:
        """Upload throughputs per device the engine keeps for this schedule."""
        return self.bandwidth_window if self.bandwidth_source == "uploads" else 0

    def __post_init__(self) -> None:
        spec, inputs = self.inputs.spec, self.inputs
        limit = mercury_max_reduction(spec, self.window)
        compute, payload, accuracy = [], [], []
        for split in self.splits:
            curve = inputs.curve("mercury", split, self.reconstruction)
            top = min(limit, curve.range[1]) if curve is not None else 0.0
            for reduction in np.round(np.arange(0.0, top + 1e-9, self.reduction_step), 6):
                plan = MercurySchedule(self.label, inputs, split, float(reduction), self.reconstruction,
                                       self.window).plan(PlanContext(0.0, 0, inputs.mean_mbps))
                if math.isnan(plan.accuracy):
                    continue
                cost = cost_plan(plan, spec, inputs.mobile, inputs.cloud)
                self._plans.append(plan)
                compute.append(cost.mobile_s + cost.cloud_s + (inputs.rtt_s if plan.offloads else 0.0))
                payload.append(plan.uplink_bytes)
                accuracy.append(plan.accuracy)
        if not self._plans:
            raise ScheduleError("no Mercury candidate has a known accuracy at these splits")
        self._compute_s = np.array(compute)
        self._payload_bits = np.array(payload, dtype=float) * 8.0
        self._offloads = np.array([p.offloads for p in self._plans], dtype=float)
        self._accuracy = np.array(accuracy)
        if self.objective == "min-latency":
            assert self.accuracy_floor is not None
            if not (self._accuracy >= self.accuracy_floor - 1e-9).any():
                raise ScheduleError(f"no Mercury candidate reaches the {self.accuracy_floor:g} % accuracy floor "
                                    f"(best {self._accuracy.max():.2f} %)")

    def predicted_s(self, ctx: PlanContext) -> np.ndarray:
        """Predicted latency of every candidate under the bandwidth estimate."""
        mbps = max(estimate_mbps(ctx, self.bandwidth_window, self.bandwidth_source, self.estimator), 1e-9)
        bits = self._payload_bits + self._offloads * (8.0 * ctx.overhead_bytes)
        return self._compute_s + bits / (mbps * 1e6)

    def plan(self, ctx: PlanContext) -> Plan:
        predicted = self.predicted_s(ctx)
        if self.objective == "min-latency":
            assert self.accuracy_floor is not None
            allowed = self._accuracy >= self.accuracy_floor - 1e-9
            return self._plans[int(np.argmin(np.where(allowed, predicted, np.inf)))]
        assert self.latency_budget_ms is not None
        meets = predicted <= self.latency_budget_ms / 1e3
        if not meets.any():
            return replace_fallback(self._plans[int(np.argmin(predicted))])
        # most accurate first, then the fastest: lexsort's last key is the primary one
        order = np.lexsort((predicted, -self._accuracy, ~meets))
        return self._plans[int(order[0])]
