"""The kernel's reasons, in words, from the report alone: what the failed allocation was
allowed to do (GFP flags), each zone's free memory against its watermarks and the zone that
failed, fragmentation for a request of order > 0, the kernel's own top allocation sites, the
child sacrificed for its parent, why a badness share passes 100%, and what oom_score_adj values
mean (Kubernetes QoS). Pure: a report and its badness rows in, ``Reason`` objects out.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Sequence

from oomsleuth.correlate import gfp
from oomsleuth.model import BadnessRow, Incident, OomReport
from oomsleuth.model.incidents import Reason
from oomsleuth.model.kernel import Zone
from oomsleuth.model.record import replace
from oomsleuth.model.units import human_kb

ZONE_ORDER = ("DMA", "DMA32", "Normal", "HighMem", "Movable")


def attach_reasons(
    incidents: tuple[Incident, ...], reports: Sequence[OomReport]
) -> tuple[Incident, ...]:
    """Each incident with the reasons its own report (of ``reports``) gives."""
    return tuple(
        replace(inc, reasons=explain(reports[inc.report_id], inc.badness)) for inc in incidents
    )


def explain(report: OomReport, rows: tuple[BadnessRow, ...] = ()) -> tuple[Reason, ...]:
    found = [
        gfp_reason(report),
        zones_reason(report),
        fragmentation_reason(report),
        allocations_reason(report),
        sacrifice_reason(report),
        share_reason(rows, report),
        adj_reason(report),
    ]
    return tuple(r for r in found if r is not None)


def _names(report: OomReport) -> set[str] | None:
    t = report.trigger
    return gfp.flag_names(t.gfp_flags) if t is not None and t.gfp_flags else None


def gfp_reason(report: OomReport) -> Reason | None:
    t = report.trigger
    if t is None or not (t.gfp_flags or t.gfp_mask):
        return None
    order = "" if t.order is None or t.order < 0 else f", order {t.order}"
    title = f"The allocation: {t.gfp_flags or t.gfp_mask}{order}"
    if not t.gfp_flags:
        why = "the kernel printed only the mask (before 4.8): its bits changed between versions"
        return Reason("gfp", title, (f"flags not named in the report: {why}",))
    lines = gfp.in_words(t.gfp_flags)
    if t.order is not None and t.order > 0:
        size = (report.page_size_kb or 4) << t.order
        lines.insert(0, f"{2**t.order} contiguous pages ({human_kb(size)}) at once")
    return Reason("gfp", title, tuple(lines))


def _eligible(report: OomReport) -> list[Zone]:
    """The zones the allocation could use: up to its highest zone; DMA only when asked for."""
    zones = report.meminfo.zones if report.meminfo else ()
    names = _names(report)
    top = gfp.zone_of(names) if names is not None else "Movable"
    limit = ZONE_ORDER.index(top)
    return [
        z
        for z in zones
        if z.name in ZONE_ORDER
        and ZONE_ORDER.index(z.name) <= limit
        and (z.name != "DMA" or top == "DMA")
    ]


def _empty(z: Zone) -> bool:
    """A zone with no memory at all (``Normal free:0kB min:0kB low:0kB high:0kB`` on a small
    32-bit machine): nothing to say about it."""
    return not any((z.free_kb, z.min_kb, z.low_kb, z.high_kb, z.managed_kb))


def _level(z: Zone) -> str:
    free = z.free_kb or 0
    for mark, value in (("min", z.min_kb), ("low", z.low_kb), ("high", z.high_kb)):
        if value is not None and free < value:
            return f"below {mark}"
    return "above high" if z.high_kb is not None else "no watermarks printed"


def _zone_name(z: Zone) -> str:
    return z.name if z.node is None else f"node {z.node} {z.name}"


def zones_reason(report: OomReport) -> Reason | None:
    zones = report.meminfo.zones if report.meminfo else ()
    if report.is_memcg or not any(z.free_kb is not None for z in zones):
        return None
    lines = []
    for z in zones:
        if z.free_kb is None or _empty(z):
            continue
        marks = " / ".join(human_kb(v) for v in (z.min_kb, z.low_kb, z.high_kb))
        lines.append(
            f"{_zone_name(z)}: free {human_kb(z.free_kb)}, min/low/high {marks}: {_level(z)}"
        )
    eligible = [z for z in _eligible(report) if z.free_kb is not None and not _empty(z)]
    short = [z for z in eligible if _level(z) == "below min"]
    if short:
        failing = ", ".join(_zone_name(z) for z in short)
        verdict = f"{failing} fell below the min watermark: the allocation could not be met there"
    elif eligible and all(_level(z) == "above high" for z in eligible):
        verdict = (
            "every zone the allocation could use was above its high watermark when the report "
            "was printed: free pages were not what it lacked"
        )
    else:
        low = [z for z in eligible if _level(z) != "above high"]
        verdict = (
            f"{', '.join(_zone_name(z) for z in low)} near its watermarks (between min and high)"
            if low
            else "no zone the allocation could use printed its free memory"
        )
    if any(z.name == "DMA" for z in zones) and not any(z.name == "DMA" for z in eligible):
        lines.append("DMA is kept for devices: lowmem_reserve bars this allocation from it")
    return Reason("zones", f"Zones: {verdict}", tuple(lines))


def fragmentation_reason(report: OomReport) -> Reason | None:
    t = report.trigger
    if t is None or t.order is None or t.order <= 0:
        return None
    eligible = [z for z in _eligible(report) if z.free_blocks]
    if not eligible:
        return None
    need = report.page_size_kb or (report.meminfo.page_size_kb if report.meminfo else None) or 4
    need <<= t.order
    lines = []
    total_big = 0
    for z in eligible:
        big = sum(count for size, count in z.free_blocks if size >= need)
        total_big += big
        free = sum(size * count for size, count in z.free_blocks)
        lines.append(
            f"{_zone_name(z)}: {human_kb(free)} free, {big} free block(s) of {human_kb(need)} "
            "or more"
        )
    free_all = sum(size * count for z in eligible for size, count in z.free_blocks)
    if total_big == 0:
        title = (
            f"Fragmentation: no free block of {human_kb(need)} (order {t.order}) in "
            f"{human_kb(free_all)} free: memory was there, but not in one piece "
            "(compaction could not make one)"
        )
    else:
        title = (
            f"Not fragmentation: {total_big} free block(s) of order {t.order} or more were left; "
            "the zones were short of free memory"
        )
    return Reason("fragmentation", title, tuple(lines))


def allocations_reason(report: OomReport) -> Reason | None:
    mi = report.meminfo
    if mi is None or not mi.allocation_sites:
        return None
    lines = []
    for s in mi.allocation_sites[:5]:
        module = f" [{s.module}]" if s.module else ""
        lines.append(f"{human_kb(s.size_kb)} in {s.calls} calls: {s.function}{module} at {s.site}")
    stale = " (profiling was off: counts from before the kill)"
    title = "The kernel's largest allocation sites" + (
        stale if mi.allocation_profiling == "off" else ""
    )
    return Reason("allocations", title, tuple(lines))


def sacrifice_reason(report: OomReport) -> Reason | None:
    sel = report.selection
    killed = [k.victim for k in report.kills]
    if sel is None or not killed or sel.pid in {v.pid for v in killed}:
        return None
    v = killed[0]
    score = f" (score {sel.score})" if sel.score is not None else ""
    return Reason(
        "sacrifice",
        f"A child died for its parent: selected {sel.comm} ({sel.pid}){score}, "
        f"killed {v.comm} ({v.pid})",
        (
            "kernels before 5.1 did not kill the task they selected when one of its children "
            "had memory of its own: the child with the highest badness was killed instead, to "
            "lose less work (oom_kill_process, 'or sacrifice child')",
        ),
    )


def share_reason(rows: tuple[BadnessRow, ...], report: OomReport) -> Reason | None:
    """Why a share passes 100%, or why the shares add up to more than 100%."""
    over = [r for r in rows if r.share > 1.0]
    total = sum(r.share for r in rows)
    if not over and total <= 1.005:
        return None
    lines = [
        f"{r.comm} ({r.pid}): {r.share:.0%} with oom_score_adj {r.oom_score_adj:+d}"
        for r in over[:3]
    ]
    if any(r.oom_score_adj > 0 for r in rows):
        lines.append("badness adds oom_score_adj/1000 of all memory: a score can pass 100%")
    lines.append("shared pages count in every task that maps them: shares need not add to 100%")
    if over:
        return Reason("badness", "Why a badness share passes 100%: oom_score_adj", tuple(lines))
    return Reason("badness", f"Why the badness shares add up to {total:.0%}", tuple(lines))


def adj_meaning(adj: int, k8s: bool) -> str | None:
    """What an oom_score_adj value says; Kubernetes' values when the cgroups say kubepods."""
    if adj <= -1000:
        return "never killed (OOM_SCORE_ADJ_MIN)"
    if k8s:
        known = {
            1000: "a BestEffort pod (no memory request): killed first",
            -997: "a Guaranteed pod (request = limit): killed last",
            -998: "a pod sandbox (pause) container, or a Guaranteed pod of an older Kubernetes",
            -999: "kubelet, kube-proxy or the container runtime",
        }
        if adj in known:
            return known[adj]
        if adj == 999:
            return (
                "a Burstable pod with a memory request under 0.1% of the node's memory (999 is "
                "the highest a Burstable pod gets: one below BestEffort)"
            )
        if 2 <= adj <= 999:
            return (
                f"a Burstable pod (1000 - 1000 x request / node memory, kept to 2..999): its "
                f"memory request was about {(1000 - adj) / 10:.1f}% of the node's memory"
            )
    if adj > 0:
        return f"made likelier to be killed: adds {adj / 10:.1f}% of total memory to its score"
    if adj < 0:
        return f"protected: takes {-adj / 10:.1f}% of total memory off its score"
    return None


