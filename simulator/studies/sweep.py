"""Parameter sweeps: one scenario, a grid of dotted-key overrides, a summary row per point and schedule.

File format (YAML, ``format: mercury-sim-sweep/1``)::

    name: reduction-vs-bandwidth
    scenario: ../scenarios/default.yaml        # relative to this file
    set: {workload.duration_s: 60}             # optional: applied to every point
    grid:                                      # every combination of these values is one point
      network.mean_mbps: [10, 20, 40]
      schedules.mercury.reduction: [0.25, 0.5, 0.75]
      network.trace + energy.radio:            # paired: one axis, each row sets both keys
        - [../traces/synthetic/lte-all.csv, lte-huang2012]
        - [../traces/synthetic/5g-all.csv, 5g-nsa-mmwave-narayanan2021]
      workload.seed: [1, 2, 3]

Keys are dotted paths into the scenario (:mod:`simulator.config.overrides`; a schedule is picked by its label or
kind; paired axes: :mod:`simulator.config.sweep_axes`). Every point is validated before anything runs. Points run
in local worker processes or on a Dask cluster (:mod:`simulator.studies.executors`) and return only their summary
rows, so a sweep's memory does not grow with run length; rows come back in point order and every point
carries its own seed, so the table is the same, bit for bit, on any executor and any number of workers.

Resuming: with an output folder, each finished point is saved at once as ``points/<key>.json``, the key being
the hash of the point's resolved scenario and the contents of its input files. A re-run into the same folder
reuses every saved point whose key still matches and computes only the rest; rows always pass through the
saved JSON form, so a resumed sweep writes the same table, byte for byte, as an uninterrupted one. A point
that fails (a value its schedule refuses) is named in the error and the others are still written. Ctrl-C,
SIGTERM or SIGHUP stops the workers at once (nothing of the process pool is left behind) and ends with one
line: how many points are saved, and that the same command resumes from them.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from simulator.config.overrides import apply_overrides
from simulator.config.sweep_axes import axis_columns, axis_keys, grid_points, seed_axes
from simulator.errors import InputError, RunWarning, named, read_warnings, warnings_json
from simulator.files.output_guard import PLOTLY_BUNDLE
from simulator.files.validation import load_yaml_mapping, parse_model

if TYPE_CHECKING:
    from simulator.config.scenario import Scenario

SUMMARY_COLUMNS = ("requests", "count", "dropped", "unfinished", "mean_ms", "p50_ms", "p95_ms", "p99_ms",
                   "max_ms", "deadline_miss_rate", "mean_accuracy", "mean_energy_j", "mean_uplink_bytes")
# What a schedule chose per request: a mean (a number) and, when it varies, its distribution (text)
CHOSEN = ("split_after", "parameter")
POINT_FORMAT = "mercury-sim-sweep-point/1"
POINTS_DIR = "points"
TABLE_FILES = ("sweep.parquet", "sweep.csv", "sweep-summary.parquet", "sweep-summary.csv", "sweep.json")
# What a sweep writes into its folder besides points/ (the page, and the plotly bundle it loads).
SWEEP_FILES = frozenset({*TABLE_FILES, "sweep.html", PLOTLY_BUNDLE})


class SweepFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["mercury-sim-sweep/1"] = "mercury-sim-sweep/1"
    name: str = Field(min_length=1)
    description: str | None = None
    scenario: str = Field(min_length=1, description="Scenario file, relative to the sweep file")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides applied to every point")
    grid: dict[str, list[Any]] = Field(min_length=1, description="Axes: dotted key -> values; keys joined by "
                                                                 "'+' -> rows of one value per key (paired)")


@dataclass(frozen=True)
class SweepPoint:
    """One combination of axis values and the scenario mapping it produces."""

    index: int
    values: dict[str, Any]
    scenario: dict[str, Any]
    key: str
    seed_fixed: str | None = None  # why the point's seed changes nothing (simulator.config.seed_effect), else None

    def describe(self) -> str:
        return f"point {self.index} ({', '.join(f'{k}={v!r}' for k, v in self.values.items())})"


@dataclass
class Sweep:
    """A loaded, expanded and validated sweep."""

    path: Path
    spec: SweepFile
    scenario_path: Path
    points: list[SweepPoint]

    @property
    def axes(self) -> list[str]:
        """The grid's axes as written (a paired axis is one: ``network.trace + energy.radio``)."""
        return list(self.spec.grid)

    @property
    def columns(self) -> list[str]:
        """The table's axis columns: one per key."""
        return axis_columns(self.axes)

    @property
    def warnings(self) -> list[RunWarning]:
        """Before anything runs: a seed axis of two or more seeds at points whose seed changes nothing (their
        rows would repeat and their intervals read "± 0"), one line per reason."""
        seeds = {key: len(values) for axis, values in self.spec.grid.items() if axis in seed_axes(self.axes)
                 for key in axis_keys(axis)}
        if not seeds or max(seeds.values()) < 2:
            return []
        reasons: dict[str, list[SweepPoint]] = {}
        for point in self.points:
            if point.seed_fixed is not None:
                reasons.setdefault(point.seed_fixed, []).append(point)
        lines = []
        for reason, points in reasons.items():
            where = "" if len(points) == len(self.points) else \
                f" (at {len(points)} of {len(self.points)} points, e.g. {points[0].describe()})"
            lines.append(RunWarning("seed_no_effect", f"seed has no effect: {reason}{where}"))
        return lines


