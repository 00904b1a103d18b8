"""The memory-pressure cascade before a kill, from the host's history and the report itself.

Memory fills, the page cache is drained, swap fills, reclaim moves from kswapd (background) to
direct reclaim in the allocating tasks (stalls), major faults climb, PSI shows tasks stalled on
memory, and the kernel kills. Each step found becomes a timeline entry and a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oomsleuth.correlate.series import first_crossing, growth
from oomsleuth.model import OomReport, TimelineEntry
from oomsleuth.model.series import Series
from oomsleuth.model.units import human_kb

Index = dict[tuple[str | None, str], Series]


def _host(
    index: Index, metric: str, start: datetime, end: datetime
) -> tuple[list[datetime], list[float]]:
    series = index.get((None, metric))
    return series.window(start, end) if series else ([], [])


def from_report(report: OomReport) -> list[str]:
    """What the report itself says about swap and limits."""
    out: list[str] = []
    mi = report.meminfo
    if mi is not None and mi.total_swap_kb is not None:
        if mi.total_swap_kb == 0:
            out.append("swap is off (Total swap = 0kB): anonymous memory could not be reclaimed")
        elif mi.free_swap_kb is not None and mi.free_swap_kb <= mi.total_swap_kb // 100:
            out.append(
                f"swap was exhausted: {human_kb(mi.free_swap_kb)} free of "
                f"{human_kb(mi.total_swap_kb)}"
            )
    mc = report.memcg
    if mc is not None and mc.memory is not None and mc.memory.limit_kb:
        use = mc.memory.usage_kb / mc.memory.limit_kb
        line = f"the cgroup was at {use:.0%} of its limit ({human_kb(mc.memory.limit_kb)})"
        if mc.memory.failcnt:
            line += f"; the limit had been hit {mc.memory.failcnt} times"
        out.append(line)
        swap = mc.swap
        if swap is not None and swap.limit_kb == 0:
            out.append("the cgroup may not swap (swap limit 0)")
    return out


def from_history(
    index: Index, kill: datetime, before: timedelta, report: OomReport
) -> tuple[list[TimelineEntry], list[str]]:
    """Timeline entries and sentences for each step of the cascade found in the host's history
    in the ``before`` the kill, in time order, then how long it took from the first to the kill."""
    c = _Cascade(index, kill - before, kill)  # what came before the kill
    _memory(c, report)
    _reclaim(c)
    _psi(c)
    _cgroup(c, report)
    c.events.sort(key=lambda e: e.time or kill)
    if c.events and c.events[0].time is not None:
        lead = (kill - c.events[0].time).total_seconds()
        c.words.append(f"{lead:.0f} s from the first pressure signal to the kill")
    return c.events, c.words


@dataclass
class _Cascade:
    """The history window before one kill, and the timeline entries and sentences found in it."""

    index: Index
    start: datetime
    end: datetime
    events: list[TimelineEntry] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    def host(self, metric: str) -> tuple[list[datetime], list[float]]:
        return _host(self.index, metric, self.start, self.end)

    def add(self, t: datetime | None, what: str, kind: str) -> None:
        if t is not None:
            self.events.append(TimelineEntry(t, None, what, kind))


def _memory(c: _Cascade, report: OomReport) -> None:
    """MemAvailable falling, the page cache drained, swap filling."""
    t, v = c.host("mem_available_kb")
    if len(v) >= 2:
        total = (report.meminfo.ram_kb if report.meminfo else None) or max(v)
        low = first_crossing(t, v, lambda x: x <= 0.10 * total)
        c.add(low, f"MemAvailable below 10% ({human_kb(int(0.1 * total))})", "pressure")
        if v[0] - min(v) >= 0.05 * total:
            c.words.append(
                f"MemAvailable fell from {human_kb(int(v[0]))} to {human_kb(int(min(v)))}"
            )
    t, v = c.host("cached_kb")
    if len(v) >= 2 and max(v) > 0 and min(v) <= 0.5 * max(v):
        c.add(t[v.index(min(v))], f"page cache drained to {human_kb(int(min(v)))}", "pressure")
        c.words.append(
            f"the page cache was drained from {human_kb(int(max(v)))} to {human_kb(int(min(v)))}"
        )
    t, v = c.host("swap_used_kb")
    g = growth(t, v)
    if g is not None and g.delta > 0:
        c.add(g.start, f"swap filling: +{human_kb(int(g.delta))}", "swap")
        c.words.append(f"swap use grew by {human_kb(int(g.delta))}")


_RECLAIM = (
    ("pswpout_s", "swapping out", "swap"),
    ("pgscank_s", "kswapd reclaiming (background)", "reclaim"),
    ("pgscand_s", "direct reclaim: allocating tasks stall to reclaim", "reclaim"),
    ("allocstall_s", "direct reclaim stalls", "reclaim"),
)


def _reclaim(c: _Cascade) -> None:
    """Swapping out, reclaim in the background and in the allocating tasks, major faults."""
    for metric, what, kind in _RECLAIM:
        t, v = c.host(metric)
        at = first_crossing(t, v, lambda x: x > 0)
        if at is not None:
            c.add(at, f"{what} (peak {max(v):.0f}/s)", kind)
            c.words.append(f"{what} from {at:%H:%M:%S} (peak {max(v):.0f}/s)")
    t, v = c.host("majflt_s")
    if v and max(v) >= 100:
        thrashing = f"major faults peak {max(v):.0f}/s (thrashing: pages read back from disk)"
        c.add(t[v.index(max(v))], thrashing, "pressure")
        c.words.append(f"major faults peaked at {max(v):.0f}/s (refaults: thrashing)")


_PSI = (
    ("psi_mem_some_avg10", "some", "avg10"),
    ("psi_mem_full_avg10", "full", "avg10"),
    ("psi_mem_some_interval_pct", "some", "per interval"),
    ("psi_mem_full_interval_pct", "full", "per interval"),
)


def _psi(c: _Cascade) -> None:
    """Tasks stalled on memory (PSI some and full), the first measure of each that shows it."""
    seen: set[str] = set()
    for metric, label, how in _PSI:
        t, v = c.host(metric)
        at = first_crossing(t, v, lambda x: x >= 1.0)
        if at is not None and label not in seen:
            seen.add(label)
            c.add(at, f"PSI memory {label} {max(v):.1f}% {how} (tasks stalled on memory)", "psi")
            c.words.append(f"PSI memory {label} reached {max(v):.1f}% ({how})")


def _cgroup(c: _Cascade, report: OomReport) -> None:
    """The OOM cgroup passing 90% of its limit."""
    cg = report.oom_memcg
    if not cg:
        return
    series = c.index.get((f"cgroup:{cg}", "cg_mem_current_kb"))
    limit = report.memcg.memory.limit_kb if report.memcg and report.memcg.memory else None
    if series is not None and limit:
        t, v = series.window(c.start, c.end)
        at = first_crossing(t, v, lambda x: x >= 0.9 * limit)
        c.add(at, f"cgroup {cg} above 90% of its limit", "pressure")
        if at is not None:
            c.words.append(f"the cgroup passed 90% of its limit at {at:%H:%M:%S}")
