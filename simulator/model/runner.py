"""From a validated Scenario to records and a summary: resolve inputs (:mod:`simulator.model.resolve`), build
the schedules, pick the engine, simulate every schedule once per seed, summarise and diagnose.

This is the notebook API (``simulator.run``) and what ``mercury-sim run`` calls before writing outputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.config.scenario import Scenario, load_scenario
from simulator.errors import InputError, RunWarning
from simulator.inputs.accuracy import measure_hint
from simulator.inputs.profiles import Power
from simulator.model.after_idle import after_idle_s, priced_after_idle
from simulator.model.diagnostics import (
    INTERPOLATED_COLUMN,
    interpolated_mask,
    merge_seed_warnings,
    schedule_warnings,
    seed_warning,
)
from simulator.model.energy import energy_warning, fill_energy
from simulator.model.engine import EngineSetup, simulate, start_offsets
from simulator.model.fastpath import PoolBinds, fast_path_blocker, simulate_fast
from simulator.model.framing import framed_setup
from simulator.model.graph_engine import check_graph
from simulator.model.offered_load import PricedPlans, schedule_loads
from simulator.model.records import STATUS_NAMES, RecordBuffer
from simulator.model.replications import SEED_COLUMN, combine_summaries, with_seed
from simulator.model.resolve import ResolvedInputs, resolve_inputs
from simulator.model.summary import summarize
from simulator.model.topology import ServerLink, ServerSetup, server_offsets
from simulator.model.uplink_load import uplink_warnings
from simulator.model.variability import ComputeSampler, compute_sampler
from simulator.plans.plan import Plan, PlanContext, PlanCost, cost_graph, cost_plan
from simulator.schedules import Schedule, ScheduleError, ScheduleInputs, build_schedule, schedule_files
from simulator.traces import Trace
from simulator.traces.retransmission import retransmitting_setup

__all__ = ["Progress", "ResolvedInputs", "RunResult", "build_schedules", "engine_setup", "mean_bandwidth",
           "plan_pricing", "resolve_inputs", "run", "run_one_seed", "run_scenario", "scenario_setup",
           "schedule_inputs"]

Progress = Callable[[str, float], None]


@dataclass
class RunResult:
    scenario: Scenario
    inputs: ResolvedInputs
    records: pd.DataFrame
    summary: dict
    warnings: list[RunWarning]
    engines: dict[str, str] = field(default_factory=dict)  # schedule label -> "fast" or "des", the one that ran
    stages: pd.DataFrame | None = None  # one row per stage of stage-graph requests (forks, branches, > 2 tiers)
    per_seed: dict[int, dict] = field(default_factory=dict)  # a replicated run's summary of each seed
    compute: dict = field(default_factory=dict)  # whether each tier's compute was sampled (model/variability.py)

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.scenario.workload.seeds


def device_power(scenario: Scenario, inputs: ResolvedInputs) -> Power:
    """The mobile profile's power draw, or its compute power alone under the ``paper`` energy preset (idle and
    radio then count a known 0 W, while an unknown compute power stays unknown)."""
    power = inputs.mobile.power
    return Power(compute=power.compute, idle=0.0, radio=0.0) if scenario.energy.preset == "paper" else power


def mean_bandwidth(scenario: Scenario, inputs: ResolvedInputs) -> float:
    """The bandwidth of mean mode: the scenario's mean_mbps, else the trace's time-weighted mean."""
    return scenario.network.mean_mbps or inputs.trace.mean_mbps


def engine_setup(scenario: Scenario, inputs: ResolvedInputs) -> EngineSetup:
    """Translate the scenario's units (ms, Mbit/s) into the engine's seconds."""
    net, work, cloud = scenario.network, scenario.workload, scenario.cloud
    trace = inputs.trace if net.mode == "trace" else Trace.constant(mean_bandwidth(scenario, inputs), name="mean")
    if net.start_offset_s == "random":
        offsets = start_offsets(work.seeds[0], work.devices, inputs.trace.duration_s)
    elif isinstance(net.start_offset_s, list):
        offsets = tuple(float(o) for o in net.start_offset_s)
    else:
        offsets = (float(net.start_offset_s),) * work.devices
    if net.at_end == "stop" and net.mode == "trace" and any(o >= inputs.trace.duration_s for o in offsets):
        raise InputError(scenario.path, f"a start offset lies beyond the trace's end "
                         f"({inputs.trace.duration_s:g} s) and at_end is 'stop'", "network.start_offset_s")
    return EngineSetup(
        devices=work.devices, arrival=work.arrival, fps=work.fps, rate_per_s=work.rate_per_s,
        duration_s=work.duration_s, n_requests=work.n_requests, seed=work.seeds[0], on_busy=work.on_busy,
        trace=trace, start_offsets_s=offsets, sharing=net.sharing, rtt_s=net.rtt_ms / 1e3,
        downlink_mbps=net.downlink_mbps, result_bytes=scenario.result_bytes, overhead_bytes=net.overhead_bytes,
        gpus=cloud.gpus, max_batch=cloud.max_batch, batch_timeout_s=cloud.batch_timeout_ms / 1e3,
        batch_window=cloud.batch_window, cloud_batch_factor=inputs.cloud.batch_factor,
        power=device_power(scenario, inputs),
        servers=server_setups(scenario, inputs),
        server_links=tuple(ServerLink(frozenset(link.between), link.mbps, link.rtt_ms / 1e3)
                           for link in scenario.server_links or []),
    )


def server_setups(scenario: Scenario, inputs: ResolvedInputs) -> tuple[ServerSetup, ...]:
    """The scenario's servers beyond the cloud, in the engine's units."""
    out = []
    devices, seed = scenario.workload.devices, scenario.workload.seeds[0]
    for index, (name, server) in enumerate((scenario.servers or {}).items()):
        profile, trace = inputs.servers[name]
        link = server.link
        offsets = server_offsets(seed, index, devices, trace.duration_s) if link.start_offset_s == "random" \
            else (float(link.start_offset_s),) * devices
        out.append(ServerSetup(name, server.gpus, server.max_batch, server.batch_timeout_ms / 1e3,
                               profile.batch_factor, trace, offsets, link.sharing, link.rtt_ms / 1e3,
                               link.downlink_mbps, link.overhead_bytes, server.batch_window))
    return tuple(out)


def schedule_inputs(scenario: Scenario, inputs: ResolvedInputs) -> ScheduleInputs:
    """What every schedule of ``scenario`` is built from."""
    return ScheduleInputs(inputs.spec, scenario.dataset, scenario.precision, inputs.accuracy, inputs.mobile,
                          inputs.cloud, scenario.target_accuracy, mean_bandwidth(scenario, inputs),
                          scenario.network.rtt_ms / 1e3, servers=tuple(scenario.servers or ()),
                          base_dir=scenario.base_dir)


def build_schedules(scenario: Scenario, inputs: ResolvedInputs, warnings: list[RunWarning],
                    interpolated: dict[str, dict] | None = None) -> list[Schedule]:
    """One schedule object per scenario entry; a schedule that cannot be built names its key.

    ``interpolated`` receives, per schedule label, the top-1 values its plans read between table rows.
    """
    shared = schedule_inputs(scenario, inputs)
    links = [frozenset(link.between) for link in scenario.server_links or []]
    schedules = []
    for i, config in enumerate(scenario.schedules):
        shared.warnings.clear()
        shared.interpolated.clear()
        try:
            schedule = build_schedule(config, shared)
            if schedule.static:  # price it now so a profile gap surfaces before any simulation
                plan = schedule.plan(PlanContext(0.0, 0, inputs.trace.mean_mbps))
                if plan.graph is not None:
                    problem = check_graph(plan.graph, list(inputs.servers), links)
                    if problem is not None:
                        raise ScheduleError(problem)
                    cost_graph(plan.graph, inputs.price)
                else:
                    cost_plan(plan, inputs.spec, inputs.mobile, inputs.cloud)
                if math.isnan(plan.accuracy) and not shared.warnings:
                    shared.warnings.append(f"no accuracy table rows for {scenario.model}/{scenario.dataset}; "
                                           "accuracy reported as NaN; "
                                           f"{measure_hint(scenario.model, scenario.dataset)}")
        except ScheduleError as exc:
            raise InputError(scenario.path, str(exc), f"schedules[{i}]") from None
        warnings.extend(RunWarning("schedule", f"{schedule.label}: {w}") for w in shared.warnings)
        if interpolated is not None:
            interpolated[schedule.label] = dict(shared.interpolated)
        for key, path in schedule_files(config, scenario.base_dir).items():  # its own tables and profiles
            if path is not None:
                inputs.files[f"schedules[{i}].{key}"] = path
        schedules.append(schedule)
    return schedules


def run_scenario(scenario: Scenario, *, progress: Progress | None = None) -> RunResult:
    """Simulate every schedule of ``scenario`` once per seed and summarise; records gain a ``seed`` column.

    With several seeds (``workload.seed: [1, 2, 3]``) the summary is over seeds
    (:mod:`simulator.model.replications`), each seed's own summary in ``per_seed``, and the warnings are those of
    any seed, each once.
    """
    seeds = scenario.workload.seeds
    results = [run_one_seed(with_seed(scenario, seed), progress=_of_seed(progress, seed, len(seeds) > 1))
               for seed in seeds]
    for seed, result in zip(seeds, results, strict=True):
        for frame in (result.records, result.stages):
            if frame is not None:
                frame.insert(1, SEED_COLUMN, np.full(len(frame), seed, dtype=np.int64))
    if len(results) == 1:
        return replace(results[0], scenario=scenario)
    labels = list(results[0].summary)
    per_seed = {seed: result.summary for seed, result in zip(seeds, results, strict=True)}
    records = pd.concat([r.records for r in results], ignore_index=True)
    stage_frames = [r.stages for r in results if r.stages is not None]
    unseeded = seed_warning(scenario, seeds)  # replicas that cannot differ
    merged = merge_seed_warnings({seed: r.warnings for seed, r in zip(seeds, results, strict=True)})
    warnings = [*([unseeded] if unseeded else []), *merged]
    return RunResult(scenario, results[0].inputs, records, combine_summaries(per_seed, labels), warnings,
                     results[0].engines, pd.concat(stage_frames, ignore_index=True) if stage_frames else None,
                     per_seed, results[0].compute)


def _of_seed(progress: Progress | None, seed: int, replicated: bool) -> Progress | None:
    """Progress whose labels name the seed when a run has several."""
    if progress is None or not replicated:
        return progress

    def report(label: str, fraction: float) -> None:
        progress(f"{label} (seed {seed})", fraction)
    return report


def scenario_setup(scenario: Scenario, inputs: ResolvedInputs) -> EngineSetup:
    """The engine's setup of a single-seed run: its trace scaled to the goodput and waiting out TCP's timer."""
    return retransmitting_setup(framed_setup(engine_setup(scenario, inputs), scenario.network), scenario.network)


def plan_pricing(scenario: Scenario, inputs: ResolvedInputs, seed: int) -> tuple[
        Callable[[Plan], PlanCost], ComputeSampler | None, dict, RunWarning | None]:
    """How a run prices a Plan (each Plan once, after-idle slowdown included), the compute sampler of ``seed``
    (None: constant), what the manifest says about it, and the warning of tiers left constant."""
    costs: dict[Plan, PlanCost] = {}

    def cost(plan: Plan) -> PlanCost:
        found = costs.get(plan)
        if found is None:
            found = costs[plan] = inputs.plan_cost(plan)
        return found

    extra_s = after_idle_s(scenario, inputs)

    def cost_at(plan: Plan, level: float | None) -> PlanCost:
        return priced_after_idle(lambda p: inputs.plan_cost(p, level), extra_s, scenario.path)(plan)

    sampler, compute, constant = compute_sampler(scenario, inputs, seed, cost_at)
    return priced_after_idle(cost, extra_s, scenario.path), sampler, compute, constant


def run_one_seed(scenario: Scenario, *, progress: Progress | None = None) -> RunResult:
    """Simulate every schedule of a single-seed ``scenario`` and summarise."""
    inputs = resolve_inputs(scenario)
    setup = scenario_setup(scenario, inputs)
    warnings: list[RunWarning] = []
    interpolated: dict[str, dict] = {}
    schedules = build_schedules(scenario, inputs, warnings, interpolated)
    warnings.extend(uplink_warnings(scenario, setup, schedules, mean_bandwidth(scenario, inputs)))
    unknown_energy = energy_warning(setup.power, inputs.radio, inputs.mobile.name)
    if unknown_energy:
        warnings.append(unknown_energy)
    cost, sampler, compute, constant = plan_pricing(scenario, inputs, setup.seed)
    setup = replace(setup, compute=sampler)
    if constant:
        warnings.append(constant)

    if scenario.engine == "fast":
        for schedule in schedules:
            _fast_or_error(scenario, fast_path_blocker(setup, schedule))
    frames, stage_frames = [], []
    engines: dict[str, str] = {}
    priced: dict[str, PricedPlans] = {}  # per schedule: the demand of the plans its requests ran
    mean_mbps = mean_bandwidth(scenario, inputs)
    for schedule in schedules:
        callback = (lambda f, label=schedule.label: progress(label, f)) if progress else None
        buffer: RecordBuffer | None = None
        tally = priced[schedule.label] = PricedPlans(cost)
        if scenario.engine != "des" and fast_path_blocker(setup, schedule) is None:
            try:
                buffer = simulate_fast(setup, schedule, tally, mean_mbps=mean_mbps)
            except PoolBinds as exc:
                _fast_or_error(scenario, f"the GPU pool binds ({exc})")
            if buffer is not None and callback is not None:
                callback(1.0)
        engines[schedule.label] = "des" if buffer is None else "fast"
        if buffer is None:
            tally = priced[schedule.label] = PricedPlans(cost)  # a refused fast path's pricing does not count
            buffer = simulate(setup, schedule, tally, mean_mbps=mean_mbps, on_progress=callback)
        rtt = buffer.radio_rtt_s if buffer.radio_rtt_s is not None else setup.rtt_s
        fill_energy(buffer.columns, buffer.size, setup.power, inputs.radio, rtt)  # type: ignore[arg-type]
        if buffer.stage_rows is not None:
            stage_frames.append(buffer.stage_rows.frame(schedule.label))
        frames.append(buffer.frame(schedule.label))
        del buffer  # the frame holds its own copy: free the buffer before the next schedule runs
    labels = [s.label for s in schedules]
    records = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    del frames
    records["schedule"] = pd.Categorical(records["schedule"], categories=labels)
    records["status"] = pd.Categorical(records["status"].map(STATUS_NAMES), categories=list(STATUS_NAMES.values()))
    mark_interpolated(records, labels, interpolated)
    summary = summarize(records, labels, scenario.workload.deadline_ms)
    add_distance_to_bound(summary, schedules)
    for label in labels:
        rows = records[records.schedule == label]
        loads = schedule_loads(rows, priced[label], setup)
        summary[label]["load"] = {load.resource: load.as_json() for load in loads}
        warnings.extend(schedule_warnings(label, rows, summary[label], loads, interpolated.get(label, {}), scenario))
    stages = None
    if stage_frames:
        stages = pd.concat(stage_frames, ignore_index=True)
        stages["schedule"] = pd.Categorical(stages["schedule"], categories=labels)
    return RunResult(scenario, inputs, records, summary, warnings, engines, stages, compute=compute)


def mark_interpolated(records: pd.DataFrame, labels: list[str], interpolated: dict[str, dict]) -> None:
    """Give ``records`` their ``accuracy_interpolated`` column (after ``accuracy``): True where a request's top-1
    was read between two rows of an accuracy table, so a reader can filter or count them."""
    mask = np.zeros(len(records), dtype=bool)
    schedule = records["schedule"].to_numpy()
    for label in labels:
        notes = interpolated.get(label)
        if notes:
            rows = schedule == label
            mask[rows] = interpolated_mask(records[rows], notes)
    records.insert(records.columns.get_loc("accuracy") + 1, INTERPOLATED_COLUMN, mask)


def _fast_or_error(scenario: Scenario, reason: str | None) -> None:
    """With ``engine: fast``, a reason the fast path does not apply is an input error."""
    if reason is not None and scenario.engine == "fast":
        raise InputError(scenario.path, f"the fast path does not apply: {reason}; use engine 'auto' or 'des'",
                         "engine")


def add_distance_to_bound(summary: dict, schedules: list[Schedule]) -> None:
    """With a lower-bound schedule in the run (the oracle), each schedule's mean latency above it."""
    bound = next((s.label for s in schedules if getattr(s, "lower_bound", False)), None)
    best = summary[bound]["mean_ms"] if bound is not None else None
    if best is None:
        return
    for entry in summary.values():
        entry["oracle_gap_ms"] = None if entry["mean_ms"] is None else entry["mean_ms"] - best


def run(scenario: Scenario | str | Path, *, progress: Progress | None = None) -> tuple[pd.DataFrame, dict]:
    """Notebook API: simulate a scenario (object or path); returns (records DataFrame, summary dict)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    result = run_scenario(scenario, progress=progress)
    return result.records, result.summary
