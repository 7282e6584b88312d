"""Does a measured profile predict real forwards? Profile sums vs timed end-to-end timm forwards.

Two forwards, as issue #4 asks: the full model (embed + every block at N0 + head), and Mercury's pruned
forward (block 1 at N0, prune half of the patch tokens, the other blocks on what is left, head). The
pruned forward runs the timm blocks by hand on the pruned token tensor, so it is real work, not a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.inputs.profiles import Profile
from simulator.inputs.vit import MODELS, ViTSpec, mercury_pruned
from simulator.ml.profiler import build_model
from simulator.ml.timing import time_cases


@dataclass(frozen=True)
class ForwardCheck:
    """Predicted and measured latency (ms, medians) of one forward."""

    predicted_ms: float
    measured_ms: float
    spread_ms: float

    @property
    def error(self) -> float:
        """Relative error of the prediction (positive: the profile over-predicts)."""
        return self.predicted_ms / self.measured_ms - 1.0


def kept_tokens(spec: ViTSpec, reduction: float) -> int:
    return spec.num_tokens - mercury_pruned(spec, reduction)


def predicted_full_ms(profile: Profile, spec: ViTSpec) -> float:
    n = spec.num_tokens
    return (profile.stage_ms(spec, "embed", n) + spec.depth * profile.block_ms(spec, n, n)
            + profile.stage_ms(spec, "head", n))


def predicted_pruned_ms(profile: Profile, spec: ViTSpec, reduction: float = 0.5) -> float:
    n, kept = spec.num_tokens, kept_tokens(spec, reduction)
    return (profile.stage_ms(spec, "embed", n) + profile.block_ms(spec, n, n)
            + profile.stage_ms(spec, "mercury_prune", spec.num_patches)
            + (spec.depth - 1) * profile.block_ms(spec, kept, kept) + profile.stage_ms(spec, "head", kept))


def forward_fns(model: Any, spec: ViTSpec, reduction: float, device: str) -> dict[str, Any]:
    """The two timed forwards on one random image: the timm forward, and the Mercury-pruned one."""
    import torch

    from simulator.ml.profiler_kernels import mercury_prune

    image = torch.randn(1, 3, spec.image_size, spec.image_size,
                        generator=torch.Generator().manual_seed(0)).to(device)
    pruned = mercury_pruned(spec, reduction)

    def mercury_forward() -> Any:
        x = model.norm_pre(model.patch_drop(model._pos_embed(model.patch_embed(image))))
        x = model.blocks[0](x)
        x = mercury_prune(x, spec.prefix_tokens, pruned)
        for block in model.blocks[1:]:
            x = block(x)
        return model.forward_head(model.norm(x))

    return {"full": lambda: model(image), "mercury": mercury_forward}


def check_forwards(profile: Profile, model_name: str, *, reduction: float = 0.5, repeats: int = 10,
                   warmup: int = 2, device: str = "cpu") -> dict[str, ForwardCheck]:
    """Time both forwards (interleaved) and compare each with the profile's prediction."""
    spec = MODELS[model_name]
    model = build_model(model_name, device)
    timings = time_cases(forward_fns(model, spec, reduction, device), repeats=repeats, warmup=warmup,
                         device=device)
    predicted = {"full": predicted_full_ms(profile, spec),
                 "mercury": predicted_pruned_ms(profile, spec, reduction)}
    return {key: ForwardCheck(predicted[key], timings[key].median_ms, timings[key].iqr_ms)
            for key in predicted}
