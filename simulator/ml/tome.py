"""ToMe bipartite soft matching (research/algorithms.md section 2) with size tracking.

Runs between a block's attention residual and its MLP; the metric is the block's keys averaged over
heads. Proportional attention is applied by passing the size vector to the next attention call
(``attention.attention`` adds log(size) to the logits). cls (index 0) is never a source, and with a
dist token (index 1) nothing merges into it; both stay at indices 0 and 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from simulator.ml.attention import AttentionResult, Reducer


def bipartite_merge(x: Tensor, size: Tensor, metric: Tensor, r: int, prefix: int) -> tuple[Tensor, Tensor]:
    """Merge ``r`` tokens (capped at (N - prefix) // 2 like ``simulator.inputs.vit.tome_tokens``), size-weighted."""
    b, n, c = x.shape
    r = max(0, min(int(r), (n - prefix) // 2))
    if r == 0:
        return x, size
    m = F.normalize(metric, dim=-1)
    a_m, b_m = m[:, ::2], m[:, 1::2]
    scores = a_m @ b_m.transpose(-1, -2)
    scores[:, 0, :] = float("-inf")  # cls is never a source
    if prefix > 1:
        scores[:, :, 0] = float("-inf")  # nothing merges into dist
    node_max, node_idx = scores.max(dim=-1)
    edge_order = torch.sort(node_max, dim=-1, descending=True, stable=True).indices
    src_idx = edge_order[:, :r]
    unm_idx = edge_order[:, r:].sort(dim=-1).values  # ascending keeps cls first
    dst_idx = node_idx.gather(1, src_idx)

    def expand(index: Tensor, width: int) -> Tensor:
        return index.unsqueeze(-1).expand(-1, -1, width)

    weighted = x * size
    xa, xb = weighted[:, ::2], weighted[:, 1::2]
    sa, sb = size[:, ::2], size[:, 1::2]
    xb = xb.scatter_add(1, expand(dst_idx, c), xa.gather(1, expand(src_idx, c)))
    sb = sb.scatter_add(1, expand(dst_idx, 1), sa.gather(1, expand(src_idx, 1)))
    xu, su = xa.gather(1, expand(unm_idx, c)), sa.gather(1, expand(unm_idx, 1))
    if prefix > 1:
        merged = torch.cat([xu[:, :1], xb[:, :1], xu[:, 1:], xb[:, 1:]], dim=1)
        sizes = torch.cat([su[:, :1], sb[:, :1], su[:, 1:], sb[:, 1:]], dim=1)
    else:
        merged, sizes = torch.cat([xu, xb], dim=1), torch.cat([su, sb], dim=1)
    return merged / sizes, sizes


def tome_reducer(r: int, prefix: int) -> Reducer | None:
    """A block reducer merging ``r`` tokens with the block's head-averaged keys; None when r = 0."""
    if r <= 0:
        return None

    def reduce(x: Tensor, size: Tensor | None, att: AttentionResult) -> tuple[Tensor, Tensor | None]:
        if size is None:
            size = x.new_ones(x.shape[0], x.shape[1], 1)
        return bipartite_merge(x, size, att.keys, r, prefix)

    return reduce
