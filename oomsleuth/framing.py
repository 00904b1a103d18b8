"""Strip and read the per-line prefix ("framing") of kernel and system logs.

The framing is detected per line, because pasted files mix them. ``LogLine.framing`` names it:

- ``dmesg``: ``[  115.887000] text``, with an optional printk caller ``[ T1234]`` / ``[C1]``.
  ``dmesg -x`` (``kern  :warn  : ``) before any prefix is stripped too.
- ``dmesg-T``: ``[Thu May  9 14:52:38 2024] text``; a non-English date still loses its bracket,
  with ``wall=None``.
- ``dmesg-iso``: ``2026-11-25T22:30:01,123456+00:00 text``.
- ``syslog``: ``Mon DD HH:MM:SS [host] ident[pid]: text`` (also ``journalctl -o short``, which
  looks the same).
- ``rfc3339``: rsyslog ``2026-11-25T22:30:01.123456+01:00 host ident: text`` and RFC 5424
  ``<4>1 2026-11-25T22:30:01.123Z host kernel - - - text``.
- ``journal-short``: the journalctl forms we can tell apart from syslog: ``short-precise``
  (fractional seconds), ``short-iso`` (zone without a colon, ``+0000``), ``short-monotonic``
  (``[  818.234082] host kernel: text``), ``short-full`` (``Wed 2026-11-25 22:30:01 UTC ...``),
  and the ``-- Boot <id> --`` / ``-- Reboot --`` banners (``boot_marker=True``).
- ``journal-json`` / ``journal-export``: ``journalctl -o json`` / ``-o export`` records (see
  :mod:`oomsleuth.framing_journal`).
- ``kmsg``: ``/dev/kmsg`` records ``6,1234,115887000,-;text``; ``\\xNN`` escapes are decoded and
  ``\\x0a`` splits the record; the `` KEY=value`` dictionary lines after it are dropped.
- ``bare``: anything else, taken as it is.

Where a syslog-like ident is ``kernel``, an inner ``[seconds]`` (and caller id) is stripped into
``uptime_s``. A leading ``<N>`` priority, mail quoting (``> ``, any depth) and a uniform
indentation of the whole paste are stripped before detection. rsyslog's ``#012`` splits a line into
several logical lines (``#011`` becomes a tab) in ``syslog``/``rfc3339`` lines; blank lines are
skipped.

Times: ``wall`` is aware when the framing carries a zone, naive otherwise. Syslog-style stamps have
no year: they get the placeholder year ``PLACEHOLDER_YEAR`` (1900), or ``LEAP_PLACEHOLDER_YEAR``
(1904) for 29 February, which 1900 lacks; :func:`has_placeholder_year` tells them apart and the
timebase module supplies the real year. A ``short-full`` zone name other than UTC/GMT gives a naive
time.

Hard wraps and continuations. A non-blank line with no recognisable prefix that follows a prefixed
line is (a) a continuation line of a multi-line record when it is indented at least as far as the
previous line's text column (where the text starts after the stamp, or after ``ident: `` for
syslog-like lines, not counting an inner kernel stamp; dmesg and journalctl indent continuation
lines so): it becomes its own LogLine with the previous line's stamp, indentation removed; or (b) a
hard wrap (mail, docs) otherwise: it is appended to the previous line's text as it is, with no
separator, and the result keeps the first piece's line number. Never wrapped, but bare lines: lines
starting with ``[`` (trinity's ``[child1:446]``, task rows) or with a ``<N>`` priority, elision
marks (``...``), shell prompts (``user@host:~$ ``). Bare lines and blank lines end the chance of a
wrap, so lines after a bare line are never joined.

Performance: with a ``prefilter`` and ``full`` False, a physical line that the prefilter does not
match is skipped before any prefix parsing (counted in ``skipped``), unless the line before it is
still open for a wrap. The prefilter sees physical lines: wrap pieces of a kept line are kept, a
match only inside a wrap piece is not seen. ``full`` may be flipped while iterating; it applies
from the next physical line after the LogLine just received. JSON and export records are always
parsed; their messages are filtered after decoding. Boot markers always pass. Nothing is held
beyond one logical line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Protocol

from oomsleuth.framing_journal import JournalReader, banner
from oomsleuth.models import LogLine

PLACEHOLDER_YEAR = 1900
LEAP_PLACEHOLDER_YEAR = 1904
_MONTH_NAMES = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
_MONTHS = {_MONTH_NAMES[i : i + 3]: i // 4 + 1 for i in range(0, len(_MONTH_NAMES), 4)}

_PRI = re.compile(r"<\d{1,3}>")
_STAMP = re.compile(r"\[\s*(\d{1,12}\.\d{1,9})\]")
_CALLER = re.compile(r" ?\[\s*([TC]\d+)\]")
_INNER = re.compile(r"(?:<\d>)?\[\s*(\d{1,12}\.\d{1,9})\](?:\[\s*([TC]\d+)\])? ?")
_BRACKET = re.compile(r"\[([^\[\]]{6,48})\] ?")
_CLOCK = re.compile(r"\d:\d\d:\d\d.*\d{4}|\d{4}.*\d:\d\d:\d\d")
_EN_DATE = re.compile(
    r"(?:[A-Z][a-z]{2} +)?([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})"
)
_KMSG = re.compile(r"(\d{1,4}),(\d{1,20}),(\d{1,20}),([^;]*);")
_KMSG_CALLER = re.compile(r"caller=([TC]\d+)")
_KMSG_ESC = re.compile(r"(?:\\x[0-9a-fA-F]{2})+")
_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:([.,])(\d{1,9}))?"
    r"(Z|[+-]\d\d(?::?\d\d)?)?(?: +|$)"
)
_RFC5424 = re.compile(r"1 (\S+) (\S+) (\S+) (\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: |$)")
_BSD = re.compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?: +|$)")
_FULL = re.compile(
    r"[A-Z][a-z]{2} (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (\S+) +"
)
_ZONE = re.compile(r"([+-])(\d\d):?(\d\d)?")
_DMESG_X = re.compile(
    r"(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7]) *:"
    r"(?:emerg|alert|crit|err|warn|notice|info|debug) *: "
)
_HOST_IDENT = re.compile(r"(\S*[^\s:]) +([^\s\[\]:]+)(?:\[(\d*)\])?:(?: |$)")
_IDENT = re.compile(r"([^\s\[\]:]+)(?:\[(\d*)\])?:(?: |$)")
_QUOTE = re.compile(r"[ \t]*(?:>[ \t]?)+")
_ELISION = re.compile(r"(?:\.{2,}|…|\[\.\.\.\]|\[snip\]|<snip>)\s*\Z")
_PROMPT = re.compile(r"(?:[\w.-]+@[\w.-]+:\S*)?[$#] ")
_DICT = re.compile(r" [A-Z0-9_]+=")


def has_placeholder_year(wall: datetime | None) -> bool:
    """True when ``wall`` came from a yearless (syslog-style) stamp and still needs a year."""
    return (
        wall is not None
        and wall.tzinfo is None
        and wall.year in (PLACEHOLDER_YEAR, LEAP_PLACEHOLDER_YEAR)
    )


@dataclass(slots=True)
class _Head:
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


def _int(text: str | None) -> int | None:
    return int(text) if text and len(text) < 19 and text.isdecimal() else None


def _zone(name: str | None) -> timezone | None:
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


def _wall(parts: tuple[int, ...], frac: str | None, tz: timezone | None) -> datetime | None:
    year, month, day, hour, minute, second = parts
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def _iso_wall(match: re.Match[str]) -> datetime | None:
    parts = tuple(int(match[i]) for i in range(1, 7))
    return _wall(parts, match[8], _zone(match[9]))


def _english_date(content: str) -> datetime | None:
    match = _EN_DATE.fullmatch(content.strip())
    if match is None or match[1] not in _MONTHS:
        return None
    parts = (int(match[6]), _MONTHS[match[1]], int(match[2]), *map(int, match.group(3, 4, 5)))
    return _wall(parts, None, None)


def _inner(head: _Head) -> _Head:
    """Strip a kernel line's own ``[seconds]`` (and caller id) inside a syslog-style message."""
    match = _INNER.match(head.text)
    if match is not None:
        head.uptime_s = float(match[1])
        head.caller = match[2] or head.caller
        head.text = head.text[match.end() :]
    return head


