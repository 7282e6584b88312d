"""Bandwidth estimators that adaptive schedules plan with, from the device's recent upload throughputs.

``harmonic``: the harmonic mean of the last ``window`` samples (FESTIVE, as the Janus scheduler uses; the
same function); ``last``: the most recent sample. Cold start (no upload yet): the trace's mean.
"""

from __future__ import annotations

from typing import Literal

from simulator.plan import PlanContext
from simulator.schedules.janus import harmonic_mean

Estimator = Literal["harmonic", "last"]


def estimate_mbps(ctx: PlanContext, estimator: Estimator, window: int) -> float:
    """Mbit/s to plan with for this request."""
    recent = [v for v in list(ctx.recent_mbps)[-window:] if v > 0]
    if not recent:
        return ctx.mean_mbps
    return recent[-1] if estimator == "last" else harmonic_mean(recent)
