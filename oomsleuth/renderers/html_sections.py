"""What one incident's section of the HTML report shows, built from the model for the template:
the verdict first, then charts, the kernel's choice, the task table, the facts, the cascade and
timeline, warnings, and the report's key lines with their line numbers.

Strings here are raw log text: the template escapes them (and ``safe_text`` runs on every
printed value through the environment's ``finalize``)."""

from __future__ import annotations

from oomsleuth.model import BadnessRow, Counter, Incident, Kill, OomReport, TaskRow, Warning_
from oomsleuth.model.outcomes import (
    gfp_text,
    report_reason,
)
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import field, record
from oomsleuth.model.units import human_kb
from oomsleuth.renderers import facts as shared
from oomsleuth.renderers.base import (
    memory_overview,
    opt,
    task_rss,
)
from oomsleuth.renderers.html_charts import ChartSet
from oomsleuth.renderers.verdict import culprit_text

Fact = tuple[str, str]
TOP_BADNESS = 6  # the badness chart draws them too
TOP_TASKS = 18  # the largest tasks shown as a table; the other rows stay in the report's lines
_TASK_ROW = lazy_compile(r"^\s*\[\s*(\d+)\]")


@record()
class Verdict:
    culprit: str
    kind: str
    confidence: float
    level: str  # high | medium | low | unknown
    trigger: str
    victims: list[str]
    evidence: list[str]
    suspects: list[tuple[str, float, str]]  # who, confidence, why it was weighed so
    choice: str | None
    gaps: list[str]
    findings: list[tuple[str, str]]  # text, where it was read
    advice: str | None = None
    reasons: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


@record()
class TaskLine:
    row: TaskRow
    rss_kb: int | None
    marks: list[str]


@record()
class Section:
    anchor: str
    number: int  # 1-based position in the report
    report_id: int
    title: str
    killed: bool
    report: OomReport
    incident: Incident | None
    verdict: Verdict | None
    charts: ChartSet
    when: str = ""
    span: tuple[int, int] = (0, 0)
    badness: list[BadnessRow] = field(default_factory=list)  # the top contenders
    facts: list[Fact] = field(default_factory=list)
    tasks: list[TaskLine] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    quality: list[str] = field(default_factory=list)
    excerpt: list[tuple[int | None, str]] = field(default_factory=list)
    prev: str | None = None
    next: str | None = None


def confidence_level(inc: Incident) -> str:
    c = inc.culprit
    if c.kind == "unknown":
        return "unknown"
    return "high" if c.confidence >= 0.7 else "medium" if c.confidence >= 0.5 else "low"


def verdict(inc: Incident) -> Verdict:
    c = inc.culprit
    trigger = shared.trigger_text(inc.trigger_comm, inc.trigger_pid)
    return Verdict(
        culprit=culprit_text(c),
        kind=c.kind,
        confidence=c.confidence,
        level=confidence_level(inc),
        trigger=trigger,
        victims=[f"{v.comm} ({v.pid}), rss {human_kb(v.rss_kb)}" for v in inc.victims],
        evidence=list(c.evidence),
        suspects=[(culprit_text(s), s.confidence, why) for s, why in shared.other_suspects(inc)],
        choice=inc.badness_note,
        gaps=list(inc.data_gaps),
        findings=[(f.text, f.read_from) for f in inc.findings],
        advice=shared.advice(inc),
        reasons=list(shared.reason_lines(inc)),
    )


def contenders(inc: Incident | None, top: int = TOP_BADNESS) -> list[BadnessRow]:
    """The highest badness first, the victims always among them."""
    rows = sorted(inc.badness if inc else (), key=lambda b: -b.points_kb)
    return rows[:top] + [b for b in rows[top:] if b.victim]


def title(report: OomReport) -> str:
    kills = report.kills
    if not kills:
        return f"OOM report that never reached a kill: {report_reason(report) or report.outcome}"
    scope = "memcg OOM" if report.is_memcg else "OOM"
    group = ", memory.oom.group" if report.oom_group or any(k.oom_group for k in kills) else ""
    victims = shared.victims(kills)
    if len(victims) == 1:
        v = victims[0]
        twice = f" ({len(kills)} kill lines)" if len(kills) > 1 else ""
        return f"{scope} kill{group} of {v.comm} ({v.pid}){twice}"
    return f"{scope} kill{group}: {len(victims)} victims"


