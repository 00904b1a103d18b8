"""A big plain file's newlines counted ahead, in a forked process, for the block reader.

:class:`~oomsleuth.load.blocks.BlockLines` needs, for each block, the count of newlines before
each chunk (the index its jumps count from). ``bytearray.count`` does that a byte at a time
holding the GIL, ~0.8 s a GB here: on a counting thread it ran beside the hyperscan search,
which releases the GIL, but every match the search reports must take the GIL back, so on a log
with reports the search waited on the count (measured: the 1 GB noisy log took 0.9 s less with
no count at all). A forked counter holds no lock of this process: it reads the same file from
its own descriptor, cuts the same blocks (each the last one's incomplete line and then the file
until the block is full, as :func:`~oomsleuth.load.block_fill.plain_reader` fills them), and
writes each block's index down a pipe, ahead of the reader by up to a pipe's worth.

The index is a function of the block's bytes only, so it is the one the reader would count; the
reader still checks each record against its own block (bytes read, size, end of the last
complete line, the first and last bytes) and at the first difference (a file that grew or
changed under us) stops the counter and counts again itself, as it does when the counter dies
(the OOM killer is about on the hosts this runs on), or when the block reader hands over to the
line reader. Used for plain files of ``AHEAD_BYTES`` or more when forking is allowed and safe
(:mod:`oomsleuth.load.forking`) and there are two cores.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from pathlib import Path
from typing import Any, BinaryIO

from oomsleuth.load.forking import cores, fork_forbidden, safe_to_fork

AHEAD_BYTES = 64 << 20  # smaller files: the fork costs more than the count
_SAMPLE = 32  # bytes compared at each end of a block


class CountAhead:
    """The counter process of one file and the reading end of its pipe."""

    def __init__(self, pid: int, pipe: BinaryIO) -> None:
        self.pid = pid
        self.pipe: BinaryIO | None = pipe
        self.used = 0  # blocks whose index came from the counter

    @classmethod
    def start(cls, path: Path, sizes: tuple[int, int]) -> CountAhead | None:
        """A counter for ``path`` in blocks of ``sizes`` (block bytes, chunk bits); None when
        it is not worth it or not allowed (see the module doc)."""
        try:
            if os.stat(path).st_size < AHEAD_BYTES or fork_forbidden() or cores() < 2:
                return None
        except OSError:
            return None
        if not safe_to_fork():
            return None
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the counter: never returns
            os.close(read)
            _count(path, sizes, write)
        os.close(write)
        return cls(pid, os.fdopen(read, "rb"))

    def index(self, buf: bytearray, got: int, n: int, end: int) -> list[int] | None:
        """The index of the block just read into ``buf`` (``got`` bytes read, ``n`` in all,
        complete lines up to ``end``); None, and the counter stopped, when it has none or its
        block is not this one."""
        if self.pipe is None:
            return None
        try:
            record = pickle.load(self.pipe)
        except Exception:  # the counter died, or left (an error: it counts no further)
            record = None
        if record is None or record[:5] != _key(buf, got, n, end):
            self.close()
            return None
        self.used += 1
        index: list[int] = record[5]
        return index

    def close(self) -> None:
        """Stop the counter (if still running) and reap it."""
        if self.pipe is None:
            return
        self.pipe.close()
        self.pipe = None
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)


def _key(buf: bytes | bytearray, got: int, n: int, end: int) -> tuple[Any, ...]:
    return got, n, end, bytes(buf[: min(_SAMPLE, end)]), bytes(buf[max(0, end - _SAMPLE) : end])


def _count(path: Path, sizes: tuple[int, int], write: int) -> None:
    """In the counter: each block's key and index down the pipe, then exit."""
    from oomsleuth.load.block_fill import newline_index

    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the reader's to handle
        size, chunk_bits = sizes
        buf = bytearray(size)
        with open(path, "rb", buffering=0) as file, open(write, "wb") as pipe:
            n = 0  # bytes carried from the block before
            while True:
                got = _fill(file, buf, n, size)
                n += got
                end = buf.rfind(b"\n", 0, n) + 1
                index = newline_index(buf, end, chunk_bits)
                pickle.dump((*_key(buf, got, n, end), index), pipe)
                pipe.flush()
                if n < size or not end:  # the end of the file, or a line the reader hands over
                    break
                buf[: n - end] = buf[end:n]
                n -= end
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _fill(file: Any, buf: bytearray, n: int, size: int) -> int:
    """Read into ``buf`` from ``n`` until it holds ``size`` bytes or the file ends: the bytes
    read (as the reader's :func:`~oomsleuth.load.block_fill.plain_reader`)."""
    got = 0
    with memoryview(buf) as view:
        while n + got < size:
            piece = file.readinto(view[n + got : size])
            if not piece:
                break
            got += piece
    return got
