"""The cloud: a pool of GPUs behind one FIFO queue, with optional dynamic batching.

A GPU that falls idle takes the oldest waiting job, then, when ``max_batch`` > 1, gathers more jobs
until the batch is full or its window closes. Where the window starts is the ``window`` rule:

* ``first-job`` (TorchServe's ``max_batch_delay``): ``batch_timeout_s`` after the GPU took the first job, so a
  job that waited while every GPU was busy waits a whole window more once one frees;
* ``oldest-request`` (Triton's ``max_queue_delay_microseconds``): ``batch_timeout_s`` after the oldest job
  reached the queue, so no job is held back for company longer than that, and a job that already waited it
  leaves at once with whatever waits beside it.

One GPU gathers at a time while the others serve, as a serving frontend's batcher does: were every idle GPU
to gather its own, jobs arriving together would split into batches of one that each wait out the window,
slower with a second GPU than with one. A batch takes the longest member's batch-1 time scaled by the
profile's batch factor for the batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Literal

import simpy

BatchWindow = Literal["first-job", "oldest-request"]
"""Where a batch's gathering window starts: when the GPU takes its first job, or when that job was queued."""


@dataclass
class _Job:
    compute_s: float
    queued_at: float
    done: simpy.Event


class CloudPool:
    """GPUs serving one queue; ``run`` yields until a job is done and returns (queue_s, service_s)."""

    def __init__(self, env: simpy.Environment, gpus: int, max_batch: int, batch_timeout_s: float,
                 batch_factor: Callable[[int], float], window: BatchWindow = "first-job") -> None:
        self.env = env
        self.max_batch = max_batch
        self.batch_timeout_s = batch_timeout_s
        self.window = window
        self.batch_factor = batch_factor
        self._queue: simpy.Store = simpy.Store(env)
        self._gathering = simpy.Resource(env, capacity=1)  # the turn to gather a batch
        for _ in range(gpus):
            env.process(self._gpu())

    def run(self, compute_s: float) -> Generator[Any, Any, tuple[float, float]]:
        job = _Job(compute_s, self.env.now, self.env.event())
        yield self._queue.put(job)
        started, service = yield job.done
        return started - job.queued_at, service

    def _gpu(self) -> Generator[Any, Any, None]:
        env = self.env
        while True:
            turn = self._gathering.request()
            yield turn
            batch: list[_Job] = [(yield self._queue.get())]
            opened = batch[0].queued_at if self.window == "oldest-request" else env.now
            gather_until = opened + self.batch_timeout_s
            while len(batch) < self.max_batch:
                if self._queue.items:
                    batch.append((yield self._queue.get()))
                    continue
                remaining = gather_until - env.now
                if remaining <= 0:
                    break
                get = self._queue.get()
                outcome = yield get | env.timeout(remaining)
                if get in outcome:
                    batch.append(outcome[get])
                else:
                    get.cancel()
                    if get.triggered:  # an item arrived in the same instant: keep it, never lose it
                        batch.append(get.value)
                    break
            self._gathering.release(turn)
            started = env.now
            factor = self.batch_factor(len(batch)) if len(batch) > 1 else 1.0
            service = max(job.compute_s for job in batch) * factor
            yield env.timeout(service)
            for job in batch:
                job.done.succeed((started, service))
