"""Every table the command line prints keeps its numbers whole: at 80 and 120 columns and piped.

The inputs are made here with numbers wide enough to crowd a table; each expected cell is written out by
hand from the table's format, and must appear in full, with no ellipsis anywhere.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from _traces_real import run_cli
from rich.table import Table

from simulator.cli.compare import print_comparison
from simulator.cli.console import print_claims, print_summary, print_sweep

WIDTHS = [80, 120, None]  # None: piped with no COLUMNS, as `| cat` or a file sees it
LONG = "Download__Driving__B_2020.02.13_13.21.26"


@pytest.fixture(params=WIDTHS, ids=lambda w: f"width-{w}" if w else "piped")
def width(request, monkeypatch) -> int | None:
    if request.param is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(request.param))
    return request.param


def assert_whole(out: str, numbers: list[str]) -> None:
    assert "…" not in out
    lines = out.splitlines()
    for number in numbers:
        assert any(number in line for line in lines), f"{number} not whole on one line in:\n{out}"


def test_traces_stats(capsys, tmp_path: Path, width: int | None) -> None:
    (tmp_path / f"{LONG}.csv").write_text("time_s,mbps\n0,123456.78\n1,123456.78\n")
    (tmp_path / "b.csv").write_text("time_s,mbps\n0,1000.25\n1,3000.75\n")
    code, out, err = run_cli(["traces", "stats", str(tmp_path / f"{LONG}.csv"), str(tmp_path / "b.csv")], capsys)
    assert code == 0, err
    # first: constant, 2 s; second: 1 s each at 1000.25 and 3000.75: mean = median (midpoint) = 2000.5,
    # p5 and p95 beyond the outer midpoints; lag-1 needs three samples: nan
    assert_whole(out, ["2.0", "123456.78", "0.000", "nan", "2000.50", "1000.25", "3000.75"])
    if width is None:
        assert LONG in out  # piped: no width limit, the name is on one line too


def test_traces_stats_csv(capsys, tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("time_s,mbps\n0,1000.25\n1,3000.75\n")
    code, out, err = run_cli(["traces", "stats", "--csv", str(path)], capsys)
    assert code == 0, err
    assert out.splitlines() == [
        "trace,source,samples,sample_period_s,duration_s,mean_mbps,median_mbps,p5_mbps,p95_mbps,outage_fraction,"
        "lag1_autocorr", f"b,{path},2,1,2,2000.5,2000.5,1000.25,3000.75,0,"]
    code, _, err = run_cli(["traces", "stats", "--csv", "--json", str(path)], capsys)
    assert code == 2 and err.startswith("error: --csv: give one of --json and --csv")


def test_summary(capsys, width: int | None) -> None:
    stats = {"count": 99999, "requests": 100000, "mean_ms": 28860123.4, "p50_ms": 1234567.8, "p95_ms": 9876543.2,
             "p99_ms": 19876543.2, "max_ms": 29876543.2, "mean_accuracy": 89.94, "mean_energy_j": 12345.678,
             "deadline_miss_rate": 0.25}
    scenario = SimpleNamespace(name="an overloaded uplink", network=SimpleNamespace(mode="trace"),
                               workload=SimpleNamespace(deadline_ms=700.0))
    print_summary(SimpleNamespace(scenario=scenario, seeds=(1,), summary={"mercury-adaptive-oracle": stats,
                                                              "cloud-only": stats}))
    out = capsys.readouterr().out
    # a console narrower than the full table (about 150 columns here) gets the narrow one, without p50, p99
    # and max; the others stay (energy's format is its own)
    numbers = ["99999/100000", "28,860,123.4", "9,876,543.2", "89.94", "25.0%"]
    if width is None:
        numbers += ["1,234,567.8", "19,876,543.2", "29,876,543.2"]
    assert_whole(out, numbers)


def test_compare(capsys, width: int | None) -> None:
    rows = [{"run": "reports/run-with-a-long-name", "schedule": "mercury-adaptive", "statistic": "mean_ms",
             "a": 28860123.4, "b": 1234567.8, "difference": -27625555.6, "ci_low": -27700000.0,
             "ci_high": -27500000.0, "method": "paired by request"},
            {"run": "reports/run-with-a-long-name", "schedule": "mercury-adaptive",
             "statistic": "deadline_miss_rate", "a": 0.9995, "b": 0.0125, "difference": -0.987, "ci_low": -0.99,
             "ci_high": -0.98, "method": "paired by request"}]
    print_comparison(pd.DataFrame(rows))
    out = capsys.readouterr().out
    # ",.4g": four significant digits, so 28860123.4 shows as 2.886e+07 (the table's own rounding, not a cut)
    assert_whole(out, ["2.886e+07", "1.235e+06", "-2.763e+07", "[-2.77e+07, -2.75e+07]", "99.95%", "1.25%",
                       "-98.70%", "[-99.00%, -98.00%]"])


def test_claims(capsys, width: int | None) -> None:
    claim = SimpleNamespace(id="mercury-cloud-only-speedup-at-89.9", source="Mercury Table I", role="headline",
                            claim="Mercury is faster than cloud-only at equal accuracy over the replayed LTE trace",
                            expect=SimpleNamespace(describe=lambda: "≥ 123456.789"))
    print_claims([SimpleNamespace(claim=claim, simulated=1234567.891, verdict="pass")])
    out = capsys.readouterr().out
    assert_whole(out, ["1.235e+06", "123456.789"])  # simulated: ".4g"


def test_sweep(capsys, width: int | None) -> None:
    table = pd.DataFrame({"network.mean_mbps": [0.05, 0.05], "workload.seed": [1, 2],
                          "schedule": ["cloud-only", "cloud-only"], "mean_ms": [28860000.0, 28860200.0],
                          "p95_ms": [30000000.0, 30000000.0], "mean_accuracy": [89.9, 89.9],
                          "mean_energy_j": [12345.5, 12345.5], "parameter": [0.75, 0.75]})
    print_sweep(table, ["network.mean_mbps", "workload.seed"])
    out = capsys.readouterr().out
    # mean over the two seeds 28,860,100.0; the t interval's half-width t(0.975, 1) * s / sqrt(2) with
    # s = 141.42...: 12.706 * 100 = 1,270.6; a constant column has a zero half-width (energy: its own format)
    assert_whole(out, ["0.05", "28,860,100.0 ± 1,270.6", "30,000,000.0 ± 0.0", "89.90 ± 0.00", "0.75"])


@pytest.mark.parametrize("columns", [40, 60, 80, 100])
def test_a_table_wider_than_the_console_outgrows_it_rather_than_cut_a_number(monkeypatch, capsys,
                                                                                columns: int) -> None:
    from simulator.cli.console import print_table

    monkeypatch.setenv("COLUMNS", str(columns))
    table = Table(title="wide")
    table.add_column("name")
    for header in ("first number", "second number", "third number", "fourth number"):
        table.add_column(header, justify="right")
    wider_than_40 = "1234567890" * 4 + "12345"
    table.add_row(LONG, "1,234,567,890.12", "0.000001234", "-98,765.4321", wider_than_40)
    print_table(table)
    out = capsys.readouterr().out
    assert_whole(out, ["1,234,567,890.12", "0.000001234", "-98,765.4321", wider_than_40])
    name = "".join(line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│"))
    assert name == LONG  # the name folds over lines, every character kept
