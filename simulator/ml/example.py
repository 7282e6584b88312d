"""The project's measured example: a small distilled ViT trained on a generated shapes task.

``python -m simulator.ml.example [--out accuracy/example-tinyvit-shapes.csv]`` regenerates the data
(seeded), trains ``example_vit_tiny_shapes`` (32 x 32 input, patch 4 -> 8 x 8 = 64 patches + cls + dist,
d = 64, 6 blocks, 2 heads), trains Mercury's reconstruction tokens, and measures the accuracy table with
the same functions the ``accuracy`` / ``train-reconstruction`` commands use. About ten minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from simulator.files.digest import file_sha256
from simulator.files.output_guard import guard_file, names_mercury_sim
from simulator.ml.checkpoints import build_model, write_tensors
from simulator.ml.data import Preprocess
from simulator.ml.harness import Row, provenance, restore_key, sweep, write_table, written_by_harness
from simulator.ml.reconstruction import head_parameters, train_restore
from simulator.ml.split import SplitViT, spec_of

MODEL = "example_vit_tiny_shapes"
CLASSES = (
    "disc",
    "square",
    "triangle",
    "ring",
    "cross",
    "hstripes",
    "vstripes",
    "checker",
    "diagonal",
    "dots",
)
MEAN = STD = (0.5, 0.5, 0.5)


def make_shapes(n: int, seed: int, size: int = 32) -> tuple[Tensor, Tensor]:
    """``n`` uint8 images (n x 3 x size x size) of one of ten shapes at a random place, colour and scale."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    images = np.empty((n, 3, size, size), dtype=np.uint8)
    labels = rng.integers(0, len(CLASSES), n)
    for i, c in enumerate(labels):
        r = rng.uniform(4.5, 9.0)
        cy, cx = rng.uniform(r, size - r, 2)
        dy, dx = yy - cy, xx - cx
        box = (np.abs(dy) <= r) & (np.abs(dx) <= r)
        dist = np.hypot(dy, dx)
        period = rng.uniform(2.5, 4.0)
        mask = {
            0: dist <= r,
            1: (np.abs(dy) <= 0.8 * r) & (np.abs(dx) <= 0.8 * r),
            2: (dy <= 0.8 * r) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.55),
            3: (dist <= r) & (dist >= 0.55 * r),
            4: ((np.abs(dy) <= 0.3 * r) | (np.abs(dx) <= 0.3 * r)) & box,
            5: box & (np.mod(dy, period) < period / 2),
            6: box & (np.mod(dx, period) < period / 2),
            7: box & ((np.floor(dy / period) + np.floor(dx / period)) % 2 == 0),
            8: box & (np.abs(dy - dx) <= 1.2),
            9: (np.hypot(dy - 0.5 * r, dx - 0.5 * r) <= 0.35 * r)
            | (np.hypot(dy + 0.5 * r, dx + 0.5 * r) <= 0.35 * r),
        }[int(c)]
        background = rng.uniform(0.0, 0.3, (3, 1, 1))
        colour = rng.uniform(0.6, 1.0, (3, 1, 1))
        img = np.where(mask[None], colour, background) + rng.normal(0, 0.08, (3, size, size))
        images[i] = np.clip(img * 255.0, 0, 255).astype(np.uint8)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def to_model_input(images: Tensor) -> Tensor:
    """Normalise uint8 images as the harness's Preprocess does for this model."""
    pre = Preprocess(images.shape[-1], MEAN, STD)
    return (images.float() / 255.0 - pre.mean) / pre.std


def batches(x: Tensor, y: Tensor, size: int, shuffle_seed: int | None = None):
    """Mini-batches of normalised images; shuffled when a seed is given."""
    order = (
        torch.arange(len(y))
        if shuffle_seed is None
        else torch.randperm(len(y), generator=torch.Generator().manual_seed(shuffle_seed))
    )
    for start in range(0, len(y), size):
        idx = order[start : start + size]
        yield to_model_input(x[idx]), y[idx]


