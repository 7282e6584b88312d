"""Mercury: regional pruning of K patch tokens at block 1, blocks up to s on the rest, upload, then the
cloud restores K tokens (learned meta-tokens, zero padding or duplicates) and runs every later block on
the full count. Without reconstruction the cloud continues on the pruned count.

Where the pruning happens is an open question of the paper (research/algorithms.md section 10, Q2), so
both placements are priced: ``after_block1`` runs block 1 on all tokens and reuses its attention output
O_f for the scores; ``before_block1`` runs block 1's attention once on all tokens to score them, then
block 1 itself on the kept tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from simulator.inputs.vit import mercury_max_reduction, mercury_pruned
from simulator.plans.plan import Plan, PlanContext, Stage
from simulator.schedules.base import ScheduleError, ScheduleInputs, accuracy_at, resolve_parameter


@dataclass
class MercurySchedule:
    label: str
    inputs: ScheduleInputs
    split_after: int
    reduction: float | None
    reconstruction: str = "learned"
    window: int = 2
    target_accuracy: float | None = None
    static: bool = True
    prune_point: Literal["after_block1", "before_block1"] = "after_block1"
    _plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        spec = self.inputs.spec
        limit = mercury_max_reduction(spec, self.window)
        reduction, curve = resolve_parameter(self.inputs, self.reduction, "reduction", self.target_accuracy,
                                             "mercury", self.split_after, self.reconstruction,
                                             self._table_prune_point())
        if self.reduction is None:  # K is an integer: the largest K whose rate still meets the target
            reduction = int(reduction * spec.num_patches + 1e-9) / spec.num_patches
        if reduction > limit:  # a given one was refused at scenario load, by the same function
            chosen = " (chosen for the target accuracy)" if self.reduction is None else ""
            raise ScheduleError(f"reduction {reduction:g}{chosen} exceeds the {limit:.0%} that one anchor per "
                                f"{self.window}x{self.window} window allows")
        accuracy = accuracy_at(curve, float(reduction), self.inputs.warnings, self.inputs.baseline_accuracy(),
                               self.inputs.interpolated)
        self._plan = self._build(float(reduction), accuracy)

    def _table_prune_point(self) -> str:
        """The accuracy rows to read: this placement's own when the tables hold them, else after_block1's."""
        if self.prune_point != "after_block1" and self.inputs.curve(
                "mercury", self.split_after, self.reconstruction, self.prune_point) is None:
            return "after_block1"
        return self.prune_point

    def _build(self, reduction: float, accuracy: float) -> Plan:
        spec = self.inputs.spec
        n0 = spec.num_tokens
        pruned = mercury_pruned(spec, reduction, self.window)
        kept = n0 - pruned
        s = self.split_after
        prune = [Stage("mercury_prune", spec.num_patches, spec.num_patches - pruned)] if pruned else []
        if self.prune_point == "before_block1" and pruned:
            mobile = [Stage("embed", n0, n0), Stage("attention", n0, n0), *prune, *[Stage("block", kept, kept)] * s]
        else:
            mobile = [Stage("embed", n0, n0), Stage("block", n0, n0), *prune, *[Stage("block", kept, kept)] * (s - 1)]
        cloud_tokens = n0 if self.reconstruction != "none" else kept
        cloud = [Stage("block", cloud_tokens, cloud_tokens)] * (spec.depth - s)
        head = Stage("head", cloud_tokens, cloud_tokens)
        if s >= spec.depth:
            return Plan(s, reduction, (*mobile, Stage("head", kept, kept)), 0, (), accuracy)
        payload = spec.payload_bytes(kept, self.inputs.precision)
        return Plan(s, reduction, tuple(mobile), payload, (*cloud, head), accuracy, kept)

    def plan(self, ctx: PlanContext) -> Plan:
        return self._plan
