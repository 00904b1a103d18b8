"""Several kernel-log sources parsed side by side: each big one in a forked process.

``oomsleuth analyze a.log b.log.1 c.log.2.gz`` frames and parses its sources one after another
with one :class:`~oomsleuth.scanner.Scanner`. When there are two or more plain files of
``FORK_BYTES`` or more together (and forking is allowed and safe: :mod:`oomsleuth.load.forking`)
each source is parsed by a fresh scanner in a forked child, which sends back only what it
parsed (the scanner: reports, warnings, boots, the clock's segments, no lines), and
:func:`oomsleuth.scanner.merged` puts them together in source order into the Report the one
scanner gives. Why that is exact, state by state of the scanner:

- kernel parsers (one per host) are closed at the end of every source, so nothing of one
  source's reports reaches the next; the merge keeps the hosts in the order they first appear
  over the sources and each host's records in source order, so the lists that ``result()``
  sorts (stably) are the same lists;
- the clock's anchor tracker keys its streams and boot-banner epochs by source, so each source's
  segments are its own; they are put in source order and the borrowing between segments is
  done once, on all of them, as before;
- boots, sources, lines read and framings add up in source order;
- the userspace parser is *not* closed between sources (a systemd-oomd dump or a nohang block
  may go on in the next file). A child's parser starts fresh, which is the one-process state
  only if the parser before it ended idle: when any source but the last leaves it holding
  something (its state differs from a fresh parser's), the merge declines and the sources are
  parsed again in one process. The same for a source name given twice.

What the user is told stays the same: a child does not tell its damaged-input warnings but
sends them back, and they are told here in source order once the merge is done. A source that
raises in a child (not a log, unreadable) makes the sources be parsed again in one process,
which raises its error, with the warnings before it, exactly as it does. Streams (standard
input) and archive members are parsed in one process as before. Progress (``on_progress``, the
terminal's status line) is told as each source's part comes in: bytes of the sources parsed so
far, of all, under one name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Generic, NamedTuple, TypeVar, cast

from oomsleuth.load.files import Input, Problem
from oomsleuth.load.forking import cores, fork_forbidden, read_forked, safe_to_fork, size
from oomsleuth.model import Warning_

FORK_BYTES = 32 << 20  # all sources together: below this, one process is faster
Tick = Callable[[str, int, int, "int | None"], None]  # oomsleuth.analyze's on_progress
T = TypeVar("T")
R = TypeVar("R")


class _Part(NamedTuple, Generic[T]):
    """One source parsed in a child: what it parsed and the damage it would have told."""

    parsed: T
    damage: list[Warning_]


def parse_forked(
    sources: Sequence[Input],
    scan: Callable[[Input, Problem], T],
    merge: Callable[[list[T]], R | None],
    problem: Problem,
    tick: Tick | None = None,
) -> R | None:
    """``merge`` of ``scan(source, problem)`` of every source, each run in a forked child, with
    the damage ``problem`` hears told in source order; None when the sources are to be parsed
    in one process instead (see the module doc), nothing told then."""
    if not worth_forking(sources):
        return None
    try:
        jobs = [functools.partial(_job, scan, s) for s in sources]
        got = read_forked(jobs, _progress(sources, tick) if tick is not None else None)
    except Exception:  # a result that does not pickle, no process to fork: parse them here
        return None
    if any(g is None for g in got):
        return None  # a source raised: one process raises it, as and when it does
    parts = cast(list[_Part[T]], got)
    merged = merge([p.parsed for p in parts])
    if merged is None:
        return None
    for part in parts:
        for warning in part.damage:
            problem(warning)
    return merged


def _progress(sources: Sequence[Input], tick: Tick) -> Callable[[int, object], None]:
    """``tick`` as each source's part comes in (all of a source at once): the bytes of the
    sources parsed so far, of all, under one name for them all (rate and time left are
    the reading's as a whole)."""
    label, total = f"{len(sources)} files side by side", sum(map(size, sources))
    read = [0, 0]  # bytes, lines
    tick(label, 0, 0, total)

    def done(index: int, part: object) -> None:
        read[0] += size(sources[index])
        if isinstance(part, _Part):
            read[1] += getattr(part.parsed, "lines_read", 0)
        tick(label, read[1], read[0], total)

    return done


def worth_forking(sources: Sequence[Input]) -> bool:
    """Two or more plain files, big enough together, forking allowed and safe, 2+ cores."""
    if len(sources) < 2 or fork_forbidden():
        return False
    if any(s.path is None or s.opener is not None for s in sources):
        return False  # standard input and archive members cannot be read twice
    if len({s.name for s in sources}) < len(sources):
        return False  # a name given twice: the merge would decline (scanner.merged)
    if sum(map(size, sources)) < FORK_BYTES or cores() < 2:
        return False
    return safe_to_fork()


def _job(scan: Callable[[Input, Problem], T], source: Input) -> _Part[T] | None:
    damage: list[Warning_] = []
    try:
        return _Part(scan(source, damage.append), damage)
    except Exception:
        return None
