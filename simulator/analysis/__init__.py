"""Statistics over seeds: pure functions of numbers and tables that never run a simulation.

* ``intervals``: Student t intervals clipped to a statistic's range;
* ``aggregate``: a sweep's table over seeds, and the range of every statistic (``BOUNDS``);
* ``compare``: the difference between runs per schedule and statistic, paired by seed or Welch.

It sits below the model because a replicated run (:mod:`simulator.model.replications`) summarises its
seeds with these same functions; reading and writing results folders is :mod:`simulator.results`'s job.

May import: :mod:`simulator.errors` and :mod:`simulator.config` (a sweep's axis names), numpy, pandas, scipy.
"""
