"""The testbed's processes: ``python -m simulator.emulation.workers cloud|mobile ...``.

Each worker enters its namespace, pins itself to one core, runs torch on one thread, loads the model,
says ``{"ready": true}`` on stdout and then obeys JSON lines on stdin. Every timestamp is
``time.monotonic()``: one clock for the whole host, whichever namespace a process is in.

Once the model is loaded a worker runs at real-time priority (``WORKER_PRIORITY``, SCHED_FIFO; its threads
inherit it): on a host shared with other jobs, a worker at normal priority shares its core and a forward
took 2-2.5x its CPU time (benchmarks/compute_contention.py); at real-time priority the host's other jobs run
when the workers idle. Each compute also records its thread CPU time, so the records can say how long it
waited off the CPU.

* cloud: a TCP server; a reader thread per connection takes uploads off the wire, one compute thread
  serves them first come first served (the simulator's one-GPU FIFO) and answers with its timestamps and
  the result bytes. Runs until stdin closes.
* mobile: one device. ``{"warm_up": i}`` runs schedule i's first plan twice end to end (first calls
  are slow). For ``{"schedule": i, "t0": .., "until": ..}`` it issues that schedule's
  arrivals (the simulator's arrival times, from the seed), computes the mobile part on its core, hands
  uploads to a sender thread (one upload at a time on one TCP connection) and collects the answers; it
  prints the raw timestamps of every request as one JSON line.
"""

from __future__ import annotations

import argparse
import os
import queue
import socket
import sys
import threading
import time
from typing import Any

from simulator.emulation.network import PORT, enter_namespace
from simulator.emulation.protocol import recv_message, send_message, write_line

_POLL_S = 0.2
REFERENCE_RID = -2  # the reference forward's message (warm-up plans are -1)
WORKER_PRIORITY = 1  # below the rate thread's (shaper.RATE_PRIORITY)


def _setup_process(namespace: str, core: int) -> None:
    enter_namespace(namespace)
    os.sched_setaffinity(0, {core})
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)


def _realtime() -> bool:
    from simulator.emulation.shaper import realtime

    return realtime(WORKER_PRIORITY)


def _scenario(args: argparse.Namespace) -> Any:
    """The orchestrator's validated scenario (JSON), its relative paths resolved beside the original file."""
    import json
    from pathlib import Path

    from simulator.config.scenario import scenario_from_dict

    return scenario_from_dict(json.loads(Path(args.scenario_json).read_text()), Path(args.scenario))


# -- cloud ----------------------------------------------------------------------------------------------
def run_cloud(args: argparse.Namespace) -> None:
    from simulator.emulation.split_exec import SplitExecutor
    scenario = _scenario(args)
    _setup_process(args.netns, args.core)
    executor = SplitExecutor(scenario.model, scenario.precision)
    at_realtime = _realtime()
    result_bytes = scenario.result_bytes
    work: queue.Queue[tuple[socket.socket, threading.Lock, dict, bytes, float]] = queue.Queue()
    server = socket.create_server(("0.0.0.0", PORT), backlog=64, reuse_port=False)
    server.settimeout(_POLL_S)
    stop = threading.Event()

    def reader(conn: socket.socket) -> None:
        lock = threading.Lock()
        while not stop.is_set():
            message = recv_message(conn)
            if message is None:
                return
            work.put((conn, lock, message[0], message[1], time.monotonic()))

    def acceptor() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=reader, args=(conn,), daemon=True).start()

    def compute() -> None:
        while not stop.is_set():
            try:
                conn, lock, header, payload, received = work.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            started, cpu = time.monotonic(), time.thread_time()
            if header["job"]["where"] == "reference":  # this core's speed now (MobileDevice.reference_ms)
                logits, cpu = b"", executor.reference_ms() / 1e3
            else:
                logits = executor.cloud(header["job"], header, payload)
                cpu = time.thread_time() - cpu
            finished = time.monotonic()
            result = (logits + bytes(max(0, result_bytes - len(logits))))[:result_bytes]
            reply = {"schedule": header["schedule"], "rid": header["rid"], "received": received,
                     "started": started, "finished": finished, "cpu": cpu}
            with lock:
                send_message(conn, reply, result)

    threads = [threading.Thread(target=f, daemon=True) for f in (acceptor, compute)]
    for thread in threads:
        thread.start()
    write_line(sys.stdout.buffer, {"ready": True, "realtime": at_realtime})
    sys.stdin.buffer.read()  # until the orchestrator closes the pipe
    stop.set()


