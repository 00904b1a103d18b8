"""Who asked for a manual OOM: a daemon that had the kernel's OOM killer run (SysRq-f).

earlyoom ``--kernel-oom`` (and ``-k`` before v1.2) writes ``f`` to /proc/sysrq-trigger instead of
killing by itself. The kernel's report then names a kworker as the trigger (``order=-1``,
``Workqueue: events moom_callback``): the real trigger is the daemon, whose line says so within a
second or two of the report.
"""

from __future__ import annotations

from oomsleuth.model import OomReport, UserspaceKill

WINDOW_S = 5.0  # the daemon's line and the report are this close in wall time
WINDOW_LINES = 200  # or, with no wall clock, this close in the same file (line before report)


def _gap_s(request: UserspaceKill, report: OomReport) -> float | None:
    """Seconds from the request to the report, when both have comparable wall clocks."""
    a, b = request.stamp.wall, report.stamp.wall
    if a is None or b is None or (a.tzinfo is None) != (b.tzinfo is None):
        return None
    return (b - a).total_seconds()


def _near(request: UserspaceKill, report: OomReport) -> float | None:
    """How far the request is from the report (seconds, or lines); None when not near."""
    if request.stamp.host and report.stamp.host and request.stamp.host != report.stamp.host:
        return None
    gap = _gap_s(request, report)
    if gap is not None:
        return abs(gap) if abs(gap) <= WINDOW_S else None
    if request.where.source != report.where.source:
        return None
    lines = report.where.line - request.where.line
    return float(lines) if 0 < lines <= WINDOW_LINES else None


def requested_by(report: OomReport, userspace: tuple[UserspaceKill, ...]) -> UserspaceKill | None:
    """The daemon's request that made this manual report, if one is near it."""
    if report.trigger is None or report.trigger.order != -1:
        return None
    near = [(_near(u, report), u) for u in userspace if u.kind == "trigger"]
    found = [(d, u) for d, u in near if d is not None]
    return min(found, key=lambda pair: pair[0])[1] if found else None


def note(request: UserspaceKill, report: OomReport) -> str:
    """The evidence sentence that credits the daemon."""
    who = request.killer + (f" ({request.killer_pid})" if request.killer_pid else "")
    worker = report.trigger.comm if report.trigger and report.trigger.comm else "a kernel worker"
    why = f" after '{request.reason}'" if request.reason else ""
    return (
        f"{who} had the kernel's OOM killer run (SysRq-f, line {request.where.line} of "
        f"{request.where.source}){why}: {worker} only carried out the request (order=-1)"
    )
