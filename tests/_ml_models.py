"""Small randomly initialised ViTs shared by the ML tests (no downloads)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from timm.models.deit import VisionTransformerDistilled  # noqa: E402
from timm.models.vision_transformer import VisionTransformer  # noqa: E402

torch.set_num_threads(2)


def tiny_vit(
    distilled: bool = True,
    img: int = 32,
    patch: int = 4,
    dim: int = 48,
    depth: int = 3,
    classes: int = 10,
    seed: int = 0,
) -> torch.nn.Module:
    """A distilled (cls + dist) or plain (cls) ViT small enough for unit tests."""
    torch.manual_seed(seed)
    cls = VisionTransformerDistilled if distilled else VisionTransformer
    return cls(
        img_size=img, patch_size=patch, embed_dim=dim, depth=depth, num_heads=3, num_classes=classes
    ).eval()
