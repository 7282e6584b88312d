"""Which models the shipped data covers: the device profiles that price each model and its accuracy tables.

A scenario needs both for a model: profiles for latency, accuracy rows for top-1. Any other timm ViT the
workload model knows runs only with data a user measures (``mercury-sim profile``, ``mercury-sim accuracy``).
The README's table of shipped models is this module's ``coverage_markdown()``, checked by a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.inputs.accuracy import read_accuracy_csv
from simulator.inputs.data import shipped_dir, shipped_names
from simulator.inputs.profiles import load_profile

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
    tables = shipped_dir("accuracy")
    for path in sorted(tables.glob("*.csv")) if tables else []:
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
