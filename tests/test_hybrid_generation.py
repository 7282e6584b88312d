"""The hybrid-generation schedule (ObCLIP): its ends are cloud-only and device-only, the downlink carries n
latents, and bad entries are one-line errors.

Expected values by hand on the lab (tests/conftest.py: a 10 Mbit/s constant uplink) with a 20 ms RTT, an
8 Mbit/s downlink and two test diffusion profiles: the cloud's step takes 10, 12, 16, 24 ms on 1, 2, 4, 8
latents, the device's 100 and 180 ms on 1 and 2; a latent is 4 x 64 x 64 fp16 = 32,768 B.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import write_scenario

from simulator.cli.app import main
from simulator.config.scenario import load_scenario
from simulator.inputs.denoising import DenoisingSteps
from simulator.inputs.diffusion_profile import load_diffusion_profile
from simulator.model.runner import run_scenario
from simulator.plans.graph import Compute
from simulator.plans.plan import Stage

LATENT = 4 * 64 * 64 * 2
NETWORK = {"trace": "trace.csv", "mode": "trace", "rtt_ms": 20, "downlink_mbps": 8}
WORKLOAD = {"arrival": "periodic", "fps": 0.5, "n_requests": 4, "seed": 3}  # 2 s apart: nothing queues


def _profile(lab: Path, name: str, tier: str, batch: list[int], ms: list[float], height: int = 64) -> None:
    data = {"format": "mercury-sim-diffusion-profile/1", "name": name, "tier": tier, "device": "test",
            "model": {"name": "test UNet"},
            "latent": {"channels": 4, "height": height, "width": 64, "precision": "fp16",
                       "bytes": 4 * height * 64 * 2},
            "step_ms": {"batch": batch, "ms": ms}, "provenance": {"kind": "fitted", "method": "test constants"}}
    (lab / f"{name}.yaml").write_text(yaml.safe_dump(data))


@pytest.fixture
def gen_lab(lab: Path) -> Path:
    _profile(lab, "cloud-unet", "cloud", [1, 2, 4, 8], [10.0, 12.0, 16.0, 24.0])
    _profile(lab, "device-unet", "device", [1, 2], [100.0, 180.0])
    _profile(lab, "wide-unet", "device", [1, 2], [100.0, 180.0], height=96)
    return lab


def _entry(**keys: Any) -> dict[str, Any]:
    return {"kind": "hybrid-generation", "label": "h", "total_steps": 5, "cloud_profile": "cloud-unet.yaml",
            "device_profile": "device-unet.yaml", **keys}


def _scenario(lab: Path, *entries: dict[str, Any]) -> Path:
    return write_scenario(lab / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                          network=NETWORK, workload=WORKLOAD, schedules=list(entries))


def _records(lab: Path, **keys: Any) -> Any:
    return run_scenario(load_scenario(_scenario(lab, _entry(**keys)))).records


def test_all_steps_in_the_cloud_for_one_prompt_is_cloud_only(gen_lab: Path) -> None:
    r = _records(gen_lab, cloud_steps=5, prompts=1)
    # 308 B of prompt at 10 Mbit/s + 10 ms; 5 steps x 12 ms (1 prompt, 2 latents with guidance);
    # 10 ms + one latent at 8 Mbit/s (32.768 ms); nothing on the device.
    assert np.allclose(r.uplink_ms, 308 * 8 / 10e6 * 1e3 + 10, rtol=0, atol=1e-9)
    assert np.allclose(r.cloud_ms, 60.0, rtol=0, atol=1e-9)
    assert np.allclose(r.return_ms, 10 + 32.768, rtol=0, atol=1e-9)
    assert (r.mobile_ms == 0).all() and (r.uplink_bytes == 308).all()
    assert np.allclose(r.total_ms, 0.2464 + 10 + 60 + 10 + 32.768, rtol=0, atol=1e-9)


def test_no_cloud_steps_is_device_only(gen_lab: Path) -> None:
    r = _records(gen_lab, cloud_steps=0, prompts=4)
    assert np.allclose(r.total_ms, 5 * 180.0, rtol=0, atol=1e-9)  # 5 steps on 2 latents (guidance)
    assert np.allclose(r.mobile_ms, r.total_ms, rtol=0, atol=1e-9)
    assert (r.uplink_bytes == 0).all() and (r.uplink_ms == 0).all() and (r.cloud_ms == 0).all()
    assert (r.return_ms == 0).all()


def test_downlink_carries_n_latents_and_the_device_finishes_one(gen_lab: Path) -> None:
    r = _records(gen_lab, cloud_steps=2, prompts=4)
    assert np.allclose(r.return_ms, 4 * LATENT * 8 / 8e6 * 1e3 + 10, rtol=0, atol=1e-9)  # 131.072 + 10
    assert np.allclose(r.cloud_ms, 2 * 24.0, rtol=0, atol=1e-9)       # 2 steps on 8 latents
    assert np.allclose(r.mobile_ms, 3 * 180.0, rtol=0, atol=1e-9)     # 3 steps on the kept prompt's 2
    assert (r.uplink_bytes == 4 * 308).all()
    without_guidance = _records(gen_lab, cloud_steps=2, prompts=4, guidance=False)
    assert np.allclose(without_guidance.cloud_ms, 2 * 16.0, rtol=0, atol=1e-9)
    assert np.allclose(without_guidance.mobile_ms, 3 * 100.0, rtol=0, atol=1e-9)


def test_first_steps_on_a_near_edge_server_use_its_link(gen_lab: Path) -> None:
    servers = {"near-edge": {"profile": "cloud.yaml", "link": {"mbps": 8, "rtt_ms": 4, "downlink_mbps": 4}}}
    path = write_scenario(gen_lab / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                          network=NETWORK, workload=WORKLOAD, servers=servers,
                          schedules=[_entry(cloud_steps=5, cloud_tier="near-edge")])
    r = run_scenario(load_scenario(path)).records
    # 308 B at 8 Mbit/s + 2 ms; 60 ms of steps; 2 ms + one latent at 4 Mbit/s (65.536 ms)
    assert np.allclose(r.total_ms, 0.308 + 2 + 60 + 2 + 65.536, rtol=0, atol=1e-9)


def test_priced_work_and_vit_stages_do_not_mix(gen_lab: Path) -> None:
    steps = DenoisingSteps(load_diffusion_profile(gen_lab / "cloud-unet.yaml"), 3, 4)
    assert steps.seconds() == pytest.approx(0.048)
    with pytest.raises(ValueError, match="not both"):
        Compute("cloud", (Stage("block", 197, 197),), work=steps)


ENTRY_ERRORS = {
    "more cloud steps than steps": (_entry(cloud_steps=6), "schedules[0]: cloud_steps: 6 is more than total_steps (5)"),
    "no prompt": (_entry(cloud_steps=2, prompts=0), "prompts: Input should be greater than or equal to 1"),
    "no cloud profile": ({k: v for k, v in _entry(cloud_steps=2).items() if k != "cloud_profile"},
                         "schedules[0]: cloud_profile: missing"),
    "no device profile": ({k: v for k, v in _entry(cloud_steps=2).items() if k != "device_profile"},
                          "schedules[0]: device_profile: missing"),
    "profile not found": (_entry(cloud_steps=2, cloud_profile="nowhere.yaml"),
                          "schedules[0]: cloud_profile: diffusion profile 'nowhere.yaml' not found"),
    "batch beyond the profile": (_entry(cloud_steps=2, prompts=5),
                                 "cloud_profile: a batch of 10 latents is outside cloud-unet's batch sizes 1..8"),
    "first steps on a missing tier": (_entry(cloud_steps=2, cloud_tier="edge"),
                                      "schedules[0]: cloud_tier: no tier 'edge' in the scenario (servers: cloud)"),
    "latents of another shape": (_entry(cloud_steps=2, device_profile="wide-unet.yaml"),
                                 "device_profile: wide-unet's latent 4x96x64 cannot continue cloud-unet's 4x64x64"),
}


@pytest.mark.parametrize("case", sorted(ENTRY_ERRORS))
def test_bad_entry_is_one_line_exit_2(gen_lab: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    entry, expected = ENTRY_ERRORS[case]
    path = _scenario(gen_lab, entry)
    with pytest.raises(SystemExit) as exc:
        main(["run", str(path), "-o", str(gen_lab / "out"), "--no-report"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (gen_lab / "out").exists()


def test_shipped_scenario_runs_with_the_published_cloud_profile(repo: Path) -> None:
    result = run_scenario(load_scenario(repo / "scenarios" / "hybrid-generation.yaml"))
    means = result.records.groupby("schedule", observed=True).cloud_ms.mean()
    # 50 steps at 1000 / 21.66 ms (the published A100 rate at one prompt with guidance; the file keeps 4 decimals)
    assert means["cloud-only"] == pytest.approx(50 * 1000 / 21.66, abs=50 * 5e-5)
    assert means["hybrid-s10-n4"] == pytest.approx(10 * 1000 / 11.6, abs=10 * 5e-5)  # 4 prompts: 11.6 it/s


def test_diffusion_profiles_count_as_the_run_inputs(gen_lab: Path) -> None:
    from simulator.studies.sweep import point_key

    path = _scenario(gen_lab, _entry(cloud_steps=2, prompts=2))
    main(["run", str(path), "-o", str(gen_lab / "out"), "--no-report", "-q"])
    written = yaml.safe_load((gen_lab / "out" / "scenario.yaml").read_text())["schedules"][0]
    assert written["cloud_profile"] == str(gen_lab.resolve() / "cloud-unet.yaml")  # re-runs from any folder
    inputs = yaml.safe_load((gen_lab / "out" / "manifest.json").read_text())["inputs"]
    assert inputs["schedules[0].device_profile"]["path"] == str(gen_lab.resolve() / "device-unet.yaml")
    before = point_key(load_scenario(path), {})
    _profile(gen_lab, "cloud-unet", "cloud", [1, 2, 4, 8], [10.0, 12.0, 16.0, 25.0])
    assert point_key(load_scenario(path), {}) != before  # a changed profile is a new sweep point
