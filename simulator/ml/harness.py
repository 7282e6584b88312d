"""Accuracy harness: top-1/top-5 of a split model over a parameter grid, written as an accuracy table.

Rows follow simulator/inputs/accuracy.py. Measured curves are kept as measured; where sampling noise makes a
curve rise with the reduction parameter (which the loader rejects), the rows of that group are replaced
by the isotonic (non-increasing) regression of the measured points and their source says so
("fitted: isotonic regression of measured ..."), with the raw value kept in the source text.
"""

from __future__ import annotations

import contextlib
import csv
import io
import platform
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch import Tensor, nn

from simulator.errors import InputError
from simulator.files.atomic import atomic_write_text
from simulator.files.output_guard import guard_file, names_mercury_sim
from simulator.inputs.accuracy import COLUMNS
from simulator.inputs.vit import ViTSpec
from simulator.ml.reconstruction import Restore
from simulator.ml.split import SplitViT

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Row:
    model: str
    dataset: str
    method: str
    split_after: int | None
    parameter: float
    reconstruction: str
    top1: float
    source: str
    prune_point: str = ""  # empty = after_block1 (the tables' default); before_block1 for Mercury rows so measured

    def cells(self) -> list[str]:
        split = "" if self.split_after is None else str(self.split_after)
        return [
            self.model,
            self.dataset,
            self.method,
            split,
            f"{self.parameter:g}",
            self.reconstruction,
            f"{self.top1:.2f}",
            self.source,
            self.prune_point,
        ]


@torch.no_grad()
def evaluate(
    split: SplitViT,
    batches: Iterable[tuple[Tensor, Tensor]],
    restore: nn.Module | None = None,
    progress: Progress | None = None,
) -> tuple[float, float, int]:
    """Top-1 and top-5 (%) and the image count."""
    split.eval()
    hit1 = hit5 = total = 0
    for images, labels in batches:
        logits = split(images, restore)
        top = logits.topk(min(5, logits.shape[-1]), dim=-1).indices
        hit1 += int((top[:, 0] == labels).sum())
        hit5 += int((top == labels.unsqueeze(-1)).any(dim=-1).sum())
        total += int(labels.numel())
        if progress is not None:
            progress(int(labels.numel()))
    if total == 0:
        raise InputError(None, "the data set holds no images")
    return 100.0 * hit1 / total, 100.0 * hit5 / total, total


def restore_key(split_after: int, pruned: int) -> str:
    """Name of one operating point's reconstruction in a tokens file."""
    return f"s{split_after}_k{pruned}"


@contextlib.contextmanager
def heads_replaced(model: nn.Module, state: dict[str, Tensor]) -> Iterator[None]:
    """Temporarily load trained head weights (``head.*``, ``head_dist.*``) into ``model``."""
    params = dict(model.named_parameters())
    saved = {k: params[k].detach().clone() for k in state}
    with torch.no_grad():
        for k, v in state.items():
            params[k].copy_(v)
    try:
        yield
    finally:
        with torch.no_grad():
            for k, v in saved.items():
                params[k].copy_(v)


def restore_for(
    split: SplitViT, mode: str, learned: dict[str, dict[str, Tensor]] | None, source: str = "tokens file"
) -> tuple[Restore | None, dict[str, Tensor]]:
    """The restore module and head state for one operating point (learned tokens looked up by key)."""
    if mode == "none" or split.pruned == 0:
        return None, {}
    restore = Restore(mode, split.pruned, split.spec.embed_dim, split.prefix)
    if mode != "learned":
        return restore, {}
    key = restore_key(split.split_after, split.pruned)
    entry = (learned or {}).get(key)
    if entry is None:
        raise InputError(
            source,
            f"no learned tokens for split {split.split_after}, K = {split.pruned} "
            f"(key {key}); have {', '.join(sorted(learned or {})) or 'none'}",
        )
    with torch.no_grad():
        restore.tokens.copy_(entry["tokens"])
    return restore, {k: v for k, v in entry.items() if k != "tokens"}


Batches = Callable[[], Iterable[tuple[Tensor, Tensor]]]


