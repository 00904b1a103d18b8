"""The history inputs' I/O: find files, convert binary sa/atop files with the real tools,
sniff each file's format and stream it through its reader.

One bad history file never costs the run: a file that needs a tool that is not installed (raw
atop without ``atop``, binary sa without ``sadf``), an sa file of another sysstat version, a file
of no known format or one that breaks while read is skipped with one warning that says why and
what fixes it; samples read before a file broke are kept. Only a history path that does not exist
at all is an error (a typo, caught before any work).
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path

from oomsleuth.errors import HistoryError, InputError
from oomsleuth.history.common import batched
from oomsleuth.history.registry import sniff
from oomsleuth.history.span import Span, outside
from oomsleuth.history.traces import TraceCollector
from oomsleuth.history.windows import Windows
from oomsleuth.load import atop_raw, sa_binary
from oomsleuth.load import history_forked as forked
from oomsleuth.load.files import Input, decompressed, read_errors, reason
from oomsleuth.model import (
    CounterTrace,
    History,
    HistoryTraces,
    ProcessTrace,
    Sample,
    Warning_,
    Where,
)

HEAD_LINES = 60
BATCH_LINES = 512  # lines of a converted sa/atop file handed to a reader at a time
HEAD_BYTES = 1 << 16  # formats read as bytes (one-line JSON) are sniffed on this much
# a compact Prometheus query_range response is one line: read it whole, up to this size
JSON_LINE_BYTES = 256 << 20
FORMATS_DOC = "see docs/history-formats.md"


def history_files(
    args: Iterable[str | Input], warn: Callable[[str], None] | None = None
) -> list[Input]:
    """The files named by ``args`` (files, or folders walked without dot-names, or inputs found
    in a bundle), in order. Raises HistoryError for a path that does not exist or a folder with
    no file. FIFOs, sockets and devices in a folder are skipped (``warn`` says so); one given
    by name (``--history <(sadf -d ...)``) is read once into a temporary file."""
    out: list[Input] = []
    for arg in args:
        if isinstance(arg, Input):
            out.append(arg)
            continue
        path = Path(arg)
        if path.is_dir():
            found = []
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [Path(root) / n for n in sorted(names) if not n.startswith(".")]
            if not found:
                raise HistoryError(f"no history files in {arg}")
            for p in found:
                if p.is_file():
                    out.append(Input(str(p), p, JSON_LINE_BYTES))
                elif warn is not None and p.exists():
                    warn(f"skipped history {p}: not a regular file (a FIFO, socket or device)")
        elif not path.exists():
            raise HistoryError(f"cannot read history {arg}: no such file or directory")
        else:
            out.append(
                Input(str(path), path if path.is_file() else _spooled(path), JSON_LINE_BYTES)
            )
    return out


_SPOOLED: dict[str, Path] = {}


def _spooled(path: Path) -> Path:
    """A stream given as history, read once into a temporary file (history is read more than
    once: traces, then windows), removed when the process ends."""
    if str(path) not in _SPOOLED:
        with (
            tempfile.NamedTemporaryFile(
                prefix="oomsleuth-", suffix=".history", delete=False
            ) as tmp,
            path.open("rb") as src,
        ):
            shutil.copyfileobj(src, tmp)
        _SPOOLED[str(path)] = Path(tmp.name)
        atexit.register(Path(tmp.name).unlink, missing_ok=True)
    return _SPOOLED[str(path)]


def _lines(item: Input, problem: Callable[[Warning_], None]) -> Iterator[list[str]]:
    """The file's text lines, a list at a time: sa and atop raw files through the real
    sadf/atop (a member of a bundle is copied to a temporary file first: those tools read
    files). A text stream that breaks part way ends there, and ``problem`` hears it."""
    try:
        with ExitStack() as stack:
            head = item.open(stack).read(4096)
    except OSError as exc:
        raise HistoryError(f"cannot read history {item.name}: {exc.strerror or exc}") from None
    if sa_binary.is_sa_binary(head):
        return batched(_on_disk(item, sa_binary.sa_to_lines), BATCH_LINES)
    if atop_raw.is_atop_raw(head):
        return batched(_on_disk(item, atop_raw.atop_to_lines), BATCH_LINES)
    return replace(item, max_line=JSON_LINE_BYTES).line_blocks(problem)


def _head(blocks: Iterator[list[str]]) -> tuple[list[str], list[list[str]]]:
    """The first ``HEAD_LINES`` lines of ``blocks``, and the blocks read for them."""
    head: list[str] = []
    read: list[list[str]] = []
    while len(head) < HEAD_LINES and (block := next(blocks, None)) is not None:
        read.append(block)
        head += block[: HEAD_LINES - len(head)]
    return head, read


def _broken() -> tuple[type[BaseException], ...]:
    """What a damaged or unreadable stream raises."""
    return (*read_errors(), zlib.error, InputError)


def _head_lines(item: Input) -> list[str]:
    """The first lines of the decompressed head of a file (the last may be cut)."""
    try:
        with ExitStack() as stack:
            head = decompressed(item.open(stack), item.name).read(HEAD_BYTES)
    except _broken():
        return []
    return head.decode("utf-8", "surrogateescape").splitlines()[:HEAD_LINES]


def _chunks(item: Input, warn: Callable[[Warning_], None]) -> Iterator[bytes]:
    """The file's decompressed bytes; a stream that breaks ends there, with a warning."""
    done = 0
    with ExitStack() as stack:
        try:
            stream = decompressed(item.open(stack), item.name)
            while chunk := stream.read(HEAD_BYTES):
                yield chunk
                done += len(chunk)
        except _broken() as exc:
            why = exc.message if isinstance(exc, InputError) else reason(exc)
            text = f"{item.name} breaks after byte {done} ({why}): what came before was read"
            warn(Warning_(Where(item.name, 0), "input-damaged", text))


