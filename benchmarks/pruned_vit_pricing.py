"""How well a device profile prices a width-pruned ViT: predicted vs a timed real pruned timm model.

For each configuration (the unpruned model and the pruned ones of scenarios/pruned-on-device.yaml) a real
pruned timm model is built (simulator/ml/width_prune.py, random weights) and its forward on one 224x224
image timed (interleaved rounds, medians). Two predictions from the profile's block curve:

* ``MAC ratio at N`` (what the simulator uses, simulator/schedules/pruned_on_device.py): each pruned block
  as the plain block at the real token count times its MAC ratio (a stage's ``mac_scale``);
* ``equal-MAC tokens`` (the simulator's former rule): each pruned block at the plain-block token count of
  equal MACs (:meth:`PrunedViT.equal_mac_tokens`).

The ``vs full`` columns divide each by the unpruned model's, which cancels the host's load drift since the
profile was measured: what is left is the pricing rule's own error.

    python benchmarks/pruned_vit_pricing.py --profile profiles/x86-2c-1t.yaml --threads 1 --rounds 7
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import yaml

from simulator.inputs.profiles import Profile, load_profile
from simulator.inputs.pruned_vit import PrunedViT
from simulator.inputs.vit import get_model
from simulator.plans.plan import Stage, stages_ms
from simulator.schedules.pruned_on_device import pruned_stages

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "pruned-on-device.yaml"


def configurations(base_name: str) -> dict[str, PrunedViT]:
    """The unpruned model and every pruned-on-device entry of the shipped scenario."""
    base = get_model(base_name)
    full_mlp = int(base.mlp_ratio * base.embed_dim)
    out = {"unpruned": PrunedViT.from_lists(base, [base.num_heads] * base.depth, [full_mlp] * base.depth)}
    for entry in yaml.safe_load(SCENARIO.read_text())["schedules"]:
        if entry["kind"] == "pruned-on-device":
            out[entry.get("label", entry["kind"])] = PrunedViT.from_lists(base, entry["heads"], entry["mlp_hidden"])
    return out


def equal_mac_ms(profile: Profile, model: PrunedViT) -> float:
    """The former rule: embed, each pruned block at its equal-MAC token count on the block curve, the head."""
    base, n = model.base, model.base.num_tokens
    blocks = [Stage("block", x, x) for x in (model.equal_mac_tokens(b, n) for b in range(model.depth))]
    return stages_ms(profile, base, [Stage("embed", n, n), *blocks, Stage("head", n, n)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="profiles/x86-2c-1t.yaml")
    parser.add_argument("--model", default="deit_base_distilled_patch16_224")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()

    import torch

    from simulator.ml.timing import time_cases
    from simulator.ml.width_prune import build_pruned_timm

    torch.set_num_threads(args.threads)
    profile = load_profile(args.profile)
    models = configurations(args.model)
    image = torch.randn(1, 3, 224, 224)
    built = {name: build_pruned_timm(m) for name, m in models.items()}
    load = os.getloadavg()[0]
    timings = time_cases({name: (lambda v=v: v(image)) for name, v in built.items()},
                         repeats=args.rounds, warmup=args.warmup)
    base = models["unpruned"].base
    full_pred = stages_ms(profile, base, pruned_stages(models["unpruned"]))
    full_former = equal_mac_ms(profile, models["unpruned"])
    full_meas = timings["unpruned"].median_ms
    print(f"{args.model} on {profile.name}, {args.threads} thread(s), {args.rounds} rounds, "
          f"load {load:.2f} -> {os.getloadavg()[0]:.2f}")
    print("| model | MAC fraction | measured ms (IQR) | MAC ratio at N ms (simulator) | error | vs full: "
          "measured / predicted | equal-MAC tokens ms (former) | vs full |")
    print("|---|---|---|---|---|---|---|---|")
    for name, model in models.items():
        measured = timings[name].median_ms
        predicted = stages_ms(profile, base, pruned_stages(model))
        former = equal_mac_ms(profile, model)
        meas_rel, pred_rel, former_rel = measured / full_meas, predicted / full_pred, former / full_former
        print(f"| {name} | {model.mac_fraction():.3f} | {measured:.1f} ({timings[name].iqr_ms:.1f}) | "
              f"{predicted:.1f} | {100 * (predicted / measured - 1):+.1f} % | {meas_rel:.3f} / {pred_rel:.3f} "
              f"({100 * (pred_rel / meas_rel - 1):+.1f} %) | {former:.1f} | {former_rel:.3f} "
              f"({100 * (former_rel / meas_rel - 1):+.1f} %) |")


if __name__ == "__main__":
    main()
