"""Writing a run's results: records.parquet, summary.json, the resolved scenario, a manifest and the
replayed trace window (trace.parquet, compact: see :mod:`simulator.traces.replay_window`; for the report's
bandwidth plot).

Everything goes into a staging folder that replaces the output folder in one rename, so an existing
folder is never left half-written; and only a folder that is recognisably an earlier run's (its
manifest.json, nothing but :data:`RUN_FILES`) is ever replaced (:mod:`simulator.files.output_guard`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from simulator.errors import InputError, warnings_json
from simulator.files.atomic import atomic_directory
from simulator.files.digest import file_sha256
from simulator.files.output_guard import PLOTLY_BUNDLE, guard_folder
from simulator.inputs.data import is_short_name
from simulator.model.runner import RunResult, engine_setup
from simulator.traces import Trace
from simulator.traces.replay_window import ReplayWindow, replay_window, write_window
from simulator.version import __version__

MANIFEST = "manifest.json"
# Everything a run may write into its folder (report.html is simulator.report.REPORT_NAME; the plotly
# bundle that report.html loads unless it is self-contained).
RUN_FILES = frozenset({"records.parquet", "trace.parquet", "summary.json", "scenario.yaml", MANIFEST,
                       "claims.json", "report.html", PLOTLY_BUNDLE, "emulation.json", "stages.parquet"})
# Where a schedule kind keeps the parameter it may choose for itself (target_accuracy, scheduler).
CHOSEN_PARAMETER = {"otas": "r", "janus": "alpha", "mercury": "reduction"}


def guard_run_folder(folder: Path, inputs: list[Path] | tuple[Path, ...] = ()) -> None:
    """Refuse (one line, exit 2) an output folder that is not new, empty or an earlier run's."""
    guard_folder(folder, marker=MANIFEST, written=RUN_FILES, inputs=inputs)


def is_run_folder(folder: Path) -> bool:
    """A folder holding an earlier run's results and nothing else (so it may be replaced)."""
    try:
        guard_run_folder(folder)
    except InputError:
        return False
    return True


def provenance_dir(scenario_path: Path | None) -> Path:
    """Where the git commit is read: the scenario's repository, else the working directory's (never the
    installed package's folder, which a ``pip install .`` puts outside any checkout)."""
    if scenario_path is not None and git_commit(Path(scenario_path).resolve().parent) is not None:
        return Path(scenario_path).resolve().parent
    return Path.cwd()


