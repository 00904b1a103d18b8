"""The wall clock of a ``sar`` text: the banner's date, day changes, section rewinds,
``LINUX RESTART`` lines."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, tzinfo

from oomsleuth.history.band import DAY
from oomsleuth.history.common import WarnLimiter
from oomsleuth.model import Sample


class SarClock:
    """Wall-clock dates for the times of one ``sar`` text: day changes and section rewinds."""

    def __init__(self) -> None:
        self.base: date | None = None
        self.day = 0  # days after the banner's date
        self.last: int | None = None  # seconds of day of the last timed line
        self.block: tuple[int, int] | None = None  # (first header time, its day) of a block
        self._cache: tuple[int, date] | None = None

    def banner(self, base: date | None) -> None:
        self.base, self.day, self.last, self.block = base, 0, None, None
        self._cache = None

    def tick(self, seconds: int, header: bool = False) -> None:
        if header and self.block is not None and seconds == self.block[0]:
            self.day = self.block[1]  # the next activity of the same block starts again
        elif self.last is not None and seconds < self.last:
            self.day += 1
        if header and self.block is None:
            self.block = (seconds, self.day)
        self.last = seconds

    def naive(self, seconds: int) -> int:
        """:func:`oomsleuth.history.band.key` of the time ``at`` gives (``base`` is set)."""
        assert self.base is not None
        return (self.base.toordinal() + self.day) * DAY + seconds

    def at(self, seconds: int, tz: tzinfo) -> datetime | None:
        if self.base is None:
            return None
        if self._cache is None or self._cache[0] != self.day:
            self._cache = (self.day, date.fromordinal(self.base.toordinal() + self.day))
        d = self._cache[1]
        hour, rest = divmod(seconds, 3600)
        return datetime(d.year, d.month, d.day, hour, rest // 60, rest % 60, tzinfo=tz)


def new_banner(text: str, clock: SarClock, warner: WarnLimiter, lineno: int) -> None:
    """A ``Linux ... (host) DATE`` banner: the clock starts again on its date."""
    base, ambiguous = parse_date(text)
    clock.banner(base)
    if base is None:
        warner(lineno, "sar-bad-date", f"cannot read the date {text!r}")
    elif ambiguous:
        warner(lineno, "sar-date-ambiguous", f"{text} read as {base}")


def restart(
    seconds: int, clock: SarClock, tz: tzinfo, keep: Callable[[datetime], bool], source: str
) -> list[Sample]:
    """A ``LINUX RESTART`` line: a ``restart`` sample; the next section starts a new block."""
    clock.tick(seconds)
    clock.block = None
    when = clock.at(seconds, tz)
    return [Sample(when, "restart", 0.0, source=source)] if when is not None and keep(when) else []


def parse_date(text: str) -> tuple[date | None, bool]:
    """The banner's date and whether day and month could be either way round."""
    parts = re.findall(r"\d+", text)
    if len(parts) != 3:
        return None, False
    a, b, c = (int(p) for p in parts)
    ambiguous = False
    if len(parts[0]) == 4:
        year, month, day = a, b, c
    elif "/" in text and a <= 12 and (b > 12 or a != b):
        year, month, day, ambiguous = c, a, b, b <= 12
    else:  # 25/11/26, 25.11.2026, 25-11-2026
        year, month, day = c, b, a
    year += 2000 if year < 100 else 0
    try:
        return date(year, month, day), ambiguous
    except ValueError:
        return None, False
