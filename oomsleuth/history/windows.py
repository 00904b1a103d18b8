"""The windows of time around OOM events that history is kept for.

Only samples inside a window are kept in memory, so a month of history costs what the windows
hold, not what the files hold. ``keep`` is called for every sample a reader sees: it must be
cheap (a bisect over merged intervals).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta

from oomsleuth.errors import UsageError
from oomsleuth.model.patterns import lazy_compile

DEFAULT_BEFORE = timedelta(minutes=30)
DEFAULT_AFTER = timedelta(minutes=5)
_PART = lazy_compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``1h30m``, ``2d``; a bare number is minutes."""
    t = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", t):
        return timedelta(minutes=float(t))
    pos, total = 0, 0.0
    for m in _PART.finditer(t):
        if m.start() != pos:
            break
        total += float(m[1]) * _UNITS[m[2]]
        pos = m.end()
    if pos != len(t) or not t:
        raise UsageError(f"bad duration {text!r} (examples: 30m, 90s, 1h30m)")
    return timedelta(seconds=total)


def parse_window(text: str) -> tuple[timedelta, timedelta]:
    """``BEFORE[:AFTER]``, e.g. ``30m:5m`` or ``2h``."""
    before, _, after = text.partition(":")
    return parse_duration(before), parse_duration(after) if after else DEFAULT_AFTER


class Windows:
    """Merged [start, end] intervals with a fast membership test."""

    def __init__(self, moments: Iterable[datetime], before: timedelta, after: timedelta) -> None:
        spans = sorted((t - before, t + after) for t in moments)
        merged: list[tuple[datetime, datetime]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        self.spans = merged
        self._starts = [s for s, _ in merged]

    def __bool__(self) -> bool:
        return bool(self.spans)

    def keep(self, t: datetime) -> bool:
        i = bisect_right(self._starts, t) - 1
        return i >= 0 and t <= self.spans[i][1]
