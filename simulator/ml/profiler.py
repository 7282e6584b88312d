"""What ``mercury-sim profile`` measures on the host, how it fits curves, and the profile it writes.

Stages are timed the way the simulator prices them (simulator/inputs/profiles.py): embed on the image, plain
blocks (N in = N out, the whole stack run in turn and divided by depth, so weights come from memory as in
a forward; reducing blocks are mapped onto that curve by equal MACs), the head (final norm +
classifier) and the two reduction steps, each against the tokens entering the stage. Points are medians
of interleaved repetitions, the spread their IQR, and the least-squares ``a + b*N + c*N^2`` fit covers
token counts outside the measured range. Every point also keeps the distribution its repetitions showed, the
quantiles of its single calls at :data:`QUANTILE_LEVELS`, which the engine samples under
``compute: {variability: profile}``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simulator.errors import InputError
from simulator.files.atomic import atomic_write_text
from simulator.inputs.vit import MODELS, ViTSpec, profiled_merge_count
from simulator.ml.timing import Timing, time_cases

Step = Callable[[], None]
# The levels at which every point keeps its single calls' quantiles (``quantiles_ms``): min, every 5 %, max.
QUANTILE_LEVELS = tuple(round(i / 20, 2) for i in range(21))


@dataclass(frozen=True)
class ProfilePlan:
    """Everything one ``profile`` run measures."""

    models: tuple[str, ...]
    tokens: tuple[int, ...] | None  # None: the model's default grid
    batches: tuple[int, ...] = (1,)
    repeats: int = 15
    warmup: int = 3
    threads: int | None = None
    device: str = "cpu"
    after_idle_s: float | None = None  # also measure after_idle_ms with this idle gap (CPU only)
    statistic: str = "median"  # or "mean" (of single calls; simulator/ml/timing.py says when)
    after_idle_pairs: int = 12

    def tokens_for(self, spec: ViTSpec) -> list[int]:
        return list(self.tokens) if self.tokens else default_tokens(spec)

    def calls(self, spec: ViTSpec) -> int:
        """Timed and warm-up calls for one model (sizes the progress bar)."""
        tokens, prefix = self.tokens_for(spec), spec.prefix_tokens
        prune = sum(n - prefix >= 4 for n in tokens)
        merge = sum(n - prefix >= 2 for n in tokens)  # tome_merge and tome_block
        per_case = self.repeats + self.warmup
        return per_case * (1 + 3 * len(tokens) + prune + 2 * merge + len(self.batches))


# -- argument parsing ---------------------------------------------------------------------------------
def default_tokens(spec: ViTSpec) -> list[int]:
    return parse_tokens(f"10:{spec.num_tokens}:16", spec.num_tokens)


def parse_tokens(text: str, max_tokens: int) -> list[int]:
    """``START:STOP:STEP`` (STOP always included) or a comma list; every count in 1..max_tokens."""
    text = text.strip()
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
                raise ValueError
            start, stop, step = parts
            values = list(range(start, stop + 1, step))
            if values[-1] != stop:
                values.append(stop)
        else:
            values = sorted({int(p) for p in text.split(",") if p.strip()})
            if not values:
                raise ValueError
    except ValueError:
        raise InputError(None, f"--tokens {text!r}: expected START:STOP:STEP (STOP >= START, STEP > 0) "
                         "or a comma list of integers") from None
    bad = [v for v in values if not 1 <= v <= max_tokens]
    if bad:
        raise InputError(None, f"--tokens {text!r}: token counts must be in 1..{max_tokens}, got {bad}")
    return values


def parse_batches(text: str) -> list[int]:
    """Comma list of batch sizes >= 1; size 1 is always measured (the reference of the factors)."""
    try:
        values = {int(p) for p in text.split(",") if p.strip()}
    except ValueError:
        raise InputError(None, f"--batch {text!r}: expected a comma list of integers") from None
    if not values or min(values) < 1:
        raise InputError(None, f"--batch {text!r}: batch sizes must be >= 1")
    return sorted(values | {1})


def parse_models(text: str) -> list[str]:
    """Comma list of model names the simulator knows; an unknown one names its close matches."""
    import difflib

    names = [p.strip() for p in text.split(",") if p.strip()]
    if not names:
        raise InputError(None, "--model: no model name given")
    for name in names:
        if name not in MODELS:
            close = difflib.get_close_matches(name, list(MODELS), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(sorted(MODELS))}"
            raise InputError(None, f"--model: unknown model {name!r}; {hint}")
    return names


# -- measurement --------------------------------------------------------------------------------------
@dataclass
class StageResult:
    """Measured points of one stage: token counts and their timings."""

    tokens: list[int]
    timings: list[Timing]
    statistic: str = "median"

    @property
    def ms(self) -> list[float]:
        return [t.value(self.statistic) for t in self.timings]


@dataclass
class ModelResult:
    name: str
    stages: dict[str, StageResult] = field(default_factory=dict)
    batch_ms: dict[int, Timing] = field(default_factory=dict)
    after_idle_ms: float | None = None


def build_model(name: str, device: str = "cpu") -> Any:
    """The model in eval mode, random weights (latency does not depend on them): the project's examples or
    timm's registry; an unknown name is an InputError."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from simulator.ml.checkpoints import build_model as random_model

    return random_model(name).eval().to(device)


