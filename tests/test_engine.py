"""The engine against hand-computed latencies, contention, batching and reproducibility."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import write_scenario, write_trace

from simulator.config.scenario import load_scenario
from simulator.inputs.vit import get_model
from simulator.model.runner import run

DEIT_B = get_model("deit_base_distilled_patch16_224")


def scenario(lab: Path, schedules: list[dict], **overrides: object) -> object:
    base = dict(mobile_profile="mobile.yaml", cloud_profile="cloud.yaml", schedules=schedules)
    base.update(overrides)  # type: ignore[arg-type]
    return load_scenario(write_scenario(lab / "s.yaml", **base))


def test_one_device_every_component_by_hand(lab: Path) -> None:
    sc = scenario(lab, [{"kind": "mobile-only"}, {"kind": "cloud-only", "image_bytes": 250_000},
                        {"kind": "mercury", "split_after": 3, "reduction": 0.5}],
                  network={"trace": "trace.csv", "rtt_ms": 20.0, "downlink_mbps": 8.0},
                  result_bytes=1000, workload={"arrival": "periodic", "fps": 0.25, "n_requests": 3, "seed": 3})
    records, summary = run(sc)
    by = {name: g.reset_index(drop=True) for name, g in records.groupby("schedule", observed=True)}

    mobile = by["mobile-only"]
    assert list(mobile.arrival_s) == [0.0, 4.0, 8.0]
    assert mobile.mobile_ms.tolist() == pytest.approx([10 + 12 * 100 + 5] * 3)
    assert mobile.total_ms.tolist() == pytest.approx([1215.0] * 3)
    assert (mobile[["uplink_ms", "cloud_ms", "return_ms"]] == 0).all().all()
    assert mobile.energy_j.tolist() == pytest.approx([6.0 * 1.215] * 3)

    cloud = by["cloud-only"]
    upload_ms = 250_000 * 8 / 10e6 * 1e3 + 10.0          # 200 ms at 10 Mbit/s + RTT/2
    cloud_ms = 0.5 + 12 * 1.0 + 0.25
    return_ms = 10.0 + 1000 * 8 / 8e6 * 1e3                # RTT/2 + 1 ms downlink
    assert cloud.mobile_ms.tolist() == pytest.approx([0.0] * 3)
    assert cloud.uplink_ms.tolist() == pytest.approx([upload_ms] * 3)
    assert cloud.cloud_ms.tolist() == pytest.approx([cloud_ms] * 3)
    assert cloud.return_ms.tolist() == pytest.approx([return_ms] * 3)
    assert cloud.total_ms.tolist() == pytest.approx([upload_ms + cloud_ms + return_ms] * 3)
    assert cloud.energy_j.tolist() == pytest.approx([2.0 * 0.2 + 1.0 * (0.010 + cloud_ms / 1e3 + return_ms / 1e3)] * 3)

    mercury = by["mercury"]
    kept = 198 - 98                                         # 50 % of 196 patches pruned after block 1
    payload = kept * 768 * 4
    m_ms = 10 + 3 * 100                                     # embed + blocks 1..3 (constant-time profile)
    up_ms = payload * 8 / 10e6 * 1e3 + 10.0
    c_ms = 9 * 1.0 + 0.25
    assert mercury.uplink_bytes.tolist() == [payload] * 3
    assert mercury.mobile_ms.tolist() == pytest.approx([m_ms] * 3)
    assert mercury.uplink_ms.tolist() == pytest.approx([up_ms] * 3)
    assert mercury.cloud_ms.tolist() == pytest.approx([c_ms] * 3)
    assert mercury.total_ms.tolist() == pytest.approx([m_ms + up_ms + c_ms + return_ms] * 3)
    assert (records[["mobile_queue_ms", "uplink_queue_ms", "cloud_queue_ms"]] == 0).all().all()
    assert summary["mercury"]["mean_ms"] == pytest.approx(m_ms + up_ms + c_ms + return_ms)
    assert summary["mercury"]["parameter"] == 0.5 and summary["mercury"]["split_after"] == 3


def test_mercury_pruning_before_block1_prices_one_extra_attention(lab: Path) -> None:
    sc = scenario(lab, [{"kind": "mercury", "label": "after", "split_after": 2, "reduction": 0.5},
                        {"kind": "mercury", "label": "before", "split_after": 2, "reduction": 0.5,
                         "prune_point": "before_block1"}],
                  workload={"arrival": "periodic", "fps": 0.25, "n_requests": 2, "seed": 3})
    records, _ = run(sc)
    by = {name: g.reset_index(drop=True) for name, g in records.groupby("schedule", observed=True)}
    # The profile has no attention curve: the scoring pass costs the block's time times the attention's
    # share of the block's MACs at 198 tokens (qkv + QK^T + AV against the whole block).
    share = (3 * 198 * 768**2 + 2 * 198**2 * 768) / (12 * 198 * 768**2 + 2 * 198**2 * 768)
    assert by["after"].mobile_ms.tolist() == pytest.approx([10 + 2 * 100] * 2)
    assert by["before"].mobile_ms.tolist() == pytest.approx([10 + 100 * share + 2 * 100] * 2)
    assert by["before"].uplink_bytes.tolist() == by["after"].uplink_bytes.tolist() == [100 * 768 * 4] * 2


def test_components_add_up_under_contention(lab: Path) -> None:
    sc = scenario(lab, [{"kind": "mercury", "split_after": 1, "reduction": 0.25}],
                  network={"trace": "trace.csv", "sharing": "shared-cell", "start_offset_s": "random"},
                  workload={"arrival": "poisson", "rate_per_s": 8, "duration_s": 20, "devices": 4, "seed": 2},
                  cloud={"gpus": 1, "max_batch": 4, "batch_timeout_ms": 2})
    records, _ = run(sc)
    ok = records[records.status == "ok"]
    parts = ok[["mobile_queue_ms", "mobile_ms", "uplink_queue_ms", "uplink_ms", "cloud_queue_ms", "cloud_ms",
                "return_ms"]].sum(axis=1)
    assert len(ok) > 100
    assert (parts - ok.total_ms).abs().max() < 1e-6
    assert ok.mobile_queue_ms.max() > 0 and ok.cloud_queue_ms.max() > 0


def test_shared_cell_splits_capacity_equally(lab: Path) -> None:
    """Two devices uploading the same bytes at the same instant each get half the cell: twice as long."""
    one = scenario(lab, [{"kind": "cloud-only", "image_bytes": 125_000}],
                   network={"trace": "trace.csv", "sharing": "shared-cell"},
                   workload={"arrival": "back-to-back", "n_requests": 1, "devices": 1, "seed": 1})
    two = scenario(lab, [{"kind": "cloud-only", "image_bytes": 125_000}],
                   network={"trace": "trace.csv", "sharing": "shared-cell"},
                   workload={"arrival": "back-to-back", "n_requests": 1, "devices": 2, "seed": 1})
    alone, _ = run(one)
    shared, _ = run(two)
    assert alone.uplink_ms.iloc[0] == pytest.approx(100.0)
    assert shared.uplink_ms.tolist() == pytest.approx([200.0, 200.0])


def test_cloud_batching_uses_batch_factor(lab: Path) -> None:
    """Two simultaneous jobs batched together take 1.5x one job, per the profile's batch scaling."""
    sc = scenario(lab, [{"kind": "cloud-only", "image_bytes": 1}],
                  network={"trace": "trace.csv", "sharing": "per-device"},
                  workload={"arrival": "back-to-back", "n_requests": 1, "devices": 2, "seed": 1},
                  cloud={"max_batch": 2, "batch_timeout_ms": 5})
    records, _ = run(sc)
    single = 0.5 + 12 * 1.0 + 0.25
    assert records.cloud_ms.tolist() == pytest.approx([1.5 * single] * 2)


