"""The sweep page (``sweep.html``), built only from a sweep's folder, as the run report is from a run's.

Per axis, every statistic against the axis value per schedule: the mean over seeds of the average over the
other axes, with a 95 % t interval over seeds; accuracy-latency frontiers per schedule (the paper's Fig. 8
for any sweep); a heat map over the first two axes. The seed-aggregated table comes first; what ran and the
inputs' provenance last.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from functools import cached_property
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import yaml

from simulator.analysis.aggregate import INTERVAL_NOTE, label_axes, over_seeds
from simulator.config.sweep_axes import axis_columns, seed_axes
from simulator.errors import InputError, read_warnings
from simulator.report.figures import TEMPLATE, schedule_color
from simulator.report.html import Section, code_cell, figure_block, page, plotly_loader, provenance, table, td

PAGE_NAME = "sweep.html"
REQUIRED = ("sweep.json", "sweep.parquet", "sweep-summary.parquet")
# statistic -> axis title, the choices of every axis figure (the first is shown)
PLOTTED = {"mean_ms": "mean latency (ms)", "p95_ms": "p95 latency (ms)", "deadline_miss_rate": "deadline-miss rate",
           "mean_accuracy": "mean top-1 accuracy (%)", "mean_energy_j": "mobile energy per request (J)"}
SHOWN = (("mean_ms", "mean (ms)", 1, 1.0), ("p95_ms", "p95 (ms)", 1, 1.0),
         ("deadline_miss_rate", "deadline miss (%)", 2, 100.0), ("mean_accuracy", "top-1 (%)", 2, 1.0),
         ("mean_energy_j", "energy (J)", 3, 1.0), ("parameter", "chosen parameter (mean)", 3, 1.0))


@dataclass(frozen=True)
class StoredSweep:
    folder: Path
    document: dict[str, Any]
    table: pd.DataFrame
    summary: pd.DataFrame

    @property
    def axes(self) -> list[str]:
        """The grid's axes (a paired axis is one, plotted against its joined labels)."""
        return list(self.document["sweep"]["grid"])

    @cached_property
    def labelled(self) -> pd.DataFrame:
        """The table with its axes shown by readable labels (a paired axis: a column of joined labels)."""
        return label_axes(self.table, self.axes)

    @property
    def varied(self) -> list[str]:
        """The axes other than seeds."""
        return [a for a in self.axes if a not in seed_axes(self.axes)]

    @property
    def varied_columns(self) -> list[str]:
        """The summary's columns of the varied axes: one per key."""
        return axis_columns(self.varied)

    @property
    def schedules(self) -> list[str]:
        return list(dict.fromkeys(self.table["schedule"])) if len(self.table) else []


def load_sweep_folder(folder: Path) -> StoredSweep:
    """Read what ``write_sweep`` stored; a missing or unreadable file is an InputError naming it."""
    folder = Path(folder)
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise InputError(folder, f"not a sweep folder: missing {', '.join(missing)}")
    try:
        document = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
        grid = document["sweep"]["grid"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(folder / "sweep.json", f"cannot read a sweep document: {exc}") from None
    if not isinstance(grid, dict):
        raise InputError(folder / "sweep.json", "expected sweep.grid to be an object")
    frames = []
    for name in REQUIRED[1:]:
        try:
            frames.append(pd.read_parquet(folder / name))
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise InputError(folder / name, f"cannot read parquet: {exc}") from None
    return StoredSweep(folder, document, *frames)


def _numeric_axis(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values)


def _layout(fig: go.Figure, title: str, x: str, y: str, **extra: Any) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, template=TEMPLATE,
                      legend={"orientation": "h", "y": -0.2}, margin={"t": 90, "b": 40}, **extra)
    return fig


def axis_series(sweep: StoredSweep, axis: str, statistic: str) -> dict[str, pd.DataFrame]:
    """Per schedule: axis value -> mean over seeds (of the average over the other axes), CI bounds."""
    table = sweep.labelled
    seeds = seed_axes(sweep.axes)
    out = {}
    for schedule in sweep.schedules:
        rows = table[table.schedule == schedule]
        per_seed = rows.groupby([axis, *seeds], sort=False, dropna=False)[statistic].mean().reset_index()
        stats = []
        for value, group in per_seed.groupby(axis, sort=False, dropna=False):
            agg = over_seeds(group[statistic].to_numpy(float), statistic)
            stats.append({"x": value, "mean": agg["mean"], "low": agg["low"], "high": agg["high"], "n": agg["n"]})
        frame = pd.DataFrame(stats)
        if _numeric_axis(table[axis]):
            frame = frame.sort_values("x", kind="stable")
        out[schedule] = frame
    return out


def _error_bars(frame: pd.DataFrame) -> dict[str, Any]:
    return {"type": "data", "symmetric": False, "array": (frame["high"] - frame["mean"]).tolist(),
            "arrayminus": (frame["mean"] - frame["low"]).tolist(), "visible": True}