def load_sweep(path: str | Path, plugins: Sequence[str | Path] = ()) -> Sweep:
    """Read a sweep file, expand its grid and validate every point's scenario (nothing runs yet).

    ``plugins``: plugin files given on the command line, added (by absolute path) to every point's scenario,
    so the workers load them and the point keys hash them.
    """
    from simulator.config.scenario import scenario_from_dict
    from simulator.config.seed_effect import seed_has_effect
    from simulator.schedules.plugins import plugin_path

    path = Path(path)
    spec = parse_model(SweepFile, load_yaml_mapping(path), path)
    scenario_path = (path.parent / spec.scenario).resolve()
    if not scenario_path.is_file():
        raise InputError(path, f"scenario file not found: {spec.scenario}", "scenario")
    base = load_yaml_mapping(scenario_path)
    apply_overrides(base, spec.set, path, "set")
    given = base.get("plugins")
    if plugins and (given is None or isinstance(given, list)):
        base["plugins"] = [*(given or []), *(str(plugin_path(p, None)) for p in plugins)]
    seeds = (base.get("workload") or {}).get("seed") if isinstance(base.get("workload"), dict) else None
    if isinstance(seeds, list) and not seed_axes(list(spec.grid)):  # a replicated scenario: its seeds are an axis
        spec = spec.model_copy(update={"grid": {**spec.grid, "workload.seed": seeds}})
    combos = grid_points(spec.grid, path)
    points = []
    digests: dict[Path, str] = {}
    for index, values in enumerate(combos):
        data = copy.deepcopy(base)
        apply_overrides(data, values, path, "grid")
        data["name"] = f"{spec.name}-{index}"
        try:
            scenario = scenario_from_dict(data, scenario_path)
        except InputError as exc:
            described = ", ".join(f"{k}={v!r}" for k, v in values.items())
            raise InputError(path, f"point {index} ({described}): {exc.detail}",
                             f"grid -> scenario {exc.where}" if exc.where else "grid") from None
        points.append(SweepPoint(index, values, data, point_key(scenario, digests), seed_has_effect(scenario)))
    return Sweep(path, spec, scenario_path, points)


