"""The emulated testbed: pure pieces everywhere, the real thing (namespaces, qdiscs, workers) as root.

CI runs as root, so the root tests run there; elsewhere they skip with the reason. The long validation
runs live in benchmarks/ (README "How close to reality").
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import pwd
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from simulator.model.records import COLUMNS, STATUS_DROPPED, STATUS_OK, STATUS_UNFINISHED

REPO = Path(__file__).resolve().parents[1]
is_root = os.geteuid() == 0
_has_pyroute2 = importlib.util.find_spec("pyroute2") is not None
needs_root = pytest.mark.skipif(not (is_root and _has_pyroute2),
                                reason="needs root (network namespaces and qdiscs) and pyroute2 (the emulate extra)")


def _ours() -> list[str]:
    from pyroute2 import netns

    return [n for n in netns.listnetns() if n.startswith(f"msim-{os.getpid()}-")]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:  # gone meanwhile
        return ""


def _workers_alive(pids: list[int]) -> list[int]:
    return [p for p in pids if "simulator.emulation.workers" in _cmdline(p)]


def small_scenario(tmp_path: Path, n_requests: int = 6, **network: object) -> Path:
    """validate-constant with absolute paths and fewer requests, written beside the test's files."""
    data = yaml.safe_load((REPO / "scenarios/validate-constant.yaml").read_text())
    for key in ("mobile_profile", "cloud_profile"):
        data[key] = str((REPO / "scenarios" / data[key]).resolve())
    data["network"]["trace"] = str((REPO / "scenarios" / data["network"]["trace"]).resolve())
    data["network"].update(network)
    data["workload"]["n_requests"] = n_requests
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# -- pure pieces ------------------------------------------------------------------------------------------
def test_tbf_parameters_by_hand() -> None:
    from simulator.emulation.shaper import QUEUE_BYTES, tbf_parameters

    assert tbf_parameters(20.0) == {"rate": 2_500_000, "burst": 3028, "limit": QUEUE_BYTES}
    assert tbf_parameters(100.0, 5000) == {"rate": 12_500_000, "burst": 12_500, "limit": 5000}
    assert tbf_parameters(0.0)["rate"] == 500  # a zero-capacity sample stalls the link (4 kbit/s)


def test_every_bucket_passes_a_full_frame_so_nothing_is_dropped_or_stuck() -> None:
    """The kernel's largest packet, by hand: bucket time in whole microseconds, 15.625 ticks of 64 ns each,
    capped at 2^32 ns, times the rate. At the old stall rate of 125 B/s the cap left 536 bytes, so tbf dropped
    every frame sent during an outage."""
    from simulator.emulation.shaper import FRAME_BYTES, largest_packet_bytes, tbf_parameters

    assert largest_packet_bytes(125, 3028) == 536  # 24.2 s of bucket capped at 4.295 s
    assert largest_packet_bytes(500, 3028) == 2147
    assert largest_packet_bytes(1_434_500, 3028) == 3026  # 2110 us -> 32968 ticks -> 2109952 ns
    for mbps in (0.0, 0.001, 0.0073, 0.5, 6.0, 11.476, 24.2, 32.068, 100.0, 2000.0):
        params = tbf_parameters(mbps)
        assert largest_packet_bytes(params["rate"], params["burst"]) >= FRAME_BYTES, mbps


def test_send_buffer_keeps_the_devices_behind_one_queue_below_half_of_it() -> None:
    from simulator.emulation.shaper import QUEUE_BYTES, send_buffer_bytes

    # the kernel doubles SO_SNDBUF: 2 x 1 MB is half the 4 MB queue; four devices on a shared cell share it
    assert send_buffer_bytes(1) == 1_000_000 == QUEUE_BYTES // 4
    assert send_buffer_bytes(4) == 250_000
    assert send_buffer_bytes(1, 64_000) == 16_000
    assert send_buffer_bytes(1, 8_000) == 4096  # never below one page


