"""Drive framing and parsing over streams of lines: frame -> kernel and userspace parsers ->
events, while the clock's anchor tracker watches every framed line.

Pure: it takes iterables of text lines (:mod:`oomsleuth.load` opens files). Lines outside OOM
reports cost one pre-compiled regex search on the raw line: the framer skips everything the
keyword pre-filter rejects while no report body is open (from a report's first line to its kill:
after the kill only keyword lines can add to it, so ordinary lines are skipped again).

:meth:`Scanner.feed_source` reads a whole source for :func:`oomsleuth.analyze`;
:meth:`Scanner.events` yields each event as soon as it can no longer change, for
:func:`oomsleuth.scanner`, and forgets it, so memory stays flat however many lines.
"""

from __future__ import annotations

import re
from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Sequence

from oomsleuth.clock.anchors import AnchorTracker
from oomsleuth.frame.sparse import ALWAYS_FIRST, ALWAYS_INSIDE, Sparse, SparseFramer
from oomsleuth.model import (
    Boot,
    Event,
    LogLine,
    Report,
    Run,
    UserspaceKill,
    Where,
)
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.parsers import kernel, kernel_lines, userspace
from oomsleuth.parsers.kernel_draft import MAX_RAW_LINES


class Prefilter:
    """The keyword test the framer runs on every raw line while no report is open: a literal
    alternation for the kernel, the userspace killers' own pattern, and with ``rows`` a
    task-row hint (the first ``LEADING`` lines of a source). (One big alternation of patterns
    costs three times as much in Python's re.)"""

    def __init__(self, rows: bool) -> None:
        words = (*kernel_lines.KEYWORD_LITERALS, "Linux version")
        self._words = lazy_compile("|".join(map(re.escape, words)))  # compiled at first use
        self._user = lazy_compile(userspace.KEYWORDS)
        self._row = kernel_lines.ROW_HINT if rows else None

    def search(self, line: str) -> object | None:
        return (
            self._words.search(line)
            or self._user.search(line)
            or (self._row.search(line) if self._row is not None and "[" in line else None)
        )


PREFILTER = Prefilter(rows=False)
# A task-table row with no report open opens one (its head missing) only among a source's first
# LEADING physical lines: a capture that begins inside the table (ABRT's, a ring buffer that
# wrapped, a paste). Further in, a table's head is there to open its report (the header line
# names oom_score_adj), unless lines were lost on the way; the search for the shape of a row in
# every line cost half of the block search (bench/README.md, "Task rows").
LEADING = 20
FIRST = Prefilter(rows=True)  # the prefilter of those lines
_LINUX_VERSION = lazy_compile(r"^Linux version \d")
_UNICODE_SENSITIVE = lazy_compile(r"\\[wWsSbBD]|\(\?[a-z]*i")


def _as_bytes(pattern: str) -> bytes:
    """A byte pattern that matches the UTF-8 of every line ``pattern`` matches: ``\\d`` also
    takes any non-ASCII byte (a Unicode digit)."""
    if _UNICODE_SENSITIVE.search(pattern):
        raise ValueError(f"no byte form for {pattern!r}: teach scanner._as_bytes its classes")
    return pattern.replace(r"\d", r"[0-9\x80-\xff]").encode()


def candidate_patterns() -> tuple[bytes, ...]:
    """Byte patterns for a block search (:mod:`oomsleuth.load.literals`): every line the
    framer would not skip while idle holds a match (the prefilter's literals and patterns, the
    framer's own always-read lines); a match never spans a newline, except that the line
    starts are matched with the newline before them (a block's first line is always read)."""
    words = (*kernel_lines.KEYWORD_LITERALS, "Linux version", ALWAYS_INSIDE)
    starts = ("\n" + c for c in ALWAYS_FIRST)
    return (*(re.escape(w).encode() for w in (*words, *starts)), _as_bytes(userspace.KEYWORDS))


