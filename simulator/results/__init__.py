"""The output folders: what a run writes (``outputs``: records, summary, the resolved scenario, manifest,
the replayed trace window and its report page, in one swap) and what a comparison reads and writes
(``comparison``).

It sits above :mod:`simulator.report` because a run's folder includes its page, written in the same swap.

May import: every layer below it (the model's results, the report's pages, the analysis of seeds); never
studies or the CLI.
"""
