"""The bandwidth estimate adaptive schedules plan with: an outage in the radio window lengthens the
transfer that waits it out (low, never 0 throughput) instead of vanishing or zeroing the estimate."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.plans.plan import PlanContext
from simulator.schedules.bandwidth import estimate_mbps, window_throughputs
from simulator.traces.trace import Trace


def radio(mbps: list[float], now_s: float, step_s: float = 1.0) -> PlanContext:
    trace = Trace(np.arange(len(mbps)) * step_s, np.array(mbps, float), len(mbps) * step_s, "stop")
    return PlanContext(now_s, 0, 99.0, (), trace)


def test_an_outage_joins_the_transfer_that_waits_it_out() -> None:
    # 10, 0, 0, 10 Mbit/s for 1 s each: the second transfer's 10 Mbit took 3 s -> 10/3 Mbit/s
    assert window_throughputs(np.array([10.0, 0, 0, 10]), np.ones(4)) == pytest.approx([10.0, 10 / 3])
    # leading outage joins the first positive sample; unequal sample lengths weigh by time
    assert window_throughputs(np.array([0, 8.0, 4.0]), np.array([0.5, 0.5, 2.0])) == pytest.approx([4.0, 4.0])
    assert window_throughputs(np.zeros(3), np.ones(3)) == []


def test_an_outage_still_running_joins_the_last_delivery() -> None:
    # 10 for 9 s, then 10 s of outage up to now: the last 10 Mbit are spread over 11 s
    throughputs = window_throughputs(np.array([10.0] * 10 + [0.0] * 10), np.ones(20))
    assert throughputs == pytest.approx([10.0] * 9 + [10 / 11])


def test_radio_estimate_by_hand() -> None:
    # harmonic mean of 10 and 10/3 = 2 / (1/10 + 3/10) = 5 Mbit/s (skipping the outage would say 10)
    assert estimate_mbps(radio([10, 0, 0, 10], now_s=3.5), 4) == pytest.approx(5.0)
    # deep in an outage: 9 x 10 and 10/11 -> 10 / (9/10 + 11/10) = 5 Mbit/s, and 'last' says 10/11
    ctx = radio([10.0] * 10 + [0.0] * 10, now_s=19.5)
    assert estimate_mbps(ctx, 20) == pytest.approx(5.0)
    assert estimate_mbps(ctx, 20, estimator="last") == pytest.approx(10 / 11)
    # a window of nothing but outage delivered nothing: 0 (the schedule then takes its fastest plan)
    assert estimate_mbps(ctx, 10) == 0.0


def test_a_short_outage_on_a_good_link_keeps_the_estimate_near_the_link() -> None:
    # 19 samples of 20 Mbit/s around one of 0: the estimate stays at 19, not 0 and not hidden at 20
    ctx = radio([20.0] * 10 + [0.0] + [20.0] * 9, now_s=19.5)
    assert estimate_mbps(ctx, 20) == pytest.approx(19 / (18 / 20 + 2 / 20))


def test_recent_window_gives_each_sample_its_length() -> None:
    trace = Trace(np.array([0.0, 1.0, 1.5, 4.0]), np.array([5.0, 10.0, 0.0, 2.0]), 5.0, "loop")
    mbps, seconds = trace.recent_window(4.2, 3)
    assert mbps.tolist() == [10.0, 0.0, 2.0] and seconds.tolist() == [0.5, 2.5, 1.0]
    mbps, seconds = trace.recent_window(0.5, 2)  # wraps into the previous pass
    assert mbps.tolist() == [2.0, 5.0] and seconds.tolist() == [1.0, 1.0]
