"""Reducing per-request series to what a page can show: a few hundred points per schedule, computed exactly.

A million-request run would otherwise put tens of megabytes of JSON in the report. Time series are binned
(min / median / max per bin, so spikes stay visible); CDFs are exact order statistics sampled at fixed ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TIME_BINS = 400
CDF_POINTS = 500
RAW_LIMIT = 1000  # below this many requests a schedule is drawn request by request


@dataclass(frozen=True)
class Band:
    """Latency over time: ``median`` with its ``low``/``high`` envelope (all equal when not binned)."""

    time_s: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def binned(self) -> bool:
        return not np.array_equal(self.low, self.high)


def completed(records: pd.DataFrame, schedule: str) -> pd.DataFrame:
    """The schedule's completed requests (the rows latency statistics are taken over)."""
    return records[(records.schedule == schedule) & (records.status == "ok")]


def latency_band(time_s: np.ndarray, latency_ms: np.ndarray, bins: int = TIME_BINS,
                 raw_limit: int = RAW_LIMIT) -> Band:
    """Per-request points when few, else min/median/max over ``bins`` equal-width arrival-time bins."""
    order = np.argsort(time_s, kind="stable")
    t, v = np.asarray(time_s, float)[order], np.asarray(latency_ms, float)[order]
    if t.size <= raw_limit:
        return Band(t, v, v, v)
    edges = np.linspace(t[0], t[-1], bins + 1)
    index = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, bins - 1)
    grouped = pd.DataFrame({"bin": index, "v": v}).groupby("bin").v
    stats = grouped.agg(["min", "median", "max"])
    centres = (edges[:-1] + edges[1:]) / 2
    return Band(centres[stats.index.to_numpy()], stats["median"].to_numpy(), stats["min"].to_numpy(),
                stats["max"].to_numpy())


def cdf_points(values: np.ndarray, points: int = CDF_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Exact empirical CDF (value, fraction at or below) sampled at ``points`` evenly spaced ranks."""
    x = np.sort(np.asarray(values, float))
    if x.size == 0:
        return x, x
    ranks = np.unique(np.linspace(0, x.size - 1, min(points, x.size)).round().astype(np.int64))
    return x[ranks], (ranks + 1) / x.size
