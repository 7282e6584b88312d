"""Everything that needs torch and timm: token reduction, split execution, reconstruction, the accuracy
harness and the host profiler.

The only package of mercury-sim that imports torch and timm (with :mod:`simulator.emulation`, which runs
it); nothing outside them imports this package at module level, so ``import simulator`` and ``mercury-sim
--help`` stay torch-free. The commands that drive it are in :mod:`simulator.cli`.

May import: :mod:`simulator.errors`, :mod:`simulator.files`, :mod:`simulator.inputs` (the ViT workload
model, accuracy tables, profiles).
"""
