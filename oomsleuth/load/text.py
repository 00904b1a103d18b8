"""Bytes to text lines, for logs as they are: junk at the head, NUL blocks a crash left, UTF-16
exports from Windows tools, lines longer than any log line should be.

- Text or binary is judged on the first block (``SNIFF_BYTES``): NUL bytes scattered through it
  (not a zeroed block, not UTF-16) or a head that is mostly control characters mean binary,
  unless a log-looking line turns up within the first ``RESCUE_BYTES`` (a log with a long line
  of junk at its head is still a log).
- A byte-order mark, or a NUL at every other byte, means UTF-16: decoded as such.
- Lines are split on ``\\n`` only; undecodable bytes are kept as surrogate escapes (shown as
  ``\\xNN``); NULs are dropped. A line longer than ``max_line`` keeps its last kernel-looking
  part (a ``Killed process`` glued after junk stays findable), and the cut is reported.
"""

from __future__ import annotations

import codecs
import io
from collections import deque
from collections.abc import Callable, Generator, Iterator
from functools import partial
from itertools import chain

from oomsleuth.model.patterns import lazy_compile

SNIFF_BYTES = 8192  # decompressed bytes inspected to tell text from binary
RESCUE_BYTES = 1 << 20  # how far to look for a log line when the head looks binary
CHUNK = 1 << 16
PIECE = 8192  # what io.TextIOWrapper reads at a time (a decoder error loses one piece)
_NUL_BLOCK = lazy_compile(rb"\x00{64,}")  # zeroed blocks a crash leaves in a log: not binary
# control characters and the replacement character: all but \t \n \v \f \r and ESC
_CONTROL = (*map(chr, (*range(0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20))), "\x7f", "\ufffd")
# the ASCII ones as bytes: a decoded ASCII byte is that character, an undecodable one U+FFFD
_CONTROL_BYTES = bytes(ord(c) for c in _CONTROL if c.isascii())
# a line a log framing or an OOM report would recognise (cheap, no framing import)
LOGLIKE = lazy_compile(
    rb"\[\s*\d+\.\d{3,}\]|\d\d:\d\d:\d\d|invoked oom-killer|Killed process|oom-kill:|"
    rb"Out of memory|__REALTIME_TIMESTAMP=|\"MESSAGE\""
)
_KERNELISH = lazy_compile(
    r"\[\s*\d+\.\d{3,}\]|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d|"
    r"Killed process|invoked oom-killer|oom-kill:|Out of memory"
)
Warn = Callable[[int, str], None]  # (line number, message)


