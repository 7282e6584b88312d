"""``mercury-sim traces ...``: import, export, describe, list, fit and synthesise uplink traces.

A command that reads a project trace takes a file or a shipped trace's name (``lte-all``), as a scenario's
``network.trace`` does; an existing path wins over a name. Bad input raises :class:`InputError`; the
top-level CLI prints it as one line and exits 2.
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
from simulator.files.digest import file_sha256
from simulator.inputs.data import file_or_shipped, shipped_file, shipped_names
from simulator.traces import synth
from simulator.traces.column_options import column_mapping, option_words
from simulator.traces.csv_format import read_trace_csv, write_trace_csv
from simulator.traces.destination import is_our_table, output_file
from simulator.traces.importers import FORMATS, check_format, import_traces, known_formats
from simulator.traces.logs import import_folder, import_log  # also registers the tables' headers
from simulator.traces.mahimahi import check_export_destination, write_mahimahi
from simulator.traces.presets import PRESETS
from simulator.traces.stats import OUTAGE_MBPS, TraceStats, stats_csv, trace_stats

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

EXPORT_FORMATS = ("mahimahi",)
IMPORT_NAMES = (*FORMATS, *PRESETS)
LEGS_HELP = "ghoshal2022 5G runs: 'sum' (NR + LTE legs) or 'nr' (NR leg only)."
TRACE_HELP = "A trace CSV or a shipped trace's name (mercury-sim traces list)"
# An imported trace whose mean is below the outage line is too slow for split inference: at 1 Mbit/s the
# smallest payload the default scenario uploads (Mercury's 307,200 bytes) takes 2.46 s, a 2.2 MB image 17.6 s.
LOW_MEAN_MBPS = OUTAGE_MBPS


def _command(*parts: object) -> str:
    return "mercury-sim traces " + " ".join(shlex.quote(str(p)) for p in parts)


@app.command("import")
def import_cmd(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT",
                                       help=f"One of: {', '.join(IMPORT_NAMES)}, or one a plugin registers.")],
    src: Annotated[Path, typer.Argument(help="Input file, or a folder (ghoshal2022, csv with --time-col, "
                                              "presets: every .csv below it).")],
    dest: Annotated[Path, typer.Argument(help="Output trace CSV, or a folder (written inside).")],
    legs: Annotated[str, typer.Option(help=LEGS_HELP)] = "sum",
    bin_ms: Annotated[int, typer.Option("--bin-ms", help="mahimahi: bin width in milliseconds.")] = 100,
    time_col: Annotated[str | None, typer.Option(help="csv: time column (name or 1-based number).")] = None,
    rate_col: Annotated[str | None, typer.Option(help="csv: rate column (name or 1-based number).")] = None,
    time_format: Annotated[str | None, typer.Option(help="csv: strftime of the time column.")] = None,
    time_unit: Annotated[str | None, typer.Option(help="csv: s, ms, us or epoch (seconds).")] = None,
    rate_unit: Annotated[str | None, typer.Option(help="csv: bps, kbps, Mbps, Bps, kBps, MBps.")] = None,
    where: Annotated[list[str] | None,
                     typer.Option(help="Keep rows where 'COLUMN == VALUE' (or !=); repeatable.")] = None,
    missing: Annotated[list[str] | None,
                       typer.Option(help="Missing-value marker (repeatable; replaces the defaults).")] = None,
    repeated: Annotated[str | None, typer.Option(help="Rows sharing a timestamp: mean, last or sum.")] = None,
    max_gap: Annotated[int | None, typer.Option(help="Missing samples bridged (default 3).")] = None,
    gap: Annotated[str | None, typer.Option(help="Longer gaps: outage (default, 0 Mbit/s) or bridge.")] = None,
    rate_at: Annotated[str | None, typer.Option(help="A rate covers the interval that starts (default) or "
                                                     "ends at its row.")] = None,
    resample: Annotated[float | None, typer.Option(help="Time-weighted resampling step in seconds.")] = None,
    link: Annotated[str | None, typer.Option(help="Presets: uplink (default) or downlink.")] = None,
    network: Annotated[str | None, typer.Option(help="Presets: keep rows of this NetworkMode (5G, LTE).")] = None,
    plugin: Annotated[list[str] | None, typer.Option(
        "--plugin", metavar="FILE", help="Python file registering trace formats of your own "
                                         "(simulator.traces.importers.register_trace_format); repeatable.")] = None,
) -> None:
    """Convert a foreign trace format, a column-mapped CSV or a public data set (preset) into trace CSV(s);
    formats of your own come from --plugin files and installed packages (entry points mercury_sim.trace_formats)."""
    from simulator.cli.plugins import command_plugins
    from simulator.schedules.plugins import load_entry_points

    command_plugins(plugin)
    if fmt.strip().lower() not in (*known_formats(), *PRESETS):
        load_entry_points()  # an installed package's format, named for the first time
    name = check_format(fmt, (*known_formats(), *PRESETS))  # the built-ins, presets and what plugins added
    given = {"--time-col": time_col, "--rate-col": rate_col, "--time-format": time_format,
             "--time-unit": time_unit, "--rate-unit": rate_unit, "--where": where, "--missing": missing,
             "--repeated": repeated, "--max-gap": max_gap, "--gap": gap, "--rate-at": rate_at,
             "--resample": resample, "--link": link, "--network": network}
    given = {k: v for k, v in given.items() if v is not None}
    if name in PRESETS or (name == "csv" and given):
        _import_columns(name, src, dest, given)
        return
    extra = ["--legs", legs] if name == "ghoshal2022" else ["--bin-ms", bin_ms] if name == "mahimahi" else []
    if name != "ghoshal2022":
        dest = output_file(dest, f"{src.stem}.csv", inputs=[src])
    written = import_traces(name, src, dest, legs=legs, bin_ms=bin_ms,  # type: ignore[arg-type]
                            command=_command("import", name, src, dest, *extra))
    typer.echo(f"wrote {len(written)} trace file(s) to {dest}")
    _warn_low_capacity({p.stem: read_trace_csv(p).mean_mbps for p in written})


def _import_columns(name: str, src: Path, dest: Path, given: dict) -> None:
    """``traces import csv --time-col ...`` or ``traces import PRESET``: one log, or every log in a folder."""
    mapping, provenance = column_mapping(name, given)
    command = _command("import", name, src, dest, *option_words(given))
    if src.is_dir():
        result = import_folder(src, dest, mapping, provenance, command)
        typer.echo(f"wrote {len(result.written)} trace file(s) and {result.stats_path.name} to {dest}")
        _warn_dropped(result.dropped)
        _warn_low_capacity({s.name: s.mean for s in result.stats}, f" (mean_mbps in {result.stats_path.name})")
        for _, reason in result.failures:
            typer.echo(f"failed: {reason}", err=True)
        if result.failures:
            raise InputError(src, f"{len(result.failures)} of {len(result.failures) + len(result.written)} "
                             f"files failed (listed above and in {dest / 'failures.csv'}); the others were written")
        return
    target = output_file(dest, f"{src.stem}.csv", inputs=[src])
    item = import_log(src, target, mapping, provenance, command)
    typer.echo(f"wrote {target}")
    _warn_dropped({src.name: item.series.rows_dropped} if item.series.rows_dropped else {})
    _warn_low_capacity({target.stem: item.stats(target.stem).mean})


def _warn_dropped(dropped: dict[str, int]) -> None:
    """One line naming every file that had rows dropped for going back in time, and how many."""
    if dropped:
        listed = ", ".join(f"{source} ({n})" for source, n in dropped.items())
        typer.echo(f"warning: rows dropped, their time before an earlier row's: {listed}", err=True)


def _warn_low_capacity(means: dict[str, float], rest: str = "", shown: int = 5) -> None:
    """One line naming the traces whose mean capacity is below LOW_MEAN_MBPS: the first ``shown`` of them with
    their means, then how many more (``rest`` says where to find them)."""
    low = {name: mean for name, mean in means.items() if mean < LOW_MEAN_MBPS}
    if not low:
        return
    listed = ", ".join(f"{name} {mean:.3g}" for name, mean in list(low.items())[:shown])
    more = f" and {len(low) - shown} more{rest}" if len(low) > shown else ""
    typer.echo(f"warning: low capacity: {len(low)} of {len(means)} trace(s) average below {LOW_MEAN_MBPS:g} "
               f"Mbit/s, too slow for split inference (300 kB take > 2.4 s): {listed} Mbit/s{more}", err=True)


@app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help=f"One of: {', '.join(EXPORT_FORMATS)}.")],
    src: Annotated[Path, typer.Argument(help=f"{TRACE_HELP}.")],
    dest: Annotated[Path, typer.Argument(help="Output file.")],
) -> None:
    """Write a project trace in a foreign format (mahimahi: one line per 1500-byte delivery opportunity)."""
    check_format(fmt, EXPORT_FORMATS)
    src = file_or_shipped("trace", src)
    target = dest / f"{src.stem}.up" if dest.is_dir() and not dest.is_symlink() else dest
    check_export_destination(target, [src])  # before the trace is read: a refusal costs nothing
    trace = read_trace_csv(src)
    write_mahimahi(target, trace, {"source": str(src), "source_sha256": file_sha256(src),
                                   "command": _command("export", fmt, src, dest)})
    typer.echo(f"wrote {target}")


def _files(paths: list[Path]) -> list[Path]:
    """Trace files named by paths, folders (their .csv traces) and shipped names."""
    files: list[Path] = []
    for value in paths:
        path = file_or_shipped("trace", value)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.csv") if not is_our_table(p))
            if not found:
                raise InputError(path, "folder holds no .csv trace files")
            files.extend(found)
        else:
            files.append(path)
    return files


@app.command("stats")
def stats_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Trace CSV files, folders of them, or shipped trace names "
                                                    "(mercury-sim traces list).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table (a folder import's "
                                                       "stats.csv columns).")] = False,
) -> None:
    """Duration, mean, median, p5, p95, outage share (< 1 Mbit/s) and lag-1 autocorrelation."""
    if as_json and as_csv:
        raise InputError(None, "give one of --json and --csv", "--csv")
    files = _files(paths)
    rows = [trace_stats(read_trace_csv(p), p.stem) for p in files]
    if as_json:
        typer.echo(json.dumps([_jsonable(r) for r in rows], indent=2))
    elif as_csv:
        typer.echo(stats_csv(rows, [str(p) for p in files]), nl=False)
    else:
        _print_table(rows, "Trace statistics (Mbit/s, time-weighted)")


@app.command("list")
def list_cmd() -> None:
    """The shipped traces, with their kind and statistics: each name works wherever a trace file does
    (a scenario's network.trace, traces stats, traces export)."""
    paths = [path for name in shipped_names("trace") if (path := shipped_file("trace", name)) is not None]
    if not paths:
        raise InputError(None, "no shipped traces found (installed without the package's data?)")
    traces = [read_trace_csv(path) for path in paths]
    _print_table([trace_stats(t, t.name) for t in traces], "Shipped traces (Mbit/s, time-weighted)",
                 [str(t.meta.get("kind", "-")) for t in traces])
    typer.echo(f"in {paths[0].parent}; use a name wherever a trace file is asked for, e.g. "
               f"'mercury-sim traces stats {paths[0].stem}' or 'network: {{trace: {paths[0].stem}}}'")


def _jsonable(stats: TraceStats) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in stats.as_dict().items()}


