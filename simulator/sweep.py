"""Parameter sweeps: one scenario, a grid of dotted-key overrides, a summary row per point and schedule.

File format (YAML, ``format: mercury-sim-sweep/1``)::

    name: reduction-vs-bandwidth
    scenario: ../scenarios/default.yaml        # relative to this file
    set: {workload.duration_s: 60}             # optional: applied to every point
    grid:                                      # every combination of these values is one point
      network.mean_mbps: [10, 20, 40]
      schedules.mercury.reduction: [0.25, 0.5, 0.75]
      workload.seed: [1, 2, 3]

Keys are dotted paths into the scenario (:mod:`simulator.overrides`; a schedule is picked by its label or
kind). Every point is validated before anything runs. Points run in local worker processes or on a Dask
cluster (:mod:`simulator.executors`) and return only their summary rows, so a sweep's memory does not grow
with run length; rows come back in point order and every point carries its own seed, so the table is the
same, bit for bit, on any executor and any number of workers.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from simulator.errors import InputError
from simulator.overrides import apply_overrides
from simulator.validation import load_yaml_mapping, parse_model

SUMMARY_COLUMNS = ("requests", "count", "dropped", "unfinished", "mean_ms", "p50_ms", "p95_ms", "p99_ms",
                   "max_ms", "deadline_miss_rate", "mean_accuracy", "mean_energy_j", "mean_uplink_bytes",
                   "split_after", "parameter")


class SweepFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["mercury-sim-sweep/1"] = "mercury-sim-sweep/1"
    name: str = Field(min_length=1)
    description: str | None = None
    scenario: str = Field(min_length=1, description="Scenario file, relative to the sweep file")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides applied to every point")
    grid: dict[str, list[Any]] = Field(min_length=1, description="Axes: dotted key -> values")


@dataclass(frozen=True)
class SweepPoint:
    """One combination of axis values and the scenario mapping it produces."""

    index: int
    values: dict[str, Any]
    scenario: dict[str, Any]


@dataclass
class Sweep:
    """A loaded, expanded and validated sweep."""

    path: Path
    spec: SweepFile
    scenario_path: Path
    points: list[SweepPoint]

    @property
    def axes(self) -> list[str]:
        return list(self.spec.grid)


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file, expand its grid and validate every point's scenario (nothing runs yet)."""
    from simulator.scenario import scenario_from_dict

    path = Path(path)
    spec = parse_model(SweepFile, load_yaml_mapping(path), path)
    for key, values in spec.grid.items():
        if not values:
            raise InputError(path, "an axis needs at least one value", f"grid.{key}")
    scenario_path = (path.parent / spec.scenario).resolve()
    if not scenario_path.is_file():
        raise InputError(path, f"scenario file not found: {spec.scenario}", "scenario")
    base = load_yaml_mapping(scenario_path)
    apply_overrides(base, spec.set, path, "set")
    points = []
    for index, combo in enumerate(itertools.product(*spec.grid.values())):
        values = dict(zip(spec.grid, combo, strict=True))
        data = copy.deepcopy(base)
        apply_overrides(data, values, path, "grid")
        data["name"] = f"{spec.name}-{index}"
        try:
            scenario_from_dict(data, scenario_path)
        except InputError as exc:
            described = ", ".join(f"{k}={v!r}" for k, v in values.items())
            raise InputError(path, f"point {index} ({described}): {exc.detail}",
                             f"grid -> scenario {exc.where}" if exc.where else "grid") from None
        points.append(SweepPoint(index, values, data))
    return Sweep(path, spec, scenario_path, points)


def run_point(scenario: dict[str, Any], scenario_path: str) -> list[dict[str, Any]]:
    """Simulate one point; its summary, one row per schedule (runs in a worker: picklable in and out)."""
    from simulator.runner import run_scenario
    from simulator.scenario import scenario_from_dict

    result = run_scenario(scenario_from_dict(scenario, Path(scenario_path)))
    rows = []
    for schedule, stats in result.summary.items():
        row: dict[str, Any] = {"schedule": schedule}
        row.update({column: stats.get(column) for column in SUMMARY_COLUMNS})
        row.update({f"mean_{name}": value for name, value in stats.get("components_mean_ms", {}).items()})
        rows.append(row)
    return rows


def run_sweep(sweep: Sweep, *, workers: int | None = 1, dask: str | None = None,
              on_done: Callable[[], None] | None = None) -> pd.DataFrame:
    """Every point on the chosen executor; one row per (point, schedule), in point then schedule order.

    ``workers``: local processes, or the size of a ``dask="local"`` cluster (None: one per CPU); a remote
    Dask cluster brings its own workers.
    """
    from simulator.executors import default_workers, map_dask, map_local

    items = [(point.scenario, str(sweep.scenario_path)) for point in sweep.points]
    if dask:
        results = map_dask(run_point, items, dask, workers, on_done)
    else:
        results = map_local(run_point, items, workers or default_workers(), on_done)
    rows = []
    for point, point_rows in zip(sweep.points, results, strict=True):
        for row in point_rows:
            rows.append({"point": point.index, **{axis: point.values[axis] for axis in sweep.axes}, **row})
    return _tidy(pd.DataFrame(rows), sweep.axes)


def _tidy(table: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """Statistics become numbers (absent = NaN); axis columns mixing numbers and words (``auto``) become
    text, so the table stores as parquet and reads back the same from CSV."""
    for column in table.columns.drop(["point", "schedule", *axes]):
        table[column] = pd.to_numeric(table[column])
    for axis in axes:
        kinds = {type(v) for v in table[axis]}
        if len(kinds) > 1 and not kinds <= {int, float}:
            table[axis] = table[axis].map(str)
    table["schedule"] = table["schedule"].astype(str)
    return table


SWEEP_FILES = frozenset({"sweep.parquet", "sweep.csv", "sweep.json"})


def guard_sweep_folder(sweep: Sweep, out_dir: Path) -> None:
    """Refuse (one line, exit 2) an output folder that is not new, empty or an earlier sweep's."""
    from simulator.output_guard import guard_folder

    guard_folder(out_dir, marker="sweep.json", written=SWEEP_FILES, inputs=[sweep.path, sweep.scenario_path])


def write_sweep(sweep: Sweep, table: pd.DataFrame, out_dir: Path, *, command: list[str],
                executor: str) -> None:
    """``sweep.parquet``, ``sweep.csv`` and ``sweep.json`` (what ran, with which inputs), in one swap."""
    import simulator
    from simulator.atomic import atomic_directory
    from simulator.digest import file_sha256
    from simulator.outputs import git_commit, provenance_dir

    document = {
        "format": "mercury-sim-sweep-results/1",
        "sweep": sweep.spec.model_dump(),
        "sweep_file": str(sweep.path),
        "scenario_file": str(sweep.scenario_path),
        "inputs_sha256": {str(sweep.path): file_sha256(sweep.path),
                          str(sweep.scenario_path): file_sha256(sweep.scenario_path)},
        "points": [{"point": p.index, "values": p.values} for p in sweep.points],
        "executor": executor,
        "command": command,
        "mercury_sim_version": simulator.__version__,
        "git_commit": git_commit(provenance_dir(sweep.path)),
    }
    guard_sweep_folder(sweep, out_dir)
    with atomic_directory(out_dir) as staging:
        table.to_parquet(staging / "sweep.parquet", index=False)
        table.to_csv(staging / "sweep.csv", index=False)
        (staging / "sweep.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
