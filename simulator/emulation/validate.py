"""``mercury-sim validate``: the simulator and the testbed on the same scenario and seed, compared.

The simulator runs with a profile of this host (``--fresh``: re-measured right before the emulation, as
``benchmarks/profile_validation.py --fresh`` does, so both sides see the same background load; else the
scenario's own profiles). The fresh profile also measures the forward's after-idle cost, and the simulation
prices it (``compute_after_idle``: the testbed's devices idle between frames). The comparison gives, per
schedule, the simulated and measured mean, p50 and p95
of the total latency and of each component, with relative errors ``(simulated - measured) / measured``
and absolute ones (``simulated - measured``, ms), and a page in the report's style with both CDFs per
schedule. The page and the terminal show a part measured under ``ABSOLUTE_BELOW_MS`` by its absolute error.
Where the simulation's profiles carry quantiles of single calls (a fresh profile does), the comparison is
made twice: as the scenario says, and with ``compute.variability`` the other way (sampled compute when the
scenario keeps it constant, constant when it samples), so the tails of both models meet the measured one.
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

from simulator.config.scenario import Scenario, scenario_from_dict

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
# Under this measured time a part's error is shown in ms, not in %: the testbed's own timing noise is 1-2 ms
# (rate changes land 1.5-2.1 ms late, results return over the veth in 0.3-2 ms, a compute waits up to 1.2 ms
# off its core: README "How close to reality"), so a percentage of a sub-5 ms part (+12649 % for 1.8 ms
# against 0.1 ms) measures that noise, while its difference in ms says what it can add to a total.
ABSOLUTE_BELOW_MS = 5.0
VALIDATION_MARKER = "validation.json"
VALIDATION_FILES = frozenset({VALIDATION_MARKER, "comparison.csv", "comparison-drift-removed.csv", "host-speed.csv",
                              "validation.html", "host-profile.yaml", "comparison-sampled.csv",
                              "comparison-constant.csv"})
# The other compute model's comparison file, by the variability it simulated (simulator/model/variability.py).
OTHER_COMPUTE_FILE = {"profile": "comparison-sampled.csv", "none": "comparison-constant.csv"}


@dataclass
class Validation:
    simulated: Any  # RunResult
    emulated: Any   # EmulationResult
    table: pd.DataFrame
    speed: pd.DataFrame  # host_speed_table
    drift_removed: pd.DataFrame  # the comparison again, the simulation on drift_removed_records
    other_compute: pd.DataFrame | None = None  # the comparison with compute.variability the other way
    other_variability: str | None = None  # what other_compute simulated: "profile" (sampled) or "none"


def with_profile(scenario: Scenario, profile_path: Path, *, after_idle: bool = False) -> Scenario:
    """The same scenario with both sides priced on one profile file (this host), and with the profile's
    after-idle cost when asked (``compute_after_idle``)."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["mobile_profile"] = data["cloud_profile"] = str(profile_path.resolve())
    data["compute_after_idle"] = data.get("compute_after_idle", False) or after_idle
    assert scenario.path is not None
    return scenario_from_dict(data, scenario.path)


