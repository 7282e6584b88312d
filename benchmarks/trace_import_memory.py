"""Peak memory of importing a ~100 MB trace: the importers must stream, not load the file.

Writes a ~100 MB mahimahi file, a ~100 MB csv file and a ~100 MB log in the 26-column layout of the UCC 5G
set into a temporary folder, imports each in a fresh subprocess (so the peak RSS is that import's alone)
and prints the peak resident set size.

    cd /work/wt-traces && PYTHONPATH=. python benchmarks/trace_import_memory.py [--mb 100]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import resource, sys, time
from pathlib import Path
from simulator.traces.importers import import_traces
from simulator.traces.logs import import_log
from simulator.traces.presets import PRESETS
start = time.perf_counter()
if sys.argv[1] in PRESETS:
    preset = PRESETS[sys.argv[1]]
    import_log(Path(sys.argv[2]), Path(sys.argv[3]), preset.resolve(None, None), preset.provenance(None, None), None)
else:
    import_traces(sys.argv[1], sys.argv[2], sys.argv[3])
elapsed = time.perf_counter() - start
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, elapsed)
"""

BASELINE = ("import resource, simulator.traces.importers; "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")


def write_mahimahi(path: Path, target_bytes: int) -> None:
    """About 50 Mbit/s: 4 or 5 packets per millisecond, until the file reaches ``target_bytes``."""
    with path.open("w") as out:
        ms, size = 1, 0
        while size < target_bytes:
            block = "".join(f"{t}\n" * (4 + (t % 6 == 0)) for t in range(ms, ms + 10_000))
            out.write(block)
            size += len(block)
            ms += 10_000


def write_csv(path: Path, target_bytes: int) -> None:
    with path.open("w") as out:
        out.write("time_s,mbps\n")
        i, size = 0, 0
        while size < target_bytes:
            block = "".join(f"{(i + k) * 0.01:.2f},{30 + (i + k) % 17 * 1.5:.1f}\n" for k in range(100_000))
            out.write(block)
            size += len(block)
            i += 100_000


UCC5G_HEADER = ("Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,"
                "DL_bitrate,UL_bitrate,State,PINGAVG,PINGMIN,PINGMAX,PINGSTDEV,PINGLOSS,CELLHEX,NODEHEX,LACHEX,"
                "RAWCELLID,NRxRSRP,NRxRSRQ")


def write_ucc5g(path: Path, target_bytes: int) -> None:
    """One row per second in the UCC 5G layout (made-up values), every 50th second repeated and the next
    skipped, every 97th uplink value missing ('-')."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2020, 1, 1, tzinfo=UTC)
    with path.open("w") as out:
        out.write(UCC5G_HEADER + "\n")
        second, size = 0, 0
        while size < target_bytes:
            rows = []
            for k in range(second, second + 10_000):
                stamp = (start + timedelta(seconds=k - (k % 50 == 1))).strftime("%Y.%m.%d_%H.%M.%S")
                ul = "-" if k % 97 == 0 else str(2000 + k % 300)
                rows.append(f"{stamp},-8.4,51.9,0,A,12,5G,-90,-11,7.0,10,-70,30000,{ul},D,-,-,-,-,-,"
                            "1A,2B,3C,123456,-95,-12\n")
            block = "".join(rows)
            out.write(block)
            size += len(block)
            second += 10_000


def run(fmt: str, src: Path, dest: Path) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, fmt, str(src), str(dest)], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) / 1024, float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="input size in MB (default 100)")
    size = int(parser.parse_args().mb * 1e6)
    base = int(subprocess.run([sys.executable, "-c", BASELINE], check=True, capture_output=True,
                              text=True).stdout) / 1024
    print(f"baseline (python + numpy + importers imported): peak RSS {base:.0f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for fmt, writer, name in (("mahimahi", write_mahimahi, "big.up"), ("csv", write_csv, "big.csv"),
                                  ("ucc5g", write_ucc5g, "ucc5g.csv")):
            src = folder / name
            t0 = time.perf_counter()
            writer(src, size)
            made = time.perf_counter() - t0
            rss, secs = run(fmt, src, folder / f"{name}.out.csv")
            print(f"{fmt:9s} input {src.stat().st_size / 1e6:6.1f} MB (generated in {made:.1f} s): "
                  f"import {secs:5.1f} s, peak RSS {rss:.0f} MiB ({rss - base:+.0f} MiB over baseline)")


if __name__ == "__main__":
    main()
