"""``mercury-sim emulate``: run a scenario's schedules on the testbed and return simulator-shaped records.

The orchestrator (this process, in the root namespace) builds the network, starts one cloud worker and
one worker per device, and for every schedule in turn restarts the trace replay on every link at a common
start instant ``t0`` (as the simulator starts every schedule at time 0 with the same offsets), tells the
devices to go, and turns their monotonic timestamps into the simulator's per-request components.
Everything is bounded: worker start-up, every schedule (its last arrival plus ``TAIL_S``), every wait.
"""

from __future__ import annotations

import json
import math
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from simulator.config.scenario import Scenario
from simulator.endings import interrupt_on_signals
from simulator.errors import InputError, RunWarning
from simulator.model.energy import energy_warning, radio_watts
from simulator.model.records import FIELDS, STATUS_DROPPED, STATUS_NAMES, STATUS_OK, STATUS_UNFINISHED
from simulator.model.runner import RunResult, build_schedules, engine_setup, mark_interpolated, resolve_inputs

TAIL_S = 60.0          # after a schedule's last arrival, how long its requests may still take
MAX_SCHEDULE_S = 900.0  # no schedule runs longer than this, whatever the scenario asks
STARTUP_S = 180.0      # a worker must load torch and the model within this
START_DELAY_S = 1.0    # between telling the devices and the schedule's time 0
MAX_DEVICES = 16
WARM_UP_MBPS = 1000.0   # the link's rate while the workers warm up, so warm-up uploads finish at once


class EmulationError(RuntimeError):
    """The testbed failed (a worker died or timed out); the message names the worker and its last words."""


@dataclass
class EmulationResult:
    """A run's records and summary (``run``) plus what the testbed measured about itself."""

    run: RunResult
    facts: dict[str, Any] = field(default_factory=dict)


class Worker:
    """A worker process in its own session (Ctrl-C reaches only the orchestrator, which stops it)."""

    def __init__(self, name: str, argv: list[str], log_dir: Path) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._log_file = self.log.open("wb")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "simulator.emulation.workers", *argv],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log_file,
                                        env=env, start_new_session=True)
        self._lines: queue.Queue[bytes] = queue.Queue()
        self.ready: dict[str, Any] = {}  # its first line: {"ready": true, "realtime": ...}
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=self._read, args=(stdout,), daemon=True).start()

    def _read(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            self._lines.put(line)
        self._lines.put(b"")

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def expect(self, timeout_s: float) -> dict[str, Any]:
        """The worker's next JSON line; an EmulationError when it dies or stays silent too long."""
        try:
            line = self._lines.get(timeout=max(timeout_s, 0.0))
        except queue.Empty:
            raise EmulationError(f"{self.name} worker gave no answer within {timeout_s:.0f} s") from None
        if not line:
            self.process.wait(timeout=5)
            raise EmulationError(f"{self.name} worker exited (code {self.process.returncode}): {self.last_words()}")
        return json.loads(line)

    def last_words(self) -> str:
        self._log_file.flush()
        lines = [x for x in self.log.read_text(errors="replace").splitlines() if x.strip()]
        return lines[-1] if lines else "no output"

    def stop(self) -> None:
        """Close its stdin, then terminate, then kill: each step bounded."""
        process = self.process
        if process.poll() is None:
            try:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired):
                process.terminate()
                try:
                    process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        self._log_file.close()


