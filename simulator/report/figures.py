"""The report's figures, one function each, built only from a stored run (see :mod:`simulator.report.stored`).

Figures follow the Mercury paper's: latency breakdown (Fig. 6), latency over time against bandwidth
(Fig. 7), accuracy vs latency (Fig. 8), mobile energy (Fig. 9), plus latency CDFs. Each is a plain plotly.js
figure spec (``{"data": [...], "layout": {...}}``, numpy arrays left for the page's encoder), so a run's
report never imports plotly's Python figure classes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simulator.report.plotly_assets import template
from simulator.report.series import cdf_points, completed, latency_band, request_span, time_bins
from simulator.traces.downsample import downsample_rows
from simulator.traces.replay_window import ReplayWindow

Figure = dict[str, Any]
TEMPLATE = "plotly_white"
TRACE_POINTS = 2000
# plotly's qualitative "Plotly" colour sequence, the colours its figures cycle through
PALETTE = ("#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880", "#FF97FF",
           "#FECB52")
# Fig. 6's segments: label -> summary component columns summed into it
SEGMENTS: dict[str, tuple[str, ...]] = {
    "mobile compute": ("mobile_ms",),
    "uplink": ("uplink_ms",),
    "cloud": ("cloud_ms",),
    "result return": ("return_ms",),
    "queueing": ("mobile_queue_ms", "uplink_queue_ms", "cloud_queue_ms"),
}
# tick labels written out ("1,000", "20,000"), not mixed with SI suffixes ("1000", "10k", "1M")
PLAIN_NUMBERS: dict[str, Any] = {"exponentformat": "none", "separatethousands": True}
LOG_AXIS: dict[str, Any] = {"type": "log", **PLAIN_NUMBERS}


def log_axis(*values: Any) -> dict[str, Any]:
    """A log axis ticked at 1, 2 and 5 times the powers of ten the values span, every tick written out
    ("200", "1,000", "5,000"): plotly's own minor labels are lone digits ("3", "4") a reader must decode."""
    x = np.concatenate([np.asarray(v, float).ravel() for v in values]) if values else np.array([])
    x = x[np.isfinite(x) & (x > 0)]
    if not x.size:
        return dict(LOG_AXIS)
    low, high = math.floor(math.log10(x.min())), math.ceil(math.log10(x.max()))
    ticks = [m * 10.0 ** k for k in range(low, high + 1) for m in (1, 2, 5)]
    ticks = [t for t in ticks if x.min() / 2 <= t <= x.max() * 2]
    return {**LOG_AXIS, "tickmode": "array", "tickvals": ticks, "ticktext": [f"{t:,.10g}" for t in ticks]}


