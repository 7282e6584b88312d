"""Bandwidth estimators that adaptive schedules (Janus's scheduler, adaptive Mercury) plan with.

Samples come from ``radio`` (the capacity the device's radio reports once per trace sample, uploading or
not; zero-capacity samples are skipped and a window of nothing but outage gives 0) or ``uploads`` (the
throughputs of the device's own completed uploads; cold start: the trace's mean). ``harmonic`` is their
harmonic mean (FESTIVE, as Janus cites); ``last`` is the most recent positive sample.
"""

from __future__ import annotations

import math
from typing import Literal

from simulator.plan import PlanContext

Source = Literal["radio", "uploads"]
Estimator = Literal["harmonic", "last"]


def harmonic_mean(values: list[float]) -> float:
    """Harmonic mean of the positive values (0 when there are none)."""
    positive = [v for v in values if v > 0]
    if not positive:
        return 0.0
    return len(positive) / math.fsum(1.0 / v for v in positive)


def estimate_mbps(ctx: PlanContext, window: int, source: Source = "radio", estimator: Estimator = "harmonic") -> float:
    """Mbit/s to plan this request with, from the last ``window`` samples of ``source``."""
    radio = source == "radio" and ctx.trace is not None
    if radio:
        assert ctx.trace is not None
        samples = ctx.trace.recent_samples(ctx.now_s + ctx.trace_offset_s, window).tolist()
    else:
        samples = list(ctx.recent_mbps)[-window:]
    positive = [v for v in samples if v > 0]
    estimate = (positive[-1] if positive else 0.0) if estimator == "last" else harmonic_mean(positive)
    return estimate if estimate > 0 or radio else ctx.mean_mbps
