"""Why uploads stall after a zero-capacity stretch: the testbed with a deep and a shallow qdisc queue.

    sudo python benchmarks/emulation_outage.py [scenarios/validate-5g-blockage.yaml] [--shallow-bytes 64000]

Runs the scenario on the testbed twice (deep queue: the default 4 MB; shallow: packets beyond the limit are
dropped, as tc's ``latency`` option does at low rates) and prints, per schedule, the simulated and measured
mean uplink time and total, the qdisc drops and the TCP retransmission counters of the mobile namespace.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/validate-5g-blockage.yaml")
    parser.add_argument("--shallow-bytes", type=int, default=64_000)
    args = parser.parse_args()

    from simulator.emulation.shaper import QUEUE_BYTES
    from simulator.emulation.testbed import emulate_scenario, facts_text
    from simulator.runner import run_scenario
    from simulator.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    simulated = run_scenario(scenario).records
    for queue_bytes in (QUEUE_BYTES, args.shallow_bytes):
        result = emulate_scenario(scenario, queue_bytes=queue_bytes)
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


if __name__ == "__main__":
    main()
