"""The mobile side's uplink: a tbf qdisc whose rate follows the replayed trace sample by sample.

The change points are the simulator's own view of the trace for a device (``outputs.replayed_window``:
same start offset, looping and ``at_end`` rules). One thread per link sleeps until each change point and
changes the qdisc over an open netlink socket; how late each change lands is kept, so the report can say
how far the emulated link is from the trace's timing.

tbf cannot run at 0 bit/s, so a zero-capacity sample sets ``ZERO_RATE_BYTES_S`` (1 kbit/s: one
1514-byte frame every 12 s, a stall for every trace in the project). The queue is deep (``QUEUE_BYTES``),
as a cellular uplink's buffers are, so a stall delays packets instead of dropping them. Every change
names that same limit (the kernel's tbf_change then only sets the child fifo's limit and keeps its
packets; a limit of 0 would drop everything). A limit that follows the rate, as ``tc ... tbf ... latency``
computes it, shrinks to a few KB at low rates: packets are dropped during and after an outage and TCP
waits for its backed-off retransmission timer (benchmarks/emulation_outage.py measures both).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

ZERO_RATE_BYTES_S = 125
QUEUE_BYTES = 4_000_000
MIN_BURST_BYTES = 3028  # two full Ethernet frames: tbf must hold at least one to send anything
BURST_SECONDS = 0.001   # above that, 1 ms worth of the rate


def send_buffer_bytes(devices_on_queue: int, queue_bytes: int = QUEUE_BYTES) -> int:
    """SO_SNDBUF for each device's socket so that TCP can never overfill the qdisc.

    The kernel doubles the value it is given, so the devices behind one queue together hold at most half
    of it unacknowledged. Without a cap TCP's window grows over a deep loss-free queue until, after an
    outage's backlog, the queue overflows (91 drops in one 5G cloud-only run): loss at a full queue, which
    the simulator's infinite link buffer does not have. With the cap the next upload waits in the
    device's socket instead, as it waits in the simulator's uplink queue.
    """
    return max(4096, queue_bytes // (4 * devices_on_queue))


def tbf_parameters(mbps: float, queue_bytes: int = QUEUE_BYTES) -> dict[str, int]:
    """tbf's rate (bytes/s), burst and queue limit (bytes) for a capacity in Mbit/s."""
    rate = max(int(round(mbps * 1e6 / 8)), ZERO_RATE_BYTES_S)
    return {"rate": rate, "burst": max(MIN_BURST_BYTES, int(rate * BURST_SECONDS)), "limit": queue_bytes}


RATE_PRIORITY = 2  # above the workers' (workers.WORKER_PRIORITY): a rate change preempts a forward


def realtime(priority: int) -> bool:
    """SCHED_FIFO at ``priority`` for the calling thread (Linux: per thread; threads it starts inherit it),
    so the host's other jobs cannot preempt it; False where the system refuses."""
    import os

    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (AttributeError, OSError):
        return False
    return True



@dataclass
class Lateness:
    """How late rate changes landed (seconds after their due time, measured after the netlink call)."""

    late_s: list[float] = field(default_factory=list)

    def summary_ms(self) -> dict[str, float]:
        if not self.late_s:
            return {"changes": 0}
        ms = np.asarray(self.late_s) * 1e3
        return {"changes": int(ms.size), "p50_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)),
                "max_ms": float(ms.max())}


class LinkShaper:
    """A tbf on one veth in one namespace; ``follow`` replays a rate schedule from a start instant."""

    def __init__(self, namespace: str, ifname: str, queue_bytes: int = QUEUE_BYTES) -> None:
        from pyroute2 import NetNS

        self._ns = NetNS(namespace)
        self._index = self._ns.link_lookup(ifname=ifname)[0]
        self.queue_bytes = queue_bytes
        self._ns.tc("add", "tbf", index=self._index, handle="1:", **tbf_parameters(1000.0, queue_bytes))
        self.lateness = Lateness()
        self.realtime = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def set_rate(self, mbps: float) -> None:
        self._ns.tc("change", "tbf", index=self._index, handle="1:", **tbf_parameters(mbps, self.queue_bytes))

    def follow(self, times_s: np.ndarray, mbps: np.ndarray, t0: float) -> None:
        """Start a thread setting ``mbps[i]`` at monotonic ``t0 + times_s[i]``; the first rate is set now."""
        self.stop()
        self.set_rate(float(mbps[0]))
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(times_s, mbps, t0), daemon=True,
                                        name="link-shaper")
        self._thread.start()

    def _run(self, times_s: np.ndarray, mbps: np.ndarray, t0: float) -> None:
        self.realtime = realtime(RATE_PRIORITY)  # on time on a loaded host; it mostly sleeps
        current = float(mbps[0])
        for due_rel, rate in zip(times_s[1:].tolist(), mbps[1:].tolist(), strict=True):
            if rate == current:
                continue
            due = t0 + due_rel
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            self.set_rate(rate)
            self.lateness.late_s.append(time.monotonic() - due)
            current = rate

    def drops(self) -> int:
        """Packets the qdisc dropped so far (a full queue)."""
        stats = self._ns.get_qdiscs(index=self._index)[0].get_attr("TCA_STATS2")
        basic = stats.get_attr("TCA_STATS_QUEUE") if stats is not None else None
        return int(basic["drops"]) if basic is not None else -1

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5.0)
            self._thread = None

    def close(self) -> None:
        self.stop()
        self._ns.close()