def input_files(scenario: Scenario) -> dict[str, Path | None]:
    """The files a point reads, found as the runner finds them (None: missing; the run will say so)."""
    from simulator.files.validation import load_yaml_mapping
    from simulator.inputs.data import resolve_path, shipped_dir
    from simulator.inputs.radio import find_radio_model
    from simulator.schedules.plugins import load_plugins

    base = scenario.base_dir
    files: dict[str, Path | None] = {"trace": resolve_path(scenario.network.trace, base)}
    for role in ("mobile_profile", "cloud_profile"):
        value = getattr(scenario, role)
        path = resolve_path(value, base)
        shipped = shipped_dir("profiles")
        if path is None and shipped is not None and (shipped / f"{value}.yaml").is_file():
            path = shipped / f"{value}.yaml"
        files[role] = path
    if scenario.accuracy_tables:
        tables = [resolve_path(value, base) for value in scenario.accuracy_tables]
    else:
        folder = shipped_dir("accuracy")
        tables = sorted(folder.glob("*.csv")) if folder else []
    files.update({f"accuracy_table_{i}": path for i, path in enumerate(tables)})
    radio = scenario.energy.radio
    mobile = files["mobile_profile"]
    if radio is None and mobile is not None:
        radio = load_yaml_mapping(mobile).get("radio_model")
    if radio and radio != "none" and scenario.energy.preset == "full":
        files["radio_model"] = find_radio_model(radio, base if scenario.energy.radio else None)
    files.update(topology_files(scenario))
    files.update(load_plugins(scenario))  # loaded here too: the kinds they register name their source files
    return files


def topology_files(scenario: Scenario) -> dict[str, Path | None]:
    """The files of the scenario's servers (profiles, link traces) and its schedules' own data files."""
    from simulator.inputs.data import resolve_path, shipped_file
    from simulator.schedules import schedule_files

    base = scenario.base_dir
    files: dict[str, Path | None] = {}
    for name, server in (scenario.servers or {}).items():
        files[f"servers.{name}.profile"] = resolve_path(server.profile, base) or shipped_file("profile", server.profile)
        if server.link.trace is not None:
            files[f"servers.{name}.link.trace"] = resolve_path(server.link.trace, base) or \
                shipped_file("trace", server.link.trace)
    for i, entry in enumerate(scenario.schedules):
        files.update((f"schedules[{i}].{key}", path) for key, path in schedule_files(entry, base).items())
    return files


def point_key(scenario: Scenario, digests: dict[Path, str]) -> str:
    """SHA-256 of the resolved scenario (its name aside) and of its input files' contents.

    ``digests`` caches file hashes across the points of one sweep.
    """
    from simulator.files.digest import file_sha256
    from simulator.version import __version__

    resolved = scenario.model_dump(mode="json", exclude={"name", "description"})
    for key in ("servers", "server_links", "plugins"):  # a scenario without them keeps its key from before
        if resolved.get(key) is None:
            resolved.pop(key, None)
    inputs = {}
    for role, path in input_files(scenario).items():
        if path is not None and path.is_file():
            if path not in digests:
                digests[path] = file_sha256(path)
            inputs[role] = digests[path]
        else:
            inputs[role] = None
    document = {"format": POINT_FORMAT, "version": __version__, "scenario": resolved,
                "base_dir": str(scenario.base_dir), "inputs": inputs}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def chosen_summary(values: pd.Series) -> tuple[float | None, str | None]:
    """Mean of a per-request choice and, when it takes several values, its distribution
    (``value: share`` by falling share, the five most common, then the rest as ``other``)."""
    values = values.dropna()
    if values.empty:
        return None, None
    mean = float(values.mean())
    shares = values.value_counts(normalize=True, sort=False).sort_index().sort_values(ascending=False,
                                                                                       kind="stable")
    if len(shares) == 1:
        return mean, None
    parts = [f"{float(v):g}: {share:.0%}" for v, share in shares.head(5).items()]
    if len(shares) > 5:
        parts.append(f"other: {shares.iloc[5:].sum():.0%}")
    return mean, ", ".join(parts)


