"""Stage curves of one ViT derived from another's on the same device by the ratio of their MACs.

A stage of model S at N tokens costs the anchor model B's stage at N times MACs_S(stage, N) / MACs_B(stage, N)
(the MACs of :class:`~simulator.inputs.vit.ViTSpec`). Every stage of the profile format has a MAC count, so
every stage the anchor carries is derived; what the count leaves out (LayerNorm, softmax, GELU, top-K,
gathers, kernel launches) is scaled along with the MACs. A CPU runs a small model at fewer MACs per second
than a big one, so the ratio underestimates small models there (profiles/README.md measures by how much).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.inputs.profiles import Profile
from simulator.inputs.vit import ViTSpec, profiled_merge_count

METHOD = "MAC ratio per stage: stage_S(N) = stage_B(N) x MACs_S(stage, N) / MACs_B(stage, N)"


def stage_macs(spec: ViTSpec, stage: str, tokens: float) -> float:
    """MACs of ``stage`` on ``tokens`` tokens, as the profile keys the stage (mercury_prune by patch tokens)."""
    n = max(1, round(tokens))
    if stage == "embed":
        return spec.embed_macs()
    if stage == "head":
        return spec.head_macs()
    if stage == "block":
        return spec.block_macs(n)
    if stage == "attention":
        return spec.attention_macs(n)
    if stage == "tome_block":
        return spec.block_macs(n, n - profiled_merge_count(n, spec.prefix_tokens))
    if stage == "mercury_prune":
        return spec.mercury_prune_macs(n)
    if stage == "tome_merge":
        return spec.tome_merge_macs(n)
    raise ValueError(f"no MAC count for stage {stage!r}")


def derived_stage_ms(profile: Profile, anchor: ViTSpec, spec: ViTSpec, stage: str, tokens: float) -> float:
    """The anchor's stage time at ``tokens`` times the MAC ratio of ``spec`` over ``anchor`` at that count."""
    return profile.stage_ms(anchor, stage, tokens) * stage_macs(spec, stage, tokens) / \
        stage_macs(anchor, stage, tokens)


def _grid(top: int, step: int) -> list[float]:
    return sorted({1.0, *map(float, range(2, top, step)), float(top)})


def derived_curves(profile: Profile, anchor: ViTSpec, spec: ViTSpec, step: int = 4,
                   digits: int = 6) -> dict[str, dict[str, Any]]:
    """``spec``'s stage curves (profile-file form) derived from ``anchor``'s in ``profile``.

    A stage whose MAC ratio does not depend on N (embed, head, mercury_prune, tome_merge) is the anchor's
    curve scaled, fit and points alike; the others become points every ``step`` tokens from 1 to the
    model's token count (interpolated linearly between them, held flat beyond: no model sees more tokens).
    """
    out: dict[str, dict[str, Any]] = {}
    top = max(spec.num_tokens, anchor.num_tokens)
    for stage, curve in profile.file.models[anchor.name].items():
        ratios = {stage_macs(spec, stage, n) / stage_macs(anchor, stage, n) for n in (1, 50, top)}
        if len(ratios) == 1:
            ratio = ratios.pop()
            entry: dict[str, Any] = {}
            if curve.points is not None:
                entry["points"] = {"tokens": list(curve.points.tokens),
                                   "ms": [_round(ms * ratio, digits) for ms in curve.points.ms]}
            if curve.fit is not None:
                entry["fit"] = {k: _round(v * ratio, digits) for k, v in curve.fit.model_dump().items() if v}
                entry["fit"] = entry["fit"] or {"a_ms": 0.0}
            out[stage] = entry
            continue
        tokens = _grid(top, step)
        out[stage] = {"points": {"tokens": tokens, "ms": [
            _round(derived_stage_ms(profile, anchor, spec, stage, n), digits) for n in tokens]}}
    return out


def _round(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


def relative_errors(derived: Iterable[float], measured: Iterable[float]) -> list[float]:
    """(derived − measured) / measured, in %, pairwise."""
    return [100.0 * (d - m) / m for d, m in zip(derived, measured, strict=True)]
