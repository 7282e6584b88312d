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
# names a reproducible example, while local runs keep exploring new ones. No deadline there: a busy machine
# made one example take 647 ms against the default 200 ms; speed is measured in benchmarks/, not in tests.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
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
        "power_w": power or {"compute": 0.0, "idle": 0.0, "radio": 0.0},  # stated 0 W: a known zero energy
    }
    if batch:
        data["batch"] = batch
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A folder with a 10 Mbit/s constant trace and two constant-time profiles: a slow device
    (embed 10 ms, 100 ms per block, head 5 ms; 6 W computing, 2 W sending, 1 W idle) and a fast cloud
    (0.5 + 1 ms per block + 0.25 ms) whose batch of 2 costs 1.5x one request and of 4, 2x."""
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3], [10, 10, 10, 10])
    write_profile(tmp_path / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0,
                  power={"compute": 6.0, "idle": 1.0, "radio": 2.0})
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0, embed_ms=0.5, head_ms=0.25,
                  batch={"sizes": [1, 2, 4], "factor": [1.0, 1.5, 2.0]})
    return tmp_path


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


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``mercury-sim ARGS`` in this process: its exit code (0 when it returns) and what it wrote to stderr."""
    from simulator.cli.app import main

    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return int(code or 0), capsys.readouterr().err


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site, built once per test session with ``mkdocs build --strict`` (every warning an
    error) into a temporary folder: the site tests and the browser test read the same build."""
    import subprocess
    import sys

    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    folder = tmp_path_factory.mktemp("docs") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(folder)],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder
