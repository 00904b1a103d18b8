"""What a kernel OOM report and a userspace killer say: trigger, victims, memory, task table.

Units are explicit in every field name (``_kb`` = KiB, ``_bytes``, ``_pages``, ``_s``); parsers
convert once, at parse time, using the report's own page size.
"""

from __future__ import annotations

from oomsleuth.model.lines import Stamp, Where
from oomsleuth.model.record import record


@record(frozen=True, slots=True)
class Trigger:
    """The task that invoked the OOM killer (the header line and the CPU/Pid line)."""

    comm: str | None = None
    pid: int | None = None
    uid: int | None = None
    gfp_mask: str | None = None  # hex, e.g. "0x100cca"
    gfp_flags: str | None = None  # names as printed, e.g. "GFP_HIGHUSER_MOVABLE|__GFP_COMP"
    order: int | None = None  # -1 = SysRq-f / manual
    oom_score_adj: int | None = None
    oom_adj: int | None = None  # 2.6.x oom_adj / oomkilladj
    nodemask: str | None = None
    cpuset: str | None = None
    mems_allowed: str | None = None


@record(frozen=True, slots=True)
class Victim:
    pid: int
    comm: str
    uid: int | None = None
    total_vm_kb: int | None = None
    anon_rss_kb: int | None = None
    file_rss_kb: int | None = None
    shmem_rss_kb: int | None = None
    pgtables_kb: int | None = None
    oom_score_adj: int | None = None

    @property
    def rss_kb(self) -> int | None:
        parts = [self.anon_rss_kb, self.file_rss_kb, self.shmem_rss_kb]
        if all(p is None for p in parts):
            return None
        return sum(p or 0 for p in parts)


@record(frozen=True, slots=True)
class Reap:
    """An oom_reaper line about a victim."""

    pid: int
    comm: str
    reaped: bool
    anon_rss_kb: int | None = None
    file_rss_kb: int | None = None
    shmem_rss_kb: int | None = None
    where: Where | None = None


@record(frozen=True, slots=True)
class Kill:
    """One process the kernel killed: one "Killed process" line (or an oom-kill: summary)."""

    victim: Victim
    where: Where
    stamp: Stamp
    message: str | None = None  # "Out of memory", "Memory cgroup out of memory", ...
    from_summary: bool = False  # no Killed line: the oom-kill: summary names the task
    oom_group: bool = False  # killed as a member of a memory.oom.group cgroup
    reap: Reap | None = None


@record(frozen=True, slots=True)
class Selection:
    """The "Kill process N (comm) score S or sacrifice child" line (kernels before 5.1)."""

    pid: int
    comm: str
    score: int | None
    where: Where


@record(frozen=True, slots=True)
class TaskRow:
    """One row of the task-dump table, converted to kB with the report's page size."""

    pid: int
    comm: str
    tgid: int | None = None
    uid: int | None = None
    total_vm_kb: int | None = None
    rss_kb: int | None = None
    rss_anon_kb: int | None = None
    rss_file_kb: int | None = None
    rss_shmem_kb: int | None = None
    pgtables_kb: int | None = None
    swap_kb: int | None = None
    oom_score_adj: int | None = None
    oom_adj: int | None = None
    extra: tuple[tuple[str, int], ...] = ()  # vendor or unknown columns, raw values


@record(frozen=True, slots=True)
class Counter:
    """A memcg ``usage/limit/failcnt`` triple in kB. ``limit_kb`` None = unlimited."""

    usage_kb: int
    limit_kb: int | None
    failcnt: int | None
    limit_raw_kb: int | None = None  # the number as printed (9007199254740988 = no limit)


@record(frozen=True, slots=True)
class MemcgInfo:
    memory: Counter | None = None
    memsw: Counter | None = None  # v1 memory+swap
    kmem: Counter | None = None  # v1 kmem
    swap: Counter | None = None  # v2 swap
    version: str | None = None  # "v1", "v2" or None when unknown
    stats_path: str | None = None  # "Memory cgroup stats for X"
    stats_bytes: tuple[tuple[str, int], ...] = ()  # memory.stat values converted to bytes
    min_protection_kb: int | None = None
    low_protection_kb: int | None = None


@record(frozen=True, slots=True)
class AllocationSite:
    """One line of the 6.10+ memory-allocation-profiling top list (``Memory allocations:``)."""

    size_kb: int  # from a rounded size such as "38.4 MiB": three significant digits at best
    calls: int
    site: str  # file:line in the kernel source
    function: str
    module: str | None = None  # the [module] when the site is in a loadable module


@record(frozen=True, slots=True)
class Zone:
    """One zone of the Mem-Info block, in kB: its ``Node 0 Normal free:...kB min:...kB
    low:...kB high:...kB ... managed:...kB`` line and its buddy line (``Node 0 Normal: 3*4kB
    1*8kB ... = 28kB``): the free blocks of each size, counted."""

    node: int | None
    name: str  # DMA, DMA32, Normal, HighMem, Movable, Device
    free_kb: int | None = None
    min_kb: int | None = None
    low_kb: int | None = None
    high_kb: int | None = None
    managed_kb: int | None = None
    free_blocks: tuple[tuple[int, int], ...] = ()  # (block size kB, count), from the buddy line