def encoding_of(head: bytes) -> str | None:
    """``utf-16`` (with its byte order) when the head says so, else None (UTF-8)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:512]
    if len(sample) >= 8:
        odd, even = sample[1::2], sample[0::2]
        if odd.count(0) > len(odd) * 0.9 and even.count(0) < len(even) * 0.1:
            return "utf-16-le" if _readable(sample, "utf-16-le") else None
        if even.count(0) > len(even) * 0.9 and odd.count(0) < len(odd) * 0.1:
            return "utf-16-be" if _readable(sample, "utf-16-be") else None
    return None


def _readable(sample: bytes, encoding: str) -> bool:
    """Mostly printable text once decoded (not a binary that happens to hold NULs so)."""
    text = sample[: len(sample) // 2 * 2].decode(encoding, errors="replace")
    printable = sum(1 for c in text if c.isprintable() or c in "\t\r\n")
    return printable >= 0.9 * len(text)


def looks_binary(head: bytes) -> bool:
    """Scattered NULs or mostly control/invalid-UTF-8 bytes in the head (see module doc)."""
    if b"\x00" * 64 in head:  # (else there is nothing to remove: no compiling)
        head = _NUL_BLOCK.sub(b"", head)
    if head.count(0) > max(8, len(head) // 100):
        return True
    head = head.replace(b"\x00", b"")
    text = head.decode("utf-8", errors="replace")
    # one pass deleting the ASCII controls, one count of U+FFFD: no regex to compile, and no
    # pass per character
    control = len(head) - len(head.translate(None, _CONTROL_BYTES)) + text.count("\ufffd")
    return control > len(text) // 4


def split_lines(
    stream: io.BufferedReader,
    max_line: int,
    warn: Warn,
    encoding: str | None = None,
    first: int = 1,
) -> Iterator[str]:
    """Decoded lines without their line ending (see module doc); ``first``: the number of the
    stream's first line (a reader that takes over part way). Read as ``io.TextIOWrapper``
    reads: ``PIECE`` bytes at a time."""
    pieces = iter(partial(stream.read1, PIECE), b"")
    return chain.from_iterable(LineBlocks(pieces, max_line, warn, encoding, first))


class LineBlocks:
    """The lines of a stream of byte pieces, a list per piece (see the module doc): each piece
    is decoded once and split by ``str.split``, so a reader pays no Python step per line.

    The lines, warnings and errors are those of ``io.TextIOWrapper.readline`` over the same
    pieces (the reference this replaces): a piece that does not decode (UTF-16 only: UTF-8
    with surrogate escapes always decodes) is decoded again ``PIECE`` bytes at a time, as
    TextIOWrapper reads, and the error is raised after the lines before it; a line that is
    not over when the input breaks is lost. ``lineno``: the number of the last line given.
    """

    def __init__(
        self,
        pieces: Iterator[bytes],
        max_line: int,
        warn: Warn,
        encoding: str | None = None,
        first: int = 1,
    ) -> None:
        self._pieces = pieces
        self._decode = codecs.getincrementaldecoder(encoding or "utf-8")("surrogateescape").decode
        self._max, self._warn = max_line, warn
        self._ended = False
        self._parts: list[str] = []  # the text read and not yet given: a line's start
        self._size = 0  # its length
        self.lineno = first - 1

    def __iter__(self) -> Iterator[list[str]]:
        for piece in self._pieces:
            text, error = self._decoded(piece)
            if self._size < CHUNK or "\n" in text or self._size + len(text) >= self._max:
                self._parts.append(text)
                del text
                yield from self._split()
            else:  # a long line growing: joined once, when it ends (linear, not quadratic)
                self._parts.append(text)
                self._size += len(text)
            if error is not None:
                raise error
        self._ended = True
        self._parts.append(self._decode(b"", True))
        yield from self._split()
        if self._size:  # the last line, with no line ending
            self.lineno += 1
            yield ["".join(self._parts).replace("\x00", "")]

    def _decoded(self, piece: bytes) -> tuple[str, UnicodeError | None]:
        try:
            return self._decode(piece), None
        except UnicodeError:
            pass
        text: list[str] = []
        for i in range(0, len(piece), PIECE):
            try:
                text.append(self._decode(piece[i : i + PIECE]))
            except UnicodeError as exc:
                return "".join(text), exc
        return "".join(text), None  # pragma: no cover - the whole piece failed above

    def _split(self) -> Iterator[list[str]]:
        """Yields the complete lines of the text read so far; keeps the rest (a line's start)."""
        text, self._parts = "".join(self._parts), []
        while True:
            cut = text.rfind("\n")
            body, carry = text[: max(cut, 0)], text[cut + 1 :]
            if cut >= self._max:
                raw = body.split("\n")
                long = next((i for i, n in enumerate(map(len, raw)) if n >= self._max), None)
                if long is not None:
                    chars = _Chars(text[sum(map(len, raw[:long])) + long :], self._more)
                    lines = [_normal(line)[0] for line in raw[:long]]
                    del text, body, carry, raw
                    self._parts, self._size = [], 0
                    text = yield from self._long(lines, chars)
                    continue
            if cut >= 0:
                lines = _normal(body)
                self.lineno += len(lines)
                yield lines
            if len(carry) < self._max:
                self._parts, self._size = [carry], len(carry)
                return
            chars = _Chars(carry, self._more)
            del text, body, carry
            self._parts, self._size = [], 0
            text = yield from self._long([], chars)

    def _long(self, before: list[str], chars: _Chars) -> Generator[list[str], None, str]:
        """Yields ``before`` and the over-long line ``chars`` starts with, cut (the rest of it
        read from the pieces, as TextIOWrapper would); returns what follows it."""
        if before:
            self.lineno += len(before)
            yield before
        first = chars.readline(self._max)
        kept = _long(first, chars.readline, self._max, self.lineno + 1, self._warn)
        del first
        self.lineno += 1
        yield [kept.replace("\x00", "")]
        return chars.rest()

    def _more(self) -> str | None:
        """The next piece decoded (an error raised at once), None at the end."""
        piece = next(self._pieces, None)
        if piece is not None:
            return "".join(self._decode(piece[i : i + PIECE]) for i in range(0, len(piece), PIECE))
        if self._ended:
            return None
        self._ended = True
        return self._decode(b"", True) or None


def _normal(body: str) -> list[str]:
    """Lines of ``body`` (split on ``\\n``): one ``\\r`` before each line ending dropped,
    NULs dropped."""
    if "\r" in body:
        body = body.replace("\r\n", "\n")
        if body.endswith("\r"):
            body = body[:-1]
    if "\x00" in body:
        body = body.replace("\x00", "")
    return body.split("\n")


class _Chars:
    """The rest of a text, then more of it from ``more``, read by ``readline(limit)`` as
    ``io.TextIOWrapper.readline(limit)`` reads (for over-long lines: memory stays ~limit)."""

    def __init__(self, text: str, more: Callable[[], str | None]) -> None:
        self._buf, self._pos, self._more = text, 0, more

    def readline(self, limit: int) -> str:
        while True:
            start, end = self._pos, self._pos + limit
            newline = self._buf.find("\n", start, end)
            if newline >= 0 or len(self._buf) >= end:
                self._pos = newline + 1 if newline >= 0 else end
                return self._buf[start : self._pos]
            text = self._more()
            if text is None:
                self._pos = len(self._buf)
                return self._buf[start:]
            self._buf, self._pos = self._buf[start:] + text, 0

    def rest(self) -> str:
        return self._buf[self._pos :]


def _long(
    first: str, readline: Callable[[int], str], max_line: int, lineno: int, warn: Warn
) -> str:
    """The rest of an over-long line read in chunks; the last ``max_line`` characters kept, from
    their first kernel-looking start when there is one."""
    chunks: deque[str] = deque([first])
    held = total = len(first)
    while (rest := readline(CHUNK)) and not rest.endswith("\n"):
        chunks.append(rest)
        held, total = held + len(rest), total + len(rest)
        while held - len(chunks[0]) >= max_line:  # memory stays ~ max_line + CHUNK
            held -= len(chunks.popleft())
    if rest:
        chunks.append(rest[:-2] if rest.endswith("\r\n") else rest[:-1])
        total += len(chunks[-1])
    tail = "".join(chunks)[-max_line:]
    found = _KERNELISH.search(tail)
    kept = tail[found.start() :] if found else tail
    warn(
        lineno,
        f"line {lineno} is {total} characters long (more than any log line): "
        f"{'its last kernel-looking part' if found else 'its last part'} "
        f"({len(kept)} characters) is read, the rest skipped",
    )
    return kept
