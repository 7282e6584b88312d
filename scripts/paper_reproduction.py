"""Regenerate the paper-reproduction page and the claims table of the site's paper-reproduction page.

    python scripts/paper_reproduction.py

Runs `claims/paper.yaml` (every scenario once), writes each scenario's results and report under
reports/paper-reproduction/, the claims page reports/paper-reproduction.html, and a side-by-side of the two
network modes (bytes / mean bandwidth, the paper's method, vs replaying the trace) for the Fig. 6 scenarios.

The page is committed; the per-scenario reports are not (each inlines plotly.js, about 4 MB), so the page
names where they are written instead of linking to them: a fresh clone holds no dead link.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from simulator.config.scenario import load_scenario, scenario_from_dict
from simulator.model.runner import run_scenario
from simulator.report.claims_page import claims_sections, write_claims_page
from simulator.report.html import Section, table, td
from simulator.studies.check import claims_document, run_check, write_check_outputs

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ROOT / "claims" / "paper.yaml"
OUT = ROOT / "reports" / "paper-reproduction"
PAGE = ROOT / "reports" / "paper-reproduction.html"
TABLE_PAGE = ROOT / "docs" / "explanation" / "paper-reproduction.md"  # its claims table
TRACE_WORKLOAD = {"arrival": "periodic", "fps": 1, "duration_s": 1800, "seed": 1, "on_busy": "drop"}


def mode_comparison() -> list[tuple[str, str, float, float, float, float]]:
    """(scenario, schedule, mean/p95 in mean mode, mean/p95 replaying the trace) for the Fig. 6 scenarios."""
    rows = []
    for name in ("paper-fig6-4g", "paper-fig6-5g"):
        base = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        data = base.model_dump(mode="json", exclude_none=True)
        data["network"].pop("mean_mbps", None)
        mean_mode = run_scenario(scenario_from_dict({**data, "workload": TRACE_WORKLOAD}, base.path)).summary
        data["network"].update(mode="trace", start_offset_s="random")
        traced = run_scenario(scenario_from_dict({**data, "workload": TRACE_WORKLOAD}, base.path)).summary
        for schedule, s in traced.items():
            m = mean_mode[schedule]
            rows.append((name, schedule, m["mean_ms"], m["p95_ms"], s["mean_ms"], s["p95_ms"]))
    return rows


def mode_section(rows: list[tuple[str, str, float, float, float, float]]) -> Section:
    headers = ("scenario", "schedule", "mean mode: mean ms", "p95 ms", "trace replay: mean ms", "p95 ms",
               "mean understated by", "p95 understated by")
    body = ([td(sc), td(s), td(f"{mm:.0f}"), td(f"{mp:.0f}"), td(f"{tm:.0f}"), td(f"{tp:.0f}"),
             td(f"{1 - mm / tm:.0%}"), td(f"{1 - mp / tp:.0%}")] for sc, s, mm, mp, tm, tp in rows)
    note = ("<p>Both columns use the same synthetic traces (traces/synthetic/lte-all.csv and 5g-all.csv), 1 frame/s "
            "for 1800 s: mean mode divides bytes by the trace's mean bandwidth, trace mode replays it from a "
            "random start. A busy device drops frames (mobile-only runs every other frame).</p>")
    return Section("modes", "Mean bandwidth vs trace replay", note + table(headers, body))


def claims_table(document: dict, rows: list[tuple[str, str, float, float, float, float]]) -> str:
    lines = ["| claim | source | role | expected | simulated | verdict |", "|---|---|---|---|---|---|"]
    for c in document["claims"]:
        value = "-" if c["simulated"] is None else f"{c['simulated']:.4g}"
        lines.append(f"| {c['claim']} | {c['source']} | {c['role']} | {c['expected']} | {value} | {c['verdict']} |")
    lines += ["", "Network modes on the Fig. 6 scenarios (ms; 1 frame/s for 1800 s on the shipped synthetic traces):",
              "", "| scenario | schedule | mean mode mean / p95 | trace replay mean / p95 | understated (mean / p95) |",
              "|---|---|---|---|---|"]
    for sc, s, mm, mp, tm, tp in rows:
        understated = f"{1 - mm / tm:.0%} / {1 - mp / tp:.0%}"
        lines.append(f"| {sc} | {s} | {mm:.0f} / {mp:.0f} | {tm:.0f} / {tp:.0f} | {understated} |")
    return "\n".join(lines)


def reports_section(names: list[str]) -> Section:
    """Where each scenario's full report is written, as text: those files are not in the repository."""
    items = "".join(f"<li><code>{escape((OUT / n / 'report.html').relative_to(ROOT).as_posix())}</code></li>"
                    for n in names)
    note = ("<p>Each scenario's full report (figures, inputs, provenance) is not committed, as each inlines "
            "plotly.js (about 4 MB). <code>python scripts/paper_reproduction.py</code> (or <code>mercury-sim "
            "check claims/paper.yaml -o reports/paper-reproduction</code>) writes them here:</p>")
    return Section("scenarios", "Scenario reports", f"{note}<ul>{items}</ul>")


def main() -> None:
    outcome = run_check(CLAIMS)
    write_check_outputs(outcome, CLAIMS, output=OUT)
    document = claims_document(outcome, CLAIMS.relative_to(ROOT))
    rows = mode_comparison()
    sections = [*claims_sections(document, {}, PAGE), reports_section(list(outcome.runs)), mode_section(rows)]
    write_claims_page(PAGE, "Mercury paper reproduction (claims/paper.yaml)", sections)
    text = TABLE_PAGE.read_text(encoding="utf-8")
    block = f"<!-- claims:start -->\n{claims_table(document, rows)}\n<!-- claims:end -->"
    text = re.sub(r"<!-- claims:start -->.*<!-- claims:end -->", lambda _m: block, text, flags=re.S)
    TABLE_PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}, {OUT.relative_to(ROOT)}/ and {TABLE_PAGE.relative_to(ROOT)}'s claims; "
          f"{document['passed']} pass, {document['known_discrepancies']} known discrepancies, "
          f"{document['failed']} failed")


if __name__ == "__main__":
    main()
