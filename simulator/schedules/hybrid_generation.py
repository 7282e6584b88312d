"""Hybrid generation (ObCLIP, Wu et al., arXiv 2510.04153): the cloud runs the first ``s`` denoising steps
for ``n`` candidate prompts as one batch, sends the ``n`` latents back, and the device picks the real
prompt's latent and finishes the remaining steps with a model of its own.

The Plan is a chain: the ``n`` prompts up, the cloud's ``s`` steps (one GPU job: each step one UNet forward
on every prompt's latents), the ``n`` latents down (half the RTT plus their bytes at the tier's downlink),
the device's ``total_steps - s`` steps on the one latent it keeps. ``s = total_steps`` with ``n = 1`` is
cloud-only generation (the final latent comes back); ``s = 0`` is device-only (nothing is sent).

Each tier's steps are priced by a diffusion profile (simulator/inputs/diffusion_profile.py) named in the entry:
``cloud_profile`` for the cloud's steps, ``device_profile`` for the device's. With classifier-free guidance
(``guidance: true``, Stable Diffusion's default sampling) every step runs the UNet on two latents per
prompt (conditional and unconditional), so the cloud's batch is ``2 n`` latents and the device's 2; only one
latent per prompt travels, at the cloud profile's size (its precision). Not priced: the candidate prompts'
creation and the text encoders (small next to the UNet steps), the VAE decoder (the same one decode of the
final latent on the device in every mode), and ObCLIP's cache-based accelerations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.errors import InputError
from simulator.inputs.denoising import DenoisingSteps
from simulator.inputs.diffusion_profile import DiffusionProfile, load_diffusion_profile
from simulator.plans.graph import DEVICE, Chain, Compute, Step, Transfer
from simulator.plans.plan import Plan, PlanContext
from simulator.schedules.base import ScheduleError, ScheduleInputs

KIND = "hybrid-generation"
CLIP_CONTEXT_TOKENS = 77  # the SD v1 text encoder's context length


class HybridGenerationConfig(BaseModel):
    """A scenario's ``kind: hybrid-generation`` entry."""

    model_config = ConfigDict(extra="forbid")
    DATA_FILES: ClassVar[dict[str, str | None]] = {"cloud_profile": "diffusion-profile",
                                                   "device_profile": "diffusion-profile"}
    kind: Literal["hybrid-generation"]
    label: str | None = Field(None, min_length=1)
    total_steps: int = Field(gt=0, description="Denoising steps of one image")
    cloud_steps: int = Field(ge=0, description="The first steps, run in the cloud (s); 0: device-only")
    prompts: int = Field(1, ge=1, description="Candidate prompts the cloud runs as one batch (n)")
    cloud_profile: str | None = Field(None, description="Diffusion profile of the cloud's steps (name or path)")
    device_profile: str | None = Field(None, description="Diffusion profile of the device's steps (name or path)")
    guidance: bool = Field(True, description="Classifier-free guidance: the UNet runs on 2 latents per prompt")
    cloud_tier: str = Field("cloud", description="The server running the first steps")
    prompt_bytes: int = Field(CLIP_CONTEXT_TOKENS * 4, ge=0,
                              description="One prompt on the uplink (default 77 token ids of 4 bytes)")


@dataclass
class HybridGenerationSchedule:
    """The one Plan of a hybrid-generation entry; its ``parameter`` is the number of cloud steps, ``s``."""

    label: str
    inputs: ScheduleInputs
    config: HybridGenerationConfig
    static: bool = True
    _plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        if c.cloud_steps > c.total_steps:
            raise ScheduleError(f"cloud_steps: {c.cloud_steps} is more than total_steps ({c.total_steps})")
        if c.cloud_tier != "cloud" and c.cloud_tier not in self.inputs.servers:
            raise ScheduleError(f"cloud_tier: no tier {c.cloud_tier!r} in the scenario "
                                f"(servers: {', '.join(['cloud', *self.inputs.servers])})")
        per_prompt = 2 if c.guidance else 1
        steps: list[Step] = []
        cloud = device = None
        if c.cloud_steps > 0:
            cloud = self._profile("cloud_profile", c.cloud_profile, "cloud", c.prompts * per_prompt)
            steps += [Transfer(DEVICE, c.cloud_tier, c.prompts * c.prompt_bytes, "prompts"),
                      Compute(c.cloud_tier, (), label="first steps", work=DenoisingSteps(
                          cloud, c.cloud_steps, c.prompts * per_prompt)),
                      Transfer(c.cloud_tier, DEVICE, c.prompts * cloud.latent_bytes, "latents")]
        if c.cloud_steps < c.total_steps:
            device = self._profile("device_profile", c.device_profile, "device", per_prompt)
            steps.append(Compute(DEVICE, (), label="last steps", work=DenoisingSteps(
                device, c.total_steps - c.cloud_steps, per_prompt)))
        if cloud is not None and device is not None:
            _same_latent_space(cloud, device)
        self._plan = Plan(0, float(c.cloud_steps), (), 0, (), math.nan, graph=Chain(tuple(steps)))
        self.inputs.warnings.append("an image generator has no top-1 accuracy; accuracy reported as NaN")

    def _profile(self, key: str, value: str | None, tier: str, batch: int) -> DiffusionProfile:
        """The entry's profile for ``tier``, checked to cover the batch it must run."""
        if value is None:
            raise ScheduleError(f"{key}: missing; the {tier}'s denoising steps need a diffusion profile "
                                "(a shipped name or a file)")
        try:
            profile = load_diffusion_profile(value, self.inputs.base_dir, key=key)
        except InputError as exc:
            if exc.source is not None:  # the file itself is bad: its own error names it
                raise
            raise ScheduleError(exc.one_line()) from None
        lo, hi = profile.batch_range
        if not lo <= batch <= hi:
            raise ScheduleError(f"{key}: a batch of {batch} latents is outside {profile.name}'s batch sizes "
                                f"{lo}..{hi} (prompts x 2 with guidance; no extrapolation)")
        if profile.file.tier != tier:
            self.inputs.warnings.append(f"{key} {profile.name!r} was taken on a {profile.file.tier} tier, "
                                        f"used here for the {tier}")
        return profile

    def plan(self, ctx: PlanContext) -> Plan:
        return self._plan


def _same_latent_space(cloud: DiffusionProfile, device: DiffusionProfile) -> None:
    """The device continues the cloud's latent: both models must share its shape."""
    a, b = cloud.file.latent, device.file.latent
    if (a.channels, a.height, a.width) != (b.channels, b.height, b.width):
        raise ScheduleError(f"device_profile: {device.name}'s latent {b.channels}x{b.height}x{b.width} cannot "
                            f"continue {cloud.name}'s {a.channels}x{a.height}x{a.width}")


def build_hybrid_generation(config: HybridGenerationConfig, inputs: ScheduleInputs) -> HybridGenerationSchedule:
    return HybridGenerationSchedule(config.label or config.kind, inputs, config)
