"""Packet framing on the uplink (opt-in): the share of link capacity that headers take from the upload.

The fluid model moves an upload of S bytes in S * 8 / c seconds. A real link also carries every packet's
headers: with ``network.packet_overhead_bytes`` H per ``network.mss_bytes`` M of payload, the upload sees
the goodput c * M / (M + H). Measured on the testbed (TCP over a tbf-shaped veth: M = 1448 with TCP
timestamps, H = 66 = 32 TCP + 20 IPv4 + 14 Ethernet) uploads took 1.04-1.05x the fluid time; README,
"How close to reality". 0 (the default) keeps the fluid model.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from simulator.traces import Trace


def goodput_fraction(network: Any) -> float:
    overhead = network.packet_overhead_bytes
    return network.mss_bytes / (network.mss_bytes + overhead) if overhead else 1.0


def framed_setup(setup: Any, network: Any) -> Any:
    """``setup`` (an EngineSetup) with its trace scaled to the goodput; unchanged without the key."""
    fraction = goodput_fraction(network)
    if fraction == 1.0:
        return setup
    trace = setup.trace
    scaled = Trace(trace.times_s, trace.mbps * fraction, trace.duration_s, trace.at_end, trace.name, trace.meta)
    return dataclasses.replace(setup, trace=scaled)
