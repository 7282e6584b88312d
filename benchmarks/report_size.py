"""Size and write time of the HTML report for a one-million-request run.

Runs a small real scenario for the folder's summary, manifest and scenario, then replaces its records
with a synthetic frame of ``--requests`` rows in the real record schema (five schedules, periodic 30 fps
arrivals, log-normal latencies), recomputes summary.json and the trace window from those, and times
``write_report`` on the folder.

    PYTHONPATH=. python benchmarks/report_size.py            # --requests 200000 for a quicker run
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from simulator.model.records import FIELDS, STATUS_NAMES  # noqa: E402
from simulator.model.summary import summarize  # noqa: E402
from simulator.report import write_report  # noqa: E402
from simulator.results.outputs import write_records  # noqa: E402
from simulator.traces import read_trace_csv  # noqa: E402
from simulator.traces.replay_window import replay_window, write_window  # noqa: E402
from tests._report_runs import TRACE, run_cli, scenario_file  # noqa: E402


def synthetic_records(n: int, schedules: list[str], fps: float = 30.0, seed: int = 0) -> pd.DataFrame:
    """``n`` rows split evenly over ``schedules``, every record column present with its real dtype."""
    rng = np.random.default_rng(seed)
    per = n // len(schedules)
    rows = per * len(schedules)
    frame = pd.DataFrame({name: np.zeros(rows, dtype=dtype) for name, dtype in FIELDS.items()})
    frame["request_id"] = np.tile(np.arange(per), len(schedules))
    frame["arrival_s"] = frame.request_id / fps
    for column in ("mobile_ms", "uplink_ms", "cloud_ms", "mobile_queue_ms"):
        frame[column] = rng.lognormal(4.0, 0.6, len(frame))
    frame["total_ms"] = frame[["mobile_ms", "uplink_ms", "cloud_ms", "mobile_queue_ms"]].sum(axis=1)
    frame["accuracy"] = rng.uniform(88, 91, len(frame))
    frame["energy_j"] = frame.mobile_ms * 6e-3
    frame["uplink_bytes"] = 400_000
    frame.insert(0, "schedule", pd.Categorical(np.repeat(schedules, per), categories=schedules))
    frame["status"] = pd.Categorical(["ok"] * len(frame), categories=list(STATUS_NAMES.values()))
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out = folder / "out"
        scenario = scenario_file(folder, n_requests=5)
        assert run_cli(["run", str(scenario), "-o", str(out), "-q", "--no-report"]) == 0
        summary = json.loads((out / "summary.json").read_text())
        names = list(summary["schedules"])
        records = synthetic_records(args.requests, names)
        write_records(records, out / "records.parquet")
        summary["schedules"] = summarize(records, names, summary.get("deadline_ms"))
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        end_s = float(records.arrival_s.max() + records.total_ms.max() / 1e3)
        write_window(replay_window(read_trace_csv(TRACE), 0.0, end_s), out / "trace.parquet")
        start = time.perf_counter()
        path = write_report(out, self_contained=True)
        elapsed = time.perf_counter() - start
        size = path.stat().st_size
        linked = write_report(out).stat().st_size
        print(f"requests: {len(records):,}  schedules: {len(names)}  simulated span: {end_s:,.0f} s")
        print(f"records.parquet: {(out / 'records.parquet').stat().st_size / 1e6:.1f} MB  "
              f"trace.parquet: {(out / 'trace.parquet').stat().st_size / 1e6:.2f} MB")
        print(f"report.html --self-contained: {size / 1e6:.2f} MB (plotly.js inlined: 4.8 MB)  written in "
              f"{elapsed:.2f} s; default (plotly.js in a bundle file beside it): {linked / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
