"""Bandwidth estimators that adaptive schedules (Janus's scheduler, adaptive Mercury) plan with.

Both sources yield transfer throughputs (bytes / duration), which are never 0: ``uploads`` are the
device's own completed uploads (an upload that waited out an outage took longer, so its throughput is
low, not 0; cold start: the trace's mean); ``radio`` turns the capacity the radio reports once per trace
sample (uploading or not) into the throughputs of transfers sent during the window
(:func:`window_throughputs`). Only a trace sample can be 0 (an outage), and an outage is no transfer of its
own: it lengthens the transfer that waits it out. A radio window of nothing but outage delivered nothing,
so the estimate is 0. ``harmonic`` is the harmonic mean of the throughputs (FESTIVE, as Janus cites);
``last`` is the most recent one.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from simulator.plans.plan import PlanContext

Source = Literal["radio", "uploads"]
Estimator = Literal["harmonic", "last"]


def harmonic_mean(throughputs: list[float]) -> float:
    """Harmonic mean of transfer throughputs (0 when there are none); a throughput is never 0."""
    if not throughputs:
        return 0.0
    if min(throughputs) <= 0:
        raise ValueError("a transfer throughput is positive (bytes / duration); an outage lengthens a transfer")
    return len(throughputs) / math.fsum(1.0 / v for v in throughputs)


def window_throughputs(mbps: np.ndarray, seconds: np.ndarray) -> list[float]:
    """Throughputs of the transfers a radio window carried, oldest first: one per positive sample.

    A transfer started during an outage waits for the link and completes in the next positive sample, so a
    run of zero samples joins the duration of the sample after it (that sample's bits over both); an
    outage still running at the window's end joins the last positive sample before it. Empty when the
    window is all outage.
    """
    positive = np.flatnonzero(mbps > 0)
    if positive.size == 0:
        return []
    # each sample's owner: the first positive sample at or after it, else (a trailing outage) the last one
    owner = np.minimum(np.searchsorted(positive, np.arange(mbps.size)), positive.size - 1)
    duration = np.bincount(owner, weights=seconds, minlength=positive.size)
    return (mbps[positive] * seconds[positive] / duration).tolist()


def estimate_mbps(ctx: PlanContext, window: int, source: Source = "radio", estimator: Estimator = "harmonic") -> float:
    """Mbit/s to plan this request with, from the last ``window`` samples of ``source``."""
    if source == "radio" and ctx.trace is not None:
        throughputs = window_throughputs(*ctx.trace.recent_window(ctx.now_s + ctx.trace_offset_s, window))
        if not throughputs:
            return 0.0
    else:
        throughputs = list(ctx.recent_mbps)[-window:]
        if not throughputs:
            return ctx.mean_mbps
    return throughputs[-1] if estimator == "last" else harmonic_mean(throughputs)
