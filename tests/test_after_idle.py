"""The opt-in ``compute_after_idle``: each profile's measured after-idle cost, once per compute burst."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import write_scenario

from simulator.config.scenario import load_scenario
from simulator.errors import InputError
from simulator.inputs.profiles import load_profile
from simulator.model.after_idle import with_after_idle
from simulator.model.runner import run_scenario
from simulator.plans.plan import PlanCost

BASE = "deit_base_distilled_patch16_224"


def test_added_once_to_each_side_that_computes() -> None:
    extra = (0.002, 0.003)
    assert with_after_idle(PlanCost(0.010, 0.0), extra) == PlanCost(0.012, 0.0)      # mobile-only
    assert with_after_idle(PlanCost(0.0, 0.020), extra) == PlanCost(0.0, 0.023)      # cloud-only
    assert with_after_idle(PlanCost(0.010, 0.020), extra) == PlanCost(0.012, 0.023)  # a split


def _with_after_idle(path: Path, ms: float) -> Path:
    data = yaml.safe_load(path.read_text())
    data["after_idle_ms"] = {BASE: ms}
    path.write_text(yaml.safe_dump(data))
    return path


def test_simulated_compute_gains_exactly_the_profiles_after_idle_ms(lab: Path) -> None:
    """lab's mobile: embed 10 + 12 blocks x 100 + head 5 = 1215 ms; cloud: 0.5 + 12 x 1 + 0.25 = 12.75 ms."""
    _with_after_idle(lab / "mobile.yaml", 7.0)
    _with_after_idle(lab / "cloud.yaml", 0.5)
    schedules = [{"kind": "mobile-only"}, {"kind": "cloud-only", "image_bytes": 1000}]
    common = {"mobile_profile": "mobile.yaml", "cloud_profile": "cloud.yaml", "schedules": schedules}
    for enabled, mobile_ms, cloud_ms in ((False, 1215.0, 12.75), (True, 1222.0, 13.25)):
        path = write_scenario(lab / f"s{enabled}.yaml", compute_after_idle=enabled, **common)
        records = run_scenario(load_scenario(path)).records
        on_mobile = records[records.schedule == "mobile-only"]
        on_cloud = records[records.schedule == "cloud-only"]
        assert on_mobile.mobile_ms.to_numpy() == pytest.approx([mobile_ms] * 5, abs=1e-9)
        assert (on_mobile.cloud_ms == 0).all()
        assert on_cloud.cloud_ms.to_numpy() == pytest.approx([cloud_ms] * 5, abs=1e-9)
        assert (on_cloud.mobile_ms == 0).all()


def test_profile_refuses_after_idle_for_a_model_it_does_not_cover(lab: Path) -> None:
    path = lab / "mobile.yaml"
    data = yaml.safe_load(path.read_text())
    data["after_idle_ms"] = {"deit_tiny_distilled_patch16_224": 2.0}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="after_idle_ms: model deit_tiny_distilled_patch16_224 has no latency"):
        load_profile(path)


def test_a_stage_graph_schedule_refuses_after_idle_in_one_line(lab: Path) -> None:
    """after_idle prices a two-tier Plan's two compute sides; a stage graph has per-Compute costs it would lose."""
    _with_after_idle(lab / "mobile.yaml", 7.0)
    _with_after_idle(lab / "cloud.yaml", 0.5)
    graph = {"kind": "hybrid-generation", "total_steps": 4, "cloud_steps": 4, "prompts": 1,
             "cloud_profile": "sd-v1-5-a100"}
    path = write_scenario(lab / "graph.yaml", compute_after_idle=True, mobile_profile="mobile.yaml",
                          cloud_profile="cloud.yaml", schedules=[graph])
    with pytest.raises(InputError, match="compute_after_idle.*stage graph"):
        run_scenario(load_scenario(path))
