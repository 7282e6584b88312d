"""Schedules turn a scenario's schedule entry into Plans; one module per schedule.

``build_schedule`` finds the builder of an entry's ``kind`` in one registry. A shipped schedule is a
module here, a config model in simulator/config/scenario.py and one registry line; a schedule of your own needs
only :func:`register_schedule` (its keys are then checked by the pydantic model you give), called from a
notebook, a plugin file or an installed package (:mod:`simulator.schedules.plugins`). Neither touches the
engine, which executes Plans and never sees schedule names.

May import: :mod:`simulator.plans` (what a schedule returns), :mod:`simulator.config` (each schedule's keys),
:mod:`simulator.inputs` and :mod:`simulator.traces` (what a schedule may consult), and below; never the model
that runs them.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulator.config.scenario import SCHEDULE_KINDS, Plugin, ScheduleConfig
from simulator.files.validation import dotted
from simulator.inputs.data import resolve_path, shipped_file
from simulator.plans.plan import Schedule
from simulator.schedules.adaptive_mercury import AdaptiveMercurySchedule
from simulator.schedules.base import ScheduleError, ScheduleInputs
from simulator.schedules.cascade import CascadeConfig, CascadeSchedule
from simulator.schedules.cloud_only import CloudOnlySchedule
from simulator.schedules.hybrid_generation import KIND as HYBRID_GENERATION
from simulator.schedules.hybrid_generation import HybridGenerationConfig, build_hybrid_generation
from simulator.schedules.janus import JanusSchedule
from simulator.schedules.mercury import MercurySchedule
from simulator.schedules.mobile_only import MobileOnlySchedule
from simulator.schedules.oracle import METHODS, OracleSchedule
from simulator.schedules.otas import OtasSchedule
from simulator.schedules.plugins import load_entry_points
from simulator.schedules.policy import KIND as POLICY
from simulator.schedules.policy import PolicyConfig, build_policy
from simulator.schedules.pruned_on_device import KIND as PRUNED_ON_DEVICE
from simulator.schedules.pruned_on_device import PrunedOnDeviceConfig, build_pruned_on_device
from simulator.schedules.registry import Builder, register_schedule, registrations
from simulator.schedules.sharded import ShardedConfig, ShardedSchedule

__all__ = ["Schedule", "ScheduleError", "ScheduleInputs", "build_schedule", "register_schedule", "registrations",
           "schedule_files"]


def _oracle(c: Any, i: ScheduleInputs) -> Schedule:
    floor = c.accuracy_floor if c.accuracy_floor is not None else i.target_accuracy
    if floor is None:
        raise ScheduleError("the oracle needs accuracy_floor or the scenario's target_accuracy")
    return OracleSchedule(c.display, i, floor, tuple(m for m in METHODS if m in c.methods), c.image_bytes)


def _adaptive(c: Any, i: ScheduleInputs) -> Schedule:
    splits = ([c.split_after] if isinstance(c.split_after, int) else
              c.split_candidates or list(range(1, i.spec.depth)))
    return AdaptiveMercurySchedule(c.display, i, splits, c.objective, c.latency_budget_ms, c.accuracy_floor,
                                   c.reduction_step, c.reconstruction, c.window, c.bandwidth_estimator,
                                   c.bandwidth_window, c.bandwidth_source)


_BUILDERS: dict[str, Builder] = {
    "mobile-only": lambda c, i: MobileOnlySchedule(c.display, i),
    "cloud-only": lambda c, i: CloudOnlySchedule(c.display, i, c.image_bytes),
    "otas": lambda c, i: OtasSchedule(c.display, i, c.split_after, c.r, c.target_accuracy),
    "janus": lambda c, i: JanusSchedule(c.display, i, c.split_after, c.alpha, c.target_accuracy, c.sla_ms,
                                        c.bandwidth_window, c.split_candidates_k, c.image_bytes,
                                        c.bandwidth_source),
    "mercury": lambda c, i: MercurySchedule(c.display, i, c.split_after, c.reduction, c.reconstruction, c.window,
                                            c.target_accuracy, prune_point=c.prune_point),
    "mercury-adaptive": _adaptive,
    "oracle": _oracle,
}


def _registered(kind: str) -> bool:
    """Whether ``kind`` is registered, after looking among the installed plugins' entry points if not."""
    if kind not in registrations():
        load_entry_points()
    return kind in registrations()


def build_schedule(config: ScheduleConfig, inputs: ScheduleInputs) -> Schedule:
    """The schedule object for one scenario entry (raises ScheduleError when it cannot be built)."""
    if not isinstance(config, Plugin):
        return _BUILDERS[config.kind](config, inputs)
    if not _registered(config.kind):
        known = sorted(SCHEDULE_KINDS | set(registrations()))
        near = difflib.get_close_matches(config.kind, known, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; known: {', '.join(known)}"
        raise ScheduleError(f"unknown schedule kind {config.kind!r}{hint} (a schedule of your own: name its "
                            "file under the scenario's plugins, or pass --plugin FILE)")
    model, builder = registrations()[config.kind]
    entry = config.model_dump(exclude_none=True)
    if model is None:
        return builder(entry, inputs)
    try:
        return builder(model.model_validate(entry), inputs)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ScheduleError(f"{dotted(tuple(err['loc']))}: {err['msg']}") from None


def schedule_files(config: ScheduleConfig, base_dir: Path | None) -> dict[str, Path | None]:
    """A plug-in entry's own data files by key, found as the schedule finds them (None: not found).

    They count as the run's inputs (hashed in the manifest and in sweep point keys, written by absolute path
    in the output's scenario.yaml). A config model names them in ``DATA_FILES``: key -> the shipped kind a
    short name refers to (simulator/inputs/data.py), or None for a plain path.
    """
    if not isinstance(config, Plugin) or not _registered(config.kind):
        return {}
    model = registrations()[config.kind][0]
    files: dict[str, Path | None] = {}
    for key, kind in getattr(model, "DATA_FILES", {}).items():
        value = getattr(config, key, None)
        if isinstance(value, str):
            files[key] = resolve_path(value, base_dir) or (shipped_file(kind, value) if kind else None)
    return files


# Schedules of stage graphs beyond two tiers ship as plug-ins: their config models live with them.
register_schedule("cascade", lambda c, i: CascadeSchedule(c.label or c.kind, i, c), CascadeConfig)
register_schedule("sharded", lambda c, i: ShardedSchedule(c.label or c.kind, i, c), ShardedConfig)
register_schedule(PRUNED_ON_DEVICE, build_pruned_on_device, PrunedOnDeviceConfig)
register_schedule(HYBRID_GENERATION, build_hybrid_generation, HybridGenerationConfig)
register_schedule(POLICY, build_policy, PolicyConfig)
