"""The self-contained HTML incident report: one file, CSS, script and SVG charts inline, nothing
loaded from the network, a Content-Security-Policy that allows only the hashed inline script.

Per OOM report, the verdict comes first (culprit, confidence, trigger, victims, evidence), then
the charts on one time axis with the kill marked, the kernel's choice, the sortable task table,
the facts, the cascade and timeline, warnings and the report's key lines with line numbers.
Several events get an overview first (timeline strip, repeated victims, kill storms, cgroups).

Log text is hostile: it reaches the page only through Jinja2 autoescaping (after ``safe_text``),
never as markup; the charts escape their own text.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import TextIO

from markupsafe import Markup

from oomsleuth._version import __version__
from oomsleuth.model import Incident, Report, UserspaceKill, Warning_
from oomsleuth.model.outcomes import (
    items_in_order,
    source_rank,
    where_key,
)
from oomsleuth.model.record import field, record
from oomsleuth.renderers import html_sections as sections
from oomsleuth.renderers.base import (
    report_span,
    report_warnings,
    stamp_text,
    userspace_details,
    userspace_verb,
)
from oomsleuth.renderers.html_charts import HistoryIndex, incident_charts
from oomsleuth.renderers.html_overview import (
    Event,
    Overview,
    build_overview,
    report_event,
    storm_text,
)
from oomsleuth.renderers.templating import asset, csp_hash, environment, write_pieces
from oomsleuth.renderers.verdict import culprit_text

TEMPLATE = "report.html.j2"


@record()
class Summary:
    kills: int = 0
    reports: int = 0
    no_kill: int = 0
    userspace: int = 0
    notices: int = 0
    alloc_failures: int = 0
    warnings: int = 0
    sources: tuple[str, ...] = ()
    lines_read: int = 0
    history: list[tuple[str, str]] = field(default_factory=list)


@record()
class Page:
    """Everything the template shows."""

    title: str
    summary: Summary
    sections: list[sections.Section]
    userspace: list[tuple[str, UserspaceKill, str, str]]  # anchor, kill, verb, details
    alloc_failures: list[tuple[str, str]]  # when, text
    overview: Overview | None
    warnings: list[Warning_]  # not inside any report
    history_warnings: list[Warning_]


class HtmlRenderer:
    """Writes one self-contained HTML document. ``title`` replaces the generated title."""

    def __init__(self, *, title: str | None = None) -> None:
        self.title = title

    def render(self, result: Report, out: TextIO) -> None:
        script = asset("report.js")
        css = asset("report.css")
        page = build_page(result, self.title)
        pieces = (
            environment()
            .get_template(TEMPLATE)
            .generate(
                page=page,
                css=Markup(css),
                script=Markup(script),
                script_hash=Markup(csp_hash(script)),
                storm_text=storm_text,
                version=__version__,
                generated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            )
        )
        write_pieces(pieces, out)


def build_page(result: Report, title: str | None = None) -> Page:
    rank = source_rank(result)
    loose = sorted(result.warnings, key=lambda w: where_key(rank, w.where))
    incidents: dict[int, Incident] = {inc.report_id: inc for inc in result.incidents}
    hist = HistoryIndex(result.history.samples if result.history else ())
    secs: list[sections.Section] = []
    events: list[Event] = []
    userspace: list[tuple[str, UserspaceKill, str, str]] = []
    allocs: list[tuple[str, str]] = []
    for item in items_in_order(result):
        if item.report is not None and item.report_id is not None:
            report, rid = item.report, item.report_id
            own, loose = report_warnings(report, loose)
            sec = _section(result, rid, incidents.get(rid), hist, own)
            sec.number = len(secs) + 1
            secs.append(sec)
            events.append(report_event(report, sec.incident, sec.anchor, sec.title))
        elif item.userspace is not None:
            u = item.userspace
            anchor = f"userspace-{len(userspace)}"
            userspace.append((anchor, u, userspace_verb(u), userspace_details(u)))
            if u.kind == "kill":
                label = f"{u.killer} killed {u.comm or u.cgroup or u.pid or '?'}"
                wall = u.stamp.wall if u.stamp.wall and u.stamp.wall.tzinfo else None
                victims = (u.comm,) if u.comm else ()
                events.append(Event(anchor, label, "userspace", wall, victims, u.cgroup or "?"))
        elif item.alloc is not None:
            a = item.alloc
            text = f"{a.kind}: {a.comm} order {a.order if a.order is not None else '?'}"
            allocs.append((stamp_text(a.stamp), f"{text} [{a.where.source}:{a.where.line}]"))
    correlated = [(sec.anchor, sec.incident) for sec in secs if sec.incident is not None]
    for before, after in itertools.pairwise(secs):
        before.next, after.prev = after.anchor, before.anchor
    several = len(secs) > 1 or bool(secs and len(events) > len(secs)) or len(userspace) > 1
    return Page(
        title=title or default_title(result, secs),
        summary=summarize(result),
        sections=secs,
        userspace=userspace,
        alloc_failures=allocs,
        overview=build_overview(events, correlated) if several else None,
        warnings=loose,
        history_warnings=list(result.history.warnings if result.history else ()),
    )


def _section(
    result: Report,
    rid: int,
    inc: Incident | None,
    hist: HistoryIndex,
    warnings: list[Warning_],
) -> sections.Section:
    report = result.reports[rid]
    anchor = f"incident-{rid}"
    return sections.Section(
        anchor=anchor,
        number=rid + 1,
        report_id=rid,
        title=sections.title(report),
        killed=bool(report.kills),
        report=report,
        incident=inc,
        verdict=sections.verdict(inc) if inc is not None else None,
        charts=incident_charts(result, report, inc, hist, anchor),
        when=stamp_text(report.kills[0].stamp if report.kills else report.stamp),
        span=report_span(report),
        facts=sections.facts(report),
        tasks=(shown := sections.tasks(report)),
        warnings=warnings,
        quality=sections.quality(report),
        excerpt=sections.excerpt(report, {t.row.pid for t in shown}),
        badness=sections.contenders(inc),
    )


def summarize(result: Report) -> Summary:
    return Summary(
        kills=sum(len(r.kills) for r in result.reports),
        reports=len(result.reports),
        no_kill=sum(1 for r in result.reports if not r.kills),
        userspace=sum(1 for u in result.userspace if u.kind == "kill"),
        notices=sum(1 for u in result.userspace if u.kind != "kill"),
        alloc_failures=len(result.alloc_failures),
        warnings=len(result.warnings),
        sources=result.sources,
        lines_read=result.lines_read,
        history=list(result.history.sources) if result.history else [],
    )


def default_title(result: Report, secs: list[sections.Section]) -> str:
    if not secs:
        n = sum(1 for u in result.userspace if u.kind == "kill")
        if not n:
            return "oomsleuth: no OOM event found"
        return f"oomsleuth: {n} userspace OOM kill{'s' if n != 1 else ''}"
    if len(secs) > 1:
        kills = sum(len(s.report.kills) for s in secs)
        return f"oomsleuth: {kills} OOM kills in {len(secs)} reports"
    sec = secs[0]
    host = f" on {sec.report.stamp.host}" if sec.report.stamp.host else ""
    when = stamp_text(sec.report.kills[0].stamp if sec.report.kills else sec.report.stamp)
    inc = sec.incident
    if inc is not None and inc.culprit.kind != "unknown":
        return f"oomsleuth: {sec.title}{host} — culprit {culprit_text(inc.culprit)} — {when}"
    return f"oomsleuth: {sec.title}{host} — {when}"