def run_point(scenario: dict[str, Any], scenario_path: str) -> dict[str, Any]:
    """Simulate one point (in a worker: picklable in and out).

    Returns its rows (one per schedule), the input files it read (hashed by the caller, once per sweep) and
    their provenance; or, when the point's input is bad, ``{"error": one line}``, so one bad point does not
    stop the others.
    """
    from simulator.config.scenario import scenario_from_dict
    from simulator.model.runner import run_scenario
    from simulator.results.outputs import input_provenance

    try:
        result = run_scenario(scenario_from_dict(scenario, Path(scenario_path)))
    except InputError as exc:
        return {"error": exc.one_line()}
    rows = []
    for schedule, stats in result.summary.items():
        row: dict[str, Any] = {"schedule": schedule}
        row.update({column: stats.get(column) for column in SUMMARY_COLUMNS})
        row.update({f"mean_{name}": value for name, value in stats.get("components_mean_ms", {}).items()})
        row.update({f"mean_energy_{part}_j": value for part, value in stats.get("energy_mean_j", {}).items()})
        if "oracle_gap_ms" in stats:
            row["oracle_gap_ms"] = stats["oracle_gap_ms"]
        requests = result.records[result.records.schedule == schedule]
        for column in CHOSEN:
            row[column], row[f"{column}_distribution"] = chosen_summary(requests[column])
        rows.append(row)
    inputs = {role: {"path": str(path)} for role, path in result.inputs.files.items()}
    return {"rows": rows, "inputs": inputs, "provenance": input_provenance(result),
            "warnings": warnings_json(result.warnings)}


@dataclass
class SweepResult:
    """The table of every point that ran, and what happened on the way."""

    table: pd.DataFrame
    failures: list[dict[str, Any]] = field(default_factory=list)
    computed: int = 0
    reused: int = 0
    inputs: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[RunWarning] = field(default_factory=list)  # found in the results (before: Sweep.warnings)

    def failure_error(self, sweep: Sweep, out_dir: Path | None) -> InputError | None:
        """One line naming the failed point(s), or None when every point ran."""
        if not self.failures:
            return None
        first = self.failures[0]
        kept = f"; the other {len(sweep.points) - len(self.failures)} points are in {out_dir}/" if out_dir \
            else ""
        more = f" (and {len(self.failures) - 1} more point(s), listed in sweep.json)" \
            if len(self.failures) > 1 else ""
        return InputError(sweep.path, f"{first['point_described']} failed: {first['error']}{more}{kept}")


def guard_sweep_folder(sweep: Sweep, out_dir: Path) -> None:
    """Refuse (one line, exit 2) an output folder that is not new, empty or an earlier sweep's.

    An earlier sweep's folder (its ``sweep.json``, or the saved points of one interrupted before that) is
    written into: its points are reused, :data:`SWEEP_FILES` replaced and any other file in it kept.
    """
    from simulator.files.output_guard import guard_folder

    guard_folder(out_dir, marker="sweep.json", written=SWEEP_FILES, inputs=[sweep.path, sweep.scenario_path],
                 keeps_others=True, started=_holds_saved_points)


def _holds_saved_points(folder: Path) -> bool:
    """A sweep folder interrupted before its sweep.json: ``points/`` holds a point this module saved."""
    points = folder / POINTS_DIR
    if points.is_symlink() or not points.is_dir():
        return False
    return any(_saved_point(path, path.stem) is not None for path in points.glob("*.json"))


def _saved_point(path: Path, key: str) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    ok = isinstance(document, dict) and document.get("format") == POINT_FORMAT and document.get("key") == key
    return document if ok else None


