"""Uplink bandwidth traces: the Trace model, the project's CSV format, importers of published logs and
mahimahi, statistics, fitted synthetic traces, and the replayed stretch a run stores (``replay_window``).

An input like those of :mod:`simulator.inputs`, in the same layer; the ``traces`` commands are in
:mod:`simulator.cli.traces`.

May import: :mod:`simulator.errors`, :mod:`simulator.version`, :mod:`simulator.files` and
:mod:`simulator.inputs` (where the shipped traces live).
"""

from simulator.traces.csv_format import read_trace_csv, write_trace_csv
from simulator.traces.trace import AtEnd, Trace

__all__ = ["AtEnd", "Trace", "read_trace_csv", "write_trace_csv"]
