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
``BootSegment.rollovers``, and :mod:`oomsleuth.timebase` turns the index into a year.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from statistics import median

from oomsleuth.framing import has_placeholder_year
from oomsleuth.models import BootSegment, LogLine

YEARLESS_BASE = 1904
MAX_SAMPLES = 512
BLOCK = 8  # anchors per block when taking the lower envelope
MAX_KEYS = 256
JOURNAL_FRAMINGS = frozenset({"journal-json", "journal-export"})
_LINUX_VERSION = re.compile(r"Linux version \d")
_KEY = re.compile(r"Killed process \d|oom-kill:|invoked oom-killer")
_PID_KEY = re.compile(r"Killed process \d|oom-kill:.*pid=\d")
Key = tuple[int, float | None, datetime | None]  # line, uptime, wall (None twice: ambiguous)


def is_yearless(wall: datetime) -> bool:
    """True for a wall in the yearless space (a naive time before 1970)."""
    return wall.tzinfo is None and wall.year < 1970


def to_yearless(wall: datetime, index: int) -> datetime | None:
    """A placeholder-year wall moved to year ``YEARLESS_BASE + index`` (None: no 29 Feb there)."""
    try:
        return wall.replace(year=YEARLESS_BASE + index)
    except ValueError:
        return None


def _space(wall: datetime) -> str:
    if wall.tzinfo is not None:
        return "aware"
    return "yearless" if is_yearless(wall) else "naive"


