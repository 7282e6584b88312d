"""Sampled compute (``compute: {variability: profile}``): draws from the profile's quantiles, per tier and request.

Expected values come from the documented stream: request ``rid`` of device ``d`` draws
``default_rng([seed, 3, d, rid]).random(tiers)``, the device's uniform first, the cloud's second.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import write_profile, write_scenario, write_trace
from hypothesis import HealthCheck, given, settings
from scipy.stats import ks_2samp, spearmanr
from test_fast_path import scenarios
from test_golden_records import records_digest

from simulator.config.scenario import load_scenario, scenario_from_dict
from simulator.errors import InputError
from simulator.inputs.profiles import load_profile
from simulator.model.runner import run_scenario

BASE = "deit_base_distilled_patch16_224"
LEVELS = [round(i / 20, 2) for i in range(21)]  # the profiler's QUANTILE_LEVELS


def with_quantiles(path: Path, stage: str, ms: float, rows: list[list[float]], levels: list[float],
                   tokens: list[float] | None = None, keep_fit: bool = False) -> Path:
    """``path``'s profile with ``stage`` given points carrying ``rows`` of quantiles (at 198 tokens unless
    ``tokens``), the file given ``levels``."""
    data = yaml.safe_load(path.read_text())
    curve = data["models"][BASE][stage]
    tokens = tokens or [198]
    curve["points"] = {"tokens": tokens, "ms": [ms] * len(tokens), "quantiles_ms": rows}
    if not keep_fit:
        curve.pop("fit", None)
    data["quantile_levels"] = levels
    path.write_text(yaml.safe_dump(data))
    return path


def uniforms(seed: int, requests: int, device: int = 0, tiers: int = 2) -> np.ndarray:
    """The documented stream: one row per request, the device's uniform first, the cloud's second."""
    return np.array([np.random.default_rng([seed, 3, device, rid]).random(tiers) for rid in range(requests)])


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3], [10, 10, 10, 10])
    write_profile(tmp_path / "mobile.yaml", block_ms=0.0)
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0)
    return tmp_path


def run(folder: Path, **overrides: Any) -> Any:
    base: dict[str, Any] = {"mobile_profile": "mobile.yaml", "cloud_profile": "cloud.yaml",
                            "compute": {"variability": "profile"}}
    return run_scenario(load_scenario(write_scenario(folder / "s.yaml", **{**base, **overrides})))


# -- by hand -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["des", "auto"])
def test_two_point_distribution_gives_the_hand_computed_mean_p95_and_deadline_misses(bench: Path, engine: str) -> None:
    """Every one of DeiT-B's 12 blocks costs 100/12 or 300/12 ms, half each (levels 0, 0.5, 0.5 + 1e-9, 1), and
    embed and head nothing: one quantile for all blocks of a request makes a forward 100 or 300 ms, never in
    between (independent blocks would give 100 + k 200/12). At 4 fps (250 ms apart) the 300 ms forwards queue
    the next frame (Lindley: wait' = max(0, wait + service - 250)), computed here by hand."""
    levels = [0.0, 0.5, 0.500000001, 1.0]
    with_quantiles(bench / "mobile.yaml", "block", 200 / 12, [[100 / 12, 100 / 12, 300 / 12, 300 / 12]], levels)
    n = 400
    result = run(bench, engine=engine,
                 workload={"arrival": "periodic", "fps": 4, "n_requests": n, "seed": 7, "deadline_ms": 375})
    assert result.engines == {"mobile-only": "des" if engine == "des" else "fast"}
    records = result.records
    service = np.where(uniforms(7, n)[:, 0] < 0.5, 100.0, 300.0)
    assert records.mobile_ms.to_numpy() == pytest.approx(service, abs=1e-9)
    wait, totals = 0.0, []
    for s in service:
        totals.append(wait + s)
        wait = max(0.0, wait + s - 250.0)
    summary = result.summary["mobile-only"]
    assert summary["mean_ms"] == pytest.approx(np.mean(totals), abs=1e-9)
    assert summary["p95_ms"] == pytest.approx(np.percentile(totals, 95), abs=1e-9)
    assert summary["deadline_miss_rate"] == pytest.approx(np.mean(np.asarray(totals) > 375), abs=1e-12)
    # about half the forwards are slow; with constant compute (the point, 200 ms) nothing would queue
    assert 0.4 < np.mean(service == 300.0) < 0.6 and summary["p95_ms"] > 300
    assert result.compute == {"variability": "profile", "coupling": "comonotone per tier and request",
                              "sampled": {"device": True, "cloud": False}, "quantile_levels": {"device": 4}}
    assert [w.code for w in result.warnings if w.code == "compute_constant"] == ["compute_constant"]
    constant = run(bench, compute={"variability": "none"},
                   workload={"arrival": "periodic", "fps": 4, "n_requests": n, "seed": 7}).records
    assert constant.mobile_ms.to_numpy() == pytest.approx(np.full(n, 200.0))
    assert (constant.arrival_s.to_numpy() == records.arrival_s.to_numpy()).all()  # arrivals do not move


def test_sampled_stage_reproduces_the_stored_distribution_ks(bench: Path) -> None:
    """The embed stage (the mobile compute here) stores the profiler's 21 quantiles of a skewed sample of 400
    single calls; 2000 requests' computes are a sample from that distribution (two-sample KS), and so are the
    cloud's, drawn from their own tier's uniform (uncorrelated with the device's)."""
    rng = np.random.default_rng(11)
    calls = rng.lognormal(np.log(40.0), 0.4, 400)
    rows = [[float(q) for q in np.quantile(calls, LEVELS)]]
    with_quantiles(bench / "mobile.yaml", "embed", float(np.median(calls)), rows, LEVELS)
    with_quantiles(bench / "cloud.yaml", "embed", float(np.median(calls)), rows, LEVELS)
    write_profile_blocks_free(bench / "cloud.yaml")
    n = 2000
    schedules = [{"kind": "mobile-only"}, {"kind": "cloud-only", "image_bytes": 1000}]
    records = run(bench, schedules=schedules, workload={"arrival": "periodic", "fps": 10, "n_requests": n,
                                                        "seed": 3}).records
    mobile = records[records.schedule == "mobile-only"].mobile_ms.to_numpy()
    cloud = records[records.schedule == "cloud-only"].cloud_ms.to_numpy()
    assert ks_2samp(mobile, calls).pvalue > 0.01
    assert ks_2samp(cloud, calls).pvalue > 0.01
    assert abs(spearmanr(mobile, cloud).statistic) < 0.1  # the two tiers draw apart (CRN: same rid, same u)
    assert not np.allclose(mobile, np.median(calls))


def write_profile_blocks_free(path: Path) -> None:
    """Blocks and head of ``path`` at 0 ms, so the embed stage alone is the compute."""
    data = yaml.safe_load(path.read_text())
    for stage in ("block", "head"):
        data["models"][BASE][stage] = {"fit": {"a_ms": 0.0}}
    path.write_text(yaml.safe_dump(data))


def test_quantile_between_points_and_outside_them_by_hand(bench: Path) -> None:
    """Points at 100 and 200 tokens with quantiles [1, 3] and [2, 6] ms (levels 0, 1), ms 2 and 4, the fit
    a = 0, b = 0.02 ms per token: at the median level, 150 tokens cost (2 + 4) / 2 = 3 ms; at level 1, 4.5 ms;
    below the points (50 tokens) the fit's 1 ms times the first point's quantile over its ms (2 / 2 at the
    median)."""
    path = with_quantiles(bench / "mobile.yaml", "block", 0.0, [[1.0, 3.0], [2.0, 6.0]], [0.0, 1.0],
                          tokens=[100, 200])
    data = yaml.safe_load(path.read_text())
    data["models"][BASE]["block"]["points"]["ms"] = [2.0, 4.0]
    data["models"][BASE]["block"]["fit"] = {"a_ms": 0.0, "b_ms": 0.02}
    path.write_text(yaml.safe_dump(data))
    from simulator.inputs.vit import MODELS

    profile, spec = load_profile(path), MODELS[BASE]
    assert profile.at_level(0.5).stage_ms(spec, "block", 150) == pytest.approx(3.0)
    assert profile.at_level(1.0).stage_ms(spec, "block", 150) == pytest.approx(4.5)
    assert profile.at_level(0.5).stage_ms(spec, "block", 50) == pytest.approx(1.0)
    assert profile.at_level(1.0).stage_ms(spec, "block", 50) == pytest.approx(1.5)
    assert profile.stage_ms(spec, "block", 150) == pytest.approx(3.0)  # pricing: the points, as before
    assert profile.at_level(0.9).stage_ms(spec, "head", 150) == profile.stage_ms(spec, "head", 150)


# -- reproducible, and the same on both engines --------------------------------------------------------------
def sampled_lab(folder: Path) -> None:
    """A slow device and a fast cloud whose blocks, embed and head carry skewed quantiles."""
    write_trace(folder / "trace.csv", [0, 1, 2, 3], [10, 0.5, 10, 40])
    write_profile(folder / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0,
                  power={"compute": 6.0, "idle": 1.0, "radio": 2.0})
    write_profile(folder / "cloud.yaml", block_ms=7.0, embed_ms=0.5, head_ms=0.25)
    shape = [0.8, 0.9, 1.0, 1.1, 2.5]
    for name, block in (("mobile.yaml", 100.0), ("cloud.yaml", 7.0)):
        with_quantiles(folder / name, "block", block, [[block * f * t / 198 for f in shape] for t in (60, 198)],
                       [0.0, 0.25, 0.5, 0.75, 1.0], tokens=[60, 198], keep_fit=True)


SPLITS = [{"kind": "mobile-only"}, {"kind": "cloud-only", "image_bytes": 200_000},
          {"kind": "mercury", "split_after": 3, "reduction": 0.5}, {"kind": "otas", "split_after": 2, "r": 8}]


def test_same_seed_same_records_bit_for_bit_and_another_seed_differs(tmp_path: Path) -> None:
    sampled_lab(tmp_path)
    workload = {"arrival": "poisson", "rate_per_s": 3, "n_requests": 40, "seed": 5, "devices": 2}
    first = run(tmp_path, schedules=SPLITS, workload=workload, engine="des").records
    again = run(tmp_path, schedules=SPLITS, workload=workload, engine="des").records
    assert records_digest(first) == records_digest(again)
    other = run(tmp_path, schedules=SPLITS, workload={**workload, "seed": 6}, engine="des").records
    assert records_digest(first) != records_digest(other)


@pytest.mark.parametrize("workload, network", [
    ({"arrival": "periodic", "fps": 4, "n_requests": 30, "on_busy": "queue"}, {}),
    ({"arrival": "periodic", "fps": 6, "n_requests": 30, "on_busy": "drop"}, {}),
    ({"arrival": "back-to-back", "n_requests": 12}, {}),
    ({"arrival": "poisson", "rate_per_s": 3, "duration_s": 20}, {"at_end": "stop", "start_offset_s": 1.5}),
    ({"arrival": "back-to-back", "duration_s": 20}, {"at_end": "stop", "start_offset_s": 1.5}),
])
def test_fast_path_equals_des_with_sampled_compute(tmp_path: Path, workload: dict, network: dict) -> None:
    sampled_lab(tmp_path)
    common = {"schedules": SPLITS, "workload": {**workload, "seed": 2},
              "network": {"trace": "trace.csv", "mode": "trace", **network}}
    des = run(tmp_path, engine="des", **common)
    fast = run(tmp_path, engine="auto", **common)
    assert set(fast.engines.values()) == {"fast"}
    pd.testing.assert_frame_equal(fast.records, des.records, check_exact=True)
    mobile = des.records[des.records.schedule == "mobile-only"].mobile_ms.dropna()
    assert mobile.nunique() > 1  # the compute was sampled


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_fast_path_equals_des_per_request_when_sampled(case: dict[str, Any]) -> None:
    """The fast path's property test (tests/test_fast_path.py) with every profile's blocks sampled."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_trace(folder / "trace.csv", [0.5 * i for i in range(len(case["rates"]))], case["rates"])
        write_profile(folder / "mobile.yaml", block_ms=case["mobile_block_ms"], embed_ms=case["mobile_ends_ms"],
                      head_ms=case["mobile_ends_ms"])
        write_profile(folder / "cloud.yaml", block_ms=case["cloud_block_ms"], embed_ms=0.5, head_ms=0.25)
        for name_, block in (("mobile.yaml", case["mobile_block_ms"]), ("cloud.yaml", case["cloud_block_ms"])):
            with_quantiles(folder / name_, "block", block, [[block * f for f in (0.5, 1.0, 3.0)]],
                           [0.0, 0.5, 1.0], keep_fit=True)
        data = {"name": "sampled", "dataset": "cifar100", "mobile_profile": "mobile.yaml",
                "cloud_profile": "cloud.yaml", "compute": {"variability": "profile"}, **case["scenario"]}
        data["schedules"] = [{**s, "label": f"s{i}"} for i, s in enumerate(data["schedules"])]
        des = run_scenario(scenario_from_dict({**data, "engine": "des"}, folder / "s.yaml"))
        auto = run_scenario(scenario_from_dict({**data, "engine": "auto"}, folder / "s.yaml"))
    pd.testing.assert_frame_equal(auto.records, des.records, check_exact=True)


# -- off by default, and said where it cannot sample -----------------------------------------------------------
def test_profiles_without_quantiles_stay_constant_and_say_so(tmp_path: Path) -> None:
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3], [10, 10, 10, 10])
    write_profile(tmp_path / "mobile.yaml", block_ms=50.0)
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0)
    common = {"schedules": SPLITS[:2], "workload": {"arrival": "poisson", "rate_per_s": 3, "n_requests": 20,
                                                     "seed": 4}}
    asked = run(tmp_path, **common)
    off = run(tmp_path, compute={"variability": "none"}, **common)
    assert records_digest(asked.records) == records_digest(off.records)
    assert asked.compute["sampled"] == {"device": False, "cloud": False}
    assert off.compute == {"variability": "none", "sampled": {"device": False, "cloud": False}}
    message = next(w.message for w in asked.warnings if w.code == "compute_constant")
    assert "device (mobile)" in message and "cloud (cloud)" in message
    assert not any(w.code == "compute_constant" for w in off.warnings)


def test_manifest_states_whether_compute_was_sampled(bench: Path) -> None:
    from simulator.results.outputs import manifest

    with_quantiles(bench / "mobile.yaml", "block", 1.0, [[1.0, 2.0]], [0.0, 1.0])
    result = run(bench)
    assert manifest(result, None)["compute"]["sampled"] == {"device": True, "cloud": False}


def test_stage_graph_computes_draw_their_tiers_uniform(tmp_path: Path) -> None:
    """A stage graph (a cascade that always escalates: the generalist on the device, the expert in the cloud)
    prices each Compute at its tier's uniform, by hand: the device's forward is embed 10 + 12 blocks at
    100 x shape(u0) + head 5 ms, the cloud's 0.5 + 12 x 7 x shape(u1) + 0.25 ms, shape interpolated on
    the levels 0, 0.25, .., 1; and a mobile-only request of the same seed and index meets the same device draw."""
    sampled_lab(tmp_path)
    cascade = {"kind": "cascade", "device_model": BASE, "expert_tier": "cloud", "escalation_probability": 1.0,
               "accuracy_kept": 80.0, "accuracy_escalated": 90.0}
    result = run(tmp_path, schedules=[cascade, {"kind": "mobile-only"}],
                 workload={"arrival": "periodic", "fps": 0.2, "n_requests": 6, "seed": 9})
    assert result.engines == {"cascade": "des", "mobile-only": "fast"}
    u = uniforms(9, 6)
    levels, shape = [0.0, 0.25, 0.5, 0.75, 1.0], [0.8, 0.9, 1.0, 1.1, 2.5]
    device = 15.0 + 1200.0 * np.interp(u[:, 0], levels, shape)
    cloud = 0.75 + 84.0 * np.interp(u[:, 1], levels, shape)
    records = result.records
    graph, alone = records[records.schedule == "cascade"], records[records.schedule == "mobile-only"]
    assert graph.mobile_ms.to_numpy() == pytest.approx(device, rel=1e-12)
    assert graph.cloud_ms.to_numpy() == pytest.approx(cloud, rel=1e-12)
    assert alone.mobile_ms.to_numpy() == pytest.approx(device, rel=1e-12)


# -- the profile's schema ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("quantile_levels"), "quantiles_ms needs quantile_levels"),
    (lambda d: d.update(quantile_levels=[0.0, 1.0]), "block: each quantiles_ms row needs 2 values"),
    (lambda d: d.update(quantile_levels=[0.1, 0.5, 1.0]), "quantile_levels must increase strictly from 0 to 1"),
    (lambda d: d["models"][BASE]["block"]["points"].update(quantiles_ms=[[3.0, 2.0, 4.0]]), "non-decreasing"),
    (lambda d: d["models"][BASE]["block"]["points"].update(quantiles_ms=[[1.0, 2.0, 3.0]] * 2), "2 rows for 1"),
])
def test_bad_quantiles_are_one_line_naming_the_file(bench: Path, change: Any, message: str) -> None:
    path = with_quantiles(bench / "mobile.yaml", "block", 1.0, [[1.0, 2.0, 3.0]], [0.0, 0.5, 1.0])
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as caught:
        load_profile(path)
    text = str(caught.value)
    assert message in text and str(path) in text and "\n" not in text


# -- the profiler keeps the distribution, validate compares both models -------------------------------------------
def test_timing_quantiles_are_of_the_single_calls_by_hand() -> None:
    from simulator.ml.timing import Timing

    timing = Timing.of([1.0, 1.0, 1.0, 1.0, 1.0], first_ms=[5.0, 1.0, 4.0, 2.0, 3.0])
    assert timing.quantiles_ms([0.0, 0.25, 0.5, 0.875, 1.0]) == [1.0, 2.0, 3.0, 4.5, 5.0]
    assert timing.per(2).quantiles_ms([0.0, 1.0]) == [0.5, 2.5]


def test_scaled_profile_scales_the_quantiles_with_the_points(tmp_path: Path) -> None:
    from simulator.emulation.validate import scaled_profile

    write_profile(tmp_path / "p.yaml", block_ms=1.0)
    with_quantiles(tmp_path / "p.yaml", "block", 2.0, [[1.0, 2.0, 4.0]], [0.0, 0.5, 1.0])
    scaled = load_profile(scaled_profile(tmp_path / "p.yaml", 1.5, tmp_path / "out.yaml"))
    points = scaled.file.models[BASE]["block"].points
    assert points is not None and points.quantiles_ms == [[1.5, 3.0, 6.0]] and points.ms == [3.0]


def test_validate_simulates_the_other_compute_model_where_a_profile_has_quantiles(bench: Path) -> None:
    from simulator.emulation.validate import comparison_table, other_compute_records, print_comparison

    scenario = load_scenario(write_scenario(bench / "s.yaml", mobile_profile="mobile.yaml",
                                            cloud_profile="cloud.yaml"))
    assert other_compute_records(scenario) is None  # no quantiles: the two models are one
    with_quantiles(bench / "mobile.yaml", "block", 1.0, [[1.0, 1.0, 9.0]], [0.0, 0.5, 1.0])
    constant = run_scenario(scenario).records
    other = other_compute_records(scenario)
    assert other is not None and other[0] == "profile"
    assert constant.mobile_ms.nunique() == 1 and other[1].mobile_ms.nunique() > 1
    table = comparison_table(constant, constant, ["mobile-only"])
    lines: list[str] = []
    print_comparison(table, lines.append, other_compute=comparison_table(other[1], constant, ["mobile-only"]),
                     other_variability="profile")
    assert "with sampled compute (compute.variability: profile):" in lines
    assert lines[-1].split()[0] == "mobile-only" and lines[-1].split()[3] != "+0.0"


def test_the_shipped_measured_profile_carries_distributions_and_says_how_it_was_made() -> None:
    from simulator.inputs.vit import MODELS

    profile = load_profile("x86-2c-1t-ti-quantiles")
    assert profile.has_distribution and profile.file.quantile_levels == LEVELS
    host = profile.file.host or {}
    assert host["command"].startswith("mercury-sim profile --model deit_tiny_distilled_patch16_224")
    assert "--repeats 40" in host["command"] and host["threads"] == 1 and host["date"].startswith("2026-12-06")
    assert "single calls" in profile.provenance["distribution"]
    spec = MODELS["deit_tiny_distilled_patch16_224"]
    low, high = (profile.at_level(q).stage_ms(spec, "block", 198) for q in (0.0, 1.0))
    assert 0 < low < profile.stage_ms(spec, "block", 198) * 1.1 and high > low
