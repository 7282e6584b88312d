"""Pruned-on-device (TAP-ViTs): a width- and depth-pruned copy of the scenario's model, run wholly on the device.

A plug-in (registered in simulator/schedules/__init__.py): the entry gives one ``heads`` and one
``mlp_hidden`` per kept block; nothing is uploaded. Each pruned block is priced as the device profile's
plain block at the real token count times the block's MAC ratio (simulator/inputs/pruned_vit.py): a stage here is
``Stage("block", N, N, mac_scale=ratio)``. Measured against real width-pruned DeiT-B forwards, that rule
is closer than the plain block at the equal-MAC token count (benchmarks/pruned_vit_pricing.py).

Accuracy: a pruned model's top-1 depends on its pruning and fine-tuning, which the simulator cannot
derive; the entry states it (``top1`` with ``top1_source``) or it is unknown (NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.inputs.pruned_vit import PrunedViT, width_problem
from simulator.inputs.vit import ViTSpec
from simulator.plans.plan import Plan, PlanContext, Stage
from simulator.schedules.base import ScheduleError, ScheduleInputs

KIND = "pruned-on-device"
SOURCE_KINDS = ("published:", "fitted:", "measured:")


class PrunedOnDeviceConfig(BaseModel):
    """The keys of a ``pruned-on-device`` schedule entry."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    label: str | None = Field(None, min_length=1)
    heads: list[int] = Field(min_length=1, description="Attention heads kept, one per kept block")
    mlp_hidden: list[int] = Field(min_length=1, description="MLP hidden channels kept, one per kept block")
    top1: float | None = Field(None, gt=0, le=100, description="Top-1 of the pruned model; omit: unknown (NaN)")
    top1_source: str | None = Field(None, description="Where top1 comes from: 'published: ...', 'fitted: ...' "
                                                      "or 'measured: ...'")

    @model_validator(mode="after")
    def _source(self) -> PrunedOnDeviceConfig:
        if (self.top1 is None) != (self.top1_source is None):
            raise ValueError("top1 and top1_source go together (a number needs its provenance)")
        if self.top1_source is not None and not self.top1_source.startswith(SOURCE_KINDS):
            raise ValueError(f"top1_source must start with one of {', '.join(SOURCE_KINDS)}")
        return self


def pruned_stages(model: PrunedViT) -> tuple[Stage, ...]:
    """Embed, each kept block as the base plain block on all N tokens scaled by its MAC ratio, the head."""
    n = model.base.num_tokens
    blocks = [Stage("block", n, n, model.block_mac_ratio(b, n)) for b in range(model.depth)]
    return (Stage("embed", n, n), *blocks, Stage("head", n, n))


@dataclass
class PrunedOnDeviceSchedule:
    """The pruned model's one Plan: everything on the device, ``parameter`` = its fraction of the base MACs."""

    label: str
    model: PrunedViT
    accuracy: float
    static: bool = True
    _plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        self._plan = Plan(self.model.depth, self.model.mac_fraction(), pruned_stages(self.model), 0, (),
                          self.accuracy)

    def plan(self, ctx: PlanContext) -> Plan:
        return self._plan


def pruned_model(spec: ViTSpec, config: PrunedOnDeviceConfig) -> PrunedViT:
    problem = width_problem(spec, config.heads, config.mlp_hidden)
    if problem is not None:
        raise ScheduleError(problem)
    return PrunedViT.from_lists(spec, config.heads, config.mlp_hidden)


def build_pruned_on_device(config: PrunedOnDeviceConfig, inputs: ScheduleInputs) -> PrunedOnDeviceSchedule:
    accuracy = config.top1 if config.top1 is not None else math.nan
    if config.top1 is None:
        inputs.warnings.append("no top1 given for the pruned model; accuracy reported as unknown")
    return PrunedOnDeviceSchedule(config.label or config.kind, pruned_model(inputs.spec, config), accuracy)
