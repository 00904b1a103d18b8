"""The memory-pressure cascade before a kill, as steps in time order, in the OOM's own scope.

Memory fills (anon, shmem/tmpfs, page cache), the page cache is drained, swap fills, reclaim
moves from kswapd to the allocating tasks (stalls), refaults climb while the cache is low
(thrashing), PSI shows tasks stalled on memory, usage passes memory.high and reaches the limit,
and the kernel kills. For a memcg OOM each step is measured on the cgroup (its usage, limit,
anon/file/shmem); host-wide signals (PSI of v1 hosts, reclaim counters) are kept only when
they moved, marked host-wide and less sure. For a global OOM the host is the scope.

The window starts ``before`` the kill, or at the previous kill of the same scope when that is
later (memory was freed then; what came before belongs to that kill). Each series is read
from ONE history source: the one with the most samples in the window.
"""

from __future__ import annotations

from datetime import datetime, timezone

from oomsleuth.correlate import cascade_levels, cascade_pressure
from oomsleuth.correlate.cascade_window import Sources, Window, by_source, cgroup_key
from oomsleuth.model import OomReport
from oomsleuth.model.cascade import CascadeStep, lead_text, step_text
from oomsleuth.model.record import replace

__all__ = ["Sources", "by_source", "from_report", "steps", "words"]

REPORT = "kernel report"


def steps(
    report: OomReport, kill: datetime | None, start: datetime | None, sources: Sources
) -> list[CascadeStep]:
    """Every step found, in time order (the report's own steps at the kill, last)."""
    found: list[CascadeStep] = []
    near: CascadeStep | None = None
    if kill is not None and start is not None and sources:
        w = Window(sources, start, kill)
        # a memcg OOM whose cgroup the report does not name: host-wide signals only
        entity = (cgroup_key(report) or "cgroup:?") if report.is_memcg else None
        found += cascade_levels.levels(w, report, entity)
        found += cascade_pressure.pressure(w, report, entity)
        near = cascade_levels.near_limit(w, report, entity)
    found += from_report(report, kill, near)
    if kill is not None and kill.tzinfo is not None:  # told on the kill's clock (its zone)
        found = [replace(s, start=_on(s.start, kill), end=_on(s.end, kill)) for s in found]
    return sorted(found, key=lambda s: (s.start or kill or _LAST, _ORDER.get(s.kind, 0)))


def _on(t: datetime | None, kill: datetime) -> datetime | None:
    return t.astimezone(kill.tzinfo) if t is not None and t.tzinfo is not None else t


_LAST = datetime.max.replace(tzinfo=timezone.utc)
_ORDER = {"limit_reached": 8, "swap_off": 9, "swap_exhausted": 9, "swap_not_allowed": 9}


def words(found: list[CascadeStep], kill: datetime | None) -> list[str]:
    """The cascade in words: one sentence per step (:func:`step_text`), then the lead time."""
    said = [step_text(s) for s in found]
    lead = lead_text(found, kill) if kill is not None else None
    return said + ([lead] if lead else [])


def from_report(
    report: OomReport, kill: datetime | None, near: CascadeStep | None = None
) -> list[CascadeStep]:
    """What the report itself says about the limit and swap, at the kill; the limit reached
    dates from ``near`` (the first sample near the limit in the history) when there is one."""
    up = report.stamp.uptime_s
    out: list[CascadeStep] = []
    mi = report.meminfo
    if mi is not None and mi.total_swap_kb is not None:
        basis = f"the kernel's report: Total swap = {mi.total_swap_kb}kB"
        if mi.total_swap_kb == 0:
            out.append(_fact("swap_off", "host", kill, up, 0, basis))
        elif mi.free_swap_kb is not None and mi.free_swap_kb <= mi.total_swap_kb // 100:
            basis += f", Free swap = {mi.free_swap_kb}kB"
            step = _fact("swap_exhausted", "host", kill, up, mi.free_swap_kb, basis)
            out.append(replace(step, reference=mi.total_swap_kb))
    mc = report.memcg
    if mc is not None and mc.memory is not None and mc.memory.limit_kb:
        c = mc.memory
        basis = f"the kernel's report: usage {c.usage_kb} kB of limit {c.limit_kb} kB"
        basis += f", failcnt {c.failcnt}" if c.failcnt else ""
        step = _fact("limit_reached", "cgroup", kill, up, c.usage_kb, basis)
        if near is not None:
            basis = f"{near.basis}; {basis}"
            step = replace(near, end=kill, after=c.usage_kb, basis=basis, confidence=1.0)
        out.append(replace(step, kind="limit_reached", reference=c.limit_kb, uptime_s=up))
    if mc is not None and mc.swap is not None and mc.swap.limit_kb == 0:
        basis = "the kernel's report: swap limit 0"
        out.append(_fact("swap_not_allowed", "cgroup", kill, up, 0, basis))
    return out


def _fact(
    kind: str, scope: str, kill: datetime | None, up: float | None, after: float, basis: str
) -> CascadeStep:
    return CascadeStep(kind, scope, kill, kill, None, after, "kB", REPORT, 1.0, basis, None, up)
