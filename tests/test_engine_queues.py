"""Queues by hand: staggered uploads on a shared cell and a dedicated link, cloud batching, energy with waits.

Every expected value is worked out on paper from the model's definition (processor sharing, FIFO links,
gather-then-batch GPUs, energy = compute + radio + idle waiting), never with the engine's own helpers.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_profile, write_scenario, write_trace

from simulator.config.scenario import load_scenario
from simulator.model.runner import run

CLOUD_SINGLE_MS = 0.5 + 12 * 1.0 + 0.25  # embed + 12 blocks + head on the cloud profile below
MBIT = 125_000  # bytes in one megabit


def _run(lab: Path, schedules: list[dict], **overrides: object) -> pd.DataFrame:
    base = dict(mobile_profile="mobile.yaml", cloud_profile="cloud.yaml", schedules=schedules)
    base.update(overrides)  # type: ignore[arg-type]
    records, _ = run(load_scenario(write_scenario(lab / "s.yaml", **base)))
    return records.sort_values(["device", "request_id"]).reset_index(drop=True)


def _two_uploads_50ms_apart(lab: Path, sharing: str, **network: object) -> pd.DataFrame:
    """One camera at 20 fps sending two 1 Mbit images: the second starts while the first is on the air."""
    return _run(lab, [{"kind": "cloud-only", "image_bytes": MBIT}],
                network={"trace": "trace.csv", "sharing": sharing, **network},
                workload={"arrival": "periodic", "fps": 20, "n_requests": 2, "seed": 1})


def test_shared_cell_staggered_uploads_share_only_while_both_are_active(lab: Path) -> None:
    """A alone 0-50 ms (0.5 Mbit), both at 5 Mbit/s until A is done at 150 ms, then B alone until 200 ms."""
    records = _two_uploads_50ms_apart(lab, "shared-cell")
    assert records.uplink_queue_ms.tolist() == pytest.approx([0.0, 0.0])
    assert records.uplink_ms.tolist() == pytest.approx([150.0, 150.0])
    assert records.total_ms.tolist() == pytest.approx([150.0 + CLOUD_SINGLE_MS] * 2)


def test_shared_cell_follows_capacity_changes_from_its_offset(lab: Path) -> None:
    """Offset 0.9 s on 10 | 20 | 10 | 10 Mbit/s: A alone 0.9-0.95 (0.5 Mbit), sharing 10 Mbit/s to 1.0
    (0.25 Mbit each), then 10 Mbit/s each: A's last 0.25 Mbit by 1.025; B's last 0.5 Mbit alone at 20 Mbit/s by 1.05.
    """
    write_trace(lab / "trace.csv", [0, 1, 2, 3], [10, 20, 10, 10])
    records = _two_uploads_50ms_apart(lab, "shared-cell", start_offset_s=0.9)
    assert records.uplink_ms.tolist() == pytest.approx([125.0, 100.0])


def test_shared_cell_three_staggered_uploads(lab: Path) -> None:
    """1 Mbit each at 0, 50 and 100 ms on 10 Mbit/s. A alone to 50 ms (0.5 Mbit); A and B at 5 Mbit/s to 100 ms
    (A 0.75, B 0.25); all three at 10/3 Mbit/s until A's last 0.25 Mbit is done at 175 ms (B 0.5, C 0.25);
    B and C at 5 Mbit/s until B is done at 275 ms (C 0.75); C alone until 300 ms."""
    records = _run(lab, [{"kind": "cloud-only", "image_bytes": MBIT}],
                   network={"trace": "trace.csv", "sharing": "shared-cell"},
                   workload={"arrival": "periodic", "fps": 20, "n_requests": 3, "seed": 1})
    assert records.uplink_ms.tolist() == pytest.approx([175.0, 225.0, 200.0])


def test_shared_cell_tiny_and_empty_uploads() -> None:
    """One byte still takes its 0.8 us on 10 Mbit/s; nothing to send takes no time and never waits."""
    import simpy

    from simulator.model.uplink import SharedCell
    from simulator.traces import Trace

    env = simpy.Environment()
    cell = SharedCell(env, Trace.constant(10.0), 0.0)
    got: dict[int, tuple[float, float]] = {}

    def upload(n_bytes: int):  # noqa: ANN202
        got[n_bytes] = yield from cell.send(n_bytes)

    env.process(upload(1))
    env.process(upload(0))
    env.run()
    assert got[0] == (0.0, 0.0)
    assert got[1][0] == 0.0 and got[1][1] == pytest.approx(8 / 10e6)


def test_dedicated_link_serves_uploads_in_order_and_reports_the_wait(lab: Path) -> None:
    """FIFO: A uses the link 0-100 ms, B (ready at 50 ms) waits 50 ms, then transfers 100-200 ms."""
    records = _two_uploads_50ms_apart(lab, "per-device")
    assert records.uplink_queue_ms.tolist() == pytest.approx([0.0, 50.0])
    assert records.uplink_ms.tolist() == pytest.approx([100.0, 100.0])
    assert records.total_ms.tolist() == pytest.approx([100.0 + CLOUD_SINGLE_MS, 150.0 + CLOUD_SINGLE_MS])


def test_three_jobs_one_gpu_batch_cap_and_gathering_timeout(lab: Path) -> None:
    """1 ms uploads every 2 ms reach the GPU at 1, 3 and 5 ms; max batch 2, gathering window 5 ms.

    Job 1 opens a batch at 1 ms and gathers; job 2 fills it at 3 ms, so the batch starts then (no waiting for
    the timeout) and takes 1.5 x 12.75 ms until 22.125 ms. Job 3 (queued since 5 ms) opens the next batch at
    22.125 ms, nobody joins within 5 ms, so it runs alone from 27.125 ms for 12.75 ms.
    """
    records = _run(lab, [{"kind": "cloud-only", "image_bytes": 1250}],
                   workload={"arrival": "periodic", "fps": 500, "n_requests": 3, "seed": 1},
                   cloud={"gpus": 1, "max_batch": 2, "batch_timeout_ms": 5})
    batched = 1.5 * CLOUD_SINGLE_MS
    third_starts = 3.0 + batched + 5.0  # the first batch ends, then a full gathering window passes
    assert records.arrival_s.tolist() == pytest.approx([0.0, 0.002, 0.004])
    assert records.uplink_ms.tolist() == pytest.approx([1.0] * 3)
    assert records.cloud_queue_ms.tolist() == pytest.approx([3.0 - 1.0, 0.0, third_starts - 5.0])
    assert records.cloud_ms.tolist() == pytest.approx([batched, batched, CLOUD_SINGLE_MS])
    assert records.total_ms.tolist() == pytest.approx([3.0 + batched, 3.0 + batched - 2.0,
                                                       third_starts + CLOUD_SINGLE_MS - 4.0])


def test_same_instant_arrivals_fill_the_batch_at_once(lab: Path) -> None:
    """Three devices' identical uploads reach the GPU together: two start at once (no gathering wait),
    the third waits for that batch, then gathers for the whole 4 ms window alone."""
    records = _run(lab, [{"kind": "cloud-only", "image_bytes": 1250}],
                   workload={"arrival": "back-to-back", "n_requests": 1, "devices": 3, "seed": 1},
                   cloud={"gpus": 1, "max_batch": 2, "batch_timeout_ms": 4})
    batched = 1.5 * CLOUD_SINGLE_MS
    assert sorted(records.cloud_queue_ms.tolist()) == pytest.approx([0.0, 0.0, batched + 4.0])
    assert sorted(records.cloud_ms.tolist()) == pytest.approx([CLOUD_SINGLE_MS, batched, batched])


def test_job_arriving_as_the_gathering_window_closes_joins_the_batch(lab: Path) -> None:
    """Two devices send 1 Mbit at t = 0 from trace offsets 0 (8 Mbit/s: 125 ms) and 1 s (4 Mbit/s: 250 ms).

    The first job opens a batch at 125 ms and gathers for 125 ms; the second arrives at 250 ms, in the very
    instant the window closes. It must join that batch (never be lost): both start at 250 ms, batched.
    """
    write_trace(lab / "trace.csv", [0, 1, 2, 3], [8, 4, 8, 8])
    records = _run(lab, [{"kind": "cloud-only", "image_bytes": MBIT}],
                   network={"trace": "trace.csv", "start_offset_s": [0.0, 1.0]},
                   workload={"arrival": "back-to-back", "n_requests": 1, "devices": 2, "seed": 1},
                   cloud={"gpus": 1, "max_batch": 2, "batch_timeout_ms": 125})
    batched = 1.5 * CLOUD_SINGLE_MS
    assert records.status.tolist() == ["ok", "ok"]
    assert records.uplink_ms.tolist() == pytest.approx([125.0, 250.0])
    assert records.cloud_queue_ms.tolist() == pytest.approx([125.0, 0.0])
    assert records.cloud_ms.tolist() == pytest.approx([batched, batched])


def test_three_same_instant_jobs_form_one_batch_of_three(lab: Path) -> None:
    """With max batch 4, three jobs arriving together all join the first batch (factor 1.75, between 1.5 at two
    and 2.0 at four); the batch is not full, so the GPU gathers for the whole 3 ms window before it starts."""
    records = _run(lab, [{"kind": "cloud-only", "image_bytes": 1250}],
                   workload={"arrival": "back-to-back", "n_requests": 1, "devices": 3, "seed": 1},
                   cloud={"gpus": 1, "max_batch": 4, "batch_timeout_ms": 3})
    assert records.cloud_ms.tolist() == pytest.approx([1.75 * CLOUD_SINGLE_MS] * 3)
    assert records.cloud_queue_ms.tolist() == pytest.approx([3.0] * 3)


def test_batching_without_a_gathering_window_starts_at_once(lab: Path) -> None:
    """max batch 2 and a 0 ms window: a job alone starts the moment it arrives, and the GPU keeps serving."""
    records = _run(lab, [{"kind": "cloud-only", "image_bytes": 1250}],
                   workload={"arrival": "periodic", "fps": 10, "n_requests": 3, "seed": 1},
                   cloud={"gpus": 1, "max_batch": 2, "batch_timeout_ms": 0})
    assert records.status.tolist() == ["ok"] * 3
    assert records.cloud_queue_ms.tolist() == pytest.approx([0.0] * 3)
    assert records.cloud_ms.tolist() == pytest.approx([CLOUD_SINGLE_MS] * 3)


def test_two_gpus_serve_simultaneous_jobs_in_parallel(lab: Path) -> None:
    """Without batching, two GPUs take two same-instant jobs at once; one GPU makes the second wait."""
    kwargs = dict(schedules=[{"kind": "cloud-only", "image_bytes": 1250}],
                  workload={"arrival": "back-to-back", "n_requests": 1, "devices": 2, "seed": 1})
    two = _run(lab, cloud={"gpus": 2, "max_batch": 1}, **kwargs)  # type: ignore[arg-type]
    one = _run(lab, cloud={"gpus": 1, "max_batch": 1}, **kwargs)  # type: ignore[arg-type]
    assert two.cloud_queue_ms.tolist() == pytest.approx([0.0, 0.0])
    assert sorted(one.cloud_queue_ms.tolist()) == pytest.approx([0.0, CLOUD_SINGLE_MS])


def test_energy_charges_compute_radio_and_waiting_with_every_queue_busy(lab: Path) -> None:
    """Mercury split after block 1 at 20 fps on a slow cloud: device, link and GPU queues all fill.

    Per request: 110 ms on the device (embed + block 1), 307,200 B = 245.76 ms at 10 Mbit/s, RTT/2 = 10 ms
    before the cloud, 11 blocks x 30 ms + head 0.25 ms = 330.25 ms on the GPU, RTT/2 back. Energy is
    6 W x compute + 2 W x transfer + 1 W x (link queue + RTT/2 + cloud queue + cloud + return); waiting for
    the device's own CPU is not charged again (that CPU is busy with an earlier frame, charged there).
    """
    write_profile(lab / "cloud.yaml", block_ms=30.0, embed_ms=0.5, head_ms=0.25)
    records = _run(lab, [{"kind": "mercury", "split_after": 1, "reduction": 0.5}],
                   network={"trace": "trace.csv", "rtt_ms": 20.0},
                   workload={"arrival": "periodic", "fps": 20, "n_requests": 3, "seed": 1})
    mobile, transfer, cloud, half_rtt = 110.0, 245.76, 11 * 30.0 + 0.25, 10.0
    # device: 0-110, 110-220, 220-330 for frames arriving at 0, 50, 100 ms
    mobile_queue = [0.0, 60.0, 120.0]
    # link: 110-355.76, 355.76-601.52, 601.52-847.28
    link_start = [110.0, 110.0 + transfer, 110.0 + 2 * transfer]
    link_queue = [link_start[i] - (110.0 * (i + 1)) for i in range(3)]
    # GPU: arrivals 10 ms after each upload ends; each waits for the previous job
    at_gpu = [link_start[i] + transfer + half_rtt for i in range(3)]
    gpu_start = [at_gpu[0], max(at_gpu[1], at_gpu[0] + cloud), 0.0]
    gpu_start[2] = max(at_gpu[2], gpu_start[1] + cloud)
    cloud_queue = [gpu_start[i] - at_gpu[i] for i in range(3)]
    assert records.mobile_queue_ms.tolist() == pytest.approx(mobile_queue)
    assert records.uplink_queue_ms.tolist() == pytest.approx(link_queue)
    assert records.cloud_queue_ms.tolist() == pytest.approx(cloud_queue)
    assert min(link_queue[1:] + cloud_queue[1:]) > 50.0  # every queue really is busy
    waiting = [link_queue[i] + half_rtt + cloud_queue[i] + cloud + half_rtt for i in range(3)]
    expected_j = [(6.0 * mobile + 2.0 * transfer + 1.0 * waiting[i]) / 1e3 for i in range(3)]
    assert records.energy_j.tolist() == pytest.approx(expected_j)
    expected_total = [mobile_queue[i] + mobile + link_queue[i] + transfer + half_rtt + cloud_queue[i] + cloud
                      + half_rtt for i in range(3)]
    assert records.total_ms.tolist() == pytest.approx(expected_total)


def test_periodic_cameras_start_at_a_random_phase_within_one_period(lab: Path) -> None:
    records = _run(lab, [{"kind": "cloud-only", "image_bytes": 1}],
                   workload={"arrival": "periodic", "fps": 2, "duration_s": 2.2, "devices": 8, "seed": 4})
    for _, device in records.groupby("device"):
        times = device.arrival_s.to_numpy()
        assert 0.0 <= times[0] < 0.5 and (times < 2.2).all()
        assert list(times[1:] - times[:-1]) == pytest.approx([0.5] * (len(times) - 1))
        assert len(times) == math.ceil((2.2 - times[0]) / 0.5)  # every frame k >= 0 with phase + k/2 < 2.2 s
    assert records.groupby("device").arrival_s.first().nunique() == 8


def test_poisson_arrivals_have_the_configured_rate(lab: Path) -> None:
    """2000 exponential gaps at 100/s: mean 10 ms (standard error 0.22 ms); duration-bound runs start near 0."""
    counted = _run(lab, [{"kind": "cloud-only", "image_bytes": 1}],
                   workload={"arrival": "poisson", "rate_per_s": 100, "n_requests": 2000, "seed": 3})
    assert len(counted) == 2000
    assert counted.arrival_s.diff().mean() == pytest.approx(0.010, rel=0.07)
    timed = _run(lab, [{"kind": "cloud-only", "image_bytes": 1}],
                 workload={"arrival": "poisson", "rate_per_s": 100, "duration_s": 5.0, "seed": 3})
    assert timed.arrival_s.min() < 0.1 and timed.arrival_s.max() < 5.0
    assert len(timed) == pytest.approx(500, rel=0.15)


def test_random_trace_offsets_cover_the_whole_trace() -> None:
    from simulator.model.engine import start_offsets

    offsets = start_offsets(7, 50, 1000.0)
    assert min(offsets) >= 0.0 and max(offsets) < 1000.0 and max(offsets) > 500.0
    assert start_offsets(7, 50, 1000.0) == offsets != start_offsets(8, 50, 1000.0)


def test_back_to_back_stops_when_the_duration_is_reached(lab: Path) -> None:
    """Each frame takes exactly 1 s on the device (20 + 12 x 80 + 20 ms): frames start at 0 and 1 s; at 2 s the
    duration is over, so no third frame starts."""
    write_profile(lab / "mobile.yaml", block_ms=80.0, embed_ms=20.0, head_ms=20.0)
    records = _run(lab, [{"kind": "mobile-only"}], workload={"arrival": "back-to-back", "duration_s": 2.0, "seed": 1})
    assert records.request_id.tolist() == [0, 1] and records.arrival_s.tolist() == [0.0, 1.0]


def test_protocol_overhead_travels_with_every_upload(lab: Path) -> None:
    records = _run(lab, [{"kind": "cloud-only", "image_bytes": MBIT}],
                   network={"trace": "trace.csv", "overhead_bytes": MBIT},
                   workload={"arrival": "periodic", "fps": 1, "n_requests": 2, "seed": 1})
    assert records.uplink_bytes.tolist() == [2 * MBIT] * 2
    assert records.uplink_ms.tolist() == pytest.approx([200.0] * 2)


def test_progress_rises_to_one(lab: Path) -> None:
    """The DES reports progress as requests complete (the fast path, all at once, only reports the end)."""
    from simulator.model.runner import run as run_scenario

    seen: list[tuple[str, float]] = []
    sc = load_scenario(write_scenario(lab / "p.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                                      engine="des",
                                      schedules=[{"kind": "cloud-only", "label": "c", "image_bytes": 1}],
                                      workload={"arrival": "periodic", "fps": 10, "n_requests": 400, "seed": 1}))
    run_scenario(sc, progress=lambda label, f: seen.append((label, f)))
    fractions = [f for _, f in seen]
    assert {label for label, _ in seen} == {"c"} and len(fractions) > 100
    assert fractions == sorted(fractions) and 0.0 < fractions[0] <= 0.01 and fractions[-1] == 1.0


def test_otas_through_the_runner(lab: Path) -> None:
    """OTAS at split 1 chosen for 88.1 % (r = 15): 183 tokens x 3076 B at 10 Mbit/s."""
    records = _run(lab, [{"kind": "otas", "label": "o", "split_after": 1, "target_accuracy": 88.1}],
                   workload={"arrival": "periodic", "fps": 0.5, "n_requests": 1, "seed": 1})
    assert records.schedule.tolist() == ["o"] and records.parameter.tolist() == [15.0]
    assert records.uplink_ms.tolist() == pytest.approx([183 * 3076 * 8 / 10e6 * 1e3])