# -- mobile ---------------------------------------------------------------------------------------------
class MobileDevice:
    """One device of the scenario: its arrivals, its core, its connection to the cloud."""

    def __init__(self, args: argparse.Namespace) -> None:
        from simulator.emulation.split_exec import SplitExecutor
        from simulator.model.runner import build_schedules, engine_setup, mean_bandwidth, resolve_inputs
        self.device = args.device
        self.scenario = _scenario(args)
        inputs = resolve_inputs(self.scenario)
        self.setup = engine_setup(self.scenario, inputs)
        self.mean_mbps = mean_bandwidth(self.scenario, inputs)
        self.schedules = build_schedules(self.scenario, inputs, [])
        self.depth = inputs.spec.depth
        _setup_process(args.netns, args.core)
        self.executor = SplitExecutor(self.scenario.model, self.scenario.precision)
        self.sock = socket.create_connection((args.cloud_ip, PORT), timeout=30)
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if args.send_buffer:  # so TCP cannot overfill the shaped queue (shaper.send_buffer_bytes)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.send_buffer)
        self._images: dict[int, bytes] = {}
        self._answers: queue.Queue[tuple[dict, float]] = queue.Queue()
        self.realtime = _realtime()
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while True:
            message = recv_message(self.sock)
            if message is None:
                return
            self._answers.put((message[0], time.monotonic()))

    def image(self, n_bytes: int) -> bytes:
        """Cloud-only's upload: an image-sized block of bytes (random, so no link could compress it)."""
        if n_bytes not in self._images:
            self._images[n_bytes] = os.urandom(n_bytes)
        return self._images[n_bytes]

    def warm_up(self, index: int, rounds: int = 2) -> None:
        """Run the schedule's first plan end to end ``rounds`` times (first calls allocate and are slow)."""
        from simulator.emulation.split_exec import job_of

        plan = self.schedules[index].plan(self.setup.plan_context(0.0, self.device, self.mean_mbps, ()))
        job = job_of(self.scenario.schedules[index], self.schedules[index], plan, self.depth)
        for _ in range(rounds):
            upload = self.executor.mobile(job) if job["where"] != "cloud" else None
            if job["where"] == "mobile":
                continue
            header = {"schedule": -1, "rid": -1, "job": job, **(upload.header if upload else {})}
            send_message(self.sock, header, upload.payload if upload else self.image(job["image_bytes"]))
            self._answers.get(timeout=60.0)

    def reference_ms(self) -> dict[str, float]:
        """Both cores' speed now (right before and right after a schedule): each side's mean CPU time of the
        whole forward, which the profile also prices (validate compares them: the host's compute drifts)."""
        send_message(self.sock, {"schedule": -1, "rid": REFERENCE_RID, "job": {"where": "reference"}}, b"")
        mobile = self.executor.reference_ms()
        deadline = time.monotonic() + 60.0
        while True:  # a late answer of the schedule may come first
            answer, _ = self._answers.get(timeout=max(0.0, deadline - time.monotonic()))
            if answer["schedule"] == -1 and answer["rid"] == REFERENCE_RID:
                return {"mobile": mobile, "cloud": answer["cpu"] * 1e3}

    def run_schedule(self, index: int, t0: float, until: float) -> list[dict[str, Any]]:
        from simulator.emulation.split_exec import job_of
        from simulator.model.engine import arrival_times

        schedule, config = self.schedules[index], self.scenario.schedules[index]
        on_busy, closed_loop = self.setup.on_busy, self.setup.arrival == "back-to-back"
        arrivals = [] if closed_loop else arrival_times(self.setup, self.device).tolist()
        recent: list[float] = []
        requests: dict[int, dict[str, Any]] = {}
        outgoing: queue.Queue[tuple[dict, bytes] | None] = queue.Queue()

        def sender() -> None:
            while (item := outgoing.get()) is not None:
                header, payload = item
                requests[header["rid"]]["send_start"] = time.monotonic()
                send_message(self.sock, header, payload)

        def collect(block_until: float | None) -> None:
            """Take answers off the queue; with ``block_until`` wait for one (closed loop)."""
            while True:
                timeout = None if block_until is None else block_until - time.monotonic()
                if timeout is not None and timeout <= 0:
                    return
                try:
                    answer, done = self._answers.get(timeout=timeout) if timeout is not None \
                        else self._answers.get_nowait()
                except queue.Empty:
                    return
                request = requests.get(answer["rid"]) if answer["schedule"] == index else None
                if request is None:
                    continue
                request.update(received=answer["received"], cloud_start=answer["started"],
                               cloud_end=answer["finished"], cloud_cpu=answer["cpu"], done=done)
                transfer = answer["received"] - request.get("send_start", answer["received"])
                if transfer > 0:
                    recent.append(request["uplink_bytes"] * 8 / transfer / 1e6)
                if block_until is not None:
                    return

        thread = threading.Thread(target=sender, daemon=True)
        thread.start()
        busy_until, rid = float("-inf"), 0
        while time.monotonic() < until:
            if closed_loop:
                if (self.setup.n_requests is not None and rid >= self.setup.n_requests) or \
                        (self.setup.duration_s is not None and time.monotonic() - t0 >= self.setup.duration_s):
                    break
                arrival = max(time.monotonic(), t0) - t0
            elif rid < len(arrivals):
                arrival = arrivals[rid]
            else:
                break
            arrived = t0 + arrival
            if arrived > time.monotonic():
                time.sleep(min(arrived, until) - time.monotonic())
                if time.monotonic() < arrived:
                    break
            collect(None)
            history = getattr(schedule, "bandwidth_history", 0)  # as many uploads as the engine keeps
            plan = schedule.plan(self.setup.plan_context(arrival, self.device, self.mean_mbps,
                                                         tuple(recent[-history:]) if history else (),
                                                         **_decisions(schedule, requests, t0, rid, arrival)))
            job = job_of(config, schedule, plan, self.depth)
            request = requests[rid] = {"rid": rid, "arrival": arrival, "plan": plan, "job": job}
            computes = job["where"] != "cloud"
            if on_busy == "drop" and computes and busy_until > arrived:
                request["dropped"] = True
            else:
                upload = None
                if computes:
                    request["mobile_start"], cpu = max(time.monotonic(), arrived), time.thread_time()
                    upload = self.executor.mobile(job)
                    busy_until = request["mobile_end"] = time.monotonic()
                    request["mobile_cpu"] = time.thread_time() - cpu
                    if upload is None:
                        request["done"] = busy_until
                else:
                    request["mobile_start"] = request["mobile_end"] = arrived
                if job["where"] != "mobile":
                    header = {"schedule": index, "rid": rid, "job": job}
                    payload = self.image(job["image_bytes"]) if upload is None else upload.payload
                    if upload is not None:
                        header.update(upload.header)
                    request["uplink_bytes"] = len(payload)
                    outgoing.put((header, payload))
                if closed_loop and "done" not in request:
                    while "done" not in request and time.monotonic() < until:
                        collect(until)
            rid += 1
        while time.monotonic() < until and any("done" not in r and not r.get("dropped") for r in requests.values()):
            collect(min(until, time.monotonic() + _POLL_S))
        outgoing.put(None)
        thread.join(timeout=5.0)
        return [_raw_record(r) for r in requests.values()]


