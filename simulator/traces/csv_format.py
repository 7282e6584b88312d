"""The project's trace file: CSV ``time_s,mbps`` with an optional ``#`` comment block of provenance.

Leading lines starting with ``#`` hold a YAML mapping (``# key: value``) describing where the numbers come
from. Each data row gives the capacity from ``time_s`` until the next row; the last row lasts the median
spacing. Errors name the file and line.

Rows are parsed by one streaming generator (:func:`iter_trace_rows`) shared by the reader and the ``csv``
importer, so a 100 MB file is never held in memory as text, and both apply the same checks.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import numpy as np
import yaml

from simulator.errors import InputError
from simulator.files.atomic import atomic_text_writer
from simulator.traces.trace import AtEnd, Trace

HEADER = "time_s,mbps"


def open_text(path: Path) -> TextIO:
    """Open an input file for streaming, turning a missing file into an :class:`InputError`."""
    try:
        return path.open("r", encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror})") from None


def iter_trace_rows(
    path: Path, lines: Iterable[str], comments: list[str] | None = None, *, loose: bool = False
) -> Iterator[tuple[float, float]]:
    """Yield validated ``(time_s, mbps)`` rows; leading ``#`` lines go to ``comments``.

    ``loose`` also accepts the Pensieve form: two numbers split by whitespace or a comma, no header.
    Times must increase strictly; capacities must be finite and >= 0.
    """
    last_t = -math.inf
    seen_data = False
    try:
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                if not seen_data and comments is not None:
                    comments.append(raw.lstrip()[1:].removeprefix(" ").rstrip("\n"))
                continue
            if not seen_data and line.replace(" ", "").lower() == HEADER:
                seen_data = True
                continue
            seen_data = True
            fields = line.replace(",", " ").split() if loose else [f.strip() for f in line.split(",")]
            if len(fields) != 2:
                expected = "two numbers 'time mbps'" if loose else "two comma-separated values 'time_s,mbps'"
                raise InputError(path, f"expected {expected}, got {line[:60]!r}", f"line {number}")
            try:
                t, rate = float(fields[0]), float(fields[1])
            except ValueError:
                raise InputError(path, f"expected numbers 'time_s,mbps', got {line[:60]!r}",
                                 f"line {number}") from None
            if not (math.isfinite(t) and math.isfinite(rate)):
                raise InputError(path, f"values must be finite, got {line[:60]!r}", f"line {number}")
            if rate < 0:
                raise InputError(path, f"capacity must be >= 0 Mbit/s, got {rate}", f"line {number}")
            if t <= last_t:
                raise InputError(path, f"time_s must increase, got {t} after {last_t}", f"line {number}")
            last_t = t
            yield t, rate
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not a UTF-8 text file ({exc.reason})") from None


_WHOLE_FILE_BYTES = 64 << 20  # files up to this size may be parsed in one vectorised pass


def _read_regular(path: Path) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """Comment lines, times and rates of a regular file in one vectorised pass, or None for the row parser.

    Regular: the comment block and header first, then nothing but valid ``time,mbps`` rows. numpy parses
    each number as ``float()`` does (correctly rounded), so both readers give identical arrays; anything
    else (a blank line, a late comment, a bad value) goes to :func:`iter_trace_rows`, which names the line.
    """
    try:
        if path.stat().st_size > _WHOLE_FILE_BYTES:
            return None
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    start = 0
    while start < len(lines) and lines[start].lstrip().startswith("#"):
        start += 1
    comments = [raw.lstrip()[1:].removeprefix(" ") for raw in lines[:start]]
    if start < len(lines) and lines[start].replace(" ", "").lower() == HEADER:
        start += 1
    rows = lines[start:]
    if not rows or any(row.count(",") != 1 or "#" in row or not row.strip() for row in rows):
        return None
    try:
        values = np.array(",".join(rows).split(","), dtype=np.float64).reshape(-1, 2)
    except ValueError:
        return None
    times, rates = values[:, 0].copy(), values[:, 1].copy()
    if not (np.isfinite(values).all() and (rates >= 0).all() and (np.diff(times) > 0).all()):
        return None
    return comments, times, rates


def read_trace_csv(path: str | Path, *, at_end: AtEnd = "loop", loose: bool = False) -> Trace:
    """Load a trace file; any problem raises :class:`InputError` naming the file and line."""
    path = Path(path)
    regular = None if loose else _read_regular(path)
    if regular is not None:
        comment_lines, times, rates = regular
    else:
        comment_lines, times, rates = _read_rows(path, loose)
    if not len(times):
        raise InputError(path, "trace file holds no samples (expected rows 'time_s,mbps')")
    meta = parse_meta(comment_lines)
    if len(times) == 1:
        duration = float(meta.get("duration_s", 1.0))
        trace_times = np.array([0.0])
    else:
        trace_times = np.asarray(times, dtype=np.float64) - times[0]
        steps = np.diff(trace_times)
        duration = float(trace_times[-1] + np.median(steps))
    rate_arr = np.array(rates, dtype=np.float64)
    if rate_arr.sum() <= 0:
        raise InputError(path, "trace has zero capacity throughout")
    return Trace(trace_times, rate_arr, duration, at_end, path.stem, meta)


def _read_rows(path: Path, loose: bool) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Comment lines, times and rates by the streaming row parser (any size, errors by line)."""
    comment_lines: list[str] = []
    times = array("d")
    rates = array("d")
    with open_text(path) as handle:
        for t, rate in iter_trace_rows(path, handle, comment_lines, loose=loose):
            times.append(t)
            rates.append(rate)
    return comment_lines, np.frombuffer(times, dtype=np.float64), np.frombuffer(rates, dtype=np.float64)


