"""A timm ViT cut after block s: the mobile part returns the upload, the cloud part finishes the forward.

Methods and their parameter (the accuracy-table convention): ``none``; ``mercury`` and ``ats`` (reduction
rate of the patch tokens, pruned once at block 1: from its output by default, or from its input with
``prune_point="before_block1"``, scored by one extra pass of block 1's attention); ``tome`` (OTAS'
constant r in every block) and ``janus`` (alpha of Delta_l = floor(2^(alpha (L - l))), every block). Token
counts come from ``simulator.inputs.vit`` so the uploaded tensor has exactly the size the simulator prices.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from simulator.inputs.vit import MODELS, ViTSpec, constant_r, janus_deltas, mercury_pruned, tome_tokens
from simulator.ml.ats import ats_select
from simulator.ml.attention import AttentionResult, Reducer, attention, block_forward, gather_tokens
from simulator.ml.mercury_prune import mercury_select
from simulator.ml.tome import tome_reducer

METHODS = ("none", "mercury", "tome", "janus", "ats")
PRUNE_POINTS = ("after_block1", "before_block1")


@dataclass
class Payload:
    """The upload: tokens, ToMe sizes, and (duplicate reconstruction only) copy sources."""

    tokens: Tensor
    size: Tensor | None = None
    source: Tensor | None = None

    @property
    def num_tokens(self) -> int:
        return int(self.tokens.shape[1])


def spec_of(model: nn.Module, name: str | None = None) -> ViTSpec:
    """The simulator's ViTSpec for a timm model: the registry entry when named, else read off the model."""
    if name in MODELS:
        return MODELS[name]
    grid = tuple(model.patch_embed.grid_size)
    if grid[0] != grid[1]:
        raise ValueError(f"non-square patch grid {grid}")
    return ViTSpec(
        name or "custom",
        model.embed_dim,
        len(model.blocks),
        model.blocks[0].attn.num_heads,
        patch_size=model.patch_embed.patch_size[0],
        image_size=model.patch_embed.img_size[0],
        prefix_tokens=model.num_prefix_tokens,
        num_classes=model.num_classes,
    )


def pruned_count(spec: ViTSpec, method: str, rate: float, window: int = 2) -> int:
    """K for the one-shot pruners: Mercury's simulator count; ATS the same rounding without the anchor cap."""
    if method == "mercury":
        return mercury_pruned(spec, rate, window)
    return max(0, min(int(round(rate * spec.num_patches)), spec.num_patches - 1))


def merge_schedule(spec: ViTSpec, method: str, parameter: float) -> list[int]:
    """Per-block ToMe merges for ``tome`` (constant r) and ``janus`` (alpha); zeros otherwise."""
    if method == "tome":
        return constant_r(spec, int(round(parameter)))
    if method == "janus":
        return janus_deltas(spec, float(parameter))
    return [0] * spec.depth


