"""A command whose optional extra is not installed says which one in one line, exit code 2, before it does
anything (no ModuleNotFoundError traceback). The extras' absence is simulated: a ``None`` entry in
``sys.modules`` makes both ``import`` and ``importlib.util.find_spec`` see the module as missing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from simulator.cli import extras
from simulator.cli.app import main

ML = 'needs PyTorch and timm: pip install "mercury-sim[ml]"'


def refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err.strip()


@pytest.mark.parametrize("args", [
    ["profile", "--out", "{tmp}/p.yaml"],
    ["accuracy", "--model", "deit_tiny_patch16_224", "--checkpoint", "{tmp}/w.safetensors", "--data", "{tmp}",
     "-o", "{tmp}/p.yaml"],
    ["train-reconstruction", "--model", "deit_tiny_patch16_224", "--checkpoint", "{tmp}/w.safetensors",
     "--data", "{tmp}", "-o", "{tmp}/p.yaml"],
])
def test_ml_commands_without_torch(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    err = refused([a.replace("{tmp}", str(tmp_path)) for a in args], capsys)
    assert err == f"error: mercury-sim {args[0]} {ML}"
    assert not (tmp_path / "p.yaml").exists()


def test_timm_missing_alone_is_named_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "timm", None)
    assert refused(["profile", "--out", str(tmp_path / "p.yaml")], capsys) == f"error: mercury-sim profile {ML}"


def test_sweep_on_dask_without_dask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Refused before the sweep file is even read (it does not exist here)."""
    monkeypatch.setitem(sys.modules, "distributed", None)
    err = refused(["sweep", str(tmp_path / "absent.yaml"), "--dask", "local", "-o", str(tmp_path / "out")], capsys)
    assert err == 'error: mercury-sim sweep --dask needs Dask: pip install "mercury-sim[dask]"'
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="emulation asks for root first")
@pytest.mark.parametrize("command", ["emulate", "validate"])
def test_emulation_without_its_extra(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "pyroute2", None)
    err = refused([command, "default", "-o", str(tmp_path / "out"), "-q"], capsys)
    assert err == f'error: mercury-sim {command} needs pyroute2, PyTorch and timm: pip install "mercury-sim[emulate]"'
    assert not (tmp_path / "out").exists()


def test_require_extra_passes_when_every_module_is_there(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(extras.EXTRAS, "here", ("JSON", ("json", "csv")))
    monkeypatch.setitem(extras.EXTRAS, "half", ("JSON and more", ("json", "no_such_module_of_mercury_sim")))
    extras.require_extra("run", "here")
    assert not extras.missing_extra("here") and extras.missing_extra("half")
