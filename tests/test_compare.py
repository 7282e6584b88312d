"""``mercury-sim compare``: intervals over seeds (paired by seed, Welch, none for one seed), checked by hand
from the per-seed values in summary.json; sweep folders as sides; refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from _report_runs import run_cli, scenario_file
from scipy import stats

from simulator.analysis.compare import ONE_SEED, PAIRED, UNPAIRED, compare, is_paired
from simulator.results.comparison import compare_runs, load_sides

STATISTICS = {"mean_ms", "p50_ms", "p95_ms", "deadline_miss_rate", "mean_accuracy", "mean_energy_j"}
OFFLOADING = ("cloud-only", "otas", "janus", "mercury")


def _write(scenario: Path, change) -> None:  # noqa: ANN001 (a function editing the scenario mapping)
    data = yaml.safe_load(scenario.read_text())
    change(data)
    scenario.write_text(yaml.safe_dump(data))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Seeds 1-3; the same seeds with 20 ms more RTT; the same seeds with Mercury pruning more; seeds 4-6;
    seed 1 alone."""
    folder = tmp_path_factory.mktemp("compare")
    scenario = scenario_file(folder, n_requests=30)
    _write(scenario, lambda d: d["network"].update(start_offset_s="random"))
    out = {name: folder / name for name in ("a", "rtt", "more_pruning", "other_seeds", "single")}

    def run(name: str, seeds: str) -> None:
        assert run_cli(["run", str(scenario), "--seeds", seeds, "-o", str(out[name]), "-q", "--no-report"]) == 0

    run("a", "1-3")
    run("single", "1")
    run("other_seeds", "4-6")
    _write(scenario, lambda d: d["network"].update(rtt_ms=20))
    run("rtt", "1-3")
    _write(scenario, lambda d: (d["network"].update(rtt_ms=0), d["schedules"][4].update(reduction=0.6)))
    run("more_pruning", "1-3")
    return out


def _per_seed(folder: Path, schedule: str, statistic: str) -> np.ndarray:
    per_seed = json.loads((folder / "summary.json").read_text())["per_seed"]
    return np.array([per_seed[seed][schedule][statistic] for seed in sorted(per_seed, key=int)], float)


def test_run_against_itself_is_zero_with_zero_width(runs) -> None:
    a = load_sides(runs["a"])[0]
    table = compare(a, a)
    assert set(table.statistic) == STATISTICS and len(table) == 5 * len(STATISTICS)
    assert table.method.str.startswith(PAIRED).all()
    assert (table.difference == 0).all() and (table.ci_low == 0).all() and (table.ci_high == 0).all()


def test_known_shift_with_shared_seeds_is_that_shift_zero_wide(runs) -> None:
    """20 ms more RTT adds 10 ms on the way up and 10 ms back to every offloaded request of every seed."""
    a, b = load_sides(runs["a"])[0], load_sides(runs["rtt"])[0]
    assert is_paired(a, b)
    table = compare(a, b).set_index(["schedule", "statistic"])
    for schedule in OFFLOADING:
        for statistic in ("mean_ms", "p50_ms", "p95_ms"):
            row = table.loc[(schedule, statistic)]
            assert (row.difference, row.ci_low, row.ci_high) == pytest.approx((20.0, 20.0, 20.0), abs=1e-9)
    assert (table.loc["mobile-only"].difference == 0).all()


def test_values_are_the_summaries_means(runs) -> None:
    table = compare(load_sides(runs["a"])[0], load_sides(runs["other_seeds"])[0])
    for side, folder in (("a", runs["a"]), ("b", runs["other_seeds"])):
        summary = json.loads((folder / "summary.json").read_text())["schedules"]
        for row in table.itertuples():
            assert getattr(row, side) == pytest.approx(summary[row.schedule][row.statistic], rel=1e-12, abs=1e-12)


def test_paired_interval_by_hand_for_three_seeds(runs) -> None:
    """mean(d) ± t(0.975, 2) · sd(d) / √3 over the three per-seed differences."""
    table = compare(load_sides(runs["a"])[0], load_sides(runs["more_pruning"])[0]).set_index(
        ["schedule", "statistic"])
    d = _per_seed(runs["more_pruning"], "mercury", "mean_ms") - _per_seed(runs["a"], "mercury", "mean_ms")
    half = 4.302652729911275 * d.std(ddof=1) / np.sqrt(3)  # t(0.975, 2), from a table
    row = table.loc[("mercury", "mean_ms")]
    assert row.method == f"{PAIRED} (3)"
    assert (row.difference, row.ci_low, row.ci_high) == pytest.approx((d.mean(), d.mean() - half, d.mean() + half),
                                                                      rel=1e-9)
    assert row.ci_high < 0  # pruning more is faster on every seed
    assert (table.loc["otas"].difference == 0).all() and (table.loc["otas"].ci_high == 0).all()


