"""Import measurement logs (column-mapped CSV, plain or through a preset): one file, or a whole folder.

A folder import converts every ``*.csv`` below the source folder, names each output after its path with
the sub-folders joined by ``__`` (``Download/Driving/B_x.csv`` -> ``Download__Driving__B_x.csv``),
writes ``stats.csv`` (the ``traces stats`` numbers of every trace made, and how many rows each file had
dropped) beside them, and lists the files that failed, with their one-line reason, in ``failures.csv``; the
other files are still written.

Rows out of time order follow one rule (:func:`simulator.traces.columns.read_columns`): a row whose time is
before the last kept row's is dropped and counted (``rows_dropped_backwards`` in stats.csv and in the trace's
provenance); a file where more than 10 % of the rows go backwards is not in time order and fails, naming
the first such line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import InputError
from simulator.files.atomic import atomic_write_text
from simulator.traces.columns import ColumnMapping, Series, read_columns
from simulator.traces.csv_format import write_trace_rows
from simulator.traces.destination import check_replaceable, output_folder, register_table_header, written_by_us
from simulator.traces.stats import STATS_COLUMNS, TraceStats, samples_stats, stats_csv, trace_stats
from simulator.traces.trace import Trace

DROPPED_COLUMN = "rows_dropped_backwards"
STATS_HEADER = register_table_header(",".join((*STATS_COLUMNS, DROPPED_COLUMN)))
register_table_header(",".join(STATS_COLUMNS))  # ``traces stats --csv``, and stats.csv before the drop count
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


def import_log(src: Path, dest: Path, mapping: ColumnMapping, provenance: dict, command: str | None) -> Converted:
    """One log to one trace file (``dest`` already resolved and checked); returns what was written."""
    item = convert(src, mapping, provenance, command)
    write_converted(item, dest)
    return item


@dataclass(frozen=True)
class FolderResult:
    written: list[Path]
    failures: list[tuple[Path, str]]
    stats_path: Path
    stats: list[TraceStats]  # of each written trace, in the order of ``written``
    dropped: dict[str, int]  # source below the folder -> rows dropped as going backwards (files with any)


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
    dropped: list[int] = []
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
        dropped.append(item.series.rows_dropped)
    atomic_write_text(stats_path, stats_csv(rows, sources, {DROPPED_COLUMN: dropped}))
    if failures:
        atomic_write_text(failures_path, failures_table(failures))
    elif failures_path.exists() and written_by_us(failures_path):
        failures_path.unlink()  # a stale list from an earlier run would describe files that now import
    return FolderResult(written, failures, stats_path, rows,
                        {source: n for source, n in zip(sources, dropped, strict=True) if n})


def failures_table(failures: list[tuple[Path, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("source", "reason"))
    writer.writerows((str(path), reason) for path, reason in failures)
    return out.getvalue()
