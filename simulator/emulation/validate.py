"""``mercury-sim validate``: the simulator and the testbed on the same scenario and seed, compared.

The simulator runs with a profile of this host (``--fresh``: re-measured right before the emulation, as
``benchmarks/profile_validation.py --fresh`` does, so both sides see the same background load; else the
scenario's own profiles). The fresh profile also measures the forward's after-idle cost, and the simulation
prices it (``compute_after_idle``: the testbed's devices idle between frames). The comparison gives, per
schedule, the simulated and measured mean, p50 and p95
of the total latency and of each component, with relative errors ``(simulated - measured) / measured``,
and a page in the report's style with both CDFs per schedule.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.scenario import Scenario, scenario_from_dict

METRICS = ("total_ms", "mobile_queue_ms", "mobile_ms", "uplink_queue_ms", "uplink_ms", "cloud_queue_ms",
           "cloud_ms", "return_ms")
STATS = ("mean", "p50", "p95")
FRESH_TOKENS = (10, 50, 100, 150, 198)
AFTER_IDLE_S = 0.5  # the validation scenarios' frame interval (2 fps)
# The comparison is of mean latencies, and on the dedicated core at real-time priority nothing preempts the
# measurement: so the profile stores means of single calls, not the robust median of the faster of two
# (7-8 % below the mean DeiT-Ti forward), and the after-idle cost is a difference of means over enough pairs
# for its bimodal cold forwards (README "How close to reality").
FRESH_STATISTIC = "mean"
AFTER_IDLE_PAIRS = 24
VALIDATION_MARKER = "validation.json"
VALIDATION_FILES = frozenset({VALIDATION_MARKER, "comparison.csv", "validation.html", "host-profile.yaml"})


@dataclass
class Validation:
    simulated: Any  # RunResult
    emulated: Any   # EmulationResult
    table: pd.DataFrame


def with_profile(scenario: Scenario, profile_path: Path, *, after_idle: bool = False) -> Scenario:
    """The same scenario with both sides priced on one profile file (this host), and with the profile's
    after-idle cost when asked (``compute_after_idle``)."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["mobile_profile"] = data["cloud_profile"] = str(profile_path.resolve())
    data["compute_after_idle"] = data.get("compute_after_idle", False) or after_idle
    assert scenario.path is not None
    return scenario_from_dict(data, scenario.path)


def measure_host_profile(model: str, path: Path, repeats: int = 10) -> Path:
    """Profile ``model`` now as the workers compute: one thread, pinned to the first device's core, at
    their real-time priority where the system allows it (on a loaded host a profile at normal priority
    times the neighbours too: a DeiT-Ti forward priced at 2x its CPU time at load average 5)."""
    import os

    from simulator.emulation.exclusive import exclusive_testbed, tell_stderr
    from simulator.emulation.shaper import realtime
    from simulator.emulation.testbed import assign_cores
    from simulator.emulation.workers import WORKER_PRIORITY
    from simulator.ml.profiler import ProfilePlan, set_threads, write_profile
    from simulator.ml.profiler_cli import run_plan

    affinity, policy, priority = os.sched_getaffinity(0), os.sched_getscheduler(0), os.sched_getparam(0)
    set_threads(1)
    with exclusive_testbed(on_wait=tell_stderr):  # the testbed's cores at its priority: one user at a time
        os.sched_setaffinity(0, {assign_cores(1)[1][0]})
        try:
            at_realtime = realtime(WORKER_PRIORITY)
            plan = ProfilePlan((model,), FRESH_TOKENS, (1,), repeats, 2, 1, after_idle_s=AFTER_IDLE_S,
                               statistic=FRESH_STATISTIC, after_idle_pairs=AFTER_IDLE_PAIRS)
            document = run_plan(plan, "host-fresh", quiet=True)
            document["host"]["realtime_priority"] = at_realtime
            write_profile(path, document)
        finally:
            os.sched_setscheduler(0, policy, priority)
            os.sched_setaffinity(0, affinity)
    return path


def _stats(values: np.ndarray) -> dict[str, float]:
    if not values.size:
        return dict.fromkeys(STATS, math.nan)
    p50, p95 = np.percentile(values, [50, 95])
    return {"mean": float(values.mean()), "p50": float(p50), "p95": float(p95)}


def relative_error(simulated: float, measured: float) -> float:
    return (simulated - measured) / measured if measured else math.nan


def comparison_table(simulated: pd.DataFrame, emulated: pd.DataFrame, schedules: list[str]) -> pd.DataFrame:
    """One row per (schedule, metric): simulated and measured statistics over completed requests, errors."""
    rows = []
    for name in schedules:
        sim = simulated[(simulated.schedule == name) & (simulated.status == "ok")]
        emu = emulated[(emulated.schedule == name) & (emulated.status == "ok")]
        for metric in METRICS:
            s, m = _stats(sim[metric].to_numpy(float)), _stats(emu[metric].to_numpy(float))
            row: dict[str, Any] = {"schedule": name, "metric": metric, "simulated_n": len(sim), "measured_n": len(emu)}
            for stat in STATS:
                row[f"simulated_{stat}"] = s[stat]
                row[f"measured_{stat}"] = m[stat]
                row[f"error_{stat}"] = relative_error(s[stat], m[stat])
            rows.append(row)
    return pd.DataFrame(rows)


