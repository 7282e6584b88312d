"""How well a device profile prices a width-pruned ViT: predicted vs a timed real pruned timm model.

For each configuration (the unpruned model and the pruned ones of scenarios/pruned-on-device.yaml) a real
pruned timm model is built (simulator/ml/width_prune.py, random weights) and its forward on one 224x224
image timed (interleaved rounds, medians). Two predictions from the profile's block curve:

* ``equal-MAC tokens`` (what the simulator uses): each pruned block at the plain-block token count of
  equal MACs (simulator/pruned_vit.py);
* ``MAC ratio at N``: each pruned block as the plain block at the real token count times its MAC ratio.

The ``vs full`` columns divide each by the unpruned model's, which cancels the host's load drift since the
profile was measured: what is left is the pricing rule's own error.

    python benchmarks/pruned_vit_pricing.py --profile profiles/x86-2c-1t.yaml --threads 1 --rounds 7
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import yaml

from simulator.plan import stages_ms
from simulator.profiles import load_profile
from simulator.pruned_vit import PrunedViT
from simulator.schedules.pruned_on_device import pruned_stages
from simulator.vit import get_model

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


def mac_ratio_ms(profile, model: PrunedViT) -> float:
    base, n = model.base, model.base.num_tokens
    full_block = profile.block_ms(base, n, n)
    blocks = math.fsum(full_block * model.block_mac_ratio(b, n) for b in range(model.depth))
    return profile.stage_ms(base, "embed", n) + blocks + profile.stage_ms(base, "head", n)


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
    full_meas = timings["unpruned"].median_ms
    print(f"{args.model} on {profile.name}, {args.threads} thread(s), {args.rounds} rounds, "
          f"load {load:.2f} -> {os.getloadavg()[0]:.2f}")
    print("| model | MAC fraction | measured ms (IQR) | equal-MAC tokens ms | error | vs full: measured / "
          "predicted | MAC ratio at N ms | vs full |")
    print("|---|---|---|---|---|---|---|---|")
    for name, model in models.items():
        measured = timings[name].median_ms
        predicted = stages_ms(profile, base, pruned_stages(model))
        ratio = mac_ratio_ms(profile, model)
        meas_rel, pred_rel, ratio_rel = measured / full_meas, predicted / full_pred, ratio / mac_ratio_ms(
            profile, models["unpruned"])
        print(f"| {name} | {model.mac_fraction():.3f} | {measured:.1f} ({timings[name].iqr_ms:.1f}) | "
              f"{predicted:.1f} | {100 * (predicted / measured - 1):+.1f} % | {meas_rel:.3f} / {pred_rel:.3f} "
              f"({100 * (pred_rel / meas_rel - 1):+.1f} %) | {ratio:.1f} | {ratio_rel:.3f} "
              f"({100 * (ratio_rel / meas_rel - 1):+.1f} %) |")


if __name__ == "__main__":
    main()
