"""The ``mercury-sim profile`` command: parse arguments, measure with a progress bar, write the profile.

Imported by simulator/cli/app.py at start-up, so it must not import torch or timm at module level.
"""

from __future__ import annotations

from pathlib import Path

import typer

from simulator.errors import InputError
from simulator.files.output_guard import guard_file, names_mercury_sim


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
    from simulator.cli.extras import require_extra

    require_extra("profile", "ml")
    from simulator.inputs.vit import MODELS
    from simulator.ml.profiler import ProfilePlan, parse_batches, parse_models, parse_tokens, run_plan, write_profile
    from simulator.ml.timing import STATISTICS

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
    write_profile(path, document)
    if not quiet:
        summary = ", ".join(f"{m}: block {c['block']['points']['ms'][-1]:.2f} ms at "
                            f"{c['block']['points']['tokens'][-1]} tokens"
                            for m, c in document["models"].items())
        typer.echo(f"wrote {path} ({summary})")
