"""How a kernel report ended, and the order of things in the input: the vocabulary the JSON
document and every renderer share, so all formats say the same."""

from __future__ import annotations

from datetime import datetime

from oomsleuth.model.kernel import AllocFailure, OomReport, UserspaceKill
from oomsleuth.model.lines import Where
from oomsleuth.model.record import record
from oomsleuth.model.report import Report

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


@record(frozen=True, slots=True)
class Item:
    """One thing to show, placed in the input: a report, an allocation failure or a userspace
    kill. ``report_id`` is the index of the report in ``Report.reports``."""

    where: Where
    report: OomReport | None = None
    report_id: int | None = None
    alloc: AllocFailure | None = None
    userspace: UserspaceKill | None = None


def source_rank(result: Report) -> dict[str, int]:
    return {name: i for i, name in enumerate(result.sources)}


def where_key(rank: dict[str, int], where: Where) -> tuple[int, str, int]:
    """Sort key for log order: the source's position in the input, then the line number."""
    return (rank.get(where.source, len(rank)), where.source, where.line)


def items_in_order(result: Report) -> list[Item]:
    """Reports, allocation failures and userspace kills in log order (stable on ties)."""
    items: list[Item] = [Item(r.where, report=r, report_id=i) for i, r in enumerate(result.reports)]
    items += [Item(a.where, alloc=a) for a in result.alloc_failures]
    items += [Item(u.where, userspace=u) for u in result.userspace]
    rank = source_rank(result)
    return sorted(items, key=lambda item: where_key(rank, item.where))


def iso_time(wall: datetime | None) -> str | None:
    """ISO 8601; with its offset when the datetime is aware, without when it is naive."""
    return None if wall is None else wall.isoformat()


def gfp_text(mask: str | None, flags: str | None) -> str | None:
    """The mask as the kernel prints it: ``0x100cca(GFP_HIGHUSER_MOVABLE)`` or bare hex."""
    if mask is None:
        return None
    return f"{mask}({flags})" if flags else mask


def event_moments(result: Report) -> list[datetime]:
    """The wall-clock moments of every OOM event that has one (history windows centre on them)."""
    out = []
    for report in result.reports:
        stamps = [k.stamp for k in report.kills] or [report.stamp]
        out += [s.wall for s in stamps if s.wall is not None and s.wall.tzinfo is not None]
    out += [u.stamp.wall for u in result.userspace if u.stamp.wall and u.stamp.wall.tzinfo]
    return out
