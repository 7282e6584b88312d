"""Comparing runs: per schedule, how much each side differs from the first, with 95 % intervals over seeds.

The unit of evidence is a seed: a run's requests share one stretch of the trace and one arrival pattern, so
they are strongly correlated, and an interval drawn from the requests of one run ignores the largest source
of variation, the one between seeds (an A/A study of the default scenario, single runs with a block
bootstrap over requests, called identical configurations different in 27 % of comparisons). So:

- both sides replicated over the **same seeds** (common random numbers: the same arrivals and trace offsets
  per seed): the per-seed differences ``b(s) - a(s)`` are independent across seeds, and their Student t
  interval (paired) removes what both sides share; a side compared with itself gives zero, zero-wide;
- otherwise, each side with **two or more seeds**: Welch's t interval for the difference of the means over
  seeds (unpaired);
- **one seed** on a side: no interval; the difference is shown and the method says how to get one.

Each side's per-seed statistics are those of its ``summary.json`` (mean, p50 and p95 of the latency of
completed requests, deadline-miss rate over all requests, mean accuracy and mobile energy of completed
requests), so a difference is exactly the one the summaries show. Intervals are clipped to the range a
difference of the statistic can take (a rate's difference to [-1, 1], a latency's to (-inf, inf)).

A side is a run folder (``mercury-sim run``, replicated or not) or a configuration of a sweep folder (every
combination of its axes other than the seed axis), named by its axis values; :mod:`simulator.results.comparison`
reads the sides from those folders and writes the comparison's own.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simulator.analysis.aggregate import finite_mean, statistic_bounds
from simulator.analysis.intervals import LEVEL
from simulator.errors import RunWarning

STATISTICS: dict[str, str] = {"mean_ms": "mean (ms)", "p50_ms": "p50 (ms)", "p95_ms": "p95 (ms)",
                              "deadline_miss_rate": "deadline-miss rate", "mean_accuracy": "top-1 (%)",
                              "mean_energy_j": "mobile energy (J)"}
PAIRED, UNPAIRED, ONE_SEED = "paired over seeds", "unpaired (Welch)", "no interval: one seed"
RECOMMENDED_SEEDS = 10
METHOD_NOTE = (f"{LEVEL:.0%} Student t intervals over seeds: paired (per-seed differences) when both sides ran "
               "the same seeds, else Welch's unpaired interval; none for a side with a single seed (requests of "
               f"one run are correlated; run both sides with --seeds 1-{RECOMMENDED_SEEDS}). Clipped to the "
               "range a difference can take")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: per seed, each schedule's statistics, and what identifies it."""

    folder: Path
    name: str
    per_seed: dict[int, dict[str, dict[str, Any]]]  # seed -> schedule -> summary entry
    schedules: list[str]
    deadline_ms: float | None
    manifest: dict[str, Any] = field(default_factory=dict)
    warnings: list[RunWarning] = field(default_factory=list)
    configuration: dict[str, Any] | None = None  # a sweep's: its axis values

    @property
    def seeds(self) -> list[int]:
        return list(self.per_seed)

    def has(self, schedule: str, statistic: str) -> bool:
        """Whether some seed's summary holds the statistic (as a value, or null: unknown)."""
        return any(statistic in entries.get(schedule, {}) for entries in self.per_seed.values())

    def values(self, schedule: str, statistic: str) -> np.ndarray:
        """The statistic per seed (in seed order), NaN where a seed has no value."""
        return np.array([_number(self.per_seed[s].get(schedule, {}).get(statistic)) for s in self.seeds])


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")


def difference_bounds(statistic: str) -> tuple[float, float]:
    """The range a difference of ``statistic`` can take: ``[low - high, high - low]`` of its own range."""
    low, high = statistic_bounds(statistic)
    return low - high, high - low


