"""DeiT-S and DeiT-Ti on the Pi 4B and the RTX 4090: curves derived from DeiT-B's (fixed cost kept, the rest
by the MAC ratio), ToMe's rows.

The expected prices are worked out here from the ViT dimensions (embed dim 384 vs 768, heads 6 vs 12, MLP 4x,
depth 12 for both) and the files' DeiT-B fits, not with the derivation's own code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_scenario

from simulator.config.scenario import scenario_from_dict
from simulator.files.validation import load_yaml_mapping
from simulator.inputs.profiles import ProfileFile, load_profile
from simulator.inputs.vit import get_model
from simulator.model.runner import run_scenario

BASE = get_model("deit_base_distilled_patch16_224")
SMALL = get_model("deit_small_distilled_patch16_224")


def block_macs_by_hand(n: int, d: int) -> float:
    """qkv 3Nd², proj Nd², QKᵀ and AV 2N²d, MLP 2·4·Nd² (independent of the head count: 6×64 = 384)."""
    return 3 * n * d * d + n * d * d + 2 * n * n * d + 2 * 4 * n * d * d


def run(path: Path):  # type: ignore[no-untyped-def]
    return run_scenario(scenario_from_dict(load_yaml_mapping(path), path))


# The fixed cost a derived stage keeps: the smallest positive zero-token intercept of DeiT-B's token-dependent
# curves. Pi: every such intercept is 0 (a fit through the origin), so none. 4090: the block's a_ms = 0.090922
# (the pruning and merge steps are fitted with a_ms = 0 and keep none).
FIXED_MS = {"raspberry-pi-4b": 0.0, "rtx-4090": 0.090922}


@pytest.mark.parametrize("name", ["raspberry-pi-4b", "rtx-4090"])
def test_a_derived_block_keeps_the_fixed_cost_and_scales_the_rest(name: str) -> None:
    profile, c = load_profile(name), FIXED_MS[name]
    ratio = block_macs_by_hand(198, 384) / block_macs_by_hand(198, 768)  # (384·5004) / (768·9612): N² d halves only
    assert ratio == pytest.approx(0.26030, abs=1e-5)
    expected = c + (profile.stage_ms(BASE, "block", 198) - c) * ratio
    assert profile.stage_ms(SMALL, "block", 198) == pytest.approx(expected, rel=1e-5)
    # between two written points (96, 100 tokens) the curve interpolates: within 0.1 % of the rule there
    ratio_97 = block_macs_by_hand(97, 384) / block_macs_by_hand(97, 768)
    assert profile.stage_ms(SMALL, "block", 97) == pytest.approx(
        c + (profile.stage_ms(BASE, "block", 97) - c) * ratio_97, rel=1e-3)


def test_the_4090s_launch_cost_is_kept_and_its_pruning_step_has_none() -> None:
    gpu = load_profile("rtx-4090")
    # DeiT-B block fit: 0.090922 + 2.24356e-05 N + 4.86884e-09 N²; at 198: 0.090922 + 0.00444225 + 0.00019088
    assert gpu.stage_ms(BASE, "block", 198) == pytest.approx(0.0955551, rel=1e-5)
    # DeiT-S: 0.090922 + (0.00444225 + 0.00019088) x 0.26030 = 0.0921280 (the plain MAC ratio gave 0.0248730)
    assert gpu.stage_ms(SMALL, "block", 198) == pytest.approx(0.0921280, rel=1e-5)
    # head: DeiT-B's constant 0.0909273 keeps 0.090922; the 0.0000053 above it halves (2 x 384 x 1000 MACs)
    assert gpu.stage_ms(SMALL, "head", 198) == pytest.approx(0.0909247, rel=1e-5)
    # mercury_prune, fitted through the origin (2.43442e-09 N² ms): N² d, so half, with no fixed cost
    assert gpu.stage_ms(SMALL, "mercury_prune", 196) == pytest.approx(0.5 * 2.43442e-09 * 196 ** 2, rel=1e-5)


def test_the_fixed_cost_rule_reads_the_anchors_curves_only() -> None:
    """c0 = the smallest positive intercept among token-dependent curves (0.1: the pruning step's; the merge,
    fitted with none, keeps none; the block's 3.0 is capped at c0); a constant curve keeps c0 or less."""
    from simulator.inputs.derived_profile import derived_stage_ms, fixed_costs
    from simulator.inputs.profiles import Profile

    data = load_yaml_mapping(Path(load_profile("rtx-4090").path or ""))
    del data["provenance"]["models"]
    data["models"] = {BASE.name: {
        "embed": {"fit": {"a_ms": 2.0}}, "head": {"fit": {"a_ms": 0.05}},
        "block": {"fit": {"a_ms": 3.0, "b_ms": 0.1}}, "mercury_prune": {"fit": {"a_ms": 0.1, "c_ms": 1e-5}},
        "tome_merge": {"fit": {"a_ms": 0.0, "c_ms": 1e-5}}}}
    profile = Profile(ProfileFile.model_validate(data))
    assert fixed_costs(profile, BASE) == pytest.approx(
        {"embed": 0.1, "head": 0.05, "block": 0.1, "mercury_prune": 0.1, "tome_merge": 0.0})
    # block at 10 tokens: B = 3.0 + 0.1 x 10 = 4.0; MACs 12·10·d² + 2·10²·d, so the DeiT-S ratio is
    # 384·(120·384 + 200) / (768·(120·768 + 200)) = 0.2505414: 0.1 + 3.9 x 0.2505414 = 1.0771113
    assert derived_stage_ms(profile, BASE, SMALL, "block", 10) == pytest.approx(1.0771113, rel=1e-6)
    assert derived_stage_ms(profile, BASE, SMALL, "embed", 198) == pytest.approx(0.1 + 1.9 * 0.5)  # 1.05
    assert derived_stage_ms(profile, BASE, SMALL, "head", 198) == pytest.approx(0.05)  # all fixed
    assert derived_stage_ms(profile, BASE, SMALL, "tome_merge", 100) == pytest.approx(1e-5 * 100 ** 2)  # x 1


def test_deit_s_runs_mobile_only_and_cloud_only(tmp_path: Path) -> None:
    path = write_scenario(tmp_path / "small.yaml", model=SMALL.name, dataset="imagenet",
                          mobile_profile="raspberry-pi-4b", cloud_profile="rtx-4090", network={"trace": "5g-all"},
                          schedules=[{"kind": "mobile-only"}, {"kind": "cloud-only"}])
    records = run(path).records
    pi, gpu = load_profile("raspberry-pi-4b"), load_profile("rtx-4090")

    def forward(profile, c: float) -> float:  # type: ignore[no-untyped-def]
        # embed (196 patches x 768 px x d) and both heads (2 x d x 1000) scale by 384 / 768 exactly
        ratio = block_macs_by_hand(198, 384) / block_macs_by_hand(198, 768)
        return c + 0.5 * (profile.stage_ms(BASE, "embed", 198) - c) \
            + 12 * (c + ratio * (profile.stage_ms(BASE, "block", 198) - c)) \
            + c + 0.5 * (profile.stage_ms(BASE, "head", 198) - c)

    mobile = records[records.schedule == "mobile-only"]
    cloud = records[records.schedule == "cloud-only"]
    assert len(mobile) == len(cloud) == 5 and set(records.status) == {"ok"}
    assert mobile.mobile_ms.tolist() == pytest.approx([forward(pi, 0.0)] * 5, rel=1e-5)
    assert cloud.cloud_ms.tolist() == pytest.approx([forward(gpu, 0.090922)] * 5, rel=1e-5)
    assert forward(pi, 0.0) == pytest.approx(539.0, abs=1.0)  # DeiT-B's 2058 ms x about 0.26
    # 0.0911055 + 12 x 0.0921280 + 0.0909247: launch-bound, nearly DeiT-B's 1.329 ms (the MAC ratio said 0.39)
    assert forward(gpu, 0.090922) == pytest.approx(1.28757, abs=1e-4)


def test_otas_on_deit_s_reads_tomes_published_rows(tmp_path: Path) -> None:
    path = write_scenario(tmp_path / "otas.yaml", model="deit_small_patch16_224", dataset="imagenet",
                          mobile_profile="raspberry-pi-4b", cloud_profile="rtx-4090", network={"trace": "5g-all"},
                          schedules=[{"kind": "otas", "split_after": 3, "r": 8, "label": "r8"},
                                     {"kind": "otas", "split_after": 3, "r": 16, "label": "r16"}])
    records = run(path).records
    top1 = records.groupby("schedule", observed=True).accuracy.unique()
    assert {k: [round(float(x), 6) for x in v] for k, v in top1.items()} == {"r8": [79.7], "r16": [79.1]}


def test_a_derived_model_must_state_its_method() -> None:
    data = load_yaml_mapping(Path(load_profile("rtx-4090").path or ""))
    del data["provenance"]["models"][SMALL.name]["method"]
    with pytest.raises(ValueError, match="derived model must state method"):
        ProfileFile.model_validate(data)
    data["provenance"]["models"][SMALL.name]["method"] = "MAC ratio"
    data["provenance"]["models"]["vit_huge"] = {"kind": "derived"}
    with pytest.raises(ValueError, match="provenance.models.vit_huge"):
        ProfileFile.model_validate(data)


def test_the_deit_s_question_gets_an_answer_or_says_what_is_missing(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """"Which split and reduction give the lowest mean latency for DeiT-S on ImageNet at >= 78 % top-1 on a 5G
    trace?": OTAS answers from ToMe's rows; Mercury has no published DeiT-S row, and says which command measures
    one rather than guessing."""
    from simulator.cli.app import main

    common = {"model": "deit_small_patch16_224", "dataset": "imagenet", "target_accuracy": 78.0,
              "mobile_profile": "raspberry-pi-4b", "cloud_profile": "rtx-4090", "network": {"trace": "5g-all"}}
    otas = write_scenario(tmp_path / "otas.yaml", **common,
                          schedules=[{"kind": "otas", "split_after": s, "label": f"split-{s}"} for s in (1, 2, 3)])
    result = run(otas)
    ok = result.records[result.records.status == "ok"]
    assert (ok.accuracy >= 78.0).all() and set(ok.parameter) == {16.0}  # r = 16 (79.1 %) is the table's last row
    means = {label: entry["mean_ms"] for label, entry in result.summary.items()}
    assert min(means, key=means.get) == "split-1"  # the fewest blocks on the Pi
    mercury = write_scenario(tmp_path / "mercury.yaml", **common, schedules=[{"kind": "mercury", "split_after": 1}])
    with pytest.raises(SystemExit) as exc:
        main(["run", str(mercury), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert "no accuracy rows for deit_small_patch16_224/imagenet/mercury" in err and "'mercury-sim accuracy " in err
