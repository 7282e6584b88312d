"""The report in a real browser: headless Chromium opens it from disk (no network) and checks what it shows.

Checks that every figure is drawn, no console error occurs, the summary table's printed numbers equal
summary.json, and hostile names and labels appear as text without executing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _browser import chromium_page
from _report_runs import CLAIMS, HOSTILE, run_cli, scenario_file

MARKS = ".scatterlayer path.js-line, .barlayer path, .scatterlayer .point"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict:
    """Run a hostile-named scenario, add claims, regenerate, open the report once; return what it showed."""
    folder = tmp_path_factory.mktemp("browser")
    out = folder / "out"
    assert run_cli(["run", str(scenario_file(folder, HOSTILE, HOSTILE)), "-o", str(out), "-q"]) == 0
    (out / "claims.json").write_text(json.dumps(CLAIMS))
    assert run_cli(["report", str(out)]) == 0
    seen: dict = {}
    with chromium_page(seen) as page:
        page.goto((out / "report.html").as_uri(), wait_until="load")
        page.wait_for_function("document.querySelectorAll('.figure .main-svg').length > 0")
        seen["figures"] = page.eval_on_selector_all(".figure", """divs => divs.map(d => ({
            id: d.id, svg: d.querySelectorAll('.main-svg').length,
            traces: d.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length,
            paths: [...d.querySelectorAll(MARKS)]
                   .filter(p => (p.getAttribute('d') || '').length > 2).length}))"""
        .replace("MARKS", repr(MARKS)))
        seen["cells"] = page.eval_on_selector_all("#summary-table td.num", """tds => tds.map(td => ({
            schedule: td.parentElement.querySelector('th').dataset.schedule, key: td.dataset.key,
            scale: +td.dataset.scale, decimals: +td.dataset.decimals, text: td.textContent}))""")
        seen["pwned"] = page.evaluate("window.__pwned")
        seen["imgs"] = page.eval_on_selector_all("img", "els => els.length")
        seen["scripts"] = page.eval_on_selector_all("script", "els => els.map(s => s.type || 'js')")
        seen["h1"] = page.inner_text("h1")
        seen["claims_text"] = page.inner_text("#claims-table")
        seen["summary_heads"] = page.eval_on_selector_all("#summary-table tbody th",
                                                          "t => t.map(x => x.textContent)")
        shot = folder / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        seen["screenshot"] = shot
    seen["summary"] = json.loads((out / "summary.json").read_text())
    keep = Path("/tmp/report-browser.png")  # for a human look after the run; harmless if it fails
    shutil.copy(seen["screenshot"], keep)
    return seen


def test_no_console_errors_and_no_network(loaded):
    assert loaded["console_errors"] == []
    assert all(url.startswith("file://") for url in loaded["requests"]), loaded["requests"]


def test_every_figure_rendered(loaded):
    figures = {f["id"]: f for f in loaded["figures"]}
    assert set(figures) == {"fig-breakdown", "fig-latency-time", "fig-latency-cdf", "fig-accuracy-latency",
                            "fig-energy"}
    for fig in figures.values():
        assert fig["svg"] > 0 and fig["traces"] > 0 and fig["paths"] > 0, fig


def test_summary_table_equals_summary_json(loaded):
    schedules = loaded["summary"]["schedules"]
    assert len(loaded["cells"]) >= 5 * len(schedules)
    for cell in loaded["cells"]:
        expected = schedules[cell["schedule"]][cell["key"]]
        if expected is None:
            assert cell["text"] == "–"
            continue
        printed = float(cell["text"]) / cell["scale"]
        tolerance = 0.5 * 10 ** -cell["decimals"] / cell["scale"] * (1 + 1e-9)
        assert abs(printed - expected) <= tolerance, cell


def test_hostile_text_is_inert_and_literal(loaded):
    assert loaded["pwned"] is False and loaded["dialogs"] == []
    assert loaded["imgs"] == 0
    # only the page's own scripts: plotly.js, one data block per figure, the render script
    assert loaded["scripts"].count("application/json") == 5 and len(loaded["scripts"]) == 7
    assert HOSTILE in loaded["h1"]
    assert HOSTILE in loaded["summary_heads"]
    assert HOSTILE in loaded["claims_text"]


def test_screenshot_saved(loaded):
    assert loaded["screenshot"].stat().st_size > 10_000
