"""Cloud-only: upload the image, run everything in the cloud."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from simulator.plans.plan import Plan, PlanContext
from simulator.schedules.base import ScheduleInputs, full_model_stages


@dataclass
class CloudOnlySchedule:
    label: str
    inputs: ScheduleInputs
    image_bytes: int
    static: bool = True
    _plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        spec = self.inputs.spec
        self._plan = Plan(0, math.nan, (), self.image_bytes, full_model_stages(spec), self.inputs.baseline_accuracy())

    def plan(self, ctx: PlanContext) -> Plan:
        return self._plan
