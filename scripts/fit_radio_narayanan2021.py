"""Fit the 5G NSA uplink power models of profiles/radio/*-narayanan2021.yaml from the study's own measurements.

    python scripts/fit_radio_narayanan2021.py MN-Transfer_combined.csv baseline_power.csv

Inputs (not shipped; both in github.com/SIGCOMM21-5G/artifact, the artefact of Narayanan et al., "A Variegated
Look at 5G in the Wild", SIGCOMM 2021): ``Data-Transfer-Power/MN-Transfer/data-processed/MN-Transfer_combined.csv``
(per-second whole-phone power during iPerf transfers at fixed target rates, the data of the paper's Fig. 11)
and ``Power-Model/Loc-A-Wild/data-processed/baseline_power.csv`` (the study's per-run baseline power of the
phone, which its power-model scripts subtract).

Method, as the artefact's Fig. 11 script fits its lines: per radio type, Verizon uplink rows only; a bin of
width 2 x ``interval`` around each target rate, (target - interval, target + interval] on the measured
throughput (rows between bins are left out); the mean throughput and mean power of each non-empty bin; an
unweighted least-squares line through the bin means. The line's intercept is the whole phone's power; the
radio's share is the intercept minus the mean baseline. The RRC tail power is not in the artefact's files, so
it is the fitted base scaled by Huang et al.'s (MobiSys 2012) LTE tail-to-base ratio, 1060.0 / 1288.04 mW.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HUANG_TAIL_TO_BASE = 1060.0 / 1288.04


@dataclass(frozen=True)
class RadioBins:
    """How the artefact bins one radio type's uplink rows (targets None: every target rate in the file)."""

    network_type: str
    interval_mbps: float
    targets: tuple[float, ...] | None = None


RADIOS = (RadioBins("mmwave", 1.0), RadioBins("NSALow", 0.5),
          RadioBins("LTE", 1.0, (1.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0)))


@dataclass(frozen=True)
class LineFit:
    """A power-throughput line through bin means, and how well it fits them."""

    bins: pd.DataFrame  # target, throughput_mbps, power_w, rows, power_sd_w
    slope_w_per_mbps: float
    intercept_w: float
    r_squared: float
    residual_rms_w: float
    residual_max_w: float


def bin_means(rows: pd.DataFrame, radio: RadioBins) -> pd.DataFrame:
    """Mean throughput and power (W) of the rows within ``interval`` of each target rate (the first bin closed)."""
    targets = radio.targets or tuple(sorted(rows["target bandwidth"].unique()))
    out = []
    for k, target in enumerate(targets):
        low, high = target - radio.interval_mbps, target + radio.interval_mbps
        tput = rows["throughput"]
        inside = rows[((tput > low) | ((tput == low) & (k == 0))) & (tput <= high)]
        if len(inside):
            power = inside["avg_power"] / 1e3
            out.append({"target": target, "throughput_mbps": inside["throughput"].mean(), "power_w": power.mean(),
                        "rows": len(inside), "power_sd_w": power.std()})
    return pd.DataFrame(out)


def fit_line(bins: pd.DataFrame) -> LineFit:
    slope, intercept = np.polyfit(bins["throughput_mbps"], bins["power_w"], 1)
    residual = bins["power_w"] - (slope * bins["throughput_mbps"] + intercept)
    spread = ((bins["power_w"] - bins["power_w"].mean()) ** 2).sum()
    return LineFit(bins, float(slope), float(intercept), float(1 - (residual ** 2).sum() / spread),
                   float(np.sqrt((residual ** 2).mean())), float(residual.abs().max()))


def fit_uplink(combined: pd.DataFrame, radio: RadioBins) -> LineFit:
    rows = combined[(combined["provider"] == "Verizon") & (combined["direction"] == "uplink")
                    & (combined["network type"] == radio.network_type)]
    return fit_line(bin_means(rows, radio))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    combined = pd.read_csv(Path(argv[0]))
    baseline = pd.read_csv(Path(argv[1]))["base_power"].dropna() / 1e3
    print(f"baseline: {len(baseline)} runs, mean {baseline.mean():.5f} W, range {baseline.min():.4f}-"
          f"{baseline.max():.4f} W")
    for radio in RADIOS:
        fit = fit_uplink(combined, radio)
        base = fit.intercept_w - baseline.mean()
        print(f"\n{radio.network_type}: slope {fit.slope_w_per_mbps * 1e3:.3f} mW/Mbps, intercept "
              f"{fit.intercept_w:.4f} W, R^2 {fit.r_squared:.4f}, residual rms {fit.residual_rms_w * 1e3:.0f} mW, "
              f"max {fit.residual_max_w * 1e3:.0f} mW; {len(fit.bins)} bins, {int(fit.bins['rows'].sum())} rows")
        print(f"  base_w {base:.4f}  w_per_mbps {fit.slope_w_per_mbps:.6f}  tail_w {base * HUANG_TAIL_TO_BASE:.4f}")
        print(fit.bins.round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
