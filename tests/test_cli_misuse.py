"""Command-line misuse: the usage and one error line on stderr, exit code 2, never a traceback.

Each case runs the real entry point in a subprocess (the parser's own error path, not a test double). The
slow test repeats the table in a virtual environment holding only ``pip install .`` (the click copy and
versions a user's core install resolves today), checks that such a run's manifest names the commit, and
that the installed copy checks the shipped claims by name from an empty folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import REPO

# args -> the text the one error line must contain (a tuple: any of these wordings, which differ between the
# typer releases pyproject.toml admits)
MISUSE: dict[str, tuple[list[str], str | tuple[str, ...]]] = {
    "no arguments": ([], "Missing command"),
    "unknown command": (["frobnicate"], "No such command 'frobnicate'"),
    "run without scenario": (["run"], "Missing argument 'SCENARIO'"),
    "unknown option": (["run", "x.yaml", "--bogus"], ("No such option: --bogus", "No such option '--bogus'")),
    "flag given a value": (["run", "x.yaml", "--report=maybe"], "does not take a value"),
    "workers below 1": (["sweep", "s.yaml", "-j", "0"], "Invalid value for '--workers'"),
    "workers not a number": (["sweep", "s.yaml", "-j", "two"], "Invalid value for '--workers'"),
    "option without value": (["sweep", "s.yaml", "-o"], "Option '-o' requires an argument"),
    "check without claims": (["check"], "Missing argument 'CLAIMS'"),
    "unknown shipped claims": (["check", "papr"], "did you mean 'paper'? shipped claims: ask-the-expert, paper"),
    "report without folder": (["report"], "Missing argument 'RESULTS_DIR'"),
    "extra argument": (["schema", "extra"], "unexpected extra argument"),
    "unknown traces command": (["traces", "nope"], "No such command 'nope'"),
    "traces synth without output": (["traces", "synth"], "Missing argument"),
    "traces bad number": (["traces", "synth", "o.csv", "--profile", "lte-all", "--duration-s", "abc"],
                          "Invalid value for '--duration-s'"),
    "profile without --out": (["profile"], "Missing option '--out'"),
    "accuracy without checkpoint": (["accuracy", "--model", "x"], "Missing option '--checkpoint'"),
    "missing scenario file": (["run", "no-such-file.yaml"], "no-such-file.yaml: file not found"),
}


def mercury_sim(args: list[str], cwd: Path, python: str = sys.executable,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "PYTHONPATH": str(REPO)} if env is None else env
    return subprocess.run([python, "-m", "simulator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=base)


def assert_misuse(done: subprocess.CompletedProcess[str], expected: str | tuple[str, ...]) -> None:
    streams = done.stdout + done.stderr
    assert done.returncode == 2, streams
    assert "Traceback" not in streams
    errors = [line for line in done.stderr.splitlines() if line.lower().startswith("error:")]
    wordings = (expected,) if isinstance(expected, str) else expected
    assert len(errors) == 1 and any(w in errors[0] for w in wordings), done.stderr
    if not errors[0].startswith("error: "):  # a parser error comes with the usage line
        assert done.stderr.startswith("Usage: mercury-sim"), done.stderr


@pytest.mark.parametrize("case", sorted(MISUSE))
def test_misuse_is_usage_and_one_line_exit_2(case: str, tmp_path: Path) -> None:
    args, expected = MISUSE[case]
    assert_misuse(mercury_sim(args, tmp_path), expected)


def test_traces_without_a_command_shows_its_commands_exit_2(tmp_path: Path) -> None:
    done = mercury_sim(["traces"], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert "synth" in done.stdout + done.stderr


def test_version_matches_the_package_metadata(tmp_path: Path) -> None:
    done = mercury_sim(["--version"], tmp_path)
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert done.returncode == 0 and done.stdout == f"mercury-sim {version}\n"


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with only ``pip install .`` of this checkout (no dev extras)."""
    root = tmp_path_factory.mktemp("core-venv")
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    pip = subprocess.run([str(root / "bin" / "pip"), "install", "-q", str(REPO)], capture_output=True,
                         text=True, timeout=1800)
    if pip.returncode != 0:
        pytest.skip(f"pip install . failed (no package index reachable?): {pip.stderr[-400:]}")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(MISUSE))
def test_misuse_in_core_install(case: str, core_venv: Path, tmp_path: Path) -> None:
    args, expected = MISUSE[case]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    assert_misuse(mercury_sim(args, tmp_path, str(core_venv / "bin" / "python"), env), expected)


@pytest.mark.slow
def test_core_install_manifest_names_the_checkouts_commit(core_venv: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    installed = subprocess.run([str(core_venv / "bin" / "python"), "-c", "import simulator; print(simulator.__file__)"],
                               capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout
    assert str(core_venv) in installed  # the wheel's copy runs, not this checkout
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()
    done = subprocess.run([str(core_venv / "bin" / "mercury-sim"), "run", str(REPO / "scenarios" / "default.yaml"),
                           "-o", str(tmp_path / "out"), "-q", "--no-report"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["git_commit"] is not None and manifest["git_commit"].split("+")[0] == head


@pytest.mark.slow
def test_core_install_checks_shipped_claims_by_name_from_an_empty_folder(core_venv: Path, tmp_path: Path) -> None:
    """The wheel ships claims/ beside scenarios/: the installed copy checks them by name, writing nothing here;
    their known discrepancies hold their pinned values, so the exit code is 0."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(core_venv / "bin" / "mercury-sim"), "check", "ask-the-expert", "-q"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    claims = yaml.safe_load((REPO / "claims" / "ask-the-expert.yaml").read_text())["claims"]
    known = sum("known_discrepancy" in claim for claim in claims)
    assert done.stdout.splitlines()[-1] == \
        f"{len(claims)} claims: {len(claims) - known} pass, {known} known discrepancy, 0 fail"
    assert list(tmp_path.iterdir()) == []
