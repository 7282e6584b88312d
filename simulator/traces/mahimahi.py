"""Mahimahi link traces (``mm-link`` ``.up``/``.down`` files) to and from capacity series.

Each line of a mahimahi trace is a millisecond timestamp at which one 1500-byte packet may be delivered;
a repeated timestamp means several packets in that millisecond, and the file loops with a period equal to
its last timestamp. Importing counts delivery opportunities per bin (``bin_ms``): bin ``k`` covers
``(k * bin_ms, (k + 1) * bin_ms]`` ms, the same half-open side as the loop, so a packet at the last
timestamp belongs to the last bin. The input is streamed in blocks, so memory grows with the number of
bins, not with the file.

Exporting turns each bin's bytes into packets, carrying the fractional remainder into the next bin, so the
cumulative byte count after every bin is exact to within one packet; a bin's packets are spread evenly
over its milliseconds, the last one on the bin's end.

A mahimahi file has no room for a comment, so an export leaves its mark beside it: ``NAME.up.mercury-sim.json``
records the file's SHA-256 (and where it came from). A later export replaces the file only while that record
matches it byte for byte, i.e. only a file this tool wrote and nobody changed since.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from simulator.errors import InputError
from simulator.files.atomic import atomic_text_writer, atomic_write_text
from simulator.files.digest import file_sha256
from simulator.files.output_guard import MARKER_KEY, guard_file, is_marker
from simulator.traces.csv_format import open_text
from simulator.traces.trace import Trace
from simulator.version import __version__

PACKET_BYTES = 1500
_BLOCK_LINES = 1 << 16


def _block_values(path: Path, block: list[str], first_line: int) -> np.ndarray:
    """Parse a block of lines as integer milliseconds; on failure find and name the bad line."""
    try:
        values = np.array(block, dtype=np.float64)
    except ValueError:
        values = None
    if values is None or not np.all(np.isfinite(values)) or np.any(values != np.floor(values)):
        for offset, raw in enumerate(block):
            text = raw.strip()
            if text.isdigit():
                continue
            where = f"line {first_line + offset}"
            if text.lstrip("-").isdigit():
                raise InputError(path, f"timestamps must be >= 0 ms, got {text}", where)
            raise InputError(path, f"expected an integer millisecond timestamp, got {text[:30]!r}", where)
    assert values is not None
    if np.any(values < 0):
        offset = int(np.argmax(values < 0))
        raise InputError(path, f"timestamps must be >= 0 ms, got {block[offset].strip()}",
                         f"line {first_line + offset}")
    return values.astype(np.int64)


def read_mahimahi(path: str | Path, bin_ms: int = 100) -> Trace:
    """Capacity series (Mbit/s per ``bin_ms`` bin) of a mahimahi trace; errors name file and line."""
    path = Path(path)
    if bin_ms <= 0:
        raise InputError(None, f"--bin-ms must be a positive integer, got {bin_ms}", "bin_ms")
    counts = np.zeros(1024, dtype=np.int64)
    last = -1
    line_no = 1
    with open_text(path) as handle:
        try:
            while True:
                raw_block = list(islice(handle, _BLOCK_LINES))
                if not raw_block:
                    break
                first = line_no
                line_no += len(raw_block)
                numbers = [i for i, s in enumerate(raw_block) if s.strip()]
                if not numbers:
                    continue
                block = [raw_block[i] for i in numbers]
                values = _block_values(path, block, first)
                steps = np.diff(np.concatenate(([last], values))) if last >= 0 else np.diff(values)
                if np.any(steps < 0):
                    k = int(np.argmax(steps < 0)) + (0 if last >= 0 else 1)
                    prev = last if (last >= 0 and k == 0) else int(values[k - 1])
                    raise InputError(path, f"timestamps must not decrease, got {int(values[k])} after {prev}",
                                     f"line {first + numbers[k]}")
                last = int(values[-1])
                index = np.maximum(np.ceil(values / bin_ms).astype(np.int64) - 1, 0)
                if index[-1] >= counts.size:
                    counts = np.concatenate((counts, np.zeros(max(counts.size, index[-1] + 1), np.int64)))
                counts += np.bincount(index, minlength=counts.size)
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not a UTF-8 text file ({exc.reason})") from None
    if last < 0:
        raise InputError(path, "empty mahimahi trace (expected one millisecond timestamp per line)")
    if last == 0:
        raise InputError(path, "the last timestamp (the loop period) must be > 0 ms")
    n_bins = max(math.ceil(last / bin_ms), 1)
    mbps = counts[:n_bins] * (PACKET_BYTES * 8 / (bin_ms * 1e3))
    times = np.arange(n_bins) * (bin_ms / 1e3)
    meta = {"format": "mahimahi", "source": path.name, "bin_ms": bin_ms, "packet_bytes": PACKET_BYTES,
            "loop_period_ms": last}
    return Trace(times, mbps, n_bins * bin_ms / 1e3, "loop", path.stem, meta)


def packets_per_bin(trace: Trace) -> np.ndarray:
    """Whole packets per trace sample, the fractional remainder carried forward."""
    bounds = np.append(trace.times_s, trace.duration_s)
    sample_bytes = trace.mbps * 1e6 / 8 * np.diff(bounds)
    # cumulative packets via floor of the cumulative bytes: every prefix is exact to within one packet
    cum = np.floor(np.round(np.cumsum(sample_bytes), 6) / PACKET_BYTES).astype(np.int64)
    return np.diff(np.concatenate(([0], cum)))


def mahimahi_lines(trace: Trace) -> Iterator[str]:
    """Timestamps (ms) of the delivery opportunities of one pass of ``trace``."""
    starts_ms = np.round(trace.times_s * 1e3).astype(np.int64)
    ends_ms = np.append(starts_ms[1:], round(trace.duration_s * 1e3))
    if np.any(ends_ms <= starts_ms):
        raise InputError(None, "mahimahi needs samples at least 1 ms apart", trace.name)
    packets = packets_per_bin(trace).tolist()
    for start, end, n in zip(starts_ms.tolist(), ends_ms.tolist(), packets, strict=True):
        if n:
            width = end - start
            stamps = start + np.ceil(np.arange(1, n + 1) * width / n).astype(np.int64)
            yield "\n".join(map(str, stamps.tolist())) + "\n"


def export_record(path: Path) -> Path:
    """The file beside an exported mahimahi trace that marks it as this tool's (see the module doc)."""
    return path.with_name(path.name + ".mercury-sim.json")


