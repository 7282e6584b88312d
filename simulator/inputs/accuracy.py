"""Accuracy tables: top-1 against a token-reduction parameter, interpolated monotonically (PCHIP).

CSV columns: ``model, dataset, method, split_after, parameter, reconstruction, top1, source``.
``method`` is ``none`` (unreduced), ``mercury`` (parameter = reduction rate 0..0.75), ``tome`` (OTAS'
constant r), ``janus`` (alpha) or ``ats`` (reduction rate). ``split_after`` left empty means the row holds
for any split. ``source`` says where the number comes from and starts with ``published:``,
``fitted:`` or ``measured:``. Leading ``#`` lines are a comment block (table-level provenance).
An optional ``prune_point`` column (``after_block1`` | ``before_block1``) tells Mercury rows measured with
pruning before block 1 from the default; a row without it (or with it empty) means ``after_block1``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.errors import InputError
from simulator.inputs.data import shipped_dir
from simulator.inputs.numeric import MonotoneCubic, brent_root

COLUMNS = ["model", "dataset", "method", "split_after", "parameter", "reconstruction", "top1", "source"]
METHODS = ("none", "mercury", "tome", "janus", "ats")
PRUNE_POINTS = ("after_block1", "before_block1")
SOURCE_KINDS = ("published", "fitted", "measured")


# What each method's parameter is called (in warnings that name it).
PARAMETER_NAMES = {"none": "parameter", "mercury": "reduction", "tome": "r", "janus": "alpha", "ats": "reduction"}
ROW_TOLERANCE = 1e-9  # a parameter this close to a table row reads that row


@dataclass(frozen=True)
class Interpolated:
    """A top-1 read between two rows of a table (PCHIP) rather than at one: the rows it lies between."""

    method: str
    split_after: int | None  # the rows' split (None: rows that hold for any split)
    parameter: float
    below: float
    above: float

    def describe(self) -> str:
        split = f" (split {self.split_after})" if self.split_after is not None else ""
        name = PARAMETER_NAMES.get(self.method, "parameter")
        return (f"top-1 at {name} {self.parameter:g} interpolated between table rows {self.below:g} and "
                f"{self.above:g}{split} (monotone cubic): no row measures it; add one to the accuracy table to be sure")


@dataclass(frozen=True)
class AccuracyCurve:
    """Top-1 (%) as a monotone function of one method's parameter."""

    label: str
    parameters: np.ndarray
    top1: np.ndarray
    method: str = ""
    split_after: int | None = None  # the split its rows were measured at (None: any split)

    def __post_init__(self) -> None:
        if self.parameters.size >= 2:
            object.__setattr__(self, "_interp", MonotoneCubic(self.parameters, self.top1))

    @property
    def range(self) -> tuple[float, float]:
        return float(self.parameters[0]), float(self.parameters[-1])

    def accuracy(self, parameter: float) -> float:
        """Top-1 at ``parameter``; outside the table's range is an error, never an extrapolation."""
        lo, hi = self.range
        if not lo - 1e-9 <= parameter <= hi + 1e-9:
            raise ValueError(f"parameter {parameter:g} outside the accuracy table's range [{lo:g}, {hi:g}] "
                             f"for {self.label}")
        if self.parameters.size == 1:
            return float(self.top1[0])
        return float(self._interp(min(max(parameter, lo), hi)))  # type: ignore[attr-defined]

    def interpolated(self, parameter: float) -> Interpolated | None:
        """The two rows ``parameter`` lies between, or None when it reads a row (or lies outside the table)."""
        rows = self.parameters
        lo, hi = self.range
        if rows.size < 2 or not lo < parameter < hi or np.abs(rows - parameter).min() <= ROW_TOLERANCE:
            return None
        above = int(np.searchsorted(rows, parameter))
        return Interpolated(self.method, self.split_after, float(parameter), float(rows[above - 1]),
                            float(rows[above]))

    def parameter_for(self, target: float, *, integer: bool = False, step: float | None = None) -> float:
        """The most aggressive parameter whose accuracy still meets ``target`` (the paper's equal-accuracy rule).

        Raises ValueError when even the mildest parameter misses the target.
        """
        lo, hi = self.range
        if self.accuracy(lo) < target - 1e-9:
            raise ValueError(f"{self.label} cannot reach {target:g} % top-1 (best {self.accuracy(lo):.2f} %)")
        if integer:
            candidates = np.arange(math.ceil(lo), math.floor(hi) + 1)
            ok = [c for c in candidates if self.accuracy(float(c)) >= target - 1e-9]
            return float(max(ok))
        grid = np.linspace(lo, hi, 2001)
        values = np.array([self.accuracy(float(g)) for g in grid])
        meets = values >= target - 1e-9
        last = int(np.nonzero(meets)[0].max())
        best = float(grid[last])
        if last + 1 < grid.size:
            best = brent_root(lambda p: self.accuracy(p) - target, float(grid[last]), float(grid[last + 1]))
        if step:
            best = math.floor(best / step + 1e-9) * step
            best = round(best, 10)
        return best


