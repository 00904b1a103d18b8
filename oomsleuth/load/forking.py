"""Forked processes for work that pays on several cores: when forking is allowed and safe, and
the jobs themselves (each run in a forked child that inherits everything loaded so far).

Shared by the history readers (:mod:`oomsleuth.load.history_forked`) and the kernel-log sources
(:mod:`oomsleuth.load.sources_forked`). Forking is for Linux only, never from a daemonic process
(a Dask worker may have no children) nor beside other running threads (a fork may inherit a
held lock); ``OOMSLEUTH_NO_FORK=1`` forbids it. Each caller sets its own size threshold, below
which one process is faster.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence

from oomsleuth.load.files import Input

NO_FORK = "OOMSLEUTH_NO_FORK"

# what the forked workers inherit: the jobs, each run in a worker by its index
_JOBS: Sequence[Callable[[], object]] = ()


def fork_forbidden() -> bool:
    """True when ``OOMSLEUTH_NO_FORK`` is set (to anything but ``0`` or nothing)."""
    return os.environ.get(NO_FORK, "0") not in ("", "0")


def safe_to_fork() -> bool:
    import multiprocessing
    import threading

    return (
        sys.platform == "linux"
        and "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon  # e.g. a Dask worker: no children
        and threading.active_count() == 1  # a fork beside running threads may inherit a held lock
    )


def read_forked(
    jobs: Sequence[Callable[[], object]], done: Callable[[int, object], None] | None = None
) -> list[object]:
    """``[job() for job in jobs]``, each job in a forked process (one process per core, a job
    at a time); the results come back pickled, in order, each also to ``done(index, result)``
    as it is in. An error in a worker is raised here."""
    global _JOBS
    import multiprocessing

    _JOBS = jobs
    try:
        context = multiprocessing.get_context("fork")
        workers = min(len(jobs), cores())
        with context.Pool(workers, initializer=_quiet) as pool:
            got = []
            for index, result in enumerate(pool.imap(_run, range(len(jobs)), chunksize=1)):
                got.append(result)
                if done is not None:
                    done(index, result)
            return got
    finally:
        _JOBS = ()


def _run(index: int) -> object:
    return _JOBS[index]()  # set before the fork


def _quiet() -> None:
    """A worker leaves Ctrl-C to the parent, which stops the pool and says it once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def size(item: Input) -> int:
    """A plain file's size; 0 for a stream or a bundle member (not known before reading)."""
    try:
        return item.path.stat().st_size if item.path is not None else 0
    except OSError:
        return 0


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