def _tagged(framing: str, rest: str, offset: int, wall: datetime | None) -> _Head:
    """Read ``host ident[pid]: `` (host optional) after a stamp."""
    host = ident = pid = None
    end = 0
    match = _HOST_IDENT.match(rest)
    if match is not None:
        host, ident, pid = match.group(1, 2, 3)
        end = match.end()
    else:
        match = _IDENT.match(rest)
        if match is not None:
            ident, pid = match.group(1, 2)
            end = match.end()
    head = _Head(framing, rest[end:], offset + end, wall=wall, host=host, ident=ident)
    head.ident_pid = _int(pid)
    return _inner(head) if ident == "kernel" else head


def _caller(s: str, end: int) -> tuple[str | None, int]:
    """A printk caller id (``[ T1234]``) at ``end``, and where the text starts after it."""
    match = _CALLER.match(s, end)
    caller = match[1] if match else None
    end = match.end() if match else end
    return caller, end + (s[end : end + 1] == " ")


def _bracketed(s: str) -> _Head | None:
    match = _STAMP.match(s)
    if match is not None:
        width = match.end() + (s[match.end() : match.end() + 1] == " ")
        caller, end = _caller(s, match.end())
        rest = s[end:]
        uptime = float(match[1])
        tag = _HOST_IDENT.match(rest) if caller is None else None
        if tag is not None and (tag[2] == "kernel" or tag[3]):  # journalctl -o short-monotonic
            head = _Head("journal-short", rest[tag.end() :], end + tag.end(), uptime, host=tag[1])
            head.ident, head.ident_pid = tag[2], _int(tag[3])
            return _inner(head) if tag[2] == "kernel" else head
        return _Head("dmesg", rest, width, uptime, caller=caller)
    match = _BRACKET.match(s)
    if match is None or _CLOCK.search(match[1]) is None:
        return None
    caller, end = _caller(s, match.end())
    return _Head("dmesg-T", s[end:], match.end(), wall=_english_date(match[1]), caller=caller)


