"""Golden digests: every shipped scenario's records and the paper claims' outcomes, bit for bit.

The digests were computed on the two-tier engine before plans became stage graphs; any change to a shipped
scenario's records (on either engine) or to a claim's simulated value fails here. When a change of the
model is intended, recompute them with ``records_digest`` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.check import run_check
from simulator.runner import run_scenario
from simulator.scenario import scenario_from_dict
from simulator.validation import load_yaml_mapping

REPO = Path(__file__).resolve().parents[1]

GOLDEN = {
    "adaptive-5g-driving": "1cbf84a34ee235ac0e098436a38e10c789e9c015e663120dd549fbeef62c4ea8",
    "cell-contention": "b17ded90bc391ad183a2bab267265e4ec66ee753b99377aecad1b9da6b1c2284",
    "default": "25594e02ddb50ce8a0cc381c954062bb603bfd637e04a422d7f9ce785928af8d",
    "hybrid-generation": "d0c5d4d0a5269d3f1908434296128062214a92c27cd0c2d8627d2743e56cc6d8",
    "paper-fig10": "9d969607893123be9add74a75debee9d82cfa2bdf542eb59a7505b706e7696a6",
    "paper-fig6-4g": "6ae2edf64ae5c5ce24c501c985feed81ed37d89b8b59ec874886ca64ed65488c",
    "paper-fig6-5g": "413a5bdd87faf260e62c35ed83864f09a961527a4a2b9b4a44849905e1feddc2",
    "paper-fig8": "a21a9ab12911b991468a4ae0a1ac52b8df206697fa74bb64d3347a982d193c22",
    "paper-fig9": "fd85c3c6e41f83922ae31e4c5a3d04bce4487e558d06765af136a25700bdfab6",
    "paper-table1": "16f0c9a15d0f6c43cf51b671ef11ffbcfc9b97b9c55b72e383a5ea4adb76b39f",
    "pruned-on-device": "4dffcca30e7ef0a0e387449d243aebd747bc79963629ad1415eb0fa5c063052c",
    "validate-5g-blockage": "55cce5ee707c45f59c9ea5c9da921455ab2734fef5af87ede20890d1ce27b547",
    "validate-constant": "b0f1da2008982d63927d9d43913389febd553c095d7696c2062ab4c746630aa4",
    "validate-lte": "cd10eeed3756a896f0fe71dd4660f8cf9e71f3018a9cbfeeee393960146ffb23",
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
