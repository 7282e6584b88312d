"""Janus (Algorithm 1) by hand: Eq. 2's alpha bound, Eq. 3's split candidates, the harmonic-mean bandwidth
estimate and its window, the first feasible alpha, the overhead bytes, and where the estimate's samples come from.

The scheduler tests use constant-time profiles so every latency is a sum worked out on paper: on the device
embed 10 ms + 100 ms per block + head 5 ms, in the cloud 0.5 + 1 ms per block + 0.25 ms, ToMe's matching free.
Split 1 then costs 110 ms (device) + 11.25 ms (cloud) + x1 tokens x 3076 B (768 fp32 values and one ToMe size
each) at the bandwidth; at 10 Mbit/s that is 2.4608 ms per token. Split 0 uploads the 2.2 MB image (1760 ms),
split 13 runs all 12 blocks locally (1215 ms), and every deeper split adds 99 ms of compute for at most
floor(2^(0.49 x 10)) = 29 tokens (71 ms) saved, so split 1 is the best split for every alpha. Block 1 of
Janus removes floor(2^(11 alpha)) tokens (Eq. 1), so x1 = 198 - floor(2^(11 alpha)).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import write_profile, write_scenario, write_trace

from simulator.config.scenario import load_scenario
from simulator.inputs.accuracy import AccuracyTable
from simulator.inputs.profiles import load_profile
from simulator.inputs.vit import ViTSpec, get_model, janus_alpha_max
from simulator.model.runner import run
from simulator.plans.plan import PlanContext
from simulator.schedules.base import ScheduleInputs
from simulator.schedules.janus import JanusSchedule, harmonic_mean, split_candidates
from simulator.traces import Trace

DEIT_B = get_model("deit_base_distilled_patch16_224")
TOKEN_BYTES = 768 * 4 + 4
SPLIT1_COMPUTE_MS = 110.0 + 11.25


def split1_ms(alpha_tokens_removed: int, mbps: float = 10.0, extra_tokens: int = 0) -> float:
    """Predicted latency of split 1 when block 1 removes that many tokens."""
    return SPLIT1_COMPUTE_MS + (198 - alpha_tokens_removed + extra_tokens) * TOKEN_BYTES * 8 / (mbps * 1e3)


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    write_profile(tmp_path / "mobile.yaml", block_ms=100.0, embed_ms=10.0, head_ms=5.0)
    write_profile(tmp_path / "cloud.yaml", block_ms=1.0, embed_ms=0.5, head_ms=0.25)
    return tmp_path


def janus(profiles: Path, sla_ms: float, dataset: str = "cifar100", **kwargs: object) -> JanusSchedule:
    inputs = ScheduleInputs(DEIT_B, dataset, "fp32", AccuracyTable.shipped(), load_profile(profiles / "mobile.yaml"),
                            load_profile(profiles / "cloud.yaml"), None, 10.0)
    return JanusSchedule("janus", inputs, "auto", "auto", sla_ms=sla_ms, **kwargs)  # type: ignore[arg-type]


# -- Eq. 2 and Eq. 3 ------------------------------------------------------------------------------------
def test_alpha_max_uses_eq2_exponent() -> None:
    """Eq. 2 sums floor(2^(alpha (12 - l + 1))) for l = 1..12 and must stay <= 197 tokens for DeiT-B (x0 = 198).

    alpha 0.49: 58 + 41 + 29 + 21 + 15 + 10 + 7 + 5 + 3 + 2 + 1 + 1 = 193 <= 197;
    alpha 0.50: 64 + 45 + 32 + 22 + 16 + 11 + 8 + 5 + 4 + 2 + 2 + 1 = 212 > 197. (Eq. 1's exponent gives 0.54.)
    """
    assert janus_alpha_max(DEIT_B) == 0.49
    assert janus_alpha_max(get_model("vit_base_patch16_224")) == 0.49
    # one block, two tokens (cls + one patch): floor(2^alpha) <= 1 holds up to 0.99, not at 1.00
    assert janus_alpha_max(ViTSpec("one-patch", 8, 1, 1, patch_size=16, image_size=16, prefix_tokens=1)) == 0.99


@pytest.mark.parametrize(("depth", "k", "expected"), [
    (12, 3, [0, 1, 2, 3, 5, 7, 9, 12, 13]),        # the paper's Fig. 4
    (12, 5, [0, 1, 2, 3, 4, 5, 7, 9, 11, 13]),
    (24, 5, [0, 1, 2, 3, 4, 5, 7, 9, 11, 13, 15, 18, 21, 24, 25]),
    (12, 1, [0, 1, 3, 6, 10, 13]),                 # steps ceil(i / 1) = i: 1, +2, +3, +4 (15 > 12 stops)
])
def test_split_candidates_eq3(depth: int, k: int, expected: list[int]) -> None:
    assert split_candidates(depth, k) == expected


# -- the bandwidth estimate -----------------------------------------------------------------------------
def test_harmonic_mean_of_transfer_throughputs() -> None:
    assert harmonic_mean([5.0, 10.0, 20.0]) == pytest.approx(3 / (0.2 + 0.1 + 0.05))
    assert harmonic_mean([]) == 0.0
    with pytest.raises(ValueError, match="positive"):  # a 0 is an outage sample, never a transfer
        harmonic_mean([0.0, 4.0, 4.0])


def test_upload_estimate_uses_the_newest_window(profiles: Path) -> None:
    sched = janus(profiles, 550, bandwidth_window=3, bandwidth_source="uploads")
    # the last three of 40, 5, 10, 20 (not the first three, not their arithmetic mean)
    assert sched.bandwidth_estimate(PlanContext(0.0, 0, 99.0, (40.0, 5.0, 10.0, 20.0))) == pytest.approx(60 / 7)
    assert sched.bandwidth_estimate(PlanContext(0.0, 0, 99.0, ())) == 99.0  # cold start: the trace mean
    wide = janus(profiles, 550, bandwidth_window=80, bandwidth_source="uploads")
    samples = (1.0,) + (100.0,) * 79  # the slow sample is 80th from the end: inside an 80-sample window
    assert wide.bandwidth_estimate(PlanContext(0.0, 0, 99.0, samples)) == pytest.approx(80 / (1 + 79 / 100))
    assert wide.bandwidth_history == 80
    assert janus(profiles, 550, bandwidth_window=80).bandwidth_history == 0  # radio: the engine keeps none


def test_radio_estimate_reads_the_trace_samples_up_to_now(profiles: Path) -> None:
    trace = Trace.from_samples([0, 1, 2, 3, 4], [10, 40, 5, 20, 16])
    sched = janus(profiles, 550, bandwidth_window=3)

    def estimate(now: float, offset: float, t: Trace = trace) -> float:
        return sched.bandwidth_estimate(PlanContext(now, 0, 99.0, (1.0,), t, offset))

    assert estimate(2.5, 0.0) == pytest.approx(3 / (1 / 10 + 1 / 40 + 1 / 5))     # samples 0, 1, 2
    assert estimate(0.5, 3.0) == pytest.approx(3 / (1 / 40 + 1 / 5 + 1 / 20))     # offset: samples 1, 2, 3
    assert estimate(0.5, 0.0) == pytest.approx(3 / (1 / 20 + 1 / 16 + 1 / 10))    # wraps: samples 3, 4, 0
    assert estimate(1.0, 0.0) == pytest.approx(3 / (1 / 16 + 1 / 10 + 1 / 40))    # sample 1 starts at 1.0
    stop = Trace.from_samples([0, 1, 2, 3, 4], [10, 40, 5, 20, 16], at_end="stop")
    assert estimate(0.5, 0.0, stop) == pytest.approx(10.0)                         # nothing before time 0
    assert estimate(4.5, 0.0, stop) == pytest.approx(3 / (1 / 5 + 1 / 20 + 1 / 16))  # samples 2, 3, 4
    assert estimate(7.0, 0.0, stop) == 0.0                                          # after the end: no capacity


# -- Algorithm 1 ----------------------------------------------------------------------------------------
def plan_at_10mbps(sched: JanusSchedule, overhead_bytes: int = 0):  # noqa: ANN201
    return sched.plan(PlanContext(0.0, 0, 10.0, (10.0,), overhead_bytes=overhead_bytes))


def test_first_feasible_alpha_beyond_the_accuracy_table(profiles: Path) -> None:
    """SLA 550 ms: alpha 0.41 removes floor(2^4.51) = 22 tokens (554.35 ms, too slow); alpha 0.42 removes
    floor(2^4.62) = 24 (549.43 ms). The CIFAR-100 table ends at alpha 0.34, yet the scan covers 0..0.49."""
    assert split1_ms(22) > 550 >= split1_ms(24)
    sched = janus(profiles, 550, bandwidth_source="uploads")
    plan = plan_at_10mbps(sched)
    assert (plan.parameter, plan.split_after, plan.uplink_bytes) == (0.42, 1, 174 * TOKEN_BYTES)
    assert math.isnan(plan.accuracy)  # above the table's last alpha: NaN, never extrapolated
    assert any("ends at alpha 0.34" in w for w in sched.inputs.warnings)


def test_first_feasible_alpha_takes_accuracy_from_the_table(profiles: Path) -> None:
    """SLA 587 ms: alpha 0.28 removes 8 tokens (588.8 ms), 0.29 removes floor(2^3.19) = 9 (586.3 ms), as does
    0.30; the first (most accurate) is chosen. Two table rows (0: 91.2 %, 0.34: 89.9 %) interpolate linearly."""
    assert split1_ms(8) > 587 >= split1_ms(9)
    plan = plan_at_10mbps(janus(profiles, 587, bandwidth_source="uploads"))
    assert (plan.parameter, plan.split_after) == (0.29, 1)
    assert plan.accuracy == pytest.approx(91.2 - 1.3 * 0.29 / 0.34)


def test_overhead_bytes_count_in_the_prediction(profiles: Path) -> None:
    """Two tokens' worth of protocol bytes per upload push 0.42 over the SLA; 0.43 removes floor(2^4.73) = 26."""
    assert split1_ms(24, extra_tokens=2) > 550 >= split1_ms(26, extra_tokens=2)
    plan = plan_at_10mbps(janus(profiles, 550, bandwidth_source="uploads"), overhead_bytes=2 * TOKEN_BYTES)
    assert (plan.parameter, plan.split_after) == (0.43, 1)


def test_unreachable_sla_takes_the_fastest_configuration(profiles: Path) -> None:
    """Nothing meets 100 ms: alpha_max = 0.49 removes floor(2^5.39) = 41 tokens, the least upload (507.6 ms)."""
    plan = plan_at_10mbps(janus(profiles, 100, bandwidth_source="uploads"))
    assert (plan.parameter, plan.split_after, plan.uplink_bytes) == (0.49, 1, 157 * TOKEN_BYTES)


def test_scheduler_merges_tokens_on_imagenet_with_a_tight_sla(profiles: Path) -> None:
    """ImageNet's Janus table has only alpha = 0; the scheduler still scans its whole range and merges."""
    plan = plan_at_10mbps(janus(profiles, 550, dataset="imagenet"))
    assert plan.parameter == 0.42 > 0 and plan.split_after == 1
    assert math.isnan(plan.accuracy)
    loose = plan_at_10mbps(janus(profiles, 2000, dataset="imagenet"))
    assert loose.parameter == 0.0 and loose.accuracy == pytest.approx(83.384)  # alpha 0: the table's row


def test_without_janus_rows_alpha_zero_reports_the_unreduced_accuracy(profiles: Path, tmp_path: Path) -> None:
    csv = tmp_path / "acc.csv"
    csv.write_text("model,dataset,method,split_after,parameter,reconstruction,top1,source\n"
                   f"{DEIT_B.name},cifar100,none,,0,none,90.5,published: test row\n")
    sched = janus(profiles, 2000)
    inputs = ScheduleInputs(DEIT_B, "cifar100", "fp32", AccuracyTable.read([csv]), sched.inputs.mobile,
                            sched.inputs.cloud, None, 10.0)
    plan = plan_at_10mbps(JanusSchedule("janus", inputs, "auto", "auto", sla_ms=2000))
    assert plan.parameter == 0.0 and plan.accuracy == 90.5


# -- through the engine -----------------------------------------------------------------------------------
def _thin_then_fat(profiles: Path, source: str) -> list[int]:
    """30 s at 0.05 Mbit/s, then 30 s at 1000 Mbit/s (1 s samples); a frame every 10 s; SLA 400 ms; 50 kB image.

    Offloading the image takes 0.4 Mbit / bandwidth + 12.75 ms in the cloud: under the SLA at 1000 Mbit/s,
    8 s at 0.05 Mbit/s; running locally takes 1215 ms, so with a thin estimate nothing meets the SLA and the
    fastest configuration, device-only, is taken.
    """
    write_trace(profiles / "trace.csv", np.arange(60), [0.05] * 30 + [1000.0] * 30)
    sc = load_scenario(write_scenario(
        profiles / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
        workload={"arrival": "periodic", "fps": 0.1, "n_requests": 6, "seed": 1},
        schedules=[{"kind": "janus", "split_after": "auto", "alpha": "auto", "sla_ms": 400, "image_bytes": 50_000,
                    "bandwidth_window": 3, "bandwidth_source": source}]))
    records, _ = run(sc)
    return records.sort_values("request_id").split_after.tolist()


def test_radio_lets_the_device_recover_from_device_only(profiles: Path) -> None:
    """The radio's last three samples: at 0 s samples 58, 59, 0 (one thin), at 10-30 s at least one thin, at
    40 and 50 s all fat. Frames at 0..30 s run locally (split 12 = all blocks), at 40 and 50 s upload (split 0)."""
    assert _thin_then_fat(profiles, "radio") == [12, 12, 12, 12, 0, 0]


def test_upload_estimate_freezes_once_device_only(profiles: Path) -> None:
    """From uploads alone: the first frame (cold start: the trace mean, 500 Mbit/s) uploads for 8 s and
    measures 0.05 Mbit/s; from then on the device runs everything locally and never sees the fat link."""
    assert _thin_then_fat(profiles, "uploads") == [0, 12, 12, 12, 12, 12]


def test_engine_keeps_as_many_uploads_as_the_window_asks(profiles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    original = JanusSchedule.bandwidth_estimate

    recorded: list[float] = []

    def spy(self: JanusSchedule, ctx: PlanContext) -> float:
        seen.append(len(ctx.recent_mbps))
        recorded.extend(list(ctx.recent_mbps)[-1:])
        return original(self, ctx)

    monkeypatch.setattr(JanusSchedule, "bandwidth_estimate", spy)
    write_trace(profiles / "trace.csv", [0, 1], [1000.0, 1000.0])
    sc = load_scenario(write_scenario(
        profiles / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
        workload={"arrival": "periodic", "fps": 10, "n_requests": 90, "seed": 1},
        schedules=[{"kind": "janus", "split_after": "auto", "alpha": "auto", "sla_ms": 400, "image_bytes": 50_000,
                    "bandwidth_window": 70, "bandwidth_source": "uploads"}]))
    records, _ = run(sc)
    assert (records.split_after == 0).all()  # every frame uploads (a fat pipe)
    assert max(seen) == 70
    assert recorded[-1] == pytest.approx(1000.0)  # 50 kB in 0.4 ms: 1000 Mbit/s measured


def test_shared_cell_radio_reads_the_cell_trace_position(profiles: Path) -> None:
    """In a shared cell every device sees the cell's trace position (the first offset, 40 s: all fat), not
    its own (device 1's 0 s would read samples 58, 59 and 0, one of them thin): both devices upload."""
    write_trace(profiles / "trace.csv", np.arange(60), [0.05] * 30 + [1000.0] * 30)
    sc = load_scenario(write_scenario(
        profiles / "s.yaml", mobile_profile="mobile.yaml", cloud_profile="cloud.yaml",
        network={"trace": "trace.csv", "sharing": "shared-cell", "start_offset_s": [40.0, 0.0]},
        workload={"arrival": "back-to-back", "n_requests": 1, "devices": 2, "seed": 1},
        schedules=[{"kind": "janus", "split_after": "auto", "alpha": "auto", "sla_ms": 400, "image_bytes": 50_000,
                    "bandwidth_window": 3}]))
    records, _ = run(sc)
    assert records.split_after.tolist() == [0, 0]
