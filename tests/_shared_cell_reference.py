"""The shared cell as it was before the heap: every event scans all active uploads (O(n) per event).

Kept only as a test oracle: the heap-based :class:`simulator.model.uplink.SharedCell` must give the same
finish times bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from simulator.traces import Trace


class ScanningSharedCell:
    """Processor sharing of one trace among concurrent uploads.

    Every active upload receives c(t)/n(t). A virtual clock V advances at that per-flow rate; an upload
    of b bits admitted at V0 finishes when V reaches V0 + b. Between events n is constant, so the time
    to the next finish is the trace's transfer time of (V_target - V) * n bits.
    """

    def __init__(self, env: simpy.Environment, trace: Trace, offset_s: float) -> None:
        self.env = env
        self.trace = trace
        self.offset_s = offset_s
        self._virtual = 0.0
        self._last_t = 0.0
        self._flows: dict[int, tuple[float, simpy.Event]] = {}
        self._next_id = 0
        self._generation = 0

    def send(self, n_bytes: int) -> Generator[Any, Any, tuple[float, float]]:
        start = self.env.now
        if n_bytes <= 0:
            return 0.0, 0.0
        self._advance()
        done = self.env.event()
        self._flows[self._next_id] = (self._virtual + 8.0 * n_bytes, done)
        self._next_id += 1
        self._reschedule()
        yield done
        return 0.0, self.env.now - start

    def _advance(self) -> None:
        now = self.env.now
        if self._flows and now > self._last_t:
            delivered = (self.trace.cumulative_bits(now + self.offset_s)
                         - self.trace.cumulative_bits(self._last_t + self.offset_s))
            self._virtual += delivered / len(self._flows)
        self._last_t = now

    def _reschedule(self) -> None:
        self._generation += 1
        if not self._flows:
            return
        target = min(t for t, _ in self._flows.values())
        bits_each = max(target - self._virtual, 0.0)
        now_trace = self.env.now + self.offset_s
        end = self.trace.time_of_bits(self.trace.cumulative_bits(now_trace) + bits_each * len(self._flows))
        if math.isinf(end):
            return
        generation = self._generation
        wake = self.env.timeout(max(end - now_trace, 0.0))
        wake.callbacks.append(lambda _event: self._on_wake(generation))

    def _on_wake(self, generation: int) -> None:
        if generation != self._generation:
            return  # superseded by a later arrival or departure
        self._advance()
        target = min(t for t, _ in self._flows.values())
        # Finish every flow that reached its target (ties finish together); tolerate float rounding.
        tolerance = 1e-9 * max(1.0, abs(target))
        finished = [k for k, (t, _) in self._flows.items() if t <= target + tolerance]
        self._virtual = max(self._virtual, target)
        for key in finished:
            _, event = self._flows.pop(key)
            event.succeed()
        self._reschedule()
