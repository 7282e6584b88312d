"""The HTML report: the answer first (summary, then the figures, what ran last), deterministic regeneration,
CLI behaviour, bounded size, the figures' axes and labels."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from _report_runs import CLAIMS, run_cli, scenario_file
from plotly.offline import get_plotlyjs, get_plotlyjs_version

from simulator.report import REPORT_NAME, write_report
from simulator.report.figures import TRACE_POINTS, latency_cdf_figure, latency_time_figure
from simulator.report.html import figure_json, plotly_bundle_name, script_safe_json
from simulator.report.series import CDF_POINTS, RAW_LIMIT, TIME_BINS, TimeBins, cdf_points, latency_band
from simulator.results.outputs import replayed_window
from simulator.traces import Trace
from simulator.traces.replay_window import replay_window

FIGURES = ["latency-cdf", "breakdown", "latency-time", "accuracy-latency", "energy"]
ORDER = ["summary", *FIGURES, "run", "provenance", "scenario"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    out = folder / "out"
    assert run_cli(["run", str(scenario_file(folder)), "-o", str(out), "-q"]) == 0
    return out


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', html)


def figure_spec(html: str, anchor: str) -> dict:
    """A figure's spec as the page holds it (typed arrays decoded)."""
    block = re.search(rf'data-target="fig-{anchor}">(.*?)</script>', html).group(1)
    return _decoded(json.loads(block))


def results_order(ids: list[str]) -> list[str]:
    """The page's sections, the warnings checked to follow the summary where the page has them, then left out."""
    if "warnings" in ids:
        assert ids.index("warnings") == ids.index("summary") + 1, ids
    return [i for i in ids if i != "warnings"]


def test_run_writes_report_with_every_section_in_order(results):
    html = (results / REPORT_NAME).read_text()
    assert results_order(section_ids(html)) == ORDER
    # the contents line follows the page, and what ran, the inputs and the resolved scenario come after
    # every result; the YAML is in the last section
    assert re.findall(r'<a href="#([^"]+)">', html) == section_ids(html)
    last = html[html.index('<section id="scenario">'):]
    assert "<pre>" in last and "report-test" in last and "deadline_ms: 1500" in last
    assert "Input files" in html[html.index('<section id="provenance">'):html.index('<section id="scenario">')]
    assert (results / "trace.parquet").is_file()
    assert html.count("<script") == 1 + 5 + 1  # plotly.js once, one data block per figure, the render script
    # plotly.js from the bundle file beside the page, nothing else fetched: it opens offline
    bundle = plotly_bundle_name()
    assert bundle == f"plotly-{get_plotlyjs_version()}.min.js"  # read from plotly's files, not its module
    assert re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"|<link\b", html) == [bundle]
    assert (results / bundle).read_text() == get_plotlyjs()
    summary = json.loads((results / "summary.json").read_text())
    for name in summary["schedules"]:
        assert f'data-schedule="{name}"' in html
    manifest = json.loads((results / "manifest.json").read_text())
    for entry in manifest["inputs"].values():
        assert entry["sha256"] in html


def test_regeneration_is_byte_identical(results, tmp_path):
    first = (results / REPORT_NAME).read_bytes()
    assert run_cli(["report", str(results)]) == 0
    assert (results / REPORT_NAME).read_bytes() == first


def test_self_contained_report_inlines_plotly_once(results, tmp_path):
    import shutil

    copy = tmp_path / "inline"
    shutil.copytree(results, copy)
    (copy / plotly_bundle_name()).unlink()
    assert run_cli(["report", str(copy), "--self-contained"]) == 0
    html = (copy / REPORT_NAME).read_text()
    assert not re.search(r"<script[^>]*\bsrc=|<link\b", html)
    assert html.count(get_plotlyjs()) == 1 and not (copy / plotly_bundle_name()).exists()
    linked = (results / REPORT_NAME).stat().st_size
    assert linked < 200_000 < len(html)  # the linked page carries no copy of the 4.6 MB bundle


def test_pages_in_one_folder_share_one_bundle(results, tmp_path):
    """A run's report and a comparison written into the same folder hold one plotly.js between them."""
    import shutil

    folder = tmp_path / "shared"
    shutil.copytree(results, folder)
    bundle = folder / plotly_bundle_name()
    before = bundle.stat().st_mtime_ns
    from simulator.report.compare_page import write_compare_page

    (folder / "compare.json").write_text(json.dumps({"runs": [], "differences": [], "method": "m"}))
    write_compare_page(folder)
    write_report(folder)
    assert [p.name for p in folder.glob("plotly-*.js")] == [bundle.name]
    assert bundle.stat().st_mtime_ns == before  # an up-to-date bundle is not rewritten


