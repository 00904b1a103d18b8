"""Boot segments and wall-clock anchors: where each boot of each host starts on the wall clock.

:class:`AnchorTracker` splits each (source, host) stream of framed lines into boot segments: a new
one starts on a boot banner (``-- Boot id --``, or a journal ``_BOOT_ID`` change: the framer's
``boot_marker`` line, which applies to every host of its source), when ``boot_id`` changes, on a
kernel ``Linux version`` line, or when the uptime goes back by more than 1 s.

Anchors are lines with a wall clock and an uptime: ``boot = wall - uptime``. Journal JSON/export
records are ``journal`` anchors; other framings (kern.log ``Mon DD HH:MM:SS host kernel: [up]``,
RFC 3339) are ``syslog`` anchors: receive times, whole seconds for BSD stamps (half a second is
added). ``boot_wall`` is the median of a bounded chronological sample; ``spread_s`` is max - min;
``drift_s`` is the step of the lower envelope (per-block minima, blind to late receive times): a
suspend (the printk clock stops), a clock step or clock rates that differ. ``dmesg -T`` walls are
boot + uptime themselves: never anchors, only compared (``dmesg_t_boot``).

Across sources, a segment without anchors borrows ``boot_wall`` (``borrowed_from``): from an
anchored segment holding one of its key lines (``invoked oom-killer``, ``Killed process``,
``oom-kill:``) with the same uptime and text (raw dmesg next to kern.log or a journal); for
``dmesg -T``, through pid lines (``Killed process``, ``oom-kill:..pid=``) of the same text, kept in
``matched``; else by pairing its pid lines' uptimes with the receive times of copies that have
no uptime (``journalctl -k``). Key sets are bounded and thinned by a hash, alike in every source.

Yearless walls (syslog, placeholder year 1900/1904) move to a *yearless space*: year
``YEARLESS_BASE`` (a leap year) + the stream's year rollovers so far. A rollover is a yearless
wall six months or more before the previous one (December -> January); its line goes to
``BootSegment.rollovers``, and :mod:`oomsleuth.clock.resolve` turns the index into a year.
"""

from __future__ import annotations

from datetime import datetime
from operator import le

from oomsleuth.clock.borrow import Table, borrow, enter
from oomsleuth.clock.segment import OpenSegment
from oomsleuth.model.lines import BootSegment, LogLine, Run, has_placeholder_year
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import record

YEARLESS_BASE = 1904
JOURNAL_FRAMINGS = frozenset({"journal-json", "journal-export", "journal-verbose"})
_LINUX_VERSION = lazy_compile(r"Linux version \d")
_KEY = lazy_compile(r"Killed process \d|oom-kill:|invoked oom-killer")
_PID_KEY = lazy_compile(r"Killed process \d|oom-kill:.*pid=\d")


def _none_stops(
    texts: list[str], uptimes: list[float | None], start: int, end: int, top: float | None
) -> bool:
    """Whether :meth:`AnchorTracker.run_limit`'s loop would take every line from ``start`` to
    ``end``, found by scans in C: no line starts with ``Linux version`` or holds the words
    its key line test looks for, and the uptimes are all there and never fall (then none is
    1 s below the top so far: the first is not, and each is at least the one before). False
    when unsure: the loop decides."""
    joined = "\n".join(texts[start:end])  # (a line holds no newline)
    if "oom" in joined or "Killed process" in joined:
        return False
    if joined.startswith("Linux version ") or "\nLinux version " in joined:
        return False
    ups = uptimes[start:end]
    if None in ups or (ups and top is not None and ups[0] < top - 1.0):  # type: ignore[operator]
        return False
    return all(map(le, ups, ups[1:]))  # type: ignore[arg-type]


def is_yearless(wall: datetime) -> bool:
    """True for a wall in the yearless space (a naive time before 1970)."""
    return wall.tzinfo is None and wall.year < 1970


def to_yearless(wall: datetime, index: int) -> datetime | None:
    """A placeholder-year wall moved to year ``YEARLESS_BASE + index`` (None: no 29 Feb there)."""
    try:
        return wall.replace(year=YEARLESS_BASE + index)
    except ValueError:
        return None


_NO_EPOCH: tuple[int, str | None] = (0, None)


@record(slots=True)
class _Stream:
    open: OpenSegment | None = None
    year_index: int = 0
    last_month: int | None = None
    raw: datetime | None = None  # the last wall seen, and where it went (None: nowhere)
    moved: datetime | None = None


