"""A bandwidth trace: piecewise-constant uplink capacity over time, and exact transfer times on it.

Sample ``i`` holds capacity ``mbps[i]`` on ``[times[i], times[i+1])``; the last sample lasts as long as the
median sample spacing (so n samples at 0.1 s last n * 0.1 s). Transfer times come from the cumulative
bit count ``B(t)`` (prefix sums at the sample boundaries) inverted by binary search: exact for
piecewise-constant capacity and O(log n) per transfer, never a per-sample loop. Zero-capacity stretches
(5G blockage) are simply flat parts of ``B`` that a transfer waits out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

AtEnd = Literal["loop", "stop"]


@dataclass(frozen=True)
class Trace:
    """Piecewise-constant capacity in Mbit/s starting at time 0, with loop-or-stop semantics at its end."""

    times_s: np.ndarray
    mbps: np.ndarray
    duration_s: float
    at_end: AtEnd = "loop"
    name: str = "trace"
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        times = np.ascontiguousarray(self.times_s, dtype=np.float64)
        rates = np.ascontiguousarray(self.mbps, dtype=np.float64)
        if times.ndim != 1 or times.shape != rates.shape or times.size == 0:
            raise ValueError("times_s and mbps must be non-empty 1-D arrays of equal length")
        if times[0] != 0.0:
            raise ValueError("a trace starts at time 0")
        if np.any(np.diff(times) <= 0) or not self.duration_s > times[-1]:
            raise ValueError("sample times must increase strictly and end before duration_s")
        if not np.all(np.isfinite(rates)) or np.any(rates < 0):
            raise ValueError("capacities must be finite and non-negative")
        bounds = np.append(times, float(self.duration_s))
        cum_bits = np.concatenate(([0.0], np.cumsum(rates * 1e6 * np.diff(bounds))))
        if cum_bits[-1] <= 0:
            raise ValueError("the trace has zero capacity throughout")
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "mbps", rates)
        object.__setattr__(self, "_bounds", bounds)
        object.__setattr__(self, "_seconds", np.diff(bounds))
        object.__setattr__(self, "_cum_bits", cum_bits)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_samples(
        cls,
        times_s: np.ndarray | list[float],
        mbps: np.ndarray | list[float],
        *,
        at_end: AtEnd = "loop",
        name: str = "trace",
        meta: dict | None = None,
    ) -> Trace:
        """Build from sample start times (any origin) and capacities; the last sample lasts the median
        step."""
        times = np.asarray(times_s, dtype=np.float64)
        times = times - times[0]
        step = float(np.median(np.diff(times))) if times.size > 1 else 1.0
        rates = np.asarray(mbps, dtype=np.float64)
        return cls(times, rates, float(times[-1] + step), at_end, name, meta or {})

    @classmethod
    def constant(cls, mbps: float, *, name: str = "constant", duration_s: float = 1.0) -> Trace:
        """A constant-capacity link (the paper's ``bytes / mean bandwidth`` model)."""
        return cls(np.array([0.0]), np.array([float(mbps)]), duration_s, "loop", name)

    # -- statistics ---------------------------------------------------------------------------------
    @property
    def total_bits(self) -> float:
        """Bits the trace can carry in one pass."""
        return float(self._cum_bits[-1])  # type: ignore[attr-defined]

    @property
    def mean_mbps(self) -> float:
        """Time-weighted mean capacity over one pass."""
        return self.total_bits / self.duration_s / 1e6

    def capacity_mbps(self, t: float) -> float:
        """Capacity at absolute time ``t`` (0 after the end of a 'stop' trace)."""
        tau = self._wrap(t)
        if tau is None:
            return 0.0
        i = int(np.searchsorted(self.times_s, tau, side="right")) - 1
        return float(self.mbps[i])

    def recent_samples(self, t: float, count: int) -> np.ndarray:
        """Capacities of the ``count`` samples up to the one in effect at ``t``, oldest first.

        What a radio reporting each sample's rate has seen by ``t``: a looping trace wraps into its previous
        pass (also before time 0: the device was on the network before the run began); a 'stop' trace has
        nothing before time 0 and reports 0 Mbit/s after its end.
        """
        return self.recent_window(t, count)[0]

    def recent_window(self, t: float, count: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`recent_samples` and how long each of those samples lasts (s), oldest first.

        After the end of a 'stop' trace the zero-capacity samples last as long as its last sample.
        """
        seconds: np.ndarray = self._seconds  # type: ignore[attr-defined]
        if count <= 0:
            return np.empty(0), np.empty(0)
        tau = self._wrap(t)
        if tau is None:
            return np.zeros(count), np.full(count, seconds[-1])
        n = self.times_s.size
        i = int(np.searchsorted(self.times_s, tau, side="right")) - 1
        if self.at_end == "stop":
            window = slice(max(0, i - count + 1), i + 1)
            return self.mbps[window], seconds[window]
        window = np.arange(i - count + 1, i + 1) % n
        return self.mbps[window], seconds[window]

    # -- the core operation -------------------------------------------------------------------------
    def cumulative_bits(self, t: float) -> float:
        """Bits deliverable on ``[0, t]`` (loops count every full pass)."""
        if t <= 0:
            return 0.0
        periods = math.floor(t / self.duration_s)
        if self.at_end == "stop" and periods >= 1:
            return self.total_bits
        tau = t - periods * self.duration_s
        return periods * self.total_bits + self._bits_within(tau)

    def transfer_end(self, start_s: float, n_bytes: float) -> float:
        """Time at which ``n_bytes`` sent from ``start_s`` have all been delivered (``inf`` if never)."""
        if n_bytes <= 0:
            return start_s
        return self.time_of_bits(self.cumulative_bits(start_s) + 8.0 * n_bytes, slack_bits=1e-9 * 8.0 * n_bytes)

    def time_of_bits(self, target_bits: float, slack_bits: float = 0.0) -> float:
        """Earliest time at which the cumulative bit count reaches ``target_bits`` (``inf`` if never).

        A shortfall of at most ``slack_bits`` (and the rounding residue of summing sample widths) counts as
        delivered: otherwise a transfer that ends exactly where a pass or a sample ends could be pushed past
        the following zero-capacity stretch by a few ulps.
        """
        if target_bits <= 0:
            return 0.0
        total = self.total_bits
        slack = max(slack_bits, 1e-12 * target_bits)
        periods = max(math.ceil((target_bits - slack) / total) - 1, 0)
        if self.at_end == "stop" and periods >= 1:
            return math.inf
        remainder = min(max(target_bits - periods * total, 0.0), total)
        return periods * self.duration_s + self._time_within(remainder, slack)

    def transfer_ends(self, starts_s: np.ndarray, n_bytes: float) -> np.ndarray:
        """:meth:`transfer_end` of many uploads of ``n_bytes`` at once: the same operations element by
        element, so the same values bit for bit (the fast path relies on that)."""
        starts = np.asarray(starts_s, dtype=np.float64)
        if n_bytes <= 0:
            return starts.copy()
        bits = 8.0 * n_bytes
        duration, total = self.duration_s, self.total_bits
        periods = np.floor(starts / duration)
        tau = starts - periods * duration
        i = np.searchsorted(self.times_s, tau, side="right") - 1
        cum = self._cum_bits  # type: ignore[attr-defined]
        sent = periods * total + (cum[i] + self.mbps[i] * 1e6 * (tau - self.times_s[i]))
        if self.at_end == "stop":
            sent = np.where(periods >= 1, total, sent)
        sent = np.where(starts <= 0, 0.0, sent)
        target = sent + bits
        slack = np.maximum(1e-9 * bits, 1e-12 * target)
        whole = np.maximum(np.ceil((target - slack) / total) - 1, 0.0)
        remainder = np.minimum(np.maximum(target - whole * total, 0.0), total)
        j = np.searchsorted(cum, remainder - slack, side="left")
        k = np.maximum(j - 1, 0)
        bounds = self._bounds  # type: ignore[attr-defined]
        with np.errstate(divide="ignore", invalid="ignore"):  # rate 0 only where j == 0, discarded below
            within = np.minimum(self.times_s[k] + np.maximum(remainder - cum[k], 0.0) / (self.mbps[k] * 1e6),
                                bounds[k + 1])
        ends = whole * duration + np.where(j == 0, 0.0, within)
        if self.at_end == "stop":
            ends = np.where(whole >= 1, math.inf, ends)
        return ends

    # -- helpers within one pass ----------------------------------------------------------------------
    def _wrap(self, t: float) -> float | None:
        periods = math.floor(t / self.duration_s)
        if self.at_end == "stop" and periods >= 1:
            return None
        return t - periods * self.duration_s

    def _bits_within(self, tau: float) -> float:
        i = int(np.searchsorted(self.times_s, tau, side="right")) - 1
        return float(self._cum_bits[i] + self.mbps[i] * 1e6 * (tau - self.times_s[i]))  # type: ignore[attr-defined]

    def _time_within(self, bits: float, slack_bits: float = 0.0) -> float:
        cum = self._cum_bits  # type: ignore[attr-defined]
        j = int(np.searchsorted(cum, bits - slack_bits, side="left"))
        if j == 0:
            return 0.0
        i = j - 1  # sample i carries the bits between cum[i] < bits - slack <= cum[i + 1], so its rate is > 0
        end = self.times_s[i + 1] if i + 1 < self.times_s.size else self.duration_s
        return float(min(self.times_s[i] + max(bits - cum[i], 0.0) / (self.mbps[i] * 1e6), end))