def read_trace_meta(path: Path) -> dict:
    """The provenance mapping of a trace file's comment block, without reading its rows."""
    lines = []
    with open_text(path) as handle:
        for raw in handle:
            if not raw.lstrip().startswith("#"):
                break
            lines.append(raw.lstrip()[1:].removeprefix(" ").rstrip("\n"))
    return parse_meta(lines)


def parse_meta(lines: list[str]) -> dict:
    """The provenance mapping of a leading comment block (free text is kept under ``comment``)."""
    if not lines:
        return {}
    try:
        meta = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError:
        return {"comment": "\n".join(lines)}
    return meta if isinstance(meta, dict) else {"comment": "\n".join(lines)}


def header_lines(meta: dict | None) -> list[str]:
    """The comment block and column header that open a trace file."""
    out: list[str] = []
    if meta:
        block = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100).rstrip("\n")
        out.extend(f"# {line}" for line in block.splitlines())
    out.append(HEADER)
    return out


def format_row(t: float, rate: float) -> str:
    """One data row; times keep 10 significant digits so long traces stay strictly increasing."""
    return f"{t:.10g},{rate:.6g}"


def format_trace_csv(times_s: np.ndarray, mbps: np.ndarray, meta: dict | None = None) -> str:
    """Render samples (and a provenance mapping) in the project's trace format."""
    out = header_lines(meta)
    out.extend(format_row(t, r) for t, r in zip(times_s.tolist(), mbps.tolist(), strict=True))
    return "\n".join(out) + "\n"


def write_trace_csv(
    path: str | Path, times_s: np.ndarray, mbps: np.ndarray, meta: dict | None = None
) -> None:
    """Write a trace file atomically (a reader never sees half a file)."""
    rows = zip(np.asarray(times_s).tolist(), np.asarray(mbps).tolist(), strict=True)
    write_trace_rows(Path(path), rows, meta)


def write_trace_rows(path: Path, rows: Iterable[tuple[float, float]], meta: dict | None = None) -> int:
    """Stream rows into a trace file atomically; returns the row count. Errors leave ``path`` untouched."""
    count = 0
    with atomic_text_writer(Path(path)) as out:
        out.write("\n".join(header_lines(meta)) + "\n")
        for t, rate in rows:
            out.write(format_row(t, rate) + "\n")
            count += 1
    return count