class StageFns:
    """Zero-argument callables running one stage of ``model`` on fixed random inputs."""

    def __init__(self, model: Any, spec: ViTSpec, device: str = "cpu") -> None:
        import torch

        self.torch, self.model, self.spec, self.device = torch, model, spec, device
        self.generator = torch.Generator().manual_seed(0)

    def tokens(self, n: int, batch: int = 1) -> Any:
        x = self.torch.randn(batch, n, self.spec.embed_dim, generator=self.generator)
        return x.to(self.device)

    def embed(self, batch: int = 1) -> Step:
        m = self.model
        image = self.torch.randn(batch, 3, self.spec.image_size, self.spec.image_size,
                                 generator=self.generator).to(self.device)
        return lambda: m.norm_pre(m.patch_drop(m._pos_embed(m.patch_embed(image))))

    def block(self, n: int, batch: int = 1) -> Step:
        """One block (the first) on n tokens: for batch scaling, where only the ratio matters."""
        blk, x = self.model.blocks[0], self.tokens(n, batch)
        return lambda: blk(x)

    def block_stack(self, n: int) -> Step:
        """Every block in turn on n tokens; the caller divides by depth.

        Timing one block on its own keeps its weights in cache between calls, which a real forward
        never does (each block brings new weights): on DeiT-Ti at 100 tokens that under-predicts the
        pipelined block by ~25 %. Running the stack prices a block as a forward meets it.
        """
        blocks, x = self.model.blocks, self.tokens(n)
        return lambda: blocks(x)

    def head(self, n: int) -> Step:
        m, x = self.model, self.tokens(n)
        return lambda: m.forward_head(m.norm(x))

    def mercury_prune(self, n_patches: int) -> Step:
        from simulator.ml.profiler_kernels import mercury_prune, mercury_pruned_count

        prefix = self.spec.prefix_tokens
        x, k = self.tokens(n_patches + prefix), mercury_pruned_count(n_patches)
        return lambda: mercury_prune(x, prefix, k)

    def attention(self, n: int) -> Step:
        from simulator.ml.profiler_kernels import attention_heads

        blk, x = self.model.blocks[0], self.tokens(n)
        return lambda: attention_heads(blk, x)

    def tome_merge(self, n: int) -> Step:
        from simulator.ml.profiler_kernels import tome_merge

        spec, torch = self.spec, self.torch
        x = self.tokens(n)
        keys = torch.randn(1, spec.num_heads, n, spec.embed_dim // spec.num_heads,
                           generator=self.generator).to(self.device)
        size = torch.ones(1, n, 1, device=self.device)
        r = profiled_merge_count(n, spec.prefix_tokens)
        return lambda: tome_merge(x, keys, size, r, spec.prefix_tokens)

    def tome_block(self, n: int) -> Step:
        """Every block in turn on n tokens as OTAS/Janus run a merging block (simulator/ml/split.py), each
        merging ``profiled_merge_count(n)``; the caller divides by depth.

        The split model's own block path: timm's attention done explicitly with ToMe's size term
        (log(size) on the logits; sizes of 1, as after earlier merges of single tokens), the bipartite
        merge of the residual stream, the MLP on the merged tokens.
        """
        from simulator.ml.split import SplitViT

        spec = self.spec
        split = SplitViT(self.model, spec.depth, "tome", profiled_merge_count(n, spec.prefix_tokens), spec=spec)
        x, size = self.tokens(n), self.torch.ones(1, n, 1, device=self.device)
        return lambda: [split.block(i, x, size) for i in range(spec.depth)]