def git_commit(path: Path) -> str | None:
    """The commit of the checkout holding ``path``, with '+dirty' when it has local changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=path,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def summary_document(result: RunResult) -> dict[str, Any]:
    scenario = result.scenario
    return {
        "scenario": scenario.name,
        "mercury_sim_version": __version__,
        "seed": scenario.workload.seed,
        "network_mode": scenario.network.mode,
        "trace_mean_mbps": result.inputs.trace.mean_mbps,
        "deadline_ms": scenario.workload.deadline_ms,
        "seeds": list(result.seeds),
        "schedules": result.summary,
        **({"per_seed": {str(seed): entry for seed, entry in result.per_seed.items()}} if result.per_seed else {}),
        "warnings": warnings_json(result.warnings),
    }


def manifest(result: RunResult, command: list[str] | None) -> dict[str, Any]:
    scenario = result.scenario
    files = dict(result.inputs.files)
    if scenario.path is not None:
        files = {"scenario": scenario.path, **files}
    return {
        "mercury_sim_version": __version__,
        "git_commit": git_commit(provenance_dir(scenario.path)),
        "python": sys.version.split()[0],
        "command": command,
        "seed": scenario.workload.seed,
        "engine": {"requested": scenario.engine, "ran": result.engines},
        "compute": result.compute,  # whether each tier's compute was drawn per request (model/variability.py)
        "inputs": {role: {"path": str(p), "sha256": file_sha256(p)} for role, p in files.items()},
        "provenance": input_provenance(result),
    }


def input_provenance(result: RunResult) -> dict[str, Any]:
    """Where the profiles, the trace and the accuracy tables came from (manifests and sweep points)."""
    return {
        "mobile_profile": result.inputs.mobile.provenance,
        "cloud_profile": result.inputs.cloud.provenance,
        "trace": result.inputs.trace.meta,
        "accuracy_tables": {"files": list(result.inputs.accuracy.sources),
                            "row_sources": sorted(result.inputs.accuracy.frame.source.dropna().unique()
                                                  .astype(str).tolist())},
    }


def resolved_scenario(result: RunResult) -> dict[str, Any]:
    """The scenario as validated, with the parameters the schedules chose for themselves filled in.

    A parameter chosen once (for ``target_accuracy``) becomes the schedule's own value, so the file re-runs
    to the same results; one chosen per request (Janus's scheduler) stays ``auto``, which re-runs the same.
    """
    resolved = result.scenario.model_dump(mode="json", exclude_none=True)
    inputs = result.inputs
    # Files by absolute path (shipped names stay names), so the copy runs from any folder.
    if not is_short_name(resolved["network"]["trace"]):
        resolved["network"]["trace"] = str(inputs.trace_path.resolve())
    for key, profile in (("mobile_profile", inputs.mobile), ("cloud_profile", inputs.cloud)):
        if not is_short_name(resolved[key]) and profile.path is not None:
            resolved[key] = str(Path(profile.path).resolve())
    if "accuracy_tables" in resolved:
        resolved["accuracy_tables"] = [str(Path(p).resolve()) for p in inputs.accuracy.sources]
    for name, server in resolved.get("servers", {}).items():
        for keys in (("profile",), ("link", "trace")):
            path = inputs.files.get(".".join(("servers", name, *keys)))
            holder = server if keys == ("profile",) else server["link"]
            if path is not None and not is_short_name(holder[keys[-1]]):
                holder[keys[-1]] = str(Path(path).resolve())
    for i, entry in enumerate(resolved.get("schedules", [])):
        for key in list(entry):  # a schedule's own data files (simulator.schedules.schedule_files)
            path = inputs.files.get(f"schedules[{i}].{key}")
            if path is not None and not is_short_name(entry[key]):
                entry[key] = str(Path(path).resolve())
    for i, value in enumerate(resolved.get("plugins", [])):
        path = inputs.files.get(f"plugins[{i}]")
        resolved["plugins"][i] = str(Path(path).resolve()) if path is not None else value
    radio = resolved.get("energy", {}).get("radio")
    if radio and radio != "none" and not is_short_name(radio) and "radio_model" in inputs.files:
        resolved["energy"]["radio"] = str(inputs.files["radio_model"].resolve())
    for entry in resolved.get("schedules", []):
        key = CHOSEN_PARAMETER.get(entry.get("kind"))
        stats = result.summary.get(entry.get("label") or entry.get("kind"), {})
        chosen = stats.get("parameter")
        if key is None or key in entry or not isinstance(chosen, int | float):
            continue
        entry[key] = int(chosen) if key == "r" else float(chosen)
    return resolved


def write_records(records: Any, path: Path) -> None:
    """Parquet with fixed options, so the same records give the same bytes."""
    table = pa.Table.from_pandas(records, preserve_index=False)
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def replayed_window(trace: Trace, offset_s: float, end_s: float) -> pd.DataFrame:
    """The capacity a device starting at ``offset_s`` in ``trace`` saw over simulated time [0, end_s], row by row."""
    times, mbps = replay_window(trace, offset_s, end_s).arrays()
    return pd.DataFrame({"time_s": times, "mbps": mbps})


def trace_window(result: RunResult) -> ReplayWindow:
    """Device 0's view of the replayed trace (or the mean-bandwidth link) for the report's Fig. 7."""
    setup = engine_setup(result.scenario, result.inputs)
    records = result.records
    ends = (records.arrival_s + records.total_ms / 1e3).replace([np.inf, -np.inf], np.nan)
    end_s = float(np.nanmax([ends.max(), records.arrival_s.max(), 0.0]))
    return replay_window(setup.trace, setup.start_offsets_s[0], end_s)


def write_run(result: RunResult, out_dir: Path, command: list[str] | None = None, *,
              claims: list[dict[str, Any]] | None = None, report: bool = False,
              self_contained: bool = False, extra: dict[str, str] | None = None) -> Path:
    """Write every output of a run (and its claims and report when asked) into ``out_dir`` in one swap.

    ``extra`` maps further file names of :data:`RUN_FILES` (an emulated run's ``emulation.json``) to text.
    """
    inputs = [Path(p) for p in result.inputs.files.values()]
    if result.scenario.path is not None:
        inputs.append(Path(result.scenario.path))
    guard_run_folder(out_dir, inputs)
    with atomic_directory(out_dir) as staging:
        write_records(result.records, staging / "records.parquet")
        if result.stages is not None:  # stage graphs with forks, branches or more than two tiers
            write_records(result.stages, staging / "stages.parquet")
        write_window(trace_window(result), staging / "trace.parquet")
        (staging / "summary.json").write_text(json.dumps(summary_document(result), indent=2) + "\n")
        (staging / "scenario.yaml").write_text(yaml.safe_dump(resolved_scenario(result), sort_keys=False))
        (staging / MANIFEST).write_text(json.dumps(manifest(result, command), indent=2) + "\n")
        if claims is not None:
            (staging / "claims.json").write_text(json.dumps(claims, indent=2) + "\n")
        for name, text in (extra or {}).items():
            (staging / name).write_text(text)
        if report:
            from simulator.report import write_report

            write_report(staging, self_contained=self_contained)
    return out_dir
