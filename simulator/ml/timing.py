"""Wall-clock timing of torch work: warm-up, interleaved repetitions, medians and interquartile ranges.

Repetitions of several cases are interleaved (round-robin) rather than run back to back, so a burst of
load from another process on a shared host smears over every case instead of biasing one of them. A
round times each case twice back to back and keeps the faster call: the first may find its weights
evicted by the previous (larger) case, a 2-3x error on sub-millisecond stages, or its core taken by
another process; the reported point is the median over rounds, the spread their IQR.
On CUDA, every repetition is bracketed by CUDA events and synchronised, so the time is the GPU's, not
the launch queue's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Summary of the repetitions of one case, in milliseconds."""

    median_ms: float
    iqr_ms: float
    samples_ms: tuple[float, ...]

    @classmethod
    def of(cls, samples_ms: list[float]) -> Timing:
        arr = np.asarray(samples_ms, float)
        q1, med, q3 = np.percentile(arr, [25, 50, 75])
        return cls(float(med), float(q3 - q1), tuple(float(s) for s in arr))

    def per(self, count: int) -> Timing:
        """The timing of one of ``count`` identical steps that were timed together."""
        return Timing(self.median_ms / count, self.iqr_ms / count, tuple(s / count for s in self.samples_ms))


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
    """Warm every case up, then time ``repeats`` rounds; a round calls every case twice, keeping the faster.

    ``on_step`` is called after each warm-up call and each timed call (for a progress bar).
    """
    timer = Timer(device)
    for fn in cases.values():
        for _ in range(warmup):
            timer.once_ms(fn)
            if on_step:
                on_step()
    samples: dict[Hashable, list[float]] = {key: [] for key in cases}
    for _ in range(repeats):
        for key, fn in cases.items():
            samples[key].append(min(timer.once_ms(fn), timer.once_ms(fn)))
            if on_step:
                on_step()
    return {key: Timing.of(values) for key, values in samples.items()}
