"""Synthetic uplink traces from a Markov chain fitted to the real Ghoshal 2022 set.

Model (per network x mobility), at the real set's native 0.1 s step:

* states: an explicit OUTAGE state (capacity < 1 Mbit/s) plus throughput levels whose edges are ``K``
  quantiles and ``K`` equal-width steps of the non-outage samples (equal-width edges split the sparse
  gaps of bimodal groups, e.g. LTE walking's 46 / 65 Mbit/s plateaus); empty levels are dropped;
* transitions: counted between consecutive samples within each run, never across runs, each run closed
  on itself (last -> first, as a looping replay does) and normalised: the maximum-likelihood chain whose
  stationary distribution is exactly the empirical state occupancy, so the model mean is the real mean;
* emission: within a state, a value drawn from that state's empirical quantile function (stored at
  ``EMISSION_POINTS`` points, linear in between).

Why this model: quantile levels make the marginal distribution (mean, p5, p95, outage share) match by
construction, and the first-order chain carries the 0.1 s persistence (lag-1 autocorrelation) and the
outage dwell times; it has no free knobs beyond ``K``, nothing is hand-tuned. It does not model
dependence beyond one step (long fades are only as long as the chain's geometric dwell allows).

``all`` profiles mix the three mobilities in proportion to their time share in the real set: the trace
cycles static, walking, driving blocks of proportional length, each block starting from its chain's
stationary distribution.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from simulator.errors import InputError
from simulator.files.atomic import atomic_write_text
from simulator.traces import ghoshal
from simulator.traces.stats import OUTAGE_MBPS, samples_stats

SAMPLE_S = ghoshal.SAMPLE_S
DEFAULT_LEVELS = 16
EMISSION_POINTS = 41
MIX_CYCLE_S = 600.0
SOURCE_COMMIT = "255526a8"
DATASET = "Ghoshal et al., SIGCOMM 5G-MeMU 2022, github.com/NUWiNS/sigcomm-5gmemu-5g-mmWave-uplink-data"


@dataclass(frozen=True)
class ChainModel:
    """A fitted chain: per-state emission quantiles and the transition matrix."""

    labels: list[str]
    quantiles: np.ndarray  # (states, EMISSION_POINTS)
    transitions: np.ndarray  # (states, states), rows sum to 1

    @property
    def stationary(self) -> np.ndarray:
        """Stationary distribution (left eigenvector for eigenvalue 1)."""
        values, vectors = np.linalg.eig(self.transitions.T)
        v = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
        return v / v.sum()

    @property
    def mean_mbps(self) -> float:
        """Long-run mean capacity of the model (trapezoid mean of each state's quantile function)."""
        from scipy.integrate import trapezoid  # numpy names it trapezoid only from 2.0 on

        grid = np.linspace(0.0, 1.0, self.quantiles.shape[1])
        state_means = trapezoid(self.quantiles, grid, axis=1)
        return float(self.stationary @ state_means)


def fit_chain(runs: Sequence[np.ndarray], levels: int = DEFAULT_LEVELS) -> ChainModel:
    """Maximum-likelihood chain over outage + throughput levels from runs of 0.1 s samples."""
    x = np.concatenate(runs)
    usable = x[x >= OUTAGE_MBPS]
    quantile_edges = np.quantile(usable, np.linspace(0, 1, levels + 1)[1:-1])
    width_edges = np.linspace(OUTAGE_MBPS, usable.max(), levels + 1)[1:-1]
    edges = np.unique(np.concatenate(([OUTAGE_MBPS], quantile_edges, width_edges)))

    raw = np.searchsorted(edges, x, side="right")  # 0 = outage, k = [edges[k-1], edges[k])
    occupied = np.unique(raw)
    lookup = np.full(edges.size + 1, -1)
    lookup[occupied] = np.arange(occupied.size)

    def state_of(v: np.ndarray) -> np.ndarray:
        return lookup[np.searchsorted(edges, v, side="right")]

    n = occupied.size
    counts = np.zeros((n, n))
    for run in runs:
        s = state_of(run)
        np.add.at(counts, (s, np.roll(s, -1)), 1.0)  # cyclic: last -> first, as a looping replay does
    states = state_of(x)
    transitions = counts / counts.sum(axis=1, keepdims=True)  # every occupied state has an exit
    grid = np.linspace(0, 1, EMISSION_POINTS)
    quantiles = np.array([np.quantile(x[states == k], grid) for k in range(n)])
    bounds = np.concatenate(([0.0], edges, [np.inf]))
    labels = [f"[{bounds[k]:.4g}, {bounds[k + 1]:.4g})" for k in occupied]
    return ChainModel(labels, quantiles, transitions)


def simulate_chain(model: ChainModel, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples (Mbit/s) of the chain, starting from its stationary distribution."""
    cum = np.cumsum(model.transitions, axis=1)
    cum[:, -1] = 1.0
    start_cum = np.cumsum(model.stationary)
    start_cum[-1] = 1.0
    u_state = rng.random(n)
    u_value = rng.random(n)
    states = np.empty(n, dtype=np.int64)
    s = int(np.searchsorted(start_cum, u_state[0], side="right"))
    states[0] = s
    rows = list(cum)
    for i in range(1, n):
        s = int(np.searchsorted(rows[s], u_state[i], side="right"))
        states[i] = s
    grid = np.linspace(0, 1, model.quantiles.shape[1])
    position = u_value * (grid.size - 1)
    lo = np.minimum(position.astype(np.int64), grid.size - 2)
    frac = position - lo
    q = model.quantiles[states]
    take = np.arange(n)
    return q[take, lo] * (1 - frac) + q[take, lo + 1] * frac


# -- fitting the real set and storing it as data -----------------------------------------------------------


def fit_dataset(src: str | Path, *, legs: ghoshal.Legs = "sum", levels: int = DEFAULT_LEVELS,
                command: str | None = None) -> dict:
    """Fit one chain per network x mobility of the Ghoshal set; returns the models document."""
    runs: dict[str, list[np.ndarray]] = {}
    for network, mobility, run in ghoshal.iter_runs(src):
        if network == "unknown":
            continue
        runs.setdefault(f"{network}-{mobility}", []).append(run.samples(legs))
    missing = [f"{n}-{m}" for n in ghoshal.NETWORKS for m in ghoshal.MOBILITIES if f"{n}-{m}" not in runs]
    if missing:
        raise InputError(src, f"data set lacks runs for {', '.join(missing)} "
                         "(expected throughput/{static,walking,driving}/{lte,5g}/*.list)")
    profiles: dict[str, dict] = {}
    mixes: dict[str, dict[str, float]] = {}
    for network in ghoshal.NETWORKS:
        seconds = {m: sum(r.size for r in runs[f"{network}-{m}"]) * SAMPLE_S for m in ghoshal.MOBILITIES}
        total = sum(seconds.values())
        mixes[f"{network}-all"] = {m: round(s / total, 6) for m, s in seconds.items()}
        for mobility in ghoshal.MOBILITIES:
            name = f"{network}-{mobility}"
            model = fit_chain(runs[name], levels)
            real = samples_stats(np.concatenate(runs[name]), SAMPLE_S, name)
            profiles[name] = {
                "real_stats": {k: _round(v) for k, v in real.as_dict().items() if k != "name"},
                "runs": len(runs[name]),
                "model_mean_mbps": round(model.mean_mbps, 4),
                "states": model.labels,
                "emission_quantiles": [[round(float(v), 4) for v in row] for row in model.quantiles],
                "transitions": [[round(float(p), 6) for p in row] for row in model.transitions],
            }
    provenance = {
        "kind": "fitted model",
        "dataset": DATASET,
        "source_commit": SOURCE_COMMIT,
        "importer": {"format": "ghoshal2022", "legs": legs, "sample_period_s": SAMPLE_S},
        "method": (f"first-order Markov chain at {SAMPLE_S} s over an outage state (< {OUTAGE_MBPS} Mbit/s) "
                   f"and throughput levels (edges: {levels} quantiles and {levels} equal-width steps of the "
                   "non-outage samples, empty levels dropped); ML transition counts within runs, each run "
                   f"closed on itself; emission = per-state empirical quantile function at {EMISSION_POINTS} "
                   "points"),
        "fitted_on": dt.date.today().isoformat(),
        "command": command or "mercury-sim traces fit SRC_DIR OUT",
    }
    return {"provenance": provenance, "sample_period_s": SAMPLE_S, "outage_mbps": OUTAGE_MBPS,
            "mix_cycle_s": MIX_CYCLE_S, "mixes": mixes, "profiles": profiles}


def _round(v: float | int) -> float | int:
    return round(v, 4) if isinstance(v, float) else v


def write_models(path: str | Path, doc: dict) -> None:
    """Store fitted models as YAML (atomically)."""
    atomic_write_text(Path(path), yaml.safe_dump(doc, sort_keys=False, width=200))


def default_models_path() -> Path | None:
    """The shipped ``traces/synthetic/models.yaml``, if present."""
    from simulator.inputs.data import shipped_dir

    folder = shipped_dir("traces")
    path = folder / "synthetic" / "models.yaml" if folder else None
    return path if path and path.is_file() else None


def load_models(path: str | Path | None = None) -> dict:
    """Read a models document, checking the keys generation needs."""
    path = Path(path) if path else default_models_path()
    if path is None:
        raise InputError(None, "no models file given and traces/synthetic/models.yaml is not shipped",
                         "--models")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "models file not found") from None
    except yaml.YAMLError as exc:
        raise InputError(path, f"not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("profiles"), dict):
        raise InputError(path, "expected a mapping with a 'profiles' key", "profiles")
    doc["_path"] = str(path)
    return doc


def chain_from_doc(doc: dict, name: str) -> ChainModel:
    """The chain of profile ``name`` in a models document."""
    source = doc.get("_path")
    entry = doc["profiles"].get(name)
    if not isinstance(entry, dict):
        known = ", ".join(profile_names(doc))
        raise InputError(source, f"unknown profile {name!r}; known: {known}", "--profile")
    try:
        q = np.asarray(entry["emission_quantiles"], dtype=np.float64)
        p = np.asarray(entry["transitions"], dtype=np.float64)
        labels = list(entry["states"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(source, f"profile {name} is malformed ({exc})", f"profiles.{name}") from None
    n = len(labels)
    if q.ndim != 2 or q.shape[0] != n or p.shape != (n, n) or np.any(p < 0) or np.any(np.diff(q, axis=1) < 0):
        raise InputError(source, f"profile {name}: expected {n} non-decreasing quantile rows and a {n}x{n} "
                         "non-negative transition matrix", f"profiles.{name}")
    return ChainModel(labels, q, p / p.sum(axis=1, keepdims=True))


def profile_names(doc: dict) -> list[str]:
    """Profiles a document can generate: its fitted ones plus its mixes."""
    return [*doc["profiles"], *doc.get("mixes", {})]


def generate(doc: dict, profile: str, duration_s: float, seed: int) -> np.ndarray:
    """Deterministic samples (Mbit/s, 0.1 s apart): same document, profile, duration and seed, same values."""
    if not duration_s > 0:
        raise InputError(None, f"--duration-s must be > 0, got {duration_s}", "--duration-s")
    n = max(int(round(duration_s / SAMPLE_S)), 1)
    rng = np.random.default_rng(seed)
    mixes = doc.get("mixes", {})
    if profile not in mixes:
        return simulate_chain(chain_from_doc(doc, profile), n, rng)
    network = profile.rsplit("-", 1)[0]
    shares = mixes[profile]
    cycle = int(round(float(doc.get("mix_cycle_s", MIX_CYCLE_S)) / SAMPLE_S))
    chains = {m: chain_from_doc(doc, f"{network}-{m}") for m in shares}
    parts: list[np.ndarray] = []
    remaining = n
    while remaining > 0:
        length = min(cycle, remaining)
        blocks = _split(length, [shares[m] for m in shares])
        for mobility, size in zip(shares, blocks, strict=True):
            if size:
                parts.append(simulate_chain(chains[mobility], size, rng))
        remaining -= length
    return np.concatenate(parts)


def _split(total: int, shares: list[float]) -> list[int]:
    """Integer block sizes proportional to ``shares`` that add up to ``total``."""
    cum = np.round(np.cumsum(shares) / sum(shares) * total).astype(int)
    return np.diff(np.concatenate(([0], cum))).tolist()