def test_one_testbed_per_host_and_a_killed_holder_frees_the_lock(tmp_path: Path) -> None:
    from simulator.emulation.exclusive import exclusive_testbed
    from simulator.errors import InputError

    lock = tmp_path / "testbed.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from simulator.emulation.exclusive import "
                               f"exclusive_testbed as x\nwith x(__import__('pathlib').Path({str(lock)!r})):\n"
                               "    print('held', flush=True); time.sleep(60)"],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        held = rf"another mercury-sim emulation is running on this host \(pid {holder.pid}, lock {lock}\)"
        told: list[str] = []
        with pytest.raises(InputError, match=held + " and did not end within 1.2 s"), \
                exclusive_testbed(lock, wait_s=1.2, on_wait=told.append):
            pass
        assert len(told) == 1 and f"pid {holder.pid}" in told[0]  # told once while it waited
        threading.Timer(1.0, holder.kill).start()  # a waiting run gets the lock once the holder is gone
        with exclusive_testbed(lock, wait_s=30):
            assert holder.wait(10) is not None
    finally:
        holder.kill()
        holder.wait(10)
    probe = ("import sys; from pathlib import Path; from simulator.emulation.exclusive import exclusive_testbed as x\n"
             f"try:\n    with x(Path({str(lock)!r}), wait_s=0): sys.exit(0)\nexcept Exception: sys.exit(3)")
    with exclusive_testbed(lock):
        with exclusive_testbed(lock):  # re-entrant in one process (validate: the profile, then the emulation)
            pass
        assert subprocess.run([sys.executable, "-c", probe], cwd=REPO).returncode == 3  # the outer still holds it
    assert subprocess.run([sys.executable, "-c", probe], cwd=REPO).returncode == 0  # released on exit


