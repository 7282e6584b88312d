"""A schedule's mean accuracy is a mean over all its completed requests, or unknown: never a flattering subset."""

from __future__ import annotations

import math

import pandas as pd

from simulator.model.summary import summarize


def records(accuracies: list[float], statuses: list[str]) -> pd.DataFrame:
    n = len(accuracies)
    return pd.DataFrame({
        "schedule": ["j"] * n, "device": [0] * n, "request_id": list(range(n)),
        "arrival_s": [float(i) for i in range(n)],
        "mobile_queue_ms": [0.0] * n, "mobile_ms": [1.0] * n, "uplink_bytes": [10] * n, "uplink_queue_ms": [0.0] * n,
        "uplink_ms": [1.0] * n, "cloud_queue_ms": [0.0] * n, "cloud_ms": [1.0] * n, "return_ms": [0.0] * n,
        "total_ms": [3.0] * n, "accuracy": accuracies, "energy_j": [0.5] * n, "split_after": [3] * n,
        "parameter": [0.1] * n, "status": statuses,
    })


def test_mean_over_completed_requests_by_hand() -> None:
    summary = summarize(records([90.0, 80.0, 10.0], ["ok", "ok", "dropped"]), ["j"], None)["j"]
    assert summary["mean_accuracy"] == 85.0 and "accuracy_unknown" not in summary


def test_unknown_accuracy_makes_the_mean_unknown() -> None:
    summary = summarize(records([90.0, math.nan, 80.0], ["ok", "ok", "ok"]), ["j"], None)["j"]
    assert summary["mean_accuracy"] is None and summary["accuracy_unknown"] == 1
