"""Reading one input: a file or standard input, compressed or not, as decoded text lines.

`Input.lines()` streams decoded text lines in constant memory: compression is detected by magic
bytes (gzip through the optional `isal` where installed, else the stdlib's; xz, bzip2 from the
stdlib; zstd through the optional `zstandard` package); bytes
become text as :mod:`oomsleuth.load.text` says (UTF-8 or UTF-16, junk tolerated, over-long lines
cut to their last kernel-looking part). A stream that breaks part way (a truncated or corrupt
rotation, an I/O error) ends there with a warning; what was read before is kept.
"""

from __future__ import annotations

import importlib
import io
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from oomsleuth.errors import InputError
from oomsleuth.load.text import (
    LOGLIKE,
    PIECE,
    RESCUE_BYTES,
    SNIFF_BYTES,
    LineBlocks,
    encoding_of,
    looks_binary,
)
from oomsleuth.model import Warning_, Where
from oomsleuth.model.record import record

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_LINE_BYTES = 1 << 20  # a longer line keeps its last part of this many characters
_CHUNK = 1 << 16
_PLAIN_READ = 8 * PIECE  # a plain file's read (a long line holds ~MAX_LINE_BYTES + this)
_BATCH = 8  # reads of PIECE bytes joined into one piece
_JOURNALD_MAGIC = b"LPKSHHRH"
_ZSTD_HINT = "install zstd support with: pip install 'oomsleuth[zstd]'"


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Replay(io.RawIOBase):
    """A raw stream that serves already-read `prefix` bytes, then the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: _Readable) -> None:
        self._prefix = memoryview(prefix)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        out = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(out), len(self._prefix))
            out[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._stream.read(len(out))
        out[: len(data)] = data
        return len(data)


def _buffered(prefix: bytes, stream: _Readable) -> io.BufferedReader:
    return io.BufferedReader(_Replay(prefix, stream), buffer_size=_CHUNK)


def read_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error)
    lzma = sys.modules.get("lzma")  # (each decompressor imported only when an input needs it)
    errors = (*errors, lzma.LZMAError) if lzma is not None else errors
    zstd = sys.modules.get("zstandard")
    errors = (*errors, zstd.ZstdError) if zstd is not None else errors
    isal = sys.modules.get("isal.isal_zlib")
    return (*errors, isal.error) if isal is not None else errors


def _gzip_reader(stream: io.BufferedReader) -> _Readable:
    """python-isal's gzip reader where it is installed (the ``fast`` extra: it decompresses
    about 2.7 times as fast), else the stdlib's."""
    try:
        igzip: Any = importlib.import_module("isal.igzip")
    except ImportError:
        import gzip

        return gzip.GzipFile(fileobj=stream, mode="rb")
    reader: _Readable = igzip.GzipFile(fileobj=stream, mode="rb")
    return reader


def _zstd_reader(stream: _Readable, name: str) -> _Readable:
    try:
        zstd: Any = importlib.import_module("zstandard")
    except ImportError:
        raise InputError(f"{name} is zstd-compressed; {_ZSTD_HINT}") from None
    reader: _Readable = zstd.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
    return reader


def decompressed(raw: _Readable, name: str) -> _Readable:
    """Wrap `raw` in the decompressor its magic bytes call for (or none)."""
    magic = raw.read(6)
    stream = _buffered(magic, raw)
    if magic.startswith(b"\x1f\x8b"):
        return _gzip_reader(stream)
    if magic.startswith(b"\xfd7zXZ\x00"):
        import lzma

        return lzma.LZMAFile(stream)
    if magic[:3] == b"BZh" and magic[3:4].isdigit():
        import bz2

        return bz2.BZ2File(stream)
    if magic.startswith(b"\x28\xb5\x2f\xfd"):
        return _zstd_reader(stream, name)
    return stream


def checked_head(stream: _Readable, name: str) -> tuple[bytes, str | None]:
    """The first block of a stream and its text encoding (None: UTF-8); raises InputError for
    a binary journald file or binary data with no log line near its head."""
    head = stream.read(SNIFF_BYTES)
    if head.startswith(_JOURNALD_MAGIC):
        raise InputError(
            f"{name} is a binary journald file; convert it first: "
            f"journalctl --file {name} -o export > {Path(name).name}.export"
        )
    encoding = encoding_of(head)
    if encoding is None and looks_binary(head):
        more = stream.read(RESCUE_BYTES)
        if not LOGLIKE.search(head + more):
            raise InputError(f"{name} does not look like a text log (binary data)")
        head += more
    return head, encoding