def test_sigterm_interrupts_the_emulating_process_and_kills_its_forked_helpers() -> None:
    """SIGTERM in the emulating process is Ctrl-C (the cleanup runs); a child forked inside the block (as
    pyroute2 forks one per namespace socket and ends it with SIGTERM) must die of it, not raise in it."""
    import signal
    import time

    from simulator.emulation.testbed import terminate_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"), terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) is before
    with terminate_as_interrupt():
        child = os.fork()
        if child == 0:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            finally:
                os._exit(3)  # reached only if the signal raised instead of killing
        _, status = os.waitpid(child, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM


def test_packet_framing_scales_uploads_to_goodput(tmp_path: Path) -> None:
    from simulator.model.runner import run

    fluid = run(small_scenario(tmp_path, 2, packet_overhead_bytes=0))[0]  # validate-constant sets 66
    framed = run(small_scenario(tmp_path, 2, packet_overhead_bytes=66, mss_bytes=1448))[0]
    for frame, wire_bytes_per_payload_byte in ((fluid, 1.0), (framed, 1514 / 1448)):
        cloud = frame[frame.schedule == "cloud-only"].iloc[0]
        # 500 000 image bytes at 20 Mbit/s: 0.2 s fluid; each 1448 payload bytes cost 1514 on the wire
        assert cloud.uplink_ms == pytest.approx(500_000 * 8 * wire_bytes_per_payload_byte / 20e6 * 1e3, rel=1e-9)


def test_host_speed_sets_each_workers_forward_beside_the_profiles_price_by_hand() -> None:
    from simulator.config.scenario import load_scenario
    from simulator.emulation.validate import host_speed_table

    scenario = load_scenario(REPO / "scenarios/validate-constant.yaml")
    curves = yaml.safe_load((REPO / "profiles/x86-2c-1t.yaml").read_text())["models"][scenario.model]
    at_198 = {stage: dict(zip(curves[stage]["points"]["tokens"], curves[stage]["points"]["ms"], strict=True))[198]
              for stage in ("embed", "block", "head")}
    priced = at_198["embed"] + 12 * at_198["block"] + at_198["head"]  # DeiT-Ti: 12 blocks on 198 tokens
    facts = {"per_schedule": {"mobile-only": {"reference_forward_ms": {"mobile": 30.0, "cloud": 33.0},
                                              "reference_after_ms": {"mobile": 32.0, "cloud": 45.0}},
                              "cloud-only": {"reference_forward_ms": {"mobile": 20.0, "cloud": 21.0}},
                              "otas": {"reference_forward_ms": None}}}
    table = host_speed_table(scenario, facts)
    assert table[["schedule", "side"]].values.tolist() == [["mobile-only", "mobile"], ["mobile-only", "cloud"],
                                                           ["cloud-only", "mobile"], ["cloud-only", "cloud"]]
    assert table.priced_forward_ms.tolist() == pytest.approx([priced] * 4, rel=1e-12)
    # the mean of the snapshots before and after (only before where none was timed after)
    assert table.drift.tolist() == pytest.approx([31.0 / priced - 1, 39.0 / priced - 1, 20.0 / priced - 1,
                                                  21.0 / priced - 1], rel=1e-12)
    # steady: the two within 10 % of their mean (2 of 31 ms yes, 12 of 39 ms no; one snapshot alone yes)
    assert table.steady.tolist() == [True, False, True, True]


def test_drift_removed_scales_each_schedules_computes_by_its_sides_drift(tmp_path: Path) -> None:
    """Each schedule re-simulated on its own profiles times (1 + drift): its computes scale by exactly that
    (stage prices are linear in the curves; no after-idle cost here), the uplink and the arrivals do not."""
    from simulator.config.scenario import load_scenario
    from simulator.emulation.validate import drift_removed_records
    from simulator.model.runner import run_scenario

    scenario = load_scenario(small_scenario(tmp_path, 4))
    plain = run_scenario(scenario).records
    labels = list(plain.schedule.cat.categories)
    speed = pd.DataFrame([("mobile-only", "mobile", 0.10), ("cloud-only", "cloud", -0.20), ("mercury", "mobile", 0.5),
                          ("mercury", "cloud", 0.0)], columns=["schedule", "side", "drift"])
    removed = drift_removed_records(scenario, labels, speed, tmp_path)
    assert list(removed.schedule.cat.categories) == labels and len(removed) == len(plain)
    factor = {("mobile-only", "mobile_ms"): 1.1, ("cloud-only", "cloud_ms"): 0.8, ("mercury", "mobile_ms"): 1.5}
    for label in labels:
        before, after = (r[r.schedule == label].reset_index(drop=True) for r in (plain, removed))
        assert after.arrival_s.tolist() == before.arrival_s.tolist()
        assert np.allclose(after.uplink_ms, before.uplink_ms, rtol=1e-12, atol=0)
        for column in ("mobile_ms", "cloud_ms"):
            expected = before[column] * factor.get((label, column), 1.0)
            assert np.allclose(after[column], expected, rtol=1e-12, atol=1e-12), (label, column)
    assert removed[removed.schedule == "mobile-only"].mobile_ms.iloc[0] > 0


def test_scaled_profile_scales_curves_and_keeps_the_after_idle_cost(tmp_path: Path) -> None:
    from simulator.emulation.validate import scaled_profile

    source = REPO / "profiles/x86-2c-1t.yaml"
    original = yaml.safe_load(source.read_text())
    original["after_idle_ms"] = {"deit_tiny_distilled_patch16_224": 2.5}
    (tmp_path / "in.yaml").write_text(yaml.safe_dump(original))
    scaled = yaml.safe_load(scaled_profile(tmp_path / "in.yaml", 1.25, tmp_path / "out.yaml").read_text())
    block, before = scaled["models"]["deit_tiny_distilled_patch16_224"]["block"], \
        original["models"]["deit_tiny_distilled_patch16_224"]["block"]
    assert block["points"]["ms"] == pytest.approx([1.25 * v for v in before["points"]["ms"]], rel=1e-12)
    assert block["points"]["tokens"] == before["points"]["tokens"]
    assert block["fit"]["b_ms"] == pytest.approx(1.25 * before["fit"]["b_ms"], rel=1e-12)
    assert scaled["after_idle_ms"] == {"deit_tiny_distilled_patch16_224": 2.5}
    assert "x 1.25" in scaled["provenance"]["scaled"]


def test_records_from_timestamps_by_hand() -> None:
    from simulator.emulation.testbed import records_frame
    from simulator.inputs.profiles import Power

    class Setup:
        sharing, power = "per-device", Power(compute=2.0, idle=0.5, radio=1.0)

    t0 = 100.0
    common = {"where": "split", "split_after": 3, "parameter": 0.5, "accuracy": math.nan, "uplink_bytes": 1000}
    raw = [[
        # request 0 arrives at 0, computes 0.00-0.02, uploads 0.02-0.10, cloud 0.10-0.13, answer at 0.135
        {**common, "rid": 0, "arrival": 0.0, "mobile_start": 100.0, "mobile_end": 100.02, "send_start": 100.021,
         "received": 100.10, "cloud_start": 100.10, "cloud_end": 100.13, "done": 100.135},
        # request 1 ready at 0.05 while request 0 still uploads: its upload starts at 0.10 (FIFO link)
        {**common, "rid": 1, "arrival": 0.03, "mobile_start": 100.03, "mobile_end": 100.05, "send_start": 100.05,
         "received": 100.16, "cloud_start": 100.16, "cloud_end": 100.19, "done": 100.20},
        {**common, "rid": 2, "arrival": 0.04, "dropped": True},
        {**common, "rid": 3, "arrival": 0.5, "mobile_start": 100.5, "mobile_end": 100.52, "send_start": 100.52},
    ]]
    frame = records_frame(raw, t0, Setup(), "mercury")
    assert list(frame.columns) == COLUMNS
    r0, r1, r2, r3 = (frame.iloc[i] for i in range(4))
    assert (r0.mobile_ms, r0.uplink_queue_ms, r0.uplink_ms) == pytest.approx((20, 1, 79))
    assert (r0.cloud_queue_ms, r0.cloud_ms, r0.return_ms, r0.total_ms) == pytest.approx((0, 30, 5, 135))
    assert r0.energy_j == pytest.approx(2.0 * 0.02 + 1.0 * 0.079 + 0.5 * (0.001 + 0.03 + 0.005))
    assert (r1.uplink_queue_ms, r1.uplink_ms, r1.total_ms) == pytest.approx((50, 60, 170))
    assert [r0.status, r1.status, r2.status, r3.status] == [STATUS_OK, STATUS_OK, STATUS_DROPPED, STATUS_UNFINISHED]
    assert math.isnan(r2.total_ms) and math.isnan(r3.total_ms)


def test_off_cpu_time_of_the_computes_by_hand() -> None:
    from simulator.emulation.testbed import off_cpu_ms

    raw = [[{"mobile_start": 1.00, "mobile_end": 1.02, "mobile_cpu": 0.015,    # 5 ms off the CPU
             "cloud_start": 1.10, "cloud_end": 1.13, "cloud_cpu": 0.030},      # none
            {"mobile_start": 2.00, "mobile_end": 2.02, "mobile_cpu": 0.020,    # none
             "cloud_start": 2.10, "cloud_end": 2.13, "cloud_cpu": 0.010},      # 20 ms
            {"dropped": True}],
           [{"mobile_start": 3.0, "mobile_end": 3.05, "mobile_cpu": 0.025}]]   # a second device: 25 ms
    seen = off_cpu_ms(raw)
    assert seen["mobile_cpu_ms"] == pytest.approx((15 + 20 + 25) / 3)
    assert seen["mobile_off_cpu_ms"] == pytest.approx((5 + 0 + 25) / 3)
    assert seen["cloud_cpu_ms"] == pytest.approx(20) and seen["cloud_off_cpu_ms"] == pytest.approx(10)
    assert off_cpu_ms([[{"dropped": True}]]) == dict.fromkeys(
        ("mobile_cpu_ms", "mobile_off_cpu_ms", "cloud_cpu_ms", "cloud_off_cpu_ms"))


def test_without_root_one_line_exit_2_nothing_left(tmp_path: Path) -> None:
    """As an unprivileged user the command refuses in one line. As root we run it as 'nobody' when that
    user can start this Python; else (an interpreter under /root) we simulate: the same command in a child
    whose os.geteuid answers nobody's uid."""
    scenario = small_scenario(tmp_path)
    tmp_path.chmod(0o777)
    out = tmp_path / "out"
    argv = ["emulate", str(scenario), "-o", str(out)]
    command = [sys.executable, "-m", "simulator", *argv]
    user: dict = {}
    if is_root:
        uid = 65534
        try:
            nobody = pwd.getpwnam("nobody")
            uid = nobody.pw_uid
            if os.access(sys.executable, os.X_OK) and _runs_as(nobody.pw_uid, nobody.pw_gid):
                user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        except KeyError:
            pass
        if not user:
            command = [sys.executable, "-c", f"import os; os.geteuid = lambda: {uid}\n"
                       f"from simulator.cli.app import main; main({argv!r})"]
    before = _all_msim()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path, **user)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "needs root" in done.stderr
    assert not out.exists()
    assert _all_msim() == before


