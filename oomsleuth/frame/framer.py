"""Strip and read the per-line prefix ("framing") of kernel and system logs.

The framing is detected per line, because pasted files mix them; each framing has its module
(:mod:`~oomsleuth.frame.dmesg`, :mod:`~oomsleuth.frame.syslog`, :mod:`~oomsleuth.frame.journal`,
:mod:`~oomsleuth.frame.kmsg`, :mod:`~oomsleuth.frame.quoted`), and ``LogLine.framing`` names it:
``dmesg``, ``dmesg-T``, ``dmesg-iso``, ``syslog``, ``rfc3339``, ``journal-short``,
``journal-json``, ``journal-export``, ``journal-verbose``, ``kmsg``, or ``bare`` (anything else,
taken as it is).
A leading ``<N>`` priority, mail quoting and a uniform indentation are stripped first; blank
lines are skipped; ``-- Boot <id> --`` / ``-- Reboot --`` banners become ``boot_marker`` lines.

Hard wraps and continuations. A non-blank line with no recognisable prefix that follows a prefixed
line is (a) a continuation line of a multi-line record when it is indented at least as far as the
previous line's text column (where the text starts after the stamp, or after ``ident: `` for
syslog-like lines, not counting an inner kernel stamp; dmesg and journalctl indent continuation
lines so): it becomes its own LogLine with the previous line's stamp, indentation removed; or (b) a
hard wrap (mail, docs) otherwise: it is appended to the previous line's text as it is, with no
separator, and the result keeps the first piece's line number. Lines that never wrap are listed
in :mod:`oomsleuth.frame.quoted`. Bare lines and blank lines end the chance of a wrap, so lines
after a bare line are never joined.

Performance: with a ``prefilter`` and ``full`` False, a physical line that the prefilter does not
match is skipped before any prefix parsing (counted in ``skipped``), unless the line before it is
still open for a wrap. The prefilter sees physical lines: wrap pieces of a kept line are kept, a
match only inside a wrap piece is not seen. ``full`` may be flipped while iterating; it applies
from the next physical line after the LogLine just received. JSON and export records are always
parsed; their messages are filtered after decoding. Boot markers always pass. Nothing is held
beyond one logical line.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from dataclasses import replace
from typing import Protocol

from oomsleuth.frame import dmesg, kmsg, syslog
from oomsleuth.frame.head import Head
from oomsleuth.frame.journal import JournalReader, banner
from oomsleuth.frame.months import MonthReader
from oomsleuth.frame.quoted import PRIORITY, QUOTE, never_wraps, pieces, prefixes
from oomsleuth.model.lines import LogLine
from oomsleuth.model.record import field, record


def _after_prefix(s: str, names: MonthReader) -> Head | None:
    """The line after a line number or file name a tool put before it, when it reads as a log
    line; the text column moves right by the prefix."""
    for cut in prefixes(s):
        rest = s[cut:].lstrip(" ")
        head = _parse(rest, names)
        if head is not None:
            head.width += len(s) - len(rest)
            return head
    return None


def _parse(s: str, names: MonthReader) -> Head | None:
    """The prefix of one physical line (quotes, indentation and priority already removed);
    ``names`` reads month names of other languages for this source."""
    first = s[:1]
    if first == "[":
        return dmesg.bracketed(s, names)
    if first.isdigit():
        return kmsg.record(s) or syslog.iso_stamped(s) or syslog.localized(s, names)
    if "A" <= first <= "Z":
        return syslog.named(s) or syslog.localized(s, names)
    if "a" <= first <= "z":
        nested = dmesg.level_prefixed(s, lambda rest: _parse(rest, names))
        return nested or syslog.localized(s, names)
    return syslog.localized(s, names)


@record(slots=True)
class _State:
    """What one run of :meth:`Framer.frame` carries from line to line."""

    journal: JournalReader
    names: MonthReader = field(default_factory=MonthReader)
    pending: Head | None = None  # the last prefixed line, still open for hard wraps
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
        # the prefilter of the first ``leading`` physical lines (None: the same prefilter)
        self.first: Searcher | None = None
        self.leading = 0
        self.resumable = False  # at the end of the input: see _resumable

    def _searcher(self, lineno: int) -> Searcher | None:
        return self.first if lineno <= self.leading and self.first is not None else self.prefilter

    def _keep(self, text: str, lineno: int) -> bool:
        if self.full:
            return True
        searcher = self._searcher(lineno)
        return searcher is None or searcher.search(text) is not None

    def _emit(self, head: Head) -> LogLine:
        self.stats[head.framing] = self.stats.get(head.framing, 0) + 1
        h = head
        return LogLine(self.source, h.lineno, h.text, h.framing, h.uptime_s, h.wall, h.host,
                       h.ident, h.ident_pid, h.caller)  # fmt: skip

    def _gated(self, lines: list[LogLine]) -> Iterator[LogLine]:
        """Journal lines, filtered by the prefilter after decoding (boot markers always pass)."""
        for line in lines:
            if line.boot_marker or self._keep(line.text, line.lineno):
                self.stats[line.framing] = self.stats.get(line.framing, 0) + 1
                yield line
            else:
                self.skipped += 1

    def frame(self, lines: Iterable[str]) -> Iterator[LogLine]:
        """Yield the logical lines of ``lines`` (physical lines, trailing newlines allowed)."""
        search = self.prefilter.search if self.prefilter is not None else None
        first, leading = self.first.search if self.first is not None else search, self.leading
        st = _State(JournalReader(self.source))
        lineno = 0
        try:
            for raw in lines:
                lineno += 1
                if (
                    search is not None
                    and st.pending is None
                    and not st.journal.busy
                    and not self.full
                    and raw[:1] not in "{-_"
                    and (first if lineno <= leading else search)(raw) is None  # type: ignore[misc]
                    and "[s=" not in raw  # a journalctl -o verbose record's head
                ):
                    self.skipped += 1  # the fast path: no prefix parsing at all
                    continue
                yield from self._physical(st, raw, lineno)
            yield from self._end(st)
        finally:
            self.lines_read += lineno

    def _physical(self, st: _State, raw: str, lineno: int) -> Iterator[LogLine]:
        """One physical line in (its line ending and a leading BOM dropped)."""
        line = raw.rstrip("\r\n")
        return self._step(st, raw, line.removeprefix("\ufeff") if lineno == 1 else line, lineno)

    def _end(self, st: _State) -> Iterator[LogLine]:
        """What the journal reader and the pending line still hold at the end of the input."""
        self.resumable = self._resumable(st)
        yield from self._gated(st.journal.finish())
        if st.pending is not None:
            yield self._emit(st.pending)

    def _resumable(self, st: _State) -> bool:
        """Whether a fresh framer reading on after the last line would frame what this one
        would, if the next line has a head of its own (a prefix: it is never glued to the line
        before, which is handed out before it, as at the end of the input; nor is it a kmsg
        dictionary line, so whether a kmsg line came last does not matter): no journal record
        open or read, no month names of another language learnt (:mod:`oomsleuth.scan_halves`
        reads a file in two halves)."""
        journal, verbose = st.journal, st.journal.verbose
        fresh = journal.boot_id is None and journal.export is None  # (JournalReader's fields)
        fresh = fresh and verbose.fields is None and not verbose.start and not verbose._ready
        return fresh and not st.names.languages

    def _flush(self, st: _State) -> Iterator[LogLine]:
        if st.pending is not None:
            pending, st.pending = st.pending, None
            yield self._emit(pending)  # the caller may flip self.full here

    def _journal(self, st: _State, line: str, lineno: int) -> Generator[LogLine, None, bool]:
        """A journal JSON or export record line; returns True when the journal reader took it."""
        taken, lines = st.journal.feed(line, lineno)
        if taken or lines:
            yield from self._flush(st)
            yield from self._gated(lines)
        return taken

    def _blank(
        self, st: _State, mark: tuple[bool, str | None] | None, lineno: int
    ) -> Iterator[LogLine]:
        """A blank line or a boot banner: it ends any wrap; a boot banner becomes a marker."""
        yield from self._flush(st)
        if mark is not None and mark[0]:
            marker = LogLine(self.source, lineno, "", "journal-short", boot_id=mark[1],
                             boot_marker=True)  # fmt: skip
            yield from self._gated([marker])

    def _step(self, st: _State, raw: str, line: str, lineno: int) -> Iterator[LogLine]:
        if (st.journal.busy or line[:1] in "{_" or "[s=" in line) and (
            yield from self._journal(st, line, lineno)
        ):
            return  # a journal record (JSON or export) line
        pending = st.pending
        prefix = syslog.last_prefix()
        if prefix and not st.after_kmsg and line.startswith(prefix):
            # the fast lane: a line that starts with the last syslog prefix read (a month name,
            # so no quote, indentation, banner or priority) is read as the general path would
            body = s = line
            indent, priority, head = 0, None, syslog.named(line)
        else:
            quote = QUOTE.match(line) if ">" in line[:40] else None
            body = line[quote.end() :] if quote is not None else line
            s = body.lstrip(" \t")
            mark = banner(s) if s[:1] in "-\u2591" else None  # banner: "-- " or "\u2591\u2591"
            if not s or s.isspace() or mark is not None:
                yield from self._blank(st, mark, lineno)
                return
            if st.after_kmsg and kmsg.is_dictionary(body):
                return  # /dev/kmsg dictionary (SUBSYSTEM=, DEVICE=)
            indent = len(body) - len(s)
            if indent and "\t" in body[:indent]:
                indent = len(body[:indent].expandtabs(8))
            priority = PRIORITY.match(s) if s[:1] == "<" else None
            if priority is not None:
                s = s[priority.end() :]
            head = _parse(s, st.names)
            if head is None and s[:2] in ("..", "…"):
                head = _parse(s.lstrip(".… "), st.names)  # "......[  656.241027] text": elision
            if head is None:
                head = _after_prefix(s, st.names)  # cat -n, grep -n, grep -H, zgrep...
        if head is None and pending is not None and priority is None and not never_wraps(s):
            if indent - pending.base >= pending.width:  # continuation line of a record
                yield from self._flush(st)
                st.pending = replace(pending, text=s, lineno=lineno)
            else:  # hard wrap: glue it back on
                pending.text += body[min(indent, pending.base) :]
            return
        if pending is not None:  # _flush, inline: this runs for every framed line
            st.pending = None
            yield self._emit(pending)  # the caller may flip self.full here
        st.after_kmsg = head is not None and head.framing == "kmsg"
        if not self._keep(raw, lineno):
            self.skipped += 1
        elif head is None:
            text = s if priority is not None else body[min(indent, st.base) :]
            yield self._emit(Head("bare", text, 0, lineno=lineno))
        else:
            head.lineno = lineno
            head.base = st.base = indent
            if head.framing == "kmsg" or "#01" in head.text:  # else pieces() is [head.text]
                *first, head.text = pieces(head)
                for text in first:
                    yield self._emit(replace(head, text=text))
            st.pending = head


def frame_lines(lines: Iterable[str], source: str = "-") -> Iterator[LogLine]:
    """Frame every line of ``lines`` (no prefilter): the convenience form of :class:`Framer`."""
    framer = Framer(source)
    framer.full = True
    return framer.frame(lines)
