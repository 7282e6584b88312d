"""Plotly views of traces (throughput over time, CDF), as figures an HTML report can embed.

Long traces are downsampled for the time plot by keeping each window's min and max (so outages and peaks
stay visible) instead of plotting every 0.1 s sample; the CDF is time-weighted like the statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from simulator.traces.downsample import MAX_POINTS, downsample_minmax
from simulator.traces.trace import Trace


def throughput_figure(traces: Sequence[Trace], title: str = "Uplink capacity",
                      max_points: int = MAX_POINTS) -> go.Figure:
    """Capacity (Mbit/s) over time, one step line per trace."""
    fig = go.Figure()
    for trace in traces:
        t, v = downsample_minmax(trace.times_s, trace.mbps, max_points)
        fig.add_trace(go.Scattergl(x=t, y=v, mode="lines", line_shape="hv", name=trace.name))
    fig.update_layout(title=title, xaxis_title="time (s)", yaxis_title="capacity (Mbit/s)",
                      template="plotly_white")
    return fig


def cdf_figure(traces: Sequence[Trace], title: str = "Capacity CDF (time-weighted)") -> go.Figure:
    """Fraction of time with capacity at or below x, one curve per trace."""
    fig = go.Figure()
    for trace in traces:
        weights = np.diff(np.append(trace.times_s, trace.duration_s))
        order = np.argsort(trace.mbps, kind="stable")
        x = trace.mbps[order]
        y = np.cumsum(weights[order]) / weights.sum()
        if x.size > MAX_POINTS:
            keep = np.unique(np.linspace(0, x.size - 1, MAX_POINTS).astype(np.int64))
            x, y = x[keep], y[keep]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line_shape="hv", name=trace.name))
    fig.update_layout(title=title, xaxis_title="capacity (Mbit/s)", yaxis_title="fraction of time",
                      yaxis_range=[0, 1], template="plotly_white")
    return fig
