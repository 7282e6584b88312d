"""Mobile energy per request: compute, radio (active and RRC tail) and idle, from the finished records.

Both engines call :func:`fill_energy` on their record columns, so the split is computed once, the same
way, whichever engine ran.

* compute = ``power_w.compute`` x device compute time;
* radio active = ``power_w.radio`` x transfer time + the radio model's integral over the transfer:
  P(t) = base_w + w_per_mbps x u(t), with u the device's own uplink throughput, so
  E = base_w x T + w_per_mbps x (megabits sent) whatever the trace did during the transfer;
* radio tail = tail_w x the time the radio stays connected after the device's last concurrent upload
  ends: ``tail_s``, cut short when the device's next upload starts within it (the tail is shared, and
  counted once, on the request whose upload ended it); a tail still running when the run ends is counted
  whole. The promotion from RRC idle to connected is not modelled (neither its delay nor its energy);
* idle = ``power_w.idle`` x the time the device waits for its result outside its own transfer
  (its upload queue, RTT, the cloud and the return).

The radio model itself (its file, its power line and tail) is an input: :mod:`simulator.inputs.radio`.

The ``paper`` preset counts compute only, as the Mercury paper's Fig. 9 does.

A part whose power the profile does not state is unknown: NaN, never 0 J (and so is ``energy_j``, their
sum). The radio is known from ``power_w.radio`` or from a radio model (which then stands for the modem's
whole draw, an unstated ``power_w.radio`` adding nothing); without a radio model the radio has no tail, a
known 0 J once the radio's power is known. A stated 0 W is a known zero.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulator.errors import RunWarning
from simulator.inputs.profiles import Power
from simulator.inputs.radio import RadioModel
from simulator.model.records import STATUS_OK

ENERGY_COLUMNS = ("energy_compute_j", "energy_radio_j", "energy_tail_j", "energy_idle_j")


def radio_tails(device: np.ndarray, start: np.ndarray, end: np.ndarray, tail_s: float) -> np.ndarray:
    """Tail seconds owed by each transfer (NaN rows: no transfer): counted once per idle gap of a device.

    A device's transfers are taken in start order; while one is in flight no tail runs. When the last
    one in flight ends, the tail runs until ``tail_s`` has passed or the device's next transfer starts,
    and belongs to the transfer that ended last (vectorised: a running maximum of the ends per device).
    """
    tails = np.where(np.isnan(start) | np.isnan(end), np.nan, 0.0)
    sent = np.flatnonzero(~np.isnan(tails))
    if sent.size == 0:
        return tails
    order = sent[np.lexsort((start[sent], device[sent]))]
    dev, st, en = device[order], start[order], end[order]
    first = np.r_[True, dev[1:] != dev[:-1]]
    groups = np.cumsum(first) - 1
    busy_until = pd.Series(en).groupby(groups).cummax().to_numpy()  # when the radio is free after each
    position = np.arange(order.size)
    owner = np.maximum.accumulate(np.where(en >= busy_until, position, 0))  # the latest end so far
    last = np.r_[dev[1:] != dev[:-1], True]
    gap = np.where(last, np.inf, np.r_[st[1:], np.inf] - busy_until)
    quiet = last | (gap >= 0)  # the next transfer starts after every earlier one ended
    tails[order[owner[quiet]]] = np.minimum(tail_s, gap[quiet])
    return tails


def radio_watts(power: Power, radio: RadioModel | None) -> float:
    """The constant power while sending: ``power_w.radio``, else 0 W beside a radio model, else NaN (unknown)."""
    if power.radio is not None:
        return power.radio
    return 0.0 if radio is not None else math.nan


def unknown_parts(power: Power, radio: RadioModel | None) -> dict[str, str]:
    """The energy parts left unknown, each with the power key the profile leaves out (empty: all known)."""
    missing = {"compute": "power_w.compute" if power.compute is None else None,
               "idle": "power_w.idle" if power.idle is None else None,
               "radio and tail": "power_w.radio (and no radio model)" if math.isnan(radio_watts(power, radio))
               else None}
    return {part: key for part, key in missing.items() if key is not None}


def energy_warning(power: Power, radio: RadioModel | None, profile: str) -> RunWarning | None:
    """The run's warning when energy is unknown: which keys the mobile profile leaves out, what stays known."""
    unknown = unknown_parts(power, radio)
    if not unknown:
        return None
    known = [part for part in ("compute", "idle", "radio and tail") if part not in unknown]
    return RunWarning("energy_unknown", f"energy unknown: the mobile profile {profile} states no "
                      f"{', '.join(unknown.values())}, so energy_j is NaN for every schedule (known parts: "
                      f"{', '.join(known) or 'none'})")


def fill_energy(columns: dict[str, np.ndarray], size: int, power: Power, radio: RadioModel | None,
                rtt_s: float) -> None:
    """Write the energy split and the total (``energy_j``) of every completed request into ``columns``."""
    c = {name: columns[name][:size] for name in columns}
    ok = c["status"] == STATUS_OK
    sends = ok & (c["uplink_bytes"] > 0)
    half_rtt = np.where(sends, rtt_s / 2, 0.0)
    transfer = np.where(sends, c["uplink_ms"] / 1e3 - half_rtt, 0.0)
    waiting = (c["uplink_queue_ms"] + c["cloud_queue_ms"] + c["cloud_ms"] + c["return_ms"]) / 1e3 + half_rtt
    compute = power.watts("compute") * c["mobile_ms"] / 1e3
    radio_w = radio_watts(power, radio)
    active = radio_w * transfer
    tail = np.full(size, math.nan if math.isnan(radio_w) else 0.0)  # no radio model: no tail, unless unknown
    if radio is not None:
        active = active + np.where(sends, radio.active_j(transfer, c["uplink_bytes"]), 0.0)
        start = np.where(sends, c["arrival_s"] + (c["mobile_queue_ms"] + c["mobile_ms"] + c["uplink_queue_ms"])
                         / 1e3, np.nan)
        tail = radio.tail_w * np.nan_to_num(radio_tails(c["device"], start, start + transfer, radio.tail_s))
    idle = power.watts("idle") * waiting
    for name, values in zip((*ENERGY_COLUMNS, "energy_j"), (compute, active, tail, idle,
                                                            compute + active + tail + idle), strict=True):
        c[name][:] = np.where(ok, values, np.nan)
