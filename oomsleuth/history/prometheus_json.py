"""Prometheus HTTP API JSON, read incrementally: the objects around the series are walked key
by key and each element of a ``result`` array is decoded on its own with
``json.JSONDecoder.raw_decode``, so memory holds one series at a time. A file may hold one
response, several (one per line, or a JSON array of them), a bare ``data`` object or a bare
``result`` array; text that is not such JSON is skipped, with a warning, up to a later line that
starts with ``{`` or ``[``. :func:`walk` yields (line, series object) pairs.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from typing import Any

from oomsleuth.history.common import WarnLimiter

_WS = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


class _Junk(Exception):
    """Input that is not the JSON we walk; the walk starts again at a later line."""


class Stream:
    """JSON text pulled line by line; consumed text is dropped from the buffer."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines, self.buf, self.pos, self.eof = iter(lines), "", 0, False
        # stream offsets of the buffered lines' starts; first: the number of the first of them
        self.base, self.first, self.lineno, self.starts = 0, 1, 0, list[int]()

    def fill(self, want: int = 1) -> bool:
        self.base += self.pos
        self.buf, self.pos = self.buf[self.pos :], 0
        if (drop := bisect_right(self.starts, self.base) - 1) > 0:
            del self.starts[:drop]
            self.first += drop
        parts: list[str] = []
        added = 0
        while added < want and not self.eof:
            line = next(self._lines, None)
            if line is None:
                self.eof = True
            else:
                self.lineno += 1
                self.starts.append(self.base + len(self.buf) + added)
                parts += (line, "\n")
                added += len(line) + 1
        self.buf += "".join(parts)
        return added > 0

    def peek(self) -> str:
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def line(self, pos: int | None = None) -> int:
        """The number of the line at ``pos`` (default: the next character)."""
        offset = self.base + (self.pos if pos is None else pos)
        return self.first + bisect_right(self.starts, offset) - 1

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise _Junk(f"expected {char!r} at line {self.line()}")
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        want = 1
        while True:
            try:
                value, self.pos = _DECODER.raw_decode(self.buf, self.pos)
                return value
            except json.JSONDecodeError as e:
                if e.pos < len(self.buf.rstrip()):
                    raise _Junk(f"{e.msg} at line {self.line(e.pos)}") from None
                if not self.fill(want):
                    raise _Junk("the input ends inside a JSON value (cut off?)") from None
                want = 2 * max(want, len(self.buf) - self.pos)  # amortized linear re-decoding

    def resync(self) -> None:
        """Drop text up to a later line that starts with '{' or '['."""
        self.pos = len(self.buf)
        while self.fill() and self.buf.lstrip()[:1] not in ("{", "["):
            self.pos = len(self.buf)


def walk(s: Stream, warn: WarnLimiter) -> Iterator[tuple[int, Any]]:
    """(line, series) for every series in every response of the stream."""
    while (c := s.peek()) != "":
        try:
            if c == "[":
                yield from _array(s, warn)
            elif c == "{":
                yield from _object(s, warn)
            else:
                raise _Junk("not JSON")
        except _Junk as e:
            warn(s.line(), "bad-json", str(e))
            s.resync()


def _array(s: Stream, warn: WarnLimiter) -> Iterator[tuple[int, Any]]:
    s.take("[")
    while (c := s.peek()) != "]":
        if c == "{":
            yield from _object(s, warn)
        else:
            s.value()
        if s.peek() == ",":
            s.pos += 1
    s.take("]")


def _object(s: Stream, warn: WarnLimiter) -> Iterator[tuple[int, Any]]:
    """Walk an object key by key: responses, ``data``, ``result`` and bare series."""
    s.take("{")
    line, small = s.line(), dict[str, Any]()
    while s.peek() != "}":
        key = s.value()
        s.take(":")
        if key == "data" and s.peek() == "{":
            yield from _object(s, warn)
        elif key == "result" and s.peek() == "[":
            s.pos += 1
            while s.peek() not in ("]", ""):
                line, item = s.line(), s.value()
                if isinstance(item, dict):
                    yield line, item
                if s.peek() == ",":
                    s.pos += 1
            s.take("]")
        else:
            small[str(key)] = s.value()
        if s.peek() == ",":
            s.pos += 1
    s.take("}")
    if "metric" in small and ("values" in small or "value" in small):
        yield line, small
    if small.get("status") == "error":
        warn(line, "query-error", f"{small.get('errorType')}: {small.get('error')}")
    for note in [*(small.get("warnings") or []), *(small.get("infos") or [])]:
        warn(line, "query-warning", str(note))