def _runs_as(uid: int, gid: int) -> bool:
    try:
        return subprocess.run([sys.executable, "-c", "import simulator"], user=uid, group=gid, extra_groups=[],
                              env={"PYTHONPATH": str(REPO)}, capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


def _all_msim() -> list[str]:
    try:
        from pyroute2 import netns
    except ImportError:
        return []
    return sorted(n for n in netns.listnetns() if n.startswith("msim-")) if is_root else []


# -- the real testbed (root) ------------------------------------------------------------------------------
@needs_root
def test_network_removed_after_a_failure_inside() -> None:
    from pyroute2 import netns

    from simulator.emulation.network import testbed_network

    with pytest.raises(RuntimeError, match="forced"), testbed_network(2) as net:
        assert set(net.namespaces) <= set(netns.listnetns()) and len(net.namespaces) == 3
        raise RuntimeError("forced")
    assert _ours() == []


@needs_root
def test_stale_objects_of_a_dead_run_are_removed_live_ones_kept() -> None:
    from pyroute2 import netns

    from simulator.emulation.network import remove_stale

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale, live = f"msim-{dead.pid}-cloud", f"msim-{os.getpid()}-keep"
    netns.create(stale)
    netns.create(live)
    try:
        removed = remove_stale()
        assert stale in removed and live not in removed
        assert live in netns.listnetns() and stale not in netns.listnetns()
    finally:
        for name in (stale, live):
            if name in netns.listnetns():
                netns.remove(name)


_RECEIVER = """
import socket, sys, time
from simulator.emulation.network import enter_namespace
enter_namespace(sys.argv[1])
server = socket.create_server(("0.0.0.0", 47001)); server.settimeout(20)
print("ready", flush=True)
conn, _ = server.accept(); conn.settimeout(20)
got = 0
while got < int(sys.argv[2]):
    chunk = conn.recv(1 << 20)
    if not chunk:
        break
    got += len(chunk)
print(got, time.monotonic(), flush=True)
"""
_SENDER = """
import socket, sys, time
from simulator.emulation.network import enter_namespace
enter_namespace(sys.argv[1])
sock = socket.create_connection((sys.argv[2], 47001), timeout=20)
start = time.monotonic()
sock.sendall(bytes(int(sys.argv[3])))
print(start, flush=True)
"""


@contextmanager
def _shaped_link_with_receiver(script: str, size: int, mbps: float) -> Iterator[tuple[Any, Any, Any, dict]]:
    """One testbed link shaped to ``mbps`` and a receiver of ``size`` bytes (``script``) in the cloud namespace,
    ready; the link, its shaper, the receiver process and the environment for a sender."""
    from simulator.emulation.network import testbed_network
    from simulator.emulation.shaper import LinkShaper

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with testbed_network(1) as net:
        link = net.links[0]
        shaper = LinkShaper(link.mobile_ns, link.mobile_if, link.cloud_ip)
        try:
            shaper.set_rate(mbps)
            receiver = subprocess.Popen([sys.executable, "-c", script, net.cloud_ns, str(size)],
                                        stdout=subprocess.PIPE, text=True, env=env)
            try:
                assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
                yield link, shaper, receiver, env
            finally:
                receiver.kill()
                receiver.wait()
        finally:
            shaper.close()


@needs_root
def test_5mb_over_a_constant_shaped_rate_takes_size_over_rate() -> None:
    size, mbps = 5_000_000, 20.0
    with _shaped_link_with_receiver(_RECEIVER, size, mbps) as (link, _, receiver, env):
        sender = subprocess.run([sys.executable, "-c", _SENDER, link.mobile_ns, link.cloud_ip, str(size)],
                                capture_output=True, text=True, env=env, timeout=60, check=True)
        got, end = receiver.stdout.readline().split()
    assert int(got) == size
    elapsed, fluid = float(end) - float(sender.stdout.strip()), size * 8 / (mbps * 1e6)
    assert fluid * 0.9 <= elapsed <= fluid * 1.1, f"{elapsed:.3f} s vs size/rate {fluid:.3f} s"
    assert _ours() == []


def _realtime_allowed() -> bool:
    """Whether this system grants a process SCHED_FIFO (asked in a child, which exits at once)."""
    code = "import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


_CHUNK_TIMES = """
import json, socket, sys, time
from simulator.emulation.network import enter_namespace
enter_namespace(sys.argv[1])
server = socket.create_server(("0.0.0.0", 47001)); server.settimeout(20)
print("ready", flush=True)
conn, _ = server.accept(); conn.settimeout(20)
got, times = 0, []
while got < int(sys.argv[2]):
    chunk = conn.recv(1 << 16)
    if not chunk:
        break
    got += len(chunk)
    times.append(time.monotonic())
print(json.dumps([got, times]), flush=True)
"""


def _gso_max_segs(namespace: str, ifname: str) -> int:
    from pyroute2 import NetNS

    with NetNS(namespace) as ns:
        return int(ns.get_links(ns.link_lookup(ifname=ifname)[0])[0].get_attr("IFLA_GSO_MAX_SEGS"))


@needs_root
def test_a_stalled_link_resumes_when_its_rate_comes_back_not_at_tcps_next_retransmission() -> None:
    """tbf keeps the watchdog it armed at the stall rate across a rate change, so without the shaper's kick
    the stream resumed only at TCP's backed-off retransmission (measured 94-235 ms after the rate came back
    for 0.5-1.0 s stalls; for this 0.7 s stall the timer fires 0.7 s after the stall ended). With it, the
    first bytes arrive within a millisecond; the bound leaves room for a loaded host."""
    import time

    size, mbps, stall_s = 3_000_000, 20.0, 0.7
    with _shaped_link_with_receiver(_CHUNK_TIMES, size, mbps) as (link, shaper, receiver, env):
        sender = subprocess.Popen([sys.executable, "-c", _SENDER, link.mobile_ns, link.cloud_ip, str(size)],
                                  stdout=subprocess.PIPE, text=True, env=env)
        assert sender.stdout is not None
        start = float(sender.stdout.readline())
        time.sleep(max(0.0, start + 0.4 - time.monotonic()))
        shaper.set_rate(0.0)
        time.sleep(stall_s)
        shaper.set_rate(mbps)
        back = time.monotonic()
        got, times = json.loads(receiver.stdout.readline())
        sender.wait(timeout=30)
        drops = shaper.drops()
        gso_max_segs = _gso_max_segs(link.mobile_ns, link.mobile_if)
    assert got == size
    resumed_ms = (min(t for t in times if t > back) - back) * 1e3
    assert resumed_ms < 100.0, f"first bytes {resumed_ms:.0f} ms after the rate came back"
    assert drops == 0  # the stall rate's bucket holds a full frame (2 and 5 drops at the old 125 B/s)
    assert gso_max_segs == 1  # one frame per packet: none larger than a bucket gets stuck
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) > 0.5 * stall_s  # the stall did hold the link
    assert _ours() == []