def sweep(
    model: nn.Module,
    spec: ViTSpec,
    dataset: str,
    batches: Batches,
    method: str,
    split_after: int,
    grid: list[float],
    reconstruction: str = "none",
    learned: dict[str, dict[str, Tensor]] | None = None,
    progress: Progress | None = None,
    label: str = "measured",
    prune_point: str = "after_block1",
) -> list[Row]:
    """Measure one method over ``grid``; a row per grid point."""
    rows: list[Row] = []
    split_col = None if method in ("tome", "janus", "none") else split_after
    point_col = prune_point if method == "mercury" and prune_point != "after_block1" else ""
    for parameter in grid:
        split = SplitViT(model, split_after, method, parameter, spec=spec, prune_point=prune_point)
        restore, heads = restore_for(split, reconstruction, learned)
        with heads_replaced(model, heads):
            top1, top5, n = evaluate(split, batches(), restore, progress)
        rows.append(
            Row(
                spec.name,
                dataset,
                method,
                split_col,
                float(parameter),
                reconstruction,
                top1,
                f"{label}: top-1 on {n} images (top-5 {top5:.2f} %, tokens uploaded "
                f"{split.expected_upload_tokens()})",
                point_col,
            )
        )
    return rows


def isotonic_nonincreasing(values: list[float]) -> list[float]:
    """Pool-adjacent-violators fit of a non-increasing sequence (equal weights)."""
    blocks: list[list[float]] = []  # [mean, count]
    for v in values:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    return [m for m, c in blocks for _ in range(int(c))]


def monotone(rows: list[Row]) -> list[Row]:
    """Rows of one group sorted by parameter; an isotonic fit replaces them if the measured curve rises."""
    rows = sorted(rows, key=lambda r: r.parameter)
    measured = [r.top1 for r in rows]
    if all(b <= a + 1e-9 for a, b in zip(measured, measured[1:], strict=False)):
        return rows
    fitted = isotonic_nonincreasing(measured)
    return [
        r
        if abs(f - r.top1) < 1e-9
        else replace(
            r,
            top1=f,
            source="fitted: isotonic regression of measured points; " + r.source + f"; measured {r.top1:.2f}",
        )
        for r, f in zip(rows, fitted, strict=True)
    ]


def provenance(command: list[str], checkpoint: Path | None, checkpoint_sha: str | None) -> list[str]:
    """Comment lines: command, host, date, checkpoint hash, software versions."""
    import timm

    lines = [
        f"command: {' '.join(command)}",
        f"host: {platform.node()} ({platform.machine()}), torch {torch.__version__}, timm {timm.__version__}",
        f"date: {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
    ]
    if checkpoint is not None:
        lines.append(f"checkpoint: {checkpoint.name} sha256 {checkpoint_sha}")
    return lines


def write_table(path: Path, rows: list[Row], comments: list[str]) -> None:
    """Write rows (grouped, monotone) with a ``#`` comment block, validated by the simulator's loader.

    The table is validated before it is written and renamed into place whole (an interrupted write
    leaves the earlier file as it was); a file mercury-sim did not write (:func:`written_by_harness`)
    is refused.
    """
    from simulator.inputs.accuracy import parse_accuracy_text

    groups: dict[tuple, list[Row]] = {}
    for r in rows:
        groups.setdefault((r.model, r.dataset, r.method, r.split_after, r.reconstruction, r.prune_point),
                          []).append(r)
    buf = io.StringIO()
    for line in comments:
        for part in line.splitlines():
            buf.write(f"# {part}\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*COLUMNS, "prune_point"])
    for group in groups.values():
        for r in monotone(group):
            writer.writerow(r.cells())
    path = Path(path)
    guard_file(path, ours=written_by_harness)
    parse_accuracy_text(buf.getvalue(), path)
    atomic_write_text(path, buf.getvalue())


def written_by_harness(path: Path) -> bool:
    """An accuracy table this harness wrote: its comment block names mercury-sim or the example's command."""
    return names_mercury_sim(path) or _names_example(path)


def _names_example(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return b"# command: python -m simulator.ml.example" in handle.read(1 << 14)
    except OSError:
        return False
