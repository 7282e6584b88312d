"""The scenario file: a pydantic schema with units in key names, loaded from YAML.

Every problem (unknown key, wrong type, out-of-range value, missing file, malformed YAML) becomes one
:class:`InputError` naming the file and the dotted key.

Each bound lives in one place, so ``mercury-sim schema`` and the validation agree: a constant bound is the
pydantic ``Field``'s; a bound that depends on another key (a split within the model's depth, a Mercury
reduction within what its anchor windows leave) is checked by :meth:`Scenario._check` with the function the
schedules use and written into the JSON Schema as ``if``/``then`` rules by :func:`_dependent_bounds`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, model_validator

from simulator.errors import InputError
from simulator.files.validation import load_yaml_mapping, parse_model, register_tags
from simulator.inputs.vit import MODELS, mercury_anchor_count, mercury_max_reduction

NonNegative = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Network(_Strict):
    """The uplink: a trace replayed (``trace``) or its mean bandwidth (``mean``, the paper's method)."""

    trace: str = Field(description="Trace CSV (time_s,mbps): a path relative to the scenario, or a shipped "
                                   "trace's name (lte-all)")
    mode: Literal["trace", "mean"] = "trace"
    mean_mbps: float | None = Field(
        None, gt=0, description="Mean mode only: this bandwidth instead of the trace's mean (e.g. a published one)")
    rtt_ms: float = Field(0.0, ge=0, description="Round-trip time; half is added to the upload, half to the return")
    start_offset_s: NonNegative | Literal["random"] | list[NonNegative] = Field(
        0.0, description="Where each device starts in the trace: one offset, one per device, or random")
    at_end: Literal["loop", "stop"] = "loop"
    sharing: Literal["per-device", "shared-cell"] = Field(
        "per-device", description="Each device its own link (FIFO), or one cell shared by all (processor sharing)")
    downlink_mbps: float | None = Field(None, gt=0, description="Result return bandwidth; none = only RTT/2")
    overhead_bytes: int = Field(0, ge=0, description="Protocol bytes added to every upload")
    packet_overhead_bytes: int = Field(
        0, ge=0, description="Header bytes per packet on the link (TCP/IP, link layer); uploads see the goodput "
                             "capacity * mss / (mss + this). 0 = fluid model (simulator/model/framing.py)")
    mss_bytes: int = Field(1448, gt=0, description="Upload payload bytes per packet (with packet_overhead_bytes)")
    rto_min_ms: float | None = Field(
        None, gt=0, description="TCP's minimum retransmission timeout (Linux: 200), for a link that loses what it "
                                "holds in an outage: an upload stalled by a zero-capacity stretch resumes at its "
                                "backed-off timer, RTO = this + rtt_ms doubling; null = fluid model, a link that "
                                "keeps its packets (simulator/traces/retransmission.py)")

    @model_validator(mode="after")
    def _mode_keys(self) -> Network:
        if self.mean_mbps is not None and self.mode != "mean":
            raise _KeyError("network.mean_mbps", "applies to mode 'mean' only")
        if self.rto_min_ms is not None and self.mode != "trace":
            raise _KeyError("network.rto_min_ms", "applies to mode 'trace' only (the mean has no outages)")
        if self.rto_min_ms is not None and self.sharing != "per-device":
            raise _KeyError("network.rto_min_ms", "applies to sharing 'per-device' only (the shared cell's "
                                                  "processor sharing has no per-upload timer)")
        return self


class Workload(_Strict):
    """Requests: how they arrive, how many, from how many devices."""

    arrival: Literal["periodic", "poisson", "back-to-back"] = "periodic"
    fps: float | None = Field(None, gt=0, description="Frames per second per device (periodic)")
    rate_per_s: float | None = Field(None, gt=0, description="Mean requests per second per device (poisson)")
    duration_s: float | None = Field(None, gt=0, description="Arrivals stop after this much simulated time")
    n_requests: int | None = Field(None, gt=0, description="Requests per device")
    devices: int = Field(1, ge=1, le=100_000)
    seed: Annotated[int, Field(ge=0)] | list[Annotated[int, Field(ge=0)]] = Field(
        0, description="Seed of every random draw; a list of distinct seeds replicates the run once per seed")
    deadline_ms: float | None = Field(None, gt=0)
    on_busy: Literal["queue", "drop"] = Field(
        "queue", description="A frame arriving while the device still computes: wait, or drop it")

    @model_validator(mode="after")
    def _consistent(self) -> Workload:
        if self.arrival == "periodic" and self.fps is None:
            raise ValueError("arrival 'periodic' needs fps")
        if self.arrival == "poisson" and self.rate_per_s is None:
            raise ValueError("arrival 'poisson' needs rate_per_s")
        if self.arrival != "periodic" and self.fps is not None:
            raise ValueError(f"fps applies to periodic arrivals, not {self.arrival!r}")
        if self.arrival != "poisson" and self.rate_per_s is not None:
            raise ValueError(f"rate_per_s applies to poisson arrivals, not {self.arrival!r}")
        if (self.duration_s is None) == (self.n_requests is None):
            raise ValueError("give exactly one of duration_s and n_requests")
        if isinstance(self.seed, list) and (not self.seed or len(set(self.seed)) != len(self.seed)):
            raise _KeyError("workload.seed", "a list of seeds must be non-empty and hold each seed once")
        return self

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds the run replicates over (one for a single seed)."""
        return tuple(self.seed) if isinstance(self.seed, list) else (self.seed,)


BatchWindowKey = Annotated[Literal["first-job", "oldest-request"], Field(
    description="Where a batch's batch_timeout_ms starts: first-job (TorchServe's max_batch_delay): when a GPU "
                "takes the batch's first job; oldest-request (Triton's max_queue_delay_microseconds): when that "
                "job reached the queue, so a job that waited while the GPUs were busy leaves at once with "
                "whatever waits beside it")]


class Cloud(_Strict):
    """The cloud GPU(s): a FIFO queue, optionally with dynamic batching."""

    gpus: int = Field(1, ge=1)
    max_batch: int = Field(1, ge=1)
    batch_timeout_ms: float = Field(0.0, ge=0)
    batch_window: BatchWindowKey = "first-job"


class ComputeTiming(_Strict):
    """How long a compute stage takes in the engine: its profile point, or a draw per request."""

    variability: Literal["none", "profile"] = Field(
        "none", description="none: every stage costs its profile point; profile: each request's compute on each "
                            "tier is drawn from the profile's quantiles_ms, one quantile for all its stages there "
                            "(simulator/model/variability.py); a profile without them stays constant")


class ServerUplink(_Strict):
    """A server's link from the devices: a trace or a constant rate, each device's own or one shared cell."""

    trace: str | None = Field(None, description="Trace CSV or shipped trace name (a path relative to the scenario)")
    mbps: float | None = Field(None, gt=0, description="A constant rate instead of a trace")
    at_end: Literal["loop", "stop"] = "loop"
    start_offset_s: NonNegative | Literal["random"] = Field(
        0.0, description="Where each device starts in the trace: one offset, or random (seeded)")
    sharing: Literal["per-device", "shared-cell"] = "per-device"
    rtt_ms: float = Field(0.0, ge=0, description="Half is added to each upload, half to each transfer back")
    downlink_mbps: float | None = Field(None, gt=0, description="Transfers back to the device; none = only RTT/2")
    overhead_bytes: int = Field(0, ge=0, description="Protocol bytes added to every upload")

    @model_validator(mode="after")
    def _one_source(self) -> ServerUplink:
        if (self.trace is None) == (self.mbps is None):
            raise ValueError("give exactly one of trace and mbps")
        return self


class Server(_Strict):
    """A server tier beyond the cloud (e.g. a near-edge accelerator): its profile, GPUs, batching, link."""

    profile: str = Field(description="A shipped profile name or a path")
    gpus: int = Field(1, ge=1)
    max_batch: int = Field(1, ge=1)
    batch_timeout_ms: float = Field(0.0, ge=0)
    batch_window: BatchWindowKey = "first-job"
    link: ServerUplink = Field(description="The link from the devices to this server")


class ServerToServer(_Strict):
    """A link between two server tiers (``cloud`` or a name under ``servers``): a constant rate, no contention."""

    between: list[str] = Field(min_length=2, max_length=2)
    mbps: float = Field(gt=0)
    rtt_ms: float = Field(0.0, ge=0)


class Energy(_Strict):
    """What mobile energy counts (simulator/model/energy.py)."""

    preset: Literal["full", "paper"] = Field(
        "full", description="full: compute, radio (active and tail) and idle; paper: compute only (Mercury Fig. 9)")
    radio: str | None = Field(
        None, description="Uplink power model: a shipped name (profiles/radio/), a file, a name a plugin "
                          "registers, or 'none'; "
                          "default: the mobile profile's radio_model")


class _ScheduleBase(_Strict):
    label: str | None = Field(None, min_length=1, description="Name in tables and plots (default: the kind)")

    @property
    def display(self) -> str:
        return self.label or self.kind  # type: ignore[attr-defined]


class MobileOnly(_ScheduleBase):
    kind: Literal["mobile-only"]


class CloudOnly(_ScheduleBase):
    kind: Literal["cloud-only"]
    image_bytes: int = Field(2_200_000, gt=0, description="Uploaded image (the paper: 2.2 MB on average)")


class _Split(_ScheduleBase):
    split_after: int = Field(ge=1, description="Blocks run on the device before the upload")
    target_accuracy: float | None = Field(None, gt=0, le=100)


class Otas(_Split):
    """OTAS as the Mercury paper runs it: ToMe with a constant r in every block."""

    kind: Literal["otas"]
    r: int | None = Field(None, ge=0, description="Tokens merged per block; omit to meet target_accuracy")


class Janus(_Split):
    """Janus: ToMe with Delta_l = floor(2^(alpha (L - l))); static, or its own scheduler (alpha 'auto')."""

    kind: Literal["janus"]
    split_after: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        description="Split layer, or 'auto' (Janus's scheduler)")
    alpha: NonNegative | Literal["auto"] | None = Field(None, description="Declining rate; 'auto' = scheduler")
    sla_ms: float | None = Field(None, gt=0, description="Latency target of Janus's scheduler; default: the "
                                                         "workload's deadline_ms")
    bandwidth_window: int = Field(20, ge=1, description="Samples in the scheduler's harmonic-mean bandwidth estimate")
    bandwidth_source: Literal["radio", "uploads"] = Field(
        "radio", description="Where the scheduler's bandwidth samples come from: the capacity the radio reports "
                             "once per trace sample (uploading or not), or the device's own upload throughputs "
                             "(the estimate then freezes while it runs device-only)")
    split_candidates_k: int = Field(5, ge=1, description="Janus's fine-to-coarse candidate spacing k")
    image_bytes: int = Field(2_200_000, gt=0, description="Image upload when the scheduler picks split 0")

    @property
    def scheduled(self) -> bool:
        """Whether Janus's own scheduler picks alpha and the split (per request, against an SLA)."""
        return self.alpha == "auto" or self.split_after == "auto"

    @model_validator(mode="after")
    def _auto(self) -> Janus:
        if self.scheduled and not (self.alpha == "auto" and self.split_after == "auto"):
            raise ValueError("Janus's scheduler picks alpha and the split together: set both to 'auto'")
        return self


class Mercury(_Split):
    """Mercury: regional pruning of K patch tokens at block 1, reconstruction in the cloud."""

    kind: Literal["mercury"]
    reduction: float | None = Field(
        None, ge=0, le=1, description="Fraction of patch tokens pruned; at most the share one anchor per window "
                                      "leaves (0.75 for 2x2 windows on a 14x14 patch grid)")
    reconstruction: Literal["learned", "zero-pad", "duplicate", "none"] = "learned"
    window: int = Field(2, ge=1, description="Side l of the anchor windows")
    prune_point: Literal["after_block1", "before_block1"] = Field(
        "after_block1",
        description="after_block1: block 1 runs on all tokens and its attention output O_f scores them; "
                    "before_block1: block 1's attention runs once to score, then block 1 runs on the kept "
                    "tokens (the paper does not say which; research/algorithms.md section 10, question 2)")


class AdaptiveMercury(_ScheduleBase):
    """Mercury choosing its reduction (and split) per request from a bandwidth estimate."""

    kind: Literal["mercury-adaptive"]
    split_after: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        3, description="The split, or 'auto': choose among split_candidates")
    split_candidates: list[Annotated[int, Field(ge=1)]] | None = Field(
        None, description="Splits 'auto' chooses among (default: all)")
    objective: Literal["max-accuracy", "min-latency"] = Field(
        "max-accuracy", description="Most accurate within latency_budget_ms, or fastest above accuracy_floor")
    latency_budget_ms: float | None = Field(None, gt=0)
    accuracy_floor: float | None = Field(None, gt=0, le=100)
    reduction_step: float = Field(
        0.05, gt=0, le=1, description="Spacing of the candidate reductions (up to the largest the anchor windows "
                                      "allow: a step beyond it leaves only 0)")
    reconstruction: Literal["learned", "zero-pad", "duplicate", "none"] = "learned"
    window: int = Field(2, ge=1)
    bandwidth_estimator: Literal["harmonic", "last"] = Field(
        "harmonic", description="Harmonic mean of the last bandwidth_window samples (as Janus), or the last one")
    bandwidth_window: int = Field(20, ge=1)
    bandwidth_source: Literal["radio", "uploads"] = Field(
        "radio", description="Samples from the radio (once per trace sample) or the device's uploads, as Janus")

    @model_validator(mode="after")
    def _objective(self) -> AdaptiveMercury:
        if self.objective == "max-accuracy" and self.latency_budget_ms is None:
            raise ValueError("objective 'max-accuracy' needs latency_budget_ms")
        if self.objective == "min-latency" and self.accuracy_floor is None:
            raise ValueError("objective 'min-latency' needs accuracy_floor")
        if self.split_candidates is not None and self.split_after != "auto":
            raise ValueError("split_candidates applies to split_after 'auto'")
        return self


