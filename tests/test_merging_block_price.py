"""Merging blocks (OTAS, Janus) priced with a profile's ``tome_block`` curve, by hand; without it, as before."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import write_scenario, write_trace

from simulator.config.scenario import load_scenario
from simulator.inputs.profiles import load_profile
from simulator.inputs.vit import MODELS
from simulator.model.runner import run_scenario
from simulator.plans.plan import block_stages, stages_ms

TINY = "deit_tiny_distilled_patch16_224"
SPEC = MODELS[TINY]
D = 192  # DeiT-Ti's width; mlp_ratio 4, prefix tokens cls + dist = 2

EMBED, HEAD = 2.0, 0.1                             # constant stages, ms
MERGE_A, MERGE_B = 0.3, 0.001                      # the merge kernel: 0.3 + 0.001 N ms
BLOCK_A, BLOCK_B = 0.4, 0.01                       # plain block: 0.4 + 0.01 N ms
TOME_A, TOME_B, TOME_C = 0.5, 0.012, 2e-5          # merging block at the reference r: a + b N + c N^2 ms


def write_tiny_profile(path: Path, *, tome_block: bool) -> Path:
    stages: dict[str, Any] = {"embed": {"fit": {"a_ms": EMBED}}, "head": {"fit": {"a_ms": HEAD}},
                              "block": {"fit": {"a_ms": BLOCK_A, "b_ms": BLOCK_B}},
                              "tome_merge": {"fit": {"a_ms": MERGE_A, "b_ms": MERGE_B}}}
    if tome_block:
        stages["tome_block"] = {"fit": {"a_ms": TOME_A, "b_ms": TOME_B, "c_ms": TOME_C}}
    path.write_text(yaml.safe_dump({"format": "mercury-sim-profile/1", "name": path.stem, "device": "test",
                                    "provenance": {"kind": "fitted", "method": "constants chosen by the test"},
                                    "models": {TINY: stages}}))
    return path


def equal_mac_tokens(n_in: int, n_out: int) -> float:
    """N with 12 N d^2 + 2 N^2 d = 4 n_in d^2 + 2 n_in^2 d + 8 n_out d^2 (the block's MACs, vit.py 1.2)."""
    macs = 4 * n_in * D * D + 2 * n_in * n_in * D + 8 * n_out * D * D
    a, b = 2 * D, 12 * D * D
    return (-b + math.sqrt(b * b + 4 * a * macs)) / (2 * a)


def plain_block(n: float) -> float:
    return BLOCK_A + BLOCK_B * n


def merging_block_by_hand(n_in: int, n_out: int) -> float:
    """tome_block(n_in), timed merging r_ref = (n_in - 2) // 4 (at least 1), moved to the real n_out along
    the plain-block curve."""
    r_ref = max(1, (n_in - 2) // 4)
    measured = TOME_A + TOME_B * n_in + TOME_C * n_in * n_in
    return measured + plain_block(equal_mac_tokens(n_in, n_out)) - plain_block(equal_mac_tokens(n_in, n_in - r_ref))


# (n_in, n_out): OTAS r = 8 at the start; Janus alpha 0.6's first block; a small late Janus block
BLOCKS = [(198, 190), (198, 101), (52, 27), (6, 4)]


@pytest.mark.parametrize("block", BLOCKS)
def test_merging_block_priced_from_tome_block_by_hand(block: tuple[int, int], tmp_path: Path) -> None:
    profile = load_profile(write_tiny_profile(tmp_path / "p.yaml", tome_block=True))
    priced = stages_ms(profile, SPEC, block_stages([block], merge_step=True))
    assert priced == pytest.approx(merging_block_by_hand(*block), rel=1e-12)


@pytest.mark.parametrize("block", BLOCKS)
def test_without_tome_block_priced_as_before(block: tuple[int, int], tmp_path: Path) -> None:
    profile = load_profile(write_tiny_profile(tmp_path / "p.yaml", tome_block=False))
    priced = stages_ms(profile, SPEC, block_stages([block], merge_step=True))
    n_in, n_out = block
    assert priced == pytest.approx(plain_block(equal_mac_tokens(n_in, n_out)) + MERGE_A + MERGE_B * n_in, rel=1e-12)


def test_plain_blocks_ignore_tome_block(tmp_path: Path) -> None:
    profile = load_profile(write_tiny_profile(tmp_path / "p.yaml", tome_block=True))
    assert stages_ms(profile, SPEC, block_stages([(198, 198), (3, 3)], merge_step=True)) == pytest.approx(
        plain_block(198) + plain_block(3), rel=1e-12)


def test_otas_and_janus_records_use_tome_block_in_both_engines(tmp_path: Path) -> None:
    """OTAS r = 8 and Janus alpha 0.6 split after 3: the device runs embed + 3 merging blocks, the cloud the
    other 9 blocks and the head; both engines give these times and identical records."""
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3], [10, 10, 10, 10])
    write_tiny_profile(tmp_path / "p.yaml", tome_block=True)
    records = {}
    for engine in ("des", "fast"):
        path = write_scenario(tmp_path / f"{engine}.yaml", model=TINY, mobile_profile="p.yaml", cloud_profile="p.yaml",
                              engine=engine,
                              schedules=[{"kind": "otas", "split_after": 3, "r": 8, "label": "otas"},
                                         {"kind": "janus", "split_after": 3, "alpha": 0.6, "label": "janus"}])
        result = run_scenario(load_scenario(path))
        assert set(result.engines.values()) == {engine}
        records[engine] = result.records
    pd.testing.assert_frame_equal(records["des"], records["fast"], check_exact=True)
    otas = [(198 - 8 * i, 190 - 8 * i) for i in range(12)]
    janus = [(198, 101), (101, 52), (52, 27), (27, 15), (15, 9), (9, 6), (6, 4), (4, 3)]
    for label, blocks in (("otas", otas), ("janus", janus)):
        rows = records["des"][records["des"].schedule == label]
        device = EMBED + sum(merging_block_by_hand(*b) for b in blocks[:3])
        cloud = sum(merging_block_by_hand(*b) for b in blocks[3:]) + plain_block(3) * (12 - len(blocks)) + HEAD
        assert rows.mobile_ms.tolist() == pytest.approx([device] * len(rows), rel=1e-9)
        assert rows.cloud_ms.tolist() == pytest.approx([cloud] * len(rows), rel=1e-9)
