"""What the kernel itself allocated, from the 6.10+ allocation-profiling top list.

With CONFIG_MEM_ALLOC_PROFILING a global report ends its Mem-Info block with the ten largest
allocation sites (file:line, function, module). Sites that hand out process and page-cache pages
(the fault, page-cache, swap-cache and hugetlb paths of mm/) are memory the task table and the
page cache already show; every other site is kernel memory no process owns, and a driver or
subsystem that holds a large share of RAM there is named as the culprit.
"""

from __future__ import annotations

from oomsleuth.model import AllocationSite, MemInfo, OomReport, Suspect
from oomsleuth.model.units import human_kb

# sites that allocate user (anonymous, shmem, page-cache, swap-cache, hugetlb) pages
USER_PAGE_FILES = frozenset(
    {
        "mm/memory.c",
        "mm/huge_memory.c",
        "mm/shmem.c",
        "mm/filemap.c",
        "mm/readahead.c",
        "mm/swap_state.c",
        "mm/hugetlb.c",
        "mm/khugepaged.c",
        "mm/migrate.c",
        "mm/mempolicy.c",
    }
)


def kernel_sites(meminfo: MemInfo | None) -> list[AllocationSite]:
    """The profiled sites that hold kernel memory, largest first."""
    sites = meminfo.allocation_sites if meminfo else ()
    kept = [s for s in sites if s.site.rsplit(":", 1)[0] not in USER_PAGE_FILES]
    return sorted(kept, key=lambda s: s.size_kb, reverse=True)


def describe(sites: list[AllocationSite], n: int = 3) -> str:
    """``drivers/gpu/x.c:12 x_alloc [mod] 3.1 GiB, ...`` for the ``n`` largest sites."""
    parts = []
    for s in sites[:n]:
        module = f" [{s.module}]" if s.module else ""
        parts.append(f"{s.function}{module} at {s.site} {human_kb(s.size_kb)}")
    return ", ".join(parts)


def detail(report: OomReport) -> str:
    """``; allocation profiling names ...`` to add to a kernel-memory suspect, or ""."""
    sites = kernel_sites(report.meminfo)
    if not sites:
        return ""
    return f"; allocation profiling names the largest kernel sites: {describe(sites)}"


def suspect(report: OomReport, base: int, lead: str, share_floor: float) -> Suspect | None:
    """A kernel-memory suspect when the profiled kernel sites hold ``share_floor`` of ``base``."""
    meminfo = report.meminfo
    if meminfo is None or meminfo.allocation_profiling == "off":
        return None
    sites = kernel_sites(meminfo)
    total = sum(s.size_kb for s in sites)
    if not base or total < share_floor * base:
        return None
    share = total / base
    evidence = (
        f"{lead}; the kernel's allocation profiling counts {human_kb(total)} ({share:.0%}) at the "
        f"{len(sites)} kernel sites of its top {len(meminfo.allocation_sites)}: {describe(sites)}"
    )
    confidence = round(min(0.45 + 0.4 * share, 0.85), 2)
    top = sites[0]
    name = f"kernel memory (largest site: {top.function}" + (
        f" [{top.module}])" if top.module else ")"
    )
    return Suspect(
        "kernel", confidence, (evidence,), cgroup=report.oom_memcg, growth_kb=total, name=name
    )


def notes(report: OomReport) -> list[str]:
    """A caveat when the profiled counts are stale (profiling turned off at the time)."""
    meminfo = report.meminfo
    if meminfo and meminfo.allocation_sites and meminfo.allocation_profiling == "off":
        return [
            "memory allocation profiling was turned off when the report was printed: its "
            "top sites are counts from before, not the memory held at the kill"
        ]
    return []