def _unescape_kmsg(text: str) -> str:
    if "\\x" not in text:
        return text
    return _KMSG_ESC.sub(
        lambda m: bytes.fromhex(m[0].replace("\\x", "")).decode("utf-8", errors="surrogateescape"),
        text,
    )


def _numeric(s: str) -> _Head | None:
    match = _KMSG.match(s)
    if match is not None:
        caller = _KMSG_CALLER.search(match[4])
        text = _unescape_kmsg(s[match.end() :])
        uptime = int(match[3]) / 1e6
        return _Head("kmsg", text, match.end(), uptime, caller=caller[1] if caller else None)
    match = _ISO.match(s)
    if match is not None:
        wall = _iso_wall(match)
        if match[7] == ",":
            return _Head("dmesg-iso", s[match.end() :], match.end(), wall=wall)
        zone = match[9]
        short_iso = bool(zone) and zone != "Z" and ":" not in zone
        return _tagged(
            "journal-short" if short_iso else "rfc3339", s[match.end() :], match.end(), wall
        )
    match = _RFC5424.match(s)
    if match is None:
        return None
    stamp = _ISO.match(match[1])
    wall = _iso_wall(stamp) if stamp is not None and stamp.end() == len(match[1]) else None
    host, ident, pid = (None if v == "-" else v for v in match.group(2, 3, 4))
    head = _Head("rfc3339", s[match.end() :].removeprefix("\ufeff"), match.end(), wall=wall)
    head.host, head.ident = host, ident
    head.ident_pid = _int(pid)
    return _inner(head) if ident == "kernel" else head


