"""Human-readable report for a terminal (rich): a summary line, one panel per OOM report (see
:mod:`oomsleuth.renderers.terminal_panel`) and one line per userspace kill or allocation failure,
in log order, then the warnings not inside a report. Log text is hostile: it reaches rich only
inside ``Text`` objects (never as markup), and always through ``safe_text``."""

from __future__ import annotations

import errno
import os
from typing import TextIO

from rich.console import Console
from rich.text import Text

from oomsleuth.model import (
    AllocFailure,
    Report,
    Stamp,
    UserspaceKill,
)
from oomsleuth.model.outcomes import (
    gfp_text,
    items_in_order,
    source_rank,
    where_key,
)
from oomsleuth.model.series import index
from oomsleuth.renderers.base import (
    opt,
    plural,
    report_span,
    safe_text,
    stamp_text,
    userspace_details,
    userspace_verb,
)
from oomsleuth.renderers.terminal_panel import Part, report_panel
from oomsleuth.renderers.terminal_story import overview


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """rich exits the process on a broken pipe (``| head``): a library lets its caller
        decide (the CLI exits as if all was written)."""
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


class TerminalRenderer:
    """``width`` None = the terminal's (80 when not a terminal); ``color`` None = automatic
    (colour on a TTY unless ``NO_COLOR`` is set), False = never, True = always."""

    def __init__(self, width: int | None = None, color: bool | None = None) -> None:
        self.width = width
        self.color = color

    def console(self, out: TextIO) -> Console:
        return _Console(
            file=out,
            width=self.width,
            force_terminal=True if self.color else None,
            no_color=None if self.color is None else not self.color,
            color_system=None if self.color is False else "auto",
            markup=False,
            emoji=False,
            highlight=False,
        )

    def render(self, result: Report, out: TextIO) -> None:
        console = self.console(out)
        console.print(summary_line(result))
        table = overview(result, console.width)
        if table is not None:
            console.print(table)
        rank = source_rank(result)
        loose = sorted(result.warnings, key=lambda w: where_key(rank, w.where))
        incidents = {inc.report_id: inc for inc in result.incidents}
        history = index(result.history.samples) if result.history else {}
        for item in items_in_order(result):
            if item.report is not None:
                first, last = report_span(item.report)
                src = item.report.where.source
                own = [w for w in loose if w.where.source == src and first <= w.where.line <= last]
                loose = [w for w in loose if w not in own]
                incident = incidents.get(item.report_id) if item.report_id is not None else None
                panel = report_panel(
                    item.report, item.report_id, own, rank, console.width, incident, history
                )
                console.print(panel)
            elif item.alloc is not None:
                console.print(alloc_line(item.alloc))
            elif item.userspace is not None:
                console.print(userspace_line(item.userspace))
        if loose:
            console.print(Text("Warnings", style="bold yellow"))
            for w in loose:
                text = safe_text(f"{w.where.source}:{w.where.line}: {w.code}: {w.message}")
                console.print(Text.assemble(("! ", "bold yellow"), text))


def summary_line(result: Report) -> Text:
    kills = sum(len(r.kills) for r in result.reports)
    unfinished = sum(1 for r in result.reports if not r.kills)
    userspace = sum(1 for u in result.userspace if u.kind == "kill")
    parts: list[Part] = [("oomsleuth: ", "bold")]
    if not result.reports and not result.userspace and not result.alloc_failures:
        parts.append(("no OOM event found", "bold"))
    else:
        counted = f"{plural(kills, 'kill')} in {plural(len(result.reports), 'OOM report')}"
        parts.append((counted, "bold"))
        parts += [f" ({unfinished} never reached a kill)"] if unfinished else []
        parts.append(f", {plural(userspace, 'userspace kill')}")
        failures = len(result.alloc_failures)
        parts += [f", {plural(failures, 'allocation failure')}"] if failures else []
    parts += [(f", {plural(len(result.warnings), 'warning')}", "yellow")] if result.warnings else []
    sources = ", ".join(safe_text(s) for s in result.sources) or "no input"
    parts.append(f" · sources: {sources} ({plural(result.lines_read, 'line')})")
    return Text.assemble(*parts)


def alloc_line(a: AllocFailure) -> Text:
    gfp = f" gfp {gfp_text(a.gfp_mask, a.gfp_flags)}" if a.gfp_mask else ""
    return Text.assemble(
        _prefix(a.stamp),
        (safe_text(a.kind), "yellow"),
        safe_text(f": {a.comm} order {opt(a.order)}{gfp}  [{a.where.source}:{a.where.line}]"),
    )


def userspace_line(u: UserspaceKill) -> Text:
    verb = userspace_verb(u)
    what = f"{u.killer} {verb}" + (" " if u.kind == "kill" else ": ")
    text = userspace_details(u)
    return Text.assemble(
        _prefix(u.stamp),
        (safe_text(what), "bold red" if u.kind == "kill" else "cyan"),
        safe_text(f"{text}  [{u.where.source}:{u.where.line}]"),
    )


def _prefix(stamp: Stamp) -> str:
    return f"{stamp_text(stamp)}  " if stamp.wall or stamp.uptime_s is not None else ""