def schedule_color(index: int, alpha: float = 1.0) -> str:
    """The same colour for a schedule's line and its band."""
    colour = PALETTE[index % len(PALETTE)]
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _entries(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return summary.get("schedules", {})


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


def _figure(data: list[dict[str, Any]], title: str, x: str, y: str, *, xaxis: dict[str, Any] | None = None,
            yaxis: dict[str, Any] | None = None, **extra: Any) -> Figure:
    """The spec with the layout every report figure shares: white template, legend below, titled axes."""
    layout = {"template": template(TEMPLATE), "title": {"text": title},
              "xaxis": {"title": {"text": x}, **(xaxis or {})}, "yaxis": {"title": {"text": y}, **(yaxis or {})},
              "legend": {"orientation": "h", "y": -0.2}, "margin": {"t": 60, "b": 40}, **extra}
    return {"data": data, "layout": layout}


def breakdown_figure(summary: dict[str, Any]) -> Figure:
    """Stacked mean latency components per schedule (completed requests)."""
    entries = _entries(summary)
    labels = list(entries)
    bars = []
    for segment, columns in SEGMENTS.items():
        means = [sum(_num((entries[s].get("components_mean_ms") or {}).get(c)) for c in columns)
                 for s in labels]
        bars.append({"type": "bar", "name": segment, "x": labels, "y": means})
    return _figure(bars, "Mean latency breakdown per schedule", "schedule", "mean latency (ms)", barmode="stack")


def latency_time_figure(records: pd.DataFrame, schedules: list[str], trace: ReplayWindow | None) -> Figure:
    """End-to-end latency against arrival time per schedule, the replayed bandwidth on a second axis.

    The x axis spans the requests, from the first arrival to the last completion (the bandwidth then still
    matters to requests in flight). Each request is a point while every schedule has few; beyond that all
    schedules share one grid of round-width bins, drawn as median line and min-max band, and the title names
    the bin width."""
    rows = [completed(records, name) for name in schedules]
    bins = time_bins([r.arrival_s.to_numpy() for r in rows])
    data: list[dict[str, Any]] = []
    for i, (name, done) in enumerate(zip(schedules, rows, strict=True)):
        band = latency_band(done.arrival_s.to_numpy(), done.total_ms.to_numpy(), bins)
        group = f"schedule-{i}"
        if not band.binned:
            data.append({"type": "scatter", "x": band.time_s, "y": band.median, "mode": "markers", "name": name,
                         "legendgroup": group, "marker": {"color": schedule_color(i), "size": 5}})
            continue
        edge = {"width": 0, "color": schedule_color(i)}
        data.append({"type": "scatter", "x": band.time_s, "y": band.high, "mode": "lines", "line": edge,
                     "legendgroup": group, "showlegend": False, "hoverinfo": "skip", "name": name})
        data.append({"type": "scatter", "x": band.time_s, "y": band.low, "mode": "lines", "line": edge,
                     "fill": "tonexty", "fillcolor": schedule_color(i, 0.2), "legendgroup": group,
                     "showlegend": False, "hoverinfo": "skip", "name": name})
        data.append({"type": "scatter", "x": band.time_s, "y": band.median, "mode": "lines", "name": name,
                     "legendgroup": group, "line": {"color": schedule_color(i)}})
    extra: dict[str, Any] = {}
    if trace is not None and len(trace):
        t, v = downsample_rows(len(trace), trace.rows, TRACE_POINTS)
        data.append({"type": "scatter", "x": t, "y": v, "mode": "lines", "name": "uplink bandwidth",
                     "yaxis": "y2", "line": {"color": "rgba(90,90,90,0.35)", "width": 1, "shape": "hv"}})
        # an overlaying axis syncs its ticks to the left axis's by default: odd values, crowded on a log axis
        extra["yaxis2"] = {"title": {"text": "uplink bandwidth (Mbit/s)"}, "overlaying": "y", "side": "right",
                           "showgrid": False, "rangemode": "tozero", "tickmode": "auto"}
    span = request_span(records, schedules)
    title = "Latency over time" + (f" (median per {bins.width_s:g} s bin, min-max band)" if bins else "")
    return _figure(data, title, "time since the run's start (s), requests at their arrival",
                   "end-to-end latency (ms, log scale)",
                   xaxis={**PLAIN_NUMBERS, **({"range": list(span)} if span else {})},
                   yaxis=log_axis(*(completed(records, name).total_ms.to_numpy() for name in schedules)), **extra)


def latency_cdf_figure(records: pd.DataFrame, schedules: list[str], deadline_ms: float | None = None) -> Figure:
    """Empirical CDF of end-to-end latency per schedule (exact, sampled at fixed ranks): which schedule is
    fastest, and, at the deadline's line, the share of its completed requests that meet it."""
    data = []
    for name in schedules:
        x, y = cdf_points(completed(records, name).total_ms.to_numpy())
        data.append({"type": "scatter", "x": x, "y": y, "mode": "lines", "line": {"shape": "hv"}, "name": name})
    extra: dict[str, Any] = {}
    if deadline_ms is not None:
        extra["shapes"] = [{"type": "line", "xref": "x", "yref": "paper", "x0": deadline_ms, "x1": deadline_ms,
                            "y0": 0, "y1": 1, "line": {"color": "#cf222e", "width": 1.5, "dash": "dash"},
                            "label": {"text": f"deadline {deadline_ms:g} ms", "textposition": "end",
                                      "textangle": 0, "xanchor": "left", "yanchor": "top",
                                      "font": {"color": "#cf222e"}}}]
    return _figure(data, "Latency CDF (completed requests)", "end-to-end latency (ms, log scale)",
                   "fraction of requests", xaxis=log_axis(*(d["x"] for d in data)), yaxis={"range": [0, 1.02]},
                   **extra)


def _point_label(name: str, entry: dict[str, Any]) -> str:
    parameter = entry.get("parameter")
    return name if parameter is None else f"{name} ({parameter})"


def accuracy_latency_figure(summary: dict[str, Any]) -> Figure:
    """One point per schedule/parameter: mean latency against mean top-1 accuracy."""
    data = [{"type": "scatter", "x": [_num(entry.get("mean_ms"))], "y": [_num(entry.get("mean_accuracy"))],
             "mode": "markers+text", "text": [_point_label(name, entry)], "textposition": "top center",
             "marker": {"size": 12}, "name": name} for name, entry in _entries(summary).items()]
    return _figure(data, "Accuracy vs latency", "mean latency (ms)", "mean top-1 accuracy (%)")


def energy_unknown(summary: dict[str, Any]) -> list[str]:
    """The schedules whose energy is unknown (the profile states no power): the energy figure leaves them out."""
    return [name for name, entry in _entries(summary).items() if entry.get("energy_unknown")]


def energy_figure(summary: dict[str, Any]) -> Figure:
    """Mean mobile energy per completed request, per schedule, stacked by component when the run has them.

    A schedule whose energy is unknown is left out rather than drawn from its known parts, which would read
    as its whole energy."""
    unknown = energy_unknown(summary)
    entries = {name: entry for name, entry in _entries(summary).items() if name not in unknown}
    labels = list(entries)
    parts = ("compute", "radio", "tail", "idle")
    if not all(isinstance(e.get("energy_mean_j"), dict) for e in entries.values()):
        return _figure([{"type": "bar", "x": labels, "y": [_num(e.get("mean_energy_j")) for e in entries.values()],
                         "name": "mobile energy"}], "Mobile energy per request", "schedule", "mean energy (J)")
    names = {"compute": "compute", "radio": "radio (sending)", "tail": "radio (RRC tail)", "idle": "idle"}
    bars = [{"type": "bar", "x": labels, "y": [_num(e["energy_mean_j"].get(p)) for e in entries.values()],
             "name": names[p]} for p in parts]
    return _figure(bars, "Mobile energy per request", "schedule", "mean energy (J)", barmode="stack")
