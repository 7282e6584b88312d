"""scripts/fit_radio_narayanan2021.py: the SIGCOMM 2021 artefact's binning and line fit, on rows built by hand."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fit_radio_narayanan2021.py"


def load_script():  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location("fit_radio_narayanan2021", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def row(tput: float, power_mw: float, target: float, *, direction: str = "uplink", provider: str = "Verizon",
        network: str = "mmwave") -> dict:
    return {"throughput": tput, "time_since_start": 0.0, "avg_power": power_mw, "target bandwidth": target,
            "direction": direction, "network type": network, "provider": provider}


def test_fit_keeps_rows_within_the_interval_of_a_target_and_fits_the_bin_means() -> None:
    fit = load_script()
    on_line = [row(t, 5000.0 + 10.0 * t, target) for target, t in
               [(1, 0.0), (1, 2.0), (10, 9.5), (10, 10.5), (10, 11.0), (20, 20.2)]]
    # Each of these would pull the line off 5 W + 10 mW/Mbps if it entered a bin: between bins (the authors'
    # bins are (t - 1, t + 1], so 9.0 and 21.5 fall outside), another direction, carrier or radio type.
    stray = [row(9.0, 1.0, 10), row(21.5, 1.0, 20), row(10.0, 1.0, 10, direction="downlink"),
             row(10.0, 1.0, 10, provider="TMobile"), row(10.0, 1.0, 10, network="LTE")]
    result = fit.fit_uplink(pd.DataFrame(on_line + stray), fit.RadioBins("mmwave", 1.0))
    assert result.bins["rows"].tolist() == [2, 3, 1]  # 0.0 = 1 - 1 counts: the first bin is closed
    assert result.bins["throughput_mbps"].tolist() == pytest.approx([1.0, 31.0 / 3, 20.2])
    assert result.slope_w_per_mbps == pytest.approx(0.010, rel=1e-9)
    assert result.intercept_w == pytest.approx(5.0, rel=1e-9)
    assert result.r_squared == pytest.approx(1.0)


def test_fit_reports_r_squared_and_residuals_of_the_bin_means() -> None:
    # Bin means (0, 1), (1, 3), (2, 2) W: least squares gives 0.5 W/Mbps and 1.5 W; residuals -0.5, 1, -0.5 W;
    # R^2 = 1 - 1.5 / 2 = 0.25.
    fit = load_script()
    frame = pd.DataFrame([row(0.0, 1000.0, 0), row(1.0, 3000.0, 1), row(2.0, 2000.0, 2)])
    result = fit.fit_uplink(frame, fit.RadioBins("mmwave", 0.4))
    assert (result.slope_w_per_mbps, result.intercept_w) == pytest.approx((0.5, 1.5))
    assert result.r_squared == pytest.approx(0.25)
    assert result.residual_max_w == pytest.approx(1.0)
    assert result.residual_rms_w == pytest.approx((1.5 / 3) ** 0.5)
