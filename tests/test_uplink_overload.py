"""A run warns when a schedule's upload at the trace's mean takes longer than the time between requests.

Times are worked out by hand: payload bytes * 8 / (mean Mbit/s * 10^6) against 1/fps, 1/rate, the deadline
(closed workloads) or, in a shared cell, the interval divided by the devices.
"""

from __future__ import annotations

import math
from pathlib import Path

from conftest import write_scenario, write_trace

from simulator.config.scenario import load_scenario, scenario_from_dict
from simulator.errors import RunWarning
from simulator.files.validation import load_yaml_mapping
from simulator.model.runner import run_scenario
from simulator.model.uplink_load import uplink_bytes
from simulator.plans.graph import CLOUD, DEVICE, Branch, Chain, Compute, Transfer
from simulator.plans.plan import Plan

REPO = Path(__file__).resolve().parents[1]
SCHEDULES = [{"kind": "mobile-only"}, {"kind": "cloud-only", "image_bytes": 2_200_000}]


def overloaded(warnings: list[RunWarning]) -> list[str]:
    return [w.message for w in warnings if w.code == "trace_too_slow"]


def run_lab(lab: Path, **overrides: object) -> list[str]:
    base = dict(mobile_profile="mobile.yaml", cloud_profile="cloud.yaml", schedules=SCHEDULES)
    base.update(overrides)  # type: ignore[arg-type]
    return overloaded(run_scenario(load_scenario(write_scenario(lab / "s.yaml", **base))).warnings)


def test_a_trace_far_too_slow_for_the_frame_rate_warns(lab: Path) -> None:
    write_trace(lab / "slow.csv", [0, 1], [0.05, 0.05])
    warnings = run_lab(lab, network={"trace": "slow.csv"},
                       workload={"arrival": "periodic", "fps": 10, "duration_s": 0.5, "seed": 1})
    # 2,200,000 bytes = 17.6 Mbit; at 0.05 Mbit/s: 352 s; a frame every 0.1 s; mobile-only sends nothing
    assert warnings == ["uplink overloaded: cloud-only uploads 2,200,000 bytes per request, 352 s at slow's mean "
                        "of 0.05 Mbit/s, but a request comes every 0.1 s (10 fps)"]


def test_the_default_scenario_does_not_warn() -> None:
    path = REPO / "scenarios" / "default.yaml"
    data = load_yaml_mapping(path)
    data["workload"]["duration_s"] = 5  # the check does not depend on the run's length
    result = run_scenario(scenario_from_dict(data, path))
    assert overloaded(result.warnings) == []  # cloud-only: 17.6 Mbit at lte-all's 37.5 Mbit/s = 0.47 s < 1 s


def test_poisson_rate_and_mean_mode(lab: Path) -> None:
    # 17.6 Mbit at the given 10 Mbit/s = 1.76 s, a request every 1/0.8 = 1.25 s
    warnings = run_lab(lab, network={"trace": "trace.csv", "mode": "mean", "mean_mbps": 10},
                       workload={"arrival": "poisson", "rate_per_s": 0.8, "n_requests": 2, "seed": 1})
    assert warnings == ["uplink overloaded: cloud-only uploads 2,200,000 bytes per request, 1.76 s at "
                        "network.mean_mbps of 10 Mbit/s, but a request comes every 1.25 s (0.8 requests/s)"]
    assert run_lab(lab, workload={"arrival": "poisson", "rate_per_s": 0.5, "n_requests": 2, "seed": 1}) == []


def test_a_closed_workload_compares_with_the_deadline_or_not_at_all(lab: Path) -> None:
    closed = {"arrival": "back-to-back", "n_requests": 2, "seed": 1}
    # 17.6 Mbit at the lab trace's 10 Mbit/s: 1.76 s, over a 1.5 s deadline
    assert run_lab(lab, workload={**closed, "deadline_ms": 1500}) == [
        "uplink overloaded: cloud-only uploads 2,200,000 bytes per request, 1.76 s at trace's mean of 10 Mbit/s, "
        "but a request comes every 1.5 s (the 1500 ms deadline)"]
    assert run_lab(lab, workload={**closed, "deadline_ms": 2000}) == []
    assert run_lab(lab, workload=closed) == []  # no rate, no deadline: nothing to compare with


def test_a_shared_cell_carries_every_devices_uploads(lab: Path) -> None:
    write_trace(lab / "cell.csv", [0, 1], [20, 20])
    workload = {"arrival": "periodic", "fps": 1, "n_requests": 1, "devices": 4, "seed": 1}
    # 17.6 Mbit at 20 Mbit/s = 0.88 s: within one device's 1 s, not within the cell's 1 s / 4 devices
    assert run_lab(lab, network={"trace": "cell.csv", "sharing": "per-device"}, workload=workload) == []
    assert run_lab(lab, network={"trace": "cell.csv", "sharing": "shared-cell"}, workload=workload) == [
        "uplink overloaded: cloud-only uploads 2,200,000 bytes per request, 0.88 s at cell's mean of 20 Mbit/s, "
        "but a request comes every 0.25 s (1 fps from each of 4 devices in one cell)"]


def test_a_stage_graph_counts_its_expected_device_to_cloud_bytes() -> None:
    graph = Chain((Compute(DEVICE, ()), Transfer(DEVICE, CLOUD, 1000),
                   Branch(0.25, Transfer(DEVICE, CLOUD, 4000), Chain(())), Transfer(DEVICE, "edge", 999),
                   Transfer(CLOUD, DEVICE, 777)))
    # 1000 always, 4000 a quarter of the time; the edge link and the way back are other links
    assert uplink_bytes(Plan(0, 0.0, (), 0, (), math.nan, graph=graph)) == 2000.0
    assert uplink_bytes(Plan(3, 0.5, (), 307_200, (), 89.9)) == 307_200.0
