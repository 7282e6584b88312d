"""How good is deriving DeiT-S and DeiT-Ti stage curves from DeiT-B's by the MAC ratio? Measured on x86.

    python scripts/derive_profile.py            # prints per-stage and whole-model errors (markdown tables)

On the measured x86 profiles (profiles/x86-2c-*.yaml hold all three models, measured on one host), DeiT-S and
DeiT-Ti are derived from the measured DeiT-B curves (simulator/inputs/derived_profile.py) and compared with
their own measured curves: per stage at a few token counts, and the whole forward (embed + 12 blocks + head)
at 198 tokens. scripts/paper_profiles.py writes the derived curves into the Pi 4B and RTX 4090 profiles and
quotes these errors in their provenance.
"""

from __future__ import annotations

from simulator.inputs.derived_profile import derived_stage_ms
from simulator.inputs.profiles import Profile, load_profile
from simulator.inputs.vit import ViTSpec, get_model

ANCHOR = get_model("deit_base_distilled_patch16_224")
DERIVED = (get_model("deit_small_distilled_patch16_224"), get_model("deit_tiny_distilled_patch16_224"))
PROFILES = ("x86-2c-1t", "x86-2c-2t")
STAGE_TOKENS = {"embed": (198,), "block": (26, 106, 198), "head": (198,), "mercury_prune": (100, 196),
                "tome_merge": (106, 198)}


def forward_ms(price: object, spec: ViTSpec, n: int = 198) -> float:
    """embed + depth blocks + head at ``n`` tokens, each stage priced by ``price(stage, tokens)``."""
    return price("embed", n) + spec.depth * price("block", n) + price("head", n)  # type: ignore[operator]


def errors(profile: Profile, spec: ViTSpec) -> tuple[dict[str, list[tuple[int, float]]], float, float, float]:
    """Per stage (tokens, error %), and the whole forward: derived ms, measured ms, error %."""
    per_stage = {}
    for stage, counts in STAGE_TOKENS.items():
        per_stage[stage] = [(n, 100.0 * (derived_stage_ms(profile, ANCHOR, spec, stage, n)
                                         / profile.stage_ms(spec, stage, n) - 1.0)) for n in counts]
    derived = forward_ms(lambda s, n: derived_stage_ms(profile, ANCHOR, spec, s, n), spec)
    measured = forward_ms(lambda s, n: profile.stage_ms(spec, s, n), spec)
    return per_stage, derived, measured, 100.0 * (derived / measured - 1.0)


def whole_model_errors() -> dict[tuple[str, str], float]:
    """Whole-forward error (%) per (profile, model): what the derived profiles quote."""
    return {(name, spec.name): errors(load_profile(name), spec)[3] for name in PROFILES for spec in DERIVED}


def main() -> None:
    print("| profile | model | " + " | ".join(f"{s} @{'/'.join(map(str, c))}" for s, c in STAGE_TOKENS.items())
          + " | forward @198: derived / measured ms | error |")
    print("|---" * (len(STAGE_TOKENS) + 4) + "|")
    for name in PROFILES:
        profile = load_profile(name)
        for spec in DERIVED:
            per_stage, derived, measured, error = errors(profile, spec)
            cells = [" / ".join(f"{e:+.0f}" for _, e in per_stage[s]) for s in STAGE_TOKENS]
            print(f"| {name} | {spec.name.split('_')[1]} | " + " | ".join(f"{c} %" for c in cells)
                  + f" | {derived:.1f} / {measured:.1f} | **{error:+.1f} %** |")


if __name__ == "__main__":
    main()
