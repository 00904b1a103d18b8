"""sysstat ``sar`` text output, as people paste it and as ``sar -A -f saNN`` prints it.

Sample input and what it gives (``tz`` = UTC)::

    Linux 6.18.44 (vm)  11/25/26  _x86_64_  (2 CPU)          <- the date of what follows

    23:01:09    kbmemfree   kbavail kbmemused  %memused ...   <- a header: columns by name
    23:01:10     23818476  23874028    531360      2.15 ...
        -> Sample(2026-11-25 23:01:10+00:00, "mem_free_kb", 23818476.0), "mem_available_kb", ...
    Average:     23432639  23493568    910967      3.69 ...   <- ignored
    23:01:16     LINUX RESTART	(2 CPU)                      -> Sample(..., "restart", 0.0)

Any mix of activities (``-A`` too): a section is kept when its header names a column of
``COLUMNS``; other sections (CPU, interrupts, network, disks) are skipped after one look at
each line. Clocks: 24-hour or 12-hour (``11:01:10 PM``). Dates in the ``Linux ...`` banner:
``11/25/26``, ``11/25/2026``, ``25/11/26`` (day first when the first number is over 12; an
ambiguous one is read month first, with a warning), ``25.11.2026``, ``2026-11-25``
(``S_TIME_FORMAT=ISO``). Decimal commas (``2,15``) and ``sar -h`` units (``22.7G``, ``2.2%``)
are read. A clock that goes backwards starts a new day, except where a section starts again
at the first time of its block (each activity of ``sar -A`` covers the block once). Times are
the host's local time: naive, placed in ``tz``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, tzinfo
from math import isfinite

from oomsleuth.history import FormatInfo
from oomsleuth.history.band import band
from oomsleuth.history.common import WarnLimiter, batched
from oomsleuth.history.sar_clock import SarClock, new_banner, restart
from oomsleuth.history.sar_rows import far_run
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.patterns import lazy_compile

# sysstat column name (sar text and ``sadf -d`` headers) -> canonical metric
COLUMNS: dict[str, str] = {
    "kbmemfree": "mem_free_kb",
    "kbavail": "mem_available_kb",
    "kbmemused": "mem_used_kb",
    "kbbuffers": "buffers_kb",
    "kbcached": "cached_kb",
    "kbcommit": "commit_kb",
    "%commit": "commit_pct",
    "kbactive": "active_kb",
    "kbinact": "inactive_kb",
    "kbdirty": "dirty_kb",
    "kbanonpg": "anon_kb",
    "kbslab": "slab_kb",
    "kbhugused": "hugepages_used_kb",
    "kbswpfree": "swap_free_kb",
    "kbswpused": "swap_used_kb",
    "kbswpcad": "swap_cached_kb",
    "pswpin/s": "pswpin_s",
    "pswpout/s": "pswpout_s",
    "pgpgin/s": "pgpgin_kb_s",
    "pgpgout/s": "pgpgout_kb_s",
    "fault/s": "fault_s",
    "majflt/s": "majflt_s",
    "pgfree/s": "pgfree_s",
    "pgscank/s": "pgscank_s",
    "pgscand/s": "pgscand_s",
    "pgsteal/s": "pgsteal_s",
    "%vmeff": "vmeff_pct",
    "ldavg-1": "load_1",
    "runq-sz": "runq_sz",
    "blocked": "blocked",
    "%smem-10": "psi_mem_some_avg10",
    "%smem-60": "psi_mem_some_avg60",
    "%smem-300": "psi_mem_some_avg300",
    "%fmem-10": "psi_mem_full_avg10",
    "%fmem-60": "psi_mem_full_avg60",
    "%fmem-300": "psi_mem_full_avg300",
}
# header words only sar prints (pidstat and mpstat share the banner, not these)
_EVIDENCE = frozenset(
    [
        *("kbmemfree", "kbavail", "kbmemused", "kbswpfree", "kbhugfree", "dentunusd", "proc/s"),
        *("pgpgin/s", "pgscank/s", "pswpin/s", "runq-sz", "ldavg-1", "%smem-10", "%scpu-10"),
        *("%sio-10", "INTR", "IFACE", "MBfsfree", "totsck"),
    ]
)
_BANNER = lazy_compile(r"\S+\s+\S+\s+\(([^()\s]*)\)\s+(\S*\d\S*)")
_TIMED = lazy_compile(r"(\d{1,2}):(\d\d):(\d\d)(?:\s?([AaPp])\.?[Mm]\.?)?(?:\s+(.*))?$")
_VALUE = lazy_compile(r"[-+]?(?:\d|\.\d|nan|inf)", re.IGNORECASE)  # a cell of a data row
_UNITS = {"B": 1 / 1024, "k": 1.0, "K": 1.0, "M": 1024.0, "G": 1024.0**2, "T": 1024.0**3}
WARN_LIMIT = 5  # warnings of one code per input; the last one says further ones are dropped


def warn_limiter(source: str, warn: Callable[[Warning_], None]) -> WarnLimiter:
    """The sysstat readers' (sar, sadf) limits: ``WARN_LIMIT`` warnings of each code, each cut to
    200 characters, the last one saying that further ones are not reported; no summary."""
    last = " (further ones not reported)"
    return WarnLimiter(warn, source, WARN_LIMIT, more=None, cut=200, last=last)


def number(text: str) -> float | None:
    """``2.15``, ``2,15``, ``22.7G`` (kB units, as ``sar -h`` prints) or ``2.2%``; None else."""
    try:
        return float(text)
    except ValueError:
        pass
    text = text.replace(",", ".")
    scale = _UNITS.get(text[-1:], 0.0) if text else 0.0
    text = text[:-1] if scale or text.endswith("%") else text
    try:
        return float(text) * (scale or 1.0)
    except ValueError:
        return None


def plan(names: Iterable[str]) -> list[tuple[int, str]]:
    """(column index, metric) of the columns we keep, in header order."""
    return [(i, COLUMNS[name]) for i, name in enumerate(names) if name in COLUMNS]


def row_samples(
    time: datetime, columns: list[tuple[int, str]], cells: list[str], source: str
) -> tuple[list[Sample], int]:
    """Samples of one data row, and how many of its cells were not numbers."""
    out: list[Sample] = []
    bad, swap_free, swap_used = 0, None, None
    for index, metric in columns:
        value = number(cells[index])
        if value is None or not isfinite(value):
            bad += value is None
            continue
        out.append(Sample(time, metric, value, source=source))
        if metric == "swap_free_kb":
            swap_free = value
        elif metric == "swap_used_kb":
            swap_used = value
    if swap_free is not None and swap_used is not None:
        out.append(Sample(time, "swap_total_kb", swap_free + swap_used, source=source))
    return out, bad


def checked_row(
    warner: WarnLimiter,
    lineno: int,
    kind: str,
    time: datetime,
    columns: list[tuple[int, str]],
    width: int,
    cells: list[str],
    text: str,
) -> list[Sample]:
    """``row_samples`` of a row under a header of ``width`` columns, with its warnings:
    ``{kind}-bad-row`` when the width differs, ``{kind}-bad-value`` for cells not numbers."""
    if len(cells) != width:
        warner(lineno, f"{kind}-bad-row", f"{len(cells)} values under {width} columns")
        return []
    samples, bad = row_samples(time, columns, cells, warner.source)
    if bad:
        warner(lineno, f"{kind}-bad-value", f"{bad} values are not numbers: {text[:80]!r}")
    return samples


def sniff(head: list[str]) -> bool:
    banner = False
    for raw in head:
        line = raw.strip()
        if _BANNER.match(line) and not _TIMED.match(line):
            banner = True
        elif (timed := _TIMED.match(line)) and timed[5]:
            words = timed[5].split()
            if "LINUX RESTART" in timed[5] or not _EVIDENCE.isdisjoint(words):
                return True
            if banner and "%steal" in words and "%irq" in words:  # sar -u ALL, not mpstat
                return words.index("%steal") < words.index("%irq")
    return False


FORMAT = FormatInfo(
    name="sar", description="sysstat sar text output (any activities, sar -A)", sniff=sniff
)


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    return parse_blocks(batched(lines), source=source, tz=tz, keep=keep, warn=warn)


def parse_blocks(
    blocks: Iterable[list[str]],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """:func:`parse` over lists of lines: a run of data rows far from every window is set
    aside whole (:func:`oomsleuth.history.sar_rows.far_run`), each other line read alone."""
    reading = _Sar(source, tz, keep, warn)
    clock, near = reading.clock, reading.near
    lineno = 0
    for block in blocks:
        i, n = 0, len(block)
        while i < n:
            size, far = 1, False
            if near is not None and reading.columns and clock.base is not None:
                size, far = far_run(block, i, clock, near)
            if far:
                i += size
                continue
            for j in range(i, i + max(size, 1)):
                yield from reading.line(block[j], lineno + j + 1)
            i += max(size, 1)
        lineno += n
    if near is not None:
        near.close(keep, tz)


class _Sar:
    """One ``sar`` text being read: its clock, the columns of the section, the band."""

    def __init__(
        self,
        source: str,
        tz: tzinfo,
        keep: Callable[[datetime], bool],
        warn: Callable[[Warning_], None],
    ) -> None:
        self.source, self.tz, self.keep = source, tz, keep
        self.warner, self.clock, self.near = warn_limiter(source, warn), SarClock(), band(keep)
        self.columns: list[tuple[int, str]] = []
        self.width = 0

    def line(self, raw: str, lineno: int) -> list[Sample]:
        try:
            return self._line(raw, lineno)
        except Exception as exc:  # a parser never raises on odd input
            self.warner(lineno, "sar-parse-error", repr(exc))
            return []

    def _line(self, raw: str, lineno: int) -> list[Sample]:
        clock, warner, tz = self.clock, self.warner, self.tz
        line = raw.strip()
        timed = _TIMED.match(line)
        if timed is None:
            if (banner := _BANNER.match(line)) is not None:
                new_banner(banner[2], clock, warner, lineno)
                self.columns, self.width = [], 0
            return []
        hour, minute, second = int(timed[1]), int(timed[2]), min(int(timed[3]), 59)
        if timed[4]:
            hour = hour % 12 + (12 if timed[4] in "Pp" else 0)
        rest = timed[5] or ""
        if hour > 23 or minute > 59 or not rest or rest.startswith("COM "):
            return []
        seconds = hour * 3600 + minute * 60 + second
        if "LINUX RESTART" in rest:
            self.columns, self.width = [], 0
            return restart(seconds, clock, tz, self.keep, self.source)
        if not rest[0].isdigit() and not any(_VALUE.match(c) for c in rest.split()):
            clock.tick(seconds, header=True)  # a header: a data row's first cell is a number
            self.columns, self.width = plan(cells := rest.split()), len(cells)
            return []
        clock.tick(seconds)
        if not self.columns:
            return []
        if self.near is not None and clock.base is not None and self.near.far(clock.naive(seconds)):
            return []  # far from every window: keep() would refuse it (band.py)
        when = clock.at(seconds, tz)
        if when is None:
            warner(lineno, "sar-no-date", "no 'Linux ... (host) DATE' line before the data")
            return []
        if not self.keep(when):  # split only now: most rows are outside the windows
            return []
        cells = rest.split()
        return checked_row(warner, lineno, "sar", when, self.columns, self.width, cells, rest)
