"""The comparison page (``compare.html``): the differences with their intervals, a forest plot per
statistic, then what was compared; built only from ``compare.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from simulator.errors import InputError
from simulator.report.figures import TEMPLATE, schedule_color
from simulator.report.html import Section, code_cell, figure_block, page, plotly_loader, table, td

PAGE_NAME = "compare.html"
LABELS = {"mean_ms": ("mean (ms)", 1, 1.0), "p50_ms": ("p50 (ms)", 1, 1.0), "p95_ms": ("p95 (ms)", 1, 1.0),
          "deadline_miss_rate": ("deadline miss (%)", 2, 100.0), "mean_accuracy": ("top-1 (%)", 2, 1.0),
          "mean_energy_j": ("mobile energy (J)", 3, 1.0)}


def _number(value: Any, decimals: int, scale: float) -> str:
    if not isinstance(value, int | float) or not np.isfinite(value):
        return "–"
    return f"{value * scale:.{decimals}f}"


def differences_table(rows: list[dict[str, Any]]) -> str:
    body = []
    for row in rows:
        label, decimals, scale = LABELS[row["statistic"]]
        interval = f"[{_number(row['ci_low'], decimals, scale)}, {_number(row['ci_high'], decimals, scale)}]"
        values = (f'<td class="num">{_number(row[k], decimals, scale)}</td>' for k in ("a", "b", "difference"))
        body.append([td(row["run"]), td(row["schedule"]), td(label), *values,
                     f'<td class="num" data-statistic="{row["statistic"]}">{interval}</td>', td(row["method"])])
    return table(["run", "schedule", "statistic", "baseline", "run value", "difference", "95 % interval",
                  "method"], body).replace("<table>", '<table id="compare-table">', 1)


def _reach(high: Any, low: Any) -> float | None:
    """An error bar's length; none where the comparison gave no interval (a side of one seed)."""
    if not all(isinstance(v, int | float) and np.isfinite(v) for v in (high, low)):
        return None
    return float(high - low)


def forest_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """Per compared run, the difference for every schedule with its interval; a menu picks the statistic."""
    statistics = [s for s in LABELS if any(r["statistic"] == s for r in rows)]
    runs = list(dict.fromkeys(r["run"] for r in rows))

    def series(run: str, statistic: str) -> tuple[list, list, dict]:
        picked = [r for r in rows if r["run"] == run and r["statistic"] == statistic]
        x = [r["difference"] for r in picked]
        error = {"type": "data", "symmetric": False, "visible": True,
                 "array": [_reach(r["ci_high"], r["difference"]) for r in picked],
                 "arrayminus": [_reach(r["difference"], r["ci_low"]) for r in picked]}
        return x, [r["schedule"] for r in picked], error

    fig = go.Figure()
    for i, run in enumerate(runs):
        x, y, error = series(run, statistics[0])
        fig.add_trace(go.Scatter(x=x, y=y, error_x=error, mode="markers", name=run,
                                 marker={"color": schedule_color(i), "size": 10}))
    buttons = []
    for statistic in statistics:
        triples = [series(run, statistic) for run in runs]
        buttons.append({"label": LABELS[statistic][0], "method": "update",
                        "args": [{"x": [t[0] for t in triples], "y": [t[1] for t in triples],
                                  "error_x": [t[2] for t in triples]},
                                 {"xaxis.title.text": f"difference in {LABELS[statistic][0]} (run − baseline)"}]})
    fig.add_vline(x=0, line={"color": "#888", "dash": "dot"})
    fig.update_layout(title="Differences from the baseline, 95 % t intervals over seeds", template=TEMPLATE,
                      xaxis_title=f"difference in {LABELS[statistics[0]][0]} (run − baseline)",
                      yaxis_title="schedule", yaxis_type="category", legend={"orientation": "h", "y": -0.2},
                      margin={"t": 90, "b": 40},
                      updatemenus=[{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.18,
                                    "yanchor": "top"}])
    return fig


def runs_table(document: dict[str, Any]) -> str:
    import shlex

    rows = []
    for i, run in enumerate(document["runs"]):
        command = run.get("command")
        rows.append([td("baseline" if i == 0 else f"run {i}"), td(run["name"]), code_cell(run["folder"]),
                     td(_seeds(run)), code_cell(run.get("git_commit") or "–"),
                     code_cell(shlex.join(map(str, command)) if command else "–")])
    return table(["role", "scenario", "folder", "seeds", "git commit", "command"], rows)


def _seeds(run: dict[str, Any]) -> str:
    """``1-10``, ``1, 3, 7`` or one seed (older comparisons stored one ``seed``)."""
    seeds = run.get("seeds", [run.get("seed")])
    consecutive = all(isinstance(s, int) for s in seeds) and seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    if len(seeds) > 2 and consecutive:
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def write_compare_page(folder: Path, *, self_contained: bool = False) -> Path:
    """(Re)write ``folder/compare.html`` from ``compare.json``."""
    from html import escape

    from simulator.files.atomic import atomic_write_text

    path = Path(folder) / "compare.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        rows = document["differences"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(path, f"cannot read a comparison: {exc}") from None
    sections = [Section("differences", "Differences",
                        f"<p>{escape(document.get('method', ''))}.</p>"
                        + "".join(f"<p class=\"note\">{escape(note)}.</p>" for note in document.get("notes") or [])
                        + differences_table(rows))]
    if rows:
        sections.append(Section("forest", "Differences per schedule", figure_block("forest", forest_figure(rows))))
    sections.append(Section("runs", "What was compared", runs_table(document)))
    names = " vs ".join(run["name"] for run in document["runs"])
    target = Path(folder) / PAGE_NAME
    atomic_write_text(target, page(f"mercury-sim compare: {names}", sections, **plotly_loader(folder, self_contained)))
    return target