def reason(exc: BaseException) -> str:
    """What went wrong, in words that do not depend on which library read the data: a
    decompressor's error (stdlib, python-isal, zstandard) always says ``cannot decompress``."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc) or type(exc).__name__
    if _is_decompression(exc) and "decompress" not in text.lower():
        return f"cannot decompress: {text}"
    return text


def _is_decompression(exc: BaseException) -> bool:
    if isinstance(exc, (EOFError, zlib.error)):
        return True
    for name, error in (("lzma", "LZMAError"), ("gzip", "BadGzipFile")):
        loaded = sys.modules.get(name)  # not imported: none of its errors can have been raised
        if loaded is not None and isinstance(exc, getattr(loaded, error)):
            return True
    module = type(exc).__module__ or ""
    return module.startswith(("isal", "igzip", "zstd", "zstandard"))


Problem = Callable[[Warning_], None]


Opener = Callable[[], AbstractContextManager[_Readable]]


@record(frozen=True)
class Input:
    """One input: a file (`path` set), a member of an archive or anything else that can be
    opened for reading (`opener` set), or standard input (neither)."""

    name: str
    path: Path | None
    # a longer line is cut; history readers raise it for one-line JSON (Prometheus responses)
    max_line: int = MAX_LINE_BYTES
    opener: Opener | None = None

    def open(self, stack: ExitStack) -> _Readable:
        """The raw byte stream, closed with ``stack``."""
        if self.opener is not None:
            return stack.enter_context(self.opener())
        if self.path is None:
            return sys.stdin.buffer
        return stack.enter_context(self.path.open("rb"))

    def lines(self, problem: Problem | None = None) -> Iterator[str]:
        """Decoded lines without their line ending. Raises InputError when nothing can be read
        at all; a stream that breaks later (a truncated or corrupt compressed file, an I/O
        error) ends where it broke, and ``problem`` hears where and what was kept."""
        for block in self.line_blocks(problem):
            yield from block

    def line_blocks(self, problem: Problem | None = None) -> Iterator[list[str]]:
        """:meth:`lines` a list at a time (each list holds at least one line): what a reader
        that wants no Python step per line iterates (``itertools.chain.from_iterable``)."""
        report = problem or (lambda w: None)
        with ExitStack() as stack:
            try:
                stream = decompressed(self.open(stack), self.name)
                head, encoding = checked_head(stream, self.name)
            except read_errors() as exc:
                raise InputError(f"cannot read {self.name}: {reason(exc)}") from None

            def long_line(line: int, message: str) -> None:
                report(Warning_(Where(self.name, line), "line-too-long", message))

            plain = self.path is not None and self.opener is None and uncompressed(stream)
            pieces = _pieces(head, stream, plain)
            lines = LineBlocks(pieces, self.max_line, long_line, encoding)
            broken: tuple[type[BaseException], ...] = (*read_errors(), UnicodeError, zlib.error)
            try:
                yield from lines
            except broken as exc:
                count = lines.lineno
                report(
                    Warning_(
                        Where(self.name, count),
                        "input-damaged",
                        f"{self.name} breaks after line {count} ({reason(exc)}): the "
                        f"{count} line(s) before it were read, the rest could not be",
                    )
                )


def uncompressed(stream: object) -> bool:
    """True when :func:`decompressed` found no compression (it gave back a plain buffer)."""
    return type(stream) is io.BufferedReader


def _pieces(head: bytes, stream: _Readable, plain: bool) -> Iterator[bytes]:
    """The decompressed bytes after ``head``, in pieces that a decoder error splits as
    ``io.TextIOWrapper`` would (``PIECE`` bytes from each piece's start): a plain file in big
    reads; any other stream ``PIECE`` bytes a read (the bytes a decompressor gives before an
    error depend on it), full reads joined."""
    if head:
        yield head
    if plain:
        while data := stream.read(_PLAIN_READ):
            yield data
        return
    batch: list[bytes] = []
    try:
        while data := stream.read(PIECE):
            batch.append(data)
            if len(data) < PIECE or len(batch) == _BATCH:  # a short read ends a piece
                yield b"".join(batch)
                batch = []
    except Exception:  # what was read before a break is read
        if batch:
            yield b"".join(batch)
        raise
    if batch:
        yield b"".join(batch)
