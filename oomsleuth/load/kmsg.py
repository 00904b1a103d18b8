"""Reading this boot's kernel ring buffer from /dev/kmsg without blocking.

Each ``read`` of /dev/kmsg returns one record (``prio,seq,usec,flags;text`` and its continuation
lines); at the end of the buffer a non-blocking read fails with EAGAIN. Records overwritten while
reading (EPIPE) are skipped: the next read returns the oldest record still there.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

RECORD_BYTES = 8192  # larger than any record (the kernel's limit is about 1 kB + dict)


class KmsgStream:
    """A byte stream over the records of /dev/kmsg present when it was opened."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pending = b""
        self._done = False

    def read(self, size: int = -1, /) -> bytes:
        while not self._done and (size < 0 or len(self._pending) < size):
            record = self._record()
            if record is None:
                self._done = True
            else:
                self._pending += record
        if size < 0:
            size = len(self._pending)
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def _record(self) -> bytes | None:
        while True:
            try:
                data = os.read(self._fd, RECORD_BYTES)
            except BlockingIOError:
                return None
            except OSError as exc:
                if exc.errno == errno.EPIPE:  # overwritten while reading: go on
                    continue
                raise
            if not data:
                return None
            return data if data.endswith(b"\n") else data + b"\n"


@contextmanager
def open_kmsg(path: str = "/dev/kmsg") -> Iterator[KmsgStream]:
    """/dev/kmsg from its oldest record to the newest present now. Raises OSError (EPERM when
    kernel.dmesg_restrict=1 and not root)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        yield KmsgStream(fd)
    finally:
        os.close(fd)
