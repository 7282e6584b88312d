"""Calibration of ``mercury-sim compare``: A/A studies (identical configurations, different seeds) on shipped
scenarios, and the power to find a known effect (+20 ms of RTT) at a given number of seeds per side.

For each scenario, a pool of seeds is run once per configuration (the scenario, and the scenario with
``network.rtt_ms`` raised by 20 ms); comparisons then draw their seeds from the pool
(:mod:`simulator.studies.calibration`). A calibrated 95 % interval excludes zero in about 5 % of A/A comparisons.

    PYTHONPATH=. python benchmarks/calibration.py                       # the numbers in benchmarks/README.md
    PYTHONPATH=. python benchmarks/calibration.py --pool 120 --comparisons 50 default   # a quick look
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simulator.config.scenario import load_scenario
from simulator.studies.calibration import StudiedStatistics, seed_statistics, study

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = ("default", "pruned-on-device", "cell-contention")  # each draws from its seed
EFFECT_MS = 20.0


def _share(tally) -> str:  # noqa: ANN001 (a Tally)
    low, high = tally.wilson()
    return f"{tally.share:6.1%} [{low:.1%}, {high:.1%}] of {tally.total}"


def block_bootstrap_aa(scenario, pairs: int, resamples: int = 500) -> tuple[int, int]:  # noqa: ANN001
    """What compare does not do, measured: single runs (one seed per side) compared by a stationary block
    bootstrap over each run's request sequence (Politis-White block length; the ``arch`` package, ``pip
    install "mercury-sim[bench]"``), the mean latency of each varying schedule. Returns (intervals excluding
    zero, intervals drawn)."""
    import numpy as np
    from arch.bootstrap import StationaryBootstrap, optimal_block_length

    from simulator.model.replications import with_seed
    from simulator.model.runner import run_scenario

    excluded = total = 0
    for pair in range(pairs):
        runs = [run_scenario(with_seed(scenario, 2 * pair + side + 1)).records for side in (0, 1)]
        for schedule in runs[0].schedule.cat.categories:
            series = [r[(r.schedule == schedule) & (r.status == "ok")].sort_values("arrival_s").total_ms.to_numpy()
                      for r in runs]
            if min(len(x) for x in series) < 10 or all(np.ptp(x) == 0 for x in series):
                continue
            means = []
            for x in series:
                block = max(1.0, float(optimal_block_length(x)["stationary"].iloc[0]))
                bootstrap = StationaryBootstrap(block, x, seed=pair)
                means.append(np.array([data[0][0].mean() for data in bootstrap.bootstrap(resamples)]))
            point = series[1].mean() - series[0].mean()
            spread = means[1] - means[0]
            low, high = np.quantile(spread - spread.mean() + point, [0.025, 0.975])
            total += 1
            excluded += int(low > 0 or high < 0)
    return excluded, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--pool", type=int, default=600, help="seeds run per scenario and configuration")
    parser.add_argument("--comparisons", type=int, default=200, help="comparisons per scenario and seed count")
    parser.add_argument("--seeds-per-side", type=int, nargs="*", default=[3, 5, 10])
    parser.add_argument("--block-bootstrap", type=int, default=0, metavar="PAIRS",
                        help="also an A/A study of single runs with a block bootstrap over requests (needs arch)")
    args = parser.parse_args()
    seeds = list(range(1, args.pool + 1))
    for name in args.scenarios:
        scenario = load_scenario(REPO / "scenarios" / f"{name}.yaml")
        slower = scenario.model_copy(update={"network": scenario.network.model_copy(
            update={"rtt_ms": scenario.network.rtt_ms + EFFECT_MS})})
        start = time.perf_counter()
        base = seed_statistics(scenario, seeds)
        effect = seed_statistics(slower, seeds)
        print(f"\n{name}: {args.pool} seeds per configuration in {time.perf_counter() - start:.0f} s")
        print(f"{'k':>3} {'study':<22} " + " ".join(f"{s:<34}" for s in StudiedStatistics))
        for k in args.seeds_per_side:
            rows = {
                "A/A unpaired": study(base, seeds_per_side=k, comparisons=args.comparisons),
                f"+{EFFECT_MS:g} ms unpaired": study(base, effect, seeds_per_side=k, comparisons=args.comparisons),
                f"+{EFFECT_MS:g} ms paired": study(base, effect, seeds_per_side=k, comparisons=args.comparisons,
                                                   paired=True),
            }
            for label, result in rows.items():
                print(f"{k:>3} {label:<22} " + " ".join(f"{_share(result.tallies[s]):<34}"
                                                        for s in StudiedStatistics))
        if args.block_bootstrap:
            excluded, total = block_bootstrap_aa(scenario, args.block_bootstrap)
            print(f"  1 A/A single runs, block bootstrap over requests (mean_ms): {excluded} of {total} "
                  f"({excluded / total:.1%}) exclude zero")


if __name__ == "__main__":
    main()
