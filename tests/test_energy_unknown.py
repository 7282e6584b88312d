"""Energy that cannot be computed is unknown (NaN / null / "unknown"), never 0 J; a stated 0 W is a known zero.

The device profile below takes 10 ms to embed, 100 ms per block (12 blocks) and 5 ms for the head, so a
mobile-only request computes 1,215 ms on the device: at 6 W that is 7.29 J.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import write_profile, write_scenario, write_trace

from simulator.config.scenario import load_scenario
from simulator.model.runner import run_scenario

MOBILE_ONLY_J = 6.0 * 1.215
PARTS = ["energy_compute_j", "energy_radio_j", "energy_tail_j", "energy_idle_j"]
SCHEDULES = [{"kind": "mobile-only"}, {"kind": "cloud-only"}]


def _profile_without_power(path: Path) -> Path:
    """A constant-time device profile with no ``power_w`` at all (as a profiler that measured no power writes)."""
    write_profile(path, block_ms=100.0, embed_ms=10.0, head_ms=5.0)
    data = yaml.safe_load(path.read_text())
    del data["power_w"]
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A 10 Mbit/s trace, a fast cloud stating 0 W, and device profiles stating no, some and zero power."""
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3], [10, 10, 10, 10])
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0, power={"compute": 0.0, "idle": 0.0, "radio": 0.0})
    _profile_without_power(tmp_path / "nopower.yaml")
    write_profile(tmp_path / "computeonly.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0, power={"compute": 6.0})
    write_profile(tmp_path / "zero.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0,
                  power={"compute": 0.0, "idle": 0.0, "radio": 0.0})
    return tmp_path


def _scenario(folder: Path, mobile: str, name: str = "s.yaml", **overrides: Any) -> Path:
    return write_scenario(folder / name, mobile_profile=mobile, cloud_profile="cloud.yaml", schedules=SCHEDULES,
                          **overrides)


def test_a_profile_without_power_gives_nan_energy_and_a_warning(folder: Path) -> None:
    result = run_scenario(load_scenario(_scenario(folder, "nopower.yaml")))
    ok = result.records[result.records.status == "ok"]
    assert len(ok) == 10
    assert ok[["energy_j", *PARTS]].isna().all().all()
    warning = [w.message for w in result.warnings if w.code == "energy_unknown"]
    assert warning == ["energy unknown: the mobile profile nopower states no power_w.compute, power_w.idle, "
                       "power_w.radio (and no radio model), so energy_j is NaN for every schedule "
                       "(known parts: none)"]
    for entry in result.summary.values():
        assert entry["mean_energy_j"] is None and entry["energy_unknown"] == 5
        assert entry["energy_mean_j"] == {"compute": None, "radio": None, "tail": None, "idle": None}


def test_each_part_is_known_or_not_on_its_own(folder: Path) -> None:
    """Compute stated, idle not: compute is priced, idle unknown; the radio is known only with a radio model."""
    records = run_scenario(load_scenario(_scenario(folder, "computeonly.yaml"))).records
    mobile = records[records.schedule == "mobile-only"]
    assert mobile.energy_compute_j.tolist() == pytest.approx([MOBILE_ONLY_J] * 5)
    assert mobile[["energy_j", "energy_radio_j", "energy_tail_j", "energy_idle_j"]].isna().all().all()

    result = run_scenario(load_scenario(_scenario(folder, "computeonly.yaml", energy={"radio": "lte-huang2012"})))
    mobile = result.records[result.records.schedule == "mobile-only"]
    assert mobile.energy_compute_j.tolist() == pytest.approx([MOBILE_ONLY_J] * 5)
    assert mobile.energy_radio_j.tolist() == [0.0] * 5 and mobile.energy_tail_j.tolist() == [0.0] * 5
    assert mobile.energy_idle_j.isna().all() and mobile.energy_j.isna().all()
    cloud = result.records[result.records.schedule == "cloud-only"]
    assert (cloud.energy_radio_j > 0).all() and cloud.energy_tail_j.notna().all() and cloud.energy_tail_j.sum() > 0
    assert [w.message for w in result.warnings if w.code == "energy_unknown"] == [
        "energy unknown: the mobile profile computeonly states no power_w.idle, so energy_j is NaN for every "
        "schedule (known parts: compute, radio and tail)"]


def test_a_stated_zero_is_a_known_zero(folder: Path) -> None:
    result = run_scenario(load_scenario(_scenario(folder, "zero.yaml")))
    ok = result.records[result.records.status == "ok"]
    assert (ok[["energy_j", *PARTS]] == 0.0).all().all()
    assert not any(w.code == "energy_unknown" for w in result.warnings)
    for entry in result.summary.values():
        assert entry["mean_energy_j"] == 0.0 and "energy_unknown" not in entry


def test_paper_preset_counts_compute_alone_and_keeps_it_unknown_when_unstated(folder: Path) -> None:
    paper = {"preset": "paper"}
    known = run_scenario(load_scenario(_scenario(folder, "computeonly.yaml", energy=paper))).records
    mobile = known[known.schedule == "mobile-only"]
    assert mobile.energy_j.tolist() == pytest.approx([MOBILE_ONLY_J] * 5)
    unknown = run_scenario(load_scenario(_scenario(folder, "nopower.yaml", energy=paper))).records
    assert unknown[unknown.status == "ok"].energy_j.isna().all()


def _run_folder(folder: Path, mobile: str, out: str, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    from simulator.cli.app import main

    main(["run", str(_scenario(folder, mobile, f"{out}.yaml")), "-o", str(folder / out), "--no-report"])
    return folder / out, capsys.readouterr().out


def test_summary_json_console_and_compare_show_unknown_not_zero(folder: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.results.comparison import compare_runs

    monkeypatch.setenv("COLUMNS", "200")
    first, console = _run_folder(folder, "nopower.yaml", "a", capsys)
    summary = json.loads((first / "summary.json").read_text())
    for entry in summary["schedules"].values():
        assert entry["mean_energy_j"] is None and entry["energy_unknown"] == 5
    assert any(w["code"] == "energy_unknown" and w["message"].startswith("energy unknown:")
               for w in summary["warnings"])
    rows = [line for line in console.splitlines() if "mobile-only" in line or "cloud-only" in line]
    assert len(rows) == 2 and all("unknown" in row and "0.000" not in row for row in rows)
    records = pd.read_parquet(first / "records.parquet")
    assert records[records.status == "ok"].energy_j.isna().all()

    second, _ = _run_folder(folder, "nopower.yaml", "b", capsys)
    _, table = compare_runs([first, second])
    energy = table[table.statistic == "mean_energy_j"]
    assert len(energy) == 2
    assert energy[["a", "b", "difference", "ci_low", "ci_high"]].isna().all().all()


def test_report_leaves_unknown_energy_out_of_the_figure_and_says_so() -> None:
    from simulator.report import energy_note
    from simulator.report.figures import energy_figure

    parts = {"compute": 1.0, "radio": 0.5, "tail": 0.25, "idle": 0.25}
    summary = {"schedules": {
        "known": {"mean_energy_j": 2.0, "energy_mean_j": parts},
        "unknown": {"mean_energy_j": None, "energy_unknown": 5,
                    "energy_mean_j": {"compute": None, "radio": 0.5, "tail": 0.25, "idle": None}}}}
    figure = energy_figure(summary)
    assert [bar["x"] for bar in figure["data"]] == [["known"]] * 4
    assert [bar["y"] for bar in figure["data"]] == [[1.0], [0.5], [0.25], [0.25]]
    assert energy_note(summary).startswith("Energy unknown, not shown: unknown (")
    del summary["schedules"]["unknown"]
    assert energy_note(summary) == ""


def test_a_sweep_point_keeps_unknown_energy_missing(folder: Path) -> None:
    from simulator.analysis.aggregate import summarise
    from simulator.studies.sweep import run_point

    path = _scenario(folder, "nopower.yaml")
    point = run_point(yaml.safe_load(path.read_text()), str(path))
    rows = pd.DataFrame(point["rows"])
    assert rows.mean_energy_j.isna().all() and rows.mean_energy_compute_j.isna().all()
    rows["workload.seed"] = 1
    assert summarise(rows, ["workload.seed"]).mean_energy_j.isna().all()


def test_the_testbed_prices_only_the_stated_powers() -> None:
    from simulator.emulation.testbed import records_frame
    from simulator.inputs.profiles import Power

    class Setup:
        sharing, power = "per-device", Power(compute=2.0)

    raw = [[{"where": "split", "split_after": 3, "parameter": 0.5, "accuracy": math.nan, "uplink_bytes": 1000,
             "rid": 0, "arrival": 0.0, "mobile_start": 100.0, "mobile_end": 100.02, "send_start": 100.02,
             "received": 100.10, "cloud_start": 100.10, "cloud_end": 100.13, "done": 100.135}]]
    row = records_frame(raw, 100.0, Setup(), "mercury").iloc[0]
    assert row.energy_compute_j == pytest.approx(2.0 * 0.02)
    assert all(math.isnan(row[c]) for c in ("energy_radio_j", "energy_tail_j", "energy_idle_j", "energy_j"))
