"""A block made ahead, read only where the reader looks.

When a search process makes a big plain file's blocks (:mod:`oomsleuth.load.search_ahead`), it
reads every byte; the reader then needs only the lines around the hits (a noisy log's reports:
a few per cent of it). Reading the whole block again was most of the reader's system time
(~0.1 s a GB, the copy from the page cache). So the reader takes the block's sizes, hits and
index from the process's record and :class:`Lazy` reads the block's bytes from the file
(``os.preadv``, straight into the block) one ``1 << bits`` chunk at a time, the first time
:class:`~oomsleuth.load.blocks.BlockLines` looks at them: every look at the block's bytes goes
through :meth:`Lazy.ensure`, :meth:`Lazy.line_end` or :meth:`Lazy.line_start` first, so no byte
of an earlier block left in the buffer is ever read. The block's first and last bytes are read
at once and compared with the process's (a file changed under it: the reader makes that block
and the rest itself, as before). A read that comes back short (the file shrank: truncated by a
log rotation) or fails raises :class:`Gone`; the reader ends the input there with a warning.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from oomsleuth.load.block_fill import Block
from oomsleuth.load.search_worker import SAMPLE, key

if TYPE_CHECKING:
    import io

    from oomsleuth.load.files import Input
    from oomsleuth.load.literals import Finder
    from oomsleuth.load.search_ahead import SearchAhead


def search_ahead(
    source: Input, find: Finder, sizes: tuple[int, int, int], compressed: bool, least: int
) -> SearchAhead | None:
    """A process to make the blocks of ``source`` ahead (:mod:`.search_ahead`, imported only
    then): for a file read afresh (not standard input, an archive member or a FIFO, which can be
    read once only) of ``least`` bytes or more (a compressed one holds ~10x its size: an eighth
    of that); else None."""
    if source.path is None or source.opener is not None or not source.path.is_file():
        return None
    try:
        size = os.stat(source.path).st_size
    except OSError:
        return None
    if size * (8 if compressed else 1) < least:
        return None
    from oomsleuth.load.search_ahead import SearchAhead

    return SearchAhead.start(source, find, sizes)


class Gone(OSError):
    """A chunk of the block could not be read back from the file."""


class Lazy:
    """The block ``buf`` of a plain ``file``: ``carried`` bytes carried from the block before
    (there already), then the file's bytes from ``offset`` up to ``n`` in all."""

    def __init__(self, file: io.RawIOBase, buf: bytearray, bits: int) -> None:
        self.file, self.fd, self.buf, self.bits = file, file.fileno(), buf, bits
        self.offset = self.carried = self.n = 0
        self.loaded = bytearray()  # per chunk: 1 once its bytes are in buf

    def start(self, offset: int, carried: int, n: int) -> None:
        """A new block: nothing of the file read yet."""
        self.offset, self.carried, self.n = offset, carried, n
        self.loaded = bytearray((n >> self.bits) + 1)

    def ensure(self, lo: int, hi: int) -> None:
        """The bytes from ``lo`` to ``hi`` (within the block) read, if they were not."""
        if hi <= lo:
            return
        bits, loaded = self.bits, self.loaded
        c, last = lo >> bits, (hi - 1) >> bits
        while c <= last:
            if loaded[c]:
                c += 1
                continue
            d = c + 1
            while d <= last and not loaded[d]:
                d += 1
            self._load(c, d)
            c = d

    def line_end(self, pos: int, end: int) -> int:
        """``buf.find(b"\\n", pos, end)``, reading as far as it looks (a newline comes before
        ``end``, the end of the block's complete lines)."""
        bits, loaded, buf = self.bits, self.loaded, self.buf
        while True:
            c = pos >> bits
            if not loaded[c]:
                self._load(c, c + 1)
            stop = min((c + 1) << bits, end)
            newline = buf.find(b"\n", pos, stop)
            if newline >= 0 or stop >= end:
                return newline
            pos = stop

    def line_start(self, lo: int, hit: int) -> int:
        """``buf.rfind(b"\\n", lo, hit) + 1 or lo``: where the line holding ``hit`` starts (not
        before ``lo``), reading back as far as it looks."""
        bits, buf = self.bits, self.buf
        while hit > lo:
            first = max(lo, (hit - 1) >> bits << bits)
            self.ensure(first, hit)
            newline = buf.rfind(b"\n", first, hit)
            if newline >= 0:
                return newline + 1
            hit = first
        return lo

    def _load(self, c: int, d: int) -> None:
        """Read chunks ``c`` to ``d`` (the file's part of them) into the block."""
        bits = self.bits
        a, b = max(c << bits, self.carried), min(d << bits, self.n)
        if b > a:
            try:
                with memoryview(self.buf) as view:
                    got = os.preadv(self.fd, [view[a:b]], self.offset + a - self.carried)
            except OSError as exc:
                raise Gone(exc.errno, f"{exc.strerror or exc}: reading it back") from exc
            if got != b - a:
                raise Gone(f"it shrank while being read ({got} of {b - a} bytes read back)")
        self.loaded[c:d] = b"\x01" * (d - c)


def lazy_block(ahead: SearchAhead, lazy: Lazy, carry: bytes) -> Block | None:
    """The next block as ``ahead``'s process made it from ``lazy``'s file (at its start now, left
    after it), after ``carry``: its sizes, hits and index from the record, its bytes left to
    ``lazy`` but for its first and last, read and compared with the record's. None, and the process
    stopped, when the record is missing or does not fit (the file changed under it): the
    caller makes the block itself, from the same place."""
    record = ahead.record()
    if record is None:
        return None
    got, n, end, head, tail, made, long, broken = record
    buf, file, carried = lazy.buf, lazy.file, len(carry)
    size, offset = len(buf), file.tell()
    if n != carried + got or not 0 <= end <= n <= size or (n < size and _grown(file, offset + got)):
        ahead.close()  # (a file that grew since the process met its end: read here from there)
        return None
    buf[:carried] = carry
    lazy.start(offset, carried, n)
    try:
        lazy.ensure(0, min(SAMPLE, end))
        lazy.ensure(max(0, end - SAMPLE), n)  # its last complete line's end, and what follows
        if long:  # the reader hands the block over to the line reader whole
            lazy.ensure(0, n)
    except Gone:
        ahead.close()
        return None
    if key(buf, got, n, end) != (got, n, end, head, tail) or buf.find(b"\n", end, n) >= 0:
        ahead.close()
        return None
    file.seek(offset + got)
    ahead.used += 1
    hits, index = made
    eof = n < size or broken is not None
    return Block(buf, n, end, carried, got, eof, broken, long, hits, index)


def _grown(file: io.RawIOBase, size: int) -> bool:
    """Whether ``file`` holds more than ``size`` bytes now (or cannot say)."""
    try:
        return os.fstat(file.fileno()).st_size > size
    except OSError:
        return True
