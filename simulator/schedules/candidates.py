"""The plans an adaptive chooser may pick from: per method and split, the most aggressive parameter whose
accuracy meets a floor (more reduction never costs more compute or more bytes), plus the whole model on the
device and the image sent whole. The oracle chooses among them per request; so does a learned policy
(:mod:`simulator.schedules.observation`).

Each candidate has a key that names it and stays the same while the tables and profiles do:
``<method>@<split>:<parameter>`` (``mercury@3:0.3125``), or the method alone for ``mobile-only`` and
``cloud-only``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from simulator.plans.plan import Plan, PlanContext
from simulator.schedules.base import ScheduleError, ScheduleInputs
from simulator.schedules.cloud_only import CloudOnlySchedule
from simulator.schedules.janus import JanusSchedule
from simulator.schedules.mercury import MercurySchedule
from simulator.schedules.mobile_only import MobileOnlySchedule
from simulator.schedules.otas import OtasSchedule

METHODS = ("mercury", "otas", "janus", "mobile-only", "cloud-only")
WHOLE = ("mobile-only", "cloud-only")  # methods without a split or a parameter


@dataclass(frozen=True)
class Candidate:
    """One plan a chooser may pick, with the method that built it and its key."""

    method: str
    plan: Plan

    @property
    def key(self) -> str:
        if self.method in WHOLE:
            return self.method
        return f"{self.method}@{self.plan.split_after}:{self.plan.parameter:.6g}"


def candidate_plans(label: str, inputs: ScheduleInputs, floor: float, methods: tuple[str, ...] = METHODS,
                    image_bytes: int = 2_200_000) -> list[Candidate]:
    """Every method's plan that meets the ``floor`` (% top-1) at every split, in ``methods`` order then split
    order; a plan of unknown accuracy never qualifies. Empty when none does."""
    inputs = dataclasses.replace(inputs, warnings=[], target_accuracy=None)
    builders: dict[str, Callable[[int], object]] = {
        "mercury": lambda s: MercurySchedule(label, inputs, s, None, target_accuracy=floor),
        "otas": lambda s: OtasSchedule(label, inputs, s, None, target_accuracy=floor),
        "janus": lambda s: JanusSchedule(label, inputs, s, None, target_accuracy=floor),
    }
    out: list[Candidate] = []
    for method in methods:
        if method == "mobile-only":
            found = [MobileOnlySchedule(label, inputs)]
        elif method == "cloud-only":
            found = [CloudOnlySchedule(label, inputs, image_bytes)]
        else:
            found = []
            for split in range(1, inputs.spec.depth):
                try:
                    found.append(builders[method](split))
                except ScheduleError:
                    continue  # this method cannot reach the floor at this split
        for schedule in found:
            plan = schedule.plan(PlanContext(0.0, 0, inputs.mean_mbps))  # type: ignore[attr-defined]
            if plan.accuracy >= floor - 1e-9:  # NaN (unknown) never qualifies
                out.append(Candidate(method, plan))
    return out
