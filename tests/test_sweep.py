"""Sweeps: grid expansion, equality with single runs, the same table on every executor, bad input."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, write_profile, write_scenario, write_trace

from simulator.cli.app import main
from simulator.config.overrides import OverrideError, set_dotted
from simulator.config.scenario import scenario_from_dict
from simulator.model.runner import run_scenario
from simulator.studies.sweep import load_sweep, run_sweep

SCHEDULES = [{"kind": "mobile-only"},
             {"kind": "mercury", "split_after": 3, "reduction": 0.5},
             {"kind": "otas", "label": "otas-r8", "split_after": 3, "r": 8}]


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A varying trace, a slow device and a fast cloud, a scenario with three schedules."""
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3, 4, 5], [20, 5, 0, 40, 10, 30])
    write_profile(tmp_path / "mobile.yaml", block_ms=50.0, embed_ms=5.0, head_ms=1.0,
                  power={"compute": 5.0, "idle": 0.0, "radio": 0.0})
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0)
    write_scenario(tmp_path / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                   schedules=SCHEDULES,
                   workload={"arrival": "poisson", "rate_per_s": 2, "n_requests": 20, "seed": 1})
    return tmp_path


def write_sweep(lab: Path, grid: dict, **extra: object) -> Path:
    path = lab / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "scenario": "scenario.yaml", "grid": grid, **extra}, sort_keys=False))
    return path


PAIR = "network.trace + energy.radio"
GRID = {"schedules.mercury.reduction": [0.25, 0.75], "network.mode": ["trace", "mean"],
        "workload.seed": [1, 2]}


def test_points_equal_single_runs(lab: Path) -> None:
    sweep = load_sweep(write_sweep(lab, GRID, set={"schedules.otas-r8.r": 4}))
    assert len(sweep.points) == 8
    table = run_sweep(sweep).table
    assert list(table.columns[:4]) == ["point", *GRID]
    assert len(table) == 8 * 3 and list(table.schedule[:3]) == ["mobile-only", "mercury", "otas-r8"]
    base = yaml.safe_load((lab / "scenario.yaml").read_text())
    for point in (0, 5):
        values = sweep.points[point].values
        data = json.loads(json.dumps(base))
        data["schedules"][1]["reduction"] = values["schedules.mercury.reduction"]
        data["schedules"][2]["r"] = 4
        data["network"]["mode"] = values["network.mode"]
        data["workload"]["seed"] = values["workload.seed"]
        summary = run_scenario(scenario_from_dict(data, lab / "scenario.yaml")).summary
        rows = table[table.point == point].set_index("schedule")
        for schedule, stats in summary.items():
            assert rows.loc[schedule, "mean_ms"] == stats["mean_ms"]
            assert rows.loc[schedule, "p95_ms"] == stats["p95_ms"]
            parameter = rows.loc[schedule, "parameter"]
            assert parameter == stats["parameter"] or (stats["parameter"] is None and pd.isna(parameter))
            assert pd.isna(rows.loc[schedule, "parameter_distribution"])  # constant: no distribution
    mercury = table[table.schedule == "mercury"]
    # more pruning, less device time: every 75 % point is faster than its 25 % twin
    fast = mercury[mercury["schedules.mercury.reduction"] == 0.75].mean_ms.to_numpy()
    slow = mercury[mercury["schedules.mercury.reduction"] == 0.25].mean_ms.to_numpy()
    assert (fast < slow).all()


def test_same_table_on_every_executor(lab: Path) -> None:
    sweep = load_sweep(write_sweep(lab, GRID))
    inline = run_sweep(sweep, workers=1).table
    processes = run_sweep(sweep, workers=2).table
    pd.testing.assert_frame_equal(inline, processes, check_exact=True)
    pytest.importorskip("dask.distributed")
    on_dask = run_sweep(sweep, workers=2, dask="local").table
    pd.testing.assert_frame_equal(inline, on_dask, check_exact=True)


def test_cli_writes_table_and_provenance(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_sweep(lab, {"schedules.mercury.reduction": [0.25, 0.5, 0.75]})
    out = lab / "out"
    out.mkdir()  # an earlier sweep's folder (its sweep.json marks it): its files are replaced
    (out / "sweep.json").write_text('{"mercury_sim_version": "0.0.1"}')
    (out / "sweep.csv").write_text("from an earlier run")
    assert main(["sweep", str(path), "-o", str(out), "-j", "2"]) in (0, None)
    assert "sweep" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("plotly-")) == [
        "points", "sweep-summary.csv", "sweep-summary.parquet", "sweep.csv", "sweep.html", "sweep.json",
        "sweep.parquet"]
    assert len(list((out / "points").iterdir())) == 3
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 9 and table.point.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    texts = ["split_after_distribution", "parameter_distribution"]  # absent: None in parquet, NaN from CSV
    table[texts] = table[texts].astype(object).where(table[texts].notna(), float("nan"))
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), table, check_dtype=False)
    document = json.loads((out / "sweep.json").read_text())
    point = document["points"][2]
    assert point["values"] == {"schedules.mercury.reduction": 0.75} and point["point"] == 2
    assert (out / "points" / f"{point['key']}.json").is_file()
    assert document["command"][:2] == ["mercury-sim", "sweep"]
    assert {str(path), str(lab / "scenario.yaml"), str(lab / "trace.csv")} <= set(document["inputs_sha256"])
    # a user's file in the folder survives a re-run; a folder holding only other files is refused
    (out / "notes.txt").write_text("mine")
    assert main(["sweep", str(path), "-o", str(out), "-q"]) in (0, None)
    assert (out / "notes.txt").read_text() == "mine"
    foreign = lab / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(path), "-o", str(foreign), "-q"])
    assert exc.value.code == 2 and "holds other files" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]


