"""Learned reconstruction tokens beat zero padding on the generated shapes task (tiny model, fast)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("timm")

import torch  # noqa: E402
from _ml_models import tiny_vit  # noqa: E402

from simulator.ml.example import batches, make_shapes, train_classifier  # noqa: E402
from simulator.ml.harness import Row, evaluate, isotonic_nonincreasing, monotone  # noqa: E402
from simulator.ml.reconstruction import Restore, train_restore  # noqa: E402
from simulator.ml.split import SplitViT  # noqa: E402


def _cycle(x: torch.Tensor, y: torch.Tensor):
    seed = 0
    while True:
        yield from batches(x, y, 64, shuffle_seed=seed)
        seed += 1


CHANCE = 10.0  # ten shape classes


def _learned_vs_zero(train: int, epochs: int, steps: int) -> tuple[float, float, float]:
    """Unpruned, zero-padded and learned-token top-1 of a tiny ViT with 75 % of its patches pruned."""
    torch.manual_seed(0)
    x_train, y_train = make_shapes(train, seed=11)
    x_test, y_test = make_shapes(500, seed=12)
    tiny = tiny_vit(patch=4, dim=24, depth=2)  # 8 x 8 patches: 16 anchors, K = 48 at 75 %
    model = train_classifier(tiny, x_train, y_train, epochs=epochs, batch=64, lr=1e-2, log=False)
    split = SplitViT(model, 1, "mercury", 0.75)
    full, _, _ = evaluate(SplitViT(model, 1), batches(x_test, y_test, 250))
    zero, _, _ = evaluate(split, batches(x_test, y_test, 250), Restore("zero-pad", split.pruned, 24, 2))
    learned = train_restore(split, _cycle(x_train, y_train), steps=steps, lr=1e-2)
    trained, _, _ = evaluate(split, batches(x_test, y_test, 250), learned)
    return full, zero, trained


def test_learned_tokens_beat_zero_padding_fast() -> None:
    """Measured here (x86, 2 threads): unpruned 41.2 %, zero padding 39.6 %, learned tokens 42.6 % on 500 images.

    The classifier must have learned the task (three times chance), the learned tokens must beat zero
    padding by more than a point and recover what pruning lost (within a point of the unpruned model).
    """
    full, zero, trained = _learned_vs_zero(train=640, epochs=8, steps=30)
    assert full >= 3 * CHANCE, f"classifier did not learn the task ({full:.1f} %)"
    assert trained >= zero + 1.0, f"learned {trained:.1f} % vs zero-pad {zero:.1f} % (unpruned {full:.1f} %)"
    assert trained >= full - 1.0, f"learned {trained:.1f} % vs unpruned {full:.1f} %"


@pytest.mark.slow
def test_learned_tokens_beat_zero_padding() -> None:
    """Measured here (x86): unpruned 67.2 %, zero padding 59.4 %, learned tokens 62.4 % on 500 images: with a
    better classifier pruning costs more, and the learned tokens win back part of it."""
    full, zero, trained = _learned_vs_zero(train=1500, epochs=10, steps=60)
    assert full >= 5 * CHANCE, f"classifier did not learn the task ({full:.1f} %)"
    assert zero <= full - 3.0, f"pruning 75 % should cost accuracy: zero-pad {zero:.1f} % vs unpruned {full:.1f} %"
    assert trained >= zero + 2.0, f"learned {trained:.1f} % vs zero-pad {zero:.1f} % (unpruned {full:.1f} %)"


def test_isotonic_correction_only_touches_rising_groups() -> None:
    assert isotonic_nonincreasing([90.0, 91.0, 80.0, 81.0, 70.0]) == [90.5, 90.5, 80.5, 80.5, 70.0]
    rows = [
        Row("m", "d", "mercury", 1, p, "none", t, "measured: x") for p, t in [(0, 90), (0.5, 92), (0.75, 80)]
    ]
    fixed = monotone(rows)
    assert [r.top1 for r in fixed] == [91.0, 91.0, 80.0]
    assert fixed[0].source.startswith("fitted: isotonic") and fixed[2].source == "measured: x"
    assert monotone(fixed) == fixed
