"""How a command ends when its reader or its user stops it: a closed pipe, a signal.

A closed pipe on stdout or stderr (``mercury-sim run ... | head -1``) ends the output, not the work. Python
ignores SIGPIPE, so a write after the reader has gone raises BrokenPipeError wherever it happens: a
table, a progress bar, the flush at exit ("Exception ignored ... BrokenPipeError"). What was written to disk
matters more than lines nobody reads, so the first such write points the stream's descriptor at /dev/null
and the command carries on: its output folder is finished, and it exits with its own code, saying nothing
about the pipe. A closed pipe seen elsewhere (a write to ``sys.stdout.buffer``) is recognised by
:func:`silence_closed_pipes`.

A signal (Ctrl-C, ``kill``) inside :func:`interrupt_on_signals` is a KeyboardInterrupt, so the cleanup of
every ``finally`` and context manager runs; a command that keeps something of the interrupted work says
what, in one line, through :class:`Stopped`.

It sits beside :mod:`simulator.errors`, below every layer, because not only the CLI stops on a signal: a sweep
(:mod:`simulator.studies.sweep`) says which points it kept, and the emulated testbed tears itself down.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO


def _to_devnull(fd: int) -> None:
    """Later writes to ``fd`` (and the flush at exit) succeed and go nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _closed_pipe(fd: int) -> bool:
    """Whether ``fd`` is a pipe or socket whose reader has gone (poll reports an error or a hang-up)."""
    try:
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


class _QuietOnClosedPipe:
    """A text stream whose writes and flushes, once its pipe is closed, go to /dev/null without a word."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def _silence(self) -> None:
        with suppress(OSError, ValueError):  # no descriptor: nothing left to point elsewhere
            _to_devnull(self._stream.fileno())

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()
            with suppress(OSError):  # what the buffer held goes to /dev/null: the flush at exit has nothing left
                self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, buffer ...: the stream's own
        return getattr(self._stream, name)


@contextmanager
def quiet_on_closed_pipes() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` wrapped for the block (and flushed at its end, while wrapped)."""
    saved = sys.stdout, sys.stderr
    sys.stdout = _guarded(sys.stdout)  # type: ignore[assignment]
    sys.stderr = _guarded(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                with suppress(OSError, ValueError):  # a stream the command closed: nothing to flush
                    stream.flush()
        sys.stdout, sys.stderr = saved


def _guarded(stream: TextIO | None) -> Any:
    return stream if stream is None or isinstance(stream, _QuietOnClosedPipe) else _QuietOnClosedPipe(stream)


def silence_closed_pipes() -> bool:
    """Point stdout and stderr at /dev/null where their reader has gone; whether either had (a BrokenPipeError
    that reached the top was then theirs, and the command ends quietly)."""
    closed = [fd for fd in (1, 2) if _closed_pipe(fd)]
    for fd in closed:
        _to_devnull(fd)
    return bool(closed)


class Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised as Ctrl-C is, with the signal's conventional exit code (128 + its number)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """The exit code of an interrupted command: 130 for Ctrl-C (SIGINT), 128 + the signal's number for others."""
    return interrupt.exit_code if isinstance(interrupt, Signalled) else 128 + signal.SIGINT


class Stopped(Exception):
    """An interrupted command's last word (what it kept, how to go on) and its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP (``kill``, a closed terminal) raise :class:`Signalled` in the block, so it ends
    through its cleanup rather than leaving what it made behind. Main thread only (where Python delivers
    signals); elsewhere the block runs unchanged. A process forked from this one meanwhile (pyroute2 forks a
    helper to open a socket in a namespace, and ends it with SIGTERM) dies of the signal as it would have
    without the handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def interrupt(signum: int, frame: Any) -> None:
        if os.getpid() != owner:  # a forked child: the default action
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Signalled(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
