"""Sweeps that resume, survive a failing point, and summarise self-tuning schedules and seeds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, write_profile, write_scenario, write_trace

from simulator.analysis.aggregate import axis_labels, summarise
from simulator.cli.app import main
from simulator.config.scenario import scenario_from_dict
from simulator.model.runner import run_scenario
from simulator.studies.sweep import chosen_summary, load_sweep, run_sweep

TABLES = ("sweep.parquet", "sweep.csv", "sweep-summary.parquet", "sweep-summary.csv")
# The estimate from its own uploads varies with the trace here (the radio source sees its 0 Mbit/s second in
# every window of 20 and would pick the fastest alpha throughout).
JANUS_AUTO = {"kind": "janus", "split_after": "auto", "alpha": "auto", "sla_ms": 300, "bandwidth_source": "uploads"}


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3, 4, 5], [20, 5, 0, 40, 10, 30])
    write_trace(tmp_path / "fast.csv", [0, 1, 2], [80, 60, 90])
    write_profile(tmp_path / "mobile.yaml", block_ms=50.0, embed_ms=5.0, head_ms=1.0, power={"compute": 5.0})
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0)
    write_scenario(tmp_path / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                   schedules=[{"kind": "mobile-only"}, {"kind": "mercury", "split_after": 3, "reduction": 0.5},
                              JANUS_AUTO],
                   workload={"arrival": "poisson", "rate_per_s": 2, "n_requests": 40, "seed": 1})
    return tmp_path


def sweep_file(lab: Path, grid: dict, name: str = "sweep.yaml", **extra: object) -> Path:
    path = lab / name
    path.write_text(yaml.safe_dump({"name": "s", "scenario": "scenario.yaml", "grid": grid, **extra}))
    return path


def test_chosen_summary_by_hand() -> None:
    mean, distribution = chosen_summary(pd.Series([0.3, 0.3, 0.2, np.nan, 0.3, 0.2]))
    assert mean == pytest.approx((0.3 * 3 + 0.2 * 2) / 5)
    assert distribution == "0.3: 60%, 0.2: 40%"
    assert chosen_summary(pd.Series([3, 3, 3])) == (3.0, None)
    assert chosen_summary(pd.Series([np.nan])) == (None, None)
    mean, distribution = chosen_summary(pd.Series([1, 2, 3, 4, 5, 6, 7, 7]))
    assert distribution == "7: 25%, 1: 12%, 2: 12%, 3: 12%, 4: 12%, other: 25%"


def test_janus_auto_sweep_writes_its_table(lab: Path) -> None:
    path = sweep_file(lab, {"schedules.janus.sla_ms": [300, 5000], "workload.seed": [1, 2]})
    out = lab / "out"
    assert main(["sweep", str(path), "-o", str(out), "-q", "-j", "1"]) in (0, None)
    table = pd.read_parquet(out / "sweep.parquet")
    janus = table[table.schedule == "janus"].set_index("point")
    assert table.parameter.dtype == float and table.split_after.dtype == float
    # point 0 by hand: the mean and shares of the alphas Janus chose per request
    data = yaml.safe_load((lab / "scenario.yaml").read_text())
    records = run_scenario(scenario_from_dict(data, lab / "scenario.yaml")).records
    chosen = records[records.schedule == "janus"].parameter
    assert janus.loc[0, "parameter"] == pytest.approx(chosen.mean())
    counts = {0.0: 13, 0.49: 12, 0.47: 5, 0.46: 3, 0.38: 3, 0.42: 2, 0.28: 1, 0.44: 1}
    assert chosen.value_counts().to_dict() == counts  # the case this test is about: choices that vary
    assert janus.loc[0, "parameter"] == pytest.approx(sum(a * n for a, n in counts.items()) / 40)
    # shares rounded to whole percents, the five most common named, the rest as 'other' (4 of 40)
    assert janus.loc[0, "parameter_distribution"] == "0: 32%, 0.49: 30%, 0.47: 12%, 0.38: 8%, 0.46: 8%, other: 10%"
    assert pd.isna(janus.loc[2, "parameter_distribution"])  # a 5 s SLA: alpha 0 for every request
    summary = pd.read_csv(out / "sweep-summary.csv")
    assert len(summary) == 2 * 3 and set(summary.n) == {2}
    page = (out / "sweep.html").read_bytes()
    (out / "sweep.html").unlink()
    assert main(["report", str(out)]) in (0, None)
    assert (out / "sweep.html").read_bytes() == page  # regenerated from the folder alone, byte for byte


def test_shipped_janus_auto_sweep(tmp_path: Path) -> None:
    out = tmp_path / "janus"
    assert main(["sweep", str(REPO / "sweeps" / "janus-auto.yaml"), "-o", str(out), "-q", "-j", "2"]) in (0, None)
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 12 * 5
    assert table[table.schedule == "janus"].parameter_distribution.notna().any()
    summary = pd.read_parquet(out / "sweep-summary.parquet")
    assert sorted(set(summary["network.trace"])) == ["5g-all", "lte-all"]  # names, not paths
    radio = summary.set_index("network.trace")["energy.radio"]  # each trace with its own radio model
    assert set(radio["lte-all"]) == {"lte-huang2012"} and set(radio["5g-all"]) == {"5g-nsa-mmwave-narayanan2021"}
    document = json.loads((out / "sweep.json").read_text())
    radio_files = {str(REPO / "profiles" / "radio" / f"{name}.yaml")
                   for name in ("lte-huang2012", "5g-nsa-mmwave-narayanan2021")}
    assert radio_files <= set(document["inputs_sha256"])  # both radio models hashed
    provenance = document["provenance"]
    assert {"trace", "trace (5g-all.csv)", "mobile_profile", "cloud_profile"} <= set(provenance)
    assert provenance["trace"] != provenance["trace (5g-all.csv)"]


def test_failing_point_keeps_the_others(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A Mercury without reduction or target accuracy is valid scenario input that fails when it runs.
    path = sweep_file(lab, {"schedules.mercury.reduction": [0.5, None, 0.25]})
    out = lab / "out"
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(path), "-o", str(out), "-j", "2", "-q"])
    err = "".join(line for line in capsys.readouterr().err.splitlines(keepends=True)
                  if not line.startswith("warning: "))  # the points that ran keep their runs' warnings
    assert exc.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "point 1 (schedules.mercury.reduction=None) failed" in err
    assert "schedules[1]: give reduction or a target_accuracy" in err  # the worker's error, intact
    table = pd.read_parquet(out / "sweep.parquet")
    assert sorted(set(table.point)) == [0, 2]
    document = json.loads((out / "sweep.json").read_text())
    assert [f["point"] for f in document["failures"]] == [1]
    assert len(list((out / "points").iterdir())) == 2


def test_every_point_failing_writes_nothing(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = sweep_file(lab, {"schedules.mercury.reduction": [None]})  # fails when it runs
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(path), "-o", str(lab / "out"), "-q"])
    assert exc.value.code == 2 and "point 0" in capsys.readouterr().err
    assert not (lab / "out").exists() or not any((lab / "out").iterdir())


def test_rerun_reuses_points_and_recomputes_changed_inputs(lab: Path) -> None:
    path = sweep_file(lab, {"workload.seed": [1, 2, 3]})
    out = lab / "out"
    first = run_sweep(load_sweep(path), out_dir=out)
    assert (first.computed, first.reused) == (3, 0)
    again = run_sweep(load_sweep(path), out_dir=out)
    assert (again.computed, again.reused) == (0, 3)
    pd.testing.assert_frame_equal(first.table, again.table, check_exact=True)
    write_trace(lab / "trace.csv", [0, 1, 2, 3, 4, 5], [20, 5, 1, 40, 10, 30])  # an input's content changes
    changed = run_sweep(load_sweep(path), out_dir=out)
    assert (changed.computed, changed.reused) == (3, 0)
    extended = run_sweep(load_sweep(sweep_file(lab, {"workload.seed": [3, 4]})), out_dir=out)
    assert (extended.computed, extended.reused) == (1, 1)  # seed 3 is the same point under a new index


def test_killed_sweep_resumes_to_identical_tables(lab: Path) -> None:
    """SIGKILL a sweep subprocess once some points are saved; the re-run computes only the rest."""
    data = yaml.safe_load((lab / "scenario.yaml").read_text())
    data["workload"]["n_requests"] = 1500
    (lab / "scenario.yaml").write_text(yaml.safe_dump(data))
    path = sweep_file(lab, {"workload.seed": list(range(1, 9))})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "simulator", "sweep", str(path), "-j", "1", "-q"]
    killed, whole = lab / "killed", lab / "whole"
    process = subprocess.Popen([*command, "-o", str(killed)], env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and len(list((killed / "points").glob("*.json"))
                                                   if (killed / "points").is_dir() else []) < 2:
            time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    saved = len(list((killed / "points").glob("*.json")))
    assert 2 <= saved < 8, f"{saved} points saved before the kill: the test needs a sweep killed midway"
    assert not (killed / "sweep.parquet").exists()
    subprocess.run([*command, "-o", str(killed)], env=env, check=True)
    subprocess.run([*command, "-o", str(whole)], env=env, check=True)
    document = json.loads((killed / "sweep.json").read_text())
    assert (document["reused"], document["computed"]) == (saved, 8 - saved)
    for name in TABLES:
        assert (killed / name).read_bytes() == (whole / name).read_bytes(), name


def test_summary_over_seeds_by_hand() -> None:
    table = pd.DataFrame({"point": range(6), "network.trace": ["../t/lte-all.csv"] * 3 + ["../t/5g-all.csv"] * 3,
                          "workload.seed": [1, 2, 3] * 2, "schedule": ["m"] * 6,
                          "mean_ms": [1.0, 2.0, 3.0, 10.0, 10.0, 13.0]})
    summary = summarise(table, ["network.trace", "workload.seed"]).set_index("network.trace")
    assert list(summary.index) == ["lte-all", "5g-all"]
    lte = summary.loc["lte-all"]
    half = 4.3026527297 * 1.0 / np.sqrt(3)  # t(0.975, 2) · s / √n with s = 1
    assert (lte.n, lte.mean_ms, lte.mean_ms_std) == (3, 2.0, 1.0)
    # 2 - half = -0.48 ms: a latency cannot be negative, so the interval is clipped at 0
    assert (lte.mean_ms_ci_low, lte.mean_ms_ci_high) == pytest.approx((0.0, 2 + half), rel=1e-9)
    assert summary.loc["5g-all"].mean_ms == 11.0


def test_axis_labels() -> None:
    assert axis_labels(["../a/lte.csv", "../a/5g.csv"]) == {"../a/lte.csv": "lte", "../a/5g.csv": "5g"}
    same_stem = ["x/trace.csv", "y/trace.csv"]
    assert axis_labels(same_stem) == {v: v for v in same_stem}  # never two axis values under one label
    assert axis_labels([0.25, "auto"]) == {0.25: 0.25, "auto": "auto"}