def test_drop_when_busy(lab: Path) -> None:
    sc = scenario(lab, [{"kind": "mobile-only"}],
                  workload={"arrival": "periodic", "fps": 2, "n_requests": 6, "seed": 1, "on_busy": "drop",
                            "deadline_ms": 2000})
    records, summary = run(sc)
    # 1.215 s per frame at 2 fps: frames at 0, 1.5, ... run; 0.5, 1.0, 2.0 arrive while busy.
    assert records.status.tolist() == ["ok", "dropped", "dropped", "ok", "dropped", "dropped"]
    assert summary["mobile-only"]["dropped"] == 4
    assert summary["mobile-only"]["deadline_miss_rate"] == pytest.approx(4 / 6)


def test_stop_trace_leaves_requests_unfinished(lab: Path) -> None:
    sc = scenario(lab, [{"kind": "cloud-only", "image_bytes": 3_000_000}],
                  network={"trace": "trace.csv", "at_end": "stop"},
                  workload={"arrival": "periodic", "fps": 1, "n_requests": 3, "seed": 1})
    records, summary = run(sc)
    assert records.status.tolist() == ["ok", "unfinished", "unfinished"]  # 40 Mbit trace, 24 Mbit each
    assert summary["cloud-only"]["unfinished"] == 2


@pytest.mark.parametrize("mbps, expected_ms", [(37.3, 472), (48.2, 365)])
def test_mean_mode_reproduces_paper_cloud_upload(lab: Path, mbps: float, expected_ms: float) -> None:
    sc = scenario(lab, [{"kind": "cloud-only", "image_bytes": 2_200_000}],
                  network={"trace": "trace.csv", "mode": "mean", "mean_mbps": mbps})
    records, _ = run(sc)
    assert records.uplink_ms.round().unique().tolist() == [expected_ms]


