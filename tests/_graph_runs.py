"""A test schedule that plans one fixed stage graph, and a runner for it on the lab (tests/conftest.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import write_scenario

from simulator.config.scenario import load_scenario
from simulator.model.runner import RunResult, run_scenario
from simulator.plans.graph import Step
from simulator.plans.plan import Plan, PlanContext
from simulator.schedules import register_schedule


@dataclass
class GraphSchedule:
    """A test schedule: one fixed graph for every request."""

    label: str
    graph: Step
    accuracy: float = 80.0
    static: bool = True

    def plan(self, ctx: PlanContext) -> Plan:
        return Plan(0, math.nan, (), 0, (), self.accuracy, graph=self.graph)


GRAPHS: dict[str, tuple[Step, float]] = {}
register_schedule("test-graph", lambda c, i: GraphSchedule(c["label"], *GRAPHS[c["graph"]]))


def run_graph(lab: Path, graph: Step, accuracy: float = 80.0, **scenario: Any) -> RunResult:
    """Run ``graph`` (as schedule ``g`` unless ``schedules`` is given) on the lab's profiles."""
    GRAPHS["g"] = graph, accuracy
    scenario.setdefault("schedules", [{"kind": "test-graph", "label": "g", "graph": "g"}])
    return run_scenario(load_scenario(write_scenario(lab / "s.yaml", mobile_profile="mobile.yaml",
                                                     cloud_profile="cloud.yaml", **scenario)))
