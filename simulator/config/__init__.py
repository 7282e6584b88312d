"""What the user asks for: the scenario file's schema and what rewrites or reads scenarios.

* ``scenario``: the scenario's pydantic schema, its loading and its JSON Schema (``mercury-sim schema``);
* ``overrides``: dotted-key overrides applied to a scenario's data (claims, sweeps);
* ``sweep_axes``: the names of a sweep grid's axes (paired axes, seed axes);
* ``seed_effect``: whether any draw of a scenario depends on its seed.

May import: :mod:`simulator.errors`, :mod:`simulator.files` and the inputs it names (``inputs``: the models
a scenario may choose, the shipped data it may name); never the model or anything above it.
"""
