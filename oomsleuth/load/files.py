"""Reading one input: a file or standard input, compressed or not, as decoded text lines.

`Input.lines()` streams decoded text lines in constant memory: compression is detected by magic
bytes (gzip, xz, bzip2 from the stdlib; zstd through the optional `zstandard` package), bytes are
decoded as UTF-8 (undecodable bytes kept as surrogate escapes, shown as `\\xNN` by the renderers),
NUL bytes are dropped and a line longer than `MAX_LINE_BYTES` characters is cut to that length.
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import io
import lzma
import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from oomsleuth.errors import InputError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_LINE_BYTES = 1 << 20  # a longer line is cut to this many bytes
SNIFF_BYTES = 8192  # decompressed bytes inspected to tell text from binary
_CHUNK = 1 << 16
_JOURNALD_MAGIC = b"LPKSHHRH"
_NUL_BLOCK = re.compile(rb"\x00{64,}")  # zeroed blocks a crash leaves in a log: not binary
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")  # keeps \t \n \v \f \r ESC
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
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, lzma.LZMAError)
    zstd = sys.modules.get("zstandard")
    return (*errors, zstd.ZstdError) if zstd is not None else errors


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
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(stream)
    if magic[:3] == b"BZh" and magic[3:4].isdigit():
        return bz2.BZ2File(stream)
    if magic.startswith(b"\x28\xb5\x2f\xfd"):
        return _zstd_reader(stream, name)
    return stream


def _looks_binary(head: bytes) -> bool:
    """Scattered NULs or mostly control/invalid-UTF-8 bytes mean binary data."""
    head = _NUL_BLOCK.sub(b"", head)
    if head.count(0) > max(8, len(head) // 100):
        return True
    text = head.replace(b"\x00", b"").decode("utf-8", errors="replace")
    return len(_CONTROL.findall(text)) > len(text) // 4


def checked_head(stream: _Readable, name: str) -> bytes:
    head = stream.read(SNIFF_BYTES)
    if head.startswith(_JOURNALD_MAGIC):
        raise InputError(
            f"{name} is a binary journald file; convert it first: "
            f"journalctl --file {name} -o export > {Path(name).name}.export"
        )
    if _looks_binary(head):
        raise InputError(f"{name} does not look like a text log (binary data)")
    return head


def _split_lines(stream: io.BufferedReader, max_line: int = MAX_LINE_BYTES) -> Iterator[str]:
    """Lines split on ``\\n`` only, decoded in C by an incremental decoder (undecodable bytes
    kept as surrogate escapes), without the line ending and without NUL characters. A line
    longer than ``max_line`` characters is cut there and the rest of it dropped."""
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="\n")
    readline = text.readline
    while line := readline(max_line):
        if line[-1] == "\n":
            line = line[:-2] if line.endswith("\r\n") else line[:-1]
        elif len(line) == max_line:
            while (rest := readline(_CHUNK)) and not rest.endswith("\n"):
                pass  # drop the remainder of an over-long line
        if "\x00" in line:
            line = line.replace("\x00", "")
        yield line


def reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


@dataclass(frozen=True)
class Input:
    """One input: a file (`path` set) or standard input (`path` is None)."""

    name: str
    path: Path | None
    # a longer line is cut; history readers raise it for one-line JSON (Prometheus responses)
    max_line: int = MAX_LINE_BYTES

    def lines(self) -> Iterator[str]:
        """Decoded lines without their line ending. Raises InputError on unreadable input."""
        with ExitStack() as stack:
            try:
                if self.path is None:
                    raw: _Readable = sys.stdin.buffer
                else:
                    raw = stack.enter_context(self.path.open("rb"))
                stream = decompressed(raw, self.name)
                head = checked_head(stream, self.name)
                yield from _split_lines(_buffered(head, stream), self.max_line)
            except read_errors() as exc:
                raise InputError(f"cannot read {self.name}: {reason(exc)}") from None
