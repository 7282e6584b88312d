"""A results folder read back: the only input of the report, so regenerating it gives the same page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from simulator.errors import InputError
from simulator.traces.replay_window import ReplayWindow, read_window

REQUIRED = ("records.parquet", "summary.json", "scenario.yaml", "manifest.json")
RECORD_COLUMNS = ["schedule", "arrival_s", "total_ms", "status"]


@dataclass(frozen=True)
class StoredRun:
    """What ``write_run`` stored, loaded; ``trace`` and ``claims`` are None when their files are absent."""

    folder: Path
    records: pd.DataFrame
    summary: dict[str, Any]
    scenario_yaml: str
    manifest: dict[str, Any]
    trace: ReplayWindow | None
    claims: list[dict[str, Any]] | None

    @property
    def schedules(self) -> list[str]:
        """Schedule labels in scenario order (summary.json keeps that order)."""
        return list(self.summary.get("schedules", {}))


def read_json(path: Path) -> Any:
    """A JSON file of a results folder; an unreadable one is an InputError naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"cannot read JSON: {exc}") from None


def _parquet(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        return pq.read_table(path, columns=columns).to_pandas()
    except Exception as exc:  # pyarrow raises several types for missing columns and corrupt files
        raise InputError(path, f"cannot read parquet columns {', '.join(columns)}: {exc}") from None


def _window(path: Path) -> ReplayWindow:
    try:
        return read_window(path)
    except Exception as exc:  # pyarrow's several error types, and malformed window metadata
        raise InputError(path, f"cannot read the replayed trace window (columns time_s, mbps): {exc}") from None


def load_run(folder: Path, record_columns: list[str] = RECORD_COLUMNS) -> StoredRun:
    """Read a results folder (of its records, ``record_columns``); a missing or unreadable file is an
    InputError naming it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "results folder not found")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise InputError(folder, f"not a results folder: missing {', '.join(missing)}")
    summary = read_json(folder / "summary.json")
    manifest = read_json(folder / "manifest.json")
    if not isinstance(summary, dict) or not isinstance(summary.get("schedules"), dict):
        raise InputError(folder / "summary.json", "expected an object with a 'schedules' object")
    if not isinstance(manifest, dict):
        raise InputError(folder / "manifest.json", "expected an object")
    trace_path = folder / "trace.parquet"
    trace = _window(trace_path) if trace_path.is_file() else None
    claims_path = folder / "claims.json"
    claims = read_json(claims_path) if claims_path.is_file() else None
    if claims is not None and not (isinstance(claims, list) and all(isinstance(c, dict) for c in claims)):
        raise InputError(claims_path, "expected a list of claim objects")
    return StoredRun(folder, _parquet(folder / "records.parquet", record_columns), summary,
                     (folder / "scenario.yaml").read_text(encoding="utf-8"), manifest, trace, claims)