class Oracle(_ScheduleBase):
    """A lower bound: per request, the plan with the lowest latency on the real (future) trace."""

    kind: Literal["oracle"]
    accuracy_floor: float | None = Field(None, gt=0, le=100, description="Default: the scenario's target_accuracy")
    methods: list[Literal["mercury", "otas", "janus", "mobile-only", "cloud-only"]] = Field(
        ["mercury", "otas", "janus", "mobile-only", "cloud-only"], min_length=1)
    image_bytes: int = Field(2_200_000, gt=0)


SCHEDULE_KINDS = {"mobile-only", "cloud-only", "otas", "janus", "mercury", "mercury-adaptive", "oracle"}


class Plugin(_ScheduleBase):
    """A schedule kind registered by ``simulator.schedules.register_schedule``; its own model checks the keys."""

    model_config = ConfigDict(extra="allow")
    # A shipped kind is validated by its own model, never as a plug-in: the schema's oneOf must say so too.
    kind: str = Field(json_schema_extra={"not": {"enum": sorted(SCHEDULE_KINDS)}})


def _schedule_tag(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if kind in SCHEDULE_KINDS or not isinstance(kind, str) else "plugin"


ScheduleConfig = Annotated[
    Annotated[MobileOnly, Tag("mobile-only")] | Annotated[CloudOnly, Tag("cloud-only")] | Annotated[Otas, Tag("otas")]
    | Annotated[Janus, Tag("janus")] | Annotated[Mercury, Tag("mercury")]
    | Annotated[AdaptiveMercury, Tag("mercury-adaptive")] | Annotated[Oracle, Tag("oracle")]
    | Annotated[Plugin, Tag("plugin")],
    Discriminator(_schedule_tag)]
register_tags(SCHEDULE_KINDS | {"plugin"})


class Scenario(_Strict):
    """A whole experiment: model, data, devices, network, workload and the schedules to compare."""

    model_config = ConfigDict(extra="forbid", title="mercury-sim scenario",
                              json_schema_extra=lambda schema: _dependent_bounds(schema))

    name: str = Field(min_length=1)
    description: str | None = None
    model: str = Field("deit_base_distilled_patch16_224",
                       json_schema_extra=lambda schema: schema.update(enum=sorted(MODELS)))
    dataset: str = Field("imagenet", description="Selects the accuracy table rows")
    accuracy_tables: list[str] | None = Field(None, description="CSV files; default: the shipped tables")
    precision: Literal["fp32", "fp16"] = "fp32"
    mobile_profile: str = "raspberry-pi-4b"
    cloud_profile: str = "rtx-4090"
    result_bytes: int = Field(4000, ge=0, description="Result returned to the device (logits of 1000 classes)")
    compute_after_idle: bool = Field(
        False, description="Opt-in: add each profile's measured after_idle_ms to every request's mobile and cloud "
                           "compute (a core that idled between requests meets cold caches; "
                           "simulator/model/after_idle.py)")
    compute: ComputeTiming = ComputeTiming()
    network: Network
    workload: Workload
    cloud: Cloud = Cloud()
    servers: dict[str, Server] | None = Field(
        None, description="Server tiers beyond the cloud, by name (the cloud is cloud_profile, cloud and network)")
    server_links: list[ServerToServer] | None = Field(None, description="Links between server tiers")
    energy: Energy = Energy()
    target_accuracy: float | None = Field(None, gt=0, le=100, description="Each schedule meets this top-1")
    plugins: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, description="Python files, relative to this file, that register schedule kinds of your own "
                          "(simulator.schedules.register_schedule); installed packages register theirs through "
                          "the entry point group mercury_sim.schedules (simulator/schedules/plugins.py)")
    schedules: list[ScheduleConfig] = Field(min_length=1)
    engine: Literal["auto", "des", "fast"] = Field(
        "auto", description="auto: the closed-form fast path where it applies (per-device links, no batching, "
                            "static schedules, a GPU pool that never binds), else the discrete-event model; "
                            "des or fast: force one (fast where it does not apply is an error)")

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; known: {', '.join(sorted(MODELS))}")
        spec = MODELS[self.model]
        labels = [s.display for s in self.schedules]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"schedule labels must be unique; repeated: {', '.join(dupes)} (set 'label')")
        for i, s in enumerate(self.schedules):
            split = getattr(s, "split_after", None)
            if _number(split) and split > spec.depth:
                raise _KeyError(f"schedules[{i}].split_after", f"must be in 1..{spec.depth} for {self.model} "
                                f"(got {split})")
            candidates = getattr(s, "split_candidates", None)
            bad = [c for c in candidates if _number(c) and c > spec.depth] if isinstance(candidates, list) else []
            if bad:
                raise _KeyError(f"schedules[{i}].split_candidates", f"must be in 1..{spec.depth} (got {bad[0]})")
            if isinstance(s, Mercury):
                self._check_reduction(i, s)
            if isinstance(s, Janus) and s.scheduled and s.sla_ms is None:
                if self.workload.deadline_ms is None:
                    raise _KeyError(f"schedules[{i}].sla_ms", "Janus's scheduler (alpha and split_after 'auto') "
                                    f"needs an SLA: set schedules[{i}].sla_ms or workload.deadline_ms")
                s.sla_ms = self.workload.deadline_ms  # the run's scenario.yaml then shows the SLA it used
        self._check_topology()
        offsets = self.network.start_offset_s
        if isinstance(offsets, list) and len(offsets) != self.workload.devices:
            raise _KeyError("network.start_offset_s", f"one offset per device: expected "
                            f"{self.workload.devices}, got {len(offsets)}")
        return self

    def _check_reduction(self, i: int, schedule: Mercury) -> None:
        """A Mercury reduction above what one anchor per window leaves of the patch grid."""
        spec, value, w = MODELS[self.model], schedule.reduction, schedule.window
        limit = mercury_max_reduction(spec, w)
        if value is not None and value > limit:
            raise _KeyError(f"schedules[{i}].reduction", f"must be <= {limit:g} (got {value:g}): one anchor per "
                            f"{w}x{w} window keeps {mercury_anchor_count(spec, w)} of {self.model}'s "
                            f"{spec.num_patches} patches")

    def _check_topology(self) -> None:
        servers = self.servers or {}
        for name in servers:
            if name in ("device", "cloud"):
                raise _KeyError(f"servers.{name}", f"{name!r} is a built-in tier (the cloud is set by "
                                "cloud_profile, cloud and network); name the server otherwise")
        known = {"cloud", *servers}
        seen: set[frozenset[str]] = set()
        for i, link in enumerate(self.server_links or []):
            for end in link.between:
                if end not in known:
                    raise _KeyError(f"server_links[{i}].between", f"unknown server {end!r}; known: "
                                    f"{', '.join(sorted(known))} (the device reaches a server by its link)")
            pair = frozenset(link.between)
            if len(pair) == 1:
                raise _KeyError(f"server_links[{i}].between", "a link joins two different servers")
            if pair in seen:
                raise _KeyError(f"server_links[{i}].between", f"a second link between {' and '.join(sorted(pair))}")
            seen.add(pair)

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def base_dir(self) -> Path | None:
        return self._path.parent if self._path else None


