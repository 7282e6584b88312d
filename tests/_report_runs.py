"""Shared helpers of the report tests: a small five-schedule scenario and running the CLI in-process."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TRACE = REPO / "traces" / "synthetic" / "lte-all.csv"
HOSTILE = '<script>window.__pwned=true</script>"><img src=x onerror="window.__pwned=true">'
CLAIMS = [
    {"claim": "Mercury beats Janus on latency", "expected": "< 1.0x", "simulated": "0.8x", "verdict": "pass",
     "source": "Fig. 8"},
    {"claim": f"hostile {HOSTILE}", "expected": "1", "simulated": "2", "verdict": "fail", "source": HOSTILE},
]


def scenario_file(folder: Path, name: str = "report-test", first_label: str | None = None,
                  n_requests: int = 40) -> Path:
    """Write a five-schedule scenario (the issue's parameters) on the shipped LTE trace; returns its path."""
    schedules = [
        {"kind": "mobile-only"},
        {"kind": "cloud-only"},
        {"kind": "otas", "split_after": 3, "r": 15},
        {"kind": "janus", "split_after": 3, "alpha": 0.34},
        {"kind": "mercury", "split_after": 3, "reduction": 0.3316},
    ]
    if first_label:
        schedules[0]["label"] = first_label
    doc = {
        "name": name, "dataset": "cifar100", "mobile_profile": "raspberry-pi-4b", "cloud_profile": "rtx-4090",
        "network": {"trace": str(TRACE)},
        "workload": {"fps": 2, "n_requests": n_requests, "seed": 3, "deadline_ms": 1500},
        "schedules": schedules,
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_cli(args: list[str]) -> int:
    """Run ``mercury-sim`` in-process; returns its exit code."""
    from simulator.cli.app import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
