"""Pruned-on-device (TAP-ViTs): per-block MACs by hand, MAC-ratio pricing by hand on a synthetic profile, the
schedule's records on both engines, bad entries, and a real width-pruned timm model whose counted MACs equal
the analytic ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, write_scenario

import simulator
from simulator.config.scenario import load_scenario
from simulator.errors import InputError
from simulator.inputs.profiles import load_profile
from simulator.inputs.pruned_vit import PrunedViT
from simulator.inputs.vit import get_model
from simulator.model.runner import run_scenario
from simulator.plans.plan import Stage, stage_ms, stages_ms
from simulator.schedules.pruned_on_device import pruned_stages

DEIT_B = get_model("deit_base_distilled_patch16_224")
DEIT_TI = get_model("deit_tiny_distilled_patch16_224")
HALF = PrunedViT.from_lists(DEIT_B, [6] * 12, [1536] * 12)


def test_half_heads_half_mlp_block_costs_half_the_macs() -> None:
    # d = 768, a = 6 heads x 64 = 384, m = 1536, N = 198:
    # 4*198*768*384 = 233,570,304; 2*198^2*384 = 30,108,672; 2*198*768*1536 = 467,140,608
    assert HALF.block_macs(0, 198) == 233_570_304 + 30_108_672 + 467_140_608 == 730_819_584
    # unpruned: 12*198*768^2 + 2*198^2*768 = 1,401,421,824 + 60,217,344
    assert DEIT_B.block_macs(198) == 1_461_639_168 == 2 * 730_819_584
    assert HALF.block_mac_ratio(0, 198) == 0.5


def test_attention_and_mlp_widths_enter_their_own_terms() -> None:
    # DeiT-Ti (d = 192, head_dim 64): 1 head (a = 64), 100 MLP channels, 10 tokens:
    # 4*10*192*64 = 491,520; 2*10^2*64 = 12,800; 2*10*192*100 = 384,000
    model = PrunedViT.from_lists(DEIT_TI, [1], [100])
    assert model.block_macs(0, 10) == 888_320
    # params: qkv 3*64*192 + 192, proj 64*192 + 192, norms 4*192, fc1 192*100 + 100, fc2 100*192 + 192
    assert model.params_per_block(0) == 36_864 + 192 + 12_288 + 192 + 768 + 19_300 + 19_392


def test_whole_model_macs_and_fraction() -> None:
    # embed 196*768*768 = 115,605,504; 12 half blocks 8,769,835,008; two heads 2*768*1000 = 1,536,000
    assert HALF.macs() == 115_605_504 + 8_769_835_008 + 1_536_000
    # unpruned: 115,605,504 + 12*1,461,639,168 + 1,536,000 = 17,656,811,520 (timm: 17.68 G)
    assert HALF.mac_fraction() == pytest.approx(8_886_976_512 / 17_656_811_520, rel=1e-12)


def test_equal_mac_tokens() -> None:
    # 1536 x^2 + 7,077,888 x = 730,819,584 -> x = 101.0385 (101 gives 730,535,424, 284,160 short,
    # slope 7,077,888 + 2*1536*101 = 7,388,160 per token)
    assert HALF.equal_mac_tokens(0, 198) == pytest.approx(101.0385, abs=2e-4)
    full = PrunedViT.from_lists(DEIT_B, [12], [3072])
    assert full.equal_mac_tokens(0, 198) == pytest.approx(198.0, abs=1e-9)


@pytest.mark.parametrize(("heads", "mlp", "message"), [
    ([13], [3072], "block 0: heads must be in 1..12"),
    ([12, 0], [3072, 3072], "block 1: heads must be in 1..12"),
    ([12], [3073], "block 0: mlp_hidden must be in 1..3072"),
    ([12, 12], [3072], "differ in length"),
    ([12] * 13, [3072] * 13, "between 1 and 12 blocks"),
])
def test_widths_that_do_not_fit_the_base_are_refused(heads: list[int], mlp: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PrunedViT.from_lists(DEIT_B, heads, mlp)


def _pruned_scenario(tmp_path: Path, entry: dict) -> Path:
    data = yaml.safe_load((REPO / "scenarios" / "pruned-on-device.yaml").read_text())
    data["network"]["trace"] = str(REPO / "traces" / "synthetic" / "lte-all.csv")
    data["workload"]["n_requests"] = 3
    data["schedules"] = [{"kind": "mobile-only"}, entry]
    path = tmp_path / "pruned.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_schedule_runs_the_pruned_model_on_the_device(tmp_path: Path) -> None:
    entry = {"kind": "pruned-on-device", "label": "half", "heads": [6] * 12, "mlp_hidden": [1536] * 12}
    records, summary = simulator.run(_pruned_scenario(tmp_path, entry))
    half = records[records.schedule == "half"]
    # raspberry-pi-4b: embed 13.4731, head 0.179011, block 0.824882 N + 0.000179011 N^2 at N = 198:
    # 163.3266 + 7.0179 = 170.3445, times the MAC ratio 0.5 = 85.1723 per block; 12 blocks 1022.07;
    # total 1035.72 ms (the fitted Pi curve is proportional to MACs, so the equal-MAC rule gave the same)
    assert half.mobile_ms.tolist() == pytest.approx([1035.72] * 3, abs=0.02)
    assert (half.uplink_bytes == 0).all() and (half.cloud_ms == 0).all()
    assert half.parameter.iloc[0] == pytest.approx(0.50332, abs=1e-5)
    assert half.split_after.iloc[0] == 12 and half.accuracy.isna().all()
    assert summary["half"]["mean_accuracy"] is None and summary["half"]["accuracy_unknown"] == 3


def test_dropped_blocks_and_a_sourced_top1(tmp_path: Path) -> None:
    entry = {"kind": "pruned-on-device", "heads": [12] * 6, "mlp_hidden": [3072] * 6, "top1": 80.0,
             "top1_source": "measured: test value"}
    records, summary = simulator.run(_pruned_scenario(tmp_path, entry))
    rows = records[records.schedule == "pruned-on-device"]
    # six unpruned blocks at 198: 0.824882*198 + 0.000179011*198^2 = 163.3266 + 7.0179 = 170.3445 each
    assert rows.mobile_ms.iloc[0] == pytest.approx(13.4731 + 6 * 170.3445 + 0.179011, abs=0.01)
    assert rows.split_after.iloc[0] == 6 and summary["pruned-on-device"]["mean_accuracy"] == pytest.approx(80.0)


# A synthetic DeiT-B profile whose block curve is NOT proportional to MACs (an intercept, a steep linear
# term), so pricing at the real token count times the MAC ratio and at the equal-MAC token count differ.
EMBED_MS, HEAD_MS = 10.0, 0.2
BLOCK_A, BLOCK_B, BLOCK_C = 5.0, 0.5, 1e-3  # block: 5 + 0.5 N + 0.001 N^2 ms


def _synthetic_profile(path: Path) -> Path:
    stages = {"embed": {"fit": {"a_ms": EMBED_MS}}, "head": {"fit": {"a_ms": HEAD_MS}},
              "block": {"fit": {"a_ms": BLOCK_A, "b_ms": BLOCK_B, "c_ms": BLOCK_C}}}
    path.write_text(yaml.safe_dump({"format": "mercury-sim-profile/1", "name": path.stem, "device": "test",
                                    "provenance": {"kind": "fitted", "method": "constants chosen by the test"},
                                    "models": {DEIT_B.name: stages}}))
    return path


# Three kept blocks (heads, mlp_hidden): unpruned; half; 3 heads (a = 192) and 512 channels.
MIXED = PrunedViT.from_lists(DEIT_B, [12, 6, 3], [3072, 1536, 512])
# MACs per block, 4*N*d*a + 2*N^2*a + 2*N*d*m at N = 198, d = 768 (README, pruned-on-device):
# unpruned 1,461,639,168; half 730,819,584;
# a = 192, m = 512: 116,785,152 + 15,054,336 + 155,713,536 = 287,553,024
MIXED_RATIOS = (1.0, 0.5, 287_553_024 / 1_461_639_168)
BLOCK_AT_198 = 5.0 + 0.5 * 198 + 1e-3 * 198 ** 2  # 143.204 ms
MIXED_MS = EMBED_MS + BLOCK_AT_198 * (1.0 + 0.5 + 287_553_024 / 1_461_639_168) + HEAD_MS  # 253.1790 ms


def test_pruned_block_priced_at_the_real_tokens_times_its_mac_ratio(tmp_path: Path) -> None:
    profile = load_profile(_synthetic_profile(tmp_path / "p.yaml"))
    stages = pruned_stages(MIXED)
    assert [s.kind for s in stages] == ["embed", "block", "block", "block", "head"]
    for stage, ratio in zip(stages[1:-1], MIXED_RATIOS, strict=True):
        assert (stage.n_in, stage.n_out) == (198, 198) and stage.mac_scale == pytest.approx(ratio, rel=1e-15)
        assert stage_ms(profile, DEIT_B, stage) == pytest.approx(BLOCK_AT_198 * ratio, rel=1e-12)
    assert stages_ms(profile, DEIT_B, stages) == pytest.approx(MIXED_MS, rel=1e-12)
    # the former rule, the half block at its equal-MAC 101.0385 tokens: 5 + 50.519 + 10.209 = 65.728 ms,
    # not 143.204 * 0.5 = 71.602 ms
    assert stage_ms(profile, DEIT_B, stages[2]) == pytest.approx(71.602, abs=1e-3)


def test_an_unscaled_stage_prices_exactly_as_its_curve(tmp_path: Path) -> None:
    profile = load_profile(_synthetic_profile(tmp_path / "p.yaml"))
    for n in (1, 101.0385, 198):
        assert stage_ms(profile, DEIT_B, Stage("block", n, n)) == BLOCK_A + BLOCK_B * n + BLOCK_C * n * n
        assert stage_ms(profile, DEIT_B, Stage("block", n, n, 1.0)) == profile.block_ms(DEIT_B, n, n)
    assert stage_ms(profile, DEIT_B, Stage("embed", 198, 198)) == EMBED_MS
    assert stage_ms(profile, DEIT_B, Stage("embed", 198, 198, 0.25)) == EMBED_MS / 4  # any kind scales
    assert stage_ms(profile, DEIT_B, Stage("block", 198, 120)) == profile.block_ms(DEIT_B, 198, 120)


def test_both_engines_give_the_hand_priced_pruned_model(tmp_path: Path) -> None:
    _synthetic_profile(tmp_path / "mobile.yaml")
    entry = {"kind": "pruned-on-device", "label": "mixed", "heads": [12, 6, 3], "mlp_hidden": [3072, 1536, 512]}
    path = write_scenario(tmp_path / "s.yaml", model=DEIT_B.name, mobile_profile="mobile.yaml",
                          network={"trace": str(REPO / "traces" / "synthetic" / "lte-all.csv"), "mode": "trace"},
                          schedules=[entry])
    runs = {}
    for engine in ("des", "fast"):
        scenario = load_scenario(path).model_copy(update={"engine": engine})
        result = run_scenario(scenario)
        assert result.engines == {"mixed": engine}
        runs[engine] = result.records
    assert runs["des"].mobile_ms.tolist() == pytest.approx([MIXED_MS] * 5, rel=1e-12)
    pd.testing.assert_frame_equal(runs["des"], runs["fast"], check_exact=True)


def test_shipped_scenario_same_on_both_engines() -> None:
    path = REPO / "scenarios" / "pruned-on-device.yaml"
    des = run_scenario(load_scenario(path).model_copy(update={"engine": "des"}))
    fast = run_scenario(load_scenario(path).model_copy(update={"engine": "auto"}))
    assert set(fast.engines.values()) == {"fast"} and set(des.engines.values()) == {"des"}
    pd.testing.assert_frame_equal(des.records, fast.records, check_exact=True)


@pytest.mark.parametrize(("entry", "message"), [
    ({"heads": [6] * 12, "mlp_hidden": [1536] * 11}, "differ in length"),
    ({"heads": [6, 13], "mlp_hidden": [1536, 1536]}, "block 1: heads must be in 1..12"),
    ({"heads": [6], "mlp_hidden": [1536], "top1": 80.0}, "top1 and top1_source go together"),
    ({"heads": [6], "mlp_hidden": [1536], "top1": 80.0, "top1_source": "my guess"}, "must start with"),
    ({"heads": [6], "mlp_hidden": [1536], "widths": 3}, "widths"),
])
def test_bad_entries_name_the_schedule(tmp_path: Path, entry: dict, message: str) -> None:
    path = _pruned_scenario(tmp_path, {"kind": "pruned-on-device", **entry})
    with pytest.raises(InputError) as info:
        simulator.run(load_scenario(path))
    line = str(info.value)
    assert "schedules[1]" in line and message in line and "\n" not in line


def test_bad_entry_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from simulator.cli.app import main

    write_scenario(tmp_path / "s.yaml", network={"trace": str(REPO / "traces" / "synthetic" / "lte-all.csv")},
                   schedules=[{"kind": "pruned-on-device", "heads": [20], "mlp_hidden": [10]}])
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "out"), "-q", "--no-report"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "heads must be in 1..12" in err
    assert not (tmp_path / "out").exists()


def test_real_width_pruned_timm_model_runs_and_counts_the_analytic_macs() -> None:
    pytest.importorskip("timm")
    import torch

    from simulator.ml.width_prune import build_pruned_timm, counted_macs

    model = PrunedViT.from_lists(DEIT_TI, [1, 2, 3], [384, 100, 768])  # 3 of 12 blocks, mixed widths
    vit = build_pruned_timm(model)
    assert len(vit.blocks) == 3 and vit.blocks[1].attn.qkv.weight.shape == (3 * 128, 192)
    assert vit.blocks[1].mlp.fc2.weight.shape == (192, 100)
    with torch.inference_mode():
        out = vit(torch.randn(2, 3, 224, 224))
    assert out.shape == (2, 1000) and torch.isfinite(out).all()
    # by hand: embed 196*192*768 = 28,901,376; heads 2*192*1000 = 384,000; blocks at N = 198, d = 192:
    # (a=64, m=384): 4*198*192*64 + 2*198^2*64 + 2*198*192*384 = 9,732,096 + 5,018,112 + 29,196,288
    # (a=128, m=100): 19,464,192 + 10,036,224 + 7,603,200; (a=192, m=768): 29,196,288 + 15,054,336 + 58,392,576
    blocks = (9_732_096 + 5_018_112 + 29_196_288) + (19_464_192 + 10_036_224 + 7_603_200) \
        + (29_196_288 + 15_054_336 + 58_392_576)
    assert model.macs() == 28_901_376 + blocks + 384_000
    assert counted_macs(vit, 224) == model.macs()
    assert sum(p.numel() for p in vit.blocks.parameters()) == sum(model.params_per_block(b) for b in range(3))


def test_kept_heads_are_the_base_models_first_heads() -> None:
    pytest.importorskip("timm")
    import timm
    import torch

    from simulator.ml.width_prune import build_pruned_timm

    torch.manual_seed(0)
    model = PrunedViT.from_lists(DEIT_TI, [2], [50])
    torch.manual_seed(0)
    base = timm.create_model(DEIT_TI.name, pretrained=False).eval()
    torch.manual_seed(0)
    vit = build_pruned_timm(model)
    # k of head 1 = rows 192 + 64 .. 192 + 128 of the base qkv weight
    assert torch.equal(vit.blocks[0].attn.qkv.weight[128 + 64:256], base.blocks[0].attn.qkv.weight[256:320])
    assert torch.equal(vit.blocks[0].attn.proj.weight, base.blocks[0].attn.proj.weight[:, :128])
    assert torch.equal(vit.blocks[0].mlp.fc2.weight, base.blocks[0].mlp.fc2.weight[:, :50])
    assert torch.equal(vit.blocks[0].mlp.fc1.bias, base.blocks[0].mlp.fc1.bias[:50])
