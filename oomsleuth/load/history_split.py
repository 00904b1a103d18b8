"""One big ``atop -P`` text file read by several processes at once, cut at sample boundaries.

A month of ``atop -P`` for 300 processes is one file of 300 MB or more, and reading it is most of
a history's cost. A plain (uncompressed, seekable) UTF-8 atop text of ``SPLIT_BYTES`` or more is
cut into parts at byte offsets, each moved on to the end of the next ``SEP`` line (found in the
bytes: ``\\nSEP\\n`` or ``\\nSEP\\r\\n``, a whole line, as the reader splits lines on ``\\n`` only
and UTF-8 decodes the same from any line start). Each part is read by
:func:`oomsleuth.history.atop.read_blocks` in a forked process (:mod:`history_forked`), and
:func:`merge` puts the parts together into exactly what one process reading the whole file
gives. Why it is exact:

- **The reader's state where a part starts.** After a ``SEP`` line the atop reader holds: no
  ``RESET`` (``SEP`` ends a since-boot sample, so a ``RESET`` is always read with its sample,
  whichever part holds it), no names of this sample, the names the PRG lines of the sample
  before gave (PRM lines may come first), and the time of the last sample read (the last
  well-formed MEM/SWP/PAG/PSI/PRG/PRM line, with whether ``keep`` took it: that decides whether
  a broken line of the same time is skipped or warned about). None of that can be known without
  the lines before the part, but all of it is known from them: the names come from the lines
  since the ``SEP`` before, and the time from the last well-formed line. Whether a well-formed
  line is kept depends only on its own time (``keep`` is a function of time), never on the
  state. So a part's reader is first *primed*, silently (no warning, no sample), on the lines
  from the end of an earlier ``SEP`` line (or the file's start) to its own start; once those
  hold a sample's time (``settled``) its state is the one-process reading's. An earlier start
  is tried, twice as far back each time, until it is settled or the file's start is reached.
- **Warnings.** One-process reading numbers warnings by line and passes on the first
  ``MAX_WARNINGS`` of each code, then one summary per code. A part records the first
  ``MAX_WARNINGS`` of each code with its own line numbers (enough: the earlier parts can only
  take some of the quota) and counts all of them; :func:`merge` replays them in order through
  one limiter, the line numbers moved by the lines of the parts before, adds the counts of the
  ones not recorded, and closes it at the last line: same warnings, same order, same summaries.
- **keep's span** (the history-outside-window text): a part notes the earliest and latest time
  it asked about; the priming asks only about times the whole reading asks about too.
- **What only the loader sees** (a line over ``max_line``, an I/O error): a part that meets one
  says so, and the whole file is read again in one process, the plain way.

Which files: the ones :class:`oomsleuth.load.history.HistoryReading` would read as plain UTF-8
text through the atop reader, as :func:`_atop_text` checks with the same functions (not
compressed, not a raw sa/atop file, no byte reader's format, not UTF-16 or binary, its first
lines sniffed as atop). Gzip, small files and every other format are read as before.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import BinaryIO, NamedTuple

from oomsleuth.errors import InputError
from oomsleuth.history import atop
from oomsleuth.history.common import WarnLimiter
from oomsleuth.history.span import Span, outside
from oomsleuth.history.windows import Windows
from oomsleuth.load import atop_raw, sa_binary
from oomsleuth.load.files import Input, checked_head, decompressed, read_errors
from oomsleuth.load.history_forked import FileRead
from oomsleuth.load.text import LineBlocks, looks_binary
from oomsleuth.model import Sample, Warning_

SPLIT_BYTES = 64 << 20  # a plain atop text this big or bigger is read in parts
PART_BYTES = 16 << 20  # no part smaller than this (each costs a priming and a task)
_READ = 64 << 10  # as a plain file's read in Input.line_blocks (bigger reads split slower)
_SCAN = 1 << 18  # bytes looked at a time for a SEP line
_SEP = (b"\nSEP\n", b"\nSEP\r\n")


class Part(NamedTuple):
    """Bytes ``start`` to ``end`` (None: the file's end) of a file; ``start`` is 0 or the end
    of a ``SEP`` line. ``size``: the file's size when it was cut."""

    item: Input
    path: Path
    start: int
    end: int | None
    size: int
    max_line: int


class PartRead(NamedTuple):
    """What a part's reading sends back (see the module doc)."""

    samples: list[Sample]
    warned: list[tuple[int, str, str]]  # (line in the part, code, message), the first of each
    counts: dict[str, int]  # warnings given, of each code
    lines: int
    span: tuple[datetime | None, datetime | None]  # the first and last time keep was asked
    whole: bool  # False: read the whole file in one process instead (module doc)


def plan(item: Input, max_line: int, parts: int) -> list[Part] | None:
    """``item`` cut into at most ``parts`` parts, or None when it is not to be cut."""
    path = item.path
    if path is None or item.opener is not None or parts < 2:
        return None
    try:
        size = path.stat().st_size
        if size < SPLIT_BYTES or not _atop_text(path, item.name, max_line):
            return None
        parts = min(parts, size // PART_BYTES)
        bounds = [0]
        with path.open("rb") as f:
            for i in range(1, parts):
                cut = _sep_after(f, max(size * i // parts, bounds[-1]))
                if cut is None or cut >= size:
                    break
                bounds.append(cut)
    except OSError:
        return None
    if len(bounds) < 2:
        return None
    ends: list[int | None] = [*bounds[1:], None]
    return [Part(item, path, a, b, size, max_line) for a, b in zip(bounds, ends, strict=True)]


def _atop_text(path: Path, name: str, max_line: int) -> bool:
    """True when the one-process reading reads the file as plain UTF-8 text through the atop
    reader: the checks of ``HistoryReading.samples`` and ``Input.line_blocks``, in order."""
    from oomsleuth.history.registry import sniff
    from oomsleuth.load.history import HEAD_BYTES, HEAD_LINES  # loaded: it calls this

    broken: tuple[type[BaseException], ...] = (InputError, *read_errors())
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        try:
            if type(decompressed(io.BytesIO(head), name)) is not io.BufferedReader:
                return False  # compressed
            text, encoding = checked_head(io.BytesIO(head), name)
        except broken:
            return False
        if encoding is not None or looks_binary(text):
            return False
        by_bytes = sniff(head.decode("utf-8", "surrogateescape").splitlines()[:HEAD_LINES])
        if by_bytes is not None and by_bytes.parse_chunks is not None:
            return False
        if sa_binary.is_sa_binary(head[:4096]) or atop_raw.is_atop_raw(head[:4096]):
            return False
        lines = list(islice(_lines(f, 0, None, max_line, _no), HEAD_LINES))
    reader = sniff(lines)
    return reader is not None and reader.name == atop.FORMAT.name


def _lines(
    f: BinaryIO, start: int, end: int | None, max_line: int, trouble: Callable[[int], None]
) -> Iterator[str]:
    for block in _blocks(f, start, end, max_line, trouble):
        yield from block


def _blocks(
    f: BinaryIO, start: int, end: int | None, max_line: int, trouble: Callable[[int], None]
) -> Iterator[list[str]]:
    """The lines of bytes ``start`` to ``end`` as ``Input.line_blocks`` splits them; a line
    over ``max_line`` calls ``trouble`` with its number."""

    def pieces() -> Iterator[bytes]:
        f.seek(start)
        left = -1 if end is None else end - start
        while left and (data := f.read(_READ if left < 0 else min(_READ, left))):
            left = left - len(data) if left > 0 else left
            yield data

    return iter(LineBlocks(pieces(), max_line, lambda line, _: trouble(line)))


def _sep_after(f: BinaryIO, pos: int) -> int | None:
    """The end of the first ``SEP`` line that starts at byte ``pos`` or after; None if none."""
    pos = max(0, pos - 1)  # the line ending before it
    while True:
        f.seek(pos)
        data = f.read(_SCAN)
        found = [i for i in (data.find(s) for s in _SEP) if i >= 0]
        if found:
            i = min(found)
            return pos + i + (5 if data.startswith(_SEP[0], i) else 6)
        if len(data) < _SCAN:
            return None
        pos += len(data) - 5  # a SEP line cut by the end of this read is found by the next


def _sep_before(f: BinaryIO, limit: int) -> int:
    """The end of the last ``SEP`` line that ends at or before byte ``limit``; 0 if none."""
    hi = limit
    while hi > 0:
        lo = max(0, hi - _SCAN)
        f.seek(lo)
        data = f.read(hi - lo)
        ends = [i + len(s) for s in _SEP if (i := data.rfind(s)) >= 0]
        if ends:
            return lo + max(ends)
        hi = min(hi, lo + 5)  # a SEP line cut by the start of this read is found by the next
        if lo == 0:
            break
    return 0


class _Recorder(WarnLimiter):
    """A part's warnings: the first ``MAX_WARNINGS`` of each code kept as given (line, code,
    message), all counted; nothing while ``quiet`` (priming)."""

    def __init__(self, source: str) -> None:
        super().__init__(lambda w: None, source, atop.MAX_WARNINGS, None)
        self.warned: list[tuple[int, str, str]] = []
        self.counts: dict[str, int] = {}
        self.quiet = True

    def __call__(self, line: int, code: str, message: str) -> None:
        if self.quiet:
            return
        n = self.counts[code] = self.counts.get(code, 0) + 1
        if n <= atop.MAX_WARNINGS:
            self.warned.append((line, code, message))


class _Merged(WarnLimiter):
    """The one-process reading's limiter, which also takes counts of warnings not given."""

    def add(self, code: str, n: int) -> None:
        self._counts[code] = self._counts.get(code, 0) + n


def read_part(part: Part, windows: Windows) -> PartRead:
    """One part's samples in the windows and warnings (see the module doc)."""
    span = Span(windows.keep, windows.spans)
    recorder = _Recorder(part.item.name)
    troubles: list[int] = []
    samples: list[Sample] = []
    try:
        with part.path.open("rb") as f:
            if _size(f) < part.size:  # cut shorter since it was planned
                return _whole()
            state = _primed(f, part, span, recorder) if part.start else None
            if state is None:
                state = atop.reading(part.item.name, recorder, span)
            recorder.quiet = False
            blocks = _blocks(f, part.start, part.end, part.max_line, troubles.append)
            samples += atop.read_blocks(blocks, state)
    except OSError:
        return _whole()
    if troubles:
        return _whole()
    warned, counts = recorder.warned, recorder.counts
    return PartRead(samples, warned, counts, state.lines, (span.first, span.last), True)


def _primed(f: BinaryIO, part: Part, span: Span, recorder: _Recorder) -> atop._State:
    """A reader's state at ``part.start``, the one-process reading's (see the module doc)."""
    name, back, limit = part.item.name, _SCAN, part.start - 1
    while True:
        begin = _sep_before(f, limit)
        state = atop.reading(name, recorder, span)
        deque(atop.read_blocks(_blocks(f, begin, part.start, part.max_line, _no), state), 0)
        if begin == 0 or state.settled:
            state.lines = 0
            return state
        limit, back = min(begin - 1, part.start - back), back * 2


def _no(_: int) -> None:
    """A long line in a file's head or a priming: the part that holds it says so."""


def _size(f: BinaryIO) -> int:
    return f.seek(0, io.SEEK_END)


def _whole() -> PartRead:
    return PartRead([], [], {}, 0, (None, None), False)


def merge(item: Input, reads: list[PartRead], windows: Windows) -> FileRead | None:
    """The parts' readings as one reading of the whole file; None when a part could not be
    read so (the file is then read in one process)."""
    if not all(r.whole for r in reads):
        return None
    warnings: list[Warning_] = []
    limiter = _Merged(warnings.append, item.name, atop.MAX_WARNINGS, more=atop.MORE_WARNINGS)
    span = Span(windows.keep, windows.spans)
    samples: list[Sample] = []
    lines = 0
    for read in reads:
        for line, code, message in read.warned:
            limiter(lines + line, code, message)
        for code, n in read.counts.items():
            limiter.add(code, n - sum(1 for w in read.warned if w[1] == code))
        samples += read.samples
        lines += read.lines
        for t in read.span:
            if t is not None:
                span.keep(t)
    limiter.close(lines)
    sources = [(item.name, atop.FORMAT.name)]
    return FileRead(samples, sources, warnings, [], outside(span, windows))
