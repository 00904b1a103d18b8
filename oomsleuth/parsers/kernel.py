"""The kernel OOM report state machine: header .. memcg/Mem-Info .. task table .. kill .. reaper.

Input: ``LogLine`` objects (framing already removed). Output: ``OomReport`` and ``AllocFailure``
models plus warnings. Every block is optional; reports may be cut off, interleaved with other
CPUs' lines, or reduced by rate limiting to bare kill lines. Sample input::

    stress invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, ...
    CPU: 3 UID: 1000 PID: 4242 Comm: stress Not tainted 6.12.0 #1
    memory: usage 51200kB, limit 51200kB, failcnt 0
    Tasks state (memory values in pages):
    [  pid  ]   uid  tgid total_vm      rss ... oom_score_adj name
    [   4242]  1000  4242    55342    14367 ...             0 stress
    oom-kill:constraint=CONSTRAINT_MEMCG,...,task=stress,pid=4242,uid=1000
    Memory cgroup out of memory: Killed process 4242 (stress) total-vm:221368kB, ...
"""

from __future__ import annotations

import re
from dataclasses import replace

from oomsleuth.model import (
    AllocFailure,
    LogLine,
    OomReport,
    Reap,
    Selection,
    Stamp,
    Trigger,
    Warning_,
    Where,
)
from oomsleuth.parsers import kernel_lines as kl
from oomsleuth.parsers.kernel_draft import MAX_RAW_LINES, MAX_TRACE, Draft
from oomsleuth.parsers.meminfo import MemInfoDraft
from oomsleuth.parsers.taskdump import parse_row, parse_table_header

GAP_S = 10.0  # a kill line this long after the report's last line starts a new event
_MEMINFO = re.compile(r"^Mem-[Ii]nfo:?\s*$")
_ROWISH = re.compile(r"^\[\s*-?\d+\]\s+-?\d+\s")
RECENT = 16


def is_kernel_line(line: LogLine) -> bool:
    return line.ident is None or line.ident == "kernel"


