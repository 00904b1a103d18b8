"""Human-readable report for a terminal (rich): a summary line, one panel per OOM report (see
:mod:`oomsleuth.renderers.terminal_panel`) and one line per userspace kill or allocation failure,
in log order, then the warnings not inside a report. Log text is hostile: it reaches rich only
inside ``Text`` objects (never as markup), and always through ``safe_text``.

rich takes ~5-10 ms a panel: with many, the overview table and the panels are rendered in
chunks by the caller's ``side_by_side`` (forked processes, :func:`oomsleuth.api.render`), each
into a string by a console of this one's settings, and written in order: the same bytes."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TextIO, TypeAlias

from rich.console import Console, RenderableType
from rich.text import Text

from oomsleuth.model import (
    AllocFailure,
    Report,
    Stamp,
    UserspaceKill,
    Warning_,
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
    report_warnings,
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


# Runs jobs in other processes, telling ``done(index, result)`` of each in order, as it comes
# in (:func:`oomsleuth.api.render` gives one that forks); it may stop early (no process to
# fork, one lost): the renderer then renders what it was not told itself.
SideBySide: TypeAlias = (
    "Callable[[list[Callable[[], str]], Callable[[int, object], None]], None] | None"
)
SIDE_BY_SIDE = 64  # panels and lines: below this, one process (a panel takes ~5-10 ms)
# panels and lines a job renders (the overview table of all reports: one piece): an eighth of
# them, 16 to 64 (2,000 reports: 13.2 s in chunks of 32, 12.7-12.9 s of 64, 12.6-13.0 s of 128)
CHUNK = (16, 64)


class TerminalRenderer:
    """``width`` None = the terminal's (80 when not a terminal); ``color`` None = automatic
    (colour on a TTY unless ``NO_COLOR`` is set), False = never, True = always;
    ``side_by_side``: renders many panels in other processes (see :data:`SideBySide`)."""

    def __init__(
        self, width: int | None = None, color: bool | None = None, side_by_side: SideBySide = None
    ) -> None:
        self.width = width
        self.color = color
        self.side_by_side = side_by_side

    def console(self, out: TextIO) -> Console:
        return _plain(
            _Console,
            out,
            width=self.width,
            force_terminal=True if self.color else None,
            no_color=None if self.color is None else not self.color,
            color_system=None if self.color is False else "auto",
        )

    def render(self, result: Report, out: TextIO) -> None:
        console = self.console(out)
        console.print(summary_line(result))
        table = overview(result, console.width)  # (made here, printed as the first piece)
        pieces, loose = _pieces(result, console.width)
        if table is not None:
            pieces.insert(0, lambda: table)
        done = 0
        if self.side_by_side is not None and len(pieces) >= SIDE_BY_SIDE:
            size = min(CHUNK[1], max(CHUNK[0], len(pieces) // 8))
            chunks = [pieces[i : i + size] for i in range(0, len(pieces), size)]

            def written(index: int, text: object) -> None:
                nonlocal done
                out.write(str(text))
                done += len(chunks[index])

            self.side_by_side([partial(_rendered, console, c) for c in chunks], written)
        for piece in pieces[done:]:  # all of them, or those no other process rendered
            console.print(piece())
        if loose:
            console.print(Text("Warnings", style="bold yellow"))
            for w in loose:
                text = safe_text(f"{w.where.source}:{w.where.line}: {w.code}: {w.message}")
                console.print(Text.assemble(("! ", "bold yellow"), text))


Piece: TypeAlias = Callable[[], RenderableType]  # one panel or line, built when printed


def _pieces(result: Report, width: int) -> tuple[list[Piece], list[Warning_]]:
    """A panel per report, a line per allocation failure or userspace kill, in log order (not
    built yet), and the warnings that are in no report."""
    rank = source_rank(result)
    loose = sorted(result.warnings, key=lambda w: where_key(rank, w.where))
    incidents = {inc.report_id: inc for inc in result.incidents}
    history = index(result.history.samples) if result.history else {}
    pieces: list[Piece] = []
    for item in items_in_order(result):
        if item.report is not None:
            own, loose = report_warnings(item.report, loose)
            incident = incidents.get(item.report_id) if item.report_id is not None else None
            pieces.append(
                partial(
                    report_panel, item.report, item.report_id, own, rank, width, incident, history
                )
            )
        elif item.alloc is not None:
            pieces.append(partial(alloc_line, item.alloc))
        elif item.userspace is not None:
            pieces.append(partial(userspace_line, item.userspace))
    return pieces, loose


def _rendered(console: Console, pieces: Sequence[Piece]) -> str:
    """The text ``console`` prints for ``pieces``: printed by a console of the same settings
    (width, terminal or not, colours, encoding) into a string, in another process."""
    sink = _Sink(console.encoding)
    twin = _plain(
        Console,
        sink,
        width=console.width,
        height=console.height,
        force_terminal=console.is_terminal,
        color_system=console.color_system,  # (its name, or None)
        no_color=console.no_color,
        legacy_windows=console.legacy_windows,
    )
    for piece in pieces:
        twin.print(piece())
    return sink.getvalue()


def _plain(cls: type[Console], out: TextIO, **settings: Any) -> Console:
    """A console of ``cls`` writing to ``out`` that reads no markup, emoji codes or highlights
    in what it prints (log text is hostile), with ``settings``."""
    return cls(file=out, markup=False, emoji=False, highlight=False, **settings)


class _Sink(io.StringIO):
    """A string that says it is written in ``encoding`` (rich draws its boxes in ASCII for a
    stream whose encoding is not UTF)."""

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


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
