"""An irregular trace, whose mean (1.25 s) and median (0.75 s) sample spacing differ.

Samples at 0, 1, 1.5, 2 and 5 s carry 10, 40, 0, 20 and 8 Mbit/s. The last sample lasts the median
spacing, 0.75 s, so one pass lasts 5.75 s and carries 10 + 20 + 0 + 60 + 6 = 96 Mbit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_trace

from simulator.traces import Trace, read_trace_csv
from simulator.traces.stats import trace_stats

TIMES = [0.0, 1.0, 1.5, 2.0, 5.0]
RATES = [10.0, 40.0, 0.0, 20.0, 8.0]


@pytest.fixture(params=["from_samples", "csv"])
def trace(request: pytest.FixtureRequest, tmp_path: Path) -> Trace:
    if request.param == "csv":
        return read_trace_csv(write_trace(tmp_path / "irregular.csv", [t + 100.0 for t in TIMES], RATES))
    return Trace.from_samples([t + 100.0 for t in TIMES], RATES)  # any origin: shifted to 0


def test_last_sample_lasts_the_median_spacing(trace: Trace) -> None:
    assert trace.duration_s == pytest.approx(5.75)
    assert trace.total_bits == pytest.approx(96e6)
    assert trace.mean_mbps == pytest.approx(96 / 5.75)
    assert trace_stats(trace).sample_period_s == pytest.approx(0.75)  # of 1, 0.5, 0.5, 3, 0.75


def test_transfers_cross_the_last_sample_and_the_loop(trace: Trace) -> None:
    assert trace.transfer_end(4.0, 3e6 / 8) == pytest.approx(4.15)   # 3 Mbit at 20 Mbit/s
    # 2 Mbit by 5.0 s, 6 Mbit in the last 0.75 s at 8 Mbit/s, then 2 Mbit at 10 Mbit/s after the wrap
    assert trace.transfer_end(4.9, 10e6 / 8) == pytest.approx(5.75 + 0.2)
    # from inside the zero stretch: nothing until 2.0 s
    assert trace.transfer_end(1.6, 1e6 / 8) == pytest.approx(2.05)
    assert trace.capacity_mbps(5.9) == 10.0  # 0.15 s into the second pass
    assert trace.capacity_mbps(5.7) == 8.0
    assert trace.capacity_mbps(1.0) == 40.0 and trace.capacity_mbps(5.0) == 8.0  # a sample holds from its start
    assert trace.cumulative_bits(5.75 + 1.25) == pytest.approx(96e6 + 10e6 + 0.25 * 40e6)
