"""A run of body lines (:class:`~oomsleuth.model.Run`: one syslog prefix, one wall) read into
the open report in one piece, as :meth:`KernelParser.feed
<oomsleuth.parsers.kernel.KernelParser.feed>` would read its lines one by one.

Most of a memcg report's body is its ``memory.stat`` block: some fifty ``name value`` lines
(``anon 1024``). :func:`plain_run` reads such a block with a few calls in C
(:func:`_stat_block`: one match for its extent, ``split()`` for its pairs, the gaps between its
kernel stamps by ``map``) and every other line as :func:`~.kernel_body.plain_body` or
:func:`~.kernel_body.feed_body` reads it. ``tests/test_runs.py`` compares the result with the
line reader's on every hazard a stat block can hold.
"""

from __future__ import annotations

import sys
from operator import sub

from oomsleuth.model import Run, Where
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.parsers.kernel_body import MAX_STATS, ROWISH, TOUCHED, feed_body, plain_body
from oomsleuth.parsers.kernel_draft import Draft
from oomsleuth.parsers.kernel_outcome_lines import EVENT_HINT
from oomsleuth.parsers.kernel_settle import GAP_S

# Lines (each ended by a newline) that plain_body reads as stat lines but for "oom" and
# "suppressed", in their plainest form: a name of ASCII letters, digits and "_", one space,
# ASCII digits (a line with spaces around it, or another letter or digit of Unicode, ends the
# block: the lines after it are read one by one)
_STAT_LINES = lazy_compile(r"(?:[A-Za-z0-9_]+ [0-9]+\n)*")


def plain_run(d: Draft, source: str, run: Run, start: int, end: int) -> tuple[int, int]:
    """:meth:`KernelParser.feed <oomsleuth.parsers.kernel.KernelParser.feed>` over the lines
    ``start`` to ``end`` of ``run`` (kernel lines of ``source`` in the open report ``d``, which
    has no kill yet) for as long as each is blank (which feed passes over) or, within
    ``GAP_S`` of the report's last line, a body line: one :func:`plain_body` reads, or else one
    that holds no ``EVENT_HINT`` word and is no task row, which :func:`feed_body` reads as
    feed would (the lines that open sections, Mem-Info, older call traces). Returns the index
    of the first line it did not take (or ``end``) and the number of the last line plain_body
    touched the report with since the last feed_body (0: none; the caller places it).
    ``d.last_where`` must be placed when it is called."""
    touched, more = 0, True
    while more:
        if d.phase == "stats":  # a memory.stat block: as many of its lines as it can at once
            start, touched = _stat_block(d, run, start, end, touched)
        start, touched, more = _lines(d, source, run, start, end, touched)
    return start, touched


def _lines(
    d: Draft, source: str, run: Run, start: int, end: int, touched: int
) -> tuple[int, int, bool]:
    """The lines from ``start`` one by one (see :func:`plain_run`), until one it cannot take
    or the stats phase begins (then True: :func:`plain_run` goes on after it)."""
    lineno, texts, uptimes = run.lineno, run.texts, run.uptimes
    for i in range(start, end):
        text = texts[i]
        s = text.strip()
        if not s:
            continue
        up, last = uptimes[i], d.last_uptime
        if up is not None and last is not None and (up - last > GAP_S or up - last < -GAP_S):
            return i, touched, False
        took = plain_body(d, s, lineno + i, text, up)
        if took == TOUCHED:
            touched = lineno + i
        elif not took:
            if EVENT_HINT.search(s) is not None or (s[:1] == "[" and ROWISH.match(s)):
                return i, touched, False  # an event may be in it; a row may not match its header
            if touched:  # KernelParser._place, before anything reads or changes it
                d.last_where, touched = Where(source, touched), 0
            if len(d.raw) < d.max_raw:
                d.raw.append((lineno + i, text))
            feed_body(d, s, up, Where(source, lineno + i))  # (no row: never False)
            if d.phase == "stats" and i + 1 < end:
                return i + 1, touched, True
    return end, touched, False


def _stat_block(d: Draft, run: Run, start: int, end: int, touched: int) -> tuple[int, int]:
    """The stat lines from ``start`` read as :func:`plain_body` reads each, in one piece: as
    many as follow one another with a kernel stamp each, none holding "oom" or "suppressed",
    none ``GAP_S`` from the one before (or the report's last line). The index after the last
    one read and the number of the last line touched (``start`` and ``touched`` when none
    was: the lines are left to :func:`_lines`)."""
    if start >= end:
        return start, touched
    texts = run.texts
    joined = "\n".join(texts[start:end]) + "\n"  # (a line holds no newline)
    block = joined[: _STAT_LINES.match(joined).end()]  # type: ignore[union-attr]
    n = block.count("\n")
    ups = run.uptimes[start : start + n]
    # ("oom" and "suppressed" as plain_body: no event line is shaped as a stat line, but a
    # line with either goes the way that tests it for one)
    if n == 0 or "oom" in block or "suppressed" in block or None in ups:
        return start, touched
    last = d.last_uptime
    if last is not None and abs(ups[0] - last) > GAP_S:  # type: ignore[operator]
        return start, touched
    if n > 1 and max(map(abs, map(sub, ups[1:], ups[:-1]))) > GAP_S:
        return start, touched
    words = block.split()  # each line's name and value (one space between, no other)
    if d.stats_path is not None and (room := MAX_STATS - len(d.stats)) > 0:
        pairs = zip(words[: 2 * room : 2], words[1 : 2 * room : 2], strict=True)
        d.stats.extend([(sys.intern(name), int(value)) for name, value in pairs])
    first = run.lineno + start
    if (room := d.max_raw - len(d.raw)) > 0:
        k = min(n, room)
        d.raw.extend(zip(range(first, first + k), texts[start : start + k], strict=True))
    d.last_uptime = ups[-1]
    return start + n, first + n - 1
