"""Stage curves of one ViT derived from another's on the same device: a fixed cost kept, the rest by MACs.

A stage of model S at N tokens costs the anchor model B's stage at N with its fixed cost c kept and only the
rest scaled by the ratio of their MACs (the MACs of :class:`~simulator.inputs.vit.ViTSpec`)::

    stage_S(N) = c + (stage_B(N) - c) x MACs_S(stage, N) / MACs_B(stage, N)

Why keep c: dispatching a stage (framework overhead, kernel launches) costs the same whatever the width, and
scaling it with the MACs underestimates small models (profiles/README.md measures by how much). c is read
from the anchor's own curves only: a stage's intercept at zero tokens (its fit's ``a_ms``) also holds
token-independent work that does shrink with the width (weight traffic: the block's), so the common part is
bounded by the smallest positive intercept among the anchor's token-dependent curves, ``c0`` (on a CPU, the
pruning or merge step, which reads no weights; a constant curve such as embed's is all intercept and says
nothing). A stage keeps ``c = min(c0, its intercept)``: a curve fitted with no fixed cost (``a_ms = 0``)
keeps none, the others c0 (a constant one less than c0 is all fixed). A fit through the origin (the Pi's)
gives c = 0: the plain MAC ratio.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.inputs.profiles import Profile, StageCurve
from simulator.inputs.vit import ViTSpec, profiled_merge_count

METHOD = ("fixed cost kept, the rest by the MAC ratio per stage: stage_S(N) = c + (stage_B(N) - c) x "
          "MACs_S(stage, N) / MACs_B(stage, N), c = min(c0, the stage's zero-token intercept), c0 = the smallest "
          "positive intercept among the anchor's token-dependent curves")


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


def _intercept(curve: StageCurve) -> tuple[float, bool]:
    """The curve's zero-token value (its fit's ``a_ms``, else its first point) and whether it varies with N."""
    if curve.fit is not None:
        return max(0.0, curve.fit.a_ms), bool(curve.fit.b_ms or curve.fit.c_ms)
    assert curve.points is not None  # validated: a curve has points or a fit
    return curve.points.ms[0], len(set(curve.points.ms)) > 1


def fixed_costs(profile: Profile, anchor: ViTSpec) -> dict[str, float]:
    """Per stage of ``anchor`` in ``profile``, the fixed cost c a derived model keeps (module docstring)."""
    curves = profile.file.models[anchor.name]
    intercepts = {stage: _intercept(curve) for stage, curve in curves.items()}
    c0 = min((a for a, varies in intercepts.values() if varies and a > 0), default=0.0)
    return {stage: min(c0, a) for stage, (a, _) in intercepts.items()}


def derived_stage_ms(profile: Profile, anchor: ViTSpec, spec: ViTSpec, stage: str, tokens: float,
                     fixed: float | None = None) -> float:
    """The anchor's stage time at ``tokens``, its fixed cost kept and the rest scaled by the MAC ratio.

    ``fixed`` overrides the fixed cost (0: the plain MAC ratio, the rule this one replaced, for comparison).
    """
    fixed = fixed_costs(profile, anchor)[stage] if fixed is None else fixed
    ratio = stage_macs(spec, stage, tokens) / stage_macs(anchor, stage, tokens)
    return fixed + (profile.stage_ms(anchor, stage, tokens) - fixed) * ratio


def _grid(top: int, step: int) -> list[float]:
    return sorted({1.0, *map(float, range(2, top, step)), float(top)})


def derived_curves(profile: Profile, anchor: ViTSpec, spec: ViTSpec, step: int = 4,
                   digits: int = 6) -> dict[str, dict[str, Any]]:
    """``spec``'s stage curves (profile-file form) derived from ``anchor``'s in ``profile``.

    A stage whose MAC ratio does not depend on N (embed, head, mercury_prune, tome_merge) is the anchor's
    curve transformed, fit and points alike (the fit stays a polynomial: a' = c + (a - c) x ratio, b and c
    x ratio); the others become points every ``step`` tokens from 1 to the model's token count
    (interpolated linearly between them, held flat beyond: no model sees more tokens).
    """
    out: dict[str, dict[str, Any]] = {}
    top = max(spec.num_tokens, anchor.num_tokens)
    fixed = fixed_costs(profile, anchor)
    for stage, curve in profile.file.models[anchor.name].items():
        ratios = {stage_macs(spec, stage, n) / stage_macs(anchor, stage, n) for n in (1, 50, top)}
        if len(ratios) == 1:
            ratio, c = ratios.pop(), fixed[stage]
            entry: dict[str, Any] = {}
            if curve.points is not None:
                entry["points"] = {"tokens": list(curve.points.tokens),
                                   "ms": [_round(c + (ms - c) * ratio, digits) for ms in curve.points.ms]}
            if curve.fit is not None:
                terms = {k: v * ratio for k, v in curve.fit.model_dump().items()}
                terms["a_ms"] = c + (curve.fit.a_ms - c) * ratio
                entry["fit"] = {k: _round(v, digits) for k, v in terms.items() if v} or {"a_ms": 0.0}
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
