"""One block of a :class:`~oomsleuth.load.blocks.BlockLines` input made ready: read, searched,
its newlines indexed.

A block holds the previous block's incomplete last line first, then the input until the block
is full or the input ends (a stream that breaks keeps what it gave, and the error); the end of
its last complete line; whether it holds a line too long for the fast path (then nothing else
is done: the reader hands over to the line reader); then the finder's candidate offsets (a NUL
byte, and the block's first line, always are) and the index of newlines before each
``1 << chunk_bits`` bytes, counted on a worker thread while the finder searches (a full
block's two halves side by side, on this thread and a second worker thread).

A decompressed stream is read ``READ`` bytes at a time whatever room is left in the block
(:class:`StreamFill` keeps what does not fit for the next one): the line reader reads it so, and
a stream that breaks part way loses the piece being read, so both lose the same bytes and stop
at the same line. (Reading only what fitted, a gzip that broke after the first block lost up to
a piece more than the line reader.)

Making the next block on a worker while this one's lines are served was tried and gains nothing
(measured on a 512 MB kern.log with 351 reports, and 13% slower on back-to-back reports): the
newline count holds the GIL as long as the search runs without it, so it only moves from beside
the search to beside the parsing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oomsleuth.load.files import read_errors
from oomsleuth.load.literals import Finder
from oomsleuth.model.record import record

if TYPE_CHECKING:
    from concurrent.futures import Executor, ThreadPoolExecutor
    from contextlib import ExitStack

READ = 8192  # the line reader's own read size (TextIOWrapper's chunk)


@record()
class Block:
    """A block made ready (see the module doc)."""

    buf: bytearray
    n: int = 0  # bytes in the block
    end: int = 0  # after its last complete line (0: none)
    carried: int = 0  # bytes carried from the block before (an incomplete line)
    got: int = 0  # bytes read from the input into it
    eof: bool = False
    broken: BaseException | None = None  # the error a breaking stream raised
    long: bool = False  # holds a line of max_line or more: the reader hands over
    hits: list[int] | None = None
    index: list[int] | None = None  # newlines before each chunk


def make_block(
    buf: bytearray,
    carry: bytes,
    read: Callable[[Block, int], None],
    find: Finder,
    sizes: tuple[int, int, int],
    workers: Callable[[], Executor | None],
    made: Callable[[Block], tuple[list[int], list[int]] | None] | None = None,
) -> Block:
    """Read, search and index one block into ``buf`` (``sizes``: block size, max line length,
    chunk bits; ``read(block, size)`` fills it; ``made(block)``: its hits and index when made
    elsewhere (:mod:`oomsleuth.load.search_ahead`); else ``workers()``: two threads, where a
    full block's newlines are counted and its second half searched while this thread searches
    the first (None: all on this thread))."""
    size, max_line, chunk_bits = sizes
    block = Block(buf, n=len(carry), carried=len(carry))
    buf[: len(carry)] = carry
    try:
        read(block, size)
    except broken_errors() as exc:
        block.broken, block.eof = exc, True
    block.end = end = buf.rfind(b"\n", 0, block.n) + 1
    if long_line(buf, block.n, max_line):
        block.long = True
        return block
    known = made(block) if made is not None else None
    if known is not None:
        block.hits, block.index = known
        return block
    pool = workers() if block.n == size else None  # a full block: worth the threads
    count = pool.submit(newline_index, buf, end, chunk_bits) if pool is not None else None
    block.hits = candidates(find, buf, end, pool)
    block.index = count.result() if count is not None else newline_index(buf, end, chunk_bits)
    return block


def plain_reader(file: Any) -> Callable[[Block, int], None]:
    """Fill a block from a plain file, straight into it."""

    def read(block: Block, size: int) -> None:
        while block.n < size:
            with memoryview(block.buf) as view:
                got = file.readinto(view[block.n : size])
            if not got:
                block.eof = True
                return
            block.n += got
            block.got += got

    return read


class StreamFill:
    """Fills blocks from a (decompressed) stream ``READ`` bytes at a time, exactly as the line
    reader reads it (what does not fit a block waits in ``rest`` for the next), so that a
    stream that breaks part way breaks after the same bytes and lines."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.rest = b""  # read, not yet in a block

    def __call__(self, block: Block, size: int) -> None:
        buf, rest = block.buf, self.rest
        while block.n < size:
            if not rest:
                rest = self.stream.read1(READ)
                if not rest:
                    block.eof = True
                    break
                block.got += len(rest)
            room = min(size - block.n, len(rest))
            buf[block.n : block.n + room] = rest[:room]
            block.n += room
            rest = rest[room:]
        self.rest = rest


