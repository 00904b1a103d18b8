"""The parts of the terminal report that tell the story across panels: the overview table of
many incidents (when, scope, victim, culprit, confidence), the other suspects with why each
was weighed down, the advice, the kernel's reasons, and text shortened with an ellipsis.
Log text reaches rich only inside ``Text`` objects, through ``safe_text``."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from oomsleuth.model import Incident, OomReport, Report
from oomsleuth.model.outcomes import items_in_order
from oomsleuth.model.units import human_uptime
from oomsleuth.renderers import facts
from oomsleuth.renderers.base import safe_text

Row = tuple[str, Text]
ELLIPSIS = "…"


def shorten(text: str, width: int, middle: bool = False) -> str:
    """``text`` cut to ``width`` characters with an ellipsis: at the end, or in the middle
    (for a path, whose start and end both matter)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    if middle:
        head = (width - 1) // 2
        return text[:head] + ELLIPSIS + text[len(text) - (width - 1 - head) :]
    return text[: width - 1] + ELLIPSIS


def overview(result: Report, width: int) -> Table | None:
    """One row per OOM report when there are several: number, when, scope, victim, culprit,
    confidence; numbered as the panels are."""
    reports = [(i.report_id, i.report) for i in items_in_order(result) if i.report is not None]
    if len(reports) < 2:
        return None
    incidents = {inc.report_id: inc for inc in result.incidents}
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left", expand=False)
    table.title = Text(f"{len(reports)} OOM reports", style="bold")
    wide = width >= 100
    table.add_column("#", justify="right", no_wrap=True, min_width=len(str(len(reports))))
    table.add_column("when", no_wrap=True, min_width=19 if wide else 14)
    table.add_column("scope", no_wrap=True, min_width=6)
    table.add_column("victim", overflow="ellipsis", no_wrap=True, ratio=1)
    table.add_column("culprit", overflow="ellipsis", no_wrap=True, ratio=1)
    table.add_column("conf", justify="right", no_wrap=True, min_width=4)
    for rid, report in reports:
        if rid is None:
            continue
        table.add_row(*_cells(rid, report, incidents.get(rid), width))
    return table


def _cells(rid: int, r: OomReport, inc: Incident | None, width: int) -> tuple[str | Text, ...]:
    stamp = r.kills[0].stamp if r.kills else r.stamp
    if stamp.wall is not None:
        when = stamp.wall.strftime("%Y-%m-%d %H:%M:%S" if width >= 100 else "%m-%d %H:%M:%S")
    elif stamp.uptime_s is not None:
        when = f"up {human_uptime(stamp.uptime_s)}"
    else:
        when = facts.UNKNOWN
    victims = facts.victims(r.kills)
    who = ", ".join(f"{v.comm} ({v.pid})" for v in victims) or f"none: {r.outcome}"
    culprit, conf = facts.UNKNOWN, ""
    if inc is not None:
        culprit = facts.suspect_name(inc.culprit)
        conf = f"{inc.culprit.confidence:.2f}" if inc.culprit.kind != "unknown" else ""
    scope = inc.scope if inc is not None else "memcg" if r.is_memcg else "global"
    style = "bold red" if r.kills else "magenta"
    return (
        str(facts.number(rid)),
        when,
        scope,
        Text(safe_text(who), style=style),
        Text(safe_text(culprit)),
        conf,
    )


def others_rows(inc: Incident) -> list[Row]:
    """The other suspects, each with its confidence and why it was weighed as it was."""
    others = facts.other_suspects(inc)
    if not others:
        return []
    rows: list[Row] = []
    for s, why in others:
        line = f"{facts.suspect_name(s)} {s.confidence:.2f}: {why}"
        rows.append(("Suspects" if not rows else "", Text("• " + safe_text(line), style="dim")))
    rows.append(("", Text(facts.OTHERS_NOTE, style="dim italic")))
    return rows


def advice_rows(inc: Incident) -> list[Row]:
    text = facts.advice(inc)
    return [("Advice", Text(text, style="bold yellow"))] if text else []


def reason_rows(inc: Incident | None) -> list[Row]:
    """The kernel's reasons: each title, then its details."""
    rows: list[Row] = []
    for title, lines in facts.reason_lines(inc):
        rows.append(("Kernel" if not rows else "", Text(safe_text(title), style="bold")))
        rows += [("", Text("  • " + safe_text(line))) for line in lines]
    return rows
