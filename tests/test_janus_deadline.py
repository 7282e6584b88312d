"""Janus's scheduler takes the workload's deadline as its SLA when the schedule sets no sla_ms; the run's
scenario.yaml shows the SLA used; with neither key the scenario is refused in one line naming both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import write_profile, write_scenario, write_trace

from simulator.cli.app import main
from simulator.config.scenario import load_scenario
from simulator.model.runner import run

AUTO = {"kind": "janus", "split_after": "auto", "alpha": "auto", "image_bytes": 50_000, "bandwidth_window": 3,
        "bandwidth_source": "radio"}


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """test_janus.py's thin-then-fat link: 30 s at 0.05 Mbit/s, then 30 s at 1000 Mbit/s (1 s samples), a frame
    every 10 s, constant-time profiles (device 10 + 100 per block + 5 ms; cloud 0.5 + 1 per block + 0.25 ms)."""
    write_trace(tmp_path / "trace.csv", np.arange(60), [0.05] * 30 + [1000.0] * 30)
    write_profile(tmp_path / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0)
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0, embed_ms=0.5, head_ms=0.25)
    return tmp_path


def scenario(lab: Path, entry: dict, deadline_ms: float | None) -> Path:
    workload = {"arrival": "periodic", "fps": 0.1, "n_requests": 6, "seed": 1}
    if deadline_ms is not None:
        workload["deadline_ms"] = deadline_ms
    return write_scenario(lab / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                          workload=workload, schedules=[entry])


def splits(path: Path) -> list[int]:
    records, _ = run(load_scenario(path))
    return records.sort_values("request_id").split_after.tolist()


def test_deadline_is_the_sla_when_sla_ms_is_unset(lab: Path) -> None:
    """SLA 400 ms: offloading the 50 kB image meets it only at 1000 Mbit/s (0.4 ms + 12.75 ms in the cloud;
    8 s at 0.05 Mbit/s), so the frames at 0..30 s run all 12 blocks locally and those at 40 and 50 s upload
    (test_janus.py works the radio window out). The deadline must steer the scheduler as sla_ms does."""
    assert splits(scenario(lab, AUTO, deadline_ms=400)) == [12, 12, 12, 12, 0, 0]
    assert splits(scenario(lab, {**AUTO, "sla_ms": 400}, deadline_ms=None)) == [12, 12, 12, 12, 0, 0]
    loaded = load_scenario(scenario(lab, AUTO, deadline_ms=400))
    assert loaded.schedules[0].sla_ms == 400.0  # type: ignore[union-attr]


def test_own_sla_wins_over_the_deadline(lab: Path) -> None:
    loaded = load_scenario(scenario(lab, {**AUTO, "sla_ms": 250}, deadline_ms=400))
    assert loaded.schedules[0].sla_ms == 250.0  # type: ignore[union-attr]


def test_static_janus_takes_no_sla(lab: Path) -> None:
    loaded = load_scenario(scenario(lab, {"kind": "janus", "split_after": 3, "alpha": 0.3}, deadline_ms=400))
    assert loaded.schedules[0].sla_ms is None  # type: ignore[union-attr]


def test_written_scenario_shows_the_sla_used(lab: Path) -> None:
    path = scenario(lab, AUTO, deadline_ms=700)
    assert main(["run", str(path), "-o", str(lab / "out"), "-q", "--no-report"]) == 0
    written = yaml.safe_load((lab / "out" / "scenario.yaml").read_text())
    assert written["schedules"][0]["sla_ms"] == 700.0
    assert written["workload"]["deadline_ms"] == 700.0


def test_neither_sla_nor_deadline_is_one_line_naming_both(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(lab, AUTO, deadline_ms=None)
    with pytest.raises(SystemExit) as exc:
        main(["run", str(path), "-o", str(lab / "out"), "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: schedules[0].sla_ms: ")
    assert "schedules[0].sla_ms or workload.deadline_ms" in err
    assert not (lab / "out").exists()
