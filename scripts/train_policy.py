"""Train a PPO policy on mercury-sim/Offload-v0 and write it as a policy file (kind: policy).

    python scripts/train_policy.py --steps 2000000 --max-minutes 20 --out policies/ppo-offload.json

Trains on the training traces only (default: the 5G and LTE static, walking and 'all' traces); the driving
traces are held out for scripts/evaluate_policy.py. Writes OUT.json + OUT.safetensors (the policy file),
OUT.zip (the stable-baselines3 model) and OUT.contract.json (what 'mercury-sim policy export' needs).
Needs the rl extra (stable-baselines3, Gymnasium, PyTorch).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRAINING = [f"traces/synthetic/{name}.csv" for name in
            ("5g-all", "5g-static", "5g-walking", "lte-all", "lte-static", "lte-walking")]
HELD_OUT = ["traces/synthetic/5g-driving.csv", "traces/synthetic/lte-driving.csv"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=REPO / "scenarios" / "learned-policy.yaml")
    parser.add_argument("--traces", nargs="+", default=[str(REPO / t) for t in TRAINING])
    parser.add_argument("--held-out", nargs="*", default=[str(REPO / t) for t in HELD_OUT],
                        help="recorded in the provenance (never trained on)")
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--max-minutes", type=float, default=None, help="stop at the first step past this")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-requests", type=int, default=200, help="requests per episode")
    parser.add_argument("--n-steps", type=int, default=2048, help="environment steps per PPO update")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--out", type=Path, default=REPO / "policies" / "ppo-offload.json")
    args = parser.parse_args(argv)
    from simulator.errors import InputError
    from simulator.rl.train import Training, train

    overlap = {Path(t).resolve() for t in args.traces} & {Path(t).resolve() for t in args.held_out}
    if overlap:
        print(f"error: a trace is both trained on and held out: {sorted(map(str, overlap))[0]}", file=sys.stderr)
        return 2
    config = Training(args.steps, args.seed, args.n_requests, args.max_minutes, args.n_steps, args.batch_size)
    try:
        out = train(args.scenario, args.traces, args.out, config, held_out=args.held_out,
                    command=["python", "scripts/train_policy.py", *(argv if argv is not None else sys.argv[1:])],
                    log=sys.stdout)
    except InputError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
