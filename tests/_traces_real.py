"""Shared helpers of the trace tests: where the real Ghoshal set lives, and running the CLI in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "traces" / "ghoshal-5gmemu2022"
SYNTHETIC = REPO / "traces" / "synthetic"

needs_real = pytest.mark.skipif(
    not (REAL / "throughput").is_dir(),
    reason=f"real Ghoshal 2022 set not found at {REAL} (see traces/README.md to download it)",
)


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run ``mercury-sim`` in-process; returns (exit code, stdout, stderr)."""
    from simulator.cli.app import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
