"""The emulated testbed: the scenario executed for real on this host, to measure the simulator's distance.

Network namespaces joined by veth pairs with a kernel qdisc that follows the trace (``network``,
``shaper``), a cloud process and mobile processes running the real split timm model (``workers``,
``split_exec``), an orchestrator that turns their monotonic timestamps into the simulator's records
(``testbed``), and the comparison with the simulator (``validate``). Nothing here is imported by
``import simulator``; torch and pyroute2 load only when an emulation command runs (the commands:
:mod:`simulator.cli.emulate`).

May import: every layer below the CLI (the model and its results folders, report pages, :mod:`simulator.ml`).
"""
