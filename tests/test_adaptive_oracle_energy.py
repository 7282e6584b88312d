"""Adaptive Mercury, the oracle, the radio/idle energy split and accuracy rows per prune point, by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import write_profile, write_scenario, write_trace

from simulator.config.scenario import load_scenario
from simulator.model.runner import run

TABLE = """model,dataset,method,split_after,parameter,reconstruction,top1,source,prune_point
deit_base_distilled_patch16_224,cifar100,none,,0,none,90,fitted: test,
deit_base_distilled_patch16_224,cifar100,mercury,,0,learned,90,fitted: test,
deit_base_distilled_patch16_224,cifar100,mercury,,0.75,learned,80,fitted: test,
deit_base_distilled_patch16_224,cifar100,mercury,,0,learned,90,fitted: test,before_block1
deit_base_distilled_patch16_224,cifar100,mercury,,0.75,learned,70,fitted: test,before_block1
deit_base_distilled_patch16_224,cifar100,tome,,0,none,90,fitted: test,
deit_base_distilled_patch16_224,cifar100,tome,,16,none,80,fitted: test,
"""


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """Constant-time profiles (device blocks 100 ms, cloud blocks 1 ms), a 10 Mbit/s trace, a small table."""
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3], [10, 10, 10, 10])
    write_profile(tmp_path / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0)
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0, embed_ms=0.5, head_ms=0.25)
    (tmp_path / "acc.csv").write_text(TABLE)
    return tmp_path


def records(lab: Path, schedules: list[dict], **overrides: object) -> pd.DataFrame:
    base = dict(mobile_profile="mobile.yaml", cloud_profile="cloud.yaml", accuracy_tables=["acc.csv"],
                schedules=schedules)
    base.update(overrides)  # type: ignore[arg-type]
    frame, _ = run(load_scenario(write_scenario(lab / "s.yaml", **base)))
    return frame


def by_schedule(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(k): g.reset_index(drop=True) for k, g in frame.groupby("schedule", observed=True)}


# -- adaptive Mercury -------------------------------------------------------------------------------------
def test_adaptive_on_a_constant_trace_equals_static_at_the_parameter_it_should_pick(lab: Path) -> None:
    # Split 3: device 10 + 3 x 100 ms, cloud 9 x 1 + 0.25 ms whatever the reduction (learned reconstruction),
    # so only the upload differs. K = round(r x 196): r = 0.25 keeps 149 tokens = 457,728 B = 366.18 ms at
    # 10 Mbit/s; r = 0.20 keeps 159 = 488,448 B = 390.76 ms. A 319.25 + 370 ms budget admits 0.25, not 0.20,
    # and 0.25 is the most accurate (the least pruned) that fits.
    out = by_schedule(records(lab, [
        {"kind": "mercury-adaptive", "label": "adaptive", "split_after": 3, "latency_budget_ms": 689.25},
        {"kind": "mercury", "label": "static", "split_after": 3, "reduction": 0.25}]))
    adaptive, static = out["adaptive"], out["static"]
    assert adaptive.parameter.tolist() == [0.25] * 5
    assert (adaptive.fallback == 0).all()
    for column in ("total_ms", "uplink_bytes", "accuracy", "split_after", "energy_j"):
        assert adaptive[column].tolist() == static[column].tolist()


def test_adaptive_with_an_impossible_budget_takes_the_fastest_and_says_so(lab: Path) -> None:
    out = by_schedule(records(lab, [
        {"kind": "mercury-adaptive", "label": "adaptive", "split_after": 3, "latency_budget_ms": 100.0},
        {"kind": "mercury", "label": "static", "split_after": 3, "reduction": 0.75}]))
    adaptive = out["adaptive"]
    assert adaptive.parameter.tolist() == [0.75] * 5      # the most pruning = the smallest upload
    assert (adaptive.fallback == 1).all()
    assert adaptive.total_ms.tolist() == out["static"].total_ms.tolist()
    assert (out["static"].fallback == 0).all()


def test_adaptive_min_latency_above_a_floor(lab: Path) -> None:
    # The table is linear between (0, 90) and (0.75, 80): 85 % is met up to r = 0.375, so the grid's 0.35.
    out = by_schedule(records(lab, [{"kind": "mercury-adaptive", "label": "a", "split_after": 3,
                                     "objective": "min-latency", "accuracy_floor": 85.0}]))
    assert out["a"].parameter.tolist() == [0.35] * 5


# -- the oracle -------------------------------------------------------------------------------------------
STATIC = [{"kind": "mobile-only"}, {"kind": "cloud-only", "image_bytes": 250_000}] + \
    [{"kind": "mercury", "label": f"mercury-{s}", "split_after": s, "target_accuracy": 85.0} for s in range(1, 12)] + \
    [{"kind": "otas", "label": f"otas-{s}", "split_after": s, "target_accuracy": 85.0} for s in range(1, 12)]
ORACLE = {"kind": "oracle", "accuracy_floor": 85.0, "image_bytes": 250_000}


def test_oracle_never_slower_than_any_static_schedule_on_a_varying_trace(lab: Path) -> None:
    write_trace(lab / "trace.csv", [0, 1, 2, 3], [20, 0.5, 0.5, 0.5])
    frame = records(lab, [ORACLE, *STATIC], network={"trace": "trace.csv", "rtt_ms": 20.0},
                    workload={"arrival": "periodic", "fps": 0.4, "n_requests": 8, "seed": 2})
    out = by_schedule(frame)
    oracle = out.pop("oracle")
    assert (oracle.status == "ok").all() and (oracle.accuracy >= 85.0 - 1e-9).all()
    best = pd.concat([g.total_ms for g in out.values()], axis=1).min(axis=1)
    assert (oracle.total_ms <= best + 1e-9).all()
    assert oracle.split_after.nunique() > 1  # it does adapt to the trace's changes


def test_oracle_equals_the_best_static_schedule_on_a_constant_trace(lab: Path) -> None:
    out = by_schedule(records(lab, [ORACLE, *STATIC]))
    oracle = out.pop("oracle")
    means = {name: g.total_ms.mean() for name, g in out.items()}
    assert oracle.total_ms.mean() == pytest.approx(min(means.values()), rel=1e-12)


# -- energy -----------------------------------------------------------------------------------------------
def test_radio_energy_of_one_transfer_equals_the_published_model_by_hand(lab: Path) -> None:
    # Huang et al. 2012: P = 438.39 mW/Mbps x u + 1288.04 mW while sending; 1060.0 mW for 11.576 s after.
    # 250,000 B at 10 Mbit/s: 0.2 s and 2 Mbit -> 1.28804 x 0.2 + 0.43839 x 2 = 1.134388 J.
    write_profile(lab / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0,
                  power={"compute": 6.0, "idle": 2.0, "radio": 0.0})
    frame = records(lab, [{"kind": "cloud-only", "image_bytes": 250_000}], energy={"radio": "lte-huang2012"},
                    workload={"arrival": "periodic", "fps": 0.25, "n_requests": 2, "seed": 1})
    cloud_s = (0.5 + 12 * 1.0 + 0.25) / 1e3
    assert frame.energy_radio_j.tolist() == pytest.approx([1.134388, 1.134388], rel=1e-12)
    # The first tail is cut when the next upload starts: it ended at 0.2 s, the next starts at 4.0 s.
    assert frame.energy_tail_j.tolist() == pytest.approx([1.060 * 3.8, 1.060 * 11.576], rel=1e-12)
    assert frame.energy_compute_j.tolist() == [0.0, 0.0]
    assert frame.energy_idle_j.tolist() == pytest.approx([2.0 * cloud_s] * 2, rel=1e-12)
    assert frame.energy_j.tolist() == pytest.approx(
        [1.134388 + 1.060 * 3.8 + 2.0 * cloud_s, 1.134388 + 1.060 * 11.576 + 2.0 * cloud_s], rel=1e-12)


def test_radio_energy_of_one_transfer_equals_the_fitted_5g_model_by_hand(lab: Path) -> None:
    # Narayanan et al. 2021, NSA mmWave uplink line (whole phone 5.6243 W + 9.4222 mW/Mbps x u) minus the
    # study's 2.3573 W phone baseline: 3.2671 W + 9.4222 mW/Mbps x u while sending; then 2.6886 W for 10.15 s.
    # 250,000 B at 10 Mbit/s: 0.2 s and 2 Mbit -> 3.2671 x 0.2 + 0.0094222 x 2 = 0.6722644 J.
    write_profile(lab / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0,
                  power={"compute": 6.0, "idle": 2.0, "radio": 0.0})
    frame = records(lab, [{"kind": "cloud-only", "image_bytes": 250_000}],
                    energy={"radio": "5g-nsa-mmwave-narayanan2021"},
                    workload={"arrival": "periodic", "fps": 0.25, "n_requests": 2, "seed": 1})
    assert frame.energy_radio_j.tolist() == pytest.approx([0.6722644, 0.6722644], rel=1e-12)
    # Uploads end at 0.2 s and 4.2 s: the first tail is cut by the next upload at 4.0 s, the last runs whole.
    assert frame.energy_tail_j.tolist() == pytest.approx([2.6886 * 3.8, 2.6886 * 10.15], rel=1e-12)


def test_fitted_5g_tails_keep_the_lte_tail_to_base_ratio(repo: Path) -> None:
    # The artefact states no tail power: each file derives it as base_w x 1060.0 / 1288.04 (Huang et al.'s LTE
    # tail over its connected base), so an edited base_w must bring its tail_w along.
    from simulator.inputs.radio import load_radio_model

    for name in ("5g-nsa-mmwave-narayanan2021", "5g-nsa-lowband-narayanan2021"):
        model, _ = load_radio_model(name)
        assert model.provenance["kind"] == "fitted"
        assert model.tail_w == pytest.approx(model.base_w * 1060.0 / 1288.04, abs=1e-4)


def test_queued_uploads_share_one_tail(lab: Path) -> None:
    # Frames every 0.1 s, uploads of 0.2 s on the device's FIFO link: [0, 0.2], [0.2, 0.4], [0.4, 0.6]. The
    # radio never goes quiet between them, so only the last upload is followed by a tail, counted once.
    frame = records(lab, [{"kind": "cloud-only", "image_bytes": 250_000}], energy={"radio": "lte-huang2012"},
                    workload={"arrival": "periodic", "fps": 10, "n_requests": 3, "seed": 1})
    assert frame.uplink_queue_ms.tolist() == pytest.approx([0.0, 100.0, 200.0])
    assert frame.energy_tail_j.tolist() == pytest.approx([0.0, 0.0, 1.060 * 11.576])


def test_paper_preset_counts_compute_only(lab: Path) -> None:
    write_profile(lab / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0,
                  power={"compute": 6.0, "idle": 2.0, "radio": 1.0})
    frame = records(lab, [{"kind": "mercury", "split_after": 3, "reduction": 0.5}],
                    energy={"preset": "paper", "radio": "lte-huang2012"})
    assert frame.energy_j.tolist() == pytest.approx([6.0 * 0.310] * 5)
    assert (frame[["energy_radio_j", "energy_tail_j", "energy_idle_j"]] == 0).all().all()


def test_shipped_pi_profile_counts_radio_and_idle_by_default(repo: Path) -> None:
    frame, summary = run(load_scenario(repo / "scenarios" / "paper-fig6-5g.yaml"))
    cloud = frame[frame.schedule == "cloud-only"]
    assert (cloud.energy_radio_j > 0).all() and (cloud.energy_tail_j >= 0).all() and (cloud.energy_idle_j > 0).all()
    assert (cloud.energy_j > 0).all()  # offloading is no longer free


# -- accuracy rows per prune point ------------------------------------------------------------------------
def test_before_block1_schedule_reads_its_own_accuracy_rows(lab: Path) -> None:
    out = by_schedule(records(lab, [
        {"kind": "mercury", "label": "after", "split_after": 3, "reduction": 0.75},
        {"kind": "mercury", "label": "before", "split_after": 3, "reduction": 0.75, "prune_point": "before_block1"}]))
    assert out["after"].accuracy.tolist() == [80.0] * 5
    assert out["before"].accuracy.tolist() == [70.0] * 5


def test_unknown_prune_point_names_the_line(tmp_path: Path) -> None:
    from simulator.errors import InputError
    from simulator.inputs.accuracy import read_accuracy_csv

    path = tmp_path / "t.csv"
    path.write_text(TABLE.replace("test,before_block1\n", "test,inside_block1\n", 1))
    with pytest.raises(InputError) as exc:
        read_accuracy_csv(path)
    assert "line 5" in str(exc.value) and "prune_point 'inside_block1' unknown" in str(exc.value)


def test_a_run_folder_with_the_new_schedules_and_a_radio_file_reruns_bit_for_bit(lab: Path, repo: Path) -> None:
    from simulator.cli.app import main

    (lab / "radio.yaml").write_text((repo / "profiles" / "radio" / "lte-huang2012.yaml").read_text())
    path = write_scenario(lab / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                          accuracy_tables=["acc.csv"], energy={"radio": "radio.yaml"},
                          schedules=[ORACLE, {"kind": "mercury-adaptive", "split_after": "auto",
                                              "latency_budget_ms": 500.0}])
    main(["run", str(path), "-o", str(lab / "first"), "-q", "--no-report"])
    main(["run", str(lab / "first" / "scenario.yaml"), "-o", str(lab / "again"), "-q", "--no-report"])
    assert (lab / "again" / "records.parquet").read_bytes() == (lab / "first" / "records.parquet").read_bytes()
    assert "radio_model" in (lab / "first" / "manifest.json").read_text()


def test_summary_and_report_show_the_distance_to_the_oracle(lab: Path) -> None:
    from simulator.report.html import summary_table

    base = dict(mobile_profile="mobile.yaml", cloud_profile="cloud.yaml", accuracy_tables=["acc.csv"],
                schedules=[ORACLE, {"kind": "mobile-only"}],
                workload={"arrival": "periodic", "fps": 0.25, "n_requests": 3, "seed": 1})
    _, summary = run(load_scenario(write_scenario(lab / "s.yaml", **base)))
    # mobile-only takes 10 + 12 x 100 + 5 ms; the oracle offloads the 250 kB image (200 ms) + 12.75 ms in the cloud
    assert summary["oracle"]["oracle_gap_ms"] == 0.0
    assert summary["mobile-only"]["oracle_gap_ms"] == pytest.approx(1215.0 - 212.75)
    assert "to the oracle (ms)" in summary_table({"schedules": summary})


def _tails_one_by_one(device, start, end, tail_s):  # noqa: ANN001, ANN202 - the definition, written plainly
    out = {}
    for d in sorted(set(device.tolist())):
        rows = sorted((s, e, i) for i, (dv, s, e) in enumerate(zip(device, start, end, strict=True)) if dv == d)
        owner, free_at = None, -1e300
        for s, e, i in rows:
            if owner is not None and s >= free_at:
                out[owner] = min(tail_s, s - free_at)
                owner = None
            if e >= free_at:
                if owner is not None:
                    out[owner] = 0.0  # still sending when it ended: no tail of its own
                owner, free_at = i, e
            else:
                out[i] = 0.0
        out[owner] = tail_s
    return [out.get(i, 0.0) for i in range(len(device))]


def test_tails_on_random_overlapping_transfers_match_the_definition() -> None:
    import numpy as np

    from simulator.model.energy import radio_tails

    rng = np.random.default_rng(5)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        device = rng.integers(0, 3, n)
        start = np.round(rng.uniform(0, 20, n), 1)
        end = start + np.round(rng.uniform(0, 3, n), 1)
        expected = _tails_one_by_one(device, start, end, 2.5)
        assert radio_tails(device, start, end, 2.5).tolist() == pytest.approx(expected)


def test_the_oracle_runs_on_the_des_and_refuses_the_fast_path(lab: Path) -> None:
    from simulator.errors import InputError
    from simulator.model.runner import run_scenario

    base = dict(mobile_profile="mobile.yaml", cloud_profile="cloud.yaml", accuracy_tables=["acc.csv"],
                schedules=[ORACLE, {"kind": "mobile-only"}], energy={"radio": "lte-huang2012"})
    result = run_scenario(load_scenario(write_scenario(lab / "s.yaml", **base)))
    assert result.engines == {"oracle": "des", "mobile-only": "fast"}
    with pytest.raises(InputError, match="schedule 'oracle' plans each request"):
        run_scenario(load_scenario(write_scenario(lab / "s.yaml", engine="fast", **base)))


def test_both_engines_give_the_same_energy_split(lab: Path) -> None:
    from simulator.model.runner import run_scenario

    base = dict(mobile_profile="mobile.yaml", cloud_profile="cloud.yaml", accuracy_tables=["acc.csv"],
                energy={"radio": "lte-huang2012"}, network={"trace": "trace.csv", "rtt_ms": 10.0},
                workload={"arrival": "periodic", "fps": 10, "n_requests": 20, "seed": 1},
                schedules=[{"kind": "cloud-only", "image_bytes": 250_000}, {"kind": "mercury", "split_after": 3,
                                                                           "reduction": 0.5}])
    fast = run_scenario(load_scenario(write_scenario(lab / "s.yaml", engine="fast", **base)))
    des = run_scenario(load_scenario(write_scenario(lab / "s.yaml", engine="des", **base)))
    assert set(fast.engines.values()) == {"fast"}
    pd.testing.assert_frame_equal(fast.records, des.records, check_exact=True)
    assert (fast.records.energy_tail_j > 0).any()
