"""The ``mercury-sim profile`` command: parse arguments, measure with a progress bar, write the profile.

Imported by simulator/cli.py at start-up, so it must not import torch or timm at module level.
"""

from __future__ import annotations

from pathlib import Path

import typer

from simulator.errors import InputError
from simulator.output_guard import guard_file, names_mercury_sim


def profile(
    model: str = typer.Option("deit_base_distilled_patch16_224", "--model",
                              help="timm model name, or a comma list (all go into one profile)"),
    tokens: str | None = typer.Option(None, "--tokens",
                                      help="START:STOP:STEP (STOP included) or comma list [10:max:16]"),
    batch: str = typer.Option("1,16", "--batch", help="Batch sizes for the batch-scaling factors"),
    threads: int | None = typer.Option(None, "--threads", min=1, help="torch intra-op threads"),
    out: str = typer.Option(..., "--out", help="Profile YAML to write"),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda[:i]"),
    repeats: int = typer.Option(15, "--repeats", min=1, help="Timed repetitions per point"),
    warmup: int = typer.Option(3, "--warmup", min=0, help="Untimed calls per point first"),
    name: str | None = typer.Option(None, "--name", help="Profile name [the file's stem]"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
    after_idle: float | None = typer.Option(None, "--after-idle", min=0.01, max=10.0,
                                            help="Also measure after_idle_ms: a forward's extra CPU time after "
                                                 "this many seconds idle (CPU only; scenario key "
                                                 "compute_after_idle prices it)"),
    statistic: str = typer.Option("median", "--statistic",
                                  help="median (of the faster of two calls; robust on a shared host) or mean "
                                       "(of single calls; for mean latencies on a dedicated core)"),
) -> None:
    """Measure a real ViT on this host (embed, block vs tokens, head, pruning, merging) into a profile."""
    from simulator.extras import require_extra

    require_extra("profile", "ml")
    from simulator.ml.profiler import ProfilePlan, parse_batches, parse_models, parse_tokens
    from simulator.ml.timing import STATISTICS
    from simulator.vit import MODELS

    names = parse_models(model)
    token_list = None
    if tokens is not None:
        token_list = tuple(parse_tokens(tokens, min(MODELS[n].num_tokens for n in names)))
    if not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
        raise InputError(None, f"--device {device!r}: expected cpu or cuda[:index]")
    if after_idle is not None and device != "cpu":
        raise InputError(None, "--after-idle: measured on the CPU only (thread CPU time); drop it for --device cuda")
    if statistic not in STATISTICS:
        raise InputError(None, f"--statistic {statistic!r}: expected one of {', '.join(STATISTICS)}")
    plan = ProfilePlan(tuple(names), token_list, tuple(parse_batches(batch)), repeats, warmup, threads,
                       device, after_idle, statistic)
    path = Path(out)
    guard_file(path, ours=names_mercury_sim)  # a profile names mercury-sim in its provenance
    document = run_plan(plan, path.stem if name is None else name, quiet)
    from simulator.ml.profiler import write_profile

    write_profile(path, document)
    if not quiet:
        summary = ", ".join(f"{m}: block {c['block']['points']['ms'][-1]:.2f} ms at "
                            f"{c['block']['points']['tokens'][-1]} tokens"
                            for m, c in document["models"].items())
        typer.echo(f"wrote {path} ({summary})")


def run_plan(plan: object, name: str, quiet: bool) -> dict:
    """Measure every model of ``plan`` with a rich progress bar; return the profile document."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from simulator.ml.profiler import ProfilePlan, host_facts, measure_model, profile_document, set_threads
    from simulator.vit import MODELS

    assert isinstance(plan, ProfilePlan)
    _check_device(plan.device)
    set_threads(plan.threads)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True, disable=quiet)
    results = []
    with bar:
        for model in plan.models:
            task = bar.add_task(model, total=plan.calls(MODELS[model]))
            results.append(measure_model(model, plan, on_step=lambda task=task: bar.advance(task)))
    return profile_document(name, results, plan, host_facts(plan))


def _check_device(device: str) -> None:
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(None, f"--device {device}: CUDA is not available on this host")
