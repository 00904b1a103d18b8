"""Prometheus HTTP API JSON, streamed: memory holds one point, never a series or a line.

The bytes are fed to ijson's push parser (its C backend when the wheel has it) one line at a
time, a line longer than a chunk in chunks, so a one-line response of any size is read whole
and no line limit applies. The objects around the series are walked event by event: small
values (``metric``, ``status``, ``error``, ``warnings``) are built, everything else is walked,
and the points of a ``values`` array are handed on one by one as they are parsed. A file may
hold one response, several (one per line, or a JSON array of them), a bare ``data`` object, a
bare ``result`` array or one series per line. Text that is not JSON gives a ``bad-json``
warning, and reading goes on at a later line that starts with ``{`` or ``[``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

from oomsleuth.history.common import WarnLimiter

Event = tuple[str, Any]
Piece = tuple[int, bool, bytes]  # (line number, starts a line, bytes)
# (line of the series, its metric object, its points) -> what the caller makes of it
OnSeries = Callable[[int, dict[str, Any], Iterable[Sequence[Any]]], Iterator[Any]]
_SCALARS = frozenset({"number", "string", "null", "boolean", "integer", "double"})
_SMALL = frozenset({"metric", "value", "status", "errorType", "error", "warnings", "infos"})
_CUT = "the input ends inside a JSON value (cut off?)"


class _Junk(Exception):
    """Input that is not the JSON we walk."""


def pieces_of_lines(lines: Iterable[str]) -> Iterator[Piece]:
    for number, line in enumerate(lines, 1):
        yield number, True, (line + "\n").encode("utf-8", "surrogateescape")


def pieces_of_chunks(chunks: Iterable[bytes]) -> Iterator[Piece]:
    """Byte chunks cut at line ends (a line longer than a chunk comes in several pieces)."""
    line, at_start = 1, True
    for chunk in chunks:
        start, size = 0, len(chunk)
        while start < size:
            end = chunk.find(b"\n", start)
            stop = size if end < 0 else end + 1
            yield line, at_start, chunk[start:stop]
            at_start = end >= 0
            line += end >= 0
            start = stop


class Events:
    """The parse events of the pieces, with ``("error", message)`` where the text is not JSON
    (then parsing starts again at a later line beginning with ``{`` or ``[``). ``line`` is
    the line the parser is reading."""

    def __init__(self, pieces: Iterable[Piece]) -> None:
        self._pieces, self.line = pieces, 0
        self.retry = False  # set by the walker: the error broke a value begun before the line
        self._ijson: Any = importlib.import_module("ijson")

    def _parser(self, out: list[Event]) -> Any:
        return self._ijson.basic_parse_coro(out, use_float=True, multiple_values=True)

    def __iter__(self) -> Iterator[Event]:
        return chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[Event]]:
        out: list[Event] = self._ijson.sendable_list()
        parser, skipping, fed = self._parser(out), False, False
        for line, starts, data in self._pieces:
            self.line = line
            opens = starts and data.lstrip()[:1] in (b"{", b"[")
            if skipping and not opens:
                continue
            skipping = False
            try:
                parser.send(data)
                fed = True
            except self._ijson.JSONError as exc:
                yield out[:]
                out.clear()
                self.retry = False
                yield [("error", f"{_first_line(exc)} at line {self.line}")]
                parser = self._parser(out)
                # a line that opens a value and broke one begun before it: read it again
                fed = opens and self.retry and self._again(parser, data)
                if not fed:  # what the retry read, closed by a silent error; then skip on
                    yield [*out, ("error", "")]
                    out.clear()
                    parser, skipping = self._parser(out), True
            yield out[:]
            out.clear()
        try:
            if fed:
                parser.close()
        except self._ijson.JSONError:
            yield [*out, ("error", _CUT)]
            return
        yield out[:]

    def _again(self, parser: Any, data: bytes) -> bool:
        try:
            parser.send(data)
        except self._ijson.JSONError:
            return False
        return True


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class _Pull:
    """The next event; inside a value, the end of the input is an error."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.raw = iter(events).__next__  # no checks: the points' fast path

    def __call__(self) -> Event:
        try:
            event = self.raw()
        except StopIteration:
            event = ("error", _CUT)
        if event[0] == "error":
            raise _Junk(event[1])
        return event


def walk(events: Events, warn: WarnLimiter, on_series: OnSeries) -> Iterator[Any]:
    """Whatever ``on_series`` makes of every series in every value of the stream."""
    source = iter(events)
    for event in source:
        pull = _Pull(source)
        if event[0] == "error":
            if event[1]:  # empty: the same break, already said
                warn(events.line, "bad-json", str(event[1]))
            continue
        began = events.line
        try:
            yield from _value(event, pull, events, warn, on_series)
        except _Junk as exc:
            events.retry = began < events.line
            if str(exc):
                warn(events.line, "bad-json", str(exc))


def _value(
    event: Event, pull: _Pull, events: Events, warn: WarnLimiter, on_series: OnSeries
) -> Iterator[Any]:
    if event[0] == "start_map":
        yield from _map(pull, events, warn, on_series)
    elif event[0] == "start_array":
        while (item := pull())[0] != "end_array":
            yield from _value(item, pull, events, warn, on_series)


def _map(pull: _Pull, events: Events, warn: WarnLimiter, on_series: OnSeries) -> Iterator[Any]:
    """Walk an object key by key: responses, ``data``, ``result`` and series."""
    line, small, streamed = events.line, dict[str, Any](), False
    while (key := pull())[0] != "end_map":
        event = pull()
        if (
            key[1] == "values"
            and event[0] == "start_array"
            and isinstance(small.get("metric"), dict)
        ):
            stream = _points(pull)
            yield from on_series(line, small["metric"], stream)
            for _ in stream:  # what on_series left (a metric oomsleuth does not read)
                pass
            streamed = True
        elif key[1] in _SMALL or key[1] == "values" or event[0] in _SCALARS:
            small[str(key[1])] = _build(event, pull)
        else:
            yield from _value(event, pull, events, warn, on_series)
    if not streamed and "metric" in small and ("values" in small or "value" in small):
        metric, points = small["metric"], small.get("values")
        points = [small["value"]] if points is None else points
        if not isinstance(metric, dict) or not isinstance(points, list):
            warn(line, "bad-series", "a series without a metric object or points")
        else:
            yield from on_series(line, metric, points)
    if small.get("status") == "error":
        warn(line, "query-error", f"{small.get('errorType')}: {small.get('error')}")
    notes = [small.get("warnings"), small.get("infos")]
    for note in chain.from_iterable(n for n in notes if isinstance(n, list)):
        warn(line, "query-warning", str(note))


def _points(pull: _Pull) -> Iterator[Sequence[Any]]:
    """The points of a ``values`` array, ``[t, "v"]`` pairs read without building lists."""
    nxt = pull.raw
    try:
        while (event := nxt())[0] != "end_array":
            if event[0] != "start_array":
                yield [_build(event, pull)]  # not a pair: the caller warns
                continue
            a, b = nxt(), nxt()
            if a[0] in _SCALARS and b[0] in _SCALARS:
                c = nxt()
                if c[0] == "end_array":
                    yield a[1], b[1]
                    continue
                rest = [a, b, c]
            else:
                rest = [a, b]
            yield _build(event, _replaying(rest, pull))
    except StopIteration:
        raise _Junk(_CUT) from None


def _replaying(events: list[Event], pull: _Pull) -> Callable[[], Event]:
    """``events``, then what ``pull`` gives."""
    replay = iter(events)
    return lambda: next(replay, None) or pull()


def _build(event: Event, pull: Callable[[], Event]) -> Any:
    """The Python value that starts with ``event``."""
    kind, value = event
    if kind == "error":
        raise _Junk(value)
    if kind == "start_map":
        out: dict[str, Any] = {}
        while (key := pull())[0] != "end_map":
            out[str(key[1])] = _build(pull(), pull)
        return out
    if kind == "start_array":
        items = []
        while (item := pull())[0] != "end_array":
            items.append(_build(item, pull))
        return items
    return value
