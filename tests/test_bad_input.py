"""Bad scenarios: one line naming the file and key, exit code 2, no traceback, outputs untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, write_profile, write_scenario, write_trace

from simulator.cli.app import main


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    write_trace(tmp_path / "trace.csv", [0, 1], [10, 10])
    write_profile(tmp_path / "p.yaml", block_ms=1.0)
    return tmp_path


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code), capsys.readouterr().err


CASES = {
    "unknown key": ({"colour": "red"}, "colour: unknown key"),
    "wrong type": ({"workload": {"arrival": "periodic", "fps": "fast", "n_requests": 3}}, "workload.fps"),
    "negative rate": ({"workload": {"arrival": "poisson", "rate_per_s": -2, "n_requests": 3}},
                      "workload.rate_per_s"),
    "missing trace": ({"network": {"trace": "nowhere.csv"}}, "network.trace: trace file not found"),
    "missing profile": ({"mobile_profile": "no-such-device"}, "mobile_profile: profile 'no-such-device' not found"),
    "split outside model": ({"schedules": [{"kind": "mercury", "split_after": 13, "reduction": 0.5}]},
                            "schedules[0].split_after: must be in 1..12"),
    "unknown schedule": ({"schedules": [{"kind": "teleport"}]}, "schedules[0]"),
    "mean_mbps in trace mode": ({"network": {"trace": "trace.csv", "mean_mbps": 3}}, "network.mean_mbps"),
    "reduction above anchors": ({"schedules": [{"kind": "mercury", "split_after": 1, "reduction": 0.9}]},
                                "schedules[0].reduction: must be <= 0.75 (got 0.9)"),
    "target out of reach": ({"target_accuracy": 99.0, "schedules": [{"kind": "otas", "split_after": 1}]},
                            "schedules[0]: deit_base_distilled_patch16_224/cifar100/tome cannot reach 99"),
    "misspelt schedule": ({"schedules": [{"kind": "mercury-adaptiv", "latency_budget_ms": 500}]},
                          "schedules[0]: unknown schedule kind 'mercury-adaptiv'; did you mean 'mercury-adaptive'?"),
    "adaptive without budget": ({"schedules": [{"kind": "mercury-adaptive"}]},
                                "schedules[0]: objective 'max-accuracy' needs latency_budget_ms"),
    "oracle without floor": ({"schedules": [{"kind": "oracle"}]}, "schedules[0]: the oracle needs accuracy_floor"),
    "after-idle cost not in the profile": ({"compute_after_idle": True},
                                           "compute_after_idle: compute_after_idle needs after_idle_ms for "
                                           "deit_base_distilled_patch16_224 in mobile_profile 'p'"),
    "unknown radio model": ({"energy": {"radio": "carrier-pigeon"}},
                            "energy.radio: radio model 'carrier-pigeon' not found"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_scenario_is_one_line_exit_2(case: str, lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overrides, expected = CASES[case]
    path = write_scenario(lab / "bad.yaml", mobile_profile="p.yaml", cloud_profile="p.yaml")
    data = yaml.safe_load(path.read_text())
    data.update(overrides)
    path.write_text(yaml.safe_dump(data))
    code, err = cli(["run", str(path), "-o", str(lab / "out"), "-q"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert str(path) in err and expected in err, err
    assert "Traceback" not in err
    assert not (lab / "out").exists()


def test_malformed_yaml_names_line(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = lab / "broken.yaml"
    path.write_text("name: x\nnetwork: {trace: a.csv\nworkload: [\n")
    code, err = cli(["run", str(path)], capsys)
    assert code == 2 and "malformed YAML" in err and "line " in err and err.count("\n") == 1


def test_missing_scenario_file(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(["run", str(lab / "absent.yaml")], capsys)
    assert code == 2 and "absent.yaml: file not found" in err


def test_bad_profile_and_accuracy_files(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = yaml.safe_load((lab / "p.yaml").read_text())
    del profile["models"]["deit_base_distilled_patch16_224"]["head"]
    (lab / "nohead.yaml").write_text(yaml.safe_dump(profile))
    scenario = write_scenario(lab / "s.yaml", mobile_profile="nohead.yaml", cloud_profile="p.yaml")
    code, err = cli(["run", str(scenario), "-q"], capsys)
    assert code == 2 and "nohead.yaml: models" in err and "missing stage(s) ['head']" in err

    profile["models"]["deit_base_distilled_patch16_224"]["head"] = {"points": {"tokens": [10, 5], "ms": [1, 2]}}
    (lab / "nonmono.yaml").write_text(yaml.safe_dump(profile))
    scenario = write_scenario(lab / "s.yaml", mobile_profile="nonmono.yaml", cloud_profile="p.yaml")
    code, err = cli(["run", str(scenario), "-q"], capsys)
    assert code == 2 and "token points must increase strictly" in err

    (lab / "acc.csv").write_text("model,dataset,method,split_after,parameter,reconstruction,top1,source\n"
                                 "m,d,magic,,0,none,80,published: x\n")
    scenario = write_scenario(lab / "s.yaml", mobile_profile="p.yaml", cloud_profile="p.yaml",
                              accuracy_tables=["acc.csv"])
    code, err = cli(["run", str(scenario), "-q"], capsys)
    assert code == 2 and "acc.csv: line 2: method 'magic' unknown" in err


def test_existing_output_survives_a_failed_run(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_scenario(lab / "good.yaml", mobile_profile="p.yaml", cloud_profile="p.yaml")
    out = lab / "out"
    main_code = subprocess.run([sys.executable, "-m", "simulator", "run", str(good), "-o", str(out), "-q"],
                               cwd=REPO, capture_output=True, text=True)
    assert main_code.returncode == 0, main_code.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = write_scenario(lab / "bad.yaml", mobile_profile="p.yaml", cloud_profile="p.yaml",
                         schedules=[{"kind": "otas", "split_after": 1, "r": 5, "oops": 1}])
    failed = subprocess.run([sys.executable, "-m", "simulator", "run", str(bad), "-o", str(out)],
                            cwd=REPO, capture_output=True, text=True)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().count("\n") == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in lab.iterdir() if p.name.startswith(".out.")]  # no staging leftovers
