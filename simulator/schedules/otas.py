"""OTAS as the Mercury paper runs it: ToMe merging a constant r tokens in every block, split after s."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.inputs.vit import constant_r
from simulator.plans.plan import Plan, PlanContext
from simulator.schedules.base import ScheduleInputs, accuracy_at, resolve_parameter
from simulator.schedules.tome_split import tome_split_plan


@dataclass
class OtasSchedule:
    label: str
    inputs: ScheduleInputs
    split_after: int
    r: int | None
    target_accuracy: float | None = None
    static: bool = True
    _plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        chosen, curve = resolve_parameter(self.inputs, self.r, "r", self.target_accuracy, "tome", self.split_after,
                                          integer=True)
        r = int(chosen)
        accuracy = accuracy_at(curve, float(r), self.inputs.warnings, self.inputs.baseline_accuracy(),
                               self.inputs.interpolated)
        self._plan = tome_split_plan(self.inputs, constant_r(self.inputs.spec, r), self.split_after, float(r),
                                     accuracy)

    def plan(self, ctx: PlanContext) -> Plan:
        return self._plan
