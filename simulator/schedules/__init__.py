"""Schedules turn a scenario's schedule entry into Plans; one module per schedule.

``build_schedule`` is the only place that maps a ``kind`` to its class, so adding a schedule means a
new module and one line here, and no change to the engine.
"""

from __future__ import annotations

from simulator.scenario import CloudOnly, Janus, Mercury, MobileOnly, Otas, ScheduleConfig
from simulator.schedules.base import Schedule, ScheduleError, ScheduleInputs
from simulator.schedules.cloud_only import CloudOnlySchedule
from simulator.schedules.janus import JanusSchedule
from simulator.schedules.mercury import MercurySchedule
from simulator.schedules.mobile_only import MobileOnlySchedule
from simulator.schedules.otas import OtasSchedule

__all__ = ["Schedule", "ScheduleError", "ScheduleInputs", "build_schedule"]


def build_schedule(config: ScheduleConfig, inputs: ScheduleInputs) -> Schedule:
    """The schedule object for one scenario entry (raises ScheduleError when it cannot be built)."""
    label = config.display
    if isinstance(config, MobileOnly):
        return MobileOnlySchedule(label, inputs)
    if isinstance(config, CloudOnly):
        return CloudOnlySchedule(label, inputs, config.image_bytes)
    if isinstance(config, Otas):
        return OtasSchedule(label, inputs, config.split_after, config.r, config.target_accuracy)
    if isinstance(config, Janus):
        return JanusSchedule(label, inputs, config.split_after, config.alpha, config.target_accuracy,
                             config.sla_ms, config.bandwidth_window, config.split_candidates_k,
                             config.image_bytes, config.bandwidth_source)
    if isinstance(config, Mercury):
        return MercurySchedule(label, inputs, config.split_after, config.reduction, config.reconstruction,
                               config.window, config.target_accuracy, prune_point=config.prune_point)
    raise ScheduleError(f"unknown schedule kind {config.kind!r}")
