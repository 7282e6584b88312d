"""``mercury-sim compare``: paired and unpaired differences, values equal to summary.json, refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _report_runs import run_cli, scenario_file

from simulator.compare import compare, compare_runs, load_compared, paired

STATISTICS = {"mean_ms", "p50_ms", "p95_ms", "deadline_miss_rate", "mean_accuracy", "mean_energy_j"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Seed 3 twice (one as a copy with a shifted schedule), and seed 4."""
    folder = tmp_path_factory.mktemp("compare")
    scenario = scenario_file(folder, n_requests=60)
    out = {"a": folder / "a", "other_seed": folder / "other-seed"}
    assert run_cli(["run", str(scenario), "-o", str(out["a"]), "-q", "--no-report"]) == 0
    data = yaml.safe_load(scenario.read_text())
    data["schedules"][4]["reduction"] = 0.6  # the same workload, Mercury pruning more
    scenario.write_text(yaml.safe_dump(data))
    out["more_pruning"] = folder / "more-pruning"
    assert run_cli(["run", str(scenario), "-o", str(out["more_pruning"]), "-q", "--no-report"]) == 0
    data["workload"]["seed"] = 4
    scenario.write_text(yaml.safe_dump(data))
    assert run_cli(["run", str(scenario), "-o", str(out["other_seed"]), "-q", "--no-report"]) == 0
    # the same requests, mercury 10 ms slower on every completed one
    out["shifted"] = folder / "shifted"
    shutil.copytree(out["a"], out["shifted"])
    records = pd.read_parquet(out["shifted"] / "records.parquet")
    slower = (records.schedule == "mercury") & (records.status == "ok")
    records.loc[slower, "total_ms"] += 10.0
    records.to_parquet(out["shifted"] / "records.parquet", index=False)
    return out


def test_run_against_itself_is_zero_with_zero_width(runs) -> None:
    table = compare(load_compared(runs["a"]), load_compared(runs["a"]))
    assert set(table.statistic) == STATISTICS and len(table) == 5 * len(STATISTICS)
    assert (table.method == "paired").all()
    assert (table.difference == 0).all() and (table.ci_low == 0).all() and (table.ci_high == 0).all()


def test_values_are_those_of_summary_json(runs) -> None:
    table = compare(load_compared(runs["a"]), load_compared(runs["other_seed"]))
    for side, folder in (("a", runs["a"]), ("b", runs["other_seed"])):
        summary = json.loads((folder / "summary.json").read_text())["schedules"]
        for row in table.itertuples():
            expected = summary[row.schedule][row.statistic]
            assert getattr(row, side) == pytest.approx(expected, rel=1e-12, abs=1e-12), (side, row)


def test_shifted_latency_by_hand(runs) -> None:
    """Every completed mercury request 10 ms slower: paired differences are exactly 10 ms, no spread."""
    table = compare(load_compared(runs["a"]), load_compared(runs["shifted"])).set_index(["schedule", "statistic"])
    assert (table.method == "paired").all()
    for statistic in ("mean_ms", "p50_ms", "p95_ms"):
        row = table.loc[("mercury", statistic)]
        assert (row.difference, row.ci_low, row.ci_high) == pytest.approx((10.0, 10.0, 10.0), abs=1e-9)
    assert (table.loc["janus"].difference == 0).all()
    records = pd.read_parquet(runs["a"] / "records.parquet")
    mercury = records[(records.schedule == "mercury")]
    ok = mercury[mercury.status == "ok"].total_ms.to_numpy()
    newly_missed = ((ok <= 1500) & (ok + 10 > 1500)).sum()  # the scenario's deadline is 1500 ms
    assert table.loc[("mercury", "deadline_miss_rate")].difference == pytest.approx(newly_missed / len(mercury))


def test_same_workload_other_parameter_is_paired(runs) -> None:
    a, b = load_compared(runs["a"]), load_compared(runs["more_pruning"])
    assert paired(a, b)
    table = compare(a, b).set_index(["schedule", "statistic"])
    mercury = table.loc[("mercury", "mean_ms")]
    assert mercury.ci_high < 0 and mercury.ci_low <= mercury.difference <= mercury.ci_high  # faster, surely
    assert (table.loc["otas"].difference == 0).all() and (table.loc["otas"].ci_high == 0).all()


def test_other_seed_is_unpaired_with_a_real_interval(runs) -> None:
    a, b = load_compared(runs["a"]), load_compared(runs["other_seed"])
    assert not paired(a, b)
    table = compare(a, b).set_index(["schedule", "statistic"])
    assert (table.method == "unpaired").all()
    row = table.loc[("mercury", "mean_ms")]
    assert row.ci_low < row.difference < row.ci_high
    # unpaired: the interval is about ±1.96 standard errors of a difference of independent means
    ra = pd.read_parquet(runs["a"] / "records.parquet")
    rb = pd.read_parquet(runs["other_seed"] / "records.parquet")
    sa = ra[(ra.schedule == "mercury") & (ra.status == "ok")].total_ms
    sb = rb[(rb.schedule == "mercury") & (rb.status == "ok")].total_ms
    se = np.sqrt(sa.var() / len(sa) + sb.var() / len(sb))
    assert (row.ci_high - row.ci_low) == pytest.approx(2 * 1.96 * se, rel=0.25)


def test_cli_writes_table_and_page(runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    assert run_cli(["compare", str(runs["a"]), str(runs["shifted"]), str(runs["other_seed"]), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "paired" in printed and "unpaired" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names[:3] == ["compare.csv", "compare.html", "compare.json"] and names[3].startswith("plotly-")
    table = pd.read_csv(out / "compare.csv")
    assert len(table) == 2 * 5 * len(STATISTICS)
    page = (out / "compare.html").read_text()
    assert f'src="{names[3]}"' in page
    (out / "compare.html").unlink()
    assert run_cli(["report", str(out)]) == 0 and (out / "compare.html").read_text() == page
    assert run_cli(["compare", str(runs["a"]), str(runs["a"]), "-o", str(out), "-q", "--self-contained"]) == 0
    assert '<script type="text/javascript" src=' not in (out / "compare.html").read_text()


@pytest.mark.parametrize("case", ["sweep folder", "empty folder", "missing", "one run only", "file output"])
def test_refusals_are_one_line_exit_2(case: str, runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "x"
    args = {"sweep folder": [str(runs["a"]), str(other)], "empty folder": [str(runs["a"]), str(other)],
            "missing": [str(runs["a"]), str(tmp_path / "absent")], "one run only": [str(runs["a"])],
            "file output": [str(runs["a"]), str(runs["a"]), "-o", str(tmp_path / "file.txt")]}[case]
    other.mkdir()
    if case == "sweep folder":
        (other / "sweep.json").write_text("{}")
        (other / "sweep.parquet").write_text("")
    (tmp_path / "file.txt").write_text("mine")
    assert run_cli(["compare", *args, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert (tmp_path / "file.txt").read_text() == "mine"


def test_compare_runs_needs_two() -> None:
    from simulator.errors import InputError

    with pytest.raises(InputError, match="at least two"):
        compare_runs(["only-one"])
