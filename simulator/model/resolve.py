"""A scenario's files, loaded and checked: the trace, the profiles, the accuracy tables, the radio model and
the servers' profiles and links, the plugin files that register its schedules, each missing file named by its
scenario key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from simulator.config.scenario import Scenario, ServerUplink
from simulator.errors import InputError
from simulator.inputs.accuracy import AccuracyTable
from simulator.inputs.data import resolve_path, shipped_file, shipped_hint
from simulator.inputs.profiles import Profile, load_profile
from simulator.inputs.radio import RadioModel, find_radio_model, load_radio_model, registered_radio_models
from simulator.inputs.vit import ViTSpec, get_model
from simulator.plans.graph import Compute
from simulator.plans.plan import Plan, PlanCost, cost_graph, cost_plan, stages_ms
from simulator.schedules.plugins import load_entry_points, load_plugins
from simulator.traces import Trace, read_trace_csv


@dataclass
class ResolvedInputs:
    """The files a scenario names, loaded and checked."""

    spec: ViTSpec
    trace: Trace
    trace_path: Path
    mobile: Profile
    cloud: Profile
    accuracy: AccuracyTable
    files: dict[str, Path] = field(default_factory=dict)
    radio: RadioModel | None = None
    servers: dict[str, tuple[Profile, Trace | None]] = field(default_factory=dict)  # name -> profile, link trace

    def profile_of(self, tier: str) -> Profile:
        """The profile that prices compute on ``tier`` (device, cloud or a server)."""
        return self.mobile if tier == "device" else self.cloud if tier == "cloud" else self.servers[tier][0]

    def price(self, compute: Compute, level: float | None = None) -> float:
        """Seconds of one Compute of a stage graph on its tier (batch 1); work that prices itself is asked.
        ``level``: at that quantile of the tier's single-call times (:meth:`Profile.at_level`)."""
        if compute.work is not None:
            return compute.work.seconds()
        spec = get_model(compute.model) if compute.model else self.spec
        profile = self.profile_of(compute.tier)
        return stages_ms(profile if level is None else profile.at_level(level), spec, compute.stages) / 1e3

    def plan_cost(self, plan: Plan, level: float | None = None) -> PlanCost:
        """Seconds of compute of one request under ``plan`` (batch 1), at the profiles' points or, with
        ``level``, at that quantile of their single-call times (simulator/model/variability.py)."""
        if plan.graph is not None:
            return cost_graph(plan.graph, self.price if level is None else lambda c: self.price(c, level))
        if level is None:
            return cost_plan(plan, self.spec, self.mobile, self.cloud)
        return cost_plan(plan, self.spec, self.mobile.at_level(level), self.cloud.at_level(level))


def resolve_inputs(scenario: Scenario) -> ResolvedInputs:
    """Load the trace, both profiles and the accuracy tables; missing files name the scenario key."""
    where = scenario.path
    base = scenario.base_dir
    trace_path = _trace_file(scenario, scenario.network.trace, "network.trace")
    trace = read_trace_csv(trace_path, at_end=scenario.network.at_end)
    mobile = load_profile(scenario.mobile_profile, base, key="mobile_profile", scenario=where)
    cloud = load_profile(scenario.cloud_profile, base, key="cloud_profile", scenario=where)
    files = {"trace": trace_path}
    for role, profile in (("mobile_profile", mobile), ("cloud_profile", cloud)):
        if profile.path is not None:
            files[role] = profile.path
    if scenario.accuracy_tables:
        paths = []
        for i, value in enumerate(scenario.accuracy_tables):
            path = resolve_path(value, base)
            if path is None or not path.is_file():
                raise InputError(where, f"accuracy table not found: {value}", f"accuracy_tables[{i}]")
            paths.append(path)
        table = AccuracyTable.read(paths)
    else:
        table = AccuracyTable.shipped()
    for i, source in enumerate(table.sources):
        files[f"accuracy_table_{i}"] = Path(source)
    plugins = load_plugins(scenario)  # before a plugin's radio model is looked up and the schedules are built
    radio_name = scenario.energy.radio or mobile.file.radio_model
    radio = None
    if radio_name and radio_name != "none" and scenario.energy.preset == "full":
        radio_base = base if scenario.energy.radio else None  # a profile's radio_model is a name
        if find_radio_model(radio_name, radio_base) is None and radio_name not in registered_radio_models():
            load_entry_points()  # an installed package's radio model, named for the first time
        radio, source = load_radio_model(radio_name, radio_base, scenario=where)
        if source is not None:
            files["radio_model"] = source
    servers = {}
    for name, server in (scenario.servers or {}).items():
        profile = load_profile(server.profile, base, key=f"servers.{name}.profile", scenario=where)
        if profile.path is not None:
            files[f"servers.{name}.profile"] = profile.path
        servers[name] = profile, _server_trace(scenario, name, server.link, files)
    files.update(plugins)  # loaded in whichever process builds the schedules
    return ResolvedInputs(get_model(scenario.model), trace, trace_path, mobile, cloud, table, files, radio, servers)


def _trace_file(scenario: Scenario, value: str, key: str) -> Path:
    """The trace file a scenario key names (a path or a shipped name), or a one-line error naming the key."""
    path = resolve_path(value, scenario.base_dir) or shipped_file("trace", value)
    if path is None or not path.is_file():
        raise InputError(scenario.path, f"trace file not found: {value}{shipped_hint('trace', value)}", key)
    return path


def _server_trace(scenario: Scenario, name: str, link: ServerUplink, files: dict[str, Path]) -> Trace:
    """A server link's trace, or its constant rate as one."""
    if link.trace is None:
        assert link.mbps is not None
        return Trace.constant(link.mbps, name=f"{name}-constant")
    key = f"servers.{name}.link.trace"
    files[key] = path = _trace_file(scenario, link.trace, key)
    return read_trace_csv(path, at_end=link.at_end)
