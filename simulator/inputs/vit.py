"""The workload model of a ViT: token counts per block, MACs per block, and payload bytes.

Pure arithmetic (no torch). MACs follow research/algorithms.md section 1.2: a block that takes ``n_in``
tokens into attention and keeps ``n_out`` after an in-block reduction (ToMe merges between the attention
residual and the MLP) costs ``4*n_in*d^2 + 2*n_in^2*d + 2*mlp_ratio*n_out*d^2`` multiply-accumulates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Precision = Literal["fp32", "fp16"]
BYTES_PER_ELEMENT: dict[str, int] = {"fp32": 4, "fp16": 2}


@dataclass(frozen=True)
class ViTSpec:
    """Shape of a ViT/DeiT image classifier as timm builds it."""

    name: str
    embed_dim: int
    depth: int
    num_heads: int
    patch_size: int = 16
    image_size: int = 224
    prefix_tokens: int = 1  # cls (+ dist for distilled DeiT)
    mlp_ratio: float = 4.0
    num_classes: int = 1000

    @property
    def grid(self) -> int:
        """Patches per side."""
        return self.image_size // self.patch_size

    @property
    def num_patches(self) -> int:
        return self.grid * self.grid

    @property
    def num_tokens(self) -> int:
        """Tokens entering block 1: patches plus cls (and dist)."""
        return self.num_patches + self.prefix_tokens

    # -- MACs -----------------------------------------------------------------------------------------
    def block_macs(self, n_in: int, n_out: int | None = None) -> float:
        """Multiply-accumulates of one block (section 1.2; LayerNorm, softmax, GELU ignored: ~0.1 %)."""
        n_out = n_in if n_out is None else n_out
        d = self.embed_dim
        return 4.0 * n_in * d * d + 2.0 * n_in * n_in * d + 2.0 * self.mlp_ratio * n_out * d * d

    def attention_macs(self, n: int) -> float:
        """Attention sub-layer up to the concatenated heads (qkv, QK^T, AV; no output projection).

        This is the work that yields Mercury's O_f; it is all that must run before tokens can be pruned
        ahead of block 1.
        """
        d = self.embed_dim
        return 3.0 * n * d * d + 2.0 * n * n * d

    def embed_macs(self) -> float:
        """Patch embedding: one linear map of every patch's pixels."""
        return float(self.num_patches * self.embed_dim * self.patch_size * self.patch_size * 3)

    def head_macs(self) -> float:
        """Classifier head(s): one per prefix token read (cls, and dist for distilled models)."""
        return float(self.prefix_tokens * self.embed_dim * self.num_classes)

    def mercury_prune_macs(self, n_patches: int | None = None) -> float:
        """Cosine-similarity matrix of the layer-1 attention outputs of the patch tokens (Eq. 11)."""
        n = self.num_patches if n_patches is None else n_patches
        return float(n * n * self.embed_dim)

    def tome_merge_macs(self, n_in: int) -> float:
        """Bipartite similarity of ToMe on head-averaged keys: |A| x |B| x head_dim."""
        half = n_in / 2.0
        return float(half * half * (self.embed_dim // self.num_heads))

    def effective_tokens(self, n_in: int, n_out: int) -> float:
        """Token count N whose plain block (N in, N out) costs as many MACs as a (n_in, n_out) block.

        Profiles are measured on plain blocks; this maps a reducing block onto that curve.
        """
        if n_in == n_out:
            return float(n_in)
        d = self.embed_dim
        target = self.block_macs(n_in, n_out)
        a, b = 2.0 * d, (4.0 + 2.0 * self.mlp_ratio) * d * d
        return (-b + math.sqrt(b * b + 4.0 * a * target)) / (2.0 * a)

    # -- payload --------------------------------------------------------------------------------------
    def payload_bytes(self, n_tokens: int, precision: Precision = "fp32", with_sizes: bool = False) -> int:
        """Bytes of an intermediate tensor of ``n_tokens`` (cls/dist included) at ``precision``.

        ``with_sizes`` adds ToMe's per-token size vector, which must travel with merged tokens so the
        cloud can keep proportional attention.
        """
        per = BYTES_PER_ELEMENT[precision]
        size_vector = n_tokens * per if with_sizes else 0
        return n_tokens * self.embed_dim * per + size_vector

    def params_per_block(self) -> int:
        """Weights and biases of one block (qkv, proj, two LayerNorms, MLP)."""
        d = self.embed_dim
        h = int(self.mlp_ratio * d)
        return (3 * d * d + 3 * d) + (d * d + d) + 2 * (2 * d) + (d * h + h) + (h * d + d)


MODELS: dict[str, ViTSpec] = {
    spec.name: spec
    for spec in (
        ViTSpec("deit_base_distilled_patch16_224", 768, 12, 12, prefix_tokens=2),
        ViTSpec("deit_small_distilled_patch16_224", 384, 12, 6, prefix_tokens=2),
        ViTSpec("deit_tiny_distilled_patch16_224", 192, 12, 3, prefix_tokens=2),
        ViTSpec("deit_base_patch16_224", 768, 12, 12),
        ViTSpec("deit_small_patch16_224", 384, 12, 6),
        ViTSpec("deit_tiny_patch16_224", 192, 12, 3),
        ViTSpec("vit_base_patch16_224", 768, 12, 12),
        ViTSpec("vit_small_patch16_224", 384, 12, 6),
        ViTSpec("vit_tiny_patch16_224", 192, 12, 3),
        # the project's measured example (simulator/ml/example.py)
        ViTSpec("example_vit_tiny_shapes", 64, 6, 2, 4, 32, prefix_tokens=2, num_classes=10),
    )
}


def get_model(name: str) -> ViTSpec:
    """Look up a model by its timm name."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None


# -- token trajectories ------------------------------------------------------------------------------
BlockTokens = tuple[int, int]  # (tokens into the block's attention, tokens out of the block)


def plain_tokens(spec: ViTSpec, n_tokens: int | None = None) -> list[BlockTokens]:
    """Every block on the same token count."""
    n = spec.num_tokens if n_tokens is None else n_tokens
    return [(n, n)] * spec.depth


def tome_tokens(spec: ViTSpec, merges_per_block: list[int]) -> list[BlockTokens]:
    """ToMe trajectory: block ``l`` merges ``merges_per_block[l]`` tokens, capped at half the mergeable ones.

    The cap ``r <= (n - protected) // 2`` is ToMe's own (bipartite halves; cls/dist never merged).
    """
    if len(merges_per_block) != spec.depth:
        raise ValueError(f"need {spec.depth} per-block merge counts, got {len(merges_per_block)}")
    n = spec.num_tokens
    out: list[BlockTokens] = []
    for r in merges_per_block:
        r = max(0, min(int(r), (n - spec.prefix_tokens) // 2))
        out.append((n, n - r))
        n -= r
    return out


def constant_r(spec: ViTSpec, r: int) -> list[int]:
    """OTAS as the Mercury paper runs it: the same ToMe r in every block."""
    return [int(r)] * spec.depth


def profiled_merge_count(n_tokens: int, prefix: int) -> int:
    """r at which profiles time the merging stages (``tome_merge``, ``tome_block``): a quarter of the
    mergeable tokens, at least one. Pricing a merging block maps its own r onto this reference."""
    return max(1, (n_tokens - prefix) // 4)


def janus_deltas(spec: ViTSpec, alpha: float) -> list[int]:
    """Janus's declining schedule, Eq. 1: block l (1-based) removes floor(2^(alpha*(L-l))) tokens."""
    if alpha <= 0:
        return [0] * spec.depth
    depth = spec.depth
    return [math.floor(2.0 ** (alpha * (depth - layer))) for layer in range(1, depth + 1)]


def janus_alpha_max(spec: ViTSpec) -> float:
    """Janus Eq. 2: the largest alpha (step 0.01) with sum_l floor(2^(alpha (L - (l - 1)))) <= x0 - 1.

    Eq. 2's exponent is one layer larger than Eq. 1's (research/algorithms.md 6.1 notes the paper's
    inconsistency); the bound is taken as printed, so DeiT-B's scan ends at 0.49 (Eq. 1's form: 0.54).
    """
    depth = spec.depth

    def removed(alpha: float) -> int:
        return sum(math.floor(2.0 ** (alpha * (depth - layer + 1))) for layer in range(1, depth + 1))

    alpha = 0.0
    while removed(round(alpha + 0.01, 2)) <= spec.num_tokens - 1:
        alpha = round(alpha + 0.01, 2)
    return alpha


def mercury_anchor_count(spec: ViTSpec, window: int = 2) -> int:
    """Anchors kept by regionally decentralized pruning: one per full l x l window of the patch grid."""
    per_side = spec.grid // window
    return per_side * per_side


def mercury_pruned(spec: ViTSpec, reduction: float, window: int = 2) -> int:
    """Patch tokens pruned for a reduction rate: K = round(rate * patches), at most all non-anchors.

    round() matches the paper's operating points (50 % -> 98, 60 % -> 118, 75 % -> 147 of 196).
    """
    k = int(round(reduction * spec.num_patches))
    return max(0, min(k, spec.num_patches - mercury_anchor_count(spec, window)))


def mercury_max_reduction(spec: ViTSpec, window: int = 2) -> float:
    """Largest reduction rate the anchors allow (75 % for a 14 x 14 grid and 2 x 2 windows)."""
    return (spec.num_patches - mercury_anchor_count(spec, window)) / spec.num_patches
