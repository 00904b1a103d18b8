"""How far reading has got, on stderr: for an input over ``SHOW_FROM`` bytes, when stderr is a
terminal, one transient line with the bytes read (of how many, when known), the rate and the
time left; nothing otherwise (small inputs, pipes, files)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

from oomsleuth.errors import printable

SHOW_FROM = 100 << 20
MB = 1 << 20


class Reading:
    """The ``on_progress`` callback of :func:`oomsleuth.analyze` behind the status line."""

    def __init__(self) -> None:
        self._status: Any = None
        self._stack = contextlib.ExitStack()
        self._source = ""
        self._start = 0.0

    def __call__(self, source: str, lines: int, done: int = 0, total: int | None = None) -> None:
        if source != self._source:
            self._source, self._start = source, time.monotonic()
        if self._status is None:
            if max(done, total or 0) < SHOW_FROM:
                return
            from rich.console import Console

            console = Console(stderr=True)
            self._status = self._stack.enter_context(console.status("reading…"))
        self._status.update(self._text(source, lines, done, total))

    def _text(self, source: str, lines: int, done: int, total: int | None) -> Any:
        from rich.text import Text

        spent = time.monotonic() - self._start
        rate = done / spent if spent > 0 else 0.0
        size = f"{done / MB:,.0f} of {total / MB:,.0f} MB" if total else f"{done / MB:,.0f} MB"
        left = ""
        if total and rate > 0 and total >= done:
            left = f", {_clock((total - done) / rate)} left"
        # a Text, never markup: no [tag] or :emoji: of a file name is interpreted
        return Text(
            f"reading {printable(source)}: {size}, {lines:,} lines, {rate / MB:,.0f} MB/s{left}"
        )

    def close(self) -> None:
        self._stack.close()


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


@contextlib.contextmanager
def progress() -> Iterator[Reading | None]:
    """A :class:`Reading` while stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        yield None
        return
    reading = Reading()
    try:
        yield reading
    finally:
        reading.close()
