"""Column-mapped CSV import and the public-set presets, on small files made here in each set's exact layout.

Expected rates are worked out by hand from the stated rules (traces/README.md, "Column-mapped CSV"), never
with the importer's own helpers.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from _traces_real import run_cli

from simulator.traces.csv_format import read_trace_csv

UCC4G_HEADER = ("Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,"
                "DL_bitrate,UL_bitrate,State,NRxRSRP,NRxRSRQ,ServingCell_Lon,ServingCell_Lat,ServingCell_Distance")
UCC5G_HEADER = ("Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,"
                "DL_bitrate,UL_bitrate,State,PINGAVG,PINGMIN,PINGMAX,PINGSTDEV,PINGLOSS,CELLHEX,NODEHEX,LACHEX,"
                "RAWCELLID,NRxRSRP,NRxRSRQ")
MTU_HEADER = "Time,rsrp(dBm),rsrq(dB),rssi(dBm),nr_rsrp(dBm),nr_rsrq(dB),nr_rssi(dBm),Sent Bytes,RATE(MBit/s)"
START = datetime(2019, 12, 16, 13, 40, 4, tzinfo=UTC)

# Filler for the columns the importer must skip (made up here; not data from either set).
FILLER = {"Longitude": "-8.47", "Latitude": "51.89", "Speed": "0", "Operatorname": "A", "CellID": "2",
          "RSRP": "-95", "RSRQ": "-10", "SNR": "8.0", "CQI": "9", "RSSI": "-70", "State": "D", "NRxRSRP": "-",
          "NRxRSRQ": "-", "ServingCell_Lon": "-8.48", "ServingCell_Lat": "51.9", "ServingCell_Distance": "512.3",
          "PINGAVG": "-", "PINGMIN": "-", "PINGMAX": "-", "PINGSTDEV": "-", "PINGLOSS": "-", "CELLHEX": "1A2B",
          "NODEHEX": "3C4", "LACHEX": "5D", "RAWCELLID": "1234567"}


def gnettrack(header: str, rows: list[tuple[int, str, str, str]]) -> str:
    """A G-NetTrack Pro log: rows of (second offset, NetworkMode, DL_bitrate, UL_bitrate) in kbit/s."""
    columns = header.split(",")
    lines = [header]
    for second, mode, dl, ul in rows:
        values = dict(FILLER, Timestamp=(START + timedelta(seconds=second)).strftime("%Y.%m.%d_%H.%M.%S"),
                      NetworkMode=mode, DL_bitrate=dl, UL_bitrate=ul)
        lines.append(",".join(values[c] for c in columns))
    return "\n".join(lines) + "\n"


# Seconds 0..14: second 2 twice, second 3 skipped, second 5 missing ('-'), 8..12 skipped (5 samples).
UCC4G_ROWS = [(0, "LTE", "900", "1000"), (1, "LTE", "900", "2000"), (2, "LTE", "900", "3000"),
              (2, "LTE", "900", "5000"), (4, "LTE", "900", "4000"), (5, "LTE", "900", "-"),
              (6, "LTE", "900", "6000"), (7, "LTE", "900", "500"), (13, "LTE", "900", "800"),
              (14, "LTE", "900", "900")]


def run_import(capsys, tmp_path: Path, fmt: str, text: str, *options: str, name: str = "log.csv"):
    src = tmp_path / name
    src.write_text(text)
    dest = tmp_path / "out.csv"
    code, out, err = run_cli(["traces", "import", fmt, str(src), str(dest), *options], capsys)
    return code, err, dest


def rows_of(path: Path) -> np.ndarray:
    """The trace's (time_s, mbps) rows as an n x 2 array, which pytest.approx compares element-wise."""
    trace = read_trace_csv(path)
    return np.column_stack([trace.times_s, trace.mbps])


def approx_rows(rows: list[tuple[float, float]], **tolerance: float) -> object:
    """``pytest.approx`` of expected (time_s, mbps) rows: as an array, since approx refuses nested lists."""
    return pytest.approx(np.array(rows, dtype=float).reshape(-1, 2), **tolerance)


