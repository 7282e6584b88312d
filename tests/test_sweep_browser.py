"""The sweep and comparison pages in headless Chromium, opened from disk: drawn without console errors,
one line per schedule in every axis figure, the table's numbers those of sweep-summary, hostile labels inert."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _browser import CHROMIUM, chromium_page
from _report_runs import HOSTILE, run_cli, scenario_file

pytestmark = pytest.mark.browser
TRACES = "'.scatterlayer .trace, .heatmaplayer .hm, .barlayer .trace'"


def open_page(path: Path, actions: str | None = None) -> dict:
    seen: dict = {}
    with chromium_page(seen) as page:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function("document.querySelectorAll('.figure .main-svg').length > 0")
        seen["figures"] = page.eval_on_selector_all(".figure", f"""divs => divs.map(d => ({{id: d.id,
            traces: d.querySelectorAll({TRACES}).length,
            names: (d.data || []).map(t => t.name)}}))""")
        seen["tables"] = page.eval_on_selector_all("table", "ts => ts.map(t => t.id)")
        seen["summary_rows"] = page.eval_on_selector_all(
            "#sweep-summary-table tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))")
        if actions:  # switch every figure's menu to its second choice: the restyle must not fail
            page.evaluate(actions)
            page.wait_for_timeout(300)
            seen["after"] = page.eval_on_selector_all(".figure", f"ds => ds.map(d => d.querySelectorAll("
                                                                 f"{TRACES}).length)")
        seen["pwned"] = page.evaluate("window.__pwned")
        seen["text"] = page.inner_text("body")
    seen["errors"] = seen["console_errors"]
    return seen


SWITCH = """() => { for (const d of document.querySelectorAll('.figure')) {
  const menus = (d.layout || {}).updatemenus || [];
  if (menus.length && menus[0].buttons.length > 1) {
    const [data, layout] = menus[0].buttons[1].args; Plotly.update(d, data, layout || {}); } } }"""


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("sweep-browser")
    scenario_file(folder, "browser", first_label=HOSTILE, n_requests=20)
    (folder / "sweep.yaml").write_text(yaml.safe_dump({
        "name": "browser", "scenario": "scenario.yaml",
        "grid": {"schedules.mercury.reduction": [0.25, 0.5], "network.mode": ["trace", "mean"],
                 "workload.seed": [1, 2]}}))
    out = folder / "out"
    assert run_cli(["sweep", str(folder / "sweep.yaml"), "-o", str(out), "-q", "-j", "1"]) == 0
    return out


def test_sweep_page_in_chromium(sweep_folder: Path) -> None:
    seen = open_page(sweep_folder / "sweep.html", SWITCH)
    assert seen["errors"] == [] and seen["dialogs"] == [] and seen["pwned"] is False
    assert all(url.startswith("file://") for url in seen["requests"]), seen["requests"]
    schedules = [HOSTILE, "cloud-only", "otas", "janus", "mercury"]
    figures = {f["id"]: f for f in seen["figures"]}
    assert set(figures) == {"fig-axis-0", "fig-axis-1", "fig-frontier", "fig-heatmap"}
    for axis in ("fig-axis-0", "fig-axis-1"):  # one trace per schedule and axis
        assert figures[axis]["traces"] == len(schedules) and figures[axis]["names"] == schedules
    assert figures["fig-frontier"]["traces"] == 2 * len(schedules)  # points and frontier per schedule
    assert figures["fig-heatmap"]["traces"] == 1  # one schedule at a time
    assert seen["after"][:2] == [len(schedules)] * 2  # still drawn after switching the statistic
    assert HOSTILE in seen["text"]


def test_sweep_table_shows_sweep_summary(sweep_folder: Path) -> None:
    seen = open_page(sweep_folder / "sweep.html")
    summary = pd.read_csv(sweep_folder / "sweep-summary.csv")
    rows = seen["summary_rows"]
    assert len(rows) == len(summary) == 2 * 2 * 5
    for cells, (_, row) in zip(rows, summary.iterrows(), strict=True):
        assert cells[2] == row["schedule"] and int(cells[3]) == row["n"] == 2
        mean, interval = cells[4].split(" [")
        assert float(mean) == pytest.approx(row["mean_ms"], abs=0.05)
        low, high = (float(v) for v in interval.rstrip("]").split(", "))
        assert (low, high) == pytest.approx((row["mean_ms_ci_low"], row["mean_ms_ci_high"]), abs=0.05)


def test_compare_page_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    scenario = scenario_file(tmp_path, "cmp", first_label=HOSTILE, n_requests=20)
    assert run_cli(["run", str(scenario), "-o", str(tmp_path / "a"), "-q", "--no-report"]) == 0
    data = yaml.safe_load(scenario.read_text())
    data["workload"]["seed"] = 9
    scenario.write_text(yaml.safe_dump(data))
    assert run_cli(["run", str(scenario), "-o", str(tmp_path / "b"), "-q", "--no-report"]) == 0
    out = tmp_path / "cmp"
    assert run_cli(["compare", str(tmp_path / "a"), str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out),
                    "-q"]) == 0
    seen = open_page(out / "compare.html", SWITCH)
    assert seen["errors"] == [] and seen["pwned"] is False and seen["dialogs"] == []
    assert all(url.startswith("file://") for url in seen["requests"])
    (forest,) = seen["figures"]
    assert forest["traces"] == 2 and seen["after"] == [2]  # one per compared run
    assert "compare-table" in seen["tables"] and HOSTILE in seen["text"]
    assert json.loads((out / "compare.json").read_text())["runs"][2]["seeds"] == [9]
