"""An input read in big blocks, handing out only the lines that can matter: the fast path.

:class:`BlockLines` reads an :class:`~oomsleuth.load.files.Input` (compressed or not) in blocks of
``BLOCK`` bytes (a plain file straight into the block), asks a finder
(:mod:`oomsleuth.load.literals`) for the offsets of candidate matches in each block's complete
lines, and serves physical lines as the framer's
:class:`~oomsleuth.frame.sparse.Sparse` source: line by line, or, asked to skip, straight to the
next line holding a match (newlines in between are counted, never split or decoded: a full
block's newlines are indexed per ``CHUNK`` on a counting thread while this one runs the search,
which in C releases the GIL, so the two take both cores). A line with
a NUL byte is always a candidate (NULs are dropped before any test, as by
:meth:`Input.lines`), as is a block's first line.

The lines it hands out are those of :meth:`Input.lines`, byte for byte: split on ``\\n``, a
``\\r\\n`` ending removed, UTF-8 with surrogate escapes, NULs dropped. Where that reader would do
more (a UTF-16 input, a line of ``max_line`` characters or more), this one hands over to it for
the rest of the input, with the same line numbers. A decompressed stream is read ``READ`` bytes
at a time, as that reader reads it, so a stream that breaks ends at the same line with the same
warning.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from itertools import accumulate
from typing import TYPE_CHECKING

from oomsleuth.errors import InputError
from oomsleuth.load.files import (
    Input,
    Problem,
    _buffered,
    checked_head,
    decompressed,
    read_errors,
    reason,
)
from oomsleuth.load.literals import Finder
from oomsleuth.load.text import split_lines
from oomsleuth.model import Warning_, Where

BLOCK = 4 << 20
CHUNK_BITS = 13  # newlines are indexed per 8 KB of a block (a jump counts within one chunk)
READ = 8192  # the line reader's own read size (TextIOWrapper's chunk)
Tick = Callable[[int, int, int | None], None]  # (lines read, bytes read, size when known)

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor


class BlockLines:
    """The physical lines of one input for :meth:`SparseFramer.frame_sparse` (module doc)."""

    def __init__(
        self, source: Input, find: Finder, problem: Problem | None, tick: Tick | None = None
    ) -> None:
        self.input = source
        self.lines = 0  # physical lines handed out or jumped over
        self.jumped = 0
        self.bytes_read = 0
        self.size: int | None = None  # a plain file's size (a compressed one reads more)
        self._find = find
        self._problem = problem or (lambda w: None)
        self._tick = tick
        self._stack = ExitStack()
        self._src: object = None
        self._file: io.RawIOBase | None = None  # a plain file, read straight into the block
        self._buf = bytearray(BLOCK)
        self._n = self._end = self._pos = self._at = 0
        self._hits: list[int] = []
        self._base = 0  # lines before the block
        self._index: list[int] = [0]  # newlines before each CHUNK of the block
        self._pool: ThreadPoolExecutor | None = None
        self._eof = False
        self._broken: BaseException | None = None
        self._slow: Iterator[str] | None = None
        self._done = False

    def _open(self) -> None:
        stack = self._stack
        try:
            stream = decompressed(self.input.open(stack), self.input.name)
            head, encoding = checked_head(stream, self.input.name)
        except read_errors() as exc:
            stack.close()
            raise InputError(f"cannot read {self.input.name}: {reason(exc)}") from None
        self._src = _buffered(head, stream)
        if encoding is not None or self.input.max_line * 2 > BLOCK:
            self._slow = self._slow_lines(b"", encoding)
        elif (
            self.input.path is not None
            and self.input.opener is None
            and _plain(stream)
            and self.input.path.is_file()  # not a FIFO: reopened, it would wait for a writer
        ):
            self._file = stack.enter_context(self.input.path.open("rb", buffering=0))
            self.size = os.fstat(self._file.fileno()).st_size

    def next(self, skip: bool, /) -> tuple[int, str] | None:
        if self._src is None:
            self._open()
        while not self._done:
            if self._slow is not None:
                return self._next_slow()
            if self._pos >= self._end:
                if not self._refill():
                    return self._last()
                continue
            if skip and not self._jump():
                continue
            buf, pos = self._buf, self._pos
            end = buf.find(b"\n", pos, self._end)
            self._pos = end + 1
            self.lines += 1
            cut = end - 1 if end > pos and buf[end - 1] == 13 else end  # a \r\n ending
            return self.lines, _decode(buf[pos:cut])
        return None

    def _jump(self) -> bool:
        """Move to the next line with a hit; False when there is none in this block."""
        hits, at, pos, buf = self._hits, self._at, self._pos, self._buf
        while at < len(hits) and hits[at] < pos:
            at += 1
        self._at = at
        start = self._end if at == len(hits) else buf.rfind(b"\n", pos, hits[at]) + 1 or pos
        if start > pos:
            first = start >> CHUNK_BITS << CHUNK_BITS
            if first <= pos:  # a short jump: count it
                count = buf.count(b"\n", pos, start)
            else:  # newlines before start (the index, then within its chunk) less before pos
                before = self._index[start >> CHUNK_BITS] + buf.count(b"\n", first, start)
                count = before - (self.lines - self._base)
            self.lines += count
            self.jumped += count
            self._pos = start
        return at < len(hits)

    def _refill(self) -> bool:
        """The next block after the complete lines served; False at the end of the input."""
        if self._eof:
            return False
        buf, n = self._buf, self._n
        tail = n - self._end
        buf[:tail] = buf[self._end : n]
        self._n, self._pos, self._at = tail, 0, 0
        try:
            self._fill()
        except _broken() as exc:
            self._broken, self._eof = exc, True
        self._end = buf.rfind(b"\n", 0, self._n) + 1
        if self._long_line():
            self._slow = self._slow_lines(bytes(buf[: self._n]))
            return True
        self._base = self.lines
        counted = self._count_async(buf) if self._n == BLOCK else None
        self._hits = self._candidates(memoryview(buf)[: self._end]) if self._end else []
        self._index = _newline_index(buf, self._end) if counted is None else counted.result()
        if self._tick is not None:
            self._tick(self.lines, self.bytes_read, self.size)
        return self._n > tail or self._end > 0

    def _count_async(self, buf: bytearray) -> Future[list[int]]:
        """:func:`_newline_index` of a full block on the counting thread: it holds the GIL in
        short steps while this thread's search in C runs without it."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # only big inputs need it

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="oomsleuth-count")
            self._stack.callback(self._pool.shutdown)
        return self._pool.submit(_newline_index, buf, self._end)

    def _fill(self) -> None:
        """Read until the block is full or the input ends: a plain file straight into the
        block, a decompressed stream ``READ`` bytes at a time."""
        buf, file = self._buf, self._file
        while self._n < BLOCK:
            if file is not None:
                with memoryview(buf) as view:
                    got = file.readinto(view[self._n :])
            else:
                chunk = self._src.read1(min(READ, BLOCK - self._n))  # type: ignore[attr-defined]
                got = len(chunk)
                buf[self._n : self._n + got] = chunk
            if not got:
                self._eof = True
                return
            self._n += got
            self.bytes_read += got

    def _candidates(self, block: memoryview) -> list[int]:
        hits = self._find(block)
        buf, end = self._buf, self._end
        nul = buf.find(0, 0, end)
        if nul >= 0:
            while nul >= 0:
                hits.append(nul)
                nul = buf.find(0, buf.find(b"\n", nul, end), end)
            hits.sort()
        return [0, *hits] if end else hits

    def _long_line(self) -> bool:
        """A line of ``max_line`` bytes or more in the block (conservative: bytes >= chars)."""
        buf, n, limit = self._buf, self._n, self.input.max_line
        width = limit // 2
        for k in range(0, n - width + 1, width):
            if buf.find(b"\n", k, k + width) < 0:
                start = buf.rfind(b"\n", 0, k) + 1
                stop = buf.find(b"\n", k, n)
                if (stop if stop >= 0 else n) - start >= limit:
                    return True
        return False

    def _last(self) -> tuple[int, str] | None:
        """The end: the last line when it has no newline, the warning of a broken stream."""
        self._done = True
        tail = bytes(self._buf[self._end : self._n])
        self._stack.close()
        if self._broken is not None:
            self._damaged(self._broken)
            return None
        if not tail:
            return None
        self.lines += 1
        return self.lines, _decode(tail)

    def _next_slow(self) -> tuple[int, str] | None:
        assert self._slow is not None
        try:
            line = next(self._slow, None)
        except _broken() as exc:
            line = None
            self._damaged(exc)
        if line is None:
            self._done = True
            self._stack.close()
            return None
        self.lines += 1
        return self.lines, line

    def _slow_lines(self, prefix: bytes, encoding: str | None = None) -> Iterator[str]:
        """:meth:`Input.lines`'s own reader from here on (see the module doc)."""
        name, first = self.input.name, self.lines + 1

        def long_line(line: int, message: str) -> None:
            self._problem(Warning_(Where(name, line), "line-too-long", message))

        stream = _buffered(prefix, self._file or self._src)  # type: ignore[arg-type]
        return split_lines(stream, self.input.max_line, long_line, encoding, first=first)

    def _damaged(self, exc: BaseException) -> None:
        name, count = self.input.name, self.lines
        self._problem(
            Warning_(
                Where(name, count),
                "input-damaged",
                f"{name} breaks after line {count} ({reason(exc)}): the "
                f"{count} line(s) before it were read, the rest could not be",
            )
        )


def _newline_index(buf: bytearray, end: int) -> list[int]:
    """The newlines in ``buf`` before each multiple of ``CHUNK`` up to ``end``."""
    count, step = buf.count, 1 << CHUNK_BITS
    stops = range(0, end, step)
    return list(accumulate((count(b"\n", k, min(k + step, end)) for k in stops), initial=0))


def _plain(stream: object) -> bool:
    """True when :func:`decompressed` found no compression (it gave back a plain buffer)."""
    return type(stream) is io.BufferedReader


def _broken() -> tuple[type[BaseException], ...]:
    """What a stream that breaks part way raises (as :meth:`Input.lines` catches it)."""
    return (*read_errors(), UnicodeError, zlib.error)


def _decode(raw: bytes | bytearray) -> str:
    line = raw.decode("utf-8", "surrogateescape")
    return line.replace("\x00", "") if "\x00" in line else line
