"""Compute after idle: the opt-in scenario key ``compute_after_idle``.

Profiles time stages back to back. A device that computes one frame and then idles (a periodic workload
slower than its compute) starts every forward on a core whose caches and predictors the idle gap let go
cold: on the 2-core development host a DeiT-Ti forward took ≈ 2-3 ms more CPU time after a 0.5 s sleep at
load average 3-4 (0.4-5.8 ms, scattered, when the whole host idled), spread over the first few blocks and
then gone, about the same for a 6 ms and a 30 ms forward (benchmarks/compute_contention.py). So it is
priced as a fixed cost per compute burst: the profile's measured ``after_idle_ms`` (``mercury-sim profile
--after-idle``) is added once to every request's mobile part and once to its cloud part. The engine does
not know whether a device idled before a request, so the key assumes every request follows an idle gap;
leave it off for back-to-back or saturated workloads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.errors import InputError
from simulator.plans.plan import Plan, PlanCost

if TYPE_CHECKING:
    from simulator.config.scenario import Scenario
    from simulator.model.resolve import ResolvedInputs


def after_idle_s(scenario: Scenario, inputs: ResolvedInputs) -> tuple[float, float]:
    """(mobile, cloud) seconds added per compute burst: (0, 0) unless ``compute_after_idle`` is set."""
    if not scenario.compute_after_idle:
        return 0.0, 0.0
    extra = []
    for key, profile in (("mobile_profile", inputs.mobile), ("cloud_profile", inputs.cloud)):
        ms = profile.after_idle_ms(inputs.spec)
        if ms is None:
            raise InputError(scenario.path, f"compute_after_idle needs after_idle_ms for {inputs.spec.name} in "
                             f"{key} {profile.name!r} (measure it: mercury-sim profile --after-idle 0.5)",
                             "compute_after_idle")
        extra.append(ms / 1e3)
    return extra[0], extra[1]


def with_after_idle(cost: PlanCost, extra_s: tuple[float, float]) -> PlanCost:
    """``cost`` with the after-idle time added to each side that computes anything."""
    mobile, cloud = extra_s
    return PlanCost(cost.mobile_s + mobile if cost.mobile_s > 0 else cost.mobile_s,
                    cost.cloud_s + cloud if cost.cloud_s > 0 else cost.cloud_s)


def priced_after_idle(cost: Callable[[Plan], PlanCost], extra_s: tuple[float, float],
                      scenario_path: Path | None = None) -> Callable[[Plan], PlanCost]:
    """``cost`` with the after-idle time added (``cost`` itself when there is none: bit-for-bit as before).

    Only two-tier Plans: a stage graph's Computes each carry their own seconds on tiers with their own
    profiles, which one (mobile, cloud) pair cannot price, so such a Plan is refused in one line.
    """
    if extra_s == (0.0, 0.0):
        return cost

    def priced(plan: Plan) -> PlanCost:
        if plan.graph is not None:
            raise InputError(scenario_path, "prices two-tier Plans only; a stage graph schedule (cascade, sharded, "
                             "hybrid-generation, ...) cannot take it: leave the key off", "compute_after_idle")
        return with_after_idle(cost(plan), extra_s)

    return priced
