"""sysstat's ``pidstat -r`` (alone or with ``-u``, ``-d``, ``-h``, ``-H``, ``-l``, ``-t``).

Columns are read by their header name, so any mix of reports works::

    Linux 6.18.44 (vm)  11/25/26  _x86_64_  (2 CPU)

    23:06:36      UID       PID  minflt/s  majflt/s     VSZ     RSS   %MEM  Command
    23:06:37        0        12   1025.00      0.00   24812   21156   0.09  leak (x) y
        -> entity="pid:12", labels comm="leak (x) y": proc_minflt_s=1025.0, proc_majflt_s=0.0,
           proc_vsz_kb=24812, proc_rss_kb=21156, proc_mem_pct=0.09

The date comes from the first line (``MM/DD/YY``, ``MM/DD/YYYY``, ``YYYY-MM-DD`` with
``S_TIME_FORMAT=ISO``, ``DD.MM.YYYY``); times of day (24-hour or ``11:04:01 PM``) are placed in
``tz`` and roll over to the next day when the clock goes back by more than six hours. With
``-H`` the time is epoch seconds (exact). ``-h`` puts the header after ``# Time``. ``Average:``
lines are skipped; with ``-t`` only thread-group rows (``TID`` = ``-``) count. With ``-l`` the
Command column is a command line: it becomes the ``cmdline`` label and its program name ``comm``.
``--human`` sizes (``16.6M``) are converted back to kB.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from oomsleuth.history import FormatInfo
from oomsleuth.history.common import WarnLimiter
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.patterns import lazy_compile

_SYSINFO = lazy_compile(r"\S+ \S+ \(.*\)\s+(?P<date>\d\S*)\s+_\w+_")
_CLOCK = lazy_compile(r"(\d{1,2}):(\d\d):(\d\d)")
_EPOCH = lazy_compile(r"\d{9,11}")
_METRICS = {
    "minflt/s": "proc_minflt_s",
    "majflt/s": "proc_majflt_s",
    "VSZ": "proc_vsz_kb",
    "RSS": "proc_rss_kb",
    "%MEM": "proc_mem_pct",
}
_HUMAN = {"B": 1 / 1024, "k": 1.0, "K": 1.0, "M": 1024.0, "G": 1024.0**2, "T": 1024.0**3}
_MAX_WARNINGS = 20  # per code; one summary warning says how many more there were
_ROLLOVER = timedelta(hours=6)


def _is_header(tokens: list[str]) -> bool:
    return len(tokens) > 2 and tokens[-1] == "Command" and ("PID" in tokens or "TGID" in tokens)


def sniff(head: list[str]) -> bool:
    return any(_is_header(line.split()) for line in head)


FORMAT = FormatInfo(
    name="pidstat",
    description="sysstat pidstat -r per-process memory (also -h, -H, -l, -t, -u, -d mixes)",
    sniff=sniff,
)


def _num(token: str) -> float | None:
    """A number as pidstat prints it: ``1025.00``, ``1025,00`` (a locale), ``16.6M`` (--human)."""
    text, scale = token.replace(",", "."), 1.0
    if text[-1:] in _HUMAN:
        text, scale = text[:-1], _HUMAN[text[-1]]
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _date(text: str) -> date | None:
    """The report date: YYYY-MM-DD, MM/DD/YY(YY) (DD/MM when the first exceeds 12), DD.MM.YYYY."""
    parts = [int(p) for p in re.split(r"[-/.]", text) if p.isdigit()]
    if len(parts) != 3:
        return None
    if "-" in text or parts[0] > 31:
        year, month, day = parts
    elif "." in text or parts[0] > 12:
        day, month, year = parts
    else:
        month, day, year = parts
    try:
        return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        return None


def _clock(tokens: list[str]) -> tuple[time | int | None, int]:
    """The time at the start of a row: (time of day, or epoch seconds, or None; tokens used)."""
    if not tokens:
        return None, 0
    if _EPOCH.fullmatch(tokens[0]):
        return int(tokens[0]), 1
    match = _CLOCK.fullmatch(tokens[0])
    if match is None:
        return None, 0
    hour, minute, second = (int(g) for g in match.groups())
    used = 1
    if len(tokens) > 1 and tokens[1].upper() in ("AM", "PM"):
        hour = hour % 12 + (12 if tokens[1].upper() == "PM" else 0)
        used = 2
    if hour > 23 or minute > 59 or second > 60:
        return None, used
    return time(hour, minute, min(second, 59)), used


def _names(command: str) -> tuple[tuple[str, str], ...]:
    """comm (and cmdline, when ``-l`` printed a command line) from the Command column."""
    first = command.split(" ", 1)[0]
    if command.startswith("/") or (" " in command and ("/" in first or len(command) > 15)):
        return (("cmdline", command), ("comm", first.rsplit("/", 1)[-1][:15]))
    return (("comm", command),)


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """Samples from pidstat text; naive times of day are placed in ``tz``."""
    warning = WarnLimiter(warn, source, _MAX_WARNINGS, more="{n} more like it")
    days = _Days(tz)
    columns: list[str] = []
    id_col, metric_cols = -1, [(-1, "")]
    last_key, when, kept = "", datetime.min, False
    lineno = 0
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        tokens = line.split()
        if not tokens or tokens[0] == "Average:":
            continue
        info = _SYSINFO.match(line)
        if info:
            days.banner(info["date"], warning, lineno)
            last_key = ""
            continue
        if _is_header(tokens):
            columns, id_col, metric_cols = _layout(tokens)
            continue
        clock, used = _clock(tokens)
        if clock is None or not columns:
            _unparsable(warning, lineno, line, clock is not None)
            continue
        fields = line.split(None, used + len(columns) - 1)[used:]
        if len(fields) < len(columns) or not fields[id_col].isdigit():
            _not_a_row(warning, lineno, fields, len(columns), id_col)
            continue
        key = " ".join(tokens[:used])
        if key != last_key:  # a new time: place it, then ask keep() once
            if (placed := days.place(clock)) is None:
                warning(lineno, "pidstat-no-date", "a time of day, but no date line before it")
                continue
            when, last_key, kept = placed, key, keep(placed)
        if kept:
            entity, labels = f"pid:{fields[id_col]}", _names(fields[-1].strip())
            for index, metric in metric_cols:
                if (value := _num(fields[index])) is not None:
                    yield Sample(when, metric, value, entity, labels, source)
    warning.close(lineno)


def _unparsable(warning: WarnLimiter, lineno: int, line: str, timed: bool) -> None:
    why = "no column header before it" if timed else "no time"
    warning(lineno, "pidstat-unparsable-line", f"{why}: {line[:80]!r}")


def _not_a_row(
    warning: WarnLimiter, lineno: int, fields: list[str], width: int, id_col: int
) -> None:
    """Too few cells, or no pid: a warning, except for a thread row of pidstat -t (pid "-")."""
    if len(fields) < width:
        warning(lineno, "pidstat-short-line", f"{len(fields)} of {width} columns")
    elif fields[id_col] != "-":
        warning(lineno, "pidstat-unparsable-line", f"bad pid {fields[id_col]!r}")


def _layout(tokens: list[str]) -> tuple[list[str], int, list[tuple[int, str]]]:
    """A header's columns, the index of its PID (or TGID) column and the (index, metric) of the
    columns read."""
    _, used = _clock(tokens)
    used = 2 if tokens[0] == "#" else used
    columns = tokens[used:]
    id_col = columns.index("TGID" if "TGID" in columns else "PID")
    return columns, id_col, [(columns.index(c), m) for c, m in _METRICS.items() if c in columns]


class _Days:
    """The dates of a report's times of day: the date line's, rolled over to the next day when
    the clock goes back by more than six hours."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.day: date | None = None
        self.last: time | None = None

    def banner(self, text: str, warning: WarnLimiter, lineno: int) -> None:
        """A date line: the day starts again on its date (a warning when it cannot be read)."""
        self.day, self.last = _date(text), None
        if self.day is None:
            warning(lineno, "pidstat-no-date", f"cannot read the date {text!r}")

    def place(self, clock: time | int) -> datetime | None:
        """A row's time (epoch seconds are exact); None: a time of day with no date before it."""
        if isinstance(clock, int):
            return datetime.fromtimestamp(clock, timezone.utc)
        if self.day is None:
            return None
        if self.last is not None and _since(self.last, clock) < -_ROLLOVER:
            self.day = date.fromordinal(min(self.day.toordinal() + 1, date.max.toordinal()))
        self.last = clock
        return datetime.combine(self.day, clock).replace(tzinfo=self.tz)


def _since(before: time, after: time) -> timedelta:
    """``after - before`` as times of the same day (negative when the clock went back)."""
    return datetime.combine(date.min, after) - datetime.combine(date.min, before)
