"""Denoising steps of a diffusion model, as the work of one stage-graph Compute.

A tier's ViT profile prices ViT stages; it knows nothing of a UNet. Denoising steps are priced by a
diffusion profile (simulator/inputs/diffusion_profile.py) instead, chosen for the tier by whoever builds the
graph, so they travel as a Compute's ``work`` (simulator/plans/graph.py, ``PricedWork``) and the engine sees only
their seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.inputs.diffusion_profile import DiffusionProfile


@dataclass(frozen=True)
class DenoisingSteps:
    """``steps`` denoising steps one after the other, each one UNet forward on ``batch`` latents."""

    profile: DiffusionProfile
    steps: int
    batch: int

    def __post_init__(self) -> None:
        if self.steps < 0 or self.batch < 1:
            raise ValueError(f"steps must be >= 0 and batch >= 1, got {self.steps} and {self.batch}")

    def seconds(self) -> float:
        return self.profile.steps_ms(self.steps, self.batch) / 1e3
