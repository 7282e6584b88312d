"""``mercury-sim profile``: token parsing, a real (tiny) measurement, the YAML it writes, and bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, write_scenario

from simulator.cli.app import main
from simulator.errors import InputError
from simulator.inputs.profiles import load_profile
from simulator.inputs.vit import MODELS
from simulator.ml.profiler import fit_quadratic, parse_batches, parse_tokens

TINY = "deit_tiny_distilled_patch16_224"


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code), capsys.readouterr().err


def test_tokens_range_includes_stop() -> None:
    assert parse_tokens("10:198:16", 198) == [10, 26, 42, 58, 74, 90, 106, 122, 138, 154, 170, 186, 198]
    assert parse_tokens("10:100:10", 198)[-2:] == [90, 100]
    assert parse_tokens("7:7:3", 198) == [7]


def test_tokens_comma_list_sorted_unique() -> None:
    assert parse_tokens("198, 1,50,50", 198) == [1, 50, 198]


BAD_TOKENS = ["0:198:16", "10:199:16", "199", "0,5", "10:5:1", "10:20:0", "a,b", "1:2", ""]


@pytest.mark.parametrize("text", BAD_TOKENS)
def test_bad_tokens_rejected(text: str) -> None:
    with pytest.raises(InputError):
        parse_tokens(text, 198)


def test_batches_always_include_one() -> None:
    assert parse_batches("16,4") == [1, 4, 16]
    with pytest.raises(InputError):
        parse_batches("0,2")


def test_fit_is_exact_on_a_quadratic() -> None:
    n = [10, 50, 100, 198]
    a, b, c = fit_quadratic(n, [1 + 0.02 * x + 3e-4 * x * x for x in n])
    assert (a, b, c) == pytest.approx((1, 0.02, 3e-4), rel=1e-6)


def test_cli_import_loads_no_torch() -> None:
    code = "import sys, simulator, simulator.cli.app; print('torch' in sys.modules or 'timm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_time_cases_keeps_the_faster_of_two_and_each_rounds_first_call() -> None:
    """A round calls a case twice: the median is of the faster call, the mean of the first calls (here
    the first of each pair sleeps 4 ms and the second returns at once)."""
    import time

    from simulator.ml.timing import time_cases

    calls = []

    def slow_then_fast() -> None:
        calls.append(1)
        if len(calls) % 2 == 1:
            time.sleep(0.004)

    timing = time_cases({"case": slow_then_fast}, repeats=5, warmup=0)["case"]
    assert len(calls) == 10 and len(timing.first_ms) == len(timing.samples_ms) == 5
    assert timing.value("median") == timing.median_ms < 1.0
    assert timing.value("mean") == timing.mean_first_ms >= 4.0
    assert min(timing.first_ms) >= 4.0 and max(timing.samples_ms) < 1.0
    assert timing.per(4).mean_first_ms == pytest.approx(timing.mean_first_ms / 4)
    with pytest.raises(ValueError, match="statistic"):
        timing.value("mode")


@pytest.fixture(scope="module")
def tiny_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real measurement of DeiT-Ti (few points and repeats: ~5 s)."""
    out = tmp_path_factory.mktemp("profile") / "tiny.yaml"
    assert main(["profile", "--model", TINY, "--tokens", "10,60,120,198", "--batch", "1,2", "--threads", "1",
              "--repeats", "3", "--warmup", "1", "--after-idle", "0.05", "--out", str(out), "-q"]) in (0, None)
    return out


