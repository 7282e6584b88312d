"""What the shipped data holds: per model, the profiles that price it and its accuracy rows (the README's
table, ``coverage_markdown()``, checked by a test), and the whole catalog ``mercury-sim catalog`` lists:
profiles, accuracy rows by (model, dataset, method, split, reconstruction, prune point), radio models,
traces, scenarios and claims files, each with its provenance kind.

A scenario needs both for a model: profiles for latency, accuracy rows for top-1. Any other timm ViT the
workload model knows runs only with data a user measures (``mercury-sim profile``, ``mercury-sim accuracy``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.files.validation import load_yaml_mapping
from simulator.inputs.accuracy import read_accuracy_csv
from simulator.inputs.data import shipped_dir, shipped_file, shipped_names
from simulator.inputs.profiles import load_profile
from simulator.inputs.radio import load_radio_model
from simulator.traces.csv_format import read_trace_meta

CATALOG_FORMAT = "mercury-sim-catalog/1"
# The columns that tell one accuracy curve from another (a scenario's schedule reads one of them).
CURVE_KEYS = ("model", "dataset", "method", "split_after", "reconstruction", "prune_point")

# The order methods are listed in, unreduced first; a method not named here follows alphabetically.
_METHOD_ORDER = ("none", "tome", "janus", "mercury", "ats")


@dataclass
class ModelCoverage:
    """One model's shipped data: profile names (latency), and per dataset the accuracy methods with rows."""

    model: str
    profiles: list[str] = field(default_factory=list)
    accuracy: dict[str, list[str]] = field(default_factory=dict)


def _method_key(method: str) -> tuple[int, str]:
    return (_METHOD_ORDER.index(method) if method in _METHOD_ORDER else len(_METHOD_ORDER), method)


def model_coverage() -> list[ModelCoverage]:
    """Every model named by a shipped profile or accuracy table, sorted by name."""
    models: dict[str, ModelCoverage] = {}
    for name in shipped_names("profile"):
        for model in load_profile(name).file.models:
            models.setdefault(model, ModelCoverage(model)).profiles.append(name)
    for path in accuracy_tables():
        frame = read_accuracy_csv(path)
        for (model, dataset), rows in frame.groupby(["model", "dataset"], sort=True):
            entry = models.setdefault(str(model), ModelCoverage(str(model)))
            methods = set(entry.accuracy.get(str(dataset), [])) | {str(m) for m in rows["method"]}
            entry.accuracy[str(dataset)] = sorted(methods, key=_method_key)
    return [models[name] for name in sorted(models)]


def coverage_markdown() -> str:
    """The README's table: a row per model, its profiles and its (dataset: methods) accuracy rows."""
    lines = ["| model (timm name) | latency profiles | accuracy rows (dataset: methods) |", "|---|---|---|"]
    for entry in model_coverage():
        profiles = ", ".join(f"`{p}`" for p in entry.profiles) or "none"
        accuracy = "; ".join(f"{d}: {', '.join(m)}" for d, m in sorted(entry.accuracy.items())) or "none"
        lines.append(f"| `{entry.model}` | {profiles} | {accuracy} |")
    return "\n".join(lines)


def accuracy_tables() -> list[Path]:
    """The shipped accuracy tables, the files a scenario without ``accuracy_tables`` reads."""
    folder = shipped_dir("accuracy")
    return sorted(folder.glob("*.csv")) if folder else []


def accuracy_entries() -> list[dict[str, Any]]:
    """One entry per curve of every shipped table: its keys, parameter range, row count, provenance kinds."""
    entries = []
    for path in accuracy_tables():
        frame = read_accuracy_csv(path)
        for key, rows in frame.groupby(list(CURVE_KEYS), dropna=False, sort=False):
            entry: dict[str, Any] = {"table": path.name, **dict(zip(CURVE_KEYS, map(_plain, key), strict=True))}
            entry.update(parameter_min=float(rows.parameter.min()), parameter_max=float(rows.parameter.max()),
                         rows=len(rows),
                         provenance=sorted({str(source).split(":")[0] for source in rows.source}))
            entries.append(entry)
    order = {method: i for i, method in enumerate(_METHOD_ORDER)}
    return sorted(entries, key=lambda e: (e["model"], e["dataset"], order.get(e["method"], len(order)),
                                          e["method"], e["split_after"] is not None, e["split_after"] or 0,
                                          e["reconstruction"], e["prune_point"], e["table"]))


def table_notes(path: Path) -> dict[str, str]:
    """An accuracy table's header comments as ``{key: text}``: ``# key: text`` lines, each continued by the
    indented comment lines under it (``table``, ``provenance``, ``gaps``, ...), so the catalog can say what a
    table leaves out and why."""
    notes: dict[str, str] = {}
    key = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        body = line[1:]
        head, colon, text = body.strip().partition(":")
        if body[:1] == " " and body[1:2] not in (" ", "\t") and colon:
            key = head.strip()
            notes[key] = text.strip()
        elif key is not None:
            notes[key] = f"{notes[key]} {body.strip()}".strip()
    return notes


def table_entries() -> list[dict[str, Any]]:
    """One entry per shipped accuracy table: its file and header notes (what it holds, what it lacks)."""
    return [{"name": path.name, "file": str(path), "notes": table_notes(path)} for path in accuracy_tables()]


def _plain(value: Any) -> Any:
    """A table cell as JSON has it: a missing split is None, numpy's integers are ints."""
    if pd.isna(value):
        return None
    return int(value) if isinstance(value, int | np.integer) else str(value)


def profile_entries() -> list[dict[str, Any]]:
    entries = []
    for name in shipped_names("profile"):
        profile = load_profile(name)
        kind = profile.provenance.get("kind")
        per_model = profile.provenance.get("models") or {}
        entries.append({"name": name, "file": str(profile.path), "device": profile.file.device,
                        "provenance": kind, "models": profile.models,
                        "model_provenance": {model: (per_model.get(model) or {}).get("kind", kind)
                                             for model in profile.models}})
    return entries


def radio_entries() -> list[dict[str, Any]]:
    folder = shipped_dir("profiles")
    entries = []
    for path in sorted((folder / "radio").glob("*.yaml")) if folder else []:
        model, _ = load_radio_model(path)
        entries.append({"name": path.stem, "file": str(path), "technology": model.technology,
                        "provenance": model.provenance.get("kind")})
    return entries


def trace_entries() -> list[dict[str, Any]]:
    entries = []
    for name in shipped_names("trace"):
        path = shipped_file("trace", name)
        assert path is not None
        meta = read_trace_meta(path)
        entries.append({"name": name, "file": str(path), "provenance": meta.get("kind"),
                        "duration_s": meta.get("duration_s")})
    return entries


def _described(kind: str, key: str) -> list[dict[str, Any]]:
    """The shipped files of ``kind`` with the text under ``key`` (a scenario's description, a claims title)."""
    entries = []
    for name in shipped_names(kind):
        path = shipped_file(kind, name)
        assert path is not None
        entries.append({"name": name, "file": str(path), key: load_yaml_mapping(path).get(key)})
    return entries


def catalog() -> dict[str, Any]:
    """Everything shipped, as ``mercury-sim catalog --json`` prints it."""
    return {"format": CATALOG_FORMAT, "profiles": profile_entries(), "accuracy": accuracy_entries(),
            "accuracy_tables": table_entries(),
            "radio_models": radio_entries(), "traces": trace_entries(),
            "scenarios": _described("scenario", "description"), "claims": _described("claims", "title")}
