"""The one typed model of oomsleuth: frozen dataclasses, no behaviour beyond small helpers.

Units are explicit in every field name (``_kb`` = KiB, ``_bytes``, ``_pages``, ``_s``); parsers
convert once, at parse time, using the report's own page size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class LogLine:
    """One logical log line with its framing removed.

    ``lineno`` is the 1-based number of the first physical line it came from. A line joined
    from a hard wrap keeps the number of its first piece.
    """

    source: str
    lineno: int
    text: str
    # dmesg, dmesg-T, dmesg-iso, syslog, rfc3339, journal-short, journal-json, kmsg, bare
    framing: str
    uptime_s: float | None = None  # kernel timestamp, seconds since boot
    # wall-clock stamp from the prefix (naive when the log has no zone)
    wall: datetime | None = None
    host: str | None = None
    ident: str | None = None  # syslog tag ("kernel", "earlyoom", "systemd-oomd"); None = unknown
    ident_pid: int | None = None  # pid in the syslog tag, e.g. earlyoom[10231]
    caller: str | None = None  # printk caller id, "T1234" or "C3"
    boot_id: str | None = None
    boot_marker: bool = False  # a "-- Boot ... --" banner or another boot boundary


@dataclass(frozen=True, slots=True)
class Where:
    """A place in the input."""

    source: str
    line: int


@dataclass(frozen=True, slots=True)
class Warning_:
    """A data-quality warning tied to a place in the input."""

    where: Where
    code: str  # short stable identifier, e.g. "report-truncated"
    message: str


@dataclass(frozen=True, slots=True)
class Stamp:
    """When something was logged: the kernel stamp and the framing's wall clock, both optional."""

    uptime_s: float | None = None
    wall: datetime | None = None
    host: str | None = None
    boot_id: str | None = None
    # exact / derived / estimated / unknown (see timebase.py); None before resolution
    time_confidence: str | None = None
    # where the wall time came from: "log", "boot-estimate", "boot-time option" (timebase.py)
    time_source: str | None = None
    time_note: str | None = None  # e.g. "dmesg -T time replaced (-3600.0 s)"


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Reap:
    """An oom_reaper line about a victim."""

    pid: int
    comm: str
    reaped: bool
    anon_rss_kb: int | None = None
    file_rss_kb: int | None = None
    shmem_rss_kb: int | None = None
    where: Where | None = None


@dataclass(frozen=True, slots=True)
class Kill:
    """One process the kernel killed: one "Killed process" line (or an oom-kill: summary)."""

    victim: Victim
    where: Where
    stamp: Stamp
    message: str | None = None  # "Out of memory", "Memory cgroup out of memory", ...
    from_summary: bool = False  # no Killed line: the oom-kill: summary names the task
    oom_group: bool = False  # killed as a member of a memory.oom.group cgroup
    reap: Reap | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """The "Kill process N (comm) score S or sacrifice child" line (kernels before 5.1)."""

    pid: int
    comm: str
    score: int | None
    where: Where


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Counter:
    """A memcg ``usage/limit/failcnt`` triple in kB. ``limit_kb`` None = unlimited."""

    usage_kb: int
    limit_kb: int | None
    failcnt: int | None
    limit_raw_kb: int | None = None  # the number as printed (9007199254740988 = no limit)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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

    def counter(self, name: str) -> int | None:
        for key, value in self.counters_kb:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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

    @property
    def is_memcg(self) -> bool:
        return bool(
            self.oom_memcg
            or (self.memcg and self.memcg.memory)
            or (self.constraint and self.constraint.constraint == "CONSTRAINT_MEMCG")
        )


@dataclass(frozen=True, slots=True)
class AllocFailure:
    """A page allocation failure (warn_alloc): not a kill, often a precursor of one."""

    where: Where
    stamp: Stamp
    comm: str
    order: int | None
    gfp_mask: str | None
    gfp_flags: str | None
    kind: str = "page allocation failure"