def tasks(report: OomReport, top: int = TOP_TASKS) -> list[TaskLine]:
    """The ``top`` largest tasks by rss, then the victims and the trigger if not among them."""
    lines = _task_lines(report)
    return lines[:top] + [t for t in lines[top:] if t.marks]


def _task_lines(report: OomReport) -> list[TaskLine]:
    victims = {k.victim.pid for k in report.kills}
    trigger = report.trigger.pid if report.trigger else None
    out = []
    for row in sorted(report.tasks or (), key=lambda r: -(task_rss(r) or -1)):
        marks = [
            m for m, hit in (("victim", row.pid in victims), ("trigger", row.pid == trigger)) if hit
        ]
        out.append(TaskLine(row, task_rss(row), marks))
    return out


def _without_shown_rows(
    lines: tuple[tuple[int, str], ...], shown: set[int]
) -> list[tuple[int | None, str]]:
    out: list[tuple[int | None, str]] = []
    skipped = 0
    for n, text in lines:
        m = _TASK_ROW.match(text)
        if m is not None and int(m[1]) in shown:
            if not skipped:
                out.append((None, "(task rows shown in the Tasks table above)"))
            skipped += 1
            continue
        out.append((n, text))
    return out


def facts(report: OomReport) -> list[Fact]:
    out: list[Fact] = [
        (label, value)
        for label, value in (
            ("Host", report.stamp.host),
            ("Kernel", report.kernel),
            ("Hardware", report.hardware),
        )
        if value
    ]
    t = report.trigger
    if t is not None:
        manual = " (manual, SysRq-f)" if t.order == -1 else ""
        adj = t.oom_score_adj if t.oom_score_adj is not None else t.oom_adj
        gfp = gfp_text(t.gfp_mask, t.gfp_flags) or "?"
        out.append(("Trigger", f"{t.comm or '?'} pid {opt(t.pid)} uid {opt(t.uid)}"))
        out.append(("Allocation", f"gfp {gfp}, order {opt(t.order)}{manual}, adj {opt(adj)}"))
        if t.cpuset or t.mems_allowed or t.nodemask:
            where = f"mems_allowed={opt(t.mems_allowed)} nodemask={opt(t.nodemask)}"
            out.append(("Cpuset", f"{opt(t.cpuset)} {where}"))
    out += [("Victim", _victim(k, report)) for k in report.kills]
    reason = report_reason(report)
    out += [("Outcome", f"{report.outcome}: {reason}")] if reason is not None else []
    c = report.constraint
    scope = "memcg" if report.is_memcg else "global"
    out.append(("Scope", scope + (f" ({c.constraint})" if c and c.constraint else "")))
    oom_memcg = report.oom_memcg or (c.oom_memcg if c else None)
    task_memcg = report.task_memcg or (c.task_memcg if c else None)
    out += [("Limit hit in", oom_memcg)] if oom_memcg else []
    out += [("Victim's cgroup", task_memcg)] if task_memcg else []
    out += [("memory.oom.group", report.oom_group)] if report.oom_group else []
    m = report.memcg
    if m is not None:
        counters = (("memory", m.memory), ("mem+swap", m.memsw), ("kmem", m.kmem), ("swap", m.swap))
        out += [(f"cgroup {name}", _counter(cnt)) for name, cnt in counters if cnt is not None]
    mi = report.meminfo
    if mi is not None:
        if mi.total_swap_kb == 0:
            out.append(("Swap", "swap off"))
        elif mi.total_swap_kb is not None or mi.free_swap_kb is not None:
            free, total = human_kb(mi.free_swap_kb), human_kb(mi.total_swap_kb)
            out.append(("Swap", f"free {free} of {total}"))
        out.append(("Memory", " · ".join(f"{k} {human_kb(kb)}" for k, kb in memory_overview(mi))))
    return out


def _counter(c: Counter) -> str:
    limit = "no limit" if c.limit_kb is None else f"of {human_kb(c.limit_kb)} limit"
    pct = f" ({100 * c.usage_kb / c.limit_kb:.0f}%)" if c.limit_kb else ""
    fail = f", failcnt {c.failcnt}" if c.failcnt is not None else ""
    return f"{human_kb(c.usage_kb)} {limit}{pct}{fail}"