def _decisions(schedule: Any, requests: dict[int, dict[str, Any]], t0: float, rid: int,
               arrival: float) -> dict[str, Any]:
    """What the device knows of its past decisions, for a schedule whose ``decision_history`` asks (as the
    engine keeps it): the latencies of its last finished requests and the gap since its previous arrival (the
    testbed leaves the queue at 0)."""
    kept = getattr(schedule, "decision_history", 0)
    if not kept:
        return {}
    finished = sorted((r["done"], (r["done"] - t0 - r["arrival"]) * 1e3) for r in requests.values() if "done" in r)
    previous = requests.get(rid - 1)
    return {"recent_latency_ms": tuple(ms for _, ms in finished[-kept:]),
            "since_arrival_s": None if previous is None else arrival - previous["arrival"]}


def tcp_counters() -> dict[str, int]:
    """This namespace's TCP retransmission counters (/proc/net/snmp and netstat), to explain stalls."""
    wanted = {("Tcp", "RetransSegs"), ("TcpExt", "TCPTimeouts"), ("TcpExt", "TCPLossProbes"),
              ("TcpExt", "TCPSpuriousRTOs"), ("TcpExt", "TCPSlowStartRetrans")}
    found: dict[str, int] = {}
    for path in ("/proc/net/snmp", "/proc/net/netstat"):
        lines = open(path).read().splitlines()  # noqa: SIM115 (procfs, read at once)
        for names, values in zip(lines[::2], lines[1::2], strict=False):
            group, *keys = names.split()
            for key, value in zip(keys, values.split()[1:], strict=False):
                if (group.rstrip(":"), key) in wanted:
                    found[key] = int(value)
    return found


