"""The "Profile a device" guide's commands (docs/how-to/profile-device.md, bring your own device, model and
schedule) run as written, on small data: a profile measured on this host with few
points and repeats, the accuracy of random DeiT-Ti weights on four images, then the scenario and the sweep of
the section, with the example plugin file. What they measured is what the run reads: Mercury's top-1 is the
measured row at its reduction, its device time the measured profile's stages."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO

pytest.importorskip("torch")
pytest.importorskip("timm")

from simulator.cli.app import main  # noqa: E402
from simulator.inputs.accuracy import read_accuracy_csv  # noqa: E402
from simulator.inputs.profiles import load_profile  # noqa: E402
from simulator.inputs.vit import MODELS, mercury_pruned  # noqa: E402

# What each command gets on top of the guide's words, to run in seconds (the settings of test_profiler.py
# and test_ml_cli.py): few token points and repeats, four images, no progress bars or pages.
SMALL = {
    "profile": ["--tokens", "10,198", "--batch", "1", "--threads", "1", "--repeats", "1", "--warmup", "0", "-q"],
    "accuracy": ["--batch-size", "4", "-q"],
    "run": ["-q", "--no-report"],
    "sweep": ["-q", "-j", "1"],
}


def section() -> str:
    """The guide's first part: the commands and the two files they use (before its own sections)."""
    text = (REPO / "docs" / "how-to" / "profile-device.md").read_text(encoding="utf-8")
    return text.split("\n## ", 1)[0]


def commands(text: str) -> list[list[str]]:
    """The block's command lines, continuation lines joined, comments dropped."""
    block = re.search(r"<!-- bring-your-own:start -->\n```sh\n(.*?)```\n<!-- bring-your-own:end -->", text, re.S)
    assert block is not None, "the guide lost its bring-your-own block"
    return [shlex.split(line) for line in block.group(1).replace("\\\n", " ").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Random DeiT-Ti weights, four 32 x 32 images in two classes, the example plugin, the section's files."""
    import timm
    import torch
    from PIL import Image

    from simulator.ml.checkpoints import write_tensors

    torch.manual_seed(0)
    model = timm.create_model("deit_tiny_distilled_patch16_224", pretrained=False)
    write_tensors(model.state_dict(), tmp_path / "my-deit-tiny.safetensors")
    rng = np.random.default_rng(0)
    for i in range(4):
        folder = tmp_path / "my-images" / "test" / f"c{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    shutil.copy(REPO / "examples" / "threshold-plugin" / "mercury_threshold.py", tmp_path / "mercury_threshold.py")
    scenario_text, sweep_text = re.findall(r"```yaml\n(.*?)```", section(), re.S)
    (tmp_path / "my-scenario.yaml").write_text(scenario_text)
    (tmp_path / "my-sweep.yaml").write_text(sweep_text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.schedules import plugins, registry

    monkeypatch.setattr(registry, "_PLUGINS", dict(registry._PLUGINS))
    monkeypatch.setattr(plugins, "_FILES", {})
    monkeypatch.setattr(plugins, "_SOURCES", {})


def test_the_bring_your_own_commands_run_and_connect(workdir: Path) -> None:
    lines = commands(section())
    assert [line[:2] for line in lines] == [["mercury-sim", "profile"], ["mercury-sim", "accuracy"],
                                           ["mercury-sim", "run"], ["mercury-sim", "sweep"]]
    for line in lines:
        assert main([*line[1:], *SMALL[line[1]]]) in (0, None), line

    rows = read_accuracy_csv(workdir / "my-accuracy.csv")
    assert sorted(rows.parameter) == [0.0, 0.5] and set(rows.dataset) == {"my-images"}
    measured = float(rows[rows.parameter == 0.5].top1.iloc[0])
    records = pd.read_parquet(workdir / "reports" / "mine" / "records.parquet")
    mercury = records[records.schedule == "mercury"]
    assert (mercury.accuracy == measured).all()  # the run read the measured row at reduction 0.5

    spec = MODELS["deit_tiny_distilled_patch16_224"]
    phone = load_profile(workdir / "my-phone.yaml")
    n, kept = spec.num_tokens, spec.num_tokens - mercury_pruned(spec, 0.5, 2)
    device_ms = (phone.stage_ms(spec, "embed", n) + phone.stage_ms(spec, "block", n)
                 + phone.stage_ms(spec, "mercury_prune", spec.num_patches) + 2 * phone.stage_ms(spec, "block", kept))
    assert mercury.mobile_ms.to_numpy() == pytest.approx(device_ms, rel=1e-9)  # split 3 on the measured phone

    table = pd.read_parquet(workdir / "reports" / "mine-threshold" / "sweep.parquet")
    assert sorted(table["schedules.mercury-threshold.below_mbps"].unique()) == [10, 30]
    assert (table[table.schedule == "mercury"].mean_accuracy == measured).all()
    assert yaml.safe_load((workdir / "reports" / "mine" / "scenario.yaml").read_text())["plugins"] == [
        str(workdir / "mercury_threshold.py")]
