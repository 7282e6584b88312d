"""Trace formats and radio models of one's own, by the schedules' plugin mechanism: a file named by ``--plugin``
(``traces import``) or by a scenario's ``plugins:``, or an installed package's entry point (groups
``mercury_sim.trace_formats`` and ``mercury_sim.radio_models``)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, write_scenario

from simulator.cli.app import main

# A log of 'epoch_ms;kbit/s' lines: the reader converts to seconds and Mbit/s; the importer shifts to 0.
FORMAT_PLUGIN = '''
from simulator.traces.importers import register_trace_format

def read(path):
    for line in path.read_text().splitlines():
        stamp, kbps = line.split(";")
        yield int(stamp) / 1000, float(kbps) / 1000

register_trace_format("semicolon-kbps", read)
'''
RADIO = yaml.safe_load((REPO / "profiles" / "radio" / "lte-huang2012.yaml").read_text())
RADIO_PLUGIN = f'''
from simulator.inputs.radio import register_radio_model

register_radio_model("my-modem", {dict(RADIO, name="my-modem")!r})
'''


@pytest.fixture(autouse=True)
def registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a test registers is forgotten after it (the registries are the process's)."""
    from simulator.inputs import radio
    from simulator.schedules import plugins
    from simulator.traces import importers

    monkeypatch.setattr(importers, "_READERS", {})
    monkeypatch.setattr(radio, "_REGISTERED", {})
    monkeypatch.setattr(plugins, "_FILES", {})
    monkeypatch.setattr(plugins, "_ENTRY_POINTS_LOADED", [])


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return int(code or 0), captured.out, captured.err


def trace_rows(path: Path) -> list[tuple[float, float]]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    frame = pd.read_csv(pd.io.common.StringIO("\n".join(lines)))
    return list(zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True))


def test_a_trace_format_plugin_imports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = tmp_path / "semicolon.py"
    plugin.write_text(FORMAT_PLUGIN)
    (tmp_path / "log.txt").write_text("1700000000500;12000\n1700000001500;8500\n1700000002000;0\n")
    dest = tmp_path / "out.csv"
    code, _, err = run_cli(["traces", "import", "semicolon-kbps", str(tmp_path / "log.txt"), str(dest),
                            "--plugin", str(plugin)], capsys)
    assert code == 0, err
    assert trace_rows(dest) == [(0.0, 12.0), (1.0, 8.5), (1.5, 0.0)]  # from 0 s, kbit/s / 1000
    assert f"reader: {plugin.resolve()}" in dest.read_text()  # the provenance names the reader's file


def test_a_failing_reader_is_one_line_naming_the_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = tmp_path / "semicolon.py"
    plugin.write_text(FORMAT_PLUGIN)
    (tmp_path / "log.txt").write_text("1700000000500;12000\nnot a row\n")
    code, _, err = run_cli(["traces", "import", "semicolon-kbps", str(tmp_path / "log.txt"),
                            str(tmp_path / "out.csv"), "--plugin", str(plugin)], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "log.txt" in err and "the semicolon-kbps reader failed: ValueError" in err
    assert not (tmp_path / "out.csv").exists()  # nothing half-written


def test_a_built_in_name_cannot_be_taken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = tmp_path / "taken.py"
    plugin.write_text(FORMAT_PLUGIN.replace('"semicolon-kbps"', '"mahimahi"'))
    (tmp_path / "log.txt").write_text("0;1\n")
    code, _, err = run_cli(["traces", "import", "mahimahi", str(tmp_path / "log.txt"), str(tmp_path / "o.csv"),
                            "--plugin", str(plugin)], capsys)
    assert code == 2 and err.count("\n") == 1 and "trace format 'mahimahi' is built in" in err


def energy_run(lab: Path, capsys: pytest.CaptureFixture[str], radio: str, **keys: object) -> tuple[Path, str]:
    path = write_scenario(lab / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                          energy={"radio": radio}, schedules=[{"kind": "cloud-only"}], **keys)
    out = lab / f"out-{radio.replace('/', '-')}"
    code, _, err = run_cli(["run", str(path), "-o", str(out), "-q", "--no-report"], capsys)
    assert code == 0, err
    return out, err


def test_a_radio_model_plugin_prices_like_the_same_model_from_a_file(lab: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (lab / "modem.py").write_text(RADIO_PLUGIN)
    (lab / "modem.yaml").write_text(yaml.safe_dump(dict(RADIO, name="my-modem")))
    by_plugin, _ = energy_run(lab, capsys, "my-modem", plugins=["modem.py"])
    by_file, _ = energy_run(lab, capsys, "modem.yaml")
    columns = ["energy_radio_j", "energy_tail_j", "energy_j"]
    plugin_energy = pd.read_parquet(by_plugin / "records.parquet")[columns]
    assert plugin_energy.energy_radio_j.gt(0).all()
    pd.testing.assert_frame_equal(plugin_energy, pd.read_parquet(by_file / "records.parquet")[columns])
    inputs = json.loads((by_plugin / "manifest.json").read_text())["inputs"]
    source = (lab / "modem.py").resolve()
    assert inputs["radio_model"] == {"path": str(source), "sha256": hashlib.sha256(source.read_bytes()).hexdigest()}


def test_an_unknown_radio_model_lists_the_registered_ones(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (lab / "modem.py").write_text(RADIO_PLUGIN)
    path = write_scenario(lab / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                          energy={"radio": "my-moden"}, plugins=["modem.py"], schedules=[{"kind": "cloud-only"}])
    code, _, err = run_cli(["run", str(path), "-o", str(lab / "out"), "-q"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "energy.radio" in err and "radio model 'my-moden' not found" in err and "my-modem" in err


def test_installed_packages_add_formats_and_radio_models(tmp_path: Path, lab: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    package = tmp_path / "site"
    package.mkdir()
    (package / "my_formats.py").write_text(FORMAT_PLUGIN)
    (package / "my_modem.py").write_text(RADIO_PLUGIN)
    monkeypatch.syspath_prepend(str(package))
    points = {"mercury_sim.trace_formats": [importlib.metadata.EntryPoint("semicolon", "my_formats",
                                                                          "mercury_sim.trace_formats")],
              "mercury_sim.radio_models": [importlib.metadata.EntryPoint("modem", "my_modem",
                                                                         "mercury_sim.radio_models")]}
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: points.get(group, []))
    monkeypatch.delitem(sys.modules, "my_formats", raising=False)
    monkeypatch.delitem(sys.modules, "my_modem", raising=False)
    from simulator.schedules import plugins
    from simulator.traces import importers

    out, _ = energy_run(lab, capsys, "my-modem")  # a run names it first: the run loads the entry points
    inputs = json.loads((out / "manifest.json").read_text())["inputs"]
    assert inputs["radio_model"]["path"] == str((package / "my_modem.py").resolve())
    monkeypatch.setattr(plugins, "_ENTRY_POINTS_LOADED", [])
    monkeypatch.setattr(importers, "_READERS", {})  # as in a new process: the import command loads them
    monkeypatch.delitem(sys.modules, "my_formats")
    monkeypatch.delitem(sys.modules, "my_modem")
    (tmp_path / "log.txt").write_text("0;1000\n1000;2000\n")
    code, _, err = run_cli(["traces", "import", "semicolon-kbps", str(tmp_path / "log.txt"),
                            str(tmp_path / "t.csv")], capsys)
    assert code == 0, err
    assert trace_rows(tmp_path / "t.csv") == [(0.0, 1.0), (1.0, 2.0)]
