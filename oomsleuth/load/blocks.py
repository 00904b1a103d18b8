"""An input read in big blocks, handing out only the lines that can matter: the fast path.

:class:`BlockLines` reads an :class:`~oomsleuth.load.files.Input` (compressed or not) in blocks of
``BLOCK`` bytes (a plain file straight into the block), asks a finder
(:mod:`oomsleuth.load.literals`) for the offsets of candidate matches in each block's complete
lines, and serves physical lines as the framer's
:class:`~oomsleuth.frame.sparse.Sparse` source: line by line, or, asked to skip, straight to the
next line holding a match (newlines in between are counted, never split or decoded). A line with
a NUL byte is always a candidate (NULs are dropped before any test, as by
:meth:`Input.lines`), as is a block's first line. Once a block comes back full (a big input),
the next one is read and searched on a reader thread while this one is served: reading and the
search in C release the GIL, so they take the second core while this thread frames and parses.

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
from typing import TYPE_CHECKING, NamedTuple

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
READ = 8192  # the line reader's own read size (TextIOWrapper's chunk)
Tick = Callable[[int, int, int | None], None]  # (lines read, bytes read, size when known)

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor


class _Loaded(NamedTuple):
    """A block read: bytes in it, end of its complete lines, candidate offsets, bytes read from
    the input, whether the input ended (or broke: how) and whether a line is too long."""

    n: int
    end: int
    hits: list[int]
    read: int
    eof: bool
    broken: BaseException | None
    long: bool


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
        self._spare = self._buf  # the reader thread's buffer, once there is one
        self._pool: ThreadPoolExecutor | None = None
        self._job: Future[_Loaded] | None = None
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
            count = buf.count(b"\n", pos, start)
            self.lines += count
            self.jumped += count
            self._pos = start
        return at < len(hits)

    def _refill(self) -> bool:
        """The next block after the complete lines served; False at the end of the input. A
        big input's next block is read and searched on a second thread while this one is
        served (:meth:`_load`: the read and the search release the GIL)."""
        if self._eof:
            return False
        tail = self._n - self._end
        job, self._job = self._job, None
        if job is None:
            got = self._load(self._buf, bytes(self._buf[self._end : self._n]))
        else:
            got = job.result()
            self._buf, self._spare = self._spare, self._buf
        self._n, self._end, self._hits = got.n, got.end, got.hits
        self._pos = self._at = 0
        self.bytes_read += got.read
        self._eof = got.eof
        self._broken = got.broken or self._broken
        if got.long:
            self._slow = self._slow_lines(bytes(self._buf[: self._n]))
            return True
        if not self._eof and self._n == BLOCK:
            self._job = self._prefetch()
        if self._tick is not None:
            self._tick(self.lines, self.bytes_read, self.size)
        return self._n > tail or self._end > 0

    def _prefetch(self) -> Future[_Loaded]:
        """The block after this one, loading on the reader thread into the spare buffer."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # only big inputs need it

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="oomsleuth-read")
            self._stack.callback(self._pool.shutdown)
            self._spare = bytearray(BLOCK)
        tail = bytes(self._buf[self._end : self._n])
        return self._pool.submit(self._load, self._spare, tail)

    def _load(self, buf: bytearray, tail: bytes) -> _Loaded:
        """``tail`` (the last block's incomplete line) then as much input as ``buf`` holds, its
        complete lines and their candidate matches. Reads only the input and ``buf``."""
        n = len(tail)
        buf[:n] = tail
        read, eof, broken = 0, False, None
        try:
            while n < BLOCK:
                got = self._fill(buf, n)
                if not got:
                    eof = True
                    break
                n += got
                read += got
        except _broken() as exc:
            broken, eof = exc, True
        end = buf.rfind(b"\n", 0, n) + 1
        long = _long_line(buf, n, self.input.max_line)
        hits = self._candidates(buf, end) if end and not long else []
        return _Loaded(n, end, hits, read, eof, broken, long)

    def _fill(self, buf: bytearray, n: int) -> int:
        """One read into ``buf`` at ``n``: a plain file straight into it, a decompressed
        stream ``READ`` bytes at a time (as the line reader reads it)."""
        if self._file is not None:
            with memoryview(buf) as view:
                return self._file.readinto(view[n:]) or 0
        chunk = self._src.read1(min(READ, BLOCK - n))  # type: ignore[attr-defined]
        buf[n : n + len(chunk)] = chunk
        return len(chunk)

    def _candidates(self, buf: bytearray, end: int) -> list[int]:
        with memoryview(buf) as view:
            hits = self._find(view[:end])
        nul = buf.find(0, 0, end)
        if nul >= 0:
            while nul >= 0:
                hits.append(nul)
                nul = buf.find(0, buf.find(b"\n", nul, end), end)
            hits.sort()
        return [0, *hits]

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


def _long_line(buf: bytearray, n: int, limit: int) -> bool:
    """A line of ``limit`` bytes or more in ``buf[:n]`` (conservative: bytes >= chars)."""
    width = limit // 2
    for k in range(0, n - width + 1, width):
        if buf.find(b"\n", k, k + width) < 0:
            start = buf.rfind(b"\n", 0, k) + 1
            stop = buf.find(b"\n", k, n)
            if (stop if stop >= 0 else n) - start >= limit:
                return True
    return False


def _plain(stream: object) -> bool:
    """True when :func:`decompressed` found no compression (it gave back a plain buffer)."""
    return type(stream) is io.BufferedReader


def _broken() -> tuple[type[BaseException], ...]:
    """What a stream that breaks part way raises (as :meth:`Input.lines` catches it)."""
    return (*read_errors(), UnicodeError, zlib.error)


def _decode(raw: bytes | bytearray) -> str:
    line = raw.decode("utf-8", "surrogateescape")
    return line.replace("\x00", "") if "\x00" in line else line
