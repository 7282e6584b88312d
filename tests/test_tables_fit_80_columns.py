"""Console tables fit an 80-column terminal with every number whole: a table too wide is cut into sections
stacked one under another, each repeating the row's names (run over seeds, sweep, traces list), and compare
prints a table per run. Piped output with no COLUMNS keeps one table, each row on one line.

Expected cells are written out by hand from each table's format.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from _traces_real import run_cli
from rich.cells import cell_len
from rich.table import Table

from simulator.cli.compare import print_comparison
from simulator.cli.console import print_summary, print_sweep, print_table


def assert_fits(out: str, numbers: list[str], width: int = 80) -> list[str]:
    """Every line within ``width`` cells, no ellipsis, each number whole on one line; returns the lines."""
    lines = out.splitlines()
    too_long = [line for line in lines if cell_len(line) > width]
    assert not too_long, f"{len(too_long)} lines over {width} columns, e.g.\n{too_long[0]}"
    assert "…" not in out
    for number in numbers:
        assert any(number in line for line in lines), f"{number} not whole on one line in:\n{out}"
    return lines


def _entry(mean: float, ci: tuple[float, float], miss: float, miss_ci: tuple[float, float]) -> dict:
    return {"count": 60, "requests": 60, "mean_ms": mean, "mean_ms_ci": ci, "p50_ms": mean, "p50_ms_ci": ci,
            "p95_ms": mean + 300.0, "p95_ms_ci": (ci[0] + 300.0, ci[1] + 300.0), "p99_ms": 9999.9,
            "max_ms": 19999.9, "mean_accuracy": 91.2, "mean_energy_j": 11.704, "deadline_miss_rate": miss,
            "deadline_miss_rate_ci": miss_ci}


def test_run_over_seeds_fits_80_columns_in_sections(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    scenario = SimpleNamespace(name="camera", network=SimpleNamespace(mode="trace"),
                               workload=SimpleNamespace(deadline_ms=700.0))
    summary = {"cloud-only": _entry(1500.9, (0.0, 5903.0), 0.3167, (0.0, 1.0)),
               "mercury": _entry(600.5, (462.0, 739.0), 0.0, (0.0, 0.0))}
    print_summary(SimpleNamespace(scenario=scenario, seeds=(1, 2, 3), summary=summary))
    out = capsys.readouterr().out
    # clipped intervals show their bounds; mercury's is symmetric: 739.0 - 600.5 = 600.5 - 462.0 = 138.5
    lines = assert_fits(out, ["60/60", "1,500.9 [0.0, 5,903.0]", "1,800.9 [300.0, 6,203.0]", "600.5 ± 138.5",
                              "900.5 ± 138.5", "91.20", "11.704", "31.7% [0.0%, 100.0%]", "0.0% ± 0.0%"])
    headers = [line for line in lines if line.split()[:1] == ["schedule"]]
    assert len(headers) == 2  # two sections, each naming the schedule on every row
    assert sum(line.split()[:1] == ["mercury"] for line in lines) == 2
    for header in ("done", "mean ms", "p95", "top-1 %", "energy J", "miss >700 ms"):
        assert sum(header in line for line in headers) == 1, header  # each column once
    assert "p99" not in out and "9,999.9" not in out  # the narrow table's drops stay dropped


def test_run_over_seeds_piped_is_one_table(capsys, monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    scenario = SimpleNamespace(name="camera", network=SimpleNamespace(mode="trace"),
                               workload=SimpleNamespace(deadline_ms=None))
    print_summary(SimpleNamespace(scenario=scenario, seeds=(1, 2, 3),
                                  summary={"mercury": _entry(600.5, (462.0, 739.0), 0.0, (0.0, 0.0))}))
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "mercury" in line)
    assert out.count("schedule") == 1 and "9,999.9" in row and "19,999.9" in row and "600.5 ± 138.5" in row


COMPARE_ROWS = [
    {"run": "reports/run-with-a-long-name", "schedule": "mercury-adaptive", "statistic": "mean_ms",
     "a": 28860123.4, "b": 1234567.8, "difference": -27625555.6, "ci_low": -27700000.0, "ci_high": -27500000.0,
     "method": "paired by request"},
    {"run": "reports/run-with-a-long-name", "schedule": "mercury-adaptive", "statistic": "deadline_miss_rate",
     "a": 0.9995, "b": 0.0125, "difference": -0.987, "ci_low": -0.99, "ci_high": -0.98,
     "method": "paired by request"},
    {"run": "reports/other", "schedule": "janus", "statistic": "p95_ms", "a": 700.0, "b": 720.5,
     "difference": 20.5, "ci_low": 10.25, "ci_high": 30.75, "method": "paired over seeds (10)"},
    {"run": "reports/other", "schedule": "janus", "statistic": "mean_ms", "a": 600.0, "b": 610.0,
     "difference": 10.0, "ci_low": 1.0, "ci_high": 19.0, "method": "unpaired (Welch) (10 vs 9)"},
]


def test_compare_fits_80_columns_a_table_per_run(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    print_comparison(pd.DataFrame(COMPARE_ROWS))
    out = capsys.readouterr().out
    # ",.4g": four significant digits; ".2%" for the miss rate
    lines = assert_fits(out, ["2.886e+07", "1.235e+06", "-2.763e+07", "[-2.77e+07, -2.75e+07]", "99.95%", "1.25%",
                              "-98.70%", "[-99.00%, -98.00%]", "720.5", "20.5", "[10.25, 30.75]", "[1, 19]"])
    # one method for every row of a run: in its title; two: a column of their own
    assert any("reports/run-with-a-long-name − baseline, paired by request" in line for line in lines)
    assert any(line.strip() == "reports/other − baseline" for line in lines)
    assert any("paired over seeds (10)" in line for line in lines)
    assert any(line.strip() == "mercury-adaptive" for line in lines)  # a heading row per schedule
    assert sum("95% Student t intervals" in line for line in lines) == 1  # the method note once, at the end
    note = next(i for i, line in enumerate(lines) if "95% Student t intervals" in line)
    assert note > max(i for i, line in enumerate(lines) if "[1, 19]" in line)


def test_compare_on_a_wide_terminal_is_one_table(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    print_comparison(pd.DataFrame(COMPARE_ROWS))
    out = capsys.readouterr().out
    assert out.count("run − baseline") == 1 and out.count("┏") == 1
    row = next(line for line in out.splitlines() if "[10.25, 30.75]" in line)
    assert "reports/other" in row and "janus" in row and "p95 (ms)" in row and "paired over seeds (10)" in row


SWEEP = pd.DataFrame({"network.mean_mbps": [0.05, 0.05], "workload.seed": [1, 2],
                      "schedule": ["cloud-only", "cloud-only"], "mean_ms": [28860000.0, 28860200.0],
                      "p95_ms": [30000000.0, 30000000.0], "mean_accuracy": [89.9, 89.9],
                      "mean_energy_j": [12345.5, 12345.5], "parameter": [0.75, 0.75]})


def test_sweep_fits_80_columns_in_sections(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    print_sweep(SWEEP, ["network.mean_mbps", "workload.seed"])
    out = capsys.readouterr().out
    # mean over the two seeds 28,860,100.0 ± t(0.975, 1) * 141.42 / sqrt(2) = 12.706 * 100 = 1,270.6
    lines = assert_fits(out, ["28,860,100.0 ± 1,270.6", "30,000,000.0 ± 0.0", "89.90 ± 0.00",
                              "12345.500 ± 0.000", "0.75"])
    rows = [line for line in lines if "cloud-only" in line]
    assert len(rows) >= 2 and all("0.05" in row for row in rows)  # each section names the configuration


def test_sweep_piped_is_one_table(capsys, monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    print_sweep(SWEEP, ["network.mean_mbps", "workload.seed"])
    row = next(line for line in capsys.readouterr().out.splitlines() if "cloud-only" in line)
    assert "28,860,100.0 ± 1,270.6" in row and "12345.500 ± 0.000" in row and "0.75" in row


def test_traces_list_fits_80_columns_with_names_whole(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli(["traces", "list"], capsys)
    assert code == 0, err
    tables = "\n".join(line for line in out.splitlines() if not line.startswith("in "))  # the closing prose
    lines = assert_fits(tables, [])
    for name in ("lte-driving", "lte-walking", "5g-walking"):  # folded before: "lte-drivin" over "g"
        assert sum(line.split()[1:2] == [name] for line in lines) == 2  # whole, once in each section


def test_sections_repeat_the_key_and_keep_every_column_once(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    table = Table(title="title", caption="caption")
    table.add_column("name")
    for header in ("alpha", "beta", "gamma", "delta"):
        table.add_column(header, justify="right")
    table.add_row("first", "1,234,567.1", "2,234,567.2", "3,234,567.3", "4,234,567.4")
    table.add_row("second", "5", "6", "7", "8")
    print_table(table, key=1)
    lines = capsys.readouterr().out.splitlines()
    # 4 number columns of 11 cells: name (6) + two of them take 6 + 11 + 11 + 10 of frame = 38 <= 40
    assert_fits("\n".join(lines), ["1,234,567.1", "2,234,567.2", "3,234,567.3", "4,234,567.4"], width=40)
    headers = [line for line in lines if "name" in line]
    assert [h.split("┃")[2:4] for h in headers] == [[" " * 7 + "alpha ", " " * 8 + "beta "],
                                                    [" " * 7 + "gamma ", " " * 7 + "delta "]]
    assert sum("title" in line for line in lines) == 1 and "title" in lines[0]
    assert sum("caption" in line for line in lines) == 1 and "caption" in lines[-1]
    assert [line.split()[1] for line in lines if line.startswith("│")] == ["first", "second"] * 2


def test_catalog_fits_80_columns_with_a_table_per_model(capsys, monkeypatch) -> None:
    from simulator.cli.app import main

    monkeypatch.setenv("COLUMNS", "80")
    assert main(["catalog"]) == 0
    out = capsys.readouterr().out
    # the accuracy rows: one table per model and dataset, named in its title; the prose folded to the width
    assert_fits(out, ["0.25-0.75", "0-0.34", "0-16"])
    assert "deit_small_patch16_224 on imagenet (deit-s-ti-imagenet.csv)" in out
    assert "deit-s-ti-imagenet.csv, not in it:" in out


def test_catalog_piped_keeps_one_accuracy_table(capsys, monkeypatch) -> None:
    from simulator.cli.app import main

    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["catalog"]) == 0
    out = capsys.readouterr().out
    assert "deit_small_patch16_224 on imagenet" not in out  # the whole table, model a column of its own
    [gaps] = [line for line in out.splitlines() if line.startswith("deit-s-ti-imagenet.csv, not in it:")]
    assert gaps.endswith("under the same name.")  # one line, not folded
