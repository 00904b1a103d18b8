"""The mutable draft of one kernel OOM report and its conversion into the frozen model."""

from __future__ import annotations

from oomsleuth.model import (
    Constraint,
    Counter,
    Kill,
    MemcgInfo,
    OomReport,
    Reap,
    Selection,
    Stamp,
    TaskRow,
    Trigger,
    Victim,
    Where,
)
from oomsleuth.model.record import field, record, replace
from oomsleuth.parsers.kernel_lines import CpuLine
from oomsleuth.parsers.kernel_outcome_lines import KilledLine
from oomsleuth.parsers.meminfo import MemInfoDraft
from oomsleuth.parsers.taskdump import RawRow, to_row

PAGE_SIZES_KB = (4, 8, 16, 32, 64)
MAX_TRACE = 80
MAX_RAW_LINES = 600  # a report's own lines kept for the excerpt (a big task table is cut)


@record()
class Draft:
    where: Where
    stamp: Stamp
    trigger: Trigger | None = None
    has_header: bool = False
    phase: str = "stack"  # stack, memcg, stats, meminfo, tasks
    cpu: CpuLine | None = None
    cpuset: tuple[str, str] | None = None
    hardware: str | None = None
    trace: list[str] = field(default_factory=list)
    counters: dict[str, Counter] = field(default_factory=dict)
    task_in: tuple[str | None, str] | None = None
    stats_path: str | None = None
    stats: list[tuple[str, int]] = field(default_factory=list)
    protection: tuple[int, int] | None = None
    meminfo: MemInfoDraft | None = None
    columns: tuple[str, ...] | None = None
    table_seen: bool = False
    rows: list[RawRow] = field(default_factory=list)
    bad_rows: int = 0
    summary: Constraint | None = None
    selection: Selection | None = None
    kills: list[tuple[KilledLine, Where, Stamp, bool]] = field(default_factory=list)
    summary_where: Where | None = None
    reaps: dict[int, Reap] = field(default_factory=dict)
    oom_group: str | None = None
    ending: tuple[str, str] | None = None
    suppressed_before: int | None = None
    notes: list[str] = field(default_factory=list)
    last_uptime: float | None = None
    last_wall_ts: float | None = None
    last_where: Where | None = None
    raw: list[tuple[int, str]] = field(default_factory=list)
    max_raw: int = MAX_RAW_LINES  # how many of its lines ``raw`` keeps (0: no excerpt)

    def page_size(self) -> tuple[int, str]:
        if self.meminfo is not None and self.meminfo.buddy_page_kb:
            return self.meminfo.buddy_page_kb, "buddy"
        by_pid = {r.pid: r for r in self.rows}  # (the last row of a pid, as dict() keeps)
        for killed, _, _, _ in self.kills:
            row = by_pid.get(killed.victim.pid)
            vm = killed.victim.total_vm_kb
            pages = dict(row.values).get("total_vm") if row else None
            if vm and pages:
                ratio, rest = divmod(vm, pages)
                if rest == 0 and ratio in PAGE_SIZES_KB:
                    return ratio, "kill-vs-table"
        return 4, "default"

    def _memcg(self) -> MemcgInfo | None:
        if not (self.counters or self.stats_path or self.protection):
            return None
        version = None
        if "swap" in self.counters:
            version = "v2"
        elif "memory+swap" in self.counters or "kmem" in self.counters:
            version = "v1"
        return MemcgInfo(
            memory=self.counters.get("memory"),
            memsw=self.counters.get("memory+swap"),
            kmem=self.counters.get("kmem"),
            swap=self.counters.get("swap"),
            version=version,
            stats_path=self.stats_path,
            stats_bytes=tuple(self.stats),
            min_protection_kb=self.protection[0] if self.protection else None,
            low_protection_kb=self.protection[1] if self.protection else None,
        )

    def _victim(self, v: Victim, tasks: dict[int, TaskRow], notes: list[str]) -> Victim:
        row = tasks.get(v.pid)
        uid = v.uid
        if uid is None and self.summary is not None and self.summary.pid == v.pid:
            uid = self.summary.uid
        if uid is None and row is not None:
            uid = row.uid
        adj = v.oom_score_adj
        if adj is None and row is not None:
            adj = row.oom_score_adj
        pgt = v.pgtables_kb
        row_pgt = row.pgtables_kb if row is not None else None
        if pgt is not None and row_pgt is not None and pgt >= 4096 and pgt // 1024 == row_pgt:
            notes.append(
                f"pid {v.pid}: Killed line prints pgtables in bytes labelled kB "
                "(5.4.0 bug); converted"
            )
            pgt = pgt // 1024
        return replace(v, uid=uid, oom_score_adj=adj, pgtables_kb=pgt)

    def accepts_kill(self) -> bool:
        """Whether a ``Killed process`` line belongs to this report: its first kill, or one more
        member of a memory.oom.group kill; never after the report ended without a kill."""
        if self.ending is not None and self.ending[0] != "interrupted":
            return False
        return not self.kills or self.oom_group is not None

    def finish(self) -> OomReport:
        page_kb, page_src = self.page_size()
        notes = list(self.notes)
        tasks: tuple[TaskRow, ...] | None = None
        if self.rows or self.table_seen:
            tasks = tuple(to_row(r, page_kb) for r in self.rows)
        kills = self._kills({t.pid: t for t in tasks or ()}, notes)
        ending = self.ending
        if not kills and any("bpf_out_of_memory" in t or "bpf_oom" in t for t in self.trace):
            notes.append(BPF_NOTE)
        task_memcg, oom_memcg = self._memcg_paths()
        meminfo = (
            self.meminfo.finish(page_kb if page_src != "default" else None)
            if self.meminfo
            else None
        )
        return OomReport(
            where=self.where,
            stamp=self.stamp,
            outcome=_outcome(kills, ending),
            trigger=self._trigger(),
            kernel=self.cpu.release if self.cpu else None,
            hardware=self.hardware,
            call_trace=tuple(self.trace),
            memcg=self._memcg(),
            meminfo=meminfo,
            constraint=self.summary,
            task_memcg=task_memcg,
            oom_memcg=oom_memcg,
            tasks=tasks,
            tasks_complete=self.table_seen and self.bad_rows == 0,
            page_size_kb=page_kb,
            page_size_source=page_src,
            selection=self.selection,
            kills=tuple(kills),
            oom_group=self.oom_group,
            panic=ending[1] if ending else None,
            end=self.last_where,
            suppressed_before=self.suppressed_before,
            notes=tuple(notes),
            lines=tuple(self.raw),
        )

    def _kills(self, tasks: dict[int, TaskRow], notes: list[str]) -> list[Kill]:
        """One Kill per ``Killed process`` line, the victim completed from the task table; with
        none, the one the ``oom-kill:`` summary names (unless the report ended otherwise)."""
        kills: list[Kill] = []
        for killed, where, stamp, group in self.kills:
            victim = self._victim(killed.victim, tasks, notes)
            reap = self.reaps.get(victim.pid)
            kills.append(
                Kill(victim, where, stamp, message=killed.message, oom_group=group, reap=reap)
            )
        ending, summary = self.ending, self.summary
        if (
            not kills
            and summary is not None
            and summary.pid is not None
            and (ending is None or ending[0] == "interrupted")
        ):
            v = Victim(pid=summary.pid, comm=summary.task or "?", uid=summary.uid)
            where = self.summary_where or self.where
            victim = self._victim(v, tasks, notes)
            kills.append(Kill(victim, where, self.stamp, from_summary=True))
            notes.append("no 'Killed process' line: the victim is taken from the oom-kill: summary")
        return kills

    def _trigger(self) -> Trigger | None:
        """The header's trigger with the pid, uid and cpuset of the stack dump's lines."""
        if not (self.has_header or self.cpu):
            return None
        trigger = self.trigger or Trigger()
        if self.cpu is not None:
            trigger = replace(trigger, pid=self.cpu.pid, uid=self.cpu.uid)
        if self.cpuset is not None:
            trigger = replace(trigger, cpuset=self.cpuset[0], mems_allowed=self.cpuset[1])
        return trigger

    def _memcg_paths(self) -> tuple[str | None, str | None]:
        """(task memcg, OOM memcg): the summary's, else the v1 ``Task in`` line's."""
        task_memcg = self.summary.task_memcg if self.summary else None
        oom_memcg = self.summary.oom_memcg if self.summary else None
        if self.task_in is not None:
            task_memcg = task_memcg or self.task_in[0]
            oom_memcg = oom_memcg or self.task_in[1]
        return task_memcg, oom_memcg


BPF_NOTE = (
    "a BPF OOM handler was running (bpf_out_of_memory in the call trace): it decides by itself "
    "whether to kill, and a kill it makes may print no 'Killed process' line"
)


def _outcome(kills: list[Kill], ending: tuple[str, str] | None) -> str:
    if kills:
        return "killed"
    if ending is not None and ending[0] != "interrupted":
        return ending[0]
    return "unfinished"
