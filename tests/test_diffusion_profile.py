"""Diffusion profiles (the data for hybrid generation): latent bytes by hand, step latency interpolation,
and one-line errors for bad files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO

from simulator.errors import InputError
from simulator.inputs.diffusion_profile import latent_bytes, load_diffusion_profile


def _document(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": "mercury-sim-diffusion-profile/1",
        "name": "test-unet",
        "tier": "device",
        "device": "test device",
        "model": {"name": "test UNet"},
        "latent": {"channels": 4, "height": 64, "width": 64, "precision": "fp32", "bytes": 65536},
        "step_ms": {"batch": [1, 2, 4], "ms": [100.0, 180.0, 400.0]},
        "provenance": {"kind": "measured", "command": "test"},
    }
    data.update(overrides)
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "diffusion.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_latent_bytes_by_hand() -> None:
    assert latent_bytes(4, 64, 64, "fp32") == 4 * 64 * 64 * 4 == 65_536      # SD v1 at 512 x 512
    assert latent_bytes(4, 128, 128, "fp16") == 4 * 128 * 128 * 2 == 131_072  # SDXL at 1024 x 1024, fp16


def test_step_latency_is_interpolated_between_measured_batches(tmp_path: Path) -> None:
    profile = load_diffusion_profile(_write(tmp_path, _document()))
    assert profile.step_ms(1) == 100.0 and profile.step_ms(2) == 180.0
    assert profile.step_ms(3) == pytest.approx(290.0)  # halfway between 180 (batch 2) and 400 (batch 4)
    assert profile.steps_ms(5, 3) == pytest.approx(1450.0) and profile.steps_ms(0, 4) == 0.0
    assert profile.latent_bytes == 65_536


def test_batch_outside_the_measurements_is_an_error(tmp_path: Path) -> None:
    profile = load_diffusion_profile(_write(tmp_path, _document()))
    with pytest.raises(InputError, match=r"batch 5 outside the measured batch sizes 1\.\.4"):
        profile.step_ms(5)


@pytest.mark.parametrize(("change", "message"), [
    ({"latent": {"channels": 4, "height": 64, "width": 64, "precision": "fp16", "bytes": 65536}},
     "bytes 65536 != 4 x 64 x 64 x 2 (fp16) = 32768"),
    ({"step_ms": {"batch": [1, 1], "ms": [1.0, 2.0]}}, "batch sizes must increase strictly"),
    ({"step_ms": {"batch": [1, 2], "ms": [1.0]}}, "differ in length"),
    ({"step_ms": {"batch": [1], "ms": [0.0]}}, "step latencies must be > 0"),
    ({"provenance": {"command": "x"}}, "provenance.kind must be measured, published or fitted"),
    ({"tier": "edge"}, "tier"),
    ({"steps": 3}, "unknown key"),
])
def test_bad_files_give_one_line_naming_file_and_key(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = _write(tmp_path, _document(**change))
    with pytest.raises(InputError) as info:
        load_diffusion_profile(path)
    line = str(info.value)
    assert str(path) in line and message in line and "\n" not in line


def test_missing_profile_names_the_shipped_ones() -> None:
    with pytest.raises(InputError, match="diffusion profile 'sd-v1-unet-x86' not found.*did you mean"):
        load_diffusion_profile("sd-v1-unet-x86")


def test_shipped_profiles_load_and_state_their_latent() -> None:
    shipped = sorted((REPO / "profiles" / "diffusion").glob("*.yaml"))
    assert shipped
    for path in shipped:
        profile = load_diffusion_profile(path.stem)
        latent = profile.file.latent
        assert profile.latent_bytes == latent.channels * latent.height * latent.width * {"fp32": 4, "fp16": 2}[
            latent.precision]
        provenance = profile.file.provenance  # a measured file says how, a published one where
        assert provenance["command"] if provenance["kind"] == "measured" else provenance["kind"] == "published"
        assert provenance["kind"] == "measured" or (provenance["source"] and provenance["tables"])
        ms = profile.file.step_ms.ms
        assert all(b > a for a, b in zip(ms, ms[1:], strict=False))  # a bigger batch never takes less time
