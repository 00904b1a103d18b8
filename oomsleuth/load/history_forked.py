"""History files read side by side: several big ones each in a forked process.

A month of ``sar`` beside a month of ``atop -P`` is two independent reads (each file's samples,
warnings and format depend on that file and the windows only), so with more than one core each
file goes to a process of its own, forked so that it inherits everything already loaded (the
inputs, the windows, the readers) and sends back only what it kept: the samples in the windows,
its warnings and what it told the user. :func:`oomsleuth.load.history.load_history` merges them
in the order of the files, exactly as it merges its own one-by-one reads. Small inputs, one
file, one core, or a platform without ``fork`` read in this process (forking costs more), as
does a process that may not fork safely: a daemonic one (a Dask worker) or one running other
threads. ``OOMSLEUTH_NO_FORK=1`` forces that. (Those conditions and the pool of forked workers
are :mod:`oomsleuth.load.forking`'s, shared with the kernel-log sources.)

One big plain ``atop -P`` text is itself cut into parts at sample boundaries, each read in a
forked process too (:mod:`oomsleuth.load.history_split`, which says why the parts' merge is the
one-process reading exactly): with one core per part, a month of atop reads in a fraction of
the time. The jobs (whole files and parts, in the files' order) go to a pool of one process per
core, a job at a time, whole files first, so that the parts of a long one share the cores
evenly to the end.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, cast

from oomsleuth.history.windows import Windows
from oomsleuth.load.files import Input
from oomsleuth.load.forking import NO_FORK, ChildLost, fork_forbidden, read_forked
from oomsleuth.load.forking import cores as _cores
from oomsleuth.load.forking import safe_to_fork as _safe_to_fork
from oomsleuth.load.forking import size as _size
from oomsleuth.model import Sample, Warning_

FORK_BYTES = 32 << 20  # all history files together: below this, one process is faster
PARTS_PER_CORE = 4  # the most parts a big atop file is cut into, per core
__all__ = ["NO_FORK", "FileRead", "read_all", "read_forked", "worth_forking"]


class FileRead(NamedTuple):
    """One history file read: what a forked reader sends back."""

    samples: list[Sample]
    sources: list[tuple[str, str]]
    warnings: list[Warning_]
    said: list[str]  # what the reading told the user, in order
    outside: str  # the history-outside-window text, should no sample be in a window


def read_all(
    items: Sequence[Input], read: Callable[[Input], FileRead], windows: Windows, max_line: int
) -> Iterable[FileRead]:
    """``read(item)`` of each item, in order: side by side in forked processes when that pays
    (see the module doc), big atop texts in parts; else one after another, as they are
    iterated. ``max_line``: the reader's longest line (the parts read lines as it does)."""
    if not worth_forking(items):
        return map(read, items)
    from oomsleuth.load import history_split as split

    cut = [split.plan(item, max_line, _cores() * PARTS_PER_CORE) for item in items]
    jobs: list[Callable[[], object]] = [
        functools.partial(read, item) for item, parts in zip(items, cut, strict=True) if not parts
    ]
    wholes = len(jobs)  # whole files first, whatever their order: the parts even out the end
    jobs += [functools.partial(split.read_part, p, windows) for parts in cut for p in parts or ()]
    if len(jobs) < 2:
        return map(read, items)
    try:
        got = read_forked(jobs)
    except ChildLost:  # a worker killed (the OOM killer, say): read them here instead
        return map(read, items)
    whole, pieces = iter(got[:wholes]), iter(got[wholes:])
    out: list[FileRead] = []
    for item, parts in zip(items, cut, strict=True):
        if parts is None:
            out.append(cast(FileRead, next(whole)))
            continue
        reads = [cast(split.PartRead, next(pieces)) for _ in parts]
        out.append(split.merge(item, reads, windows) or read(item))
    return out


def worth_forking(items: Sequence[Input]) -> bool:
    """True when ``items`` may be read side by side (see the module doc): forking is allowed
    and safe, and they are big enough together."""
    if fork_forbidden():
        return False
    if sum(map(_size, items)) < FORK_BYTES or _cores() < 2:
        return False
    return _safe_to_fork()
