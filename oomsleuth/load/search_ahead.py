"""A big file's blocks searched and indexed ahead, in a process of their own.

For each block, :class:`~oomsleuth.load.blocks.BlockLines` needs the finder's candidate offsets
(the hyperscan search) and the count of newlines before each chunk (the index its jumps count
from). Made in the reading process, the two took the second core only while they ran side by
side, and not even then on a log with reports: ``bytearray.count`` holds the GIL, and every match
the search reports must take the GIL back, so the search waited on the count; the parsing then
ran alone. A process of its own (:mod:`oomsleuth.load.search_worker`, started with this
Python and this oomsleuth) holds no lock of the reader's: it opens the same input afresh (a
compressed one decompressed again), makes the same blocks with the same
:func:`~oomsleuth.load.block_fill.make_block` (each the last one's incomplete line and then the
input until the block is full, a stream read in the line reader's pieces), a finder for the
same patterns and its own counting thread, and writes each block's hits and index down a pipe,
ahead of the reader by up to a pipe's worth. The reader then only reads the bytes and parses;
the search and the count of the next blocks go on beside it. A fresh program rather than a
fork: a forked copy kept ~25 MB of the reader's pages (each page the reader wrote to after
the fork, which Python's reference counts make most of them); this one takes ~15 MB.

Hits and index are functions of the block's bytes only (the finders give the same lines), so
they are the ones the reader would make; the reader still checks each record against its own
block (bytes read, size, end of the last complete line, the first and last bytes: of a plain
file, whose bytes it reads only where it looks, :mod:`.block_lazy`, those it reads at once)
and at the first difference (a file that grew or changed under us) stops the process and makes
its blocks itself, as it does when the process dies (the OOM killer is about on the hosts this
runs on) or when the reader hands over to the line reader. Used for files of
``blocks.AHEAD_BYTES`` or more (compressed: an eighth of that) when there are two cores, helper
processes are allowed (``OOMSLEUTH_NO_FORK``), memory is to spare
(:func:`~oomsleuth.load.forking.roomy`) and this is not a daemonic worker (several files parsed
side by side, a Dask worker: the cores are taken).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import weakref
from pathlib import Path
from typing import IO

from oomsleuth.load.files import Input
from oomsleuth.load.forking import cores, daemonic, fork_forbidden, roomy
from oomsleuth.load.literals import Finder, patterns_of
from oomsleuth.load.search_worker import Job, key

Made = tuple[list[int], list[int]]  # a block's hits and newline index
# bytes read, bytes held, end of its complete lines, its first and last bytes (search_worker.key),
# Made, whether it holds a line too long, the error that broke the stream (or None)
Record = tuple[int, int, int, bytes, bytes, Made, bool, "BaseException | None"]
_ROOT = str(Path(__file__).resolve().parent.parent.parent)  # where this oomsleuth is imported from
_PROGRAM = (
    f"import sys; sys.path.insert(0, {_ROOT!r})\n"
    "from oomsleuth.load.search_worker import main; main()"
)


class SearchAhead:
    """The process that searches one input ahead, and the reading end of its pipe."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.pid = process.pid
        self.pipe: IO[bytes] | None = process.stdout
        self.used = 0  # blocks whose hits and index came from the process
        # a reader dropped unclosed (a consumer that stopped early) still stops and reaps it
        self._stop = weakref.finalize(self, _stop, process)

    @classmethod
    def start(cls, source: Input, find: Finder, sizes: tuple[int, int, int]) -> SearchAhead | None:
        """A process making the blocks of ``source`` (a file, read afresh) with ``find``'s
        patterns (``sizes``: block bytes, longest line, chunk bits); None when helper
        processes are forbidden or unwise (module doc)."""
        patterns = patterns_of(find)
        if patterns is None or source.path is None or not sys.executable:
            return None
        if fork_forbidden() or cores() < 2 or not roomy() or daemonic():
            return None
        job = Job(source.name, str(source.path), source.max_line, patterns, sizes)
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _PROGRAM],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        ahead = cls(process)
        try:
            assert process.stdin is not None
            import pickle

            pickle.dump(job, process.stdin)
            process.stdin.close()
        except OSError:  # it died at once: the reader makes its blocks itself
            ahead.close()
        return ahead

    def made(self, buf: bytearray, got: int, n: int, end: int) -> Made | None:
        """The hits and index of the block just read into ``buf`` (``got`` bytes read, ``n`` in
        all, complete lines up to ``end``); None, and the process stopped, when it has none or
        its block is not this one."""
        record = self.record()
        if record is None or record[:5] != key(buf, got, n, end):
            self.close()
            return None
        self.used += 1
        return record[5]

    def record(self) -> Record | None:
        """The next block's record as it was made (:mod:`.block_lazy` reads the block's bytes
        only where they are needed, and checks the record itself; ``used`` is counted by whoever
        uses it); None, and the process stopped, when it has none."""
        if self.pipe is None:
            return None
        import pickle  # (only a big input gets here: no import for the others)

        try:
            record = pickle.load(self.pipe)
        except Exception:  # the process died, or left (an error: it makes no more)
            record = None
        if not isinstance(record, tuple) or len(record) != 8:
            self.close()
            return None
        return record

    def close(self) -> None:
        """Stop the process (if still running) and reap it."""
        self.pipe = None
        self._stop()  # (once)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        process.kill()
    process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
