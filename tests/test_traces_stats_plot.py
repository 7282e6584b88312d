"""Trace statistics on hand-checked examples, and the plotly views."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.traces.plot import cdf_figure, downsample_minmax, throughput_figure
from simulator.traces.stats import lag1_autocorrelation, trace_stats, weighted_quantile
from simulator.traces.trace import Trace


def test_time_weighted_statistics() -> None:
    # 0 Mbit/s for 1 s, then 10 Mbit/s for 3 s
    trace = Trace(np.array([0.0, 1.0]), np.array([0.0, 10.0]), 4.0)
    s = trace_stats(trace)
    assert s.mean == pytest.approx(7.5)
    assert s.outage_fraction == pytest.approx(0.25)
    # quantiles interpolate between sample midpoints of the cumulative time (0.5 s -> 0, 2.5 s -> 10)
    assert s.median == pytest.approx(7.5)
    assert s.p5 == pytest.approx(0.0)
    assert s.p95 == pytest.approx(10.0)


def test_quantile_matches_numpy_hazen_for_equal_weights() -> None:
    x = np.random.default_rng(1).random(101)
    for q in (0.05, 0.5, 0.95):
        assert weighted_quantile(x, np.ones_like(x), q) == pytest.approx(np.quantile(x, q, method="hazen"))


def test_lag1_autocorrelation() -> None:
    assert lag1_autocorrelation(np.tile([1.0, -1.0], 500)) == pytest.approx(-1.0, abs=0.01)
    assert lag1_autocorrelation(np.repeat([1.0, -1.0], 500)) == pytest.approx(1.0, abs=0.01)
    assert np.isnan(lag1_autocorrelation(np.ones(10)))


def test_downsampling_keeps_extremes() -> None:
    x = np.ones(100_000)
    x[12_345] = 0.0
    x[54_321] = 99.0
    t, v = downsample_minmax(np.arange(x.size) * 0.1, x, 1000)
    assert v.size <= 1000 and v.min() == 0.0 and v.max() == 99.0 and np.all(np.diff(t) > 0)


def test_figures() -> None:
    trace = Trace(np.arange(50_000) * 0.1, np.abs(np.sin(np.arange(50_000) / 100)) * 50, 5000.0, name="s")
    fig = throughput_figure([trace])
    assert len(fig.data) == 1 and len(fig.data[0].x) <= 4000 and fig.data[0].name == "s"
    cdf = cdf_figure([trace])
    assert cdf.data[0].y[-1] == pytest.approx(1.0) and np.all(np.diff(cdf.data[0].y) >= 0)