def axis_figure(sweep: StoredSweep, axis: str) -> go.Figure:
    """One line per schedule; a menu switches the statistic (mean, p95, misses, accuracy, energy)."""
    choices = [s for s in PLOTTED if s in sweep.table.columns and sweep.table[s].notna().any()]
    series = {s: axis_series(sweep, axis, s) for s in choices}
    first = choices[0]
    fig = go.Figure()
    for i, schedule in enumerate(sweep.schedules):
        frame = series[first][schedule]
        fig.add_trace(go.Scatter(x=frame["x"].tolist(), y=frame["mean"].tolist(), mode="lines+markers",
                                 name=schedule, error_y=_error_bars(frame), line={"color": schedule_color(i)}))
    buttons = [{"label": PLOTTED[s], "method": "update",
                "args": [{"y": [series[s][n]["mean"].tolist() for n in sweep.schedules],
                          "error_y": [_error_bars(series[s][n]) for n in sweep.schedules]},
                         {"yaxis.title.text": PLOTTED[s]}]} for s in choices]
    categorical = {} if _numeric_axis(sweep.labelled[axis]) else {"xaxis_type": "category"}
    return _layout(fig, f"Against {axis} (mean over seeds, 95 % t interval)", axis, PLOTTED[first],
                   updatemenus=[{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.18, "yanchor": "top"}],
                   **categorical)


