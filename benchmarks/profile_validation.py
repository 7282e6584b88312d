"""Check a measured profile against real forwards on this host; print both prediction errors.

    python benchmarks/profile_validation.py --profile profiles/x86-2c-1t.yaml --threads 1 \
        [--model deit_base_distilled_patch16_224 ...] [--rounds 3] [--repeats 10] [--fresh]

For every model: predicted (profile) vs measured (timm) latency of the full forward and of Mercury's
pruned forward (50 % of the patch tokens pruned after block 1). Rounds alternate over the models so
background load on a shared host spreads over all of them; the median and range of the errors are printed.
``--fresh`` re-measures a profile (tokens 10,100,198) right before each check instead of using the file,
so both sides see the same background load: on a shared host that load moves latency by up to 2x within
minutes, which a stored profile cannot know about.
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True)
    parser.add_argument("--model", nargs="*", help="models to check [all in the profile]")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--fresh", action="store_true", help="re-measure the profile before each check")
    args = parser.parse_args()

    from simulator.inputs.profiles import load_profile
    from simulator.ml.forward_check import check_forwards
    from simulator.ml.profiler import set_threads

    stored = load_profile(args.profile)
    set_threads(args.threads)
    models = args.model or stored.models
    errors: dict[tuple[str, str], list[float]] = {}
    measured: dict[tuple[str, str], list[float]] = {}
    predicted: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for model in models:
            profile = fresh_profile(model, args.threads, args.repeats) if args.fresh else stored
            for kind, check in check_forwards(profile, model, repeats=args.repeats).items():
                errors.setdefault((model, kind), []).append(check.error)
                measured.setdefault((model, kind), []).append(check.measured_ms)
                predicted.setdefault((model, kind), []).append(check.predicted_ms)
    source = "fresh profile per check" if args.fresh else f"profile {args.profile}"
    print(f"{source}, threads {args.threads}, {args.rounds} rounds x {args.repeats} repeats, "
          f"load average now {os.getloadavg()[0]:.2f}")
    print(f"{'model':34s} {'forward':8s} {'predicted ms':>12s} {'measured ms':>12s} {'error %':>8s} "
          f"{'error range %':>16s}")
    for (model, kind), errs in errors.items():
        lo, hi = 100 * min(errs), 100 * max(errs)
        print(f"{model:34s} {kind:8s} {statistics.median(predicted[(model, kind)]):12.2f} "
              f"{statistics.median(measured[(model, kind)]):12.2f} {100 * statistics.median(errs):+8.1f} "
              f"{f'{lo:+.1f} .. {hi:+.1f}':>16s}")


def fresh_profile(model: str, threads: int | None, repeats: int):  # noqa: ANN201 (Profile, lazily imported)
    """Measure ``model`` now at the token counts the two forwards use."""
    from simulator.inputs.profiles import Profile, ProfileFile
    from simulator.ml.profiler import ProfilePlan, run_plan

    plan = ProfilePlan((model,), (10, 100, 198), (1,), repeats, 2, threads)
    return Profile(ProfileFile.model_validate(run_plan(plan, "fresh", quiet=True)))


if __name__ == "__main__":
    main()
