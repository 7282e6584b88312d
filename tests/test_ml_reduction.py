"""Token reduction on timm ViTs: identities, invariants, and token counts equal to the simulator's."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("timm")

import timm  # noqa: E402
import torch  # noqa: E402
from _ml_models import tiny_vit  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from simulator.inputs.vit import MODELS, janus_deltas, mercury_anchor_count, mercury_pruned, tome_tokens  # noqa: E402
from simulator.ml.ats import ats_select  # noqa: E402
from simulator.ml.attention import attention, block_forward, gather_tokens  # noqa: E402
from simulator.ml.mercury_prune import mercury_select, window_anchors  # noqa: E402
from simulator.ml.split import SplitViT, spec_of  # noqa: E402
from simulator.ml.tome import bipartite_merge  # noqa: E402

DEIT_TINY = "deit_tiny_distilled_patch16_224"


@pytest.fixture(scope="module")
def deit_tiny() -> torch.nn.Module:
    torch.manual_seed(0)
    return timm.create_model(DEIT_TINY, pretrained=False).eval()


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("distilled", [True, False])
def test_split_composition_equals_unsplit_forward(distilled: bool) -> None:
    model = tiny_vit(distilled)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        ref = model(x)
        for s in range(len(model.blocks) + 1):
            assert (SplitViT(model, s)(x) - ref).abs().max() < 1e-5


def test_deit_tiny_split_equals_timm(deit_tiny: torch.nn.Module, images: torch.Tensor) -> None:
    with torch.no_grad():
        ref = deit_tiny(images)
        assert (SplitViT(deit_tiny, 3)(images) - ref).abs().max() < 1e-5


@pytest.mark.parametrize(("method", "parameter", "explicit"), [
    ("none", 0.0, []),                   # no reduction: every block is timm's (fused attention, as profiled)
    ("mercury", 0.5, [0]),               # only block 1 exposes its attention (the pruning reads it)
    ("tome", 2.0, [0, 1, 2, 3, 4, 5]),   # merging blocks, and after them the size-weighted attention
])
def test_blocks_run_explicit_attention_only_where_a_method_reads_it(
        method: str, parameter: float, explicit: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    import simulator.ml.split as split_module

    model = tiny_vit(True, depth=6)
    seen: list[int] = []
    original = split_module.block_forward

    def recording(block: torch.nn.Module, *args: object, **kwargs: object) -> object:
        seen.append(next(i for i, b in enumerate(model.blocks) if b is block))
        return original(block, *args, **kwargs)

    monkeypatch.setattr(split_module, "block_forward", recording)
    with torch.no_grad():
        SplitViT(model, 3, method, parameter)(torch.randn(1, 3, 32, 32))
    assert seen == explicit


@pytest.mark.parametrize("prune_point", ["after_block1", "before_block1"])
@pytest.mark.parametrize("method", ["mercury", "ats", "tome", "janus"])
def test_reduction_zero_equals_unreduced(method: str, prune_point: str) -> None:
    model = tiny_vit()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert (SplitViT(model, 2, method, 0.0, prune_point=prune_point)(x) - model(x)).abs().max() < 1e-5


@pytest.mark.parametrize("method", ["mercury", "ats"])
def test_pruning_before_block1_runs_block1_on_the_kept_tokens(method: str) -> None:
    """before_block1: scores come from block 1's attention on all tokens, block 1 then runs on the kept ones."""
    model = tiny_vit()
    spec = spec_of(model)
    x = torch.randn(2, 3, 32, 32)
    split = SplitViT(model, 1, method, 0.5, spec=spec, prune_point="before_block1")
    after = SplitViT(model, 1, method, 0.5, spec=spec)
    with torch.no_grad():
        tokens = split.embed(x)
        att = attention(model.blocks[0].attn, model.blocks[0].norm1(tokens))
        if method == "mercury":
            sel = mercury_select(att.heads, spec.prefix_tokens, spec.grid, split.pruned)
        else:
            sel = ats_select(att, spec.prefix_tokens, split.pruned)
        expected, _, _ = block_forward(model.blocks[0], gather_tokens(tokens, sel.keep))
        payload = split.mobile(x)
        assert payload.num_tokens == spec.num_tokens - split.pruned == after.mobile(x).num_tokens
        assert (payload.tokens - expected).abs().max() < 1e-6
        # the two placements differ: block 1's attention saw different token sets
        assert (payload.tokens - after.mobile(x).tokens).abs().max() > 1e-4
        assert split.cloud(payload).shape == (2, spec.num_classes)


