"""The queue warnings as calibrated claims, a small version of benchmarks/warnings_calibration.py: on a stable
uplink (rho 0.8, a minute of Poisson arrivals over the shipped LTE trace) ``latency_growing`` stays silent at
all but a few seeds and ``overload`` at every one; on a device CPU offered 1.5x its capacity both are raised
at every seed."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from simulator.config.scenario import load_scenario
from simulator.model.diagnostics import autocorrelation_inflation
from simulator.studies.warning_rates import overloaded, per_request_rho, tally

SEEDS = range(1, 31)


@pytest.fixture(scope="module")
def base():  # noqa: ANN201 (a Scenario)
    return load_scenario(REPO / "scenarios" / "default.yaml")


def test_a_stable_uplink_rarely_warns(base) -> None:  # noqa: ANN001
    found, _ = tally(overloaded(base, "uplink", 0.8, 60.0, per_request_rho(base, "uplink")), SEEDS)
    assert found["latency_growing"].total == 30
    # four rising quarters (the rule before six parts) were raised at 3 of these 30 seeds (17 of 100)
    assert found["latency_growing"].excluded <= 1
    assert found["overload"].excluded == 0  # rho 0.8: a minute of Poisson arrivals is not estimated above 1


def test_a_device_below_capacity_is_never_called_overloaded(base) -> None:  # noqa: ANN001
    # rho 0.8 for a minute: the run's own arrival count put rho above 1 at 5 of these 30 seeds (Poisson noise);
    # the configured rate is the load the workload offers
    found, _ = tally(overloaded(base, "device_cpu", 0.8, 60.0, per_request_rho(base, "device_cpu")), SEEDS)
    assert found["overload"].total == 30 and found["overload"].excluded == 0


def test_an_overloaded_device_is_found_at_every_seed(base) -> None:  # noqa: ANN001
    found, _ = tally(overloaded(base, "device_cpu", 1.5, 300.0, per_request_rho(base, "device_cpu")), SEEDS)
    assert found["latency_growing"].excluded == found["overload"].excluded == 30


def test_autocorrelation_inflates_the_trend_variance() -> None:
    rng = np.random.default_rng(1)
    assert autocorrelation_inflation(np.arange(50.0)) == 1.0  # nothing left once the trend is out
    assert autocorrelation_inflation(np.array([3.0, 1.0])) == 1.0  # too short to say
    assert 1.0 <= autocorrelation_inflation(rng.normal(size=400)) < 1.5  # independent: about 1
    walk = np.cumsum(rng.normal(size=400))  # each value the one before plus noise: a queue's latencies
    assert autocorrelation_inflation(walk) > 3.0
