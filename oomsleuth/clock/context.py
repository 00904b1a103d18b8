"""What the caller knows about time: the zone of naive stamps, the syslog year, file mtimes,
``--boot-time``. Built once per analysis and passed to :func:`oomsleuth.clock.resolve_times`."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Final

from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import field, record

LIVE_BOOT_TIME: Final = datetime(1, 1, 1, tzinfo=timezone.utc)  # "--boot-time now"
_EPOCH = lazy_compile(r"@?\d{1,12}(?:\.\d{1,9})?")


@record(frozen=True, slots=True)
class TimeContext:
    tz: tzinfo  # zone of naive stamps (syslog and dmesg -T write local time)
    year: int | None = None  # --year: the year of the syslog lines
    mtimes: dict[str, datetime] = field(default_factory=dict)  # source -> file mtime (aware)
    now: datetime | None = None  # aware (any zone): for stdin, the year is the current one
    boot_time: datetime | None = None  # --boot-time (aware): the boot of the last segment
    # where boot_time came from: "boot-time option" (--boot-time), "boot-time" (a bundle's or
    # this host's /proc/stat btime)
    boot_source: str = "boot-time option"


def parse_boot_time(text: str, tz: tzinfo) -> datetime:
    """``--boot-time``: ISO 8601 (naive = ``tz``), seconds since the epoch (``@`` optional), or
    ``now``, which gives ``LIVE_BOOT_TIME`` for the caller to replace by this machine's boot
    time (:func:`oomsleuth.load.host.live_boot_time`).
    Raises ValueError with a message for the user."""
    s = text.strip()
    if s.lower() == "now":
        return LIVE_BOOT_TIME
    try:
        if _EPOCH.fullmatch(s):
            return datetime.fromtimestamp(float(s.lstrip("@")), timezone.utc)
        when = datetime.fromisoformat(s[:-1] + "+00:00" if s[-1:] in "Zz" and s else s)
    except (ValueError, OverflowError, OSError):
        when = None
    if when is None or when.year < 1970:
        raise ValueError(
            f"cannot read boot time {text!r}: give an ISO 8601 time (2026-11-25T22:26:58Z), "
            "seconds since the epoch, or 'now'"
        )
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def infer_year(month: int, day: int, ctx: TimeContext, source: str) -> int:
    """The year of a syslog stamp: the one that puts it at or before the file's mtime.

    A file written in January that holds December lines gets the previous year for them.
    """
    if ctx.year is not None:
        return ctx.year
    end = ctx.mtimes.get(source) or ctx.now or datetime.now(ctx.tz)
    end = end.astimezone(ctx.tz)
    return end.year if (month, day) <= (end.month, end.day) else end.year - 1
