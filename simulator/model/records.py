"""Per-request records, stored column by column in growable numpy arrays.

A million requests cost about 100 MB here and the DataFrame is built without copying row objects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

STATUS_OK, STATUS_DROPPED, STATUS_UNFINISHED = 0, 1, 2
STATUS_NAMES = {STATUS_OK: "ok", STATUS_DROPPED: "dropped", STATUS_UNFINISHED: "unfinished"}

FIELDS: dict[str, type] = {
    "device": np.int32,
    "request_id": np.int64,
    "arrival_s": np.float64,
    "mobile_queue_ms": np.float64,
    "mobile_ms": np.float64,
    "uplink_bytes": np.int64,
    "uplink_queue_ms": np.float64,
    "uplink_ms": np.float64,
    "cloud_queue_ms": np.float64,
    "cloud_ms": np.float64,
    "return_ms": np.float64,
    "total_ms": np.float64,
    "accuracy": np.float64,
    "energy_j": np.float64,
    "energy_compute_j": np.float64,
    "energy_radio_j": np.float64,
    "energy_tail_j": np.float64,
    "energy_idle_j": np.float64,
    "split_after": np.int16,
    "parameter": np.float64,
    "fallback": np.int8,
    "status": np.int8,
}
COLUMNS = ["schedule", *FIELDS]


class RecordBuffer:
    """Columnar storage; ``new()`` reserves a row and returns its index."""

    def __init__(self, capacity: int = 1024) -> None:
        self.size = 0
        self.columns: dict[str, np.ndarray] = {}
        for name, dtype in FIELDS.items():
            fill = np.nan if np.issubdtype(dtype, np.floating) else 0
            self.columns[name] = np.full(max(capacity, 16), fill, dtype=dtype)
        self.columns["status"][:] = STATUS_UNFINISHED
        # Stage-graph runs only (simulator/model/graph_engine.py): each row's upload RTTs for the energy split,
        # and one row per executed stage.
        self.radio_rtt_s: np.ndarray | None = None
        self.stage_rows: Any = None

    def new(self) -> int:
        if self.size == len(self.columns["device"]):
            self._grow()
        index = self.size
        self.size += 1
        return index

    def _grow(self) -> None:
        for name, array in self.columns.items():
            extra = np.empty_like(array)
            extra.fill(STATUS_UNFINISHED if name == "status" else
                       (np.nan if np.issubdtype(array.dtype, np.floating) else 0))
            self.columns[name] = np.concatenate([array, extra])

    def frame(self, schedule: str) -> pd.DataFrame:
        """The filled rows as a DataFrame, sorted by (arrival, device, request).

        The rows are put in order inside the buffer first (one column at a time), so building the frame
        costs one copy of the records rather than three; the buffer is left sorted.
        """
        n = self.size
        columns = self.columns
        order = np.lexsort((columns["request_id"][:n], columns["device"][:n], columns["arrival_s"][:n]))
        if not np.array_equal(order, np.arange(n)):
            for array in columns.values():
                array[:n] = array[:n][order]
        frame = pd.DataFrame({name: array[:n] for name, array in columns.items()})
        frame.insert(0, "schedule", schedule)
        return frame


def status_labels(codes: pd.Series) -> pd.Series:
    return codes.map(STATUS_NAMES)