SPLIT_BYTES = 1 << 20  # a block of complete lines from this size is searched in two halves


def candidates(find: Finder, buf: bytearray, end: int, pool: Executor | None = None) -> list[int]:
    """The finder's offsets in the complete lines, with every NUL byte's and the first line's.
    With a ``pool``, its second half is searched there while this thread searches the first
    (the search in C releases the GIL): cut at a newline, which starts the second half (a
    pattern that matches a line start does so with the newline before it; no match ends on a
    newline, so none is found twice)."""
    view = memoryview(buf)
    cut = buf.rfind(b"\n", 0, end // 2) if pool is not None and end >= SPLIT_BYTES else -1
    if cut > 0 and pool is not None:
        later = pool.submit(find, view[cut:end])
        hits = find(view[:cut])
        hits += [cut + hit for hit in later.result()]
    else:
        hits = find(view[:end]) if end else []
    nul = buf.find(0, 0, end)
    if nul >= 0:
        while nul >= 0:
            hits.append(nul)
            nul = buf.find(0, buf.find(b"\n", nul, end), end)
        hits.sort()
    return [0, *hits] if end else hits


def long_line(buf: bytearray, n: int, limit: int) -> bool:
    """A line of ``limit`` bytes or more in the block (conservative: bytes >= chars)."""
    width = limit // 2
    for k in range(0, n - width + 1, width):
        if buf.find(b"\n", k, k + width) < 0:
            start = buf.rfind(b"\n", 0, k) + 1
            stop = buf.find(b"\n", k, n)
            if (stop if stop >= 0 else n) - start >= limit:
                return True
    return False


def newline_index(buf: bytearray, end: int, chunk_bits: int) -> list[int]:
    """The newlines in ``buf`` before each multiple of ``1 << chunk_bits`` up to ``end``.

    CPython's ``count`` of one byte is a plain loop over every byte; deleting the newlines
    (``replace``) finds each with ``memchr``: a third quicker on lines of 32 bytes or more,
    and up to 15 times slower on very short ones. A chunk is counted the way that suits the
    chunk before it (``bench/bench_count.py`` measures both ways)."""
    step = 1 << chunk_bits
    dense = step >> 5  # more newlines than this in a chunk: lines under 32 bytes, count them
    index, total, last = [0], 0, 0
    for k in range(0, end, step):
        stop = min(k + step, end)
        if last > dense:
            last = buf.count(b"\n", k, stop)
        else:
            piece = buf[k:stop]
            last = len(piece) - len(piece.replace(b"\n", b""))
        total += last
        index.append(total)
    return index


def broken_errors() -> tuple[type[BaseException], ...]:
    """What a stream that breaks part way raises (as :meth:`Input.lines` catches it)."""
    return (*read_errors(), UnicodeError, zlib.error)


def decoded(raw: bytes | bytearray) -> str:
    """A line's bytes as :meth:`Input.lines <oomsleuth.load.files.Input.lines>` gives it: UTF-8
    with surrogate escapes, NULs dropped."""
    line = raw.decode("utf-8", "surrogateescape")
    return line.replace("\x00", "") if "\x00" in line else line


class Threads:
    """The counting and searching threads of a reader (only big inputs start them): a full
    block's newlines are indexed and its second half searched on them while the reader's own
    thread searches the first half (the search in C releases the GIL). Made at the first call,
    shut down with ``stack``."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack: ExitStack = stack
        self._pool: ThreadPoolExecutor | None = None

    def __call__(self) -> Executor:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(2, thread_name_prefix="oomsleuth-count")
            self._stack.callback(self._pool.shutdown)
        return self._pool
