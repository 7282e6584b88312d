"""Whether a scenario's ``workload.seed`` can change anything, decided from the scenario alone.

The seed feeds exactly these draws (simulator/model/engine.py, topology.py, graph_engine.py): Poisson
arrivals; the random phase of each periodic camera when there are several devices; random trace start offsets
of the cloud's link (``network.start_offset_s: random``, replayed in mode ``trace``: a mean-mode link is
constant, so no offset matters) and of a server's trace link; and the per-request branches of stage graphs,
which only plug-in schedules build (``cascade`` escalates by such a draw). Schedules never see the seed
otherwise (a Plan's context carries none). A sweep over seeds of a scenario with none of these repeats one run
and reports "± 0" intervals, which the sweep warns of before it starts.
"""

from __future__ import annotations

from simulator.config.scenario import Plugin, Scenario


def _offset(value: float | list[float]) -> str:
    return f"[{', '.join(f'{v:g}' for v in value)}]" if isinstance(value, list) else f"{value:g}"


def seed_has_effect(scenario: Scenario) -> str | None:
    """None when some draw of the run depends on the seed; else why none does (one phrase, naming the keys)."""
    work, net = scenario.workload, scenario.network
    if work.arrival == "poisson" or (work.arrival == "periodic" and work.devices > 1):
        return None
    if net.mode == "trace" and net.start_offset_s == "random":
        return None
    for server in (scenario.servers or {}).values():
        if server.link.trace is not None and server.link.start_offset_s == "random":
            return None
    if any(isinstance(entry, Plugin) for entry in scenario.schedules):  # its stage graph may branch at random
        return None
    reasons = ["arrivals are periodic (workload.fps) from one device" if work.arrival == "periodic" else
               "arrivals are back-to-back"]
    if net.mode == "mean":
        reasons.append("network.mode is mean (a constant bandwidth, where start offsets change nothing)")
    elif isinstance(net.start_offset_s, list):
        reasons.append(f"network.start_offset_s is fixed per device at {_offset(net.start_offset_s)}")
    else:
        reasons.append(f"network.start_offset_s is fixed at {_offset(net.start_offset_s)}")
    for name, server in (scenario.servers or {}).items():
        link = server.link
        reasons.append(f"servers.{name}.link is a constant rate (mbps)" if link.trace is None else
                       f"servers.{name}.link.start_offset_s is fixed at {_offset(link.start_offset_s)}")
    return ", ".join(reasons[:-1]) + " and " + reasons[-1]
