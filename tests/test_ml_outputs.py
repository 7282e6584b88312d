"""The ML harness's outputs (checkpoints, accuracy tables): written whole or not at all, never over a
file mercury-sim did not write."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")

import torch  # noqa: E402

from simulator.errors import InputError  # noqa: E402
from simulator.ml.checkpoints import read_tensors, write_tensors  # noqa: E402
from simulator.ml.harness import Row, write_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROWS = [Row("m", "d", "none", None, 0.0, "none", 80.0, "measured: test"),
        Row("m", "d", "janus", 3, 0.0, "none", 80.0, "measured: test"),
        Row("m", "d", "janus", 3, 0.5, "none", 70.0, "measured: test")]

# Runs one write in a child whose file-size limit cuts it short (as a full disk or a kill would): the
# earlier output must stay byte for byte, and no temporary file may be left beside it.
CUT_SHORT = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    import torch
    from simulator.ml.checkpoints import write_tensors
    from simulator.ml.harness import Row, write_table
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    which, target = sys.argv[1], Path(sys.argv[2])
    tensors = {"w": torch.arange(200_000, dtype=torch.float32)}
    rows = [Row("m", "d", "none", None, 0.0, "none", 80.0, "measured: test")]
    comments = [f"line {i} " + "x" * 100 for i in range(100)]
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    try:
        write_tensors(tensors, target) if which == "tensors" else write_table(target, rows, comments)
    except Exception:
        sys.exit(3)
    sys.exit(0)
""")


def _cut_short(which: str, target: Path) -> None:
    result = subprocess.run([sys.executable, "-c", CUT_SHORT, which, str(target)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 3, result.stderr[-2000:]


def test_an_interrupted_checkpoint_write_leaves_the_earlier_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "tokens.safetensors"
    write_tensors({"w": torch.ones(3)}, target)
    before = target.read_bytes()
    _cut_short("tensors", target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.safetensors"]
    assert torch.equal(read_tensors(target)["w"], torch.ones(3))


def test_an_interrupted_table_write_leaves_the_earlier_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "acc.csv"
    write_table(target, ROWS, ["command: mercury-sim accuracy (test)"])
    before = target.read_bytes()
    _cut_short("table", target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acc.csv"]


def test_a_file_mercury_sim_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    foreign_weights, foreign_table = tmp_path / "user.safetensors", tmp_path / "user.csv"
    foreign_weights.write_bytes(b"someone's weights")
    foreign_table.write_text("model,dataset\nmine,mine\n")
    with pytest.raises(InputError, match="not written by mercury-sim"):
        write_tensors({"w": torch.ones(2)}, foreign_weights)
    with pytest.raises(InputError, match="not written by mercury-sim"):
        write_table(foreign_table, ROWS, ["command: mercury-sim accuracy (test)"])
    assert foreign_weights.read_bytes() == b"someone's weights"
    assert foreign_table.read_text() == "model,dataset\nmine,mine\n"


def test_its_own_earlier_outputs_are_replaced(tmp_path: Path) -> None:
    weights, table = tmp_path / "w.safetensors", tmp_path / "acc.csv"
    write_tensors({"w": torch.ones(2)}, weights, {"model": "m"})
    write_tensors({"w": torch.zeros(2)}, weights, {"model": "m"})
    assert torch.equal(read_tensors(weights)["w"], torch.zeros(2))
    write_table(table, ROWS, ["command: mercury-sim accuracy (first)"])
    write_table(table, ROWS[:1], ["command: mercury-sim accuracy (second)"])
    assert "(second)" in table.read_text() and "janus" not in table.read_text()


def test_an_invalid_table_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    table = tmp_path / "acc.csv"
    write_table(table, ROWS, ["command: mercury-sim accuracy (valid)"])
    before = table.read_bytes()
    bad = [Row("m", "d", "no-such-method", 3, 0.0, "none", 80.0, "measured: test")]
    with pytest.raises(InputError, match="no-such-method"):
        write_table(table, bad, ["command: mercury-sim accuracy (invalid)"])
    assert table.read_bytes() == before
