"""Comparing runs: per schedule, how much each side differs from the first, with 95 % intervals over seeds.

The unit of evidence is a seed: a run's requests share one stretch of the trace and one arrival pattern, so
they are strongly correlated, and an interval drawn from the requests of one run ignores the largest source
of variation, the one between seeds (an A/A study of the default scenario, single runs with a block
bootstrap over requests, called identical configurations different in 27 % of comparisons). So:

- both sides replicated over the **same seeds** (common random numbers: the same arrivals and trace offsets
  per seed): the per-seed differences ``b(s) - a(s)`` are independent across seeds, and their Student t
  interval (paired) removes what both sides share; a side compared with itself gives zero, zero-wide;
- otherwise, each side with **two or more seeds**: Welch's t interval for the difference of the means over
  seeds (unpaired);
- **one seed** on a side: no interval; the difference is shown and the method says how to get one.

Each side's per-seed statistics are those of its ``summary.json`` (mean, p50 and p95 of the latency of
completed requests, deadline-miss rate over all requests, mean accuracy and mobile energy of completed
requests), so a difference is exactly the one the summaries show. Intervals are clipped to the range a
difference of the statistic can take (a rate's difference to [-1, 1], a latency's to (-inf, inf)).

A side is a run folder (``mercury-sim run``, replicated or not) or a configuration of a sweep folder (every
combination of its axes other than the seed axis), named by its axis values.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simulator.diagnostics import RunWarning, named, read_warnings, warnings_json
from simulator.errors import InputError
from simulator.intervals import LEVEL

STATISTICS: dict[str, str] = {"mean_ms": "mean (ms)", "p50_ms": "p50 (ms)", "p95_ms": "p95 (ms)",
                              "deadline_miss_rate": "deadline-miss rate", "mean_accuracy": "top-1 (%)",
                              "mean_energy_j": "mobile energy (J)"}
# What a comparison writes into its folder (with the plotly bundle compare.html loads).
COMPARE_FILES = frozenset({"compare.csv", "compare.json", "compare.html"})
PAIRED, UNPAIRED, ONE_SEED = "paired over seeds", "unpaired (Welch)", "no interval: one seed"
RECOMMENDED_SEEDS = 10
METHOD_NOTE = (f"{LEVEL:.0%} Student t intervals over seeds: paired (per-seed differences) when both sides ran "
               "the same seeds, else Welch's unpaired interval; none for a side with a single seed (requests of "
               f"one run are correlated; run both sides with --seeds 1-{RECOMMENDED_SEEDS}). Clipped to the "
               "range a difference can take")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: per seed, each schedule's statistics, and what identifies it."""

    folder: Path
    name: str
    per_seed: dict[int, dict[str, dict[str, Any]]]  # seed -> schedule -> summary entry
    schedules: list[str]
    deadline_ms: float | None
    manifest: dict[str, Any] = field(default_factory=dict)
    warnings: list[RunWarning] = field(default_factory=list)
    configuration: dict[str, Any] | None = None  # a sweep's: its axis values

    @property
    def seeds(self) -> list[int]:
        return list(self.per_seed)

    def has(self, schedule: str, statistic: str) -> bool:
        """Whether some seed's summary holds the statistic (as a value, or null: unknown)."""
        return any(statistic in entries.get(schedule, {}) for entries in self.per_seed.values())

    def values(self, schedule: str, statistic: str) -> np.ndarray:
        """The statistic per seed (in seed order), NaN where a seed has no value."""
        return np.array([_number(self.per_seed[s].get(schedule, {}).get(statistic)) for s in self.seeds])


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(path, f"cannot read: {exc}") from None


def load_run_side(folder: Path) -> Side:
    """A run folder as a side: its summary per seed (an unreplicated run is one seed)."""
    from simulator.report.stored import REQUIRED

    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise InputError(folder, f"not a results folder: missing {', '.join(missing)}")
    summary, manifest = _json(folder / "summary.json"), _json(folder / "manifest.json")
    if not isinstance(summary, dict) or not isinstance(summary.get("schedules"), dict):
        raise InputError(folder / "summary.json", "expected an object with a 'schedules' object")
    per_seed_raw = summary.get("per_seed")
    if isinstance(per_seed_raw, dict) and per_seed_raw:
        per_seed = {int(seed): entry for seed, entry in per_seed_raw.items()}
    else:
        seed = summary.get("seed", (manifest or {}).get("seed"))
        per_seed = {int(seed) if isinstance(seed, int) else 0: summary["schedules"]}
    return Side(folder, str(summary.get("scenario", folder.name)), per_seed, list(summary["schedules"]),
                summary.get("deadline_ms"), manifest if isinstance(manifest, dict) else {},
                read_warnings(summary.get("warnings")))


