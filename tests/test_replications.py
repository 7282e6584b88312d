"""Replicated runs: a scenario run once per seed (``workload.seed: [..]`` or ``run --seeds``), summarised over
seeds with intervals computed here by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _report_runs import run_cli, scenario_file

from simulator.config.scenario import load_scenario
from simulator.errors import InputError
from simulator.model.replications import parse_seeds
from simulator.model.runner import run_scenario

T_975_2 = 4.302652729911275  # t(0.975, 2), from a table


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    path = scenario_file(tmp_path_factory.mktemp("replications"), n_requests=15)
    data = yaml.safe_load(path.read_text())
    data["network"]["start_offset_s"] = "random"
    data["schedules"] = data["schedules"][1:3]  # cloud-only, otas
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def replicated(scenario: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    assert run_cli(["run", str(scenario), "--seeds", "1-3", "-o", str(out), "-q", "--no-report"]) == 0
    return out


@pytest.mark.parametrize(("text", "seeds"), [("1-3", [1, 2, 3]), ("7", [7]), ("1,2,5", [1, 2, 5]),
                                             ("1-3,7", [1, 2, 3, 7]), (" 4 - 5 ", [4, 5])])
def test_parse_seeds(text: str, seeds: list[int]) -> None:
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["", "a", "3-1", "1,1", "1-3,2", "-2", "1.5"])
def test_bad_seeds_are_one_line_exit_2(text: str, scenario: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError):
        parse_seeds(text)
    assert run_cli(["run", str(scenario), "--seeds", text, "-o", str(tmp_path / "x"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seeds" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("seeds", [[], [1, 1], [-1, 2]])
def test_bad_seed_lists_name_the_key(seeds: list[int], scenario: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load(scenario.read_text())
    data["workload"]["seed"] = seeds
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    assert run_cli(["run", str(bad), "-o", str(tmp_path / "x"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "workload.seed" in err


def test_summary_is_over_seeds_by_hand(replicated: Path) -> None:
    summary = json.loads((replicated / "summary.json").read_text())
    assert summary["seeds"] == [1, 2, 3] and summary["seed"] == [1, 2, 3]
    for schedule in ("cloud-only", "otas"):
        entry = summary["schedules"][schedule]
        for statistic in ("mean_ms", "p95_ms", "deadline_miss_rate"):
            x = np.array([summary["per_seed"][s][schedule][statistic] for s in ("1", "2", "3")])
            half = T_975_2 * x.std(ddof=1) / np.sqrt(3)
            assert entry[statistic] == pytest.approx(x.mean(), rel=1e-12)
            low, high = max(x.mean() - half, 0.0), x.mean() + half
            if statistic == "deadline_miss_rate":
                high = min(high, 1.0)
            assert entry[f"{statistic}_ci"] == pytest.approx([low, high], rel=1e-9, abs=1e-12)
            assert entry[f"{statistic}_n"] == 3
        assert entry["requests"] == sum(summary["per_seed"][s][schedule]["requests"] for s in ("1", "2", "3"))
    assert yaml.safe_load((replicated / "scenario.yaml").read_text())["workload"]["seed"] == [1, 2, 3]


def test_each_seed_is_the_run_of_that_seed(scenario: Path, replicated: Path) -> None:
    """A replication's records for seed 2 are, bit for bit, those of the scenario run with seed 2 alone."""
    records = pd.read_parquet(replicated / "records.parquet")
    assert list(records.columns[:3]) == ["schedule", "seed", "device"]
    assert sorted(records.seed.unique()) == [1, 2, 3]
    loaded = load_scenario(scenario)
    single = run_scenario(loaded.model_copy(update={"workload": loaded.workload.model_copy(update={"seed": 2})}))
    alone = single.records.drop(columns="seed").reset_index(drop=True)
    mine = records[records.seed == 2].drop(columns="seed").reset_index(drop=True)
    alone["schedule"], mine["schedule"] = alone.schedule.astype(str), mine.schedule.astype(str)
    alone["status"], mine["status"] = alone.status.astype(str), mine.status.astype(str)
    pd.testing.assert_frame_equal(mine, alone, check_exact=True)
    assert (single.records.seed == 2).all()


def test_a_scenario_seed_list_replicates(scenario: Path, replicated: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(scenario.read_text())
    data["workload"]["seed"] = [1, 2, 3]
    listed = tmp_path / "listed.yaml"
    listed.write_text(yaml.safe_dump(data))
    assert run_cli(["run", str(listed), "-o", str(tmp_path / "o"), "-q", "--no-report"]) == 0
    assert (tmp_path / "o" / "records.parquet").read_bytes() == (replicated / "records.parquet").read_bytes()


def test_a_sweep_of_a_replicated_scenario_gets_a_seed_axis(scenario: Path, tmp_path: Path) -> None:
    from simulator.studies.sweep import load_sweep

    data = yaml.safe_load(scenario.read_text())
    data["workload"]["seed"] = [4, 5]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({"name": "w", "scenario": "s.yaml",
                                                         "grid": {"network.rtt_ms": [0, 10]}}))
    sweep = load_sweep(tmp_path / "sweep.yaml")
    assert sweep.axes == ["network.rtt_ms", "workload.seed"]
    assert [p.values["workload.seed"] for p in sweep.points] == [4, 5, 4, 5]


@pytest.mark.parametrize("command", ["emulate", "validate"])
def test_the_testbed_refuses_a_seed_list(command: str, scenario: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load(scenario.read_text())
    data["workload"]["seed"] = [1, 2]
    listed = tmp_path / "listed.yaml"
    listed.write_text(yaml.safe_dump(data))
    assert run_cli([command, str(listed), "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "workload.seed" in err and "one seed" in err
