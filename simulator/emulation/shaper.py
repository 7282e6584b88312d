"""The mobile side's uplink: a tbf qdisc whose rate follows the replayed trace sample by sample.

The change points are the simulator's own view of the trace for a device (``outputs.replayed_window``:
same start offset, looping and ``at_end`` rules). One thread per link sleeps until each change point and
changes the qdisc over an open netlink socket; how late each change lands is kept, so the report can say
how far the emulated link is from the trace's timing.

The queue is deep (``QUEUE_BYTES``), as a cellular uplink's buffers are, so a stall delays packets instead of
dropping them. Every change names that same limit (the kernel's tbf_change then only sets the child fifo's
limit and keeps its packets; a limit of 0 would drop everything). A limit that follows the rate, as ``tc ...
tbf ... latency`` computes it, shrinks to a few KB at low rates: packets are dropped during and after an
outage and TCP waits for its backed-off retransmission timer (benchmarks/emulation_outage.py measures both).

Three properties of tbf make a naive shaper differ from the trace; each was measured on the testbed and is
handled here, so that the emulated link is the fluid link with a deep buffer that the trace describes:

* *No packet larger than the bucket ever leaves.* tbf passes a packet only when its bucket (``burst``) can
  hold it, and the kernel caps the bucket's time at 2^32 ns: its largest packet is min(burst / rate, 4.29 s)
  x rate. At a stall rate of 125 B/s that was 536 bytes, so every full frame that TCP sent during an outage
  was dropped (2 and 5 drops in a 1 s stall; the "unexplained" 1-10 drops per schedule on the 5G trace). So a
  zero-capacity sample sets ``ZERO_RATE_BYTES_S`` (4 kbit/s, a 2147-byte bucket: one 1514-byte frame leaks
  every 3 s). And TCP's segmentation offload built packets of several segments, which tbf keeps whole when
  the bucket at their enqueue holds them: a 3028-byte pair queued at 32 Mbit/s (bucket 4008 bytes) could not
  leave once the rate fell below 24.3 Mbit/s (bucket 3028 bytes, 3026 after pyroute2's truncation to whole
  microseconds) until the rate rose again: a 500 KB upload on the 5G trace took 2137 ms instead of 185 ms and
  was released the instant the trace reached 25.6 Mbit/s. So the shaped veth sends single segments
  (``gso_max_segs`` 1): every packet is one frame, which every bucket here holds.
* *A rate change alone does not restart a throttled tbf.* Its dequeue armed a watchdog for when the head
  packet would have enough tokens at the *old* rate (12 s for a frame at the old stall rate), and
  ``tbf_change`` resets the tokens but not that timer, so a link whose capacity came back stayed silent
  until the next packet was enqueued: in practice TCP's next backed-off retransmission (a 20 Mbit/s stream
  stalled for 0.5 s and 1.0 s resumed 94-118 ms and 235 ms after the rate came back: the kernel's timer,
  not the trace; this was the "retransmission timer after outages" that earlier validations fitted). So
  every rate increase is followed by a *kick*, one empty UDP datagram through the same qdisc to a port
  nothing listens on in the cloud namespace: its enqueue runs the qdisc at the new rate (resumption then
  within a millisecond). It adds 42 bytes to the queue per increase, at most ten a second on the project's
  traces.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import numpy as np

ZERO_RATE_BYTES_S = 500  # 4 kbit/s: its bucket (2147 bytes in 4.29 s) still holds a full frame
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


TBF_MAX_BUCKET_NS = 2**32 - 1  # the kernel keeps tbf's bucket time (from the u32 tick count) below this
FRAME_BYTES = 1514  # one Ethernet frame of a 1448-byte TCP segment: the largest packet the shaped veth sends


def largest_packet_bytes(rate_bytes_s: int, burst_bytes: int) -> int:
    """The largest packet tbf will ever dequeue at this rate and burst, as the kernel derives it: the bucket
    time that pyroute2 sends (whole microseconds, in 1/15.625-microsecond ticks), capped at 2^32 ns, in
    bytes at the rate."""
    micros = int(1e6 * burst_bytes / rate_bytes_s)
    bucket_ns = min(int(micros * 15.625) * 64, TBF_MAX_BUCKET_NS)
    return int(bucket_ns * rate_bytes_s // 1_000_000_000)


def tbf_parameters(mbps: float, queue_bytes: int = QUEUE_BYTES) -> dict[str, int]:
    """tbf's rate (bytes/s), burst and queue limit (bytes) for a capacity in Mbit/s."""
    rate = max(int(round(mbps * 1e6 / 8)), ZERO_RATE_BYTES_S)
    return {"rate": rate, "burst": max(MIN_BURST_BYTES, int(rate * BURST_SECONDS)), "limit": queue_bytes}


KICK_PORT = 9  # discard: nothing listens on it in the cloud namespace, so a kick is dropped on arrival
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


def udp_socket_in(namespace: str) -> socket.socket:
    """A UDP socket that lives in ``namespace`` (made in a helper thread: entering a namespace is per thread)."""
    from pyroute2 import netns

    made: list[socket.socket | BaseException] = []

    def make() -> None:
        try:
            netns.setns(namespace)
            made.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        except BaseException as error:  # handed to the caller's thread
            made.append(error)

    helper = threading.Thread(target=make, name="kick-socket")
    helper.start()
    helper.join()
    if isinstance(made[0], BaseException):
        raise made[0]
    return made[0]


class LinkShaper:
    """A tbf on one veth in one namespace; ``follow`` replays a rate schedule from a start instant.

    ``peer_ip`` is the far end of the veth, where each rate increase sends its kick (module docstring).
    """

    def __init__(self, namespace: str, ifname: str, peer_ip: str, queue_bytes: int = QUEUE_BYTES) -> None:
        from pyroute2 import NetNS

        self._ns = NetNS(namespace)
        try:
            self._index = self._ns.link_lookup(ifname=ifname)[0]
            self.queue_bytes = queue_bytes
            self._ns.link("set", index=self._index, gso_max_segs=1)  # one frame per packet (module docstring)
            self._ns.tc("add", "tbf", index=self._index, handle="1:", **tbf_parameters(1000.0, queue_bytes))
            self._kick = udp_socket_in(namespace)
        except BaseException:
            self._ns.close()
            raise
        self._peer = (peer_ip, KICK_PORT)
        self._mbps = 1000.0
        self.lateness = Lateness()
        self.realtime = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def set_rate(self, mbps: float) -> None:
        """Change tbf's rate; after an increase, kick the qdisc so that it dequeues at the new rate now."""
        self._ns.tc("change", "tbf", index=self._index, handle="1:", **tbf_parameters(mbps, self.queue_bytes))
        if mbps > self._mbps:
            self._kick.sendto(b"", self._peer)
        self._mbps = mbps

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
        self._kick.close()
        self._ns.close()