def pareto_front(latency: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both (lower latency and higher accuracy), by latency."""
    order = np.lexsort((-accuracy, latency))
    front, best = [], -np.inf
    for index in order:
        if np.isfinite(latency[index]) and np.isfinite(accuracy[index]) and accuracy[index] > best:
            front.append(index)
            best = accuracy[index]
    return np.asarray(front, dtype=int)


def frontier_figure(sweep: StoredSweep) -> go.Figure:
    """Every seed-aggregated point per schedule, and the schedule's accuracy-latency frontier through them."""
    fig = go.Figure()
    summary = sweep.summary
    for i, schedule in enumerate(sweep.schedules):
        rows = summary[summary.schedule == schedule]
        latency, accuracy = rows["mean_ms"].to_numpy(float), rows["mean_accuracy"].to_numpy(float)
        labels = [", ".join(f"{a}={row[a]}" for a in sweep.varied_columns) for _, row in rows.iterrows()]
        group = f"schedule-{i}"
        fig.add_trace(go.Scatter(x=latency, y=accuracy, mode="markers", name=schedule, text=labels,
                                 legendgroup=group, marker={"color": schedule_color(i, 0.45), "size": 8}))
        front = pareto_front(latency, accuracy)
        fig.add_trace(go.Scatter(x=latency[front], y=accuracy[front], mode="lines+markers", line_shape="hv",
                                 name=f"{schedule} frontier", legendgroup=group, showlegend=False,
                                 line={"color": schedule_color(i)}, marker={"color": schedule_color(i)},
                                 text=[labels[j] for j in front]))
    return _layout(fig, "Accuracy vs latency: every point, and each schedule's frontier", "mean latency (ms)",
                   "mean top-1 accuracy (%)")


def heatmap_figure(sweep: StoredSweep, statistic: str = "mean_ms") -> go.Figure:
    """The statistic over the first two axes (averaged over seeds and any further axes), one schedule shown
    at a time (menu)."""
    x_axis, y_axis = sweep.varied[:2]
    table = sweep.labelled
    fig = go.Figure()
    for i, schedule in enumerate(sweep.schedules):
        grid = (table[table.schedule == schedule].groupby([y_axis, x_axis], sort=False, dropna=False)[statistic]
                .mean().unstack(x_axis))
        for axis, frame_axis in ((x_axis, 1), (y_axis, 0)):
            if _numeric_axis(table[axis]):
                grid = grid.sort_index(axis=frame_axis)
        fig.add_trace(go.Heatmap(z=grid.to_numpy().tolist(), x=[str(v) for v in grid.columns],
                                 y=[str(v) for v in grid.index], name=schedule, visible=i == 0,
                                 colorbar={"title": PLOTTED[statistic]}, colorscale="Viridis"))
    count = len(sweep.schedules)
    buttons = [{"label": s, "method": "update", "args": [{"visible": [j == i for j in range(count)]}]}
               for i, s in enumerate(sweep.schedules)]
    return _layout(fig, f"{PLOTTED[statistic]} over {x_axis} and {y_axis} (mean over seeds)", x_axis, y_axis,
                   xaxis_type="category", yaxis_type="category",
                   updatemenus=[{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.18, "yanchor": "top"}])


def _cell(value: Any, decimals: int, scale: float, low: Any = None, high: Any = None, n: Any = None,
          seeds: Any = None) -> str:
    """A mean [interval]; "(n of N seeds)" when the statistic has a value at fewer seeds than ran."""
    if not isinstance(value, int | float | np.number) or not np.isfinite(value):
        return '<td class="num">–</td>'
    text = f"{value * scale:.{decimals}f}"
    if isinstance(low, float | np.floating) and np.isfinite(low):
        text += f" [{low * scale:.{decimals}f}, {high * scale:.{decimals}f}]"
    if _known(n) and _known(seeds) and n < seeds:
        text += f" ({int(n)} of {int(seeds)} seeds)"
    return f'<td class="num">{text}</td>'


def _known(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and bool(np.isfinite(value))


def summary_table(sweep: StoredSweep) -> str:
    """The seed-aggregated table: axes, schedule, seeds, then each statistic's mean [95 % interval]."""
    summary = sweep.summary
    shown = [s for s in SHOWN if s[0] in summary.columns]
    rows = []
    for _, row in summary.iterrows():
        cells = [td(row[a]) for a in sweep.varied_columns] + [td(row["schedule"]), _cell(row["n"], 0, 1.0)]
        cells += [_cell(row[k], d, f, row.get(f"{k}_ci_low"), row.get(f"{k}_ci_high"), row.get(f"{k}_n"), row["n"])
                  for k, _, d, f in shown]
        rows.append(cells)
    headers = [*sweep.varied_columns, "schedule", "seeds", *(h for _, h, _, _ in shown)]
    return (f"<p>{INTERVAL_NOTE}. Every value: mean over seeds [interval].</p>"
            + table(headers, rows).replace("<table>", '<table id="sweep-summary-table">', 1))


def details(sweep: StoredSweep) -> str:
    """What ran: the sweep file, the points, how they ran, the command and the inputs' hashes."""
    d = sweep.document
    command = d.get("command")
    facts = [("sweep", d["sweep"].get("name")), ("sweep file", d.get("sweep_file")),
             ("scenario file", d.get("scenario_file")), ("points", len(d.get("points", []))),
             ("computed now / reused from earlier runs", f"{d.get('computed')} / {d.get('reused')}"),
             ("executor", d.get("executor")), ("mercury-sim version", d.get("mercury_sim_version")),
             ("git commit", d.get("git_commit") or "not from a git checkout"),
             ("command", shlex.join(str(c) for c in command) if command else "not recorded")]
    facts_html = table([], ([f"<th>{k}</th>", code_cell(v)] for k, v in facts))
    inputs = table(["input", "sha256"], ([code_cell(p), code_cell(h)] for p, h in
                                         (d.get("inputs_sha256") or {}).items()))
    spec = yaml.safe_dump(d["sweep"], sort_keys=False, allow_unicode=True, width=100)
    return f"{facts_html}<h3>Input files</h3>{inputs}<h3>Sweep file (as validated)</h3><pre>{escape(spec)}</pre>"


def warnings_list(sweep: StoredSweep) -> str:
    """What the sweep warned of (a seed axis that changes nothing, ...); empty when nothing."""
    items = "".join(f'<li data-code="{escape(w.code)}"><code>{escape(w.code)}</code> {escape(w.message)}</li>'
                    for w in read_warnings(sweep.document.get("warnings")))
    return f'<ul class="warnings" id="sweep-warnings">{items}</ul>' if items else ""


def failures(sweep: StoredSweep) -> str:
    rows = ([td(f.get("point")), td(", ".join(f"{k}={v!r}" for k, v in (f.get("values") or {}).items())),
             td(f.get("error"))] for f in sweep.document.get("failures", []))
    return table(["point", "values", "error"], rows)


def sections(sweep: StoredSweep) -> list[Section]:
    """Results first (the table, then what went wrong, then the figures); what ran and its inputs last."""
    out = [Section("summary", "Summary over seeds", summary_table(sweep))]
    if warnings := warnings_list(sweep):
        out.append(Section("warnings", "Warnings", warnings))
    if sweep.document.get("failures"):
        out.append(Section("failures", "Failed points", failures(sweep)))
    if len(sweep.table):
        for i, axis in enumerate(sweep.varied):
            out.append(Section(f"axis-{i}", f"Against {axis}", figure_block(f"axis-{i}", axis_figure(sweep, axis))))
        if "mean_accuracy" in sweep.table.columns:
            out.append(Section("frontier", "Accuracy-latency frontiers",
                               figure_block("frontier", frontier_figure(sweep))))
        if len(sweep.varied) >= 2:
            out.append(Section("heatmap", "Heat map", figure_block("heatmap", heatmap_figure(sweep))))
    out.append(Section("sweep", "What was run", details(sweep)))
    out.append(Section("provenance", "Provenance of inputs", provenance(sweep.document)))
    return out


def write_sweep_page(folder: Path, *, self_contained: bool = False) -> Path:
    """(Re)write ``folder/sweep.html`` atomically from the sweep's stored files; returns its path."""
    from simulator.files.atomic import atomic_write_text

    sweep = load_sweep_folder(folder)
    target = Path(folder) / PAGE_NAME
    html = page(f"mercury-sim sweep: {sweep.document['sweep'].get('name')}", sections(sweep),
                **plotly_loader(folder, self_contained))
    atomic_write_text(target, html)
    return target
