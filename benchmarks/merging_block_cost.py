"""Measured ToMe merging blocks (OTAS, Janus) against their price from a profile measured right before.

For each round: a fresh profile of the model on this host, as ``validate --fresh`` measures it (one thread,
tokens 10,50,100,150,198, its statistic; not pinned, not at real-time priority), then the real merging blocks
of OTAS (constant r) and Janus (alpha) run as the testbed runs them (simulator/ml/split.py ``SplitViT``:
every block in turn on the trajectory's own tokens, explicit attention with the size term, the real merge),
and control forwards of timm's own fused blocks at a few token counts, each block timed in thread CPU time.
The forwards alternate in a shuffled order every repetition, so load from other processes hits all alike.
Each merging block is compared with its price without the profile's ``tome_block`` curve (the fused plain
block at equal MACs + the ``tome_merge`` kernel, as before) and with it (:meth:`Profile.merge_ms`), and
that error divided by the control's nearest in tokens (the profile's level for plain blocks in the round).
Per block: median over the repetitions of all rounds, and the median and range over rounds of the errors.

    PYTHONPATH=. python benchmarks/merging_block_cost.py --rounds 6 --reps 30 [--statistic median]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from dataclasses import dataclass, field

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from simulator.emulation.validate import FRESH_STATISTIC, FRESH_TOKENS  # noqa: E402
from simulator.inputs.profiles import Profile, ProfileFile  # noqa: E402
from simulator.inputs.vit import MODELS, ViTSpec, tome_tokens  # noqa: E402
from simulator.ml.profiler import ProfilePlan, build_model, host_facts, measure_model, profile_document  # noqa: E402
from simulator.ml.split import SplitViT, merge_schedule  # noqa: E402
from simulator.ml.timing import STATISTICS  # noqa: E402
from simulator.plans.plan import block_stages, stages_ms  # noqa: E402


def fresh_profiles(name: str, repeats: int, statistic: str) -> tuple[Profile, Profile]:
    """This host's profile of ``name`` now, without and with its ``tome_block`` curve."""
    plan = ProfilePlan((name,), FRESH_TOKENS, (1,), repeats, 2, 1, statistic=statistic)
    document = profile_document("bench", [measure_model(name, plan)], plan, host_facts(plan))
    with_stage = Profile(ProfileFile.model_validate(document))
    del document["models"][name]["tome_block"]
    return Profile(ProfileFile.model_validate(document)), with_stage