def _named(s: str) -> _Head | None:
    match = _BSD.match(s)
    if match is not None and match[1] in _MONTHS:
        month, day = _MONTHS[match[1]], int(match[2])
        year = LEAP_PLACEHOLDER_YEAR if (month, day) == (2, 29) else PLACEHOLDER_YEAR
        parts = (year, month, day, *map(int, match.group(3, 4, 5)))
        framing = "journal-short" if match[6] else "syslog"
        return _tagged(framing, s[match.end() :], match.end(), _wall(parts, match[6], None))
    match = _FULL.match(s)
    if match is None or _HOST_IDENT.match(s, match.end()) is None:
        return None
    parts = tuple(int(match[i]) for i in range(1, 7))
    wall = _wall(parts, match[7], _zone(match[8]))
    return _tagged("journal-short", s[match.end() :], match.end(), wall)


def _parse(s: str) -> _Head | None:
    """The prefix of one physical line (quotes, indentation and priority already removed)."""
    first = s[:1]
    if first == "[":
        return _bracketed(s)
    if first.isdigit():
        return _numeric(s)
    if "A" <= first <= "Z":
        return _named(s)
    if "a" <= first <= "z":
        match = _DMESG_X.match(s)
        if match is not None:
            head = _parse(s[match.end() :]) or _Head("dmesg", s[match.end() :], 0)
            head.width += match.end()
            return head
    return None


def _pieces(head: _Head) -> list[str]:
    """Split a message with escaped newlines (kmsg ``\\x0a``, rsyslog ``#012``)."""
    if head.framing == "kmsg":
        parts = head.text.split("\n")
    elif "#01" in head.text and head.framing in ("syslog", "rfc3339"):
        parts = head.text.replace("#011", "\t").split("#012")
    else:
        return [head.text]
    kept = [p for p in parts if p.strip()]
    return kept or [head.text]


def _never_wraps(s: str) -> bool:
    return s[:1] == "[" or bool(_ELISION.match(s)) or bool(_PROMPT.match(s))


@dataclass(slots=True)
class _State:
    """What one run of :meth:`Framer.frame` carries from line to line."""

    journal: JournalReader
    pending: _Head | None = None  # the last prefixed line, still open for hard wraps
    after_kmsg: bool = False
    base: int = 0  # indentation of the last prefixed line


class Searcher(Protocol):
    """What a prefilter must do: ``search(line)`` is None when the line can be skipped."""

    def search(self, line: str, /) -> object | None: ...


