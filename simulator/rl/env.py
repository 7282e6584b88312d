"""``mercury-sim/Offload-v0``: one device's offloading decisions as a Gymnasium environment over the SimPy model.

One step is one decision: the plan of the agent device's next request (device 0; every other device runs the
scenario's schedule ``schedule``). The environment drives the real engine (:mod:`simulator.model.engine`):
it advances the SimPy clock event by event and stops right before the agent's request plans, so the
observation is the one a schedule would see at that instant, and the request then runs the chosen plan.
An agent that always picks the plan of a static schedule gives the records ``run_scenario`` gives for it
(same seed, trace and offset), bit for bit.

Spaces
    action: ``Discrete(len(actions))``, action ``i`` being candidate ``i`` of the
    :class:`~simulator.schedules.observation.ActionSet` (the oracle's candidates at ``accuracy_floor``, by
    default the scenario's ``target_accuracy``, or those ``actions`` names by key; ``env.actions.keys``).
    observation: ``Box(0, inf, (n,), float32)`` from :func:`~simulator.schedules.observation.observe`
    (uplink rates in Mbit/s / 100, queue / 4, last latencies in ms / 1000, seconds since the last arrival).

Reward (:class:`Reward`), summed over the agent device's requests that finished since the previous step:
``accuracy x top-1 (%) / 100 - latency x end-to-end seconds - miss x [latency > deadline_ms]
- energy x joules`` for a completed request, where joules are its compute and active radio energy (the RRC
tail and the idle draw depend on later requests and are left out); ``-drop`` for a request a busy device
dropped (``on_busy: drop``). Credit assignment: a request's reward arrives in the return of the step during
which it finished, that is one or more steps after the step that chose its plan (a request finishes
while later ones arrive); ``info["finished"]`` lists the request ids that reward covers, and
``info["request_id"]`` the id of the request the next action plans. The episode's last step runs the
simulation to its end and returns every remaining reward.

Episodes: ``n_requests`` of the agent device, or ``duration_s`` seconds (default: the scenario's workload).
``reset(seed=...)`` draws one trace of ``traces`` (default: the scenario's) and a start offset uniformly in
it (Pensieve's method), and a workload seed for the arrivals; the same seed gives the same episode.
``options`` may fix them: ``{"trace": index, "offset_s": seconds, "seed": workload seed}``. Other devices start
where that seed puts them in the trace. Sampled compute (``compute: {variability: profile}``) draws from the
scenario's seed, not the episode's.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
import simpy

from simulator.config.scenario import Scenario, load_scenario
from simulator.errors import InputError
from simulator.model.energy import fill_energy
from simulator.model.engine import EngineSetup, _Model, start_offsets
from simulator.model.records import STATUS_NAMES, STATUS_OK, RecordBuffer
from simulator.model.replications import with_seed
from simulator.model.runner import (
    build_schedules,
    mean_bandwidth,
    plan_pricing,
    resolve_inputs,
    scenario_setup,
    schedule_inputs,
)
from simulator.plans.plan import Plan, PlanContext, Schedule
from simulator.schedules.base import ScheduleError
from simulator.schedules.observation import ActionSet, ObservationSpec, observe

AGENT = 0  # the device whose requests the agent plans


@dataclass(frozen=True)
class Reward:
    """Weights of the reward's terms (see the module's docstring); ``drop`` None: the ``miss`` weight."""

    accuracy: float = 1.0
    latency: float = 1.0
    miss: float = 1.0
    energy: float = 0.0
    drop: float | None = None


class _Agent:
    """The schedule the engine runs: the agent's chosen plan for its device, the scenario's for the others."""

    def __init__(self, others: Schedule, spec: ObservationSpec) -> None:
        self.label, self.static, self.others = "agent", False, others
        self.bandwidth_history = max(spec.bandwidth_history, getattr(others, "bandwidth_history", 0))
        self.decision_history = max(spec.decision_history, getattr(others, "decision_history", 0))
        self.chosen: Plan | None = None

    def plan(self, ctx: PlanContext) -> Plan:
        if ctx.device == AGENT:
            assert self.chosen is not None
            return self.chosen
        return self.others.plan(ctx)


class _AgentModel(_Model):
    """The engine's model, noting the agent device's request starts, finishes and drops."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.starts: deque[simpy.events.Event] = deque()  # the agent's requests not yet planned, first first
        self.rids: deque[int] = deque()
        self.finished: list[int] = []  # record rows of the agent's requests finished since the last look
        self.ctx: PlanContext | None = None  # the context of the agent's next request, built before it plans
        super().__init__(*args, **kwargs)

    def _start(self, device: int, rid: int) -> simpy.Process:
        process = super()._start(device, rid)
        if device == AGENT:
            self.starts.append(process._target)  # its Initialize event: the request plans when it is processed
            self.rids.append(rid)
        return process

    def plan_context(self, device: int) -> PlanContext:
        if device == AGENT and self.ctx is not None:
            ctx, self.ctx = self.ctx, None
            return ctx
        return super().plan_context(device)

    def _admitted(self, plan: Plan, cost: Any, device: int, rid: int, i: int, arrived: float) -> bool:
        admitted = super()._admitted(plan, cost, device, rid, i, arrived)
        if not admitted and device == AGENT:
            self.finished.append(i)
        return admitted

    def _completed(self, i: int) -> None:
        super()._completed(i)
        if self.records.columns["device"][i] == AGENT:
            self.finished.append(i)

    def advance(self) -> bool:
        """Run until the agent's next request is about to plan (True) or the simulation ends (False)."""
        env, starts = self.env, self.starts
        queue = env._queue  # the (time, priority, id, event) heap: stop before the agent's start is processed
        step = env.step
        while queue:
            if starts and queue[0][3] is starts[0]:
                starts.popleft()
                self.ctx = super().plan_context(AGENT)
                return True
            step()
        return False


