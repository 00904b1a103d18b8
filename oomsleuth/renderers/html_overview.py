"""The overview of a report with several OOM events: a timeline strip of every kill (SVG),
repeated victims, kill storms (several kills within minutes) and kills per cgroup."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from oomsleuth.model import Incident, OomReport
from oomsleuth.model.record import field, record
from oomsleuth.renderers.base import (
    safe_text,
)
from oomsleuth.renderers.charts import LEFT, RIGHT, WIDTH, TimeAxis, tick_anchor
from oomsleuth.renderers.html_charts import kill_moment
from oomsleuth.renderers.verdict import culprit_text

STORM_GAP = timedelta(minutes=5)  # kills closer than this belong to one storm
STORM_MIN = 3  # kills in a storm
STRIP_H = 78
GLOBAL = "the whole machine (global OOM)"


@record(frozen=True)
class Event:
    """One point of the overview: a kernel report (killed or not) or a userspace kill."""

    anchor: str
    label: str
    kind: str  # kill | nokill | userspace
    when: datetime | None
    victims: tuple[str, ...] = ()
    cgroup: str = GLOBAL


@record()
class Overview:
    events: list[Event]
    strip: Markup | None = None
    untimed: list[Event] = field(default_factory=list)
    repeats: list[tuple[str, list[Event]]] = field(default_factory=list)
    storms: list[list[Event]] = field(default_factory=list)
    cgroups: list[tuple[str, int, int]] = field(default_factory=list)  # name, kills, reports
    # culprit text, incidents, best confidence, anchors ("not enough data" counted too)
    culprits: list[tuple[str, int, float, list[str]]] = field(default_factory=list)
    victims: list[tuple[str, int]] = field(default_factory=list)  # comm, kills
    first: datetime | None = None
    last: datetime | None = None


def report_event(report: OomReport, incident: Incident | None, anchor: str, label: str) -> Event:
    return Event(
        anchor=anchor,
        label=label,
        kind="kill" if report.kills else "nokill",
        when=kill_moment(report),
        victims=tuple(dict.fromkeys(k.victim.comm for k in report.kills)),
        cgroup=_cgroup(report, incident),
    )


def _cgroup(report: OomReport, incident: Incident | None) -> str:
    path = report.oom_memcg or (report.constraint.oom_memcg if report.constraint else None)
    if not report.is_memcg and not path:
        return GLOBAL
    label = incident.cgroup_label if incident is not None else None
    shown = path or report.task_memcg or "?"
    return f"{shown} ({label})" if label and label != shown else shown


def build_overview(events: Sequence[Event], incidents: Sequence[tuple[str, Incident]]) -> Overview:
    """``incidents``: each correlated incident with its section's anchor."""
    timed = sorted((e for e in events if e.when is not None), key=_when)
    out = Overview(list(events), untimed=[e for e in events if e.when is None])
    out.first, out.last = (_when(timed[0]), _when(timed[-1])) if timed else (None, None)
    named: dict[str, tuple[int, float, list[str]]] = {}
    for anchor, inc in incidents:
        if not inc.victims:
            continue
        text = culprit_text(inc.culprit)
        count, best, anchors = named.get(text, (0, 0.0, []))
        named[text] = (count + 1, max(best, inc.culprit.confidence), [*anchors, anchor])
    out.culprits = sorted(
        ((text, n, best, anchors) for text, (n, best, anchors) in named.items()),
        key=lambda row: (row[0] == "not enough data", -row[1], -row[2]),
    )
    victims = Counter(comm for e in events if e.kind != "nokill" for comm in e.victims)
    out.victims = victims.most_common()
    out.strip = strip(timed) if timed else None
    by_victim: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        for comm in dict.fromkeys(e.victims):
            by_victim[comm].append(e)
    out.repeats = sorted(
        ((comm, evs) for comm, evs in by_victim.items() if len(evs) > 1),
        key=lambda item: (-len(item[1]), item[0]),
    )
    kills = [e for e in timed if e.kind != "nokill"]
    run: list[Event] = []
    for e in kills:
        if run and _when(e) - _when(run[-1]) > STORM_GAP:
            out.storms += [run] if len(run) >= STORM_MIN else []
            run = []
        run.append(e)
    out.storms += [run] if len(run) >= STORM_MIN else []
    kill_counts = Counter(e.cgroup for e in events if e.kind == "kill" for _ in e.victims)
    report_counts = Counter(e.cgroup for e in events if e.kind != "userspace")
    out.cgroups = sorted(
        ((name, kill_counts[name], n) for name, n in report_counts.items()),
        key=lambda row: (-row[1], -row[2], row[0]),
    )
    return out


