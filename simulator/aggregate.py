"""A sweep's table over seeds: one row per combination of the other axes and schedule, with the mean,
standard deviation, 95 % t interval and number of seeds of every statistic.

A seed axis is any axis whose last key part is ``seed`` (``workload.seed``; a paired axis when all its keys
are seeds). Axis values that are file paths are shown by file name (``lte-all``), or by the path as written
where two names would collide. The summary keeps one column per key of a paired axis.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from simulator.intervals import LEVEL, t_interval
from simulator.sweep_axes import LABEL_SEPARATOR, axis_columns, axis_keys, is_paired, seed_axes

STATISTICS = ("mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "deadline_miss_rate", "mean_accuracy",
              "mean_energy_j", "mean_uplink_bytes", "split_after", "parameter")
INTERVAL_NOTE = (f"{LEVEL:.0%} Student t interval over seeds: mean ± t(0.975, n−1)·s/√n, "
                 "s the standard deviation across seeds; none below two seeds")


def _looks_like_path(value: Any) -> bool:
    return isinstance(value, str) and ("/" in value or "\\" in value or PurePosixPath(value).suffix in
                                       {".csv", ".yaml", ".yml", ".parquet"})


def axis_labels(values: list[Any]) -> dict[Any, Any]:
    """Readable labels for one axis's values: file paths by stem when the stems are distinct."""
    paths = [v for v in values if _looks_like_path(v)]
    stems = [PurePosixPath(str(v).replace("\\", "/")).stem for v in paths]
    unique = len(set(stems)) == len(set(paths))
    return {v: (PurePosixPath(str(v).replace("\\", "/")).stem if unique and _looks_like_path(v) else v)
            for v in values}


def label_axes(table: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """A copy of ``table`` with every axis column shown by its readable labels, and a column per paired
    axis (named as the axis) joining its keys' labels: ``lte-all + lte-huang2012``."""
    labelled = table.copy()
    for key in axis_columns(axes):
        labelled[key] = labelled[key].map(axis_labels(list(dict.fromkeys(labelled[key]))))
    for axis in filter(is_paired, axes):
        keys = axis_keys(axis)
        labelled[axis] = [LABEL_SEPARATOR.join(map(str, row)) for row in labelled[keys].itertuples(index=False)]
    return labelled


def summarise(table: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """Seed-aggregated rows, in the order the combinations first appear in ``table``."""
    groups = axis_columns(axis for axis in axes if axis not in seed_axes(axes)) + ["schedule"]
    if table.empty:
        return pd.DataFrame(columns=groups + ["n"])
    present = [s for s in STATISTICS if s in table.columns]
    rows = []
    for key, group in label_axes(table, axes).groupby(groups, sort=False, dropna=False):
        row: dict[str, Any] = dict(zip(groups, key if isinstance(key, tuple) else (key,), strict=True))
        row["n"] = len(group)
        for statistic in present:
            values = group[statistic].to_numpy(float)
            finite = values[np.isfinite(values)]
            low, high = t_interval(finite)
            row[statistic] = float(finite.mean()) if finite.size else float("nan")
            row[f"{statistic}_std"] = float(finite.std(ddof=1)) if finite.size > 1 else float("nan")
            row[f"{statistic}_ci_low"], row[f"{statistic}_ci_high"] = low, high
        rows.append(row)
    return pd.DataFrame(rows)