class OffloadEnv(gym.Env[np.ndarray, np.int64]):
    """The agent device's plan per request, over a scenario's SimPy model (see the module's docstring)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, scenario: str | Path | Scenario, *, schedule: int = 0, actions: Sequence[str] | None = None,
                 accuracy_floor: float | None = None, observation: ObservationSpec | None = None,
                 reward: Reward | None = None, n_requests: int | None = None, duration_s: float | None = None,
                 traces: Sequence[str | Path] | None = None) -> None:
        base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if len(base.workload.seeds) > 1:
            base = with_seed(base, base.workload.seeds[0])
        if n_requests is not None or duration_s is not None:
            base = base.model_copy(update={"workload": base.workload.model_copy(
                update={"n_requests": n_requests, "duration_s": duration_s})})
        self.scenario = base
        self.observation_spec = observation or ObservationSpec()
        self.weights = reward or Reward()
        inputs = resolve_inputs(base)
        warnings: list = []
        schedules = build_schedules(base, inputs, warnings)
        if not 0 <= schedule < len(schedules):
            raise InputError(base.path, f"no schedule {schedule} (the scenario has {len(schedules)})", "schedules")
        floor = accuracy_floor if accuracy_floor is not None else base.target_accuracy
        if floor is None:
            raise InputError(base.path, "give an accuracy floor or the scenario's target_accuracy",
                             "target_accuracy")
        try:
            self.actions = ActionSet.from_tables("agent", schedule_inputs(base, inputs), floor, keys=actions)
        except ScheduleError as exc:
            raise InputError(base.path, str(exc), "actions") from None
        self._others = schedules[schedule]
        self._cost, sampler, _, _ = plan_pricing(base, inputs, base.workload.seeds[0])
        self._mean_mbps = mean_bandwidth(base, inputs)
        self._radio, self._deadline_ms = inputs.radio, base.workload.deadline_ms
        self._setups = [dataclasses.replace(scenario_setup(self._with_trace(base, t), inputs_t), compute=sampler)
                        for t, inputs_t in self._trace_inputs(base, inputs, traces)]
        self._plans = self.actions.plans
        self.action_space = gym.spaces.Discrete(len(self.actions))
        self.observation_space = gym.spaces.Box(0.0, np.inf, (self.observation_spec.size,), np.float32)
        self._model: _AgentModel | None = None
        self._agent: _Agent | None = None
        self.setup: EngineSetup | None = None

    @staticmethod
    def _with_trace(scenario: Scenario, trace: str | None) -> Scenario:
        if trace is None:
            return scenario
        return scenario.model_copy(update={"network": scenario.network.model_copy(update={"trace": trace})})

    def _trace_inputs(self, base: Scenario, inputs: Any, traces: Sequence[str | Path] | None) -> list[tuple]:
        """Each trace of the list with the inputs resolved on it (the scenario's own without a list)."""
        if not traces:
            return [(None, inputs)]
        out = []
        for trace in traces:
            path = Path(trace)
            name = str(path.resolve()) if path.is_file() else str(trace)
            out.append((name, resolve_inputs(self._with_trace(base, name))))
        return out

    # -- the Gymnasium API ---------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        options = options or {}
        rng = self.np_random
        index = int(options["trace"]) if "trace" in options else int(rng.integers(len(self._setups)))
        setup = self._setups[index]
        duration = setup.trace.duration_s
        offset = float(options["offset_s"]) if "offset_s" in options else float(rng.uniform(0.0, duration))
        workload_seed = int(options["seed"]) if "seed" in options else int(rng.integers(2**31 - 1))
        offsets = (offset, *start_offsets(workload_seed, setup.devices, duration)[1:])
        self.setup = dataclasses.replace(setup, seed=workload_seed, start_offsets_s=offsets)
        self._agent = _Agent(self._others, self.observation_spec)
        self._model = _AgentModel(self.setup, self._agent, self._cost, self._mean_mbps)
        if not self._model.advance():
            raise InputError(self.scenario.path, "the episode has no request of device 0", "workload")
        info = {"trace": index, "offset_s": offset, "seed": workload_seed, "request_id": self._model.rids[0]}
        return self._observe(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        model, agent = self._model, self._agent
        assert model is not None and agent is not None, "call reset() first"
        agent.chosen = self._plans[int(action)]
        model.env.step()  # the agent's request plans (with the chosen plan) and starts
        model.rids.popleft()
        more = model.advance()
        reward, finished = self._rewards()
        info: dict[str, Any] = {"finished": finished}
        if more:
            info["request_id"] = model.rids[0]
            return self._observe(), reward, False, False, info
        return np.zeros(self.observation_spec.size, dtype=np.float32), reward, True, False, info

    # -- what the agent sees and earns -----------------------------------------------------------------------
    def _observe(self) -> np.ndarray:
        assert self._model is not None and self._model.ctx is not None
        return observe(self._model.ctx, self.observation_spec)

    def _rewards(self) -> tuple[float, list[int]]:
        """The reward of the agent's requests finished since the last call, and their request ids."""
        assert self._model is not None
        model, w = self._model, self.weights
        rows, model.finished = model.finished, []
        cols = model.records.columns
        total, ids = 0.0, []
        drop = w.miss if w.drop is None else w.drop
        for i in rows:
            ids.append(int(cols["request_id"][i]))
            if cols["status"][i] != STATUS_OK:
                total -= drop
                continue
            latency_ms = float(cols["total_ms"][i])
            total += w.accuracy * float(cols["accuracy"][i]) / 100.0 - w.latency * latency_ms / 1e3
            if self._deadline_ms is not None and latency_ms > self._deadline_ms:
                total -= w.miss
            if w.energy:
                total -= w.energy * self._energy_j(i)
        return total, ids

    def _energy_j(self, i: int) -> float:
        """Compute and active radio energy of completed row ``i`` (J; an unknown power counts 0)."""
        assert self._model is not None and self.setup is not None
        row = {name: column[i:i + 1].copy() for name, column in self._model.records.columns.items()}
        fill_energy(row, 1, self.setup.power, self._radio, self.setup.rtt_s)
        return float(np.nan_to_num(row["energy_compute_j"][0]) + np.nan_to_num(row["energy_radio_j"][0]))

    def records(self) -> pd.DataFrame:
        """The episode's per-request records so far (every device), as ``run_scenario`` writes them."""
        assert self._model is not None and self.setup is not None
        running = self._model.records  # copied: sorting the rows must not move those still running
        buffer = RecordBuffer(running.size)
        buffer.size = running.size
        buffer.columns = {name: column[:running.size].copy() for name, column in running.columns.items()}
        fill_energy(buffer.columns, buffer.size, self.setup.power, self._radio, self.setup.rtt_s)
        frame = buffer.frame("agent")
        frame["status"] = pd.Categorical(frame["status"].map(STATUS_NAMES), categories=list(STATUS_NAMES.values()))
        return frame
