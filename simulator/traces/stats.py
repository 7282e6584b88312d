"""Summary statistics of a trace: the numbers the synthetic fit is judged by.

All statistics are time-weighted (a sample counts for as long as it lasts), so traces with uneven
sampling compare fairly; the lag-1 autocorrelation is taken over consecutive samples, i.e. at the trace's
native sample period (0.1 s for the Ghoshal set and the synthetic traces).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass

import numpy as np

from simulator.traces.trace import Trace

OUTAGE_MBPS = 1.0
# The columns of ``traces stats --csv`` and of a folder import's stats.csv (which adds its own after these).
STATS_COLUMNS = ("trace", "source", "samples", "sample_period_s", "duration_s", "mean_mbps", "median_mbps",
                 "p5_mbps", "p95_mbps", "outage_fraction", "lag1_autocorr")


@dataclass(frozen=True)
class TraceStats:
    """Time-weighted summary of one trace (Mbit/s unless named otherwise)."""

    name: str
    samples: int
    sample_period_s: float
    duration_s: float
    mean: float
    median: float
    p5: float
    p95: float
    outage_fraction: float
    lag1_autocorr: float

    def as_dict(self) -> dict:
        return asdict(self)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile of the time-weighted distribution (the value below which a fraction ``q`` of time lies).

    Linear interpolation between sample midpoints of the cumulative weight; for equal weights this is
    the 'hazen' definition of ``np.percentile``.
    """
    order = np.argsort(values, kind="stable")
    v = values[order]
    w = weights[order]
    cum = np.cumsum(w) - 0.5 * w
    return float(np.interp(q * w.sum(), cum, v))


def lag1_autocorrelation(x: np.ndarray) -> float:
    """Pearson correlation of consecutive samples (nan for fewer than 3 samples or a constant trace)."""
    if x.size < 3:
        return float("nan")
    a, b = x[:-1] - x.mean(), x[1:] - x.mean()
    denom = float(np.dot(x - x.mean(), x - x.mean()))
    return float(np.dot(a, b) / denom) if denom > 0 else float("nan")


def trace_stats(trace: Trace, name: str | None = None) -> TraceStats:
    """Statistics of one pass of ``trace``."""
    bounds = np.append(trace.times_s, trace.duration_s)
    weights = np.diff(bounds)
    x = trace.mbps
    return TraceStats(
        name=name or trace.name,
        samples=int(x.size),
        sample_period_s=float(np.median(weights)),
        duration_s=float(trace.duration_s),
        mean=trace.mean_mbps,
        median=weighted_quantile(x, weights, 0.5),
        p5=weighted_quantile(x, weights, 0.05),
        p95=weighted_quantile(x, weights, 0.95),
        outage_fraction=float(weights[x < OUTAGE_MBPS].sum() / weights.sum()),
        lag1_autocorr=lag1_autocorrelation(x),
    )


def samples_stats(mbps: np.ndarray, period_s: float, name: str) -> TraceStats:
    """Statistics of evenly spaced samples (no Trace needed)."""
    x = np.asarray(mbps, dtype=np.float64)
    trace = Trace(np.arange(x.size) * period_s, x, x.size * period_s, "loop", name)
    return trace_stats(trace, name)


def stats_csv(rows: list[TraceStats], sources: list[str], extra: dict[str, list] | None = None) -> str:
    """The statistics as CSV text: STATS_COLUMNS, then one column per ``extra`` entry (a value per row).

    Numbers carry 6 significant digits, a NaN (the lag-1 autocorrelation of a constant trace) is empty.
    """
    extra = extra or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*STATS_COLUMNS, *extra))
    for i, (r, source) in enumerate(zip(rows, sources, strict=True)):
        writer.writerow([r.name, source, r.samples, *(_num(v) for v in (
            r.sample_period_s, r.duration_s, r.mean, r.median, r.p5, r.p95, r.outage_fraction, r.lag1_autocorr)),
            *(values[i] for values in extra.values())])
    return out.getvalue()


def _num(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6g}"
