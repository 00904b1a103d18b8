"""Rows of a local-time history far from every window, told apart by plain integers.

A reader of naive local times (``sar``) builds a ``datetime`` and asks ``keep`` about every
row; for a month of rows and a window of half an hour nearly all of that work is thrown away.
``Band`` says which rows ``keep`` is sure to refuse from their naive time alone (a day number
and seconds of the day): a zone's offset is under 24 hours, so a naive time more than
``MARGIN`` away from every window (its bounds read both in UTC and in their own zone) cannot
fall in one, whatever ``tz`` says. The rows it sets aside are never asked about; the earliest
and the latest of them are asked about at the end (``close``), so that a ``keep`` that notes
the span of times it saw (:class:`oomsleuth.history.span.Span`) notes the same span.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone, tzinfo

DAY = 86400
MARGIN = 25 * 3600  # more than any zone's offset from UTC


def key(t: datetime) -> int:
    """Seconds since day 1 of year 1 of the naive fields of ``t``."""
    return t.toordinal() * DAY + t.hour * 3600 + t.minute * 60 + t.second


class Band:
    """The naive times near the windows ``spans`` (aware (start, end) pairs, sorted)."""

    def __init__(self, spans: Sequence[tuple[datetime, datetime]]) -> None:
        bands: list[list[int]] = []
        for start, end in spans:
            utc = [t.astimezone(timezone.utc).replace(tzinfo=None) for t in (start, end)]
            lo = min(key(start), key(utc[0])) - MARGIN
            hi = max(key(end), key(utc[1])) + MARGIN + 1
            if bands and lo <= bands[-1][1]:
                bands[-1][1] = max(hi, bands[-1][1])
            else:
                bands.append([lo, hi])
        self._starts = [b[0] for b in bands]
        self._ends = [b[1] for b in bands]
        self.low: int | None = None  # the earliest and latest naive times set aside
        self.high: int | None = None

    def far(self, naive: int) -> bool:
        """True (and noted) when ``keep`` refuses this naive time in any zone."""
        i = bisect_right(self._starts, naive) - 1
        if i >= 0 and naive <= self._ends[i]:
            return False
        if self.low is None or naive < self.low:
            self.low = naive
        if self.high is None or naive > self.high:
            self.high = naive
        return True

    def far_between(self, first: int, last: int) -> bool:
        """True (and noted) when every naive time from ``first`` to ``last`` is far."""
        i = bisect_right(self._starts, last) - 1
        if i >= 0 and first <= self._ends[i]:
            return False
        self.far(first)
        self.far(last)
        return True

    def close(self, keep: Callable[[datetime], bool], tz: tzinfo) -> None:
        """Ask ``keep`` about the earliest and the latest time set aside (it refuses both)."""
        for naive in {self.low, self.high} - {None}:
            assert naive is not None
            seconds = naive % DAY
            d = date.fromordinal(naive // DAY)
            hour, rest = divmod(seconds, 3600)
            keep(datetime(d.year, d.month, d.day, hour, rest // 60, rest % 60, tzinfo=tz))


def band(keep: Callable[[datetime], bool]) -> Band | None:
    """A band for ``keep`` when it says where its windows are (``spans``), else None."""
    spans = getattr(keep, "spans", None)
    if not spans:
        return None
    try:
        return Band(spans)
    except (OverflowError, ValueError):  # windows at the ends of the calendar
        return None
