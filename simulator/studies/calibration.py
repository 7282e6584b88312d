"""A/A and known-effect studies of ``compare``'s intervals: how often they call identical configurations
different (should be about 5 % at 95 %), and how often they find an effect that is there (power).

Each seed of a pool is run once (each configuration once per seed); a comparison draws ``seeds_per_side``
seeds for each side, distinct within the comparison, from the pool with a fixed generator, so the study is
reproducible. Comparisons drawn from one pool share seeds, so they are not fully independent: the share
they estimate is unbiased, but its spread is somewhat wider than a binomial interval says.

Only (schedule, statistic) pairs whose value varies across the pool count: a deterministic statistic (a
device that computes the same for every frame) gives the same number on both sides, a zero-wide interval
at zero, and would flatter the share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.analysis.compare import interval, same_up_to_rounding
from simulator.config.scenario import Scenario
from simulator.model.replications import with_seed

StudiedStatistics = ("mean_ms", "p95_ms", "deadline_miss_rate")
STUDY_SEED = 20261206


@dataclass
class Tally:
    """Intervals that excluded zero, out of those drawn, for one statistic."""

    excluded: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return self.excluded / self.total if self.total else float("nan")

    def wilson(self, level: float = 0.95) -> tuple[float, float]:
        """The share's Wilson interval (scipy's binomial test)."""
        from scipy.stats import binomtest

        if not self.total:
            return float("nan"), float("nan")
        ci = binomtest(self.excluded, self.total).proportion_ci(level, method="wilson")
        return float(ci.low), float(ci.high)


@dataclass
class Study:
    """Per statistic, how many 95 % intervals excluded zero."""

    comparisons: int
    seeds_per_side: int
    tallies: dict[str, Tally] = field(default_factory=lambda: {s: Tally() for s in StudiedStatistics})


def seed_statistics(scenario: Scenario, seeds: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """Each seed's summary (schedule -> statistics), one run per seed."""
    from simulator.model.runner import run_scenario

    return {seed: run_scenario(with_seed(scenario, seed)).summary for seed in seeds}


def _values(pool: dict[int, dict[str, dict[str, Any]]], seeds: np.ndarray, schedule: str,
            statistic: str) -> np.ndarray:
    out = []
    for seed in seeds.tolist():
        value = pool[seed].get(schedule, {}).get(statistic)
        out.append(float(value) if isinstance(value, int | float) else np.nan)
    return np.array(out)


def _varies(pool: dict[int, dict[str, dict[str, Any]]], schedule: str, statistic: str) -> bool:
    values = _values(pool, np.array(list(pool)), schedule, statistic)
    values = values[np.isfinite(values)]
    return values.size > 1 and not same_up_to_rounding(values)


def study(pool_a: dict[int, dict[str, dict[str, Any]]], pool_b: dict[int, dict[str, dict[str, Any]]] | None = None,
          *, seeds_per_side: int, comparisons: int, paired: bool = False, seed: int = STUDY_SEED,
          on_interval: Callable[[str, str, float, float, float], None] | None = None) -> Study:
    """Draw ``comparisons`` comparisons of side A (``pool_a``) with side B (``pool_b``; A itself for an A/A
    study) and count the intervals that exclude zero. Unpaired: 2k distinct seeds, k per side; paired: k
    seeds, the same on both sides (``pool_b`` then holds another configuration run on the same seeds)."""
    pool_b = pool_a if pool_b is None else pool_b
    seeds = np.array(sorted(set(pool_a) & set(pool_b)))
    needed = seeds_per_side if paired else 2 * seeds_per_side
    if seeds.size < needed:
        raise ValueError(f"a pool of {seeds.size} seeds cannot give {needed} distinct seeds per comparison")
    rng = np.random.default_rng(seed)
    schedules = list(next(iter(pool_a.values())))
    result = Study(comparisons, seeds_per_side)
    counted = [(s, stat) for s in schedules for stat in StudiedStatistics
               if _varies(pool_a, s, stat) or _varies(pool_b, s, stat)]
    for _ in range(comparisons):
        drawn = rng.choice(seeds, size=needed, replace=False)
        side_a, side_b = (drawn, drawn) if paired else (drawn[:seeds_per_side], drawn[seeds_per_side:])
        for schedule, statistic in counted:
            a = _values(pool_a, side_a, schedule, statistic)
            b = _values(pool_b, side_b, schedule, statistic)
            difference, low, high, _ = interval(a, b, paired=paired, statistic=statistic)
            if not (np.isfinite(low) and np.isfinite(high)):
                continue
            tally = result.tallies[statistic]
            tally.total += 1
            tally.excluded += int(low > 0 or high < 0)
            if on_interval is not None:
                on_interval(schedule, statistic, difference, low, high)
    return result
