"""OTAS plans, Mercury's anchorless fallback and the per-stage MAC counts, each worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import write_profile

from simulator.inputs.accuracy import AccuracyTable
from simulator.inputs.profiles import load_profile
from simulator.inputs.vit import get_model, plain_tokens
from simulator.plans.plan import PlanContext, Stage
from simulator.schedules.base import ScheduleError, ScheduleInputs
from simulator.schedules.otas import OtasSchedule

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


def test_otas_warns_only_when_the_table_ends_well_above_the_target(inputs: ScheduleInputs) -> None:
    """The table ends at r = 20 with 81.9 %: a target of 80 % would allow more merging than the table shows
    (warned); 81.88 % is met at the table's end within 0.05 points (no warning)."""
    OtasSchedule("otas", inputs, 1, None, target_accuracy=80.0)
    assert any("ends at 20" in w for w in inputs.warnings)
    inputs.warnings.clear()
    assert OtasSchedule("otas", inputs, 1, None, target_accuracy=81.88).plan(PlanContext(0.0, 0, 1.0)).parameter == 20
    assert inputs.warnings == []
    assert inputs.require_curve("tome", 1).label.endswith("/tome")  # reconstruction 'none' by default


def test_mobile_only_runs_every_block_on_all_tokens(inputs: ScheduleInputs) -> None:
    from simulator.schedules.mobile_only import MobileOnlySchedule

    plan = MobileOnlySchedule("m", inputs).plan(PlanContext(0.0, 0, 1.0))
    assert plan.mobile == (Stage("embed", 198, 198), *[Stage("block", 198, 198)] * 12, Stage("head", 198, 198))
    assert plan.cloud == () and plan.uplink_bytes == 0 and plan.accuracy == pytest.approx(91.2)


def _mercury(inputs: ScheduleInputs, split: int, reduction: float | None, **kwargs: object):  # noqa: ANN202
    from simulator.schedules.mercury import MercurySchedule

    return MercurySchedule("mercury", inputs, split, reduction, **kwargs).plan(PlanContext(0.0, 0, 1.0))  # type: ignore[arg-type]


def test_mercury_plan_stages_by_hand(inputs: ScheduleInputs) -> None:
    """50 % of 196 patches = 98 pruned after block 1 of 3; 100 tokens uploaded; the cloud restores 198."""
    plan = _mercury(inputs, 3, 0.5)
    assert plan.mobile == (Stage("embed", 198, 198), Stage("block", 198, 198), Stage("mercury_prune", 196, 98),
                           Stage("block", 100, 100), Stage("block", 100, 100))
    assert plan.cloud == (*[Stage("block", 198, 198)] * 9, Stage("head", 198, 198))
    assert (plan.uplink_bytes, plan.tokens_sent, plan.accuracy) == (100 * 768 * 4, 100, pytest.approx(89.9))
    before = _mercury(inputs, 2, 0.5, prune_point="before_block1")
    assert before.mobile == (Stage("embed", 198, 198), Stage("attention", 198, 198), Stage("mercury_prune", 196, 98),
                             Stage("block", 100, 100), Stage("block", 100, 100))
    bare = _mercury(inputs, 1, 0.5, reconstruction="none")  # no reconstruction: the cloud goes on with 100
    assert bare.cloud == (*[Stage("block", 100, 100)] * 11, Stage("head", 100, 100))
    assert bare.accuracy == pytest.approx(87.2)


def test_mercury_split_after_the_last_block_stays_local(inputs: ScheduleInputs) -> None:
    plan = _mercury(inputs, 12, 0.5)
    assert plan.cloud == () and plan.uplink_bytes == 0 and not plan.offloads
    assert plan.mobile[-1] == Stage("head", 100, 100) and len(plan.mobile) == 2 + 1 + 11 + 1


def test_mercury_target_and_window(inputs: ScheduleInputs) -> None:
    """Target 89.9 % at split 3 with learned tokens: the table's 50 % row, K = 98. Windows of 4 x 4 keep 3 x 3
    anchors, so 90 % (K = round(176.4) = 176 <= 187) is allowed and 22 tokens remain."""
    assert _mercury(inputs, 3, None, target_accuracy=89.9).tokens_sent == 100
    assert _mercury(inputs, 3, 0.9, window=4, reconstruction="none").tokens_sent == 22
    with pytest.raises(ScheduleError, match="exceeds the 75%"):
        _mercury(inputs, 3, 0.9)


def test_mercury_without_accuracy_rows_reports_the_unreduced_model_at_zero(inputs: ScheduleInputs,
                                                                            tmp_path: Path) -> None:
    csv = tmp_path / "acc.csv"
    csv.write_text("model,dataset,method,split_after,parameter,reconstruction,top1,source\n"
                   f"{DEIT_B.name},cifar100,none,,0,none,90.5,published: test row\n")
    bare = ScheduleInputs(DEIT_B, "cifar100", "fp32", AccuracyTable.read([csv]), inputs.mobile, inputs.cloud,
                          None, 10.0)
    assert _mercury(bare, 3, 0.0).accuracy == 90.5
    assert math.isnan(_mercury(bare, 3, 0.5).accuracy)


def test_trace_constructors_and_empty_radio_window() -> None:
    from simulator.traces import Trace

    trace = Trace.from_samples([0, 1], [5, 5])
    assert (trace.name, trace.meta, trace.at_end) == ("trace", {}, "loop")
    assert Trace.from_samples([0, 1], [5, 5], meta={"kind": "x"}, name="n").meta == {"kind": "x"}
    constant = Trace.constant(7.0)
    assert (constant.name, constant.at_end, constant.duration_s) == ("constant", "loop", 1.0)
    assert trace.recent_samples(0.5, 0).size == 0
    from simulator.inputs.vit import mercury_anchor_count

    assert mercury_anchor_count(DEIT_B) == 49 and mercury_anchor_count(DEIT_B, 4) == 9


def test_static_janus_plans(inputs: ScheduleInputs) -> None:
    """alpha 0.34 (the table's 89.9 % row) removes floor(2^3.74) = 13, floor(2^3.4) = 10, floor(2^3.06) = 8 tokens
    in blocks 1-3: 167 uploaded with their sizes. A target of 89.9 % picks the same alpha."""
    from simulator.schedules.janus import JanusSchedule

    plan = JanusSchedule("j", inputs, 3, 0.34).plan(PlanContext(0.0, 0, 1.0))
    assert (plan.parameter, plan.tokens_sent, plan.uplink_bytes) == (0.34, 167, 167 * 3076)
    assert plan.accuracy == pytest.approx(89.9)
    assert JanusSchedule("j", inputs, 3, None, target_accuracy=89.9).plan(PlanContext(0.0, 0, 1.0)).parameter == 0.34


def test_otas_cloud_merges_and_local_split(inputs: ScheduleInputs) -> None:
    plan = OtasSchedule("otas", inputs, 3, 20).plan(PlanContext(0.0, 0, 10.0))
    assert [s.kind for s in plan.cloud].count("tome_merge") == 9  # every cloud block still merges
    local = OtasSchedule("otas", inputs, 12, 15).plan(PlanContext(0.0, 0, 10.0))
    assert (local.parameter, local.accuracy, local.uplink_bytes, local.cloud) == (15.0, pytest.approx(88.1), 0, ())
