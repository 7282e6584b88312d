"""A measured profile must predict real forwards on the same host: full (10 %) and Mercury-pruned (15 %).

Each test measures a profile, then times the timm forward end to end and Mercury's pruned forward (block 1
at N0, half the patches pruned, blocks 2..12 run by hand on the rest) and compares. One thread, so the
other core absorbs whatever else the host is running.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli.app import main
from simulator.inputs.profiles import load_profile


def _validate(model: str, tmp_path: Path, repeats: int) -> None:
    from simulator.ml.forward_check import check_forwards
    from simulator.ml.profiler import set_threads

    out = tmp_path / "p.yaml"
    assert main(["profile", "--model", model, "--tokens", "10,100,198", "--batch", "1", "--threads", "1",
              "--repeats", str(repeats), "--warmup", "2", "--out", str(out), "-q"]) in (0, None)
    set_threads(1)
    checks = check_forwards(load_profile(out), model, repeats=repeats, warmup=2)
    full, mercury = checks["full"], checks["mercury"]
    assert abs(full.error) < 0.10, full
    assert abs(mercury.error) < 0.15, mercury
    assert mercury.measured_ms < full.measured_ms  # pruning half the tokens must save time


@pytest.mark.slow  # a timing comparison: only meaningful on a quiet host, so not in the default run
def test_tiny_profile_predicts_forwards(tmp_path: Path) -> None:
    _validate("deit_tiny_distilled_patch16_224", tmp_path, repeats=7)


@pytest.mark.slow
def test_base_profile_predicts_forwards(tmp_path: Path) -> None:
    _validate("deit_base_distilled_patch16_224", tmp_path, repeats=10)
