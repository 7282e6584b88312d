"""ATS-style significance pruning as Mercury's baseline uses it: deterministic top-K at one layer.

Score (research/algorithms.md 3.2): S_j = (sum over heads of the cls row's attention to j) * ||V_j||,
V_j with heads concatenated, over patch tokens only. Decisions: the cls row alone defines the score for
distilled models (as in ATS; the dist row is not added); the lowest-scoring K patches are removed from
the output of the same block Mercury prunes after (block 1), so the two methods differ only in the
selection rule; ties keep the lower index (stable sort). Pruned tokens are copied from the kept token
with the most similar attention output when a duplicate reconstruction asks for it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from simulator.ml.attention import AttentionResult
from simulator.ml.mercury_prune import Selection, cosine_similarity_matrix


def ats_scores(att: AttentionResult, prefix: int) -> Tensor:
    """Normalised significance of every patch token (B x N_patches)."""
    cls_row = att.attn[:, :, 0, prefix:].sum(dim=1)
    score = cls_row * att.values[:, prefix:].norm(dim=-1)
    return score / score.sum(dim=-1, keepdim=True).clamp_min(1e-12)


def ats_select(att: AttentionResult, prefix: int, pruned: int) -> Selection:
    """Keep the N - K most significant patches (and every prefix token)."""
    score = ats_scores(att, prefix)
    b, n = score.shape
    order = torch.sort(score, dim=-1, descending=True, stable=True).indices
    keep_patches = order[:, : n - pruned].sort(dim=-1).values
    drop = order[:, n - pruned :].sort(dim=-1).values
    prefix_idx = torch.arange(prefix, device=score.device).expand(b, -1)
    keep = torch.cat([prefix_idx, keep_patches + prefix], dim=1)
    feats = att.heads[:, prefix:].float()
    sim = cosine_similarity_matrix(feats)
    to_kept = sim.gather(1, drop.unsqueeze(-1).expand(-1, -1, n)).gather(
        2, keep_patches.unsqueeze(1).expand(-1, drop.shape[1], -1)
    )
    source = to_kept.argmax(dim=-1) + prefix
    return Selection(keep=keep, pruned=drop + prefix, source=source)
