"""The site's table of shipped models (docs/reference/data.md) is the data's own, generated when the site is
built: a model, profile or accuracy row added or removed shows up there (tests/test_docs_site.py reads the built
page)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO

from simulator.inputs import catalog
from simulator.inputs.catalog import ModelCoverage, coverage_markdown, model_coverage


def test_the_data_page_generates_the_shipped_combinations() -> None:
    page = (REPO / "docs" / "reference" / "data.md").read_text(encoding="utf-8")
    assert page.count("<!-- generated: coverage -->") == 1  # the hook puts coverage_markdown() there
    assert "| model (timm name) |" not in page  # never a hand-copied table beside it


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


def shipped_catalog(capsys: pytest.CaptureFixture[str]) -> dict:
    from simulator.cli.app import main

    assert main(["catalog", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def csv_rows(path: Path) -> list[dict[str, str]]:
    """An accuracy table's rows read with the csv module, its comment block skipped."""
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def test_the_catalog_lists_every_shipped_file(capsys: pytest.CaptureFixture[str]) -> None:
    found = shipped_catalog(capsys)

    def stems(folder: str, pattern: str) -> list[str]:
        return sorted(p.stem for p in (REPO / folder).glob(pattern))

    assert [e["name"] for e in found["profiles"]] == stems("profiles", "*.yaml")
    assert [e["name"] for e in found["radio_models"]] == stems("profiles/radio", "*.yaml")
    assert [e["name"] for e in found["traces"]] == stems("traces/synthetic", "*.csv")
    assert [e["name"] for e in found["scenarios"]] == stems("scenarios", "*.yaml")
    assert [e["name"] for e in found["claims"]] == stems("claims", "*.yaml")
    pi = next(e for e in found["profiles"] if e["name"] == "raspberry-pi-4b")
    assert pi["provenance"] == "fitted" and pi["models"] == [  # DeiT-B fitted, the others derived from it
        "deit_base_distilled_patch16_224", "deit_small_distilled_patch16_224", "deit_small_patch16_224",
        "deit_tiny_distilled_patch16_224", "deit_tiny_patch16_224"]
    assert {e["name"]: e["provenance"] for e in found["traces"]}["lte-all"] == "synthetic"
    assert {e["name"]: e["provenance"] for e in found["radio_models"]}["lte-huang2012"] == "published"
    # every row of every table, each in one group, the groups' counts adding up to the file's rows
    for table in sorted((REPO / "accuracy").glob("*.csv")):
        groups = [e for e in found["accuracy"] if e["table"] == table.name]
        assert sum(e["rows"] for e in groups) == len(csv_rows(table)), table.name
    assert {e["table"] for e in found["accuracy"]} == {p.name for p in (REPO / "accuracy").glob("*.csv")}
    rows = [r for r in csv_rows(REPO / "accuracy" / "deit-b-imagenet.csv")
            if r["method"] == "mercury" and r["split_after"] == "1" and r["reconstruction"] == "learned"]
    entry = next(e for e in found["accuracy"] if e["table"] == "deit-b-imagenet.csv" and e["method"] == "mercury"
                 and e["split_after"] == 1 and e["reconstruction"] == "learned")
    assert entry["rows"] == len(rows)
    assert entry["parameter_min"] == min(float(r["parameter"]) for r in rows)
    assert entry["parameter_max"] == max(float(r["parameter"]) for r in rows)
    assert entry["provenance"] == sorted({r["source"].split(":")[0] for r in rows})
    assert entry["prune_point"] == "after_block1" and entry["dataset"] == "imagenet"


