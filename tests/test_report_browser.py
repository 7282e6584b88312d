"""The report in a real browser: headless Chromium opens it from disk (no network) and checks what it shows.

Checks that every figure is drawn, no console error occurs, the summary table's printed numbers equal
summary.json, hostile names and labels appear as text without executing, the deadline's line sits at the
deadline on the CDF's log axis, and the latency-time figure's tick labels are readable.
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
# the CDF's deadline line: where it is drawn, where the axis puts 1500 ms, and the label's text
DEADLINE = """(() => { const d = document.getElementById('fig-latency-cdf'), ax = d._fullLayout.xaxis;
  const path = d.querySelector('.shapelayer path').getAttribute('d');
  return {drawn_x: parseFloat(path.slice(1)), expected_x: ax.l2p(Math.log10(1500)) + ax._offset,
          label: d.querySelector('.shapelayer text, .shape-label').textContent}; })()"""
# the latency-time figure's tick labels per axis: text and box
TICKS = """(() => Object.fromEntries(['xtick', 'ytick', 'y2tick'].map(cls => [cls,
  [...document.querySelectorAll('#fig-latency-time .' + cls + ' text')].map(t => {
    const b = t.getBoundingClientRect(); return {text: t.textContent, l: b.left, r: b.right, t: b.top,
                                                 b: b.bottom}; })])))()"""


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
        seen["deadline"] = page.evaluate(DEADLINE)
        seen["ticks"] = page.evaluate(TICKS)
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


def test_deadline_line_at_the_deadline(loaded):
    """The line is drawn where the log axis puts 1500 ms (a line placed at log10(1500) would be at 3 ms)."""
    deadline = loaded["deadline"]
    assert abs(deadline["drawn_x"] - deadline["expected_x"]) < 1, deadline
    assert deadline["label"] == "deadline 1500 ms"


def test_latency_time_ticks_are_readable(loaded):
    """No two tick labels of an axis overlap; the bandwidth axis has round, evenly spaced ticks of its own."""
    for axis, labels in loaded["ticks"].items():
        assert len(labels) >= 2, axis
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                apart = a["r"] <= b["l"] or b["r"] <= a["l"] or a["b"] <= b["t"] or b["b"] <= a["t"]
                assert apart, (axis, a, b)
    values = sorted(float(t["text"].replace(",", "")) for t in loaded["ticks"]["y2tick"])
    steps = {round(b - a, 9) for a, b in zip(values, values[1:], strict=False)}
    assert len(steps) == 1 and values[0] % steps.pop() == 0, values
    assert not any(t["text"].endswith("k") for t in loaded["ticks"]["ytick"])  # "10,000", not "10k"
