"""A sweep's table over seeds: one row per combination of the other axes and schedule, with the mean,
standard deviation, 95 % t interval and number of seeds of every statistic.

A statistic's mean, interval and ``<statistic>_n`` use exactly the seeds where it has a value (an unknown
accuracy or energy is NaN, never a zero); ``n`` counts the seeds that ran. Each interval is clipped to its
statistic's range (:data:`BOUNDS`, the one place ranges are defined, used by the table, the page and the CSV).

A seed axis is any axis whose last key part is ``seed`` (``workload.seed``; a paired axis when all its keys
are seeds). Axis values that are file paths are shown by file name (``lte-all``), or by the path as written
where two names would collide. The summary keeps one column per key of a paired axis.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from simulator.analysis.intervals import LEVEL, UNBOUNDED, Bounds, t_interval
from simulator.config.sweep_axes import LABEL_SEPARATOR, axis_columns, axis_keys, is_paired, seed_axes

STATISTICS = ("mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "deadline_miss_rate", "mean_accuracy",
              "mean_energy_j", "mean_uplink_bytes", "split_after", "parameter")
# The range each statistic of a sweep's table cannot leave: name patterns (fnmatch), the first match wins;
# a statistic no pattern matches is unbounded. Rates and shares are fractions (the page shows them in %).
BOUNDS: tuple[tuple[str, Bounds], ...] = (
    ("oracle_gap_ms", UNBOUNDED),  # a schedule may beat the oracle's candidates
    ("mean_accuracy", (0.0, 100.0)),  # top-1 in %
    ("*_rate", (0.0, 1.0)), ("*_share", (0.0, 1.0)),
    ("*_ms", (0.0, np.inf)), ("*_j", (0.0, np.inf)), ("*_bytes", (0.0, np.inf)),
    ("requests", (0.0, np.inf)), ("count", (0.0, np.inf)), ("dropped", (0.0, np.inf)),
    ("unfinished", (0.0, np.inf)), ("split_after", (0.0, np.inf)),
    ("parameter", (0.0, np.inf)),  # every schedule's is a rate, count, exponent, fraction or threshold
)
SAME_RTOL = 1e-9  # seeds whose statistics agree this closely ran the same simulation
INTERVAL_NOTE = (f"{LEVEL:.0%} Student t interval over seeds: mean ± t(0.975, n−1)·s/√n, s the standard "
                 "deviation across the n seeds where the statistic has a value (none below two), clipped to the "
                 "statistic's range (latencies, energies and bytes ≥ 0; rates in [0, 1], shown as 0-100 %; "
                 "accuracy in [0, 100] %): the mean cannot lie outside it, so clipping removes only impossible "
                 "values and the coverage cannot fall")


def statistic_bounds(statistic: str) -> Bounds:
    """The range ``statistic`` cannot leave (:data:`BOUNDS`); unbounded when no pattern names it."""
    return next((bounds for pattern, bounds in BOUNDS if fnmatchcase(statistic, pattern)), UNBOUNDED)


def finite_mean(values: np.ndarray) -> float:
    """The mean of the finite values (NaN when none); the value itself when all are equal, so three seeds of
    91.2 % give 91.2, not 91.20000000000003."""
    x = np.asarray(values, float)
    finite = x[np.isfinite(x)]
    if not finite.size:
        return float("nan")
    return float(finite[0]) if (finite == finite[0]).all() else float(finite.mean())


def over_seeds(values: np.ndarray, statistic: str) -> dict[str, float]:
    """Mean, standard deviation, clipped t interval and count of the seeds' finite values of ``statistic``."""
    x = np.asarray(values, float)
    finite = x[np.isfinite(x)]
    low, high = t_interval(finite, bounds=statistic_bounds(statistic))
    return {"mean": finite_mean(finite),
            "std": float(finite.std(ddof=1)) if finite.size > 1 else float("nan"),
            "low": low, "high": high, "n": finite.size}


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
            agg = over_seeds(group[statistic].to_numpy(float), statistic)
            row[statistic], row[f"{statistic}_std"] = agg["mean"], agg["std"]
            row[f"{statistic}_ci_low"], row[f"{statistic}_ci_high"] = agg["low"], agg["high"]
            row[f"{statistic}_n"] = agg["n"]
        rows.append(row)
    return pd.DataFrame(rows)


def identical_over_seeds(table: pd.DataFrame, axes: list[str], skip_points: set[int] | frozenset[int] = frozenset()
                         ) -> list[str]:
    """The configurations (the other axes' values, ``a=1, b=lte-all``; ``""`` when no other axis) where every
    seed gave the same rows for every schedule (numbers equal to :data:`SAME_RTOL`, the rounding of sums taken
    from different trace offsets aside): the seed changed nothing there. Configurations holding a point of
    ``skip_points`` are left out, and so are those that ran fewer than two seeds."""
    seeds = seed_axes(axes)
    if not seeds or table.empty:
        return []
    seed_columns = axis_columns(seeds)
    varied = axis_columns(axis for axis in axes if axis not in seeds)
    compared = [column for column in table.columns if column not in {"point", *seed_columns}]
    labelled = label_axes(table, axes)
    groups = labelled.groupby(varied, sort=False, dropna=False) if varied else [((), labelled)]
    found = []
    for key, group in groups:
        if skip_points & set(group["point"]):
            continue
        runs = [rows[compared].reset_index(drop=True)
                for _, rows in group.groupby(seed_columns, sort=False, dropna=False)]
        if len(runs) >= 2 and all(_same_rows(runs[0], run) for run in runs[1:]):
            values = key if isinstance(key, tuple) else (key,)
            found.append(", ".join(f"{column}={value}" for column, value in zip(varied, values, strict=True)))
    return found


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same shape, text equal, numbers equal to :data:`SAME_RTOL` (NaN equal to NaN)."""
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return False
    for column in a.columns:
        x, y = a[column], b[column]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            if not np.allclose(x.to_numpy(float), y.to_numpy(float), rtol=SAME_RTOL, atol=1e-12, equal_nan=True):
                return False
        elif not x.reset_index(drop=True).equals(y.reset_index(drop=True)):
            return False
    return True
