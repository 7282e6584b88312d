"""Peak memory of importing a ~100 MB trace: the importers must stream, not load the file.

Writes a ~100 MB mahimahi file and a ~100 MB csv file into a temporary folder, imports each in a fresh
subprocess (so the peak RSS is that import's alone) and prints the peak resident set size.

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
from simulator.traces.importers import import_traces
start = time.perf_counter()
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
        for fmt, writer, name in (("mahimahi", write_mahimahi, "big.up"), ("csv", write_csv, "big.csv")):
            src = folder / name
            t0 = time.perf_counter()
            writer(src, size)
            made = time.perf_counter() - t0
            rss, secs = run(fmt, src, folder / f"{name}.out.csv")
            print(f"{fmt:9s} input {src.stat().st_size / 1e6:6.1f} MB (generated in {made:.1f} s): "
                  f"import {secs:5.1f} s, peak RSS {rss:.0f} MiB ({rss - base:+.0f} MiB over baseline)")


if __name__ == "__main__":
    main()
