"""Page assembly: one HTML file per page, every user string escaped; plotly.js either inlined
(self-contained) or written once per folder as ``plotly-<version>.min.js`` beside the pages that load it.

Figure data goes into ``<script type="application/json">`` blocks with ``<``, ``>`` and ``&`` written as
JSON ``\\u`` escapes, so no label can close the script element; the page holds no generation timestamp,
so the same results folder always gives the same bytes.
"""

from __future__ import annotations

import base64
import json
import math
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simulator.errors import read_warnings
from simulator.report import plotly_assets

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1rem 2rem;color:#222}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.8rem}
code{font-size:.85rem;word-break:break-all}.figure{height:460px}
.verdict-pass{color:#1a7f37;font-weight:600}.verdict-fail{color:#cf222e;font-weight:600}.verdict-known{color:#9a6700;font-weight:600}
nav a{margin-right:.8rem}.warnings li{color:#9a6700}
"""

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_safe_json(value: Any) -> str:
    """JSON that cannot end or alter the ``<script>`` element holding it."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    for char, code in _JSON_ESCAPES.items():
        text = text.replace(char, code)
    return text


@dataclass(frozen=True)
class Column:
    """A summary-table column: which summary key, how it is printed (value x scale, fixed decimals)."""

    key: str
    header: str
    decimals: int = 1
    scale: float = 1.0


SUMMARY_COLUMNS = (
    Column("requests", "requests", 0), Column("count", "completed", 0), Column("dropped", "dropped", 0),
    Column("mean_ms", "mean (ms)"), Column("p50_ms", "p50 (ms)"), Column("p95_ms", "p95 (ms)"),
    Column("p99_ms", "p99 (ms)"), Column("max_ms", "max (ms)"),
    Column("deadline_miss_rate", "deadline miss (%)", 2, 100.0),
    Column("mean_accuracy", "top-1 (%)", 2), Column("mean_energy_j", "mobile energy (J)", 3),
    Column("mean_uplink_bytes", "uplink (kB)", 1, 1e-3),
)


@dataclass(frozen=True)
class Section:
    """One ``<section>``: anchor id, heading, and its already-escaped body."""

    anchor: str
    title: str
    body: str


def table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A table from cell HTML that callers escaped (headers are escaped here; none gives no header row)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def td(text: Any) -> str:
    return f"<td>{escape(str(text))}</td>"


def code_cell(text: Any) -> str:
    return f"<td><code>{escape(str(text))}</code></td>"


def number_cell(value: Any, column: Column, interval: Any = None) -> str:
    """A right-aligned number carrying key, scale and decimals, so it can be checked against summary.json;
    under it, a replicated run's 95 % interval over seeds."""
    attrs = f'class="num" data-key="{escape(column.key)}" data-scale="{column.scale:g}" ' \
            f'data-decimals="{column.decimals}"'
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f"<td {attrs}>–</td>"
    shown = f"{value * column.scale:.{column.decimals}f}"
    if isinstance(interval, list) and len(interval) == 2 and all(isinstance(v, int | float) for v in interval):
        low, high = (f"{v * column.scale:.{column.decimals}f}" for v in interval)
        shown += f'<br><small class="ci">[{low}, {high}]</small>'
    return f"<td {attrs}>{shown}</td>"


ORACLE_COLUMN = Column("oracle_gap_ms", "to the oracle (ms)")


def summary_table(summary: dict[str, Any]) -> str:
    rows = []
    entries = summary.get("schedules", {})
    columns = SUMMARY_COLUMNS + ((ORACLE_COLUMN,) if any("oracle_gap_ms" in e for e in entries.values()) else ())
    for name, entry in entries.items():
        cells = [f'<th scope="row" data-schedule="{escape(name)}">{escape(name)}</th>']
        cells += [number_cell(entry.get(c.key), c, entry.get(f"{c.key}_ci")) for c in columns]
        rows.append(cells)
    seeds = summary.get("seeds") or []
    note = (f"<p>Means over {len(seeds)} seeds; under each, its 95 % Student t interval over the seeds, clipped "
            "to the statistic's range. Counts are totals over seeds.</p>") if len(seeds) > 1 else ""
    return note + table(["schedule", *(c.header for c in columns)], rows).replace(
        "<table>", '<table id="summary-table">', 1)


def run_details(manifest: dict[str, Any], summary: dict[str, Any]) -> str:
    """Scenario, version, commit, seeds and command line (the warnings, the inputs and the resolved YAML have
    sections of their own)."""
    command = manifest.get("command")
    seeds = {"workload seed": manifest.get("seed", summary.get("seed"))}
    trace_seed = (manifest.get("provenance") or {}).get("trace", {}).get("seed")
    if trace_seed is not None:
        seeds["trace synthesis seed"] = trace_seed
    facts = [
        ("scenario", summary.get("scenario")),
        ("mercury-sim version", manifest.get("mercury_sim_version")),
        ("git commit", manifest.get("git_commit") or "not from a git checkout"),
        ("python", manifest.get("python")),
        *seeds.items(),
        ("network mode", summary.get("network_mode")),
        ("deadline (ms)", summary.get("deadline_ms")),
        ("command", shlex.join(str(c) for c in command) if command else "not recorded (notebook API)"),
    ]
    facts_html = table([], ([f"<th>{escape(k)}</th>", code_cell(v)] for k, v in facts))
    return facts_html


def warnings_block(summary: dict[str, Any]) -> str:
    """The run's warnings (summary.json: ``{code, message}`` objects, or an older folder's plain strings),
    each with its code: what makes the numbers doubtful."""
    warnings = read_warnings(summary.get("warnings"))
    if not warnings:
        return '<p id="no-warnings">None.</p>'
    items = "".join(f'<li data-code="{escape(w.code)}"><code>{escape(w.code)}</code> {escape(w.message)}</li>'
                    for w in warnings)
    return f'<ul class="warnings" id="run-warnings">{items}</ul>'


def input_files(manifest: dict[str, Any]) -> str:
    """The run's input files with their sha256, as the manifest lists them."""
    inputs = manifest.get("inputs") or {}
    return "<h3>Input files</h3>" + table(["input", "path", "sha256"],
                                          ([td(role), code_cell(i.get("path")), code_cell(i.get("sha256"))]
                                           for role, i in inputs.items()))


def preformatted(text: str) -> str:
    """Text shown as written (the resolved scenario's YAML), escaped."""
    return f"<pre>{escape(text)}</pre>"


def provenance(manifest: dict[str, Any]) -> str:
    """Where the profiles, accuracy tables and trace came from, as recorded in the manifest."""
    parts = []
    for role, record in (manifest.get("provenance") or {}).items():
        text = yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=100)
        parts.append(f"<h3>{escape(role.replace('_', ' '))}</h3><pre>{escape(text)}</pre>")
    return "".join(parts) or "<p>No provenance recorded in manifest.json.</p>"


def claims_table(claims: list[dict[str, Any]]) -> str:
    """The paper-claims check: a row per claim, the verdict coloured."""
    keys = ("claim", "expected", "simulated", "verdict", "source")

    def verdict(value: Any) -> str:
        text = str(value).lower()
        kind = "pass" if text in {"pass", "ok", "true", "reproduced", "yes"} else \
            "known" if text == "known discrepancy" else "fail"
        return f'<td class="verdict-{kind}">{escape(str(value))}</td>'

    rows = ([verdict(c.get(k)) if k == "verdict" else td(_shown(c.get(k, ""))) for k in keys] for c in claims)
    return table(keys, rows).replace("<table>", '<table id="claims-table">', 1)


def _shown(value: Any) -> Any:
    """Simulated values at four significant digits; everything else as given."""
    return f"{value:.4g}" if isinstance(value, float) else value


# numpy dtypes plotly.js reads as typed arrays (base64 of the raw little-endian bytes)
_TYPED_ARRAYS = {"float64": "f8", "float32": "f4", "int32": "i4", "int16": "i2", "int8": "i1", "uint32": "u4",
                 "uint16": "u2", "uint8": "u1"}


def _plain(value: Any) -> Any:
    """A figure spec made JSON-ready as plotly writes it: numeric numpy arrays as typed arrays, other arrays
    and numpy scalars as plain values, non-finite floats outside arrays as null."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        code = _TYPED_ARRAYS.get(str(value.dtype))
        if code is None or value.size == 0 or value.ndim != 1:
            return _plain(value.tolist())
        little_endian = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return {"dtype": code, "bdata": base64.b64encode(little_endian.tobytes()).decode("ascii")}
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def figure_json(fig: Any) -> str:
    """A figure's JSON: a plain spec (``{"data", "layout"}``) or anything with plotly's ``to_json``."""
    return fig.to_json() if hasattr(fig, "to_json") else json.dumps(_plain(fig), sort_keys=True)


def figure_block(anchor: str, fig: Any, caption: str = "") -> str:
    """A plot div plus its data as inert, script-safe JSON; ``render_script`` draws it."""
    data = script_safe_json(figure_json(fig))
    note = f"<p>{escape(caption)}</p>" if caption else ""
    return (f'{note}<div class="figure" id="fig-{escape(anchor)}"></div>'
            f'<script type="application/json" class="figure-data" data-target="fig-{escape(anchor)}">'
            f"{data}</script>")


RENDER_SCRIPT = """<script>
for (const block of document.querySelectorAll('script.figure-data')) {
  const spec = JSON.parse(block.textContent);
  Plotly.newPlot(block.dataset.target, spec.data, spec.layout, {responsive: true, displaylogo: false});
}
</script>"""


def plotly_bundle_name() -> str:
    return f"plotly-{plotly_assets.plotlyjs_version()}.min.js"


def plotly_loader(folder: Path, self_contained: bool) -> dict[str, Any]:
    """``page`` arguments that load plotly.js: inlined, or from the folder's shared bundle file, which is
    written here when absent or different (so many pages in one folder hold one copy)."""
    if self_contained:
        return {}
    from simulator.files.atomic import atomic_write_text

    bundle = Path(folder) / plotly_bundle_name()
    text = plotly_assets.plotlyjs()
    if not bundle.is_file() or bundle.stat().st_size != len(text.encode()) or bundle.read_text() != text:
        atomic_write_text(bundle, text)
    return {"plotlyjs": lambda: "", "script_src": bundle.name}


def page(title: str, sections: list[Section], plotlyjs: Callable[[], str] = plotly_assets.plotlyjs,
         script_src: str | None = None) -> str:
    """The whole document: head loading plotly.js (inline, or ``script_src`` beside the page), a contents
    line, the sections, the render script."""
    nav = " ".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in sections)
    body = "\n".join(f'<section id="{escape(s.anchor)}"><h2>{escape(s.title)}</h2>{s.body}</section>'
                     for s in sections)
    loader = f' src="{escape(script_src)}">' if script_src else f">{plotlyjs()}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="mercury-sim">'
            f"<title>{escape(title)}</title><style>{STYLE}</style>\n"
            f'<script type="text/javascript"{loader}</script></head>\n<body>'
            f"<h1>{escape(title)}</h1><nav>{nav}</nav>\n{body}\n{RENDER_SCRIPT}</body></html>\n")