def measure_model(name: str, plan: ProfilePlan, on_step: Step | None = None) -> ModelResult:
    """Time every stage of one model on the host, interleaving the token counts of each stage."""
    spec = MODELS[name]
    fns = StageFns(build_model(name, plan.device), spec, plan.device)
    tokens = plan.tokens_for(spec)
    prefix = spec.prefix_tokens
    prune_at = [n - prefix for n in tokens if n - prefix >= 4]      # Mercury: patch tokens, one window
    merge_at = [n for n in tokens if n - prefix >= 2]                 # ToMe: at least one pair
    cases: dict[tuple[str, int], Step] = {("embed", spec.num_tokens): fns.embed()}
    cases.update({("block", n): fns.block_stack(n) for n in tokens})
    cases.update({("head", n): fns.head(n) for n in tokens})
    cases.update({("mercury_prune", n): fns.mercury_prune(n) for n in prune_at})
    cases.update({("tome_merge", n): fns.tome_merge(n) for n in merge_at})
    cases.update({("attention", n): fns.attention(n) for n in tokens})
    cases.update({("tome_block", n): fns.tome_block(n) for n in merge_at})
    timings = time_cases(cases, repeats=plan.repeats, warmup=plan.warmup, device=plan.device, on_step=on_step)
    # The batch cases in rounds of their own: within the stages' rounds, a batch-16 block right before the
    # next round's embedding made that first (single) call 2.6 ms against 0.4-0.6 ms after any other stage
    # (DeiT-Ti, this host), an artefact in every single-call statistic (the mean, the quantiles).
    batches = {("batch", b): fns.block(tokens[-1], b) for b in plan.batches}
    timings.update(time_cases(batches, repeats=plan.repeats, warmup=plan.warmup, device=plan.device,
                              on_step=on_step))
    result = ModelResult(name)
    if plan.after_idle_s is not None:
        result.after_idle_ms = measure_after_idle(fns, plan.after_idle_s, plan.after_idle_pairs, plan.statistic)
    for (stage, n), timing in timings.items():
        if stage == "batch":
            result.batch_ms[n] = timing
            continue
        found = result.stages.setdefault(stage, StageResult([], [], plan.statistic))
        found.tokens.append(n)
        found.timings.append(timing.per(spec.depth) if stage in ("block", "tome_block") else timing)
    return result


def measure_after_idle(fns: StageFns, idle_s: float, pairs: int = 12, statistic: str = "median") -> float:
    """How much longer a whole forward takes after ``idle_s`` of sleep than right after another forward.

    Thread CPU time, not wall time, so a neighbour that takes the core while we sleep or compute does not
    count: what is left is the core's own cold start (caches, TLBs, predictors), over ``pairs`` interleaved
    pairs, floored at 0: the difference of the medians, or with ``statistic="mean"`` of the means (on a
    quiet host the cold forwards are bimodal, some at the warm time and some 5-10 ms above it, so the
    median of a dozen pairs can land on either mode while the mean is what a mean latency pays).
    """
    import time

    torch, model = fns.torch, fns.model
    image = torch.randn(1, 3, fns.spec.image_size, fns.spec.image_size, generator=fns.generator)
    warm, cold = [], []
    with torch.inference_mode():
        for _ in range(3):
            model(image)
        for _ in range(pairs):
            for after_sleep, into in ((False, warm), (True, cold)):
                if after_sleep:
                    time.sleep(idle_s)
                else:
                    model(image)
                start = time.thread_time()
                model(image)
                into.append((time.thread_time() - start) * 1e3)
    center = np.mean if statistic == "mean" else np.median
    return max(0.0, float(center(cold) - center(warm)))


# -- fits and the profile document --------------------------------------------------------------------
def fit_quadratic(tokens: Sequence[float], ms: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares ``a + b*N + c*N^2``; fewer points fit fewer terms (a constant, then a line)."""
    n = np.asarray(tokens, float)
    y = np.asarray(ms, float)
    terms = min(3, len(n))
    design = np.vander(n, terms, increasing=True)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    a, b, c = (list(coef) + [0.0, 0.0])[:3]
    return float(a), float(b), float(c)


def _num(value: float) -> float:
    return float(f"{value:.6g}")


def stage_entry(stage: StageResult) -> tuple[dict[str, Any], float]:
    """The YAML of one stage curve and the fit's largest relative residual on its points."""
    a, b, c = fit_quadratic(stage.tokens, stage.ms)
    fitted = [a + b * n + c * n * n for n in stage.tokens]
    worst = max(abs(f - m) / m for f, m in zip(fitted, stage.ms, strict=True) if m > 0)
    entry = {
        "points": {"tokens": [int(n) for n in stage.tokens], "ms": [_num(m) for m in stage.ms],
                   "spread_ms": [_num(t.iqr_ms) for t in stage.timings],
                   "quantiles_ms": [[_num(q) for q in t.quantiles_ms(QUANTILE_LEVELS)] for t in stage.timings]},
        "fit": {"a_ms": _num(a), "b_ms": _num(b), "c_ms": _num(c)},
    }
    return entry, worst


def host_facts(plan: ProfilePlan) -> dict[str, Any]:
    """What the numbers depend on: CPU (or GPU), threads, library versions, date, command line."""
    import timm
    import torch

    facts: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": str(torch.__version__),
        "timm": str(timm.__version__),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": plan.device,
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": " ".join(["mercury-sim", *sys.argv[1:]]),
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the host when measuring ended
    }
    if plan.device.startswith("cuda"):
        facts["gpu"] = torch.cuda.get_device_name(torch.device(plan.device))
    return facts


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


