"""The memory-pressure cascade before a kill, from the host's history and the report itself.

Memory fills, the page cache is drained, swap fills, reclaim moves from kswapd (background) to
direct reclaim in the allocating tasks (stalls), major faults climb, PSI shows tasks stalled on
memory, and the kernel kills. Each step found becomes a timeline entry and a sentence.
"""

from __future__ import annotations

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
    start, end = kill - before, kill  # what came before the kill
    events: list[TimelineEntry] = []
    words: list[str] = []
    at: datetime | None

    def add(t: datetime | None, what: str, kind: str) -> None:
        if t is not None:
            events.append(TimelineEntry(t, None, what, kind))

    t, v = _host(index, "mem_available_kb", start, end)
    if len(v) >= 2:
        total = (report.meminfo.ram_kb if report.meminfo else None) or max(v)
        low = first_crossing(t, v, lambda x: x <= 0.10 * total)
        add(low, f"MemAvailable below 10% ({human_kb(int(0.1 * total))})", "pressure")
        if v[0] - min(v) >= 0.05 * total:
            words.append(f"MemAvailable fell from {human_kb(int(v[0]))} to {human_kb(int(min(v)))}")
    t, v = _host(index, "cached_kb", start, end)
    if len(v) >= 2 and max(v) > 0 and min(v) <= 0.5 * max(v):
        at = t[v.index(min(v))]
        add(at, f"page cache drained to {human_kb(int(min(v)))}", "pressure")
        words.append(
            f"the page cache was drained from {human_kb(int(max(v)))} to {human_kb(int(min(v)))}"
        )
    t, v = _host(index, "swap_used_kb", start, end)
    g = growth(t, v)
    if g is not None and g.delta > 0:
        add(g.start, f"swap filling: +{human_kb(int(g.delta))}", "swap")
        words.append(f"swap use grew by {human_kb(int(g.delta))}")
    for metric, what, kind in (
        ("pswpout_s", "swapping out", "swap"),
        ("pgscank_s", "kswapd reclaiming (background)", "reclaim"),
        ("pgscand_s", "direct reclaim: allocating tasks stall to reclaim", "reclaim"),
        ("allocstall_s", "direct reclaim stalls", "reclaim"),
    ):
        t, v = _host(index, metric, start, end)
        at = first_crossing(t, v, lambda x: x > 0)
        if at is not None:
            add(at, f"{what} (peak {max(v):.0f}/s)", kind)
            words.append(f"{what} from {at:%H:%M:%S} (peak {max(v):.0f}/s)")
    t, v = _host(index, "majflt_s", start, end)
    if v and max(v) >= 100:
        at = t[v.index(max(v))]
        add(
            at,
            f"major faults peak {max(v):.0f}/s (thrashing: pages read back from disk)",
            "pressure",
        )
        words.append(f"major faults peaked at {max(v):.0f}/s (refaults: thrashing)")
    seen_psi: set[str] = set()
    for metric, label, how in (
        ("psi_mem_some_avg10", "some", "avg10"),
        ("psi_mem_full_avg10", "full", "avg10"),
        ("psi_mem_some_interval_pct", "some", "per interval"),
        ("psi_mem_full_interval_pct", "full", "per interval"),
    ):
        t, v = _host(index, metric, start, end)
        at = first_crossing(t, v, lambda x: x >= 1.0)
        if at is not None and label not in seen_psi:
            seen_psi.add(label)
            add(at, f"PSI memory {label} {max(v):.1f}% {how} (tasks stalled on memory)", "psi")
            words.append(f"PSI memory {label} reached {max(v):.1f}% ({how})")
    cg = report.oom_memcg
    if cg:
        series = index.get((f"cgroup:{cg}", "cg_mem_current_kb"))
        limit = report.memcg.memory.limit_kb if report.memcg and report.memcg.memory else None
        if series is not None and limit:
            t, v = series.window(start, end)
            at = first_crossing(t, v, lambda x: x >= 0.9 * limit)
            add(at, f"cgroup {cg} above 90% of its limit", "pressure")
            if at is not None:
                words.append(f"the cgroup passed 90% of its limit at {at:%H:%M:%S}")
    events.sort(key=lambda e: e.time or kill)
    if events and events[0].time is not None:
        lead = (kill - events[0].time).total_seconds()
        words.append(f"{lead:.0f} s from the first pressure signal to the kill")
    return events, words
