"""Implementations of ``mercury-sim accuracy`` and ``mercury-sim train-reconstruction``.

simulator/cli/app.py declares the options and calls these lazily, so torch loads only when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from simulator.errors import InputError
from simulator.files.digest import file_sha256
from simulator.files.output_guard import guard_file, names_mercury_sim
from simulator.ml.checkpoints import load_model, read_tensors, write_tensors
from simulator.ml.data import open_dataset, preprocess_for
from simulator.ml.harness import provenance, restore_key, sweep, write_table, written_by_harness
from simulator.ml.reconstruction import MODES, head_parameters, train_restore
from simulator.ml.split import METHODS, PRUNE_POINTS, SplitViT, spec_of


def parse_grid(text: str) -> list[float]:
    """``0,0.25,0.5`` -> floats."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(None, f"--grid must be comma-separated numbers, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise InputError(None, f"--grid needs non-negative numbers, got {text!r}")
    return sorted(set(values))


@contextmanager
def progress_bar(total: int, label: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """A rich progress bar advanced by the callback (no-op when disabled)."""
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _loader(
    model: torch.nn.Module, data: Path, split: str, batch_size: int, limit: int | None, shuffle: bool = False
) -> DataLoader:
    dataset = open_dataset(data, split, preprocess_for(model))
    if limit:
        dataset = torch.utils.data.Subset(dataset, range(min(limit, len(dataset))))
    generator = torch.Generator().manual_seed(0)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def _check(method: str, reconstruction: str) -> None:
    if method not in METHODS:
        raise InputError(None, f"--method {method!r} unknown; expected one of {', '.join(METHODS)}")
    if reconstruction not in MODES:
        raise InputError(
            None, f"--reconstruction {reconstruction!r} unknown; expected one of {', '.join(MODES)}"
        )


def read_learned(path: Path) -> dict[str, dict[str, Tensor]]:
    """A tokens file (``<key>.tokens``, ``<key>.head.weight`` ...) grouped by operating point."""
    out: dict[str, dict[str, Tensor]] = {}
    for name, tensor in read_tensors(path).items():
        key, _, field = name.partition(".")
        out.setdefault(key, {})[field] = tensor
    return out


def accuracy(
    model_name: str,
    checkpoint: Path,
    data: Path,
    method: str,
    split_after: int,
    grid: str,
    out: Path,
    reconstruction: str = "none",
    tokens: Path | None = None,
    dataset_name: str | None = None,
    split: str = "test",
    batch_size: int = 64,
    limit: int | None = None,
    quiet: bool = False,
    prune_point: str = "after_block1",
    command: tuple[str, ...] = (),
) -> None:
    """Measure top-1/top-5 over the grid and write an accuracy table with provenance (``command``: the command
    line that asked, as typed)."""
    _check(method, reconstruction)
    if prune_point not in PRUNE_POINTS:
        raise InputError(None, f"--prune-point {prune_point!r} unknown; expected {' or '.join(PRUNE_POINTS)}")
    guard_file(out, inputs=[checkpoint, data, *([tokens] if tokens else [])], ours=written_by_harness)
    if reconstruction == "learned" and tokens is None:
        raise InputError(None, "--reconstruction learned needs --tokens FILE (from train-reconstruction)")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = load_model(model_name, checkpoint)
    spec = spec_of(model, model_name)
    learned = read_learned(tokens) if tokens else None
    loader = _loader(model, data, split, batch_size, limit)
    points = parse_grid(grid)
    try:
        with progress_bar(
            len(loader.dataset) * len(points), f"{method} on {data.name}", not quiet
        ) as advance:
            rows = sweep(
                model,
                spec,
                dataset_name or data.name,
                lambda: loader,
                method,
                split_after,
                points,
                reconstruction,
                learned,
                advance,
                prune_point=prune_point,
            )
    except ValueError as exc:
        raise InputError(None, str(exc)) from None
    comments = [
        f"table: measured by mercury-sim accuracy on {len(loader.dataset)} images of {data}",
        *provenance(list(command), checkpoint, file_sha256(checkpoint)),
    ]
    if tokens:
        comments.append(f"reconstruction tokens: {tokens.name} sha256 {file_sha256(tokens)}")
    write_table(out, rows, comments)
    if not quiet:
        for r in rows:
            print(f"{r.method} {r.parameter:g} {r.reconstruction}: top-1 {r.top1:.2f} %")
        print(f"wrote {out}")


def train_reconstruction(
    model_name: str,
    checkpoint: Path,
    data: Path,
    split_after: int,
    rates: str,
    out: Path,
    steps: int = 500,
    lr: float = 3e-3,
    batch_size: int = 64,
    split: str = "train",
    limit: int | None = None,
    quiet: bool = False,
) -> None:
    """Train Mercury's reconstruction tokens (+ heads) for every rate; save one file keyed by (split, K)."""
    guard_file(out, inputs=[checkpoint, data], ours=names_mercury_sim)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = load_model(model_name, checkpoint)
    spec = spec_of(model, model_name)
    loader = _loader(model, data, split, batch_size, limit, shuffle=True)
    base = {k: v.detach().clone() for k, v in head_parameters(model).items()}
    tensors: dict[str, Tensor] = {}
    for rate in parse_grid(rates):
        try:
            split_model = SplitViT(model, split_after, "mercury", rate, spec=spec)
        except ValueError as exc:
            raise InputError(None, str(exc)) from None
        if split_model.pruned == 0:
            continue
        with progress_bar(steps, f"K = {split_model.pruned}", not quiet) as advance:
            restore = train_restore(split_model, _repeat(loader), steps, lr, lambda step, loss: advance(1))
        key = restore_key(split_after, split_model.pruned)
        tensors[f"{key}.tokens"] = restore.tokens.detach().clone()
        for name, param in head_parameters(model).items():
            tensors[f"{key}.{name}"] = param.detach().clone()
            with torch.no_grad():
                param.copy_(base[name])
    write_tensors(tensors, out, {"generator": "mercury-sim train-reconstruction", "model": model_name,
                                 "checkpoint_sha256": file_sha256(checkpoint)})
    if not quiet:
        print(f"wrote {out} ({len(tensors)} tensors)")


def _repeat(loader: DataLoader):
    while True:
        yield from loader
