"""Claims: the paper's claims hold on the shipped data, and the checker can fail."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO

from simulator.cli.app import main
from simulator.studies.claims import Expectation, Statistic, statistic_value

PAPER = REPO / "claims" / "paper.yaml"


def run_cli(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code)


def test_paper_claims_hold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CI's regression gate: every published claim passes or matches its pinned known discrepancy."""
    junit = tmp_path / "claims.xml"
    try:
        main(["check", str(PAPER), "--junit", str(junit), "-q"])
    except SystemExit as exc:
        pytest.fail(f"check exited {exc.code}: {capsys.readouterr().err}")
    suite = ET.parse(junit).getroot()
    assert int(suite.get("tests")) >= 30 and suite.get("failures") == "0" and suite.get("errors") == "0"


def edited_claims(tmp_path: Path, edit) -> Path:  # noqa: ANN001 - a small callback
    data = yaml.safe_load(PAPER.read_text())
    for ref in data["scenarios"].values():
        ref["file"] = str((PAPER.parent / ref["file"]).resolve())
    edit(data)
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_slower_device_breaks_a_fitted_claim(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def slower(data: dict) -> None:
        data["scenarios"]["table1"]["set"] = {"mobile_profile": "raspberry-pi-4b-fig6"}
        data["claims"] = [c for c in data["claims"] if c["id"] == "table1-vanilla"]

    path = edited_claims(tmp_path, slower)
    junit = tmp_path / "j.xml"
    assert run_cli(["check", str(path), "--junit", str(junit), "-q"]) == 1
    assert "table1-vanilla" in capsys.readouterr().err
    assert ET.parse(junit).getroot().find("testcase/failure") is not None


def test_a_drifting_known_discrepancy_is_a_regression(tmp_path: Path) -> None:
    def drift(data: dict) -> None:
        claim = next(c for c in data["claims"] if c["id"] == "fig10-60pct")
        claim["known_discrepancy"]["simulated"]["value"] *= 1.05
        data["claims"] = [claim]

    assert run_cli(["check", str(edited_claims(tmp_path, drift)), "-q"]) == 1


def test_check_writes_results_reports_and_page(tmp_path: Path) -> None:
    def only_table1(data: dict) -> None:
        data["claims"] = [c for c in data["claims"] if c["id"].startswith("table1")]

    path = edited_claims(tmp_path, only_table1)
    main_code = 0
    try:
        main(["check", str(path), "-q", "-o", str(tmp_path / "out"), "--html", str(tmp_path / "page.html")])
    except SystemExit as exc:
        main_code = int(exc.code)
    assert main_code == 0
    assert (tmp_path / "out/table1/report.html").is_file() and (tmp_path / "out/claims.json").is_file()
    page = (tmp_path / "page.html").read_text()
    assert "table1-mercury" in page and 'href="out/table1/report.html"' in page


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["claims"][0].update(colour=1), "claims[0].colour: unknown key"),
    (lambda d: d["claims"][0]["statistic"].update(scenario="nope"), "claims[0]: unknown scenario 'nope'"),
    (lambda d: d["claims"][0].update(expect={"value": 3}), "value needs rel_tol"),
    (lambda d: d["scenarios"]["fig6-4g"].update(file="missing.yaml"), "scenarios.fig6-4g.file"),
])
def test_bad_claims_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], edit, expected: str) -> None:  # noqa: ANN001
    path = edited_claims(tmp_path, edit)
    assert run_cli(["check", str(path), "-q"]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err


def test_statistics_and_expectations() -> None:
    records = pd.DataFrame({"schedule": ["a"] * 4 + ["b"], "status": ["ok", "ok", "ok", "dropped", "ok"],
                            "total_ms": [1.0, 2.0, 3.0, 100.0, 7.0], "device": [0, 1, 0, 0, 0]})
    assert statistic_value(records, Statistic(scenario="s", schedule="a")) == 2.0
    assert statistic_value(records, Statistic(scenario="s", schedule="a", stat="max")) == 3.0
    assert statistic_value(records, Statistic(scenario="s", schedule="a", stat="count")) == 3.0
    assert statistic_value(records, Statistic(scenario="s", schedule="a", where={"device": 0})) == 2.0
    assert statistic_value(records, Statistic(scenario="s", schedule="a", where={"status": "dropped"})) == 100.0
    assert Expectation(value=100, rel_tol=0.05).holds(104.9) and not Expectation(value=100, rel_tol=0.05).holds(94)
    assert Expectation(at_least=1.17, at_most=2.27).holds(2.0) and not Expectation(at_least=1.17).holds(1.1)
    assert not Expectation(value=1, rel_tol=1).holds(float("nan"))
