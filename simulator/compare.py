"""Comparing runs: per schedule, how much each run differs from the first, with 95 % bootstrap intervals.

Two runs that share their arrivals and seed saw the same requests, so request i of one is request i of the
other: differences are then paired (requests resampled together, which removes the variation both runs
share; a run compared with itself gives zero with a zero-width interval). Otherwise each run is resampled
on its own (unpaired). Statistics are those of ``summary.json``: mean, p50 and p95 of the latency of
completed requests, the deadline-miss rate over all requests (dropped and unfinished ones miss), and the
mean accuracy and mobile energy of completed requests.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import InputError
from simulator.intervals import BOOTSTRAP_RESAMPLES, LEVEL, bootstrap_difference

COLUMNS = ["schedule", "device", "request_id", "arrival_s", "total_ms", "status", "accuracy", "energy_j"]
STATISTICS: dict[str, str] = {"mean_ms": "mean (ms)", "p50_ms": "p50 (ms)", "p95_ms": "p95 (ms)",
                              "deadline_miss_rate": "deadline-miss rate", "mean_accuracy": "top-1 (%)",
                              "mean_energy_j": "mobile energy (J)"}
# What a comparison writes into its folder (with the plotly bundle compare.html loads).
COMPARE_FILES = frozenset({"compare.csv", "compare.json", "compare.html"})
METHOD_NOTE = (f"{LEVEL:.0%} percentile bootstrap, {BOOTSTRAP_RESAMPLES} resamples of the requests with a fixed "
               "seed; paired (requests resampled together) when the runs share arrivals and seed, else unpaired")


@dataclass(frozen=True)
class ComparedRun:
    """A run folder's records and what identifies it."""

    folder: Path
    name: str
    seed: Any
    deadline_ms: float | None
    records: pd.DataFrame
    schedules: list[str]
    manifest: dict[str, Any]


def load_compared(folder: str | Path) -> ComparedRun:
    """A run folder, or an InputError naming what is missing (a sweep or any other folder is refused)."""
    from simulator.report.stored import load_run

    run = load_run(Path(folder), COLUMNS)
    records = run.records.copy()
    records["schedule"] = records["schedule"].astype(str)
    return ComparedRun(run.folder, str(run.summary.get("scenario", run.folder.name)), run.manifest.get("seed"),
                       run.summary.get("deadline_ms"), records, run.schedules, run.manifest)


def _per_request(run: ComparedRun, schedule: str) -> dict[str, np.ndarray]:
    """The schedule's requests in (device, request_id) order: NaN where a request did not complete."""
    rows = run.records[run.records.schedule == schedule].sort_values(["device", "request_id"], kind="stable")
    ok = (rows.status == "ok").to_numpy()
    total = np.where(ok, rows.total_ms.to_numpy(float), np.nan)
    values = {"total": total, "accuracy": np.where(ok, rows.accuracy.to_numpy(float), np.nan),
              "energy": np.where(ok, rows.energy_j.to_numpy(float), np.nan),
              "keys": rows[["device", "request_id", "arrival_s"]].to_numpy(float)}
    if run.deadline_ms is not None:
        values["missed"] = np.where(ok & (total <= run.deadline_ms), 0.0, 1.0)
    return values


