"""The renderer protocol and the small vocabulary every renderer shares.

A renderer turns one :class:`~oomsleuth.model.Report` into text on a stream that the
caller opened (and closes). Renderers read the typed model; none of them reads another's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TextIO

from oomsleuth.errors import printable
from oomsleuth.model import (
    Kill,
    MemInfo,
    OomReport,
    Report,
    Stamp,
    TaskRow,
    UserspaceKill,
    Warning_,
    Where,
)
from oomsleuth.model.outcomes import where_key
from oomsleuth.model.units import human_kb, human_uptime


class Renderer(Protocol):
    """Writes one parse result to a text stream the caller opened."""

    def render(self, result: Report, out: TextIO) -> None: ...


def report_span(report: OomReport) -> tuple[int, int]:
    """First and last line of a report in its own source (kill and reaper lines included)."""
    last = report.where.line
    places: list[Where | None] = [report.end, report.selection.where if report.selection else None]
    for kill in report.kills:
        places += [kill.where, kill.reap.where if kill.reap else None]
    for place in places:
        if place is not None and place.source == report.where.source:
            last = max(last, place.line)
    return report.where.line, last


def report_warnings(
    report: OomReport, loose: list[Warning_]
) -> tuple[list[Warning_], list[Warning_]]:
    """The warnings of ``loose`` inside ``report``'s lines (:func:`report_span`), and the rest."""
    first, last = report_span(report)
    src = report.where.source
    own = [w for w in loose if w.where.source == src and first <= w.where.line <= last]
    return own, ([w for w in loose if w not in own] if own else loose)


def stamp_text(stamp: Stamp) -> str:
    """When, for people: the wall clock to the second, else ``uptime 115.888 s``."""
    if stamp.wall is not None:
        uptime = "" if stamp.uptime_s is None else f" (uptime {human_uptime(stamp.uptime_s)})"
        return stamp.wall.isoformat(sep=" ", timespec="seconds") + uptime
    if stamp.uptime_s is None:
        return "time unknown"
    exact = f" ({stamp.uptime_s:.3f} s)" if stamp.uptime_s >= 600 else ""
    return f"uptime {human_uptime(stamp.uptime_s)}{exact}"


def task_rss(row: TaskRow) -> int | None:
    """A task's rss in kB: the rss column, else the sum of its anon/file/shmem parts."""
    if row.rss_kb is not None:
        return row.rss_kb
    parts = [p for p in (row.rss_anon_kb, row.rss_file_kb, row.rss_shmem_kb) if p is not None]
    return sum(parts) if parts else None


def top_tasks(report: OomReport, victims: set[int], top: int) -> list[tuple[TaskRow, list[str]]]:
    """The ``top`` largest tasks by rss, then any victim or trigger row not among them, each with
    its marks ("victim", "trigger"), matched on the row's pid column."""
    trigger = report.trigger.pid if report.trigger else None
    marked = []
    for row in sorted(report.tasks or (), key=lambda r: -(task_rss(r) or -1)):
        marks = [
            m for m, hit in (("victim", row.pid in victims), ("trigger", row.pid == trigger)) if hit
        ]
        marked.append((row, marks))
    return marked[:top] + [(row, marks) for row, marks in marked[top:] if marks]


# The Mem-Info counters summed for an overview: label, counter names.
MEMORY_OVERVIEW = (
    ("free", ("free",)),
    ("anon", ("active_anon", "inactive_anon")),
    ("file", ("active_file", "inactive_file")),
    ("shmem", ("shmem",)),
    ("unreclaimable slab", ("slab_unreclaimable",)),
)


def memory_overview(mi: MemInfo) -> list[tuple[str, int | None]]:
    """RAM, then free/anon/file/shmem/unreclaimable slab in kB, for those the report printed."""
    overview: list[tuple[str, int | None]] = [("RAM", mi.ram_kb)]
    for label, keys in MEMORY_OVERVIEW:
        values = [v for v in (mi.counter(k) for k in keys) if v is not None]
        overview += [(label, sum(values))] if values else []
    return overview


def userspace_details(u: UserspaceKill) -> str:
    """What a userspace kill or notice says, in one line: victim, cgroup, uid, rss, signal..."""
    details = [
        (u.pid is not None, f"{u.pid} ({u.comm or '?'})"),
        (u.pid is None and u.comm, u.comm or ""),
        (u.cgroup, f"cgroup {u.cgroup}"),
        (u.uid is not None, f"uid {u.uid}"),
        (u.rss_kb is not None, f"rss {human_kb(u.rss_kb)}"),
        (u.signal, f"signal {u.signal}"),
        (u.score is not None, f"score {u.score}"),
        (u.reason, f"reason: {u.reason}"),
    ]
    return "  ".join(text for shown, text in details if shown)


def userspace_verb(u: UserspaceKill) -> str:
    """``killed``, ``notice``, or ``ran the kernel OOM killer`` for a daemon's SysRq-f request."""
    return {"kill": "killed", "trigger": "ran the kernel OOM killer"}.get(u.kind, "notice")


def opt(value: object) -> str:
    """A value that may be unknown: ``?`` for None."""
    return "?" if value is None else str(value)


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 kill``, ``2 kills``; ``many`` for a plural that is not ``noun + "s"``."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def kills_sorted(report: OomReport, rank: dict[str, int]) -> Sequence[Kill]:
    return sorted(report.kills, key=lambda k: where_key(rank, k.where))


def safe_text(text: str) -> str:
    """Log text made harmless for display, the same rule as stderr's
    (:func:`oomsleuth.errors.printable`): each control, format (zero-width, bidi) or other
    invisible character becomes a visible escape (``\\x1b``, ``\\u200b``, ``\\u202e``); a lone
    surrogate from an undecodable byte becomes ``\\xNN`` with the original byte. Backslashes are
    kept as they are."""
    return printable(text)
