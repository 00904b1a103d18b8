"""Memory no process owns: how much of the limit (or of RAM) the task table explains.

A tmpfs file, a SysV/POSIX shared-memory segment nobody maps, unreclaimable kernel slab or
reserved hugepages count against memory but appear in no task's rss. "Processes explain 41%;
3.1 GiB is tmpfs" is then the verdict, with culprit kind ``shmem`` or ``kernel``.
"""

from __future__ import annotations

from oomsleuth.model import OomReport, Suspect
from oomsleuth.model.units import human_kb

SHARE = 0.25  # unowned memory above this share of the base is a suspect


def _stat_kb(report: OomReport, *names: str) -> int | None:
    """A memcg memory.stat value in kB, the hierarchical ``total_`` key first."""
    if report.memcg is None or not report.memcg.stats_bytes:
        return None
    stats = dict(report.memcg.stats_bytes)
    for name in names:
        for key in (f"total_{name}", name):
            if key in stats:
                return stats[key] // 1024
    return None


def account(report: OomReport) -> tuple[list[tuple[str, int]], list[Suspect], list[str]]:
    """(accounting entries in kB, suspects for unowned memory, notes)."""
    rows = report.tasks or ()
    tasks_kb = sum(r.rss_kb or 0 for r in rows)
    mapped_shmem = sum(r.rss_shmem_kb or 0 for r in rows)
    entries: list[tuple[str, int]] = []
    notes: list[str] = []
    base: int | None = None
    what = "memory"
    shmem = slab = None
    if report.is_memcg and report.memcg is not None and report.memcg.memory is not None:
        base, what = report.memcg.memory.usage_kb, "the cgroup's usage"
        entries.append(("memcg usage", base))
        if report.memcg.memory.limit_kb is not None:
            entries.append(("memcg limit", report.memcg.memory.limit_kb))
        shmem = _stat_kb(report, "shmem")
        slab = _stat_kb(report, "slab_unreclaimable")
        kernel = _stat_kb(report, "kernel")
        if kernel is None and report.memcg.kmem is not None:
            kernel = report.memcg.kmem.usage_kb
        if kernel is not None:
            entries.append(("kernel memory charged to the cgroup", kernel))
    elif report.meminfo is not None:
        mi = report.meminfo
        if mi.ram_kb:
            base, what = mi.ram_kb - (mi.reserved_kb or 0), "RAM"
            entries.append(("RAM", mi.ram_kb))
        shmem = mi.counter("shmem")
        slab = mi.counter("slab_unreclaimable")
        huge = sum(total * size for _, total, size in mi.hugepages)
        if huge:
            entries.append(("hugepages reserved", huge))
            if base and huge >= SHARE * base:
                notes.append(f"{human_kb(huge)} is reserved as hugepages")
    if rows:
        entries.append(("task table rss", tasks_kb))
    if shmem is not None:
        entries.append(("shmem/tmpfs", shmem))
    if slab is not None:
        entries.append(("unreclaimable slab", slab))
    if not base:
        return entries, [], notes
    suspects: list[Suspect] = []
    explained = tasks_kb / base
    lead = f"processes in the task table explain {explained:.0%} of {what} ({human_kb(base)})"
    if not rows:
        lead = f"no task table: {what} is {human_kb(base)}"
    unowned_shmem = max((shmem or 0) - mapped_shmem, 0)
    if unowned_shmem >= SHARE * base:
        share = unowned_shmem / base
        suspects.append(
            Suspect(
                "shmem",
                round(min(0.5 + 0.45 * share, 0.9), 2),
                (
                    f"{lead}; {human_kb(unowned_shmem)} ({share:.0%}) is shmem/tmpfs that no "
                    "process maps: files in tmpfs or /dev/shm, or unmapped shared memory",
                ),
                cgroup=report.oom_memcg,
                growth_kb=unowned_shmem,
            )
        )
    if slab is not None and slab >= SHARE * base:
        share = slab / base
        top = (
            sorted(report.meminfo.unreclaimable_slab, key=lambda s: s[2], reverse=True)[:3]
            if report.meminfo
            else ()
        )
        detail = ", ".join(f"{name} {human_kb(total)}" for name, _, total in top)
        suspects.append(
            Suspect(
                "kernel",
                round(min(0.5 + 0.45 * share, 0.9), 2),
                (
                    f"{lead}; {human_kb(slab)} ({share:.0%}) is unreclaimable kernel slab"
                    + (f" (largest: {detail})" if detail else ""),
                ),
                cgroup=report.oom_memcg,
                growth_kb=slab,
            )
        )
    if not suspects and rows and explained < 0.8:
        notes.append(lead + "; the rest is page cache, kernel memory or memory no task maps")
    return entries, suspects, notes
