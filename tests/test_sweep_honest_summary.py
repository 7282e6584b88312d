"""Sweep summaries that do not mislead: counts of seeds with a value, intervals inside the statistic's range,
and a warning when the seed axis cannot change anything. Expected values by hand from the definitions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, write_scenario

from simulator.analysis.aggregate import BOUNDS, STATISTICS, identical_over_seeds, statistic_bounds, summarise
from simulator.cli.app import main
from simulator.config.scenario import load_scenario, scenario_from_dict
from simulator.config.seed_effect import seed_has_effect
from simulator.report.sweep_page import StoredSweep, axis_series, summary_table
from simulator.studies.sweep import load_sweep

T_975_1 = 12.706204736  # t(0.975, 1), from tables
T_975_2 = 4.302652730  # t(0.975, 2)
SEEDS = ["workload.seed"]


def seeds_table(**columns: list[float]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"point": range(n), "workload.seed": range(1, n + 1), "schedule": ["janus"] * n, **columns})


def test_n_counts_only_the_seeds_with_a_value() -> None:
    row = summarise(seeds_table(mean_ms=[100.0, 110.0, 120.0], mean_accuracy=[80.0, math.nan, 84.0]),
                    SEEDS).iloc[0]
    assert row["n"] == 3 and row["mean_ms_n"] == 3  # three seeds ran
    assert row["mean_accuracy_n"] == 2  # accuracy is known at two of them
    assert row["mean_accuracy"] == pytest.approx(82.0)  # (80 + 84) / 2, the NaN seed left out
    s = math.sqrt(((80 - 82) ** 2 + (84 - 82) ** 2) / 1)  # 2.828..
    half = T_975_1 * s / math.sqrt(2)  # 12.706 * 2 = 25.41: past 100 %, so the top is clipped
    assert row["mean_accuracy_std"] == pytest.approx(s)
    assert row["mean_accuracy_ci_low"] == pytest.approx(82.0 - half, rel=1e-6)
    assert row["mean_accuracy_ci_high"] == 100.0
    one = summarise(seeds_table(mean_ms=[1.0, 2.0], mean_accuracy=[math.nan, 84.0]), SEEDS).iloc[0]
    assert one["mean_accuracy_n"] == 1 and one["mean_accuracy"] == 84.0
    assert math.isnan(one["mean_accuracy_ci_low"]) and math.isnan(one["mean_accuracy_ci_high"])  # none below 2


def test_a_rate_interval_at_its_boundary_stays_in_range() -> None:
    # miss rates 0, 0, 0.3: mean 0.1, s = sqrt((0.01 + 0.01 + 0.04) / 2) = sqrt(0.03), half = t * s / sqrt(3)
    row = summarise(seeds_table(deadline_miss_rate=[0.0, 0.0, 0.3], p95_ms=[100.0, 100.0, 2000.0]),
                    SEEDS).iloc[0]
    half = T_975_2 * math.sqrt(0.03) / math.sqrt(3)  # 0.4303: the plain t interval is [-0.330, 0.530]
    assert row["deadline_miss_rate"] == pytest.approx(0.1)
    assert row["deadline_miss_rate_ci_low"] == 0.0
    assert row["deadline_miss_rate_ci_high"] == pytest.approx(0.1 + half, rel=1e-6)
    # p95 100, 100, 2000 ms: mean 733.33, s = sqrt((633.33² · 2 + 1266.67²) / 2) = 1096.97, half 2725.0
    s = math.sqrt((2 * (100 - 2200 / 3) ** 2 + (2000 - 2200 / 3) ** 2) / 2)
    assert row["p95_ms_ci_low"] == 0.0
    assert row["p95_ms_ci_high"] == pytest.approx(2200 / 3 + T_975_2 * s / math.sqrt(3), rel=1e-6)
    many = summarise(seeds_table(deadline_miss_rate=[1.0, 1.0, 0.7]), SEEDS).iloc[0]
    assert many["deadline_miss_rate_ci_high"] == 1.0 and many["deadline_miss_rate_ci_low"] >= 0.0


def test_every_statistic_has_its_range_in_one_mapping() -> None:
    assert statistic_bounds("deadline_miss_rate") == (0.0, 1.0)
    assert statistic_bounds("fallback_share") == (0.0, 1.0)
    assert statistic_bounds("mean_accuracy") == (0.0, 100.0)
    for name in ("mean_ms", "p95_ms", "mean_upload_ms", "mean_energy_j", "mean_energy_radio_j", "mean_uplink_bytes"):
        assert statistic_bounds(name) == (0.0, np.inf), name
    assert statistic_bounds("oracle_gap_ms") == (-np.inf, np.inf)
    assert all(statistic_bounds(name)[0] == 0.0 for name in STATISTICS)
    assert all(low < high for _, (low, high) in BOUNDS)


def stored(table: pd.DataFrame) -> StoredSweep:
    axes = ["network.mean_mbps", "workload.seed"]
    document = {"sweep": {"name": "s", "grid": {axis: [] for axis in axes}}, "warnings": ["seed has no effect: x"]}
    return StoredSweep(Path("."), document, table, summarise(table, axes))


def test_the_page_draws_bounded_intervals_and_says_how_many_seeds() -> None:
    table = pd.DataFrame({"point": range(3), "network.mean_mbps": [10] * 3, "workload.seed": [1, 2, 3],
                          "schedule": ["janus"] * 3, "mean_ms": [100.0, 100.0, 2000.0],
                          "deadline_miss_rate": [0.0, 0.0, 0.3], "mean_accuracy": [80.0, math.nan, math.nan]})
    sweep = stored(table)
    for statistic in ("mean_ms", "deadline_miss_rate"):
        frame = axis_series(sweep, "network.mean_mbps", statistic)["janus"]
        assert frame["low"].iloc[0] == 0.0, statistic  # the error bar stops at zero
    html = summary_table(sweep)
    assert "733.3 [0.0, 3458.3]" in html  # mean_ms: 733.33 + 2725.01, the bottom clipped
    assert "10.00 [0.00, 53.03]" in html  # the miss rate in %: 10 + 43.03
    assert "80.00 (1 of 3 seeds)" in html
    assert "clipped to the statistic's range" in html


def test_the_console_shows_clipped_bounds_and_seeds_with_a_value(capsys: pytest.CaptureFixture[str]) -> None:
    from simulator.cli.console import print_sweep

    table = pd.DataFrame({"network.mean_mbps": [10] * 3, "workload.seed": [1, 2, 3], "schedule": ["janus"] * 3,
                          "mean_ms": [100.0, 100.0, 2000.0], "p95_ms": [100.0, 110.0, 120.0],
                          "mean_accuracy": [80.0, math.nan, 84.0]})
    print_sweep(table, ["network.mean_mbps", "workload.seed"])
    out = capsys.readouterr().out
    assert "733.3 [0.0, 3,458.3]" in out  # clipped: shown by its bounds, not a ± that reads below zero
    assert "[low, high]" in " ".join(out.split())  # the title says so (not taken for markup)
    assert f"110.0 ± {T_975_2 * 10 / math.sqrt(3):.1f}" in out  # symmetric: the half-width, 24.8
    assert "82.00 [56.59, 100.00] (n=2)" in out  # 82 - 12.706 * 2


def scenario(**workload_and_network: dict) -> object:
    data = {"name": "t", "network": {"trace": "lte-all", "mode": "trace", "start_offset_s": 0},
            "workload": {"arrival": "periodic", "fps": 1, "n_requests": 5, "seed": 1},
            "schedules": [{"kind": "mobile-only"}]}
    for key, value in workload_and_network.items():
        data[key] = {**data.get(key, {}), **value}
    return scenario_from_dict(data)


def test_seed_has_effect_names_why_not() -> None:
    assert seed_has_effect(scenario()) == ("arrivals are periodic (workload.fps) from one device and "
                                           "network.start_offset_s is fixed at 0")
    assert seed_has_effect(scenario(workload={"devices": 2}, network={"start_offset_s": [0, 5.5]})) is None
    assert seed_has_effect(scenario(network={"start_offset_s": [5.5]})) == (
        "arrivals are periodic (workload.fps) from one device and network.start_offset_s is fixed per device "
        "at [5.5]")
    back_to_back = {"arrival": "back-to-back", "fps": None}
    assert seed_has_effect(scenario(workload=back_to_back, network={"mode": "mean", "start_offset_s": "random"})) \
        == ("arrivals are back-to-back and network.mode is mean (a constant bandwidth, where start offsets change "
            "nothing)")
    assert seed_has_effect(scenario(workload={"arrival": "poisson", "fps": None, "rate_per_s": 2})) is None
    assert seed_has_effect(scenario(network={"start_offset_s": "random"})) is None
    assert seed_has_effect(load_scenario(REPO / "scenarios" / "default.yaml")) is None


def test_seed_has_effect_sees_server_links_and_branching_plugins() -> None:
    def with_server(link: dict, schedules: list[dict] | None = None) -> object:
        data = {"name": "t", "network": {"trace": "lte-all"},
                "workload": {"arrival": "periodic", "fps": 1, "n_requests": 5},
                "servers": {"edge": {"profile": "rtx-4090", "link": link}},
                "schedules": schedules or [{"kind": "mobile-only"}]}
        return seed_has_effect(scenario_from_dict(data))

    assert with_server({"trace": "5g-all", "start_offset_s": "random"}) is None
    assert with_server({"mbps": 100, "start_offset_s": "random"}) == (
        "arrivals are periodic (workload.fps) from one device, network.start_offset_s is fixed at 0 and "
        "servers.edge.link is a constant rate (mbps)")
    assert with_server({"trace": "5g-all", "start_offset_s": 3}).endswith(
        "servers.edge.link.start_offset_s is fixed at 3")
    cascade = [{"kind": "cascade", "expert_tier": "edge", "escalation_probability": 0.3}]
    assert with_server({"mbps": 100}, cascade) is None  # its branch draws per request from the seed


def seed_lines(err: str) -> list[str]:
    """The console's warnings about seeds (the lab's slow device also overloads: that warns too)."""
    return [line for line in err.splitlines() if line.startswith("warning: seed")]


def seed_warnings(out: Path) -> list[dict]:
    return [w for w in json.loads((out / "sweep.json").read_text())["warnings"] if w["code"] == "seed_no_effect"]


def sweep_file(folder: Path, grid: dict) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "scenario": "scenario.yaml", "grid": grid}))
    return path


def test_a_seed_axis_that_changes_nothing_warns_before_and_is_kept(lab: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    write_scenario(lab / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml")
    out = lab / "out"
    assert main(["sweep", str(sweep_file(lab, {"workload.seed": [1, 2]})), "-o", str(out), "-q"]) in (0, None)
    line = ("seed has no effect: arrivals are periodic (workload.fps) from one device and "
            "network.start_offset_s is fixed at 0")
    assert seed_lines(capsys.readouterr().err) == [f"warning: {line}"]  # once, before; no second warning
    assert seed_warnings(out) == [{"code": "seed_no_effect", "message": line}]
    assert "seed has no effect: arrivals are periodic" in (out / "sweep.html").read_text()


def test_some_points_without_effect_are_named(lab: Path) -> None:
    write_scenario(lab / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml")
    sweep = load_sweep(sweep_file(lab, {"workload.devices": [1, 2], "workload.seed": [1, 2]}))
    assert [str(w) for w in sweep.warnings] == [
        "seed has no effect: arrivals are periodic (workload.fps) from one device and network.start_offset_s is "
        "fixed at 0 (at 2 of 4 points, e.g. point 0 (workload.devices=1, workload.seed=1))"]
    assert load_sweep(sweep_file(lab, {"workload.devices": [1, 2], "workload.seed": [1]})).warnings == []


def test_identical_seeds_where_the_seed_should_matter_warn_after(lab: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # random offsets into the lab's constant 10 Mbit/s trace: the check says the seed matters, nothing changes
    write_scenario(lab / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                   network={"trace": "trace.csv", "start_offset_s": "random"},
                   schedules=[{"kind": "mobile-only"}, {"kind": "cloud-only"}])
    out = lab / "out"
    assert main(["sweep", str(sweep_file(lab, {"workload.seed": [1, 2, 3]})), "-o", str(out), "-q"]) in (0, None)
    line = ("seed changed nothing: every seed gave the same statistics for every schedule, though the scenario "
            "draws from the seed; their intervals are zero-width")
    assert seed_lines(capsys.readouterr().err) == [f"warning: {line}"]
    assert seed_warnings(out) == [{"code": "seed_no_effect", "message": line}]


def test_identical_over_seeds_by_configuration() -> None:
    table = pd.DataFrame({"point": range(6), "x": [1, 1, 2, 2, 3, 3], "workload.seed": [1, 2] * 3,
                          "schedule": ["a"] * 6, "mean_ms": [5.0, 5.0, 5.0, 6.0, math.nan, math.nan]})
    assert identical_over_seeds(table, ["x", "workload.seed"]) == ["x=1", "x=3"]  # NaN equals NaN here
    assert identical_over_seeds(table, ["x", "workload.seed"], {4}) == ["x=1"]
    assert identical_over_seeds(table, ["x"]) == []  # no seed axis
    rounding = table.assign(mean_ms=[5.0, 5.000000000000001, 5.0, 5.00001, 1.0, 1.0])  # sums from other offsets
    assert identical_over_seeds(rounding, ["x", "workload.seed"]) == ["x=1", "x=3"]
