"""Reducing per-request series to what a page can show: a few hundred points per schedule, computed exactly.

A million-request run would otherwise put tens of megabytes of JSON in the report. Time series are binned
(min / median / max per bin, so spikes stay visible); CDFs are exact order statistics sampled at fixed ranks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

TIME_BINS = 400
CDF_POINTS = 500
RAW_LIMIT = 1000  # up to this many requests in every schedule, the time figure draws each request


@dataclass(frozen=True)
class Band:
    """Latency over time: ``median`` with its ``low``/``high`` envelope per bin of ``bin_s`` seconds, or the
    requests themselves (all three equal) when ``bin_s`` is None."""

    time_s: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    bin_s: float | None = None

    @property
    def binned(self) -> bool:
        return self.bin_s is not None


@dataclass(frozen=True)
class TimeBins:
    """``count`` bins of ``width_s`` seconds from ``start_s``, the last closed on the right; one grid for every
    schedule of a figure, so a single bin width describes it."""

    start_s: float
    width_s: float
    count: int

    @classmethod
    def over(cls, first_s: float, last_s: float, bins: int = TIME_BINS) -> TimeBins:
        """At most ``bins`` bins covering [first_s, last_s], of a round width (1, 2 or 5 x 10^k s) a reader
        can take in from the label."""
        span = last_s - first_s
        width = round_width(span / bins)
        return cls(first_s, width, max(1, min(bins, math.ceil(span / width))))

    def index(self, time_s: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((time_s - self.start_s) / self.width_s), 0, self.count - 1).astype(np.int64)


def round_width(rough: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above ``rough`` (1 when ``rough`` is not positive)."""
    if not rough > 0:
        return 1.0
    scale = 10.0 ** math.floor(math.log10(rough))
    return next(m * scale for m in (1, 2, 5, 10) if m * scale >= rough)


def completed(records: pd.DataFrame, schedule: str) -> pd.DataFrame:
    """The schedule's completed requests (the rows latency statistics are taken over)."""
    return records[(records.schedule == schedule) & (records.status == "ok")]


def time_bins(arrivals: list[np.ndarray], bins: int = TIME_BINS, raw_limit: int = RAW_LIMIT) -> TimeBins | None:
    """Bins over all the arrivals when any schedule has more than ``raw_limit`` requests, else None (each
    request drawn)."""
    if not arrivals or max(a.size for a in arrivals) <= raw_limit:
        return None
    joined = np.concatenate(arrivals)
    return TimeBins.over(float(joined.min()), float(joined.max()), bins)


def request_span(records: pd.DataFrame, schedules: list[str]) -> tuple[float, float] | None:
    """From the schedules' first arrival to their last completion (seconds since the run's start); None when
    they have no requests."""
    rows = records[records.schedule.isin(schedules)]
    if not len(rows):
        return None
    done = rows[rows.status == "ok"]
    end = float((done.arrival_s + done.total_ms / 1e3).max()) if len(done) else float(rows.arrival_s.max())
    return float(rows.arrival_s.min()), end


def latency_band(time_s: np.ndarray, latency_ms: np.ndarray, bins: TimeBins | None = None) -> Band:
    """Per-request points without ``bins``, else min/median/max per bin (plotted at the bin's centre)."""
    order = np.argsort(time_s, kind="stable")
    t, v = np.asarray(time_s, float)[order], np.asarray(latency_ms, float)[order]
    if bins is None:
        return Band(t, v, v, v)
    stats = pd.DataFrame({"bin": bins.index(t), "v": v}).groupby("bin").v.agg(["min", "median", "max"])
    centres = bins.start_s + (stats.index.to_numpy() + 0.5) * bins.width_s
    return Band(centres, stats["median"].to_numpy(), stats["min"].to_numpy(), stats["max"].to_numpy(),
                bins.width_s)


def cdf_points(values: np.ndarray, points: int = CDF_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Exact empirical CDF (value, fraction at or below) sampled at ``points`` evenly spaced ranks."""
    x = np.sort(np.asarray(values, float))
    if x.size == 0:
        return x, x
    ranks = np.unique(np.linspace(0, x.size - 1, min(points, x.size)).round().astype(np.int64))
    return x[ranks], (ranks + 1) / x.size
