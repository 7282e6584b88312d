"""Shared test setup: offline hub, the repository root, and small scenario builders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# CI replays the same property-test examples on every run (HYPOTHESIS_PROFILE=ci): a red build then always
# names a reproducible example, while local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def repo() -> Path:
    return REPO


def write_trace(path: Path, times: list[float] | np.ndarray, mbps: list[float] | np.ndarray) -> Path:
    from simulator.traces import write_trace_csv

    write_trace_csv(path, np.asarray(times, float), np.asarray(mbps, float), {"kind": "test"})
    return path


def write_profile(path: Path, *, block_ms: float, embed_ms: float = 0.0, head_ms: float = 0.0,
                  model: str = "deit_base_distilled_patch16_224", power: dict | None = None,
                  batch: dict | None = None) -> Path:
    """A profile whose stages take constant times, so expected latencies are easy to compute by hand."""
    data: dict[str, Any] = {
        "format": "mercury-sim-profile/1",
        "name": path.stem,
        "device": "test device",
        "provenance": {"kind": "fitted", "method": "constants chosen by the test"},
        "models": {model: {"embed": {"fit": {"a_ms": embed_ms}}, "block": {"fit": {"a_ms": block_ms}},
                           "head": {"fit": {"a_ms": head_ms}}, "mercury_prune": {"fit": {"a_ms": 0.0}},
                           "tome_merge": {"fit": {"a_ms": 0.0}}}},
        "power_w": power or {"compute": 0.0},
    }
    if batch:
        data["batch"] = batch
    path.write_text(yaml.safe_dump(data))
    return path


def write_scenario(path: Path, **overrides: Any) -> Path:
    """A scenario file: sensible small defaults, any top-level key replaced by ``overrides``."""
    data: dict[str, Any] = {
        "name": "test",
        "dataset": "cifar100",
        "network": {"trace": "trace.csv", "mode": "trace"},
        "workload": {"arrival": "periodic", "fps": 1, "n_requests": 5, "seed": 1},
        "schedules": [{"kind": "mobile-only"}],
    }
    data.update(overrides)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
