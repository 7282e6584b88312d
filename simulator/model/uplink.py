"""Uplink models as SimPy resources over a Trace.

* :class:`DedicatedLink`: one device's own link; its uploads go one at a time (FIFO).
* :class:`SharedCell`: one cell shared by every device; concurrent uploads split the capacity equally
  (processor sharing), computed exactly on the piecewise-constant trace with a virtual-service clock.

Both map simulation time to trace time through a start offset, and report (queue_s, transfer_s).
An upload that can never finish (a 'stop' trace that ran out) never completes: its request stays
unfinished.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from typing import Any

import simpy

from simulator.traces import Trace


class DedicatedLink:
    """A device's own uplink: FIFO, full trace capacity to one upload at a time."""

    def __init__(self, env: simpy.Environment, trace: Trace, offset_s: float) -> None:
        self.env = env
        self.trace = trace
        self.offset_s = offset_s
        self._busy = simpy.Resource(env, capacity=1)

    def send(self, n_bytes: int) -> Generator[Any, Any, tuple[float, float]]:
        queued_at = self.env.now
        with self._busy.request() as slot:
            yield slot
            start = self.env.now
            end = self.trace.transfer_end(start + self.offset_s, n_bytes) - self.offset_s
            if math.isinf(end):
                yield self.env.event()  # never triggered: the trace ended before the upload could
            yield self.env.timeout(max(end - start, 0.0))
        return start - queued_at, self.env.now - start


class SharedCell:
    """Processor sharing of one trace among concurrent uploads.

    Every active upload receives c(t)/n(t). A virtual clock V advances at that per-flow rate; an upload
    of b bits admitted at V0 finishes when V reaches V0 + b. Between events n is constant, so the time
    to the next finish is the trace's transfer time of (V_target - V) * n bits. Active uploads sit in a
    heap ordered by their virtual finish, so an event costs O(log n) however many uploads are active.
    """

    def __init__(self, env: simpy.Environment, trace: Trace, offset_s: float) -> None:
        self.env = env
        self.trace = trace
        self.offset_s = offset_s
        self._virtual = 0.0
        self._last_t = 0.0
        self._last_bits: float | None = None  # cumulative bits at _last_t, once computed
        self._flows: list[tuple[float, int, simpy.Event]] = []  # heap of (virtual finish, admission order, done)
        self._next_id = 0
        self._generation = 0

    def send(self, n_bytes: int) -> Generator[Any, Any, tuple[float, float]]:
        start = self.env.now
        if n_bytes <= 0:
            return 0.0, 0.0
        self._advance()
        done = self.env.event()
        heapq.heappush(self._flows, (self._virtual + 8.0 * n_bytes, self._next_id, done))
        self._next_id += 1
        self._reschedule()
        yield done
        return 0.0, self.env.now - start

    def _advance(self) -> None:
        now = self.env.now
        if self._flows and now > self._last_t:
            bits_now = self.trace.cumulative_bits(now + self.offset_s)
            self._virtual += (bits_now - self._bits_at_last()) / len(self._flows)
            self._last_bits = bits_now
        elif now != self._last_t:
            self._last_bits = None
        self._last_t = now

    def _bits_at_last(self) -> float:
        """The trace's cumulative bits at the last event, computed once per event instead of twice."""
        if self._last_bits is None:
            self._last_bits = self.trace.cumulative_bits(self._last_t + self.offset_s)
        return self._last_bits

    def _reschedule(self) -> None:
        self._generation += 1
        if not self._flows:
            return
        bits_each = max(self._flows[0][0] - self._virtual, 0.0)
        now_trace = self.env.now + self.offset_s
        end = self.trace.time_of_bits(self._bits_at_last() + bits_each * len(self._flows))
        if math.isinf(end):
            return
        generation = self._generation
        wake = self.env.timeout(max(end - now_trace, 0.0))
        wake.callbacks.append(lambda _event: self._on_wake(generation))

    def _on_wake(self, generation: int) -> None:
        if generation != self._generation:
            return  # superseded by a later arrival or departure
        self._advance()
        flows = self._flows
        target = flows[0][0]
        # Finish every flow that reached its target (ties finish together, in admission order); tolerate
        # float rounding.
        tolerance = 1e-9 * max(1.0, abs(target))
        finished = []
        while flows and flows[0][0] <= target + tolerance:
            finished.append(heapq.heappop(flows))
        finished.sort(key=lambda flow: flow[1])
        self._virtual = max(self._virtual, target)
        for _, _, event in finished:
            event.succeed()
        self._reschedule()


def device_links(env: simpy.Environment, trace: Trace, offsets_s: tuple[float, ...], sharing: str,
                 devices: int) -> list[DedicatedLink | SharedCell]:
    """Each device's link to one tier: its own FIFO link over ``trace`` from its offset, or one cell that
    every device shares (from the first offset)."""
    if sharing == "shared-cell":
        return [SharedCell(env, trace, offsets_s[0])] * devices
    return [DedicatedLink(env, trace, offsets_s[d]) for d in range(devices)]
