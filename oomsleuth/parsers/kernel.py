"""The kernel OOM report state machine: header .. memcg/Mem-Info .. task table .. kill .. reaper.

Input: ``LogLine`` objects (framing already removed). Output: ``OomReport`` and ``AllocFailure``
models plus warnings. Every block is optional; reports may be cut off, interleaved with other
CPUs' lines, or reduced by rate limiting to bare kill lines. This module decides where reports
begin and end, from the lines that open, end or follow them (header, selection, kill, oom_reaper,
rate-limit notices, endings); the lines in between fill the open report through
:mod:`~oomsleuth.parsers.kernel_body`. Sample input::

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

from oomsleuth.model import (
    AllocFailure,
    Constraint,
    LogLine,
    OomReport,
    Run,
    Selection,
    Stamp,
    Trigger,
    Warning_,
    Where,
)
from oomsleuth.parsers import kernel_body as kb
from oomsleuth.parsers import kernel_lines as kl
from oomsleuth.parsers import kernel_outcome_lines as ko
from oomsleuth.parsers import kernel_run
from oomsleuth.parsers import kernel_settle as ks
from oomsleuth.parsers.kernel_body import TOUCHED, feed_body, plain_body
from oomsleuth.parsers.kernel_draft import MAX_RAW_LINES, Draft
from oomsleuth.parsers.kernel_settle import GAP_S


def is_kernel_line(line: LogLine) -> bool:
    return line.ident is None or line.ident == "kernel"


def _stamp(line: LogLine) -> Stamp:
    return Stamp(line.uptime_s, line.wall, line.host, line.boot_id, wall_kind=line.wall_kind)


class KernelParser:
    """Feed it kernel LogLines in log order; ``close()`` then read ``reports`` and friends."""

    def __init__(self, rows_until: int | None = None, max_raw: int = MAX_RAW_LINES) -> None:
        self.reports: list[OomReport] = []
        self.alloc_failures: list[AllocFailure] = []
        self.warnings: list[Warning_] = []
        self._draft: Draft | None = None
        self._suppressed: int | None = None
        self._handed = 0  # reports handed out by settled()
        self._touched: tuple[str, int] | None = None  # see _place
        self.rows_until = rows_until  # bare task rows open reports up to this line (None: all)
        self.max_raw = max_raw  # a report's own lines kept (OomReport.lines; 0: none)

    @property
    def busy(self) -> bool:
        """True while a report is open and not yet at its kill: every line must then be looked
        at. After the kill, only lines that can follow a report matter (``oom_reaper``, more
        kills of an oom group, the next report: all keyword lines, which a prefilter keeps); the
        report stays open until one of them is ``GAP_S`` past it, a boot or the end."""
        return self._draft is not None and not self._draft.kills

    # -- driving -----------------------------------------------------------------------------
    def feed(self, line: LogLine) -> None:
        if line.boot_marker:
            self.close()
            return
        if line.ident is not None and line.ident != "kernel":  # not is_kernel_line(line)
            return
        s = line.text.strip()
        if not s:
            return
        d = self._draft
        if d is not None:
            up, last = line.uptime_s, d.last_uptime  # a gap ends the report (GAP_S either way)
            if up is not None and last is not None and (up - last > GAP_S or up - last < -GAP_S):
                self._finish()
            elif took := plain_body(d, s, line.lineno, line.text, line.uptime_s):
                if took == TOUCHED:
                    self._touched = (line.source, line.lineno)  # d.last_where, built when read
                return  # a memcg stat or call trace line, read for less
        if self._touched is not None:
            self._place()
        where = Where(line.source, line.lineno)
        if ko.EVENT_HINT.search(s) is not None and self._feed_event_line(s, line, where):
            if (d := self._draft) is not None and len(d.raw) < d.max_raw:
                d.raw.append((line.lineno, line.text))  # the line in the report's excerpt
            return
        d = self._draft
        if d is None:
            if not kb.starts_fragment(s, self.rows_until is None or line.lineno <= self.rows_until):
                return
            d = self._start(where, _stamp(line), header=None)
        if d.kills:
            return
        if len(d.raw) < d.max_raw:  # (as above)
            d.raw.append((line.lineno, line.text))
        if not feed_body(d, s, line.uptime_s, where):
            self._warn(
                where, "table-row-unreadable", "task table row does not match its header; skipped"
            )

    def take_run(self, source: str, run: Run, start: int, end: int) -> int:
        """Feed the lines ``start`` to ``end`` of ``run`` (kernel lines of ``source``) while
        each is a body line of the open report that holds no event (:func:`.kernel_run.
        plain_run`), each as :meth:`feed` would: the index of the first it did not take (no
        report open, or at its kill: ``start``)."""
        d = self._draft
        if d is None or d.kills:
            return start
        self._place()
        stop, touched = kernel_run.plain_run(d, source, run, start, end)
        if touched:
            self._touched = (source, touched)
        return stop

    def close(self) -> None:
        self._finish(cut="the log ends inside the report")
        if self._suppressed:
            why = f"{self._suppressed} OOM report(s) were rate-limited at the end of the input"
            self._warn(None, "suppressed", why)
            self._suppressed = None

    def settled(self, uptime_s: float | None, *, final: bool = False) -> list[OomReport]:
        """Finished reports that can no longer change, in order, each handed out once: every
        kill has its reaper line, ``RECENT`` newer reports exist, the log's clock is ``GAP_S``
        past the report, or ``final``. See :meth:`forget_handed`."""
        out: list[OomReport] = []
        while self._handed < len(self.reports):
            rep = self.reports[self._handed]
            newer = len(self.reports) - 1 - self._handed
            if not ks.is_settled(rep, newer, uptime_s, final):
                break
            out.append(rep)
            self._handed += 1
        return out

    def forget_handed(self) -> None:
        """Drop handed-out reports beyond the ``RECENT`` a late reaper line may still reach."""
        drop = max(0, self._handed - ks.RECENT)
        if drop:
            del self.reports[:drop]
            self._handed -= drop

    # -- events that open, end or follow reports ------------------------------------------------
    def _feed_event_line(self, s: str, line: LogLine, where: Where) -> bool:
        """Lines that open, end or follow a report; False for any other line (every one they
        read matches ``ko.EVENT_HINT``)."""
        stamp = _stamp(line)
        if (header := kl.parse_header(s)) is not None:
            self._on_header(header, where, stamp)
        elif (killed := ko.parse_killed(s)) is not None:
            self._on_kill(killed, line, where, stamp)
        elif "Killed process" in s:
            why = "a 'Killed process' line could not be read (kept out of the kills)"
            self._warn(where, "kill-line-unreadable", f"{why}: {s[:160]!r}")
        elif (sel := ko.parse_selection(s)) is not None:
            self._on_selection(sel, line, where, stamp)
        elif (summary := ko.parse_summary(s)) is not None:
            self._on_summary(summary, line, where, stamp)
        elif (reaper := ko.parse_reaper(s)) is not None:
            self._attach_reap(reaper, where)
        elif (group := ko.parse_oom_group(s)) is not None:
            d = self._draft or self._start(where, stamp, header=None)
            d.oom_group = group
            kb.touch(d, line.uptime_s, where)
        elif (sup := ko.parse_suppressed(s)) is not None:
            self._on_suppressed(sup[0], sup[1], where)
        elif (af := ko.parse_alloc_failure(s)) is not None:
            self._on_alloc_failure(af, where, stamp)
        elif (ending := ko.classify_ending(s)) is not None:
            self._on_ending(ending, line, where, stamp)
        else:
            return False
        return True

    def _on_header(self, header: Trigger, where: Where, stamp: Stamp) -> None:
        self._finish()
        self._start(where, stamp, header=header)
        if header.gfp_mask is None:
            why = "the 'invoked oom-killer' line could not be read past the task name"
            self._warn(where, "header-unreadable", f"{why} (cut off or damaged)")

    def _on_kill(self, killed: ko.KilledLine, line: LogLine, where: Where, stamp: Stamp) -> None:
        d = self._draft
        if d is None or not d.accepts_kill():
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
        kb.touch(d, line.uptime_s, where)

    def _on_selection(
        self, sel: ko.SelectionLine, line: LogLine, where: Where, stamp: Stamp
    ) -> None:
        d = self._draft
        if d is None or d.kills or d.selection is not None:
            self._finish()
            d = self._start(where, stamp, header=None)
        d.selection = Selection(pid=sel[1], comm=sel[2], score=sel[3], where=where)
        kb.touch(d, line.uptime_s, where)

    def _on_summary(self, summary: Constraint, line: LogLine, where: Where, stamp: Stamp) -> None:
        d = self._draft
        if d is None or d.kills or d.summary is not None:
            self._finish()
            d = self._start(where, stamp, header=None)
        d.summary, d.summary_where = summary, where
        kb.touch(d, line.uptime_s, where)

    def _on_suppressed(self, func: str, n: int, where: Where) -> None:
        if func in ko.OOM_FUNCS or func == "printk":
            self._finish()
            self._suppressed = (self._suppressed or 0) + n
            self._warn(
                where,
                "suppressed",
                f"{n} OOM report header(s) were "
                f"rate-limited by the kernel ({func}): kills that follow may lack "
                "their report",
            )

    def _on_alloc_failure(self, af: ko.AllocFailureLine, where: Where, stamp: Stamp) -> None:
        self.alloc_failures.append(AllocFailure(where, stamp, af[0], af[1], af[2], af[3]))
        if self._draft is not None and not self._draft.kills:
            self._draft.notes.append(
                f"interleaved with a page allocation failure of {af[0]} (line {where.line})"
            )

    def _on_ending(
        self, ending: tuple[str, str], line: LogLine, where: Where, stamp: Stamp
    ) -> None:
        d = self._draft
        if d is None and ending[0] in ("panic", "no-killable", "deadlock", "ignored"):
            d = self._start(where, stamp, header=None)
        if d is not None and not d.kills:
            if d.ending is None or d.ending[0] in ("no-killable", "interrupted"):
                d.ending = ending
            kb.touch(d, line.uptime_s, where)
            if ending[0] != "no-killable":
                self._finish()

    # -- helpers ----------------------------------------------------------------------------
    def _start(self, where: Where, stamp: Stamp, header: Trigger | None) -> Draft:
        d = Draft(where, stamp, header, header is not None, max_raw=self.max_raw)
        d.suppressed_before, self._suppressed = self._suppressed, None
        if header is None:
            d.phase = "memcg"
        d.last_uptime = stamp.uptime_s
        d.last_wall_ts = stamp.wall.timestamp() if stamp.wall and stamp.wall.year > 1900 else None
        d.last_where = where
        self._draft = d
        return d

    def _attach_reap(self, r: ko.ReaperLine, where: Where) -> None:
        reap = ks.to_reap(r, where)
        d = self._draft
        if d is not None and any(k[0].victim.pid == r.pid for k in d.kills):
            d.reaps.setdefault(r.pid, reap)
        elif not ks.attach_reap(self.reports, reap):
            why = f"oom_reaper line about pid {r.pid} matches no kill in the input"
            self._warn(where, "reaper-without-kill", why)

    def _place(self) -> None:
        """The open report's last line is the stat line plain_body last touched it with: its
        Where, built now (before any other line touches the report, and before it finishes)."""
        at, self._touched = self._touched, None
        if at is not None and self._draft is not None:
            self._draft.last_where = Where(*at)

    def _finish(self, cut: str | None = None) -> None:
        self._place()
        d, self._draft = self._draft, None
        if d is None:
            return
        if cut and not d.kills and d.ending is None:
            d.notes.append(cut)
        rep = d.finish()
        self.reports.append(rep)
        self.warnings += ks.finish_warnings(rep)

    def _warn(self, where: Where | None, code: str, message: str) -> None:
        self.warnings.append(Warning_(where or Where("-", 0), code, message))
