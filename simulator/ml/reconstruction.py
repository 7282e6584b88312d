"""Cloud-side restoration of the K pruned tokens before the first cloud block.

``learned`` is Mercury's meta-parameter reconstruction (VPT-shallow at the first cloud block): K
trainable d-dimensional tokens, init N(0, 0.02^2) like timm's cls token, inserted after cls/dist and
before the patches (position is immaterial past the positional embedding, except that cls/dist must stay
where the heads read them). ``zero-pad`` inserts zeros; ``duplicate`` copies, for every pruned token, the
kept token the mobile side matched it to (``Payload.source``: K small integers ride along with the
upload). Training freezes the backbone and fits the tokens and the classification head(s) with
cross-entropy, one set per (split, K).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from simulator.ml.attention import gather_tokens
from simulator.ml.split import Payload, SplitViT

MODES = ("none", "learned", "zero-pad", "duplicate")


class Restore(nn.Module):
    """Bring the uploaded sequence back to N0 tokens."""

    def __init__(self, mode: str, pruned: int, dim: int, prefix: int) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"reconstruction {mode!r} unknown; expected one of {', '.join(MODES)}")
        self.mode, self.pruned, self.prefix = mode, pruned, prefix
        self.tokens = nn.Parameter(torch.randn(pruned, dim) * 0.02) if mode == "learned" else None

    def forward(self, payload: Payload) -> Tensor:
        x = payload.tokens
        if self.mode == "none" or self.pruned == 0:
            return x
        if self.mode == "learned":
            fill = self.tokens.unsqueeze(0).expand(x.shape[0], -1, -1)
        elif self.mode == "zero-pad":
            fill = x.new_zeros(x.shape[0], self.pruned, x.shape[2])
        else:
            if payload.source is None:
                raise ValueError("duplicate reconstruction needs the pruning step's copy sources")
            fill = gather_tokens(x, payload.source)
        return torch.cat([x[:, : self.prefix], fill, x[:, self.prefix :]], dim=1)


def head_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    """The classification head(s): ``head`` and, for distilled DeiT, ``head_dist``."""
    return {n: p for n, p in model.named_parameters() if n.split(".")[0] in ("head", "head_dist")}


def train_restore(
    split: SplitViT,
    batches: Iterable[tuple[Tensor, Tensor]],
    steps: int,
    lr: float = 3e-3,
    progress: object | None = None,
) -> Restore:
    """Fit learned tokens and the head(s) of ``split.model`` in place (backbone frozen); returns the tokens.

    The mobile part runs without gradients; only the cloud blocks are back-propagated through.
    """
    restore = Restore("learned", split.pruned, split.spec.embed_dim, split.prefix)
    for p in split.model.parameters():
        p.requires_grad_(False)
    heads = list(head_parameters(split.model).values())
    for p in heads:
        p.requires_grad_(True)
    split.model.eval()
    optimiser = torch.optim.AdamW(
        [
            {"params": list(restore.parameters()), "weight_decay": 0.0},
            {"params": heads, "weight_decay": 1e-4},
        ],
        lr=lr,
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(steps, 1))
    step = 0
    while step < steps:
        for images, labels in batches:
            with torch.no_grad():
                payload = split.mobile(images)
            loss = F.cross_entropy(split.cloud(payload, restore), labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if progress is not None:
                progress(step, loss.item())  # type: ignore[operator]
            if step >= steps:
                break
    for p in heads:
        p.requires_grad_(False)
    return restore
