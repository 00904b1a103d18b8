"""Put stamps on the wall clock: syslog year inference and time zones.

Pure: the caller passes what it knows about each source (the file's mtime, ``--year``, ``--tz``).
Each stamp gets a ``time_confidence``:

- ``exact``: the log printed a full, zoned time (journal JSON/export realtime, RFC 3339, ISO);
- ``derived``: the log printed a full local time, placed in the ``--tz`` zone (``dmesg -T``,
  ``short-full`` with a zone name we do not know);
- ``estimated``: the year was inferred (syslog prints none) from ``--year``, the file's
  modification time or today's date;
- ``unknown``: only seconds since boot are known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from oomsleuth.framing import has_placeholder_year
from oomsleuth.models import ParseResult, Stamp


@dataclass(frozen=True, slots=True)
class TimeContext:
    tz: tzinfo  # zone of naive stamps (syslog and dmesg -T write local time)
    year: int | None = None  # --year: the year of the syslog lines
    mtimes: dict[str, datetime] = field(default_factory=dict)  # source -> file mtime (aware)
    now: datetime | None = None  # for stdin: the year is the current one


def infer_year(month: int, day: int, ctx: TimeContext, source: str) -> int:
    """The year of a syslog stamp: the one that puts it at or before the file's mtime.

    A file written in January that holds December lines gets the previous year for them.
    """
    if ctx.year is not None:
        return ctx.year
    end = ctx.mtimes.get(source) or ctx.now or datetime.now(ctx.tz)
    end = end.astimezone(ctx.tz)
    return end.year if (month, day) <= (end.month, end.day) else end.year - 1


def resolve_stamp(stamp: Stamp, source: str, ctx: TimeContext) -> Stamp:
    wall = stamp.wall
    if wall is None:
        return replace(stamp, time_confidence="unknown" if stamp.uptime_s is not None else None)
    confidence = "exact" if wall.tzinfo is not None else "derived"
    if has_placeholder_year(wall):
        year = infer_year(wall.month, wall.day, ctx, source)
        try:
            wall = wall.replace(year=year)
        except ValueError:  # 29 February in a year that has none
            return replace(stamp, wall=None, time_confidence="unknown")
        confidence = "estimated"
    if wall.tzinfo is None:
        wall = wall.replace(tzinfo=ctx.tz)
    return replace(stamp, wall=wall, time_confidence=confidence)


def resolve_times(result: ParseResult, ctx: TimeContext) -> ParseResult:
    """Every stamp of the result placed on the wall clock as well as the log allows."""

    def fix(where_source: str) -> Callable[[Stamp], Stamp]:
        return lambda s: resolve_stamp(s, where_source, ctx)

    reports = []
    for rep in result.reports:
        f = fix(rep.where.source)
        kills = tuple(replace(k, stamp=fix(k.where.source)(k.stamp)) for k in rep.kills)
        reports.append(replace(rep, stamp=f(rep.stamp), kills=kills))
    return replace(
        result,
        reports=tuple(reports),
        alloc_failures=tuple(
            replace(a, stamp=fix(a.where.source)(a.stamp)) for a in result.alloc_failures
        ),
        userspace=tuple(replace(u, stamp=fix(u.where.source)(u.stamp)) for u in result.userspace),
    )
