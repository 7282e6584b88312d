"""Explicit attention and block forwards for timm ViT blocks.

timm's ``Attention`` uses fused SDPA, which hides the attention matrix and keys; Mercury (attention
outputs), ToMe (keys, proportional attention) and ATS (cls attention, value norms) all need them, so the
forward is re-implemented from the module's own weights. With ``size=None`` and no reducer the result
equals timm's forward (checked by the tests to < 1e-5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass
class AttentionResult:
    """What one attention call exposes to the reduction methods."""

    out: Tensor  # B x N x C, after the output projection (what the residual adds)
    heads: Tensor  # B x N x C, softmax(QK^T * scale) V with heads concatenated, before the projection
    keys: Tensor  # B x N x head_dim, keys averaged over heads (ToMe's merge metric)
    attn: Tensor  # B x H x N x N, attention probabilities
    values: Tensor  # B x N x C, values with heads concatenated


Reducer = Callable[[Tensor, Tensor | None, AttentionResult], tuple[Tensor, Tensor | None]]


def attention(module: nn.Module, x: Tensor, size: Tensor | None = None) -> AttentionResult:
    """timm ``Attention`` forward with the matrix exposed; ``size`` (B x N x 1) adds log(size) to the logits.

    The log-size term is ToMe's proportional attention: a merged token of size s counts as s keys.
    """
    b, n, _ = x.shape
    h, hd = module.num_heads, module.head_dim
    qkv = module.qkv(x).reshape(b, n, 3, h, hd).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    q, k = module.q_norm(q), module.k_norm(k)
    logits = (q * module.scale) @ k.transpose(-2, -1)
    if size is not None:
        logits = logits + size.log().reshape(b, 1, 1, n)
    attn = logits.softmax(dim=-1)
    heads = (module.attn_drop(attn) @ v).transpose(1, 2).reshape(b, n, h * hd)
    mixed = getattr(module, "norm", nn.Identity())(heads)
    gate = getattr(module, "gate", None)
    if gate is not None:
        mixed = mixed * gate(x).sigmoid()
    out = module.proj_drop(module.proj(mixed))
    return AttentionResult(
        out=out, heads=heads, keys=k.mean(dim=1), attn=attn, values=v.transpose(1, 2).reshape(b, n, h * hd)
    )


def block_forward(
    block: nn.Module, x: Tensor, size: Tensor | None = None, reduce: Reducer | None = None
) -> tuple[Tensor, Tensor | None, AttentionResult]:
    """One pre-norm block; ``reduce`` runs between the attention residual and the MLP (ToMe's placement)."""
    att = attention(block.attn, block.norm1(x), size)
    x = x + block.drop_path1(block.ls1(att.out))
    if reduce is not None:
        x, size = reduce(x, size, att)
    x = x + block.drop_path2(block.ls2(block.mlp(block.norm2(x))))
    return x, size, att


def gather_tokens(x: Tensor, index: Tensor) -> Tensor:
    """Rows ``index`` (B x M) of every sequence in ``x`` (B x N x C)."""
    return torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
