"""Sampled compute: the opt-in scenario key ``compute: {variability: profile}``.

Without it every compute stage costs its profile point (a median or a mean over repetitions), so a schedule
whose latency is mostly device compute has no tail at all, and deadline misses depend on tails. With it the
engine draws each request's compute from the quantiles of single calls that ``mercury-sim profile`` keeps
per point (``quantiles_ms`` at the file's ``quantile_levels``; :meth:`StageCurve.quantile_ms`).

Coupling: comonotone within a tier. A request draws one uniform u per tier (device, cloud, each server) and
every stage it runs there costs that stage's quantile at u, so a slow forward is slow in every block. This is
what the profile's numbers mean: a ``block`` point is the whole stack of blocks timed together and divided
by depth, so its quantiles are those of the stack, which only one shared u reproduces; and on the 2-core
host the blocks of one forward vary together (mean pairwise Spearman 0.43-0.67, a block above its p90 with
another in 33-55 % of forwards against 10 % if independent; benchmarks/compute_variability.py). Tiers are
different machines, so their draws are independent, and so are requests (a host's slow minutes, which
would make neighbouring requests slow together, are not modelled).

Since stage costs are piecewise linear in u on the levels' grid and add up, a side's compute at u is the
side's price at each level, interpolated: a plan is priced once per level (every profile viewed at that
quantile, :meth:`Profile.at_level`, with the after-idle cost where the scenario adds it), then each request
costs one interpolation per tier. A profile without quantiles prices every level at its points, so that tier
stays constant. Schedules plan on the points as before; only the engine samples.

Streams: ``numpy.random.default_rng([seed, 3, device, request])`` gives the uniforms in tier order (device,
cloud, the scenario's servers in order). Arrivals, trace offsets and branch draws use streams 0-2 and do not
move; every schedule's request meets the same draws (common random numbers); same seed, same records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.errors import RunWarning
from simulator.plans.graph import CLOUD, DEVICE, Compute
from simulator.plans.plan import Plan, PlanCost

if TYPE_CHECKING:
    from simulator.config.scenario import Scenario
    from simulator.inputs.profiles import Profile
    from simulator.model.resolve import ResolvedInputs

_STREAM_COMPUTE = 3  # arrivals 0, trace offsets 1 (simulator/model/engine.py), branches 2 (graph_engine.py)


@dataclass(frozen=True)
class _Levels:
    """A plan's compute at every level of the grid: each side's seconds, and each Compute's of a graph."""

    mobile_s: np.ndarray
    cloud_s: np.ndarray
    compute_s: Mapping[Compute, np.ndarray]


class ComputeSampler:
    """Each request's compute, drawn per tier from the profiles' quantiles (see the module's docstring)."""

    def __init__(self, seed: int, levels: Sequence[float], tiers: Sequence[str],
                 price_at: Callable[[Plan, float], PlanCost]) -> None:
        self.seed = seed
        self.levels = np.asarray(levels, float)
        self.tiers = {tier: i for i, tier in enumerate(tiers)}
        self._price_at = price_at
        self._plans: dict[Plan, _Levels] = {}

    def _at_levels(self, plan: Plan) -> _Levels:
        found = self._plans.get(plan)
        if found is None:
            costs = [self._price_at(plan, float(level)) for level in self.levels]
            found = self._plans[plan] = _Levels(
                np.array([c.mobile_s for c in costs]), np.array([c.cloud_s for c in costs]),
                {leaf: np.array([c.compute_s[leaf] for c in costs]) for leaf in costs[0].compute_s})
        return found

    def draw(self, plan: Plan, device: int, rid: int) -> PlanCost:
        """Request ``rid`` of ``device``'s compute under ``plan``: the same for every schedule and engine."""
        at = self._at_levels(plan)
        u = np.random.default_rng([self.seed, _STREAM_COMPUTE, device, rid]).random(len(self.tiers))
        levels = self.levels

        def of(tier: str, seconds: np.ndarray) -> float:
            return float(np.interp(u[self.tiers[tier]], levels, seconds))

        return PlanCost(of(DEVICE, at.mobile_s), of(CLOUD, at.cloud_s),
                        {leaf: of(leaf.tier, seconds) for leaf, seconds in at.compute_s.items()})


Sampling = tuple[ComputeSampler | None, dict[str, Any], RunWarning | None]


def compute_sampler(scenario: Scenario, inputs: ResolvedInputs, seed: int,
                    price_at: Callable[[Plan, float | None], PlanCost]) -> Sampling:
    """The run's sampler (None: compute stays constant), what the manifest says about it, and the warning
    naming the tiers that stay constant under ``variability: profile`` (None when there are none).

    ``price_at(plan, level)`` prices a plan with every profile at quantile ``level`` (None: the points).
    """
    tiers = {DEVICE: inputs.mobile, CLOUD: inputs.cloud, **{name: p for name, (p, _) in inputs.servers.items()}}
    if scenario.compute.variability == "none":
        return None, {"variability": "none", "sampled": {tier: False for tier in tiers}}, None
    sampled = {tier: profile.has_distribution for tier, profile in tiers.items()}
    about = {"variability": "profile", "coupling": "comonotone per tier and request", "sampled": sampled,
             "quantile_levels": {tier: len(p.file.quantile_levels or []) for tier, p in tiers.items() if sampled[tier]}}
    warning = unsampled_warning(about, tiers)
    if not any(sampled.values()):
        return None, about, warning
    levels = sorted({float(q) for profile in tiers.values() for q in profile.file.quantile_levels or ()})
    return ComputeSampler(seed, levels, list(tiers), price_at), about, warning


def unsampled_warning(about: Mapping[str, Any], profiles: Mapping[str, Profile]) -> RunWarning | None:
    """A warning naming the tiers whose profile has no quantiles, under ``variability: profile``."""
    constant = [tier for tier, sampled in about["sampled"].items() if not sampled]
    if not constant:
        return None
    names = ", ".join(f"{tier} ({profiles[tier].name})" for tier in constant)
    return RunWarning("compute_constant", f"compute.variability is 'profile', but these profiles carry no "
                      f"quantiles_ms, so their compute stays constant: {names} (measure one with mercury-sim profile)")
