"""Device profiles: how long each stage of a ViT takes on a device, batch scaling, and power.

File format (YAML, ``format: mercury-sim-profile/1``)::

    name: raspberry-pi-4b
    device: Raspberry Pi 4B 8 GB (4x Cortex-A72 @ 1.5 GHz)
    provenance: {kind: measured | published | fitted, ...}   # where every number comes from
                                   # optional models: {<model>: {kind: ..., anchors, method, measured_error}}
    models:
      deit_base_distilled_patch16_224:
        embed:         {fit: {a_ms: 14.2}}
        block:         {points: {tokens: [...], ms: [...]}, fit: {a_ms: 0, b_ms: 0.9, c_ms: 1e-4}}
        head:          {fit: {a_ms: 0.2}}
        mercury_prune: {fit: {...}}     # optional: Mercury's layer-1 scoring and pruning
        attention:     {fit: {...}}     # optional: block 1's attention up to O_f (pruning before block 1)
        tome_merge:    {fit: {...}}     # optional: one ToMe bipartite merge
        tome_block:    {fit: {...}}     # optional: a whole merging block as the split model runs it
    batch: {sizes: [1, 16], factor: [1.0, 9.3]}   # latency of a batch relative to one request
    power_w: {compute: 6.0, idle: 0.0, radio: 0.0} # a key left out is unknown (energy NaN), not 0 W
    radio_model: lte-huang2012                     # optional: profiles/radio/<name>.yaml (simulator/model/energy.py)
    after_idle_ms: {deit_tiny_distilled_patch16_224: 2.6}  # optional: a forward's extra time after an idle gap
    quantile_levels: [0.0, 0.05, ..., 1.0]         # optional: the levels of every point's quantiles_ms

A point may carry ``quantiles_ms``, the stage's single-call times at ``quantile_levels`` (what the profiler's
repetitions showed): the scenario key ``compute: {variability: profile}`` then draws each request's compute
from them (simulator/model/variability.py); pricing and planning always read the points' ``ms``.

A stage curve gives latency against the token count entering the stage: linear interpolation between
measured ``points``; outside them (or everywhere, without points) the fit ``a + b*N + c*N^2``. A block
that reduces tokens inside itself (n_in -> n_out) is priced at the plain-block token count of equal MACs
(:meth:`ViTSpec.effective_tokens`). A profile without an ``attention`` curve prices that stage as the
block curve times the attention's share of the block's MACs (:meth:`ViTSpec.attention_macs`).
A merging block (OTAS, Janus) is a ``block`` plus a ``tome_merge`` stage; with a ``tome_block`` curve the
merge stage carries everything the merging block costs beyond the fused plain block (:meth:`Profile.merge_ms`).
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.errors import InputError
from simulator.files.validation import check_provenance, load_yaml_mapping, parse_model
from simulator.inputs.data import scenario_file, shipped_names
from simulator.inputs.vit import ViTSpec, profiled_merge_count

STAGES = ("embed", "block", "head", "mercury_prune", "tome_merge", "attention", "tome_block")
REQUIRED_STAGES = ("embed", "block", "head")
# Per model in provenance.models: derived = computed from another model's curves in the same file.
MODEL_PROVENANCE_KINDS = ("measured", "published", "fitted", "derived")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Polynomial(_Strict):
    """Latency in ms as ``a + b*N + c*N^2`` of the token count N."""

    a_ms: float = 0.0
    b_ms: float = 0.0
    c_ms: float = 0.0

    def __call__(self, tokens: float) -> float:
        return self.a_ms + self.b_ms * tokens + self.c_ms * tokens * tokens


class Points(_Strict):
    """Measured (tokens, ms) pairs, tokens strictly increasing."""

    tokens: list[float] = Field(min_length=1)
    ms: list[float] = Field(min_length=1)
    spread_ms: list[float] | None = None  # e.g. interquartile range of the repetitions
    quantiles_ms: list[list[float]] | None = None  # per point, single-call times at the file's quantile_levels

    @model_validator(mode="after")
    def _check(self) -> Points:
        if len(self.tokens) != len(self.ms):
            raise ValueError(f"tokens ({len(self.tokens)}) and ms ({len(self.ms)}) differ in length")
        if self.quantiles_ms is not None:
            if len(self.quantiles_ms) != len(self.tokens):
                raise ValueError(f"quantiles_ms has {len(self.quantiles_ms)} rows for {len(self.tokens)} points")
            for row in self.quantiles_ms:
                if any(q < 0 for q in row) or any(b < a for a, b in zip(row, row[1:], strict=False)):
                    raise ValueError("each quantiles_ms row must be >= 0 and non-decreasing")
        if any(b <= a for a, b in zip(self.tokens, self.tokens[1:], strict=False)):
            raise ValueError("token points must increase strictly")
        if any(t < 1 for t in self.tokens) or any(m < 0 for m in self.ms):
            raise ValueError("tokens must be >= 1 and latencies >= 0")
        return self


class StageCurve(_Strict):
    """Latency of one stage against tokens: interpolated points, the fit outside them."""

    points: Points | None = None
    fit: Polynomial | None = None

    @model_validator(mode="after")
    def _need_one(self) -> StageCurve:
        if self.points is None and self.fit is None:
            raise ValueError("a stage needs 'points', 'fit' or both")
        return self

    def ms(self, tokens: float) -> float:
        pts = self.points
        if pts is not None and (pts.tokens[0] <= tokens <= pts.tokens[-1] or self.fit is None):
            return float(np.interp(tokens, pts.tokens, pts.ms))
        assert self.fit is not None
        return max(0.0, self.fit(tokens))

    @property
    def sampled(self) -> bool:
        return self.points is not None and self.points.quantiles_ms is not None

    def quantile_ms(self, tokens: float, level: float, levels: list[float]) -> float:
        """The stage's single-call time at quantile ``level``: the points' quantiles interpolated linearly
        in the level, then in tokens as :meth:`ms` interpolates; outside the points, the fit scaled by the
        nearest point's quantile over its ``ms`` (the distribution's shape carried along the curve). A
        curve without quantiles is the constant :meth:`ms`."""
        pts = self.points
        if pts is None or pts.quantiles_ms is None:
            return self.ms(tokens)
        rows = pts.quantiles_ms
        if pts.tokens[0] <= tokens <= pts.tokens[-1] or self.fit is None:
            k = int(np.searchsorted(pts.tokens, tokens))  # tokens[k-1] < tokens <= tokens[k]
            if k == 0 or k >= len(rows):
                return float(np.interp(level, levels, rows[min(k, len(rows) - 1)]))
            low, high = float(np.interp(level, levels, rows[k - 1])), float(np.interp(level, levels, rows[k]))
            return float(np.interp(tokens, pts.tokens[k - 1:k + 1], [low, high]))
        k = 0 if tokens < pts.tokens[0] else -1
        base = self.ms(tokens)
        return base * float(np.interp(level, levels, rows[k])) / pts.ms[k] if pts.ms[k] > 0 else base


class BatchScaling(_Strict):
    """Latency of a batch of B relative to a batch of 1; linear extrapolation beyond the last size."""

    sizes: list[int] = Field(default=[1], min_length=1)
    factor: list[float] = Field(default=[1.0], min_length=1)

    @model_validator(mode="after")
    def _check(self) -> BatchScaling:
        if len(self.sizes) != len(self.factor):
            raise ValueError("batch sizes and factors differ in length")
        if self.sizes[0] != 1 or abs(self.factor[0] - 1.0) > 1e-9:
            raise ValueError("batch scaling starts at sizes[0] = 1 with factor 1.0")
        if any(b <= a for a, b in zip(self.sizes, self.sizes[1:], strict=False)):
            raise ValueError("batch sizes must increase strictly")
        return self

    def __call__(self, batch: int) -> float:
        if batch <= self.sizes[-1] or len(self.sizes) == 1:
            if len(self.sizes) == 1:
                return float(batch)  # no data: no batching benefit assumed
            return float(np.interp(batch, self.sizes, self.factor))
        slope = (self.factor[-1] - self.factor[-2]) / (self.sizes[-1] - self.sizes[-2])
        return float(self.factor[-1] + slope * (batch - self.sizes[-1]))


class Power(_Strict):
    """Device power draw in watts while computing, idle-waiting for the result, and transmitting.

    A key left out (or null) is unknown, not 0 W: energy that depends on it is reported as unknown (NaN),
    so a profile that never measured its power cannot pass for one that draws nothing.
    """

    compute: float | None = Field(default=None, ge=0)
    idle: float | None = Field(default=None, ge=0)
    radio: float | None = Field(default=None, ge=0)

    def watts(self, part: Literal["compute", "idle", "radio"]) -> float:
        """The stated power of ``part``; NaN when the profile does not state it."""
        value = getattr(self, part)
        return math.nan if value is None else value


class ProfileFile(_Strict):
    """Schema of a profile YAML file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    format: Literal["mercury-sim-profile/1"] = "mercury-sim-profile/1"
    name: str
    device: str
    provenance: dict[str, Any]
    models: dict[str, dict[str, StageCurve]] = Field(min_length=1)
    batch: BatchScaling = BatchScaling()
    power_w: Power = Power()
    radio_model: str | None = None  # the uplink power model of the device's modem (profiles/radio/)
    after_idle_ms: dict[str, float] | None = None  # per model; priced under compute_after_idle (model/after_idle.py)
    notes: str | list[str] | None = None
    host: dict[str, Any] | None = None
    quantile_levels: list[float] | None = None  # the levels of every point's quantiles_ms, 0 first and 1 last

    @model_validator(mode="after")
    def _quantiles(self) -> ProfileFile:
        levels = self.quantile_levels
        if levels is not None and (levels[:1] != [0.0] or levels[-1:] != [1.0] or
                                   any(b <= a for a, b in zip(levels, levels[1:], strict=False))):
            raise ValueError("quantile_levels must increase strictly from 0 to 1")
        for model, stages in self.models.items():
            for stage, curve in stages.items():
                rows = curve.points.quantiles_ms if curve.points is not None else None
                if rows is None:
                    continue
                if levels is None:
                    raise ValueError(f"models.{model}.{stage}: quantiles_ms needs quantile_levels")
                if any(len(row) != len(levels) for row in rows):
                    raise ValueError(f"models.{model}.{stage}: each quantiles_ms row needs {len(levels)} values "
                                     "(one per quantile level)")
        return self

    @field_validator("provenance")
    @classmethod
    def _provenance(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_provenance(value)

    @model_validator(mode="after")
    def _model_provenance(self) -> ProfileFile:
        """``provenance.models`` (optional) says per model where its curves come from: a file may mix a fitted
        model with others derived from it (simulator/inputs/derived_profile.py)."""
        entries = self.provenance.get("models")
        if entries is None:
            return self
        if not isinstance(entries, dict):
            raise ValueError("provenance.models must map a model name to its provenance")
        for model, entry in entries.items():
            where = f"provenance.models.{model}"
            if model not in self.models:
                raise ValueError(f"{where}: the profile has no latency curves for this model")
            if not isinstance(entry, dict) or entry.get("kind") not in MODEL_PROVENANCE_KINDS:
                raise ValueError(f"{where}.kind must be one of {', '.join(MODEL_PROVENANCE_KINDS)}")
            missing = [key for key in ("anchors", "method", "measured_error")
                       if entry["kind"] == "derived" and not entry.get(key)]
            if missing:
                raise ValueError(f"{where}: a derived model must state {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _after_idle(self) -> ProfileFile:
        for model, ms in (self.after_idle_ms or {}).items():
            if model not in self.models:
                raise ValueError(f"after_idle_ms: model {model} has no latency curves in this profile")
            if not ms >= 0:
                raise ValueError(f"after_idle_ms: {model} must be >= 0 ms (got {ms})")
        return self

    @field_validator("models")
    @classmethod
    def _stages(cls, value: dict[str, dict[str, StageCurve]]) -> dict[str, dict[str, StageCurve]]:
        for model, stages in value.items():
            unknown = set(stages) - set(STAGES)
            if unknown:
                raise ValueError(f"model {model}: unknown stage(s) {sorted(unknown)}; known: {list(STAGES)}")
            missing = [s for s in REQUIRED_STAGES if s not in stages]
            if missing:
                raise ValueError(f"model {model}: missing stage(s) {missing}")
        return value


class Profile:
    """A loaded profile: stage latencies for (model, tokens, batch) and power."""

    def __init__(self, spec: ProfileFile, path: Path | None = None) -> None:
        self.file = spec
        self.path = path
        self.level: float | None = None  # a view at one quantile of single-call times (at_level), else the points

    def at_level(self, level: float) -> Profile:
        """The same profile pricing every stage at quantile ``level`` of its single-call times (stages without
        quantiles at their points' ``ms``): a request's compute when every stage it runs is that slow."""
        view = Profile(self.file, self.path)
        view.level = level
        return view

    @property
    def has_distribution(self) -> bool:
        """Whether any stage curve carries quantiles (else sampling its compute changes nothing)."""
        return any(curve.sampled for stages in self.file.models.values() for curve in stages.values())

    def _curve_ms(self, curve: StageCurve, tokens: float) -> float:
        if self.level is None:
            return curve.ms(tokens)
        return curve.quantile_ms(tokens, self.level, self.file.quantile_levels or [])  # validated: set if sampled

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def power(self) -> Power:
        return self.file.power_w

    @property
    def provenance(self) -> dict[str, Any]:
        return self.file.provenance

    @cached_property
    def models(self) -> list[str]:
        return sorted(self.file.models)

    def has_stage(self, model: str, stage: str) -> bool:
        return stage in self.file.models.get(model, {})

    def stage_ms(self, model: ViTSpec, stage: str, tokens: float) -> float:
        """Latency (batch 1) of ``stage`` on ``tokens`` tokens."""
        curves = self.file.models.get(model.name)
        if curves is None:
            raise InputError(self.path or self.name, f"no latency curves for model {model.name!r}; "
                             f"the profile covers {', '.join(self.models)}; measure them on the device with "
                             f"'mercury-sim profile --model {model.name} --out FILE.yaml' and name FILE.yaml as "
                             "the scenario's profile", "models")
        curve = curves.get(stage)
        if curve is None and stage == "attention" and "block" in curves:
            return self._curve_ms(curves["block"], tokens) * model.attention_macs(round(tokens)) / \
                model.block_macs(round(tokens))
        if curve is None:
            raise InputError(self.path or self.name, f"model {model.name} has no {stage!r} stage, which "
                             "this schedule needs", f"models.{model.name}")
        return self._curve_ms(curve, tokens)

    def block_ms(self, model: ViTSpec, n_in: int, n_out: int) -> float:
        """One block taking n_in tokens and keeping n_out (priced at the equal-MAC plain block)."""
        return self.stage_ms(model, "block", model.effective_tokens(n_in, n_out))

    def merge_ms(self, model: ViTSpec, n_in: int, n_out: int) -> float:
        """The ``tome_merge`` stage of a block merging n_in -> n_out tokens, priced on top of :meth:`block_ms`.

        Without a ``tome_block`` curve: the bipartite merge kernel alone (``tome_merge`` at n_in). With one,
        the whole merging block is the measured one: the split model runs it unfused (explicit attention
        with ToMe's log-size term, the merge's gathers and scatters), which costs more than the fused plain
        block of equal MACs plus the bare kernel (OTAS and Janus on DeiT-Ti: 12-30 % per block,
        benchmarks/merging_block_cost.py). ``tome_block`` is timed at n_in merging the profiler's reference
        r (:func:`profiled_merge_count`); another r mainly changes the tokens the MLP sees, so the difference
        is priced as the plain-block curve prices it (equal MACs)::

            merging block = tome_block(n_in) + block(n_in -> n_out) - block(n_in -> n_in - r_ref)

        and this stage is that minus ``block(n_in -> n_out)``, the block stage's own price (the sum is
        floored at 0). One curve in n_in rather than a table over (n_in, r) keeps the profiler's time
        budget, and price / measured time stayed flat in r (4 to 97 merged at 52-198 tokens, within ±3 %).
        """
        if not self.has_stage(model.name, "tome_block"):
            return self.stage_ms(model, "tome_merge", n_in)
        reference_out = n_in - profiled_merge_count(n_in, model.prefix_tokens)
        block = self.block_ms(model, n_in, n_out)
        merging = (self.stage_ms(model, "tome_block", n_in) + block
                   - self.block_ms(model, n_in, reference_out))
        return max(0.0, merging) - block

    def after_idle_ms(self, model: ViTSpec) -> float | None:
        """The measured extra time of a compute burst after the device idled (None: not measured)."""
        return (self.file.after_idle_ms or {}).get(model.name)

    def batch_factor(self, batch: int) -> float:
        return self.file.batch(batch)


def load_profile(value: str | Path, base_dir: Path | None = None, *, key: str = "profile",
                 scenario: Path | None = None) -> Profile:
    """Load a profile by shipped name (``raspberry-pi-4b``) or path."""
    path = scenario_file("profile", value, base_dir, what="profile", key=key, scenario=scenario)
    data = load_yaml_mapping(path)
    return Profile(parse_model(ProfileFile, data, path), path)


def shipped_profile_names() -> list[str]:
    return shipped_names("profile")
