"""The oracle: a lower bound that knows the future. Per request it reads the trace ahead (which no real
device can) and takes, among every method's plan that meets the accuracy floor at every split, the one
with the lowest realised latency: device compute, the upload's true duration on the trace from the
moment it would start, RTT, cloud compute and the return.

Per method and split only the most aggressive parameter that meets the floor is a candidate: more
reduction never costs more compute or more bytes. The oracle assumes its own device and link are free
when the request arrives (true for one device whose requests do not overlap), so it is a bound for
single-device runs; with contention it is a strong heuristic, not a bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from simulator.plans.plan import Plan, PlanContext, cost_plan
from simulator.schedules.base import ScheduleError, ScheduleInputs
from simulator.schedules.candidates import METHODS, candidate_plans

__all__ = ["METHODS", "OracleSchedule"]


@dataclass
class OracleSchedule:
    label: str
    inputs: ScheduleInputs
    accuracy_floor: float
    methods: tuple[str, ...] = METHODS
    image_bytes: int = 2_200_000
    static: bool = False
    lower_bound: bool = True  # reports show every schedule's distance to it
    _candidates: list[tuple[Plan, float, float]] = field(init=False, default_factory=list)
    _methods: dict[Plan, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        spec, inputs = self.inputs.spec, self.inputs
        for candidate in candidate_plans(self.label, inputs, self.accuracy_floor, self.methods, self.image_bytes):
            cost = cost_plan(candidate.plan, spec, inputs.mobile, inputs.cloud)
            self._candidates.append((candidate.plan, cost.mobile_s, cost.cloud_s))
            self._methods.setdefault(candidate.plan, candidate.method)
        if not self._candidates:
            raise ScheduleError(f"no method reaches the {self.accuracy_floor:g} % accuracy floor")

    def realised_s(self, ctx: PlanContext, plan: Plan, mobile_s: float, cloud_s: float) -> float:
        """The request's latency with this plan on the real trace (device and link free on arrival)."""
        if not plan.offloads:
            return mobile_s
        if ctx.trace is None:
            raise ScheduleError("the oracle needs the trace in its planning context")
        start = ctx.now_s + mobile_s + ctx.trace_offset_s
        end = ctx.trace.transfer_end(start, plan.uplink_bytes + ctx.overhead_bytes)
        return mobile_s + (end - start) + self.inputs.rtt_s / 2 + cloud_s + ctx.return_s

    def method_of(self, plan: Plan) -> str:
        """The method (a candidate's, simulator/schedules/candidates.py) that built ``plan``."""
        return self._methods[plan]

    def plan(self, ctx: PlanContext) -> Plan:
        best, best_s = self._candidates[0][0], math.inf
        for plan, mobile_s, cloud_s in self._candidates:
            latency = self.realised_s(ctx, plan, mobile_s, cloud_s)
            if latency < best_s:
                best, best_s = plan, latency
        return best
