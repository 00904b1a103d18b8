"""The renderer protocol and the small vocabulary every renderer shares.

A renderer turns one :class:`~oomsleuth.models.ParseResult` into text on a stream that the
caller opened (and closes). Renderers read the typed model; none of them reads another's output.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TextIO

from oomsleuth.models import (
    AllocFailure,
    Kill,
    MemInfo,
    OomReport,
    ParseResult,
    Stamp,
    TaskRow,
    UserspaceKill,
    Where,
)
from oomsleuth.units import human_kb

# A report that ended without a kill becomes one event of these kinds.
OUTCOME_KINDS: dict[str, str] = {
    "panic": "oom_panic",
    "no-killable": "oom_no_killable",
    "deadlock": "oom_deadlock",
    "ignored": "oom_ignored",
    "unfinished": "oom_unfinished",
}

# What the outcome means, when the report gives no better words for it.
OUTCOME_REASONS: dict[str, str] = {
    "killed": "a kill was reported",
    "panic": "the kernel panicked instead of killing (vm.panic_on_oom)",
    "no-killable": "out of memory and no killable process",
    "deadlock": "no killable process: system is deadlocked on memory",
    "ignored": "manual OOM (SysRq-f) ignored: no task eligible",
    "unfinished": "the report was cut off before any kill line",
}

KILLED_WITHOUT_KILL = "the report says killed but holds no kill line"


class Renderer(Protocol):
    """Writes one parse result to a text stream the caller opened."""

    def render(self, result: ParseResult, out: TextIO) -> None: ...


def report_kind(report: OomReport) -> str | None:
    """The event kind of a report's own event, or None when its kills stand for it."""
    if report.outcome == "killed":
        return None if report.kills else "oom_unfinished"
    return OUTCOME_KINDS.get(report.outcome, "oom_unfinished")


def report_reason(report: OomReport) -> str | None:
    """Why a report ended without a kill, in words; None for a report that killed."""
    if report.outcome == "killed":
        return None if report.kills else KILLED_WITHOUT_KILL
    if report.panic:
        return report.panic
    if report.notes:
        return "; ".join(report.notes)
    return OUTCOME_REASONS.get(report.outcome, f"outcome {report.outcome!r}")


@dataclass(frozen=True, slots=True)
class Item:
    """One thing to show, placed in the input: a report, an allocation failure or a userspace
    kill. ``report_id`` is the index of the report in ``ParseResult.reports``."""

    where: Where
    report: OomReport | None = None
    report_id: int | None = None
    alloc: AllocFailure | None = None
    userspace: UserspaceKill | None = None


def source_rank(result: ParseResult) -> dict[str, int]:
    return {name: i for i, name in enumerate(result.sources)}


def where_key(rank: dict[str, int], where: Where) -> tuple[int, str, int]:
    """Sort key for log order: the source's position in the input, then the line number."""
    return (rank.get(where.source, len(rank)), where.source, where.line)


def items_in_order(result: ParseResult) -> list[Item]:
    """Reports, allocation failures and userspace kills in log order (stable on ties)."""
    items: list[Item] = [Item(r.where, report=r, report_id=i) for i, r in enumerate(result.reports)]
    items += [Item(a.where, alloc=a) for a in result.alloc_failures]
    items += [Item(u.where, userspace=u) for u in result.userspace]
    rank = source_rank(result)
    return sorted(items, key=lambda item: where_key(rank, item.where))


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


def iso_time(wall: datetime | None) -> str | None:
    """ISO 8601; with its offset when the datetime is aware, without when it is naive."""
    return None if wall is None else wall.isoformat()


def gfp_text(mask: str | None, flags: str | None) -> str | None:
    """The mask as the kernel prints it: ``0x100cca(GFP_HIGHUSER_MOVABLE)`` or bare hex."""
    if mask is None:
        return None
    return f"{mask}({flags})" if flags else mask


def stamp_text(stamp: Stamp) -> str:
    """When, for people: the wall clock to the second, else ``uptime 115.888 s``."""
    if stamp.wall is not None:
        uptime = "" if stamp.uptime_s is None else f" (uptime {stamp.uptime_s:.3f} s)"
        return stamp.wall.isoformat(sep=" ", timespec="seconds") + uptime
    return "time unknown" if stamp.uptime_s is None else f"uptime {stamp.uptime_s:.3f} s"


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


def kills_sorted(report: OomReport, rank: dict[str, int]) -> Sequence[Kill]:
    return sorted(report.kills, key=lambda k: where_key(rank, k.where))


# C0 controls (ESC, CR, LF, TAB ...), DEL, C1 controls, bidi overrides and isolates, line and
# paragraph separators, and lone surrogates: none of them may reach a terminal raw.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def safe_text(text: str) -> str:
    """Log text made harmless for display: each control character becomes a visible escape
    (``\\x1b``, ``\\x0a``, ``\\u202e``); a lone surrogate from an undecodable byte becomes
    ``\\xNN`` with the original byte. Backslashes are kept as they are."""
    return _UNSAFE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def unencodable_escaped(text: str) -> str:
    """Replace lone surrogates (undecodable input bytes) with ``\\xNN`` / ``\\uNNNN`` text, so
    the string can be written as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escape_surrogates(text))
    return text


def _escape_surrogates(text: str) -> Iterator[str]:
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: one raw byte
            yield f"\\x{code - 0xDC00:02x}"
        elif 0xD800 <= code <= 0xDFFF:
            yield f"\\u{code:04x}"
        else:
            yield ch
