"""History files read side by side: several big ones each in a forked process.

A month of ``sar`` beside a month of ``atop -P`` is two independent reads (each file's samples,
warnings and format depend on that file and the windows only), so with more than one core each
file goes to a process of its own, forked so that it inherits everything already loaded (the
inputs, the windows, the readers) and sends back only what it kept: the samples in the windows,
its warnings and what it told the user. :func:`oomsleuth.load.history.load_history` merges them
in the order of the files, exactly as it merges its own one-by-one reads. Small inputs, one
file, one core, or a platform without ``fork`` read in this process (forking costs more), as
does a process that may not fork safely: a daemonic one (a Dask worker) or one running other
threads. ``OOMSLEUTH_NO_FORK=1`` forces that.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from oomsleuth.load.files import Input
from oomsleuth.model import Sample, Warning_

FORK_BYTES = 32 << 20  # all history files together: below this, one process is faster
NO_FORK = "OOMSLEUTH_NO_FORK"

# what the forked workers inherit: the files and the function that reads one of them
_JOB: tuple[Sequence[Input], Callable[[Input], FileRead]] | None = None


class FileRead(NamedTuple):
    """One history file read: what a forked reader sends back."""

    samples: list[Sample]
    sources: list[tuple[str, str]]
    warnings: list[Warning_]
    said: list[str]  # what the reading told the user, in order
    outside: str  # the history-outside-window text, should no sample be in a window


def worth_forking(items: Sequence[Input]) -> bool:
    """True when ``items`` should be read side by side (see the module doc)."""
    if len(items) < 2 or os.environ.get(NO_FORK, "0") not in ("", "0"):
        return False
    if sum(map(_size, items)) < FORK_BYTES or _cores() < 2:
        return False
    return _safe_to_fork()


def _safe_to_fork() -> bool:
    import multiprocessing
    import threading

    return (
        sys.platform == "linux"
        and "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon  # e.g. a Dask worker: no children
        and threading.active_count() == 1  # a fork beside running threads may inherit a held lock
    )


def read_forked(items: Sequence[Input], read: Callable[[Input], FileRead]) -> list[FileRead]:
    """``[read(item) for item in items]``, each item in a forked process (at most one per
    core); the results come back pickled, in order. An error in a worker is raised here."""
    global _JOB
    import multiprocessing

    _JOB = (items, read)
    try:
        context = multiprocessing.get_context("fork")
        workers = min(len(items), _cores())
        with context.Pool(workers, initializer=_quiet) as pool:
            return pool.map(_run, range(len(items)), chunksize=1)
    finally:
        _JOB = None


def _run(index: int) -> FileRead:
    assert _JOB is not None  # set before the fork
    items, read = _JOB
    return read(items[index])


def _quiet() -> None:
    """A worker leaves Ctrl-C to the parent, which stops the pool and says it once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _size(item: Input) -> int:
    """A plain file's size; 0 for a stream or a bundle member (not known before reading)."""
    try:
        return item.path.stat().st_size if item.path is not None else 0
    except OSError:
        return 0


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