def is_our_export(path: Path) -> bool:
    """A mahimahi file this tool exported and nobody changed since: its record holds its SHA-256."""
    record = export_record(path)
    if not is_marker(record):
        return False
    recorded = json.loads(record.read_text(encoding="utf-8")).get("sha256")
    return path.is_file() and recorded == file_sha256(path)


def check_export_destination(path: Path, inputs: list[Path]) -> None:
    """Refuse (one line, before anything is written) a destination or record mercury-sim did not write."""
    guard_file(path, inputs=inputs, ours=is_our_export)
    guard_file(export_record(path), inputs=inputs, ours=is_marker)


def write_mahimahi(path: str | Path, trace: Trace, source: dict[str, str] | None = None) -> None:
    """Export a trace as a mahimahi file, atomically, with its record (``source`` goes into it).

    Trailing zero-capacity time cannot be expressed (the loop period is the last timestamp), nor can a
    trace that never accumulates one packet.
    """
    path = Path(path)
    check_export_destination(path, [])
    digest, wrote = hashlib.sha256(), False
    with atomic_text_writer(path) as out:
        for chunk in mahimahi_lines(trace):
            out.write(chunk)
            digest.update(chunk.encode("ascii"))
            wrote = True
        if not wrote:
            raise InputError(trace.name, "the trace carries less than one 1500-byte packet; "
                             "mahimahi cannot express it")
    record = {MARKER_KEY: __version__, "format": "mahimahi", "file": path.name,
              "sha256": digest.hexdigest(), "packet_bytes": PACKET_BYTES, **(source or {})}
    atomic_write_text(export_record(path), json.dumps(record, indent=2) + "\n")
