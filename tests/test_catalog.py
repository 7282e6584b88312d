"""The README's table of shipped models is the data's own: a model, profile or accuracy row added or removed
shows up there."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from simulator.inputs import catalog
from simulator.inputs.catalog import ModelCoverage, coverage_markdown, model_coverage


def test_readme_lists_exactly_the_shipped_combinations() -> None:
    assert coverage_markdown() in (REPO / "README.md").read_text()


def test_coverage_of_the_shipped_deit_b() -> None:
    entries = {e.model: e for e in model_coverage()}
    deit_b = entries["deit_base_distilled_patch16_224"]
    assert {"raspberry-pi-4b", "rtx-4090"} <= set(deit_b.profiles)
    assert deit_b.accuracy["cifar100"][0] == "none" and "mercury" in deit_b.accuracy["imagenet"]
    assert entries["deit_small_distilled_patch16_224"].accuracy == {}


def test_a_table_of_another_model_adds_a_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "accuracy").mkdir()
    (tmp_path / "accuracy" / "t.csv").write_text(
        "model,dataset,method,split_after,parameter,reconstruction,top1,source\n"
        "vit_small_patch16_224,imagenet,none,,0,none,81.4,published: test\n"
        "vit_small_patch16_224,imagenet,tome,,8,none,80.0,published: test\n")
    monkeypatch.setattr(catalog, "shipped_dir", lambda kind: tmp_path / kind)
    monkeypatch.setattr(catalog, "shipped_names", lambda kind: [])
    assert model_coverage() == [ModelCoverage("vit_small_patch16_224", [], {"imagenet": ["none", "tome"]})]
    assert "| `vit_small_patch16_224` | none | imagenet: none, tome |" in coverage_markdown()
