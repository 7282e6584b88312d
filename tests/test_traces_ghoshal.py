"""The Ghoshal 2022 importer: the paper's 4G figure, the 5G NSA leg alignment, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _traces_real import REAL, needs_real

from simulator.errors import InputError
from simulator.traces import ghoshal
from simulator.traces.csv_format import read_trace_csv
from simulator.traces.importers import import_traces


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("ghoshal") / "out"
    import_traces("ghoshal2022", REAL, dest)
    return dest


@needs_real
def test_all_lte_concatenated_is_the_papers_37_32_mbps(imported: Path) -> None:
    trace = read_trace_csv(imported / "lte-all.csv")
    assert trace.mbps.size == 74119  # the paper's "74,119 s of 4G" are 0.1 s samples
    assert trace.mean_mbps == pytest.approx(37.32, abs=0.005)


@needs_real
@pytest.mark.parametrize(("group", "seconds", "mean"), [
    ("lte-static", 546.5, 50.4), ("lte-walking", 1516.7, 47.5), ("lte-driving", 5348.7, 33.1),
    ("5g-static", 519.1, 104.1),
])
def test_group_durations_and_means(imported: Path, group: str, seconds: float, mean: float) -> None:
    trace = read_trace_csv(imported / f"{group}.csv")
    assert trace.duration_s == pytest.approx(seconds, abs=1e-6)
    assert trace.mean_mbps == pytest.approx(mean, abs=0.05)


@needs_real
def test_outputs_per_run_and_per_group(imported: Path) -> None:
    names = {p.name for p in imported.glob("*.csv")}
    assert {f"{n}-{m}.csv" for n in ("lte", "5g") for m in ("static", "walking", "driving")} <= names
    assert len(list((imported / "runs" / "lte-driving").glob("*.csv"))) == 10
    meta = read_trace_csv(imported / "runs" / "5g-driving" / "throughput-run1.csv").meta
    assert meta["format"] == "ghoshal2022" and "Run 1" in meta["source"]


@needs_real
def test_nr_leg_only_reproduces_the_published_nr_statistics(tmp_path: Path) -> None:
    import_traces("ghoshal2022", REAL / "throughput" / "driving" / "5g" / "throughput.list", tmp_path / "nr",
                  legs="nr")
    trace = read_trace_csv(tmp_path / "nr" / "5g-driving.csv")
    assert trace.duration_s == pytest.approx(2917.9, abs=1e-6)
    assert trace.mean_mbps == pytest.approx(31.3, abs=0.05)
    assert float(np.median(trace.mbps)) == pytest.approx(5.6, abs=0.05)


@needs_real
def test_summing_the_lte_leg_removes_most_nr_outage(tmp_path: Path) -> None:
    src = REAL / "throughput" / "driving" / "5g" / "throughput.list"
    import_traces("ghoshal2022", src, tmp_path / "sum")
    summed = read_trace_csv(tmp_path / "sum" / "5g-driving.csv").mbps
    assert np.mean(summed < 1.0) < 0.1 < 0.4 < np.mean(read_trace_csv_nr(src) < 1.0)


def read_trace_csv_nr(src: Path) -> np.ndarray:
    return np.concatenate([run.samples("nr") for run in ghoshal.read_list(src)])


@needs_real
def test_papers_5g_figure_counts_timestamps_as_throughput() -> None:
    files = sorted((REAL / "throughput").glob("*/5g/*.list"))
    values = ghoshal.every_number_in(files)
    kept = values[values < 200]
    assert kept.size == 126216
    assert kept.mean() == pytest.approx(48.19, abs=0.005)
    lte = ghoshal.every_number_in(sorted((REAL / "throughput").glob("*/lte/*.list")))
    assert lte.size == 74119 and lte.mean() == pytest.approx(37.32, abs=0.005)


def test_sum_legs_aligns_on_a_common_grid() -> None:
    nr_t = np.array([10.0, 10.1, 10.2, 10.3])
    nr_x = np.array([5.0, 0.0, 0.0, 7.0])
    # LTE leg: offset timestamps, one re-emitted stretch (10.15 twice), one sample before the NR window
    lte_t = np.array([9.5, 10.05, 10.15, 10.15, 10.35])
    lte_x = np.array([99.0, 1.0, 2.0, 4.0, 3.0])
    assert ghoshal.sum_legs(nr_t, nr_x, lte_t, lte_x).tolist() == pytest.approx([6.0, 3.0, 0.0, 10.0])


def write(tmp_path: Path, text: str, name: str = "x.list") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD_4 = "#####\nRun 1\n0.1,0.2,0.3\n1,2,3\n0.1,0.2,0.3\n4,5,6\n"


def test_reads_one_and_four_line_runs(tmp_path: Path) -> None:
    runs = ghoshal.read_list(write(tmp_path, GOOD_4 + "#####\nRun 2\n7,8,\n"))
    assert [len(r.values) for r in runs] == [4, 1]
    assert runs[0].samples().tolist() == [5, 7, 9]
    assert runs[1].samples().tolist() == [7, 8]


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("#####\nRun 1\n0.1,0.2,0.3\n1,2\n0.1,0.2\n4,5\n", "line 4", "2 throughput values but 3 timestamps"),
    ("#####\nRun 1\n1,2,x3\n", "line 3", "expected comma-separated numbers"),
    ("#####\nRun 1\n1,-2,3\n", "line 3", ">= 0"),
    ("#####\nRun 1\n1,nan,3\n", "line 3", "finite"),
    ("#####\nRun 1\n1,2\n3,4\n", "line 2", "2 value lines"),
    ("#####\nRun 1\n0.2,0.1\n1,2\n0,1\n3,4\n", "line 3", "NR timestamps must increase"),
    ("1,2,3\n", "line 1", "'Run k' header"),
])
def test_bad_input_names_file_and_line(tmp_path: Path, text: str, line: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        ghoshal.read_list(path)
    message = err.value.one_line()
    assert str(path) in message and line in message and fragment in message


def test_empty_file_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no runs found"):
        ghoshal.read_list(write(tmp_path, ""))
    with pytest.raises(InputError, match="no such file or folder"):
        ghoshal.list_files(tmp_path / "missing")


def test_failed_import_leaves_dest_untouched(tmp_path: Path) -> None:
    src = tmp_path / "src" / "static" / "lte"
    src.mkdir(parents=True)
    (src / "a.list").write_text("#####\nRun 1\n1,2,3\n")
    (src / "b.list").write_text("#####\nRun 1\n1,2,oops\n")
    dest = tmp_path / "dest"
    with pytest.raises(InputError):
        import_traces("ghoshal2022", tmp_path / "src", dest)
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
