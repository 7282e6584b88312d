"""The project's trace file: CSV ``time_s,mbps`` with an optional ``#`` comment block of provenance.

Leading lines starting with ``#`` hold a YAML mapping (``# key: value``) describing where the numbers come
from. Each data row gives the capacity from ``time_s`` until the next row; the last row lasts the median
spacing. Errors name the file and line.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from simulator.atomic import atomic_write_text
from simulator.errors import InputError
from simulator.traces.trace import AtEnd, Trace

HEADER = "time_s,mbps"


def read_trace_csv(path: str | Path, *, at_end: AtEnd = "loop") -> Trace:
    """Load a trace file; any problem raises :class:`InputError` naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "trace file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read trace file ({exc})") from None
    comment_lines: list[str] = []
    times: list[float] = []
    rates: list[float] = []
    seen_header = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if not times and not seen_header:
                comment_lines.append(raw.lstrip()[1:].removeprefix(" "))
            continue
        if not seen_header and not times and line.replace(" ", "").lower() == HEADER:
            seen_header = True
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 2:
            raise InputError(path, f"expected two comma-separated values 'time_s,mbps', got {line!r}",
                             f"line {number}")
        try:
            t, rate = float(fields[0]), float(fields[1])
        except ValueError:
            raise InputError(path, f"expected numbers 'time_s,mbps', got {line!r}", f"line {number}") from None
        if not (math.isfinite(t) and math.isfinite(rate)):
            raise InputError(path, f"values must be finite, got {line!r}", f"line {number}")
        if rate < 0:
            raise InputError(path, f"capacity must be >= 0 Mbit/s, got {rate}", f"line {number}")
        if times and t <= times[-1]:
            raise InputError(path, f"time_s must increase, got {t} after {times[-1]}", f"line {number}")
        times.append(t)
        rates.append(rate)
    if not times:
        raise InputError(path, "trace file holds no samples (expected rows 'time_s,mbps')")
    meta = _parse_meta(path, comment_lines)
    if len(times) == 1:
        duration = float(meta.get("duration_s", 1.0))
        trace_times = np.array([0.0])
    else:
        trace_times = np.asarray(times) - times[0]
        steps = np.diff(trace_times)
        duration = float(trace_times[-1] + np.median(steps))
    if sum(rates) <= 0:
        raise InputError(path, "trace has zero capacity throughout")
    return Trace(trace_times, np.asarray(rates), duration, at_end, path.stem, meta)


def _parse_meta(path: Path, lines: list[str]) -> dict:
    if not lines:
        return {}
    try:
        meta = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError:
        return {"comment": "\n".join(lines)}
    return meta if isinstance(meta, dict) else {"comment": "\n".join(lines)}


def format_trace_csv(times_s: np.ndarray, mbps: np.ndarray, meta: dict | None = None) -> str:
    """Render samples (and a provenance mapping) in the project's trace format."""
    out: list[str] = []
    if meta:
        block = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100).rstrip("\n")
        out.extend(f"# {line}" for line in block.splitlines())
    out.append(HEADER)
    out.extend(f"{t:.6g},{r:.6g}" for t, r in zip(times_s, mbps, strict=True))
    return "\n".join(out) + "\n"


def write_trace_csv(path: str | Path, times_s: np.ndarray, mbps: np.ndarray, meta: dict | None = None) -> None:
    """Write a trace file atomically (a reader never sees half a file)."""
    atomic_write_text(Path(path), format_trace_csv(np.asarray(times_s), np.asarray(mbps), meta))