def load_sweep_sides(folder: Path) -> list[Side]:
    """A sweep folder as one side per configuration of its axes other than the seed axis."""
    from simulator.aggregate import label_axes
    from simulator.sweep_axes import axis_columns, seed_axes

    document = _json(folder / "sweep.json")
    axes = list((document.get("sweep") or {}).get("grid") or {})
    try:
        table = pd.read_parquet(folder / "sweep.parquet")
    except Exception as exc:  # pyarrow raises several types for missing and corrupt files
        raise InputError(folder / "sweep.parquet", f"cannot read: {exc}") from None
    seed_columns = axis_columns(seed_axes(axes))
    varied = axis_columns(a for a in axes if a not in seed_axes(axes))
    labelled = label_axes(table, axes)
    deadline = ((document.get("sweep") or {}).get("set") or {}).get("workload.deadline_ms")
    sides = []
    groups = labelled.groupby(varied, sort=False, dropna=False) if varied else [((), labelled)]
    for key, rows in groups:
        values = dict(zip(varied, key if isinstance(key, tuple) else (key,), strict=True))
        seeds = rows[seed_columns[0]] if seed_columns else pd.Series(0, index=rows.index)
        per_seed: dict[int, dict[str, dict[str, Any]]] = {}
        for seed, row in zip(seeds, rows.to_dict("records"), strict=True):
            per_seed.setdefault(int(seed), {})[str(row["schedule"])] = row
        described = ", ".join(f"{k}={v}" for k, v in values.items()) or "all points"
        sides.append(Side(folder, f"{document.get('sweep', {}).get('name', folder.name)}: {described}", per_seed,
                          list(dict.fromkeys(str(s) for s in rows["schedule"])), deadline, {},
                          read_warnings(document.get("warnings")), values))
    return sides


def load_sides(folder: str | Path) -> list[Side]:
    """A run folder (one side) or a sweep folder (a side per configuration); other folders are refused."""
    path = Path(folder)
    if not path.is_dir():
        raise InputError(path, "results folder not found")
    if (path / "sweep.json").is_file():
        return load_sweep_sides(path)
    return [load_run_side(path)]


def difference_bounds(statistic: str) -> tuple[float, float]:
    """The range a difference of ``statistic`` can take: ``[low - high, high - low]`` of its own range."""
    from simulator.aggregate import statistic_bounds

    low, high = statistic_bounds(statistic)
    return low - high, high - low


def interval(a: np.ndarray, b: np.ndarray, *, paired: bool, statistic: str) -> tuple[float, float, float, str]:
    """``mean(b) - mean(a)``, its clipped 95 % t interval and the method; NaN bounds when a side has one seed."""
    if paired:
        finite = np.isfinite(a) & np.isfinite(b)
        a, b = a[finite], b[finite]
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan"), float("nan"), "no value"
    point = float(b.mean() - a.mean())
    if same_up_to_rounding(np.concatenate([a, b])):  # the same on every seed of both sides, up to rounding
        point = 0.0
    if paired and a.size >= 2:
        d = b - a
        if same_up_to_rounding(d):  # every seed shifted alike: the interval is that shift
            low = high = point
        else:
            low, high = stats.ttest_rel(b, a).confidence_interval(LEVEL)
        method = f"{PAIRED} ({a.size})"
    elif not paired and a.size >= 2 and b.size >= 2:
        if same_up_to_rounding(a) and same_up_to_rounding(b):
            low = high = point
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # one side constant: Welch still holds
                low, high = stats.ttest_ind(b, a, equal_var=False).confidence_interval(LEVEL)
        method = f"{UNPAIRED} ({a.size} vs {b.size})"
    else:
        return point, float("nan"), float("nan"), ONE_SEED
    lowest, highest = difference_bounds(statistic)
    return point, float(np.clip(low, lowest, highest)), float(np.clip(high, lowest, highest)), method


def same_up_to_rounding(x: np.ndarray) -> bool:
    """Equal up to rounding (sums taken in another order differ in the last bits; a t interval then says
    nothing but that rounding)."""
    return bool(np.ptp(x) <= 1e-9 * max(1.0, float(np.abs(x).max())))


def is_paired(a: Side, b: Side) -> bool:
    """Both sides ran the same two or more seeds (one common seed cannot give an interval)."""
    return len(a.seeds) >= 2 and sorted(a.seeds) == sorted(b.seeds)


