"""How much slower a forward is when it runs once per frame instead of back to back (as profiles time it).

    HF_HUB_OFFLINE=1 PYTHONPATH=. python benchmarks/compute_after_idle.py [--model deit_tiny_distilled_patch16_224]
        [--gap-s 0.5] [--calls 12] [--rounds 2]

One process per core (pinned, one torch thread, like the testbed's workers) times the timm forward back to
back and with a sleep of ``--gap-s`` before every call, interleaved over rounds; prints the medians per
round and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def measure(core: int, model_name: str, gap_s: float, calls: int, rounds: int) -> None:
    os.sched_setaffinity(0, {core})
    import torch

    from simulator.emulation.split_exec import build_model

    torch.set_num_threads(1)
    model, image = build_model(model_name), torch.randn(1, 3, 224, 224)
    results: dict[float, list[float]] = {0.0: [], gap_s: []}
    with torch.inference_mode():
        for _ in range(3):
            model(image)
        for _ in range(rounds):
            for gap in (0.0, gap_s):
                times = []
                for _ in range(calls):
                    if gap:
                        time.sleep(gap)
                    start = time.perf_counter()
                    model(image)
                    times.append((time.perf_counter() - start) * 1e3)
                results[gap].append(statistics.median(times))
    shown = ", ".join(f"gap {g:g} s: {' / '.join(f'{v:.1f}' for v in vs)} ms" for g, vs in results.items())
    print(f"core {core}: {shown}; load average {os.getloadavg()[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="deit_tiny_distilled_patch16_224")
    parser.add_argument("--gap-s", type=float, default=0.5)
    parser.add_argument("--calls", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--core", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.core is not None:
        measure(args.core, args.model, args.gap_s, args.calls, args.rounds)
        return
    for core in sorted(os.sched_getaffinity(0)):
        subprocess.run([sys.executable, __file__, "--core", str(core), "--model", args.model, "--gap-s",
                        str(args.gap_s), "--calls", str(args.calls), "--rounds", str(args.rounds)], check=True)


if __name__ == "__main__":
    main()
