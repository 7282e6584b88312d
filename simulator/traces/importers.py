"""``mercury-sim traces import FORMAT SRC DEST``: foreign trace formats into the project's CSV.

Formats of one's own come from plugins (a file given with ``--plugin``, or an installed package's entry point
in the group ``mercury_sim.trace_formats``) that call :func:`register_trace_format` with a reader: a function
from the source file to its (seconds, Mbit/s) samples, which then import like any other format.

Every importer writes each file atomically (via a temporary beside it) and reads all its input before
writing, so a bad input leaves nothing half-written at DEST; it records its provenance in the output's
comment block. Files at DEST that mercury-sim did not write are never replaced (``destination``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from simulator.errors import InputError
from simulator.traces import ghoshal
from simulator.traces.csv_format import iter_trace_rows, open_text, write_trace_csv, write_trace_rows
from simulator.traces.destination import check_replaceable, output_folder
from simulator.traces.mahimahi import read_mahimahi

FORMATS = ("ghoshal2022", "mahimahi", "csv", "simgrid")

TraceReader = Callable[[Path], Iterable[tuple[float, float]]]
_READERS: dict[str, tuple[TraceReader, Path | None]] = {}  # a registered format -> (reader, its file)


def register_trace_format(name: str, reader: TraceReader) -> None:
    """Import files of format ``name`` with ``reader(src)``, which yields (time s, capacity Mbit/s) samples
    in time order; the trace is shifted to start at 0 and written with the importer's provenance."""
    key = name.strip().lower()
    if key in FORMATS:
        raise ValueError(f"trace format {key!r} is built in; register yours under another name")
    caller = Path(sys._getframe(1).f_code.co_filename)
    _READERS[key] = (reader, caller.resolve() if caller.is_file() else None)


def registered_trace_formats() -> dict[str, tuple[TraceReader, Path | None]]:
    """Every registered trace format, with the file that registered it (None: code of this process)."""
    return dict(_READERS)


def known_formats() -> tuple[str, ...]:
    """The built-in formats, then the registered ones."""
    return (*FORMATS, *sorted(_READERS))


def check_format(fmt: str, known: tuple[str, ...] | None = None) -> str:
    """The format name, or an :class:`InputError` listing the known ones."""
    known = known_formats() if known is None else known
    name = fmt.strip().lower()
    if name not in known:
        raise InputError(None, f"unknown trace format {fmt!r}; expected one of: {', '.join(known)}", "FORMAT")
    return name


def import_traces(fmt: str, src: str | Path, dest: str | Path, *, legs: ghoshal.Legs = "sum",
                  bin_ms: int = 100, command: str | None = None) -> list[Path]:
    """Import ``src`` in format ``fmt`` to ``dest``; returns the files written."""
    fmt = check_format(fmt)
    src, dest = Path(src), Path(dest)
    if fmt == "ghoshal2022":
        return import_ghoshal(src, dest, legs=legs, command=command)
    if fmt in _READERS:
        return [import_registered(fmt, src, dest, command=command)]
    if fmt == "mahimahi":
        trace = read_mahimahi(src, bin_ms)
        meta = dict(trace.meta, kind="imported")
        if command:
            meta["command"] = command
        write_trace_csv(dest, trace.times_s, trace.mbps, meta)
        return [dest]
    meta = {"kind": "imported", "format": fmt, "source": src.name}
    if command:
        meta["command"] = command
    if fmt == "csv":
        with open_text(src) as handle:
            write_trace_rows(dest, _from_zero(src, iter_trace_rows(src, handle, loose=True)), meta)
        return [dest]
    with open_text(src) as handle:
        rows, loop_after = read_simgrid(src, handle)
    meta.update(unit_in="bytes/s (SimGrid bandwidth profile)", loop_after_s=loop_after)
    write_trace_rows(dest, _from_zero(src, iter(rows)), meta)
    return [dest]


def import_registered(fmt: str, src: Path, dest: Path, *, command: str | None = None) -> Path:
    """One file through a registered reader; whatever the reader raises is one line naming the source."""
    reader, source = _READERS[fmt]
    meta: dict[str, object] = {"kind": "imported", "format": fmt, "source": src.name}
    if source is not None:
        meta["reader"] = str(source)
    if command:
        meta["command"] = command
    try:
        rows = [(float(t), float(rate)) for t, rate in reader(src)]
    except InputError:
        raise
    except Exception as exc:  # the plugin's own error, for the user to read in one line
        raise InputError(src, f"the {fmt} reader failed: {type(exc).__name__}: {exc}") from None
    write_trace_rows(dest, _from_zero(src, iter(rows)), meta)
    return dest


def _from_zero(path: Path, rows: Iterator[tuple[float, float]]) -> Iterator[tuple[float, float]]:
    """Shift rows so the trace starts at 0; an input without rows is an error (raised before the rename)."""
    first = next(rows, None)
    if first is None:
        raise InputError(path, "no samples found (empty file?)")
    t0 = first[0]
    yield 0.0, first[1]
    for t, rate in rows:
        yield t - t0, rate


