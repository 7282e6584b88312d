"""Whether the uplink can keep up with a schedule's uploads, checked before a run.

When one upload at the link's mean rate takes longer than the time between requests, requests queue without
bound (or are dropped) and a run's latencies measure that queue rather than the schedule: the 0.05 Mbit/s
uplink of an observed-throughput trace turns cloud-only into hours per request. The run then says so in its
warnings (code ``trace_too_slow``: ``uplink overloaded: ...``), naming the schedule, the trace, its mean, the
payload and both times.

The payload is that of the plan a schedule makes for the first request (device 0 at time 0, with the trace's
mean as its mean bandwidth and no upload history, as the engine asks it): a static schedule's one plan, an
adaptive one's first choice. A stage graph counts its device-to-cloud transfers, each branch weighted by its
probability. A schedule that cannot plan from that context alone is not checked.
"""

from __future__ import annotations

from pathlib import Path

from simulator.config.scenario import Scenario
from simulator.errors import RunWarning
from simulator.model.engine import EngineSetup
from simulator.model.offered_load import graph_demand
from simulator.plans.graph import CLOUD
from simulator.plans.plan import Plan
from simulator.schedules import Schedule, ScheduleError

PREFIX = "uplink overloaded:"


def request_interval(scenario: Scenario) -> tuple[float, str] | None:
    """Seconds between one device's requests and why (the frame rate, the Poisson rate or, for a closed
    workload, the deadline); None for a closed workload without a deadline."""
    work = scenario.workload
    if work.fps is not None:
        return 1.0 / work.fps, f"{work.fps:g} fps"
    if work.rate_per_s is not None:
        return 1.0 / work.rate_per_s, f"{work.rate_per_s:g} requests/s"
    if work.deadline_ms is not None:
        return work.deadline_ms / 1e3, f"the {work.deadline_ms:g} ms deadline"
    return None


def uplink_bytes(plan: Plan) -> float:
    """Bytes a request sends from the device to the cloud over the scenario's uplink (a graph's: expected)."""
    return float(plan.uplink_bytes) if plan.graph is None else graph_demand(plan.graph).get(f"bytes:{CLOUD}", 0.0)


def uplink_warnings(scenario: Scenario, setup: EngineSetup, schedules: list[Schedule],
                    mean_mbps: float) -> list[RunWarning]:
    """One warning per schedule whose upload at ``mean_mbps`` takes longer than the request interval."""
    interval = request_interval(scenario)
    if interval is None or not mean_mbps > 0:
        return []
    interval_s, why = interval
    if setup.sharing == "shared-cell" and setup.devices > 1:  # the cell carries every device's uploads
        interval_s, why = interval_s / setup.devices, f"{why} from each of {setup.devices} devices in one cell"
    net = scenario.network
    source = "network.mean_mbps" if net.mode == "mean" and net.mean_mbps else f"{Path(net.trace).stem}'s mean"
    out = []
    for schedule in schedules:
        try:
            plan = schedule.plan(setup.plan_context(0.0, 0, mean_mbps, ()))
        except ScheduleError:
            continue
        payload = uplink_bytes(plan)
        upload_s = payload * 8 / (mean_mbps * 1e6)
        if upload_s > interval_s:
            out.append(RunWarning("trace_too_slow", f"{PREFIX} {schedule.label} uploads {payload:,.0f} bytes per "
                                  f"request, {upload_s:.3g} s at {source} of {mean_mbps:.3g} Mbit/s, but a request "
                                  f"comes every {interval_s:.3g} s ({why})"))
    return out
