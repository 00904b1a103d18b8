"""The search-ahead process's program: ``python -c`` runs :func:`main` (see
:mod:`oomsleuth.load.search_ahead`).

It reads its job from standard input (a pickled :class:`Job`), opens the input afresh as the
reader does (:func:`fill`), makes the same blocks with the same
:func:`~oomsleuth.load.block_fill.make_block` and a finder for the same patterns, and writes
each block's key, hits and index to standard output, pickled, until the input ends or the
reader hands over to the line reader. It imports only what that needs (~15 MB of memory, where
a forked copy of the reader kept ~25 MB of the reader's pages).

A block is searched on two threads and its newlines counted on a third (:func:`make_block`)
while the reader waits for it or is about to; when a whole record still waits in the pipe (the
reader is busy parsing), on this thread alone: the threads' handovers cost CPU the reader's
parsing could use (the 1 GB noisy log of ``bench/``: ~2% less CPU and wall, 12 runs each).
"""

from __future__ import annotations

import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NamedTuple

from oomsleuth.load.block_fill import Block, StreamFill, make_block, plain_reader
from oomsleuth.load.files import Input, _buffered, checked_head, decompressed, uncompressed

SAMPLE = 32  # bytes compared at each end of a block
SWITCH_S = 1e-4  # the GIL's switch interval here (see main)


class Job(NamedTuple):
    """What the process is to read: the input (name, path, longest line), the finder's
    patterns, the block sizes (block bytes, longest line, chunk bits)."""

    name: str
    path: str
    max_line: int
    patterns: tuple[bytes, ...]
    sizes: tuple[int, int, int]


def key(buf: bytes | bytearray, got: int, n: int, end: int) -> tuple[Any, ...]:
    """What the reader checks a record against: bytes read, bytes held, end of the last
    complete line, and the first and last bytes of those lines."""
    return got, n, end, bytes(buf[: min(SAMPLE, end)]), bytes(buf[max(0, end - SAMPLE) : end])


def fill(source: Input, stack: ExitStack) -> Any:
    """The block filler of a fresh opening of ``source``, as
    :meth:`~oomsleuth.load.blocks.BlockLines._open` makes it."""
    stream = decompressed(source.open(stack), source.name)
    if uncompressed(stream) and source.path is not None:
        return plain_reader(stack.enter_context(source.path.open("rb", buffering=0)))
    head, _ = checked_head(stream, source.name)
    return StreamFill(_buffered(head, stream))


def queued(pipe: Any) -> int:
    """Bytes written to ``pipe`` that its reader has not read yet (0 when unknown)."""
    import fcntl
    import termios

    room = bytearray(4)
    try:
        fcntl.ioctl(pipe.fileno(), termios.FIONREAD, room)
    except (OSError, ValueError):
        return 0
    return int.from_bytes(room, sys.byteorder)


def main() -> None:
    """Run the job on standard input (module doc); exit 0 at its end."""
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    from oomsleuth.load.literals import finder

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the reader's to handle
    # The counting thread holds the GIL between its C calls; a search thread that wants it
    # back (to start, or at a match) waits out the switch interval: 5 ms by default, about a
    # block's whole search. This process runs nothing else: hand the GIL over sooner.
    sys.setswitchinterval(SWITCH_S)
    job: Job = pickle.load(sys.stdin.buffer)
    source = Input(job.name, Path(job.path), max_line=job.max_line)
    find, _ = finder(job.patterns)
    buf, out = bytearray(job.sizes[0]), sys.stdout.buffer
    with ExitStack() as stack, ThreadPoolExecutor(2) as pool:
        read, carry, last = fill(source, stack), b"", 0
        while True:
            # a block ahead of the reader: made on this thread alone (less CPU for the reader)
            threads = (lambda: pool) if queued(out) <= last else (lambda: None)
            block: Block = make_block(buf, carry, read, find, job.sizes, threads)
            made = (block.hits or [], block.index or [0])
            record = pickle.dumps(
                (*key(buf, block.got, block.n, block.end), made, block.long, block.broken)
            )
            out.write(record)
            out.flush()
            last = len(record)
            if block.eof or block.long:  # the reader reads no further, or hands over
                return
            carry = bytes(buf[block.end : block.n])
