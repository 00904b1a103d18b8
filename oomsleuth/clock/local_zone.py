"""This machine's time zone: ``dateutil.tz.tzlocal()``'s answers from the ``time`` module.

A naive wall clock (syslog, ``dmesg -T``) is local time unless ``--tz`` says otherwise, so the
default zone of every run is ``dateutil.tz.tzlocal()``. Importing ``dateutil.tz`` costs ~8 ms
(it pulls in ``zoneinfo``, ``sysconfig``, ``struct``...), a tenth of a one-report run, and its
``fromutc`` ~25 µs a call (each report's times go through it a few times). :class:`LocalZone`
gives the same answers without it, by tzlocal's own model of the zone:

- two offsets, read from ``time`` when the zone is first asked something: standard
  (``-time.timezone``) and DST (``-time.altzone`` when ``time.daylight``, else standard);
- a wall clock is DST when ``time.localtime`` says so of it read as if it were UTC shifted by
  the standard offset; it is *ambiguous* (a repeated hour) when it is not DST but the same wall
  one DST-saving earlier is, and then ``fold`` picks (0: the DST reading);
- from UTC: add the standard offset, then the saving when that wall (fold 1) is DST; the fold
  is 1 when the result is ambiguous and the standard offset got there.

Equality, hashing and ``repr`` are tzlocal's (they load it; no run needs them).
``tests/test_local_zone.py`` checks every answer against ``tzlocal()`` across DST changes and
folds in four zones, and that a run reading no wall clock loads no dateutil.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, tzinfo
from typing import Any

_EPOCH = datetime(1970, 1, 1)
_ZERO = timedelta(0)


class LocalZone(tzinfo):
    """``dateutil.tz.tzlocal()`` (see the module doc)."""

    def __init__(self) -> None:
        self._rules: tuple[timedelta, timedelta, timedelta, tuple[str, ...]] | None = None

    def rules(self) -> tuple[timedelta, timedelta, timedelta, tuple[str, ...]]:
        """(standard offset, DST offset, saving, names), read from ``time`` on first use."""
        if self._rules is None:
            std = timedelta(seconds=-time.timezone)
            dst = timedelta(seconds=-time.altzone) if time.daylight else std
            self._rules = (std, dst, dst - std, tuple(time.tzname))
        return self._rules

    def zone(self) -> tzinfo:
        """dateutil's own ``tzlocal()`` (importing dateutil now)."""
        from dateutil import tz

        return tz.tzlocal()

    def _isdst(self, dt: datetime) -> bool:
        saved = self.rules()[2]
        if not saved:
            return False
        if _naive_is_dst(dt):
            return True
        if _naive_is_dst(dt - saved):  # a repeated hour: fold 0 is the DST reading
            return not dt.fold
        return False

    def _ambiguous(self, dt: datetime) -> bool:
        saved = self.rules()[2]
        return not _naive_is_dst(dt) and _naive_is_dst(dt - saved)

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        std, dst, saved, _ = self.rules()
        if dt is None:
            return None if saved else std
        return dst if self._isdst(dt) else std

    def dst(self, dt: datetime | None) -> timedelta | None:
        saved = self.rules()[2]
        if dt is None:
            return None if saved else _ZERO
        return saved if self._isdst(dt) else _ZERO

    def tzname(self, dt: datetime | None) -> str | None:
        names = self.rules()[3]
        if dt is None:
            return names[0] if not self.rules()[2] else self.zone().tzname(dt)
        return names[self._isdst(dt)]

    def fromutc(self, dt: datetime) -> datetime:
        if not isinstance(dt, datetime):
            raise TypeError("fromutc() requires a datetime argument")
        if dt.tzinfo is not self:
            raise ValueError("dt.tzinfo is not self")
        std, _, saved, _ = self.rules()
        wall = dt + std
        if self._isdst(wall.replace(fold=1)):
            wall += saved
        if saved and self._ambiguous(wall):  # the standard offset got there: the second one
            return wall.replace(fold=int(wall - dt == std))  # (one zone: naive difference)
        return wall.replace(fold=0)

    def __eq__(self, other: object) -> bool:
        mine = self.zone()
        return mine == (other.zone() if isinstance(other, LocalZone) else other)

    def __hash__(self) -> int:
        return hash(self.zone())

    def __repr__(self) -> str:
        return repr(self.zone())

    def __reduce__(self) -> tuple[Any, ...]:
        return LocalZone, ()


def _naive_is_dst(dt: datetime) -> bool:
    """``time.localtime`` of the wall read as UTC shifted by the standard offset: DST?"""
    seconds = (dt.replace(tzinfo=None) - _EPOCH).total_seconds()
    return bool(time.localtime(seconds + time.timezone).tm_isdst)