def test_unknown_prune_point_is_refused() -> None:
    with pytest.raises(ValueError, match="prune_point"):
        SplitViT(tiny_vit(), 1, "mercury", 0.5, prune_point="after_block2")


# K = round(rate x 196) patches pruned of 198 tokens: 19.6 -> 20, 64.99 -> 65, 98, 117.6 -> 118, 147
@pytest.mark.parametrize(("rate", "uploaded"), [(0.0, 198), (0.1, 178), (0.3316, 133), (0.5, 100), (0.6, 80),
                                                (0.75, 51)])
def test_mercury_upload_matches_simulator(
    deit_tiny: torch.nn.Module, images: torch.Tensor, rate: float, uploaded: int
) -> None:
    spec = MODELS[DEIT_TINY]
    split = SplitViT(deit_tiny, 3, "mercury", rate, spec=spec)
    with torch.no_grad():
        payload = split.mobile(images)
    assert payload.num_tokens == uploaded == split.expected_upload_tokens()
    assert spec.num_tokens - mercury_pruned(spec, rate) == uploaded  # the simulator counts the same
    assert payload.size is None


# Tokens after block 3 of 198: ToMe r per block (3r merged); Janus floor(2^(alpha (12 - l))) for l = 1..3:
# alpha 0.4 removes 21 + 16 + 12, alpha 0.49 removes floor(41.9) + floor(29.9) + floor(21.3) = 41 + 29 + 21.
@pytest.mark.parametrize(
    ("method", "parameter", "uploaded"),
    [("tome", 13, 198 - 39), ("tome", 20, 198 - 60), ("janus", 0.4, 198 - 49), ("janus", 0.49, 198 - 91)],
)
def test_tome_upload_matches_simulator(
    deit_tiny: torch.nn.Module, images: torch.Tensor, method: str, parameter: float, uploaded: int
) -> None:
    spec = MODELS[DEIT_TINY]
    split = SplitViT(deit_tiny, 3, method, parameter, spec=spec)
    with torch.no_grad():
        payload = split.mobile(images)
        logits = split.cloud(payload)
    merges = janus_deltas(spec, parameter) if method == "janus" else [int(parameter)] * spec.depth
    assert payload.num_tokens == uploaded == tome_tokens(spec, merges)[2][1]
    assert torch.allclose(payload.size.sum(dim=1), torch.full((2, 1), float(spec.num_tokens)))
    assert logits.shape == (2, 1000)