@dataclass(slots=True)
class Sample:
    """Boot estimates (``wall - uptime``) in one time space: a bounded chronological sample."""

    kind: str | None = None
    ref: datetime | None = None  # the first wall; offsets are wall - ref - uptime, in seconds
    values: list[tuple[float, int]] = field(default_factory=list)  # (offset, line)
    count: int = 0
    stride: int = 1
    lo: float = float("inf")
    hi: float = float("-inf")
    wall: datetime | None = None  # the last wall, and its seconds from ref (None: not comparable)
    secs: float | None = None

    def add(self, wall: datetime, uptime_s: float, line: int) -> None:
        if wall != self.wall:  # lines of one report share their (syslog) wall: compute it once
            self.wall = wall
            if self.ref is None:
                self.ref = wall
            same = _space(wall) == _space(self.ref)  # naive and zoned are not comparable
            self.secs = (wall - self.ref).total_seconds() if same else None
        if self.secs is None:
            return
        offset = self.secs - uptime_s
        self.lo, self.hi = min(self.lo, offset), max(self.hi, offset)
        if self.count % self.stride == 0:
            self.values.append((offset, line))
            if len(self.values) >= MAX_SAMPLES:
                self.values = self.values[::2]
                self.stride *= 2
        self.count += 1

    def boot(self) -> datetime | None:
        if self.ref is None or not self.values:
            return None
        return self.ref + timedelta(seconds=median(v for v, _ in self.values))

    def drift(self) -> tuple[float, int] | None:
        """The largest step of the lower envelope (later minus earlier block: > 0 when the wall
        clock ran ahead of the uptime, as after a suspend) and the first line of the later one."""
        size = max(1, min(BLOCK, len(self.values) // 2))
        blocks = [self.values[i : i + size] for i in range(0, len(self.values), size)]
        if len(blocks) < 2:
            return None
        mins = [(min(v for v, _ in b), b[0][1], i) for i, b in enumerate(blocks)]
        first, later = sorted((min(mins), max(mins)), key=lambda m: m[2])
        half, up = (first[0] + later[0]) / 2, later[0] > first[0]
        step = next(m for m in mins[first[2] + 1 :] if (m[0] > half) == up or m is later)
        return later[0] - first[0], step[1]


@dataclass(slots=True)
class KeySet:
    """Key lines of a segment, at most ``MAX_KEYS``: when full, only keys whose hash is a
    multiple of a growing power of two stay, so two sets thin out the same way."""

    items: dict[str, Key] = field(default_factory=dict)
    modulus: int = 1

    def add(self, key: str, value: Key) -> None:
        if _hash(key) % self.modulus:
            return
        if self.items.setdefault(key, value) != value:
            self.items[key] = (value[0], None, None)  # seen twice: ambiguous
        if len(self.items) > MAX_KEYS:
            self.modulus *= 2
            self.items = {k: v for k, v in self.items.items() if _hash(k) % self.modulus == 0}


def _hash(key: str) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogateescape"))


@dataclass(slots=True)
class _Open:
    """A segment being built."""

    source: str
    host: str | None
    first_line: int
    reason: str
    boot_id: str | None
    epoch: int
    last_line: int = 0
    max_uptime: float | None = None
    anchors: Sample = field(default_factory=Sample)
    tee: Sample = field(default_factory=Sample)
    framings: set[str] = field(default_factory=set)
    rollovers: list[int] = field(default_factory=list)
    last_wall: datetime | None = None
    keys: KeySet = field(default_factory=KeySet)  # "uptime_us text" of key lines
    texts: KeySet = field(default_factory=KeySet)  # pid lines with an uptime, or dmesg -T ones
    walls: KeySet = field(default_factory=KeySet)  # pid lines with only a receive time

    def offer(self, kind: str, wall: datetime, uptime_s: float, line: int) -> None:
        if self.anchors.kind == "syslog" and kind == "journal":
            self.anchors = Sample()  # journal anchors beat receive-time anchors
        elif self.anchors.kind == "journal" and kind == "syslog":
            return
        self.anchors.kind = kind
        self.anchors.add(wall, uptime_s, line)

    def freeze(self) -> BootSegment:
        a = self.anchors
        drift = a.drift()
        return BootSegment(
            self.source, self.host, self.first_line, self.last_line, self.boot_id, self.reason,
            boot_wall=a.boot(), anchors=a.count, anchor_kind=a.kind,
            spread_s=a.hi - a.lo if a.count else None,
            drift_s=drift[0] if drift else None, drift_line=drift[1] if drift else None,
            dmesg_t_boot=self.tee.boot(), rollovers=tuple(self.rollovers),
            last_wall=self.last_wall, framings=tuple(sorted(self.framings)),
        )  # fmt: skip


def _went_back(uptime: float | None, before: float | None) -> bool:
    return uptime is not None and before is not None and uptime < before - 1.0


@dataclass(slots=True)
class _Stream:
    open: _Open | None = None
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
        self._all: list[_Open] = []

    def observe(self, line: LogLine) -> None:
        if line.boot_marker:
            count, _ = self._epochs.get(line.source, (0, None))
            self._epochs[line.source] = (count + 1, line.boot_id)
            return
        stream = self._streams.get((line.source, line.host))
        if stream is None:
            stream = self._streams[line.source, line.host] = _Stream()
        seg = stream.open
        epoch, banner_id = self._epochs.get(line.source, (0, None))
        reason = None
        if seg is None:
            reason = "boot banner" if epoch else "start"
        elif seg.epoch != epoch:
            reason = "boot banner"
        elif line.boot_id and seg.boot_id and line.boot_id != seg.boot_id:
            reason = "boot id changed"
        elif _LINUX_VERSION.match(line.text) and line.ident in (None, "kernel"):
            reason = "Linux version"
        elif _went_back(line.uptime_s, seg.max_uptime):
            reason = "uptime went back"
        if seg is None or reason is not None:
            boot_id = line.boot_id or (banner_id if reason == "boot banner" else None)
            seg = _Open(line.source, line.host, line.lineno, reason or "start", boot_id, epoch)
            stream.open = seg
            self._all.append(seg)
        self._update(stream, seg, line)

    def _update(self, stream: _Stream, seg: _Open, line: LogLine) -> None:
        seg.last_line = line.lineno
        seg.framings.add(line.framing)
        seg.boot_id = seg.boot_id or line.boot_id
        uptime, wall, moved = line.uptime_s, line.wall, None
        if uptime is not None:
            seg.max_uptime = uptime if seg.max_uptime is None else max(seg.max_uptime, uptime)
        if wall is not None:
            seg.last_wall = wall
            if wall != stream.raw:  # lines of one report share their (syslog) wall: once
                stream.raw, stream.moved = wall, self._move(stream, seg, wall, line.lineno)
            moved = stream.moved
        if _KEY.search(line.text):
            _keep_key(seg, line, moved)
        if moved is None or uptime is None:
            return
        if line.framing == "dmesg-T":
            seg.tee.add(moved, uptime, line.lineno)
        elif line.framing in JOURNAL_FRAMINGS:
            seg.offer("journal", moved, uptime, line.lineno)
        else:
            seg.offer("syslog", moved, _centred(moved, uptime), line.lineno)

    @staticmethod
    def _move(stream: _Stream, seg: _Open, wall: datetime, lineno: int) -> datetime | None:
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
        by_text: _Table = {}  # pid lines of anchored segments -> their uptime
        by_wall: _Table = {}  # pid lines with only a receive time -> that wall
        for i in sorted(range(len(out)), key=lambda i: out[i].anchor_kind != "journal"):
            built = self._all[i]
            if out[i].boot_wall is not None:
                for key in built.keys.items:
                    by_key.setdefault(key, i)
                _enter(by_text, built.texts, i)
            _enter(by_wall, built.walls, i)
        for j, seg in enumerate(out):
            if seg.boot_wall is None:
                out[j] = _borrow(seg, self._all[j], out, by_key, (by_text, by_wall))
        return tuple(out)


_Table = dict[str, tuple[int, float | datetime] | None]  # text -> (segment, value); None: twice
_Match = tuple[int, float, datetime]  # (line here, uptime, wall)


def _centred(wall: datetime, uptime_s: float) -> float:
    """The uptime to pair with ``wall``: a whole-second stamp is half a second short on average."""
    return uptime_s - 0.5 if wall.microsecond == 0 else uptime_s


def _keep_key(seg: _Open, line: LogLine, wall: datetime | None) -> None:
    uptime, text = line.uptime_s, line.text
    if uptime is not None:
        seg.keys.add(f"{round(uptime * 1e6)} {text}", (line.lineno, uptime, None))
    if not _PID_KEY.search(text):
        return
    if uptime is not None:
        seg.texts.add(text, (line.lineno, uptime, None))
    elif wall is not None and line.framing != "dmesg-iso":  # dmesg -T/iso: boot + uptime
        (seg.texts if line.framing == "dmesg-T" else seg.walls).add(text, (line.lineno, None, wall))


def _enter(table: _Table, keys: KeySet, i: int) -> None:
    for text, (_, up, wall) in keys.items.items():
        value = up if up is not None else wall
        if value is not None:
            table[text] = None if text in table else (i, value)


def _match(keys: KeySet, table: _Table, donor: int | None) -> tuple[int | None, list[_Match]]:
    """Pid lines here matched by text to copies in one other segment: an uptime on one side and
    a wall on the other. Returns that segment and the matches."""
    found: list[_Match] = []
    for text, (line, up, wall) in sorted(keys.items.items(), key=lambda kv: kv[1][0]):
        hit = table.get(text)
        if hit is None or donor not in (None, hit[0]):
            continue
        if up is not None and isinstance(hit[1], datetime):
            found.append((line, up, hit[1]))
        elif wall is not None and isinstance(hit[1], float):
            found.append((line, hit[1], wall))
        else:
            continue
        donor = hit[0]
    return donor, found


def _borrow(
    seg: BootSegment,
    built: _Open,
    out: list[BootSegment],
    by_key: dict[str, int],
    tables: tuple[_Table, _Table],
) -> BootSegment:
    """An unanchored segment's boot wall from another source: the same lines with the same
    uptimes (or dmesg -T pid lines) in an anchored segment, or else its pid lines paired with
    the receive times of copies that have no uptime."""
    donor = next((by_key[k] for k in built.keys.items if k in by_key), None)
    donor, matched = _match(built.texts, tables[0], donor)
    if donor is not None:
        d, tee = out[donor], Sample()
        for line, up, wall in matched:
            tee.add(wall, up, line)
        return replace(
            seg, boot_id=seg.boot_id or d.boot_id, boot_wall=d.boot_wall, anchor_kind=d.anchor_kind,
            spread_s=d.spread_s, drift_s=d.drift_s, borrowed_from=f"{d.source}:{d.first_line}",
            matched=tuple(matched), dmesg_t_boot=tee.boot() or seg.dmesg_t_boot,
        )  # fmt: skip
    donor, pairs = _match(built.texts, tables[1], None)
    if donor is None:
        return seg
    d, got = out[donor], Sample(kind="syslog")
    for line, up, wall in pairs:
        got.add(wall, _centred(wall, up), line)
    drift = got.drift()
    return replace(
        seg, boot_wall=got.boot(), anchors=got.count, anchor_kind="syslog",
        spread_s=got.hi - got.lo, drift_s=drift[0] if drift else None,
        drift_line=drift[1] if drift else None, borrowed_from=f"{d.source}:{d.first_line}",
    )  # fmt: skip