def run_sweep(sweep: Sweep, *, workers: int | None = 1, dask: str | None = None,
              on_done: Callable[[], None] | None = None, out_dir: Path | None = None) -> SweepResult:
    """Every point on the chosen executor; one row per (point, schedule), in point then schedule order.

    ``workers``: local processes, or the size of a ``dask="local"`` cluster (None: one per CPU); a remote
    Dask cluster brings its own workers. With ``out_dir``, points saved there by an earlier run of the same
    points are reused and each new point is saved as soon as it finishes.
    """
    from simulator.files.atomic import atomic_write_text
    from simulator.files.digest import file_sha256
    from simulator.studies.executors import default_workers, map_dask, map_local

    documents: dict[int, dict[str, Any]] = {}
    points_dir = Path(out_dir) / POINTS_DIR if out_dir is not None else None
    if points_dir is not None:
        guard_sweep_folder(sweep, Path(out_dir))
        for point in sweep.points:
            saved = _saved_point(points_dir / f"{point.key}.json", point.key)
            if saved is not None:
                documents[point.index] = saved
    todo = [point for point in sweep.points if point.index not in documents]
    failures: dict[int, str] = {}
    digests: dict[str, str] = {}

    def finished(position: int, outcome: dict[str, Any]) -> None:
        point = todo[position]
        if "error" in outcome:
            failures[point.index] = outcome["error"]
        else:
            for record in outcome["inputs"].values():
                if record["path"] not in digests:
                    digests[record["path"]] = file_sha256(Path(record["path"]))
                record["sha256"] = digests[record["path"]]
            document = {"format": POINT_FORMAT, "key": point.key, "values": point.values, **outcome}
            text = json.dumps(document, indent=1, default=str) + "\n"
            if points_dir is not None:
                atomic_write_text(points_dir / f"{point.key}.json", text)
            documents[point.index] = json.loads(text)  # the saved form, whether or not it was saved
        if on_done:
            on_done()

    for _ in range(len(sweep.points) - len(todo)):
        if on_done:
            on_done()
    items = [(point.scenario, str(sweep.scenario_path)) for point in todo]
    with _stopped_on_interrupt(len(sweep.points), lambda: len(documents), points_dir):
        if dask:
            map_dask(run_point, items, dask, workers, finished)
        else:
            map_local(run_point, items, workers or default_workers(), finished)
    rows, inputs, provenance = [], {}, {}
    for point in sweep.points:
        document = documents.get(point.index)
        if document is None:
            continue
        for row in document["rows"]:
            rows.append({"point": point.index, **{key: point.values[key] for key in sweep.columns}, **row})
        for record in document["inputs"].values():
            inputs[record["path"]] = record["sha256"]
        for role, record in document["provenance"].items():  # each distinct input once, named by its file
            if provenance.get(role, record) != record:
                path = document["inputs"].get(role, {}).get("path")
                role = f"{role} ({Path(path).name if path else f'point {point.index}'})"
            provenance.setdefault(role, record)
    table = _tidy(pd.DataFrame(rows), sweep.columns) if rows else pd.DataFrame()
    failed = [{"point": point.index, "values": point.values, "point_described": point.describe(),
               "error": failures[point.index]} for point in sweep.points if point.index in failures]
    return SweepResult(table, failed, len(todo) - len(failed), len(sweep.points) - len(todo), inputs,
                       provenance, [*point_warnings(sweep, documents), *unchanged_by_seed(sweep, table)])


def point_warnings(sweep: Sweep, documents: dict[int, dict[str, Any]]) -> list[RunWarning]:
    """The distinct warnings of the points' runs, each once, naming the point (or how many points) it came
    from; a point saved before runs kept their warnings has none."""
    found: dict[RunWarning, list[SweepPoint]] = {}
    for point in sweep.points:
        document = documents.get(point.index)
        for warning in read_warnings(document.get("warnings")) if document else []:
            found.setdefault(warning, []).append(point)
    out = []
    for warning, points in found.items():
        where = points[0].describe() if len(points) == 1 else "every point" if len(points) == len(sweep.points) \
            else f"{len(points)} of {len(sweep.points)} points, e.g. {points[0].describe()}"
        out.append(named(where, warning))
    return out


def unchanged_by_seed(sweep: Sweep, table: pd.DataFrame) -> list[RunWarning]:
    """After the run: configurations whose seeds all gave the same statistics although the scenario draws
    from the seed (a random offset into a constant trace, say); points already warned of are left out."""
    from simulator.analysis.aggregate import identical_over_seeds

    warned = {point.index for point in sweep.points if point.seed_fixed is not None}
    found = identical_over_seeds(table, sweep.axes, warned)
    if not found:
        return []
    where = "" if found == [""] else f" at {len(found)} configuration(s): {'; '.join(found[:3])}" + \
        (f"; and {len(found) - 3} more" if len(found) > 3 else "")
    return [RunWarning("seed_no_effect", f"seed changed nothing: every seed gave the same statistics for every "
                       f"schedule{where}, though the scenario draws from the seed; their intervals are zero-width")]


