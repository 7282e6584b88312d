"""The closed-form fast path equals the discrete-event model request by request, and says when it applies."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import write_profile, write_scenario, write_trace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli.app import main
from simulator.config.scenario import load_scenario, scenario_from_dict
from simulator.errors import InputError
from simulator.model.runner import run_scenario

SCHEDULES = st.one_of(
    st.just({"kind": "mobile-only"}),
    st.builds(lambda b: {"kind": "cloud-only", "image_bytes": b}, st.sampled_from([1, 20_000, 250_000, 1_000_000])),
    st.builds(lambda s, k: {"kind": "mercury", "split_after": s, "reduction": k},
              st.integers(1, 12), st.sampled_from([0.0, 0.25, 0.5, 0.75])),
    st.builds(lambda s, r: {"kind": "otas", "split_after": s, "r": r}, st.integers(1, 12), st.sampled_from([0, 4, 8])),
    st.builds(lambda s, a: {"kind": "janus", "split_after": s, "alpha": a}, st.integers(1, 12),
              st.sampled_from([0.0, 0.3, 0.55])),
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A small scenario: its trace (with zero stretches), profiles and the scenario mapping."""
    samples = draw(st.integers(1, 6))
    rates = draw(st.lists(st.sampled_from([0.0, 0.0, 0.5, 3.0, 10.0, 40.0]), min_size=samples, max_size=samples))
    if not any(rates):
        rates[-1] = 3.0
    arrival = draw(st.sampled_from(["periodic", "poisson", "back-to-back"]))
    workload: dict[str, Any] = {"arrival": arrival, "seed": draw(st.integers(0, 1000)),
                                "devices": draw(st.integers(1, 3)), "on_busy": draw(st.sampled_from(["queue", "drop"]))}
    if arrival == "periodic":
        workload["fps"] = draw(st.sampled_from([0.5, 1.0, 2.0, 4.0, 10.0]))
    elif arrival == "poisson":
        workload["rate_per_s"] = draw(st.sampled_from([0.7, 2.0, 6.0]))
    if draw(st.booleans()):
        workload["n_requests"] = draw(st.integers(1, 25))
    else:
        workload["duration_s"] = draw(st.sampled_from([2.0, 7.5, 20.0]))
    network: dict[str, Any] = {
        "trace": "trace.csv", "mode": draw(st.sampled_from(["trace", "trace", "mean"])),
        "rtt_ms": draw(st.sampled_from([0.0, 20.0, 13.7])),
        "start_offset_s": draw(st.sampled_from([0.0, 0.5, "random"])),
        "at_end": draw(st.sampled_from(["loop", "loop", "stop"])),
        "overhead_bytes": draw(st.sampled_from([0, 120])),
    }
    if draw(st.booleans()):
        network["downlink_mbps"] = draw(st.sampled_from([8.0, 100.0]))
    if network["mode"] == "mean":
        network["at_end"] = "loop"
    return {
        "rates": rates,
        # 62.5 ms blocks without embed and head make computations of exact multiples of 1/4 s: frames at 4 fps
        # then arrive at the very instant a computation ends (SimPy's order at equal times decides).
        "mobile_block_ms": draw(st.sampled_from([0.5, 10.0, 37.5, 62.5, 100.0, 250.0])),
        "mobile_ends_ms": draw(st.sampled_from([0.0, 3.0])),
        "cloud_block_ms": draw(st.sampled_from([0.1, 1.0, 7.3])),
        "scenario": {"network": network, "workload": workload,
                     "cloud": {"gpus": draw(st.integers(1, 3))},
                     "schedules": draw(st.lists(SCHEDULES, min_size=1, max_size=3,
                                                unique_by=lambda s: str(sorted(s.items()))))},
    }