def train_classifier(
    model: nn.Module, x: Tensor, y: Tensor, epochs: int, batch: int = 64, lr: float = 2e-3, log: bool = True
) -> nn.Module:
    """Plain supervised training (AdamW, cosine schedule, both heads on the label)."""
    model.train()
    steps = epochs * math.ceil(len(y) / batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    for epoch in range(epochs):
        start, total = time.time(), 0.0
        for images, labels in batches(x, y, batch, shuffle_seed=epoch):
            loss = F.cross_entropy(model(images), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(labels)
        if log:
            print(
                f"epoch {epoch + 1}/{epochs}: loss {total / len(y):.3f} ({time.time() - start:.0f} s)",
                file=sys.stderr,
            )
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("accuracy/example-tinyvit-shapes.csv"))
    parser.add_argument("--work", type=Path, default=Path("build/example"))
    parser.add_argument("--train", type=int, default=8000)
    parser.add_argument("--test", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--restore-steps", type=int, default=150)
    args = parser.parse_args(argv)
    ckpt = args.work / f"{MODEL}.safetensors"
    tokens_file = args.work / f"{MODEL}-restore.safetensors"
    for path in (ckpt, tokens_file):  # refused before minutes of training, not after
        guard_file(path, ours=names_mercury_sim)
    guard_file(args.out, ours=written_by_harness)
    torch.manual_seed(0)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    x_train, y_train = make_shapes(args.train, seed=1)
    x_test, y_test = make_shapes(args.test, seed=2)
    model = build_model(MODEL)
    model.pretrained_cfg = {**getattr(model, "pretrained_cfg", {}), "mean": MEAN, "std": STD}
    train_classifier(model, x_train, y_train, args.epochs)
    write_tensors(model.state_dict(), ckpt, {"model": MODEL})
    spec = spec_of(model, MODEL)
    base_heads = {k: v.detach().clone() for k, v in head_parameters(model).items()}
    split_after, rates = 1, [0.0, 0.25, 0.5, 0.75]
    learned: dict[str, dict[str, Tensor]] = {}
    for rate in rates[1:]:
        split = SplitViT(model, split_after, "mercury", rate, spec=spec)
        restore = train_restore(split, _cycle(x_train, y_train, 64), args.restore_steps)
        learned[restore_key(split_after, split.pruned)] = {
            "tokens": restore.tokens.detach().clone(),
            **{k: v.detach().clone() for k, v in head_parameters(model).items()},
        }
        with torch.no_grad():  # back to the classifier's own heads for the next operating point
            for k, v in head_parameters(model).items():
                v.copy_(base_heads[k])
    write_tensors(
        {f"{key}.{name}": t for key, entry in learned.items() for name, t in entry.items()},
        tokens_file,
        {"model": MODEL},
    )

    def test_batches():
        return batches(x_test, y_test, 250)

    rows: list[Row] = []
    rows += sweep(model, spec, "shapes10", test_batches, "none", 0, [0.0])
    for recon in ("none", "zero-pad", "duplicate", "learned"):
        rows += sweep(model, spec, "shapes10", test_batches, "mercury", split_after, rates, recon, learned)
    rows += sweep(model, spec, "shapes10", test_batches, "ats", split_after, rates)
    rows += sweep(model, spec, "shapes10", test_batches, "ats", split_after, rates[1:], "duplicate")
    rows += sweep(model, spec, "shapes10", test_batches, "tome", split_after, [0, 2, 4, 6, 8, 10])
    rows += sweep(model, spec, "shapes10", test_batches, "janus", split_after, [0, 0.3, 0.5, 0.6, 0.7, 0.8])
    comments = [
        f"table: MEASURED on the project's example model {MODEL} (not DeiT-B): a distilled ViT, 32 x 32",
        "  input, patch 4 (64 patches + cls + dist), d 64, 6 blocks, 2 heads, trained from scratch on",
        f"  'shapes10', ten procedurally drawn shape classes (simulator/ml/example.py, seeds 1/2); "
        f"{args.train} train / {args.test} test images",
        "mercury/ats: pruning after block 1, split after block 1;"
        " tome = constant r, janus = alpha, every block",
        "learned = reconstruction tokens + heads trained per K (backbone frozen); "
        f"{args.restore_steps} AdamW steps, batch 64",
        *provenance(["python", "-m", "simulator.ml.example", *(argv or sys.argv[1:])], ckpt, file_sha256(ckpt)),
        f"reconstruction tokens: {tokens_file.name} sha256 {file_sha256(tokens_file)}",
    ]
    write_table(args.out, rows, comments)
    print(args.out.read_text())


def _cycle(x: Tensor, y: Tensor, size: int):
    epoch = 0
    while True:
        yield from batches(x, y, size, shuffle_seed=1000 + epoch)
        epoch += 1


if __name__ == "__main__":
    main()
