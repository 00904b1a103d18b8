"""Where a stamp sits: the boot segments of its (source, host) stream, the years of yearless
syslog walls, and a boot wall + uptime with the confidence and uncertainty its anchors allow."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta

from oomsleuth.clock.anchors import YEARLESS_BASE, is_yearless
from oomsleuth.clock.context import TimeContext, infer_year
from oomsleuth.clock.drift import DRIFT_LIMIT_S
from oomsleuth.model import BootSegment, Stamp, has_placeholder_year


class Chain:
    """The segments of one (source, host) stream, in line order."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.segments: list[BootSegment] = []
        self.rollovers: list[int] = []
        self.end: datetime | None = None  # the last yearless wall
        self.starts: list[int] = []

    def add(self, seg: BootSegment) -> None:
        self.segments.append(seg)
        self.starts.append(seg.first_line)
        self.rollovers += seg.rollovers
        if seg.last_wall is not None and has_placeholder_year(seg.last_wall):
            self.end = seg.last_wall

    def at(self, line: int) -> BootSegment:
        i = bisect_right(self.starts, line)
        return self.segments[max(i - 1, 0)]

    def year(self, index: int, wall: datetime, ctx: TimeContext) -> int:
        """The real year of yearless index ``index`` (``wall`` gives month/day without a chain)."""
        if ctx.year is not None:
            return ctx.year + index
        end = self.end or wall
        return infer_year(end.month, end.day, ctx, self.source) - len(self.rollovers) + index


class Index:
    def __init__(self, segments: Iterable[BootSegment]) -> None:
        self.chains: dict[tuple[str, str | None], Chain] = {}
        self.origins: dict[str, Chain] = {}  # "source:first_line" -> its chain (for borrowers)
        self.anchored: set[str] = set()
        for seg in segments:
            chain = self.chains.setdefault((seg.source, seg.host), Chain(seg.source))
            chain.add(seg)
            self.origins[f"{seg.source}:{seg.first_line}"] = chain
            if seg.boot_wall is not None:
                self.anchored.add(seg.source)
        for chain in self.chains.values():
            chain.rollovers.sort()


def with_year(wall: datetime, year: int) -> tuple[datetime, str | None]:
    if (wall.month, wall.day) == (2, 29) and not _leap(year):
        leap = next(y for y in range(year, year - 8, -1) if _leap(y))
        return wall.replace(year=leap), f"29 February: year {year} has none, {leap} taken"
    return wall.replace(year=year), None


def placed(wall: datetime, chain: Chain, line: int, ctx: TimeContext) -> Stamp:
    """A yearless wall the log printed, with its year and zone."""
    index = bisect_right(chain.rollovers, line)
    real, note = with_year(wall, chain.year(index, wall, ctx))
    return Stamp(wall=real.replace(tzinfo=ctx.tz), time_confidence="estimated", time_note=note)


# anchor kind -> the time_source of boot wall + kernel stamp
ANCHOR_SOURCES = {
    "journal": "journal",
    "syslog": "boot-estimate",
    "history": "history",
    "btime": "boot-time",
}


def from_anchor(seg: BootSegment, uptime: float, chain: Chain, ctx: TimeContext) -> Stamp:
    """Boot wall + uptime; ``chain`` is the stream whose anchors gave the boot wall."""
    assert seg.boot_wall is not None
    wall = seg.boot_wall + timedelta(seconds=uptime)
    drifting = abs(seg.drift_s or 0.0) > DRIFT_LIMIT_S
    spread = seg.core_spread_s if seg.core_spread_s is not None else seg.spread_s
    loose = (spread or 0.0) > 1.0 or drifting or seg.anchor_kind == "history"
    note = seg.anchor_note
    if is_yearless(wall):
        loose = True  # the year is inferred
        wall, leap = with_year(wall, chain.year(wall.year - YEARLESS_BASE, wall, ctx))
        note = leap or note
    if wall.tzinfo is None:
        wall = wall.replace(tzinfo=ctx.tz)
    exact = seg.anchor_kind == "journal" and not loose
    confidence = "exact" if exact else ("estimated" if loose else "derived")
    return Stamp(
        wall=wall,
        time_confidence=confidence,
        time_source=ANCHOR_SOURCES.get(seg.anchor_kind or "", "boot-estimate"),
        time_note=note,
        time_uncertainty_s=_uncertainty(seg),
    )


def _uncertainty(seg: BootSegment) -> float | None:
    """How far boot wall + uptime may be off: the anchors' core spread (half of it), at least the
    precision of their stamps; a history alignment's own interval; none known after a drift."""
    if seg.boot_uncertainty_s is not None:
        return seg.boot_uncertainty_s
    if abs(seg.drift_s or 0.0) > DRIFT_LIMIT_S:
        return None
    floor = 0.001 if seg.anchor_kind == "journal" else 0.5
    spread = seg.core_spread_s if seg.core_spread_s is not None else seg.spread_s
    return round(max((spread or 0.0) / 2, floor), 3)


def _leap(year: int) -> bool:
    """``calendar.isleap`` (importing ``calendar`` costs a millisecond or two of start-up)."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
