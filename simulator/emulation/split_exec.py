"""What each side computes for a Plan, with the real timm model and the real token reduction.

A Plan says where the split is and the reduction parameter; the schedule's kind says which reduction
(``METHOD_OF_KIND``), or, for a schedule that picks among methods per request (the oracle, a learned policy),
its ``method_of(plan)``. The mobile side returns the upload as bytes at the scenario's precision: the
tokens (``n * d`` values, what the simulator prices), ToMe's size vector for merged tokens (also priced),
and for Mercury's ``duplicate`` reconstruction the K copy sources as int32 (not priced: 4K bytes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from simulator.config.scenario import Mercury
from simulator.plans.plan import Plan

METHOD_OF_KIND = {"mobile-only": "none", "cloud-only": "none", "otas": "tome", "janus": "janus",
                  "mercury": "mercury", "mercury-adaptive": "mercury"}
# Mercury's settings where a schedule's entry has none (its candidates are built with the kind's defaults).
MERCURY_DEFAULTS = {key: Mercury.model_fields[key].default for key in ("window", "prune_point", "reconstruction")}


def unsupported(config: Any, schedule: Any) -> str | None:
    """Why the testbed cannot run this schedule (None: it can): its kind names no reduction the testbed
    runs, and it does not say per plan which one it picked (``method_of``)."""
    if config.kind in METHOD_OF_KIND or hasattr(schedule, "method_of"):
        return None
    return (f"the testbed cannot run schedule kind {config.kind!r}; it runs {', '.join(METHOD_OF_KIND)}, "
            "the oracle and policies")


def method_for(config: Any, schedule: Any, plan: Plan) -> str:
    """The reduction the testbed runs for ``plan``: the kind's, or the plan's for a schedule that picks among
    methods per request (``method_of``); ValueError for a schedule the testbed cannot run."""
    reason = unsupported(config, schedule)
    if reason is not None:
        raise ValueError(reason)
    if config.kind in METHOD_OF_KIND:
        return METHOD_OF_KIND[config.kind]
    return METHOD_OF_KIND[schedule.method_of(plan)]
DTYPE_OF_PRECISION = {"fp32": "float32", "fp16": "float16"}
REFERENCE_REPEATS = 5  # forwards per reference timing (about 0.15 s of DeiT-Ti on this host)


def job_of(config: Any, schedule: Any, plan: Plan, depth: int) -> dict[str, Any]:
    """The JSON-able description of one request's work: ``where`` is mobile | cloud | split (``reference``, the
    cloud's timing of the whole forward, is the testbed's own job)."""
    method = method_for(config, schedule, plan)
    if not plan.offloads:
        return {"where": "mobile", "method": method, "split_after": depth, "parameter": _param(plan)}
    if plan.split_after == 0:
        return {"where": "cloud", "image_bytes": int(plan.uplink_bytes)}
    job = {"where": "split", "method": method, "split_after": plan.split_after, "parameter": _param(plan)}
    if method == "mercury":
        job.update({key: getattr(config, key, default) for key, default in MERCURY_DEFAULTS.items()})
    return job


def _param(plan: Plan) -> float:
    return 0.0 if plan.parameter != plan.parameter else float(plan.parameter)  # NaN (no reduction) -> 0


def build_model(name: str) -> Any:
    """The scenario's timm model, random weights, eval mode, on the CPU."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import timm

    return timm.create_model(name, pretrained=False).eval()


@dataclass
class Upload:
    header: dict[str, Any]
    payload: bytes


class SplitExecutor:
    """One side's model and the SplitViT views of it, one per (method, split, parameter, ...)."""

    def __init__(self, model_name: str, precision: str) -> None:
        import torch

        from simulator.inputs.vit import MODELS

        self.torch = torch
        self.spec = MODELS[model_name]
        self.model = build_model(model_name)
        self.dtype = getattr(torch, DTYPE_OF_PRECISION[precision])
        size = self.spec.image_size
        self.image = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
        self._splits: dict[tuple, Any] = {}
        self._restores: dict[tuple, Any] = {}

    def split(self, job: dict[str, Any]) -> Any:
        from simulator.ml.split import SplitViT

        key = (job["method"], job["split_after"], job["parameter"], job.get("window", 2),
               job.get("prune_point", "after_block1"))
        if key not in self._splits:
            self._splits[key] = SplitViT(self.model, key[1], key[0], key[2], window=key[3], spec=self.spec,
                                         prune_point=key[4])
        return self._splits[key]

    # -- mobile side ----------------------------------------------------------------------------------
    def mobile(self, job: dict[str, Any]) -> Upload | None:
        """Run the mobile part; the upload for the cloud, or None when everything ran here."""
        with self.torch.inference_mode():
            split = self.split(job)
            payload = split.mobile(self.image)
            if job["where"] == "mobile":
                self.model.forward_head(self.model.norm(payload.tokens))
                return None
        parts = [payload.tokens.to(self.dtype).contiguous().numpy().tobytes()]
        header = {"tokens": payload.num_tokens, "size": payload.size is not None,
                  "source": payload.source is not None and job.get("reconstruction") == "duplicate"}
        if header["size"]:
            parts.append(payload.size.to(self.dtype).contiguous().numpy().tobytes())
        if header["source"]:
            parts.append(payload.source.to(self.torch.int32).contiguous().numpy().tobytes())
        return Upload(header, b"".join(parts))

    # -- cloud side -----------------------------------------------------------------------------------
    def cloud(self, job: dict[str, Any], header: dict[str, Any], payload: bytes) -> bytes:
        """Finish the forward from the uploaded bytes; the logits as float32 bytes."""
        torch = self.torch
        with torch.inference_mode():
            if job["where"] == "cloud":
                return self.model(self.image).float().numpy().tobytes()
            from simulator.ml.split import Payload

            split = self.split(job)
            n, d = header["tokens"], self.spec.embed_dim
            item = torch.empty((), dtype=self.dtype).element_size()
            tokens = torch.frombuffer(bytearray(payload[: n * d * item]), dtype=self.dtype).view(1, n, d).float()
            offset, size, source = n * d * item, None, None
            if header["size"]:
                size = torch.frombuffer(bytearray(payload[offset: offset + n * item]), dtype=self.dtype)
                size = size.view(1, n, 1).float()
                offset += n * item
            if header["source"]:
                source = torch.frombuffer(bytearray(payload[offset:]), dtype=torch.int32).view(1, -1).long()
            restore = self._restore(job, split)
            return split.cloud(Payload(tokens, size, source), restore).float().numpy().tobytes()

    # -- both sides ----------------------------------------------------------------------------------
    def reference_ms(self, repeats: int = REFERENCE_REPEATS) -> float:
        """Mean thread CPU time of the whole unreduced forward (timm's own, fused attention), after one call
        not counted: this core's speed right now, to set beside the profile's price of the same forward."""
        import time

        with self.torch.inference_mode():
            self.model(self.image)
            start = time.thread_time()
            for _ in range(repeats):
                self.model(self.image)
            return (time.thread_time() - start) / repeats * 1e3

    def _restore(self, job: dict[str, Any], split: Any) -> Any:
        mode = job.get("reconstruction", "none")
        if mode == "none" or not split.pruned:
            return None
        key = (mode, split.pruned)
        if key not in self._restores:
            from simulator.ml.reconstruction import Restore

            self._restores[key] = Restore(mode, split.pruned, self.spec.embed_dim, split.prefix).eval()
        return self._restores[key]
