"""Interval math: coverage of known normal samples at the stated rate, over many seeded repetitions.

Each test draws ``REPEATS`` samples from a generator with a fixed seed, so the outcome is the same on every
run; the tolerance is about three binomial standard errors of the coverage estimate, sqrt(p(1-p)/REPEATS).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.intervals import bootstrap_difference, t_interval


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


def test_unpaired_bootstrap_covers_a_difference_of_means() -> None:
    repeats, n = 300, 200
    rng = np.random.default_rng(2024)
    hits = 0
    for i in range(repeats):
        a, b = rng.normal(100, 20, n), rng.normal(103, 10, n)
        _, low, high = bootstrap_difference(a, b, lambda x: x.mean(axis=1), paired=False, seed=i)
        hits += low <= 3.0 <= high
    tolerance = 3 * np.sqrt(0.95 * 0.05 / repeats)  # 0.038
    assert abs(hits / repeats - 0.95) <= tolerance, hits / repeats


def test_paired_bootstrap_uses_the_pairing() -> None:
    """Paired requests sharing most of their variation: the paired interval covers the true shift at the
    stated rate and is far narrower than the unpaired one."""
    repeats, n = 300, 200
    rng = np.random.default_rng(7)
    hits, ratio = 0, []
    for i in range(repeats):
        common = rng.normal(500, 100, n)
        a, b = common + rng.normal(0, 5, n), common + 2.0 + rng.normal(0, 5, n)
        _, low, high = bootstrap_difference(a, b, lambda x: x.mean(axis=1), paired=True, seed=i)
        _, ulow, uhigh = bootstrap_difference(a, b, lambda x: x.mean(axis=1), paired=False, seed=i)
        hits += low <= 2.0 <= high
        ratio.append((high - low) / (uhigh - ulow))
    assert abs(hits / repeats - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / repeats), hits / repeats
    assert np.median(ratio) < 0.1


def test_identical_inputs_give_zero_width() -> None:
    x = np.random.default_rng(1).exponential(100, 500)
    for statistic in (lambda v: v.mean(axis=1), lambda v: np.percentile(v, 95, axis=1)):
        assert bootstrap_difference(x, x.copy(), statistic, paired=True) == (0.0, 0.0, 0.0)