VALIDATION_REQUESTS = 10  # per schedule: the CI validation's sample (5 s of arrivals at 2 fps)
COMPUTES = {"mobile-only": 1, "cloud-only": 1, "otas": 2, "janus": 2, "mercury": 2}  # on a request's path


@pytest.fixture(scope="module")
def validation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from simulator.cli.app import main

    tmp = tmp_path_factory.mktemp("validate")
    out = tmp / "out"
    main(["validate", str(small_scenario(tmp, VALIDATION_REQUESTS)), "-o", str(out), "-q", "--fresh"])
    return out


@needs_root
def test_short_emulation_gives_simulator_records_for_all_five_schedules(validation: Path) -> None:
    emulated = pd.read_parquet(validation / "emulated/records.parquet")
    simulated = pd.read_parquet(validation / "simulated/records.parquet")
    at = COLUMNS.index("accuracy") + 1  # the run's column of interpolated top-1 follows the accuracy
    assert list(emulated.columns) == [*COLUMNS[:at], "accuracy_interpolated", *COLUMNS[at:], "source"]
    assert set(emulated.source) == {"emulated"}
    static = ["mobile-only", "cloud-only", "otas", "mercury"]  # one Plan each: the same top-1 on both sides
    assert (emulated[emulated.schedule.isin(static)].groupby("schedule", observed=True).accuracy_interpolated.all()
            == simulated[simulated.schedule.isin(static)].groupby("schedule", observed=True)
            .accuracy_interpolated.all()).all()
    assert list(emulated.schedule.cat.categories) == ["mobile-only", "cloud-only", "otas", "janus", "mercury"]
    assert (emulated.status == "ok").all() and len(emulated) == 5 * VALIDATION_REQUESTS
    # the testbed uploads exactly the bytes the simulator prices (tokens, ToMe sizes; none for mobile-only)
    assert emulated.groupby("schedule", observed=True).uplink_bytes.first().to_dict() == \
        simulated.groupby("schedule", observed=True).uplink_bytes.first().to_dict()
    assert (emulated[emulated.schedule == "mobile-only"].uplink_ms == 0).all()
    assert (emulated[emulated.schedule != "mobile-only"].uplink_ms > 0).all()
    assert (validation / "emulated/report.html").is_file() and (validation / "validation.html").is_file()
    speed = pd.read_csv(validation / "host-speed.csv")
    assert len(speed) == 2 * 5  # both cores, each schedule, timed before and after it
    assert speed.before_ms.between(5.0, 500.0).all() and speed.after_ms.between(5.0, 500.0).all()
    assert _ours() == []