def assert_rows(path: Path, expected: list[tuple[float, float]], duration: float) -> None:
    trace = read_trace_csv(path)
    assert trace.times_s.tolist() == pytest.approx([t for t, _ in expected], abs=1e-9)
    assert trace.mbps.tolist() == pytest.approx([r for _, r in expected], abs=1e-9)
    assert trace.duration_s == pytest.approx(duration, abs=1e-9)
    bits = sum(r * (b - a) for (a, r), b in zip(expected, [t for t, _ in expected[1:]] + [duration], strict=True))
    assert trace.mean_mbps == pytest.approx(bits / duration, abs=1e-9)


def test_ucc4g_uplink_round_trip(capsys, tmp_path: Path) -> None:
    code, err, dest = run_import(capsys, tmp_path, "ucc4g", gnettrack(UCC4G_HEADER, UCC4G_ROWS))
    assert code == 0, err
    # kbit/s -> Mbit/s; second 2 = mean(3, 5) held over the skipped second 3 (carries 3 + 5 Mbit exactly);
    # the missing second 5 is bridged; 5 missing samples after second 7 exceed --max-gap 3: outage from 8.
    expected = [(0, 1.0), (1, 2.0), (2, 4.0), (4, 4.0), (6, 6.0), (7, 0.5), (8, 0.0), (13, 0.8), (14, 0.9)]
    assert_rows(dest, expected, duration=15.0)
    meta = read_trace_csv(dest).meta
    assert meta["preset"] == "ucc4g" and "MMSys 2018" in meta["citation"]
    assert meta["columns"]["time_column"] == "Timestamp" and meta["columns"]["rate_column"] == "UL_bitrate"
    assert meta["columns"]["rate_unit_in"] == "kbps" and "not link capacity" in meta["measures"]
    assert meta["repeated_timestamp_rows"] == 1 and meta["gaps_as_outage"] == 1
    assert "mercury-sim traces import ucc4g" in meta["command"]


@pytest.mark.parametrize(("rule", "second2"), [("mean", 4.0), ("last", 5.0), ("sum", 8.0)])
def test_repeated_timestamp_rules(capsys, tmp_path: Path, rule: str, second2: float) -> None:
    code, err, dest = run_import(capsys, tmp_path, "ucc4g", gnettrack(UCC4G_HEADER, UCC4G_ROWS), "--repeated", rule)
    assert code == 0, err
    assert dict(rows_of(dest))[2.0] == pytest.approx(second2)


@pytest.mark.parametrize(("options", "after_7"), [
    (["--max-gap", "5"], [(7, 0.5)]),                 # 5 missing samples, 5 allowed: bridged
    (["--max-gap", "4"], [(7, 0.5), (8, 0.0)]),       # one more than allowed: outage
    (["--gap", "bridge"], [(7, 0.5)]),                # long gap, but bridged on request
])
def test_gap_rule(capsys, tmp_path: Path, options: list[str], after_7: list[tuple[float, float]]) -> None:
    code, err, dest = run_import(capsys, tmp_path, "ucc4g", gnettrack(UCC4G_HEADER, UCC4G_ROWS), *options)
    assert code == 0, err
    expected = [(0, 1.0), (1, 2.0), (2, 4.0), (4, 4.0), (6, 6.0), *after_7, (13, 0.8), (14, 0.9)]
    assert_rows(dest, expected, duration=15.0)


def test_resample_is_time_weighted(capsys, tmp_path: Path) -> None:
    code, err, dest = run_import(capsys, tmp_path, "ucc4g", gnettrack(UCC4G_HEADER, UCC4G_ROWS), "--resample", "2")
    assert code == 0, err
    # bins of 2 s over the 15 s series; the last bin [14, 15) is one second long
    assert rows_of(dest) == approx_rows([(0, 1.5), (2, 4.0), (4, 4.0), (6, 3.25), (8, 0.0), (10, 0.0),
                                           (12, 0.4), (14, 0.9)])


