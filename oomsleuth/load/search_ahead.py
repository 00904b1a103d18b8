"""A big plain file's blocks searched and indexed ahead, in a forked process.

For each block, :class:`~oomsleuth.load.blocks.BlockLines` needs the finder's candidate offsets
(the hyperscan search) and the count of newlines before each chunk (the index its jumps count
from). Made in the reading process, the two took the second core only while they ran side by
side, and not even then on a log with reports: ``bytearray.count`` holds the GIL, and every match
the search reports must take the GIL back, so the search waited on the count; the parsing then
ran alone. A forked process holds no lock of this one: it reads the same file from its own
descriptor, makes the same blocks with the same :func:`~oomsleuth.load.block_fill.make_block`
(each the last one's incomplete line and then the file until the block is full), the same
finder (inherited) and its own counting thread, and writes each block's hits and index down a
pipe, ahead of the reader by up to a pipe's worth. The reader then only reads the bytes and
parses; the search and the count of the next blocks go on beside it.

Hits and index are functions of the block's bytes only, so they are the ones the reader would
make; the reader still checks each record against its own block (bytes read, size, end of the
last complete line, the first and last bytes) and at the first difference (a file that grew or
changed under us) stops the process and makes its blocks itself, as it does when the process
dies (the OOM killer is about on the hosts this runs on) or when the reader hands over to the
line reader. Used for plain files of ``AHEAD_BYTES`` or more when forking is allowed and safe
(:mod:`oomsleuth.load.forking`: not beside other threads, nor in a daemon such as the workers
that parse several files side by side) and there are two cores.
"""

from __future__ import annotations

import contextlib
import os
import signal
import weakref
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, BinaryIO

from oomsleuth.load.forking import cores, fork_forbidden, safe_to_fork
from oomsleuth.load.literals import Finder

if TYPE_CHECKING:
    from oomsleuth.load.block_fill import Block

AHEAD_BYTES = 64 << 20  # smaller inputs: the fork costs more than it saves
_SAMPLE = 32  # bytes compared at each end of a block
Made = tuple[list[int], list[int]]  # a block's hits and newline index
Fill = Callable[["Block", int], None]  # fills a block (block_fill.plain_reader, StreamFill)


class SearchAhead:
    """The process that searches one file ahead, and the reading end of its pipe."""

    def __init__(self, pid: int, pipe: BinaryIO) -> None:
        self.pid = pid
        self.pipe: BinaryIO | None = pipe
        self.used = 0  # blocks whose hits and index came from the process
        # a reader dropped unclosed (a consumer that stopped early) still stops and reaps it
        self._stop = weakref.finalize(self, _stop, pid, pipe)

    @classmethod
    def start(
        cls, fill: Callable[[ExitStack], Fill], find: Finder, sizes: tuple[int, int, int]
    ) -> SearchAhead | None:
        """A process making the blocks that ``fill(stack)`` (a fresh opening of the input)
        fills, with ``find`` (``sizes``: block bytes, longest line, chunk bits); None when
        forking is not allowed or not safe, or there is one core (module doc)."""
        if fork_forbidden() or cores() < 2 or not safe_to_fork():
            return None
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the process: never returns
            os.close(read)
            _search(fill, find, sizes, write)
        os.close(write)
        return cls(pid, os.fdopen(read, "rb"))

    def made(self, buf: bytearray, got: int, n: int, end: int) -> Made | None:
        """The hits and index of the block just read into ``buf`` (``got`` bytes read, ``n`` in
        all, complete lines up to ``end``); None, and the process stopped, when it has none or
        its block is not this one."""
        if self.pipe is None:
            return None
        import pickle  # (only a big input gets here: no import for the others)

        try:
            record = pickle.load(self.pipe)
        except Exception:  # the process died, or left (an error: it makes no more)
            record = None
        if record is None or record[:5] != _key(buf, got, n, end):
            self.close()
            return None
        self.used += 1
        made: Made = record[5]
        return made

    def close(self) -> None:
        """Stop the process (if still running) and reap it."""
        self.pipe = None
        self._stop()  # (once)


def _stop(pid: int, pipe: BinaryIO) -> None:
    pipe.close()
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)


def _key(buf: bytes | bytearray, got: int, n: int, end: int) -> tuple[Any, ...]:
    return got, n, end, bytes(buf[: min(_SAMPLE, end)]), bytes(buf[max(0, end - _SAMPLE) : end])


def worth(size: int, compressed: bool) -> bool:
    """Whether an input of ``size`` bytes on disk is worth a process (a compressed one holds
    about ten times more)."""
    return size * (8 if compressed else 1) >= AHEAD_BYTES


def _search(
    fill: Callable[[ExitStack], Fill], find: Finder, sizes: tuple[int, int, int], write: int
) -> None:
    """In the process: each block's key, hits and index down the pipe, then exit."""
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    from oomsleuth.load.block_fill import make_block

    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the reader's to handle
        buf = bytearray(sizes[0])
        with ExitStack() as stack, open(write, "wb") as pipe, ThreadPoolExecutor(1) as pool:
            read, carry = fill(stack), b""
            while True:
                block = make_block(buf, carry, read, find, sizes, lambda: pool)
                made = (block.hits or [], block.index or [0])
                pickle.dump((*_key(buf, block.got, block.n, block.end), made), pipe)
                pipe.flush()
                if block.eof or block.long:  # the reader reads no further, or hands over
                    break
                carry = bytes(buf[block.end : block.n])
    except BaseException:
        code = 1
    finally:
        os._exit(code)