def _on_disk(item: Input, convert: Callable[[Path], Iterator[str]]) -> Iterator[str]:
    """``convert`` run on the item's file, or on a temporary copy of it."""
    if item.path is not None:
        yield from convert(item.path)
        return
    with tempfile.NamedTemporaryFile(prefix="oomsleuth-", suffix=".history") as tmp:
        with ExitStack() as stack:
            shutil.copyfileobj(item.open(stack), tmp)
        tmp.flush()
        yield from convert(Path(tmp.name))


@dataclass
class HistoryReading:
    """Reads history files one by one, each through its format's reader, isolating failures."""

    tz: tzinfo
    warn: Callable[[str], None]
    sources: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)

    def samples(self, item: Input, keep: Callable[[datetime], bool]) -> Iterator[Sample]:
        """The samples of one file that ``keep`` accepts (a warning instead of an error); its
        format is ``self.sources[-1]`` once the first sample is out."""
        name = item.name
        try:
            bytes_reader = sniff(_head_lines(item))
            if bytes_reader is not None and bytes_reader.parse_chunks is not None:
                self.sources.append((name, bytes_reader.name))
                chunks = _chunks(item, self._add)
                yield from bytes_reader.parse_chunks(
                    chunks, source=name, tz=self.tz, keep=keep, warn=self._add
                )
                return
            blocks = iter(_lines(item, self._add))
            head, read = _head(blocks)
            reader = sniff(head)
            if reader is None:
                self._skip(name, f"not a history format oomsleuth reads ({FORMATS_DOC})")
                return
            self.sources.append((name, reader.name))
            every = itertools.chain(read, blocks)
            tz, warn = self.tz, self._add
            if reader.parse_blocks is not None:
                yield from reader.parse_blocks(every, source=name, tz=tz, keep=keep, warn=warn)
            else:
                lines = itertools.chain.from_iterable(every)
                yield from reader.parse(lines, source=name, tz=tz, keep=keep, warn=warn)
        except InputError as exc:  # HistoryError too: a missing tool, another sa version
            self._skip(name, exc.message.removeprefix(f"{name}: "))

    def _add(self, warning: Warning_) -> None:
        self.warnings.append(warning)
        if warning.code == "query-error":  # the file holds the server's error, not samples
            self.warn(f"history {warning.where.source}: the query failed: {warning.message}")

    def _skip(self, name: str, why: str) -> None:
        self.warn(f"skipped history {name}: {why}")
        self.warnings.append(Warning_(Where(name, 0), "history-skipped", why))


def load_history(
    args: Sequence[str | Input], windows: Windows, tz: tzinfo, warn: Callable[[str], None]
) -> History:
    """Every history input, read through its format's reader; samples outside ``windows``
    (around the OOM events) are dropped as they are read. Several big files, and parts of a big
    atop text, are read side by side (:mod:`oomsleuth.load.history_forked`), with the same
    result."""
    items = history_files(args, warn)
    read = functools.partial(_read_file, windows=windows, tz=tz)
    reads = forked.read_all(items, read, windows, JSON_LINE_BYTES)
    samples: list[Sample] = []
    sources: list[tuple[str, str]] = []
    warnings: list[Warning_] = []
    for item, got in zip(items, reads, strict=True):
        for message in got.said:
            warn(message)
        samples += got.samples
        sources += got.sources
        warnings += got.warnings
        failed = any(w.code == "query-error" for w in got.warnings)
        read_it = any(s == item.name for s, _ in sources)
        if not got.samples and windows and read_it and not failed:
            where = Where(item.name, 0)
            warnings.append(Warning_(where, "history-outside-window", got.outside))
    restarts = tuple((s.time, s.source) for s in samples if s.metric == "restart")
    return History(
        samples=tuple(s for s in samples if s.metric != "restart"),
        sources=tuple(sources),
        warnings=tuple(warnings),
        restarts=restarts,
    )


def _read_file(item: Input, *, windows: Windows, tz: tzinfo) -> forked.FileRead:
    said: list[str] = []
    reading = HistoryReading(tz, said.append)
    span = Span(windows.keep, windows.spans)
    samples = list(reading.samples(item, span))
    return forked.FileRead(samples, reading.sources, reading.warnings, said, outside(span, windows))


# formats that list every process at every sample: a pid missing from one has gone
COMPLETE_FORMATS = frozenset({"atop"})


def load_traces(
    args: Sequence[str | Input],
    tz: tzinfo,
    *,
    pids: Mapping[int, str],
    names: Iterable[str],
    cgroups: Iterable[str],
) -> HistoryTraces:
    """The traces (:mod:`oomsleuth.history.traces`) of the whole history, for lining up kills
    that have no wall clock. Silent: the windowed reading that follows reports the problems."""
    reading = HistoryReading(tz, lambda _: None)
    names, cgroups = list(names), list(cgroups)
    processes: list[ProcessTrace] = []
    counters: list[CounterTrace] = []
    ticks: list[tuple[str, tuple[datetime, ...]]] = []
    restarts: list[tuple[datetime, str]] = []
    for item in history_files(args):
        collector = TraceCollector(item.name, pids=pids, names=names, cgroups=cgroups)
        for sample in reading.samples(item, lambda _: True):
            collector.complete = reading.sources[-1][1] in COMPLETE_FORMATS
            collector.add(sample)
        processes += collector.processes()
        counters += collector.counters()
        ticks.append((item.name, tuple(collector.ticks)))
        restarts += [(t, item.name) for t in collector.restarts]
    return HistoryTraces(tuple(processes), tuple(counters), tuple(ticks), tuple(restarts))
