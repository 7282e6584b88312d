"""Confidence intervals over seeds: Student t, clipped to the statistic's range.

Seeds are few (3-10) and each seed's statistic is an average over many requests, so close to normal: the t
interval is the right tool there (a bootstrap over three seeds cannot reach its level). Differences between
runs (:mod:`simulator.analysis.compare`) are intervals over seeds too.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

LEVEL = 0.95


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
