"""Runs of ``sar`` data rows far from every window, set aside without a Python step a row.

A run is the rows from a point of a list of lines that start ``HH:MM:SS`` and a number (no
leading blank, 24-hour clock: what the line reader takes for a data row, with no header, banner
or ``LINUX RESTART`` among them). When their times never go back (on a fixed-width clock, as
strings) and do not go back from the clock's last either, the run is one day's rows from its
first time to its last: if that stretch is far from every window (:class:`Band`), the line
reader would only have ticked the clock to the last time and asked ``keep`` nothing it would
not refuse. Everything is checked by C-level calls over the run (``map``); any run that fails a
check is read a row at a time, as before.
"""

from __future__ import annotations

import re
from itertools import islice, repeat
from operator import indexOf, itemgetter, le

from oomsleuth.history.band import Band
from oomsleuth.history.sar_clock import SarClock
from oomsleuth.model.patterns import lazy_compile

_ROW = lazy_compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][ \t]+[0-9]", re.ASCII)
_TIME = itemgetter(slice(0, 8))


def far_run(block: list[str], start: int, clock: SarClock, near: Band) -> tuple[int, bool]:
    """How many lines from ``block[start]`` are data rows, and whether they are set aside
    (the clock then stands at the last of them)."""
    rows = map(_ROW.match, islice(block, start, None))
    try:
        size = indexOf(rows, None)
    except ValueError:
        size = len(block) - start
    if size < 2:
        return size, False
    run = block[start : start + size]
    if any(map(str.__contains__, run, repeat("LINUX RESTART"))):
        return size, False
    times = list(map(_TIME, run))
    if not all(map(le, times, islice(times, 1, None))):
        return size, False
    first, last = _seconds(times[0]), _seconds(times[-1])
    if clock.last is not None and first < clock.last:
        return size, False
    if not near.far_between(clock.naive(first), clock.naive(last)):
        return size, False
    clock.last = last
    return size, True


def _seconds(hms: str) -> int:
    return int(hms[:2]) * 3600 + int(hms[3:5]) * 60 + int(hms[6:8])
