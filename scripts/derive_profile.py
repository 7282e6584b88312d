"""How good is deriving DeiT-S and DeiT-Ti stage curves from DeiT-B's? Measured on x86.

    python scripts/derive_profile.py            # prints per-stage and whole-model errors (markdown tables)

On the measured x86 profiles (profiles/x86-2c-*.yaml hold all three models, measured on one host), DeiT-S and
DeiT-Ti are derived from the measured DeiT-B curves (simulator/inputs/derived_profile.py: fixed cost kept, the
rest by the MAC ratio) and compared with their own measured curves: per stage at a few token counts, the mean
absolute error over every measured point from 16 tokens up, and the whole forward (embed + 12 blocks + head)
at 198 tokens. The plain MAC ratio (fixed cost 0), the rule it replaced, is printed beside it.
scripts/paper_profiles.py writes the derived curves into the Pi 4B and RTX 4090 profiles and quotes these
errors in their provenance.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.inputs.derived_profile import derived_stage_ms, fixed_costs
from simulator.inputs.profiles import Profile, load_profile
from simulator.inputs.vit import ViTSpec, get_model

ANCHOR = get_model("deit_base_distilled_patch16_224")
DERIVED = (get_model("deit_small_distilled_patch16_224"), get_model("deit_tiny_distilled_patch16_224"))
PROFILES = ("x86-2c-1t", "x86-2c-2t")
STAGE_TOKENS = {"embed": (198,), "block": (26, 106, 198), "head": (198,), "mercury_prune": (100, 196),
                "tome_merge": (106, 198)}
LABELS = {DERIVED[0].name: "DeiT-S", DERIVED[1].name: "DeiT-Ti"}
METHODS = {"fixed cost kept": None, "MAC ratio": 0.0}  # the ``fixed`` argument of derived_stage_ms

Price = Callable[[str, float], float]


def forward_ms(price: Price, spec: ViTSpec, n: int = 198) -> float:
    """embed + depth blocks + head at ``n`` tokens, each stage priced by ``price(stage, tokens)``."""
    return price("embed", n) + spec.depth * price("block", n) + price("head", n)


def errors(profile: Profile, spec: ViTSpec, fixed: float | None = None
           ) -> tuple[dict[str, list[tuple[int, float]]], float, float, float, float]:
    """Per stage (tokens, error %); mean |error| % over the measured points >= 16 tokens; the whole
    forward: derived ms, measured ms, error %."""
    def derived(stage: str, n: float) -> float:
        return derived_stage_ms(profile, ANCHOR, spec, stage, n, fixed)

    def error(stage: str, n: float) -> float:
        return 100.0 * (derived(stage, n) / profile.stage_ms(spec, stage, n) - 1.0)

    per_stage = {stage: [(n, error(stage, n)) for n in counts] for stage, counts in STAGE_TOKENS.items()}
    points = [(stage, n) for stage, curve in profile.file.models[spec.name].items() if curve.points is not None
              for n in curve.points.tokens if n >= 16 or len(curve.points.tokens) == 1]
    mean_abs = sum(abs(error(stage, n)) for stage, n in points) / len(points)
    d, m = forward_ms(derived, spec), forward_ms(lambda s, n: profile.stage_ms(spec, s, n), spec)
    return per_stage, mean_abs, d, m, 100.0 * (d / m - 1.0)


def whole_model_errors(fixed: float | None = None) -> dict[tuple[str, str], float]:
    """Whole-forward error (%) per (profile, model): what the derived profiles quote."""
    return {(name, spec.name): errors(load_profile(name), spec, fixed)[4] for name in PROFILES for spec in DERIVED}


def main() -> None:
    for name in PROFILES:
        c = fixed_costs(load_profile(name), ANCHOR)
        print(f"{name}: fixed cost kept per stage (ms): " + ", ".join(f"{s} {v:.4f}" for s, v in c.items()))
    print()
    print("| profile | model | method | " + " | ".join(f"{s} @{' / '.join(map(str, c))}"
                                                   for s, c in STAGE_TOKENS.items())
          + " | mean abs. stage error | forward @198: derived / measured | error |")
    print("|---" * (len(STAGE_TOKENS) + 6) + "|")
    for name in PROFILES:
        profile = load_profile(name)
        for spec in DERIVED:
            for method, fixed in METHODS.items():
                per_stage, mean_abs, derived, measured, error = errors(profile, spec, fixed)
                cells = [" / ".join(f"{e:+.0f}" for _, e in per_stage[s]) for s in STAGE_TOKENS]
                print(f"| {name} | {LABELS[spec.name]} | {method} | " + " | ".join(f"{c} %" for c in cells)
                      + f" | {mean_abs:.0f} % | {derived:.1f} / {measured:.1f} ms | **{error:+.1f} %** |")


if __name__ == "__main__":
    main()
