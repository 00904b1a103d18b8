"""Drive the parsers over a stream of lines: framing -> kernel and userspace parsers -> result.

Pure: it takes iterables of text lines (the loader opens files) and returns a ``ParseResult``.
Lines outside OOM reports cost one pre-compiled regex search on the raw line: the framer skips
everything the keyword pre-filter rejects while no report is open.
"""

from __future__ import annotations

import re
from collections import Counter as Tally
from collections.abc import Iterable, Iterator

from oomsleuth.framing import Framer
from oomsleuth.models import Boot, LogLine, ParseResult, UserspaceKill, Where
from oomsleuth.parsers import kernel, userspace

BOOT_KEYWORDS = r"Linux version \d"
PREFILTER = re.compile("|".join((kernel.KEYWORDS, userspace.KEYWORDS, BOOT_KEYWORDS)))
_LINUX_VERSION = re.compile(r"^Linux version \d")


class Scanner:
    """Accumulates results over several sources; each source closes its open report."""

    def __init__(self) -> None:
        self.kernel = kernel.KernelParser()
        self.userspace = userspace.UserspaceParser()
        self.boots: list[Boot] = []
        self.sources: list[str] = []
        self.lines_read = 0
        self.framings: Tally[str] = Tally()
        self.userspace_kills: list[UserspaceKill] = []

    def feed_source(self, source: str, lines: Iterable[str]) -> None:
        self.sources.append(source)
        counted = _Counted(lines)
        framer = Framer(source, prefilter=PREFILTER)
        framer.full = False
        kp, up = self.kernel, self.userspace
        for line in framer.frame(counted):
            if line.boot_marker or (
                _LINUX_VERSION.match(line.text) and kernel.is_kernel_line(line)
            ):
                self._boot(line)
            kp.feed(line)
            self.userspace_kills.extend(up.feed(line))
            framer.full = kp.busy
        kp.close()
        self.lines_read += counted.n
        self.framings.update(framer.stats)

    def _boot(self, line: LogLine) -> None:
        reason = "boot banner" if line.boot_marker else "kernel started (Linux version line)"
        self.boots.append(Boot(Where(line.source, line.lineno), line.boot_id, reason))
        self.kernel.close()

    def result(self) -> ParseResult:
        extra = self.userspace.close()
        return ParseResult(
            reports=tuple(self.kernel.reports),
            alloc_failures=tuple(self.kernel.alloc_failures),
            userspace=tuple(self.userspace_kills + extra),
            boots=tuple(self.boots),
            warnings=tuple(self.kernel.warnings + list(self.userspace.warnings)),
            sources=tuple(self.sources),
            lines_read=self.lines_read,
            framings=tuple(sorted(self.framings.items())),
        )


class _Counted:
    """Counts the physical lines that pass through, without holding them."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = lines
        self.n = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.n += 1
            yield line


def parse_lines(lines: Iterable[str], source: str = "-") -> ParseResult:
    """Parse one stream of log lines (the library entry point used by tests)."""
    return parse_sources([(source, lines)])


def parse_sources(sources: Iterable[tuple[str, Iterable[str]]]) -> ParseResult:
    scanner = Scanner()
    for name, lines in sources:
        scanner.feed_source(name, lines)
    return scanner.result()
