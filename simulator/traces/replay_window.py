"""The capacity one device saw over a run, stored compactly: the trace's samples once, rows rebuilt on demand.

A device starting at ``offset_s`` in a looping trace sees the trace's samples shifted by ``-offset_s``, pass
after pass, until the run ends. Written out row by row that is ``end_s / step`` rows (10 M rows for a
million seconds of a 0.1 s trace); stored here as at most one pass of the trace's own samples (in the
order the device first met them, trace time) plus where the window starts and ends, from which any range
of rows is rebuilt with the same arithmetic as the full window, so every row is bit for bit the same.

Row 0 is time 0 at the capacity in force at the offset; rows 1.. are the sample starts in (0, end_s]; a
'stop' trace that ends within the run adds a last row at zero capacity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.traces import Trace

# Parquet key-value metadata keys (values are repr() of floats and ints, which read back exactly).
_META = ("offset_s", "end_s", "duration_s", "samples_per_pass", "first_element", "elements", "start_mbps",
         "stop_s")


@dataclass(frozen=True)
class ReplayWindow:
    """Device capacity over simulated time [0, ``end_s``] (see the module docstring for the rows).

    ``times_s``/``mbps``: trace samples (trace time), sample ``j`` being element ``first_element + j`` of the
    endless sequence "pass ``p``, sample ``i``" (element ``p * samples_per_pass + i``); at most one pass, as
    later passes repeat it. ``elements``: how many elements fall in (0, end_s]. ``stop_s``: the time of
    the zero-capacity row of a 'stop' trace, NaN when there is none.
    """

    times_s: np.ndarray
    mbps: np.ndarray
    offset_s: float
    end_s: float
    duration_s: float
    samples_per_pass: int
    first_element: int
    elements: int
    start_mbps: float
    stop_s: float = float("nan")

    def __len__(self) -> int:
        return 1 + self.elements + (0 if np.isnan(self.stop_s) else 1)

    def rows(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``lo`` to ``hi - 1`` as (time_s, mbps), equal to the full window's."""
        hi = min(hi, len(self))
        index = np.arange(max(lo, 0), max(hi, lo), dtype=np.int64)
        times, rates = np.empty(index.size), np.empty(index.size)
        first = index == 0
        times[first], rates[first] = 0.0, self.start_mbps
        sampled = (index >= 1) & (index <= self.elements)
        element = self.first_element + index[sampled] - 1
        passes = element // self.samples_per_pass
        j = (element - self.first_element) % self.times_s.size if self.times_s.size else element
        # The same operations in the same order as shifting whole passes: (t + p * duration) - offset.
        times[sampled] = (self.times_s[j] + passes * self.duration_s) - self.offset_s
        rates[sampled] = self.mbps[j]
        last = index == self.elements + 1
        times[last], rates[last] = self.stop_s, 0.0
        return times, rates

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Every row (time_s, mbps): the full window, as long as the run."""
        return self.rows(0, len(self))

    def metadata(self) -> dict[str, str]:
        return {key: repr(getattr(self, key)) for key in _META}

    @classmethod
    def from_stored(cls, times_s: np.ndarray, mbps: np.ndarray, metadata: dict[str, str]) -> ReplayWindow:
        """Rebuild from the stored samples and :meth:`metadata` (KeyError/ValueError when malformed)."""
        values = {key: float(metadata[key]) for key in _META}
        counts = {key: int(values.pop(key)) for key in ("samples_per_pass", "first_element", "elements")}
        return cls(np.asarray(times_s, float), np.asarray(mbps, float), **values, **counts)

    @classmethod
    def explicit(cls, times_s: np.ndarray, mbps: np.ndarray) -> ReplayWindow:
        """A window given row by row (row 0 at time 0), as trace.parquet held it before it was compacted."""
        times_s, mbps = np.asarray(times_s, float), np.asarray(mbps, float)
        if times_s.size == 0:
            raise ValueError("no rows")
        # One pass holding every row, so the rows come back as stored (pass 0 shifts nothing).
        return cls(times_s[1:], mbps[1:], 0.0, float(times_s[-1]), 0.0, max(times_s.size - 1, 1), 0,
                   times_s.size - 1, float(mbps[0]))


def _element_times(trace: Trace, offset_s: float) -> Callable[[np.ndarray], np.ndarray]:
    """Element index -> its start in device time (non-decreasing in the index)."""
    n = trace.times_s.size

    def times(element: np.ndarray) -> np.ndarray:
        return (trace.times_s[element % n] + (element // n) * trace.duration_s) - offset_s
    return times


def _first_above(times: Callable[[np.ndarray], np.ndarray], bound: float, count: int) -> int:
    """The first element in [0, count) whose start exceeds ``bound`` (``count`` when none): bisection."""
    lo, hi = 0, count
    while lo < hi:
        mid = (lo + hi) // 2
        if times(np.array([mid]))[0] > bound:
            hi = mid
        else:
            lo = mid + 1
    return lo


def replay_window(trace: Trace, offset_s: float, end_s: float) -> ReplayWindow:
    """The window a device starting at ``offset_s`` in ``trace`` saw over simulated time [0, end_s]."""
    n = trace.times_s.size
    passes = int(np.ceil((offset_s + end_s) / trace.duration_s)) + 1 if trace.at_end == "loop" else 1
    times = _element_times(trace, offset_s)
    first = _first_above(times, 0.0, passes * n)
    elements = _first_above(times, end_s, passes * n) - first
    kept = np.arange(first, first + min(elements, n), dtype=np.int64) % n
    stop_s = float("nan")
    if trace.at_end == "stop" and trace.duration_s - offset_s < end_s:
        stop_s = trace.duration_s - offset_s
    return ReplayWindow(trace.times_s[kept], trace.mbps[kept], float(offset_s), float(end_s),
                        float(trace.duration_s), n, first, elements, trace.capacity_mbps(offset_s), stop_s)


def write_window(window: ReplayWindow, path: Path) -> None:
    """trace.parquet: the window's samples (columns ``time_s`` in trace time, ``mbps``) and its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"time_s": window.times_s, "mbps": window.mbps})
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           **{f"mercury.{k}": v for k, v in window.metadata().items()}})
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def read_window(path: Path) -> ReplayWindow:
    """trace.parquet as :func:`write_window` wrote it, or an older row-by-row window (no metadata)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["time_s", "mbps"])
    meta = {k.decode()[len("mercury."):]: v.decode() for k, v in (table.schema.metadata or {}).items()
            if k.startswith(b"mercury.")}
    times, rates = table.column("time_s").to_numpy(), table.column("mbps").to_numpy()
    return ReplayWindow.from_stored(times, rates, meta) if meta else ReplayWindow.explicit(times, rates)
