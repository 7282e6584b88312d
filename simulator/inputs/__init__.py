"""The data a simulation reads, each with its file format and its checks.

* ``vit``, ``pruned_vit``: the ViT workload model (dimensions, MACs and tokens per block; width- and
  depth-pruned copies); ``diffusion_profile``, ``denoising``: a diffusion model's per-step latency and the
  denoising steps a stage graph prices with it;
* ``profiles``: per-stage latency profiles of devices and GPUs; ``accuracy``: token-reduction accuracy
  tables, read between rows with ``numeric`` (PCHIP, root finding); ``radio``: uplink power models;
* ``data``: where the shipped data lives (a checkout or an installed wheel); ``catalog``: which models have
  which data.

Uplink traces are inputs too, in their own package, :mod:`simulator.traces` (the same layer).

May import: :mod:`simulator.errors`, :mod:`simulator.files`, :mod:`simulator.traces`; never the scenario
(``config``) or anything above it.
"""
