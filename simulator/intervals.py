"""Confidence intervals: Student t over a few seeds, percentile bootstrap over many requests.

Seeds are few (3-10) and each seed's statistic is an average over many requests, so close to normal: the t
interval is the right tool there (a bootstrap over three seeds cannot reach its level), clipped to the
statistic's range. Differences between two runs are taken over requests whose statistics
(percentiles, rates) have no simple standard error: a percentile bootstrap with a fixed generator seed, so
the same runs always give the same interval.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20240607
_CHUNK_VALUES = 2_000_000  # resampled values held at once (16 MB), whatever the number of requests


Bounds = tuple[float, float]
UNBOUNDED: Bounds = (-np.inf, np.inf)


def t_interval(values: np.ndarray, level: float = LEVEL, bounds: Bounds = UNBOUNDED) -> tuple[float, float]:
    """``mean ± t(1-(1-level)/2, n-1) · s / √n`` over the finite values, clipped to ``bounds``; NaN bounds
    below two finite values.

    Clipping to the range the statistic cannot leave (a latency's ``[0, inf)``, a rate's ``[0, 1]``) only
    removes impossible values: the true mean lies in the range, so whenever the t interval covers it the
    clipped one does too, and coverage cannot fall.
    """
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return float("nan"), float("nan")
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    low, high = bounds
    return float(np.clip(mean - half, low, high)), float(np.clip(mean + half, low, high))


Statistic = Callable[[np.ndarray], np.ndarray]  # rows of resampled values -> one statistic per row


def bootstrap_difference(a: np.ndarray, b: np.ndarray, statistic: Statistic, *, paired: bool,
                         resamples: int = BOOTSTRAP_RESAMPLES, level: float = LEVEL,
                         seed: int = BOOTSTRAP_SEED) -> tuple[float, float, float]:
    """``statistic(b) - statistic(a)`` and its percentile-bootstrap interval.

    Paired: ``a[i]`` and ``b[i]`` are the same request, resampled together (identical inputs give a
    zero-width interval). Unpaired: each side is resampled on its own.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    point = float(statistic(b[None, :])[0] - statistic(a[None, :])[0])
    if a.size == 0 or b.size == 0 or (paired and a.size != b.size):
        return point, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    diffs = []
    chunk = max(1, _CHUNK_VALUES // max(a.size, b.size))
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        index_a = rng.integers(0, a.size, size=(size, a.size))
        index_b = index_a if paired else rng.integers(0, b.size, size=(size, b.size))
        diffs.append(statistic(b[index_b]) - statistic(a[index_a]))
    spread = np.concatenate(diffs)
    spread = spread[np.isfinite(spread)]
    if spread.size == 0:
        return point, float("nan"), float("nan")
    low, high = np.quantile(spread, [0.5 - level / 2, 0.5 + level / 2])
    return point, float(low), float(high)