class AnchorTracker:
    """Feed it every framed line of every source in order; ``segments()`` then says where each
    boot sits on the wall clock. Memory is bounded per segment."""

    def __init__(self) -> None:
        self._streams: dict[tuple[str, str | None], _Stream] = {}
        self._epochs: dict[str, tuple[int, str | None]] = {}  # source -> (banners, last boot id)
        self._all: list[OpenSegment] = []
        # the last line's source, host, stream and epoch: the next line is most often the same
        # stream's (a boot marker, which moves an epoch, clears it)
        self._hot: tuple[str, str | None, _Stream, int, str | None] | None = None

    def observe(self, line: LogLine) -> None:
        """Take one framed line. It runs for every framed line: the helpers it needs for the
        common line (same segment, syslog anchor) are written out, not called."""
        if line.boot_marker:
            count, _ = self._epochs.get(line.source, (0, None))
            self._epochs[line.source] = (count + 1, line.boot_id)
            self._hot = None
            return
        hot = self._hot
        if hot is not None and hot[0] is line.source and hot[1] == line.host:
            _, _, stream, epoch, banner_id = hot
        else:
            stream = self._streams.get((line.source, line.host))  # type: ignore[assignment]
            if stream is None:
                stream = self._streams[line.source, line.host] = _Stream()
            epoch, banner_id = self._epochs.get(line.source, _NO_EPOCH)
            self._hot = (line.source, line.host, stream, epoch, banner_id)
        seg = stream.open
        uptime, received, text = line.uptime_s, line.received_uptime_s, line.text
        # the line's own monotonic clock: the logger's at receipt when known (journal records of
        # one boot keep it in order even when late kernel records carry older kernel stamps)
        clock = received if received is not None else uptime
        reason = None
        if seg is None:
            reason = "boot banner" if epoch else "start"
        elif seg.epoch != epoch:
            reason = "boot banner"
        elif line.boot_id and seg.boot_id and line.boot_id != seg.boot_id:
            reason = "boot id changed"
        elif (
            text.startswith("Linux version ")
            and _LINUX_VERSION.match(text) is not None
            and line.ident in (None, "kernel")
        ):
            reason = "Linux version"
        elif (
            clock is not None  # the uptime went back
            and seg.max_uptime is not None
            and clock < seg.max_uptime - 1.0
            and not (line.boot_id and seg.boot_id)
        ):
            reason = "uptime went back"
        if seg is None or reason is not None:
            boot_id = line.boot_id or (banner_id if reason == "boot banner" else None)
            seg = OpenSegment(
                line.source, line.host, line.lineno, reason or "start", boot_id, epoch
            )
            stream.open = seg
            self._all.append(seg)
        self._update(stream, seg, line, clock)

    def _update(
        self, stream: _Stream, seg: OpenSegment, line: LogLine, clock: float | None
    ) -> None:
        """The segment takes the line (``clock``: the line's own clock)."""
        uptime, received, text = line.uptime_s, line.received_uptime_s, line.text
        seg.last_line = lineno = line.lineno
        framing = line.framing
        seg.framings.add(framing)
        seg.boot_id = seg.boot_id or line.boot_id
        if clock is not None:
            before = seg.max_uptime
            seg.max_uptime = clock if before is None or clock > before else before
        if received is not None and uptime is not None and line.ident == "kernel":
            seg.note_lag(received - uptime)
        wall, moved = line.wall, None
        if wall is not None:
            seg.last_wall = wall
            if wall != stream.raw:  # lines of one report share their (syslog) wall: once
                stream.raw, stream.moved = wall, self._move(stream, seg, wall, lineno)
            moved = stream.moved
        if ("oom" in text or "Killed process" in text) and _KEY.search(text):  # "in": cheap
            _keep_key(seg, line, moved)
        if moved is None or uptime is None:
            return
        if framing == "dmesg-T":
            seg.tee.add(moved, uptime, lineno)
        elif framing in JOURNAL_FRAMINGS and received is not None:
            seg.offer("journal", moved, received, lineno)  # one clock read
        elif framing in JOURNAL_FRAMINGS:  # no __MONOTONIC_TIMESTAMP: a receive time only
            seg.offer("syslog", moved, uptime, lineno)
        elif seg.anchors.kind != "journal":  # seg.offer("syslog", moved, centred(...), lineno)
            anchors = seg.anchors
            anchors.kind = "syslog"
            anchors.add(moved, uptime - 0.5 if moved.microsecond == 0 else uptime, lineno)

    def run_limit(self, source: str, host: str | None, run: Run, start: int, end: int) -> int:
        """How far from ``start`` (to at most ``end``) :meth:`take_run` can take the lines of
        ``run`` (of one syslog prefix: one stream, one wall) as :meth:`observe` would take
        them one by one: lines of the stream of the last line observed, in its open segment,
        none of which would start a segment (``Linux version``, the uptime 1 s back) or is a
        key line. The index of the first line it cannot take, or ``end``."""
        hot = self._hot
        if hot is None or hot[0] is not source or hot[1] != host or run.framing != "syslog":
            return start
        seg = hot[2].open
        if seg is None or seg.epoch != hot[3]:
            return start
        top, texts, uptimes = seg.max_uptime, run.texts, run.uptimes
        if _none_stops(texts, uptimes, start, end, top):
            return end
        for i in range(start, end):
            text, clock = texts[i], uptimes[i]
            if text.startswith("Linux version ") or (
                ("oom" in text or "Killed process" in text) and _KEY.search(text)
            ):
                return i
            if clock is not None:
                if top is not None and clock < top - 1.0:
                    return i
                top = clock if top is None or clock > top else top
        return end

    def take_run(self, run: Run, start: int, stop: int) -> None:
        """Take the lines ``start`` to ``stop`` of ``run`` (within :meth:`run_limit`)."""
        assert self._hot is not None
        stream = self._hot[2]
        seg = stream.open
        assert seg is not None
        first = run.lineno + start
        seg.last_line = run.lineno + stop - 1
        seg.framings.add(run.framing)
        ups = run.uptimes[start:stop]
        if ups and None not in ups:  # (in C: a line with no kernel stamp is rare)
            top: float | None = max(ups)  # type: ignore[type-var]
        else:
            top = max((u for u in ups if u is not None), default=None)
        if top is not None and (seg.max_uptime is None or top > seg.max_uptime):
            seg.max_uptime = top
        wall = run.wall
        if wall is None:
            return
        seg.last_wall = wall
        if wall != stream.raw:
            stream.raw, stream.moved = wall, self._move(stream, seg, wall, first)
        moved, anchors = stream.moved, seg.anchors
        if moved is None or anchors.kind == "journal" or top is None:
            return
        anchors.kind = "syslog"
        anchors.add_run(moved, ups, first, 0.5 if moved.microsecond == 0 else 0.0)

    @staticmethod
    def _move(stream: _Stream, seg: OpenSegment, wall: datetime, lineno: int) -> datetime | None:
        """A placeholder-year wall moved to the yearless space (counting rollovers)."""
        if not has_placeholder_year(wall):
            return wall
        if stream.last_month is not None and wall.month <= stream.last_month - 6:
            stream.year_index += 1
            seg.rollovers.append(lineno)
        stream.last_month = wall.month
        return to_yearless(wall, stream.year_index)

    def segments(self) -> tuple[BootSegment, ...]:
        """Every segment so far, in the order they started; unanchored ones borrow anchors."""
        out = [s.freeze() for s in self._all]
        by_key: dict[str, int] = {}
        by_text: Table = {}  # pid lines of anchored segments -> their uptime
        by_wall: Table = {}  # pid lines with only a receive time -> that wall
        for i in sorted(range(len(out)), key=lambda i: out[i].anchor_kind != "journal"):
            built = self._all[i]
            if out[i].boot_wall is not None:
                for key in built.keys.items:
                    by_key.setdefault(key, i)
                enter(by_text, built.texts, i)
            enter(by_wall, built.walls, i)
        for j, seg in enumerate(out):
            if seg.boot_wall is None:
                out[j] = borrow(seg, self._all[j], out, by_key, (by_text, by_wall))
        return tuple(out)


def _keep_key(seg: OpenSegment, line: LogLine, wall: datetime | None) -> None:
    uptime, text = line.uptime_s, line.text
    if uptime is not None:
        seg.keys.add(f"{round(uptime * 1e6)} {text}", (line.lineno, uptime, None))
    if not _PID_KEY.search(text):
        return
    if uptime is not None:
        seg.texts.add(text, (line.lineno, uptime, None))
    elif wall is not None and line.framing != "dmesg-iso":  # dmesg -T/iso: boot + uptime
        (seg.texts if line.framing == "dmesg-T" else seg.walls).add(text, (line.lineno, None, wall))
