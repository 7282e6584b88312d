"""TCP's retransmission timer after an outage (opt-in ``network.rto_min_ms``): a trace whose transfers wait for it.

The fluid model resumes an upload the instant capacity returns after a zero-capacity stretch. That is what
TCP does when the link keeps what it holds through the outage (a cellular uplink's deep buffers; the
project's testbed, whose 4 MB queue keeps every packet): the queued segments leave when capacity returns and
their acknowledgements undo the spurious timeouts (measured: the validation scenarios' uploads match the
fluid model around every outage; README, "How close to reality"). It is not what TCP does when the link
*loses* what it holds (a radio link failure that flushes the buffers, a shallow queue): no acknowledgement
comes back, the sender's retransmission timer fires after one RTO and doubles at each fire that goes
unanswered (Linux: RTO = smoothed RTT + at least ``tcp_rto_min``, 200 ms; RFC 6298 back-off), so the
upload resumes only at the first retransmission sent after the capacity returned. This key models that
second kind of link. (Earlier validations fitted it to the testbed; the wait they measured came from the
testbed's own qdisc, which resumed only at TCP's next retransmission: ``simulator/emulation/shaper.py``.)

The model: an upload with bits left as its link enters a zero-capacity stretch at time ``a`` (or one that
starts inside one, then ``a`` is its start) retransmits at ``a + RTO``, ``a + 3 RTO``, ``a + 7 RTO``, ... with
RTO = ``rto_min_ms`` + ``rtt_ms``; it resumes at the first of those instants at which the link has capacity,
and carries on by the fluid model (no slow start after it). Repeated for every stretch the upload meets.
An upload that meets no zero-capacity stretch ends exactly when the fluid model says, bit for bit.

:class:`RetransmittingTrace` is a :class:`Trace` whose ``transfer_end`` / ``transfer_ends`` apply that rule,
so the per-device link (``simulator/model/uplink.py``), the fast path and the oracle all see it through the trace.
Processor sharing (``shared-cell``) runs on the cumulative bit count instead; the scenario refuses the key there.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.traces.trace import Trace

RTO_MAX_S = 120.0  # Linux's TCP_RTO_MAX: the back-off stops doubling here


@dataclass(frozen=True)
class RetransmittingTrace(Trace):
    """A trace whose transfers stall past each zero-capacity stretch until TCP's backed-off timer fires."""

    rto_s: float = 0.2

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.rto_s > 0:
            raise ValueError("rto_s must be > 0")
        zero = self.mbps == 0
        edges = np.diff(np.concatenate(([0], zero.astype(np.int8), [0])))
        bounds: np.ndarray = self._bounds  # type: ignore[attr-defined]
        # Zero-capacity stretches within one pass, [start, end), as consecutive zero samples merge.
        object.__setattr__(self, "_zero_starts", bounds[np.flatnonzero(edges == 1)])
        object.__setattr__(self, "_zero_ends", bounds[np.flatnonzero(edges == -1)])

    @classmethod
    def of(cls, trace: Trace, rto_s: float) -> RetransmittingTrace:
        return cls(trace.times_s, trace.mbps, trace.duration_s, trace.at_end, trace.name, trace.meta, rto_s)

    def transfer_end(self, start_s: float, n_bytes: float) -> float:
        return float(self.transfer_ends(np.array([start_s], dtype=np.float64), n_bytes)[0])

    def transfer_ends(self, starts_s: np.ndarray, n_bytes: float) -> np.ndarray:
        """The fluid ends, except where an upload meets a zero-capacity stretch before it ends."""
        starts = np.asarray(starts_s, dtype=np.float64)
        ends = super().transfer_ends(starts, n_bytes)
        if n_bytes <= 0 or self._zero_starts.size == 0:  # type: ignore[attr-defined]
            return ends
        for k in np.flatnonzero(self._next_zero(starts) < ends):
            ends[k] = self._backed_off_end(float(starts[k]), n_bytes)
        return ends

    def _next_zero(self, t: np.ndarray) -> np.ndarray:
        """The first instant at or after each ``t`` where capacity is zero (a 'stop' trace has none after its
        end)."""
        starts, ends = self._zero_starts, self._zero_ends  # type: ignore[attr-defined]
        periods = np.floor(t / self.duration_s)
        tau = t - periods * self.duration_s
        i = np.searchsorted(ends, tau, side="right")  # the first stretch that ends after tau
        inside = np.minimum(i, starts.size - 1)
        within = periods * self.duration_s + np.maximum(starts[inside], tau)
        # Past the pass's last stretch: the next pass's first one, or the end of a 'stop' trace.
        later = (periods + 1) * self.duration_s + (starts[0] if self.at_end == "loop" else 0.0)
        found = np.where(i < starts.size, within, later)
        if self.at_end == "stop":
            found = np.where(periods >= 1, t, found)  # after a 'stop' trace's end the link has no capacity
        return found

    def _stretch_end(self, a: float) -> float:
        """Where the zero-capacity stretch that holds instant ``a`` ends (``inf`` after a 'stop' trace)."""
        periods = math.floor(a / self.duration_s)
        if self.at_end == "stop" and periods >= 1:
            return math.inf
        tau = a - periods * self.duration_s
        ends = self._zero_ends  # type: ignore[attr-defined]
        end = periods * self.duration_s + float(ends[int(np.searchsorted(ends, tau, side="right"))])
        if end == (periods + 1) * self.duration_s:  # runs to the end of the pass: on into the next one
            if self.at_end == "stop":
                return math.inf
            if self._zero_starts[0] == 0.0:  # type: ignore[attr-defined]
                return self._stretch_end(end)
        return end

    def _backed_off_end(self, start_s: float, n_bytes: float) -> float:
        """One upload, stretch by stretch: fluid until capacity stops, then wait for the timer."""
        bits_left = 8.0 * n_bytes
        t = start_s
        while True:
            end = super().transfer_end(t, bits_left / 8.0)
            a = float(self._next_zero(np.array([t]))[0])
            if not a < end:
                return end
            bits_left -= self.cumulative_bits(a) - self.cumulative_bits(t)
            if bits_left <= 1e-9 * 8.0 * n_bytes:  # delivered by the stall, up to the fluid model's slack
                return a
            t = self._resumption(a)
            if math.isinf(t):
                return math.inf

    def _resumption(self, a: float) -> float:
        """The first retransmission ``a + RTO (2^k - 1)``, k >= 1, at which the link carries bits again."""
        rto, fire = self.rto_s, a
        back_on = self._stretch_end(a)
        while True:
            fire += rto
            rto = min(2.0 * rto, RTO_MAX_S)
            if math.isinf(back_on):
                return math.inf
            if fire >= back_on:
                if self.capacity_mbps(fire) > 0:
                    return fire
                back_on = self._stretch_end(fire)  # the link stalled again before the timer fired


def retransmitting_setup(setup: Any, network: Any) -> Any:
    """``setup`` (an EngineSetup) with its trace waiting for TCP's timer after outages; unchanged without
    ``network.rto_min_ms``."""
    if network.rto_min_ms is None:
        return setup
    rto_s = (network.rto_min_ms + network.rtt_ms) / 1e3
    return dataclasses.replace(setup, trace=RetransmittingTrace.of(setup.trace, rto_s))
