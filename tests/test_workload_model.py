"""The ViT workload model, accuracy tables and profile curves against published numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.errors import InputError
from simulator.inputs.accuracy import AccuracyTable
from simulator.inputs.profiles import load_profile
from simulator.inputs.vit import (
    constant_r,
    get_model,
    janus_deltas,
    mercury_max_reduction,
    mercury_pruned,
    tome_tokens,
)

DEIT_B = get_model("deit_base_distilled_patch16_224")


def test_macs_match_timm_reported() -> None:
    """research/algorithms.md 1.2: 17.657 G formula vs timm's 17.68 G (0.1 % for element-wise ops)."""
    total = 12 * DEIT_B.block_macs(198) + DEIT_B.embed_macs() + DEIT_B.head_macs()
    assert total / 1e9 == pytest.approx(17.68, rel=0.002)
    vit_b = get_model("vit_base_patch16_224")
    assert (12 * vit_b.block_macs(197) + vit_b.embed_macs() + vit_b.head_macs()) / 1e9 == pytest.approx(17.58,
                                                                                                      rel=0.002)
    assert 2 * 9 * DEIT_B.block_macs(198) / 1e9 == pytest.approx(26.3, abs=0.01)  # Mercury Table I cloud FLOPs
    assert 9 * DEIT_B.params_per_block() / 1e6 == pytest.approx(63.79, abs=0.01)  # Table I cloud parameters


def test_token_schedules() -> None:
    assert [o for _, o in tome_tokens(DEIT_B, constant_r(DEIT_B, 20))] == [178, 158, 138, 118, 98, 78, 58, 38,
                                                                             20, 11, 7, 5]
    assert janus_deltas(DEIT_B, 0.4) == [21, 16, 12, 9, 6, 5, 4, 3, 2, 1, 1, 1]
    assert [mercury_pruned(DEIT_B, r) for r in (0.2, 0.5, 0.6, 0.75, 0.9)] == [39, 98, 118, 147, 147]
    assert mercury_max_reduction(DEIT_B) == pytest.approx(0.75)


def test_payload_bytes() -> None:
    assert DEIT_B.payload_bytes(198) == 608_256
    assert DEIT_B.payload_bytes(51) == 156_672
    assert DEIT_B.payload_bytes(100, "fp16") == 153_600
    assert DEIT_B.payload_bytes(100, "fp32", with_sizes=True) == 100 * 768 * 4 + 400


def test_effective_tokens_prices_reducing_blocks_by_macs() -> None:
    n = DEIT_B.effective_tokens(198, 178)
    assert DEIT_B.block_macs(n, n) == pytest.approx(DEIT_B.block_macs(198, 178), rel=1e-12)
    assert 178 < n < 198


def test_accuracy_interpolation_is_monotone_and_invertible() -> None:
    table = AccuracyTable.shipped()
    curve = table.curve(DEIT_B.name, "cifar100", "tome", split_after=3)
    values = [curve.accuracy(r) for r in np.linspace(0, 20, 81)]
    assert all(b <= a + 1e-12 for a, b in zip(values, values[1:], strict=False))
    assert curve.accuracy(15) == pytest.approx(88.1)
    r = curve.parameter_for(86.0, integer=True)
    assert curve.accuracy(r) >= 86.0 > curve.accuracy(r + 1)
    rate = table.curve(DEIT_B.name, "cifar100", "mercury", 3, "learned").parameter_for(89.9)
    assert rate == pytest.approx(0.5, abs=1e-4)
    with pytest.raises(ValueError, match="outside"):
        curve.accuracy(25)


def test_every_shipped_accuracy_row_says_where_it_comes_from() -> None:
    frame = AccuracyTable.shipped().frame
    assert len(frame) >= 20
    assert frame.source.str.match(r"^(published|fitted|measured): \S").all()


def test_shipped_profiles_carry_provenance_and_anchor_fit() -> None:
    pi = load_profile("raspberry-pi-4b")
    assert pi.provenance["kind"] == "fitted" and len(pi.provenance["anchors"]) == 4
    block = pi.block_ms(DEIT_B, 198, 198)
    assert 160 < block < 185  # ~0.17-0.18 s per block (Table I, Fig. 3, Fig. 9)
    fig6 = load_profile("raspberry-pi-4b-fig6")
    full = sum(fig6.stage_ms(DEIT_B, s, 198) for s in ("embed", "head")) + 12 * fig6.block_ms(DEIT_B, 198, 198)
    assert full == pytest.approx(1073.0, rel=1e-4)
    gpu = load_profile("rtx-4090")
    assert 9 * gpu.block_ms(DEIT_B, 198, 198) == pytest.approx(0.86, abs=1e-4)


def test_profile_interpolates_points_and_uses_fit_outside(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("""
name: p
device: d
provenance: {kind: measured, command: test}
models:
  deit_base_distilled_patch16_224:
    embed: {fit: {a_ms: 1}}
    head: {fit: {a_ms: 1}}
    block: {points: {tokens: [50, 100, 200], ms: [5, 10, 30]}, fit: {a_ms: 0, b_ms: 0.2}}
batch: {sizes: [1, 2, 4], factor: [1.0, 1.6, 2.4]}
""")
    profile = load_profile(path)
    assert profile.stage_ms(DEIT_B, "block", 150) == pytest.approx(20.0)
    assert profile.stage_ms(DEIT_B, "block", 20) == pytest.approx(4.0)
    assert profile.batch_factor(3) == pytest.approx(2.0)
    assert profile.batch_factor(8) == pytest.approx(4.0)
    with pytest.raises(InputError, match="no 'tome_merge' stage"):
        profile.stage_ms(DEIT_B, "tome_merge", 100)
    # no attention curve: the block's time at that count times the attention's MAC share
    share = DEIT_B.attention_macs(150) / DEIT_B.block_macs(150)
    assert profile.stage_ms(DEIT_B, "attention", 150) == pytest.approx(20.0 * share)
    path.write_text(path.read_text().replace("    head: {fit: {a_ms: 1}}", "    head: {fit: {a_ms: 1}}\n"
                                              "    attention: {fit: {a_ms: 2.5}}"))
    assert load_profile(path).stage_ms(DEIT_B, "attention", 150) == pytest.approx(2.5)