class KernelParser:
    """Feed it kernel LogLines in log order; ``close()`` then read ``reports`` and friends."""

    def __init__(self) -> None:
        self.reports: list[OomReport] = []
        self.alloc_failures: list[AllocFailure] = []
        self.warnings: list[Warning_] = []
        self._draft: Draft | None = None
        self._suppressed: int | None = None
        self._handed = 0  # reports handed out by settled()

    @property
    def busy(self) -> bool:
        """True while a report is open: every line must then be looked at."""
        return self._draft is not None

    # -- driving -----------------------------------------------------------------------------
    def feed(self, line: LogLine) -> None:
        if line.boot_marker:
            self.close()
            return
        if not is_kernel_line(line):
            return
        s = line.text.strip()
        if not s:
            return
        where = Where(line.source, line.lineno)
        stamp = Stamp(
            line.uptime_s, line.wall, line.host, line.boot_id, wall_kind=line.wall_kind
        )
        d = self._draft
        if d is not None and self._gap(d, line):
            self._finish()
            d = None
        if self._feed_event_line(s, line, where, stamp):
            self._raw(line)
            return
        d = self._draft
        if d is None:
            if not self._starts_fragment(s):
                return
            d = self._start(where, stamp, header=None)
        if d.kills:
            return
        self._raw(line)
        self._feed_body(d, s, line, where)

    def close(self) -> None:
        self._finish(cut="the log ends inside the report")
        if self._suppressed:
            self._warn(
                None,
                "suppressed",
                f"{self._suppressed} OOM report(s) were rate-limited at the end of the input",
            )
            self._suppressed = None

    def settled(self, uptime_s: float | None, *, final: bool = False) -> list[OomReport]:
        """Finished reports that can no longer change, in order, each handed out once: every
        kill has its reaper line, ``RECENT`` newer reports exist, the log's clock is ``GAP_S``
        past the report, or ``final``. See :meth:`forget_handed`."""
        out: list[OomReport] = []
        while self._handed < len(self.reports):
            rep = self.reports[self._handed]
            newer = len(self.reports) - 1 - self._handed
            if not (final or newer >= RECENT or _reaped(rep) or _past(rep, uptime_s)):
                break
            out.append(rep)
            self._handed += 1
        return out

    def forget_handed(self) -> None:
        """Drop handed-out reports beyond the ``RECENT`` a late reaper line may still reach."""
        drop = max(0, self._handed - RECENT)
        if drop:
            del self.reports[:drop]
            self._handed -= drop

    # -- events that open or close reports ------------------------------------------------------
    def _feed_event_line(self, s: str, line: LogLine, where: Where, stamp: Stamp) -> bool:
        header = kl.parse_header(s)
        if header is not None:
            self._finish()
            self._start(where, stamp, header=header)
            if header.gfp_mask is None:
                self._warn(
                    where,
                    "header-unreadable",
                    "the 'invoked oom-killer' line could not be "
                    "read past the task name (cut off or damaged)",
                )
            return True
        killed = kl.parse_killed(s)
        if killed is not None:
            d = self._draft
            if d is None or not self._accepts_kill(d):
                self._finish()
                d = self._start(where, stamp, header=None)
                if self._suppressed is None:
                    self._warn(
                        where,
                        "kill-without-report",
                        f"'Killed process {killed.victim.pid}'"
                        " has no OOM report before it (rate-limited or cut off)",
                    )
            d.kills.append((killed, where, stamp, d.oom_group is not None))
            self._touch(d, line, where)
            return True
        if "Killed process" in s:
            self._warn(
                where,
                "kill-line-unreadable",
                f"a 'Killed process' line could not be read (kept out of the kills): {s[:160]!r}",
            )
            return True
        sel = kl.parse_selection(s)
        if sel is not None:
            d = self._draft
            if d is None or d.kills or d.selection is not None:
                self._finish()
                d = self._start(where, stamp, header=None)
            d.selection = Selection(pid=sel[1], comm=sel[2], score=sel[3], where=where)
            self._touch(d, line, where)
            return True
        summary = kl.parse_summary(s)
        if summary is not None:
            d = self._draft
            if d is None or d.kills or d.summary is not None:
                self._finish()
                d = self._start(where, stamp, header=None)
            d.summary, d.summary_where = summary, where
            self._touch(d, line, where)
            return True
        reaper = kl.parse_reaper(s)
        if reaper is not None:
            self._attach_reap(reaper, where)
            return True
        group = kl.parse_oom_group(s)
        if group is not None:
            d = self._draft or self._start(where, stamp, header=None)
            d.oom_group = group
            self._touch(d, line, where)
            return True
        sup = kl.parse_suppressed(s)
        if sup is not None:
            if sup[0] in kl.OOM_FUNCS or sup[0] == "printk":
                self._finish()
                self._suppressed = (self._suppressed or 0) + sup[1]
                self._warn(
                    where,
                    "suppressed",
                    f"{sup[1]} OOM report header(s) were "
                    f"rate-limited by the kernel ({sup[0]}): kills that follow may lack "
                    "their report",
                )
            return True
        af = kl.parse_alloc_failure(s)
        if af is not None:
            self.alloc_failures.append(AllocFailure(where, stamp, af[0], af[1], af[2], af[3]))
            if self._draft is not None and not self._draft.kills:
                self._draft.notes.append(
                    f"interleaved with a page allocation failure of {af[0]} (line {where.line})"
                )
            return True
        ending = kl.classify_ending(s)
        if ending is not None:
            d = self._draft
            if d is None and ending[0] in ("panic", "no-killable", "deadlock", "ignored"):
                d = self._start(where, stamp, header=None)
            if d is not None and not d.kills:
                if d.ending is None or d.ending[0] in ("no-killable", "interrupted"):
                    d.ending = ending
                self._touch(d, line, where)
                if ending[0] != "no-killable":
                    self._finish()
            return True
        return False

    # -- the body of a report ---------------------------------------------------------------
    def _feed_body(self, d: Draft, s: str, line: LogLine, where: Where) -> None:
        if d.phase == "stack":
            if d.cpu is None:
                cpu = kl.parse_cpu_line(s)
                if cpu is not None:
                    d.cpu = cpu
                    self._touch(d, line, where)
                    return
            if d.cpuset is None and " cpuset=" in s and "mems_allowed=" in s:
                d.cpuset = kl.parse_cpuset_line(s)
                if d.cpuset is not None:
                    return
            if s.startswith("Hardware name:"):
                d.hardware = s.split(":", 1)[1].strip()
                return
        counter = kl.parse_counter(s)
        if counter is not None:
            d.counters.setdefault(counter[0], counter[1])
            d.phase = "memcg"
            self._touch(d, line, where)
            return
        task_in = kl.parse_task_in(s)
        if task_in is not None:
            d.task_in = d.task_in or task_in
            d.phase = "memcg"
            self._touch(d, line, where)
            return
        stats_for = kl.parse_stats_for(s)
        if stats_for is not None:
            if d.stats_path is None:
                d.stats_path = stats_for[0]
                d.stats.extend(stats_for[1])
            d.phase = "stats"
            self._touch(d, line, where)
            return
        prot = kl.parse_protection(s)
        if prot is not None:
            d.protection = prot
            self._touch(d, line, where)
            return
        if _MEMINFO.match(s):
            d.meminfo = d.meminfo or MemInfoDraft()
            d.phase = "meminfo"
            self._touch(d, line, where)
            return
        if s.startswith("Tasks state"):
            d.phase = "tasks"
            self._touch(d, line, where)
            return
        cols = parse_table_header(s)
        if cols is not None:
            d.columns, d.table_seen, d.phase = cols, True, "tasks"
            self._touch(d, line, where)
            return
        if d.phase == "stats":
            stat = kl.parse_stat_line(s)
            if stat is not None:
                if len(d.stats) < 400 and d.stats_path is not None:
                    d.stats.append(stat)
                self._touch(d, line, where)
                return
        if d.phase == "meminfo" and d.meminfo is not None and d.meminfo.feed(s):
            self._touch(d, line, where)
            return
        if _ROWISH.match(s):
            row = parse_row(s, d.columns)
            if row is not None:
                d.rows.append(row)
                d.phase = "tasks"
                self._touch(d, line, where)
            elif d.table_seen:
                d.bad_rows += 1
                self._warn(
                    where,
                    "table-row-unreadable",
                    "task table row does not match its header; skipped",
                )
            return
        if d.phase == "stack" and len(d.trace) < MAX_TRACE:
            d.trace.append(s)

    # -- helpers ----------------------------------------------------------------------------
    def _raw(self, line: LogLine) -> None:
        """Keep the line in the open report's excerpt, up to the cap."""
        d = self._draft
        if d is not None and len(d.raw) < MAX_RAW_LINES:
            d.raw.append((line.lineno, line.text))

    def _starts_fragment(self, s: str) -> bool:
        return bool(
            parse_table_header(s) is not None
            or s.startswith("Tasks state")
            or kl.parse_counter(s) is not None
            or kl.parse_task_in(s) is not None
            or (_ROWISH.match(s) and parse_row(s, None) is not None)
        )

    def _start(self, where: Where, stamp: Stamp, header: Trigger | None) -> Draft:
        d = Draft(where=where, stamp=stamp, trigger=header, has_header=header is not None)
        d.suppressed_before, self._suppressed = self._suppressed, None
        if header is None:
            d.phase = "memcg"
        d.last_uptime = stamp.uptime_s
        d.last_wall_ts = stamp.wall.timestamp() if stamp.wall and stamp.wall.year > 1900 else None
        d.last_where = where
        self._draft = d
        return d

    def _touch(self, d: Draft, line: LogLine, where: Where) -> None:
        if line.uptime_s is not None:
            d.last_uptime = line.uptime_s
        d.last_where = where

    def _gap(self, d: Draft, line: LogLine) -> bool:
        if line.uptime_s is not None and d.last_uptime is not None:
            delta = line.uptime_s - d.last_uptime
            return delta > GAP_S or delta < -GAP_S
        return False

    def _accepts_kill(self, d: Draft) -> bool:
        if d.ending is not None and d.ending[0] != "interrupted":
            return False
        if not d.kills:
            return True
        return d.oom_group is not None

    def _attach_reap(self, r: kl.ReaperLine, where: Where) -> None:
        reap = kl_reap(r, where)
        d = self._draft
        if d is not None and any(k[0].victim.pid == r.pid for k in d.kills):
            d.reaps.setdefault(r.pid, reap)
            return
        for i in range(len(self.reports) - 1, max(-1, len(self.reports) - 1 - RECENT), -1):
            rep = self.reports[i]
            for j, kill in enumerate(rep.kills):
                if kill.victim.pid == r.pid and kill.reap is None:
                    kills = list(rep.kills)
                    kills[j] = replace(kill, reap=reap)
                    self.reports[i] = replace(rep, kills=tuple(kills))
                    return
        self._warn(
            where,
            "reaper-without-kill",
            f"oom_reaper line about pid {r.pid} matches no kill in the input",
        )

    def _finish(self, cut: str | None = None) -> None:
        d, self._draft = self._draft, None
        if d is None:
            return
        if cut and not d.kills and d.ending is None:
            d.notes.append(cut)
        rep = d.finish()
        self.reports.append(rep)
        if rep.outcome != "killed":
            last = rep.end.line if rep.end else rep.where.line
            why = rep.panic or f"no kill line after it (last report line {last})"
            if rep.notes:
                why += "; " + "; ".join(rep.notes)
            self._warn(
                rep.where, f"report-{rep.outcome}", f"OOM report did not reach a kill: {why}"
            )
        if rep.selection is not None and not rep.kills:
            self._warn(
                rep.selection.where,
                "selected-not-killed",
                f"the kernel selected pid {rep.selection.pid} ({rep.selection.comm}) but "
                "no 'Killed process' line follows",
            )

    def _warn(self, where: Where | None, code: str, message: str) -> None:
        self.warnings.append(Warning_(where or Where("-", 0), code, message))


def _reaped(rep: OomReport) -> bool:
    return bool(rep.kills) and all(k.reap is not None for k in rep.kills)


def _past(rep: OomReport, uptime_s: float | None) -> bool:
    stamps = [k.stamp.uptime_s for k in rep.kills] + [rep.stamp.uptime_s]
    last = max((u for u in stamps if u is not None), default=None)
    return uptime_s is not None and last is not None and abs(uptime_s - last) > GAP_S


def kl_reap(r: kl.ReaperLine, where: Where) -> Reap:
    return Reap(
        pid=r.pid,
        comm=r.comm,
        reaped=r.reaped,
        anon_rss_kb=r.anon_kb,
        file_rss_kb=r.file_kb,
        shmem_rss_kb=r.shmem_kb,
        where=where,
    )