@needs_root
def test_validation_on_the_constant_link_within_a_noisy_host_bound(validation: Path) -> None:
    """Bound for a noisy 2-core host. The workers and the fresh profile run at real-time priority, so the
    neighbours no longer stretch compute 2-2.5x (README); the benchmark's errors on this link are within
    10 %. A short run gets a wider bound: the simulated mean total within 30 % of the measured one plus 5 ms
    per compute on the request's path, since each compute after an idle frame interval pays a cold-cache
    cost that is bimodal on this host (modes 5-10 ms apart, README "Compute after idle"): ten requests
    average it only roughly, and on Janus's 20 ms total that alone moved the error from -15 to +38 % between
    runs. Cloud-only's uplink within 10 %; the computes waited off the CPU for less than a quarter of their
    CPU time. Where the system refuses real-time priority (a container without it) the neighbours can
    stretch compute 2-2.5x again, so there the old bound holds: a factor 3 either way."""
    table = pd.read_csv(validation / "comparison.csv").set_index(["schedule", "metric"])
    facts = json.loads((validation / "emulated/emulation.json").read_text())
    assert facts["workers_realtime"] is _realtime_allowed()
    for schedule, computes in COMPUTES.items():
        row = table.loc[(schedule, "total_ms")]
        simulated, measured = row["simulated_mean"], row["measured_mean"]
        if facts["workers_realtime"]:
            assert abs(simulated - measured) <= 0.30 * measured + 5.0 * computes, \
                f"{schedule}: simulated {simulated:.1f} ms, measured {measured:.1f} ms"
        else:
            assert measured / 3 <= simulated <= 3 * measured, f"{schedule}: {simulated:.1f} vs {measured:.1f} ms"
    assert abs(table.loc[("cloud-only", "uplink_ms"), "error_mean"]) <= 0.10
    for schedule, seen in facts["per_schedule"].items():
        for side in ("mobile", "cloud"):
            if seen[f"{side}_cpu_ms"] is not None and facts["workers_realtime"]:
                assert seen[f"{side}_off_cpu_ms"] < 0.25 * seen[f"{side}_cpu_ms"], (schedule, side, seen)
    assert facts["per_schedule"]["mobile-only"]["cloud_cpu_ms"] is None  # it never reaches the cloud
    # --fresh prices means: the profile of single calls and the after-idle cost as a difference of means
    provenance = yaml.safe_load((validation / "host-profile.yaml").read_text())["provenance"]
    assert provenance["statistic"] == "mean" and "means of interleaved single calls" in provenance["method"]
    assert provenance["after_idle"].startswith("mean thread CPU time")
    assert "24 interleaved pairs" in provenance["after_idle"]


