"""Friendlier input and output: shipped files by short name, 'did you mean' for a misspelt key or name,
and tables that stay readable on an 80-column terminal, with check's verdict counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from simulator.config.scenario import load_scenario, scenario_from_dict
from simulator.errors import InputError


def default_scenario() -> dict:
    return yaml.safe_load((REPO / "scenarios" / "default.yaml").read_text())


@pytest.mark.parametrize(("path", "key", "expected"), [
    (("workload",), "n_request", "workload.n_request: unknown key; did you mean 'n_requests'?"),
    (("schedules", 4), "reductoin", "schedules[4].reductoin: unknown key; did you mean 'reduction'?"),
    (("schedules", 3), "alfa", "schedules[3].alfa: unknown key; did you mean 'alpha'?"),
    ((), "targt_accuracy", "targt_accuracy: unknown key; did you mean 'target_accuracy'?"),
    (("network",), "colour", "network.colour: unknown key"),
])
def test_misspelt_key_names_the_key_meant(path: tuple, key: str, expected: str) -> None:
    data = default_scenario()
    node = data
    for part in path:
        node = node[part]
    node[key] = 1
    with pytest.raises(InputError) as exc:
        scenario_from_dict(data)
    assert exc.value.one_line().endswith(expected)
    if "did you mean" not in expected:
        assert "did you mean" not in exc.value.one_line()


def test_misspelt_top_level_key_is_named_rather_than_the_missing_one() -> None:
    data = default_scenario()
    data["workoad"] = data.pop("workload")
    with pytest.raises(InputError, match="workoad: unknown key; did you mean 'workload'"):
        scenario_from_dict(data)


def test_shipped_scenario_by_name() -> None:
    assert load_scenario("paper-table1").path == (REPO / "scenarios" / "paper-table1.yaml").resolve()
    with pytest.raises(InputError) as exc:
        load_scenario("paper-tabel1")
    message = exc.value.one_line()
    shipped = sorted(p.stem for p in (REPO / "scenarios").glob("*.yaml"))
    assert "did you mean 'paper-table1'?" in message and ", ".join(shipped) in message


def test_shipped_trace_and_profile_by_name(tmp_path: Path) -> None:
    from simulator.model.runner import resolve_inputs

    data = default_scenario()
    data["network"]["trace"] = "5g-walking"
    data["mobile_profile"] = "x86-2c-1t"
    inputs = resolve_inputs(scenario_from_dict(data, tmp_path / "s.yaml"))
    assert inputs.trace_path == (REPO / "traces" / "synthetic" / "5g-walking.csv").resolve()
    assert inputs.mobile.path.resolve() == (REPO / "profiles" / "x86-2c-1t.yaml").resolve()
    data["network"]["trace"] = "5g-walkin"
    with pytest.raises(InputError) as exc:
        resolve_inputs(scenario_from_dict(data, tmp_path / "s.yaml"))
    shipped = sorted(p.stem for p in (REPO / "traces" / "synthetic").glob("*.csv"))
    assert "did you mean '5g-walking'?" in str(exc.value) and ", ".join(shipped) in str(exc.value)


def test_shipped_claims_by_name_from_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``check ask-the-expert`` from a folder holding nothing runs the shipped claims file (the cheap one: one
    300-frame scenario), with its ``../scenarios/`` reference resolved beside it; known discrepancies exit 0."""
    from simulator.cli.app import main

    monkeypatch.chdir(tmp_path)
    main(["check", "ask-the-expert", "-q", "-o", "out"])  # returns 0, or exits non-zero and fails here
    document = json.loads((tmp_path / "out" / "claims.json").read_text())
    shipped = REPO / "claims" / "ask-the-expert.yaml"
    assert Path(document["claims_file"]) == shipped.resolve()
    ids = [claim["id"] for claim in yaml.safe_load(shipped.read_text())["claims"]]
    assert [claim["id"] for claim in document["claims"]] == ids
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ate", "claims.json"]


def test_unknown_claims_name_lists_the_shipped_ones_and_writes_nothing(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.cli.app import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["check", "papr", "-q", "-o", "out", "--junit", "j.xml", "--html", "page.html"])
    assert exc.value.code == 2
    shipped = sorted(p.stem for p in (REPO / "claims").glob("*.yaml"))
    assert shipped == ["ask-the-expert", "paper"]
    assert capsys.readouterr().err == ("error: papr: no such file or shipped claims; did you mean 'paper'? "
                                       f"shipped claims: {', '.join(shipped)}\n")
    assert list(tmp_path.iterdir()) == []


def narrow(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_summary_fits_80_columns(tmp_path: Path) -> None:
    done = narrow(["run", "default", "-o", str(tmp_path / "out"), "--no-report"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    for label in ("mobile-only", "cloud-only", "otas", "janus", "mercury"):
        row = next(line for line in lines if line.strip().startswith(label))
        assert "…" not in row and len(row.split()) == 7  # label, done, mean, p95, top-1, energy, miss


def test_check_fits_80_columns_and_counts_verdicts(tmp_path: Path) -> None:
    done = narrow(["check", str(REPO / "claims" / "paper.yaml"), "-o", str(tmp_path / "out")], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in done.stdout
    document = json.loads((tmp_path / "out" / "claims.json").read_text())
    total = len(document["claims"])
    assert lines[-1] == (f"{total} claims: {document['passed']} pass, {document['known_discrepancies']} known "
                         f"discrepancy, {document['failed']} fail")
    for claim in document["claims"]:  # every id whole, on its own line, with its verdict
        assert f"{claim['id']}  {claim['verdict']}" in lines