def test_overrides_pick_list_entries_by_index_label_or_kind() -> None:
    data = {"schedules": [{"kind": "otas", "label": "a"}, {"kind": "otas", "label": "b"}, {"kind": "mercury"}]}
    set_dotted(data, "schedules.b.r", 3)
    set_dotted(data, "schedules.mercury.reduction", 0.5)
    set_dotted(data, "schedules.0.r", 1)
    set_dotted(data, "network.mode", "mean")
    assert data == {"schedules": [{"kind": "otas", "label": "a", "r": 1}, {"kind": "otas", "label": "b", "r": 3},
                                  {"kind": "mercury", "reduction": 0.5}], "network": {"mode": "mean"}}
    with pytest.raises(OverrideError, match="no entries labelled 'otas'"):
        set_dotted(data, "schedules.otas.r", 2)  # both otas entries carry labels: name them
    with pytest.raises(OverrideError, match="index 7"):
        set_dotted(data, "schedules.7.r", 2)


BAD = {
    "unknown scenario key": ({"grid": {"network.colour": ["red"]}}, "point 0 (network.colour='red')"),
    "no such schedule": ({"grid": {"schedules.janus.alpha": [0.1]}}, "grid.schedules.janus: no entries"),
    "empty axis": ({"grid": {"workload.seed": []}}, "grid.workload.seed: an axis needs at least one value"),
    "bad value": ({"grid": {"workload.rate_per_s": [2, -1]}}, "point 1 (workload.rate_per_s=-1)"),
    "missing scenario": ({"scenario": "absent.yaml"}, "scenario: scenario file not found"),
    "unknown sweep key": ({"colour": "red"}, "colour: unknown key"),
    "no grid": ({"grid": {}}, "grid"),
    "date where text belongs": ({"set": {"description": datetime.date(2024, 1, 1)}},
                                "scenario description: point 0 (workload.seed=1): Input should be a valid string"),
    "paired row too short": ({"grid": {PAIR: [["trace.csv", "lte-huang2012"], ["trace.csv"]]}},
                             f"grid.{PAIR}: row 1: expected a list of 2 values, one per key (network.trace, "
                             "energy.radio); got 1 values"),
    "paired row not a list": ({"grid": {PAIR: ["trace.csv", "lte-huang2012"]}},
                              f"grid.{PAIR}: row 0: expected a list of 2 values"),
    "key alone and paired": ({"grid": {"network.trace": ["trace.csv"], PAIR: [["trace.csv", "lte-huang2012"]]}},
                             f"grid.{PAIR}: key network.trace is set by two axes: 'network.trace' and '{PAIR}'"),
    "key in two pairs": ({"grid": {PAIR: [["trace.csv", "lte-huang2012"]],
                                   "workload.seed + energy.radio": [[1, "lte-huang2012"]]}},
                         "key energy.radio is set by two axes"),
    "unknown key in a pair": ({"grid": {"network.trace + energy.colour": [["trace.csv", "red"]]}},
                              "scenario energy.colour: point 0 (network.trace='trace.csv', energy.colour='red')"),
    "empty key in a pair": ({"grid": {"network.trace + ": [["trace.csv", 1]]}}, "one of them is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_sweep_is_one_line_exit_2(case: str, lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changes, expected = BAD[case]
    data = {"name": "s", "scenario": "scenario.yaml", "grid": {"workload.seed": [1]}, **changes}
    path = lab / "bad-sweep.yaml"
    path.write_text(yaml.safe_dump(data))
    out = lab / "out"
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(path), "-o", str(out), "-j", "2", "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert expected in err, err
    assert err.startswith(f"error: {path}: ")  # names the sweep file
    assert not out.exists()


def test_shipped_sweep_is_valid() -> None:
    sweep = load_sweep(REPO / "sweeps" / "default-reduction.yaml")
    assert len(sweep.points) == 18
    assert sweep.points[-1].values == {"schedules.mercury.reduction": 0.75,
                                       "network.trace": "../traces/synthetic/5g-all.csv",
                                       "energy.radio": "5g-nsa-mmwave-narayanan2021", "workload.seed": 3}
    radios = {(p.values["network.trace"], p.values["energy.radio"]) for p in sweep.points}
    assert radios == {("../traces/synthetic/lte-all.csv", "lte-huang2012"),
                      ("../traces/synthetic/5g-all.csv", "5g-nsa-mmwave-narayanan2021")}


def test_paired_axis_runs_the_zipped_points(lab: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A trace moves with its radio model: 2 rows x 2 seeds = 4 points (a product of the keys would give 8)."""
    write_trace(lab / "fast.csv", [0, 1, 2], [80, 60, 90])
    grid = {PAIR: [["trace.csv", "lte-huang2012"], ["fast.csv", "5g-nsa-mmwave-narayanan2021"]],
            "workload.seed": [1, 2]}
    path = write_sweep(lab, grid)
    sweep = load_sweep(path)
    assert [p.values for p in sweep.points] == [
        {"network.trace": "trace.csv", "energy.radio": "lte-huang2012", "workload.seed": 1},
        {"network.trace": "trace.csv", "energy.radio": "lte-huang2012", "workload.seed": 2},
        {"network.trace": "fast.csv", "energy.radio": "5g-nsa-mmwave-narayanan2021", "workload.seed": 1},
        {"network.trace": "fast.csv", "energy.radio": "5g-nsa-mmwave-narayanan2021", "workload.seed": 2}]
    out = lab / "out"
    monkeypatch.setenv("COLUMNS", "200")  # the console table whole
    assert main(["sweep", str(path), "-o", str(out), "-j", "1"]) in (0, None)
    console = capsys.readouterr().out
    assert "│ fast          │ 5g-nsa-mmwave-narayanan2021 │ mercury     │     2 │" in console
    table = pd.read_parquet(out / "sweep.parquet")
    assert list(table.columns[:4]) == ["point", "network.trace", "energy.radio", "workload.seed"]
    assert table.point.tolist() == [p for p in range(4) for _ in range(3)]
    base = yaml.safe_load((lab / "scenario.yaml").read_text())
    for point, (trace, radio, seed) in enumerate([("trace.csv", "lte-huang2012", 1), ("trace.csv", "lte-huang2012", 2),
                                                   ("fast.csv", "5g-nsa-mmwave-narayanan2021", 1),
                                                   ("fast.csv", "5g-nsa-mmwave-narayanan2021", 2)]):
        data = json.loads(json.dumps(base))
        data["network"]["trace"], data["workload"]["seed"] = trace, seed
        data["energy"] = {"radio": radio}
        summary = run_scenario(scenario_from_dict(data, lab / "scenario.yaml")).summary
        rows = table[table.point == point].set_index("schedule")
        assert (rows["network.trace"] == trace).all() and (rows["energy.radio"] == radio).all()
        for schedule, stats in summary.items():
            for column in ("mean_ms", "p95_ms", "mean_energy_j", "mean_uplink_bytes"):
                assert rows.loc[schedule, column] == stats[column], (point, schedule, column)
            assert rows.loc[schedule, "mean_energy_radio_j"] == stats["energy_mean_j"]["radio"]
    mercury = table[table.schedule == "mercury"].set_index("point").mean_energy_radio_j
    assert mercury[0] > 0 and mercury[2] > 0 and mercury[0] != mercury[2]
    document = json.loads((out / "sweep.json").read_text())
    radio_dir = REPO / "profiles" / "radio"
    hashed = set(document["inputs_sha256"])
    assert {str(lab / "fast.csv"), str(radio_dir / "5g-nsa-mmwave-narayanan2021.yaml"),
            str(radio_dir / "lte-huang2012.yaml")} <= hashed
    summary = pd.read_csv(out / "sweep-summary.csv")  # over seeds: one row per pair row and schedule
    assert summary[["network.trace", "energy.radio"]].drop_duplicates().values.tolist() == [
        ["trace", "lte-huang2012"], ["fast", "5g-nsa-mmwave-narayanan2021"]]
    assert len(summary) == 2 * 3 and set(summary.n) == {2}
    page = (out / "sweep.html").read_text()
    assert f"Against {PAIR}" in page and "fast + 5g-nsa-mmwave-narayanan2021" in page


def test_paired_axis_resumes_to_identical_tables(lab: Path) -> None:
    """Points of a paired axis saved by a smaller grid are reused; the tables match an uninterrupted run's."""
    write_trace(lab / "fast.csv", [0, 1, 2], [80, 60, 90])
    rows = [["trace.csv", "lte-huang2012"], ["fast.csv", "5g-nsa-mmwave-narayanan2021"]]
    first = write_sweep(lab, {PAIR: rows[1:], "workload.seed": [1, 2]})
    resumed, whole = lab / "resumed", lab / "whole"
    assert main(["sweep", str(first), "-o", str(resumed), "-j", "1", "-q"]) in (0, None)
    path = write_sweep(lab, {PAIR: rows, "workload.seed": [1, 2]})
    assert main(["sweep", str(path), "-o", str(resumed), "-j", "1", "-q"]) in (0, None)
    assert main(["sweep", str(path), "-o", str(whole), "-j", "1", "-q"]) in (0, None)
    document = json.loads((resumed / "sweep.json").read_text())
    assert (document["reused"], document["computed"]) == (2, 2)
    for name in ("sweep.parquet", "sweep.csv", "sweep-summary.parquet", "sweep-summary.csv"):
        assert (resumed / name).read_bytes() == (whole / name).read_bytes(), name
