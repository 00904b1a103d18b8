"""Put stamps on the wall clock: boot anchors, ``--boot-time``, syslog years and time zones.

Pure: the caller passes what it knows about each source in a
:class:`~oomsleuth.clock.context.TimeContext` (the file's mtime, ``--year``, ``--tz``,
``--boot-time``; :mod:`oomsleuth.load.host` reads this machine's boot time). Each stamp gets a
``time_confidence`` and a ``time_source``:

- a wall the log printed (``time_source="log"``): ``exact`` when zoned (journal realtime, RFC 3339,
  ISO); ``derived`` for a full local time placed in ``--tz`` (``dmesg -T``, ``short-full`` with an
  unknown zone name); ``estimated`` when the year was inferred (syslog prints none);
- only an uptime, in a boot segment with anchors of its own or borrowed from another source of
  the same boot (:mod:`oomsleuth.clock.anchors`): boot wall + uptime,
  ``time_source="boot-estimate"``, ``derived``; ``estimated`` when yearless, spread over 1 s,
  or drifting over 2 s;
- only an uptime and ``--boot-time``: boot time + uptime, ``derived``,
  ``time_source="boot-time option"``, only in the last boot of a source with no anchor at all
  (the given boot time is the current boot's);
- else ``unknown`` (an uptime only) or None (no time at all).

A ``dmesg -T`` wall is itself boot + uptime, wrong after suspend. In an anchored segment, a
stamp with one takes the anchored time when its uptime is known (its own, or that of its matched
copy in another source); other -T stamps there shift like the nearest matched line when that is
more than 1 s off. ``time_note`` says so. :func:`oomsleuth.clock.drift.check_suspend_drift`
warns about both clocks.

Years of yearless stamps: the last yearless wall of each (source, host) stream is placed at or
before the file's mtime (or now); each year rollover (December -> January) inside the stream
counts one year back from there. ``--year`` is the year of the stream's first lines. 29 February
in a year that has none moves to the latest leap year before it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from oomsleuth.clock.anchors import AnchorTracker, is_yearless
from oomsleuth.clock.chains import Chain, Index, from_anchor, placed
from oomsleuth.clock.context import TimeContext
from oomsleuth.clock.samples import LATE_S
from oomsleuth.model import (
    BootSegment,
    Event,
    LogLine,
    OomReport,
    Report,
    Stamp,
    Where,
    has_placeholder_year,
)
from oomsleuth.model.record import replace

Placed = tuple[Stamp, tuple[Stamp, ...]]  # a report's stamp and its kills', on the wall clock

RECEIVE_NOTE = "the time the logger received the line; the kernel's own stamp is not in it"


def _kernel_time(
    stamp: Stamp, seg: BootSegment, chains: tuple[Chain, Chain], line: int, ctx: TimeContext
) -> Stamp:
    """A kernel record's own stamp on the wall clock. Where the line also has a logger's receive
    time: the journal's pair is exact, so the kernel's stamp wins; a syslog receive time within
    1 s (plus the anchors' drift) of it is kept as printed (no precision invented), a later one
    is named and replaced."""
    chain, donor = chains
    assert stamp.uptime_s is not None
    got = from_anchor(seg, stamp.uptime_s, donor, ctx)
    assert got.wall is not None
    if stamp.wall is None:
        return _taken(stamp, got, got.time_note)
    printed = _logged(replace(stamp, wall_kind="log"), chain, line, ctx)
    assert printed.wall is not None
    lag = (printed.wall - got.wall).total_seconds()
    if seg.anchor_kind != "journal" and not _late(seg, line, lag):
        return printed
    if lag <= 1.0:
        return _taken(stamp, got, got.time_note)
    return _taken(
        stamp, got, f"received {lag:.1f} s late by the logger; the kernel's own stamp is used"
    )


def _late(seg: BootSegment, line: int, lag: float) -> bool:
    """A receive time that came late: in a range the anchors found late (a flush, a backlog),
    or further above the log's own clock at that point (its lower envelope) than LATE_S. A
    whole stretch sitting higher (a suspend, a clock step) is the clock there, not lateness."""
    if any(a <= line <= b for a, b in seg.late_lines):
        return True
    i = bisect_right([first for first, _ in seg.envelope], line)
    here = seg.envelope[i - 1][1] if i else (seg.envelope[0][1] if seg.envelope else 0.0)
    return lag - here > LATE_S


def _taken(stamp: Stamp, got: Stamp, note: str | None) -> Stamp:
    return replace(stamp, wall=got.wall, time_confidence=got.time_confidence,
                   time_source=got.time_source, time_note=note,
                   time_uncertainty_s=got.time_uncertainty_s)  # fmt: skip


def _logged(stamp: Stamp, chain: Chain, line: int, ctx: TimeContext) -> Stamp:
    """A stamp placed at the wall its log printed: the kernel's own time (dmesg -T, dmesg iso),
    a userspace program's, or a logger's receive time of a kernel record (said so)."""
    assert stamp.wall is not None
    wall = stamp.wall
    if has_placeholder_year(wall):
        got = placed(wall, chain, line, ctx)
    else:
        zoned = wall.tzinfo is not None
        got = Stamp(wall=wall if zoned else wall.replace(tzinfo=ctx.tz))
        got = replace(got, time_confidence="exact" if zoned else "derived")
    source, note, confidence = "log", got.time_note, got.time_confidence
    whole = wall.microsecond == 0
    uncertainty: float | None = 1.0 if whole else 0.001
    if stamp.received:
        source, note = "receive-time", RECEIVE_NOTE + (f"; {note}" if note else "")
        confidence, uncertainty = ("derived" if confidence == "exact" else confidence), None
    elif stamp.wall_kind == "dmesg":  # dmesg adds its boot time in whole seconds
        confidence, uncertainty = ("derived" if confidence == "exact" else confidence), 1.0
    return replace(stamp, wall=got.wall, time_confidence=confidence, time_source=source,
                   time_note=note, time_uncertainty_s=uncertainty)  # fmt: skip


def _tee(
    stamp: Stamp, seg: BootSegment, line: int, chains: tuple[Chain, Chain], ctx: TimeContext
) -> Stamp:
    """A dmesg -T wall in an anchored segment: the anchored time when the line's uptime is
    known (its own, or its matched copy's); else shifted like the nearest matched line.
    ``chains``: the stamp's own stream and the one whose anchors gave the boot wall."""
    chain, donor = chains
    assert stamp.wall is not None
    own = stamp.wall.replace(tzinfo=ctx.tz)
    near = min(seg.matched, key=lambda m: abs(m[0] - line), default=None)
    uptime = stamp.uptime_s
    if uptime is None and near is not None and near[0] == line:
        uptime = near[1]
    if uptime is not None:
        got = from_anchor(seg, uptime, donor, ctx)
        assert got.wall is not None
        off = (own - got.wall).total_seconds()
        note = f"dmesg -T time replaced ({off:+.1f} s off; dmesg -T drifts after suspend)"
        return replace(stamp, wall=got.wall, time_confidence=got.time_confidence,
                       time_source="boot-estimate", time_note=note)  # fmt: skip
    if near is not None:
        ref = from_anchor(seg, near[1], donor, ctx).wall
        assert ref is not None
        shift = ref - near[2].replace(tzinfo=ctx.tz)
        if abs(shift.total_seconds()) > 1.0:  # more than the truncation of dmesg -T
            note = f"dmesg -T time shifted {shift.total_seconds():+.0f} s, as line {near[0]}"
            return replace(stamp, wall=own + shift, time_confidence="estimated",
                           time_source="boot-estimate", time_note=note)  # fmt: skip
    return _logged(stamp, chain, line, ctx)


def resolve_stamp(
    stamp: Stamp, source: str, ctx: TimeContext, *, line: int = 0, index: Index | None = None
) -> Stamp:
    """One stamp on the wall clock (``line`` and ``index`` place it in its boot segment)."""
    index = index or Index(())
    chain = index.chains.get((source, stamp.host)) or Chain(source)
    seg = chain.at(line) if chain.segments else None
    wall, uptime = stamp.wall, stamp.uptime_s
    if seg is not None and seg.boot_wall is not None:
        donor = index.origins.get(seg.borrowed_from or "", chain)
        if wall is not None and _is_tee(wall, seg):
            return _tee(stamp, seg, line, (chain, donor), ctx)
        if uptime is not None and (wall is None or stamp.received):
            return _kernel_time(stamp, seg, (chain, donor), line, ctx)
    if wall is not None:
        return _logged(stamp, chain, line, ctx)
    if uptime is None:
        return replace(stamp, time_confidence=None, time_source=None)
    last = seg is None or seg is chain.segments[-1]
    if ctx.boot_time is not None and source not in index.anchored and last:
        wall = ctx.boot_time + timedelta(seconds=uptime)
        # /proc/stat btime is whole seconds; a --boot-time the user gives says nothing of its own
        error = 1.0 if ctx.boot_source == "boot-time" else None
        return replace(stamp, wall=wall, time_confidence="derived", time_source=ctx.boot_source,
                       time_uncertainty_s=error)  # fmt: skip
    return replace(stamp, time_confidence="unknown", time_source=None)


def _is_tee(wall: datetime, seg: BootSegment) -> bool:
    """A naive wall with a real year in a segment with dmesg -T lines: a dmesg -T time."""
    return wall.tzinfo is None and not is_yearless(wall) and "dmesg-T" in seg.framings


def _event_segments(result: Report) -> tuple[BootSegment, ...]:
    """Segments from the events' own stamps, for a result built without the Scanner."""
    stamps = [(r.where, r.stamp) for r in result.reports]
    stamps += [(k.where, k.stamp) for r in result.reports for k in r.kills]
    stamps += [(a.where, a.stamp) for a in result.alloc_failures]
    stamps += [(u.where, u.stamp) for u in result.userspace]
    rank = {name: i for i, name in enumerate(result.sources)}
    stamps.sort(key=lambda ws: (rank.get(ws[0].source, len(rank)), ws[0].source, ws[0].line))
    tracker = AnchorTracker()
    for where, st in stamps:
        tracker.observe(LogLine(where.source, where.line, "", "event", st.uptime_s, st.wall,
                                st.host, boot_id=st.boot_id))  # fmt: skip
    return tracker.segments()


class Clock:
    """Places stamps on the wall clock, from the boot segments the anchor tracker built."""

    def __init__(self, segments: Iterable[BootSegment], ctx: TimeContext) -> None:
        self.index = Index(segments)
        self.ctx = ctx

    def stamp(self, where: Where, stamp: Stamp) -> Stamp:
        return resolve_stamp(stamp, where.source, self.ctx, line=where.line, index=self.index)

    def report(self, rep: OomReport) -> OomReport:
        return stamped(rep, self.stamps(rep))

    def stamps(self, rep: OomReport) -> Placed:
        """A report's stamp and its kills' on the wall clock."""
        kills = tuple(self.stamp(k.where, k.stamp) for k in rep.kills)
        return self.stamp(rep.where, rep.stamp), kills

    def event(self, event: Event) -> Event:
        """A kernel report (with its kills) or a userspace kill, on the wall clock."""
        if isinstance(event, OomReport):
            return self.report(event)
        return replace(event, stamp=self.stamp(event.where, event.stamp))


def stamped(rep: OomReport, placed: Placed) -> OomReport:
    """The report with the stamps :meth:`Clock.stamps` gave it."""
    stamp, kills = placed
    moved = tuple(replace(k, stamp=s) for k, s in zip(rep.kills, kills, strict=True))
    return replace(rep, stamp=stamp, kills=moved)


def _given(rep: OomReport, got: Placed | OomReport) -> OomReport:
    return got if isinstance(got, OomReport) else stamped(rep, got)


def resolve_times(
    result: Report, ctx: TimeContext, given: Mapping[int, Placed | OomReport] | None = None
) -> Report:
    """Every stamp of the result placed on the wall clock as well as the log allows
    (``given``: some reports by first line, or their stamps, placed already from the same
    segments and context, by :meth:`Clock.report` or another process's :meth:`Clock.stamps`)."""
    clock = Clock(result.segments or _event_segments(result), ctx)
    given = given or {}
    return replace(
        result,
        reports=tuple(
            clock.report(rep) if (got := given.get(rep.where.line)) is None else _given(rep, got)
            for rep in result.reports
        ),
        alloc_failures=tuple(
            replace(a, stamp=clock.stamp(a.where, a.stamp)) for a in result.alloc_failures
        ),
        userspace=tuple(replace(u, stamp=clock.stamp(u.where, u.stamp)) for u in result.userspace),
    )
