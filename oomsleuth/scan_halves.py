"""One source read in two halves by two scanners, side by side, put together into exactly what
one scanner reading it whole gives, or None when the halves cannot say that it would be.

The first half (up to a *cut*, the start of a line) is read by a scanner that leaves its
reports open (``feed_source(..., close=False)``); the second, from the cut to the end, by a
fresh :func:`read_half` scanner that numbers its lines on from the first half's and records,
rather than tracks, what the clock's anchor tracker is fed. :func:`join` checks, state by state,
that the fresh scanner read the second half as the first one would have read on from the cut,
and if so hands the first scanner everything the second found. Why that is exact:

- **framer**: a fresh framer frames what the first one would if the first line after the cut
  has a head of its own (its own prefix, so it is never glued to the line before, which is
  handed out before it either way) and the first framer was holding nothing at the cut that
  would change how later lines are read (:meth:`oomsleuth.frame.framer.Framer._resumable`: no
  journal record open or read, no month names of another language). The first line
  the second scanner framed must be the cut's line, with a head.
- **kernel parsers** (one per host): no report may be open before its kill at the cut, nor a
  rate-limit count pending, for a fresh parser has neither. A report open after its kill (it
  waits for reaper lines) is finished, as :meth:`KernelParser._finish` does, at the cut when
  the one-process parser would have finished it at the first line its host's parser is fed
  after the cut, before reading that line as a fresh one would: a header, a line ``GAP_S`` or
  more away from the report, a boot or the end of the input (which also leave a report open
  after its kill with no note). Any other first line (a reaper line, a second kill) declines.
  A reaper line reads the last ``RECENT`` reports newest first: one the second parser cannot
  place (``reaper-without-kill``) might have belonged to the first half: that declines too.
- **userspace parser**: the first one must hold nothing at the cut (as for several sources).
- **anchor tracker**: the second scanner's :class:`Recorder` keeps every line and run it was
  fed, and they are fed, in order, to the first scanner's tracker, run lines one by one where
  its :meth:`~oomsleuth.clock.anchors.AnchorTracker.run_limit` says so: the same lines as
  reading the source whole (how runs are cut differs, the result does not: tests/test_runs.py).
- counts (lines read, framings), boots, kills and warnings add up in line order, hosts in the
  order they first appear.

``tests/test_scan_halves.py`` cuts every fixture and corpus log at every report and compares.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from oomsleuth.clock.anchors import AnchorTracker
from oomsleuth.frame.sparse import Sparse
from oomsleuth.model import LogLine, OomReport, Report, Run
from oomsleuth.model.record import replace
from oomsleuth.parsers import kernel, kernel_lines
from oomsleuth.parsers.kernel_settle import GAP_S
from oomsleuth.scanner import LEADING, Scanner, _idle, scanned

# a run's lines as Recorder.take_run keeps them: line, framing, wall, host, how many, the texts
# it keeps (by index), the uptimes (packed as doubles when none is None)
Slim = tuple[
    int, str, datetime | None, str | None, int, list[tuple[int, str]], bytes | list[float | None]
]
Call = LogLine | Slim
First = tuple[str, float | None]  # the first line a host's parser met after the cut, its uptime


class Recorder(AnchorTracker):
    """Stands in for the tracker of the second half's scanner: keeps what it is fed, in order,
    and lets the kernel parser take any run in one piece (the real tracker, fed later, cuts
    runs where it must)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []

    def observe(self, line: LogLine) -> None:
        self.calls.append(line)

    def run_limit(self, source: str, host: str | None, run: Run, start: int, end: int) -> int:
        return end

    def take_run(self, run: Run, start: int, stop: int) -> None:
        """Kept as a Run of those lines alone, with only the texts the tracker reads (those
        that may start a segment or be key lines: see ``AnchorTracker.run_limit``); the rest
        blank, for less to send (a report's lines are most of what the second half holds)."""
        texts = run.texts[start:stop]
        kept = [(i, t) for i, t in enumerate(texts) if "oom" in t or "Killed process" in t or
                t[:1] == "L"]  # fmt: skip
        ups = run.uptimes[start:stop]
        packed = ups if None in ups else array("d", cast(list[float], ups)).tobytes()
        self.calls.append((run.lineno + start, run.framing, run.wall, run.host, len(texts), kept,
                           packed))  # fmt: skip


class _Watched(kernel.KernelParser):
    """A kernel parser that notes the first line it meets: ``header``, ``line`` (another kernel
    line it reads) or ``closed`` (a boot, the end of the input)."""

    first: First | None = None

    def feed(self, line: LogLine) -> None:
        if self.first is None:
            if line.boot_marker:
                self.first = ("closed", None)
            elif kernel.is_kernel_line(line) and (s := line.text.strip()):
                header = kernel_lines.parse_header(s) is not None
                self.first = ("header" if header else "line", line.uptime_s)
        super().feed(line)

    def close(self) -> None:
        if self.first is None:
            self.first = ("closed", None)
        super().close()


class _Tail(Scanner):
    def _kernel(self, host: str | None) -> kernel.KernelParser:
        kp = self.kernels.get(host)
        if kp is None:
            kp = self.kernels[host] = _Watched(LEADING, self.max_raw)
        return kp


def read_half(source: str, lines: Sparse, first: bool, excerpts: bool = True) -> Scanner:
    """The first half of ``source`` (its reports left open) or the second (``lines`` numbered
    on from the first half's, read by a :func:`join`-ready scanner); ``excerpts``: as
    :class:`~oomsleuth.scanner.Scanner`'s."""
    if first:
        return scanned(source, lines, close=False, excerpts=excerpts)
    scanner = _Tail(excerpts=excerpts)
    scanner.tracker = Recorder()
    scanner.feed_source(source, lines)
    for kp in scanner.kernels.values():  # (packed to cross the fork)
        kp.reports = [_pack(r) for r in kp.reports]
    return scanner


