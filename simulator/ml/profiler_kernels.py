"""Timing-only torch kernels of the two token-reduction steps the simulator prices as stages.

These reproduce the *work* of Mercury's layer-1 pruning (research/algorithms.md 7.2) and of one ToMe
bipartite merge (2.3) closely enough to time them; they are not the accuracy-faithful pruning library
(which lives elsewhere) and nothing outside the profiler should depend on them.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F


@lru_cache(maxsize=64)
def window_members(n_patches: int, window: int = 2) -> torch.Tensor:
    """Patch indices of every l x l window, shape (windows, l*l): Mercury's subregions (Eq. 14).

    A square grid whose side the window divides is tiled in 2-D (row-major, as Eq. 13); any other count
    (only met when profiling odd token counts) falls back to runs of l*l consecutive patches, which costs
    the same.
    """
    size = window * window
    side = math.isqrt(n_patches)
    if side * side == n_patches and side % window == 0:
        idx = torch.arange(n_patches).view(side // window, window, side // window, window)
        return idx.permute(0, 2, 1, 3).reshape(-1, size)
    usable = (n_patches // size) * size
    return torch.arange(usable).view(-1, size)


def mercury_pruned_count(n_patches: int, reduction: float = 0.5, window: int = 2) -> int:
    """Patches pruned at ``reduction``: round(rate * n), at most all non-anchors."""
    anchors = window_members(n_patches, window).shape[0]
    return max(0, min(int(round(reduction * n_patches)), n_patches - anchors))


def mercury_prune(x: torch.Tensor, prefix: int, pruned: int, window: int = 2) -> torch.Tensor:
    """Drop ``pruned`` patch tokens of ``x`` (B, N, d) the way Mercury's Algorithm 1 chooses them.

    Cosine similarity of all patch pairs (Eq. 11), per-token sum (Eq. 12), one anchor per window
    (Eq. 15-17), then the ``pruned`` non-anchors most similar to some anchor (Eq. 18) are removed;
    prefix tokens (cls, dist) always stay and the kept patches keep their order.
    """
    batch, _, dim = x.shape
    patches = x[:, prefix:]
    n = patches.shape[1]
    unit = F.normalize(patches, dim=-1)
    sim = unit @ unit.transpose(1, 2)                                     # (B, n, n)
    score = sim.sum(-1)                                                   # (B, n)
    members = window_members(n, window).to(x.device)                      # (G, l*l)
    best = score[:, members].argmax(-1)                                   # (B, G)
    anchors = members[torch.arange(members.shape[0], device=x.device), best]  # (B, G)
    to_anchor = sim.gather(2, anchors.unsqueeze(1).expand(batch, n, anchors.shape[1])).amax(-1)
    to_anchor = to_anchor.scatter(1, anchors, float("-inf"))              # anchors are never pruned
    drop = to_anchor.topk(pruned, dim=-1).indices
    keep = torch.ones(batch, n, dtype=torch.bool, device=x.device).scatter(1, drop, False)
    kept = patches[keep].view(batch, n - pruned, dim)
    return torch.cat([x[:, :prefix], kept], dim=1)


def tome_merge(x: torch.Tensor, keys: torch.Tensor, size: torch.Tensor, r: int,
               prefix: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge ``r`` tokens of ``x`` (B, N, d) by bipartite soft matching on head-averaged ``keys``.

    ``keys`` is (B, H, N, head_dim), ``size`` (B, N, 1) the tokens each one stands for. Alternate tokens
    form sets A and B; each A token's most similar B token is its partner; the ``r`` best-matched A tokens
    are averaged (size-weighted) into their partners. cls (A[0]) is never a source and, for distilled
    models, nothing merges into dist (B[0]). Returns the merged tokens and their sizes.
    """
    metric = F.normalize(keys.mean(1), dim=-1)
    a, b = metric[:, ::2], metric[:, 1::2]
    scores = a @ b.transpose(1, 2)
    scores[:, 0, :] = float("-inf")
    if prefix > 1:
        scores[:, :, 0] = float("-inf")
    node_max, node_idx = scores.max(dim=-1)
    order = node_max.argsort(dim=-1, descending=True).unsqueeze(-1)
    unmerged, sources = order[:, r:].sort(dim=1).values, order[:, :r]
    targets = node_idx.unsqueeze(-1).gather(1, sources)

    weighted = x * size
    xa, xb = weighted[:, ::2], weighted[:, 1::2]
    sa, sb = size[:, ::2], size[:, 1::2]
    dim = x.shape[-1]
    moved = xa.gather(1, sources.expand(-1, -1, dim))
    xb = xb.scatter_reduce(1, targets.expand(-1, -1, dim), moved, reduce="sum")
    sb = sb.scatter_reduce(1, targets, sa.gather(1, sources), reduce="sum")
    keep_x = xa.gather(1, unmerged.expand(-1, -1, dim))
    keep_s = sa.gather(1, unmerged)
    merged_size = torch.cat([keep_s, sb], dim=1)
    return torch.cat([keep_x, xb], dim=1) / merged_size, merged_size


def attention_heads(block: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Block ``block``'s attention on ``x`` (B, N, d) up to the concatenated heads, before the projection.

    This is Mercury's O_f: the work a device must do to score tokens before block 1 runs on the kept ones.
    """
    attn = block.attn
    b, n, _ = x.shape
    qkv = attn.qkv(block.norm1(x)).reshape(b, n, 3, attn.num_heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    return F.scaled_dot_product_attention(attn.q_norm(q), attn.k_norm(k), v).transpose(1, 2).reshape(b, n, -1)
