"""Why uploads stall after a zero-capacity stretch: the testbed with a deep and a shallow qdisc queue.

    sudo python benchmarks/emulation_outage.py [scenarios/validate-5g-blockage.yaml] [--shallow-bytes 64000]

Runs the scenario on the testbed twice (deep queue: the default 4 MB; shallow: packets beyond the limit are
dropped, as tc's ``latency`` option does at low rates) and prints, per schedule, the simulated and measured
mean uplink time and total, the qdisc drops and the TCP retransmission counters of the mobile namespace.
With the deep queue it then lists every upload that took ``--late-ms`` longer than simulated (the
simulation framed: ``packet_overhead_bytes: 66``), with the zero-capacity samples during it: where TCP's
retransmission timer, not the link, decided when an upload finished; and for every upload, what the framed
trace gives from its measured start, fluid and with ``network.rto_min_ms: 200`` (the timer modelled;
``simulator/traces/retransmission.py``), so the model is checked upload by upload, queueing aside.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from simulator.model.runner import RunResult
    from simulator.traces import Trace

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/validate-5g-blockage.yaml")
    parser.add_argument("--shallow-bytes", type=int, default=64_000)
    parser.add_argument("--late-ms", type=float, default=50.0)
    args = parser.parse_args()

    from simulator.config.scenario import load_scenario, scenario_from_dict
    from simulator.emulation.shaper import QUEUE_BYTES
    from simulator.emulation.testbed import emulate_scenario, facts_text
    from simulator.model.runner import run_scenario

    scenario = load_scenario(args.scenario)
    simulated = run_scenario(scenario).records
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["network"].update(packet_overhead_bytes=66, mss_bytes=1448)
    framed = run_scenario(scenario_from_dict(data, scenario.path))
    for queue_bytes in (QUEUE_BYTES, args.shallow_bytes):
        result = emulate_scenario(scenario, queue_bytes=queue_bytes, cap_send_buffer=queue_bytes == QUEUE_BYTES)
        measured = result.run.records
        facts = result.facts
        print(f"queue {queue_bytes} bytes, load average {facts['load_average_start']:.2f} -> "
              f"{facts['load_average_end']:.2f}; " + "; ".join(facts_text(facts)[2:]))
        print(f"{'schedule':12s} {'sim up':>8s} {'meas up':>8s} {'err':>7s} {'sim tot':>8s} {'meas tot':>8s} "
              f"{'err':>7s} {'p50 err':>7s} {'drops':>6s}  tcp")
        for label, facts in result.facts["per_schedule"].items():
            sim = simulated[(simulated.schedule == label) & (simulated.status == "ok")]
            emu = measured[(measured.schedule == label) & (measured.status == "ok")]
            if sim.uplink_ms.mean() == 0:
                continue
            up_s, up_m = sim.uplink_ms.mean(), emu.uplink_ms.mean()
            tot_s, tot_m = sim.total_ms.mean(), emu.total_ms.mean()
            p50 = (sim.total_ms.median() - emu.total_ms.median()) / emu.total_ms.median()
            print(f"{label:12s} {up_s:8.1f} {up_m:8.1f} {100 * (up_s - up_m) / up_m:+6.1f}% {tot_s:8.1f} "
                  f"{tot_m:8.1f} {100 * (tot_s - tot_m) / tot_m:+6.1f}% {100 * p50:+6.1f}% "
                  f"{facts['qdisc_drops']:6d}  {facts['tcp_per_device']}")
        if queue_bytes == QUEUE_BYTES:
            late_uploads(framed, measured, args.late_ms)


def late_uploads(framed: RunResult, measured: pd.DataFrame, late_ms: float) -> None:
    """Uploads that took ``late_ms`` longer than the framed simulation, with the outages they met."""
    from simulator.model.framing import framed_setup
    from simulator.model.runner import engine_setup
    from simulator.results.outputs import replayed_window
    from simulator.traces.retransmission import RetransmittingTrace

    setup = engine_setup(framed.scenario, framed.inputs)
    fluid = framed_setup(setup, framed.scenario.network).trace
    timer = RetransmittingTrace.of(fluid, RTO_MIN_MS / 1e3)
    keys = ["schedule", "device", "request_id"]
    both = framed.records.merge(measured, on=keys, suffixes=("_sim", "_emu"))
    both = both[(both.status_sim == "ok") & (both.status_emu == "ok") & (both.uplink_ms_sim > 0)]
    excess = both.uplink_ms_emu - both.uplink_ms_sim
    print(f"uploads more than {late_ms:g} ms later than simulated (framed), of {len(both)}; median excess of all "
          f"{excess.median():+.1f} ms:")
    for row, extra in zip(both[excess > late_ms].itertuples(index=False), excess[excess > late_ms], strict=True):
        start = (row.arrival_s_emu * 1e3 + row.mobile_queue_ms_emu + row.mobile_ms_emu + row.uplink_queue_ms_emu) / 1e3
        window = replayed_window(setup.trace, setup.start_offsets_s[row.device], start + row.uplink_ms_emu / 1e3)
        zero = window[(window.mbps == 0) & (window.time_s >= start - 1.0)].time_s
        offset = setup.start_offsets_s[row.device]
        print(f"  {row.schedule} device {row.device} request {row.request_id}: upload from {start:.2f} s, simulated "
              f"{row.uplink_ms_sim:.0f} ms, measured {row.uplink_ms_emu:.0f} ms ({extra:+.0f} ms); from the measured "
              f"start fluid {_transfer_ms(fluid, offset, start, row.uplink_bytes_emu):.0f} ms, with the timer "
              f"{_transfer_ms(timer, offset, start, row.uplink_bytes_emu):.0f} ms; zero capacity "
              f"at {', '.join(f'{t:.1f}' for t in zero) or 'none'} s")
    starts = (both.arrival_s_emu * 1e3 + both.mobile_queue_ms_emu + both.mobile_ms_emu + both.uplink_queue_ms_emu) / 1e3
    for name, trace in (("fluid", fluid), (f"rto_min_ms {RTO_MIN_MS:g}", timer)):
        model = [_transfer_ms(trace, setup.start_offsets_s[d], s, b)
                 for d, s, b in zip(both.device, starts, both.uplink_bytes_emu, strict=True)]
        miss = both.uplink_ms_emu - model
        print(f"from the measured starts, {name}: measured - model median {miss.median():+.1f} ms, mean "
              f"{miss.mean():+.1f} ms; {(miss > late_ms).sum()} more than {late_ms:g} ms late, "
              f"{(miss < -late_ms).sum()} more than {late_ms:g} ms early")


RTO_MIN_MS = 200.0  # Linux's TCP_RTO_MIN


def _transfer_ms(trace: Trace, offset_s: float, start_s: float, n_bytes: int) -> float:
    return (trace.transfer_end(start_s + offset_s, n_bytes) - offset_s - start_s) * 1e3


if __name__ == "__main__":
    main()
