"""The global Mem-Info block (show_mem), accumulated line by line, converted to kB at the end.

Units differ by line: the global block is in pages, node/zone/buddy lines in kB, the slab dump
in KB. The page size comes from the first unit of a buddy line (``Node 0 DMA: 45*4kB ...``).
"""

from __future__ import annotations

from oomsleuth.model import AllocationSite, MemInfo
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import field, record
from oomsleuth.parsers.zones import ZoneDraft

_TOKEN = lazy_compile(r"([A-Za-z_]+):\s?(\d+)(?=\s|$)")
_BUDDY = lazy_compile(r"^(?:Node \d+ )?[\w.]+: (?:\d+\*(\d+)kB|empty)")
_HUGE = lazy_compile(
    r"^Node (\d+) hugepages_total=(\d+) hugepages_free=\d+ hugepages_surp=\d+ "
    r"hugepages_size=(\d+)kB"
)
_PAGES_LINE = lazy_compile(
    r"^(\d+) (total pagecache pages|pages in swap cache|pages RAM|pages reserved)\s*$"
)
_SWAP = lazy_compile(r"^(Free|Total) swap\s+=\s+(-?\d+)kB")
_SLAB_ROW = lazy_compile(r"^(\S+)\s+(\d+)KB\s+(\d+)KB\s*$")
# 6.10+ memory allocation profiling: "Memory allocations:" (6.10-6.17) or "Memory allocations
# (profiling is currently turned on):", then up to ten "%12s %8llu %s:%u [%s] func:%s" rows whose
# size is string_get_size(STRING_UNITS_2): "38.4 MiB", "7.36 MiB", "512 B"
_ALLOC_HEAD = lazy_compile(r"^Memory allocations(?: \(profiling is currently turned (on|off)\))?:$")
_ALLOC_ROW = lazy_compile(
    r"^(\d+(?:\.\d+)?) ?([KMGTPE]iB|B)\s+(\d+)\s+(\S+:\d+)(?:\s+\[([^\]\s]+)\])?\s+func:(\S+)$"
)
_UNIT_KB = {"B": 1 / 1024, "KiB": 1, "MiB": 1024, "GiB": 1024**2, "TiB": 1024**3}
_UNIT_KB |= {"PiB": 1024**4, "EiB": 1024**5}

# first-line names of per-node/zone lines: these carry kB, not pages
_NODE_LINE = lazy_compile(r"^Node \d+ ")
# lines of the block that hold nothing we keep
_SKIPPED_PREFIXES = ("CPU ", "Swap cache stats", "pages ", "Node ")
_SKIPPED_SUFFIXES = (
    "pages HighMem/MovableOnly",
    "pages cma reserved",
    "pages hwpoisoned",
    "pages shared",
    "pages non-shared",
    "pages HighMem",
    "pages in pagetable cache",
)


@record()
class MemInfoDraft:
    """Mutable accumulator for one Mem-Info block."""

    page_counters: dict[str, int] = field(default_factory=dict)
    buddy_page_kb: int | None = None
    free_swap_kb: int | None = None
    total_swap_kb: int | None = None
    pages: dict[str, int] = field(default_factory=dict)
    hugepages: list[tuple[int, int, int]] = field(default_factory=list)
    slab: list[tuple[str, int, int]] = field(default_factory=list)
    allocations: list[AllocationSite] = field(default_factory=list)
    profiling: str | None = None
    zones: ZoneDraft = field(default_factory=ZoneDraft)
    in_slab: bool = False
    in_allocations: bool = False
    in_global: bool = True

    def feed(self, text: str) -> bool:
        """Take one line; True when it belongs to Mem-Info."""
        s = text.strip()
        if self.in_allocations:
            if self._allocation_line(s):
                return True
            self.in_allocations = False
        if (head := _ALLOC_HEAD.match(s)) is not None:
            self.in_allocations, self.profiling = True, head[1]
            return True
        if self.in_slab:
            if self._slab_line(s):
                return True
            self.in_slab = False
        if s.startswith("CPU "):  # a per-cpu line (one per CPU and zone): skipped, as below
            return True
        if s.startswith("Unreclaimable slab info"):
            self.in_slab = True
            return True
        if s.startswith(("Node ", "DMA", "Normal", "HighMem", "Movable")):
            self.zones.feed(s)
        m = _BUDDY.match(s)
        if m and ("*" in s or s.endswith("empty")):
            self.in_global = False
            if m[1] and self.buddy_page_kb is None:
                self.buddy_page_kb = int(m[1])
            return True
        if (m := _HUGE.match(s)) is not None:
            self.hugepages.append((int(m[1]), int(m[2]), int(m[3])))
            return True
        if (m := _PAGES_LINE.match(s)) is not None:
            self.pages[m[2]] = int(m[1])
            return True
        if (m := _SWAP.match(s)) is not None:
            if m[1] == "Free":
                self.free_swap_kb = int(m[2])
            else:
                self.total_swap_kb = int(m[2])
            return True
        if _NODE_LINE.match(s) or s.startswith("lowmem_reserve[]") or "per-cpu" in s:
            self.in_global = False
            return True
        if s.startswith(_SKIPPED_PREFIXES) or s.endswith(_SKIPPED_SUFFIXES):
            return True
        tokens = _TOKEN.findall(s)
        if tokens and self.in_global:
            for key, value in tokens:
                self.page_counters.setdefault(key.lower() if key[0].isupper() else key, int(value))
            return True
        return False

    def _slab_line(self, s: str) -> bool:
        """A line of the unreclaimable slab dump: its column header or a row."""
        if s.startswith("Name") and "Used" in s:
            return True
        m = _SLAB_ROW.match(s)
        if m:
            self.slab.append((m[1], int(m[2]), int(m[3])))
            return True
        return False

    def _allocation_line(self, s: str) -> bool:
        """One row of the allocation-profiling top list."""
        m = _ALLOC_ROW.match(s)
        if m is None:
            return False
        size_kb = round(float(m[1]) * _UNIT_KB[m[2]])
        site = AllocationSite(size_kb, int(m[3]), m[4], m[6], m[5])
        self.allocations.append(site)
        return True

    def finish(self, page_kb: int | None) -> MemInfo:
        pk = page_kb or 4

        def kb(name: str) -> int | None:
            v = self.pages.get(name)
            return None if v is None else v * pk

        return MemInfo(
            page_size_kb=page_kb,
            counters_kb=tuple((k, v * pk) for k, v in self.page_counters.items()),
            free_swap_kb=self.free_swap_kb,
            total_swap_kb=self.total_swap_kb,
            pagecache_kb=kb("total pagecache pages"),
            swapcache_kb=kb("pages in swap cache"),
            ram_kb=kb("pages RAM"),
            reserved_kb=kb("pages reserved"),
            hugepages=tuple(self.hugepages),
            unreclaimable_slab=tuple(self.slab),
            allocation_sites=tuple(self.allocations),
            allocation_profiling=self.profiling,
            zones=self.zones.finish(),
        )
