"""A small A/A study in the default suite: identical configurations under different seeds must rarely look
different (benchmarks/calibration.py measures the same at scale, on three shipped scenarios)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _report_runs import scenario_file

from simulator.config.scenario import load_scenario
from simulator.studies.calibration import StudiedStatistics, seed_statistics, study


@pytest.fixture(scope="module")
def pools(tmp_path_factory) -> tuple[dict, dict]:
    """120 seeds of a small two-schedule scenario on the shipped LTE trace, and the same with 20 ms more RTT."""
    folder: Path = tmp_path_factory.mktemp("calibration")
    path = scenario_file(folder, n_requests=20)
    data = yaml.safe_load(path.read_text())
    data["network"]["start_offset_s"] = "random"
    data["schedules"] = [s for s in data["schedules"] if s["kind"] in ("cloud-only", "mercury")]
    path.write_text(yaml.safe_dump(data))
    scenario = load_scenario(path)
    slower = scenario.model_copy(update={"network": scenario.network.model_copy(update={"rtt_ms": 20.0})})
    seeds = list(range(1, 121))
    return seed_statistics(scenario, seeds), seed_statistics(slower, seeds)


def test_aa_intervals_rarely_exclude_zero(pools) -> None:
    base, _ = pools
    result = study(base, seeds_per_side=3, comparisons=40)
    for statistic in StudiedStatistics:
        tally = result.tallies[statistic]
        assert tally.total >= 40, (statistic, tally)
        assert tally.share <= 0.15, (statistic, tally)  # 5 % expected; the old per-request bootstrap: 65 %


def test_a_known_effect_is_found_when_paired_by_seed(pools) -> None:
    """+20 ms RTT adds 20 ms to every offloaded request: every paired interval of the mean excludes zero,
    and on the right side."""
    base, slower = pools
    found = []
    result = study(base, slower, seeds_per_side=3, comparisons=40, paired=True,
                   on_interval=lambda schedule, statistic, d, low, high: found.append((statistic, d, low, high)))
    assert result.tallies["mean_ms"].share == 1.0
    assert all(low == pytest.approx(20.0) and high == pytest.approx(20.0) for s, d, low, high in found
               if s == "mean_ms")