def test_written_profile_loads_and_is_complete(tiny_profile: Path) -> None:
    profile = load_profile(tiny_profile)
    assert profile.models == [TINY]
    assert profile.provenance["kind"] == "measured"
    assert profile.provenance["statistic"] == "median" and "faster of two" in profile.provenance["method"]
    data = yaml.safe_load(tiny_profile.read_text())
    assert {"cpu", "cores", "threads", "torch", "timm", "date", "command"} <= set(data["host"])
    assert data["host"]["threads"] == 1
    stages = data["models"][TINY]
    assert set(stages) == {"embed", "block", "head", "mercury_prune", "tome_merge", "attention", "tome_block"}
    assert stages["block"]["points"]["tokens"] == [10, 60, 120, 198]
    assert stages["tome_block"]["points"]["tokens"] == [10, 60, 120, 198]
    assert stages["mercury_prune"]["points"]["tokens"] == [8, 58, 118, 196]  # patch tokens
    assert len(stages["block"]["points"]["spread_ms"]) == 4
    assert data["batch"]["sizes"] == [1, 2] and data["batch"]["factor"][0] == 1.0
    assert data["batch"]["factor"][1] > 1.0
    ms = stages["block"]["points"]["ms"]
    assert ms[-1] > ms[0] > 0  # more tokens cost more
    assert 0 < stages["attention"]["points"]["ms"][-1] < ms[-1]  # the scoring pass is part of one block
    merging = stages["tome_block"]["points"]["ms"]
    assert merging[-1] > merging[0] > 0
    # a whole block (per block of the stack), not the merge kernel alone
    assert merging[-1] > 2 * stages["tome_merge"]["points"]["ms"][-1]
    assert "tome_block = all blocks in turn" in data["provenance"]["stages"]