class AccuracyTable:
    """All rows of one or more accuracy CSV files."""

    def __init__(self, frame: pd.DataFrame, sources: list[str]) -> None:
        self.frame = frame
        self.sources = sources

    @classmethod
    def read(cls, paths: list[Path]) -> AccuracyTable:
        frames = [read_accuracy_csv(p) for p in paths]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*COLUMNS, "prune_point"])
        return cls(frame, [str(p) for p in paths])

    @classmethod
    def shipped(cls) -> AccuracyTable:
        folder = shipped_dir("accuracy")
        return cls.read(sorted(folder.glob("*.csv")) if folder else [])

    def curve(self, model: str, dataset: str, method: str, split_after: int | None,
              reconstruction: str = "none", prune_point: str = "after_block1") -> AccuracyCurve:
        """Rows for (model, dataset, method, reconstruction, prune point) at this split, else split-agnostic rows."""
        f = self.frame
        base = f[(f.model == model) & (f.dataset == dataset) & (f.method == method)
                 & (f.reconstruction == reconstruction) & (f.prune_point == prune_point)]
        exact = base[base.split_after == split_after] if split_after is not None else base.iloc[0:0]
        rows = exact if len(exact) else base[base.split_after.isna()]
        label = f"{model}/{dataset}/{method}" + (f"/{reconstruction}" if reconstruction != "none" else "") + \
            (f"/{prune_point}" if prune_point != "after_block1" else "") + \
            (f"/split {split_after}" if len(exact) else "")
        if rows.empty:
            have = sorted({f"{m}/{r}" for m, r in zip(f[(f.model == model) & (f.dataset == dataset)].method,
                                                       f[(f.model == model) & (f.dataset == dataset)]
                                                       .reconstruction, strict=True)})
            raise LookupError(f"no accuracy rows for {label}; the tables hold {', '.join(have) or 'nothing'} "
                              f"for {model}/{dataset}; "
                              f"{measure_hint(model, dataset, method, split_after, reconstruction, prune_point)}")
        rows = rows.sort_values("parameter")
        return AccuracyCurve(label, rows.parameter.to_numpy(float), rows.top1.to_numpy(float), method,
                             split_after if len(exact) else None)

    def baseline(self, model: str, dataset: str) -> float:
        """Top-1 of the unreduced model."""
        return self.curve(model, dataset, "none", None).accuracy(0.0)


def measure_hint(model: str, dataset: str, method: str = "none", split_after: int | None = None,
                 reconstruction: str = "none", prune_point: str = "after_block1") -> str:
    """How to measure rows the tables lack (``mercury-sim accuracy``), for the error or warning naming them."""
    words = [f"mercury-sim accuracy --model {model} --checkpoint CKPT --data DIR --dataset-name {dataset}",
             f"--method {method}"]
    if split_after is not None and method in ("mercury", "ats"):  # the harness writes no split for the others
        words.append(f"--split-after {split_after}")
    if method != "none":
        words.append("--grid VALUES")
    if reconstruction != "none":
        words.append(f"--reconstruction {reconstruction}" + (" --tokens FILE" if reconstruction == "learned" else ""))
    if prune_point != "after_block1":
        words.append(f"--prune-point {prune_point}")
    return f"measure them with '{' '.join(words)} -o FILE.csv' and list FILE.csv under accuracy_tables"


def read_accuracy_csv(path: Path) -> pd.DataFrame:
    """Parse and validate one accuracy CSV; problems raise InputError naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot read accuracy table ({exc})") from None
    return parse_accuracy_text(text, path)


def parse_accuracy_text(text: str, path: Path) -> pd.DataFrame:
    """Parse and validate the text of an accuracy CSV; errors name ``path`` (a table about to be written)."""
    lines = text.splitlines()
    body_start = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), None)
    if body_start is None:
        raise InputError(path, "accuracy table holds no rows")
    try:
        frame = pd.read_csv(io.StringIO("\n".join(lines[body_start:])), dtype={"split_after": "Int64"},
                            keep_default_na=False, na_values={"split_after": [""]})
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(path, f"malformed CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(path, f"missing column(s) {missing}; expected {','.join(COLUMNS)}", "header")
    for i, row in enumerate(frame.itertuples(index=False), start=body_start + 2):
        where = f"line {i}"
        if row.method not in METHODS:
            raise InputError(path, f"method {row.method!r} unknown; expected one of {', '.join(METHODS)}", where)
        try:
            top1, parameter = float(row.top1), float(row.parameter)
        except (TypeError, ValueError):
            raise InputError(path, "top1 and parameter must be numbers", where) from None
        if not (0.0 <= top1 <= 100.0) or not math.isfinite(parameter):
            raise InputError(path, f"top1 must be a percentage in [0, 100], got {row.top1}", where)
        if str(row.source).split(":")[0] not in SOURCE_KINDS:
            raise InputError(path, f"source must start with {'/'.join(SOURCE_KINDS)}:, got {row.source!r}", where)
        point = getattr(row, "prune_point", "")
        if point not in ("", *PRUNE_POINTS):
            raise InputError(path, f"prune_point {point!r} unknown; expected {' or '.join(PRUNE_POINTS)} or empty",
                             where)
    frame["top1"] = frame["top1"].astype(float)
    frame["parameter"] = frame["parameter"].astype(float)
    frame["reconstruction"] = frame["reconstruction"].replace("", "none")
    frame["prune_point"] = frame["prune_point"].replace("", "after_block1") if "prune_point" in frame else \
        "after_block1"
    _check_monotone(path, frame)
    return frame[[*COLUMNS, "prune_point"]]


def _check_monotone(path: Path, frame: pd.DataFrame) -> None:
    keys = ["model", "dataset", "method", "split_after", "reconstruction", "prune_point"]
    for key, group in frame.groupby(keys, dropna=False):
        g = group.sort_values("parameter")
        if g.parameter.duplicated().any():
            raise InputError(path, f"duplicate parameter values for {'/'.join(map(str, key))}")
        if np.any(np.diff(g.top1.to_numpy()) > 1e-9):
            raise InputError(path, f"top1 must not rise as the reduction parameter grows "
                                   f"({'/'.join(map(str, key))})")
