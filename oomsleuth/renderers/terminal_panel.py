"""The panel of one OOM report in the terminal: the verdict and sparklines when correlated, when,
the outcome, the trigger, the kernel's choice, the victims, the scope and its usage, the
report's warnings, then its largest tasks. Log text reaches rich only inside ``Text`` objects,
through ``safe_text``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from oomsleuth.model import Counter, Incident, Kill, OomReport, Stamp, Trigger, Warning_
from oomsleuth.model.outcomes import gfp_text, report_reason
from oomsleuth.model.series import Series
from oomsleuth.model.units import human_kb, short_kb
from oomsleuth.renderers import facts
from oomsleuth.renderers.base import (
    kills_sorted,
    memory_overview,
    opt,
    report_span,
    safe_text,
    stamp_text,
    task_rss,
    top_tasks,
)
from oomsleuth.renderers.terminal_story import shorten
from oomsleuth.renderers.verdict import spark_rows, verdict_rows

TOP_TASKS = 8
COLUMNS = ("pid", "uid", "rss", "anon", "file", "shmem", "swap", "vm", "adj")
NARROW_COLUMNS = (0, 1, 2, 6, 8)  # below WIDE columns of console: no anon/file/shmem/vm
WIDE = 90
Part: TypeAlias = "str | tuple[str, str]"
Row: TypeAlias = "tuple[str, Text]"


def report_panel(
    report: OomReport,
    report_id: int | None,
    warnings: Sequence[Warning_],
    rank: dict[str, int],
    width: int = 100,
    incident: Incident | None = None,
    history: dict[tuple[str | None, str], Series] | None = None,
) -> Panel:
    kills = kills_sorted(report, rank)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in _rows(report, kills, warnings, incident, history):
        grid.add_row(Text(label), value)
    body: list[RenderableType] = [grid]
    if report.tasks:
        body.append(_tasks(report, {k.victim.pid for k in kills}, width >= WIDE))
    first, last = report_span(report)
    return Panel(
        Group(*body),
        title=_title(report, kills, width),
        title_align="left",
        subtitle=_footer(report, report_id, first, last, width),
        subtitle_align="right",
        box=box.ROUNDED,
        border_style="red" if kills else "magenta",
    )


def _rows(
    report: OomReport,
    kills: Sequence[Kill],
    warnings: Sequence[Warning_],
    incident: Incident | None,
    history: dict[tuple[str | None, str], Series] | None,
) -> list[Row]:
    """The panel's rows: the verdict (and sparklines of the history), when, the outcome, the
    trigger, the kernel's choice, the victims, the scope and its usage, the report's warnings."""
    rows = verdict_rows(incident) if incident is not None else []
    if incident is not None and history:
        rows += spark_rows(incident, history, report.oom_memcg)
    rows.append(_when(report.stamp, report.kernel))
    reason = report_reason(report)
    if reason is not None and kills:
        rows.append(_row("Outcome", (safe_text(f"{report.outcome}: {reason}"), "bold red")))
    if report.trigger is not None:
        rows.append(_trigger(report.trigger))
    if report.selection is not None and report.selection.pid not in {k.victim.pid for k in kills}:
        s = report.selection
        rows.append(_row("Selected", f"{safe_text(s.comm)} ({s.pid}) score {opt(s.score)}"))
    rows += [_victim(kill, report) for kill in _once(kills)]
    rows += _scope(report)
    if report.tasks is None:
        rows.append(_row("Tasks", ("no task table in the report", "dim")))
    return rows + [_warning_row(w, report) for w in warnings]


def _trigger(t: Trigger) -> Row:
    parts: list[Part] = [(safe_text(t.comm or "?"), "bold yellow"), f" pid {opt(t.pid)}"]
    parts += [f" uid {t.uid}"] if t.uid is not None else []
    if t.gfp_mask:
        parts.append(f"  gfp {safe_text(gfp_text(t.gfp_mask, t.gfp_flags) or '')}")
    manual = " (manual, SysRq-f)" if t.order == -1 else ""
    parts.append(f"  order {opt(t.order)}{manual}  oom_score_adj {opt(t.oom_score_adj)}")
    return _row("Trigger", *parts)


def _warning_row(w: Warning_, report: OomReport) -> Row:
    place = f"{w.where.source}:" if w.where.source != report.where.source else "line "
    return _row("Warning", (safe_text(f"{place}{w.where.line}: {w.code}: {w.message}"), "yellow"))


def _title(report: OomReport, kills: Sequence[Kill], width: int) -> Text:
    """The panel's title, shortened with an ellipsis to fit the border."""
    room = max(width - 8, 10)
    if not kills:
        reason = report_reason(report) or report.outcome
        text = shorten(safe_text(f"OOM report never reached a kill: {reason}"), room)
        return Text(text, style="bold magenta")
    scope = "memcg OOM" if report.is_memcg else "OOM"
    group = ", memory.oom.group" if report.oom_group or any(k.oom_group for k in kills) else ""
    victims = facts.victims(kills)
    if len(victims) == 1:
        v = victims[0]
        twice = f", {len(kills)} kill lines" if len(kills) > 1 else ""
        text = f"{scope} kill{group}: {v.comm} ({v.pid}){twice}"
    else:
        text = f"{scope} kill{group}: {len(victims)} victims"
    return Text(shorten(safe_text(text), room), style="bold red")


