from dataclasses import dataclass

from pydantic import BaseModel

from simulator.plans.plan import Plan, PlanContext
from simulator.schedules import ScheduleInputs, register_schedule
from simulator.schedules.mercury import MercurySchedule


class ThresholdConfig(BaseModel):          # the keys a 'mercury-threshold' entry may have
    kind: str
    label: str | None = None
    split_after: int = 3
    below_mbps: float = 20.0               # prune 50 % after an upload slower than this
    reconstruction: str = "learned"        # which accuracy rows it reads (as Mercury's key)


@dataclass
class ThresholdSchedule:                   # any object with label, static and plan(ctx) -> Plan
    label: str
    light: MercurySchedule
    heavy: MercurySchedule
    below_mbps: float
    static: bool = False                   # plans per request
    bandwidth_history: int = 1             # the engine keeps the last upload's throughput

    def plan(self, ctx: PlanContext) -> Plan:
        slow = bool(ctx.recent_mbps) and ctx.recent_mbps[-1] < self.below_mbps
        return (self.heavy if slow else self.light).plan(ctx)


def build(config: ThresholdConfig, inputs: ScheduleInputs) -> ThresholdSchedule:
    label = config.label or config.kind
    light, heavy = (MercurySchedule(label, inputs, config.split_after, r, config.reconstruction) for r in (0.0, 0.5))
    return ThresholdSchedule(label, light, heavy, config.below_mbps)


register_schedule("mercury-threshold", build, ThresholdConfig)