def compare(a: Side, b: Side) -> pd.DataFrame:
    """One row per (schedule both ran, statistic): each side's mean over seeds, b − a and its interval."""
    paired = is_paired(a, b)
    order = sorted(a.seeds) if paired else None
    rows = []
    for schedule in [s for s in a.schedules if s in b.schedules]:
        for statistic in STATISTICS:
            x = _ordered(a, schedule, statistic, order)
            y = _ordered(b, schedule, statistic, order)
            if not (a.has(schedule, statistic) or b.has(schedule, statistic)):
                continue  # neither side computes the statistic (no deadline): no row; an unknown one stays
            difference, low, high, method = interval(x, y, paired=paired, statistic=statistic)
            rows.append({"run": b.name, "schedule": schedule, "statistic": statistic,
                         "a": _mean(x), "b": _mean(y), "difference": difference, "ci_low": low, "ci_high": high,
                         "n_a": int(np.isfinite(x).sum()), "n_b": int(np.isfinite(y).sum()), "method": method})
    return pd.DataFrame(rows)


def _ordered(side: Side, schedule: str, statistic: str, order: list[int] | None) -> np.ndarray:
    values = side.values(schedule, statistic)
    if order is None:
        return values
    where = {seed: i for i, seed in enumerate(side.seeds)}
    return values[[where[seed] for seed in order]]


def _mean(x: np.ndarray) -> float:
    finite = x[np.isfinite(x)]
    if not finite.size:
        return float("nan")
    return float(finite[0]) if (finite == finite[0]).all() else float(finite.mean())


def distinct_names(sides: list[Side]) -> list[Side]:
    """Sides of one scenario share its name: those are told apart by folder (then by path)."""
    names = [s.name for s in sides]
    for describe in (lambda s, name: f"{name} ({s.folder.name})", lambda s, name: f"{name} ({s.folder})"):
        shown = [s.name for s in sides]
        sides = [replace(s, name=describe(s, name)) if shown.count(s.name) > 1 else s
                 for s, name in zip(sides, names, strict=True)]
    return sides


def compare_runs(folders: list[str | Path]) -> tuple[list[Side], pd.DataFrame]:
    """Every side after the first against the first (a sweep folder adds one side per configuration)."""
    needs_two = InputError(None, "compare needs at least two runs (run folders, or a sweep folder with two or "
                                 "more configurations)", "RUNS")
    if not folders or (len(folders) == 1 and not (Path(folders[0]) / "sweep.json").is_file()):
        raise needs_two
    sides = distinct_names([side for folder in folders for side in load_sides(folder)])
    if len(sides) < 2:
        raise needs_two
    tables = [compare(sides[0], other) for other in sides[1:]]
    return sides, pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def one_seed_note(sides: list[Side]) -> str | None:
    """The line that says why some differences have no interval and how to get one, if any have none."""
    single = [s.name for s in sides if len(s.seeds) < 2]
    if not single:
        return None
    return (f"no interval where a side has one seed ({', '.join(single)}): the requests of one run share one "
            "stretch of the trace, so they cannot show how results vary; replicate both sides with --seeds "
            f"1-{RECOMMENDED_SEEDS} (or a workload.seed list) and compare again")


def guard_compare_folder(out_dir: Path, sides: list[Side]) -> None:
    """Only a new, empty or earlier comparison folder (compare.json) is written into (other files in it
    are kept); never a folder holding one of the compared runs."""
    from simulator.output_guard import PLOTLY_BUNDLE, guard_folder

    guard_folder(out_dir, marker="compare.json", written={*COMPARE_FILES, PLOTLY_BUNDLE},
                 inputs=list(dict.fromkeys(side.folder for side in sides)), keeps_others=True)


def write_comparison(sides: list[Side], table: pd.DataFrame, out_dir: Path, *, command: list[str],
                     self_contained: bool = False) -> Path:
    """``compare.csv``, ``compare.json`` (the sides, the method, their warnings) and ``compare.html``, in one
    swap."""
    import simulator
    from simulator.atomic import atomic_directory
    from simulator.report.compare_page import write_compare_page

    guard_compare_folder(out_dir, sides)
    note = one_seed_note(sides)
    document = {
        "format": "mercury-sim-compare/1",
        "baseline": str(sides[0].folder),
        "runs": [{"folder": str(s.folder), "name": s.name, "seeds": s.seeds, "deadline_ms": s.deadline_ms,
                  "configuration": s.configuration, "git_commit": s.manifest.get("git_commit"),
                  "command": s.manifest.get("command"), "warnings": warnings_json(s.warnings)} for s in sides],
        "warnings": warnings_json(named(s.name, w) for s in sides for w in s.warnings),
        "method": METHOD_NOTE,
        "notes": [note] if note else [],
        "command": command,
        "mercury_sim_version": simulator.__version__,
        "differences": json.loads(table.to_json(orient="records")),
    }
    with atomic_directory(out_dir, keep_existing=True) as staging:
        table.to_csv(staging / "compare.csv", index=False)
        (staging / "compare.json").write_text(json.dumps(document, indent=2) + "\n")
        write_compare_page(staging, self_contained=self_contained)
    return out_dir