class Scanner:
    """Accumulates results over several sources.

    Kernel lines are routed to one report state machine per host, so a central syslog file
    that interleaves several hosts' reports is read correctly. Each source closes its open
    reports at its end. Copies of one record in several sources stay apart here: they are
    merged once the clock has placed them (:mod:`oomsleuth.clock.copies`).
    """

    def __init__(self, *, prefilter: bool = True, excerpts: bool = True) -> None:
        self.prefilter = prefilter
        self.excerpts = excerpts  # each report's own lines kept (OomReport.lines)
        self.kernels: dict[str | None, kernel.KernelParser] = {}
        self.userspace = userspace.UserspaceParser()
        self.boots: list[Boot] = []
        self.sources: list[str] = []
        self.lines_read = 0
        self.framings: Tally[str] = Tally()
        self.tracker = AnchorTracker()
        self.resumable = False  # the framer's at the end of the last source (Framer._resumable)
        self.userspace_kills: list[UserspaceKill] = []
        # how far the userspace parser and the tracker take a run in one piece: it holds while
        # the lines before it are fed, in one piece or one by one (each reader's state changes
        # only as its scan of them foresaw: they read none of them, and the tracker's top
        # uptime grows as it counted), so a run is scanned once, not at every stop
        self._run_end: tuple[Run | None, int] = (None, 0)

    @property
    def max_raw(self) -> int:
        """A report's own lines its kernel parsers keep."""
        return MAX_RAW_LINES if self.excerpts else 0

    def _kernel(self, host: str | None) -> kernel.KernelParser:
        kp = self.kernels.get(host)
        if kp is None:
            kp = self.kernels[host] = kernel.KernelParser(LEADING, self.max_raw)
        return kp

    def feed_source(self, source: str, lines: Iterable[str] | Sparse, close: bool = True) -> None:
        """Read one whole source: lines, or a :class:`Sparse` source that jumps over lines no
        prefilter could keep (the fast path; the same result). ``close=False``: its reports are
        left open (the first half of a source, :mod:`oomsleuth.scan_halves`)."""
        for _ in self._feed(source, lines, runs=True, close=close):
            pass

    def events(self, source: str, lines: Iterable[str]) -> Iterator[Event]:
        """Read one source, yielding each kernel report once it can no longer change and each
        userspace kill when complete, in the order they settle; then forget them."""
        for line in self._feed(source, lines):
            yield from self._settled(line.uptime_s)
        yield from self._settled(None, final=True)
        yield from self.userspace.close()

    def _settled(self, uptime_s: float | None, final: bool = False) -> Iterator[Event]:
        for kp in self.kernels.values():
            yield from kp.settled(uptime_s, final=final)
            kp.forget_handed()
        kills, self.userspace_kills = self.userspace_kills, []
        yield from kills

    def _feed(
        self, source: str, lines: Iterable[str] | Sparse, runs: bool = False, close: bool = True
    ) -> Iterator[LogLine]:
        """Frame and parse ``lines``, yielding each framed line after it was fed (with
        ``runs``, runs of body lines are fed in one piece, not yielded: :meth:`take_run`)."""
        self.sources.append(source)
        framer = SparseFramer(source, prefilter=PREFILTER if self.prefilter else None)
        if runs:
            framer.runs = lambda run, start: self.take_run(source, run, start)
        framer.full = not self.prefilter
        framer.first, framer.leading = (FIRST, LEADING) if self.prefilter else (None, 0)
        up = self.userspace
        busy: set[str | None] = set()
        framed = framer.frame_sparse(lines) if isinstance(lines, Sparse) else framer.frame(lines)
        observe, kernels, every = self.tracker.observe, self.kernels, not self.prefilter
        for line in framed:
            observe(line)
            kp = kernels.get(line.host) or self._kernel(line.host)
            if line.boot_marker or (
                line.text.startswith("Linux version ")
                and _LINUX_VERSION.match(line.text)
                and kernel.is_kernel_line(line)
            ):
                self._boot(line, kp)
            kp.feed(line)
            found = up.feed(line)
            if found:
                self.userspace_kills.extend(found)
            if kp.busy:
                busy.add(line.host)
            else:
                busy.discard(line.host)
            framer.full = bool(busy) or every
            yield line
        for kp in self.kernels.values() if close else ():
            kp.close()
        self.resumable = framer.resumable
        self.lines_read += framer.lines_read
        self.framings.update(framer.stats)

    def take_run(self, source: str, run: Run, start: int) -> int:
        """Feed the lines of ``run`` (kernel lines of ``source``, inside a report's body) from
        ``start`` for as long as every reader takes them in one piece exactly as it would one
        by one (the userspace parser passes over them, the open report reads them as body
        lines with no event in them, the tracker adds them to the open segment): the index of
        the first line not taken. A run has one host and one wall and the report stays busy in
        it, so nothing else the loop in :meth:`_feed` does would change."""
        kp = self.kernels.get(run.host)
        if kp is None or not kp.busy:
            return start
        seen, end = self._run_end
        if seen is not run or start >= end:  # (see _run_end)
            end = self.userspace.passes_over(run.texts, start, len(run.texts))
            end = self.tracker.run_limit(source, run.host, run, start, end)
            self._run_end = (run, end)
        stop = kp.take_run(source, run, start, end) if end > start else start
        if stop > start:
            self.tracker.take_run(run, start, stop)
        return stop

    def _boot(self, line: LogLine, kp: kernel.KernelParser) -> None:
        reason = "boot banner" if line.boot_marker else "kernel started (Linux version line)"
        self.boots.append(Boot(Where(line.source, line.lineno), line.boot_id, reason))
        kp.close()

    def result(self) -> Report:
        extra = self.userspace.close()
        rank = {name: i for i, name in enumerate(self.sources)}

        def order(where: Where) -> tuple[int, int]:
            return rank.get(where.source, len(rank)), where.line

        reports = sorted(
            (r for kp in self.kernels.values() for r in kp.reports), key=lambda r: order(r.where)
        )
        warnings = [w for kp in self.kernels.values() for w in kp.warnings]
        warnings += self.userspace.warnings
        failures = (a for kp in self.kernels.values() for a in kp.alloc_failures)
        return Report(
            reports=tuple(reports),
            alloc_failures=tuple(sorted(failures, key=lambda a: order(a.where))),
            userspace=tuple(self.userspace_kills + extra),
            boots=tuple(self.boots),
            warnings=tuple(sorted(warnings, key=lambda w: order(w.where))),
            sources=tuple(self.sources),
            lines_read=self.lines_read,
            framings=tuple(sorted(self.framings.items())),
            segments=self.tracker.segments(),
        )