def reports_of(tail: Scanner) -> list[OomReport]:
    """The reports of a :func:`read_half` of the second half, as :func:`join` adds them."""
    return [_unpack(r) for part in tail.kernels.values() for r in part.reports]


def join(head: Scanner, tail: Scanner, base: int) -> Report | None:
    """The Report of one scanner reading the source whole, from ``head`` (the first ``base``
    lines, reports left open) and ``tail`` (:func:`read_half` of the rest); None when that
    cannot be said (see the module doc). ``head`` is spent either way."""
    recorder = tail.tracker
    if not isinstance(recorder, Recorder) or head.lines_read != base or not head.resumable:
        return None  # (lines_read: the file changed under the halves)
    if not _idle(head.userspace):
        return None
    first = recorder.calls[0] if recorder.calls else None
    if not isinstance(first, LogLine) or first.lineno != base + 1 or first.framing == "bare":
        return None
    if any(not _cuts(kp, tail.kernels.get(host)) for host, kp in head.kernels.items()):
        return None
    if any(w.code == "reaper-without-kill" for kp in tail.kernels.values() for w in kp.warnings):
        return None
    for kp in head.kernels.values():
        kp._finish()  # what the line that would have finished it does first
    for host, part in tail.kernels.items():
        into = head._kernel(host)
        into.reports += [_unpack(r) for r in part.reports]
        into.alloc_failures += part.alloc_failures
        into.warnings += part.warnings
    head.boots += tail.boots
    head.lines_read += tail.lines_read - base
    head.framings.update(tail.framings)
    head.userspace_kills += tail.userspace_kills
    said = head.userspace.warnings + tail.userspace.warnings
    head.userspace = tail.userspace  # what it holds is closed by result()
    head.userspace.warnings = said
    _replay(head.tracker, recorder.calls)
    return head.result()


class _Pairs(NamedTuple):
    """Pairs of a number and a text (a report's excerpt, its memory.stat values) as two objects,
    not three a pair: they pickle several times faster."""

    numbers: bytes  # array("q")
    texts: str  # joined by newlines (none holds one)
    text_first: bool


def _pairs(pairs: tuple[tuple[Any, Any], ...], text_first: bool) -> object:
    texts, numbers = (1, 0) if not text_first else (0, 1)
    try:
        packed = array("q", [p[numbers] for p in pairs]).tobytes()
    except OverflowError:  # (beyond 64 bits: left as they are)
        return pairs
    return _Pairs(packed, "\n".join([p[texts] for p in pairs]), text_first)


def _unpaired(packed: Any) -> Any:
    if not isinstance(packed, _Pairs):
        return packed
    numbers = array("q", packed.numbers).tolist()
    if not numbers:
        return ()
    if packed.text_first:
        return tuple(zip(map(sys.intern, packed.texts.split("\n")), numbers, strict=True))
    return tuple(zip(numbers, packed.texts.split("\n"), strict=True))


def _pack(report: OomReport) -> OomReport:
    """A report as fewer objects, to cross the fork (:func:`_unpack` undoes it)."""
    memcg = report.memcg
    if memcg is not None and memcg.stats_bytes:
        memcg = replace(memcg, stats_bytes=_pairs(memcg.stats_bytes, True))
    return replace(report, lines=_pairs(report.lines, False), memcg=memcg)


def _unpack(report: OomReport) -> OomReport:
    memcg = report.memcg
    if memcg is not None and memcg.stats_bytes:
        memcg = replace(memcg, stats_bytes=_unpaired(memcg.stats_bytes))
    return replace(report, lines=_unpaired(report.lines), memcg=memcg)


def _cuts(kp: kernel.KernelParser, after: kernel.KernelParser | None) -> bool:
    """Whether ``kp`` (the first half's parser of a host) can stop at the cut and a fresh one,
    ``after``, read on: see the module doc."""
    if kp.busy or kp._suppressed is not None:
        return False
    draft = kp._draft
    first = getattr(after, "first", None)
    if draft is None or first is None or first[0] != "line":
        return True
    up, last = first[1], draft.last_uptime
    return up is not None and last is not None and (up - last > GAP_S or up - last < -GAP_S)


def _run(slim: Slim) -> Run:
    """The Run :meth:`Recorder.take_run` kept: its texts blank but those it kept."""
    lineno, framing, wall, host, n, kept, packed = slim
    texts = [""] * n
    for i, text in kept:
        texts[i] = text
    ups = (
        cast(list[float | None], array("d", packed).tolist())
        if isinstance(packed, bytes)
        else packed
    )
    return Run(lineno, framing, wall, host, texts, ups)


def _replay(tracker: AnchorTracker, calls: Sequence[Call]) -> None:
    """Feed ``tracker`` what a :class:`Recorder` was fed: runs in pieces as it takes them."""
    source = ""
    for call in calls:
        if isinstance(call, LogLine):
            source = call.source
            tracker.observe(call)
            continue
        run, i, stop = _run(call), 0, call[4]
        while i < stop:
            end = tracker.run_limit(source, run.host, run, i, stop)
            if end > i:
                tracker.take_run(run, i, end)
                i = end
                continue
            line = LogLine(source, run.lineno + i, run.texts[i], run.framing, run.uptimes[i],
                           run.wall, run.host, "kernel")  # fmt: skip
            tracker.observe(line)
            i += 1
