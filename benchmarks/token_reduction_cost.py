"""Cost of Mercury's pruning step, its scoring pass and one ToMe merge relative to one block (CPU, batch 1).

For each model and token count N: one block forward on N tokens (explicit attention, as the split model
runs it), Mercury's selection on a sqrt(N-2) x sqrt(N-2) patch grid (similarity, window anchors, top-K;
K = half the non-anchors), one ToMe bipartite merge of r = N // 8 tokens with size tracking, and the
scoring pass that pruning *before* block 1 adds (norm1, qkv, softmax(QK^T)V; fused attention, so it is
compared with timm's own fused block and with the MAC share the simulator falls back on).
Repetitions are interleaved (every rep times each operation once, in a shuffled order) so drift and
other load hit all operations alike; medians and the inter-quartile range are reported.

    PYTHONPATH=. python benchmarks/token_reduction_cost.py --reps 30
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import timm  # noqa: E402
import torch  # noqa: E402

from simulator.inputs.vit import MODELS  # noqa: E402
from simulator.ml.attention import block_forward  # noqa: E402
from simulator.ml.mercury_prune import mercury_select  # noqa: E402
from simulator.ml.profiler_kernels import attention_heads  # noqa: E402
from simulator.ml.tome import bipartite_merge  # noqa: E402


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=4)
    return q[0], statistics.median(values), q[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models",
                        default="deit_base_distilled_patch16_224,deit_small_distilled_patch16_224")
    parser.add_argument("--grids", default="14,12,10,7", help="patch grid sides (N = side^2 + 2)")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = random.Random(0)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.reps} interleaved reps, batch 1")
    print("| model | N | block ms (IQR) | Mercury prune ms (IQR) | prune/block | ToMe merge ms (IQR) "
          "| merge/block | scoring pass / timm block (IQR of pass) | MAC share |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.models.split(","):
        model = timm.create_model(name, pretrained=False).eval()
        block, d = model.blocks[0], model.embed_dim
        for side in (int(s) for s in args.grids.split(",")):
            n = side * side + 2
            x = torch.randn(1, n, d)
            feats = torch.randn(1, n, d)
            anchors = (side // 2) ** 2
            k = (side * side - anchors) // 2
            metric, size = torch.randn(1, n, d // block.attn.num_heads), torch.ones(1, n, 1)
            ops = {
                "block": lambda x=x, blk=block: block_forward(blk, x),
                "prune": lambda f=feats, s=side, k=k: mercury_select(f, 2, s, k),
                "merge": lambda x=x, m=metric, z=size, n=n: bipartite_merge(x, z, m, n // 8, 2),
                "timm_block": lambda x=x, blk=block: blk(x),
                "scoring": lambda x=x, blk=block: attention_heads(blk, x),
            }
            times: dict[str, list[float]] = {k: [] for k in ops}
            with torch.no_grad():
                for fn in ops.values():  # warm-up
                    fn()
                for _ in range(args.reps):
                    order = list(ops)
                    rng.shuffle(order)
                    for key in order:
                        start = time.perf_counter()
                        ops[key]()
                        times[key].append((time.perf_counter() - start) * 1e3)
            b, p, m, t, a = (quartiles(times[k]) for k in ("block", "prune", "merge", "timm_block", "scoring"))
            spec = MODELS[name]
            share = spec.attention_macs(n) / spec.block_macs(n)
            print(f"| {name} | {n} | {b[1]:.2f} ({b[0]:.2f}-{b[2]:.2f}) "
                  f"| {p[1]:.3f} ({p[0]:.3f}-{p[2]:.3f}) | "
                  f"{p[1] / b[1]:.3f} | {m[1]:.3f} ({m[0]:.3f}-{m[2]:.3f}) | {m[1] / b[1]:.3f} "
                  f"| {a[1] / t[1]:.3f} ({a[0]:.2f}-{a[2]:.2f} ms) | {share:.3f} |", flush=True)


if __name__ == "__main__":
    main()
