"""One testbed per host: a second emulation would share the cores and the workers' real-time priority.

Two testbeds at once each pin their workers to the same cores at real-time priority, so each one's
computes and network threads wait for the other's (seconds-long stalls in both runs' records). The
orchestrator therefore holds an exclusive ``flock`` on one lock file for the whole emulation (a second one
waits for it, bounded); the kernel releases it when the process ends, however it ends, so a killed run never
leaves it held.
"""

from __future__ import annotations

import fcntl
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from simulator.errors import InputError

LOCK_NAME = "mercury-sim-emulation.lock"


def tell_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def lock_path() -> Path:
    run_lock = Path("/run/lock")
    return (run_lock if run_lock.is_dir() and os.access(run_lock, os.W_OK) else Path(tempfile.gettempdir())) / LOCK_NAME


_depth = 0  # this process's nesting of the block: the outermost one holds the lock (validate: profile + emulation)
WAIT_S = 1800.0  # a second emulation waits this long for the first (two validation runs and more) at most
POLL_S = 0.5


@contextmanager
def exclusive_testbed(path: Path | None = None, *, wait_s: float = WAIT_S,
                      on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the host's testbed lock for the block: wait (``wait_s`` at most, telling ``on_wait`` once) while
    another emulation holds it, then one line (exit 2) naming the run that holds it. Re-entrant within a
    process: ``validate --fresh`` holds it from the profile (pinned at real-time priority too) to the end
    of the emulation, so no other run takes the cores in between."""
    global _depth
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    path = path or lock_path()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline, told = time.monotonic() + wait_s, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                if time.monotonic() >= deadline:
                    raise InputError(None, f"another mercury-sim emulation is running on this host (pid {holder}, "
                                           f"lock {path}) and did not end within {wait_s:g} s: two testbeds would "
                                           "share the cores and spoil both measurements") from None
                if on_wait is not None and not told:
                    on_wait(f"waiting for another mercury-sim emulation on this host to end (pid {holder}; two "
                            f"at once would share the cores), at most {wait_s:g} s")
                    told = True
                time.sleep(POLL_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _depth = 1
        try:
            yield
        finally:
            _depth = 0
    finally:
        os.close(fd)  # closing releases the lock