def test_after_idle_measured_when_asked(tiny_profile: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load(tiny_profile.read_text())
    assert set(data["after_idle_ms"]) == {TINY} and data["after_idle_ms"][TINY] >= 0
    assert "after 0.05 s of sleep" in data["provenance"]["after_idle"]
    assert load_profile(tiny_profile).after_idle_ms(MODELS[TINY]) == data["after_idle_ms"][TINY]
    code, err = cli(["profile", "--model", TINY, "--device", "cuda", "--after-idle", "0.5",
                     "--out", str(tmp_path / "p.yaml")], capsys)
    assert code == 2 and "--after-idle" in err and not (tmp_path / "p.yaml").exists()


def test_fit_reproduces_points(tiny_profile: Path) -> None:
    data = yaml.safe_load(tiny_profile.read_text())
    for stage, curve in data["models"][TINY].items():
        fit, pts = curve["fit"], curve["points"]
        worst = 0.0
        for n, ms in zip(pts["tokens"], pts["ms"], strict=True):
            predicted = fit["a_ms"] + fit["b_ms"] * n + fit["c_ms"] * n * n
            worst = max(worst, abs(predicted - ms) / ms)
        assert worst == pytest.approx(data["provenance"]["fit_max_residual_pct"][TINY][stage] / 100, abs=2e-3)
        if stage == "block":  # dominant stage: a quadratic in N describes it
            assert worst < 0.3, (stage, worst)


def test_simulator_runs_on_measured_profile(tiny_profile: Path, tmp_path: Path) -> None:
    from simulator.model.runner import run

    scenario = write_scenario(
        tmp_path / "s.yaml", model=TINY, mobile_profile=str(tiny_profile), cloud_profile=str(tiny_profile),
        network={"trace": str(REPO / "traces" / "synthetic" / "lte-all.csv"), "mode": "trace"},
        schedules=[{"kind": "mobile-only"}, {"kind": "mercury", "split_after": 1, "reduction": 0.5}])
    records, summary = run(scenario)
    profile = load_profile(tiny_profile)
    assert len(records) == 10
    mobile = records[records.schedule == records.schedule.cat.categories[0]]
    from simulator.inputs.vit import MODELS
    from simulator.ml.forward_check import predicted_full_ms

    assert mobile.mobile_ms.iloc[0] == pytest.approx(predicted_full_ms(profile, MODELS[TINY]), rel=1e-6)


# -- bad input -----------------------------------------------------------------------------------------
BAD_ARGS = {
    "unknown model": (["--model", "deit_tiny_distiled_patch16_224"], "did you mean deit_tiny_distilled"),
    "tokens above max": (["--model", TINY, "--tokens", "10:199:16"], "must be in 1..198"),
    "tokens zero": (["--model", TINY, "--tokens", "0,10"], "must be in 1..198"),
    "tokens malformed": (["--model", TINY, "--tokens", "10-20"], "START:STOP:STEP"),
    "bad batch": (["--model", TINY, "--batch", "0"], "--batch"),
    "bad device": (["--model", TINY, "--device", "tpu"], "--device"),
    "bad statistic": (["--model", TINY, "--statistic", "mode"], "--statistic 'mode': expected one of median, mean"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGS))
def test_bad_profile_args_one_line_exit_2(case: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    args, expected = BAD_ARGS[case]
    out = tmp_path / "p.yaml"
    code, err = cli(["profile", *args, "--out", str(out)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err
    assert "Traceback" not in err
    assert not out.exists()


def _measured_like(tmp_path: Path, stages: dict) -> Path:
    path = tmp_path / "bad-profile.yaml"
    path.write_text(yaml.safe_dump({"format": "mercury-sim-profile/1", "name": "bad", "device": "x",
                                    "provenance": {"kind": "measured"}, "models": {TINY: stages}}))
    return path


BAD_PROFILES = {
    "missing stage": ({"embed": {"fit": {"a_ms": 1}}, "block": {"fit": {"a_ms": 1}}},
                      "missing stage(s) ['head']"),
    "non-monotonic points": ({"embed": {"fit": {"a_ms": 1}}, "head": {"fit": {"a_ms": 1}},
                              "block": {"points": {"tokens": [10, 100, 50], "ms": [1, 2, 3]}}},
                             "token points must increase strictly"),
    "malformed tome_block": ({"embed": {"fit": {"a_ms": 1}}, "head": {"fit": {"a_ms": 1}},
                              "block": {"fit": {"a_ms": 1}}, "tome_block": {"fit": {"d_ms": 1}}},
                             f"models.{TINY}.tome_block.fit.d_ms: unknown key"),
    "empty tome_block": ({"embed": {"fit": {"a_ms": 1}}, "head": {"fit": {"a_ms": 1}},
                          "block": {"fit": {"a_ms": 1}}, "tome_block": {}},
                         f"models.{TINY}.tome_block: a stage needs 'points', 'fit' or both"),
}


@pytest.mark.parametrize("case", sorted(BAD_PROFILES))
def test_bad_profile_file_one_line_exit_2(case: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    stages, expected = BAD_PROFILES[case]
    profile = _measured_like(tmp_path, stages)
    with pytest.raises(InputError) as exc:
        load_profile(profile)
    assert expected in exc.value.one_line()
    scenario = write_scenario(tmp_path / "s.yaml", model=TINY, mobile_profile=str(profile),
                              cloud_profile=str(profile),
                              network={"trace": str(REPO / "traces" / "synthetic" / "lte-all.csv")})
    code, err = cli(["run", str(scenario), "-o", str(tmp_path / "out"), "-q"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and str(profile) in err and expected in err, err
    assert "Traceback" not in err


def test_points_keep_the_quantiles_of_their_single_calls(tiny_profile: Path) -> None:
    """Every point stores its single calls' quantiles at the profiler's levels (min, every 5 %, max), which
    ``compute: {variability: profile}`` samples; the file says what they are."""
    from simulator.ml.profiler import QUANTILE_LEVELS

    data = yaml.safe_load(tiny_profile.read_text())
    assert data["quantile_levels"] == list(QUANTILE_LEVELS) and len(QUANTILE_LEVELS) == 21
    assert "single calls" in data["provenance"]["distribution"]
    for stage, curve in data["models"][TINY].items():
        rows = curve["points"]["quantiles_ms"]
        assert len(rows) == len(curve["points"]["tokens"]), stage
        for row in rows:
            assert len(row) == 21 and row == sorted(row) and row[0] > 0, stage
    assert load_profile(tiny_profile).has_distribution
