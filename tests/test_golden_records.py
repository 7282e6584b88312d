"""Golden digests: every shipped scenario's records and the paper claims' outcomes, bit for bit.

The digests were computed on the two-tier engine before plans became stage graphs; any change to a shipped
scenario's records (on either engine) or to a claim's simulated value fails here. When a change of the
model is intended, recompute them with ``records_digest`` and say why in the commit. (Recomputed when records
gained their ``seed`` column: without it, every digest equals the one before.)
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
"adaptive-5g-driving": "7fa011b6d3257bac9af0159ed1b1ae7e1c1fe29da9ba32180ced385cb1dd8fec",
    "cell-contention": "6c92ed7f1c1f1a1d59230882c2b5cc1dd4abe9a4be912f322baebc847bd0a900",
    "default": "2763b94c3165ca45796535b12656c89344c827dffcd8ae66b25f19ce3bf6eeec",
    "hybrid-generation": "d912868673c0d8e9c309d3d0168483b95e1cff0f0cd6b6029f1fd1b71925fd5c",
    "paper-fig10": "0881c8cc78ac4775bc99d03e17f2c7b9d6aaa5218029a2a520e039dc7f5b2756",
    "paper-fig6-4g": "e51a6f26efadad69b8e88d81323d2da7b3767f9ee0f84b5974ce582067fb96f1",
    "paper-fig6-5g": "20c424d35cb437626433c7e0bccaf898ef9b31650350ee06a6fecf89c972896c",
    "paper-fig8": "282dbbe60f7344fe9d206b315fd6eb37b6fd750bcbf30d0d975959ac51e38406",
    "paper-fig9": "a6a2021b771673e8219dae702066f6a84f1a208494d9178aed46a7f343d9efe2",
    "paper-table1": "934e29079533cc6f674ac24d71156c7430d6d434a4c6093d436cd8232abd144f",
    "pruned-on-device": "36dc54e9b83d58c8572a926b58dcdfa127c21f1c02a842c4d719ea5174a7558e",
    "validate-5g-blockage": "1d3e7cf0e075214766ec0f7063fb9a01f4f3cddcc82e19c5d9ab3945af948266",
    "validate-constant": "3051894e5f7400a8f515f038a097bb2671aca53d29b251186c59d679412ed382",
    "validate-lte": "8f9cb1623bad3fc866343b06a2dbd3ab35a0ca98548369f7e3761d0c71297f2d",
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
