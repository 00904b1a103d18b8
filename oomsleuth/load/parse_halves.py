"""A plain kernel log dense with reports parsed in two halves side by side.

A log dense with reports is mostly parsing, on one core: under ``blocks.AHEAD_BYTES`` (64 MB)
it has no search process beside it, and from there its search process waits on the reader. Its
two halves are parsed at once, the second in a forked process, and put together by
:func:`oomsleuth.scan_halves.join` into exactly what one scanner gives (its doc says why), or,
when the halves cannot say so, the log is parsed again in one process, as before (a cost of
about half a parse, for logs that interleave hosts' reports at the cut, say). From 64 MB a log
with fewer than ``DENSE_PER_MB`` reports a megabyte keeps its search process: there two halves,
each searching its own bytes, were measured slower. A journal (``journalctl -o json``, export,
verbose) is not cut: its reader's state goes on from record to record (the boot id), which a
fresh one lacks.

The cut is the start of the first line holding ``invoked oom-killer`` (a report's first line)
in the ``LOOK`` bytes from a little past the middle (``CUT_AT``: the second half's reports are
sent back and unpickled in this process), when those bytes say the file holds ``MIN_REPORTS``
reports or more; else there is no cut (a fork costs ~25 ms). The first half is read from the
file up to the cut and the second from the cut to the end, each a stream of its own
(:class:`_Span`); the second numbers its lines on from the newlines before the cut (counted in
the child). Damaged-input warnings of both halves are told once the halves are joined; progress
is told for the first half, then for all of it. Forking as everywhere else: allowed and safe
(:mod:`oomsleuth.load.forking`), 2+ cores, and room for the child: ``MIN_HEADROOM`` and
``REPORT_BYTES`` for each report it is estimated to hold (a host short of memory reads the log
in one process); ``OOMSLEUTH_NO_FORK=1`` keeps one process; a child that dies or fails makes
the log be parsed in one process. With ``follow`` (the JSON written ahead,
:mod:`oomsleuth.api_ahead`) the child stays once the halves are joined, talking with this
process over a two-way connection, when there is room for its texts too (``TEXT_BYTES`` a
report); else it ends as ever.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from oomsleuth.load import blocks
from oomsleuth.load.files import Input, Problem
from oomsleuth.model import Warning_

if TYPE_CHECKING:
    from oomsleuth.load import forking

SPLIT_BYTES = 256 << 10  # smaller files are not worth looking at
MIN_REPORTS = 128  # below this many reports, one process is as fast (a fork costs ~25 ms)
# from blocks.AHEAD_BYTES a search process takes the second core: faster for a log with fewer
# reports than this a megabyte (bench/README.md, "Two halves side by side")
DENSE_PER_MB = 8
REPORT_BYTES = 48 << 10  # a parsed report's memory, and its pickle (~40 KB measured, with 4)
# and with work ahead (``follow``): its JSON text and incident, in both processes (~13 KB of
# text a report of the dense bench log, measured)
TEXT_BYTES = 32 << 10
HEADER = b"invoked oom-killer"
# how the line of a journal record that holds a report's header starts (JSON, export, verbose)
JOURNAL_LINES = (b"{", b"_", b" ", b"\t", b"MESSAGE=")
# where the cut is looked for: a little past the middle, for the second half's reports are
# sent back and unpickled here, one after the other (bench/README.md, "Two halves")
CUT_AT = 0.55
LOOK = 1 << 20  # bytes read looking for the cut (and to see how dense the reports are)
T = TypeVar("T")
R = TypeVar("R")
# (a half as an input, what hears its damage, the lines before it, whether it is the first)
Read = Callable[[Input, Problem, int, bool], T]

# the second half read, the damage it would have told, the lines before the cut
Half = tuple[T, list[Warning_], int]


class Follow(Protocol):
    """Work that goes on in the child once the halves are joined (:mod:`oomsleuth.api_ahead`)."""

    def child(self, half: Any, talk: Any) -> object:
        """In the child, its half sent: what it does next, told by this process through
        ``talk`` (its end of the connection); its result is :meth:`forking.Pending.result`."""
        ...

    def joined(self, tail: forking.Pending, base: int, joined: Any) -> None:
        """Here, the halves ``joined``: the child (``base`` lines before its half), to talk to."""
        ...


def parse_halves(
    source: Input,
    read: Read[T],
    join: Callable[[T, T, int], R | None],
    problem: Problem,
    follow: Follow | None = None,
) -> R | None:
    """``join(read(first half), read(second half), lines before the cut)``, the second read in
    a forked process (see the module doc), with the damage ``problem`` hears told once joined;
    None: parse it in one process (nothing told then). ``follow``: the child stays, for
    ``follow.child``, once joined (else it is stopped)."""
    path = source.path
    try:
        length = halvable(source)
        found = find_cut(path, length) if path is not None and length else None
    except OSError:  # (the one process meets it again, and tells it as it does)
        return None
    from oomsleuth.load import forking

    if found is None or not forking.safe_to_fork() or not _room_for(found[1]):
        return None
    if follow is not None and not _room_for(found[1], ahead=True):
        follow = None  # (room for the halves, not for the work ahead)
    job = functools.partial(_tail, source, found[0], read)
    talk = follow is not None
    tail = forking.Pending(functools.partial(_followed, job, follow) if follow else job, talk=talk)
    damage: list[Warning_] = []
    try:
        head = read(_span(source, 0, found[0]), damage.append, 0, True)
        got = tail.result() if follow is None else tail.receive()
    except Exception:  # the one process meets it again, and tells it as it does
        tail.cancel()
        return None
    except BaseException:
        tail.cancel()
        raise
    parsed, said, base = cast(Half[T], got)
    report = join(head, parsed, base)
    for warning in [*damage, *said] if report is not None else ():
        problem(warning)
    if follow is not None:
        follow.joined(tail, base, report) if report is not None else tail.cancel()
    return report


def halvable(source: Input) -> int:
    """The size of a plain file (not standard input or a bundle member) of ``SPLIT_BYTES`` or
    more, forking allowed, 2+ cores (whether it is safe is asked once there is a cut: it
    imports multiprocessing); else 0."""
    if source.path is None or source.opener is not None:
        return 0
    try:
        length = source.path.stat().st_size
    except OSError:
        return 0
    from oomsleuth.load import forking  # here: a small log never asks

    if length < SPLIT_BYTES or forking.fork_forbidden() or forking.cores() < 2:
        return 0
    return length if _plain_text(source.path) else 0


def _plain_text(path: Path) -> bool:
    """No compression's magic at the start (:func:`~oomsleuth.load.files.decompressed`)."""
    from contextlib import ExitStack

    from oomsleuth.load.files import decompressed, uncompressed

    with ExitStack() as stack:
        return uncompressed(decompressed(stack.enter_context(path.open("rb")), path.name))


