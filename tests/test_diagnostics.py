"""A run's warnings: each code raised by a small scenario built to trigger it, with rho worked out by hand, and
the default scenario's warnings pinned.

The lab (conftest): a constant 10 Mbit/s trace; a device computing 10 ms + 12 x 100 ms + 5 ms = 1.215 s per
mobile-only request; a cloud computing 0.5 + 12 x 1 + 0.25 = 12.75 ms per cloud-only request at batch 1, whose
batch of 4 costs 2x one request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, write_profile, write_scenario

from simulator.config.scenario import load_scenario, scenario_from_dict
from simulator.errors import RunWarning, read_warning, read_warnings
from simulator.files.validation import load_yaml_mapping
from simulator.inputs.accuracy import AccuracyTable
from simulator.model.diagnostics import interpolation_warning, latency_growing, seed_warning
from simulator.model.runner import RunResult, run_scenario
from simulator.report.html import warnings_block

TAIL = " (monotone cubic): no row measures it; add one to the accuracy table to be sure"
CLOUD_ONLY = {"kind": "cloud-only", "image_bytes": 250_000}  # 2 Mbit: 0.2 s at 10 Mbit/s


def run_lab(lab: Path, **overrides: Any) -> RunResult:
    base: dict[str, Any] = {"mobile_profile": "mobile.yaml", "cloud_profile": "cloud.yaml"}
    base.update(overrides)
    return run_scenario(load_scenario(write_scenario(lab / "s.yaml", **base)))


def coded(result: RunResult, code: str) -> list[str]:
    return [w.message for w in result.warnings if w.code == code]


@pytest.fixture(scope="module")
def default() -> RunResult:
    return run_scenario(load_scenario(REPO / "scenarios" / "default.yaml"))


def test_the_default_scenario_warns_only_of_otas_reading_between_table_rows(default: RunResult) -> None:
    # Its OTAS meets the 89.9 % target at r = 9, between the table's tome rows r = 0 (91.2 %) and r = 15
    # (88.1 %): that top-1 (90.06 %) is PCHIP's, not a measurement. Mercury (0.5) and Janus (0.34) hit rows.
    assert default.warnings == [RunWarning("accuracy_interpolated",
                                           "otas: top-1 at r 9 interpolated between table rows 0 and 15" + TAIL)]


def test_a_device_that_drops_frames_is_loaded_but_not_warned_of(default: RunResult) -> None:
    entry = default.summary["mobile-only"]
    ok = default.records[(default.records.schedule == "mobile-only") & (default.records.status == "ok")]
    # 300 frames at 1 fps: 299 gaps over 299 s; every completed frame computes the same mobile_ms
    assert entry["load"]["device_cpu"]["rate_per_s"] == pytest.approx(1.0, rel=1e-12)
    assert entry["load"]["device_cpu"]["rho"] == pytest.approx(ok.mobile_ms.iloc[0] / 1e3, rel=1e-12)
    assert entry["load"]["device_cpu"]["rho"] > 2 and entry["dropped"] == 200
    assert set(entry["load"]) == {"device_cpu"}  # nothing sent, nothing computed in the cloud
    assert set(default.summary["cloud-only"]["load"]) == {"uplink", "gpu_pool"}


def test_an_uplink_offered_more_than_it_carries(lab: Path) -> None:
    result = run_lab(lab, schedules=[CLOUD_ONLY], workload={"arrival": "periodic", "fps": 8, "n_requests": 20,
                                                           "seed": 1})
    # 250,000 B x 8 = 2 Mbit per request, 8 per second: 16 Mbit/s offered to a 10 Mbit/s link
    load = result.summary["cloud-only"]["load"]
    assert load["uplink"]["rho"] == pytest.approx(16 / 10, rel=1e-12)
    assert load["uplink"]["bytes_per_request"] == 250_000 and load["uplink"]["rate_per_s"] == pytest.approx(8)
    # the GPU: 8 requests/s x 12.75 ms
    assert load["gpu_pool"]["rho"] == pytest.approx(8 * 12.75e-3, rel=1e-12)
    assert coded(result, "overload") == ["cloud-only: uplink offered 1.6x its capacity (250,000 bytes per request "
                                         "at 10 Mbit/s, 8 requests/s): latencies measure a growing queue"]
    assert len(coded(result, "trace_too_slow")) == 1  # the check before the run: 0.2 s per upload, 0.125 s apart
    # each upload waits 0.075 s longer than the one before: a queue that never drains
    [growing] = coded(result, "latency_growing")
    assert growing.startswith("cloud-only: latency grows over the run (median ")


def test_a_shared_cell_carries_every_device(lab: Path) -> None:
    result = run_lab(lab, schedules=[CLOUD_ONLY], network={"trace": "trace.csv", "sharing": "shared-cell"},
                     workload={"arrival": "periodic", "fps": 4, "n_requests": 20, "devices": 2, "seed": 1})
    uplink = result.summary["cloud-only"]["load"]["uplink"]
    assert uplink["rho"] == pytest.approx(2 * 4 * 2 / 10, rel=1e-9)  # 2 devices x 4/s x 2 Mbit over 10 Mbit/s
    assert coded(result, "overload") == [
        "cloud-only: uplink offered 1.6x its capacity (250,000 bytes per request at 10 Mbit/s, 8 requests/s from "
        "2 devices in one cell): latencies measure a growing queue"]


def test_a_batching_gpu_pool_is_credited_with_its_largest_batch(lab: Path) -> None:
    result = run_lab(lab, schedules=[{"kind": "cloud-only", "image_bytes": 1000}],
                     network={"trace": "trace.csv", "mode": "mean", "mean_mbps": 1000},
                     cloud={"gpus": 1, "max_batch": 4},
                     workload={"arrival": "periodic", "fps": 200, "n_requests": 40, "seed": 1})
    # 200/s x 12.75 ms at batch 1 = 2.55, but a batch of 4 costs 2x one: 2.55 x 2 / 4 = 1.275
    pool = result.summary["cloud-only"]["load"]["gpu_pool"]
    assert pool["rho"] == pytest.approx(200 * 12.75e-3 * 2 / 4, rel=1e-9)
    assert pool["demand_s"] == pytest.approx(12.75e-3, rel=1e-12)
    assert coded(result, "overload") == [
        "cloud-only: gpu_pool offered 1.27x its capacity (0.0127 s per request at batch 1, x2 for a batch of 4 on "
        "1 GPU, 200 requests/s): latencies measure a growing queue"]


@pytest.mark.parametrize(("window", "last_queue_ms"), [("first-job", 80.8125), ("oldest-request", 68.8125)])
def test_the_pools_credit_holds_under_either_batch_window(lab: Path, window: str, last_queue_ms: float) -> None:
    """The window rule moves when batches start, not the pool's capacity: full batches of 4 either way.

    Requests reach the pool every 5 ms from 0.008 ms (1000 B at 1000 Mbit/s). The first batch gathers 12 ms:
    3 jobs, 12.008-34.3205. A batch of 4 then lasts 25.5 ms, in which 5.1 more arrive, so every later batch is
    full: nine of them, to 263.8205. The last request (195.008) waits for them; its window has long passed
    (oldest-request: it starts at once, a 68.8125 ms wait) or opens when the GPU takes it (first-job: 12 ms
    more)."""
    result = run_lab(lab, schedules=[{"kind": "cloud-only", "image_bytes": 1000}],
                     network={"trace": "trace.csv", "mode": "mean", "mean_mbps": 1000},
                     cloud={"gpus": 1, "max_batch": 4, "batch_timeout_ms": 12, "batch_window": window},
                     workload={"arrival": "periodic", "fps": 200, "n_requests": 40, "seed": 1})
    records = result.records.sort_values("request_id")
    assert records.cloud_ms.tolist() == pytest.approx([22.3125] * 3 + [25.5] * 36 + [12.75])
    assert records.cloud_queue_ms.iloc[-1] == pytest.approx(last_queue_ms)
    assert result.summary["cloud-only"]["load"]["gpu_pool"]["rho"] == pytest.approx(200 * 12.75e-3 * 2 / 4)
    assert coded(result, "overload") == [
        "cloud-only: gpu_pool offered 1.27x its capacity (0.0127 s per request at batch 1, x2 for a batch of 4 on "
        "1 GPU, 200 requests/s): latencies measure a growing queue"]


def test_a_queueing_device_warns_a_dropping_one_does_not(lab: Path) -> None:
    work = {"arrival": "periodic", "fps": 1, "n_requests": 5, "seed": 1}
    queued = run_lab(lab, workload=work)
    assert queued.summary["mobile-only"]["load"]["device_cpu"]["rho"] == pytest.approx(1.215, rel=1e-12)
    assert coded(queued, "overload") == ["mobile-only: device_cpu offered 1.22x its capacity (1.22 s of compute "
                                         "per request on one core, 1 requests/s): latencies measure a growing queue"]
    dropping = run_lab(lab, workload={**work, "on_busy": "drop"})
    assert dropping.summary["mobile-only"]["load"]["device_cpu"]["rho"] == pytest.approx(1.215, rel=1e-12)
    assert dropping.summary["mobile-only"]["dropped"] == 2 and coded(dropping, "overload") == []
    closed = run_lab(lab, workload={"arrival": "back-to-back", "n_requests": 5, "seed": 1})
    assert coded(closed, "overload") == []  # each request waits for the one before: rho = 1, no queue


def frame(latency: list[float], unfinished: int = 0) -> pd.DataFrame:
    """Records of one schedule in arrival order, one per second; the last ``unfinished`` never finished."""
    n = len(latency) + unfinished
    return pd.DataFrame({"arrival_s": np.arange(n, dtype=float),
                         "total_ms": [*latency, *[np.nan] * unfinished],
                         "status": ["ok"] * len(latency) + ["unfinished"] * unfinished})


def test_latency_growing_needs_a_rise_through_every_quarter() -> None:
    rising = [100.0] * 10 + [300.0] * 10 + [600.0] * 10 + [900.0] * 10
    assert latency_growing("s", frame(rising)).code == "latency_growing"
    # a bad stretch of the trace: slower, then recovered, though the last quarter is still 4x the first
    recovered = [100.0] * 10 + [300.0] * 10 + [900.0] * 10 + [400.0] * 10
    assert latency_growing("s", frame(recovered)) is None
    assert latency_growing("s", frame([100.0] * 10 + [150.0] * 30)) is None  # 1.5x: not twice
    noise = np.random.default_rng(1).permutation(rising).tolist()
    assert latency_growing("s", frame(noise)) is None


def test_unfinished_requests_count_as_the_slowest() -> None:
    # the last quarter never finished: its median is unknown, and that is the strongest rise
    warning = latency_growing("s", frame([100.0] * 10 + [150.0] * 10 + [200.0] * 10, unfinished=10))
    assert warning is not None and "median unfinished over the last sixth" in warning.message
    assert "10 request(s) still unfinished when the run ended" in warning.message


def test_a_shipped_trace_that_slows_and_recovers_does_not_warn() -> None:
    # validate-lte's uplink dips late in its 20 s: cloud-only's last quarter is over twice its first, with a
    # significant trend, but the third quarter is slower than the fourth (rho is 0.26)
    result = run_scenario(load_scenario(REPO / "scenarios" / "validate-lte.yaml"))
    assert coded(result, "latency_growing") == [] and coded(result, "overload") == []


def test_accuracy_between_table_rows_names_the_rows(lab: Path) -> None:
    result = run_lab(lab, schedules=[{"kind": "otas", "split_after": 3, "r": 9},
                                     {"kind": "otas", "label": "on-a-row", "split_after": 3, "r": 15},
                                     {"kind": "mercury", "split_after": 1, "reduction": 0.6, "reconstruction": "none"},
                                     {"kind": "otas", "label": "beyond", "split_after": 3, "r": 25}],
                     workload={"arrival": "periodic", "fps": 0.5, "n_requests": 3, "seed": 1})
    # the shipped table's tome rows: r = 0, 15, 20 (any split); mercury/none at split 1: 0, 0.5, 0.75
    assert coded(result, "accuracy_interpolated") == [
        "otas: top-1 at r 9 interpolated between table rows 0 and 15" + TAIL,
        "mercury: top-1 at reduction 0.6 interpolated between table rows 0.5 and 0.75 (split 1)" + TAIL]
    # r = 25 lies beyond the table's last row: no top-1 at all, not an interpolated one
    assert coded(result, "accuracy_unknown") == ["beyond: top-1 unknown for 3 of 3 completed requests, so its mean "
                                                 "accuracy is null"]
    assert any(m.startswith("beyond: parameter 25 outside") for m in coded(result, "schedule"))
    # the records say it per request, the summary counts it: r = 9 and reduction 0.6 lie between rows,
    # r = 15 sits on one and r = 25 has no top-1 at all
    marked = result.records.groupby("schedule", observed=True).accuracy_interpolated.agg(["sum", "size"])
    assert marked.to_dict("index") == {"otas": {"sum": 3, "size": 3}, "on-a-row": {"sum": 0, "size": 3},
                                       "mercury": {"sum": 3, "size": 3}, "beyond": {"sum": 0, "size": 3}}
    assert [result.summary[s].get("accuracy_interpolated") for s in ("otas", "on-a-row", "mercury", "beyond")] \
        == [3, None, 3, None]


def test_a_dropped_request_is_marked_but_not_counted(lab: Path) -> None:
    # frames every 10 ms on a device that computes 3 blocks: the device is busy for most arrivals, which drop;
    # every row carries OTAS's interpolated top-1 (r = 9), and only completed requests count in the summary
    result = run_lab(lab, schedules=[{"kind": "otas", "split_after": 3, "r": 9}],
                     workload={"arrival": "periodic", "fps": 100, "n_requests": 12, "seed": 1, "on_busy": "drop"})
    rows, entry = result.records, result.summary["otas"]
    assert 0 < entry["dropped"] < len(rows) and rows.accuracy_interpolated.all()
    assert entry["accuracy_interpolated"] == entry["count"] == len(rows) - entry["dropped"]


def test_a_parameter_within_tolerance_of_a_row_reads_the_row() -> None:
    curve = AccuracyTable.shipped().curve("deit_base_distilled_patch16_224", "cifar100", "tome", 3)
    assert curve.interpolated(15 + 1e-10) is None and curve.interpolated(0.0) is None
    assert curve.interpolated(20.0) is None and curve.interpolated(21.0) is None  # outside: no rows around it
    between = curve.interpolated(15.5)
    assert (between.below, between.above, between.split_after) == (15.0, 20.0, None)


def test_a_parameter_chosen_per_request_warns_once() -> None:
    result = run_scenario(load_scenario(REPO / "scenarios" / "adaptive-5g-driving.yaml"))
    [janus] = [m for m in coded(result, "accuracy_interpolated") if m.startswith("janus-scheduler:")]
    rows = result.records[(result.records.schedule == "janus-scheduler") & (result.records.status == "ok")]
    # the janus rows sit at alpha 0 and 0.34; above 0.34 top-1 is unknown, not interpolated
    between = rows[(rows.parameter > 0) & (rows.parameter < 0.34)]
    assert len(between) > 0 and rows.parameter.nunique() > 1
    assert rows.accuracy_interpolated.to_numpy().tolist() == \
        ((rows.parameter > 0) & (rows.parameter < 0.34)).tolist()  # per request, as it chose
    assert result.summary["janus-scheduler"]["accuracy_interpolated"] == len(between)
    assert janus.startswith(f"janus-scheduler: alpha chosen per request; top-1 interpolated between table rows "
                            f"for {len(between)} of {len(rows)} completed requests ({between.parameter.nunique()} "
                            f"of the {rows.parameter.nunique()} values chosen, e.g. top-1 at alpha ")


def test_interpolation_only_counts_the_pairs_the_requests_used() -> None:
    from simulator.inputs.accuracy import Interpolated

    rows = pd.DataFrame({"status": ["ok", "ok", "dropped"], "parameter": [0.0, 0.0, 0.2],
                         "accuracy": [91.2, 91.2, 90.5]})
    notes = {(0.2, 90.5): Interpolated("janus", None, 0.2, 0.0, 0.34)}
    assert interpolation_warning("j", rows, notes) is None  # the one interpolated plan never completed


def test_energy_unknown(lab: Path) -> None:
    import yaml

    data = yaml.safe_load(write_profile(lab / "nopower.yaml", block_ms=1.0).read_text())
    del data["power_w"]
    (lab / "nopower.yaml").write_text(yaml.safe_dump(data))
    result = run_lab(lab, mobile_profile="nopower.yaml")
    assert [w.code for w in result.warnings] == ["energy_unknown"]


def test_a_seed_list_that_cannot_differ() -> None:
    data = load_yaml_mapping(REPO / "scenarios" / "paper-fig8.yaml")
    scenario = scenario_from_dict(data, REPO / "scenarios" / "paper-fig8.yaml")
    assert seed_warning(scenario, [1]) is None and seed_warning(scenario, [1, 1]) is None
    warning = seed_warning(scenario, [1, 2, 3])
    assert warning.code == "seed_no_effect"
    assert warning.message == ("seed has no effect: arrivals are back-to-back and network.mode is mean (a constant "
                               "bandwidth, where start offsets change nothing); its 3 seeds repeat one run")
    data["workload"] = {"arrival": "poisson", "rate_per_s": 1, "n_requests": 5, "seed": 1}
    assert seed_warning(scenario_from_dict(data, REPO / "scenarios" / "paper-fig8.yaml"), [1, 2]) is None


def test_older_folders_plain_strings_read_with_a_code() -> None:
    assert read_warning("uplink overloaded: x") == RunWarning("trace_too_slow", "uplink overloaded: x")
    assert read_warning("energy unknown: y").code == "energy_unknown"
    assert read_warning("seed changed nothing: z").code == "seed_no_effect"
    assert read_warning("otas: the table ends at 20") == RunWarning("other", "otas: the table ends at 20")
    assert read_warning({"code": "overload", "message": "m"}) == RunWarning("overload", "m")
    assert read_warnings(None) == [] and str(RunWarning("overload", "m")) == "m"


def test_the_report_lists_code_and_message_for_old_and_new_folders() -> None:
    html = warnings_block({"warnings": [{"code": "overload", "message": "a <b>"}, "energy unknown: c"]})
    assert '<li data-code="overload"><code>overload</code> a &lt;b&gt;</li>' in html
    assert '<li data-code="energy_unknown"><code>energy_unknown</code> energy unknown: c</li>' in html
    assert warnings_block({}) == '<p id="no-warnings">None.</p>'


def test_run_prints_warnings_before_the_table_and_stores_them(lab: Path) -> None:
    scenario = write_scenario(lab / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml")
    out = lab / "out"
    shown = subprocess.run([sys.executable, "-m", "simulator", "run", str(scenario), "-o", str(out), "--no-report"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=True,
                           env={"COLUMNS": "200", "PATH": "", "PYTHONUNBUFFERED": "1"})  # both streams in order
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("warning: mobile-only: device_cpu offered 1.22x its capacity")
    assert any(line.startswith("│ mobile-only") for line in lines[1:])  # the table, after it
    summary = json.loads((out / "summary.json").read_text())
    assert [w["code"] for w in summary["warnings"]] == ["overload"]
    assert summary["schedules"]["mobile-only"]["load"]["device_cpu"]["rho"] == pytest.approx(1.215)


def test_a_sweep_keeps_its_points_warnings_naming_the_point(lab: Path) -> None:
    import yaml

    from simulator.cli.app import main

    write_scenario(lab / "scenario.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml")
    sweep = lab / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "s", "scenario": "scenario.yaml", "grid": {"workload.fps": [0.5, 1]}}))
    assert main(["sweep", str(sweep), "-o", str(lab / "out"), "-q", "-j", "1"]) in (0, None)
    # 0.5 fps: 1.215 s every 2 s (rho 0.61); 1 fps: rho 1.215
    assert json.loads((lab / "out" / "sweep.json").read_text())["warnings"] == [
        {"code": "overload", "message": "point 1 (workload.fps=1): mobile-only: device_cpu offered 1.22x its "
                                        "capacity (1.22 s of compute per request on one core, 1 requests/s): "
                                        "latencies measure a growing queue"}]


def test_compare_keeps_each_runs_warnings_naming_the_run(lab: Path) -> None:
    from simulator.cli.app import main

    for name, fps in (("slow", 0.5), ("fast", 1)):
        scenario = write_scenario(lab / f"{name}.yaml", name=name, mobile_profile="mobile.yaml",
                                  cloud_profile="cloud.yaml", workload={"arrival": "periodic", "fps": fps,
                                                                        "n_requests": 5, "seed": 1})
        assert main(["run", str(scenario), "-o", str(lab / name), "-q", "--no-report"]) in (0, None)
    assert main(["compare", str(lab / "slow"), str(lab / "fast"), "-o", str(lab / "cmp"), "-q"]) in (0, None)
    document = json.loads((lab / "cmp" / "compare.json").read_text())
    [warning] = document["warnings"]
    assert warning["code"] == "overload" and warning["message"].startswith("fast: mobile-only: device_cpu offered")


def test_a_replicated_run_whose_seeds_cannot_differ_warns_first(lab: Path) -> None:
    result = run_lab(lab, workload={"arrival": "periodic", "fps": 0.5, "n_requests": 3, "seed": [1, 2]})
    assert result.warnings == [RunWarning("seed_no_effect", "seed has no effect: arrivals are periodic (workload.fps) "
                                          "from one device and network.start_offset_s is fixed at 0; its 2 seeds "
                                          "repeat one run")]


def test_a_replicated_run_merges_a_warning_only_across_seeds() -> None:
    """Seeds differ in a warning's numbers: one warning, saying at how many seeds. Two schedules, or two
    resources of one schedule, stay two warnings (sharded-2 and sharded-3 are different schedules)."""
    from simulator.model.diagnostics import merge_seed_warnings

    def slow(label: str, seconds: float) -> RunWarning:
        return RunWarning("trace_too_slow", f"uplink overloaded: {label} uploads 2,200,000 bytes per request, "
                                            f"{seconds:.3g} s at 4.8 Mbit/s")

    merged = merge_seed_warnings({1: [slow("sharded-2", 3.66), slow("sharded-3", 2.1)],
                                  2: [slow("sharded-2", 3.71), slow("sharded-3", 2.1)],
                                  3: [slow("sharded-3", 2.1)]})
    assert [w.message for w in merged] == [
        slow("sharded-2", 3.66).message + " (at 2 of 3 seeds; seed 1's numbers)", slow("sharded-3", 2.1).message]
    both = [RunWarning("overload", "cloud-only: uplink offered 4.69x its capacity"),
            RunWarning("overload", "cloud-only: gpu_pool offered 1.2x its capacity")]
    assert merge_seed_warnings({1: both, 2: both}) == both
