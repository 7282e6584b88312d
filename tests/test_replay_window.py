"""trace.parquet's compact replay window: every row rebuilt bit for bit as the row-by-row window had it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.results.outputs import replayed_window
from simulator.traces import Trace
from simulator.traces.downsample import downsample_minmax, downsample_rows
from simulator.traces.replay_window import read_window, replay_window, write_window


def row_by_row(trace: Trace, offset_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The window as trace.parquet stored it before: every pass shifted and tiled in full (the oracle)."""
    passes = int(np.ceil((offset_s + end_s) / trace.duration_s)) + 1 if trace.at_end == "loop" else 1
    starts = np.concatenate([trace.times_s + p * trace.duration_s for p in range(passes)]) - offset_s
    rates = np.tile(trace.mbps, passes)
    keep = (starts > 0) & (starts <= end_s)
    times = np.concatenate(([0.0], starts[keep]))
    mbps = np.concatenate(([trace.capacity_mbps(offset_s)], rates[keep]))
    if trace.at_end == "stop" and trace.duration_s - offset_s < end_s:
        times, mbps = np.append(times, trace.duration_s - offset_s), np.append(mbps, 0.0)
    return times, mbps


@st.composite
def cases(draw):
    steps = draw(st.lists(st.floats(0.01, 3.0), min_size=1, max_size=12))
    times = np.concatenate(([0.0], np.cumsum(steps[:-1])))
    rates = np.array(draw(st.lists(st.floats(0.0, 100.0), min_size=len(steps), max_size=len(steps))))
    rates[0] = max(rates[0], 1.0)  # never zero capacity throughout
    at_end = draw(st.sampled_from(["loop", "stop"]))
    trace = Trace(times, rates, float(np.sum(steps)), at_end)
    offset = draw(st.floats(0.0, trace.duration_s * (3.0 if at_end == "loop" else 0.999)))
    on_sample = draw(st.booleans())
    if on_sample:  # starts exactly on a sample: the boundary the strict '> 0' decides
        offset = float(times[draw(st.integers(0, times.size - 1))])
    end = draw(st.one_of(st.floats(0.0, trace.duration_s * 40), st.sampled_from([0.0, trace.duration_s])))
    return trace, offset, end


@settings(max_examples=300, deadline=None)
@given(case=cases())
def test_rebuilt_rows_equal_the_row_by_row_window(case, tmp_path_factory):
    trace, offset, end = case
    expected_t, expected_v = row_by_row(trace, offset, end)
    window = replay_window(trace, offset, end)
    assert len(window) == expected_t.size
    assert window.times_s.size <= trace.times_s.size  # at most one pass stored
    path = tmp_path_factory.mktemp("w") / "trace.parquet"
    write_window(window, path)
    stored = read_window(path)
    t, v = stored.arrays()
    assert t.tobytes() == expected_t.tobytes() and v.tobytes() == expected_v.tobytes()
    lo = len(window) // 3
    part_t, part_v = stored.rows(lo, lo + 5)
    assert part_t.tobytes() == expected_t[lo:lo + 5].tobytes()
    assert part_v.tobytes() == expected_v[lo:lo + 5].tobytes()
    down = downsample_rows(len(stored), stored.rows, 8)
    stored_down = downsample_minmax(expected_t, expected_v, 8)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(down, stored_down, strict=True))


def test_long_loop_stores_one_pass_by_hand():
    trace = Trace(np.array([0.0, 1.0, 2.0]), np.array([10.0, 20.0, 30.0]), 3.0)
    window = replay_window(trace, 1.5, 1e6)  # a million seconds: 1 + 1e6 rows, three samples stored
    assert len(window) == 1_000_001 and window.times_s.tolist() == [2.0, 0.0, 1.0]
    assert window.mbps.tolist() == [30.0, 10.0, 20.0]
    t, v = window.rows(999_999, 1_000_001)  # row k starts at k - 0.5 s: trace time (k + 1) mod 3
    assert t.tolist() == [999_998.5, 999_999.5] and v.tolist() == [20.0, 30.0]
    assert replayed_window(trace, 1.5, 4.0).time_s.tolist() == [0.0, 0.5, 1.5, 2.5, 3.5]


def test_an_older_row_by_row_file_reads_as_it_was(tmp_path):
    path = tmp_path / "trace.parquet"
    frame = pd.DataFrame({"time_s": [0.0, 0.5, 1.5], "mbps": [20.0, 30.0, 0.0]})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    t, v = read_window(path).arrays()
    assert t.tolist() == [0.0, 0.5, 1.5] and v.tolist() == [20.0, 30.0, 0.0]