class Framer:
    """Turns raw lines into ``LogLine`` objects; one Framer per source (see the module doc)."""

    def __init__(self, source: str, prefilter: Searcher | None = None) -> None:
        self.source = source
        self.prefilter = prefilter
        self.full = False  # True: yield every line; False: prefilter physical lines first
        self.stats: dict[str, int] = {}  # framing name -> logical lines produced
        self.skipped = 0  # lines dropped by the prefilter
        self.lines_read = 0  # physical lines read

    def _keep(self, text: str) -> bool:
        return self.full or self.prefilter is None or self.prefilter.search(text) is not None

    def _emit(self, head: _Head) -> LogLine:
        self.stats[head.framing] = self.stats.get(head.framing, 0) + 1
        h = head
        return LogLine(self.source, h.lineno, h.text, h.framing, h.uptime_s, h.wall, h.host,
                       h.ident, h.ident_pid, h.caller)  # fmt: skip

    def _gated(self, lines: list[LogLine]) -> Iterator[LogLine]:
        """Journal lines, filtered by the prefilter after decoding (boot markers always pass)."""
        for line in lines:
            if line.boot_marker or self._keep(line.text):
                self.stats[line.framing] = self.stats.get(line.framing, 0) + 1
                yield line
            else:
                self.skipped += 1

    def frame(self, lines: Iterable[str]) -> Iterator[LogLine]:
        """Yield the logical lines of ``lines`` (physical lines, trailing newlines allowed)."""
        search = self.prefilter.search if self.prefilter is not None else None
        st = _State(JournalReader(self.source))
        lineno = 0
        try:
            for raw in lines:
                lineno += 1
                if (
                    search is not None
                    and st.pending is None
                    and st.journal.export is None
                    and not self.full
                    and raw[:1] not in "{-_"
                    and search(raw) is None
                ):
                    self.skipped += 1  # the fast path: no prefix parsing at all
                    continue
                line = raw.rstrip("\r\n")
                if lineno == 1:
                    line = line.removeprefix("\ufeff")
                yield from self._step(st, raw, line, lineno)
            yield from self._gated(st.journal.finish())
            if st.pending is not None:
                yield self._emit(st.pending)
        finally:
            self.lines_read += lineno

    def _flush(self, st: _State) -> Iterator[LogLine]:
        if st.pending is not None:
            pending, st.pending = st.pending, None
            yield self._emit(pending)  # the caller may flip self.full here

    def _step(self, st: _State, raw: str, line: str, lineno: int) -> Iterator[LogLine]:
        if st.journal.export is not None or line[:1] in "{_":
            taken, lines = st.journal.feed(line, lineno)
            if taken or lines:
                yield from self._flush(st)
                yield from self._gated(lines)
            if taken:
                return
        quote = _QUOTE.match(line) if ">" in line[:40] else None
        body = line[quote.end() :] if quote is not None else line
        s = body.lstrip(" \t")
        mark = banner(s)
        if not s.strip() or mark is not None:
            yield from self._flush(st)  # a blank line or a banner ends any wrap
            if mark is not None and mark[0]:
                marker = LogLine(self.source, lineno, "", "journal-short", boot_id=mark[1],
                                 boot_marker=True)  # fmt: skip
                yield from self._gated([marker])
            return
        if st.after_kmsg and _DICT.match(body):
            return  # /dev/kmsg dictionary (SUBSYSTEM=, DEVICE=)
        indent = len(body) - len(s)
        if "\t" in body[:indent]:
            indent = len(body[:indent].expandtabs(8))
        priority = _PRI.match(s)
        if priority is not None:
            s = s[priority.end() :]
        head = _parse(s)
        if head is None and s[:2] in ("..", "…"):
            head = _parse(s.lstrip(".… "))  # "......[  656.241027] text": elision residue
        pending = st.pending
        if head is None and pending is not None and priority is None and not _never_wraps(s):
            if indent - pending.base >= pending.width:  # continuation line of a record
                yield from self._flush(st)
                st.pending = replace(pending, text=s, lineno=lineno)
            else:  # hard wrap: glue it back on
                pending.text += body[min(indent, pending.base) :]
            return
        yield from self._flush(st)
        st.after_kmsg = head is not None and head.framing == "kmsg"
        if not self._keep(raw):
            self.skipped += 1
        elif head is None:
            text = s if priority is not None else body[min(indent, st.base) :]
            yield self._emit(_Head("bare", text, 0, lineno=lineno))
        else:
            head.lineno = lineno
            head.base = st.base = indent
            *first, head.text = _pieces(head)
            for text in first:
                yield self._emit(replace(head, text=text))
            st.pending = head


def frame_lines(lines: Iterable[str], source: str = "-") -> Iterator[LogLine]:
    """Frame every line of ``lines`` (no prefilter): the convenience form of :class:`Framer`."""
    framer = Framer(source)
    framer.full = True
    return framer.frame(lines)