def interval(a: np.ndarray, b: np.ndarray, *, paired: bool, statistic: str) -> tuple[float, float, float, str]:
    """``mean(b) - mean(a)``, its clipped 95 % t interval and the method; NaN bounds when a side has one seed."""
    if paired:
        finite = np.isfinite(a) & np.isfinite(b)
        a, b = a[finite], b[finite]
    else:
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan"), float("nan"), "no value"
    point = float(b.mean() - a.mean())
    if same_up_to_rounding(np.concatenate([a, b])):  # the same on every seed of both sides, up to rounding
        point = 0.0
    if paired and a.size >= 2:
        d = b - a
        if same_up_to_rounding(d):  # every seed shifted alike: the interval is that shift
            low = high = point
        else:
            low, high = stats.ttest_rel(b, a).confidence_interval(LEVEL)
        method = f"{PAIRED} ({a.size})"
    elif not paired and a.size >= 2 and b.size >= 2:
        if same_up_to_rounding(a) and same_up_to_rounding(b):
            low = high = point
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # one side constant: Welch still holds
                low, high = stats.ttest_ind(b, a, equal_var=False).confidence_interval(LEVEL)
        method = f"{UNPAIRED} ({a.size} vs {b.size})"
    else:
        return point, float("nan"), float("nan"), ONE_SEED
    lowest, highest = difference_bounds(statistic)
    return point, float(np.clip(low, lowest, highest)), float(np.clip(high, lowest, highest)), method


def same_up_to_rounding(x: np.ndarray) -> bool:
    """Equal up to rounding (sums taken in another order differ in the last bits; a t interval then says
    nothing but that rounding)."""
    return bool(np.ptp(x) <= 1e-9 * max(1.0, float(np.abs(x).max())))


def is_paired(a: Side, b: Side) -> bool:
    """Both sides ran the same two or more seeds (one common seed cannot give an interval)."""
    return len(a.seeds) >= 2 and sorted(a.seeds) == sorted(b.seeds)


def compare(a: Side, b: Side) -> pd.DataFrame:
    """One row per (schedule both ran, statistic): each side's mean over seeds, b − a and its interval."""
    paired = is_paired(a, b)
    order = sorted(a.seeds) if paired else None
    rows = []
    for schedule in [s for s in a.schedules if s in b.schedules]:
        for statistic in STATISTICS:
            x = _ordered(a, schedule, statistic, order)
            y = _ordered(b, schedule, statistic, order)
            if not (a.has(schedule, statistic) or b.has(schedule, statistic)):
                continue  # neither side computes the statistic (no deadline): no row; an unknown one stays
            difference, low, high, method = interval(x, y, paired=paired, statistic=statistic)
            rows.append({"run": b.name, "schedule": schedule, "statistic": statistic, "a": finite_mean(x),
                         "b": finite_mean(y), "difference": difference, "ci_low": low, "ci_high": high,
                         "n_a": int(np.isfinite(x).sum()), "n_b": int(np.isfinite(y).sum()), "method": method})
    return pd.DataFrame(rows)


def _ordered(side: Side, schedule: str, statistic: str, order: list[int] | None) -> np.ndarray:
    values = side.values(schedule, statistic)
    if order is None:
        return values
    where = {seed: i for i, seed in enumerate(side.seeds)}
    return values[[where[seed] for seed in order]]


def distinct_names(sides: list[Side]) -> list[Side]:
    """Sides of one scenario share its name: those are told apart by folder (then by path)."""
    names = [s.name for s in sides]
    for describe in (lambda s, name: f"{name} ({s.folder.name})", lambda s, name: f"{name} ({s.folder})"):
        shown = [s.name for s in sides]
        sides = [replace(s, name=describe(s, name)) if shown.count(s.name) > 1 else s
                 for s, name in zip(sides, names, strict=True)]
    return sides


def one_seed_note(sides: list[Side]) -> str | None:
    """The line that says why some differences have no interval and how to get one, if any have none."""
    single = [s.name for s in sides if len(s.seeds) < 2]
    if not single:
        return None
    return (f"no interval where a side has one seed ({', '.join(single)}): the requests of one run share one "
            "stretch of the trace, so they cannot show how results vary; replicate both sides with --seeds "
            f"1-{RECOMMENDED_SEEDS} (or a workload.seed list) and compare again")
