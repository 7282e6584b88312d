"""Schedules of one's own from the command line: a plugin file named by the scenario (``plugins:``) or by
``--plugin``, and an installed package's entry point (group ``mercury_sim.schedules``). They run in ``run``,
in a sweep's worker processes and on Dask workers; their source is hashed into the manifest and the sweep
point keys; a broken one is one line naming it, exit code 2.

The plugin is the shipped example (examples/threshold-plugin): Mercury that prunes half its tokens (reduction
0.5) after an upload slower than ``below_mbps``, none before. Over the lab's constant 10 Mbit/s link the first
request has seen no upload (0.0) and, with ``below_mbps: 30``, every later one follows a 10 Mbit/s upload
(0.5): its upload of 198 tokens x 768 x 4 B at 10 Mbit/s (0.49 s) after 310 ms on the device ends before
the next frame, a second later. With ``below_mbps: 5`` no upload is slow: every request 0.0.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, run_cli, write_scenario

from simulator.cli.app import main
from simulator.studies.sweep import load_sweep, run_sweep

EXAMPLE = REPO / "examples" / "threshold-plugin"
PLUGIN = EXAMPLE / "mercury_threshold.py"
SLOW_AFTER_FIRST = [0.0, 0.5, 0.5, 0.5, 0.5]  # below_mbps 30 over 10 Mbit/s (the module docstring)


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a test registers or loads is forgotten after it (the registry is the process's)."""
    from simulator.schedules import plugins, registry

    monkeypatch.setattr(registry, "_PLUGINS", dict(registry._PLUGINS))
    monkeypatch.setattr(plugins, "_FILES", {})
    monkeypatch.setattr(plugins, "_SOURCES", {})
    monkeypatch.setattr(plugins, "_ENTRY_POINTS_LOADED", [])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scenario(lab: Path, below_mbps: float = 30, **keys: object) -> Path:
    return write_scenario(lab / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                          schedules=[{"kind": "mercury-threshold", "below_mbps": below_mbps}], **keys)


def chosen(out: Path) -> list[float]:
    records = pd.read_parquet(out / "records.parquet")
    return records[records.schedule == "mercury-threshold"].sort_values("arrival_s").parameter.tolist()