def _raw_record(request: dict[str, Any]) -> dict[str, Any]:
    plan = request["plan"]
    keys = ("rid", "arrival", "dropped", "mobile_start", "mobile_end", "send_start", "received", "cloud_start",
            "cloud_end", "done", "uplink_bytes", "mobile_cpu", "cloud_cpu")
    raw = {k: request[k] for k in keys if k in request}
    raw.update(where=request["job"]["where"], split_after=plan.split_after, parameter=plan.parameter,
               accuracy=plan.accuracy)
    return raw


def run_mobile(args: argparse.Namespace) -> None:
    import json

    device = MobileDevice(args)
    write_line(sys.stdout.buffer, {"ready": True, "realtime": device.realtime,
                                   "send_buffer": device.sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)})
    for line in sys.stdin.buffer:
        command = json.loads(line)
        if "warm_up" in command:
            device.warm_up(command["warm_up"])
            write_line(sys.stdout.buffer, {"warm": True, "reference_ms": device.reference_ms()})
            continue
        before = tcp_counters()
        records = device.run_schedule(command["schedule"], command["t0"], command["until"])
        after = tcp_counters()
        write_line(sys.stdout.buffer, {"records": records, "tcp": {k: after[k] - before.get(k, 0) for k in after},
                                       "reference_after_ms": device.reference_ms()})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator.emulation.workers")
    parser.add_argument("role", choices=("cloud", "mobile"))
    parser.add_argument("--netns", required=True)
    parser.add_argument("--core", type=int, required=True)
    parser.add_argument("--scenario", required=True, help="the scenario file (relative paths start there)")
    parser.add_argument("--scenario-json", required=True, help="the scenario as the orchestrator validated it")
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--cloud-ip", default="")
    parser.add_argument("--send-buffer", type=int, default=0, help="SO_SNDBUF of the device's socket (0: the kernel's)")
    args = parser.parse_args(argv)
    (run_cloud if args.role == "cloud" else run_mobile)(args)


if __name__ == "__main__":
    main()