def parse_sources(
    sources: Iterable[tuple[str, Iterable[str] | Sparse]],
    *,
    prefilter: bool = True,
    excerpts: bool = True,
) -> Report:
    """Parse several sources in order (no time resolution, no correlation: :func:`oomsleuth.
    analyze` adds them). ``prefilter=False`` frames every line (slower; the result must be the
    same, which the tests check); ``excerpts=False``: no report keeps its own lines."""
    scanner = Scanner(prefilter=prefilter, excerpts=excerpts)
    for name, lines in sources:
        scanner.feed_source(name, lines)
    return scanner.result()


def scanned(
    source: str, lines: Iterable[str] | Sparse, close: bool = True, excerpts: bool = True
) -> Scanner:
    """One source read by a fresh scanner: a part for :func:`merged` (``close=False``: its
    reports left open, the first half for :func:`oomsleuth.scan_halves.join`)."""
    scanner = Scanner(excerpts=excerpts)
    scanner.feed_source(source, lines, close)
    return scanner


def merged(parts: Sequence[Scanner]) -> Report | None:
    """The :meth:`Scanner.result` of one scanner fed the parts' sources in order, from scanners
    that each read their own sources (:mod:`oomsleuth.load.sources_forked` says why it is that
    exactly); None when it would not be: a userspace parser left holding something at the end
    of a part but the last (the next source would have gone on with it), or a source name
    repeated (the tracker keys its streams by name)."""
    names = [name for part in parts for name in part.sources]
    if not parts or len(set(names)) < len(names):
        return None
    if not all(_idle(part.userspace) for part in parts[:-1]):
        return None
    whole = Scanner()
    for part in parts:
        for host, kp in part.kernels.items():
            into = whole._kernel(host)  # hosts in the order they first appear
            into.reports += kp.reports
            into.alloc_failures += kp.alloc_failures
            into.warnings += kp.warnings
        whole.boots += part.boots
        whole.sources += part.sources
        whole.lines_read += part.lines_read
        whole.framings.update(part.framings)
        whole.userspace_kills += part.userspace_kills
        whole.tracker._all += part.tracker._all  # each source's segments, in source order
    said = [w for part in parts for w in part.userspace.warnings]
    whole.userspace = parts[-1].userspace  # what it holds is closed by result()
    whole.userspace.warnings = said
    return whole.result()


def _idle(parser: userspace.UserspaceParser) -> bool:
    """True when ``parser`` holds nothing: its state is a fresh parser's (warnings aside)."""
    import pickle

    fresh = pickle.dumps(vars(userspace.UserspaceParser()))
    return pickle.dumps({**vars(parser), "warnings": []}) == fresh
