"""How a forward's stage times vary together, and which sampling model of them predicts the forward's tail.

    HF_HUB_OFFLINE=1 PYTHONPATH=. python benchmarks/compute_variability.py [--forwards 300] [--gap-s 0]
        [--repeats 40] [--profile PATH] [--realtime] [--model deit_tiny_distilled_patch16_224]

Times ``--forwards`` whole timm forwards (one thread, random weights), each stage inside the forward on its
own clock: the embedding, every block, the head. Then asks how the stages of one forward vary together:

* the mean Spearman correlation of two blocks' times over the forwards (0: independent, 1: comonotone);
* the variance of the 12 blocks' sum over the sum of their variances (1 when independent; (sum of the
  standard deviations)^2 / (sum of the variances), about 12, when every block is slow together);
* how often block j is above its own p90 when block i is (0.10 when independent).

And which model of a request's compute predicts the whole forward's distribution, each from the quantiles
the simulator would store (simulator/ml/profiler.py, QUANTILE_LEVELS) and 200 000 draws:

* from the forwards' own stage samples (the dependence alone: same data, only the coupling differs);
* from a profile of the host (``mercury-sim profile``'s stage quantiles at 198 tokens; measured right before
  with ``--repeats`` rounds, or ``--profile``): what ``compute: {variability: profile}`` samples;

each as *constant* (the points, today's pricing), *comonotone* (one uniform for every stage of a forward:
the model ``compute.correlation: comonotone`` runs) and *independent* (one uniform per stage). Printed:
mean, p50, p95, p99 of the measured and predicted totals, and the two-sample KS statistic (scipy).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
MODEL = "deit_tiny_distilled_patch16_224"
DRAWS = 200_000


def time_forwards(model_name: str, forwards: int, gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(stage times of each forward: embed, every block, head; each forward's end-to-end time), ms."""
    import timm
    import torch

    model = timm.create_model(model_name, pretrained=False).eval()
    image = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    clock = time.perf_counter
    stages = np.empty((forwards, len(model.blocks) + 2))
    totals = np.empty(forwards)
    with torch.inference_mode():
        for _ in range(5):
            model(image)
        for f in range(forwards):
            if gap_s:
                time.sleep(gap_s)
            row = stages[f]
            start = t = clock()
            x = model.norm_pre(model.patch_drop(model._pos_embed(model.patch_embed(image))))
            now = clock()
            row[0], t = now - t, now
            for i, block in enumerate(model.blocks):
                x = block(x)
                now = clock()
                row[i + 1], t = now - t, now
            model.forward_head(model.norm(x))
            now = clock()
            row[-1], totals[f] = now - t, now - start
    return stages * 1e3, totals * 1e3


def dependence(blocks: np.ndarray) -> dict[str, float]:
    """How the blocks of one forward vary together (rows: forwards, columns: blocks)."""
    from scipy.stats import spearmanr

    rho = spearmanr(blocks).statistic
    pairs = rho[np.triu_indices(blocks.shape[1], 1)]
    variances = blocks.var(axis=0, ddof=1)
    above = blocks > np.percentile(blocks, 90, axis=0)
    joint = [(above[:, i] & above[:, j]).sum() / max(1, above[:, i].sum())
             for i in range(blocks.shape[1]) for j in range(blocks.shape[1]) if i != j]
    return {"spearman": float(pairs.mean()), "spearman_min": float(pairs.min()),
            "variance_ratio": float(blocks.sum(axis=1).var(ddof=1) / variances.sum()),
            "comonotone_ratio": float(np.sqrt(variances).sum() ** 2 / variances.sum()),
            "joint_p90": float(np.mean(joint))}


def predict(quantiles: list[np.ndarray], levels: np.ndarray, coupling: str,
            rng: np.random.Generator) -> np.ndarray:
    """Totals of DRAWS forwards whose stages are drawn from ``quantiles`` (one row per stage)."""
    if coupling == "comonotone":
        u = rng.random(DRAWS)
        return np.sum([np.interp(u, levels, q) for q in quantiles], axis=0)
    return np.sum([np.interp(rng.random(DRAWS), levels, q) for q in quantiles], axis=0)


def describe(values: np.ndarray) -> str:
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return f"{values.mean():7.2f} {p50:7.2f} {p95:7.2f} {p99:7.2f}"