def find_cut(path: Path, length: int) -> tuple[int, int] | None:
    """The offset of the first line holding ``HEADER`` in the ``LOOK`` bytes from ``CUT_AT``
    of the file, and the reports the file holds if all were as dense as those bytes, when that
    is ``MIN_REPORTS`` or more and, from ``blocks.AHEAD_BYTES``, ``DENSE_PER_MB`` a megabyte; else
    None."""
    at = int(length * CUT_AT)
    with path.open("rb", buffering=0) as file:
        window = os.pread(file.fileno(), LOOK, at)
    start = window.find(b"\n") + 1  # (the first whole line)
    found = window.find(HEADER, start) if start else -1
    count = window.count(HEADER, start) if found >= 0 else 0
    if not count or count * length < MIN_REPORTS * len(window):
        return None
    if length >= blocks.AHEAD_BYTES and count * (1 << 20) < DENSE_PER_MB * len(window):
        return None  # (the search process's way is faster)
    line = window.rfind(b"\n", 0, found) + 1
    if window.startswith(JOURNAL_LINES, line):
        return None  # a journal's record: its reader's state goes on (scan_halves declines)
    return at + line, count * length // len(window)


def _room_for(reports: int, ahead: bool = False) -> bool:
    """Whether the host and this process's cgroups have room for the second half's reports in
    a process of their own, besides the ``MIN_HEADROOM`` any fork asks for
    (:mod:`oomsleuth.load.headroom`); ``ahead``: and for their JSON texts (``TEXT_BYTES``)."""
    from oomsleuth.load.headroom import MIN_HEADROOM, headroom

    room = headroom()
    each = REPORT_BYTES + (TEXT_BYTES if ahead else 0)
    return room is None or room >= MIN_HEADROOM + int(reports * (1 - CUT_AT)) * each


def _tail(source: Input, cut: int, read: Read[T]) -> Half[T]:
    """In the child: the lines before the cut counted, the rest read."""
    assert source.path is not None
    damage: list[Warning_] = []
    base = _newlines(source.path, cut)
    return read(_span(source, cut, None), damage.append, base, False), damage, base


def _followed(job: Callable[[], Half[Any]], follow: Follow, talk: Any) -> object:
    """In the child: its half read and sent, then what ``follow`` does."""
    half = job()
    talk.send(half)
    return follow.child(half[0], talk)


def _newlines(path: Path, stop: int) -> int:
    """The newlines in the file's first ``stop`` bytes."""
    count, buf = 0, bytearray(4 << 20)
    with path.open("rb", buffering=0) as file:
        for at in range(0, stop, len(buf)):
            got = os.preadv(file.fileno(), [memoryview(buf)[: min(len(buf), stop - at)]], at)
            count += buf.count(b"\n", 0, got)
    return count


def _span(source: Input, start: int, stop: int | None) -> Input:
    """``source``'s bytes from ``start`` to ``stop`` (None: its end), as an input of its own."""
    assert source.path is not None
    opener = functools.partial(_Span, source.path, start, stop)
    return Input(source.name, None, source.max_line, opener)


class _Span(io.RawIOBase):
    """A file's bytes from ``start`` to ``stop`` (None: to its end), read with ``preadv``."""

    def __init__(self, path: Path, start: int, stop: int | None) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY)
        self._at, self._stop = start, stop

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = len(view) if self._stop is None else min(len(view), self._stop - self._at)
        if want <= 0:
            return 0
        got = os.preadv(self._fd, [view[:want]], self._at)
        self._at += got
        return got

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()