def block_inputs(split: SplitViT, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """The tokens and sizes entering every block in one forward from the tokens ``x``."""
    size, inputs = None, []
    for i in range(split.spec.depth):
        inputs.append((x, size))
        x, size = split.block(i, x, size)
    return inputs


def timed_forward(split: SplitViT, inputs: list[tuple[torch.Tensor, torch.Tensor | None]]) -> list[float]:
    """Thread CPU ms of every block, run in turn as one forward runs them."""
    out = []
    for i, (x, size) in enumerate(inputs):
        start = time.thread_time()
        split.block(i, x, size)
        out.append((time.thread_time() - start) * 1e3)
    return out


@dataclass
class Run:
    """One forward's blocks: the split model, what enters each block, its trajectory, and the timings."""

    split: SplitViT
    inputs: list[tuple[torch.Tensor, torch.Tensor | None]]
    blocks: list[tuple[int, int]]
    control: bool = False
    ms: list[list[float]] = field(default_factory=list)  # per block, every repetition of the round


def price_ms(profile: Profile, spec: ViTSpec, n_in: int, n_out: int) -> float:
    """One block as a ToMe plan prices it (a plain block when nothing merges)."""
    return stages_ms(profile, spec, block_stages([(n_in, n_out)], merge_step=True))


LABELS = ("before", "with tome_block", "with tome_block / fused level")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="deit_tiny_distilled_patch16_224")
    parser.add_argument("--otas-r", type=int, default=8)
    parser.add_argument("--janus-alpha", type=float, default=0.6)
    parser.add_argument("--controls", default="198,101,52,27",
                        help="token counts of the fused (timm) control forwards")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--profile-repeats", type=int, default=10)
    parser.add_argument("--statistic", choices=STATISTICS, default=FRESH_STATISTIC,
                        help="what the profile stores (validate --fresh: mean of single calls)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = MODELS[args.model]
    model = build_model(args.model)
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(1, 3, spec.image_size, spec.image_size, generator=generator)
    runs: dict[str, Run] = {}
    with torch.inference_mode():
        for name, method, parameter in (("otas", "tome", args.otas_r), ("janus", "janus", args.janus_alpha)):
            split = SplitViT(model, spec.depth, method, parameter, spec=spec)
            runs[name] = Run(split, block_inputs(split, split.embed(images)),
                             tome_tokens(spec, merge_schedule(spec, method, parameter)))
        plain = SplitViT(model, spec.depth, "none", spec=spec)
        for n in (int(t) for t in args.controls.split(",")):
            x = torch.randn(1, n, spec.embed_dim, generator=generator)
            runs[f"fused {n}"] = Run(plain, block_inputs(plain, x), [(n, n)] * spec.depth, control=True)
        measured, errors, loads = measure(runs, spec, args)
    report(runs, measured, errors, loads, args)


def measure(runs: dict[str, Run], spec: ViTSpec, args: argparse.Namespace
            ) -> tuple[dict[tuple[str, int], list[float]], dict[tuple[str, int, str], list[float]], list[float]]:
    """Every round: a fresh profile, then every run's forward in a shuffled order, ``reps`` times."""
    rng = random.Random(0)
    measured: dict[tuple[str, int], list[float]] = {}
    errors: dict[tuple[str, int, str], list[float]] = {}  # (run, block or -1 for the sum, label)
    loads = []
    for round_ in range(args.rounds):
        profiles = dict(zip(LABELS[:2], fresh_profiles(args.model, args.profile_repeats, args.statistic),
                            strict=True))
        for run in runs.values():
            run.ms = [[] for _ in range(spec.depth)]
            for _ in range(3):  # warm-up
                timed_forward(run.split, run.inputs)
        for _ in range(args.reps):
            order = list(runs)
            rng.shuffle(order)
            for name in order:
                for i, ms in enumerate(timed_forward(runs[name].split, runs[name].inputs)):
                    runs[name].ms[i].append(ms)
                    measured.setdefault((name, i), []).append(ms)
        loads.append(os.getloadavg()[0])
        ratios = {name: round_ratios(spec, run, profiles) for name, run in runs.items()}
        levels = {run.blocks[0][0]: ratios[name][-1][LABELS[0]] for name, run in runs.items() if run.control}
        for name, by_block in ratios.items():
            for i, ratio in by_block.items():
                n_in = runs[name].blocks[max(i, 0)][0]
                level = levels[min(levels, key=lambda n, n_in=n_in: abs(n - n_in))]
                errors.setdefault((name, i, LABELS[0]), []).append(ratio[LABELS[0]] - 1)
                errors.setdefault((name, i, LABELS[1]), []).append(ratio[LABELS[1]] - 1)
                errors.setdefault((name, i, LABELS[2]), []).append(ratio[LABELS[1]] / level - 1)
        print(f"round {round_ + 1}/{args.rounds} done, load average {loads[-1]:.2f}", flush=True)
    return measured, errors, loads


def round_ratios(spec: ViTSpec, run: Run, profiles: dict[str, Profile]) -> dict[int, dict[str, float]]:
    """Price / measured median of every merging block (every block of a control); -1: their sums."""
    out: dict[int, dict[str, float]] = {}
    totals = {label: 0.0 for label in (*profiles, "measured")}
    for i, (n_in, n_out) in enumerate(run.blocks):
        if n_out == n_in and not run.control:
            continue
        med = statistics.median(run.ms[i])
        totals["measured"] += med
        out[i] = {}
        for label, profile in profiles.items():
            price = price_ms(profile, spec, n_in, n_out)
            totals[label] += price
            out[i][label] = price / med
    out[-1] = {label: totals[label] / totals["measured"] for label in profiles}
    return out


def report(runs: dict[str, Run], measured: dict[tuple[str, int], list[float]],
           errors: dict[tuple[str, int, str], list[float]], loads: list[float], args: argparse.Namespace) -> None:
    print(f"\n{args.model}, 1 thread, {args.rounds} rounds x {args.reps} interleaved reps, thread CPU time, "
          f"profile statistic {args.statistic}; "
          f"load average {min(loads):.2f}-{max(loads):.2f}; errors: median over rounds (range); "
          "fused level = the price / measured of the fused control nearest in tokens")
    print("| forward | block | tokens in -> out | measured ms median (IQR) | " + " | ".join(LABELS) + " |")
    print("|---|---|---|---|---|---|---|")
    for name, run in runs.items():
        for i, (n_in, n_out) in enumerate(run.blocks):
            if (name, i, LABELS[0]) not in errors or run.control:
                continue
            q1, med, q3 = statistics.quantiles(measured[(name, i)], n=4)
            cells = " | ".join(spread(errors[(name, i, label)]) for label in LABELS)
            print(f"| {name} | {i + 1} | {n_in} -> {n_out} | {med:.3f} ({q1:.3f}-{q3:.3f}) | {cells} |")
    print("\nper forward: median over its blocks of the per-block median error (blocks' range); error of the "
          "blocks' sum, median over rounds (range):")
    for name in runs:
        for label in LABELS[: 1 if runs[name].control else 3]:
            per_block = [statistics.median(e) for (run, i, lab), e in errors.items()
                         if run == name and lab == label and i >= 0]
            print(f"  {name}, {label}: {100 * statistics.median(per_block):+.1f} % (blocks "
                  f"{100 * min(per_block):+.1f}..{100 * max(per_block):+.1f}); sum {spread(errors[(name, -1, label)])}")


def spread(errors: list[float]) -> str:
    return f"{100 * statistics.median(errors):+.1f} % ({100 * min(errors):+.1f}..{100 * max(errors):+.1f})"


if __name__ == "__main__":
    main()
