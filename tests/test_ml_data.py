"""CIFAR-100 'python' files load through a restricted unpickler: the real layout loads, a crafted file that
would run a command is refused with one line and exit code 2, and the command never runs."""

from __future__ import annotations

import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("timm")

from simulator.cli.app import main  # noqa: E402
from simulator.errors import InputError  # noqa: E402
from simulator.ml.checkpoints import build_model, write_tensors  # noqa: E402
from simulator.ml.data import read_cifar_batch  # noqa: E402
from simulator.ml.example import MODEL  # noqa: E402


def cifar_batch(n: int = 6) -> dict[bytes, object]:
    """The CIFAR-100 'python' layout: bytes keys, an N x 3072 uint8 array, lists of labels and names."""
    rng = np.random.default_rng(0)
    return {b"filenames": [f"img_{i}.png".encode() for i in range(n)], b"batch_label": b"testing batch 1 of 1",
            b"fine_labels": [int(v) for v in rng.integers(0, 100, n)],
            b"coarse_labels": [int(v) for v in rng.integers(0, 20, n)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}


class RunsACommand:
    """Unpickling this calls os.system: what a crafted 'CIFAR' file can do to a plain pickle.load."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_the_cifar_layout_loads(protocol: int, tmp_path: Path) -> None:
    batch = cifar_batch()
    (tmp_path / "test").write_bytes(pickle.dumps(batch, protocol=protocol))
    images, labels = read_cifar_batch(tmp_path / "test")
    assert labels == batch[b"fine_labels"]
    assert images.shape == (6, 3, 32, 32)
    np.testing.assert_array_equal(images.reshape(6, -1), batch[b"data"])


def test_a_pickle_that_runs_a_command_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "pwned"
    batch = cifar_batch()
    batch[b"batch_label"] = RunsACommand(marker)
    crafted = pickle.dumps(batch, protocol=2)
    pickle.loads(crafted)  # the threat is real: plain unpickling runs the command
    assert marker.exists()
    marker.unlink()

    data = tmp_path / "cifar"
    data.mkdir()
    (data / "test").write_bytes(crafted)
    with pytest.raises(InputError, match=r"refused (posix|os|nt)\.system"):
        read_cifar_batch(data / "test")
    write_tensors(build_model(MODEL).state_dict(), tmp_path / "model.safetensors")
    with pytest.raises(SystemExit) as exc:
        main(["accuracy", "--model", MODEL, "--checkpoint", str(tmp_path / "model.safetensors"), "--data", str(data),
              "-o", str(tmp_path / "acc.csv"), "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "system" in err and "Traceback" not in err
    assert not marker.exists() and not (tmp_path / "acc.csv").exists()


def test_other_globals_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "test"
    path.write_bytes(pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"fine_labels": [1],
                                   b"extra": subprocess.Popen}, protocol=4))
    with pytest.raises(InputError, match=r"refused subprocess\.Popen"):
        read_cifar_batch(path)

