"""Which tokens Mercury prunes and which ToMe merges, on features built so the answer is known on paper."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torch")

import torch  # noqa: E402

from simulator.ml.mercury_prune import mercury_select  # noqa: E402
from simulator.ml.tome import bipartite_merge  # noqa: E402

# A 4 x 4 grid in 2 x 2 windows: W0 = {0, 1, 4, 5}, W1 = {2, 3, 6, 7}, W2 = {8, 9, 12, 13}, W3 = {10, 11, 14, 15}.
# Patch p of window w has the feature e_w + a_p u_p (e_w one direction per window, u_p a private direction),
# so cos(p, q) = 1 / sqrt((1 + a_p^2)(1 + a_q^2)) inside a window and 0 across windows. Each window's summed
# similarity (Eq. 12) is largest for its smallest a: the anchors are the a = 0 patches 5, 2, 12 and 11
# (a different corner in each window). A patch's redundancy (Eq. 18, cosine to the closest anchor) is
# 1 / sqrt(1 + a_p^2): the smaller a, the more redundant, the sooner pruned.
ANCHORS = {5: 0, 2: 1, 12: 2, 11: 3}
SPREAD = {0: 0.9, 1: 0.2, 4: 0.5, 3: 0.3, 6: 1.2, 7: 0.1, 8: 0.7, 9: 0.4, 13: 1.0, 10: 0.6, 14: 0.8, 15: 1.1}
PRUNE_ORDER = [7, 1, 3, 9, 4, 10, 8, 14, 0, 13, 15, 6]  # ascending a


def window_of(p: int) -> int:
    return (p // 4 // 2) * 2 + (p % 4) // 2


def grid_features(prefix: int) -> torch.Tensor:
    dims = 4 + 16
    feats = torch.zeros(1, prefix + 16, dims)
    for p in range(16):
        feats[0, prefix + p, window_of(p)] = 1.0
        feats[0, prefix + p, 4 + p] = SPREAD.get(p, 0.0)
    feats[0, :prefix, 0] = -1.0  # cls/dist: must never take part
    return feats


@pytest.mark.parametrize("k", [1, 5, 12])
@pytest.mark.parametrize("prefix", [1, 2])
def test_mercury_prunes_the_most_redundant_patches(k: int, prefix: int) -> None:
    sel = mercury_select(grid_features(prefix), prefix, 4, k, window=2)
    pruned = sorted(PRUNE_ORDER[:k])
    kept = [p for p in range(16) if p not in pruned]
    assert sel.pruned[0].tolist() == [p + prefix for p in pruned]
    assert sel.keep[0].tolist() == list(range(prefix)) + [p + prefix for p in kept]
    # each pruned token's source is its own window's anchor, as a position in the kept sequence
    anchor_of = {w: a for a, w in ANCHORS.items()}
    assert sel.source[0].tolist() == [prefix + kept.index(anchor_of[window_of(p)]) for p in pruned]


def test_mercury_equal_redundancy_prunes_the_lower_index_first() -> None:
    feats = grid_features(2)
    feats[0, 2 + 3, 4 + 3] = 0.1  # patch 3 now ties patch 7 (a = 0.1)
    sel = mercury_select(feats, 2, 4, 1, window=2)
    assert sel.pruned[0].tolist() == [2 + 3]


def test_mercury_redundancy_is_to_the_closest_anchor_across_windows() -> None:
    """Patch 0 (window 0) re-drawn as 0.6 e_1 + 2 u_0: cosine 0.6 / sqrt(4.36) = 0.287 with window 1's anchor 2,
    0 with its own anchor 5, and too weak a summed score to be an anchor itself. Every other patch is more
    redundant (1 / sqrt(1 + 1.2^2) = 0.64 at least), so 0 is pruned last, and its closest anchor is 2."""
    feats = grid_features(2)
    feats[0, 2 + 0] = 0.0
    feats[0, 2 + 0, 1], feats[0, 2 + 0, 4] = 0.6, 2.0
    sel = mercury_select(feats, 2, 4, 11, window=2)
    assert sel.keep[0].tolist() == [0, 1] + [2 + p for p in (0, 2, 5, 11, 12)]
    sel = mercury_select(feats, 2, 4, 12, window=2)
    assert sel.keep[0].tolist() == [0, 1] + [2 + p for p in (2, 5, 11, 12)]
    assert sel.source[0, 0].item() == 2 + 0  # patch 0's anchor: patch 2, first of the kept patches


def test_tome_merges_the_most_similar_pairs_size_weighted() -> None:
    """Tokens alternate A (even) / B (odd). With one prefix token (cls = A0, never a source, though parallel
    to B0): A1 = token 2 is parallel to B1 = token 3 (cosine 1), A2 = token 4 is at 60 degrees to B1 (cosine
    0.5, but a dot product 4x larger: the metric is compared by cosine) and orthogonal to the rest.
    r = 1 merges 2 into 3 (their size-weighted mean); r = 2 also merges 4 into 3.
    """
    metric = torch.tensor([[[1.0, 0.0, 0.0],     # 0 cls
                            [1.0, 0.0, 0.0],     # 1 B0
                            [0.0, 1.0, 0.0],     # 2 A1
                            [0.0, 1.0, 0.0],     # 3 B1
                            [0.0, 2.0, 2.0 * math.sqrt(3)]]])  # 4 A2
    x = torch.arange(5, dtype=torch.float32).reshape(1, 5, 1) * 10.0
    size = torch.tensor([[[1.0], [1.0], [3.0], [1.0], [2.0]]])
    merged, sizes = bipartite_merge(x, size, metric, 1, prefix=1)
    # unmerged A (cls, A2) then all B (B0, B1 + A1): B1 = (1 * 30 + 3 * 20) / 4
    assert merged[0, :, 0].tolist() == pytest.approx([0.0, 40.0, 10.0, 22.5])
    assert sizes[0, :, 0].tolist() == [1.0, 2.0, 1.0, 4.0]
    merged, sizes = bipartite_merge(x, size, metric, 2, prefix=1)
    assert merged[0, :, 0].tolist() == pytest.approx([0.0, 10.0, (30 + 3 * 20 + 2 * 40) / 6])
    assert sizes[0, :, 0].tolist() == [1.0, 1.0, 6.0]


def test_tome_never_merges_into_dist_and_caps_r() -> None:
    """With cls and dist (prefix 2), A1 = token 2 is parallel to dist but may only merge into B1 = token 3
    (cosine 0); r = 9 is capped at (4 - 2) // 2 = 1. Six tokens with one prefix cap r at (6 - 1) // 2 = 2."""
    metric = torch.tensor([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    x = torch.tensor([[[0.0], [10.0], [20.0], [30.0]]])
    merged, sizes = bipartite_merge(x, torch.ones(1, 4, 1), metric, 9, prefix=2)
    assert merged[0, :, 0].tolist() == pytest.approx([0.0, 10.0, 25.0])
    assert sizes[0, :, 0].tolist() == [1.0, 1.0, 2.0]
    odd = torch.randn(1, 6, 3, generator=torch.Generator().manual_seed(0))
    assert bipartite_merge(odd, torch.ones(1, 6, 1), odd, 9, prefix=1)[0].shape == (1, 4, 3)  # (6 - 1) // 2 = 2
