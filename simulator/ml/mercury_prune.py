"""Mercury's regionally decentralized token pruning (Algorithm 1, Eq. 11-18), at the initial layer.

Decisions on the questions the paper leaves open (research/algorithms.md section 10, items 1-4):

* **O_f** is block 1's attention output with heads concatenated *before* the output projection, i.e.
  literally Eq. 3 (Softmax(QK^T/sqrt(d))V), for the patch tokens only.
* **Where**: block 1 runs on all tokens; the K tokens are removed from block 1's *output* (so O_f is
  reused and attention is not computed twice). This is the placement the simulator prices by default
  (``MercurySchedule``: block 1 on N0 tokens, a ``mercury_prune`` stage, blocks 2..s on N0 - K). The other
  reading (Eq. 9's X - X_r: prune block 1's *input*, scoring with one extra attention pass) is available as
  ``SplitViT(..., prune_point="before_block1")`` and ``prune_point: before_block1`` in a scenario; it
  explains the paper's Fig. 9-11 speed-ups better (README, "Paper reproduction").
* **cls/dist** are excluded from the grid and the scores, and always kept.
* **Ties**: the window anchor is the first maximum in row-major order inside the window; among equal
  redundancy scores the lower patch index is pruned first (stable sort). Deterministic, no noise
  (SiTo's 0.1 * N(0, 1) score noise is not in the paper and is not used).
* **Non-divisible grids**: windows cover the top-left floor(k/l)*l square; border patches outside it
  belong to no window, are never anchors, and are ordinary prune candidates (matches
  ``simulator.inputs.vit.mercury_anchor_count``). A grid smaller than one window has no anchors; then the
  summed score alone ranks redundancy.
* K = ``simulator.inputs.vit.mercury_pruned(spec, rate)`` so the token counts equal the simulator's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class Selection:
    """Which tokens survive a one-shot pruning step, as indices into the full sequence."""

    keep: Tensor  # B x (N - K), ascending; prefix tokens first
    pruned: Tensor  # B x K, patch positions in the full sequence
    source: Tensor  # B x K, for each pruned token the position *in the kept sequence* of its closest keeper


def cosine_similarity_matrix(features: Tensor) -> Tensor:
    """Eq. 11: pairwise cosine similarity (B x N x N)."""
    f = F.normalize(features, dim=-1)
    return f @ f.transpose(-2, -1)


def window_anchors(score: Tensor, grid: int, window: int) -> Tensor:
    """Eq. 13-17: per full l x l window the patch index with the largest score (B x windows)."""
    b = score.shape[0]
    per_side = grid // window
    if per_side == 0:
        return score.new_zeros((b, 0), dtype=torch.long)
    g = score.reshape(b, grid, grid)[:, : per_side * window, : per_side * window]
    w = g.reshape(b, per_side, window, per_side, window).permute(0, 1, 3, 2, 4)
    w = w.reshape(b, per_side, per_side, -1)
    local = w.argmax(dim=-1)  # first maximum in row-major order within the window
    du, dv = local // window, local % window
    p = torch.arange(per_side, device=score.device).reshape(1, -1, 1)
    q = torch.arange(per_side, device=score.device).reshape(1, 1, -1)
    return ((p * window + du) * grid + (q * window + dv)).reshape(b, -1)


def mercury_select(features: Tensor, prefix: int, grid: int, pruned: int, window: int = 2) -> Selection:
    """Choose K = ``pruned`` patches to drop; ``features[:, prefix:]`` are the patch tokens."""
    patches = features[:, prefix:]
    b, n, _ = patches.shape
    if n != grid * grid:
        raise ValueError(f"{n} patch tokens do not form a {grid} x {grid} grid")
    sim = cosine_similarity_matrix(patches.float())
    score = sim.sum(dim=-1)  # Eq. 12 (self term included: a constant +1)
    anchors = window_anchors(score, grid, window)
    if pruned > n - anchors.shape[1]:
        raise ValueError(f"cannot prune {pruned} of {n} patches with {anchors.shape[1]} anchors")
    is_anchor = torch.zeros(b, n, dtype=torch.bool, device=features.device)
    is_anchor.scatter_(1, anchors, True)
    if anchors.shape[1] == 0:  # grid smaller than one window: rank by the summed score instead
        return _select_without_anchors(score, prefix, pruned)
    to_anchor = sim.gather(2, anchors.unsqueeze(1).expand(-1, n, -1))  # B x n x anchors
    redundancy, best = to_anchor.max(dim=-1)  # Eq. 18: max similarity to any anchor
    redundancy = redundancy.masked_fill(is_anchor, float("-inf"))
    order = torch.sort(redundancy, dim=-1, descending=True, stable=True).indices
    drop = order[:, :pruned]
    keep_mask = torch.ones(b, n, dtype=torch.bool, device=features.device)
    keep_mask.scatter_(1, drop, False)
    keep_patches = torch.nonzero(keep_mask)[:, 1].reshape(b, n - pruned)
    prefix_idx = torch.arange(prefix, device=features.device).expand(b, -1)
    keep = torch.cat([prefix_idx, keep_patches + prefix], dim=1)
    drop_sorted = drop.sort(dim=-1).values
    closest = anchors.gather(1, best.gather(1, drop_sorted))  # patch index of each pruned token's anchor
    source = torch.searchsorted(keep_patches.contiguous(), closest.contiguous()) + prefix
    return Selection(keep=keep, pruned=drop_sorted + prefix, source=source)


def _select_without_anchors(score: Tensor, prefix: int, pruned: int) -> Selection:
    """Degenerate case (no full window): prune the K highest summed scores; duplicates copy cls."""
    b, n = score.shape
    order = torch.sort(score, dim=-1, descending=True, stable=True).indices
    drop = order[:, :pruned].sort(dim=-1).values
    keep_patches = order[:, pruned:].sort(dim=-1).values
    prefix_idx = torch.arange(prefix, device=score.device).expand(b, -1)
    keep = torch.cat([prefix_idx, keep_patches + prefix], dim=1)
    return Selection(keep=keep, pruned=drop + prefix, source=torch.zeros_like(drop))
