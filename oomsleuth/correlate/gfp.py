"""GFP flags in words: what the allocation that failed was allowed to do.

The names are the ones the kernel prints (``%pGg``, include/trace/events/mmflags.h): composite
masks first (``GFP_HIGHUSER_MOVABLE``), then the single ``__GFP_*`` bits left over. Their
meaning follows include/linux/gfp_types.h. Kernels before 4.8 print only the hex mask, whose bit
values changed between versions, so a bare mask is not decoded.
"""

from __future__ import annotations

RECLAIM = frozenset({"__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM"})

# composite masks: the single bits they stand for (gfp_types.h)
COMPOSITE: dict[str, frozenset[str]] = {
    "GFP_ATOMIC": frozenset({"__GFP_HIGH", "__GFP_KSWAPD_RECLAIM"}),
    "GFP_KERNEL": RECLAIM | {"__GFP_IO", "__GFP_FS"},
    "GFP_KERNEL_ACCOUNT": RECLAIM | {"__GFP_IO", "__GFP_FS", "__GFP_ACCOUNT"},
    "GFP_NOWAIT": frozenset({"__GFP_KSWAPD_RECLAIM"}),
    "GFP_NOIO": RECLAIM,
    "GFP_NOFS": RECLAIM | {"__GFP_IO"},
    "GFP_USER": RECLAIM | {"__GFP_IO", "__GFP_FS", "__GFP_HARDWALL"},
    "GFP_DMA": frozenset({"__GFP_DMA"}),
    "GFP_DMA32": frozenset({"__GFP_DMA32"}),
    "GFP_HIGHUSER": RECLAIM | {"__GFP_IO", "__GFP_FS", "__GFP_HARDWALL", "__GFP_HIGHMEM"},
    "GFP_HIGHUSER_MOVABLE": RECLAIM
    | {"__GFP_IO", "__GFP_FS", "__GFP_HARDWALL", "__GFP_HIGHMEM", "__GFP_MOVABLE"},
    "GFP_TRANSHUGE_LIGHT": frozenset(
        {"__GFP_IO", "__GFP_FS", "__GFP_HARDWALL", "__GFP_HIGHMEM", "__GFP_MOVABLE"}
        | {"__GFP_COMP", "__GFP_NOMEMALLOC", "__GFP_NOWARN"}
    ),
    "GFP_TRANSHUGE": frozenset(
        {"__GFP_IO", "__GFP_FS", "__GFP_HARDWALL", "__GFP_HIGHMEM", "__GFP_MOVABLE"}
        | {"__GFP_COMP", "__GFP_NOMEMALLOC", "__GFP_NOWARN", "__GFP_DIRECT_RECLAIM"}
    ),
    # kernels before 4.4: __GFP_WAIT was the one "may sleep" bit
    "GFP_TEMPORARY": RECLAIM | {"__GFP_IO", "__GFP_FS", "__GFP_RECLAIMABLE"},
}

# single bits that change what the allocation may do, in words
MEANING: dict[str, str] = {
    "__GFP_HIGH": "high priority: may dip into the emergency reserves",
    "__GFP_ACCOUNT": "charged to the memory cgroup (kmemcg)",
    "__GFP_HARDWALL": "held to its cpuset's memory nodes",
    "__GFP_THISNODE": "from this NUMA node only, no fallback",
    "__GFP_NORETRY": "only light reclaim, never the OOM killer: the caller handles failure",
    "__GFP_RETRY_MAYFAIL": "retries reclaim but may fail rather than call the OOM killer",
    "__GFP_REPEAT": "retries reclaim harder (kernels before 4.13)",
    "__GFP_NOFAIL": "must not fail: the kernel retries forever (and kills to make room)",
    "__GFP_COMP": "a compound (multi-page) block",
    "__GFP_NOMEMALLOC": "forbidden the emergency reserves",
    "__GFP_MEMALLOC": "allowed all memory, reserves included",
    "__GFP_NOWARN": "failure is not reported",
    "__GFP_ZERO": "zeroed",
    "__GFP_RECLAIMABLE": "reclaimable kernel memory (shrinkable slab)",
    "__GFP_WRITE": "a page about to be dirtied",
}


def flag_names(gfp_flags: str) -> set[str]:
    """Every single ``__GFP_*`` bit the printed names stand for."""
    names: set[str] = set()
    for name in (n.strip() for n in gfp_flags.split("|")):
        names |= COMPOSITE.get(name, frozenset({name}))
    if "__GFP_RECLAIM" in names:
        names |= RECLAIM
    if "__GFP_WAIT" in names:
        names.add("__GFP_DIRECT_RECLAIM")
    return names


def zone_of(names: set[str]) -> str:
    """The highest zone the allocation may use: DMA, DMA32, Normal, HighMem or Movable."""
    if "__GFP_DMA" in names:
        return "DMA"
    if "__GFP_DMA32" in names:
        return "DMA32"
    if "__GFP_HIGHMEM" in names and "__GFP_MOVABLE" in names:
        return "Movable"
    return "HighMem" if "__GFP_HIGHMEM" in names else "Normal"


def in_words(gfp_flags: str) -> list[str]:
    """What the allocation was allowed to do: sleep and reclaim, IO, filesystems, which zones,
    how hard to retry."""
    names = flag_names(gfp_flags)
    can_sleep = "__GFP_DIRECT_RECLAIM" in names
    out = [
        "it could sleep and reclaim memory itself (direct reclaim)"
        if can_sleep
        else "it could not sleep: no direct reclaim"
        + (", it could only wake kswapd" if "__GFP_KSWAPD_RECLAIM" in names else ""),
    ]
    if can_sleep:
        io, fs = "__GFP_IO" in names, "__GFP_FS" in names
        out.append(
            "it could start IO and call into filesystems to free memory"
            if io and fs
            else "it could start IO but not call into filesystems (GFP_NOFS)"
            if io
            else "it could neither start IO nor call into filesystems (GFP_NOIO)"
        )
    out.append(_zones_words(names))
    out += [f"{name}: {MEANING[name]}" for name in sorted(names) if name in MEANING]
    return out


def _zones_words(names: set[str]) -> str:
    zone = zone_of(names)
    return {
        "DMA": "only from the DMA zone (the lowest 16 MiB on x86)",
        "DMA32": "only from memory below 4 GiB (DMA32 and DMA)",
        "Movable": "movable user pages: from any zone (HighMem/Movable included), compactable",
        "HighMem": "user pages that may come from high memory (HighMem) or any lower zone",
    }.get(zone, "kernel memory: from Normal or a lower zone, not movable")
