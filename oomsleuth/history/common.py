"""What the history readers share: time stamps, the warning limiter, /proc/meminfo names, lines
in lists."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from itertools import islice

from oomsleuth.model import Warning_, Where
from oomsleuth.model.patterns import lazy_compile

_EPOCH = lazy_compile(r"\d{9,13}(?:\.\d{1,9})?")
_ISO = lazy_compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?"
    r"(?:\s?(Z|[+-]\d\d(?::?\d\d)?))?",
    re.IGNORECASE,
)
UNLIMITED_BYTES = 1 << 60  # v1 "unlimited" is PAGE_COUNTER_MAX pages, about 2**63 bytes
# /proc/meminfo key -> canonical metric (node_exporter names its gauges after these keys)
MEMINFO = {
    "MemTotal": "mem_total_kb",
    "MemFree": "mem_free_kb",
    "MemAvailable": "mem_available_kb",
    "Buffers": "buffers_kb",
    "Cached": "cached_kb",
    "SwapCached": "swap_cached_kb",
    "SwapTotal": "swap_total_kb",
    "SwapFree": "swap_free_kb",
    "Shmem": "shmem_kb",
    "Slab": "slab_kb",
    "AnonPages": "anon_kb",
    "Dirty": "dirty_kb",
    "Active": "active_kb",
    "Inactive": "inactive_kb",
    "Committed_AS": "commit_kb",
}


def parse_stamp(text: str, tz: tzinfo) -> datetime | None:
    """ISO 8601 (zone optional: naive means ``tz``) or epoch seconds/milliseconds, else None."""
    try:
        if _EPOCH.fullmatch(text):
            seconds = float(text)
            return datetime.fromtimestamp(
                seconds / 1000 if seconds >= 1e11 else seconds, timezone.utc
            )
        m = _ISO.fullmatch(text)
        if m is None:
            return None
        frac = int((m[7] or "0")[:6].ljust(6, "0"))
        year, month, day, hour, minute = (int(m[i]) for i in range(1, 6))
        t = datetime(year, month, day, hour, minute, int(m[6] or 0), frac)
        zone = m[8]
        if not zone:
            return t.replace(tzinfo=tz)
        if zone in "Zz":
            return t.replace(tzinfo=timezone.utc)
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        return t.replace(tzinfo=timezone(-offset if zone[0] == "-" else offset))
    except (ValueError, OverflowError, OSError):
        return None


class WarnLimiter:
    """The one per-code warning limiter of the history readers: passes on the first ``limit``
    warnings of each code, then only counts them.

    ``close`` then adds one summary warning per code that went over: ``more``, formatted with
    ``n`` (how many were dropped) and ``code``; None for no summary. ``cut`` shortens every
    message to that many characters; ``last`` is appended to the ``limit``-th warning of a code
    (the last one passed on), to say that the rest are dropped.
    """

    def __init__(
        self,
        warn: Callable[[Warning_], None],
        source: str,
        limit: int = 20,
        more: str | None = "{n} more {code} warnings not shown",
        *,
        cut: int | None = None,
        last: str = "",
    ) -> None:
        self.source = source
        self._warn, self._limit, self._more = warn, limit, more
        self._cut, self._last = cut, last
        self._counts: dict[str, int] = {}

    def __call__(self, line: int, code: str, message: str) -> None:
        n = self._counts[code] = self._counts.get(code, 0) + 1
        if n <= self._limit:
            text = message if self._cut is None else message[: self._cut]
            if n == self._limit:
                text += self._last
            self._warn(Warning_(Where(self.source, line), code, text))

    def close(self, line: int) -> None:
        if self._more is None:
            return
        for code, n in self._counts.items():
            if n > self._limit:
                more = self._more.format(n=n - self._limit, code=code)
                self._warn(Warning_(Where(self.source, line), code, more))


BATCH = 256  # lines a list when a reader that reads lists is given lines one by one


def batched(lines: Iterable[str], size: int = BATCH) -> Iterator[list[str]]:
    """``lines`` in lists of ``size`` (the last shorter): what a ``parse_blocks`` reads."""
    it = iter(lines)
    return iter(lambda: list(islice(it, size)), [])
