"""Reports of the same host and scope, indexed once: the earlier report, the earlier kills of
the same process names and the latest earlier kill, for every report in one pass.

Pure, and linear in the reports: each report's scope key is computed once and looked up in
dictionaries, so a log of thousands of reports costs no more per report than one of ten.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime

from oomsleuth.model import OomReport
from oomsleuth.model.record import field, record


def scope(report: OomReport) -> str:
    c = report.constraint.constraint if report.constraint else None
    if report.is_memcg:
        return "memcg"
    return {"CONSTRAINT_CPUSET": "cpuset", "CONSTRAINT_MEMORY_POLICY": "mempolicy"}.get(
        c or "", "global"
    )


def scope_key(report: OomReport) -> tuple[object, ...]:
    host = report.kills[0].stamp.host if report.kills else report.stamp.host
    return (report.where.source if host is None else host, report.oom_memcg, scope(report))


def kill_time(report: OomReport) -> datetime | None:
    stamp = report.kills[0].stamp if report.kills else report.stamp
    wall = stamp.wall or report.stamp.wall
    return wall if wall is not None and wall.tzinfo is not None else None


@record()
class _Seen:
    """What is known of one scope's earlier reports."""

    last: int | None = None
    by_comm: dict[str, list[int]] = field(default_factory=dict)
    times: list[datetime] = field(default_factory=list)


@record(frozen=True)
class Earlier:
    """For one report, what its scope saw before it."""

    previous: OomReport | None  # the last earlier report of the scope, in the same boot
    repeats: tuple[int, int] | None  # earlier reports killing the same names: count, first
    last_kill: datetime | None  # the latest earlier kill time before this report's kill


def index(reports: tuple[OomReport, ...]) -> list[Earlier]:
    scopes = Scopes()
    return [scopes.add(i, report, reports) for i, report in enumerate(reports)]


class Scopes:
    """:func:`index` a report at a time: what the scopes saw of the reports added so far (it
    pickles, to go on with elsewhere)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[object, ...], _Seen] = {}

    def add(self, i: int, report: OomReport, reports: Sequence[OomReport]) -> Earlier:
        """Report ``i`` (``reports[i]``; those before it that :meth:`named` names are read)."""
        s = self.seen.setdefault(scope_key(report), _Seen())
        when = kill_time(report)
        earlier = Earlier(_previous(reports, s.last, report), _repeats(s, report), _last(s, when))
        s.last = i
        for comm in {k.victim.comm for k in report.kills}:
            s.by_comm.setdefault(comm, []).append(i)
        if when is not None:
            bisect.insort(s.times, when)
        return earlier

    def named(self) -> set[int]:
        """The reports that later ones' :class:`Earlier` may name: each scope's last report and
        the first to kill each name (as ``repeats``)."""
        out = {s.last for s in self.seen.values() if s.last is not None}
        return out | {first for s in self.seen.values() for first, *_ in s.by_comm.values()}


def _previous(reports: Sequence[OomReport], j: int | None, now: OomReport) -> OomReport | None:
    if j is None:
        return None
    prev = reports[j]
    up_now, up_prev = now.stamp.uptime_s, prev.stamp.uptime_s
    if up_now is not None and up_prev is not None and up_prev > up_now:
        return None  # an earlier boot
    return prev if prev.tasks else None


def _repeats(s: _Seen, report: OomReport) -> tuple[int, int] | None:
    lists = [s.by_comm[c] for c in {k.victim.comm for k in report.kills} if c in s.by_comm]
    if not lists:
        return None
    if len(lists) == 1:
        return len(lists[0]), lists[0][0]
    union = set().union(*lists)
    return len(union), min(union)


def _last(s: _Seen, when: datetime | None) -> datetime | None:
    if when is None:
        return None
    at = bisect.bisect_left(s.times, when)
    return s.times[at - 1] if at else None
