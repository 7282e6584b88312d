"""Measure one denoising step of a Stable Diffusion v1 UNet on this host and write a diffusion profile.

The UNet is built by diffusers from the published Stable Diffusion v1 UNet configuration
(``CompVis/stable-diffusion-v1-4``, ``unet/config.json``; the values are written out below and in the
file) with random weights: a step's latency does not depend on the weights. One step = one UNet forward
on ``batch`` latents with a 77-token CLIP ViT-L/14 text context (768 wide). The scheduler update (a few
element-wise operations on the latent) and the text encoder are not timed.

Usage (needs the ``diffusion`` extra: ``pip install -e .[diffusion]``)::

    python scripts/diffusion_step_profile.py --threads 1 --batch 1,2,4 --repeats 3 --warmup 1 \\
        --name sd-v1-unet-x86-1t --out profiles/diffusion/sd-v1-unet-x86-1t.yaml

The output follows ``format: mercury-sim-diffusion-profile/1`` (simulator/inputs/diffusion_profile.py), written
atomically, with the command, host, date, library versions and load average in ``provenance``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

import yaml

from simulator.files.atomic import atomic_write_text
from simulator.inputs.diffusion_profile import latent_bytes
from simulator.ml.profiler import cpu_model
from simulator.ml.timing import time_cases

# Stable Diffusion v1 UNet (CompVis/stable-diffusion-v1-4, unet/config.json): 859.5 M parameters.
SD_V1_UNET = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 2,
    "block_out_channels": [320, 640, 1280, 1280],
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
    "act_fn": "silu",
}
TEXT_TOKENS = 77  # CLIP ViT-L/14 context length used by Stable Diffusion v1
VAE_DOWNSCALE = 8  # image side / latent side


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", default="1,2,4", help="comma list of UNet batch sizes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--tier", default="device", choices=["device", "cloud"])
    parser.add_argument("--name", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import diffusers
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batches = sorted({int(b) for b in args.batch.split(",")})
    unet = diffusers.UNet2DConditionModel(**SD_V1_UNET).eval().to(args.device)
    params = sum(p.numel() for p in unet.parameters())
    side = SD_V1_UNET["sample_size"]
    channels = SD_V1_UNET["out_channels"]
    inputs = {b: (torch.randn(b, channels, side, side, device=args.device),
                  torch.randn(b, TEXT_TOKENS, SD_V1_UNET["cross_attention_dim"], device=args.device)) for b in batches}
    cases = {b: (lambda b=b: unet(inputs[b][0], 500, encoder_hidden_states=inputs[b][1])) for b in batches}
    load_before = os.getloadavg()[0]
    started = dt.datetime.now(dt.UTC)
    timings = time_cases(cases, repeats=args.repeats, warmup=args.warmup, device=args.device)
    for b in batches:  # on the console first: a long measurement is never lost to a failed write
        print(f"batch {b}: median {timings[b].median_ms:.1f} ms, IQR {timings[b].iqr_ms:.1f}, "
              f"samples {[round(s, 1) for s in timings[b].samples_ms]}", flush=True)
    document = {
        "format": "mercury-sim-diffusion-profile/1",
        "name": args.name,
        "tier": args.tier,
        "device": (torch.cuda.get_device_name() if args.device.startswith("cuda") else
                   f"{cpu_model()}, {args.threads} torch thread(s), {os.cpu_count()} cores (proxy for a device)"),
        "model": {
            "name": "Stable Diffusion v1 UNet",
            "source": "CompVis/stable-diffusion-v1-4 unet/config.json (published configuration; random weights)",
            "config": SD_V1_UNET,
            "parameters": params,
            "text_context": [TEXT_TOKENS, SD_V1_UNET["cross_attention_dim"]],
            "image_side_px": side * VAE_DOWNSCALE,
        },
        "latent": {"channels": channels, "height": side, "width": side, "precision": "fp32",
                   "bytes": latent_bytes(channels, side, side, "fp32")},
        "step_ms": {
            "batch": batches,
            "ms": [round(timings[b].median_ms, 1) for b in batches],
            "spread_ms": [round(timings[b].iqr_ms, 1) for b in batches],
        },
        "provenance": {
            "kind": "measured",
            "what": "one UNet forward (one denoising step without classifier-free guidance) on `batch` latents; "
                    "classifier-free guidance runs the UNet on 2 latents per prompt",
            "method": "simulator.ml.timing.time_cases: warm-up, interleaved rounds, each case twice per round "
                      "keeping the faster; median over rounds, spread = IQR",
            "repeats": args.repeats,
            "warmup": args.warmup,
            "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
            "date": started.strftime("%Y-%m-%d"),
            "host": {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": args.threads,
                     "python": platform.python_version(), "torch": str(torch.__version__),
                     "diffusers": str(diffusers.__version__),
                     "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)]},
        },
    }
    atomic_write_text(args.out, yaml.safe_dump(document, sort_keys=False, width=110))
    print(f"wrote {args.out}: " + ", ".join(f"batch {b}: {timings[b].median_ms:.0f} ms" for b in batches))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
