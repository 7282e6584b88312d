"""The schedule kinds registered beyond the shipped ones: kind -> (config model, builder).

Kept apart from the package's ``build_schedule`` so that :mod:`simulator.schedules.plugins`, which watches
what a plugin registers, reads it without importing the package that loads plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from simulator.config.scenario import SCHEDULE_KINDS
from simulator.plans.plan import Schedule
from simulator.schedules.base import ScheduleInputs

Builder = Callable[[Any, ScheduleInputs], Schedule]

_PLUGINS: dict[str, tuple[type[BaseModel] | None, Builder]] = {}


def register_schedule(kind: str, builder: Builder, config: type[BaseModel] | None = None) -> None:
    """Make ``kind`` usable in scenario files: ``builder(config, inputs)`` returns the schedule object.

    ``config`` (a pydantic model) checks the entry's keys; without one the builder gets the raw entry.
    """
    if kind in SCHEDULE_KINDS:
        raise ValueError(f"{kind!r} is a shipped schedule kind")
    _PLUGINS[kind] = (config, builder)


def registrations() -> dict[str, tuple[type[BaseModel] | None, Builder]]:
    """Every registered kind and its (config model, builder): the registration itself, so a kind registered
    again is told apart by identity (simulator/schedules/plugins.py)."""
    return dict(_PLUGINS)
