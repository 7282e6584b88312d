"""Commands end cleanly when stopped from outside: a closed pipe on stdout, SIGTERM or Ctrl-C of a sweep."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import REPO, write_profile, write_scenario, write_trace

RUN_FILES = {"manifest.json", "records.parquet", "summary.json", "scenario.yaml", "trace.parquet"}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulator", *args]


def _env(tmp: Path) -> dict[str, str]:
    """The subprocess's environment: this checkout, offline, and a private TMPDIR to look into afterwards."""
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TMPDIR": str(tmp)}


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A constant 10 Mbit/s trace, a slow device (100 ms a block) and a fast cloud, two schedules."""
    write_trace(tmp_path / "trace.csv", [0, 1, 2, 3], [10, 10, 10, 10])
    write_profile(tmp_path / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0,
                  power={"compute": 5.0, "radio": 2.0, "idle": 1.0})
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0)
    write_scenario(tmp_path / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
                   schedules=[{"kind": "mobile-only"}, {"kind": "mercury", "split_after": 3, "reduction": 0.5}])
    return tmp_path


def test_run_into_a_closed_pipe_finishes_its_folder_and_exits_0(lab: Path) -> None:
    """The reader is gone before the first line (``| head -0``): the table's write meets EPIPE. The run
    still writes its whole folder (the table comes after it), says nothing and exits 0."""
    out = lab / "out"
    process = subprocess.Popen(_command("run", str(lab / "scenario.yaml"), "-o", str(out), "--no-report"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(lab / "tmp"))
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0
    assert all(line.startswith("warning: ") for line in err.decode().splitlines()), err  # nothing of the pipe
    assert {path.name for path in out.iterdir()} >= RUN_FILES
    assert json.loads((out / "summary.json").read_text())  # complete, not cut short


def test_closed_pipe_in_process_is_exit_0_and_the_stream_goes_to_devnull(monkeypatch: pytest.MonkeyPatch) -> None:
    """``schema`` prints through click, not rich: its EPIPE is silenced too, and later writes (the flush at
    exit) succeed, into /dev/null."""
    from simulator.cli.app import main

    read, write = os.pipe()
    os.close(read)
    stream = io.TextIOWrapper(io.BufferedWriter(io.FileIO(write, "w")), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        assert main(["schema"]) == 0
        assert sys.stdout is stream
        stream.write("more\n")
        stream.flush()
        assert os.path.samestat(os.fstat(write), os.stat(os.devnull))
    finally:
        stream.close()


def test_silence_closed_pipes_only_where_the_reader_has_gone() -> None:
    """The fallback for a BrokenPipeError that reached the top: stdout and stderr pointed at /dev/null where
    their pipe is closed, and nothing done (False) where it is not (a broken pipe to a worker is an error)."""
    from simulator.endings import silence_closed_pipes

    saved = os.dup(1), os.dup(2)
    try:
        read, write = os.pipe()
        os.dup2(write, 1)
        os.dup2(write, 2)
        assert silence_closed_pipes() is False
        os.close(read)
        assert silence_closed_pipes() is True
        assert os.path.samestat(os.fstat(1), os.stat(os.devnull))
        assert os.path.samestat(os.fstat(2), os.stat(os.devnull))
        os.close(write)
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def _saved(folder: Path) -> list[Path]:
    points = folder / "points"
    return sorted(points.glob("*.json")) if points.is_dir() else []


def _sweep(lab: Path, points: int) -> Path:
    """A sweep over ``points`` seeds of 3000 requests each (a fraction of a second a point)."""
    data = yaml.safe_load((lab / "scenario.yaml").read_text())
    data["workload"] = {"arrival": "poisson", "rate_per_s": 2, "n_requests": 3000, "seed": 1}
    (lab / "scenario.yaml").write_text(yaml.safe_dump(data))
    path = lab / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "scenario": "scenario.yaml",
                                    "grid": {"workload.seed": list(range(1, points + 1))}}))
    return path


def test_sigterm_of_a_sweep_says_what_it_saved_leaves_nothing_and_resumes(lab: Path) -> None:
    """SIGTERM a two-process sweep once a point is saved: the workers stop, one line tells how many points are
    saved, exit code 143 (128 + SIGTERM), its private TMPDIR is empty (no ``pymp-*`` of the pool) and no
    semaphore leaked (the warning would be on stderr); the sweep then computes only the points not saved."""
    from simulator.studies.sweep import load_sweep, run_sweep

    path, out, tmp = _sweep(lab, 8), lab / "out", lab / "tmp"
    command = _command("sweep", str(path), "-o", str(out), "-j", "2", "-q")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp))
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and not _saved(out) and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    saved = len(_saved(out))
    assert 1 <= saved < 8, f"{saved} points saved before the signal: the test needs a sweep stopped midway"
    assert process.returncode == 143, err
    assert err.splitlines() == [f"interrupted: {saved} of 8 points saved in {out / 'points'}/; "
                                "run the same command again to resume"]
    assert list(tmp.iterdir()) == []
    assert not (out / "sweep.parquet").exists()
    again = run_sweep(load_sweep(path), out_dir=out)  # what the same command runs
    assert (again.reused, again.computed) == (saved, 8 - saved)


def test_ctrl_c_of_a_sweep_is_exit_130_with_the_same_line(lab: Path) -> None:
    """Ctrl-C after the second point is saved (raised where the progress bar is told): code 130, two kept."""
    from simulator.endings import Stopped
    from simulator.studies.sweep import load_sweep, run_sweep

    path, out, done = _sweep(lab, 4), lab / "out", []

    def on_done() -> None:
        done.append(1)
        if len(done) == 2:
            raise KeyboardInterrupt

    try:
        run_sweep(load_sweep(path), workers=1, out_dir=out, on_done=on_done)
    except (Stopped, KeyboardInterrupt) as exc:
        stopped: BaseException = exc
    assert isinstance(stopped, Stopped) and stopped.exit_code == 130
    assert str(stopped) == f"interrupted: 2 of 4 points saved in {out / 'points'}/; run the same command again " \
                           "to resume"
    assert len(_saved(out)) == 2


def test_interrupt_exit_codes() -> None:
    from simulator.endings import Signalled, exit_code

    assert exit_code(KeyboardInterrupt()) == 128 + 2
    assert exit_code(Signalled(signal.SIGTERM)) == 128 + 15
    assert exit_code(Signalled(signal.SIGHUP)) == 128 + 1
