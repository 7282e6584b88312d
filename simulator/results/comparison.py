"""A comparison's folders: the sides read from run and sweep folders, and the comparison written as
``compare.csv``, ``compare.json`` and ``compare.html`` (the statistics: :mod:`simulator.analysis.compare`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.analysis.compare import METHOD_NOTE, Side, compare, distinct_names, one_seed_note
from simulator.errors import InputError, named, read_warnings, warnings_json
from simulator.report.stored import REQUIRED, read_json

# What a comparison writes into its folder (with the plotly bundle compare.html loads).
COMPARE_FILES = frozenset({"compare.csv", "compare.json", "compare.html"})


def load_run_side(folder: Path) -> Side:
    """A run folder as a side: its summary per seed (an unreplicated run is one seed)."""
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise InputError(folder, f"not a results folder: missing {', '.join(missing)}")
    summary, manifest = read_json(folder / "summary.json"), read_json(folder / "manifest.json")
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
    from simulator.analysis.aggregate import label_axes
    from simulator.config.sweep_axes import axis_columns, seed_axes

    document = read_json(folder / "sweep.json")
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


def guard_compare_folder(out_dir: Path, sides: list[Side]) -> None:
    """Only a new, empty or earlier comparison folder (compare.json) is written into (other files in it
    are kept); never a folder holding one of the compared runs."""
    from simulator.files.output_guard import PLOTLY_BUNDLE, guard_folder

    guard_folder(out_dir, marker="compare.json", written={*COMPARE_FILES, PLOTLY_BUNDLE},
                 inputs=list(dict.fromkeys(side.folder for side in sides)), keeps_others=True)


def write_comparison(sides: list[Side], table: pd.DataFrame, out_dir: Path, *, command: list[str],
                     self_contained: bool = False) -> Path:
    """``compare.csv``, ``compare.json`` (the sides, the method, their warnings) and ``compare.html``, in one
    swap."""
    from simulator.files.atomic import atomic_directory
    from simulator.report.compare_page import write_compare_page
    from simulator.version import __version__

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
        "mercury_sim_version": __version__,
        "differences": json.loads(table.to_json(orient="records")),
    }
    with atomic_directory(out_dir, keep_existing=True) as staging:
        table.to_csv(staging / "compare.csv", index=False)
        (staging / "compare.json").write_text(json.dumps(document, indent=2) + "\n")
        write_compare_page(staging, self_contained=self_contained)
    return out_dir
