"""Forked processes for work that pays on several cores: when forking is allowed and safe, and
the jobs themselves (each run in a forked child that inherits everything loaded so far).

Shared by the history readers (:mod:`oomsleuth.load.history_forked`) and the kernel-log sources
(:mod:`oomsleuth.load.sources_forked`). Forking is for Linux only, never from a daemonic process
(a Dask worker may have no children) nor beside other running threads (a fork may inherit a
held lock), nor with less than 256 MB of memory to spare on the host or in its cgroup
(:mod:`oomsleuth.load.headroom`); ``OOMSLEUTH_NO_FORK=1`` forbids it. Each caller sets its
own size threshold, below which one process is faster.

Each job runs in a process of its own that sends its result back through a pipe; the parent
waits on the pipes and on nothing else, so a worker that dies without a result (the OOM killer
is about on the hosts this runs on) is seen at once (:class:`ChildLost`: the callers then read
in one process) where a ``multiprocessing.Pool`` would wait for it for ever.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from oomsleuth.load.files import Input
from oomsleuth.load.headroom import MIN_HEADROOM, headroom

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
        and not daemonic()
        and threading.active_count() == 1  # a fork beside running threads may inherit a held lock
        and roomy()
    )


def daemonic() -> bool:
    """In a daemonic worker (a Dask worker: no children; one of several files parsed side by
    side: the cores are taken already)."""
    import multiprocessing

    return bool(multiprocessing.current_process().daemon)


def roomy() -> bool:
    """Whether there is memory to spare for a forked process (:mod:`.headroom`): a host or
    container short of memory is read in one process, not pushed to its OOM killer."""
    room = headroom()
    return room is None or room >= MIN_HEADROOM


class ChildLost(RuntimeError):
    """A forked worker ended before it sent its result: killed (by the OOM killer, on a host
    short of memory), or its result would not pickle. The caller reads in one process."""


def read_forked(
    jobs: Sequence[Callable[[], object]], done: Callable[[int, object], None] | None = None
) -> list[object]:
    """``[job() for job in jobs]``, each job in a forked process (one process per core, a job
    at a time); the results come back pickled, in order, each also to ``done(index, result)``
    as soon as it and those before it are in. An error in a job is raised here; a worker that
    dies raises :class:`ChildLost` at once (a pool would wait for it for ever); Ctrl-C or any
    error stops the others."""
    global _JOBS
    import multiprocessing
    from multiprocessing.connection import wait

    _JOBS = jobs
    _flush_std()
    context = multiprocessing.get_context("fork")
    running: dict[Any, tuple[int, Any]] = {}  # result pipe -> (job, process)
    results: dict[int, object] = {}
    waiting = iter(range(len(jobs)))
    told = 0
    try:
        for index in itertools.islice(waiting, cores()):
            running.update([_start(context, index)])
        while running:
            for pipe in wait(list(running)):
                index, process = running.pop(pipe)
                results[index] = _result(pipe, process, index)
                running.update([_start(context, i) for i in itertools.islice(waiting, 1)])
            while told in results:
                if done is not None:
                    done(told, results[told])
                told += 1
        return [results[i] for i in range(len(jobs))]
    finally:
        for _, process in running.values():
            process.terminate()
            process.join()
        _JOBS = ()


def side_by_side(jobs: Sequence[Callable[[], object]], done: Callable[[int, object], None]) -> None:
    """:func:`read_forked` when forking is allowed and wise (2+ cores, :func:`safe_to_fork`),
    for work its caller can finish itself (the terminal's panels): nothing told when it is not,
    and no more once a process is lost or none can be forked. What ``done`` raises (a closed
    pipe, a full disk) is raised."""
    if fork_forbidden() or cores() < 2 or not safe_to_fork():
        return
    telling = False

    def told(index: int, result: object) -> None:
        nonlocal telling
        telling = True
        done(index, result)
        telling = False

    try:
        read_forked(jobs, told)
    except (ChildLost, OSError):
        if telling:  # done's own error
            raise


class Pending:
    """One job run in a forked process while this one works on (a caller that checked
    :func:`safe_to_fork` first): :meth:`result` waits for it, :meth:`cancel` stops it.
    ``talk``: the job is called with its end of a two-way connection (``send``/``recv``: its
    messages are :meth:`receive`-d here, :meth:`send`-t from here), besides its result."""

    def __init__(self, job: Callable[..., object], talk: bool = False) -> None:
        global _JOBS
        import multiprocessing

        _flush_std()
        here = there = None
        if talk:
            here, there = multiprocessing.Pipe(duplex=True)
            job = functools.partial(_talking, job, here, there)
        _JOBS = (job,)
        try:
            self._pipe, (_, self._process) = _start(multiprocessing.get_context("fork"), 0)
        finally:
            _JOBS = ()
            if there is not None:
                there.close()  # (the child's end: its death is then seen here as EOF)
        self._talk: Any = here

    def result(self) -> object:
        """The job's result; its error raised here, :class:`ChildLost` when it died."""
        try:
            return _result(self._pipe, self._process, 0)
        finally:
            self._hang_up()

    def receive(self) -> object:
        """The job's next message; :class:`ChildLost` when it died (or ended) first."""
        try:
            return self._talk.recv()
        except (EOFError, OSError):
            raise ChildLost("worker 0 ended without a message") from None

    def send(self, message: object) -> None:
        """``message`` to the job (pickled); :class:`ChildLost` when it has gone."""
        try:
            self._talk.send(message)
        except OSError:
            raise ChildLost("worker 0 ended before a message to it") from None

    def cancel(self) -> None:
        self._process.terminate()
        self._process.join()
        self._pipe.close()
        self._hang_up()

    def _hang_up(self) -> None:
        if self._talk is not None:
            self._talk.close()
            self._talk = None


def _talking(job: Callable[[Any], object], here: Any, there: Any) -> object:
    """In the child: ``job(there)``, the parent's end closed (the parent's death is then EOF)."""
    here.close()
    return job(there)


def _flush_std() -> None:
    """Standard output and error flushed before a fork: a worker flushes its copies as it ends."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _start(context: Any, index: int) -> tuple[Any, tuple[int, Any]]:
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(index, writer), daemon=True)
    process.start()
    writer.close()
    return reader, (index, process)


def _result(pipe: Any, process: Any, index: int) -> object:
    """Job ``index``'s result from its pipe (its exception raised here)."""
    try:
        ok, value = pipe.recv()
    except EOFError:
        raise ChildLost(f"worker {index} ended without a result") from None
    finally:
        pipe.close()
        process.join()
    if not ok:
        raise value
    return value


def _child(index: int, pipe: Any) -> None:
    """In the worker: run job ``index``, send (True, result) or (False, its exception)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle, once
    try:
        message: tuple[bool, object] = (True, _JOBS[index]())
    except Exception as exc:
        message = (False, exc)
    with contextlib.suppress(Exception):  # a result that does not pickle: the parent hears
        pipe.send(message)  # the pipe close (ChildLost)
    pipe.close()


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