def read_simgrid(path: Path, lines: Iterable[str]) -> tuple[list[tuple[float, float]], float | None]:
    """Parse a SimGrid bandwidth profile: ``date value`` lines, value in bytes/s (SimGrid's unit for link
    bandwidth; a link profile sets the bandwidth itself, not a scale), ``#``/``%`` comments, and an
    optional ``LOOPAFTER x`` (or older ``PERIODICITY x``) after which the profile repeats.

    Returns rows in Mbit/s and the loop delay. SimGrid allows equal dates (the later value wins); here
    dates must increase strictly so that every value holds for a positive time.
    """
    rows: list[tuple[float, float]] = []
    loop_after: float | None = None
    try:
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line[0] in "#%":
                continue
            fields = line.split()
            where = f"line {number}"
            if fields[0].upper() in ("LOOPAFTER", "PERIODICITY"):
                if len(fields) != 2 or not _finite_nonneg(fields[1]):
                    raise InputError(path, f"expected '{fields[0]} seconds' with a number >= 0, got {line!r}",
                                     where)
                loop_after = float(fields[1])
                continue
            if fields[0].upper().startswith("STOCHASTIC"):
                raise InputError(path, "stochastic SimGrid profiles are not supported", where)
            if len(fields) != 2:
                raise InputError(path, f"expected 'date value' (two numbers), got {line[:60]!r}", where)
            try:
                date, value = float(fields[0]), float(fields[1])
            except ValueError:
                raise InputError(path, f"expected numbers 'date value', got {line[:60]!r}", where) from None
            if not (math.isfinite(date) and math.isfinite(value)):
                raise InputError(path, f"values must be finite, got {line!r}", where)
            if date < 0 or value < 0:
                raise InputError(path, f"date and bandwidth must be >= 0, got {line!r}", where)
            if rows and date <= rows[-1][0]:
                raise InputError(path, f"dates must increase, got {date} after {rows[-1][0]}", where)
            rows.append((date, value * 8 / 1e6))
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not a UTF-8 text file ({exc.reason})") from None
    return rows, loop_after


def _finite_nonneg(text: str) -> bool:
    try:
        return math.isfinite(float(text)) and float(text) >= 0
    except ValueError:
        return False


def group_name(network: str, mobility: str, path: Path) -> str:
    """Output name of a (network, mobility) group; files outside the data set layout use their stem."""
    return f"{network}-{mobility}" if network != "unknown" else path.stem


def import_ghoshal(
    src: Path, dest: Path, *, legs: ghoshal.Legs = "sum", command: str | None = None
) -> list[Path]:
    """One trace per run (DEST/runs/GROUP/FILE-runK.csv), one per network x mobility (DEST/GROUP.csv), and
    one per network (DEST/NETWORK-all.csv), each the runs concatenated in file order."""
    if legs not in ("sum", "nr"):
        raise InputError(None, f"--legs must be 'sum' or 'nr', got {legs!r}", "legs")
    files = ghoshal.list_files(src)
    output_folder(dest)
    root = src if src.is_dir() else src.parent
    groups: dict[str, list[np.ndarray]] = {}
    per_network: dict[str, list[np.ndarray]] = {}
    written: list[Path] = []
    base = {"kind": "imported", "format": "ghoshal2022",
            "dataset": "Ghoshal et al., SIGCOMM 5G-MeMU 2022 (NUWiNS/sigcomm-5gmemu-5g-mmWave-uplink-data)",
            "legs": "NR + LTE summed on a 0.1 s grid" if legs == "sum" else "NR leg only",
            "sample_period_s": ghoshal.SAMPLE_S}
    if command:
        base["command"] = command
    outputs: dict[Path, tuple[np.ndarray, dict]] = {}
    for path in files:
        network, mobility = ghoshal.group_of(path)
        group = group_name(network, mobility, path)
        rel = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
        for run in ghoshal.read_list(path):
            x = run.samples(legs)
            if x.size == 0:
                raise InputError(path, f"{run.label} has no samples", f"line {run.line}")
            groups.setdefault(group, []).append(x)
            if network != "unknown":
                per_network.setdefault(network, []).append(x)
            number = run.label.split()[-1]
            out = dest / "runs" / group / f"{path.stem}-run{number}.csv"
            outputs[out] = (x, dict(base, source=f"{rel.as_posix()} {run.label} (line {run.line})"))
    for name, parts in [*groups.items(), *((f"{n}-all", p) for n, p in per_network.items())]:
        meta = dict(base, source=f"{len(parts)} runs concatenated in file order", runs=len(parts))
        outputs[dest / f"{name}.csv"] = (np.concatenate(parts), meta)
    check_replaceable(outputs)  # every input is read before anything is written
    for out, (x, meta) in outputs.items():
        _write(out, x, meta)
        written.append(out)
    return written


def _write(path: Path, x: np.ndarray, meta: dict) -> None:
    meta = dict(meta, duration_s=round(x.size * ghoshal.SAMPLE_S, 6), mean_mbps=round(float(x.mean()), 4))
    write_trace_csv(path, np.arange(x.size) * ghoshal.SAMPLE_S, x, meta)