def _victim(k: Kill, report: OomReport) -> str:
    v, pgtables = k.victim, shared.victim_pgtables(k.victim, report)
    parts = [
        f"{v.comm} ({v.pid}) uid {opt(v.uid)} oom_score_adj {opt(v.oom_score_adj)}:",
        f"rss {human_kb(v.rss_kb)} (anon {human_kb(v.anon_rss_kb)},",
        f"file {human_kb(v.file_rss_kb)}, shmem {human_kb(v.shmem_rss_kb)}),",
        f"total-vm {human_kb(v.total_vm_kb)}, pgtables {human_kb(pgtables)}",
    ]
    parts += ["[oom.group member]"] if k.oom_group else []
    parts += ["[from the oom-kill: summary, no Killed line]"] if k.from_summary else []
    if k.reap is not None:
        parts.append("· reaped" if k.reap.reaped else "· reaper: unable to reap")
    return " ".join(parts)


def quality(report: OomReport) -> list[str]:
    """What makes this report's facts less sure, besides the parser's warnings."""
    out = []
    s = report.stamp
    if s.time_confidence and s.time_confidence != "exact":
        how = f" from {s.time_source}" if s.time_source else ""
        out.append(f"time {s.time_confidence}{how}" + (f": {s.time_note}" if s.time_note else ""))
    elif s.wall is None:
        out.append("no wall-clock time: only the kernel's seconds since boot")
    if report.tasks is None:
        out.append("no task table in the report")
    elif not report.tasks_complete:
        out.append("the task table is incomplete (rows cut off or header missing)")
    if report.page_size_source == "default":
        out.append("page size not printed: assumed 4 KiB")
    if report.suppressed_before:
        n = report.suppressed_before
        out.append(f"{n} callbacks suppressed just before: reports were rate-limited")
    return out + list(report.notes)


def excerpt(report: OomReport, shown: set[int] | None = None) -> list[tuple[int | None, str]]:
    """The report's lines as read (framing removed) with their line numbers, less the task
    rows the Tasks table shows (``shown`` pids: one line says so); for a report kept without
    them, its key lines rewritten from the parsed facts in the kernel's format (None: the
    line's place is not recorded)."""
    if report.lines:
        return _without_shown_rows(report.lines, shown or set())
    t = report.trigger
    lines: list[tuple[int | None, str]] = [(report.where.line, "(start of the OOM report)")]
    if t is not None:
        adj = f"oom_score_adj={t.oom_score_adj}"
        adj = adj if t.oom_score_adj is not None else f"oom_adj={opt(t.oom_adj)}"
        gfp = gfp_text(t.gfp_mask, t.gfp_flags) or "?"
        head = f"{t.comm or '?'} invoked oom-killer: gfp_mask={gfp}, order={opt(t.order)}, {adj}"
        lines = [(report.where.line, head)]
    c = report.constraint
    if c is not None:
        names = ("constraint", "nodemask", "cpuset", "mems_allowed", "oom_memcg", "task_memcg")
        fields = [(n, getattr(c, n)) for n in (*names, "task", "pid", "uid")]
        text = ",".join(f"{k}={v}" for k, v in fields if v is not None)
        lines.append((None, f"oom-kill:{text}" + (",global_oom" if c.global_oom else "")))
    if report.selection is not None:
        s = report.selection
        score = f"score {opt(s.score)} or sacrifice child"
        lines.append((s.where.line, f"Kill process {s.pid} ({s.comm}) {score}"))
    for k in report.kills:
        v = k.victim
        rss = _rss(v.anon_rss_kb, v.file_rss_kb, v.shmem_rss_kb)
        tail = f"UID:{opt(v.uid)} pgtables:{opt(v.pgtables_kb)}kB oom_score_adj:"
        lines.append(
            (
                k.where.line,
                f"{k.message or 'Out of memory'}: Killed process {v.pid} ({v.comm}) "
                f"total-vm:{opt(v.total_vm_kb)}kB, {rss}, {tail}{opt(v.oom_score_adj)}",
            )
        )
        r = k.reap
        if r is not None:
            what = "reaped process" if r.reaped else "unable to reap pid:"
            rss = _rss(r.anon_rss_kb, r.file_rss_kb, r.shmem_rss_kb)
            text = f"oom_reaper: {what} {r.pid} ({r.comm}), now {rss}"
            lines.append((r.where.line if r.where else None, text))
    if report.panic:
        panic = f"Kernel panic - not syncing: {report.panic}"
        lines.append((report.end.line if report.end else None, panic))
    return lines


def _rss(anon: int | None, file: int | None, shmem: int | None) -> str:
    return f"anon-rss:{opt(anon)}kB, file-rss:{opt(file)}kB, shmem-rss:{opt(shmem)}kB"