def adj_reason(report: OomReport) -> Reason | None:
    paths = " ".join(p for p in (report.oom_memcg, report.task_memcg) if p)
    k8s = "kubepods" in paths
    seen = _names_by_adj(report)
    lines = []
    for adj, who in sorted(seen.items(), key=lambda kv: -kv[0]):
        meaning = adj_meaning(adj, k8s)
        if meaning is not None:
            shown = ", ".join(who[:3]) + (", ..." if len(who) > 3 else "")
            lines.append(f"{adj:+d} ({shown}): {meaning}")
    if not lines:
        return None
    title = "oom_score_adj" + (": Kubernetes QoS classes" if k8s else "")
    return Reason("adj", title, tuple(lines))


def _names_by_adj(report: OomReport) -> dict[int, list[str]]:
    """Who has each ``oom_score_adj``: the victims (``comm (victim)``), then each task whose
    comm does not start a name already listed at that adj (the victim's own row, a repeated
    comm). The names listed are also kept sorted: those a comm starts follow it there, so a
    table of thousands of tasks at one adj costs a binary search a row, not a pass over the
    names listed so far."""
    seen: dict[int, list[str]] = {}
    ordered: dict[int, list[str]] = {}  # the names listed at an adj, sorted

    def add(adj: int, name: str) -> None:
        seen.setdefault(adj, []).append(name)
        insort(ordered.setdefault(adj, []), name)

    for k in report.kills:
        if k.victim.oom_score_adj is not None:
            add(k.victim.oom_score_adj, f"{k.victim.comm} (victim)")
    for row in report.tasks or ():
        adj, comm = row.oom_score_adj, row.comm
        if adj is None:
            continue
        names = ordered.get(adj, ())
        at = bisect_left(names, comm)
        if at == len(names) or not names[at].startswith(comm):
            add(adj, comm)
    return seen
