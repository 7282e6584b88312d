"""Stage graphs (simulator/plans/graph.py) on the engine, with expected values computed by hand.

The lab (tests/conftest.py): device embed 10 ms, 100 ms per block, head 5 ms; cloud 0.5 + 1 ms per
block + 0.25 ms; DeiT-B (12 blocks, 198 tokens).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _graph_runs import run_graph as _run

from simulator.errors import InputError
from simulator.inputs.vit import get_model
from simulator.plans.graph import CLOUD, DEVICE, Branch, Chain, Compute, Fork, Transfer
from simulator.plans.plan import PlanContext, Stage, chain_of
from simulator.schedules.base import full_model_stages

SPEC = get_model("deit_base_distilled_patch16_224")
N = SPEC.num_tokens


TWO_SERVERS = {"a": {"profile": "cloud.yaml", "link": {"mbps": 8}},
               "b": {"profile": "cloud.yaml", "link": {"mbps": 2, "rtt_ms": 10}}}


def test_fork_of_two_transfers_ends_at_the_slower_link(lab: Path) -> None:
    # 100 kB = 0.8 Mbit: 100 ms at 8 Mbit/s on a; 400 ms at 2 Mbit/s plus 5 ms (RTT/2) on b.
    graph = Fork((Transfer(DEVICE, "a", 100_000), Transfer(DEVICE, "b", 100_000)))
    result = _run(lab, graph, servers=TWO_SERVERS)
    rec = result.records
    assert np.allclose(rec.total_ms, 405.0, rtol=0, atol=1e-9)
    assert np.allclose(rec.uplink_ms, 405.0, rtol=0, atol=1e-9)  # the slower branch's sums
    assert (rec.uplink_bytes == 200_000).all()  # both shards were sent
    assert result.engines == {"g": "des"}
    stages = result.stages
    assert stages is not None and len(stages) == 2 * len(rec)
    first = stages[stages.request_id == 0].set_index("where")
    assert first.loc["device->a", "service_ms"] == pytest.approx(100.0)
    assert first.loc["device->b", "service_ms"] == pytest.approx(405.0)


def test_fork_join_waits_for_compute_after_the_faster_transfer(lab: Path) -> None:
    # Branch a: 100 ms upload then 12 blocks on a (0.5 + 12 + 0.25 = 12.75 ms): 112.75 ms. Branch b: 405 ms.
    # Then the head on the device (5 ms): 410 ms.
    graph = Chain((Fork((Chain((Transfer(DEVICE, "a", 100_000), Compute("a", full_model_stages(SPEC)))),
                         Transfer(DEVICE, "b", 100_000))),
                   Compute(DEVICE, (Stage("head", N, N),))))
    rec = _run(lab, graph, servers=TWO_SERVERS).records
    assert np.allclose(rec.total_ms, 410.0, rtol=0, atol=1e-9)
    assert np.allclose(rec.mobile_ms, 5.0, rtol=0, atol=1e-9)
    assert (rec.cloud_ms == 0).all()  # the deciding branch (b) computed nothing on a server


def test_server_to_server_link_and_downlink(lab: Path) -> None:
    # 50 kB to a (50 ms at 8 Mbit/s), a -> cloud over 4 Mbit/s + 20 ms RTT (100 + 10 ms), the cloud's
    # 12.75 ms, 10 kB back to the device over the network's 1 Mbit/s downlink (80 ms): 252.75 ms.
    graph = Chain((Transfer(DEVICE, "a", 50_000), Transfer("a", CLOUD, 50_000),
                   Compute(CLOUD, full_model_stages(SPEC)), Transfer(CLOUD, DEVICE, 10_000)))
    rec = _run(lab, graph, servers=TWO_SERVERS, server_links=[{"between": ["a", "cloud"], "mbps": 4, "rtt_ms": 20}],
               network={"trace": "trace.csv", "mode": "trace", "downlink_mbps": 1}).records
    assert np.allclose(rec.total_ms, 252.75, rtol=0, atol=1e-9)
    assert np.allclose(rec.cloud_ms, 110.0 + 12.75, rtol=0, atol=1e-9)
    assert np.allclose(rec.return_ms, 80.0, rtol=0, atol=1e-9)


def test_missing_server_link_is_one_line_naming_the_schedule(lab: Path) -> None:
    graph = Chain((Transfer(DEVICE, "a", 50_000), Transfer("a", "b", 50_000)))
    with pytest.raises(InputError, match=r"schedules\[0\].*no server_links entry between 'a' and 'b'"):
        _run(lab, graph, servers=TWO_SERVERS)


def test_branch_draws_are_seeded_and_apart_from_arrivals(lab: Path) -> None:
    escalate = Chain((Transfer(DEVICE, "a", 100_000),))
    graph = Branch(0.5, escalate, Chain(()), then_accuracy=90.0, otherwise_accuracy=70.0)
    workload = {"arrival": "periodic", "fps": 1, "n_requests": 400, "seed": 3}
    first = _run(lab, graph, servers=TWO_SERVERS, workload=workload).records
    again = _run(lab, graph, servers=TWO_SERVERS, workload=workload).records
    assert first.equals(again)
    escalated = first.uplink_bytes > 0
    assert 150 < escalated.sum() < 250  # a fair coin over 400 requests
    assert set(first.accuracy[escalated]) == {90.0} and set(first.accuracy[~escalated]) == {70.0}
    assert np.allclose(first.total_ms[escalated], 100.0, rtol=0, atol=1e-9)
    assert (first.arrival_s == [float(k) for k in range(400)]).all()  # arrivals untouched by the draws


@pytest.mark.parametrize("kind", ["mobile-only", "cloud-only"])
@pytest.mark.parametrize("rtt_ms", [0.0, 30.0])
def test_a_two_tier_plan_as_a_graph_gives_the_same_records(lab: Path, kind: str, rtt_ms: float) -> None:
    """The generic executor runs chain_of(plan) exactly as the engine's two-tier path runs the Plan."""
    from simulator.model.runner import build_schedules, resolve_inputs

    network = {"trace": "trace.csv", "mode": "trace", "rtt_ms": rtt_ms, "downlink_mbps": 5}
    workload = {"arrival": "poisson", "rate_per_s": 4, "n_requests": 60, "seed": 2}
    base = _run(lab, Chain(()), network=network, workload=workload, schedules=[{"kind": kind}])
    plan = build_schedules(base.scenario, resolve_inputs(base.scenario), [])[0].plan(PlanContext(0, 0, 10))
    graph = chain_of(plan, base.scenario.result_bytes)
    as_graph = _run(lab, graph, plan.accuracy, network=network, workload=workload,
                    schedules=[{"kind": "test-graph", "label": kind, "graph": "g"}])
    columns = [c for c in base.records.columns if c not in ("split_after", "parameter")]
    assert base.records[columns].equals(as_graph.records[columns])
    assert as_graph.stages is None  # a two-tier chain gets no stage table


