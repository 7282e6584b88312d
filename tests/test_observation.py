"""The decision contract (simulator/schedules/observation.py): the observation by hand on hand-made contexts,
the spec's JSON, the action list and its refusal of another, and what the engine fills in the context."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from simulator.config.scenario import load_scenario
from simulator.model.engine import simulate
from simulator.model.runner import engine_setup, resolve_inputs, schedule_inputs
from simulator.plans.plan import Plan, PlanContext
from simulator.schedules.base import ScheduleError
from simulator.schedules.observation import ActionMismatch, ActionSet, ObservationSpec, observe
from simulator.traces import Trace

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "default.yaml"


def test_observation_from_the_radio_by_hand() -> None:
    # samples of 1 s: 10, 20, 30, 40 Mbit/s; at t = 0.5 + offset 2.0 = 2.5 s the radio has seen 10, 20, 30
    trace = Trace.from_samples([0.0, 1.0, 2.0, 3.0], [10.0, 20.0, 30.0, 40.0])
    spec = ObservationSpec(bandwidth_k=3, latency_k=2)
    ctx = PlanContext(0.5, 0, 25.0, (), trace, 2.0, queue=2, recent_latency_ms=(100.0, 300.0, 500.0),
                      since_arrival_s=0.25)
    expected = [0.1, 0.2, 0.3, 2 / 4, 0.3, 0.5, 0.25]
    np.testing.assert_allclose(observe(ctx, spec), expected, rtol=1e-6)
    assert observe(ctx, spec).dtype == np.float32 and spec.size == 7


def test_observation_from_uploads_pads_in_front() -> None:
    spec = ObservationSpec(bandwidth_k=4, latency_k=3, source="uploads", mbps_scale=10.0, gap_scale_s=2.0)
    ctx = PlanContext(3.0, 1, 40.0, (5.0, 15.0), queue=0, recent_latency_ms=(250.0,), since_arrival_s=1.0)
    # uploads 5, 15 with the oldest repeated; one latency, zeros before it; gap 1 s over 2 s
    np.testing.assert_allclose(observe(ctx, spec), [0.5, 0.5, 0.5, 1.5, 0.0, 0.0, 0.0, 0.25, 0.5], rtol=1e-6)
    first = PlanContext(0.0, 1, 40.0)  # nothing known yet: the link's mean, no latency, no gap
    np.testing.assert_allclose(observe(first, spec), [4.0] * 4 + [0.0] * 5, rtol=1e-6)


def test_spec_json_round_trip_and_refusal() -> None:
    spec = ObservationSpec(bandwidth_k=2, latency_k=1, source="uploads")
    data = spec.as_json()
    assert [f["name"] for f in data["features"]] == ["mbps[-2]", "mbps[-1]", "queue", "latency_ms[-1]",
                                                     "since_arrival_s"]
    assert ObservationSpec.from_json(data) == spec
    assert (spec.bandwidth_history, spec.decision_history) == (2, 1)
    with pytest.raises(ValueError, match="features"):
        ObservationSpec.from_json({**data, "features": data["features"][:-1]})
    with pytest.raises(ValueError, match="version"):
        ObservationSpec.from_json({**data, "version": 99})


@pytest.fixture(scope="module")
def default_inputs():  # noqa: ANN201
    scenario = load_scenario(DEFAULT)
    inputs = resolve_inputs(scenario)
    return scenario, inputs, schedule_inputs(scenario, inputs)


def test_action_set_is_the_oracle_s_and_refuses_another(default_inputs) -> None:  # noqa: ANN001
    from simulator.schedules.oracle import OracleSchedule

    scenario, _, shared = default_inputs
    actions = ActionSet.from_tables("rl", shared, 89.9)
    oracle = OracleSchedule("oracle", shared, 89.9)
    assert actions.plans == [p for p, _, _ in oracle._candidates]
    assert actions.keys[-2:] == ["mobile-only", "cloud-only"] and "mercury@3:0.5" in actions.keys
    assert all(p.accuracy >= 89.9 - 1e-9 for p in actions.plans)
    actions.check(actions.as_json())
    pair = actions.subset(["cloud-only", "mercury@3:0.5"])
    assert pair.keys == ["cloud-only", "mercury@3:0.5"]
    with pytest.raises(ActionMismatch, match="another order"):
        actions.subset(["mercury@3:0.5", "cloud-only"]).check(pair.as_json())
    with pytest.raises(ActionMismatch, match="recorded only: janus"):
        pair.check({"keys": ["cloud-only", "janus@3:1"], "fingerprint": pair.fingerprint})
    moved = ActionSet((dataclasses.replace(pair.candidates[0],
                                           plan=dataclasses.replace(pair.plans[0], accuracy=1.0)),
                       pair.candidates[1]))
    with pytest.raises(ActionMismatch, match="other plans"):
        moved.check(pair.as_json())
    with pytest.raises(ScheduleError, match="unknown action 'mercury@9:1'"):
        actions.subset(["mercury@9:1"])


class _Recorder:
    """Plans one fixed Plan and keeps every context the engine hands it."""

    label, static, decision_history = "recorder", False, 2

    def __init__(self, plan: Plan) -> None:
        self.fixed, self.seen = plan, []

    def plan(self, ctx: PlanContext) -> Plan:
        self.seen.append(ctx)
        return self.fixed


def test_engine_fills_queue_latencies_and_gap(default_inputs) -> None:  # noqa: ANN001
    scenario, inputs, shared = default_inputs
    mobile_only = ActionSet.from_tables("rl", shared, 89.9).subset(["mobile-only"]).plans[0]
    period = 0.6 * inputs.plan_cost(mobile_only).mobile_s  # frames come faster than the Pi runs them
    setup = dataclasses.replace(engine_setup(scenario, inputs), fps=1 / period, duration_s=None, n_requests=10,
                                on_busy="queue")
    recorder = _Recorder(mobile_only)
    records = simulate(setup, recorder, inputs.plan_cost, mean_mbps=10.0)
    cols = {k: v[:records.size] for k, v in records.columns.items()}
    arrival, total = cols["arrival_s"], cols["total_ms"]
    cpu_done = arrival + (cols["mobile_queue_ms"] + cols["mobile_ms"]) / 1e3
    for rid, ctx in enumerate(recorder.seen):
        assert ctx.since_arrival_s == (None if rid == 0 else pytest.approx(period))
        earlier = np.arange(rid)
        assert ctx.queue == int(np.sum(cpu_done[earlier] > ctx.now_s))  # still on the CPU (in service or waiting)
        done = earlier[arrival[earlier] + total[earlier] / 1e3 <= ctx.now_s]
        assert list(ctx.recent_latency_ms) == list(total[done][-2:])
    assert max(ctx.queue for ctx in recorder.seen) >= 2
    assert min(len(c.recent_latency_ms) for c in recorder.seen[4:]) == 2
    # a schedule that does not ask sees the defaults
    recorder.decision_history = 0
    recorder.seen.clear()
    simulate(setup, recorder, inputs.plan_cost, mean_mbps=10.0)
    assert {(c.queue, tuple(c.recent_latency_ms), c.since_arrival_s) for c in recorder.seen} == {(0, (), None)}


def test_testbed_fills_latencies_and_gap() -> None:
    from simulator.emulation.workers import _decisions

    # latencies 300, 100, 50 ms (finish minus t0 minus arrival); the last two kept
    requests = {0: {"arrival": 0.0, "done": 10.3}, 1: {"arrival": 0.5, "done": 10.6},
                2: {"arrival": 1.0, "done": 11.05}}
    known = _decisions(_Recorder(None), requests, 10.0, 3, 1.25)  # type: ignore[arg-type]
    assert known["since_arrival_s"] == pytest.approx(0.25)
    assert known["recent_latency_ms"] == pytest.approx((100.0, 50.0))
    assert _decisions(object(), requests, 10.0, 3, 1.25) == {}
