"""Evaluate a learned policy on held-out traces against the scenario's other schedules, over seeds.

    python scripts/evaluate_policy.py [--scenario scenarios/learned-policy.yaml] [--out reports/learned-policy-eval]

For each held-out trace, every schedule of the scenario except the oracle runs alone beside the oracle, under
one label ("chooser"), replicated over the scenario's seeds (``workload.seed: [..]``; each seed a random stretch
of the trace when ``network.start_offset_s: random``): ``mercury-sim run`` per schedule, then
``mercury-sim compare`` with the policy's run first, so each baseline's difference from the policy comes with a
95 % t interval paired by seed. Writes OUT/results.md (and results.json): per trace and schedule the mean, p95,
deadline-miss rate, top-1, mobile energy and distance to the oracle (mean of the per-request latency above the
oracle's), each as the mean over seeds with its interval, then the paired differences.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
HELD_OUT = ["traces/synthetic/5g-driving.csv", "traces/synthetic/lte-driving.csv"]
LABEL = "chooser"
COLUMNS = [("mean_ms", "mean ms", 1), ("p95_ms", "p95 ms", 1), ("deadline_miss_rate", "miss %", 100),
           ("mean_accuracy", "top-1 %", 1), ("mean_energy_j", "energy J", 1), ("oracle_gap_ms", "oracle gap ms", 1)]


def _absolute(entry: dict[str, Any], base: Path) -> dict[str, Any]:
    """A schedule entry whose data file is named by absolute path (the variant's YAML lives elsewhere)."""
    if entry.get("kind") == "policy":
        return {**entry, "file": str((base / entry["file"]).resolve())}
    return entry


def variants(scenario: Path, trace: str, folder: Path) -> dict[str, Path]:
    """One scenario file per schedule (oracle aside), each holding that schedule as LABEL and the oracle."""
    doc = yaml.safe_load(scenario.read_text())
    base = scenario.parent
    oracle = [e for e in doc["schedules"] if e["kind"] == "oracle"]
    if len(oracle) != 1:
        raise SystemExit(f"error: {scenario}: the evaluation needs exactly one oracle schedule")
    out = {}
    for entry in doc["schedules"]:
        if entry["kind"] == "oracle":
            continue
        name = entry.get("label", entry["kind"])
        variant = {**doc, "name": f"{doc['name']}-{Path(trace).stem}-{name}",
                   "network": {**doc["network"], "trace": _trace(trace)},
                   "schedules": [{**_absolute(entry, base), "label": LABEL}, oracle[0]]}
        path = folder / "scenarios" / f"{Path(trace).stem}-{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(variant, sort_keys=False))
        out[name] = path
    return out


def _trace(value: str) -> str:
    """A trace file by absolute path (the variants live elsewhere), or a shipped trace's name as given."""
    return str(Path(value).resolve()) if Path(value).is_file() else value


def _cli(args: list[str]) -> None:
    from simulator.cli.app import main

    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    if code:
        raise SystemExit(f"error: mercury-sim {' '.join(args)} exited {code}")


def _cell(entry: dict[str, Any], key: str, scale: float) -> str:
    value, ci = entry.get(key), entry.get(f"{key}_ci")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = f"{value * scale:.1f}"
    if ci and None not in ci and ci[1] > ci[0]:
        text += f" [{ci[0] * scale:.1f}, {ci[1] * scale:.1f}]"
    return text


def evaluate(scenario: Path, traces: list[str], out: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for trace in traces:
        stem = Path(trace).stem
        runs: dict[str, Path] = {}
        for name, path in variants(scenario, trace, out).items():
            runs[name] = out / stem / name
            _cli(["run", str(path), "-o", str(runs[name]), "-q", "--no-report"])
        summaries = {name: json.loads((folder / "summary.json").read_text())["schedules"]
                     for name, folder in runs.items()}
        first = next(iter(runs))  # the scenario's first schedule (the policy) is the baseline of the comparison
        compare_dir = out / stem / "compare"
        _cli(["compare", *map(str, runs.values()), "-o", str(compare_dir), "-q"])
        differences = json.loads((compare_dir / "compare.json").read_text())
        results[stem] = {"baseline": first, "summaries": {n: s[LABEL] for n, s in summaries.items()},
                         "oracle": next(iter(summaries.values()))["oracle"], "compare": differences}
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = []
    for stem, result in results.items():
        lines += [f"### {stem} (held out)", "", "| schedule | " + " | ".join(c[1] for c in COLUMNS) + " |",
                  "|---|" + "---:|" * len(COLUMNS)]
        rows = {**result["summaries"], "oracle": result["oracle"]}
        for name, entry in rows.items():
            lines.append(f"| {name} | " + " | ".join(_cell(entry, k, s) for k, _, s in COLUMNS) + " |")
        lines += ["", f"Paired differences, schedule minus {result['baseline']} (95 % t interval over seeds):", "",
                  "| schedule | statistic | difference | interval |", "|---|---|---:|---|"]
        prefix = result["compare"]["runs"][0]["name"].removesuffix(result["baseline"])
        for row in result["compare"]["differences"]:
            if row["schedule"] != LABEL:
                continue
            scale = 100 if row["statistic"] == "deadline_miss_rate" else 1
            low, high, difference = row.get("ci_low"), row.get("ci_high"), row.get("difference")
            interval = "n/a" if low is None else f"[{low * scale:.1f}, {high * scale:.1f}]"
            shown = "n/a" if difference is None else f"{difference * scale:.1f}"  # unknown on a side (top-1 NaN)
            lines.append(f"| {row['run'].removeprefix(prefix)} | {row['statistic']} | {shown} | {interval} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=REPO / "scenarios" / "learned-policy.yaml")
    parser.add_argument("--traces", nargs="+", default=[str(REPO / t) for t in HELD_OUT],
                        help="held-out trace files or shipped trace names (default: 5G and LTE driving)")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "learned-policy-eval")
    args = parser.parse_args(argv)
    results = evaluate(args.scenario, args.traces, args.out)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    text = markdown(results)
    (args.out / "results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