def _number(value: Any) -> bool:
    """A JSON number (what a schema's ``maximum`` applies to): an int or float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dependent_bounds(schema: dict[str, Any]) -> None:
    """Write :meth:`Scenario._check`'s model-dependent bounds into the scenario's JSON Schema as if/then rules.

    Per group of models sharing depth and patch grid: every schedule's ``split_after`` (and
    ``split_candidates``) at most the depth, and per anchor-window size Mercury's reduction at most
    ``mercury_max_reduction``, the function the validation and the schedule call. A window wider than the
    grid keeps no anchor: its bound is the Field's own 1.
    """
    default_model = Scenario.model_fields["model"].default
    groups: dict[tuple[int, int], list[str]] = {}
    for name, spec in MODELS.items():
        groups.setdefault((spec.depth, spec.grid), []).append(name)
    rules = []
    for (depth, grid), names in groups.items():
        spec = MODELS[names[0]]
        item_rules: list[dict[str, Any]] = [{"properties": {"split_after": {"maximum": depth},
                                                            "split_candidates": {"items": {"maximum": depth}}}}]
        windows: dict[float, list[int]] = {}  # limit -> the window sizes that give it
        for window in range(1, grid + 1):
            windows.setdefault(mercury_max_reduction(spec, window), []).append(window)
        for limit, sizes in windows.items():
            required = ["kind"] if Mercury.model_fields["window"].default in sizes else ["kind", "window"]
            item_rules.append({"if": {"properties": {"kind": {"const": "mercury"}, "window": {"enum": sizes}},
                                      "required": required},
                               "then": {"properties": {"reduction": {"maximum": limit}}}})
        condition: dict[str, Any] = {"properties": {"model": {"enum": names}}}
        if default_model not in names:
            condition["required"] = ["model"]
        rules.append({"if": condition, "then": {"properties": {"schedules": {"items": {"allOf": item_rules}}}}})
    schema["allOf"] = rules


class _KeyError(ValueError):
    """A validation error that belongs to a nested key rather than where it was detected."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file, or a shipped one by name (``default``); the files it names are
    checked when the run resolves them."""
    from simulator.inputs.data import file_or_shipped

    path = file_or_shipped("scenario", path)
    data = load_yaml_mapping(path)
    return scenario_from_dict(data, path)


def scenario_from_dict(data: dict[str, Any], path: Path | None = None) -> Scenario:
    """Validate an already-parsed scenario mapping."""
    source = path if path is not None else "<scenario>"
    try:
        scenario = parse_model(Scenario, data, source)
    except InputError as exc:
        raise exc from None
    scenario._path = path.resolve() if path is not None else None
    return scenario


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (``mercury-sim schema``)."""
    return Scenario.model_json_schema()