def run_both(case: dict[str, Any], folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Records of the DES and of engine 'auto' for one generated case, and which engine auto used."""
    write_trace(folder / "trace.csv", [0.5 * i for i in range(len(case["rates"]))], case["rates"])
    write_profile(folder / "mobile.yaml", block_ms=case["mobile_block_ms"], embed_ms=case["mobile_ends_ms"],
                  head_ms=case["mobile_ends_ms"],
                  power={"compute": 6.1, "idle": 1.3, "radio": 2.7})
    write_profile(folder / "cloud.yaml", block_ms=case["cloud_block_ms"], embed_ms=0.5, head_ms=0.25)
    data = {"name": "fast", "dataset": "cifar100", "mobile_profile": "mobile.yaml", "cloud_profile": "cloud.yaml",
            **case["scenario"]}
    labelled = [{**s, "label": f"s{i}"} for i, s in enumerate(data["schedules"])]
    des = run_scenario(scenario_from_dict({**data, "schedules": labelled, "engine": "des"}, folder / "s.yaml"))
    auto = run_scenario(scenario_from_dict({**data, "schedules": labelled, "engine": "auto"}, folder / "s.yaml"))
    assert set(des.engines.values()) == {"des"}
    return des.records, auto.records, auto.engines


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_fast_path_equals_des_per_request(case: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        des, auto, engines = run_both(case, Path(folder))
    scenario = case["scenario"]
    if scenario["workload"]["devices"] == 1:
        assert set(engines.values()) == {"fast"}  # one device, per-device link, no batching: always applies
    pd.testing.assert_frame_equal(auto, des, check_exact=True)  # bit for bit (the bar is 1e-9 ms)


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3], [10, 0, 10, 10])
    write_profile(tmp_path / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0)
    write_profile(tmp_path / "cloud.yaml", block_ms=20.0)
    return tmp_path


def lab_scenario(lab: Path, **overrides: Any) -> Path:
    base: dict[str, Any] = {"mobile_profile": "mobile.yaml", "cloud_profile": "cloud.yaml", "engine": "fast",
                            "schedules": [{"kind": "cloud-only", "image_bytes": 10_000}]}
    base.update(overrides)
    return write_scenario(lab / "s.yaml", **base)


def test_fast_path_by_hand_with_queueing_cloud(lab: Path) -> None:
    """Cloud-only at 10 fps: 80 kbit uploads take 8 ms at 10 Mbit/s and reach the cloud at 8, 108, 208 ms;
    a job takes 12 blocks x 20 ms = 240 ms on the one GPU, so jobs start at 8, 248, 488 ms."""
    path = lab_scenario(lab, workload={"arrival": "periodic", "fps": 10, "n_requests": 3, "seed": 1})
    result = run_scenario(load_scenario(path))
    assert result.engines == {"cloud-only": "fast"}
    records = result.records
    assert records.uplink_ms.tolist() == pytest.approx([8.0] * 3)
    assert records.cloud_queue_ms.tolist() == pytest.approx([0.0, 140.0, 280.0])
    assert records.total_ms.tolist() == pytest.approx([248.0, 388.0, 528.0])


def test_fast_where_it_does_not_apply_is_one_line_exit_2(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = lab_scenario(lab, network={"trace": "trace.csv", "sharing": "shared-cell"})
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(path), "-o", str(lab / "out"), "-q"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "s.yaml: engine:" in err and "shared-cell" in err
    assert not (lab / "out").exists()


@pytest.mark.parametrize("overrides, reason", [
    ({"cloud": {"max_batch": 2}}, "max_batch"),
    ({"schedules": [{"kind": "janus", "split_after": "auto", "alpha": "auto", "sla_ms": 300}]}, "Janus's scheduler"),
    ({"workload": {"arrival": "back-to-back", "n_requests": 3, "devices": 2, "seed": 1}}, "GPU pool binds"),
])
def test_fast_refuses_what_only_the_des_models(lab: Path, overrides: dict[str, Any], reason: str) -> None:
    """Batching, Janus's feedback scheduler, and two devices whose cloud jobs overlap on one GPU."""
    scenario = load_scenario(lab_scenario(lab, **overrides))
    with pytest.raises(InputError, match=reason):
        run_scenario(scenario)
    auto = run_scenario(scenario.model_copy(update={"engine": "auto"}))
    assert set(auto.engines.values()) == {"des"}


def test_manifest_names_the_engine(lab: Path) -> None:
    import json

    path = lab_scenario(lab, engine="auto")
    main(["run", str(path), "-o", str(lab / "out"), "-q", "--no-report"])
    manifest = json.loads((lab / "out" / "manifest.json").read_text())
    assert manifest["engine"] == {"requested": "auto", "ran": {"cloud-only": "fast"}}


@pytest.mark.parametrize("engine", ["des", "fast"])
@pytest.mark.parametrize("blocks, expected", [
    # 4 blocks x 62.5 ms = 250 ms = one period at 4 fps: each frame arrives exactly as the one before it
    # finishes, and its arrival was scheduled first, so it finds the device busy: every other frame drops.
    (4, ["ok", "dropped", "ok", "dropped", "ok"]),
    # 12 blocks = 750 ms: frame 3 arrives as frame 0 finishes, but frame 0's end was scheduled before
    # frame 3's arrival (at 0 s vs 0.5 s), so the device is free again.
    (12, ["ok", "dropped", "dropped", "ok", "dropped"]),
])
def test_frame_arriving_as_computation_ends(tmp_path: Path, engine: str, blocks: int, expected: list[str]) -> None:
    write_trace(tmp_path / "trace.csv", [0], [10])
    write_profile(tmp_path / "mobile.yaml", block_ms=62.5)
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0)
    path = write_scenario(tmp_path / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                          engine=engine, workload={"arrival": "periodic", "fps": 4, "n_requests": 5, "seed": 1,
                                                   "on_busy": "drop"},
                          schedules=[{"kind": "otas", "split_after": blocks, "r": 0}])
    result = run_scenario(load_scenario(path))
    assert set(result.engines.values()) == {engine}
    assert result.records.status.tolist() == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.5, 3.0, 40.0]), min_size=1, max_size=6), st.sampled_from(["loop", "stop"]),
       st.lists(st.floats(0.0, 12.0), min_size=1, max_size=40), st.sampled_from([0, 1, 999, 125_000, 3_000_000]))
