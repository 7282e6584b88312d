"""The opt-in ``network.rto_min_ms``: an upload stalled by a zero-capacity stretch resumes at TCP's backed-off
retransmission timer (a + RTO, a + 3 RTO, a + 7 RTO, ...), computed here by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_scenario, write_trace

from simulator.cli.app import main
from simulator.config.scenario import load_scenario, scenario_from_dict
from simulator.model.runner import run_scenario
from simulator.traces import Trace
from simulator.traces.retransmission import RetransmittingTrace

MB = 1_000_000  # 8 Mbit: 0.8 s at 10 Mbit/s


def _trace(zero: list[tuple[float, float]], at_end: str = "loop", step: float = 0.1, n: int = 30) -> Trace:
    """10 Mbit/s in samples of ``step`` seconds, 0 inside each [start, end) of ``zero``."""
    times = np.round(np.arange(n) * step, 9)
    mbps = [0.0 if any(a - 1e-9 <= t < b - 1e-9 for a, b in zero) else 10.0 for t in times]
    return Trace(times, np.array(mbps), n * step, at_end)  # type: ignore[arg-type]


def test_one_outage_resumes_at_the_first_timer_after_capacity_returns() -> None:
    fluid = _trace([(1.0, 1.5)])
    # From 0.5: 5 Mbit by 1.0, the outage to 1.5, 3 Mbit more -> 1.8 on the fluid model.
    assert fluid.transfer_end(0.5, MB) == pytest.approx(1.8, abs=1e-12)
    # RTO 0.2: retransmissions at 1.2 (still zero), 1.6 -> resumes at 1.6, 3 Mbit -> 1.9.
    assert RetransmittingTrace.of(fluid, 0.2).transfer_end(0.5, MB) == pytest.approx(1.9, abs=1e-12)
    # RTO 0.1, two doublings: 1.1, 1.3 (zero), 1.7 -> 2.0.
    assert RetransmittingTrace.of(fluid, 0.1).transfer_end(0.5, MB) == pytest.approx(2.0, abs=1e-12)
    # Started inside the outage at 1.2: 1.4 (zero), 1.8 -> 8 Mbit -> 2.6.
    assert RetransmittingTrace.of(fluid, 0.2).transfer_end(1.2, MB) == pytest.approx(2.6, abs=1e-12)


def test_a_timer_that_fires_into_the_next_outage_backs_off_again() -> None:
    fluid = _trace([(1.0, 1.5), (1.55, 1.7)], step=0.05, n=60)
    # 1.2 (zero), 1.6 (the second stretch: zero), 2.4 -> 3 Mbit -> 2.7.
    assert RetransmittingTrace.of(fluid, 0.2).transfer_end(0.5, MB) == pytest.approx(2.7, abs=1e-12)


def test_a_stretch_across_the_loop_is_one_outage() -> None:
    fluid = _trace([(0.0, 0.2), (2.8, 3.0)])  # zero from 2.8 to 3.2 on the second pass
    # From 2.5: 3 Mbit by 2.8; timers 3.0 (zero), 3.4 -> 5 Mbit -> 3.9.
    assert RetransmittingTrace.of(fluid, 0.2).transfer_end(2.5, MB) == pytest.approx(3.9, abs=1e-12)


def test_a_stop_trace_that_ends_before_the_timer_never_finishes() -> None:
    fluid = _trace([(2.5, 2.8)], at_end="stop")
    # 3.2 Mbit from 2.3: 2 by 2.5, the rest from 2.8 -> 2.92; the timer fires at 2.7 (zero), 3.1 (past the end).
    assert fluid.transfer_end(2.3, 400_000) == pytest.approx(2.92, abs=1e-12)
    assert math.isinf(RetransmittingTrace.of(fluid, 0.2).transfer_end(2.3, 400_000))


def test_without_an_outage_met_the_fluid_ends_bit_for_bit() -> None:
    fluid = _trace([(1.0, 1.5)])
    timer = RetransmittingTrace.of(fluid, 0.2)
    # Ends exactly where the outage begins, starts where it ends, never near it.
    for start, n_bytes in ((0.5, 625_000), (1.5, MB), (1.9, MB), (0.0, 100), (0.3, 0)):
        assert timer.transfer_end(start, n_bytes) == fluid.transfer_end(start, n_bytes)
    starts = np.linspace(0.0, 9.0, 901)
    ends = timer.transfer_ends(starts, MB)
    assert np.array_equal(ends, [timer.transfer_end(s, MB) for s in starts])  # the fast path's = the DES's
    fluid_ends = fluid.transfer_ends(starts, MB)
    clear = np.array([not any(s < 3 * k + 1.5 and e > 3 * k + 1.0 for k in range(4))
                      for s, e in zip(starts, fluid_ends, strict=True)])
    assert clear.sum() > 100 and np.array_equal(ends[clear], fluid_ends[clear])


def _scenario(lab: Path, **network: object) -> Path:
    times = [round(0.1 * i, 1) for i in range(30)]
    write_trace(lab / "outage.csv", times, [0.0 if 1.0 <= t < 1.45 else 10.0 for t in times])
    return write_scenario(
        lab / f"s{len(list(lab.glob('s*.yaml')))}.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
        network={"trace": "outage.csv", "start_offset_s": 0.5, **network},
        workload={"arrival": "periodic", "fps": 1, "n_requests": 2, "seed": 1},
        schedules=[{"kind": "cloud-only", "image_bytes": MB}])


def test_the_link_queues_behind_a_stalled_upload_on_both_engines(lab: Path) -> None:
    """Request 0 uploads from trace time 0.5 (1300 ms fluid, 1400 ms with the timer); request 1 arrives at
    1.0 s, waits for the link (300 / 400 ms), then sends 8 Mbit in 800 ms."""
    runs = {}
    for rto, engine in ((None, "des"), (200, "des"), (200, "fast"), (200, "auto")):
        extra = {} if rto is None else {"rto_min_ms": rto}
        scenario = load_scenario(_scenario(lab, **extra))
        data = scenario.model_dump(mode="json", exclude_none=True) | {"engine": engine}
        runs[rto, engine] = run_scenario(scenario_from_dict(data, scenario.path))
    fluid, timer = runs[None, "des"].records, runs[200, "des"].records
    assert fluid.uplink_ms.to_numpy() == pytest.approx([1300, 800], abs=1e-6)
    assert fluid.uplink_queue_ms.to_numpy() == pytest.approx([0, 300], abs=1e-6)
    assert timer.uplink_ms.to_numpy() == pytest.approx([1400, 800], abs=1e-6)
    assert timer.uplink_queue_ms.to_numpy() == pytest.approx([0, 400], abs=1e-6)
    assert runs[200, "auto"].engines == {"cloud-only": "fast"}
    pd.testing.assert_frame_equal(runs[200, "fast"].records, timer)


def test_the_default_is_the_fluid_model(lab: Path) -> None:
    scenario = load_scenario(_scenario(lab))
    assert scenario.network.rto_min_ms is None
    same = load_scenario(_scenario(lab, rto_min_ms=None))
    pd.testing.assert_frame_equal(run_scenario(scenario).records, run_scenario(same).records)


@pytest.mark.parametrize(("network", "expected"), [
    ({"rto_min_ms": 0}, "network.rto_min_ms"),
    ({"rto_min_ms": 200, "sharing": "shared-cell"}, "network.rto_min_ms: applies to sharing 'per-device' only"),
    ({"rto_min_ms": 200, "mode": "mean"}, "network.rto_min_ms: applies to mode 'trace' only"),
])
def test_bad_key_is_one_line_exit_2(lab: Path, network: dict, expected: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(lab, **network)
    with pytest.raises(SystemExit) as exc:
        main(["run", str(path), "-o", str(lab / "out"), "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and expected in err and str(path) in err, err
    assert not (lab / "out").exists()
