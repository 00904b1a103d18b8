"""Where a history file's samples lie when none falls in the windows around the events.

The ``history-outside-window`` warning says it, and which shift of the history's clock against
the log's would line them up when that shift is a zone offset (whole hours first): the usual
cause is a local time read in the wrong ``--tz`` (the log's or the history's) or a clock kept
in local time. Host-wide history (sar, node_exporter) has no trace of a kill's own process, so
this is the only clock check it gets (:mod:`oomsleuth.clock.offset` does the rest).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timezone

from oomsleuth.history.windows import Windows

OUTSIDE = "no sample of this history file falls in the window around any OOM event"
HOUR_S = 3600
QUARTER_S = 900
MAX_OFFSET_S = 26 * HOUR_S  # zones span UTC-12 to UTC+14


class Span:
    """A ``keep`` that also notes the first and last time it was asked about. Called, it is
    ``keep``; ``spans``: the windows ``keep`` takes (a reader may set aside times far from
    them without asking, :mod:`oomsleuth.history.band`)."""

    def __init__(
        self, keep: Callable[[datetime], bool], spans: list[tuple[datetime, datetime]]
    ) -> None:
        self._keep = keep
        self.spans = spans
        self.first: datetime | None = None
        self.last: datetime | None = None

    def keep(self, t: datetime) -> bool:
        if self.first is None or t < self.first:
            self.first = t
        if self.last is None or t > self.last:
            self.last = t
        return self._keep(t)

    __call__ = keep


def outside(span: Span, windows: Windows) -> str:
    """The warning for a file with no sample in any window (see the module doc)."""
    if span.first is None or span.last is None or not windows.spans:
        return OUTSIDE
    start, end = windows.spans[0][0], windows.spans[-1][1]
    text = (
        f"{OUTSIDE}: its samples run from {_utc(span.first)} to {_utc(span.last)}, the "
        f"windows from {_utc(start)} to {_utc(end)}"
    )
    # history time - log time that would put a sample in a window
    lo, hi = (span.first - end).total_seconds(), (span.last - start).total_seconds()
    zones = _multiples(lo, hi, QUARTER_S)
    if not zones or hi - lo > 2 * HOUR_S:
        return text
    halves = [s for s in zones if s % (HOUR_S // 2) == 0]  # most zones: whole or half hours
    ahead = "ahead of" if zones[0] > 0 else "behind"
    low, high = sorted((abs(lo), abs(hi)))
    named = " or ".join(_size(s) for s in (halves or zones))
    return (
        f"{text}; they line up if the history's clock is {_size(max(low, 0))} to "
        f"{_size(high)} {ahead} the log's ({named}: a local time read in the wrong --tz, the "
        "log's or the history's, or a clock kept in local time?)"
    )


def _multiples(lo: float, hi: float, step: int) -> list[int]:
    first, last = math.ceil(lo / step), math.floor(hi / step)
    return [q * step for q in range(first, last + 1) if q and abs(q * step) <= MAX_OFFSET_S]


def _size(seconds: float) -> str:
    hours, minutes = divmod(round(abs(seconds)) // 60, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "") if hours else f"{minutes} min"


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