@needs_root
def test_forced_failure_mid_run_leaves_no_namespace_and_no_process(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.config.scenario import load_scenario
    from simulator.emulation import testbed

    started: list[int] = []
    original = testbed.Worker.__init__

    def recording(self: testbed.Worker, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        started.append(self.process.pid)

    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("forced failure after the first schedule")

    monkeypatch.setattr(testbed.Worker, "__init__", recording)
    monkeypatch.setattr(testbed, "records_frame", failing)
    with pytest.raises(RuntimeError, match="forced failure"):
        testbed.emulate_scenario(load_scenario(small_scenario(tmp_path, 2)))
    assert len(started) == 2 and _workers_alive(started) == []
    assert _ours() == []


@needs_root
def test_sigterm_mid_run_cleans_up_as_ctrl_c_does(tmp_path: Path) -> None:
    """``kill`` (SIGTERM) of a running emulate: exit 143 (128 + SIGTERM, as a sweep) after removing the
    namespaces and the workers, saying so in one line."""
    import signal
    import time

    from pyroute2 import netns

    command = [sys.executable, "-m", "simulator", "emulate", str(small_scenario(tmp_path, 20)), "-o",
               str(tmp_path / "out"), "-q"]
    run = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"})
    prefix = f"msim-{run.pid}-"
    deadline, workers = time.monotonic() + 120, []
    while time.monotonic() < deadline and not workers:  # until its workers are up
        time.sleep(0.5)
        workers = [pid for pid in _workers_alive([int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()])
                   if prefix in _cmdline(pid)]
    assert workers and any(n.startswith(prefix) for n in netns.listnetns())
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 143, err
    assert err.strip().splitlines()[-1] == "interrupted: the testbed (namespaces, qdiscs, workers) was removed", err
    assert not [n for n in netns.listnetns() if n.startswith(prefix)]
    assert _workers_alive(workers) == []
    assert not (tmp_path / "out").exists()


@needs_root
def test_two_devices_each_get_their_own_process_and_records(tmp_path: Path) -> None:
    from simulator.config.scenario import load_scenario
    from simulator.emulation.testbed import emulate_scenario

    data = yaml.safe_load(small_scenario(tmp_path, 2).read_text())
    data["workload"]["devices"] = 2
    data["schedules"] = [{"kind": "cloud-only", "image_bytes": 100_000}, {"kind": "mercury", "split_after": 3,
                                                                         "reduction": 0.5}]
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(data))
    result = emulate_scenario(load_scenario(path))
    records = result.run.records
    # each device's socket holds at most its share of the queue (the kernel reports the doubled value)
    assert result.facts["send_buffer_bytes"] == 1_000_000
    assert result.facts["send_buffer_effective"] == [2_000_000, 2_000_000]
    assert sorted(records.groupby(["schedule", "device"], observed=True).size().items()) == [
        (("cloud-only", 0), 2), (("cloud-only", 1), 2), (("mercury", 0), 2), (("mercury", 1), 2)]
    assert (records.status == "ok").all()
    assert _ours() == []
