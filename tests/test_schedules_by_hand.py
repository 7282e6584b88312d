"""OTAS plans, Mercury's anchorless fallback and the per-stage MAC counts, each worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import write_profile

from simulator.accuracy import AccuracyTable
from simulator.plan import PlanContext, Stage
from simulator.profiles import load_profile
from simulator.schedules.base import ScheduleError, ScheduleInputs
from simulator.schedules.otas import OtasSchedule
from simulator.vit import get_model, plain_tokens

DEIT_B = get_model("deit_base_distilled_patch16_224")


@pytest.fixture
def inputs(tmp_path: Path) -> ScheduleInputs:
    write_profile(tmp_path / "m.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0)
    write_profile(tmp_path / "c.yaml", block_ms=1.0, embed_ms=0.5, head_ms=0.25)
    return ScheduleInputs(DEIT_B, "cifar100", "fp32", AccuracyTable.shipped(), load_profile(tmp_path / "m.yaml"),
                          load_profile(tmp_path / "c.yaml"), None, 10.0)


def test_otas_constant_r_split_after_3(inputs: ScheduleInputs) -> None:
    """r = 20 in every block: 198 -> 178 -> 158 -> 138 tokens uploaded with their sizes (768 x 4 + 4 B each);
    accuracy is the table's r = 20 row (81.9 %, Mercury Fig. 2)."""
    plan = OtasSchedule("otas", inputs, 3, 20).plan(PlanContext(0.0, 0, 10.0))
    assert plan.split_after == 3 and plan.parameter == 20.0 and plan.tokens_sent == 138
    assert plan.uplink_bytes == 138 * (768 * 4 + 4)
    assert plan.mobile == (Stage("embed", 198, 198), Stage("block", 198, 178), Stage("tome_merge", 198, 178),
                           Stage("block", 178, 158), Stage("tome_merge", 178, 158), Stage("block", 158, 138),
                           Stage("tome_merge", 158, 138))
    # then 118, 98, 78, 58, 38, 20 (r = 20 of at most (38 - 2) // 2 = 18 merged), 11, 7, 5
    assert plan.cloud[0] == Stage("block", 138, 118) and plan.cloud[-1] == Stage("head", 5, 5)
    assert len([s for s in plan.cloud if s.kind == "block"]) == 9
    assert plan.accuracy == pytest.approx(81.9)


def test_otas_merges_at_most_half_the_patch_tokens(inputs: ScheduleInputs) -> None:
    """r = 60: block 1 merges 60 (198 -> 138), block 2 60 of at most (138 - 2) // 2 = 68 (-> 78), block 3 only
    (78 - 2) // 2 = 38 (-> 40). r = 60 lies beyond the table (0..20): accuracy NaN, with a warning."""
    plan = OtasSchedule("otas", inputs, 3, 60).plan(PlanContext(0.0, 0, 10.0))
    assert plan.tokens_sent == 40
    assert math.isnan(plan.accuracy) and any("outside" in w for w in inputs.warnings)


def test_otas_picks_the_largest_r_meeting_the_target(inputs: ScheduleInputs) -> None:
    """Target 88.1 %: the table's r = 15 row meets it exactly and accuracy falls beyond it, so r = 15."""
    plan = OtasSchedule("otas", inputs, 1, None, target_accuracy=88.1).plan(PlanContext(0.0, 0, 10.0))
    assert plan.parameter == 15.0 and plan.tokens_sent == 198 - 15
    with pytest.raises(ScheduleError, match="r or a target_accuracy"):
        OtasSchedule("otas", inputs, 1, None)


def test_missing_accuracy_rows_name_the_curve(inputs: ScheduleInputs) -> None:
    with pytest.raises(ScheduleError, match="no accuracy rows for .*/cifar100/tome/learned"):
        inputs.require_curve("tome", 1, "learned")


def test_stage_macs_by_hand() -> None:
    assert DEIT_B.mercury_prune_macs() == 196 * 196 * 768          # Eq. 11's cosine matrix of the patches
    assert DEIT_B.mercury_prune_macs(100) == 100 * 100 * 768
    assert DEIT_B.tome_merge_macs(198) == 99 * 99 * 64              # |A| x |B| x head dim 768 / 12
    assert plain_tokens(DEIT_B) == [(198, 198)] * 12
    assert plain_tokens(DEIT_B, 100) == [(100, 100)] * 12


def test_mercury_without_a_full_window_prunes_the_highest_summed_scores() -> None:
    """A 2 x 2 grid with 3 x 3 windows has no anchor: Eq. 12's score alone ranks redundancy. Unit features at
    0, 10, 40 and -80 degrees have summed cosines 2.925, 2.851, 2.132 and 0.674: K = 2 prunes patches 0 and 1."""
    torch = pytest.importorskip("torch")
    from simulator.ml.mercury_prune import mercury_select

    angles = torch.deg2rad(torch.tensor([0.0, 10.0, 40.0, -80.0]))
    patches = torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1)
    feats = torch.cat([torch.tensor([[5.0, 5.0]]), patches]).unsqueeze(0)  # one cls token first
    sel = mercury_select(feats, 1, 2, 2, window=3)
    assert sel.pruned[0].tolist() == [1, 2]
    assert sel.keep[0].tolist() == [0, 3, 4]
    assert sel.source[0].tolist() == [0, 0]  # duplicates would copy cls
