"""Servers beyond the one cloud, in the engine's units (seconds, bytes, Mbit/s).

The two tiers of every shipped two-tier scenario are the ``device`` and the ``cloud`` (its link is the
scenario's ``network``). A scenario may add servers (``servers:``), each with its GPUs, batching and its own
link from the device, and links between servers (``server_links:``). Stage graphs name these tiers:

* device -> server: the server's uplink (a trace or a constant rate; per-device FIFO or one shared cell),
  then half its RTT;
* server -> device: half the RTT plus the bytes at ``downlink_mbps`` (no contention, as the cloud's result
  return);
* server -> server: half the RTT plus the bytes at the link's rate (no contention).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simulator.model.cloud import BatchWindow
from simulator.traces import Trace

_STREAM_SERVER_OFFSETS = 3  # the engine's arrivals and offsets use streams 0 and 1, its branches stream 2


def return_time_s(rtt_s: float, downlink_mbps: float | None, n_bytes: int) -> float:
    """Bytes back to the device: half the RTT and their time on the downlink (if one is given)."""
    return rtt_s / 2 + (n_bytes * 8 / (downlink_mbps * 1e6) if downlink_mbps else 0.0)


@dataclass(frozen=True)
class ServerSetup:
    """One server tier and its link from the devices."""

    name: str
    gpus: int
    max_batch: int
    batch_timeout_s: float
    batch_factor: Callable[[int], float]
    trace: Trace
    start_offsets_s: tuple[float, ...]
    sharing: Literal["per-device", "shared-cell"]
    rtt_s: float
    downlink_mbps: float | None
    overhead_bytes: int
    batch_window: BatchWindow = "first-job"

    def return_s(self, n_bytes: int) -> float:
        return return_time_s(self.rtt_s, self.downlink_mbps, n_bytes)


@dataclass(frozen=True)
class ServerLink:
    """A link between two tiers other than the device (symmetric, uncontended)."""

    ends: frozenset[str]
    mbps: float
    rtt_s: float

    def transfer_s(self, n_bytes: int) -> float:
        return self.rtt_s / 2 + n_bytes * 8 / (self.mbps * 1e6)


def server_offsets(seed: int, server: int, devices: int, trace_duration_s: float) -> tuple[float, ...]:
    """Random start positions in a server link's trace, one per device, from a stream of their own."""
    return tuple(float(np.random.default_rng([seed, _STREAM_SERVER_OFFSETS, server, d]).uniform(0.0, trace_duration_s))
                 for d in range(devices))
