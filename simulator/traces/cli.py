"""``mercury-sim traces ...``: import, export, describe, fit and synthesise uplink traces.

Bad input raises :class:`InputError`; the top-level CLI prints it as one line and exits 2.
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from simulator.errors import InputError
from simulator.output_guard import guard_destination_folder, guard_file, names_mercury_sim
from simulator.traces import synth
from simulator.traces.csv_format import read_trace_csv, write_trace_csv
from simulator.traces.importers import FORMATS, check_format, import_traces
from simulator.traces.mahimahi import write_mahimahi
from simulator.traces.stats import TraceStats, trace_stats

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

EXPORT_FORMATS = ("mahimahi",)
LEGS_HELP = "ghoshal2022 5G runs: 'sum' (NR + LTE legs) or 'nr' (NR leg only)."


def _command(*parts: object) -> str:
    return "mercury-sim traces " + " ".join(shlex.quote(str(p)) for p in parts)


@app.command("import")
def import_cmd(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help=f"One of: {', '.join(FORMATS)}.")],
    src: Annotated[Path, typer.Argument(help="Input file (ghoshal2022: a .list file or the data set).")],
    dest: Annotated[Path, typer.Argument(help="Output trace CSV (ghoshal2022: an output folder).")],
    legs: Annotated[str, typer.Option(help=LEGS_HELP)] = "sum",
    bin_ms: Annotated[int, typer.Option("--bin-ms", help="mahimahi: bin width in milliseconds.")] = 100,
) -> None:
    """Convert a foreign trace format into the project's CSV trace(s)."""
    name = check_format(fmt)
    if name == "ghoshal2022":
        guard_destination_folder(dest, inputs=[src])
    else:
        guard_file(dest, inputs=[src], ours=names_mercury_sim)
    extra = ["--legs", legs] if name == "ghoshal2022" else ["--bin-ms", bin_ms] if name == "mahimahi" else []
    written = import_traces(name, src, dest, legs=legs, bin_ms=bin_ms,  # type: ignore[arg-type]
                            command=_command("import", name, src, dest, *extra))
    typer.echo(f"wrote {len(written)} trace file(s) to {dest}")


@app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help=f"One of: {', '.join(EXPORT_FORMATS)}.")],
    src: Annotated[Path, typer.Argument(help="Project trace CSV.")],
    dest: Annotated[Path, typer.Argument(help="Output file.")],
) -> None:
    """Write a project trace in a foreign format (mahimahi: one line per 1500-byte delivery opportunity)."""
    check_format(fmt, EXPORT_FORMATS)
    guard_file(dest, inputs=[src])  # a mahimahi file carries no mark of its writer: never replaced
    write_mahimahi(dest, read_trace_csv(src))
    typer.echo(f"wrote {dest}")


def _files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.csv"))
            if not found:
                raise InputError(path, "folder holds no .csv trace files")
            files.extend(found)
        else:
            files.append(path)
    return files


@app.command("stats")
def stats_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Trace CSV files or folders of them.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Duration, mean, median, p5, p95, outage share (< 1 Mbit/s) and lag-1 autocorrelation."""
    rows = [trace_stats(read_trace_csv(p), p.stem) for p in _files(paths)]
    if as_json:
        typer.echo(json.dumps([_jsonable(r) for r in rows], indent=2))
        return
    _print_table(rows)


def _jsonable(stats: TraceStats) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in stats.as_dict().items()}


def _print_table(rows: list[TraceStats]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Trace statistics (Mbit/s, time-weighted)")
    table.add_column("trace", no_wrap=True)
    for column in ("duration s", "mean", "median", "p5", "p95", "outage <1", "lag-1 acf"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(r.name, f"{r.duration_s:.1f}", f"{r.mean:.2f}", f"{r.median:.2f}", f"{r.p5:.2f}",
                      f"{r.p95:.2f}", f"{r.outage_fraction:.3f}", f"{r.lag1_autocorr:.3f}")
    Console().print(table)


@app.command("fit")
def fit_cmd(
    src_dir: Annotated[Path, typer.Argument(help="The Ghoshal 2022 data set folder.")],
    out: Annotated[Path, typer.Argument(help="Models YAML to write (e.g. traces/synthetic/models.yaml).")],
    legs: Annotated[str, typer.Option(help=LEGS_HELP)] = "sum",
    levels: Annotated[int, typer.Option(help="Quantile levels.")] = synth.DEFAULT_LEVELS,
) -> None:
    """Fit one Markov chain per network x mobility to the real set and store it as data."""
    if legs not in ("sum", "nr"):
        raise InputError(None, f"--legs must be 'sum' or 'nr', got {legs!r}", "--legs")
    if levels < 2:
        raise InputError(None, f"--levels must be >= 2, got {levels}", "--levels")
    guard_file(out, inputs=[src_dir], ours=names_mercury_sim)
    command = _command("fit", src_dir, out, "--legs", legs, "--levels", levels)
    doc = synth.fit_dataset(src_dir, legs=legs, levels=levels, command=command)  # type: ignore[arg-type]
    synth.write_models(out, doc)
    typer.echo(f"wrote {out} ({len(doc['profiles'])} profiles)")


@app.command("synth")
def synth_cmd(
    out: Annotated[Path, typer.Argument(help="Trace CSV to write.")],
    profile: Annotated[str, typer.Option(help="e.g. lte-driving, 5g-static, lte-all, 5g-all.")],
    duration_s: Annotated[float, typer.Option("--duration-s", help="Trace length (s).")] = 600.0,
    seed: Annotated[int, typer.Option(help="Random seed (same inputs, same file).")] = 1,
    models: Annotated[Path | None, typer.Option(help="Models YAML (default: the shipped one).")] = None,
) -> None:
    """Generate a synthetic trace from a fitted model."""
    guard_file(out, inputs=[models] if models else [], ours=names_mercury_sim)
    doc = synth.load_models(models)
    if profile not in synth.profile_names(doc):
        raise InputError(doc["_path"], f"unknown profile {profile!r}; known: "
                         f"{', '.join(synth.profile_names(doc))}", "--profile")
    x = synth.generate(doc, profile, duration_s, seed)
    prov = doc.get("provenance", {})
    meta = {
        "kind": "synthetic",
        "profile": profile,
        "model": prov.get("method", "Markov chain"),
        "fitted_from": f"{prov.get('dataset', '?')} @ {prov.get('source_commit', '?')}, "
                       f"importer legs={prov.get('importer', {}).get('legs', '?')}",
        "models_file": Path(doc["_path"]).name,
        "seed": seed,
        "duration_s": round(x.size * synth.SAMPLE_S, 6),
        "command": _command("synth", "--profile", profile, "--duration-s", _num(duration_s), "--seed", seed,
                            out),
    }
    write_trace_csv(out, np.arange(x.size) * synth.SAMPLE_S, x, meta)
    typer.echo(f"wrote {out} ({x.size} samples, mean {x.mean():.2f} Mbit/s)")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