@pytest.mark.parametrize("named_by", ["scenario", "--plugin"])
def test_a_plugin_file_runs_in_run(lab: Path, named_by: str, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = shutil.copy(PLUGIN, lab / "mercury_threshold.py")
    if named_by == "scenario":
        path, extra = scenario(lab, plugins=["mercury_threshold.py"]), []
    else:
        path, extra = scenario(lab), ["--plugin", str(plugin)]
    out = lab / "out"
    code, err = run_cli(["run", str(path), "-o", str(out), "-q", "--no-report", *extra], capsys)
    assert code == 0, err
    assert chosen(out) == SLOW_AFTER_FIRST
    inputs = json.loads((out / "manifest.json").read_text())["inputs"]
    assert inputs["plugins[0]"] == {"path": str(Path(plugin).resolve()), "sha256": sha256(Path(plugin))}
    # the written scenario names the file by absolute path: it runs again from any folder
    assert yaml.safe_load((out / "scenario.yaml").read_text())["plugins"] == [str(Path(plugin).resolve())]


def test_a_plugin_file_runs_in_worker_processes_and_on_dask(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = shutil.copy(PLUGIN, lab / "mercury_threshold.py")
    scenario(lab)
    sweep_file = lab / "sweep.yaml"
    sweep_file.write_text(yaml.safe_dump({"name": "threshold", "scenario": "scenario.yaml",
                                          "grid": {"schedules.mercury-threshold.below_mbps": [5, 30]}}))
    out = lab / "out"
    code, err = run_cli(["sweep", str(sweep_file), "-o", str(out), "-j", "2", "-q", "--plugin", str(plugin)],
                        capsys)
    assert code == 0, err
    table = pd.read_parquet(out / "sweep.parquet")
    assert table.parameter.tolist() == [0.0, sum(SLOW_AFTER_FIRST) / 5]  # 5 Mbit/s: never slow; 30: after the 1st
    assert table.parameter_distribution.tolist()[1] == "0.5: 80%, 0: 20%"
    pytest.importorskip("dask.distributed")
    on_dask = run_sweep(load_sweep(sweep_file, [plugin]), workers=2, dask="local").table
    pd.testing.assert_frame_equal(table, on_dask, check_exact=True)


def test_editing_the_plugin_changes_the_point_keys(lab: Path) -> None:
    plugin = lab / "mercury_threshold.py"
    shutil.copy(PLUGIN, plugin)
    scenario(lab, plugins=["mercury_threshold.py"])
    sweep_file = lab / "sweep.yaml"
    sweep_file.write_text(yaml.safe_dump({"name": "threshold", "scenario": "scenario.yaml",
                                          "grid": {"schedules.mercury-threshold.below_mbps": [5, 30]}}))
    keys = [point.key for point in load_sweep(sweep_file).points]
    assert [point.key for point in load_sweep(sweep_file).points] == keys  # the same file: the same keys
    plugin.write_text(plugin.read_text() + "# edited\n")
    edited = [point.key for point in load_sweep(sweep_file).points]
    assert len(set(edited) | set(keys)) == 4
    other = lab / "also.py"  # a file given on the command line counts too
    shutil.copy(PLUGIN, other)
    before = [point.key for point in load_sweep(sweep_file, [other]).points]
    other.write_text(other.read_text() + "# edited\n")
    assert not set(before) & {point.key for point in load_sweep(sweep_file, [other]).points}


BROKEN = {
    "syntax error": ("def build(:\n", "SyntaxError: "),
    "raises on import": ("import math\nmath.sqrt(-1)\n", "ValueError: math domain error (line 2)"),
    "registers nothing": ("x = 1\n", "the plugin registered nothing: call simulator.schedules.register_schedule"),
    "registers a shipped kind": ("from simulator.schedules import register_schedule\n"
                                 "register_schedule('mercury', lambda config, inputs: None)\n",
                                 "'mercury' is a shipped schedule kind (line 2)"),
}


@pytest.mark.parametrize("named_by", ["scenario", "--plugin"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_plugin_is_one_line_naming_it(lab: Path, case: str, named_by: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = BROKEN[case]
    plugin = lab / "broken_plugin.py"
    plugin.write_text(text)
    if named_by == "scenario":
        path, extra = scenario(lab, plugins=["broken_plugin.py"]), []
    else:
        path, extra = scenario(lab), ["--plugin", str(plugin)]
    code, err = run_cli(["run", str(path), "-o", str(lab / "out"), "-q", *extra], capsys)
    assert code == 2
    assert err.startswith(f"error: {plugin}: ") and err.count("\n") == 1, err
    assert expected in err and "Traceback" not in err
    assert not (lab / "out").exists()


def test_an_unknown_kind_says_how_to_bring_a_plugin(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["run", str(scenario(lab)), "-o", str(lab / "out"), "-q"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "schedules[0]: unknown schedule kind 'mercury-threshold'" in err and "--plugin FILE" in err


def installed(site: Path) -> str:
    """The example package installed under ``site`` as pip installs it: ``pip install --no-deps
    --no-build-isolation -e`` into a prefix of the test's own (never this environment, which other runs share);
    without pip or its build backend within 10 s, the same entry points written by hand (a ``.dist-info``
    folder and a ``.pth`` line, what an editable install leaves). Returns how it was installed."""
    prefix = site.parent / "prefix"
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                               "--no-index", "--quiet", "--prefix", str(prefix), "-e", str(EXAMPLE)],
                              capture_output=True, timeout=10)
        found = list(prefix.glob("lib/python*/site-packages"))
        if done.returncode == 0 and found:
            shutil.copytree(found[0], site)
            return "pip"
    except subprocess.TimeoutExpired:
        pass
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    lines = [f"{name} = {value}" for name, value in project["entry-points"]["mercury_sim.schedules"].items()]
    (info / "entry_points.txt").write_text("[mercury_sim.schedules]\n" + "\n".join(lines) + "\n")
    (site / "mercury_threshold.pth").write_text(f"{EXAMPLE}\n")
    return "by hand"


def in_site(site: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``mercury-sim ARGS`` in a fresh interpreter whose site folders include ``site``."""
    code = "import site, sys; site.addsitedir(sys.argv[1]); from simulator.cli.app import main; " \
           "sys.exit(main(sys.argv[2:]))"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", code, str(site), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def test_an_installed_package_brings_its_kind_through_its_entry_point(tmp_path: Path) -> None:
    site = tmp_path / "site"
    how = installed(site)
    out = tmp_path / "out"
    done = in_site(site, ["run", str(EXAMPLE / "threshold.yaml"), "-o", str(out), "-q", "--no-report"], tmp_path)
    assert done.returncode == 0, (how, done.stderr)
    assert set(chosen(out)) == {0.0, 0.5}  # it followed the uploads' throughput
    inputs = json.loads((out / "manifest.json").read_text())["inputs"]
    assert inputs["schedules[0].kind"] == {"path": str(PLUGIN), "sha256": sha256(PLUGIN)}  # the package's module


def test_a_broken_entry_point_is_one_line_naming_it(tmp_path: Path, lab: Path) -> None:
    site = tmp_path / "site"
    info = site / "broken_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[mercury_sim.schedules]\nbroken = broken_schedules\n")
    (site / "broken_schedules.py").write_text("raise ImportError('needs a GPU library')\n")
    done = in_site(site, ["run", str(scenario(lab)), "-o", str(lab / "out"), "-q"], lab)
    assert done.returncode == 2
    assert done.stderr == (f"error: entry point broken = broken_schedules (broken-plugin 1.0): the plugin failed in "
                           f"{site / 'broken_schedules.py'}: ImportError: needs a GPU library (line 1)\n")
    # a scenario of shipped kinds never looks at the installed plugins
    shipped = write_scenario(lab / "shipped.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml")
    assert in_site(site, ["run", str(shipped), "-o", str(lab / "out"), "-q"], lab).returncode == 0


def test_schema_shows_each_plugin_kind_keys(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    plugin = shutil.copy(PLUGIN, lab / "mercury_threshold.py")
    assert main(["schema", "--plugin", str(plugin)]) == 0
    schema = json.loads(capsys.readouterr().out)
    threshold = schema["$defs"]["plugin-mercury-threshold"]
    assert threshold["properties"]["below_mbps"]["default"] == 20.0
    assert threshold["properties"]["kind"] == {"const": "mercury-threshold", "title": "Kind"}
    assert "plugin-cascade" in schema["$defs"]  # the shipped plug-ins' keys too
    entry = yaml.safe_load(scenario(lab).read_text())
    jsonschema.validate(entry, schema)
    entry["schedules"][0]["below_mbps"] = "fast"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(entry, schema)
