"""The framer over a source that can jump: the fast path for big files.

:meth:`Framer.frame` looks at every physical line and skips, before any prefix parsing, those the
prefilter rejects while nothing is open (no wrap pending, no journal record half read, no report
open: ``full`` False). A :class:`Sparse` source (:mod:`oomsleuth.load.blocks`) can do that skip
itself, in C over big blocks: asked for the next line with ``skip=True`` it may jump over any
run of lines none of which could pass the prefilter, and hands out the next *candidate* line with
its true line number. :meth:`SparseFramer.frame_sparse` is :meth:`Framer.frame` with that one
change: it asks to skip exactly when ``frame`` would test the prefilter, and still tests every
line it gets, so a source that hands out more lines than needed changes nothing. (The first
``leading`` physical lines, tested with the ``first`` prefilter, are all asked for.) The result is
the same LogLines, line numbers and counts as ``frame`` over every line.

The lines of a syslog report share their ``Mon DD HH:MM:SS host ident: `` prefix: a line that
starts with the one :mod:`~oomsleuth.frame.syslog` keeps is read by ``syslog.kept`` straight
into the pending line, in this loop, without the generators and tests of the general way
(``tests/test_frame_fast.py`` compares the two). Inside a report (``full``), a source that has a
``run`` method hands over all the following lines with that prefix in one piece; they are framed
in one loop and offered to :attr:`SparseFramer.runs` as a :class:`~oomsleuth.model.Run`, which
the scanner feeds as far as its readers take such lines in one piece exactly as one by one
(``tests/test_runs.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Protocol, runtime_checkable

from oomsleuth.frame import syslog
from oomsleuth.frame.framer import Framer, _State
from oomsleuth.frame.head import INNER
from oomsleuth.frame.journal import JournalReader
from oomsleuth.model.lines import LogLine, Run

# Where a physical line starting with one of these may begin a journal record or banner: the
# framer always parses such lines (a sparse source must hand them out).
ALWAYS_FIRST = "{-_"
ALWAYS_INSIDE = "[s="  # the head of a journalctl -o verbose record


@runtime_checkable
class Sparse(Protocol):
    """A source of physical lines that may jump over lines no prefilter could keep."""

    lines: int  # physical lines read so far (handed out or jumped over)

    def next(self, skip: bool, /) -> tuple[int, str] | None:
        """The next physical line (number, text without line ending), or None at the end; with
        ``skip`` the next line that may pass the prefilter (any line is allowed)."""
        ...


class SparseFramer(Framer):
    """A :class:`Framer` that reads a :class:`Sparse` source (see the module doc)."""

    # takes the lines of a Run (inside a report) from an index in one piece: where it stopped
    runs: Callable[[Run, int], int] | None = None

    def frame_sparse(self, source: Sparse) -> Iterator[LogLine]:
        search = self.prefilter.search if self.prefilter is not None else None
        first, leading = self.first.search if self.first is not None else search, self.leading
        st = _State(JournalReader(self.source))
        journal, stats = st.journal, self.stats
        quiet = False  # journal.busy was False, and no line went to the general way since
        fast: syslog.Kept | None = None  # the pending line, read in the fast lane
        runs = getattr(source, "run", None) if self.runs is not None else None
        back: list[tuple[int, str]] = []  # lines read by a run and left to this loop, reversed
        try:
            while True:
                idle = search is not None and st.pending is None and fast is None
                idle = idle and not journal.busy and not self.full
                # (every line up to leading)
                got = back.pop() if back else source.next(idle and source.lines >= leading)
                if got is None:
                    break
                lineno, raw = got
                test = first if lineno <= leading else search
                if (
                    idle
                    and raw[:1] not in ALWAYS_FIRST
                    and test(raw) is None  # type: ignore[misc]
                    and ALWAYS_INSIDE not in raw
                ):
                    continue  # a line the source could not rule out, ruled out here
                if (
                    not st.after_kmsg
                    and (k := syslog.kept(raw.rstrip("\r\n"), lineno)) is not None
                    and "#01" not in k[1]
                    and (quiet or not journal.busy)
                ):
                    # the fast lane: what _step does with a line that starts with the kept
                    # syslog prefix while no journal record is open ("Mon DD HH:MM:SS host
                    # ident: ", so no verbose head, wrap, banner, quote or priority), no pieces
                    quiet = True
                    if fast is not None:  # self._emit(as_head(fast)), inline
                        f, fast = fast, None
                        stats[f[2]] = stats.get(f[2], 0) + 1
                        yield LogLine(self.source, f[0], f[1], f[2], f[3], f[4], f[5], f[6],
                                      f[7], f[8])  # fmt: skip
                    elif st.pending is not None:
                        yield from self._flush(st)
                    # the caller may have flipped self.full at the yield
                    if self.full or test is None or test(raw) is not None:
                        st.base = 0
                        fast = k
                        if runs is not None and self.full and not back and k[6] == "kernel":
                            fast = yield from self._run(runs(syslog.last_prefix()), k, back)
                    else:
                        self.skipped += 1
                    continue
                quiet = False  # the journal reader may take this line
                if fast is not None:
                    st.pending, fast = syslog.as_head(fast), None
                yield from self._physical(st, raw, lineno)
            if fast is not None:
                st.pending = syslog.as_head(fast)
            yield from self._end(st)
        finally:
            self.lines_read += source.lines

    def _run(
        self, raws: list[str], k: syslog.Kept, back: list[tuple[int, str]]
    ) -> Generator[LogLine, None, syslog.Kept | None]:
        """The fast lane's pending line ``k`` and the lines after it that start with its
        prefix, ``raws`` (read in one piece by the source's ``run``), framed as the loop would
        frame them one by one. Each line but the last is complete (the next starts with the
        prefix), so each is handed out as soon as it is read: ``k`` first. While the caller
        reads every line (``full``), :attr:`runs` is offered the lines from the next one as one
        :class:`~oomsleuth.model.Run` and takes what it can in one piece; the line where it
        stops is handed out, and so on. Otherwise a line the prefilter rejects is skipped.
        The last line (a wrap may continue it), and any after a line the fast lane leaves to
        the general way, go to ``back`` for the loop. Returns the pending line: ``k`` when
        there are no ``raws``, else None."""
        if not raws or self.runs is None:
            return k
        stats, source, framing, wall, host = self.stats, self.source, k[2], k[4], k[5]
        stats[framing] = stats.get(framing, 0) + 1
        yield LogLine(source, k[0], k[1], framing, k[3], wall, host, k[6], k[7], k[8])
        run, callers = _framed(raws, k)
        texts, uptimes, lineno, i = run.texts, run.uptimes, run.lineno, 0
        search = self.prefilter.search if self.prefilter is not None else None
        first = self.first.search if self.first is not None else search
        while i < len(texts):
            if self.full:
                stop = self.runs(run, i)
                stats[framing] += stop - i
                if stop == len(texts):
                    break
                i = stop
            elif (test := first if lineno + i <= self.leading else search) is not None and (
                test(raws[i]) is None
            ):
                self.skipped += 1
                i += 1
                continue
            stats[framing] += 1
            yield LogLine(source, lineno + i, texts[i], framing, uptimes[i], wall, host, k[6],
                          k[7], callers[i])  # fmt: skip
            i += 1
        back.extend((lineno + j, raws[j]) for j in range(len(raws) - 1, len(texts) - 1, -1))
        return None


def _framed(raws: list[str], k: syslog.Kept) -> tuple[Run, list[str | None]]:
    """The Run of the kernel lines ``raws[:-1]`` (after the line ``k``, each starting with the
    prefix that read it) up to the first that holds ``#01`` (the fast lane leaves those to the
    general way), and their printk callers: what :func:`syslog.kept` reads from each."""
    texts: list[str] = []
    uptimes: list[float | None] = []
    callers: list[str | None] = []
    inner, width = INNER.match, k[9]
    for raw in raws[:-1]:
        if "#01" in raw:
            break
        text = raw[width:]
        if (m := inner(text)) is not None:
            texts.append(text[m.end() :])
            uptimes.append(float(m[1]))
            callers.append(m[2] or None)
        else:
            texts.append(text)
            uptimes.append(None)
            callers.append(None)
    return Run(k[0] + 1, k[2], k[4], k[5], texts, uptimes), callers
