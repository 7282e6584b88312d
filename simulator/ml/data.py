"""Local evaluation data without torchvision: ImageFolder trees and the CIFAR-100 'python' pickles.

Images are resized to the model's input size (bicubic) and normalised with the model's mean/std.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from simulator.errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".webp", ".tif", ".tiff"}


class Preprocess:
    """uint8 HWC / CHW arrays -> normalised float CHW tensors at ``size``."""

    def __init__(self, size: int, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        self.size = size
        self.mean = torch.tensor(mean).reshape(3, 1, 1)
        self.std = torch.tensor(std).reshape(3, 1, 1)

    def __call__(self, chw_uint8: Tensor) -> Tensor:
        x = chw_uint8.float() / 255.0
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = (
                F.interpolate(
                    x.unsqueeze(0), size=(self.size, self.size), mode="bicubic", align_corners=False
                )
                .squeeze(0)
                .clamp(0, 1)
            )
        return (x - self.mean) / self.std


class ImageFolderData(Dataset):
    """``root/<class>/<image>``; classes in sorted order, as torchvision's ImageFolder numbers them."""

    def __init__(self, root: Path, transform: Preprocess) -> None:
        classes = sorted(d.name for d in root.iterdir() if d.is_dir())
        self.samples = [
            (p, i)
            for i, c in enumerate(classes)
            for p in sorted((root / c).iterdir())
            if p.suffix.lower() in IMAGE_SUFFIXES
        ]
        if not self.samples:
            raise InputError(root, "no images found (expected ImageFolder layout root/<class>/<image>)")
        self.classes, self.transform = classes, transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        from PIL import Image

        path, label = self.samples[i]
        try:
            with Image.open(path) as img:
                array = np.asarray(img.convert("RGB"))
        except OSError as exc:
            raise InputError(path, f"cannot read image ({exc})") from None
        return self.transform(torch.from_numpy(array.copy()).permute(2, 0, 1)), label


# The only globals a CIFAR 'python' pickle names: numpy's array and dtype rebuilders (numpy 1 and 2 spell
# the module differently) and, in a file re-pickled by Python 3 at protocol 2, the bytes rebuilder
# ``_codecs.encode`` (text in, bytes out). Containers, numbers and Python 2 strings need no global.
CIFAR_GLOBALS = frozenset({
    ("_codecs", "encode"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
})


class CifarUnpickler(pickle.Unpickler):
    """Unpickles only what the CIFAR format holds, so a crafted file cannot run code (plain
    ``pickle.load`` calls whatever callable the file names)."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in CIFAR_GLOBALS:
            raise pickle.UnpicklingError(f"refused {module}.{name}: a CIFAR pickle holds only containers, "
                                         "bytes and numpy arrays")
        return super().find_class(module, name)


def read_cifar_batch(file: Path) -> tuple[np.ndarray, list[int]]:
    """Images (N x 3 x 32 x 32 uint8) and fine labels of one CIFAR-100 'python' file, via CifarUnpickler."""
    try:
        with open(file, "rb") as fh:
            batch = CifarUnpickler(fh, encoding="bytes").load()
        if not isinstance(batch, dict):
            raise ValueError(f"expected a dict, got {type(batch).__name__}")
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = [int(v) for v in batch.get(b"fine_labels", batch.get(b"labels"))]
        if len(labels) != len(data):
            raise ValueError(f"{len(data)} images but {len(labels)} labels")
    except (OSError, KeyError, TypeError, ValueError, pickle.UnpicklingError, EOFError) as exc:
        raise InputError(file, f"not a CIFAR python pickle ({exc})") from None
    return data, labels


class CifarData(Dataset):
    """CIFAR-100 'python' version: ``train`` / ``test`` pickles with b'data' (N x 3072) and b'fine_labels'."""

    def __init__(self, file: Path, transform: Preprocess) -> None:
        data, labels = read_cifar_batch(file)
        self.images, self.labels, self.transform = torch.from_numpy(data), labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        return self.transform(self.images[i]), int(self.labels[i])


def open_dataset(root: Path, split: str, transform: Preprocess) -> Dataset:
    """CIFAR pickles if ``root/<split>`` is a file, else ``root/<split>/`` or ``root`` as an ImageFolder."""
    root = Path(root)
    if not root.exists():
        raise InputError(root, "data folder not found")
    if (root / split).is_file():
        return CifarData(root / split, transform)
    if (root / "cifar-100-python" / split).is_file():
        return CifarData(root / "cifar-100-python" / split, transform)
    folder = root / split if (root / split).is_dir() else root
    return ImageFolderData(folder, transform)


def preprocess_for(model: torch.nn.Module) -> Preprocess:
    """Input size from the patch embedding, mean/std from the model's pretrained config."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    mean = tuple(cfg.get("mean", (0.485, 0.456, 0.406)))
    std = tuple(cfg.get("std", (0.229, 0.224, 0.225)))
    return Preprocess(int(model.patch_embed.img_size[0]), mean, std)