def test_other_seeds_give_welch_by_hand(runs) -> None:
    table = compare(load_sides(runs["a"])[0], load_sides(runs["other_seeds"])[0]).set_index(
        ["schedule", "statistic"])
    x = _per_seed(runs["a"], "cloud-only", "p95_ms")
    y = _per_seed(runs["other_seeds"], "cloud-only", "p95_ms")
    va, vb = x.var(ddof=1) / 3, y.var(ddof=1) / 3
    df = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 2)  # Welch-Satterthwaite
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    row = table.loc[("cloud-only", "p95_ms")]
    assert row.method == f"{UNPAIRED} (3 vs 3)"
    expected = y.mean() - x.mean()
    assert (row.difference, row.ci_low, row.ci_high) == pytest.approx(
        (expected, max(expected - half, -np.inf), expected + half), rel=1e-9)


def test_rates_stay_in_their_range(runs) -> None:
    table = compare(load_sides(runs["a"])[0], load_sides(runs["other_seeds"])[0])
    rates = table[table.statistic == "deadline_miss_rate"]
    assert (rates.ci_low >= -1).all() and (rates.ci_high <= 1).all()


def test_one_seed_declines_the_interval(runs, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    table = compare(load_sides(runs["a"])[0], load_sides(runs["single"])[0])
    assert (table.method == ONE_SEED).all() and table.ci_low.isna().all() and table.ci_high.isna().all()
    assert run_cli(["compare", str(runs["a"]), str(runs["single"]), "-o", str(tmp_path / "c"), "-q"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("note: no interval where a side has one seed") and "--seeds" in err
    assert err.count("\n") == 1


def test_a_sweep_with_a_seed_axis_is_one_side_per_configuration(tmp_path: Path) -> None:
    scenario = scenario_file(tmp_path, n_requests=20)
    _write(scenario, lambda d: d["network"].update(start_offset_s="random"))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "rtt", "scenario": "scenario.yaml",
                                     "grid": {"network.rtt_ms": [0, 20], "workload.seed": [1, 2, 3]}}))
    assert run_cli(["sweep", str(sweep), "-o", str(tmp_path / "s"), "-q"]) == 0
    sides, table = compare_runs([tmp_path / "s"])
    assert [s.configuration for s in sides] == [{"network.rtt_ms": 0}, {"network.rtt_ms": 20}]
    rows = table.set_index(["schedule", "statistic"])
    row = rows.loc[("cloud-only", "mean_ms")]
    assert row.method == f"{PAIRED} (3)"
    assert (row.difference, row.ci_low, row.ci_high) == pytest.approx((20.0, 20.0, 20.0), abs=1e-9)


def test_cli_writes_table_and_page(runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    assert run_cli(["compare", str(runs["a"]), str(runs["rtt"]), str(runs["other_seeds"]), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "paired over seeds" in printed and "unpaired (Welch)" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names[:3] == ["compare.csv", "compare.html", "compare.json"] and names[3].startswith("plotly-")
    document = json.loads((out / "compare.json").read_text())
    assert [run["seeds"] for run in document["runs"]] == [[1, 2, 3], [1, 2, 3], [4, 5, 6]]
    page = (out / "compare.html").read_text()
    assert f'src="{names[3]}"' in page and "<td>1-3</td>" in page
    (out / "compare.html").unlink()
    assert run_cli(["report", str(out)]) == 0 and (out / "compare.html").read_text() == page
    assert run_cli(["compare", str(runs["a"]), str(runs["a"]), "-o", str(out), "-q", "--self-contained"]) == 0
    assert '<script type="text/javascript" src=' not in (out / "compare.html").read_text()


@pytest.mark.parametrize("case", ["unreadable sweep", "empty folder", "missing", "one run only", "file output"])
def test_refusals_are_one_line_exit_2(case: str, runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "x"
    args = {"unreadable sweep": [str(runs["a"]), str(other)], "empty folder": [str(runs["a"]), str(other)],
            "missing": [str(runs["a"]), str(tmp_path / "absent")], "one run only": [str(runs["a"])],
            "file output": [str(runs["a"]), str(runs["a"]), "-o", str(tmp_path / "file.txt")]}[case]
    other.mkdir()
    if case == "unreadable sweep":
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
