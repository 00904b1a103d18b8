"""One plain kernel log of ``SPLIT_BYTES`` or more parsed in two halves side by side.

A log under ``AHEAD_BYTES`` (64 MB) is read by one process, with no search process beside it,
and a log dense with reports is mostly parsing: its two halves are parsed at once, the second
in a forked process, and put together by :func:`oomsleuth.scan_halves.join` into exactly what
one scanner gives (its doc says why), or, when the halves cannot say so, the log is parsed
again in one process, as before (a cost of about half a parse, for logs that interleave hosts'
reports at the cut or hold journal records).

The cut is the start of the first line after the middle that holds ``invoked oom-killer`` (a
report's first line, within ``LOOK_MAX`` bytes; else no cut, one process). The first half is
read from the file up to the cut and the second from the cut to the end, each a stream of
its own (:class:`_Span`); the second numbers its lines on from the newlines before the cut
(counted in the child). Damaged-input warnings of both halves are told once the halves are
joined; progress is told for the first half, then for all of it. Forking as everywhere else:
allowed and safe (:mod:`oomsleuth.load.forking`), 2+ cores; ``OOMSLEUTH_NO_FORK=1`` keeps one
process; a child that dies or fails makes the log be parsed in one process.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

from oomsleuth.load.files import Input, Problem
from oomsleuth.load.forking import Pending, cores, fork_forbidden, safe_to_fork, size
from oomsleuth.model import Warning_

SPLIT_BYTES = 8 << 20  # below this, one process is as fast
AHEAD_BYTES = 64 << 20  # from this, a search process takes the second core (blocks.AHEAD_BYTES)
HEADER = b"invoked oom-killer"
# where the cut is looked for: a little past the middle, for the second half's reports are
# sent back and unpickled here, one after the other (bench/README.md, "Two halves")
CUT_AT = 0.55
LOOK = 1 << 20  # bytes read at a time looking for the cut
LOOK_MAX = 16 << 20
T = TypeVar("T")
R = TypeVar("R")
# (a half as an input, what hears its damage, the lines before it, whether it is the first)
Read = Callable[[Input, Problem, int, bool], T]


class _Half(NamedTuple, Generic[T]):
    parsed: T  # the second half read
    damage: list[Warning_]
    base: int  # lines before the cut


def parse_halves(
    source: Input, read: Read[T], join: Callable[[T, T, int], R | None], problem: Problem
) -> R | None:
    """``join(read(first half), read(second half), lines before the cut)``, the second read in
    a forked process (see the module doc), with the damage ``problem`` hears told once joined;
    None: parse it in one process (nothing told then)."""
    path = source.path
    if path is None or not worth_halving(source):
        return None
    cut = find_cut(path, size(source))
    if cut is None:
        return None
    tail = Pending(functools.partial(_tail, source, cut, read))
    damage: list[Warning_] = []
    try:
        head = read(_span(source, 0, cut), damage.append, 0, True)
        got = tail.result()
    except Exception:  # the one process meets it again, and tells it as it does
        tail.cancel()
        return None
    except BaseException:
        tail.cancel()
        raise
    if not isinstance(got, _Half):
        return None
    report = join(head, got.parsed, got.base)
    for warning in [*damage, *got.damage] if report is not None else ():
        problem(warning)
    return report


def worth_halving(source: Input) -> bool:
    """A plain file (not standard input or a bundle member) from ``SPLIT_BYTES`` up to
    ``AHEAD_BYTES``, forking allowed and safe, 2+ cores."""
    if source.path is None or source.opener is not None or fork_forbidden():
        return False
    if not SPLIT_BYTES <= size(source) < AHEAD_BYTES or cores() < 2:
        return False
    return _plain_text(source.path) and safe_to_fork()


def _plain_text(path: Path) -> bool:
    """No compression's magic at the start (:func:`~oomsleuth.load.files.decompressed`)."""
    from contextlib import ExitStack

    from oomsleuth.load.files import decompressed, uncompressed

    with ExitStack() as stack:
        return uncompressed(decompressed(stack.enter_context(path.open("rb")), path.name))


def find_cut(path: Path, length: int) -> int | None:
    """The offset of the first line after the middle of the file that holds ``HEADER``."""
    with path.open("rb", buffering=0) as file:
        fd, at = file.fileno(), int(length * CUT_AT)
        while at < min(length, int(length * CUT_AT) + LOOK_MAX):
            window = os.pread(fd, LOOK + len(HEADER), at)
            start = window.find(b"\n") + 1
            found = window.find(HEADER, start) if start else -1
            if found >= 0:
                return at + window.rfind(b"\n", 0, found) + 1
            at += LOOK
    return None


def _tail(source: Input, cut: int, read: Read[T]) -> _Half[T]:
    """In the child: the lines before the cut counted, the rest read."""
    assert source.path is not None
    damage: list[Warning_] = []
    base = _newlines(source.path, cut)
    return _Half(read(_span(source, cut, None), damage.append, base, False), damage, base)


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
