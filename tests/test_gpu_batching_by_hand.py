"""The GPU pool's dynamic batching, end to end, with every expected number worked out by hand.

The definition (simulator/model/cloud.py): a GPU that falls idle takes the oldest waiting job, then, while its batch
is not full (``max_batch``), takes any job already waiting and otherwise waits for one until
``batch_timeout_ms`` has passed since it took the first (``batch_window: first-job``, the default) or since the
first reached the pool (``oldest-request``); one GPU gathers at a time while the others serve their batches.
A batch takes its longest member's batch-1 time times the profile's batch factor for its size (interpolated
between the profile's sizes, extrapolated along the last segment beyond them, and k for a batch of k without
batch data). A request's ``cloud_queue_ms`` runs from
its job reaching the pool to its batch's start (gathering included); ``cloud_ms`` is its batch's time.

The runs: one cloud-only job per device, 1 Mbit over a constant-rate sample of the trace (each device starts
at the sample of its rate, so its job reaches the pool at 1000 / rate ms), no RTT, nothing to return, on the lab's cloud
profile (tests/conftest.py): 0.5 + 12 x 1 + 0.25 = 12.75 ms for one request; a batch of 2 costs 1.5x, of 4 2x,
so of 3 1.75x (interpolated).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _graph_runs import run_graph
from conftest import write_profile, write_scenario, write_trace

from simulator.config.scenario import load_scenario
from simulator.model.runner import run
from simulator.plans.graph import CLOUD, DEVICE, Chain, Compute, Fork, Transfer
from simulator.plans.plan import Stage

ONE = 12.75  # ms: one request alone on the lab's cloud profile
MBIT = 125_000  # bytes


def _jobs(lab: Path, rates: list[float], **cloud: Any) -> pd.DataFrame:
    """One job per device, device d's reaching the pool at 1000 / rates[d] ms; records in device order.

    Devices of equal rate start at the same trace sample, so their jobs arrive in the very same instant (the
    same float), not a rounding error apart."""
    samples = list(dict.fromkeys(rates))
    write_trace(lab / "trace.csv", list(range(len(samples))), samples)
    scenario = write_scenario(
        lab / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
        schedules=[{"kind": "cloud-only", "image_bytes": MBIT}],
        network={"trace": "trace.csv", "start_offset_s": [float(samples.index(r)) for r in rates]},
        workload={"arrival": "back-to-back", "n_requests": 1, "devices": len(rates), "seed": 1},
        cloud=cloud)
    records, _ = run(load_scenario(scenario))
    records = records.sort_values("device").reset_index(drop=True)
    assert records.status.tolist() == ["ok"] * len(rates)
    assert records.uplink_ms.tolist() == pytest.approx([1000 / r for r in rates])  # the arrivals as designed
    return records


def _check(records: pd.DataFrame, queue: list[float], cloud: list[float], total: list[float]) -> None:
    assert records.cloud_queue_ms.tolist() == pytest.approx(queue)
    assert records.cloud_ms.tolist() == pytest.approx(cloud)
    assert records.total_ms.tolist() == pytest.approx(total)


def test_a_batch_closes_when_full_or_when_its_window_ends(lab: Path) -> None:
    """One GPU, batches of up to 3, a 100 ms window; jobs at 50, 100, 125, 200, 250 and 312.5 ms.

    A (50) opens a batch; B (100) and C (125) fill it, so it starts at 125 without waiting for the window's end
    (150): 1.75 x 12.75 = 22.3125 ms, to 147.3125. D (200) opens the next, E (250) joins, the window ends at
    300 unfilled: 1.5 x 12.75 = 19.125 ms, to 319.125. F (312.5) finds the GPU busy; the GPU takes it at
    319.125 and gathers until 419.125 (the window starts when the GPU takes the job), then runs it alone
    (factor 1): 12.75 ms, to 431.875.
    """
    records = _jobs(lab, [20, 10, 8, 5, 4, 3.2], gpus=1, max_batch=3, batch_timeout_ms=100)
    _check(records,
           queue=[75.0, 25.0, 0.0, 100.0, 50.0, 106.625],
           cloud=[22.3125] * 3 + [19.125] * 2 + [ONE],
           total=[147.3125] * 3 + [319.125] * 2 + [431.875])


@pytest.mark.parametrize(("timeout_ms", "queue", "cloud", "total"), [
    # the window (50 + 106.5 = 156.5) is still open when B comes at 156.25: B fills the batch, both start then
    (106.5, [106.25, 0.0], [19.125, 19.125], [175.375, 175.375]),
    # it closed at 156: A runs alone 156-168.75; B waits for it, then gathers alone until 274.75
    (106.0, [106.0, 118.5], [ONE, ONE], [168.75, 287.5]),
])
def test_a_job_a_quarter_millisecond_inside_or_outside_the_window(lab: Path, timeout_ms: float, queue: list[float],
                                                                  cloud: list[float], total: list[float]) -> None:
    """A reaches the idle GPU at 50 ms, B at 156.25 ms; batches of up to 2."""
    records = _jobs(lab, [20, 6.4], gpus=1, max_batch=2, batch_timeout_ms=timeout_ms)
    _check(records, queue, cloud, total)


def test_a_backlog_forms_full_batches_at_once_and_the_rest_gathers(lab: Path) -> None:
    """Five jobs at 100 ms, one GPU, batches of 2, a 100 ms window: two full batches back to back (100-119.125,
    119.125-138.25, no gathering since they are full at once), then the fifth alone after a whole window
    (238.25-251)."""
    records = _jobs(lab, [10] * 5, gpus=1, max_batch=2, batch_timeout_ms=100)
    assert sorted(records.cloud_queue_ms) == pytest.approx([0.0, 0.0, 19.125, 19.125, 138.25])
    assert sorted(records.cloud_ms) == pytest.approx([ONE] + [19.125] * 4)
    assert sorted(records.total_ms) == pytest.approx([119.125, 119.125, 138.25, 138.25, 251.0])


@pytest.mark.parametrize(("gpus", "queue", "total"), [
    (2, [0.0] * 4, [119.125] * 4),  # two full batches side by side
    (1, [0.0, 0.0, 19.125, 19.125], [119.125, 119.125, 138.25, 138.25]),  # the second waits for the first
])
def test_simultaneous_full_batches_on_two_gpus_run_side_by_side(lab: Path, gpus: int, queue: list[float],
                                                                total: list[float]) -> None:
    """Four jobs at 100 ms, batches of 2 (19.125 ms), a 100 ms window that full batches never wait for."""
    records = _jobs(lab, [10] * 4, gpus=gpus, max_batch=2, batch_timeout_ms=100)
    assert sorted(records.cloud_queue_ms) == pytest.approx(queue)
    assert records.cloud_ms.tolist() == pytest.approx([19.125] * 4)
    assert sorted(records.total_ms) == pytest.approx(total)


def test_two_jobs_together_on_two_gpus_form_one_batch(lab: Path) -> None:
    """Two jobs at 100 ms, batches of 2, a 100 ms window: one GPU gathers at a time, so with two GPUs the pair
    still forms one full batch at once (100-119.125), as with one GPU; were each idle GPU to gather its own,
    each job would wait out the whole window alone (200-212.75)."""
    for gpus in (1, 2):
        records = _jobs(lab, [10, 10], gpus=gpus, max_batch=2, batch_timeout_ms=100)
        _check(records, queue=[0.0, 0.0], cloud=[19.125] * 2, total=[119.125] * 2)


def test_two_gpus_take_turns_to_gather(lab: Path) -> None:
    """Two GPUs, batches of 2, a 100 ms window; jobs at 50, 62.5, 80, 100, 156.25 and 250 ms.

    GPU 1 gathers A (50) and B (62.5): 62.5-81.625. GPU 2 gathers next: C (80), while GPU 1 is still busy, and D
    (100): 100-119.125. GPU 1 (idle since 81.625) gathers next: E (156.25) and F (250), within E's window
    (until 256.25): 250-269.125.
    """
    records = _jobs(lab, [20, 16, 12.5, 10, 6.4, 4], gpus=2, max_batch=2, batch_timeout_ms=100)
    _check(records,
           queue=[12.5, 0.0, 20.0, 0.0, 93.75, 0.0],
           cloud=[19.125] * 6,
           total=[81.625, 81.625, 119.125, 119.125, 269.125, 269.125])


def test_three_gpus_serve_three_batches_at_once(lab: Path) -> None:
    """Three GPUs, batches of 2, a 100 ms window, a slow cloud (12 blocks x 10 ms: 120 ms alone, 180 ms for 2);
    jobs at 50, 62.5, 100, 125, 156.25, 200 and 250 ms.

    GPU 1 gathers A and B: 62.5-242.5; GPU 2 then C and D: 125-305; GPU 3 then E and F: 200-380, all three
    busy from 200 to 242.5. G (250) finds GPU 1 idle again (since 242.5) and gathers alone: 350-470.
    """
    write_profile(lab / "cloud.yaml", block_ms=10.0, batch={"sizes": [1, 2, 4], "factor": [1.0, 1.5, 2.0]})
    records = _jobs(lab, [20, 16, 10, 8, 6.4, 5, 4], gpus=3, max_batch=2, batch_timeout_ms=100)
    _check(records,
           queue=[12.5, 0.0, 25.0, 0.0, 43.75, 0.0, 100.0],
           cloud=[180.0] * 6 + [120.0],
           total=[242.5, 242.5, 305.0, 305.0, 380.0, 380.0, 470.0])


@pytest.mark.parametrize(("jobs", "factor"), [
    (2, 1.6),  # a measured size
    (3, 2.2),  # beyond the last size: 1.6 + (1.6 - 1.0) / (2 - 1) x (3 - 2)
    (4, 2.8),  # 1.6 + 0.6 x 2
])
def test_a_batch_beyond_the_profiles_sizes_extrapolates_the_last_segment(lab: Path, jobs: int, factor: float) -> None:
    """A cloud profile measured at batches 1 and 2 only (1.0, 1.6). Same-instant jobs join one batch even with
    a 0 ms window: the GPU takes every job already waiting before it starts."""
    write_profile(lab / "cloud.yaml", block_ms=1.0, embed_ms=0.5, head_ms=0.25,
                  batch={"sizes": [1, 2], "factor": [1.0, 1.6]})
    records = _jobs(lab, [10] * jobs, gpus=1, max_batch=jobs, batch_timeout_ms=0)
    _check(records, queue=[0.0] * jobs, cloud=[factor * ONE] * jobs, total=[100 + factor * ONE] * jobs)


def test_a_profile_without_batch_data_assumes_no_gain(lab: Path) -> None:
    """No ``batch`` section: a batch of 2 takes twice one request (25.5 ms), both members finishing together."""
    write_profile(lab / "cloud.yaml", block_ms=1.0, embed_ms=0.5, head_ms=0.25)
    records = _jobs(lab, [10, 10], gpus=1, max_batch=2, batch_timeout_ms=50)
    _check(records, queue=[0.0, 0.0], cloud=[2 * ONE] * 2, total=[100 + 2 * ONE] * 2)


def test_a_batch_of_different_stages_takes_its_longest_member(lab: Path) -> None:
    """The pool batches whatever waits together, whatever its stages: a fork of three cloud computes of
    3.5 ms (embed + 3 blocks), 12.75 ms (the whole model) and 6.75 ms (embed +
    6 blocks + head) after a 1 ms upload forms one batch of 3, priced 1.75 x the longest, 12.75: 22.3125 ms
    each, the shortest first in the queue."""
    n = 198
    embed, block, head = Stage("embed", n, n), Stage("block", n, n), Stage("head", n, n)
    short = Compute(CLOUD, (embed, *[block] * 3), label="short")
    whole = Compute(CLOUD, (embed, *[block] * 12, head), label="whole")
    middle = Compute(CLOUD, (embed, *[block] * 6, head), label="middle")
    graph = Chain((Transfer(DEVICE, CLOUD, 1250), Fork((short, whole, middle))))
    result = run_graph(lab, graph, cloud={"gpus": 1, "max_batch": 3, "batch_timeout_ms": 5},
                       workload={"arrival": "back-to-back", "n_requests": 1, "seed": 1})
    _check(result.records, queue=[0.0], cloud=[22.3125], total=[1.0 + 22.3125])
    assert result.stages is not None
    computes = result.stages[result.stages.kind == "compute"].set_index("name")
    assert computes.loc[["short", "whole", "middle"], "service_ms"].tolist() == pytest.approx([22.3125] * 3)
    assert computes.queue_ms.tolist() == pytest.approx([0.0] * 3)


def test_a_server_tier_batches_with_its_own_profile_and_pool(lab: Path) -> None:
    """A near-edge server (its profile: 1 + 12 x 2 + 1 = 26 ms alone, a batch of 2 1.25x) with batches of 2:
    two devices' 1250 B uploads at 10 Mbit/s reach it together at 1 ms and run as one batch, 32.5 ms
    (not the cloud profile's 1.5x, nor 26 ms each one after the other)."""
    write_profile(lab / "edge.yaml", block_ms=2.0, embed_ms=1.0, head_ms=1.0,
                  batch={"sizes": [1, 2], "factor": [1.0, 1.25]})
    servers = {"near-edge": {"profile": "edge.yaml", "gpus": 1, "max_batch": 2, "batch_timeout_ms": 50,
                             "link": {"mbps": 10}}}
    n = 198
    stages = (Stage("embed", n, n), *[Stage("block", n, n)] * 12, Stage("head", n, n))
    graph = Chain((Transfer(DEVICE, "near-edge", 1250), Compute("near-edge", stages)))
    result = run_graph(lab, graph, servers=servers,
                       workload={"arrival": "back-to-back", "n_requests": 1, "devices": 2, "seed": 1})
    _check(result.records.sort_values("device"), queue=[0.0, 0.0], cloud=[32.5, 32.5], total=[33.5, 33.5])


# The oldest-request window (``batch_window: oldest-request``, Triton's max_queue_delay_microseconds): the GPU
# gathers until ``batch_timeout_ms`` after its first job REACHED THE POOL, not after the GPU took it; a job that
# waited that long while the GPU was busy leaves at once with whatever waits beside it. A 10 ms window, shorter
# than one request (12.75 ms), lets a job's window pass while a batch runs.

@pytest.mark.parametrize(("window", "queue", "cloud", "total"), [
    # A (50) gathers alone until 60 and runs 60-72.75 under either rule. B (62.5) and C (64) wait meanwhile.
    # oldest-request: at 72.75 B's window (to 72.5) has passed: B leaves at once with C, 72.75-91.875; D (80)
    # waits for that batch, and its window (to 90) has passed too: D runs alone at once, 91.875-104.625.
    ("oldest-request", [10.0, 10.25, 8.75, 11.875], [ONE, 19.125, 19.125, ONE], [72.75, 91.875, 91.875, 104.625]),
    # first-job: at 72.75 the GPU takes B and C and gathers until 82.75; D (80) fills the batch of 3: 80-102.3125
    ("first-job", [10.0, 17.5, 16.0, 0.0], [ONE, 22.3125, 22.3125, 22.3125], [72.75, 102.3125, 102.3125, 102.3125]),
])
def test_an_oldest_request_window_counts_the_wait_behind_a_busy_gpu(lab: Path, window: str, queue: list[float],
                                                                   cloud: list[float], total: list[float]) -> None:
    """One GPU, batches of up to 3, a 10 ms window; jobs A, B, C, D at 50, 62.5, 64 and 80 ms."""
    records = _jobs(lab, [20, 16, 15.625, 12.5], gpus=1, max_batch=3, batch_timeout_ms=10, batch_window=window)
    _check(records, queue, cloud, total)


@pytest.mark.parametrize(("window", "queue", "total"), [
    # oldest-request: GPU 1 takes E at 69.125, after E's window (to 69) has passed: E runs alone at once,
    # 69.125-81.875
    ("oldest-request", [0.0, 0.0, 0.0, 0.0, 5.125, 3.5, 1.625],
     [69.125, 69.125, 81.625, 81.625, 81.875, 100.75, 100.75]),
    # first-job: GPU 1 takes E at 69.125 and gathers until 74.125 for nothing: 74.125-86.875
    ("first-job", [0.0, 0.0, 0.0, 0.0, 10.125, 3.5, 1.625],
     [69.125, 69.125, 81.625, 81.625, 86.875, 100.75, 100.75]),
])
def test_two_gpus_with_an_oldest_request_window(lab: Path, window: str, queue: list[float],
                                                total: list[float]) -> None:
    """Two GPUs, batches of 2, a 5 ms window; A, B at 50 ms, C, D at 62.5, E at 64, F at 78.125, G at 80.

    A and B fill a batch at once on GPU 1 (50-69.125), C and D on GPU 2 (62.5-81.625); E arrives with both
    busy. F and G arrive with both busy too, and GPU 2, free first (81.625), takes both: a full batch,
    81.625-100.75, under either rule.
    """
    records = _jobs(lab, [20, 20, 16, 16, 15.625, 12.8, 12.5], gpus=2, max_batch=2, batch_timeout_ms=5,
                    batch_window=window)
    _check(records, queue, cloud=[19.125] * 4 + [ONE] + [19.125] * 2, total=total)


@pytest.mark.parametrize(("window", "queue", "total"), [
    ("oldest-request", [5.0, 21.0], [32.0, 48.0]),  # R1's window (to 16) passed while R0 ran: 32-58
    ("first-job", [5.0, 26.0], [32.0, 53.0]),  # the server takes R1 at 32 and gathers until 37: 37-63
])
def test_a_server_tier_takes_its_own_batch_window(lab: Path, window: str, queue: list[float],
                                                  total: list[float]) -> None:
    """A near-edge server (26 ms alone) with batches of 2 and a 5 ms window; one device sends a request every
    10 ms, each 1250 B at 10 Mbit/s (1 ms): R0 reaches it at 1 ms, gathers alone until 6 and runs 6-32; R1
    reaches it at 11 ms and waits for R0."""
    write_profile(lab / "edge.yaml", block_ms=2.0, embed_ms=1.0, head_ms=1.0,
                  batch={"sizes": [1, 2], "factor": [1.0, 1.25]})
    servers = {"near-edge": {"profile": "edge.yaml", "gpus": 1, "max_batch": 2, "batch_timeout_ms": 5,
                             "batch_window": window, "link": {"mbps": 10}}}
    n = 198
    stages = (Stage("embed", n, n), *[Stage("block", n, n)] * 12, Stage("head", n, n))
    graph = Chain((Transfer(DEVICE, "near-edge", 1250), Compute("near-edge", stages)))
    result = run_graph(lab, graph, servers=servers,
                       workload={"arrival": "periodic", "fps": 100, "n_requests": 2, "seed": 1})
    _check(result.records.sort_values("request_id"), queue, cloud=[26.0, 26.0], total=total)
