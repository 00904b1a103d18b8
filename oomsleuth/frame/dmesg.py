"""dmesg framings: raw ``dmesg``, ``dmesg -T``, ``dmesg -x`` and journalctl ``short-monotonic``.

- ``dmesg``: ``[  115.887000] text``, with an optional printk caller ``[ T1234]`` / ``[C1]``.
  ``dmesg -x`` (``kern  :warn  : ``) before any prefix is stripped too.
- ``dmesg-T``: ``[Thu May  9 14:52:38 2024] text``, in any locale's words
  (``[Вс дек  6 02:28:29 2026]``, :mod:`oomsleuth.frame.months`); a date no locale explains
  still loses its bracket, with ``wall=None``.
- ``journal-short`` (``short-monotonic``): ``[  818.234082] host kernel: text``.
- ``dmesg-iso`` (``2026-11-25T22:30:01,123456+00:00 text``) is read with the ISO stamps, in
  :mod:`oomsleuth.frame.syslog`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from oomsleuth.frame import months
from oomsleuth.frame.head import HOST_IDENT, Head, caller, inner, to_int, wall
from oomsleuth.model.patterns import lazy_compile

_STAMP = lazy_compile(r"\[\s*(\d{1,12}\.\d{1,9})\]")
_BRACKET = lazy_compile(r"\[([^\[\]]{6,48})\] ?")
_CLOCK = lazy_compile(r"\d:\d\d:\d\d.*\d{4}|\d{4}.*\d:\d\d:\d\d")
_EN_DATE = lazy_compile(
    r"(?:[A-Z][a-z]{2} +)?([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})"
)
_LOCAL_DATE = lazy_compile(r"(?:\S+ +)?(\S+) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})")
_MONTH_NAMES = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
MONTHS = {_MONTH_NAMES[i : i + 3]: i // 4 + 1 for i in range(0, len(_MONTH_NAMES), 4)}
_DMESG_X = lazy_compile(
    r"(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7]) *:"
    r"(?:emerg|alert|crit|err|warn|notice|info|debug) *: "
)


def _date(content: str, names: months.MonthReader) -> datetime | None:
    """A ``dmesg -T`` date: English, or in any locale's words (``Вс дек  6 02:28:29 2026``)."""
    match = _EN_DATE.fullmatch(content.strip())
    if match is not None and match[1] in MONTHS:
        number: int | None = MONTHS[match[1]]
    else:
        match = _LOCAL_DATE.fullmatch(content.strip())
        number = names.month(match[1]) if match is not None else None
    if match is None or number is None:
        return None
    parts = (int(match[6]), number, int(match[2]), *map(int, match.group(3, 4, 5)))
    return wall(parts, None, None)


def bracketed(s: str, names: months.MonthReader) -> Head | None:
    """A line starting with ``[``: a dmesg stamp, a ``dmesg -T`` date or ``short-monotonic``."""
    match = _STAMP.match(s)
    if match is not None:
        width = match.end() + (s[match.end() : match.end() + 1] == " ")
        who, end = caller(s, match.end())
        rest = s[end:]
        uptime = float(match[1])
        tag = HOST_IDENT.match(rest) if who is None else None
        if tag is not None and (tag[2] == "kernel" or tag[3]):  # journalctl -o short-monotonic
            head = Head("journal-short", rest[tag.end() :], end + tag.end(), uptime, host=tag[1])
            head.ident, head.ident_pid = tag[2], to_int(tag[3])
            return inner(head) if tag[2] == "kernel" else head
        return Head("dmesg", rest, width, uptime, caller=who)
    match = _BRACKET.match(s)
    if match is None or _CLOCK.search(match[1]) is None:
        return None
    who, end = caller(s, match.end())
    return Head("dmesg-T", s[end:], match.end(), wall=_date(match[1], names), caller=who)


def level_prefixed(s: str, parse: Callable[[str], Head | None]) -> Head | None:
    """``dmesg -x``: ``kern  :warn  : `` before the rest of the line (parsed by ``parse``)."""
    match = _DMESG_X.match(s)
    if match is None:
        return None
    head = parse(s[match.end() :]) or Head("dmesg", s[match.end() :], 0)
    head.width += match.end()
    return head
