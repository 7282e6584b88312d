"""Wall-clock timing of torch work: warm-up, interleaved repetitions, medians and interquartile ranges.

Repetitions of several cases are interleaved (round-robin) rather than run back to back, so a burst of
load from another process on a shared host smears over every case instead of biasing one of them. A
round times each case twice back to back and keeps the faster call: the first may find its weights
evicted by the previous (larger) case, a 2-3x error on sub-millisecond stages, or its core taken by
another process; the reported point is the median over rounds, the spread their IQR. That point is robust,
but a stage as a forward meets it runs once, not twice, and its mean is what a mean latency adds up: so each
timing also keeps every round's first call, and ``mean`` (the mean of those) is the statistic to price with
where nothing preempts the measurement (a dedicated core at real-time priority, as ``validate --fresh``).
On CUDA, every repetition is bracketed by CUDA events and synchronised, so the time is the GPU's, not
the launch queue's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

STATISTICS = ("median", "mean")


@dataclass(frozen=True)
class Timing:
    """Summary of the repetitions of one case, in milliseconds."""

    median_ms: float
    iqr_ms: float
    samples_ms: tuple[float, ...]
    first_ms: tuple[float, ...] = ()  # each round's first call (the faster of two is in samples_ms)

    @classmethod
    def of(cls, samples_ms: list[float], first_ms: list[float] | None = None) -> Timing:
        arr = np.asarray(samples_ms, float)
        q1, med, q3 = np.percentile(arr, [25, 50, 75])
        return cls(float(med), float(q3 - q1), tuple(float(s) for s in arr), tuple(float(s) for s in first_ms or ()))

    @property
    def mean_first_ms(self) -> float:
        """Mean of the rounds' first calls: a stage's expected time when it runs once, as in a forward."""
        return float(np.mean(self.first_ms)) if self.first_ms else self.median_ms

    def quantiles_ms(self, levels: Sequence[float]) -> list[float]:
        """The single calls' (every round's first) quantiles at ``levels``: what one call of the stage costs,
        its spread included, as a request meets it (numpy's linear quantiles)."""
        calls = self.first_ms or self.samples_ms
        return [float(q) for q in np.quantile(np.asarray(calls, float), levels)]

    def value(self, statistic: str) -> float:
        """The point a profile stores: ``median`` (robust; the default) or ``mean`` (of single calls)."""
        if statistic not in STATISTICS:
            raise ValueError(f"statistic {statistic!r}: expected one of {', '.join(STATISTICS)}")
        return self.mean_first_ms if statistic == "mean" else self.median_ms

    def per(self, count: int) -> Timing:
        """The timing of one of ``count`` identical steps that were timed together."""
        return Timing(self.median_ms / count, self.iqr_ms / count, tuple(s / count for s in self.samples_ms),
                      tuple(s / count for s in self.first_ms))


class Timer:
    """Times one call of a zero-argument function on ``device`` (``cpu`` or ``cuda``)."""

    def __init__(self, device: str = "cpu") -> None:
        import torch

        self.torch = torch
        self.cuda = device.startswith("cuda")

    def once_ms(self, fn: Callable[[], Any]) -> float:
        torch = self.torch
        with torch.inference_mode():
            if self.cuda:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                torch.cuda.synchronize()
                start.record()
                fn()
                end.record()
                torch.cuda.synchronize()
                return float(start.elapsed_time(end))
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1e3


def time_cases(cases: Mapping[Hashable, Callable[[], Any]], *, repeats: int, warmup: int, device: str = "cpu",
               on_step: Callable[[], None] | None = None) -> dict[Hashable, Timing]:
    """Warm every case up, then time ``repeats`` rounds; a round calls every case twice, keeping the faster
    (and the first, for the mean of single calls).

    ``on_step`` is called after each warm-up call and each timed call (for a progress bar).
    """
    timer = Timer(device)
    for fn in cases.values():
        for _ in range(warmup):
            timer.once_ms(fn)
            if on_step:
                on_step()
    samples: dict[Hashable, list[float]] = {key: [] for key in cases}
    first: dict[Hashable, list[float]] = {key: [] for key in cases}
    for _ in range(repeats):
        for key, fn in cases.items():
            once = timer.once_ms(fn)
            samples[key].append(min(once, timer.once_ms(fn)))
            first[key].append(once)
            if on_step:
                on_step()
    return {key: Timing.of(values, first[key]) for key, values in samples.items()}
