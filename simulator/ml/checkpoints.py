"""Safe checkpoint loading and saving: safetensors, or ``torch.load(weights_only=True)``.

Every failure (unreadable file, not a checkpoint, wrong architecture) becomes a one-line InputError.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch
from torch import Tensor, nn

from simulator.errors import InputError
from simulator.files.atomic import atomic_write_bytes
from simulator.files.output_guard import guard_file, names_mercury_sim

LOCAL_MODELS: dict[str, dict[str, object]] = {
    # The project's example model (simulator.ml.example): a DeiT-style distilled ViT for 32 x 32 images.
    "example_vit_tiny_shapes": dict(
        img_size=32, patch_size=4, embed_dim=64, depth=6, num_heads=2, num_classes=10
    ),
}


def read_tensors(path: Path) -> dict[str, Tensor]:
    """A flat name -> tensor dict from a .safetensors file or a weights-only torch pickle."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "checkpoint not found")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # safetensors, pickle and zip errors have no common base
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise InputError(path, f"not a readable checkpoint ({reason})") from None
    for key in ("model", "state_dict", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise InputError(path, "checkpoint holds no name -> tensor mapping")
    return state


def write_tensors(tensors: dict[str, Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """Save with safetensors (plain torch.save of the dict when safetensors is missing), atomically.

    The file is built in memory and renamed into place, so an interrupted write leaves the earlier file
    whole; a file mercury-sim did not write is refused (InputError). The safetensors header names
    mercury-sim (``generator``), which is how a later run recognises the file as its own; a torch pickle
    carries no such mark and is never replaced.
    """
    path = Path(path)
    guard_file(path, ours=names_mercury_sim)
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    try:
        from safetensors.torch import save
    except ImportError:
        buffer = io.BytesIO()
        torch.save({**tensors}, buffer)
        atomic_write_bytes(path, buffer.getvalue())
        return
    atomic_write_bytes(path, save(tensors, metadata={"generator": "mercury-sim", **(metadata or {})}))


def build_model(name: str, num_classes: int | None = None) -> nn.Module:
    """A randomly initialised model by name (no downloads): the project's examples, then timm's registry."""
    import timm

    kwargs = {} if num_classes is None else {"num_classes": num_classes}
    if name in LOCAL_MODELS:
        from timm.models.deit import VisionTransformerDistilled

        return VisionTransformerDistilled(**{**LOCAL_MODELS[name], **kwargs})
    try:
        return timm.create_model(name, pretrained=False, **kwargs)
    except RuntimeError as exc:
        raise InputError(None, f"unknown model {name!r} ({str(exc).splitlines()[0]})") from None


def load_model(name: str, checkpoint: Path) -> nn.Module:
    """Build ``name`` with the checkpoint's class count and load its weights strictly, in eval mode."""
    state = read_tensors(checkpoint)
    head = state.get("head.weight")
    model = build_model(name, int(head.shape[0]) if head is not None and head.ndim == 2 else None)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or shapes:
        detail = "; ".join(
            part
            for part in (
                f"{len(missing)} missing (e.g. {missing[0]})" if missing else "",
                f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
                f"{len(shapes)} shape mismatches (e.g. {shapes[0]}: {tuple(state[shapes[0]].shape)} vs "
                f"{tuple(own[shapes[0]].shape)})"
                if shapes
                else "",
            )
            if part
        )
        raise InputError(checkpoint, f"weights do not fit {name}: {detail}")
    model.load_state_dict(state, strict=True)
    return model.eval()
