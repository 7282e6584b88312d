"""Diffusion profiles: how long one denoising step of a diffusion model takes on one tier, and its latent size.

The data a cloud-device hybrid generation schedule (ObCLIP: the cloud runs the first steps for several
prompts as one batch, sends the latents, the device finishes one) needs: per-step latency against the
batch of latents, and the bytes of one latent. File format (YAML, ``format: mercury-sim-diffusion-profile/1``)::

    name: sd-v1-unet-x86-1t
    tier: device | cloud                      # where the numbers were taken (informative)
    device: AMD EPYC ..., 1 torch thread(s)
    model: {name: ..., source: ..., config: {...}, parameters: 859520964}
    latent: {channels: 4, height: 64, width: 64, precision: fp32, bytes: 65536}
    step_ms: {batch: [1, 2, 4], ms: [7800, 15900, 31000], spread_ms: [...]}
    provenance: {kind: measured | published | fitted, ...}

``latent.bytes`` must equal channels x height x width x bytes per element (it is stated so a reader sees
the number; the loader checks it). ``step_ms`` is linear interpolation between the measured batch sizes;
a batch outside them is an error, not an extrapolation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.errors import InputError
from simulator.files.validation import check_provenance, load_yaml_mapping, parse_model
from simulator.inputs.data import scenario_file
from simulator.inputs.vit import BYTES_PER_ELEMENT, Precision

FORMAT = "mercury-sim-diffusion-profile/1"


def latent_bytes(channels: int, height: int, width: int, precision: Precision) -> int:
    """Bytes of one latent tensor (one prompt) as it travels: channels x height x width elements."""
    return channels * height * width * BYTES_PER_ELEMENT[precision]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Latent(_Strict):
    """Shape of one prompt's latent and its size on the wire."""

    channels: int = Field(gt=0)
    height: int = Field(gt=0)
    width: int = Field(gt=0)
    precision: Precision = "fp32"
    bytes: int = Field(gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Latent:
        expected = latent_bytes(self.channels, self.height, self.width, self.precision)
        if self.bytes != expected:
            raise ValueError(f"bytes {self.bytes} != {self.channels} x {self.height} x {self.width} x "
                             f"{BYTES_PER_ELEMENT[self.precision]} ({self.precision}) = {expected}")
        return self


class StepLatency(_Strict):
    """Milliseconds of one denoising step against the batch of latents, batch sizes strictly increasing."""

    batch: list[int] = Field(min_length=1)
    ms: list[float] = Field(min_length=1)
    spread_ms: list[float] | None = None

    @model_validator(mode="after")
    def _check(self) -> StepLatency:
        if len(self.batch) != len(self.ms):
            raise ValueError(f"batch ({len(self.batch)}) and ms ({len(self.ms)}) differ in length")
        if self.spread_ms is not None and len(self.spread_ms) != len(self.ms):
            raise ValueError(f"spread_ms ({len(self.spread_ms)}) and ms ({len(self.ms)}) differ in length")
        if any(b < 1 for b in self.batch):
            raise ValueError("batch sizes must be >= 1")
        if any(b <= a for a, b in zip(self.batch, self.batch[1:], strict=False)):
            raise ValueError("batch sizes must increase strictly")
        if any(m <= 0 for m in self.ms):
            raise ValueError("step latencies must be > 0")
        return self


class DiffusionProfileFile(_Strict):
    """Schema of a diffusion profile YAML file."""

    format: Literal["mercury-sim-diffusion-profile/1"]
    name: str = Field(min_length=1)
    tier: Literal["device", "cloud"]
    device: str
    model: dict[str, Any]
    latent: Latent
    step_ms: StepLatency
    provenance: dict[str, Any]
    notes: str | list[str] | None = None

    @field_validator("provenance")
    @classmethod
    def _provenance(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_provenance(value)


class DiffusionProfile:
    """A loaded diffusion profile: step latency for a batch, and the latent's bytes."""

    def __init__(self, file: DiffusionProfileFile, path: Path | None = None) -> None:
        self.file = file
        self.path = path

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def latent_bytes(self) -> int:
        """Bytes of one prompt's latent (what the cloud sends per candidate prompt)."""
        return self.file.latent.bytes

    @property
    def batch_range(self) -> tuple[int, int]:
        return self.file.step_ms.batch[0], self.file.step_ms.batch[-1]

    def step_ms(self, batch: int) -> float:
        """One denoising step on ``batch`` latents, interpolated between measured batch sizes."""
        lo, hi = self.batch_range
        if not lo <= batch <= hi:
            raise InputError(self.path or self.name, f"batch {batch} outside the measured batch sizes "
                             f"{lo}..{hi} (no extrapolation)", "step_ms.batch")
        steps = self.file.step_ms
        return float(np.interp(batch, steps.batch, steps.ms))

    def steps_ms(self, steps: int, batch: int) -> float:
        """``steps`` denoising steps, one after the other, each on ``batch`` latents."""
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        return steps * self.step_ms(batch) if steps else 0.0


def load_diffusion_profile(value: str | Path, base_dir: Path | None = None, *, key: str = "diffusion_profile",
                           scenario: Path | None = None) -> DiffusionProfile:
    """Load a diffusion profile by shipped name (``sd-v1-unet-x86-1t``) or path."""
    path = scenario_file("diffusion-profile", value, base_dir, what="diffusion profile", key=key, scenario=scenario)
    data = load_yaml_mapping(path)
    return DiffusionProfile(parse_model(DiffusionProfileFile, data, path), path)