def test_claims_section_when_claims_json_exists(results, tmp_path):
    import shutil

    copy = tmp_path / "with-claims"
    shutil.copytree(results, copy)
    (copy / "claims.json").write_text(json.dumps(CLAIMS))
    html = write_report(copy).read_text()
    assert results_order(section_ids(html)) == ["summary", *FIGURES, "claims", "run", "provenance", "scenario"]
    assert "Mercury beats Janus on latency" in html and 'class="verdict-fail"' in html
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned" in html


def test_no_report_flag(tmp_path):
    out = tmp_path / "out"
    scenario = scenario_file(tmp_path, n_requests=5)
    assert run_cli(["run", str(scenario), "-o", str(out), "-q", "--no-report"]) == 0
    assert (out / "records.parquet").is_file() and not (out / REPORT_NAME).exists()
    assert run_cli(["run", str(scenario), "-o", str(out), "-q"]) == 0 and (out / REPORT_NAME).exists()
    assert run_cli(["run", str(scenario), "-o", str(out), "-q", "--no-report"]) == 0
    assert not (out / REPORT_NAME).exists()  # no stale report of an earlier run is left behind


@pytest.mark.parametrize("remove", ["records.parquet", "summary.json", "manifest.json", "scenario.yaml"])
def test_report_on_incomplete_folder_is_one_line_exit_2(results, tmp_path, capsys, remove):
    import shutil

    copy = tmp_path / "broken"
    shutil.copytree(results, copy)
    (copy / remove).unlink()
    capsys.readouterr()
    assert run_cli(["report", str(copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and remove in err


@pytest.mark.parametrize("damage", ["not parquet", "bad metadata"])
def test_report_on_damaged_trace_window_is_one_line_exit_2(results, tmp_path, capsys, damage):
    import shutil

    import pyarrow.parquet as pq

    copy = tmp_path / "broken"
    shutil.copytree(results, copy)
    path = copy / "trace.parquet"
    if damage == "not parquet":
        path.write_text("time_s,mbps\n0,1\n")
    else:
        table = pq.read_table(path)
        meta = {**table.schema.metadata, b"mercury.elements": b"many"}
        pq.write_table(table.replace_schema_metadata(meta), path)
    before = (copy / REPORT_NAME).read_bytes()
    capsys.readouterr()
    assert run_cli(["report", str(copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "trace.parquet" in err
    assert (copy / REPORT_NAME).read_bytes() == before  # the page already there is kept


def test_report_on_missing_folder(tmp_path, capsys):
    assert run_cli(["report", str(tmp_path / "nope")]) == 2
    assert "results folder not found" in capsys.readouterr().err


def test_script_safe_json_cannot_close_script():
    text = script_safe_json({"name": "</script><img src=x onerror=alert(1)>&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text)["name"] == "</script><img src=x onerror=alert(1)>&\u2028"


def big_records(n: int, schedules: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "schedule": pd.Categorical(np.repeat(schedules, n // len(schedules)), categories=schedules),
        "arrival_s": np.tile(np.arange(n // len(schedules)) / 30.0, len(schedules)),
        "total_ms": rng.lognormal(6, 0.5, n),
        "status": pd.Categorical(["ok"] * n, categories=["ok", "dropped", "unfinished"]),
    })


def test_200k_rows_give_small_figures():
    names = ["a", "b", "c", "d"]
    records = big_records(200_000, names)
    trace = replay_window(Trace(np.arange(0, 2000, 0.1), np.arange(20_000) % 7 + 1.0, 2000.0), 0.0, 2e6)  # 2e7 rows
    time_fig = latency_time_figure(records, names, trace)
    cdf_fig = latency_cdf_figure(records, names)
    assert all(len(t["x"]) <= TIME_BINS for t in time_fig["data"] if t.get("yaxis") != "y2")
    assert [len(t["x"]) for t in time_fig["data"] if t.get("yaxis") == "y2"] == [TRACE_POINTS]
    assert all(len(t["x"]) <= CDF_POINTS for t in cdf_fig["data"])
    assert len(figure_json(time_fig)) + len(figure_json(cdf_fig)) < 400_000


def test_band_keeps_extremes_and_cdf_is_exact():
    t = np.arange(10_000) / 10.0
    v = np.ones_like(t)
    v[1234] = 500.0
    band = latency_band(t, v, TimeBins.over(t[0], t[-1]))
    assert band.binned and band.high.max() == 500.0 and band.low.min() == 1.0
    assert band.time_s.size <= TIME_BINS and band.bin_s == 5.0  # 999.9 s in 400 bins: 2.5 s, rounded up to 5
    x, y = cdf_points(np.arange(1, 100_001, dtype=float))
    assert x[0] == 1 and x[-1] == 100_000 and y[-1] == 1.0 and x.size == CDF_POINTS
    small = latency_band(t[:10], v[:10])
    assert not small.binned and small.time_s.size == 10


def test_bins_are_round_and_their_stats_exact():
    """Ten requests at 0..9 s in at most 3 bins: 3 s rounds up to 5 s, so two bins [0, 5) and [5, 9]."""
    bins = TimeBins.over(0.0, 9.0, bins=3)
    assert (bins.start_s, bins.width_s, bins.count) == (0.0, 5.0, 2)
    t = np.arange(10.0)[::-1]  # unsorted on purpose
    band = latency_band(t, t * 10, bins)
    assert band.time_s.tolist() == [2.5, 7.5]
    assert band.median.tolist() == [20.0, 70.0] and band.low.tolist() == [0.0, 50.0]
    assert band.high.tolist() == [40.0, 90.0]
    assert TimeBins.over(0.0, 2000.0).count == TIME_BINS  # 5 s bins: the request at 2000 s joins the last bin
    assert latency_band(np.array([2000.0]), np.array([1.0]), TimeBins.over(0.0, 2000.0)).time_s.tolist() == [1997.5]


def test_replayed_window_follows_offset_and_loop():
    trace = Trace(np.array([0.0, 1.0, 2.0]), np.array([10.0, 20.0, 30.0]), 3.0)
    window = replayed_window(trace, 1.5, 4.0)
    assert window.time_s.tolist() == [0.0, 0.5, 1.5, 2.5, 3.5]
    assert window.mbps.tolist() == [20.0, 30.0, 10.0, 20.0, 30.0]
    stop = Trace(np.array([0.0, 1.0]), np.array([10.0, 20.0]), 2.0, at_end="stop")
    assert replayed_window(stop, 0.0, 5.0).mbps.tolist() == [10.0, 20.0, 0.0]


def test_bandwidth_plot_is_device_0s_replayed_window(tmp_path):
    """The page plots the window rebuilt from trace.parquet (time since the run's start), not its stored samples."""
    import base64

    import yaml

    from simulator.config.scenario import load_scenario
    from simulator.model.runner import engine_setup, resolve_inputs

    path = scenario_file(tmp_path, n_requests=20)
    doc = yaml.safe_load(path.read_text())
    doc["network"]["start_offset_s"] = 1000.05
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    assert run_cli(["run", str(path), "-o", str(out), "-q"]) == 0
    setup = engine_setup(load_scenario(path), resolve_inputs(load_scenario(path)))
    records = pd.read_parquet(out / "records.parquet")
    end_s = float((records.arrival_s + records.total_ms / 1e3).max())
    expected = replayed_window(setup.trace, 1000.05, end_s)
    assert 10 < len(expected) < TRACE_POINTS  # drawn point by point
    block = re.search(r'data-target="fig-latency-time">(.*?)</script>', (out / REPORT_NAME).read_text()).group(1)
    band = next(t for t in json.loads(block)["data"] if t.get("yaxis") == "y2")
    shown = [np.frombuffer(base64.b64decode(band[axis]["bdata"]), "<f8") for axis in ("x", "y")]
    assert shown[0].tolist() == expected.time_s.tolist() and shown[1].tolist() == expected.mbps.tolist()
    assert shown[0][0] == 0.0 and 0 < shown[0][1] <= 0.1  # time since the run's start, the first change within a step


def _decoded(value):
    """JSON with plotly's typed arrays ({dtype, bdata}) decoded to lists, for comparing content."""
    import base64

    if isinstance(value, dict):
        if set(value) == {"dtype", "bdata"}:
            return np.frombuffer(base64.b64decode(value["bdata"]), "<" + value["dtype"]).tolist()
        return {k: _decoded(v) for k, v in value.items()}
    return [_decoded(v) for v in value] if isinstance(value, list) else value


def test_figure_specs_are_valid_plotly_and_encode_as_plotly_does(results):
    """Each plain figure spec passes plotly's own validation and gives the content plotly's to_json gives."""
    import plotly.graph_objects as go

    from simulator.report import figures
    from simulator.report.stored import load_run

    run = load_run(results)
    specs = [figures.breakdown_figure(run.summary), figures.latency_time_figure(run.records, run.schedules, run.trace),
             figures.latency_cdf_figure(run.records, run.schedules, 1500.0),
             figures.accuracy_latency_figure(run.summary),
             figures.energy_figure(run.summary)]
    for spec in specs:
        ours = _decoded(json.loads(figure_json(spec)))
        theirs = _decoded(json.loads(go.Figure(spec).to_json()))  # raises on any property plotly does not know
        assert ours == theirs


def test_cdf_marks_the_deadline(results):
    """The key figure draws the summary's deadline as a labelled vertical line at its value (data units, so
    on the log axis too), and draws none without a deadline."""
    html = (results / REPORT_NAME).read_text()
    (line,) = figure_spec(html, "latency-cdf")["layout"]["shapes"]
    assert (line["type"], line["x0"], line["x1"], line["yref"]) == ("line", 1500.0, 1500.0, "paper")
    assert line["label"]["text"] == "deadline 1500 ms"
    records = pd.read_parquet(results / "records.parquet")
    assert "shapes" not in latency_cdf_figure(records, ["mercury"], None)["layout"]


def test_latency_time_axis_spans_the_requests(results):
    """The x axis runs from the first arrival to the last completion, computed here from the records."""
    html = (results / REPORT_NAME).read_text()
    records = pd.read_parquet(results / "records.parquet")
    done = records[records.status == "ok"]
    expected = [records.arrival_s.min(), max(a + t / 1000 for a, t in zip(done.arrival_s, done.total_ms, strict=True))]
    layout = figure_spec(html, "latency-time")["layout"]
    assert layout["xaxis"]["range"] == expected
    assert expected[1] > records.arrival_s.max() + 1  # the last completion, not the last arrival
    assert layout["yaxis2"]["tickmode"] == "auto"  # bandwidth ticks of its own, not synced to the log axis


def test_latency_time_span_starts_at_the_first_arrival_even_dropped():
    """Requests from 1.5 s (dropped) to a completion at 3.0 + 4.0 s: that span, not one from 0."""
    records = pd.DataFrame({"schedule": ["a", "a", "a", "b"], "arrival_s": [1.5, 2.0, 3.0, 5.0],
                            "total_ms": [np.nan, 100.0, 4000.0, 200.0],
                            "status": ["dropped", "ok", "ok", "ok"]})
    assert latency_time_figure(records, ["a", "b"], None)["layout"]["xaxis"]["range"] == [1.5, 7.0]
    assert latency_time_figure(records, ["b"], None)["layout"]["xaxis"]["range"] == [5.0, 5.2]


def test_latency_time_names_its_bins_only_when_it_bins(results):
    html = (results / REPORT_NAME).read_text()
    raw = figure_spec(html, "latency-time")
    assert raw["layout"]["title"]["text"] == "Latency over time"
    latency = [t for t in raw["data"] if t.get("yaxis") != "y2"]
    assert [t["mode"] for t in latency] == ["markers"] * 5 and len(latency[0]["x"]) == 40  # each request


def test_latency_time_bins_every_schedule_on_one_grid():
    """One schedule over the limit: both binned alike, 50 000 arrivals over 1666.6 s -> 5 s bins, named."""
    names = ["a", "b"]
    records = big_records(100_000, names)
    few = records[records.schedule == "b"].index[RAW_LIMIT:]
    binned = latency_time_figure(records.drop(few), names, None)
    assert binned["layout"]["title"]["text"] == "Latency over time (median per 5 s bin, min-max band)"
    medians = [t for t in binned["data"] if t.get("showlegend") is not False]
    assert [t["name"] for t in medians] == names and all(t["mode"] == "lines" for t in medians)
    assert np.allclose(np.diff(medians[1]["x"]), 5.0) and medians[1]["x"][0] == 2.5


def test_log_axes_are_ticked_at_one_two_five_written_out() -> None:
    from simulator.report.figures import log_axis

    axis = log_axis(np.array([270.0, 900.0]), np.array([3000.0, np.nan, 0.0]))
    assert axis["type"] == "log"
    assert axis["tickvals"] == [200, 500, 1000, 2000, 5000]
    assert axis["ticktext"] == ["200", "500", "1,000", "2,000", "5,000"]
