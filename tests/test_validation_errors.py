"""How validate shows an error: percent of the measured value, or ms for a part measured under 5 ms."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from simulator.emulation.validate import METRICS, comparison_table, print_comparison, table_html


def test_error_text_by_hand() -> None:
    from simulator.emulation.validate import ABSOLUTE_BELOW_MS, error_text

    assert ABSOLUTE_BELOW_MS == 5.0
    assert error_text(1.8, 0.1) == "+1.7 ms"          # not (1.8 - 0.1) / 0.1 = +1700.0 %
    assert error_text(0.1, 1.8) == "-1.7 ms"
    assert error_text(2.0, 4.9) == "-2.9 ms"          # just under the threshold
    assert error_text(7.5, 5.0) == "+50.0 %"          # at it: (7.5 - 5) / 5
    assert error_text(120.0, 100.0) == "+20.0 %"
    assert error_text(0.0, 0.0) == "+0.0 ms"          # no division by zero
    assert error_text(3.0, math.nan) == "–"
    assert error_text(math.nan, 300.0) == "–"


def _records(values: dict[str, list[float]]) -> pd.DataFrame:
    """Two completed requests of one schedule, each metric at the given values."""
    frame = pd.DataFrame({metric: values.get(metric, [0.0, 0.0]) for metric in METRICS})
    return frame.assign(schedule="mercury", status="ok")


def test_comparison_keeps_its_columns_and_adds_absolute_errors() -> None:
    simulated = _records({"total_ms": [110.0, 130.0], "uplink_queue_ms": [1.8, 1.8]})
    measured = _records({"total_ms": [100.0, 100.0], "uplink_queue_ms": [0.1, 0.1]})
    table = comparison_table(simulated, measured, ["mercury"]).set_index("metric")
    older = ["schedule", "simulated_n", "measured_n"]
    for stat in ("mean", "p50", "p95"):
        older += [f"simulated_{stat}", f"measured_{stat}", f"error_{stat}"]
    assert list(table.columns) == older + ["abs_error_mean", "abs_error_p50", "abs_error_p95"]
    # total: simulated mean 120, p50 120, p95 110 + 0.95 * 20 = 129; measured 100 throughout
    assert table.loc["total_ms", ["error_mean", "error_p50", "error_p95"]].tolist() == \
        [0.2, 0.2, pytest.approx(0.29)]
    assert table.loc["total_ms", ["abs_error_mean", "abs_error_p50", "abs_error_p95"]].tolist() == \
        [20.0, 20.0, pytest.approx(29.0)]
    assert table.loc["uplink_queue_ms", "error_mean"] == pytest.approx(17.0)   # kept as it was: (1.8 - 0.1) / 0.1
    assert table.loc["uplink_queue_ms", "abs_error_mean"] == pytest.approx(1.7)


def test_page_and_terminal_show_a_short_part_in_ms() -> None:
    simulated = _records({"total_ms": [120.0, 120.0], "uplink_queue_ms": [1.8, 1.8], "return_ms": [4.0, 4.0]})
    measured = _records({"total_ms": [100.0, 100.0], "uplink_queue_ms": [0.1, 0.1], "return_ms": [3.0, 3.0]})
    table = comparison_table(simulated, measured, ["mercury"])
    page = table_html(table)
    assert "<td>+1.7 ms</td><td>+1.7 ms</td><td>+1.7 ms</td>" in page
    assert "<td>+1.0 ms</td><td>+1.0 ms</td><td>+1.0 ms</td>" in page
    assert "<td>+20.0 %</td><td>+20.0 %</td><td>+20.0 %</td>" in page
    assert "1700" not in page
    short = _records({"total_ms": [4.5, 4.5]})
    lines: list[str] = []
    print_comparison(comparison_table(short, _records({"total_ms": [3.0, 3.0]}), ["mercury"]), lines.append)
    assert lines[1].split()[:7] == ["mercury", "4.5", "3.0", "+1.5", "ms", "4.5", "3.0"]
    lines.clear()
    print_comparison(table, lines.append)
    assert lines[1].split()[:7] == ["mercury", "120.0", "100.0", "+20.0", "%", "120.0", "100.0"]
