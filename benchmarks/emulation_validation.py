"""Simulator vs emulated testbed on the validation scenarios, repeated: the numbers of README's
"How close to reality".

    sudo HF_HUB_OFFLINE=1 PYTHONPATH=. python benchmarks/emulation_validation.py [--rounds 3] \
        [scenarios/validate-constant.yaml scenarios/validate-lte.yaml scenarios/validate-5g-blockage.yaml]

The validation scenarios set the opt-in framing key themselves (so ``validate`` prices it); each variant
here sets exactly its own. Each round visits every scenario in turn (so background load
spreads over all of them): a fresh profile of this host (as ``mercury-sim validate --fresh``: real-time
priority, means of single calls, with the after-idle cost), the emulation, then the simulation on that
profile as: the fluid uplink ("fluid"), the opt-in packet
framing (``network.packet_overhead_bytes: 66``, ``mss_bytes: 1448``; "framed"), framing plus the opt-in
``compute_after_idle`` ("framed+idle", what ``validate --fresh`` prices) and those plus TCP's
retransmission timer after outages (``network.rto_min_ms: 200``; "framed+idle+rto", the model of a link
that loses what it holds in an outage, shown for contrast on the two traces); and "framed+idle" once more
with the host's drift removed ("drift removed", as ``validate`` also reports it: each schedule on the
profile scaled to the mean of the whole forwards its workers timed right before and after it).
Prints per scenario and schedule the median and range over rounds of the mean-latency error
(simulated - measured) / measured of the total, the uplink and the mobile and cloud compute, with the
testbed's facts of every round (load average, off-CPU time of the computes, TCP counters) and the host's
drift: each worker's timing of the whole forward right before and after each schedule against the
profile's price.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SCENARIOS = ["scenarios/validate-constant.yaml", "scenarios/validate-lte.yaml", "scenarios/validate-5g-blockage.yaml"]
FRAMING = {"packet_overhead_bytes": 66, "mss_bytes": 1448}
RTO_MIN_MS = 200.0  # Linux's TCP_RTO_MIN
METRICS = ["total_ms", "uplink_ms", "mobile_ms", "cloud_ms"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=SCENARIOS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None,
                        help="also write each round's emulated records here (<scenario>-<round>.parquet)")
    args = parser.parse_args()

    from simulator.config.scenario import load_scenario, scenario_from_dict
    from simulator.emulation.exclusive import exclusive_testbed, tell_stderr
    from simulator.emulation.testbed import emulate_scenario, facts_text
    from simulator.emulation.validate import (
        comparison_table,
        drift_removed_records,
        host_speed_table,
        measure_host_profile,
        with_profile,
    )
    from simulator.inputs.profiles import load_profile
    from simulator.inputs.vit import MODELS
    from simulator.model.runner import run_scenario

    errors: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_index in range(args.rounds):
            for path in args.scenarios:
                scenario = load_scenario(path)
                with exclusive_testbed(on_wait=tell_stderr):  # no other run between profile and emulation
                    host = measure_host_profile(scenario.model, Path(tmp) / "host.yaml")
                    emulated = emulate_scenario(scenario)
                priced = with_profile(scenario, host)
                after_idle = load_profile(host).after_idle_ms(MODELS[scenario.model])
                if args.keep is not None:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    emulated.run.records.to_parquet(args.keep / f"{scenario.name}-{round_index + 1}.parquet")
                speed = host_speed_table(priced, emulated.facts)
                variants = {}
                for variant, idle, rto in (("fluid", None, None), ("framed", False, None),
                                           ("framed+idle", True, None), ("framed+idle+rto", True, RTO_MIN_MS)):
                    data = priced.model_dump(mode="json", exclude_none=True)
                    for key in ("packet_overhead_bytes", "mss_bytes", "rto_min_ms"):  # as the variant says
                        data["network"].pop(key, None)
                    if idle is not None:
                        data["network"].update(FRAMING)
                        data["compute_after_idle"] = idle
                    if rto is not None:
                        if data["network"].get("mode", "trace") != "trace":
                            continue  # refused on the mean link, which has no outages: framed+idle is final
                        data["network"]["rto_min_ms"] = rto
                    variants[variant] = run_scenario(scenario_from_dict(data, scenario.path))
                labels = list(variants["fluid"].records.schedule.cat.categories)
                framed_idle = variants["framed+idle"].scenario  # what validate prices; next, its drift removed
                drift_free = drift_removed_records(framed_idle, labels, speed, Path(tmp))
                variants["drift removed"] = SimpleNamespace(records=drift_free)
                print(f"round {round_index + 1} {scenario.name}: profile after_idle_ms {after_idle}; "
                      + "; ".join(facts_text(emulated.facts)), flush=True)
                print(f"  per schedule: {json.dumps(emulated.facts.get('per_schedule', {}))}", flush=True)
                print("  host drift, the whole forward before / after each schedule against the profile's price: "
                      + "; ".join(f"{r.schedule} {r.side} {100 * (r.before_ms / r.priced_forward_ms - 1):+.1f} / "
                                  f"{100 * (r.after_ms / r.priced_forward_ms - 1):+.1f} %"
                                  f"{'' if r.steady else ' (not steady)'}" for r in speed.itertuples()), flush=True)
                for variant, simulated in variants.items():
                    labels = list(simulated.records.schedule.cat.categories)
                    table = comparison_table(simulated.records, emulated.run.records, labels)
                    for row in table[table.metric.isin(METRICS)].itertuples(index=False):
                        errors.setdefault((scenario.name, row.schedule, f"{row.metric}-{variant}"), []).append(
                            row.error_mean)
                        print(f"  {variant:15s} {row.schedule:12s} {row.metric:9s} simulated {row.simulated_mean:8.1f} "
                              f"measured {row.measured_mean:8.1f} ms  error {100 * row.error_mean:+6.1f} %", flush=True)
    print(f"\n{'scenario':22s} {'schedule':12s} {'error of the mean (median over rounds, range)':>30s}")
    for (name, schedule, what), values in errors.items():
        finite = [v for v in values if v == v]
        if not finite:
            continue
        print(f"{name:22s} {schedule:12s} {what:25s} {100 * statistics.median(finite):+7.1f} %  "
              f"({100 * min(finite):+.1f} .. {100 * max(finite):+.1f})")


if __name__ == "__main__":
    main()
