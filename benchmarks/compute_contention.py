"""Why the testbed's compute is slower than the profile: neighbours, idle gaps, explicit attention.

    sudo HF_HUB_OFFLINE=1 PYTHONPATH=. python benchmarks/compute_contention.py [--rounds 2] [--reps 6]
        [--gap-s 0.5] [--core 0]
    HF_HUB_OFFLINE=1 PYTHONPATH=. python benchmarks/compute_contention.py --other-core [--rounds 6]

Times, in one process pinned to one core with one torch thread (the testbed's worker setting), every
compute of the validation scenarios (each schedule's mobile and cloud part, as the testbed's
``SplitExecutor`` runs it) plus a whole DeiT-Ti forward as timm runs it (fused attention) and with the
explicit attention the reduction methods need. Each case is timed right after another call (back to
back, as profiles time) and after a ``--gap-s`` sleep (as a periodic workload meets it), in wall time and
in the thread's CPU time: wall minus CPU is time the core spent on other processes. Rounds alternate a
process at normal priority and one at the workers' real-time priority (SCHED_FIFO; needs root), so both
see the same background load. Prints per case the median over rounds (range) and the load average.

``--other-core`` instead asks whether the two cores share a physical core (SMT siblings, as a VM's vCPUs
may): a fused forward on ``--core`` timed while the other core idles, spins in a busy loop, or runs the
same forward in a loop (as the testbed's mobile and cloud workers overlap), states interleaved per round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
MODEL = "deit_tiny_distilled_patch16_224"
JOBS = {
    "mobile-only": {"where": "mobile", "method": "none", "split_after": 12, "parameter": 0.0},
    "cloud-only": {"where": "cloud", "image_bytes": 500_000},
    "otas": {"where": "split", "method": "tome", "split_after": 3, "parameter": 8.0},
    "janus": {"where": "split", "method": "janus", "split_after": 3, "parameter": 0.6},
    "mercury": {"where": "split", "method": "mercury", "split_after": 3, "parameter": 0.5, "window": 2,
                "prune_point": "after_block1", "reconstruction": "learned"},
}


def cases() -> dict[str, object]:
    """Zero-argument callables: each schedule's computes, and a whole forward fused vs explicit."""
    import torch

    from simulator.emulation.split_exec import SplitExecutor
    from simulator.ml.attention import block_forward

    executor = SplitExecutor(MODEL, "fp32")
    model, image = executor.model, executor.image
    out: dict[str, object] = {}
    for name, job in JOBS.items():
        if job["where"] != "cloud":
            out[f"{name} mobile"] = lambda job=job: executor.mobile(job)
        if job["where"] != "mobile":
            upload = executor.mobile(job) if job["where"] == "split" else None
            header, payload = (upload.header, upload.payload) if upload else ({}, b"")
            out[f"{name} cloud"] = lambda job=job, h=header, p=payload: executor.cloud(job, h, p)

    def explicit() -> None:
        x = model.norm_pre(model.patch_drop(model._pos_embed(model.patch_embed(image))))
        for block in model.blocks:
            x = block_forward(block, x)[0]
        model.forward_head(model.norm(x))

    out["forward, timm (fused attention)"] = lambda: model(image)
    out["forward, explicit attention"] = explicit
    torch.set_grad_enabled(False)
    return out


def child(core: int, realtime: bool, reps: int, gap_s: float) -> None:
    """One measuring process: every case back to back and after a sleep, interleaved; JSON on stdout."""
    os.sched_setaffinity(0, {core})
    import torch

    torch.set_num_threads(1)
    timed = cases()
    at_realtime = False
    if realtime:
        from simulator.emulation.shaper import realtime as set_realtime
        from simulator.emulation.workers import WORKER_PRIORITY

        at_realtime = set_realtime(WORKER_PRIORITY)
    samples: dict[str, dict[str, list[float]]] = {}
    with torch.inference_mode():
        for fn in timed.values():
            for _ in range(3):
                fn()
        for _ in range(reps):
            for name, fn in timed.items():
                for mode in ("back to back", "after idle"):
                    if mode == "after idle":
                        time.sleep(gap_s)
                    else:
                        fn()
                    wall, cpu = time.perf_counter(), time.thread_time()
                    fn()
                    cell = samples.setdefault(f"{name} | {mode}", {"wall": [], "cpu": []})
                    cell["wall"].append((time.perf_counter() - wall) * 1e3)
                    cell["cpu"].append((time.thread_time() - cpu) * 1e3)
    print(json.dumps({"realtime": at_realtime, "load": os.getloadavg()[0],
                      "median": {k: {m: statistics.median(v) for m, v in c.items()} for k, c in samples.items()}}))