@contextmanager
def _stopped_on_interrupt(total: int, saved: Callable[[], int], points_dir: Path | None) -> Iterator[None]:
    """Ctrl-C, SIGTERM or SIGHUP in the block: the workers stopped on the way out (``map_local``), then one
    line saying how many points are saved and that the same command resumes from them (:class:`Stopped`,
    exit code 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM)."""
    from simulator.endings import Stopped, exit_code, interrupt_on_signals

    try:
        with interrupt_on_signals():
            yield
    except KeyboardInterrupt as exc:
        kept = f"saved in {points_dir}/; run the same command again to resume" if points_dir is not None else \
            "done, none saved (no output folder)"
        raise Stopped(f"interrupted: {saved()} of {total} points {kept}", exit_code(exc)) from None


def _tidy(table: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """Statistics become numbers (absent = NaN); chosen-parameter distributions stay text; axis columns
    mixing numbers and words (``auto``) become text, so the table stores as parquet and reads back the
    same from CSV."""
    text = {"point", "schedule", *axes, *(f"{column}_distribution" for column in CHOSEN)}
    for column in table.columns:
        if column not in text:
            table[column] = pd.to_numeric(table[column])
    for axis in axes:
        kinds = {type(v) for v in table[axis]}
        if len(kinds) > 1 and not kinds <= {int, float}:
            table[axis] = table[axis].map(str)
    table["schedule"] = table["schedule"].astype(str)
    return table


def write_sweep(sweep: Sweep, result: SweepResult, out_dir: Path, *, command: list[str], executor: str,
                self_contained: bool = False) -> None:
    """The tables (per point and seed; over seeds), ``sweep.json`` (what ran, with which inputs) and
    ``sweep.html``, in one swap that keeps the saved points and any other file already in the folder."""
    import shutil

    from simulator.analysis.aggregate import summarise
    from simulator.files.atomic import atomic_directory
    from simulator.files.digest import file_sha256
    from simulator.report.sweep_page import write_sweep_page
    from simulator.results.outputs import git_commit, provenance_dir
    from simulator.version import __version__

    document = {
        "format": "mercury-sim-sweep-results/1",
        "sweep": sweep.spec.model_dump(),
        "sweep_file": str(sweep.path),
        "scenario_file": str(sweep.scenario_path),
        "inputs_sha256": {str(sweep.path): file_sha256(sweep.path),
                          str(sweep.scenario_path): file_sha256(sweep.scenario_path), **result.inputs},
        "points": [{"point": p.index, "values": p.values, "key": p.key} for p in sweep.points],
        "failures": [{k: v for k, v in f.items() if k != "point_described"} for f in result.failures],
        "computed": result.computed,
        "reused": result.reused,
        "executor": executor,
        "command": command,
        "mercury_sim_version": __version__,
        "git_commit": git_commit(provenance_dir(sweep.path)),
        "provenance": result.provenance,
        "warnings": warnings_json([*sweep.warnings, *result.warnings]),
    }
    summary = summarise(result.table, sweep.axes)
    points_dir = Path(out_dir) / POINTS_DIR
    guard_sweep_folder(sweep, out_dir)

    def saved() -> int:
        return sum((points_dir / f"{point.key}.json").is_file() for point in sweep.points)

    with _stopped_on_interrupt(len(sweep.points), saved, points_dir), \
            atomic_directory(out_dir, keep_existing=True) as staging:
        result.table.to_parquet(staging / "sweep.parquet", index=False)
        result.table.to_csv(staging / "sweep.csv", index=False)
        summary.to_parquet(staging / "sweep-summary.parquet", index=False)
        summary.to_csv(staging / "sweep-summary.csv", index=False)
        (staging / "sweep.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
        (staging / POINTS_DIR).mkdir()
        for point in sweep.points:  # this sweep's points only: those of an earlier grid go
            saved = points_dir / f"{point.key}.json"
            if saved.is_file():
                shutil.copy2(saved, staging / POINTS_DIR / saved.name)
        write_sweep_page(staging, self_contained=self_contained)