def test_a_table_added_appears_in_the_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "accuracy"
    shutil.copytree(REPO / "accuracy", folder)
    (folder / "vit-s.csv").write_text(
        "# table: added by the test\n"
        "# gaps: no ats rows; the published ones\n"
        "#   prune at another layer\n"
        "#no space: not a key\n"
        "model,dataset,method,split_after,parameter,reconstruction,top1,source,prune_point\n"
        "vit_small_patch16_224,imagenet,mercury,2,0,none,81.4,measured: test,before_block1\n"
        "vit_small_patch16_224,imagenet,mercury,2,0.25,none,80.9,published: test,before_block1\n"
        "vit_small_patch16_224,imagenet,mercury,2,0.5,none,79.0,measured: test,before_block1\n"
        "vit_small_patch16_224,imagenet,tome,,8,none,80.0,fitted: test,\n")
    shipped = catalog.shipped_dir
    monkeypatch.setattr(catalog, "shipped_dir", lambda kind: folder if kind == "accuracy" else shipped(kind))
    added = [e for e in shipped_catalog(capsys)["accuracy"] if e["table"] == "vit-s.csv"]
    assert added == [
        {"table": "vit-s.csv", "model": "vit_small_patch16_224", "dataset": "imagenet", "method": "tome",
         "split_after": None, "reconstruction": "none", "prune_point": "after_block1", "parameter_min": 8.0,
         "parameter_max": 8.0, "rows": 1, "provenance": ["fitted"]},
        {"table": "vit-s.csv", "model": "vit_small_patch16_224", "dataset": "imagenet", "method": "mercury",
         "split_after": 2, "reconstruction": "none", "prune_point": "before_block1", "parameter_min": 0.0,
         "parameter_max": 0.5, "rows": 3, "provenance": ["measured", "published"]}]
    # its header comments: a key per '# key:' line, indented lines continue it, the header ends at the columns
    [notes] = [e["notes"] for e in shipped_catalog(capsys)["accuracy_tables"] if e["name"] == "vit-s.csv"]
    assert notes == {"table": "added by the test",
                     "gaps": "no ats rows; the published ones prune at another layer no space: not a key"}
    from simulator.cli.app import main

    assert main(["catalog"]) == 0
    assert "vit-s.csv, not in it: no ats rows; the published ones prune at another layer" in capsys.readouterr().out


def test_the_catalog_table_names_the_groups(capsys: pytest.CaptureFixture[str]) -> None:
    from simulator.cli.app import main

    assert main(["catalog"]) == 0
    out = capsys.readouterr().out
    assert "example_vit_tiny_shapes" in out and "lte-huang2012" in out and "mercury-sim profile" in out


@pytest.mark.parametrize(("mobile", "schedule", "expected"), [
    ("raspberry-pi-4b-fig6", {"kind": "mobile-only"},
     ["raspberry-pi-4b-fig6.yaml: models: no latency curves for model 'deit_small_distilled_patch16_224'",
      "'mercury-sim profile --model deit_small_distilled_patch16_224 --out FILE.yaml'"]),
    ("x86-2c-1t", {"kind": "mercury", "split_after": 3},
     ["schedules[0]: no accuracy rows for deit_small_distilled_patch16_224/cifar100/mercury/learned; the tables "
      "hold nothing for deit_small_distilled_patch16_224/cifar100",
      "'mercury-sim accuracy --model deit_small_distilled_patch16_224 --checkpoint CKPT --data DIR --dataset-name "
      "cifar100 --method mercury --split-after 3 --grid VALUES --reconstruction learned --tokens FILE -o FILE.csv'"]),
])
def test_missing_data_names_the_command_that_measures_it(tmp_path: Path, mobile: str, schedule: dict,
                                                         expected: list[str],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import write_scenario

    from simulator.cli.app import main

    path = write_scenario(tmp_path / "small.yaml", model="deit_small_distilled_patch16_224", mobile_profile=mobile,
                          cloud_profile="x86-2c-2t", network={"trace": "lte-all"}, target_accuracy=85.0,
                          schedules=[schedule])
    with pytest.raises(SystemExit) as exc:
        main(["run", str(path), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert all(part in err for part in expected), err


def test_a_derived_model_is_listed_as_derived() -> None:
    """The Pi profile is fitted to the paper for DeiT-B; its DeiT-S/Ti curves are derived, and say so."""
    from simulator.inputs.catalog import profile_entries

    pi = next(e for e in profile_entries() if e["name"] == "raspberry-pi-4b")
    assert pi["provenance"] == "fitted"
    assert pi["model_provenance"]["deit_base_distilled_patch16_224"] == "fitted"
    assert pi["model_provenance"]["deit_small_distilled_patch16_224"] == "derived"
