"""A width- and depth-pruned ViT: per-block attention heads and MLP hidden sizes, fewer blocks.

Structured pruning (TAP-ViTs, NViT, ViT-Slim ...) keeps, per block, some attention heads (each
``head_dim`` wide) and some MLP hidden channels, and may drop whole blocks; the embedding width ``d``
and the token count stay. research/algorithms.md section 1.2, generalised to a block with ``a = heads *
head_dim`` attention width and ``m`` MLP channels on N tokens (pure arithmetic, no torch)::

    qkv 3*N*d*a  +  QK^T N^2*a  +  softmax(.)V N^2*a  +  proj N*a*d  +  fc1, fc2 2*N*d*m
    = 4*N*d*a + 2*N^2*a + 2*N*d*m        (a = d, m = mlp_ratio*d gives the unpruned 12*N*d^2 + 2*N^2*d)

Pricing on a device profile: the profiles are measured (or fitted) on the unpruned model's plain block
against tokens, so a pruned block is priced as that block on the same tokens times its MAC ratio
(:meth:`PrunedViT.block_mac_ratio`, a Plan stage's ``mac_scale``): a narrow GEMM over all tokens runs at
about the unpruned block's efficiency, a plain block at fewer tokens does not, so the equal-MAC token count
(:meth:`PrunedViT.equal_mac_tokens`, the rule for blocks that merge tokens) leans slow here. Both rules'
errors against a real width-pruned timm model are measured by benchmarks/pruned_vit_pricing.py (README,
pruned-on-device).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.inputs.vit import ViTSpec


@dataclass(frozen=True)
class BlockWidths:
    """What one kept block keeps: attention heads and MLP hidden channels."""

    heads: int
    mlp_hidden: int


@dataclass(frozen=True)
class PrunedViT:
    """A pruned ``base`` ViT: one :class:`BlockWidths` per kept block, in order."""

    base: ViTSpec
    blocks: tuple[BlockWidths, ...]

    def __post_init__(self) -> None:
        problem = width_problem(self.base, [b.heads for b in self.blocks], [b.mlp_hidden for b in self.blocks])
        if problem is not None:
            raise ValueError(problem)

    @classmethod
    def from_lists(cls, base: ViTSpec, heads: list[int], mlp_hidden: list[int]) -> PrunedViT:
        problem = width_problem(base, heads, mlp_hidden)
        if problem is not None:
            raise ValueError(problem)
        return cls(base, tuple(BlockWidths(h, m) for h, m in zip(heads, mlp_hidden, strict=True)))

    @property
    def depth(self) -> int:
        return len(self.blocks)

    @property
    def head_dim(self) -> int:
        return self.base.embed_dim // self.base.num_heads

    def attention_width(self, block: int) -> int:
        """Width of the concatenated kept heads of ``block`` (0-based)."""
        return self.blocks[block].heads * self.head_dim

    # -- MACs -----------------------------------------------------------------------------------------
    def block_macs(self, block: int, n: int) -> float:
        """Multiply-accumulates of kept block ``block`` on ``n`` tokens (LayerNorm, softmax, GELU ignored)."""
        d, a, m = self.base.embed_dim, self.attention_width(block), self.blocks[block].mlp_hidden
        return 4.0 * n * d * a + 2.0 * n * n * a + 2.0 * n * d * m

    def block_mac_ratio(self, block: int, n: int) -> float:
        """Kept block ``block``'s MACs on ``n`` tokens over the unpruned block's on the same tokens."""
        return self.block_macs(block, n) / self.base.block_macs(n)

    def macs(self) -> float:
        """The whole pruned model on one image: patch embedding, every kept block, the head(s)."""
        n = self.base.num_tokens
        blocks = math.fsum(self.block_macs(b, n) for b in range(self.depth))
        return self.base.embed_macs() + blocks + self.base.head_macs()

    def mac_fraction(self) -> float:
        """The pruned model's MACs as a fraction of the unpruned base model's."""
        base = self.base
        full = base.embed_macs() + base.depth * base.block_macs(base.num_tokens) + base.head_macs()
        return self.macs() / full

    def equal_mac_tokens(self, block: int, n: int) -> float:
        """Token count at which the base model's plain block costs as many MACs as pruned ``block`` on ``n``.

        Solves ``2*d*x^2 + (4 + 2*mlp_ratio)*d^2*x = block_macs`` (the base block's MACs at x tokens).
        """
        d = self.base.embed_dim
        a, b = 2.0 * d, (4.0 + 2.0 * self.base.mlp_ratio) * d * d
        target = self.block_macs(block, n)
        return (-b + math.sqrt(b * b + 4.0 * a * target)) / (2.0 * a)

    def params_per_block(self, block: int) -> int:
        """Weights and biases of kept block ``block`` (qkv, proj, two LayerNorms, MLP)."""
        d, a, m = self.base.embed_dim, self.attention_width(block), self.blocks[block].mlp_hidden
        return (3 * a * d + 3 * a) + (a * d + d) + 2 * (2 * d) + (d * m + m) + (m * d + d)


def width_problem(base: ViTSpec, heads: list[int], mlp_hidden: list[int]) -> str | None:
    """Why per-block widths do not fit ``base`` (None when they do), phrased for an error line."""
    full_mlp = int(base.mlp_ratio * base.embed_dim)
    if len(heads) != len(mlp_hidden):
        return f"heads ({len(heads)} blocks) and mlp_hidden ({len(mlp_hidden)} blocks) differ in length"
    if not 1 <= len(heads) <= base.depth:
        return f"between 1 and {base.depth} blocks expected for {base.name}, got {len(heads)}"
    for i, (h, m) in enumerate(zip(heads, mlp_hidden, strict=True)):
        if not 1 <= h <= base.num_heads:
            return f"block {i}: heads must be in 1..{base.num_heads} for {base.name}, got {h}"
        if not 1 <= m <= full_mlp:
            return f"block {i}: mlp_hidden must be in 1..{full_mlp} for {base.name}, got {m}"
    return None