@dataclass(frozen=True, slots=True)
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
    kind: str = "kill"  # "kill"; "notice" = systemd's note of a kernel kill (not a kill itself)
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Boot:
    """A boot boundary seen in the input."""

    where: Where
    boot_id: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BootSegment:
    """The lines of one boot of one host in one source, and where that boot sits on the wall
    clock (see :mod:`oomsleuth.anchors`, which builds them).

    ``boot_wall`` is None without anchors (lines with both a wall clock and an uptime). It is
    aware for zoned anchors and naive otherwise; for yearless (syslog) anchors it lies in the
    yearless space: year 1904 + the number of year rollovers seen before it (see anchors.py).
    """

    source: str
    host: str | None
    first_line: int
    last_line: int
    boot_id: str | None = None
    reason: str = "start"  # start, boot banner, boot id changed, Linux version, uptime went back
    boot_wall: datetime | None = None
    anchors: int = 0
    anchor_kind: str | None = None  # "journal" | "syslog" | None
    spread_s: float | None = None  # max - min of the anchors' boot estimates
    drift_s: float | None = None  # step of the anchors' lower envelope: suspend or clock step
    drift_line: int | None = None
    dmesg_t_boot: datetime | None = None  # boot implied by dmesg -T lines that carry an uptime
    rollovers: tuple[int, ...] = ()  # lines where yearless stamps entered a new year
    last_wall: datetime | None = None  # the last wall clock seen, as the log printed it
    framings: tuple[str, ...] = ()
    # boot_wall taken from another source's segment ("source:first_line") with the same lines
    borrowed_from: str | None = None
    # dmesg -T lines matched to that segment: (line, uptime_s there, the dmesg -T wall)
    matched: tuple[tuple[int, float, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class ParseResult:
    reports: tuple[OomReport, ...] = ()
    alloc_failures: tuple[AllocFailure, ...] = ()
    userspace: tuple[UserspaceKill, ...] = ()
    boots: tuple[Boot, ...] = ()
    warnings: tuple[Warning_, ...] = ()
    sources: tuple[str, ...] = ()
    lines_read: int = 0
    framings: tuple[tuple[str, int], ...] = field(default=())  # framing name -> lines seen
    segments: tuple[BootSegment, ...] = ()  # boots per (source, host), with wall-clock anchors
    # filled by correlation (oomsleuth.correlate), after parsing and time resolution
    incidents: tuple[Incident, ...] = ()
    history: History | None = None


# --- history: what hosts keep (sysstat, atop, pidstat, PSI, Prometheus) -----------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """One measurement from a history source, on the wall clock.

    ``entity`` is None for a host-wide metric, ``"pid:1234"`` for a process, ``"cgroup:/path"``
    for a cgroup and ``"container:<id or name>"`` for a container. ``labels`` carry what names the
    entity to a person (``comm``, ``pod``, ``namespace``, ``container``, ``cmdline``...).
    Metric names are canonical (see ``oomsleuth/history/metrics.py``); units are in the name.
    """

    time: datetime  # aware
    metric: str
    value: float
    entity: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    source: str = ""

    def label(self, name: str) -> str | None:
        for key, value in self.labels:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class History:
    """The history kept around the OOM events (only the windows that matter)."""

    samples: tuple[Sample, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()  # (source name, format name)
    warnings: tuple[Warning_, ...] = ()
    restarts: tuple[tuple[datetime, str], ...] = ()  # (time, source): "LINUX RESTART" etc.


# --- incidents: the verdicts of correlation -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suspect:
    """A candidate culprit (or the verdict itself): a process, a cgroup, or memory no process
    owns. ``kind`` is process | cgroup | shmem | kernel | unknown."""

    kind: str
    confidence: float  # 0..1
    evidence: tuple[str, ...] = ()
    pid: int | None = None
    comm: str | None = None
    cgroup: str | None = None
    growth_kb: int | None = None  # growth over the window before the kill
    rate_kb_s: float | None = None


@dataclass(frozen=True, slots=True)
class BadnessRow:
    """The kernel's choice, recomputed from the task table: rss + swap + page tables, in pages,
    adjusted by oom_score_adj (points = adj * total_pages / 1000)."""

    pid: int
    comm: str
    rss_kb: int
    swap_kb: int
    pgtables_kb: int
    oom_score_adj: int
    points_kb: int  # the badness in kB (pages * page size); -1 = unkillable (adj -1000)
    share: float  # of total_pages
    victim: bool = False


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    time: datetime | None
    uptime_s: float | None
    what: str
    kind: str = "note"  # pressure | reclaim | swap | psi | growth | kill | restart | note


@dataclass(frozen=True, slots=True)
class Incident:
    """One OOM report (a memory.oom.group report with several kills is one incident)."""

    id: int
    report_id: int
    start: datetime | None
    end: datetime | None
    trigger_pid: int | None
    trigger_comm: str | None
    victims: tuple[Victim, ...]
    culprit: Suspect
    suspects: tuple[Suspect, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    badness: tuple[BadnessRow, ...] = ()
    badness_note: str | None = None
    cascade: tuple[str, ...] = ()  # the memory-pressure cascade, in words, in order
    scope: str = "global"  # global | memcg | cpuset | mempolicy
    cgroup_label: str | None = None  # decoded oom_memcg / task_memcg, for people
    accounting: tuple[tuple[str, int], ...] = ()  # (what, kB): tasks rss, shmem, slab, limit...
    history_used: tuple[str, ...] = ()  # which history sources informed the verdict
    data_gaps: tuple[str, ...] = ()  # what would have made the verdict surer