def _when(e: Event) -> datetime:
    assert e.when is not None
    return e.when


def storm_text(storm: Sequence[Event]) -> str:
    first, last = _when(storm[0]), _when(storm[-1])
    secs = (last - first).total_seconds()
    span = f"{secs:.0f} s" if secs < 120 else f"{secs / 60:.1f} min"
    return f"{len(storm)} kills in {span}, from {first:%Y-%m-%d %H:%M:%S}"


def _few(
    ticks: list[tuple[datetime, str]], years: bool, most: int = 7
) -> list[tuple[datetime, str]]:
    """At most ``most`` ticks: a span of months or years has one a day otherwise, thousands
    of labels on top of each other (dated in full when the span crosses a year)."""
    if len(ticks) <= most:
        return ticks
    step = -(-len(ticks) // most)
    fmt = "%Y-%m-%d" if years else "%m-%d"
    return [(t, t.strftime(fmt)) for t, _ in ticks[::step]]


def strip(events: Sequence[Event]) -> Markup:
    """Every timed event on one horizontal axis; each mark links to its section."""
    first, last = min(map(_when, events)), max(map(_when, events))
    pad = max((last - first) * 0.03, timedelta(seconds=30))
    axis = TimeAxis(first - pad, last + pad, first.tzinfo)
    base = STRIP_H - 36
    end = f"{last:%H:%M}" if last.date() == first.date() else f"{last:%Y-%m-%d %H:%M}"
    title = f"Timeline of {len(events)} OOM events, {first:%Y-%m-%d %H:%M} to {end}"
    out = [
        f'<svg class="strip" viewBox="0 0 {WIDTH} {STRIP_H}" role="img" aria-labelledby="strip-t">',
        f'<title id="strip-t">{escape(title)}</title>',
        f'<line class="frame" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}"/>',
    ]
    for t, label in _few(axis.ticks(most=6), first.year != last.year):
        x = f"{axis.x(t):.1f}"
        out.append(f'<line class="grid" x1="{x}" x2="{x}" y1="8" y2="{base + 4}"/>')
        out.append(
            f'<text class="tick" x="{x}" y="{base + 16}" '
            f'text-anchor="{tick_anchor(axis.x(t))}">{label}</text>'
        )
    for e in events:
        x = f"{axis.x(_when(e)):.1f}"
        shape = (
            f'<circle class="ev {e.kind}" cx="{x}" cy="{base - 14}" r="5"/>'
            if e.kind == "userspace"
            else f'<line class="ev {e.kind}" x1="{x}" x2="{x}" y1="10" y2="{base}"/>'
        )
        tip = escape(safe_text(f"{_when(e):%Y-%m-%d %H:%M:%S} {e.label}"))
        out.append(f'<a href="#{escape(e.anchor)}"><title>{tip}</title>{shape}</a>')
    out.append(
        f'<text class="axis" x="{(LEFT + WIDTH - RIGHT) / 2}" y="{STRIP_H - 2}" '
        f'text-anchor="middle">{escape(axis.label())}</text>'
    )
    out.append("</svg>")
    return Markup("\n".join(out))