def _nanmean(x: np.ndarray) -> np.ndarray:
    counts = np.isfinite(x).sum(axis=1)
    sums = np.where(np.isfinite(x), x, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _nanpercentile(q: float) -> Callable[[np.ndarray], np.ndarray]:
    def statistic(x: np.ndarray) -> np.ndarray:
        if np.isfinite(x).all():
            return np.percentile(x, q, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN row: no completed request drawn
            return np.nanpercentile(x, q, axis=1)
    return statistic


# statistic -> (per-request series, function of resampled rows)
MEASURES: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "mean_ms": ("total", _nanmean), "p50_ms": ("total", _nanpercentile(50)),
    "p95_ms": ("total", _nanpercentile(95)), "deadline_miss_rate": ("missed", _nanmean),
    "mean_accuracy": ("accuracy", _nanmean), "mean_energy_j": ("energy", _nanmean),
}


def paired(a: ComparedRun, b: ComparedRun) -> bool:
    """Same seed, and every common schedule has the same requests arriving at the same times."""
    if a.seed != b.seed:
        return False
    for schedule in set(a.schedules) & set(b.schedules):
        keys_a, keys_b = _per_request(a, schedule)["keys"], _per_request(b, schedule)["keys"]
        if keys_a.shape != keys_b.shape or not np.array_equal(keys_a, keys_b):
            return False
    return True


def compare(a: ComparedRun, b: ComparedRun) -> pd.DataFrame:
    """One row per (schedule both ran, statistic): the value in each run, b − a and its interval."""
    is_paired = paired(a, b)
    rows = []
    for schedule in [s for s in a.schedules if s in b.schedules]:
        values_a, values_b = _per_request(a, schedule), _per_request(b, schedule)
        for statistic, (series, function) in MEASURES.items():
            if series not in values_a or series not in values_b:
                continue
            x, y = values_a[series], values_b[series]
            difference, low, high = bootstrap_difference(x, y, function, paired=is_paired)
            rows.append({"run": b.name, "schedule": schedule, "statistic": statistic,
                         "a": float(function(x[None, :])[0]), "b": float(function(y[None, :])[0]),
                         "difference": difference, "ci_low": low, "ci_high": high,
                         "method": "paired" if is_paired else "unpaired"})
    return pd.DataFrame(rows)


def distinct_names(runs: list[ComparedRun]) -> list[ComparedRun]:
    """Runs of one scenario share its name: those are told apart by folder (then by path)."""
    from dataclasses import replace

    names = [r.name for r in runs]
    for describe in (lambda r, name: f"{name} ({r.folder.name})", lambda r, name: f"{name} ({r.folder})"):
        shown = [r.name for r in runs]
        runs = [replace(r, name=describe(r, name)) if shown.count(r.name) > 1 else r
                for r, name in zip(runs, names, strict=True)]
    return runs


def compare_runs(folders: list[str | Path]) -> tuple[list[ComparedRun], pd.DataFrame]:
    """Every run after the first against the first."""
    if len(folders) < 2:
        raise InputError(None, "compare needs at least two run folders", "RUNS")
    runs = distinct_names([load_compared(folder) for folder in folders])
    tables = [compare(runs[0], other) for other in runs[1:]]
    return runs, pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def guard_compare_folder(out_dir: Path, runs: list[ComparedRun]) -> None:
    """Only a new, empty or earlier comparison folder (compare.json) is written into (other files in it
    are kept); never a folder holding one of the compared runs."""
    from simulator.output_guard import PLOTLY_BUNDLE, guard_folder

    guard_folder(out_dir, marker="compare.json", written={*COMPARE_FILES, PLOTLY_BUNDLE},
                 inputs=[run.folder for run in runs], keeps_others=True)


def write_comparison(runs: list[ComparedRun], table: pd.DataFrame, out_dir: Path, *, command: list[str],
                     self_contained: bool = False) -> Path:
    """``compare.csv``, ``compare.json`` (the runs, the method) and ``compare.html``, in one swap."""
    import simulator
    from simulator.atomic import atomic_directory
    from simulator.report.compare_page import write_compare_page

    guard_compare_folder(out_dir, runs)
    document = {
        "format": "mercury-sim-compare/1",
        "baseline": str(runs[0].folder),
        "runs": [{"folder": str(r.folder), "name": r.name, "seed": r.seed, "deadline_ms": r.deadline_ms,
                  "git_commit": r.manifest.get("git_commit"), "command": r.manifest.get("command")} for r in runs],
        "method": METHOD_NOTE,
        "command": command,
        "mercury_sim_version": simulator.__version__,
        "differences": json.loads(table.to_json(orient="records")),
    }
    with atomic_directory(out_dir, keep_existing=True) as staging:
        table.to_csv(staging / "compare.csv", index=False)
        (staging / "compare.json").write_text(json.dumps(document, indent=2) + "\n")
        write_compare_page(staging, self_contained=self_contained)
    return out_dir
