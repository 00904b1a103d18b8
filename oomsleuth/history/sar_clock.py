"""The wall clock of a ``sar`` text: the banner's date, day changes, section rewinds."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from oomsleuth.history.band import DAY


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
