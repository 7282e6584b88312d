"""What a schedule hands the engine for one request, and what it costs.

* ``plan``: a Plan (mobile stages, the upload, cloud stages, the accuracy to expect), the context a schedule
  plans from, the :class:`~simulator.plans.plan.Schedule` contract, and the prices of Plans on profiles;
* ``graph``: stage graphs (computes and transfers in chains, forks and branches) for more than two tiers.

The engine executes Plans and never sees schedule names: this package is the whole contract between
:mod:`simulator.schedules` above it and :mod:`simulator.model`.

May import: :mod:`simulator.errors`, :mod:`simulator.inputs` (profiles price stages) and
:mod:`simulator.traces`.
"""