@record(frozen=True, slots=True)
class MemInfo:
    """The global Mem-Info block. Page counters are converted to kB."""

    page_size_kb: int | None = None  # from buddy lines, or inferred; None when unknown
    counters_kb: tuple[tuple[str, int], ...] = ()  # active_anon, free, shmem, slab_* ...
    free_swap_kb: int | None = None
    total_swap_kb: int | None = None
    pagecache_kb: int | None = None
    swapcache_kb: int | None = None
    ram_kb: int | None = None
    reserved_kb: int | None = None
    hugepages: tuple[tuple[int, int, int], ...] = ()  # (node, total, size_kb)
    unreclaimable_slab: tuple[tuple[str, int, int], ...] = ()  # (name, used_kb, total_kb)
    allocation_sites: tuple[AllocationSite, ...] = ()  # largest first, as the kernel prints them
    allocation_profiling: str | None = None  # "on"/"off" when the header says so
    zones: tuple[Zone, ...] = ()  # per-zone free memory, watermarks and free blocks

    def counter(self, name: str) -> int | None:
        for key, value in self.counters_kb:
            if key == name:
                return value
        return None


@record(frozen=True, slots=True)
class Constraint:
    """The ``oom-kill:constraint=...`` summary line (5.0+)."""

    constraint: str | None = None
    nodemask: str | None = None
    cpuset: str | None = None
    mems_allowed: str | None = None
    global_oom: bool = False
    oom_memcg: str | None = None
    task_memcg: str | None = None
    task: str | None = None
    pid: int | None = None
    uid: int | None = None


@record(frozen=True, slots=True)
class OomReport:
    """One kernel OOM report: header .. memcg/Mem-Info .. task table .. kill(s) .. reaper.

    ``outcome`` says how it ended: "killed", "panic", "no-killable", "deadlock",
    "ignored" (SysRq with nothing eligible), or "unfinished" (cut off, interleaved, truncated).
    """

    where: Where
    stamp: Stamp
    outcome: str
    trigger: Trigger | None = None
    kernel: str | None = None  # release from the CPU:/Pid: line
    hardware: str | None = None
    call_trace: tuple[str, ...] = ()
    memcg: MemcgInfo | None = None
    meminfo: MemInfo | None = None
    constraint: Constraint | None = None
    task_memcg: str | None = None  # from the summary, or v1 "Task in X"
    oom_memcg: str | None = None  # from the summary, or v1 "limit of Y"
    tasks: tuple[TaskRow, ...] | None = None
    tasks_complete: bool = True  # False when rows were cut off or the header was missing
    page_size_kb: int | None = None
    page_size_source: str | None = None  # "buddy", "kill-vs-table", "default"
    selection: Selection | None = None
    kills: tuple[Kill, ...] = ()
    oom_group: str | None = None  # "Tasks in X are going to be killed due to memory.oom.group"
    panic: str | None = None
    end: Where | None = None
    suppressed_before: int | None = None  # "N callbacks suppressed" seen just before
    notes: tuple[str, ...] = ()
    # the report's own lines as read (framing removed), with their line numbers; capped
    lines: tuple[tuple[int, str], ...] = ()
    copies: tuple[Where, ...] = ()  # the same record seen elsewhere (oomsleuth.clock.copies)

    @property
    def is_memcg(self) -> bool:
        return bool(
            self.oom_memcg
            or (self.memcg and self.memcg.memory)
            or (self.constraint and self.constraint.constraint == "CONSTRAINT_MEMCG")
        )


@record(frozen=True, slots=True)
class AllocFailure:
    """A page allocation failure (warn_alloc): not a kill, often a precursor of one."""

    where: Where
    stamp: Stamp
    comm: str
    order: int | None
    gfp_mask: str | None
    gfp_flags: str | None
    kind: str = "page allocation failure"


@record(frozen=True, slots=True)
class OomdCandidate:
    """One cgroup systemd-oomd considered for a kill (its ``Considered N cgroups for killing,
    top candidates were:`` dump): how much it used, and its pressure."""

    cgroup: str
    memory_kb: int | None = None  # Current Memory Usage
    swap_kb: int | None = None  # Swap Usage
    pressure_avg10: float | None = None  # Pressure: Avg10 (percent)
    pressure_limit_pct: float | None = None  # Memory Pressure Limit
    pgscan: int | None = None


@record(frozen=True, slots=True)
class UserspaceKill:
    """A kill by a userspace OOM daemon (earlyoom, systemd-oomd, nohang, oomd) or a systemd
    unit notice that the kernel OOM killer hit one of its processes."""

    killer: str  # "earlyoom", "systemd-oomd", "nohang", "oomd", "systemd"
    where: Where
    stamp: Stamp
    pid: int | None = None
    comm: str | None = None
    cgroup: str | None = None
    uid: int | None = None
    signal: str | None = None
    rss_kb: int | None = None
    score: int | None = None
    reason: str | None = None
    # "kill"; "notice" = a note about a kill, not a kill itself (systemd's note of a kernel kill);
    # "trigger" = the daemon asked the kernel's OOM killer to run (earlyoom --kernel-oom, SysRq-f)
    kind: str = "kill"
    raw: str = ""
    candidates: tuple[OomdCandidate, ...] = ()  # systemd-oomd: the cgroups it weighed
    killer_pid: int | None = None  # the daemon's own pid, from its syslog tag
