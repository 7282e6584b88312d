"""Min/max downsampling of a step series for plotting: each window keeps its lowest and highest point, so
outages and peaks stay visible at any length; rows are fetched window by window, so a series that is
rebuilt on demand (a long replayed trace window) is never held whole."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MAX_POINTS = 4000
Rows = Callable[[int, int], tuple[np.ndarray, np.ndarray]]


def downsample_rows(count: int, rows: Rows, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` of the ``count`` rows (``rows(lo, hi)`` gives times and values of rows lo..hi-1):
    all of them when they fit, else each of ``max_points // 2`` equal-count windows' minimum and maximum,
    in time order."""
    if count <= max_points:
        return rows(0, count)
    windows = max(max_points // 2, 1)
    edges = np.linspace(0, count, windows + 1).astype(np.int64)
    out_t: list[float] = []
    out_v: list[float] = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if hi <= lo:
            continue
        times, values = rows(int(lo), int(hi))
        for k in sorted({int(np.argmin(values)), int(np.argmax(values))}):
            out_t.append(float(times[k]))
            out_v.append(float(values[k]))
    return np.asarray(out_t), np.asarray(out_v)


def downsample_minmax(times: np.ndarray, values: np.ndarray, max_points: int = MAX_POINTS
                      ) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points: each window contributes its minimum and its maximum, in time order."""
    return downsample_rows(values.size, lambda lo, hi: (times[lo:hi], values[lo:hi]), max_points)