def _footer(report: OomReport, report_id: int | None, first: int, last: int, width: int) -> Text:
    """``incident 3 · path:12-80``: the number first, so a narrow border keeps it."""
    number = f"incident {facts.number(report_id)}" if report_id is not None else "report"
    place = f"{report.where.source}:{first}-{last}"
    room = max(width - len(number) - 10, 12)
    return Text(f"{number} · {shorten(safe_text(place), room, middle=True)}")


def _once(kills: Sequence[Kill]) -> list[Kill]:
    """Each victim once: a memory.oom.group report may print one Killed line twice."""
    seen: set[int] = set()
    out = []
    for kill in kills:
        if kill.victim.pid not in seen:
            seen.add(kill.victim.pid)
            out.append(kill)
    return out


def _when(stamp: Stamp, kernel: str | None) -> Row:
    parts: list[Part] = [(stamp_text(stamp), "bold")]
    parts += [f" · host {safe_text(stamp.host)}"] if stamp.host else []
    parts += [f" · kernel {safe_text(kernel)}"] if kernel else []
    return _row("When", *parts)


def _victim(kill: Kill, report: OomReport) -> Row:
    v = kill.victim
    parts: list[Part] = [(f"{safe_text(v.comm)} ({v.pid})", "bold red")]
    parts.append(f" uid {opt(v.uid)}  oom_score_adj {opt(v.oom_score_adj)}")
    if kill.oom_group:
        parts.append(("  [oom.group member]", "magenta"))
    if kill.from_summary:
        parts.append(("  [from the oom-kill: summary, no Killed line]", "dim"))
    parts.append(
        f"\nrss {human_kb(v.rss_kb)} (anon {human_kb(v.anon_rss_kb)}"
        f", file {human_kb(v.file_rss_kb)}, shmem {human_kb(v.shmem_rss_kb)})"
        f"  total-vm {human_kb(v.total_vm_kb)}"
        f"  pgtables {human_kb(facts.victim_pgtables(v, report))}"
    )
    if kill.reap is not None:
        parts.append("  reaped" if kill.reap.reaped else "  reaper: unable to reap")
    return _row("Victim", *parts)


def _scope(report: OomReport) -> list[Row]:
    c = report.constraint
    scope = "memcg" if report.is_memcg else "global"
    detail = f" ({safe_text(c.constraint)})" if c and c.constraint else ""
    rows = [_row("Scope", (scope, "bold"), detail)]
    oom_memcg = report.oom_memcg or (c.oom_memcg if c else None)
    task_memcg = report.task_memcg or (c.task_memcg if c else None)
    if oom_memcg:
        rows.append(_row("Cgroup", "limit hit in ", (safe_text(oom_memcg), "cyan")))
    if task_memcg:
        label = "" if oom_memcg else "Cgroup"
        rows.append(_row(label, "victim in ", (safe_text(task_memcg), "cyan")))
    m = report.memcg
    if m is not None:
        counters = (("memory", m.memory), ("mem+swap", m.memsw), ("kmem", m.kmem), ("swap", m.swap))
        rows += [_row("Usage", *_usage(name, c)) for name, c in counters if c is not None]
    mi = report.meminfo
    if mi is not None:
        if mi.total_swap_kb == 0:
            rows.append(_row("Swap", ("swap off", "bold")))
        elif mi.total_swap_kb is not None or mi.free_swap_kb is not None:
            free, total = human_kb(mi.free_swap_kb), human_kb(mi.total_swap_kb)
            rows.append(_row("Swap", f"free {free} of {total}"))
        overview = " · ".join(f"{label} {human_kb(kb)}" for label, kb in memory_overview(mi))
        rows.append(_row("Memory", overview))
    return rows


def _usage(name: str, c: Counter) -> list[Part]:
    parts: list[Part] = [f"{name} {human_kb(c.usage_kb)}"]
    if c.limit_kb is None:
        parts.append(" · no limit")
    else:
        pct = f" ({100 * c.usage_kb / c.limit_kb:.0f}%)" if c.limit_kb > 0 else ""
        parts.append((f" of {human_kb(c.limit_kb)} limit{pct}", "bold"))
    parts += [f" · failcnt {c.failcnt}"] if c.failcnt is not None else []
    return parts


def _tasks(report: OomReport, victims: set[int], wide: bool) -> Table:
    shown = top_tasks(report, victims, TOP_TASKS)
    note = f"{len(shown)} of {len(report.tasks or ())} tasks by rss; V victim, T trigger"
    note += "" if report.tasks_complete else "; the table is incomplete"
    table = Table(box=box.SIMPLE_HEAD, caption=note, caption_justify="left", pad_edge=False)
    table.add_column("", no_wrap=True)
    columns = range(len(COLUMNS)) if wide else NARROW_COLUMNS
    for i in columns:
        table.add_column(COLUMNS[i], justify="right", no_wrap=True)
    table.add_column("name", overflow="fold", ratio=1)
    for r, marks in shown:
        sizes = (task_rss(r), r.rss_anon_kb, r.rss_file_kb, r.rss_shmem_kb, r.swap_kb)
        cells = (opt(r.pid), opt(r.uid), *map(short_kb, (*sizes, r.total_vm_kb)))
        cells += (opt(r.oom_score_adj),)
        table.add_row(
            "".join(m[0].upper() for m in marks),
            *(cells[i] for i in columns),
            Text(safe_text(r.comm)),
            style="bold red" if "victim" in marks else "yellow" if marks else None,
        )
    return table


def _row(label: str, *parts: Part) -> Row:
    return label, Text.assemble(*parts)
