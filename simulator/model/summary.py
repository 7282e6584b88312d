"""Records DataFrame -> per-schedule summary (exact percentiles over completed requests)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simulator.model.energy import ENERGY_COLUMNS

COMPONENTS = ["mobile_queue_ms", "mobile_ms", "uplink_queue_ms", "uplink_ms", "cloud_queue_ms", "cloud_ms",
              "return_ms"]


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _known_mean(values: pd.Series) -> float | None:
    """The mean, or None when there is no value or any value is unknown (NaN)."""
    return _finite(values.mean()) if len(values) and not values.isna().any() else None


def summarize(records: pd.DataFrame, schedules: list[str], deadline_ms: float | None) -> dict[str, Any]:
    """Per schedule (in scenario order): counts, latency statistics, components, accuracy and energy."""
    out: dict[str, Any] = {}
    for name in schedules:
        rows = records[records.schedule == name]
        ok = rows[rows.status == "ok"]
        total = ok.total_ms.to_numpy()
        entry: dict[str, Any] = {
            "requests": int(len(rows)),
            "count": int(len(ok)),
            "dropped": int((rows.status == "dropped").sum()),
            "unfinished": int(len(rows) - len(ok) - (rows.status == "dropped").sum()),
        }
        if total.size:
            p50, p95, p99 = np.percentile(total, [50, 95, 99])
            entry.update(mean_ms=float(total.mean()), p50_ms=float(p50), p95_ms=float(p95), p99_ms=float(p99),
                         max_ms=float(total.max()))
        else:
            entry.update(mean_ms=None, p50_ms=None, p95_ms=None, p99_ms=None, max_ms=None)
        if deadline_ms is not None:
            missed = int(len(rows) - (total <= deadline_ms).sum())
            entry["deadline_miss_rate"] = missed / len(rows) if len(rows) else None
        entry["components_mean_ms"] = {c: _finite(ok[c].mean()) if len(ok) else None for c in COMPONENTS}
        entry["mean_uplink_bytes"] = _finite(ok.uplink_bytes.mean()) if len(ok) else None
        # A mean over the requests whose accuracy is known would flatter a schedule that ran off its
        # accuracy table (Janus's scheduler above the table's last alpha): unknown if any request is.
        unknown = int(ok.accuracy.isna().sum())
        entry["mean_accuracy"] = _known_mean(ok.accuracy)
        if unknown:
            entry["accuracy_unknown"] = unknown
        between = int(ok.accuracy_interpolated.sum()) if "accuracy_interpolated" in ok else 0
        if between:  # completed requests whose top-1 lies between two table rows (README, "Warnings")
            entry["accuracy_interpolated"] = between
        # Energy likewise: a profile that does not state a power leaves that part (and the sum) unknown.
        unknown = int(ok.energy_j.isna().sum())
        entry["mean_energy_j"] = _known_mean(ok.energy_j)
        if unknown:
            entry["energy_unknown"] = unknown
        entry["energy_mean_j"] = {c.removeprefix("energy_").removesuffix("_j"): _known_mean(ok[c])
                                  for c in ENERGY_COLUMNS if c in ok}
        if "fallback" in rows and rows.fallback.any():
            entry["fallback_rate"] = float((rows.fallback == 1).mean())
        entry["split_after"] = _single(rows.split_after)
        entry["parameter"] = _single(rows.parameter)
        out[name] = entry
    return out


def _single(series: pd.Series) -> float | int | str | None:
    values = series.dropna().unique()
    if len(values) == 0:
        return None
    if len(values) == 1:
        value = values[0]
        return int(value) if float(value).is_integer() and series.dtype.kind in "iu" else float(value)
    return "varies"
