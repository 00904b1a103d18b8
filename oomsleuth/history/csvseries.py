"""CSV time series with a header: ``time,series,value`` or ``time,metric,entity,value``.

::

    time,series,value
    2026-11-25T22:50:00+00:00,mem_available_kb,812344
    1795646000,"proc_rss_kb{pid=1234,comm=leaker}",524288
    2026-11-25 22:50:01,cg_mem_current_kb{cgroup=/system.slice/x.service},102400

    time,metric,entity,value
    2026-11-25T22:50:00Z,proc_rss_kb,pid:1234,524288

``time`` is ISO 8601 (naive: in ``tz``) or epoch seconds (13 digits: milliseconds); ``timestamp``
is read as ``time``. A series is a metric name with optional ``{key=value,...}`` labels (values
may be double-quoted); ``entity``, ``pid``, ``cgroup``, ``container`` or ``group`` (the first one
present) name the entity, the others are labels. The series cell needs no CSV quotes: the time is
cut at the first comma and the value at the last. Names are kept as written (canonical ones are
understood). Blank lines and lines starting with ``#`` are skipped; empty and NaN values too.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, tzinfo

from oomsleuth.history import FormatInfo
from oomsleuth.history.common import WarnLimiter, parse_stamp
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.patterns import lazy_compile

_SERIES = lazy_compile(r"\s*([A-Za-z_:][\w:.]*)\s*(?:\{(.*)\})?\s*")
_LABEL = lazy_compile(r'\s*(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,"]*?))\s*(?:,|$)')
ENTITY_KEYS = ("entity", "pid", "cgroup", "container", "group")
_TIME, _SERIES_NAMES = ("time", "timestamp"), ("series", "metric")

Series = tuple[str, str | None, tuple[tuple[str, str], ...]]


def _header(line: str) -> int | None:
    """3 or 4 (the number of columns) for an accepted header, else None."""
    cells = [c.strip().strip('"').lower() for c in line.lstrip("\ufeff").split(",")]
    if len(cells) == 3 and cells[0] in _TIME and cells[1] in _SERIES_NAMES and cells[2] == "value":
        return 3
    if (
        len(cells) == 4
        and cells[0] in _TIME
        and cells[1] in _SERIES_NAMES
        and cells[2:] == ["entity", "value"]
    ):
        return 4
    return None


def parse_series(text: str, entity: str | None = None) -> Series | None:
    """``name{k=v,...}`` -> (name, entity, labels); None when it is not a series."""
    m = _SERIES.fullmatch(text)
    if m is None:
        return None
    labels: dict[str, str] = {}
    body, end = m[2] or "", 0
    while end < len(body.rstrip()):
        lm = _LABEL.match(body, end)
        if lm is None or lm.end() == end:
            return None
        value = lm[2] if lm[2] is not None else lm[3]
        labels[lm[1]] = re.sub(r"\\(.)", r"\1", value)
        end = lm.end()
    for key in ENTITY_KEYS:
        if entity is None and key in labels:
            value = labels.pop(key)
            entity = value if key == "entity" else f"{key}:{value}"
    return m[1], entity or None, tuple(sorted(labels.items()))


def _cells(line: str, columns: int) -> list[str] | None:
    try:
        row = next(csv.reader([line]), []) if '"' in line else []
    except csv.Error:
        row = []
    if len(row) != columns:  # no quotes, or quotes inside an unquoted series cell
        first, _, rest = line.partition(",")
        row = [first, *rest.rsplit(",", columns - 2)] if rest else [first]
    return [c.strip() for c in row] if len(row) == columns else None


class _SeriesCache(dict[tuple[str, str], Series | None]):
    """Parsed series by (series cell, entity cell); forgets them all past 4096 entries."""

    def __missing__(self, key: tuple[str, str]) -> Series | None:
        if len(self) > 4096:
            self.clear()
        series = self[key] = parse_series(key[0], key[1] or None)
        return series


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """Stream samples from a CSV series file (see the module docstring)."""
    limiter = WarnLimiter(warn, source)
    numbered = enumerate(lines, 1)
    n, columns = _header_line(numbered, limiter)
    if columns is None:  # no header: nothing can be read
        limiter.close(n)
        return
    stamp_text, t, kept = "", None, False
    cache = _SeriesCache()
    for n, raw in numbered:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = _cells(line, columns)
        if cells is None:
            limiter(n, "bad-line", f"expected {columns} columns: {line[:80]!r}")
            continue
        if cells[0] != stamp_text:
            t = parse_stamp(cells[0], tz)
            stamp_text, kept = cells[0], t is not None and keep(t)
        if t is None:
            limiter(n, "bad-time", f"cannot read the time {cells[0][:40]!r}")
            continue
        if not kept or cells[-1] == "":
            continue
        try:
            value = float(cells[-1])
        except ValueError:
            limiter(n, "bad-value", f"not a number: {cells[-1][:40]!r}")
            continue
        if math.isnan(value):
            continue
        series = cache[cells[1], cells[2] if columns == 4 else ""]
        if series is None:
            limiter(n, "bad-series", f"cannot read the series {cells[1][:80]!r}")
            continue
        name, entity, labels = series
        yield Sample(t, name, value, entity, labels, source)
    limiter.close(n)


def _header_line(
    numbered: Iterator[tuple[int, str]], limiter: WarnLimiter
) -> tuple[int, int | None]:
    """Read up to the first line that is not blank or a comment: (its line number, its number of
    columns, None with a warning when it is not a header). (0, None) without such a line."""
    for n, raw in numbered:
        line = raw.strip()
        if line and not line.startswith("#"):
            columns = _header(line)
            if columns is None:
                limiter(n, "no-header", "a CSV series file starts with time,series,value")
            return n, columns
    return 0, None


def sniff(head: list[str]) -> bool:
    """The first line that is not blank or a ``#`` comment is an accepted header."""
    for raw in head:
        line = raw.strip()
        if line and not line.startswith("#"):
            return _header(line) is not None
    return False


FORMAT = FormatInfo(
    name="csv",
    description="CSV series: time,series,value (series = metric{labels}) or "
    "time,metric,entity,value",
    sniff=sniff,
)
