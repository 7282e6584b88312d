"""Mobile-only: the whole model on the device; nothing is uploaded."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from simulator.plans.plan import Plan, PlanContext
from simulator.schedules.base import ScheduleInputs, full_model_stages


@dataclass
class MobileOnlySchedule:
    label: str
    inputs: ScheduleInputs
    static: bool = True
    _plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        spec = self.inputs.spec
        self._plan = Plan(spec.depth, math.nan, full_model_stages(spec), 0, (), self.inputs.baseline_accuracy())

    def plan(self, ctx: PlanContext) -> Plan:
        return self._plan
