"""A real width- and depth-pruned timm ViT built from a :class:`~simulator.inputs.pruned_vit.PrunedViT`.

The base model is created by timm (``pretrained=False`` unless weights are given); each kept block gets a
narrower attention (the first ``heads`` heads: their rows of qkv, their columns of proj) and MLP (the first
``mlp_hidden`` channels of fc1's rows and fc2's columns), sliced from the base weights; blocks beyond the
pruned depth are dropped. Which heads and channels a pruning method keeps depends on importance scores
computed on trained weights; latency and MACs do not, so the first ones are kept.
"""

from __future__ import annotations

from typing import Any

from simulator.inputs.pruned_vit import PrunedViT


def build_pruned_timm(model: PrunedViT, *, pretrained: bool = False) -> Any:
    """The pruned model as a timm ``VisionTransformer`` in eval mode."""
    import timm
    import torch
    from timm.layers import Attention

    vit = timm.create_model(model.base.name, pretrained=pretrained).eval()
    d, hd = model.base.embed_dim, model.head_dim
    kept = []
    with torch.no_grad():
        for index, widths in enumerate(model.blocks):
            block = vit.blocks[index]
            old = block.attn
            width = widths.heads * hd
            attn = Attention(d, num_heads=widths.heads, attn_head_dim=hd, qkv_bias=old.qkv.bias is not None)
            rows = torch.cat([torch.arange(part * d, part * d + width) for part in range(3)])
            attn.qkv.weight.copy_(old.qkv.weight[rows])
            if old.qkv.bias is not None:
                attn.qkv.bias.copy_(old.qkv.bias[rows])
            attn.proj.weight.copy_(old.proj.weight[:, :width])
            attn.proj.bias.copy_(old.proj.bias)
            block.attn = attn.eval()
            mlp, m = block.mlp, widths.mlp_hidden
            fc1, fc2 = torch.nn.Linear(d, m), torch.nn.Linear(m, d)
            fc1.weight.copy_(mlp.fc1.weight[:m])
            fc1.bias.copy_(mlp.fc1.bias[:m])
            fc2.weight.copy_(mlp.fc2.weight[:, :m])
            fc2.bias.copy_(mlp.fc2.bias)
            mlp.fc1, mlp.fc2 = fc1, fc2
            kept.append(block)
    vit.blocks = torch.nn.Sequential(*kept)
    return vit.eval()


def counted_macs(vit: Any, image_size: int) -> float:
    """Multiply-accumulates of one forward on one image as torch's FlopCounterMode counts them (FLOPs / 2).

    The attention runs unfused (explicit QK^T and AV matmuls) so the counter sees every product.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    for block in vit.blocks:
        block.attn.fused_attn = False
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:  # not inference_mode: torch 2.5's counter sees nothing there
        vit(torch.randn(1, 3, image_size, image_size))
    return counter.get_total_flops() / 2.0