def assign_cores(devices: int) -> tuple[int, list[int], str]:
    """The cloud on the last usable core, devices round-robin on the others; how this was arranged."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) == 1:
        return cores[0], [cores[0]] * devices, f"one core ({cores[0]}): cloud and devices share it"
    mobile = cores[:-1]
    note = f"cloud on core {cores[-1]}, devices on core(s) {', '.join(map(str, mobile))}"
    if devices > len(mobile):
        note += f" ({devices} devices share {len(mobile)} core(s): their compute contends, unlike the simulator)"
    return cores[-1], [mobile[d % len(mobile)] for d in range(devices)], note


@contextmanager
def _workers(scenario: Scenario, net: Any, log_dir: Path, send_buffer: int) -> Iterator[tuple[Worker, list[Worker]]]:
    devices = scenario.workload.devices
    cloud_core, mobile_cores, _ = assign_cores(devices)
    resolved = log_dir / "scenario.json"
    resolved.write_text(json.dumps(scenario.model_dump(mode="json", exclude_none=True)))
    where = ["--scenario", str(scenario.path), "--scenario-json", str(resolved)]
    with ExitStack() as stack:
        def start(name: str, argv: list[str]) -> Worker:
            worker = Worker(name, argv, log_dir)
            stack.callback(worker.stop)
            return worker

        cloud = start("cloud", ["cloud", "--netns", net.cloud_ns, "--core", str(cloud_core), *where])
        cloud.ready = cloud.expect(STARTUP_S)
        mobiles = []
        for d in range(devices):
            link = net.links[d if len(net.links) > 1 else 0]
            mobiles.append(start(f"mobile-{d}", ["mobile", "--netns", link.mobile_ns, "--core",
                                                 str(mobile_cores[d]), "--device", str(d), "--cloud-ip",
                                                 link.cloud_ip, "--send-buffer", str(send_buffer), *where]))
        deadline = time.monotonic() + STARTUP_S
        for mobile in mobiles:
            mobile.ready = mobile.expect(deadline - time.monotonic())
        yield cloud, mobiles


def schedule_bound_s(setup: Any) -> float:
    """How long one schedule may run: its arrivals plus ``TAIL_S``, capped at ``MAX_SCHEDULE_S``."""
    if setup.duration_s is not None:
        span = setup.duration_s
    elif setup.arrival == "periodic":
        span = setup.n_requests / setup.fps
    elif setup.arrival == "poisson":
        span = 3.0 * setup.n_requests / setup.rate_per_s
    else:
        span = MAX_SCHEDULE_S
    return min(span + TAIL_S, MAX_SCHEDULE_S)


def check_emulatable(scenario: Scenario) -> list[RunWarning]:
    """Refuse what the testbed cannot run (exit 2); warn about what it runs differently."""
    where = scenario.path
    if scenario.workload.devices > MAX_DEVICES:
        raise InputError(where, f"the testbed runs at most {MAX_DEVICES} devices (got {scenario.workload.devices})",
                         "workload.devices")
    if scenario.cloud.gpus != 1 or scenario.cloud.max_batch != 1:
        raise InputError(where, "the testbed has one cloud process without batching: gpus and max_batch must be 1",
                         "cloud")
    warnings = []
    if scenario.network.rtt_ms:
        warnings.append(RunWarning("not_emulated", f"network.rtt_ms ({scenario.network.rtt_ms:g}) is not emulated "
                                   "(no netem on this kernel): the testbed's RTT is the veth's (~0.05 ms)"))
    if scenario.network.downlink_mbps:
        warnings.append(RunWarning("not_emulated", "network.downlink_mbps is not emulated: results return over the "
                                   "unshaped veth"))
    return warnings


# SIGTERM and SIGHUP end an emulation as Ctrl-C does: through the cleanup of the namespaces, qdiscs and workers.
terminate_as_interrupt = interrupt_on_signals


def emulate_scenario(scenario: Scenario, *, progress: Callable[[str, float], None] | None = None,
                     queue_bytes: int | None = None, cap_send_buffer: bool = True) -> EmulationResult:
    """Execute every schedule of ``scenario`` on the testbed; records in the simulator's schema.

    ``cap_send_buffer=False`` leaves the devices' TCP send buffers to the kernel, so a window can outgrow
    the queue (to show loss at a full queue; shaper.send_buffer_bytes says why the cap is the default).
    """
    from simulator.emulation.exclusive import exclusive_testbed, tell_stderr
    from simulator.emulation.network import temp_folder, testbed_network
    from simulator.emulation.shaper import QUEUE_BYTES, LinkShaper, send_buffer_bytes
    from simulator.emulation.split_exec import unsupported
    from simulator.model.summary import summarize
    from simulator.results.outputs import replayed_window

    if scenario.path is None:
        raise InputError(None, "emulation needs a scenario file (the workers read it)")
    warnings = check_emulatable(scenario)
    inputs = resolve_inputs(scenario)
    setup = engine_setup(scenario, inputs)
    interpolated: dict[str, dict] = {}
    schedules = build_schedules(scenario, inputs, warnings, interpolated)
    for i, (config, schedule) in enumerate(zip(scenario.schedules, schedules, strict=True)):
        reason = unsupported(config, schedule)
        if reason is not None:
            raise InputError(scenario.path, reason, f"schedules[{i}].kind")
    unknown_energy = energy_warning(setup.power, None, inputs.mobile.name)  # the testbed applies no radio model
    if unknown_energy:
        warnings.append(unknown_energy)
    devices = setup.devices
    n_links = devices if setup.sharing == "per-device" else 1
    bound = schedule_bound_s(setup)
    send_buffer = send_buffer_bytes(devices // n_links, queue_bytes or QUEUE_BYTES) if cap_send_buffer else 0
    facts: dict[str, Any] = {"cores": assign_cores(devices)[2], "rtt": "none (veth only)",
                             "queue_bytes": queue_bytes or QUEUE_BYTES, "send_buffer_bytes": send_buffer or None,
                             "load_average_start": os.getloadavg()[0]}
    frames = []
    with ExitStack() as stack:
        stack.enter_context(terminate_as_interrupt())
        stack.enter_context(exclusive_testbed(on_wait=tell_stderr))
        net = stack.enter_context(testbed_network(n_links, on_cleanup=tell_stderr))
        log_dir = Path(stack.enter_context(temp_folder("logs")))
        shapers = []
        for link in net.links:
            shaper = LinkShaper(link.mobile_ns, link.mobile_if, link.cloud_ip, queue_bytes or QUEUE_BYTES)
            stack.callback(shaper.close)
            shapers.append(shaper)
        cloud, mobiles = stack.enter_context(_workers(scenario, net, log_dir, send_buffer))
        facts["workers_realtime"] = all(w.ready.get("realtime", False) for w in (cloud, *mobiles))
        facts["send_buffer_effective"] = [w.ready.get("send_buffer") for w in mobiles]  # as the kernel set it
        dropped = 0
        for index, schedule in enumerate(schedules):
            if progress:
                progress(schedule.label, 0.0)
            for shaper in shapers:
                shaper.set_rate(WARM_UP_MBPS)
            for mobile in mobiles:
                mobile.send({"warm_up": index})
            warm = [mobile.expect(STARTUP_S) for mobile in mobiles]
            t0 = time.monotonic() + START_DELAY_S
            until = t0 + bound
            for d, shaper in enumerate(shapers):
                window = replayed_window(setup.trace, setup.start_offsets_s[d], bound)
                shaper.follow(window.time_s.to_numpy(), window.mbps.to_numpy(), t0)
            for mobile in mobiles:
                mobile.send({"schedule": index, "t0": t0, "until": until})
            answers = [mobile.expect(until - time.monotonic() + 30.0) for mobile in mobiles]
            raw = [answer["records"] for answer in answers]
            for shaper in shapers:
                shaper.stop()
            drops = sum(s.drops() for s in shapers)
            facts.setdefault("per_schedule", {})[schedule.label] = {
                "tcp_per_device": [answer.get("tcp", {}) for answer in answers], "qdisc_drops": drops - dropped,
                "reference_forward_ms": warm[0].get("reference_ms"),
                "reference_after_ms": answers[0].get("reference_after_ms"), **off_cpu_ms(raw)}
            dropped = drops
            frames.append(records_frame(raw, t0, setup, schedule.label))
            if progress:
                progress(schedule.label, 1.0)
        facts["rate_changes"] = [{**s.lateness.summary_ms(), "realtime_thread": s.realtime} for s in shapers]
    facts["load_average_end"] = os.getloadavg()[0]
    labels = [s.label for s in schedules]
    records = pd.concat(frames, ignore_index=True)
    records["schedule"] = pd.Categorical(records["schedule"], categories=labels)
    records["status"] = pd.Categorical(records["status"].map(STATUS_NAMES), categories=list(STATUS_NAMES.values()))
    mark_interpolated(records, labels, interpolated)
    records["source"] = "emulated"
    summary = summarize(records, labels, scenario.workload.deadline_ms)
    return EmulationResult(RunResult(scenario, inputs, records, summary, warnings), facts)


def off_cpu_ms(raw: list[list[dict[str, Any]]]) -> dict[str, float | None]:
    """Mean wall minus thread CPU time of the mobile and cloud computes: how long they waited off the CPU
    (another process had the core), which no profile of an uncontended core can predict."""
    out: dict[str, float | None] = {}
    for side in ("mobile", "cloud"):
        timed = [r for requests in raw for r in requests if f"{side}_cpu" in r]
        cpu = [r[f"{side}_cpu"] for r in timed]
        wall = [r[f"{side}_end"] - r[f"{side}_start"] for r in timed]
        out[f"{side}_cpu_ms"] = 1e3 * sum(cpu) / len(cpu) if timed else None
        out[f"{side}_off_cpu_ms"] = 1e3 * (sum(wall) - sum(cpu)) / len(cpu) if timed else None
    return out


def records_frame(raw: list[list[dict[str, Any]]], t0: float, setup: Any, label: str) -> pd.DataFrame:
    """The devices' timestamps as one schedule's records (the simulator's columns and units)."""
    rows = []
    for device, requests in enumerate(raw):
        link_free = -math.inf  # per-device FIFO link: an upload starts when the previous one has arrived
        for r in sorted(requests, key=lambda x: x["rid"]):
            rows.append(_record(r, device, t0, setup, link_free))
            if setup.sharing == "per-device" and "received" in r:
                link_free = r["received"]
    frame = pd.DataFrame(rows, columns=list(FIELDS)) if rows else pd.DataFrame(
        {k: pd.Series(dtype=v) for k, v in FIELDS.items()})
    for name, dtype in FIELDS.items():
        frame[name] = frame[name].astype(dtype)
    frame.insert(0, "schedule", label)
    return frame.sort_values(["arrival_s", "device", "request_id"], kind="stable", ignore_index=True)


def _record(r: dict[str, Any], device: int, t0: float, setup: Any, link_free: float) -> dict[str, Any]:
    nan = math.nan
    arrived = t0 + r["arrival"]
    offloads = r["where"] != "mobile"
    row: dict[str, Any] = dict.fromkeys(FIELDS, nan)
    row.update(device=device, request_id=r["rid"], arrival_s=r["arrival"], accuracy=r["accuracy"],
               uplink_bytes=r.get("uplink_bytes", 0), split_after=r["split_after"], parameter=r["parameter"],
               fallback=0)
    if r.get("dropped"):
        row["status"] = STATUS_DROPPED
        return row
    if "done" not in r:
        row["status"] = STATUS_UNFINISHED
        return row
    mobile_s = r["mobile_end"] - r["mobile_start"]
    row.update(mobile_queue_ms=(r["mobile_start"] - arrived) * 1e3, mobile_ms=mobile_s * 1e3,
               total_ms=(r["done"] - arrived) * 1e3, status=STATUS_OK)
    transfer = queue_s = cloud_queue = cloud = back = 0.0
    if offloads:
        ready = r["mobile_end"]
        start = max(r["send_start"], link_free)
        queue_s, transfer = start - ready, r["received"] - start
        cloud_queue, cloud = r["cloud_start"] - r["received"], r["cloud_end"] - r["cloud_start"]
        back = r["done"] - r["cloud_end"]
    row.update(uplink_queue_ms=queue_s * 1e3, uplink_ms=transfer * 1e3, cloud_queue_ms=cloud_queue * 1e3,
               cloud_ms=cloud * 1e3, return_ms=back * 1e3)
    # The testbed counts the profile's constant powers only: the radio model and its tail
    # (simulator/model/energy.py) are not applied to emulated records.
    # A power the profile does not state leaves its part unknown (NaN), as in simulator/model/energy.py.
    power, radio_w = setup.power, radio_watts(setup.power, None)
    row.update(energy_compute_j=power.watts("compute") * mobile_s, energy_radio_j=radio_w * transfer,
               energy_tail_j=0.0 * radio_w, energy_idle_j=power.watts("idle") * (queue_s + cloud_queue + cloud + back))
    row["energy_j"] = row["energy_compute_j"] + row["energy_radio_j"] + row["energy_tail_j"] + row["energy_idle_j"]
    return row


def facts_text(facts: dict[str, Any]) -> list[str]:
    """The testbed's facts as lines for the terminal."""
    buffer = facts.get("send_buffer_bytes")
    lines = [f"cores: {facts['cores']}; RTT: {facts['rtt']}; tbf queue {facts['queue_bytes']} bytes, device send "
             f"buffer {f'{buffer} bytes (x2 by the kernel)' if buffer else 'kernel default'}; workers at "
             f"{'real-time' if facts.get('workers_realtime') else 'normal'} priority",
             f"load average (1 min) at start {facts['load_average_start']:.2f}, at end {facts['load_average_end']:.2f}"]
    for label, seen in facts.get("per_schedule", {}).items():
        parts = [f"{side} {seen[f'{side}_cpu_ms']:.1f} ms CPU + {max(0.0, seen[f'{side}_off_cpu_ms']):.1f} ms off it"
                 for side in ("mobile", "cloud") if seen.get(f"{side}_cpu_ms") is not None]
        if parts:
            lines.append(f"{label}: compute per request (mean) {'; '.join(parts)}")
    for i, late in enumerate(facts.get("rate_changes", [])):
        if late.get("changes"):
            lines.append(f"link {i}: {late['changes']} rate changes landed {late['p50_ms']:.2f} ms late (median), "
                         f"p95 {late['p95_ms']:.2f} ms, max {late['max_ms']:.2f} ms")
    return lines
