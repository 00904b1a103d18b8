"""The verdicts of correlation: incidents, suspects, the kernel's choice, the timeline."""

from __future__ import annotations

from datetime import datetime

from oomsleuth.model.cascade import CascadeStep
from oomsleuth.model.host import Finding
from oomsleuth.model.kernel import Victim
from oomsleuth.model.record import record


@record(frozen=True, slots=True)
class Suspect:
    """A candidate culprit (or the verdict itself): a process, a cgroup, or memory no process
    owns. ``kind`` is process | cgroup | shmem | kernel | unknown."""

    kind: str
    confidence: float  # 0..1
    evidence: tuple[str, ...] = ()
    pid: int | None = None  # the one process, when the suspect is one
    comm: str | None = None  # its name; a process group's name (process-exporter)
    cgroup: str | None = None
    growth_kb: int | None = None  # growth over the window before the kill
    rate_kb_s: float | None = None
    pids: tuple[int, ...] = ()  # every task-table process the suspect stands for
    entity: str | None = None  # the history series it was seen in ("group:x", "container:y")
    name: str | None = None  # for people, when no comm names it ("container app of pod web-1")


@record(frozen=True, slots=True)
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


@record(frozen=True, slots=True)
class TimelineEntry:
    time: datetime | None
    uptime_s: float | None
    what: str
    kind: str = "note"  # pressure | reclaim | swap | psi | growth | kill | restart | note


@record(frozen=True, slots=True)
class Reason:
    """One of the kernel's reasons, in words (``oomsleuth.correlate.reasons``): ``kind`` is
    gfp | zones | fragmentation | allocations | sacrifice | badness | adj."""

    kind: str
    title: str
    lines: tuple[str, ...] = ()


@record(frozen=True, slots=True)
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
    findings: tuple[Finding, ...] = ()  # what the host's settings did in it (host or bundle)
    steps: tuple[CascadeStep, ...] = ()  # the cascade as data, in time order (``cascade``: words)
    reasons: tuple[Reason, ...] = ()  # the kernel's reasons: gfp, zones, fragmentation, adj ...
