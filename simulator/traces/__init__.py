"""Uplink bandwidth traces: the Trace model and the project's CSV trace format."""

from simulator.traces.csv_format import read_trace_csv, write_trace_csv
from simulator.traces.trace import AtEnd, Trace

__all__ = ["AtEnd", "Trace", "read_trace_csv", "write_trace_csv"]
