"""Memory no process owns: how much of the limit (or of RAM) the task table explains.

A tmpfs file, a SysV/POSIX shared-memory segment nobody maps, unreclaimable kernel slab or
reserved hugepages count against memory but appear in no task's rss. "Processes explain 41%;
3.1 GiB is tmpfs" is then the verdict, with culprit kind ``shmem`` or ``kernel``.
"""

from __future__ import annotations

from oomsleuth.correlate import allocations
from oomsleuth.model import OomReport, Suspect
from oomsleuth.model.units import human_kb

SHARE = 0.25  # unowned memory above this share of the base is a suspect
_SHMEM = "shmem/tmpfs that no process maps: files in tmpfs or /dev/shm, or unmapped shared memory"


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
    entries: list[tuple[str, int]] = []
    notes: list[str] = []
    base, what, shmem, slab = _measure(report, entries, notes)
    if rows:
        entries.append(("task table rss", tasks_kb))
    if shmem is not None:
        entries.append(("shmem/tmpfs", shmem))
    if slab is not None:
        entries.append(("unreclaimable slab", slab))
    if not base:
        return entries, [], notes
    explained = tasks_kb / base
    lead = f"processes in the task table explain {explained:.0%} of {what} ({human_kb(base)})"
    if not rows:
        lead = f"no task table: {what} is {human_kb(base)}"
    suspects: list[Suspect] = []
    unowned_shmem = max((shmem or 0) - sum(r.rss_shmem_kb or 0 for r in rows), 0)
    if unowned_shmem >= SHARE * base:
        suspects.append(_unowned(report, "shmem", unowned_shmem, base, lead, _SHMEM))
    if slab is not None and slab >= SHARE * base:
        detail = _largest_slabs(report)
        what_slab = "unreclaimable kernel slab" + (f" (largest: {detail})" if detail else "")
        what_slab += allocations.detail(report)
        suspects.append(_unowned(report, "kernel", slab, base, lead, what_slab))
    elif (profiled := allocations.suspect(report, base, lead, SHARE)) is not None:
        suspects.append(profiled)
    notes.extend(allocations.notes(report))
    if not suspects and rows and explained < 0.8:
        notes.append(lead + "; the rest is page cache, kernel memory or memory no task maps")
    return entries, suspects, notes


def _measure(
    report: OomReport, entries: list[tuple[str, int]], notes: list[str]
) -> tuple[int | None, str, int | None, int | None]:
    """(the memory the task table is measured against, what it is in words, the shmem and the
    unreclaimable slab in it): the cgroup's usage for a memcg OOM, else RAM. Adds its entries."""
    memcg = report.memcg
    if report.is_memcg and memcg is not None and memcg.memory is not None:
        base = memcg.memory.usage_kb
        entries.append(("memcg usage", base))
        if memcg.memory.limit_kb is not None:
            entries.append(("memcg limit", memcg.memory.limit_kb))
        kernel = _stat_kb(report, "kernel")
        if kernel is None and memcg.kmem is not None:
            kernel = memcg.kmem.usage_kb
        if kernel is not None:
            entries.append(("kernel memory charged to the cgroup", kernel))
        shmem, slab = _stat_kb(report, "shmem"), _stat_kb(report, "slab_unreclaimable")
        return base, "the cgroup's usage", shmem, slab
    mi = report.meminfo
    if mi is None:
        return None, "memory", None, None
    ram = mi.ram_kb - (mi.reserved_kb or 0) if mi.ram_kb else None
    if mi.ram_kb:
        entries.append(("RAM", mi.ram_kb))
    huge = sum(total * size for _, total, size in mi.hugepages)
    if huge:
        entries.append(("hugepages reserved", huge))
        if ram and huge >= SHARE * ram:
            notes.append(f"{human_kb(huge)} is reserved as hugepages")
    return (
        ram,
        "RAM" if mi.ram_kb else "memory",
        mi.counter("shmem"),
        mi.counter("slab_unreclaimable"),
    )


def _unowned(report: OomReport, kind: str, kb: int, base: int, lead: str, what: str) -> Suspect:
    """A suspect for ``kb`` of memory no process owns (shmem or kernel), out of ``base``."""
    share = kb / base
    evidence = f"{lead}; {human_kb(kb)} ({share:.0%}) is {what}"
    confidence = round(min(0.5 + 0.45 * share, 0.9), 2)
    return Suspect(kind, confidence, (evidence,), cgroup=report.oom_memcg, growth_kb=kb)


def _largest_slabs(report: OomReport) -> str:
    """The three largest unreclaimable slab caches of the Mem-Info block, or ""."""
    slabs = report.meminfo.unreclaimable_slab if report.meminfo else ()
    top = sorted(slabs, key=lambda s: s[2], reverse=True)[:3]
    return ", ".join(f"{name} {human_kb(total)}" for name, _, total in top)
