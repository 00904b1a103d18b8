"""The journal export format (``journalctl -o export``), read one physical line at a time."""

from __future__ import annotations

import re

from oomsleuth.model.patterns import lazy_compile

_FIELD = lazy_compile(r"([A-Za-z0-9_]+)=(.*)\Z", re.S)
_BINARY_KEY = lazy_compile(r"[A-Za-z0-9_]+\Z")
_MAX_BINARY = 1 << 24  # a longer "length" means we are not looking at a real binary field


def _byte_len(text: str) -> int:
    return len(text.encode("utf-8", errors="replace"))


class ExportReader:
    """A line-at-a-time reader of the journal export format.

    Records are ``KEY=value`` lines ended by a blank line. A binary field is ``KEY`` alone on its
    line, then a 64-bit little-endian length and the raw data, then a newline; since our input has
    already been split into lines, the data is rebuilt by joining lines until the length is met.
    Anything that does not fit (a bad length, non-byte characters) is taken as it is.
    """

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.start = 0
        self._ready: list[tuple[int, dict[str, str]]] = []
        self._key: str | None = None  # a binary field being collected
        self._buf: str | None = None
        self._need = -1  # byte length of the binary data, -1 until read

    def feed(self, line: str, lineno: int) -> bool:
        """Take one physical line. False: the line is not export data (the record so far is
        finished and can be taken)."""
        if self._key is not None:
            self._collect(line)
            return True
        if line == "":
            self._finish()
            return True
        match = _FIELD.match(line)
        if match is None and _BINARY_KEY.match(line) is None:
            self._finish()
            return False
        if not self.fields:
            self.start = lineno
        if match is not None:
            self.fields.setdefault(match[1], match[2])
        else:
            self._key, self._buf, self._need = line, None, -1
        return True

    def _collect(self, line: str) -> None:
        buf = line if self._buf is None else self._buf + "\n" + line
        if self._need < 0:
            if len(buf) < 8:
                self._buf = buf
                return
            head, buf = buf[:8], buf[8:]
            need = -1
            if all(ord(c) < 256 for c in head):
                need = int.from_bytes(bytes(ord(c) for c in head), "little")
            if not 0 <= need <= _MAX_BINARY:
                self._store(head + buf)  # not a length: keep the text as it is
                return
            self._need = need
        if _byte_len(buf) >= self._need:
            self._store(buf)
        else:
            self._buf = buf

    def _store(self, value: str) -> None:
        assert self._key is not None
        self.fields.setdefault(self._key, value)
        self._key, self._buf, self._need = None, None, -1

    def _finish(self) -> None:
        if self._key is not None and self._buf is not None:
            self._store(self._buf[8:] if self._need < 0 else self._buf)
        self._key = None
        if self.fields:
            self._ready.append((self.start, self.fields))
        self.fields = {}

    def finish(self) -> None:
        """End of input: finish the record being read."""
        self._finish()

    def take(self) -> list[tuple[int, dict[str, str]]]:
        """The records completed so far, as (first line number, fields)."""
        ready, self._ready = self._ready, []
        return ready
