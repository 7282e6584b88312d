"""The accuracy and train-reconstruction commands: happy path and one-line errors (exit code 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("timm")

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from simulator.cli.app import main  # noqa: E402
from simulator.inputs.accuracy import read_accuracy_csv  # noqa: E402
from simulator.ml.checkpoints import build_model, write_tensors  # noqa: E402
from simulator.ml.example import MODEL, make_shapes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ml_cli")
    torch.manual_seed(0)
    write_tensors(build_model(MODEL).state_dict(), root / "model.safetensors")
    images, labels = make_shapes(40, seed=3)
    for i, (img, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / "data" / "test" / f"c{int(label)}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.permute(1, 2, 0).numpy()).save(folder / f"{i}.png")
    (root / "data" / "train").symlink_to(root / "data" / "test")
    (root / "corrupt.safetensors").write_bytes(b"\x00garbage" * 10)
    torch.save({"head.weight": torch.zeros(3, 3)}, root / "wrong.pt")
    return root


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0), capsys.readouterr().err


def test_accuracy_and_training_write_valid_files(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = [
        "--model",
        MODEL,
        "--checkpoint",
        str(workdir / "model.safetensors"),
        "--data",
        str(workdir / "data"),
        "--quiet",
    ]
    tokens = workdir / "tokens.safetensors"
    main(["train-reconstruction", *common, "--rates", "0.5", "--steps", "2", "--out", str(tokens)])
    out = workdir / "table.csv"

    def learned_mercury(grid: str) -> list[str]:
        return ["accuracy", *common, "--method", "mercury", "--grid", grid, "--reconstruction", "learned",
                "--tokens", str(tokens), "--out", str(out)]

    main(learned_mercury("0,0.5"))
    frame = read_accuracy_csv(out)
    assert list(frame.parameter) == [0.0, 0.5] and set(frame.reconstruction) == {"learned"}
    text = out.read_text()
    assert "# checkpoint: model.safetensors sha256" in text and "# host:" in text
    code, err = _run(learned_mercury("0.75"), capsys)
    assert code == 2 and "no learned tokens" in err and len(err.strip().splitlines()) == 1


def test_accuracy_rows_name_their_prune_point(workdir: Path) -> None:
    out = workdir / "before.csv"
    main(["accuracy", "--model", MODEL, "--checkpoint", str(workdir / "model.safetensors"), "--data",
          str(workdir / "data"), "--quiet", "--method", "mercury", "--grid", "0,0.5", "--prune-point",
          "before_block1", "--out", str(out)])
    frame = read_accuracy_csv(out)
    assert list(frame.prune_point) == ["before_block1", "before_block1"]
    assert out.read_text().splitlines()[-1].endswith(",before_block1")


@pytest.mark.parametrize("checkpoint", ["corrupt.safetensors", "wrong.pt", "missing.pt"])
def test_bad_checkpoint_is_one_line_exit_2(
    workdir: Path, capsys: pytest.CaptureFixture[str], checkpoint: str
) -> None:
    code, err = _run(
        [
            "accuracy",
            "--model",
            MODEL,
            "--checkpoint",
            str(workdir / checkpoint),
            "--data",
            str(workdir / "data"),
            "--quiet",
        ],
        capsys,
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err


def test_wrong_architecture_via_subprocess(workdir: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "accuracy",
            "--model",
            "deit_tiny_patch16_224",
            "--checkpoint",
            str(workdir / "model.safetensors"),
            "--data",
            str(workdir / "data"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "do not fit deit_tiny_patch16_224" in proc.stderr


def test_import_simulator_does_not_load_torch() -> None:
    code = "import sys, simulator, simulator.cli.app; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
