"""Sharded (the distributed privacy-enhanced ViT framework, Ding et al. 2025): the device splits the image
into k shards and sends each over its own link to its own server, so no server sees the whole image; the
device merges what comes back and finishes.

The Plan is a fork of k branches, one per server: the shard's upload, the ViT on the shard's tokens on
that server, the shard's output tokens back; then the head on the device over every token. The request's
latency is the slowest shard's plus the device's head.

How a shard is priced: a shard holds ceil(P / k) of the image's P patches (the last one the rest) plus the
model's prefix tokens. Its server runs the patch embedding and every block on those tokens alone (a shard
never attends to another shard's tokens: that is the privacy property), priced by the server's profile at
that token count, as every other stage is priced from its token count. The upload is the shard's pixels
(its share of ``image_bytes``); the return is its output tokens at the scenario's precision
(``ViTSpec.payload_bytes``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.plans.graph import DEVICE, Chain, Compute, Fork, Transfer
from simulator.plans.plan import Plan, PlanContext, Stage
from simulator.schedules.base import ScheduleError, ScheduleInputs


class ShardedConfig(BaseModel):
    """A scenario's ``kind: sharded`` entry."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["sharded"]
    label: str | None = None
    servers: list[str] = Field(min_length=2, description="One server tier per shard (cloud or names under servers)")
    image_bytes: int = Field(150_528, gt=0, description="The image (224 x 224 x 3 bytes), split over the shards")


def shard_patches(patches: int, k: int) -> list[int]:
    """Patches per shard: ceil(patches / k) each, the last shard the rest."""
    size = math.ceil(patches / k)
    out = [min(size, patches - i * size) for i in range(k)]
    if out[-1] <= 0:
        raise ScheduleError(f"servers: {k} shards leave a shard without patches ({patches} patches)")
    return out


@dataclass
class ShardedSchedule:
    label: str
    inputs: ScheduleInputs
    config: ShardedConfig
    static: bool = True
    _plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        c, spec = self.config, self.inputs.spec
        known = {"cloud", *self.inputs.servers}
        for name in c.servers:
            if name not in known:
                raise ScheduleError(f"servers: no tier {name!r} in the scenario (servers: {', '.join(sorted(known))})")
        if len(set(c.servers)) != len(c.servers):
            raise ScheduleError("servers: each shard needs a server of its own")
        branches = []
        patches = shard_patches(spec.num_patches, len(c.servers))
        for i, (server, count) in enumerate(zip(c.servers, patches, strict=True)):
            tokens = count + spec.prefix_tokens
            pixels = c.image_bytes * count // spec.num_patches
            run = (Stage("embed", tokens, tokens), *[Stage("block", tokens, tokens)] * spec.depth)
            branches.append(Chain((Transfer(DEVICE, server, pixels, f"shard {i} up"),
                                   Compute(server, run, label=f"shard {i}"),
                                   Transfer(server, DEVICE, spec.payload_bytes(tokens, self.inputs.precision),
                                            f"shard {i} back"))))
        n = spec.num_tokens
        graph = Chain((Fork(tuple(branches)), Compute(DEVICE, (Stage("head", n, n),), label="merge and head")))
        self._plan = Plan(0, float(len(c.servers)), (), 0, (), math.nan, graph=graph)
        self.inputs.warnings.append("no accuracy is known for a ViT run on shards that never attend to each other "
                                    "(the paper's case study is SAM segmentation); accuracy reported as NaN")

    def plan(self, ctx: PlanContext) -> Plan:
        return self._plan
