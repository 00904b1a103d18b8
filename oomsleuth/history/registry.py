"""Every history reader, most specific first: the first whose ``sniff`` says yes reads the file.

A reader is the typed contract of :mod:`oomsleuth.history`: a name, a description, ``sniff`` over
the first lines and a streaming ``parse``. The registry is imported only when history is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, tzinfo
from typing import Protocol

from oomsleuth.history import (
    atop,
    atop_json,
    below,
    csvseries,
    pidstat,
    prometheus,
    psi,
    sadf,
    sadf_xml,
    sar,
)
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.record import record


class Parse(Protocol):
    def __call__(
        self,
        lines: Iterable[str],
        *,
        source: str,
        tz: tzinfo,
        keep: Callable[[datetime], bool] = ...,
        warn: Callable[[Warning_], None] = ...,
    ) -> Iterator[Sample]: ...


class ParseChunks(Protocol):
    """A reader of a format that is not made of lines (one-line JSON of any size): the file's
    bytes in chunks."""

    def __call__(
        self,
        chunks: Iterable[bytes],
        *,
        source: str,
        tz: tzinfo,
        keep: Callable[[datetime], bool] = ...,
        warn: Callable[[Warning_], None] = ...,
    ) -> Iterator[Sample]: ...


class ParseBlocks(Protocol):
    """A reader that takes its lines a list at a time (no Python step per line it skips)."""

    def __call__(
        self,
        blocks: Iterable[list[str]],
        *,
        source: str,
        tz: tzinfo,
        keep: Callable[[datetime], bool] = ...,
        warn: Callable[[Warning_], None] = ...,
    ) -> Iterator[Sample]: ...


@record(frozen=True, slots=True)
class Reader:
    name: str
    description: str
    sniff: Callable[[list[str]], bool]
    parse: Parse
    parse_chunks: ParseChunks | None = None
    parse_blocks: ParseBlocks | None = None


READERS: tuple[Reader, ...] = tuple(
    Reader(
        m.FORMAT.name,
        m.FORMAT.description,
        m.FORMAT.sniff,
        m.parse,
        getattr(m, "parse_chunks", None),
        getattr(m, "parse_blocks", None),
    )
    for m in (sadf_xml, sadf, sar, atop_json, atop, below, pidstat, psi, prometheus, csvseries)
)


def sniff(head: list[str]) -> Reader | None:
    """The reader for a file whose first lines are ``head``, or None."""
    return next((r for r in READERS if r.sniff(head)), None)
