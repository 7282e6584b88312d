"""The profiler builds the same models as the accuracy harness: the project's examples as well as timm's."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("torch")

from simulator.errors import InputError  # noqa: E402
from simulator.ml.profiler import build_model  # noqa: E402


def test_the_example_model_is_profiled_not_refused() -> None:
    model = build_model("example_vit_tiny_shapes")
    assert model.patch_embed.num_patches == 64 and not model.training


def test_an_unknown_model_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown model 'nosuch'"):
        build_model("nosuch")
