"""The cascade (Ask the Expert) and sharded (distributed privacy ViT) schedules, and topology errors.

Expected values by hand on the lab (tests/conftest.py): device 10 ms embed + 100 ms per block + 5 ms head
(1215 ms for DeiT-B), cloud-profile servers 0.5 + 1 ms per block + 0.25 ms (12.75 ms; 12.5 without the head).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _graph_runs import run_graph as _run
from conftest import write_scenario

from simulator.cli.app import main
from simulator.inputs.vit import get_model
from simulator.plans.graph import DEVICE, Chain, Compute, Transfer
from simulator.schedules.base import full_model_stages

SPEC = get_model("deit_base_distilled_patch16_224")
NEAR_EDGE = {"near-edge": {"profile": "cloud.yaml", "link": {"mbps": 8, "rtt_ms": 4, "downlink_mbps": 4}}}
WORKLOAD = {"arrival": "poisson", "rate_per_s": 2, "n_requests": 80, "seed": 5}


def _cascade(**entry: Any) -> dict[str, Any]:
    return {"kind": "cascade", "label": "c", "device_model": SPEC.name, "expert_tier": "near-edge", **entry}


def _records(lab: Path, schedule: dict[str, Any]) -> Any:
    return _run(lab, Chain(()), servers=NEAR_EDGE, workload=WORKLOAD, schedules=[schedule]).records


def _chain_records(lab: Path, graph: Chain, accuracy: float) -> Any:
    return _run(lab, graph, accuracy, servers=NEAR_EDGE, workload=WORKLOAD,
                schedules=[{"kind": "test-graph", "label": "c", "graph": "g"}]).records


GENERALIST = Compute(DEVICE, full_model_stages(SPEC), SPEC.name, "generalist")
OFFLOAD = (Transfer(DEVICE, "near-edge", 150_528), Compute("near-edge", full_model_stages(SPEC), SPEC.name, "expert"),
           Transfer("near-edge", DEVICE, 4000))


def test_escalation_zero_is_the_device_only_chain(lab: Path) -> None:
    cascade = _records(lab, _cascade(escalation_probability=0.0, accuracy_kept=70.0, accuracy_escalated=90.0))
    chain = _chain_records(lab, Chain((GENERALIST,)), 70.0)
    assert cascade.equals(chain)
    assert (cascade.uplink_bytes == 0).all()


def test_escalation_one_is_the_always_offload_chain(lab: Path) -> None:
    cascade = _records(lab, _cascade(escalation_probability=1.0, accuracy_kept=70.0, accuracy_escalated=90.0))
    chain = _chain_records(lab, Chain((GENERALIST, *OFFLOAD)), 90.0)
    assert cascade.equals(chain)
    # By hand, for a request that found everything idle: 1215 ms on the device, 150528 B at 8 Mbit/s
    # (150.528 ms) + 2 ms (RTT/2), 12.75 ms on the near-edge, 4000 B at 4 Mbit/s (8 ms) + 2 ms back.
    idle = cascade[(cascade.mobile_queue_ms == 0) & (cascade.uplink_queue_ms == 0) & (cascade.cloud_queue_ms == 0)]
    assert len(idle) > 0
    assert np.allclose(idle.total_ms, 1215 + 152.528 + 12.75 + 10, rtol=0, atol=1e-9)


def test_shipped_table_endpoints_are_never_and_always(lab: Path, repo: Path) -> None:
    table = str(repo / "accuracy" / "escalation" / "cascade-ask-the-expert.csv")
    never = _records(lab, _cascade(table=table, threshold=0.0))
    always = _records(lab, _cascade(table=table, threshold=1.0))
    assert (never.uplink_bytes == 0).all() and (always.uplink_bytes == 150_528).all()
    assert never.accuracy.isna().all()  # the paper publishes no accuracy per threshold


def test_escalation_share_follows_p_and_full_offload_skips_the_generalist(lab: Path) -> None:
    half = _records(lab, _cascade(escalation_probability=0.3, accuracy_kept=70.0, accuracy_escalated=90.0))
    escalated = half.uplink_bytes > 0
    assert 0.15 < escalated.mean() < 0.45  # 80 draws at p = 0.3
    assert set(half.accuracy[escalated]) == {90.0} and set(half.accuracy[~escalated]) == {70.0}
    offload = _records(lab, {"kind": "cascade", "label": "c", "device_model": "none", "expert_tier": "near-edge"})
    assert (offload.mobile_ms == 0).all() and (offload.uplink_bytes == 150_528).all()


def test_a_threshold_off_the_table_names_the_rows(lab: Path, repo: Path) -> None:
    from simulator.errors import InputError

    table = str(repo / "accuracy" / "escalation" / "cascade-ask-the-expert.csv")
    with pytest.raises(InputError, match=r"schedules\[0\]: threshold: 0.5 is not a row .*rows: 0, 1"):
        _records(lab, _cascade(table=table, threshold=0.5))


def test_sharded_latency_is_the_slowest_shard_plus_the_head(lab: Path) -> None:
    # DeiT-B: 196 patches in 2 shards of 98 (+2 prefix tokens = 100). Each shard: 150528 * 98 / 196 = 75264 B up;
    # 12.5 ms on its server (embed + 12 blocks); 100 x 768 x 4 = 307200 B back.
    # a: 75.264 ms at 8 Mbit/s, 12.5 ms, 245.76 ms back at 10 Mbit/s = 333.524 ms.
    # b: 301.056 ms at 2 Mbit/s + 5 ms (RTT/2), 12.5 ms, 5 ms back (no downlink rate: RTT/2 only) = 323.556 ms.
    # Then the head on the device: 5 ms. Total 338.524 ms, decided by shard a's return.
    servers = {"a": {"profile": "cloud.yaml", "link": {"mbps": 8, "downlink_mbps": 10}},
               "b": {"profile": "cloud.yaml", "link": {"mbps": 2, "rtt_ms": 10}}}
    result = _run(lab, Chain(()), servers=servers, schedules=[{"kind": "sharded", "servers": ["a", "b"]}])
    rec = result.records
    assert np.allclose(rec.total_ms, 338.524, rtol=0, atol=1e-9)
    assert np.allclose(rec.return_ms, 245.76, rtol=0, atol=1e-9)
    assert (rec.uplink_bytes == 2 * 75264).all()
    assert rec.accuracy.isna().all() and not math.isnan(rec.parameter.iloc[0])
    shards = result.stages[(result.stages.request_id == 0) & (result.stages.kind == "compute")]
    assert sorted(shards["where"]) == ["a", "b", "device"]


TOPOLOGY_ERRORS = {
    "a server named cloud": ({"servers": {"cloud": {"profile": "cloud.yaml", "link": {"mbps": 5}}}},
                             "servers.cloud: 'cloud' is a built-in tier"),
    "misspelt server key": ({"servers": {"edge": {"profile": "cloud.yaml", "gpu": 2, "link": {"mbps": 5}}}},
                            "servers.edge.gpu: unknown key"),
    "link with trace and rate": ({"servers": {"edge": {"profile": "cloud.yaml",
                                                       "link": {"mbps": 5, "trace": "trace.csv"}}}},
                                 "servers.edge.link: give exactly one of trace and mbps"),
    "missing server trace": ({"servers": {"edge": {"profile": "cloud.yaml", "link": {"trace": "nowhere.csv"}}}},
                             "servers.edge.link.trace: trace file not found"),
    "missing server profile": ({"servers": {"edge": {"profile": "no-such.yaml", "link": {"mbps": 5}}}},
                               "servers.edge.profile"),
    "link to an unknown server": ({"servers": {"edge": {"profile": "cloud.yaml", "link": {"mbps": 5}}},
                                   "server_links": [{"between": ["edge", "clod"], "mbps": 100}]},
                                  "server_links[0].between: unknown server 'clod'"),
    "expert on a missing tier": ({"schedules": [_cascade(escalation_probability=0.5)]},
                                 "schedules[0]: expert_tier: no tier 'near-edge'"),
}


@pytest.mark.parametrize("case", sorted(TOPOLOGY_ERRORS))
def test_bad_topology_is_one_line_naming_the_key(lab: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    overrides, expected = TOPOLOGY_ERRORS[case]
    path = write_scenario(lab / "bad.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml", **overrides)
    with pytest.raises(SystemExit) as exc:
        main(["run", str(path), "-o", str(lab / "out"), "--no-report"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (lab / "out").exists()


def test_ask_the_expert_claims_run_without_failures(repo: Path) -> None:
    from simulator.studies.check import run_check

    outcome = run_check(repo / "claims" / "ask-the-expert.yaml")
    assert [r.claim.id for r in outcome.results if r.failed] == []
    assert {r.verdict for r in outcome.results} == {"known discrepancy"}