STATISTIC_METHOD = {
    "median": "medians of interleaved repetitions, each the faster of two calls",
    "mean": "means of interleaved single calls (each repetition's first call)",
}


def profile_document(name: str, results: list[ModelResult], plan: ProfilePlan,
                     host: dict[str, Any]) -> dict[str, Any]:
    """The profile YAML as a mapping (schema: simulator.inputs.profiles.ProfileFile)."""
    models: dict[str, Any] = {}
    residuals: dict[str, dict[str, float]] = {}
    for result in results:
        models[result.name] = {}
        residuals[result.name] = {}
        for stage, measured in result.stages.items():
            entry, worst = stage_entry(measured)
            models[result.name][stage] = entry
            residuals[result.name][stage] = round(100 * worst, 2)
    # Batch factors: of the first model listed (a profile carries one batch curve for the device).
    first = results[0].batch_ms
    sizes = sorted(first)
    factors = [1.0] + [round(first[b].median_ms / first[1].median_ms, 4) for b in sizes[1:]]
    unit = host.get("gpu") or f"{host['cpu']}, {host['threads']} thread(s)"
    document: dict[str, Any] = {
        "format": "mercury-sim-profile/1",
        "name": name,
        "device": f"{unit} ({host['cores']} cores), torch {host['torch']}",
        "provenance": {
            "kind": "measured",
            "method": "mercury-sim profile: " + STATISTIC_METHOD[plan.statistic] + " (spread_ms = IQR), "
                      "least-squares fit a + b*N + c*N^2 on the points",
            "statistic": plan.statistic,
            "repeats": plan.repeats,
            "warmup": plan.warmup,
            "fit_max_residual_pct": residuals,
            "distribution": f"quantiles_ms: each point's {plan.repeats} single calls (every round's first) at "
                            "quantile_levels (numpy linear quantiles); what compute.variability: profile samples",
            "batch": f"one {results[0].name} block at {results[0].stages['block'].tokens[-1]} tokens per "
                     "batch size",
            "stages": "embed = patch_embed + pos_embed; block = all blocks in turn on N tokens / depth; "
                      "head = final norm + forward_head on N tokens; mercury_prune = cosine-similarity "
                      "scoring, anchors and top-K over N patch tokens pruning half; tome_merge = "
                      "bipartite matching on head-averaged keys + size-weighted scatter merge of a quarter "
                      "of the tokens; attention = block 1's norm1, qkv and softmax(QK^T)V on N tokens "
                      "(Mercury's scoring pass when pruning before block 1); tome_block = all blocks in turn "
                      "on N tokens / depth as the split model runs a ToMe block (explicit attention with "
                      "the log-size term, bipartite merge of (N - prefix) // 4 tokens, MLP on the rest)",
        },
        "host": host,
        "models": models,
        "batch": {"sizes": sizes, "factor": factors},
        "quantile_levels": list(QUANTILE_LEVELS),
        "notes": "power not measured (no power_w): energy on this profile is unknown (NaN), not 0 J",
    }
    measured = {r.name: round(r.after_idle_ms, 3) for r in results if r.after_idle_ms is not None}
    if measured:
        document["after_idle_ms"] = measured
        document["provenance"]["after_idle"] = (
            f"{plan.statistic} thread CPU time of a whole forward after {plan.after_idle_s:g} s of sleep minus right "
            f"after another forward, {plan.after_idle_pairs} interleaved pairs (simulator/ml/profiler.py "
            "measure_after_idle)")
    return document


class _ProfileDumper(yaml.SafeDumper):
    """Lists of numbers on one line (a point's tokens, ms and quantiles), everything else in block style: a
    point's 21 quantiles would take 21 lines each."""


def _numbers_inline(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    inline = bool(data) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=inline or None)


_ProfileDumper.add_representer(list, _numbers_inline)


def write_profile(path: Path, document: dict[str, Any]) -> None:
    atomic_write_text(path, yaml.dump(document, Dumper=_ProfileDumper, sort_keys=False, width=110))


def set_threads(threads: int | None) -> None:
    import torch

    if threads is not None:
        torch.set_num_threads(threads)


def run_plan(plan: ProfilePlan, name: str, quiet: bool) -> dict[str, Any]:
    """Measure every model of ``plan`` with a rich progress bar (the ``profile`` command's, also the testbed's
    host profile); return the profile document."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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
