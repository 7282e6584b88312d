"""Replications: one scenario run once per seed, and the summary over seeds that is the unit of evidence.

A single run's requests share one stretch of the trace (its start offset) and one arrival pattern, so they
are strongly correlated and say little about how much a result varies; the seeds of a replicated run are
independent draws of everything random, so a statistic's spread across seeds is what an interval must
reflect. A replicated summary gives each statistic's mean over the seeds where it has a value, its 95 %
Student t interval clipped to the statistic's range (:func:`simulator.analysis.aggregate.over_seeds`) and that
count (``<statistic>_ci``, ``<statistic>_n``); counts of requests are totals over seeds. Each seed's own
summary is kept beside it (``per_seed``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from simulator.config.scenario import Scenario
from simulator.errors import InputError

SEED_COLUMN = "seed"
# Summary entries that add up over seeds; every other number is averaged.
TOTALS = ("requests", "count", "dropped", "unfinished", "accuracy_unknown", "accuracy_interpolated",
          "energy_unknown")
# What a schedule chose: kept when every seed chose the same, "varies" otherwise.
CHOSEN = ("split_after", "parameter")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")
MAX_SEEDS = 100_000


def parse_seeds(text: str, *, option: str = "--seeds") -> list[int]:
    """``1-10``, ``1,2,5`` or ``1-3,7`` as a list of distinct seeds in the order given; InputError otherwise."""
    seeds: list[int] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if match is None:
            raise InputError(None, f"{option} takes seeds like 1-10 or 1,2,5, not {text!r}", option)
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise InputError(None, f"{option}: the range {part.strip()} runs backwards", option)
        if len(seeds) + last - first + 1 > MAX_SEEDS:
            raise InputError(None, f"{option}: more than {MAX_SEEDS:,} seeds", option)
        seeds.extend(range(first, last + 1))
    if len(set(seeds)) != len(seeds):
        raise InputError(None, f"{option}: a seed is named twice in {text!r}", option)
    return seeds


def with_seeds(scenario: Scenario, seeds: list[int]) -> Scenario:
    """The scenario replicated over ``seeds`` (one seed stays a plain number)."""
    value: int | list[int] = seeds[0] if len(seeds) == 1 else list(seeds)
    return scenario.model_copy(update={"workload": scenario.workload.model_copy(update={"seed": value})})


def with_seed(scenario: Scenario, seed: int) -> Scenario:
    """One replication of the scenario: the same scenario with a single seed."""
    return with_seeds(scenario, [seed])


def _numbers(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None or isinstance(v, str) else float(v) for v in values], float)


def _chosen(values: list[Any]) -> Any:
    distinct = {v for v in values if v is not None}
    return None if not distinct else distinct.pop() if len(distinct) == 1 else "varies"


def _mean_entry(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """One schedule's statistics over seeds: totals summed, numbers averaged with an interval, dicts by key."""
    from simulator.analysis.aggregate import over_seeds

    out: dict[str, Any] = {}
    keys = list(dict.fromkeys(key for entry in entries for key in entry))
    for key in keys:
        values = [entry.get(key) for entry in entries]
        if key in TOTALS:
            out[key] = int(sum(v for v in values if v is not None))
        elif key in CHOSEN:
            out[key] = _chosen(values)
        elif any(isinstance(v, dict) for v in values):
            out[key] = _nested_mean(values)
        else:
            agg = over_seeds(_numbers(values), key)
            out[key] = None if agg["n"] == 0 else agg["mean"]
            out[f"{key}_ci"] = [_or_none(agg["low"]), _or_none(agg["high"])]
            out[f"{key}_n"] = agg["n"]
    return out


def _nested_mean(values: list[Any]) -> Any:
    """A part of a nested entry (components, energy parts, loads) over seeds: numbers averaged, mappings part
    by part, text kept when the same."""
    if any(isinstance(v, dict) for v in values):
        parts = list(dict.fromkeys(part for v in values if isinstance(v, dict) for part in v))
        return {part: _nested_mean([v.get(part) if isinstance(v, dict) else None for v in values])
                for part in parts}
    if any(isinstance(v, str) for v in values):
        return _chosen(values)
    return _finite_mean(values)


def _finite_mean(values: list[Any]) -> float | None:
    from simulator.analysis.aggregate import finite_mean

    mean = finite_mean(_numbers(values))
    return mean if np.isfinite(mean) else None


def _or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def combine_summaries(per_seed: dict[int, dict[str, Any]], schedules: list[str]) -> dict[str, Any]:
    """The summary of a replicated run from each seed's summary (schedule -> entry), in schedule order."""
    return {name: _mean_entry([summary[name] for summary in per_seed.values()]) for name in schedules}
