"""What every schedule is given (:class:`ScheduleInputs`); what it must provide is the engine's contract,
:class:`simulator.plans.plan.Schedule`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from simulator.inputs.accuracy import AccuracyCurve, AccuracyTable, Interpolated
from simulator.inputs.profiles import Profile
from simulator.inputs.vit import Precision, ViTSpec
from simulator.plans.plan import Stage


class ScheduleError(ValueError):
    """A schedule cannot be built as configured (the runner names the scenario key)."""


@dataclass(frozen=True)
class ScheduleInputs:
    """The resolved inputs a schedule may consult."""

    spec: ViTSpec
    dataset: str
    precision: Precision
    accuracy: AccuracyTable
    mobile: Profile
    cloud: Profile
    target_accuracy: float | None
    mean_mbps: float
    rtt_s: float = 0.0
    warnings: list[str] = field(default_factory=list)
    # (parameter, top-1) -> the table rows it lies between, for every top-1 read between rows
    interpolated: dict[tuple[float, float], Interpolated] = field(default_factory=dict)
    servers: tuple[str, ...] = ()  # the scenario's server tiers beyond the cloud (stage graphs may name them)
    base_dir: Path | None = None  # the scenario's folder (a schedule's own data files are relative to it)

    def curve(self, method: str, split_after: int | None, reconstruction: str = "none",
              prune_point: str = "after_block1") -> AccuracyCurve | None:
        """The accuracy curve, or None when the tables lack it (accuracy is then reported as NaN)."""
        try:
            return self.accuracy.curve(self.spec.name, self.dataset, method, split_after, reconstruction, prune_point)
        except LookupError:
            return None

    def require_curve(self, method: str, split_after: int | None, reconstruction: str = "none",
                      prune_point: str = "after_block1") -> AccuracyCurve:
        try:
            return self.accuracy.curve(self.spec.name, self.dataset, method, split_after, reconstruction, prune_point)
        except LookupError as exc:
            raise ScheduleError(str(exc)) from None

    def baseline_accuracy(self) -> float:
        curve = self.curve("none", None)
        return curve.accuracy(0.0) if curve else math.nan


def accuracy_at(curve: AccuracyCurve | None, parameter: float, warnings: list[str] | None = None,
                baseline: float = math.nan,
                interpolated: dict[tuple[float, float], Interpolated] | None = None) -> float:
    """Top-1 at a parameter; NaN (with a warning) without a table or outside its range, never extrapolated.

    ``baseline`` answers for parameter 0 (no reduction is the unreduced model) when no curve exists. A top-1
    read between two table rows is noted in ``interpolated`` (the run warns when a request used it).
    """
    if curve is None:
        return baseline if parameter == 0 else math.nan
    try:
        accuracy = curve.accuracy(parameter)
    except ValueError as exc:
        if warnings is not None:
            warnings.append(f"{exc}; accuracy reported as NaN")
        return math.nan
    between = curve.interpolated(parameter)
    if between is not None and interpolated is not None:
        interpolated[(float(parameter), accuracy)] = between
    return accuracy


def resolve_parameter(inputs: ScheduleInputs, given: float | None, name: str, own_target: float | None,
                      method: str, split_after: int | None, reconstruction: str = "none",
                      prune_point: str = "after_block1", **search: object) -> tuple[float, AccuracyCurve | None]:
    """The schedule's parameter and accuracy curve: as given, or the most aggressive one meeting the target.

    Warns when the table ends before the target is reached (the table's last parameter is then used).
    """
    curve = inputs.curve(method, split_after, reconstruction, prune_point)
    if given is not None:
        return float(given), curve
    target = own_target or inputs.target_accuracy
    if target is None:
        raise ScheduleError(f"give {name} or a target_accuracy")
    curve = inputs.require_curve(method, split_after, reconstruction, prune_point)
    try:
        chosen = curve.parameter_for(target, **search)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ScheduleError(str(exc)) from None
    hi = curve.range[1]
    if chosen >= hi - 1e-9 and curve.accuracy(hi) > target + 0.05:
        inputs.warnings.append(f"the accuracy table for {curve.label} ends at {hi:g} ({curve.accuracy(hi):.2f} % "
                               f"top-1), above the {target:g} % target; using {hi:g}")
    return chosen, curve


def full_model_stages(spec: ViTSpec) -> tuple[Stage, ...]:
    """Embed, every block on all tokens, and the head."""
    n = spec.num_tokens
    return (Stage("embed", n, n), *[Stage("block", n, n)] * spec.depth, Stage("head", n, n))


