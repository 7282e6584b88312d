"""The report's figures, one function each, built only from a stored run (see :mod:`simulator.report.stored`).

Figures follow the Mercury paper's: latency breakdown (Fig. 6), latency over time against bandwidth
(Fig. 7), accuracy vs latency (Fig. 8), mobile energy (Fig. 9), plus latency CDFs.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, qualitative

from simulator.report.series import cdf_points, completed, latency_band
from simulator.traces.plot import downsample_minmax

TEMPLATE = "plotly_white"
TRACE_POINTS = 2000
# Fig. 6's segments: label -> summary component columns summed into it
SEGMENTS: dict[str, tuple[str, ...]] = {
    "mobile compute": ("mobile_ms",),
    "uplink": ("uplink_ms",),
    "cloud": ("cloud_ms",),
    "result return": ("return_ms",),
    "queueing": ("mobile_queue_ms", "uplink_queue_ms", "cloud_queue_ms"),
}


def schedule_color(index: int, alpha: float = 1.0) -> str:
    """The same colour for a schedule's line and its band."""
    r, g, b = hex_to_rgb(qualitative.Plotly[index % len(qualitative.Plotly)])
    return f"rgba({r},{g},{b},{alpha})"


def _entries(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return summary.get("schedules", {})


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


def _layout(fig: go.Figure, title: str, x: str, y: str, **extra: Any) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, template=TEMPLATE,
                      legend={"orientation": "h", "y": -0.2}, margin={"t": 60, "b": 40}, **extra)
    return fig


def breakdown_figure(summary: dict[str, Any]) -> go.Figure:
    """Stacked mean latency components per schedule (completed requests)."""
    entries = _entries(summary)
    labels = list(entries)
    fig = go.Figure()
    for segment, columns in SEGMENTS.items():
        means = [sum(_num((entries[s].get("components_mean_ms") or {}).get(c)) for c in columns)
                 for s in labels]
        fig.add_trace(go.Bar(name=segment, x=labels, y=means))
    return _layout(fig, "Mean latency breakdown per schedule", "schedule", "mean latency (ms)",
                   barmode="stack")


def latency_time_figure(records: pd.DataFrame, schedules: list[str], trace: pd.DataFrame | None) -> go.Figure:
    """End-to-end latency against arrival time per schedule, the replayed bandwidth on a second axis."""
    fig = go.Figure()
    for i, name in enumerate(schedules):
        rows = completed(records, name)
        band = latency_band(rows.arrival_s.to_numpy(), rows.total_ms.to_numpy())
        group = f"schedule-{i}"
        if band.binned:
            edge = {"width": 0, "color": schedule_color(i)}
            fig.add_trace(go.Scatter(x=band.time_s, y=band.high, mode="lines", line=edge, legendgroup=group,
                                     showlegend=False, hoverinfo="skip", name=name))
            fig.add_trace(go.Scatter(x=band.time_s, y=band.low, mode="lines", line=edge, fill="tonexty",
                                     fillcolor=schedule_color(i, 0.2), legendgroup=group, showlegend=False,
                                     hoverinfo="skip", name=name))
        fig.add_trace(go.Scatter(x=band.time_s, y=band.median, mode="lines", name=name, legendgroup=group,
                                 line={"color": schedule_color(i)}))
    extra: dict[str, Any] = {}
    if trace is not None and len(trace):
        t, v = downsample_minmax(trace.time_s.to_numpy(float), trace.mbps.to_numpy(float), TRACE_POINTS)
        fig.add_trace(go.Scatter(x=t, y=v, mode="lines", line_shape="hv", name="uplink bandwidth",
                                 yaxis="y2", line={"color": "rgba(90,90,90,0.35)", "width": 1}))
        extra["yaxis2"] = {"title": "bandwidth (Mbit/s)", "overlaying": "y", "side": "right",
                           "showgrid": False, "rangemode": "tozero"}
    return _layout(fig, "Latency over time (log scale; many requests: per-bin median, min-max band)",
                   "arrival time (s)", "end-to-end latency (ms)", yaxis_type="log", **extra)


def latency_cdf_figure(records: pd.DataFrame, schedules: list[str]) -> go.Figure:
    """Empirical CDF of end-to-end latency per schedule (exact, sampled at fixed ranks)."""
    fig = go.Figure()
    for name in schedules:
        x, y = cdf_points(completed(records, name).total_ms.to_numpy())
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line_shape="hv", name=name))
    return _layout(fig, "Latency CDF (completed requests)", "end-to-end latency (ms, log scale)",
                   "fraction of requests", yaxis_range=[0, 1.02], xaxis_type="log")


def _point_label(name: str, entry: dict[str, Any]) -> str:
    parameter = entry.get("parameter")
    return name if parameter is None else f"{name} ({parameter})"


def accuracy_latency_figure(summary: dict[str, Any]) -> go.Figure:
    """One point per schedule/parameter: mean latency against mean top-1 accuracy."""
    fig = go.Figure()
    for name, entry in _entries(summary).items():
        fig.add_trace(go.Scatter(x=[_num(entry.get("mean_ms"))], y=[_num(entry.get("mean_accuracy"))],
                                 mode="markers+text", text=[_point_label(name, entry)],
                                 textposition="top center", marker={"size": 12}, name=name))
    return _layout(fig, "Accuracy vs latency", "mean latency (ms)", "mean top-1 accuracy (%)")


def energy_figure(summary: dict[str, Any]) -> go.Figure:
    """Mean mobile energy per completed request, per schedule, stacked by component when the run has them."""
    entries = _entries(summary)
    parts = ("compute", "radio", "tail", "idle")
    if not all(isinstance(e.get("energy_mean_j"), dict) for e in entries.values()):
        fig = go.Figure(go.Bar(x=list(entries), y=[_num(e.get("mean_energy_j")) for e in entries.values()],
                               name="mobile energy"))
    else:
        names = {"compute": "compute", "radio": "radio (sending)", "tail": "radio (RRC tail)", "idle": "idle"}
        fig = go.Figure([go.Bar(x=list(entries), y=[_num(e["energy_mean_j"].get(p)) for e in entries.values()],
                                name=names[p]) for p in parts])
        fig.update_layout(barmode="stack")
    return _layout(fig, "Mobile energy per request", "schedule", "mean energy (J)")

