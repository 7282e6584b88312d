"""Output paths are sacred: every refused -o leaves each pre-existing byte in place (hashed before and
after), with one line and exit code 2; an earlier output of the same command is replaced whole."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import REPO, write_profile, write_scenario, write_trace

from simulator.cli.app import main


def snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` with its content hash (folders and links by kind and target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            out[key] = f"link -> {os.readlink(path)}"
        elif path.is_dir():
            out[key] = "dir"
        else:
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    write_trace(tmp_path / "data" / "trace.csv", [0, 1], [10, 10])
    write_profile(tmp_path / "data" / "p.yaml", block_ms=1.0)
    write_scenario(tmp_path / "scenario.yaml", mobile_profile="data/p.yaml", cloud_profile="data/p.yaml",
                   network={"trace": "data/trace.csv", "mode": "trace"})
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({"name": "s", "scenario": "scenario.yaml",
                                                         "grid": {"workload.seed": [1, 2]}}))
    (tmp_path / "notes.txt").write_text("my own notes\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "results.csv").write_text("a,b\n1,2\n")
    for marker in ("manifest.json", "sweep.json", "claims.json"):  # names of ours, content not ours
        (tmp_path / f"forged-{marker}").mkdir()
        (tmp_path / f"forged-{marker}" / marker).write_text('{"name": "not ours"}\n')
    (tmp_path / "link").symlink_to(tmp_path / "mine")
    return tmp_path


def refused(args: list[str], lab: Path, capsys: pytest.CaptureFixture[str]) -> str:
    before = snapshot(lab)
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert snapshot(lab) == before, "a refused output changed files"
    return err


# name -> (arguments after the lab is known, text the error line names)
RUN_CASES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "a file": (lambda lab: ["-o", str(lab / "notes.txt")], "is not a folder"),
    "a folder of other files": (lambda lab: ["-o", str(lab / "mine")], "did not write"),
    "a forged manifest": (lambda lab: ["-o", str(lab / "forged-manifest.json")], "did not write"),
    "the current directory": (lambda lab: ["-o", "."], "current directory"),
    "the scenario's parent": (lambda lab: ["-o", str(lab)], "holds the input"),
    "the inputs' folder": (lambda lab: ["-o", str(lab / "data")], "did not write"),
    "a link": (lambda lab: ["-o", str(lab / "link")], "symbolic link"),
}


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_run_refuses(case: str, lab: Path, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = lab / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(lab / "mine" if case == "the current directory" else elsewhere)
    extra, expected = RUN_CASES[case]
    err = refused(["run", str(lab / "scenario.yaml"), "-q", "--no-report", *extra(lab)], lab, capsys)
    assert expected in err


def test_run_replaces_its_own_folder_but_not_a_file_added_to_it(lab: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = lab / "out"
    main(["run", str(lab / "scenario.yaml"), "-o", str(out), "-q"])
    assert (out / "report.html").is_file()
    main(["run", str(lab / "scenario.yaml"), "-o", str(out), "-q", "--no-report"])  # ours: replaced whole
    assert not (out / "report.html").exists() and (out / "manifest.json").is_file()
    again = ["run", str(out / "scenario.yaml"), "-o", str(out), "-q"]  # re-run from its own folder, into it
    assert "holds the input" in refused(again, lab, capsys)
    (out / "my-analysis.ipynb").write_text("{}")
    assert "my-analysis.ipynb" in refused(["run", str(lab / "scenario.yaml"), "-o", str(out), "-q"], lab, capsys)


def test_sweep_refuses_foreign_folders(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for target in ("mine", "forged-sweep.json", "notes.txt", "data"):
        refused(["sweep", str(lab / "sweep.yaml"), "-o", str(lab / target), "-j", "1", "-q"], lab, capsys)


def test_sweep_reenters_an_interrupted_sweep_but_not_a_forged_one(lab: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    sweep = ["sweep", str(lab / "sweep.yaml"), "-j", "1", "-q", "-o"]
    main([*sweep, str(lab / "done")])
    interrupted = lab / "interrupted"  # killed before its sweep.json: only saved points (and a user's file)
    (interrupted / "points").mkdir(parents=True)
    saved = sorted((lab / "done" / "points").iterdir())[0]
    (interrupted / "points" / saved.name).write_bytes(saved.read_bytes())
    (interrupted / "mine.txt").write_text("kept")
    main([*sweep, str(interrupted)])
    assert json.loads((interrupted / "sweep.json").read_text())["reused"] == 1
    assert (interrupted / "mine.txt").read_text() == "kept"
    forged = lab / "forged-points"
    (forged / "points").mkdir(parents=True)
    (forged / "points" / "a.json").write_text('{"format": "something else"}')
    capsys.readouterr()  # the sweeps above warned that their seed axis changes nothing
    assert "did not write" in refused([*sweep, str(forged)], lab, capsys)


def test_compare_refuses_foreign_folders(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = lab / "runs" / "a"
    main(["run", str(lab / "scenario.yaml"), "-o", str(run), "-q", "--no-report"])
    compare = ["compare", str(run), str(run), "-q", "-o"]
    for target, expected in (("mine", "did not write"), ("forged-manifest.json", "did not write"),
                             ("runs", "holds the input"), ("notes.txt", "not a folder"), ("link", "link")):
        assert expected in refused([*compare, str(lab / target)], lab, capsys)


def test_check_refuses_foreign_outputs(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    claims = str(REPO / "claims" / "paper.yaml")
    for args in (["-o", str(lab / "mine")], ["-o", str(lab / "forged-claims.json")], ["--html", str(lab / "notes.txt")],
                 ["--junit", str(lab / "notes.txt")], ["--html", str(lab / "mine")]):
        refused(["check", claims, "-q", *args], lab, capsys)
    scenario_folder = lab / "claims-out" / "paper-fig6-4g"  # an earlier check's folder, one run not ours
    scenario_folder.mkdir(parents=True)
    (lab / "claims-out" / "claims.json").write_text(json.dumps({"mercury_sim_version": "0.1.0"}))
    (scenario_folder / "data.csv").write_text("1\n")
    assert "paper-fig6-4g" in refused(["check", claims, "-q", "-o", str(lab / "claims-out")], lab, capsys)


def test_report_refuses_a_folder_it_did_not_write(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(["report", str(lab / "mine")], lab, capsys)
    refused(["report", str(lab / "forged-manifest.json")], lab, capsys)


def test_trace_commands_refuse_foreign_files_and_write_inside_folders(lab: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    trace = str(lab / "data" / "trace.csv")
    refused(["traces", "synth", str(lab / "notes.txt"), "--profile", "lte-all", "--duration-s", "5"], lab, capsys)
    refused(["traces", "synth", str(lab / "link"), "--profile", "lte-all", "--duration-s", "5"], lab, capsys)
    refused(["traces", "export", "mahimahi", trace, str(lab / "notes.txt")], lab, capsys)
    assert "is the input" in refused(["traces", "import", "csv", trace, trace], lab, capsys)
    refused(["traces", "import", "csv", trace, str(lab / "mine" / "results.csv")], lab, capsys)
    refused(["traces", "import", "ghoshal2022", str(lab / "data"), str(lab / "notes.txt")], lab, capsys)
    before = snapshot(lab / "mine")  # a folder is written into: its other files stay
    main(["traces", "synth", str(lab / "mine"), "--profile", "lte-all", "--duration-s", "5"])
    after = snapshot(lab / "mine")
    assert after.pop("lte-all.csv") and after == before


def test_trace_synth_replaces_its_own_earlier_output(lab: Path) -> None:
    out = lab / "synth.csv"
    main(["traces", "synth", str(out), "--profile", "lte-all", "--duration-s", "5", "--seed", "1"])
    first = out.read_bytes()
    main(["traces", "synth", str(out), "--profile", "lte-all", "--duration-s", "5", "--seed", "2"])
    assert out.read_bytes() != first


@pytest.mark.parametrize("command", ["emulate", "validate"])
@pytest.mark.parametrize("case", ["notes.txt", "mine", "forged-manifest.json", "link", "."])
def test_testbed_commands_refuse_foreign_outputs_before_emulating(command: str, case: str, lab: Path,
                                                                    capsys: pytest.CaptureFixture[str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Minutes of emulation must not end in a refusal, nor in a replaced folder: the guard comes first."""
    if os.geteuid() != 0:
        pytest.skip("the testbed commands check for root before the output folder")
    import simulator.emulation.testbed as testbed

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the testbed started before the output folder was checked")

    monkeypatch.setattr(testbed, "emulate_scenario", must_not_run)
    monkeypatch.chdir(lab)
    err = refused([command, str(lab / "scenario.yaml"), "-o", case], lab, capsys)
    assert "pyroute2" not in err and "root" not in err, err
