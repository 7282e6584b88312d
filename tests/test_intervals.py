"""Interval math: coverage of known normal samples at the stated rate, over many seeded repetitions.

Each test draws ``REPEATS`` samples from a generator with a fixed seed, so the outcome is the same on every
run; the tolerance is about three binomial standard errors of the coverage estimate, sqrt(p(1-p)/REPEATS).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.analysis.compare import interval
from simulator.analysis.intervals import t_interval


def test_t_interval_by_hand() -> None:
    low, high = t_interval(np.array([1.0, 2.0, 3.0]))
    half = 4.302652729749464 / np.sqrt(3)  # t(0.975, 2) from tables, s = 1
    assert (low, high) == pytest.approx((2 - half, 2 + half), rel=1e-9)
    assert np.isnan(t_interval(np.array([5.0]))).all()


@pytest.mark.parametrize("n", [3, 5, 20])
def test_t_interval_covers_the_mean_95_percent(n: int) -> None:
    repeats, mean = 4000, 10.0
    rng = np.random.default_rng(12345 + n)
    samples = rng.normal(mean, 2.0, size=(repeats, n))
    bounds = np.array([t_interval(row) for row in samples])
    coverage = np.mean((bounds[:, 0] <= mean) & (mean <= bounds[:, 1]))
    tolerance = 3 * np.sqrt(0.95 * 0.05 / repeats)  # 0.0103
    assert abs(coverage - 0.95) <= tolerance, coverage


@pytest.mark.parametrize("n", [3, 10])
def test_welch_covers_a_difference_of_means(n: int) -> None:
    """Unequal spreads, few seeds a side: Welch's interval covers the true difference at the stated rate."""
    repeats = 2000
    rng = np.random.default_rng(2024 + n)
    hits = 0
    for _ in range(repeats):
        a, b = rng.normal(100, 20, n), rng.normal(103, 5, n)
        _, low, high, method = interval(a, b, paired=False, statistic="mean_ms")
        hits += low <= 3.0 <= high
    assert method.startswith("unpaired")
    assert abs(hits / repeats - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / repeats), hits / repeats


def test_paired_interval_uses_the_pairing() -> None:
    """Seeds sharing most of their variation: the paired interval covers the true shift at the stated rate
    and is far narrower than the unpaired one."""
    repeats, n = 2000, 5
    rng = np.random.default_rng(7)
    hits, ratio = 0, []
    for _ in range(repeats):
        common = rng.normal(500, 100, n)
        a, b = common + rng.normal(0, 5, n), common + 2.0 + rng.normal(0, 5, n)
        _, low, high, _ = interval(a, b, paired=True, statistic="mean_ms")
        _, ulow, uhigh, _ = interval(a, b, paired=False, statistic="mean_ms")
        hits += low <= 2.0 <= high
        ratio.append((high - low) / (uhigh - ulow))
    assert abs(hits / repeats - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / repeats), hits / repeats
    assert np.median(ratio) < 0.1


def test_identical_sides_give_zero_width_and_one_seed_none() -> None:
    x = np.random.default_rng(1).exponential(100, 5)
    assert interval(x, x.copy(), paired=True, statistic="p95_ms")[:3] == (0.0, 0.0, 0.0)
    difference, low, high, _ = interval(x[:1], x[1:2], paired=False, statistic="p95_ms")
    assert difference == x[1] - x[0] and np.isnan(low) and np.isnan(high)


def test_rate_differences_stay_in_minus_one_to_one() -> None:
    a, b = np.array([0.0, 0.0, 0.9]), np.array([1.0, 1.0, 0.95])
    _, low, high, _ = interval(a, b, paired=False, statistic="deadline_miss_rate")
    assert low >= -1.0 and high == 1.0  # the unclipped t interval reaches past 1