_SPIN = "import os\nos.sched_setaffinity(0, {CORE})\nwhile True:\n    pass\n"
_FORWARD = ("import os\nos.sched_setaffinity(0, {CORE})\nimport timm, torch\ntorch.set_num_threads(1)\n"
            f"m = timm.create_model('{MODEL}', pretrained=False).eval()\nx = torch.randn(1, 3, 224, 224)\n"
            "with torch.inference_mode():\n    while True:\n        m(x)\n")


def other_core(core: int, rounds: int, calls: int = 15) -> None:
    """A forward on ``core`` (at real-time priority where allowed) with the other core idle, spinning, or running
    forwards (at normal priority); medians per round."""
    import timm
    import torch

    other = next(c for c in sorted(os.sched_getaffinity(0)) if c != core)
    os.sched_setaffinity(0, {core})
    torch.set_num_threads(1)
    model, image = timm.create_model(MODEL, pretrained=False).eval(), torch.randn(1, 3, 224, 224)
    from simulator.emulation.shaper import realtime
    from simulator.emulation.workers import WORKER_PRIORITY

    at_realtime = realtime(WORKER_PRIORITY)  # so the neighbours cannot take this core (root only)
    medians: dict[str, list[float]] = {"idle": [], "busy loop": [], "forward loop": []}
    with torch.inference_mode():
        for _ in range(5):
            model(image)
        for _ in range(rounds):
            for state, values in medians.items():
                load = None
                if state != "idle":
                    code = (_SPIN if state == "busy loop" else _FORWARD).replace("CORE", str(other))
                    load = subprocess.Popen([sys.executable, "-c", code])
                    time.sleep(0.5 if state == "busy loop" else 6.0)  # the forward loop loads its model first
                times = []
                for _ in range(calls):
                    start = time.perf_counter()
                    model(image)
                    times.append((time.perf_counter() - start) * 1e3)
                if load is not None:
                    load.kill()
                    load.wait()
                values.append(statistics.median(times))
    print(f"forward on core {core} (real-time priority: {at_realtime}; ms, median of {calls} calls per round, "
          f"median over {rounds} rounds (range); load average {os.getloadavg()[0]:.2f} at the end), core {other}:")
    for state, values in medians.items():
        print(f"  {state:13s} {statistics.median(values):6.1f} ({min(values):.1f}..{max(values):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reps", type=int, default=6)
    parser.add_argument("--gap-s", type=float, default=0.5)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--other-core", action="store_true", help="the shared-core (SMT) test instead")
    parser.add_argument("--child", choices=("normal", "realtime"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.other_core:
        other_core(args.core, max(args.rounds, 4))
        return
    if args.child:
        child(args.core, args.child == "realtime", args.reps, args.gap_s)
        return
    runs: dict[str, list[dict]] = {"normal": [], "realtime": []}
    for _ in range(args.rounds):
        for priority in runs:
            out = subprocess.run([sys.executable, __file__, "--child", priority, "--core", str(args.core),
                                  "--reps", str(args.reps), "--gap-s", str(args.gap_s)],
                                 capture_output=True, text=True, check=True)
            runs[priority].append(json.loads(out.stdout))
    for priority, results in runs.items():
        loads = ", ".join(f"{r['load']:.2f}" for r in results)
        print(f"\n{priority} priority (real-time granted: {all(r['realtime'] for r in results)}; "
              f"load average {loads}); ms, median over {args.reps} calls, median over rounds (range)")
        print(f"  {'case':44s} {'wall':>20s} {'thread CPU':>20s}")
        for key in results[0]["median"]:
            cells = []
            for clock in ("wall", "cpu"):
                values = [r["median"][key][clock] for r in results]
                cells.append(f"{statistics.median(values):6.1f} ({min(values):.1f}..{max(values):.1f})")
            print(f"  {key:44s} {cells[0]:>20s} {cells[1]:>20s}")


if __name__ == "__main__":
    main()