@settings(max_examples=15, deadline=None)
@given(
    grid=st.integers(2, 9),
    window=st.integers(1, 3),
    seed=st.integers(0, 10_000),
    frac=st.floats(0, 1),
    prefix=st.integers(1, 2),
)
def test_mercury_one_anchor_per_window_and_exact_count(
    grid: int, window: int, seed: int, frac: float, prefix: int
) -> None:
    assume(window <= grid)
    torch.manual_seed(seed)
    n = grid * grid
    feats = torch.randn(2, prefix + n, 8)
    anchors_per_side = grid // window
    anchors = anchors_per_side**2
    k = int(frac * (n - anchors))
    sel = mercury_select(feats, prefix, grid, k, window)
    assert sel.keep.shape == (2, prefix + n - k) and sel.pruned.shape == (2, k)
    assert torch.equal(sel.keep[:, :prefix], torch.arange(prefix).expand(2, -1))  # cls/dist kept
    kept = sel.keep[:, prefix:] - prefix
    rows, cols = kept // grid, kept % grid
    for b in range(2):
        inside = (rows[b] < anchors_per_side * window) & (cols[b] < anchors_per_side * window)
        windows = (rows[b][inside] // window) * anchors_per_side + cols[b][inside] // window
        counts = torch.bincount(windows, minlength=anchors)
        assert (counts >= 1).all()  # every window keeps its anchor
        if k == n - anchors:
            assert (counts == 1).all() and not inside.logical_not().any()
    unit = torch.nn.functional.normalize(feats[:, prefix:], dim=-1)
    score = (unit @ unit.transpose(1, 2)).sum(-1)
    for b in range(2):  # each window's anchor, found by a plain scan: the first maximum in row-major order
        for wr in range(anchors_per_side):
            for wc in range(anchors_per_side):
                cells = [(wr * window + i) * grid + wc * window + j for i in range(window) for j in range(window)]
                best = max(cells, key=lambda c: (score[b, c].item(), -c))
                assert best + prefix in sel.keep[b].tolist()
    assert window_anchors(score, grid, window).shape[1] == anchors


def test_mercury_full_reduction_keeps_exactly_one_per_window(
    deit_tiny: torch.nn.Module, images: torch.Tensor
) -> None:
    spec = MODELS[DEIT_TINY]
    with torch.no_grad():
        x = SplitViT(deit_tiny, 0).embed(images)
        _, _, att = block_forward(deit_tiny.blocks[0], x)
    sel = mercury_select(att.heads, 2, spec.grid, mercury_pruned(spec, 0.75))
    kept = sel.keep[:, 2:] - 2
    windows = (kept // 14 // 2) * 7 + (kept % 14) // 2
    for b in range(2):
        assert torch.equal(torch.bincount(windows[b], minlength=49), torch.ones(49, dtype=torch.long))
    assert kept.shape[1] == mercury_anchor_count(spec) == 49


@settings(max_examples=15, deadline=None)
@given(n=st.integers(3, 60), r=st.integers(0, 40), prefix=st.integers(1, 2), seed=st.integers(0, 10_000))
def test_tome_sizes_and_prefix_invariants(n: int, r: int, prefix: int, seed: int) -> None:
    torch.manual_seed(seed)
    x, metric = torch.randn(2, n, 6), torch.randn(2, n, 4)
    size = torch.ones(2, n, 1)
    merged, sizes = bipartite_merge(x, size, metric, r, prefix)
    expected = n - max(0, min(r, (n - prefix) // 2))
    assert merged.shape == (2, expected, 6)
    assert torch.allclose(sizes.sum(dim=1), torch.full((2, 1), float(n)))
    assert torch.equal(merged[:, :prefix], x[:, :prefix]) and torch.equal(sizes[:, :prefix], size[:, :prefix])
    if r == 0:
        assert torch.equal(merged, x)


@settings(max_examples=15, deadline=None)
@given(
    rate=st.floats(0, 0.95),
    seed=st.integers(0, 1000),
    distilled=st.booleans(),
    method=st.sampled_from(["mercury", "ats"]),
)
def test_one_shot_pruning_never_drops_prefix(rate: float, seed: int, distilled: bool, method: str) -> None:
    model = tiny_vit(distilled, seed=seed % 3)
    spec = spec_of(model)
    split = SplitViT(model, 2, method, min(rate, 0.75) if method == "mercury" else rate, spec=spec)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        tokens, _, att = block_forward(model.blocks[0], SplitViT(model, 0).embed(x))
        payload = split.mobile(x)
    assert payload.num_tokens == split.expected_upload_tokens()
    # cls/dist rows after block 1 are the unpruned model's rows (they are never removed or moved); the two
    # paths round differently (fused vs explicit attention), ~1e-8 on entries near 0, so atol is 1e-6
    one_block = SplitViT(model, 1, method, split.parameter, spec=spec)
    with torch.no_grad():
        assert torch.allclose(
            one_block.mobile(x).tokens[:, : spec.prefix_tokens], tokens[:, : spec.prefix_tokens], atol=1e-6
        )
    assert att.attn.shape[-1] == spec.num_tokens


def test_restore_modes_return_full_length() -> None:
    from simulator.ml.reconstruction import Restore

    model = tiny_vit()
    split = SplitViT(model, 2, "mercury", 0.75)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        payload = split.mobile(x)
        for mode in ("learned", "zero-pad", "duplicate"):
            restored = Restore(mode, split.pruned, 48, 2)(payload)
            assert restored.shape[1] == split.spec.num_tokens
            assert torch.equal(restored[:, :2], payload.tokens[:, :2])
        dup = Restore("duplicate", split.pruned, 48, 2)(payload)
        assert torch.equal(dup[:, 2 + split.pruned :], payload.tokens[:, 2:])