def _print_table(rows: list[TraceStats], title: str, kinds: list[str] | None = None) -> None:
    """The statistics table (with a kind column when ``kinds`` is given); numbers are never cut."""
    from rich.table import Table

    from simulator.cli.console import print_table

    table = Table(title=title)
    table.add_column("trace")
    if kinds is not None:
        table.add_column("kind")
    for column in ("duration s", "mean", "median", "p5", "p95", "outage <1", "lag-1 acf"):
        table.add_column(column, justify="right")
    for i, r in enumerate(rows):
        table.add_row(r.name, *([kinds[i]] if kinds is not None else []), f"{r.duration_s:.1f}", f"{r.mean:.2f}",
                      f"{r.median:.2f}", f"{r.p5:.2f}", f"{r.p95:.2f}", f"{r.outage_fraction:.3f}",
                      f"{r.lag1_autocorr:.3f}")
    print_table(table, key=1 if kinds is None else 2)  # too wide: sections, each naming the trace


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
    out = output_file(out, "models.yaml", inputs=[src_dir])
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
    doc = synth.load_models(models)
    if profile not in synth.profile_names(doc):
        raise InputError(doc["_path"], f"unknown profile {profile!r}; known: "
                         f"{', '.join(synth.profile_names(doc))}", "--profile")
    out = output_file(out, f"{profile}.csv", inputs=[models] if models else [])
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