def with_variability(scenario: Scenario, variability: str) -> Scenario:
    """The same scenario with ``compute.variability`` set (simulator/model/variability.py)."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["compute"] = {**data.get("compute", {}), "variability": variability}
    assert scenario.path is not None
    return scenario_from_dict(data, scenario.path)


def other_compute_records(priced: Scenario) -> tuple[str, pd.DataFrame] | None:
    """The simulation with ``compute.variability`` the other way, when a profile carries quantiles (else the
    two models are the same): (the variability it ran, its records)."""
    from simulator.model.runner import resolve_inputs, run_scenario

    inputs = resolve_inputs(priced)
    if not any(p.has_distribution for p in (inputs.mobile, inputs.cloud)):
        return None
    other = "none" if priced.compute.variability == "profile" else "profile"
    return other, run_scenario(with_variability(priced, other)).records


def measure_host_profile(model: str, path: Path, repeats: int = 10) -> Path:
    """Profile ``model`` now as the workers compute: one thread, pinned to the first device's core, at
    their real-time priority where the system allows it (on a loaded host a profile at normal priority
    times the neighbours too: a DeiT-Ti forward priced at 2x its CPU time at load average 5)."""
    import os

    from simulator.emulation.exclusive import exclusive_testbed, tell_stderr
    from simulator.emulation.shaper import realtime
    from simulator.emulation.testbed import assign_cores
    from simulator.emulation.workers import WORKER_PRIORITY
    from simulator.ml.profiler import ProfilePlan, run_plan, set_threads, write_profile

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


def error_text(simulated: float, measured: float) -> str:
    """The error as shown: ``+20.0 %`` of the measured value, or ``+1.7 ms`` where that is under
    ``ABSOLUTE_BELOW_MS`` (a percentage of so short a part is the testbed's timing noise); ``–`` where one is
    missing."""
    if not (math.isfinite(simulated) and math.isfinite(measured)):
        return "–"
    if abs(measured) < ABSOLUTE_BELOW_MS:
        return f"{simulated - measured:+.1f} ms"
    return f"{100 * relative_error(simulated, measured):+.1f} %"


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
            row.update({f"abs_error_{stat}": s[stat] - m[stat] for stat in STATS})  # ms; after the older columns
            rows.append(row)
    return pd.DataFrame(rows)


STEADY = 0.10  # a steady host: a schedule's before and after snapshots differ by at most this of their mean


def host_speed_table(scenario: Scenario, facts: dict[str, Any]) -> pd.DataFrame:
    """Per schedule and side: the whole unreduced forward as each worker timed it right before and right after
    the schedule (thread CPU time), their mean against the profile's price of it, the drift (measured / priced
    - 1), and whether the host held steady meanwhile (the two snapshots differ by at most ``STEADY`` of their
    mean).

    The profile is measured minutes before the emulation, and this host's compute speed drifts by up to
    25 % within a minute, which no simulator can know: a compute error of the comparison that matches the
    drift here is the host's, not the model's. A snapshot is 5 forwards; a burst that one of them caught
    and the schedule did not shows as an unsteady row.
    """
    from simulator.model.runner import resolve_inputs
    from simulator.plans.plan import stages_ms
    from simulator.schedules.base import full_model_stages

    inputs = resolve_inputs(scenario)
    priced = {side: stages_ms(profile, inputs.spec, full_model_stages(inputs.spec))
              for side, profile in (("mobile", inputs.mobile), ("cloud", inputs.cloud))}
    rows = []
    for schedule, seen in facts.get("per_schedule", {}).items():
        before, after = seen.get("reference_forward_ms") or {}, seen.get("reference_after_ms") or {}
        for side in ("mobile", "cloud"):
            if side not in before:
                continue
            snapshots = [before[side], *([after[side]] if side in after else [])]
            measured = sum(snapshots) / len(snapshots)
            rows.append({"schedule": schedule, "side": side, "before_ms": before[side],
                         "after_ms": after.get(side, math.nan), "measured_forward_ms": measured,
                         "priced_forward_ms": priced[side], "drift": measured / priced[side] - 1,
                         "steady": max(snapshots) - min(snapshots) <= STEADY * measured})
    return pd.DataFrame(rows, columns=["schedule", "side", "before_ms", "after_ms", "measured_forward_ms",
                                       "priced_forward_ms", "drift", "steady"])


def scaled_profile(path: Path, factor: float, out: Path) -> Path:
    """The profile with every stage curve (points, their spread, the fit) times ``factor``, written to ``out``;
    its after-idle cost, batch scaling and power kept (a cold cache and a batch are relative costs)."""
    import yaml

    document = yaml.safe_load(path.read_text())
    for stages in document["models"].values():
        for curve in stages.values():
            points, fit = curve.get("points") or {}, curve.get("fit") or {}
            for key in ("ms", "spread_ms"):
                if key in points:
                    points[key] = [value * factor for value in points[key]]
            if "quantiles_ms" in points:
                points["quantiles_ms"] = [[value * factor for value in row] for row in points["quantiles_ms"]]
            for key in ("a_ms", "b_ms", "c_ms"):
                if key in fit:
                    fit[key] *= factor
    document.setdefault("provenance", {})["scaled"] = f"every stage curve x {factor:.6g} (host drift removed)"
    out.write_text(yaml.safe_dump(document, sort_keys=False))
    return out


def drift_removed_records(priced: Scenario, labels: list[str], speed: pd.DataFrame, work_dir: Path) -> pd.DataFrame:
    """The simulation again with the host's drift taken out: each schedule alone (arrivals depend on the seed
    and device only, so they are the same), each side's profile scaled to the whole forward its worker timed
    around that schedule (``host_speed_table``; factor 1 where none was timed). What then remains of an error
    is the model's, where the host held steady: the per-stage and per-token shape of the profile, the
    network, the queues."""
    from simulator.model.runner import resolve_inputs, run_scenario

    inputs = resolve_inputs(priced)
    paths = {"mobile": inputs.mobile.path, "cloud": inputs.cloud.path}  # a scenario's profiles are files
    drift = {(r.schedule, r.side): r.drift for r in speed.itertuples(index=False)}
    base = priced.model_dump(mode="json", exclude_none=True)
    frames = []
    for index, (schedule, label) in enumerate(zip(base["schedules"], labels, strict=True)):
        data = {**base, "schedules": [schedule]}
        for side in ("mobile", "cloud"):
            factor = 1.0 + drift.get((label, side), 0.0)
            data[f"{side}_profile"] = str(scaled_profile(Path(paths[side]), factor, work_dir / f"{index}-{side}.yaml"))
        records = run_scenario(scenario_from_dict(data, Path(priced.path or "."))).records
        frames.append(records.assign(schedule=label))
    records = pd.concat(frames, ignore_index=True)
    records["schedule"] = pd.Categorical(records["schedule"], categories=labels)
    return records


def guard_validation_folder(out_dir: Path, scenario: Scenario) -> None:
    """Refuse (one line, exit 2) an output folder that is not new, empty or an earlier validation's."""
    from simulator.files.output_guard import guard_folder
    from simulator.results.outputs import is_run_folder

    inputs = [Path(scenario.path)] if scenario.path is not None else []
    guard_folder(out_dir, marker=VALIDATION_MARKER, written=VALIDATION_FILES, inputs=inputs,
                 subfolder=lambda sub: sub.name in ("simulated", "emulated") and is_run_folder(sub))


