"""Import measurement logs (column-mapped CSV, plain or through a preset): one file, or a whole folder.

A folder import converts every ``*.csv`` below the source folder, names each output after its path with
the sub-folders joined by ``__`` (``Download/Driving/B_x.csv`` -> ``Download__Driving__B_x.csv``),
writes ``stats.csv`` (the ``traces stats`` numbers of every trace made) beside them, and lists the files
that failed, with their one-line reason, in ``failures.csv``; the other files are still written.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from simulator.atomic import atomic_write_text
from simulator.errors import InputError
from simulator.traces.columns import ColumnMapping, Series, read_columns
from simulator.traces.csv_format import write_trace_rows
from simulator.traces.destination import check_replaceable, output_folder, register_table_header, written_by_us
from simulator.traces.stats import TraceStats, samples_stats, trace_stats
from simulator.traces.trace import Trace

STATS_COLUMNS = ("trace", "source", "samples", "sample_period_s", "duration_s", "mean_mbps", "median_mbps",
                 "p5_mbps", "p95_mbps", "outage_fraction", "lag1_autocorr")
STATS_HEADER = register_table_header(",".join(STATS_COLUMNS))
FAILURES_HEADER = register_table_header("source,reason")
SEPARATOR = "__"


@dataclass(frozen=True)
class Converted:
    """One log converted in memory, ready to write."""

    source: Path
    series: Series
    meta: dict

    def stats(self, name: str) -> TraceStats:
        s = self.series
        if s.times_s.size > 1:
            return trace_stats(Trace.from_samples(s.times_s, s.mbps), name)
        return samples_stats(s.mbps, s.period_s, name)


def convert(src: Path, mapping: ColumnMapping, provenance: dict, command: str | None,
            source_name: str | None = None) -> Converted:
    """Read one log and assemble its provenance block (source columns, preset, rules, command)."""
    series = read_columns(src, mapping)
    if not series.mbps.any():
        raise InputError(src, "every rate is 0; a trace must carry some capacity", f"column {mapping.rate_col}")
    meta = {"kind": "imported", "format": provenance.get("preset", "csv"), "source": source_name or src.name,
            **provenance, "columns": mapping.describe(), **series.summary()}
    if command:
        meta["command"] = command
    return Converted(src, series, meta)


def write_converted(item: Converted, dest: Path, chunk: int = 65_536) -> None:
    """Write in chunks, so a long log never exists as Python float lists all at once."""
    times, rates = item.series.times_s, item.series.mbps
    rows = (row for i in range(0, times.size, chunk)
            for row in zip(times[i:i + chunk].tolist(), rates[i:i + chunk].tolist(), strict=True))
    write_trace_rows(dest, rows, item.meta)


def import_log(src: Path, dest: Path, mapping: ColumnMapping, provenance: dict, command: str | None) -> Path:
    """One log to one trace file (``dest`` already resolved and checked)."""
    item = convert(src, mapping, provenance, command)
    write_converted(item, dest)
    return dest


@dataclass(frozen=True)
class FolderResult:
    written: list[Path]
    failures: list[tuple[Path, str]]
    stats_path: Path


def flat_name(relative: Path) -> str:
    """Output name of a file below the source folder: its sub-folders kept in the name."""
    return SEPARATOR.join(relative.parts)


def import_folder(src: Path, dest: Path, mapping: ColumnMapping, provenance: dict,
                  command: str | None) -> FolderResult:
    """Convert every ``*.csv`` below ``src`` (except inside ``dest``) into ``dest``; failures are collected,
    not fatal."""
    outputs = dest.resolve()
    files = sorted(p for p in src.rglob("*.csv") if p.is_file() and not p.resolve().is_relative_to(outputs))
    if not files:
        raise InputError(src, "folder holds no .csv files (searched every sub-folder)")
    dest = output_folder(dest)
    targets = {path: dest / flat_name(path.relative_to(src)) for path in files}
    stats_path, failures_path = dest / "stats.csv", dest / "failures.csv"
    check_replaceable([*targets.values(), stats_path, failures_path])
    if len(set(targets.values())) != len(targets):
        raise InputError(src, f"two files map to the same output name (sub-folders joined by {SEPARATOR!r})")
    written: list[Path] = []
    failures: list[tuple[Path, str]] = []
    rows: list[TraceStats] = []
    sources: list[str] = []
    for path, target in targets.items():
        relative = path.relative_to(src).as_posix()
        try:
            item = convert(path, mapping, provenance, command, source_name=relative)
        except InputError as exc:
            failures.append((path, exc.one_line()))
            continue
        write_converted(item, target)
        written.append(target)
        rows.append(item.stats(target.stem))
        sources.append(relative)
    atomic_write_text(stats_path, stats_table(rows, sources))
    if failures:
        atomic_write_text(failures_path, failures_table(failures))
    elif failures_path.exists() and written_by_us(failures_path):
        failures_path.unlink()  # a stale list from an earlier run would describe files that now import
    return FolderResult(written, failures, stats_path)


def stats_table(rows: list[TraceStats], sources: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATS_COLUMNS)
    for r, source in zip(rows, sources, strict=True):
        writer.writerow([r.name, source, r.samples, _num(r.sample_period_s), _num(r.duration_s), _num(r.mean),
                         _num(r.median), _num(r.p5), _num(r.p95), _num(r.outage_fraction), _num(r.lag1_autocorr)])
    return out.getvalue()


def failures_table(failures: list[tuple[Path, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("source", "reason"))
    writer.writerows((str(path), reason) for path, reason in failures)
    return out.getvalue()


def _num(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6g}"
