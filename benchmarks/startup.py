"""Start-up of the command line: wall time and peak RSS of ``mercury-sim --help`` and of ``mercury-sim run`` on
a 10-request scenario (the shipped default scenario cut to 10 requests), with and without its report, each in
a fresh process.

    python benchmarks/startup.py [--repeats 7] [--before PATH]

``--before PATH`` also times another source tree (e.g. ``git archive <commit> | tar -x -C PATH``), the runs
of both trees interleaved so that a loaded host slows both alike. Prints median and range per command.
Where the time goes: ``python -X importtime -m simulator run SCENARIO -q 2> imports.txt``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def ten_request_scenario(folder: Path) -> Path:
    """The shipped default scenario with 10 requests instead of 300 s, its trace by absolute path."""
    data = yaml.safe_load((ROOT / "scenarios" / "default.yaml").read_text())
    data["workload"].pop("duration_s", None)
    data["workload"]["n_requests"] = 10
    data["network"]["trace"] = str(ROOT / "traces" / "synthetic" / "lte-all.csv")
    path = folder / "ten-requests.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def timed(tree: Path, args: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of ``python -m simulator ARGS`` with ``tree`` first on the
    path (CPU: the child's user + system time, steadier than wall time on a loaded host)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "simulator", *args], cwd=cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{tree}: mercury-sim {' '.join(args)} failed: {process.stderr.read().decode()[-500:]}")
    process.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--before", type=Path, help="another source tree to time alongside this one")
    options = parser.parse_args()
    trees = {"this tree": ROOT} | ({"before": options.before.resolve()} if options.before else {})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = ten_request_scenario(folder)
        commands = {"--help": ["--help"],
                    "run (10 requests)": ["run", str(scenario), "-q", "-o", str(folder / "out")],
                    "run --no-report": ["run", str(scenario), "-q", "--no-report", "-o", str(folder / "out")]}
        samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for _ in range(options.repeats):
            for command, args in commands.items():
                for label, tree in trees.items():
                    samples.setdefault((command, label), []).append(timed(tree, args, folder))
    print(f"{options.repeats} runs each, interleaved; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"{'command':<20} {'tree':<10} {'median s':>9} {'range s':>13} {'CPU s':>6} {'range':>11} "
          f"{'peak RSS MiB':>13}")
    samples = dict(sorted(samples.items(), key=lambda item: list(commands).index(item[0][0])))
    for (command, label), values in samples.items():
        walls, cpus = [w for w, _, _ in values], [c for _, c, _ in values]
        rss = statistics.median(r for _, _, r in values)
        print(f"{command:<20} {label:<10} {statistics.median(walls):>9.2f} "
              f"{min(walls):>6.2f}-{max(walls):<6.2f} {statistics.median(cpus):>6.2f} "
              f"{min(cpus):>5.2f}-{max(cpus):<5.2f} {rss:>13.0f}")


if __name__ == "__main__":
    main()