def test_vector_transfer_ends_equal_scalar(rates: list[float], at_end: str, starts: list[float], n_bytes: int) -> None:
    """The fast path's vectorised transfer times are the DES's scalar ones, bit for bit (zero stretches,
    transfers ending on sample and pass boundaries, 'stop' traces running out)."""
    from simulator.traces import Trace

    if not any(rates):
        rates[0] = 3.0
    trace = Trace(np.arange(len(rates)) * 0.5, np.array(rates), len(rates) * 0.5, at_end)  # type: ignore[arg-type]
    starts += [0.5 * k for k in range(2 * len(rates) + 2)]  # sample and pass boundaries exactly
    expected = [trace.transfer_end(s, n_bytes) for s in starts]
    assert trace.transfer_ends(np.array(starts), n_bytes).tolist() == expected


def test_several_devices_run_fast_while_the_pool_never_binds(lab: Path) -> None:
    """Three devices at 1 fps with random phases, 240 ms cloud jobs on 3 GPUs: never more jobs than GPUs,
    so auto runs the fast path, and its records are the DES's."""
    sc = load_scenario(lab_scenario(lab, engine="auto", cloud={"gpus": 3},
                                    network={"trace": "trace.csv", "start_offset_s": "random", "rtt_ms": 30},
                                    workload={"arrival": "periodic", "fps": 1, "duration_s": 30, "devices": 3,
                                              "seed": 4, "on_busy": "drop"}))
    fast = run_scenario(sc)
    des = run_scenario(sc.model_copy(update={"engine": "des"}))
    assert fast.engines == {"cloud-only": "fast"}
    assert len(fast.records) == 90
    pd.testing.assert_frame_equal(fast.records, des.records, check_exact=True)
