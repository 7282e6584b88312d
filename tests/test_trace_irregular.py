"""An irregular trace, whose mean (1.25 s) and median (0.75 s) sample spacing differ.

Samples at 0, 1, 1.5, 2 and 5 s carry 10, 40, 0, 20 and 8 Mbit/s. The last sample lasts the median
spacing, 0.75 s, so one pass lasts 5.75 s and carries 10 + 20 + 0 + 60 + 6 = 96 Mbit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def test_stop_trace_delivers_nothing_after_its_end() -> None:
    stop = Trace.from_samples(TIMES, RATES, at_end="stop")
    assert stop.cumulative_bits(5.75 * 1.5) == pytest.approx(96e6)
    assert stop.cumulative_bits(5.75 * 3.0) == pytest.approx(96e6)


def test_zero_targets_take_no_time() -> None:
    trace = Trace.from_samples([0, 1], [0, 8])  # nothing in the first second
    assert trace.time_of_bits(0.0) == 0.0
    assert trace.time_of_bits(5.0, slack_bits=10.0) == 0.0  # within the slack: delivered at once
    assert trace.time_of_bits(8e6) == pytest.approx(2.0)


def test_trace_built_from_lists_and_its_bad_input_messages() -> None:
    trace = Trace([0.0, 1.0], [5.0, 10.0], 2.0)  # plain lists become float arrays
    assert trace.times_s.dtype == float and trace.recent_samples(1.5, 2).tolist() == [5.0, 10.0]
    with pytest.raises(ValueError, match="non-empty 1-D arrays of equal length"):
        Trace(np.array([0.0, 1.0]), np.array([1.0]), 2.0)
    with pytest.raises(ValueError, match="starts at time 0"):
        Trace(np.array([1.0]), np.array([1.0]), 2.0)
    with pytest.raises(ValueError, match="increase strictly"):
        Trace(np.array([0.0, 0.0]), np.array([1.0, 1.0]), 2.0)
    with pytest.raises(ValueError, match="end before duration_s"):
        Trace(np.array([0.0, 1.0]), np.array([1.0, 1.0]), 1.0)
    with pytest.raises(ValueError, match="finite and non-negative"):
        Trace(np.array([0.0]), np.array([-1.0]), 1.0)
    with pytest.raises(ValueError, match="the trace has zero capacity throughout"):
        Trace(np.array([0.0]), np.array([0.0]), 1.0)
