"""The only module that reads input: files, '-' (stdin), compressed files and directories.

`resolve_inputs(args)` turns command-line arguments into `Input`s, checking each one up front
so a bad path fails before any output. `Input.lines()` streams decoded text lines in constant
memory: compression is detected by magic bytes (gzip, xz, bzip2 from the stdlib; zstd through
the optional `zstandard` package), bytes are decoded as UTF-8 (undecodable bytes kept as
surrogate escapes, shown as `\\xNN` by the renderers), NUL bytes are dropped and a line longer
than `MAX_LINE_BYTES` characters is cut to that length.

Directory rule: walk recursively (symlinked directories and dot-names are not followed) and pick
a file when its name, once a rotation suffix (`.N`, `-YYYYMMDD`, `-YYYYMMDDHH`) and a
compression suffix (`.gz .xz .bz2 .zst`) are removed, is one of `LOG_PREFIXES` or starts with
one followed by `.`, `-` or `_` (`dmesg.txt`, `journalctl_--no-pager`, not `journald.conf`), or
ends with one of `LOG_SUFFIXES`. Files are ordered by directory, then name, then age: the highest
rotation number (or earliest date) first, the live file last. Binary journald files (`*.journal`)
and unreadable or binary candidates are skipped with a warning.
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import io
import logging
import lzma
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from oomsleuth.errors import InputError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "LOG_PREFIXES",
    "LOG_SUFFIXES",
    "MAX_LINE_BYTES",
    "Input",
    "live_boot_time",
    "resolve_inputs",
]

MAX_LINE_BYTES = 1 << 20  # a longer line is cut to this many bytes
SNIFF_BYTES = 8192  # decompressed bytes inspected to tell text from binary
_CHUNK = 1 << 16
LOG_PREFIXES = ("kern.log", "messages", "syslog", "dmesg", "kmsg", "journal", "journalctl")
LOG_SUFFIXES = (".log", ".json", ".export")
_PREFIXED = re.compile(rf"^(?:{'|'.join(map(re.escape, LOG_PREFIXES))})(?:$|[._-])")
_ROTATED = re.compile(
    r"^(?P<base>.+?)(?:\.(?P<num>\d+)|-(?P<date>\d{8}(?:\d{2})?))?(?:\.(?:gz|xz|bz2|zst))?$"
)
_JOURNALD_MAGIC = b"LPKSHHRH"
_NUL_BLOCK = re.compile(rb"\x00{64,}")  # zeroed blocks a crash leaves in a log: not binary
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")  # keeps \t \n \v \f \r ESC
_ZSTD_HINT = "install zstd support with: pip install 'oomsleuth[zstd]'"
_log = logging.getLogger(__name__)


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


def _read_errors() -> tuple[type[BaseException], ...]:
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


def _decompressed(raw: _Readable, name: str) -> _Readable:
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


def _checked_head(stream: _Readable, name: str) -> bytes:
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


def _reason(exc: BaseException) -> str:
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
                stream = _decompressed(raw, self.name)
                head = _checked_head(stream, self.name)
                yield from _split_lines(_buffered(head, stream), self.max_line)
            except _read_errors() as exc:
                raise InputError(f"cannot read {self.name}: {_reason(exc)}") from None


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "a socket" if stat.S_ISSOCK(mode) else "a special file"


def _probe(path: Path, name: str) -> None:
    """Open `path` and check its first decompressed block, so bad input fails early."""
    try:
        with path.open("rb") as raw:
            _checked_head(_decompressed(raw, name), name)
    except _read_errors() as exc:
        raise InputError(f"cannot read {name}: {_reason(exc)}") from None


def _is_log_name(filename: str) -> bool:
    match = _ROTATED.match(filename)
    base = match["base"] if match else filename
    return _PREFIXED.match(base) is not None or base.endswith(LOG_SUFFIXES)


def _age_key(filename: str) -> tuple[str, int, int, str, str]:
    """Sort key: same log family together, oldest rotation first, live file last."""
    match = _ROTATED.match(filename)
    if match is None:
        return (filename, 2, 0, "", filename)
    if match["num"] is not None:
        return (match["base"], 0, -int(match["num"]), "", filename)
    if match["date"] is not None:
        return (match["base"], 1, 0, match["date"], filename)
    return (match["base"], 2, 0, "", filename)


def _walk(directory: str, warn: Callable[[str], None]) -> list[Input]:
    found: list[tuple[str, tuple[str, int, int, str, str], str]] = []
    journals: list[str] = []

    def on_error(exc: OSError) -> None:
        if exc.filename == directory:
            raise InputError(f"cannot read {directory}: {_reason(exc)}")
        warn(f"skipped {exc.filename}: {_reason(exc)}")

    for root, dirs, files in os.walk(directory, onerror=on_error):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = "" if root == directory else os.path.relpath(root, directory)
        for filename in files:
            if filename.startswith("."):
                continue
            if filename.endswith((".journal", ".journal~")):
                journals.append(os.path.join(root, filename))
            elif _is_log_name(filename):
                found.append((rel, _age_key(filename), os.path.join(root, filename)))
    if journals:
        warn(
            f"skipped {len(journals)} binary journald file(s) under {directory} "
            f"(e.g. {journals[0]}); convert with: journalctl --file FILE -o export > FILE.export"
        )
    inputs: list[Input] = []
    for _, _, name in sorted(found):
        try:
            inputs.append(_file_input(name))
        except InputError as exc:
            warn(f"skipped {exc.message}")
    if not inputs:
        looked = ", ".join([f"{p}*" for p in LOG_PREFIXES] + [f"*{s}" for s in LOG_SUFFIXES])
        raise InputError(f"no log files in {directory} (looked for {looked})")
    return inputs


def _file_input(name: str) -> Input:
    path = Path(name)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputError(f"cannot read {name}: {_reason(exc)}") from None
    if stat.S_ISFIFO(mode):  # e.g. <(zcat ...): readable once, so not probed
        return Input(name, path)
    if not stat.S_ISREG(mode):
        raise InputError(f"cannot read {name}: it is {_kind(mode)}, not a regular file")
    _probe(path, name)
    return Input(name, path)


def resolve_inputs(
    args: Sequence[str], *, on_warning: Callable[[str], None] | None = None
) -> list[Input]:
    """Turn arguments (paths, directories, '-') into Inputs, in the order given.

    Raises InputError with a one-line message for a missing, unreadable, special or binary
    file, a directory without log files, or '-' given twice. Skipped files inside a directory
    are reported through `on_warning` (default: the `oomsleuth.loaders` logger).
    """
    warn = on_warning if on_warning is not None else _log.warning
    inputs: list[Input] = []
    seen_stdin = False
    for arg in args:
        if arg == "-":
            if seen_stdin:
                raise InputError("'-' (standard input) given more than once")
            seen_stdin = True
            inputs.append(Input("<stdin>", None))
        elif os.path.isdir(arg):
            inputs.extend(_walk(arg, warn))
        else:
            inputs.append(_file_input(arg))
    return inputs


def live_boot_time(proc_stat: Path = Path("/proc/stat")) -> datetime | None:
    """This machine's boot time (``btime`` in /proc/stat), for ``--boot-time now``; None when
    it cannot be read."""
    try:
        for row in proc_stat.read_text().splitlines():
            if row.startswith("btime "):
                return datetime.fromtimestamp(int(row.split()[1]), timezone.utc)
    except (OSError, ValueError, IndexError):
        return None
    return None
