"""The split plan shared by the ToMe-based schedules (OTAS, Janus): merging in every block on both sides."""

from __future__ import annotations

from simulator.inputs.vit import tome_tokens
from simulator.plans.plan import Plan, Stage, block_stages
from simulator.schedules.base import ScheduleInputs


def tome_split_plan(inputs: ScheduleInputs, merges: list[int], split_after: int, parameter: float,
                    accuracy: float) -> Plan:
    """Blocks 1..s on the device, merged tokens (with their ToMe sizes) uploaded, the rest in the cloud.

    ``split_after`` = 0 uploads the image (cloud-only); ``split_after`` = depth runs everything locally.
    """
    spec = inputs.spec
    blocks = tome_tokens(spec, merges)
    n0 = spec.num_tokens
    embed, head = Stage("embed", n0, n0), Stage("head", blocks[-1][1], blocks[-1][1])
    mobile_blocks = block_stages(blocks[:split_after], merge_step=True)
    cloud_blocks = block_stages(blocks[split_after:], merge_step=True)
    if split_after >= spec.depth:
        return Plan(spec.depth, parameter, (embed, *mobile_blocks, head), 0, (), accuracy)
    if split_after == 0:
        raise ValueError("split 0 (image upload) is planned by the caller, which knows the image size")
    sent = blocks[split_after - 1][1]
    payload = spec.payload_bytes(sent, inputs.precision, with_sizes=True)
    return Plan(split_after, parameter, (embed, *mobile_blocks), payload, (*cloud_blocks, head), accuracy, sent)