def test_ucc5g_downlink_on_5g_rows_only(capsys, tmp_path: Path) -> None:
    rows = [(0, "5G", "10000", "100"), (1, "LTE", "20000", "200"), (2, "5G", "30000", "300"),
            (3, "5G", "40000", "-"), (4, "5G", "50000", "500"), (5, "5G", "-", "600")]
    text = gnettrack(UCC5G_HEADER, rows)
    assert len(text.splitlines()[0].split(",")) == 26
    code, err, dest = run_import(capsys, tmp_path, "ucc5g", text, "--link", "downlink", "--network", "5G")
    assert code == 0, err
    # the LTE row at second 1 is filtered out: one missing sample, bridged; second 5 has no DL value
    assert_rows(dest, [(0, 10.0), (2, 30.0), (3, 40.0), (4, 50.0)], duration=5.0)
    meta = read_trace_csv(dest).meta
    assert meta["link"] == "downlink" and meta["network_mode"] == "5G"
    assert meta["columns"]["rate_column"] == "DL_bitrate" and meta["columns"]["where"] == ["NetworkMode == 5G"]


def test_mtu5g_rate_covers_the_interval_ending_at_its_row(capsys, tmp_path: Path) -> None:
    start = datetime(2021, 12, 15, 16, 5, 11)
    lines = [MTU_HEADER]
    for offset, rate in ((0, "7.5"), (3, "8.0"), (6, "8.5"), (9, "9.0"), (15, "10.0")):
        stamp = (start + timedelta(seconds=offset)).strftime("%a %b %d %H:%M:%S UTC %Y")
        lines.append(f"{stamp},-110,-18,-71,0,0,0,{1000 * offset},{rate}")
    code, err, dest = run_import(capsys, tmp_path, "mtu5g", "\n".join(lines) + "\n")
    assert code == 0, err
    # period 3 s; each rate holds over the 3 s before its row; the row at 15 s covers 9..15 (one sample
    # missing, bridged backwards) and ends the trace, split so that its last row lasts one period
    assert_rows(dest, [(0, 7.5), (3, 8.0), (6, 8.5), (9, 9.0), (12, 10.0), (15, 10.0)], duration=18.0)


@pytest.mark.parametrize(("unit", "mbps"), [("bps", 0.002), ("kbps", 2.0), ("Mbps", 2000.0), ("Bps", 0.016),
                                            ("kBps", 16.0), ("MBps", 16000.0)])
def test_rate_units(capsys, tmp_path: Path, unit: str, mbps: float) -> None:
    code, err, dest = run_import(capsys, tmp_path, "csv", "t;r\n0;2000\n500;2000\n1000;2000\n",
                                 "--time-col", "t", "--rate-col", "r", "--time-unit", "ms", "--rate-unit", unit)
    assert code == 0, err
    assert rows_of(dest) == approx_rows([(0, mbps), (0.5, mbps), (1.0, mbps)])


def test_numbered_columns_with_and_without_header(capsys, tmp_path: Path) -> None:
    for text in ("a,time,b,rate\nx,10,y,1\nx,11,y,2\nx,12,y,3\n", "x,10,y,1\nx,11,y,2\nx,12,y,3\n"):
        code, err, dest = run_import(capsys, tmp_path, "csv", text, "--time-col", "2", "--rate-col", "4")
        assert code == 0, err
        assert rows_of(dest) == approx_rows([(0, 1), (1, 2), (2, 3)])


def test_where_and_custom_missing_marker(capsys, tmp_path: Path) -> None:
    text = "time,mode,rate\n0,a,1\n1,b,100\n2,a,n.a.\n3,a,3\n4,a,4\n"
    code, err, dest = run_import(capsys, tmp_path, "csv", text, "--time-col", "time", "--rate-col", "rate",
                                 "--where", "mode == a", "--missing", "n.a.")
    assert code == 0, err
    assert rows_of(dest) == approx_rows([(0, 1), (3, 3), (4, 4)])  # seconds 1, 2 missing: bridged


def test_pensieve_form_unchanged(capsys, tmp_path: Path) -> None:
    code, err, dest = run_import(capsys, tmp_path, "csv", "3 1.5\n4 2.5\n5 3.5\n")
    assert code == 0, err
    assert rows_of(dest) == approx_rows([(0, 1.5), (1, 2.5), (2, 3.5)])


