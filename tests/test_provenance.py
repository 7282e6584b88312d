"""A run's folder repeats the run: its scenario.yaml holds what the schedules chose, and its manifest names
the commit of the scenario's repository (not of the installed package's folder)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from simulator.cli.app import main


def test_resolved_scenario_carries_chosen_parameters_and_reruns_bit_for_bit(tmp_path: Path) -> None:
    first = tmp_path / "first"
    main(["run", "default", "-o", str(first), "-q", "--no-report"])
    resolved = yaml.safe_load((first / "scenario.yaml").read_text())
    summary = json.loads((first / "summary.json").read_text())["schedules"]
    chosen = {s["kind"]: s for s in resolved["schedules"]}
    # default.yaml names none of these: target_accuracy chose them, and the copy states them
    assert chosen["otas"]["r"] == summary["otas"]["parameter"] and isinstance(chosen["otas"]["r"], int)
    assert chosen["janus"]["alpha"] == summary["janus"]["parameter"]
    assert chosen["mercury"]["reduction"] == summary["mercury"]["parameter"]
    assert Path(resolved["network"]["trace"]).is_absolute()
    again = tmp_path / "again"
    main(["run", str(first / "scenario.yaml"), "-o", str(again), "-q", "--no-report"])
    assert (again / "records.parquet").read_bytes() == (first / "records.parquet").read_bytes()


def test_janus_scheduler_stays_auto(tmp_path: Path) -> None:
    scenario = yaml.safe_load((REPO / "scenarios" / "default.yaml").read_text())
    scenario["network"]["trace"] = "lte-all"
    scenario["workload"] = {"arrival": "periodic", "fps": 1, "n_requests": 5, "seed": 1}
    scenario["schedules"] = [{"kind": "janus", "split_after": "auto", "alpha": "auto", "sla_ms": 500}]
    path = tmp_path / "auto.yaml"
    path.write_text(yaml.safe_dump(scenario))
    main(["run", str(path), "-o", str(tmp_path / "out"), "-q", "--no-report"])
    entry = yaml.safe_load((tmp_path / "out" / "scenario.yaml").read_text())["schedules"][0]
    assert entry["alpha"] == "auto" and entry["split_after"] == "auto"
    assert yaml.safe_load((tmp_path / "out" / "scenario.yaml").read_text())["network"]["trace"] == "lte-all"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_manifest_names_the_scenarios_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    scenario = yaml.safe_load((REPO / "scenarios" / "default.yaml").read_text())
    scenario["network"]["trace"] = "lte-all"
    scenario["workload"] = {"arrival": "periodic", "fps": 1, "n_requests": 3, "seed": 1}
    (project / "s.yaml").write_text(yaml.safe_dump(scenario))
    git("init", "-q", cwd=project)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x", cwd=project)
    git("add", "s.yaml", cwd=project)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "scenario", cwd=project)
    monkeypatch.chdir(tmp_path)  # not a repository: the commit must come from the scenario's
    main(["run", str(project / "s.yaml"), "-o", str(tmp_path / "out"), "-q", "--no-report"])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["git_commit"] == git("rev-parse", "HEAD", cwd=project)
    (project / "s.yaml").write_text(yaml.safe_dump({**scenario, "description": "edited"}))
    main(["run", str(project / "s.yaml"), "-o", str(tmp_path / "out"), "-q", "--no-report"])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["git_commit"] == git("rev-parse", "HEAD", cwd=project) + "+dirty"
