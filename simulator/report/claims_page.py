"""The claims page: every claim with its verdict and reason, and links to each scenario's full report.

Tables only (no plotly), so the page stays small enough to keep in the repository.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any

from simulator.report.html import Section, claims_table, page, table, td

ROLE_NOTE = ("role: <b>fit</b> = the calibration used this number; <b>prediction</b> = nothing was tuned to it. "
             "A <b>known discrepancy</b> gives the reason the paper's number is not reproduced and pins the "
             "simulated value, so a drift still fails.")


def claims_sections(document: dict[str, Any], reports: dict[str, Path], page_path: Path) -> list[Section]:
    """Sections for a check's claims document; ``reports`` maps scenario names to their report files."""
    claims = document["claims"]
    counts = (f"<p>{document['passed']} pass, {document['known_discrepancies']} known discrepancies, "
              f"{document['failed']} failed, of {len(claims)} claims.</p><p>{ROLE_NOTE}</p>")
    reasons = [(c["id"], c["known_discrepancy"], c["pinned"]) for c in claims if c.get("known_discrepancy")]
    links = [(name, os.path.relpath(path, page_path.parent)) for name, path in reports.items()]
    out = [Section("claims", "Claims", counts + claims_table([{**c, "claim": f"{c['id']}: {c['claim']} "
                                                                     f"({c['role']})"} for c in claims]))]
    if reasons:
        out.append(Section("discrepancies", "Known discrepancies",
                           table(("claim", "pinned simulated value", "reason"),
                                 ([td(i), td(p), td(r)] for i, r, p in reasons))))
    if links:
        items = "".join(f'<li><a href="{escape(href)}">{escape(name)}</a></li>' for name, href in links)
        out.append(Section("scenarios", "Scenario reports", f"<ul>{items}</ul>"))
    return out


def write_claims_page(path: Path, title: str, sections: list[Section]) -> None:
    from simulator.files.atomic import atomic_write_text

    atomic_write_text(path, page(title, sections, plotlyjs=lambda: ""))
