"""An input read in big blocks, handing out only the lines that can matter: the fast path.

:class:`BlockLines` reads an :class:`~oomsleuth.load.files.Input` (compressed or not) in blocks of
``BLOCK`` bytes (a plain file straight into the block), asks a finder
(:mod:`oomsleuth.load.literals`) for the offsets of candidate matches in each block's complete
lines, and serves physical lines as the framer's
:class:`~oomsleuth.frame.sparse.Sparse` source: line by line, or, asked to skip, straight to the
next line holding a match (newlines in between are counted, never split or decoded: a full
block's newlines are indexed per ``1 << CHUNK_BITS`` bytes on a counting thread while this one
runs the search, which in C releases the GIL; :mod:`oomsleuth.load.block_fill` makes each
block). For a big file, a process of its own makes the same blocks ahead of this reader and
sends their hits and index (:mod:`oomsleuth.load.search_ahead`): the reader then reads only
the bytes it looks at (:mod:`.block_lazy`) and parses. A line with a NUL byte is always a
candidate (NULs are dropped first, as by :meth:`Input.lines`), as is a block's first line.

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
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING

from oomsleuth.errors import InputError
from oomsleuth.load.block_fill import (
    Block,
    StreamFill,
    Threads,
    broken_errors,
    decoded,
    make_block,
    plain_reader,
)
from oomsleuth.load.block_lazy import Gone, Lazy, lazy_block, search_ahead
from oomsleuth.load.files import (
    Input,
    Problem,
    _buffered,
    checked_head,
    decompressed,
    read_errors,
    reason,
    uncompressed,
)
from oomsleuth.load.literals import Finder
from oomsleuth.load.text import split_lines
from oomsleuth.model import Warning_, Where

BLOCK = 4 << 20
AHEAD_BYTES = 64 << 20  # smaller inputs are not worth a search-ahead process
CHUNK_BITS = 13  # newlines are indexed per 8 KB of a block (a jump counts within one chunk)
Tick = Callable[[int, int, int | None], None]  # (lines read, bytes read, size when known)

if TYPE_CHECKING:
    from oomsleuth.load.search_ahead import SearchAhead


class BlockLines:
    """The physical lines of one input for :meth:`SparseFramer.frame_sparse` (module doc)."""

    def __init__(
        self, source: Input, find: Finder, problem: Problem | None, tick: Tick | None = None,
        lines: int = 0,  # lines before the input's first (it begins part way into a file)
    ) -> None:  # fmt: skip
        self.input = source
        self.lines = lines  # physical lines handed out or jumped over
        self.jumped = 0
        self.bytes_read = 0
        self.size: int | None = None  # a plain file's size (a compressed one reads more)
        self._find = find
        self._problem = problem or (lambda w: None)
        self._tick = tick
        self._stack = ExitStack()
        self._src: object = None
        self._file: io.RawIOBase | None = None  # a plain file, read straight into the block
        self._buf = bytearray()  # sized when opened (_sized)
        self._n = self._end = self._pos = self._at = 0
        self._hits: list[int] = []
        self._base = lines  # lines before the block
        self._index: list[int] = [0]  # newlines before each CHUNK of the block
        self._workers = Threads(self._stack)  # the counting and searching threads, when needed
        self.ahead: SearchAhead | None = None  # a big plain file's blocks, made elsewhere
        self._lazy: Lazy | None = None  # their bytes read where looked at (block_lazy)
        self._reader: Callable[[Block, int], None] = plain_reader(None)  # set when opened
        self._eof = False
        self._broken: BaseException | None = None
        self._slow: Iterator[str] | None = None
        self._done = False
        self._key, self._key_bytes = "", b""  # run()'s last prefix, encoded

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
            and uncompressed(stream)
            and self.input.path.is_file()  # not a FIFO: reopened, it would wait for a writer
        ):
            self._file = stack.enter_context(self.input.path.open("rb", buffering=0))
            self.size = os.fstat(self._file.fileno()).st_size
        file = self._file
        self._reader = plain_reader(file) if file is not None else StreamFill(self._src)
        if self._slow is None:  # a process to make the blocks ahead, for a big file
            sizes, packed = (BLOCK, self.input.max_line, CHUNK_BITS), not uncompressed(stream)
            self.ahead = search_ahead(self.input, self._find, sizes, packed, AHEAD_BYTES)
            if self.ahead is not None:
                self._stack.callback(self.ahead.close)
        self._buf = bytearray(self._sized())
        if self.ahead is not None and file is not None:
            self._lazy = Lazy(file, self._buf, CHUNK_BITS)

    def _sized(self) -> int:
        """The block's bytes: a plain file smaller than a block (no search process) gets its size
        and one more, so one read holds it all and a fuller one says it grew (then the next block
        is a whole one, :meth:`_refill`): a 4 MB block is zeroed when made, ~2 ms of a run."""
        size = self.size
        if self._file is None or self.ahead is not None or size is None:
            return BLOCK
        return min(size + 1, BLOCK)

    def next(self, skip: bool, /) -> tuple[int, str] | None:
        if self._src is None:
            self._open()
        try:
            while not self._done:
                if self._slow is not None:
                    return self._next_slow()
                if self._pos >= self._end:
                    if not self._refill():
                        return self._last()
                    continue
                if skip and not self._jump():
                    continue
                lazy, buf, pos = self._lazy, self._buf, self._pos
                end = lazy.line_end(pos, self._end) if lazy else buf.find(b"\n", pos, self._end)
                self._pos = end + 1
                self.lines += 1
                cut = end - 1 if end > pos and buf[end - 1] == 13 else end  # a \r\n ending
                return self.lines, decoded(buf[pos:cut])
        except Gone as exc:  # (block_lazy: the file cut under the reader)
            self._done = True
            self._stack.close()
            self._damaged(exc)
        return None

    def run(self, key: str, /) -> list[str]:
        """The next lines, as :meth:`next` would hand them out one by one, for as long as each
        starts with ``key`` (no newline in it), holds no CR or NUL and ends in this block: one
        decode and split for all of them ([] when the next line does not)."""
        if self._slow is not None or self._done or self._src is None or not key:
            return []
        if key != self._key:
            self._key, self._key_bytes = key, key.encode("utf-8", "surrogateescape")
        buf, start, end, prefix = self._buf, self._pos, self._end, self._key_bytes
        if self._lazy is not None:  # (block_lazy) two chunks read, the run within them
            end = min(end, (start >> CHUNK_BITS) + 2 << CHUNK_BITS)
            try:
                self._lazy.ensure(start, min(self._end, end + len(prefix)))
            except Gone:
                return []  # (next() meets it again and ends the input)
        pos = start
        while pos < end and buf.startswith(prefix, pos):
            if (newline := buf.find(b"\n", pos, end)) < 0:
                break  # (a line past the window: next() reads it)
            pos = newline + 1
        for odd in b"\r\x00":
            at = buf.find(odd, start, pos)
            if at >= 0:  # the run ends before that line
                pos = buf.rfind(b"\n", start, at) + 1 or start
        if pos == start:
            return []
        lines = buf[start : pos - 1].decode("utf-8", "surrogateescape").split("\n")
        self._pos = pos
        self.lines += len(lines)
        return lines

    def _jump(self) -> bool:
        """Move to the next line with a hit; False when there is none in this block."""
        hits, at, pos, buf = self._hits, self._at, self._pos, self._buf
        while at < len(hits) and hits[at] < pos:
            at += 1
        self._at = at
        if at == len(hits):
            start = self._end
        elif (lazy := self._lazy) is not None:
            start = lazy.line_start(pos, hits[at])
        else:
            start = buf.rfind(b"\n", pos, hits[at]) + 1 or pos
        if start > pos:
            first = start >> CHUNK_BITS << CHUNK_BITS  # (block_lazy: its chunk was read)
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
        buf = self._buf
        carry = bytes(buf[self._end : self._n])  # (block_lazy reads it with the block's end)
        if self._n == len(buf) < BLOCK:  # a small file's block, filled: the file grew
            buf = self._buf = bytearray(BLOCK)
        block = self._make(buf, carry)
        self._n, self._end, self._pos, self._at = block.n, block.end, 0, 0
        self.bytes_read += block.got
        self._eof, self._broken = block.eof, block.broken
        if block.long:  # (with what the stream gave that did not fit the block)
            if self.ahead is not None:
                self.ahead.close()
            rest = self._reader.rest if isinstance(self._reader, StreamFill) else b""
            self._slow = self._slow_lines(bytes(buf[: block.n]) + rest)
            return True
        self._base = self.lines
        self._hits, self._index = block.hits or [], block.index or [0]
        if self._tick is not None:
            self._tick(self.lines, self.bytes_read, self.size)
        return block.n > block.carried or block.end > 0

    def _make(self, buf: bytearray, carry: bytes) -> Block:
        sizes = (len(buf), self.input.max_line, CHUNK_BITS)
        if self._lazy is not None and self.ahead is not None:
            block = lazy_block(self.ahead, self._lazy, carry)
            if block is not None:
                return block
            self._lazy = None  # (the process stopped: this block and the rest made here)
        ahead = self.ahead  # (its hits and index of the block this reader read)
        made = (lambda b: ahead.made(b.buf, b.got, b.n, b.end)) if ahead is not None else None
        return make_block(buf, carry, self._reader, self._find, sizes, self._workers, made)

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
        return self.lines, decoded(tail)

    def _next_slow(self) -> tuple[int, str] | None:
        assert self._slow is not None
        try:
            line = next(self._slow, None)
        except broken_errors() as exc:
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