def test_a_shared_server_cell_splits_its_rate_between_devices(lab: Path) -> None:
    # Two devices send 100 kB each at t = 0 (back-to-back arrivals) over one 8 Mbit/s cell: each gets 4 Mbit/s
    # and takes 200 ms; over links of their own, 100 ms.
    servers = {"a": {"profile": "cloud.yaml", "link": {"mbps": 8, "sharing": "shared-cell"}}}
    workload = {"arrival": "back-to-back", "n_requests": 1, "devices": 2, "seed": 1}
    rec = _run(lab, Transfer(DEVICE, "a", 100_000), servers=servers, workload=workload).records
    assert np.allclose(rec.total_ms, 200.0, rtol=0, atol=1e-9)
    dedicated = {"a": {"profile": "cloud.yaml", "link": {"mbps": 8}}}
    rec = _run(lab, Transfer(DEVICE, "a", 100_000), servers=dedicated, workload=workload).records
    assert np.allclose(rec.total_ms, 100.0, rtol=0, atol=1e-9)


def test_run_writes_stages_parquet_only_for_shaped_graphs(lab: Path) -> None:
    from conftest import write_scenario

    from simulator.cli.app import main

    sharded = write_scenario(lab / "sharded.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                             servers=TWO_SERVERS, schedules=[{"kind": "sharded", "servers": ["a", "b"]}])
    two_tier = write_scenario(lab / "two.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                              schedules=[{"kind": "cloud-only"}])
    for path, out in ((sharded, lab / "out-sharded"), (two_tier, lab / "out-two")):
        try:
            main(["run", str(path), "-o", str(out), "--no-report"])
        except SystemExit as exc:
            assert exc.code in (0, None)
    assert (lab / "out-sharded" / "stages.parquet").is_file()
    assert not (lab / "out-two" / "stages.parquet").exists()
