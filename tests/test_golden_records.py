"""Golden digests: every shipped scenario's records and the paper claims' outcomes, bit for bit.

The digests were computed on the two-tier engine before plans became stage graphs; any change to a shipped
scenario's records (on either engine) or to a claim's simulated value fails here. When a change of the
model is intended, recompute them with ``records_digest`` and say why in the commit. (Recomputed when records
gained their ``seed`` column, and again for ``accuracy_interpolated``: without the new column, every digest
equals the one before.)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.config.scenario import scenario_from_dict
from simulator.files.validation import load_yaml_mapping
from simulator.model.runner import run_scenario
from simulator.studies.check import run_check

REPO = Path(__file__).resolve().parents[1]

GOLDEN = {
"adaptive-5g-driving": "9ea6d14741ba160a83ea777ee12ee07f59b8ba22bc8dc4acad1e8e84f8a149c4",
    "cell-contention": "711a96008ed770db4b164958c9317516f8ace7b5b384ca616c83e34b567832ff",
    "default": "62c7f8367595be39ba1de618a23ea9f6c0a67d568c528df138dccb452e959bea",
    "hybrid-generation": "9851c473e7dc79114494848a901f0cb943ec9db2d3f5ca4bfd7e3d117ae562ee",
    "learned-policy": "1367a796b9934c3d88ae646858ec3c1249aebc8632018a32fbef389cfa2d7ec5",  # with policies/ppo-offload
    "paper-fig10": "1fe8306e0f8a980bd9cadcbd52671bedb03d8f50afc4697ab139e1ee598d2479",
    "paper-fig6-4g": "1628dc027b60af5db59d9f6b02b08d1db162a79f0523d7b6897565895b8ace49",
    "paper-fig6-5g": "3313e4f16650d9369aff91adb1620c8f42f65933afb517c47d1d094853a44585",
    "paper-fig8": "56f6ae2cdec74b3c7bc08f0775362cf7de3cc4129c5741bdcd30990d8fa14687",
    "paper-fig9": "4b323aa8a8baf27a767cf77401c36460582650c4a76cfdeffcaeec912ca52cbd",
    "paper-table1": "4dceb92250e7d2620a8a19219de35b5367a1b1ece69cefc3efd11bfa45f66869",
    "pruned-on-device": "1fb910e75150e6debab766b1c834d7f42b83d6a89ffa97691039870f1ca5d57c",
    "validate-5g-blockage": "a67093592faa498362e5341cd91104ef82e12f95051e03244552e12cb998b5f3",
    "validate-constant": "e9c00d0de8331a964bee497ccd32e211505dd1e3d507310ac17ca9f82e5e7e71",
    "validate-lte": "a3b193237319fc2005276269cc1744d6ef34779eda775597bad6f3e0eca5a397",
}
CLAIMS_GOLDEN = "a47298c9d0b9773ab16f112ff8b9dfe6d422f0c74a710641e3193c38bfc9023c"


def records_digest(records: pd.DataFrame) -> str:
    """SHA-256 over every column's name, dtype and raw bytes (categoricals by categories and codes)."""
    digest = hashlib.sha256()
    for name in records.columns:
        column = records[name]
        digest.update(name.encode())
        if isinstance(column.dtype, pd.CategoricalDtype):
            digest.update("|".join(map(str, column.cat.categories)).encode())
            values = column.cat.codes.to_numpy()
        else:
            values = column.to_numpy()
        digest.update(str(values.dtype).encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def test_golden_covers_every_shipped_two_tier_scenario() -> None:
    two_tier = {p.stem for p in (REPO / "scenarios").glob("*.yaml") if "servers" not in load_yaml_mapping(p)}
    assert two_tier == set(GOLDEN)


@pytest.mark.parametrize("engine", ["des", "auto"])
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_shipped_scenario_records_unchanged(name: str, engine: str) -> None:
    path = REPO / "scenarios" / f"{name}.yaml"
    data = load_yaml_mapping(path)
    data["engine"] = engine
    records = run_scenario(scenario_from_dict(data, path)).records
    assert records_digest(records) == GOLDEN[name]


def test_paper_claims_outcomes_unchanged() -> None:
    outcome = run_check(REPO / "claims" / "paper.yaml")
    rows = [(r.claim.id, repr(r.simulated), r.verdict) for r in outcome.results]
    assert hashlib.sha256(json.dumps(rows).encode()).hexdigest() == CLAIMS_GOLDEN
