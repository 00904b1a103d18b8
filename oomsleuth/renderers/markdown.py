"""Markdown report to paste into a GitHub issue or a Jira ticket (GitHub-flavoured Markdown).

Per OOM report: the verdict first (culprit, confidence, trigger, victims, evidence), a summary
table, the largest processes, the kernel's choice, the cascade, the warnings; with several
reports an overview table first. Log text is hostile: it goes into a code span (identifiers:
process names, cgroup paths, hosts, file names) or through :func:`md` (prose), both from
:mod:`oomsleuth.renderers.markdown_text`: it cannot inject Markdown, HTML or a link, and no
table cell holds a raw newline or an unescaped ``|``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from oomsleuth.model import (
    Counter,
    Incident,
    Kill,
    OomReport,
    Report,
    Stamp,
    Suspect,
    TaskRow,
    Victim,
    Warning_,
    Where,
)
from oomsleuth.model.outcomes import (
    Item,
    gfp_text,
    items_in_order,
    report_reason,
    source_rank,
    where_key,
)
from oomsleuth.model.units import human_kb
from oomsleuth.renderers import facts as shared
from oomsleuth.renderers.base import (
    kills_sorted,
    opt,
    plural,
    report_span,
    report_warnings,
    stamp_text,
    task_rss,
    top_tasks,
    userspace_details,
    userspace_verb,
)
from oomsleuth.renderers.markdown_text import bullets, code, md, table
from oomsleuth.renderers.verdict import MAX_EVIDENCE, culprit_text

TOP_TASKS = 10


def who(comm: str | None, pid: int | None) -> str:
    return f"{code(comm)} ({opt(pid)})"


def suspect_md(s: Suspect) -> str:
    """The culprit in words, its identifiers in code spans."""
    if s.kind == "process":
        return who(s.comm, s.pid) if s.pid is not None else code(s.comm)
    if s.kind == "cgroup":
        return f"cgroup {code(s.cgroup)}"
    if s.kind == "shmem":
        return "shmem/tmpfs" + (f" in {code(s.cgroup)}" if s.cgroup else "")
    return md(culprit_text(s))


class MarkdownRenderer:
    """Writes one GFM document: a title and summary, an overview table when there are several
    OOM reports, one section per report, then the other events and the loose warnings."""

    def render(self, result: Report, out: TextIO) -> None:
        out.write("\n\n".join(self.blocks(result)) + "\n")

    def blocks(self, result: Report) -> list[str]:
        rank = source_rank(result)
        items = items_in_order(result)
        incidents = {inc.report_id: inc for inc in result.incidents}
        loose = sorted(result.warnings, key=lambda w: where_key(rank, w.where))
        blocks = ["# oomsleuth report", summary(result)]
        reports = [(i.report_id, i.report) for i in items if i.report and i.report_id is not None]
        if len(reports) > 1:
            blocks += ["## Overview", overview(reports, incidents)]
        for report_id, report in reports:
            own, loose = report_warnings(report, loose)
            n = shared.number(report_id)
            blocks += report_blocks(n, report, incidents.get(report_id), own, rank)
        others = [other_event(i) for i in items if i.report is None]
        if others:
            blocks += ["## Other events", table(("time", "event", "where"), others)]
        if loose:
            blocks += ["## Warnings", bullets(_warning(w) for w in loose)]
        return blocks


def other_event(item: Item) -> tuple[str, str, str]:
    """An allocation failure or a userspace kill, as a row: time, what, where."""
    if item.alloc is not None:
        a = item.alloc
        gfp = f" gfp {code(gfp_text(a.gfp_mask, a.gfp_flags))}" if a.gfp_mask else ""
        what = f"{md(a.kind)}: {code(a.comm)} order {opt(a.order)}{gfp}"
        return md(stamp_text(a.stamp)), what, _place(a.where)
    u = item.userspace
    assert u is not None
    verb = userspace_verb(u) + ("" if u.kind == "kill" else ":")
    what = f"{code(u.killer)} {verb} {md(userspace_details(u))}"
    return md(stamp_text(u.stamp)), what, _place(u.where)


def summary(result: Report) -> str:
    kills = sum(len(r.kills) for r in result.reports)
    userspace = sum(1 for u in result.userspace if u.kind == "kill")
    if not result.reports and not result.userspace and not result.alloc_failures:
        head = "**No OOM event found**"
    else:
        head = f"**{plural(kills, 'kill')} in {plural(len(result.reports), 'OOM report')}**, "
        head += plural(userspace, "userspace kill")
        head += f", {plural(len(result.alloc_failures), 'allocation failure')}"
    head += f", {plural(len(result.warnings), 'warning')}." if result.warnings else "."
    sources = ", ".join(code(s) for s in result.sources) or "no input"
    return f"{head}  \nSources: {sources} ({plural(result.lines_read, 'line')})."


def overview(reports: list[tuple[int, OomReport]], incidents: dict[int, Incident]) -> str:
    rows = []
    for report_id, r in reports:
        n = shared.number(report_id)
        inc = incidents.get(report_id)
        host = r.kills[0].stamp.host if r.kills else r.stamp.host
        victims = ", ".join(who(v.comm, v.pid) for v in shared.victims(r.kills)) or md(r.outcome)
        culprit = suspect_md(inc.culprit) if inc else "?"
        conf = f"{inc.culprit.confidence:.2f}" if inc and inc.culprit.kind != "unknown" else "-"
        cells = (md(_when(r.stamp)), code(host, "-"), "memcg" if r.is_memcg else "global")
        label = code(_cgroup_label(r, inc), "-")
        rows.append((f"[{n}](#incident-{n})", *cells, label, victims, culprit, conf))
    head = ("#", "time", "host", "scope", "cgroup", "victim", "culprit", "confidence")
    return table(head, rows, right=(7,))


def report_blocks(
    n: int, r: OomReport, inc: Incident | None, warnings: list[Warning_], rank: dict[str, int]
) -> list[str]:
    kills = kills_sorted(r, rank)
    first, last = report_span(r)
    blocks = [f"## Incident {n}", title(r, kills) + f"  \n{_place(r.where, first, last)}"]
    blocks += verdict(inc) if inc is not None else ["_Not correlated: no verdict._"]
    blocks += ["### Summary", table(("", ""), facts(r, kills, inc))]
    blocks += task_table(r, {k.victim.pid for k in kills}) if r.tasks else []
    if inc is not None and inc.badness_note:
        blocks += ["### The kernel's choice", md(inc.badness_note)]
    if inc is not None and inc.reasons:
        said = [
            f"- **{md(title)}**" + "".join(f"\n  - {md(line)}" for line in lines)
            for title, lines in shared.reason_lines(inc)
        ]
        blocks += ["### The kernel's reasons", "\n".join(said)]
    if inc is not None and inc.cascade:
        blocks += ["### Cascade", "\n".join(f"{i}. {md(w)}" for i, w in enumerate(inc.cascade, 1))]
    if warnings:
        blocks += ["### Warnings", bullets(_warning(w) for w in warnings)]
    return blocks


def task_table(r: OomReport, victims: set[int]) -> list[str]:
    shown = top_tasks(r, victims, TOP_TASKS)
    rows = [(", ".join(m), str(t.pid), code(t.comm), *_sizes(t)) for t, m in shown]
    note = f"{len(shown)} of {len(r.tasks or ())} tasks, largest rss first"
    note += "" if r.tasks_complete else "; the task table is incomplete"
    head = ("", "pid", "comm", "rss", "swap", "oom_score_adj")
    return ["### Top processes", f"{note}:", table(head, rows, right=(1, 3, 4, 5))]


def _sizes(t: TaskRow) -> tuple[str, str, str]:
    return human_kb(task_rss(t)), human_kb(t.swap_kb), opt(t.oom_score_adj)


def title(r: OomReport, kills: Sequence[Kill]) -> str:
    if not kills:
        return f"**OOM report never reached a kill:** {md(report_reason(r) or r.outcome)}"
    scope = "memcg OOM kill" if r.is_memcg else "OOM kill"
    group = ", memory.oom.group" if r.oom_group or any(k.oom_group for k in kills) else ""
    return f"**{scope}{group}** of " + ", ".join(who(v.comm, v.pid) for v in shared.victims(kills))


def verdict(inc: Incident) -> list[str]:
    c = inc.culprit
    head = f"**Culprit:** {suspect_md(c)}, confidence {c.confidence:.2f}"
    head = "**Culprit:** not enough data to name one" if c.kind == "unknown" else head
    victims = ", ".join(who(v.comm, v.pid) for v in inc.victims) or "none"
    trigger = who(inc.trigger_comm, inc.trigger_pid)
    if inc.trigger_comm is None and inc.trigger_pid is None:
        trigger = shared.NOT_IN_REPORT
    head += f"  \n**Trigger:** {trigger}  \n**Victim:** {victims}"
    blocks = ["### Verdict", head]
    evidence = [md(e) for e in c.evidence[:MAX_EVIDENCE]]
    blocks += [bullets(evidence)] if evidence else []
    others = [
        f"{suspect_md(s)} {s.confidence:.2f}: {md(why)}" for s, why in shared.other_suspects(inc)
    ]
    blocks += [f"Other suspects ({shared.OTHERS_NOTE}):\n" + bullets(others)] if others else []
    advice = shared.advice(inc)
    blocks += [f"**Advice:** {md(advice)}"] if advice else []
    if (c.kind == "unknown" or c.confidence < 0.5) and inc.data_gaps:
        blocks.append("What would make it surer:\n" + bullets(md(g) for g in inc.data_gaps))
    if inc.findings:
        said = bullets(f"{md(f.text)} ({md(f.read_from)})" for f in inc.findings)
        blocks.append("What the host's settings did:\n" + said)
    return blocks


def facts(r: OomReport, kills: Sequence[Kill], inc: Incident | None) -> list[tuple[str, str]]:
    c, m, mi, t = r.constraint, r.memcg, r.meminfo, r.trigger
    host = kills[0].stamp.host if kills and kills[0].stamp.host else r.stamp.host
    scope = inc.scope if inc is not None else "memcg" if r.is_memcg else "global"
    scope += f" ({code(c.constraint)})" if c and c.constraint else ""
    rows = [("Time", md(stamp_text(r.stamp))), ("Host", code(host, "-"))]
    rows += [("Kernel", code(r.kernel)), ("Scope", scope)]
    oom_memcg = r.oom_memcg or (c.oom_memcg if c else None)
    task_memcg = r.task_memcg or (c.task_memcg if c else None)
    label = _cgroup_label(r, inc)
    rows += [("Cgroup", code(label))] if label and label not in (oom_memcg, task_memcg) else []
    rows += [("Limit hit in", code(oom_memcg))] if oom_memcg else []
    rows += [("Victim cgroup", code(task_memcg))] if task_memcg and task_memcg != oom_memcg else []
    if m is not None:
        counters = (("memory", m.memory), ("mem+swap", m.memsw), ("kmem", m.kmem), ("swap", m.swap))
        rows += [(f"Memcg {name}", _usage(cnt)) for name, cnt in counters if cnt is not None]
    if mi is not None and mi.total_swap_kb == 0:
        rows.append(("Swap", "off"))
    elif mi is not None and (mi.total_swap_kb is not None or mi.free_swap_kb is not None):
        rows.append(("Swap", f"free {human_kb(mi.free_swap_kb)} of {human_kb(mi.total_swap_kb)}"))
    if t is not None:
        gfp = gfp_text(t.gfp_mask, t.gfp_flags)
        what = who(t.comm, t.pid) + (f" gfp {code(gfp)}" if gfp else "")
        what += f" order {opt(t.order)}" + (" (SysRq-f)" if t.order == -1 else "")
        rows.append(("Trigger", what + f", oom_score_adj {opt(t.oom_score_adj)}"))
    rows += [("Victim", _victim(v)) for v in shared.victims(kills)]
    reason = report_reason(r) if kills else None
    rows += [("Outcome", md(f"{r.outcome}: {reason}"))] if reason else []
    return rows


def _victim(v: Victim) -> str:
    size = f"rss {human_kb(v.rss_kb)} (anon {human_kb(v.anon_rss_kb)}, file "
    size += f"{human_kb(v.file_rss_kb)}, shmem {human_kb(v.shmem_rss_kb)})"
    return f"{who(v.comm, v.pid)} {size}, oom_score_adj {opt(v.oom_score_adj)}"


def _when(stamp: Stamp) -> str:
    """The wall clock to the second when known, else the uptime: for the overview."""
    wall = stamp.wall
    return stamp_text(stamp) if wall is None else wall.isoformat(sep=" ", timespec="seconds")


def _cgroup_label(r: OomReport, inc: Incident | None) -> str | None:
    return (inc.cgroup_label if inc else None) or r.oom_memcg or r.task_memcg


def _usage(c: Counter) -> str:
    pct = f" ({100 * c.usage_kb / c.limit_kb:.0f}%)" if c.limit_kb else ""
    text = ", no limit" if c.limit_kb is None else f" of {human_kb(c.limit_kb)}{pct}"
    return human_kb(c.usage_kb) + text + ("" if c.failcnt is None else f", failcnt {c.failcnt}")


def _warning(w: Warning_) -> str:
    return f"{_place(w.where)} {code(w.code)}: {md(w.message)}"


def _place(where: Where, first: int | None = None, last: int | None = None) -> str:
    span = f"{first}-{last}" if first is not None and last is not None else str(where.line)
    return code(f"{where.source}:{span}")
