"""Mutation testing of the core modules with mutmut: run it, then score it per module.

    python benchmarks/mutation.py                  # every 4th mutant of every core module (~20 min, 2 cores)
    python benchmarks/mutation.py --every 1        # all of them (~2 h on 2 cores)
    python benchmarks/mutation.py uplink cloud     # a subset: mutants whose dotted name contains a word
    python benchmarks/mutation.py --score-only     # re-score the last run without running
    python benchmarks/mutation.py --recheck        # after adding tests: run again what the last run left alive

mutmut mutates the modules listed under ``only_mutate`` in pyproject.toml ([tool.mutmut]), copies the tree
to ``mutants/`` and runs, for each mutant, the tests that reach the mutated function (from
``pytest_add_cli_args_test_selection``). The sample is deterministic: every n-th mutant of each module in
mutmut's own order. The score is killed / (checked - judged equivalent); survivors judged equivalent are
listed with their reason in ``benchmarks/mutation_equivalent.txt`` (``mutant-name  reason`` per line).
Every other survivor is printed: a missing test, or an equivalent mutant to add to that file with its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = Path(__file__).with_name("mutation_equivalent.txt")


def equivalent_mutants() -> dict[str, str]:
    """Survivors judged equivalent: name -> reason."""
    found: dict[str, str] = {}
    for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.strip().partition(" ")
            found[name] = reason.strip()
    return found


def mutmut_env() -> dict[str, str]:
    """mutmut puts mutants/ first on sys.path; a PYTHONPATH naming the checkout would shadow it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["HF_HUB_OFFLINE"] = "1"
    env["OMP_NUM_THREADS"] = "1"  # one torch thread per worker: two workers share the cores, and no pool to fork
    return env


def generated_mutants() -> list[str]:
    """Names of every generated mutant, in mutmut's order, from the meta files under mutants/."""
    names: list[str] = []
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        names.extend(json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}))
    return names


def sample(names: list[str], words: list[str], every: int) -> list[str]:
    """Every ``every``-th mutant of each module whose name contains one of ``words`` (all without words)."""
    by_module: dict[str, list[str]] = defaultdict(list)
    for name in names:
        if not words or any(w in name for w in words):
            by_module[module_of(name)].append(name)
    return [name for group in by_module.values() for name in group[::every]]


def run_mutmut(names: list[str], children: int, quiet: bool = False) -> None:
    output = subprocess.DEVNULL if quiet else None
    subprocess.run(["mutmut", "run", "--max-children", str(children), *names], cwd=ROOT, env=mutmut_env(),
                   check=False, stdout=output, stderr=output)


def results() -> dict[str, str]:
    """Every mutant of the last run and its status (killed, survived, timeout, no tests, ...)."""
    out = subprocess.run(["mutmut", "results", "--all", "true"], cwd=ROOT, env=mutmut_env(), capture_output=True,
                         text=True, check=True).stdout
    statuses = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            statuses[name] = status
    return statuses


def module_of(mutant: str) -> str:
    """'simulator.model.cloud.xǁCloudPoolǁ_gpu__mutmut_3' and 'simulator.inputs.vit.x_janus_deltas__mutmut_1'
    -> the module."""
    match = re.match(r"^(.*?)\.x[ǁ_]", mutant)
    return match.group(1) if match else mutant


def score(statuses: dict[str, str], chosen_names: list[str]) -> int:
    equivalent = equivalent_mutants()
    chosen = {k: statuses.get(k, "not checked") for k in chosen_names}
    if not chosen:
        print("no mutation results: run without --score-only first")
        return 2
    per_module: dict[str, Counter] = defaultdict(Counter)
    unexplained = []
    for name, status in sorted(chosen.items()):
        module = module_of(name)
        if status == "killed" or status == "timeout":  # a mutant that hangs the engine is caught too
            per_module[module]["killed"] += 1
        elif name in equivalent:
            per_module[module]["equivalent"] += 1
        elif status == "not checked":
            per_module[module]["not checked"] += 1
        else:
            per_module[module]["alive"] += 1
            unexplained.append((name, status))
    print(f"{'module':42} {'mutants':>8} {'killed':>7} {'equiv.':>7} {'alive':>6} {'score':>7}")
    totals: Counter = Counter()
    for module, c in sorted(per_module.items()):
        total = sum(c.values())
        totals.update(c)
        totals["total"] += total
        print(f"{module:42} {total:8d} {c['killed']:7d} {c['equivalent']:7d} {c['alive']:6d} "
              f"{_pct(c['killed'], total - c['equivalent'] - c['not checked']):>7}")
    checked = totals["total"] - totals["equivalent"] - totals["not checked"]
    print(f"{'all':42} {totals['total']:8d} {totals['killed']:7d} {totals['equivalent']:7d} {totals['alive']:6d} "
          f"{_pct(totals['killed'], checked):>7}")
    if totals["not checked"]:
        print(f"{totals['not checked']} mutants not checked (the run was interrupted)")
    for name, status in unexplained:
        print(f"  {status:10} {name}   (mutmut show {name})")
    return 0


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="only mutants whose name contains one of these words")
    parser.add_argument("-j", "--children", type=int, default=os.cpu_count() or 2, help="parallel test runs")
    parser.add_argument("--every", type=int, default=4, help="run every n-th mutant of each module (1: all)")
    parser.add_argument("--score-only", action="store_true", help="score the last run without running")
    parser.add_argument("--recheck", action="store_true",
                        help="run again only the sampled mutants the last run did not kill (after adding tests)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if not args.score_only:
        print("generating mutants and mapping tests to functions ...", flush=True)
        run_mutmut(["simulator.no-such-module*"], args.children, quiet=True)  # matches no mutant: runs none
    chosen = sample(generated_mutants(), args.modules, args.every)
    if args.recheck:
        last = results()
        chosen_run = [name for name in chosen if last.get(name) != "killed"]
    else:
        chosen_run = chosen
    if not args.score_only:
        run_mutmut(chosen_run, args.children)
        print(f"{len(chosen_run)} mutants in {(time.perf_counter() - start) / 60:.1f} min, "
              f"{args.children} parallel test runs")
    return score(results(), chosen)


if __name__ == "__main__":
    sys.exit(main())
