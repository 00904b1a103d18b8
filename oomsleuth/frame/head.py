"""What every framing module returns: a line's prefix data and its text (:class:`Head`), and the
small readers they share (zones, wall clocks, ``host ident[pid]:`` tags, inner kernel stamps).

Times: ``wall`` is aware when the framing carries a zone, naive otherwise. Syslog-style stamps
have no year: they get the model's placeholder year (see :mod:`oomsleuth.model.lines`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import record

_ZONE = lazy_compile(r"([+-])(\d\d):?(\d\d)?")
INNER = lazy_compile(r"(?:<\d>)?\[\s*(\d{1,12}\.\d{1,9})\](?:\[\s*([TC]\d+)\])? ?")
_CALLER = lazy_compile(r" ?\[\s*([TC]\d+)\]")
HOST_IDENT = lazy_compile(r"(\S*[^\s:]) +([^\s\[\]:]+)(?:\[(\d*)\])?:(?: |$)")
_IDENT = lazy_compile(r"([^\s\[\]:]+)(?:\[(\d*)\])?:(?: |$)")
ISO = lazy_compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:([.,])(\d{1,9}))?"
    r"(Z|[+-]\d\d(?::?\d\d)?)?(?: +|$)"
)


@record(slots=True)
class Head:
    """A line's prefix data and text while it may still grow by hard wraps."""

    framing: str
    text: str
    width: int  # column where the text starts: unprefixed lines indented this far continue it
    uptime_s: float | None = None
    wall: datetime | None = None
    host: str | None = None
    ident: str | None = None
    ident_pid: int | None = None
    caller: str | None = None
    lineno: int = 0
    base: int = 0  # indentation of the prefixed line itself (uniformly indented pastes)


def to_int(text: str | None) -> int | None:
    return int(text) if text and len(text) < 19 and text.isdecimal() else None


def zone(name: str | None) -> timezone | None:
    if not name:
        return None
    if name in ("Z", "UTC", "GMT", "UT"):
        return timezone.utc
    match = _ZONE.fullmatch(name)
    if match is None:
        return None
    minutes = int(match[2]) * 60 + int(match[3] or 0)
    try:
        return timezone(timedelta(minutes=-minutes if match[1] == "-" else minutes))
    except ValueError:
        return None


def wall(parts: tuple[int, ...], frac: str | None, tz: timezone | None) -> datetime | None:
    year, month, day, hour, minute, second = parts
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def iso_wall(match: re.Match[str]) -> datetime | None:
    parts = tuple(int(match[i]) for i in range(1, 7))
    return wall(parts, match[8], zone(match[9]))


def inner(head: Head) -> Head:
    """Strip a kernel line's own ``[seconds]`` (and caller id) inside a syslog-style message."""
    match = INNER.match(head.text)
    if match is not None:
        head.uptime_s = float(match[1])
        head.caller = match[2] or head.caller
        head.text = head.text[match.end() :]
    return head


def tagged(framing: str, rest: str, offset: int, when: datetime | None) -> Head:
    """Read ``host ident[pid]: `` (host optional) after a stamp. Where the ident is ``kernel``,
    an inner ``[seconds]`` (and caller id) is stripped into ``uptime_s``."""
    host = ident = pid = None
    end = 0
    match = HOST_IDENT.match(rest)
    if match is not None:
        host, ident, pid = match.group(1, 2, 3)
        end = match.end()
    else:
        match = _IDENT.match(rest)
        if match is not None:
            ident, pid = match.group(1, 2)
            end = match.end()
    head = Head(framing, rest[end:], offset + end, wall=when, host=host, ident=ident)
    head.ident_pid = to_int(pid)
    return inner(head) if ident == "kernel" else head


def caller(s: str, end: int) -> tuple[str | None, int]:
    """A printk caller id (``[ T1234]``) at ``end``, and where the text starts after it."""
    match = _CALLER.match(s, end)
    found = match[1] if match else None
    end = match.end() if match else end
    return found, end + (s[end : end + 1] == " ")