def host_profile(model_name: str, repeats: int, path: Path) -> Path:
    from simulator.ml.profiler import ProfilePlan, run_plan, write_profile

    plan = ProfilePlan((model_name,), (198,), (1,), repeats, 3, 1)
    write_profile(path, run_plan(plan, "host-now", quiet=True))
    return path


def profile_quantiles(path: Path, model_name: str, depth: int) -> tuple[np.ndarray, list[np.ndarray], float]:
    """(levels, one quantile row per forward stage, the constant sum of the points) from a profile file."""
    from simulator.inputs.profiles import load_profile
    from simulator.inputs.vit import MODELS

    profile, spec = load_profile(path), MODELS[model_name]
    levels = np.asarray(profile.file.quantile_levels or [], float)
    if not profile.has_distribution:
        raise SystemExit(f"{path}: no quantiles_ms (measure it with mercury-sim profile)")
    row = {stage: np.array([profile.at_level(q).stage_ms(spec, stage, spec.num_tokens) for q in levels])
           for stage in ("embed", "block", "head")}
    constant = sum(profile.stage_ms(spec, s, spec.num_tokens) * (depth if s == "block" else 1)
                   for s in ("embed", "block", "head"))
    return levels, [row["embed"], *[row["block"]] * depth, row["head"]], constant


def main() -> None:
    from scipy.stats import ks_2samp

    from simulator.ml.profiler import QUANTILE_LEVELS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--forwards", type=int, default=300)
    parser.add_argument("--gap-s", type=float, default=0.0, help="sleep before each forward (a periodic camera)")
    parser.add_argument("--repeats", type=int, default=40, help="rounds of the host profile measured first")
    parser.add_argument("--profile", type=Path, help="a profile with quantiles_ms instead of measuring one")
    parser.add_argument("--realtime", action="store_true", help="pin to core 0 at the testbed's real-time priority")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    at_realtime = False
    if args.realtime:
        from simulator.emulation.shaper import realtime
        from simulator.emulation.workers import WORKER_PRIORITY

        os.sched_setaffinity(0, {0})
        at_realtime = realtime(WORKER_PRIORITY)
    path = args.profile or host_profile(args.model, args.repeats, Path(f"/tmp/compute-variability-{os.getpid()}.yaml"))
    stages, totals = time_forwards(args.model, args.forwards, args.gap_s)
    depth = stages.shape[1] - 2
    dep = dependence(stages[:, 1:-1])
    print(f"{args.model}: {args.forwards} forwards, gap {args.gap_s:g} s, real-time {at_realtime}, "
          f"load average {os.getloadavg()[0]:.2f}; profile {path}")
    print(f"blocks of one forward: mean pairwise Spearman {dep['spearman']:.2f} (min {dep['spearman_min']:.2f}); "
          f"var(sum) / sum(var) {dep['variance_ratio']:.2f} (independent 1, comonotone "
          f"{dep['comonotone_ratio']:.2f}); P(block j > p90 | block i > p90) {dep['joint_p90']:.2f} "
          "(independent 0.10)")
    rng = np.random.default_rng(0)
    levels = np.asarray(QUANTILE_LEVELS)
    own = [np.quantile(stages[:, s], levels) for s in range(stages.shape[1])]
    prof_levels, prof, constant = profile_quantiles(path, args.model, depth)
    print(f"\n{'total forward, ms':44s} {'mean':>7s} {'p50':>7s} {'p95':>7s} {'p99':>7s}  KS vs measured")
    print(f"{'measured (end to end)':44s} {describe(totals)}")
    print(f"{'sum of the stages as measured':44s} {describe(stages.sum(axis=1))}")
    for source, quantiles, grid in (("own stage samples", own, levels), ("profile", prof, prof_levels)):
        if source == "profile":
            print(f"{'profile, constant (the points)':44s} {constant:7.2f} {constant:7.2f} {constant:7.2f} "
                  f"{constant:7.2f}  {ks_2samp(totals, np.full(10, constant)).statistic:.2f}")
        for coupling in ("comonotone", "independent"):
            values = predict(quantiles, grid, coupling, rng)
            print(f"{source + ', ' + coupling:44s} {describe(values)}  {ks_2samp(totals, values).statistic:.2f}")


if __name__ == "__main__":
    main()
