"""Run one function over many inputs: in this process, in local worker processes, or on a Dask cluster.

Results always come back in input order, whatever order the workers finish in, so what a caller builds
from them does not depend on the executor. ``on_result(index, result)`` is called once per finished item,
as it finishes, in the calling process (a progress bar; a sweep saves each point there, so an interrupted
sweep keeps what it computed).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from simulator.errors import InputError

T = TypeVar("T")
Done = Callable[[int, Any], None]


def default_workers() -> int:
    """Worker processes when the user names none: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def map_local(fn: Callable[..., T], items: Sequence[tuple], workers: int, on_result: Done | None = None) -> list[T]:
    """``fn(*item)`` for every item; ``workers`` > 1 runs them in that many fresh processes.

    Workers start through a fork server (spawn where there is none): forking the caller directly could copy
    a lock held by one of its threads (a progress bar's refresher) into the child. An exception or interrupt
    in the caller (Ctrl-C, ``kill``) stops the pool (:func:`stop_pool`) before it propagates.
    """
    if workers <= 1 or len(items) <= 1:
        results = []
        for index, item in enumerate(items):
            results.append(fn(*item))
            if on_result:
                on_result(index, results[-1])
        return results
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ordered: list[Any] = [None] * len(items)
    pool = ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=multiprocessing.get_context(method),
                               initializer=_leave_interrupts_to_the_caller)
    try:
        futures = {pool.submit(fn, *item): index for index, item in enumerate(items)}
        for future in as_completed(futures):
            index = futures[future]
            ordered[index] = future.result()
            if on_result:
                on_result(index, ordered[index])
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()
    return ordered


def _leave_interrupts_to_the_caller() -> None:
    """A worker ignores Ctrl-C (the terminal sends it to the whole process group): the caller stops it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop at once: queued items cancelled, running workers terminated, every process and thread joined, so
    the pool's semaphores and temporary folder are released before the caller exits (a pool abandoned at exit
    leaves ``/tmp/pymp-*`` and a "leaked semaphore" warning)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):  # no public way before 3.14
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)  # the pool sees its workers gone and winds down


def map_dask(fn: Callable[..., T], items: Sequence[tuple], address: str, workers: int | None = None,
             on_result: Done | None = None) -> list[T]:
    """``fn(*item)`` for every item on the Dask scheduler at ``address``; ``local`` starts a local cluster.

    The workers need mercury-sim installed and the scenario's files at the same paths (a shared file
    system), as every Dask worker does for its inputs.
    """
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(None, "needs the Dask extra: pip install 'mercury-sim[dask]'", "--dask") from None
    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                               dashboard_address=None)
    try:
        client = Client(cluster if cluster is not None else address, timeout=30)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(None, f"cannot reach the Dask scheduler at {address!r}: {exc}", "--dask") from None
    try:
        columns = list(zip(*items, strict=True)) if items else []
        futures = client.map(fn, *columns, pure=False) if items else []
        indices = {future.key: index for index, future in enumerate(futures)}
        for future in dask_completed(futures):
            if on_result:
                on_result(indices[future.key], future.result())
        return client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
