"""This machine's time zone, loaded when first needed.

A naive wall clock (syslog, ``dmesg -T``) is local time unless ``--tz`` says otherwise, so the
default zone of every run is ``dateutil.tz.tzlocal()``. Importing ``dateutil.tz`` costs ~10 ms
(it pulls in ``calendar``, ``zoneinfo``, ``ctypes``...), a tenth of a one-report run, and a log
of kernel stamps alone (plain ``dmesg``) never reads a wall clock. :class:`LocalZone` is that
zone, standing in for ``tzlocal()`` until a datetime first asks it something.
``tests/test_local_zone.py`` checks it against ``tzlocal()`` across DST changes and folds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any


class LocalZone(tzinfo):
    """``dateutil.tz.tzlocal()``, imported on first use (see the module doc)."""

    def __init__(self) -> None:
        self._real: tzinfo | None = None

    def zone(self) -> tzinfo:
        """The real ``tzlocal()`` (importing dateutil now, once)."""
        if self._real is None:
            from dateutil import tz

            self._real = tz.tzlocal()
        return self._real

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self.zone().utcoffset(dt)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return self.zone().dst(dt)

    def tzname(self, dt: datetime | None) -> str | None:
        return self.zone().tzname(dt)

    def fromutc(self, dt: datetime) -> datetime:
        real = self.zone()
        return real.fromutc(dt.replace(tzinfo=real)).replace(tzinfo=self)

    def __eq__(self, other: object) -> bool:
        mine = self.zone()
        return mine == (other.zone() if isinstance(other, LocalZone) else other)

    def __hash__(self) -> int:
        return hash(self.zone())

    def __repr__(self) -> str:
        return repr(self.zone())

    def __reduce__(self) -> tuple[Any, ...]:
        return LocalZone, ()