def run_validation(scenario: Scenario, out_dir: Path, *, fresh: bool, progress: Any = None,
                   command: list[str] | None = None) -> Validation:
    """Emulate, simulate (on a fresh host profile when asked), compare; write everything into ``out_dir``."""
    from simulator.emulation.exclusive import exclusive_testbed, tell_stderr
    from simulator.emulation.network import temp_folder
    from simulator.emulation.testbed import emulate_scenario
    from simulator.files.atomic import atomic_directory
    from simulator.model.runner import run_scenario
    from simulator.results.outputs import write_run
    from simulator.version import __version__

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
        speed = host_speed_table(priced, emulated.facts)
        speed.to_csv(staging / "host-speed.csv", index=False, float_format="%.6g")
        with temp_folder("scaled") as work:
            drift_free = comparison_table(drift_removed_records(priced, labels, speed, Path(work)),
                                          emulated.run.records, labels)
        drift_free.to_csv(staging / "comparison-drift-removed.csv", index=False, float_format="%.6g")
        other = other_compute_records(priced)
        other_table = None if other is None else comparison_table(other[1], emulated.run.records, labels)
        if other is not None and other_table is not None:
            other_table.to_csv(staging / OTHER_COMPUTE_FILE[other[0]], index=False, float_format="%.6g")
        marker = {"mercury_sim_version": __version__, "command": command,
                  "scenario": str(scenario.path), "fresh_profile": fresh}
        (staging / VALIDATION_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        (staging / "validation.html").write_text(validation_page(
            scenario, table, simulated.records, emulated.run.records, emulated.facts, fresh, speed, drift_free,
            other_table, other[0] if other else None))
    return Validation(simulated, emulated, table, speed, drift_free, other_table, other[0] if other else None)


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
        cells += [error_text(r[f"simulated_{s}"], r[f"measured_{s}"]) for s in STATS]
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


def speed_html(speed: pd.DataFrame) -> str:
    if speed.empty:
        return "<p>No reference forwards were timed.</p>"
    rows = "".join(f"<tr><td>{escape(str(r.schedule))}</td><td>{escape(str(r.side))}</td>"
                   f"<td>{_cell(r.before_ms)}</td><td>{_cell(r.after_ms)}</td><td>{r.priced_forward_ms:.1f}</td>"
                   f"<td>{_cell(r.drift, percent=True)}</td><td>{'yes' if r.steady else 'no'}</td></tr>"
                   for r in speed.itertuples(index=False))
    return ("<p>The whole unreduced forward as each worker timed it right before and right after the schedule "
            "(mean thread CPU time of 5 each) against the profile's price of it; the drift is of their mean. The "
            f"host's compute speed drifts by minutes; a compute error above that matches the drift here is the "
            f"host's, not the model's, where the host held steady (the two snapshots within {STEADY:.0%} of "
            "each other).</p><table><thead><tr><th>schedule</th><th>side</th><th>before (ms)</th>"
            "<th>after (ms)</th><th>priced (ms)</th><th>drift</th><th>steady</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def validation_page(scenario: Scenario, table: pd.DataFrame, simulated: pd.DataFrame, emulated: pd.DataFrame,
                    facts: dict[str, Any], fresh: bool, speed: pd.DataFrame | None = None,
                    drift_free: pd.DataFrame | None = None, other_compute: pd.DataFrame | None = None,
                    other_variability: str | None = None) -> str:
    from simulator.emulation.testbed import facts_text
    from simulator.report.html import Section, figure_block, page

    profile = "a profile of this host measured right before the emulation (--fresh)" if fresh else \
        f"the scenario's profiles ({escape(scenario.mobile_profile)}, {escape(scenario.cloud_profile)})"
    intro = (f"<p>Scenario <code>{escape(scenario.name)}</code>, seed {scenario.workload.seed}. Simulated with "
             f"{profile}; measured on the emulated testbed. Error = (simulated - measured) / measured, over "
             f"completed requests; for a part measured under {ABSOLUTE_BELOW_MS:g} ms, simulated - measured in ms "
             "(a percentage of so short a part measures the testbed's timing noise).</p><ul>"
             + "".join(f"<li>{escape(x)}</li>" for x in facts_text(facts)) + "</ul>")
    sections = [Section("comparison", "Simulated vs measured", intro + table_html(table))]
    if speed is not None:
        sections.append(Section("host-speed", "The host's speed at each schedule", speed_html(speed)))
    if drift_free is not None:
        note = ("<p>The same comparison with each side's profile scaled, per schedule, to the mean of the whole "
                "forwards its worker timed before and after it (the drift above taken out; each schedule "
                "simulated alone, on the same arrivals). What remains is the model's error, as far as the host "
                "held steady through the schedule (the table above says where it did not).</p>")
        sections.append(Section("drift-removed", "With the host's drift removed", note + table_html(drift_free)))
    if other_compute is not None:
        sampled = other_variability == "profile"
        note = ("<p>The same comparison simulated with " + (
            "each request's compute drawn from the profile's quantiles of single calls (<code>compute: "
            "{variability: profile}</code>): the tails of compute-bound schedules" if sampled else
            "every compute stage at its profile point (<code>compute: {variability: none}</code>), as without "
            "the key") + ".</p>")
        title = "With sampled compute" if sampled else "With constant compute"
        sections.append(Section("other-compute", title, note + table_html(other_compute)))
    for i, name in enumerate(table.schedule.unique()):
        sections.append(Section(f"cdf-{i}", f"{name}: CDF", figure_block(f"cdf-{i}", cdf_figure(name, simulated,
                                                                                                 emulated))))
    return page(f"Validation: {scenario.name}", sections)


def print_comparison(table: pd.DataFrame, echo: Any, speed: pd.DataFrame | None = None,
                     drift_free: pd.DataFrame | None = None, other_compute: pd.DataFrame | None = None,
                     other_variability: str | None = None) -> None:
    """The total-latency rows, for the terminal, each with the host's drift (``host_speed_table``) and the
    error with it removed; then, where the other compute model ran, its mean and p95 against the measured."""
    drift = {} if speed is None else {(r.schedule, r.side): r.drift for r in speed.itertuples(index=False)}
    unsteady = set() if speed is None else {r.schedule for r in speed.itertuples(index=False) if not r.steady}
    totals = drift_free[drift_free.metric == "total_ms"] if drift_free is not None else None
    without = {} if totals is None else {r.schedule: error_text(r.simulated_mean, r.measured_mean)
                                         for r in totals.itertuples(index=False)}
    echo(f"{'schedule':14s} {'sim mean':>9s} {'meas mean':>9s} {'err':>9s} {'sim p95':>8s} {'meas p95':>8s} "
         f"{'err':>9s}  host drift (mobile / cloud)  err, drift removed")
    for row in table[table.metric == "total_ms"].itertuples(index=False):
        host = " / ".join(_cell(drift.get((row.schedule, side), math.nan), percent=True)
                          for side in ("mobile", "cloud"))
        echo(f"{row.schedule:14s} {row.simulated_mean:9.1f} {row.measured_mean:9.1f} "
             f"{error_text(row.simulated_mean, row.measured_mean):>9s} {row.simulated_p95:8.1f} "
             f"{row.measured_p95:8.1f} {error_text(row.simulated_p95, row.measured_p95):>9s}  {host:>27s}  "
             f"{without.get(row.schedule, '–')}"
             f"{' (host not steady)' if row.schedule in unsteady else ''}")
    if other_compute is None:
        return
    echo(f"with {'sampled' if other_variability == 'profile' else 'constant'} compute "
         f"(compute.variability: {other_variability}):")
    for row in other_compute[other_compute.metric == "total_ms"].itertuples(index=False):
        echo(f"{row.schedule:14s} {row.simulated_mean:9.1f} {row.measured_mean:9.1f} "
             f"{error_text(row.simulated_mean, row.measured_mean):>9s} {row.simulated_p95:8.1f} "
             f"{row.measured_p95:8.1f} {error_text(row.simulated_p95, row.measured_p95):>9s}")