class SplitViT(nn.Module):
    """Mobile and cloud halves of a timm VisionTransformer(/Distilled) under one reduction method."""

    def __init__(
        self,
        model: nn.Module,
        split_after: int,
        method: str = "none",
        parameter: float = 0.0,
        window: int = 2,
        spec: ViTSpec | None = None,
        prune_point: str = "after_block1",
    ) -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"method {method!r} unknown; expected one of {', '.join(METHODS)}")
        if prune_point not in PRUNE_POINTS:
            raise ValueError(f"prune_point {prune_point!r} unknown; expected one of {', '.join(PRUNE_POINTS)}")
        self.model = model
        self.spec = spec or spec_of(model)
        if not 0 <= split_after <= self.spec.depth:
            raise ValueError(f"split_after must be in [0, {self.spec.depth}], got {split_after}")
        if method in ("mercury", "ats") and parameter > 0 and split_after < 1:
            raise ValueError(f"{method} prunes after block 1; split_after must be >= 1")
        self.split_after, self.method, self.parameter, self.window = split_after, method, parameter, window
        self.prune_point = prune_point
        self.prefix = int(model.num_prefix_tokens)
        one_shot = method in ("mercury", "ats")
        self.pruned = pruned_count(self.spec, method, parameter, window) if one_shot else 0
        merges = merge_schedule(self.spec, method, parameter)
        self.reducers: list[Reducer | None] = [tome_reducer(r, self.prefix) for r in merges]

    def expected_upload_tokens(self) -> int:
        """The simulator's count of uploaded tokens (cls/dist included) for this method and split."""
        if self.method in ("tome", "janus") and self.split_after:
            merges = merge_schedule(self.spec, self.method, self.parameter)
            return tome_tokens(self.spec, merges)[self.split_after - 1][1]
        return self.spec.num_tokens - (self.pruned if self.split_after else 0)

    def embed(self, images: Tensor) -> Tensor:
        """Patch embedding, cls/dist tokens and positional embedding (timm's forward_features prologue)."""
        m = self.model
        x = m._pos_embed(m.patch_embed(images))
        return m.norm_pre(m.patch_drop(x))

    def mobile(self, images: Tensor) -> Payload:
        """Embed and run blocks 1..s with the method; return the upload."""
        x, size, source = self.embed(images), None, None
        if self.pruned and self.split_after and self.prune_point == "before_block1":
            x, source = self._prune(x, attention(self.model.blocks[0].attn, self.model.blocks[0].norm1(x)))
        prune_after_first = bool(self.pruned) and self.prune_point == "after_block1"
        for i, block in enumerate(self.model.blocks[: self.split_after]):
            if i == 0 and prune_after_first:
                x, size, att = block_forward(block, x, size, self.reducers[i])
                x, source = self._prune(x, att)
            else:
                x, size = self._block(i, block, x, size)
        return Payload(x, size, source)

    def block(self, i: int, x: Tensor, size: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """Block i (0-based) on ``x`` with ToMe sizes ``size``, exactly as the forward runs it."""
        return self._block(i, self.model.blocks[i], x, size)

    def _block(self, i: int, block: nn.Module, x: Tensor, size: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """Block i; timm's own forward (fused attention) when nothing needs the attention's internals.

        The explicit attention costs 3-11 % more on this host's CPU (one block / a whole DeiT-Ti forward,
        benchmarks/compute_contention.py) and the profiles time timm's blocks, so a block that neither merges
        nor weighs merged tokens runs as timm's.
        """
        if size is None and self.reducers[i] is None:
            return block(x), None
        x, size, _ = block_forward(block, x, size, self.reducers[i])
        return x, size

    def _prune(self, x: Tensor, att: AttentionResult) -> tuple[Tensor, Tensor]:
        """Keep the tokens the one-shot method selects from block 1's attention; the copy sources."""
        if self.method == "mercury":
            sel = mercury_select(att.heads, self.prefix, self.spec.grid, self.pruned, self.window)
        else:
            sel = ats_select(att, self.prefix, self.pruned)
        return gather_tokens(x, sel.keep), sel.source

    def cloud(self, payload: Payload, restore: nn.Module | None = None) -> Tensor:
        """Optionally restore pruned tokens, run blocks s+1..L, final norm and head(s)."""
        x, size = payload.tokens, payload.size
        if restore is not None:
            x = restore(payload)
        for i, block in enumerate(self.model.blocks[self.split_after :], start=self.split_after):
            x, size = self._block(i, block, x, size)
        return self.model.forward_head(self.model.norm(x))

    def forward(self, images: Tensor, restore: nn.Module | None = None) -> Tensor:
        return self.cloud(self.mobile(images), restore)


@torch.no_grad()
def uploaded_tokens(split: SplitViT, images: Tensor) -> int:
    """Token count of the mobile part's output (cls/dist included)."""
    return split.mobile(images).num_tokens
