"""Transfer times on a trace: exact prefix-sum inversion against a brute-force per-sample stepper."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulator.traces import Trace


def stepped_end(trace: Trace, start: float, n_bytes: float) -> float:
    """Reference: walk sample by sample (integer sample/pass indices), draining bits at each sample's rate."""
    bits = 8.0 * n_bytes
    slack = 1e-9 * bits  # float residue of many subtractions (hundreds of loops) must not count as bits left
    bounds = np.append(trace.times_s, trace.duration_s)
    period = math.floor(start / trace.duration_s)
    i = int(np.searchsorted(trace.times_s, start - period * trace.duration_s, side="right")) - 1
    t = start
    while True:
        if trace.at_end == "stop" and period >= 1:
            return math.inf
        seg_end = period * trace.duration_s + bounds[i + 1]
        rate = trace.mbps[i] * 1e6
        if rate > 0 and rate * (seg_end - t) >= bits - slack:
            return t + max(bits, 0.0) / rate
        bits -= rate * max(seg_end - t, 0.0)
        t = seg_end
        i += 1
        if i == len(trace.times_s):
            i, period = 0, period + 1


rates = st.lists(st.one_of(st.just(0.0), st.floats(0.5, 200.0)), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(rates=rates, step=st.sampled_from([0.1, 0.25, 1.0]), start=st.floats(0, 30),
       size=st.floats(1, 5e6), at_end=st.sampled_from(["loop", "stop"]))
@example(rates=[0.0, 0.0, 1.0], step=0.1, start=0.0, size=2.5e6, at_end="loop")  # 200 loops: float residue
@example(rates=[0.0, 0.0, 0.0, 1.0], step=0.1, start=0.0, size=312_500.0, at_end="loop")  # ends exactly at a pass end
def test_transfer_matches_stepper(rates: list[float], step: float, start: float, size: float, at_end: str) -> None:
    if sum(rates) == 0:
        rates = [*rates, 1.0]
    trace = Trace.from_samples(np.arange(len(rates)) * step, rates, at_end=at_end)  # type: ignore[arg-type]
    fast, slow = trace.transfer_end(start, size), stepped_end(trace, start, size)
    if math.isinf(slow):
        assert math.isinf(fast)
    else:
        assert fast == pytest.approx(slow, rel=1e-9, abs=1e-9)
        assert fast >= start


def test_zero_stretch_is_waited_out() -> None:
    trace = Trace.from_samples([0, 0.1, 0.2, 0.3], [10, 0, 0, 20])
    # 0.5 Mbit left of sample 0 from t = 0.05, nothing for 0.2 s, then 0.5 Mbit at 20 Mbit/s.
    assert trace.transfer_end(0.05, 125_000) == pytest.approx(0.325)


def test_loop_and_stop() -> None:
    looping = Trace.from_samples([0, 1], [8, 8])  # 16 Mbit per 2 s pass
    assert looping.transfer_end(1.5, 4_000_000) == pytest.approx(1.5 + 4.0)
    stopping = Trace.from_samples([0, 1], [8, 8], at_end="stop")
    assert math.isinf(stopping.transfer_end(1.5, 4_000_000))
    assert stopping.transfer_end(0.0, 1_000_000) == pytest.approx(1.0)


def test_mean_is_time_weighted() -> None:
    trace = Trace.from_samples([0, 1, 3], [10, 40, 0])  # last sample lasts the median step (1.5 s)
    assert trace.duration_s == pytest.approx(4.5)
    assert trace.mean_mbps == pytest.approx((10 * 1 + 40 * 2) / 4.5)


def test_all_zero_trace_is_rejected() -> None:
    with pytest.raises(ValueError, match="zero capacity"):
        Trace.from_samples([0, 1], [0, 0])
