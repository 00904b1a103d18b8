"""Syslog and journalctl text framings, and the ISO stamps they share with dmesg's iso format.

- ``syslog``: ``Mon DD HH:MM:SS [host] ident[pid]: text`` (also ``journalctl -o short``, which
  looks the same).
- ``rfc3339``: rsyslog ``2026-11-25T22:30:01.123456+01:00 host ident: text`` and RFC 5424
  ``<4>1 2026-11-25T22:30:01.123Z host kernel - - - text``.
- ``journal-short``: the journalctl forms we can tell apart from syslog: ``short-precise``
  (fractional seconds), ``short-iso`` (zone without a colon, ``+0000``), ``short-full``
  (``Wed 2026-11-25 22:30:01 UTC ...``), ``short-unix`` (``1796524199.978723 host kernel: ``).
- ``dmesg-iso``: ``2026-11-25T22:30:01,123456+00:00 text`` (a comma before the fraction).

Syslog stamps carry no year: they get the placeholder year, or the leap placeholder for
29 February. A ``short-full`` zone name other than UTC/GMT gives a naive time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from oomsleuth.frame import months
from oomsleuth.frame.dmesg import MONTHS
from oomsleuth.frame.head import (
    HOST_IDENT,
    INNER,
    ISO,
    Head,
    inner,
    iso_wall,
    tagged,
    to_int,
    wall,
    zone,
)
from oomsleuth.model.lines import LEAP_PLACEHOLDER_YEAR, PLACEHOLDER_YEAR
from oomsleuth.model.patterns import lazy_compile

_UNIX = lazy_compile(r"(\d{9,11})\.(\d{1,6}) (?=\S+ \S)")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_RFC5424 = lazy_compile(r"1 (\S+) (\S+) (\S+) (\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: |$)")
_BSD = lazy_compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?: +|$)")
_LOCAL = lazy_compile(
    r"([^ \t]+(?: [^ \t]+)?) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?: +|$)"
)
_HOST_OR_IDENT = lazy_compile(r"\S+ +\S+:|[^\s:]+(?:\[\d*\])?:")
_FULL = lazy_compile(
    r"[A-Z][a-z]{2} (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (\S+) +"
)


def iso_stamped(s: str) -> Head | None:
    """A line starting with an ISO 8601 stamp (dmesg iso, rsyslog RFC 3339, short-iso), an
    RFC 5424 header, or seconds since the epoch (``journalctl -o short-unix``)."""
    unix = _UNIX.match(s)
    if unix is not None:
        micro = int(unix[2].ljust(6, "0"))
        epoch = _EPOCH + timedelta(seconds=int(unix[1]), microseconds=micro)
        return tagged("journal-short", s[unix.end() :], unix.end(), epoch)
    match = ISO.match(s)
    if match is not None:
        when = iso_wall(match)
        if match[7] == ",":
            return Head("dmesg-iso", s[match.end() :], match.end(), wall=when)
        tz = match[9]
        short_iso = bool(tz) and tz != "Z" and ":" not in tz
        return tagged(
            "journal-short" if short_iso else "rfc3339", s[match.end() :], match.end(), when
        )
    return _rfc5424(s)


def _rfc5424(s: str) -> Head | None:
    match = _RFC5424.match(s)
    if match is None:
        return None
    stamp = ISO.match(match[1])
    when = iso_wall(stamp) if stamp is not None and stamp.end() == len(match[1]) else None
    host, ident, pid = (None if v == "-" else v for v in match.group(2, 3, 4))
    head = Head("rfc3339", s[match.end() :].removeprefix("\ufeff"), match.end(), wall=when)
    head.host, head.ident = host, ident
    head.ident_pid = to_int(pid)
    return inner(head) if ident == "kernel" else head


# The last ``Mon DD HH:MM:SS host ident[pid]: `` prefix read, and what it gave (framing, wall,
# host, ident, pid): lines of one report share it up to the kernel stamp. A line that starts with
# it reads the same: both regexes (_BSD, HOST_IDENT) look at no character past that prefix when
# they match it ending in a space, so the result is a function of the prefix alone.
_Prefix = tuple[str, str, datetime | None, str | None, str | None, int | None]
_last: _Prefix = ("", "", None, None, None, None)  # "": none yet


def last_prefix() -> str:
    """The last prefix :func:`named` read and keeps ("": none): a line starting with it is read
    from it."""
    return _last[0]


# a line read from the kept prefix: LogLine's fields after its source, then the text column
Kept = tuple[int, str, str, float | None, datetime | None, str | None, str | None, int | None,
             str | None, int]  # fmt: skip


def kept(s: str, lineno: int) -> Kept | None:
    """``named(s)`` with ``lineno`` set, as a tuple (:func:`as_head` makes it the Head), for a
    line that starts with the kept prefix; None for any other line. The framer's fast lane: no
    Head, no call (the kernel stamp read as :func:`~oomsleuth.frame.head.inner` reads it)."""
    key, framing, when, host, ident, pid = _last
    if not key or not s.startswith(key):
        return None
    width = len(key)
    text = s[width:]
    if ident == "kernel" and (match := INNER.match(text)) is not None:
        return (lineno, text[match.end() :], framing, float(match[1]), when, host, ident, pid,
                match[2] or None, width)  # fmt: skip
    return (lineno, text, framing, None, when, host, ident, pid, None, width)


def as_head(k: Kept) -> Head:
    """The Head :func:`named` gives for the line :func:`kept` read as ``k``."""
    lineno, text, framing, uptime, when, host, ident, pid, caller, width = k
    return Head(framing, text, width, uptime, when, host, ident, pid, caller, lineno)


def named(s: str) -> Head | None:
    """A line starting with a month or weekday name: BSD syslog, ``short``, ``short-precise``,
    ``short-full``."""
    global _last
    key, framing, when, host, ident, pid = _last
    if key and s.startswith(key):
        head = Head(framing, s[len(key) :], len(key), wall=when, host=host, ident=ident)
        head.ident_pid = pid
        return inner(head) if ident == "kernel" else head
    match = _BSD.match(s)
    if match is not None and match[1] in MONTHS:
        month, day = MONTHS[match[1]], int(match[2])
        year = LEAP_PLACEHOLDER_YEAR if (month, day) == (2, 29) else PLACEHOLDER_YEAR
        parts = (year, month, day, *map(int, match.group(3, 4, 5)))
        framing = "journal-short" if match[6] else "syslog"
        head = tagged(framing, s[match.end() :], match.end(), wall(parts, match[6], None))
        if head.host is not None and s[head.width - 1 : head.width] == " ":  # HOST_IDENT read it
            _last = (s[: head.width], framing, head.wall, head.host, head.ident, head.ident_pid)
        return head
    match = _FULL.match(s)
    if match is None or HOST_IDENT.match(s, match.end()) is None:
        return None
    parts = tuple(int(match[i]) for i in range(1, 7))
    when = wall(parts, match[7], zone(match[8]))
    return tagged("journal-short", s[match.end() :], match.end(), when)


def localized(s: str, names: months.MonthReader) -> Head | None:
    """``Mon DD HH:MM:SS host ident: text`` whose month is printed in another language
    (``journalctl -o short`` under the host's locale: ``дек 06``, ``12月 06``, ``déc. 06``)."""
    match = _LOCAL.match(s)
    if match is None or not _HOST_OR_IDENT.match(s, match.end()):
        return None
    number = names.month(match[1])
    if number is None:
        return None
    day = int(match[2])
    year = LEAP_PLACEHOLDER_YEAR if (number, day) == (2, 29) else PLACEHOLDER_YEAR
    parts = (year, number, day, *map(int, match.group(3, 4, 5)))
    framing = "journal-short" if match[6] else "syslog"
    return tagged(framing, s[match.end() :], match.end(), wall(parts, match[6], None))
