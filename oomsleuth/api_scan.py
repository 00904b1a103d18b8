"""The kernel-log side of the pipeline: the sources read in blocks and parsed, on several cores
when that pays (several big files each in a process, one in two halves side by side), else in
this one. Called by :mod:`oomsleuth.api` only."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from oomsleuth.model import Report

if TYPE_CHECKING:
    from oomsleuth.load.blocks import BlockLines
    from oomsleuth.load.files import Input, Problem
    from oomsleuth.load.parse_halves import Follow
    from oomsleuth.scanner import Scanner

Progress = Callable[[str, int, int, "int | None"], None]  # api.Progress


def parse(
    sources: Sequence[Input],
    problem: Problem,
    tick: Progress | None,
    excerpts: bool = True,
    follow: Follow | None = None,
) -> Report:
    """Every source framed and parsed, in order (no clock, no correlation: the Report of
    :func:`oomsleuth.scanner.parse_sources`); the damage they hold to ``problem``;
    ``excerpts=False``: no report keeps its own lines; ``follow``: for a source read in two
    halves, the second half's process goes on with it (:mod:`oomsleuth.api_ahead`)."""
    from oomsleuth.scanner import parse_sources

    parsed = None
    if len(sources) > 1:  # several big sources side by side, when that pays
        from oomsleuth.load.sources_forked import parse_forked
        from oomsleuth.scanner import merged, scanned

        parsed = parse_forked(
            sources,
            lambda s, p: scanned(s.name, blocks(s, p, None), excerpts=excerpts),
            merged,
            problem,
            tick,
        )
    elif sources:  # one big source in two halves, when that pays
        from oomsleuth.load.parse_halves import parse_halves

        half = functools.partial(_half, _of_all(sources[0], tick), excerpts)
        parsed = parse_halves(sources[0], half, _join, problem, follow)
        if parsed is not None and tick is not None:  # (all of it)
            from oomsleuth.load.forking import size  # (loaded: the halves forked)

            tick(sources[0].name, parsed.lines_read, size(sources[0]), size(sources[0]))
    if parsed is None:
        parsed = parse_sources(
            ((s.name, blocks(s, problem, tick)) for s in sources), excerpts=excerpts
        )
    return parsed


def _of_all(source: Input, tick: Progress | None) -> Progress | None:
    """``tick`` for the first half's blocks, told of the whole file: its bytes as those of both
    halves (they go at about the same pace: the cut is placed for that), its lines as they are."""
    if tick is None:
        return None
    from oomsleuth.load.forking import size
    from oomsleuth.load.parse_halves import CUT_AT

    total = size(source)

    def told(name: str, lines: int, read: int, _: int | None) -> None:
        tick(name, lines, min(total, int(read / CUT_AT)), total)

    return told


def _half(
    tick: Progress | None, excerpts: bool, part: Input, heard: Problem, before: int, first: bool
) -> Scanner:
    from oomsleuth.scan_halves import read_half  # here: most logs are not read in halves

    lines = blocks(part, heard, tick if first else None, before)
    return read_half(part.name, lines, first, excerpts)


def _join(head: Scanner, tail: Scanner, base: int) -> Report | None:
    from oomsleuth.scan_halves import join

    return join(head, tail, base)


def blocks(source: Input, problem: Problem, tick: Progress | None, before: int = 0) -> BlockLines:
    """The fast path: the input read in blocks, only lines that may matter framed (``before``:
    lines before it, when it begins part way into a file)."""
    from oomsleuth.load.blocks import BlockLines
    from oomsleuth.load.literals import adaptive
    from oomsleuth.scanner import candidate_patterns

    name = source.name
    find = adaptive(candidate_patterns())
    return BlockLines(source, find, problem, tick and (lambda *read: tick(name, *read)), before)