def test_mean_mode_uses_trace_mean(lab: Path) -> None:
    write_trace(lab / "trace.csv", [0, 1], [10, 30])  # mean 20 Mbit/s
    sc = scenario(lab, [{"kind": "cloud-only", "image_bytes": 250_000}], network={"trace": "trace.csv",
                                                                                    "mode": "mean"})
    records, _ = run(sc)
    assert records.uplink_ms.tolist() == pytest.approx([100.0] * 5)


def test_janus_scheduler_adapts_to_bandwidth(lab: Path) -> None:
    """With fast compute in the cloud and a fat pipe Janus uploads early; on a thin pipe it stays local."""
    base = [{"kind": "janus", "split_after": "auto", "alpha": "auto", "sla_ms": 400, "image_bytes": 50_000}]
    write_trace(lab / "trace.csv", [0, 1], [1000, 1000])
    fast, _ = run(scenario(lab, base))
    write_trace(lab / "trace.csv", [0, 1], [0.05, 0.05])
    slow, _ = run(scenario(lab, base))
    assert fast.split_after.iloc[-1] == 0          # 50 kB image at 1 Gbit/s: cloud-only wins
    assert slow.split_after.iloc[-1] == 13 - 1     # device-only (split L+1 runs all 12 blocks locally)
    assert (slow.uplink_bytes == 0).all()


def test_same_seed_same_bytes(lab: Path, tmp_path: Path) -> None:
    from simulator.model.runner import run_scenario
    from simulator.results.outputs import write_run

    sc = scenario(lab, [{"kind": "mercury", "split_after": 1, "reduction": 0.5}, {"kind": "cloud-only"}],
                  network={"trace": "trace.csv", "start_offset_s": "random", "sharing": "shared-cell"},
                  workload={"arrival": "poisson", "rate_per_s": 3, "duration_s": 30, "devices": 3, "seed": 7})
    write_run(run_scenario(sc), tmp_path / "a")
    write_run(run_scenario(sc), tmp_path / "b")
    assert (tmp_path / "a/records.parquet").read_bytes() == (tmp_path / "b/records.parquet").read_bytes()
    assert (tmp_path / "a/summary.json").read_text() == (tmp_path / "b/summary.json").read_text()
    other = scenario(lab, [{"kind": "cloud-only"}],
                     workload={"arrival": "poisson", "rate_per_s": 3, "duration_s": 30, "devices": 3, "seed": 8})
    first = pd.read_parquet(tmp_path / "a/records.parquet")
    second, _ = run(other)
    assert not first[first.schedule == "cloud-only"].arrival_s.reset_index(drop=True).equals(
        second.arrival_s.reset_index(drop=True))