def _tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("fmt", "text", "options", "where"), [
    ("ucc4g", UCC4G_HEADER.replace("UL_bitrate", "UL_rate") + "\n", [], "line 1: no column 'UL_bitrate'"),
    ("csv", "t,r\n0,1\n1,2\n", ["--time-col", "t", "--rate-col", "r", "--rate-unit", "Gbps"],
     "--rate-unit: unknown rate unit 'Gbps'"),
    ("ucc5g", gnettrack(UCC5G_HEADER, [(0, "5G", "1", "1")]).replace("2019.12.16_13.40.04", "16/12/2019 13:40")
     + gnettrack(UCC5G_HEADER, [(1, "5G", "1", "1")]).split("\n", 1)[1],
     [], "line 2, column Timestamp: cannot read '16/12/2019 13:40' as time"),
    ("ucc4g", gnettrack(UCC4G_HEADER, [(0, "LTE", "1", "1"), (2, "LTE", "1", "1"), (1, "LTE", "1", "1")]), [],
     "line 4, column Timestamp: time goes backwards"),
    ("ucc4g", gnettrack(UCC4G_HEADER, [(0, "LTE", "1", "-"), (1, "LTE", "1", "-"), (2, "LTE", "1", "-")]), [],
     "lines 2-4, column UL_bitrate: every value is missing"),
    ("ucc4g", gnettrack(UCC4G_HEADER, [(0, "LTE", "1", "1"), (1, "LTE", "1", "12k")]), [],
     "line 3, column UL_bitrate: cannot read '12k' as a number"),
    ("csv", "t,r\n0,1\n1\n", ["--time-col", "t", "--rate-col", "r"], "line 3: expected at least 2 fields"),
    ("ucc5g", gnettrack(UCC5G_HEADER, [(0, "LTE", "1", "1")]), ["--network", "5G"],
     "column Timestamp: no data rows matching NetworkMode == 5G"),
])
def test_bad_input_one_line_exit_2_nothing_written(capsys, tmp_path: Path, fmt: str, text: str,
                                                   options: list[str], where: str) -> None:
    (tmp_path / "out.csv").write_text("# kind: imported\ntime_s,mbps\n0,1\n")  # an earlier output of ours
    before = _tree_digest(tmp_path)
    src = tmp_path / "log.csv"
    src.write_text(text)
    code, _, err = run_cli(["traces", "import", fmt, str(src), str(tmp_path / "out.csv"), *options], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and where in lines[0] and "Traceback" not in err
    if not where.startswith("--"):
        assert lines[0].startswith(f"error: {src}: ")
    after = _tree_digest(tmp_path)
    after.pop("log.csv")
    assert after == before  # the earlier output is intact and no temporary file is left


def test_folder_import_with_one_broken_file(capsys, tmp_path: Path) -> None:
    src = tmp_path / "5Gdataset"
    (src / "Download" / "Driving").mkdir(parents=True)
    (src / "Netflix" / "Static").mkdir(parents=True)
    good = [(s, "5G", "1000", str(1000 * (s + 1))) for s in range(6)]
    (src / "Download" / "Driving" / "B_1.csv").write_text(gnettrack(UCC5G_HEADER, good))
    (src / "Netflix" / "Static" / "B_2.csv").write_text(gnettrack(UCC5G_HEADER, good[:3]))
    (src / "Netflix" / "Static" / "broken.csv").write_text(gnettrack(UCC5G_HEADER, [good[1], good[0]]))
    dest = tmp_path / "imported"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    code, out, err = run_cli(["traces", "import", "ucc5g", str(src), str(dest)], capsys)
    assert code == 2
    assert "Netflix/Static/broken.csv: line 3, column Timestamp: time goes backwards" in err
    assert sorted(p.name for p in dest.iterdir()) == ["Download__Driving__B_1.csv", "Netflix__Static__B_2.csv",
                                                      "failures.csv", "notes.txt", "stats.csv"]
    assert (dest / "notes.txt").read_text() == "mine"
    assert "broken.csv" in (dest / "failures.csv").read_text()
    assert rows_of(dest / "Download__Driving__B_1.csv") == approx_rows([(s, s + 1.0) for s in range(6)])
    import csv

    stats = {row["trace"]: row for row in csv.DictReader((dest / "stats.csv").open())}
    assert set(stats) == {"Download__Driving__B_1", "Netflix__Static__B_2"}
    row = stats["Download__Driving__B_1"]
    assert row["source"] == "Download/Driving/B_1.csv" and float(row["duration_s"]) == 6.0
    assert float(row["mean_mbps"]) == pytest.approx(np.mean([1, 2, 3, 4, 5, 6]))
    assert float(row["outage_fraction"]) == 0.0

    # fixed: the run succeeds, replaces its own outputs and removes its stale failure list
    (src / "Netflix" / "Static" / "broken.csv").unlink()
    code, _, err = run_cli(["traces", "import", "ucc5g", str(src), str(dest)], capsys)
    assert code == 0, err
    assert not (dest / "failures.csv").exists() and (dest / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(("fmt", "options", "fragment"), [
    ("ucc4g", ["--link", "sideways"], "--link: preset ucc4g has no 'sideways' column"),
    ("mtu5g", ["--link", "downlink"], "--link: preset mtu5g has no 'downlink' column"),
    ("mtu5g", ["--network", "5G"], "--network: preset mtu5g records no network mode"),
    ("ucc5g", ["--rate-col", "DL_bitrate"], "--rate-col: not used with preset ucc5g"),
    ("csv", ["--time-col", "t"], "--rate-col: a column-mapped csv import needs both"),
    ("csv", ["--time-col", "t", "--rate-col", "r", "--link", "uplink"], "--link: only used with a preset"),
    ("csv", ["--time-col", "t", "--rate-col", "r", "--where", "t > 3"], "--where: expected 'COLUMN == VALUE'"),
    ("csv", ["--time-col", "t", "--rate-col", "r", "--repeated", "median"], "--repeated: expected one of"),
    ("csv", ["--time-col", "t", "--rate-col", "r", "--resample", "0"], "--resample: must be a positive"),
    ("csv", ["--time-col", "t", "--rate-col", "r", "--max-gap", "-1"], "--max-gap: must be >= 0"),
    ("csv", ["--time-col", "t", "--rate-col", "r", "--time-unit", "h"], "--time-unit: unknown time unit 'h'"),
    ("csv", ["--time-col", "t", "--rate-col", "r", "--time-format", "%S", "--time-unit", "ms"],
     "--time-format: give either"),
    ("csv", ["--time-col", "t", "--rate-col", "r", "--where", "mode == a"], "line 1: no column 'mode'"),
])
def test_option_misuse_one_line_exit_2(capsys, tmp_path: Path, fmt: str, options: list[str], fragment: str) -> None:
    code, err, dest = run_import(capsys, tmp_path, fmt, "t,r\n0,1\n1,2\n", *options)
    assert code == 2 and len(err.strip().splitlines()) == 1 and fragment in err and "Traceback" not in err
    assert not dest.exists()


def test_folder_import_into_a_folder_inside_the_source(capsys, tmp_path: Path) -> None:
    src = tmp_path / "logs"
    src.mkdir()
    (src / "a.csv").write_text(gnettrack(UCC4G_HEADER, UCC4G_ROWS))
    for _ in range(2):  # the second run must not read the first run's outputs as logs
        code, _, err = run_cli(["traces", "import", "ucc4g", str(src), str(src / "out")], capsys)
        assert code == 0, err
    assert sorted(p.name for p in (src / "out").iterdir()) == ["a.csv", "stats.csv"]


def test_stats_of_an_imported_folder_skips_its_tables(capsys, tmp_path: Path) -> None:
    src = tmp_path / "logs"
    src.mkdir()
    (src / "a.csv").write_text(gnettrack(UCC4G_HEADER, UCC4G_ROWS))
    code, _, err = run_cli(["traces", "import", "ucc4g", str(src), str(tmp_path / "out")], capsys)
    assert code == 0, err
    code, out, err = run_cli(["traces", "stats", "--json", str(tmp_path / "out")], capsys)
    assert code == 0, err
    import json

    [row] = json.loads(out)
    assert row["name"] == "a" and row["mean"] == pytest.approx(27.2 / 15)  # bits worked out above / 15 s


# Seconds 0..10 at (s + 1) Mbit/s, and between seconds 3 and 4 one row whose clock stepped back to second 2.
STEPPED_BACK = [(s, "5G", "900", str(1000 * (s + 1))) for s in range(4)] + [(2, "5G", "900", "99000")] + \
    [(s, "5G", "900", str(1000 * (s + 1))) for s in range(4, 11)]


def test_a_row_going_back_in_time_is_dropped_and_counted(capsys, tmp_path: Path) -> None:
    code, err, dest = run_import(capsys, tmp_path, "ucc5g", gnettrack(UCC5G_HEADER, STEPPED_BACK))
    assert code == 0, err
    # 1 of 12 rows dropped (8 %, under the 10 % limit): the 99 Mbit/s of the stepped-back row is gone
    assert_rows(dest, [(s, s + 1.0) for s in range(11)], duration=11.0)
    meta = read_trace_csv(dest).meta
    assert meta["rows_read"] == 12 and meta["samples"] == 11 and meta["rows_dropped_backwards"] == 1
    assert err == "warning: rows dropped, their time before an earlier row's: log.csv (1)\n"


def test_a_file_mostly_out_of_time_order_fails_saying_why(capsys, tmp_path: Path) -> None:
    rows = [(s, "5G", "900", "1000") for s in (0, 5, 1, 2, 3, 6)]
    code, err, dest = run_import(capsys, tmp_path, "ucc5g", gnettrack(UCC5G_HEADER, rows))
    assert code == 2 and not dest.exists()
    assert err == (f"error: {tmp_path / 'log.csv'}: line 4, column Timestamp: time goes backwards on 3 of 6 rows "
                   "(50%; first 2019-12-16 13:40:05 after 2019-12-16 13:40:09 on line 3); more than 10% means the "
                   "rows are not in time order: sort them by time\n")


def test_folder_import_counts_dropped_rows_and_warns_of_low_capacity(capsys, tmp_path: Path) -> None:
    src = tmp_path / "5Gdataset"
    (src / "Download" / "Driving").mkdir(parents=True)
    (src / "Netflix" / "Static").mkdir(parents=True)
    (src / "Download" / "Driving" / "B_1.csv").write_text(gnettrack(UCC5G_HEADER, STEPPED_BACK))
    # the uplink side of a video stream: 50 kbit/s, the level of the UCC production set's UL_bitrate
    (src / "Netflix" / "Static" / "B_2.csv").write_text(
        gnettrack(UCC5G_HEADER, [(s, "5G", "20000", "50") for s in range(6)]))
    dest = tmp_path / "imported"
    code, out, err = run_cli(["traces", "import", "ucc5g", str(src), str(dest)], capsys)
    assert code == 0, err
    assert out == f"wrote 2 trace file(s) and stats.csv to {dest}\n"
    assert err.splitlines() == [
        "warning: rows dropped, their time before an earlier row's: Download/Driving/B_1.csv (1)",
        "warning: low capacity: 1 of 2 trace(s) average below 1 Mbit/s, too slow for split inference (300 kB take "
        "> 2.4 s): Netflix__Static__B_2 0.05 Mbit/s"]
    import csv

    stats = {row["trace"]: row for row in csv.DictReader((dest / "stats.csv").open())}
    assert stats["Download__Driving__B_1"]["rows_dropped_backwards"] == "1"
    assert stats["Netflix__Static__B_2"]["rows_dropped_backwards"] == "0"
    assert float(stats["Download__Driving__B_1"]["mean_mbps"]) == pytest.approx(6.0)  # mean of 1..11
    code, _, err = run_cli(["traces", "import", "ucc5g", str(src), str(dest)], capsys)
    assert code == 0, err  # its own stats.csv, with the new column, is replaced
