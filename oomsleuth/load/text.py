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
import re
from collections import deque
from collections.abc import Callable, Iterator

SNIFF_BYTES = 8192  # decompressed bytes inspected to tell text from binary
RESCUE_BYTES = 1 << 20  # how far to look for a log line when the head looks binary
CHUNK = 1 << 16
_NUL_BLOCK = re.compile(rb"\x00{64,}")  # zeroed blocks a crash leaves in a log: not binary
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")  # keeps \t \n \v \f \r ESC
# a line a log framing or an OOM report would recognise (cheap, no framing import)
LOGLIKE = re.compile(
    rb"\[\s*\d+\.\d{3,}\]|\d\d:\d\d:\d\d|invoked oom-killer|Killed process|oom-kill:|"
    rb"Out of memory|__REALTIME_TIMESTAMP=|\"MESSAGE\""
)
_KERNELISH = re.compile(
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
    head = _NUL_BLOCK.sub(b"", head)
    if head.count(0) > max(8, len(head) // 100):
        return True
    text = head.replace(b"\x00", b"").decode("utf-8", errors="replace")
    return len(_CONTROL.findall(text)) > len(text) // 4


def split_lines(
    stream: io.BufferedReader,
    max_line: int,
    warn: Warn,
    encoding: str | None = None,
    first: int = 1,
) -> Iterator[str]:
    """Decoded lines without their line ending (see module doc); ``first``: the number of the
    stream's first line (a reader that takes over part way)."""
    text = io.TextIOWrapper(
        stream, encoding=encoding or "utf-8", errors="surrogateescape", newline="\n"
    )
    readline = text.readline
    lineno = first - 1
    while line := readline(max_line):
        lineno += 1
        if line[-1] == "\n":
            line = line[:-2] if line.endswith("\r\n") else line[:-1]
        elif len(line) == max_line:
            line = _long(line, readline, max_line, lineno, warn)
        if "\x00" in line:
            line = line.replace("\x00", "")
        yield line


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