def guard_validation_folder(out_dir: Path, scenario: Scenario) -> None:
    """Refuse (one line, exit 2) an output folder that is not new, empty or an earlier validation's."""
    from simulator.output_guard import guard_folder
    from simulator.outputs import is_run_folder

    inputs = [Path(scenario.path)] if scenario.path is not None else []
    guard_folder(out_dir, marker=VALIDATION_MARKER, written=VALIDATION_FILES, inputs=inputs,
                 subfolder=lambda sub: sub.name in ("simulated", "emulated") and is_run_folder(sub))


def run_validation(scenario: Scenario, out_dir: Path, *, fresh: bool, progress: Any = None,
                   command: list[str] | None = None) -> Validation:
    """Emulate, simulate (on a fresh host profile when asked), compare; write everything into ``out_dir``."""
    import simulator
    from simulator.atomic import atomic_directory
    from simulator.emulation.exclusive import exclusive_testbed, tell_stderr
    from simulator.emulation.testbed import emulate_scenario
    from simulator.outputs import write_run
    from simulator.runner import run_scenario

    guard_validation_folder(out_dir, scenario)
    with atomic_directory(out_dir) as staging:
        priced = scenario
        with exclusive_testbed(on_wait=tell_stderr):  # no other run between the profile and the emulation
            if fresh:
                priced = with_profile(scenario, measure_host_profile(scenario.model, staging / "host-profile.yaml"),
                                      after_idle=True)
            emulated = emulate_scenario(scenario, progress=progress)
        simulated = run_scenario(priced)
        labels = list(simulated.records.schedule.cat.categories)
        table = comparison_table(simulated.records, emulated.run.records, labels)
        write_run(simulated, staging / "simulated", report=True)
        write_run(emulated.run, staging / "emulated", report=True,
                  extra={"emulation.json": json.dumps(emulated.facts, indent=2) + "\n"})
        table.to_csv(staging / "comparison.csv", index=False, float_format="%.6g")
        marker = {"mercury_sim_version": simulator.__version__, "command": command,
                  "scenario": str(scenario.path), "fresh_profile": fresh}
        (staging / VALIDATION_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        (staging / "validation.html").write_text(validation_page(scenario, table, simulated.records,
                                                                 emulated.run.records, emulated.facts, fresh))
    return Validation(simulated, emulated, table)


def _cell(value: float, percent: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{100 * value:+.1f} %" if percent else f"{value:.1f}"


def table_html(table: pd.DataFrame) -> str:
    head = ["schedule", "component", "n sim/meas", *[f"{s} sim / meas (ms)" for s in STATS],
            *[f"{s} error" for s in STATS]]
    body = []
    for row in table.itertuples(index=False):
        r = row._asdict()
        cells = [escape(str(r["schedule"])), escape(str(r["metric"])), f"{r['simulated_n']}/{r['measured_n']}"]
        cells += [f"{_cell(r[f'simulated_{s}'])} / {_cell(r[f'measured_{s}'])}" for s in STATS]
        cells += [_cell(r[f"error_{s}"], percent=True) for s in STATS]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ("<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


def cdf_figure(name: str, simulated: pd.DataFrame, emulated: pd.DataFrame) -> Any:
    import plotly.graph_objects as go

    from simulator.report.figures import TEMPLATE
    from simulator.report.series import cdf_points, completed

    fig = go.Figure()
    for label, records, dash in (("simulated", simulated, "solid"), ("emulated (measured)", emulated, "dash")):
        x, y = cdf_points(completed(records, name).total_ms.to_numpy())
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line_shape="hv", name=label, line={"dash": dash}))
    fig.update_layout(template=TEMPLATE, title=f"{name}: end-to-end latency CDF", xaxis_title="latency (ms)",
                      yaxis_title="fraction of requests", yaxis_range=[0, 1.02], height=360)
    return fig


def validation_page(scenario: Scenario, table: pd.DataFrame, simulated: pd.DataFrame, emulated: pd.DataFrame,
                    facts: dict[str, Any], fresh: bool) -> str:
    from simulator.emulation.testbed import facts_text
    from simulator.report.html import Section, figure_block, page

    profile = "a profile of this host measured right before the emulation (--fresh)" if fresh else \
        f"the scenario's profiles ({escape(scenario.mobile_profile)}, {escape(scenario.cloud_profile)})"
    intro = (f"<p>Scenario <code>{escape(scenario.name)}</code>, seed {scenario.workload.seed}. Simulated with "
             f"{profile}; measured on the emulated testbed. Error = (simulated - measured) / measured, over "
             "completed requests.</p><ul>" + "".join(f"<li>{escape(x)}</li>" for x in facts_text(facts)) + "</ul>")
    sections = [Section("comparison", "Simulated vs measured", intro + table_html(table))]
    for i, name in enumerate(table.schedule.unique()):
        sections.append(Section(f"cdf-{i}", f"{name}: CDF", figure_block(f"cdf-{i}", cdf_figure(name, simulated,
                                                                                                 emulated))))
    return page(f"Validation: {scenario.name}", sections)


def print_comparison(table: pd.DataFrame, echo: Any) -> None:
    """The total-latency rows, for the terminal."""
    echo(f"{'schedule':14s} {'sim mean':>9s} {'meas mean':>9s} {'err':>7s} {'sim p95':>8s} {'meas p95':>8s} "
         f"{'err':>7s}")
    for row in table[table.metric == "total_ms"].itertuples(index=False):
        echo(f"{row.schedule:14s} {row.simulated_mean:9.1f} {row.measured_mean:9.1f} {100 * row.error_mean:+6.1f}% "
             f"{row.simulated_p95:8.1f} {row.measured_p95:8.1f} {100 * row.error_p95:+6.1f}%")
