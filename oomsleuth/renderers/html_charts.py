"""Which charts an incident shows: its scope's history (:mod:`html_charts_scope`: the cgroup
against its limit for a memcg OOM, the host's memory and swap for a global one, PSI) and the
RSS of the top suspects, cut to the incident's window on one time axis; then the charts the
report alone draws (:mod:`charts_bars`), so every report with a kill has a picture.

Each (entity, metric) is drawn from ONE history source (the one with the most samples in the
window): sources measure differently (sar, atop and a PSI sampler disagree a little) and a line
that zig-zags between them would tell a story the host never lived.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from markupsafe import Markup

from oomsleuth.model import Incident, OomReport, Report, Sample, Suspect
from oomsleuth.model.record import field, record
from oomsleuth.model.series import Series, index
from oomsleuth.renderers import html_charts_scope as scope
from oomsleuth.renderers.charts import Chart, Line, Mark, TimeAxis, draw
from oomsleuth.renderers.charts_bars import BarChart, report_charts

BEFORE, AFTER = timedelta(minutes=30), timedelta(minutes=5)  # the CLI's default --window
MAX_RSS_LINES = 5
Key = tuple[str | None, str]
ALIASES = {  # what cAdvisor (Prometheus) calls a cgroup's anon, cache (shmem in it) and limit
    "cg_anon_kb": "container_rss_kb",
    "cg_file_kb": "container_cache_kb",
    "cg_mem_max_kb": "container_limit_kb",
}
Cut = tuple[list[datetime], list[float], str]  # times, values, source


@record()
class ChartSet:
    """An incident's charts, drawn, with why some are missing."""

    axis: TimeAxis | None = None
    charts: list[tuple[Chart | BarChart, Markup]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class HistoryIndex:
    """History samples indexed per source, so a chart line never mixes two sources."""

    def __init__(self, samples: Sequence[Sample]) -> None:
        grouped: dict[str, list[Sample]] = defaultdict(list)
        for s in samples:
            grouped[s.source].append(s)
        self.by_source = {src: index(group) for src, group in grouped.items()}

    def __bool__(self) -> bool:
        return bool(self.by_source)

    def cut(self, key: Key, start: datetime, end: datetime) -> Cut | None:
        """The window of ``key`` from the source with the most samples in it (cAdvisor's name
        for the same thing when no source has the canonical one)."""
        found = self._cut(key, start, end)
        alias = ALIASES.get(key[1])
        return found if found or alias is None else self._cut((key[0], alias), start, end)

    def _cut(self, key: Key, start: datetime, end: datetime) -> Cut | None:
        best: Cut | None = None
        for src in sorted(self.by_source):
            series = self.by_source[src].get(key)
            if series is None:
                continue
            times, values = series.window(start, end)
            if times and (best is None or len(times) > len(best[0])):
                best = (times, values, src)
        return best

    def cut_from(self, key: Key, src: str, start: datetime, end: datetime) -> Cut | None:
        series = self.by_source.get(src, {}).get(key)
        if series is None:
            return None
        times, values = series.window(start, end)
        return (times, values, src) if times else None

    def labels(self, key: Key) -> dict[str, str]:
        out: dict[str, str] = {}
        for src in sorted(self.by_source):
            series: Series | None = self.by_source[src].get(key)
            out.update(series.labels if series else {})
        return out


def kill_moment(report: OomReport) -> datetime | None:
    stamp = report.kills[0].stamp if report.kills else report.stamp
    wall = stamp.wall or report.stamp.wall
    return wall if wall is not None and wall.tzinfo is not None else None


def incident_charts(
    result: Report,
    report: OomReport,
    incident: Incident | None,
    hist: HistoryIndex,
    chart_prefix: str,
) -> ChartSet:
    """The charts of one incident: of its scope's history when there is some around the
    kill, then those the report alone draws (memory at the kill, the top tasks)."""
    out = ChartSet()
    kill = kill_moment(report)
    if not hist:
        out.notes.append("no history given: charts over time need --history (sar, atop, PSI)")
    elif kill is None:
        out.notes.append(
            "the kill has no wall-clock time (plain dmesg): pass --boot-time to line it up "
            "with the history"
        )
    else:
        _history_charts(out, result, report, incident, hist, kill, chart_prefix)
    out.charts += [(c, c.svg) for c in report_charts(report, incident, chart_prefix)]
    return out


def _history_charts(
    out: ChartSet,
    result: Report,
    report: OomReport,
    incident: Incident | None,
    hist: HistoryIndex,
    kill: datetime,
    chart_prefix: str,
) -> None:
    start, end = kill - BEFORE, kill + AFTER
    notes = out.notes
    if report.is_memcg and scope.cgroup_key(report):
        found = [scope.memcg(hist, report, start, end, notes)]
    else:
        found = [
            scope.host_memory(hist, report, start, end, notes),
            scope.swap(hist, report, start, end, notes),
        ]
    found += [scope.psi(hist, report, start, end, notes), _rss(hist, report, incident, start, end)]
    built = [c for c in found if c is not None and c.lines]
    if not built:
        notes.append("no history sample of this OOM's scope falls in the window around the kill")
        return
    times = [t for c in built for ln in c.lines for t in (ln.times[0], ln.times[-1])]
    first = min([*times, kill, incident.start if incident and incident.start else kill])
    axis = TimeAxis(first, max([*times, kill]), kill.tzinfo)
    marks = [Mark(kill, f"kill {kill.astimezone(kill.tzinfo):%H:%M:%S}")]
    for other in result.reports:
        when = kill_moment(other)
        if other is not report and when is not None:
            marks.append(Mark(when, f"another OOM kill at {when:%H:%M:%S}", main=False))
    out.axis = axis
    out.charts += [(c, draw(c, axis, marks, f"{chart_prefix}-{c.key}")) for c in built]


def _rss(
    hist: HistoryIndex, report: OomReport, inc: Incident | None, s: datetime, e: datetime
) -> Chart | None:
    lines: list[Line] = []
    drawn = scope.cgroup_key(report) if report.is_memcg else None  # in the cgroup's chart
    for who, roles in _people(report, inc):
        for key in _keys(who):
            cut = hist.cut(key, s, e) if key[0] != drawn else None
            comm = hist.labels(key).get("comm")
            if cut is None or (who.comm and comm and comm[:15] != who.comm[:15]):
                continue  # no data, or a reused pid
            name = (
                f"{who.comm or comm or key[0]} ({who.pid})"
                if who.pid
                else who.name or who.comm or who.cgroup or key[0] or ""
            )
            label = f"{name} · {', '.join(roles)}"
            lines.append(Line(label, cut[0], cut[1], f"s{len(lines)}", source=cut[2]))
            break
        if len(lines) >= MAX_RSS_LINES:
            break
    title = "Memory of the top suspects (RSS, or the container's working set)"
    return Chart("rss", title, "kB", tuple(lines)) if lines else None


def _people(report: OomReport, inc: Incident | None) -> list[tuple[Suspect, list[str]]]:
    """Culprit, suspects, victims and trigger, each once (by pid or cgroup), with its roles."""
    found: list[tuple[Suspect, str]] = []
    if inc is not None and inc.culprit.kind != "unknown":
        found.append((inc.culprit, "culprit"))
    found += [(s, "suspect") for s in (inc.suspects if inc else ())]
    for k in report.kills:
        found.append((Suspect("process", 0.0, pid=k.victim.pid, comm=k.victim.comm), "victim"))
    t = report.trigger
    if t is not None and t.pid is not None:
        found.append((Suspect("process", 0.0, pid=t.pid, comm=t.comm), "trigger"))
    people: dict[object, tuple[Suspect, list[str]]] = {}
    for who, role in found:
        ident = who.pid if who.pid is not None else (who.cgroup or who.entity)
        if not ident and ident != 0:
            continue
        entry = people.setdefault(ident, (who, []))
        if role not in entry[1] and not (role == "suspect" and entry[1]):
            entry[1].append(role)
    return list(people.values())


def _keys(who: Suspect) -> list[Key]:
    if who.pid is not None:
        return [(f"pid:{who.pid}", "proc_rss_kb")]
    if who.entity:  # the series the history named it by (a process group, a container)
        metric = "proc_rss_kb" if who.kind == "process" else "container_working_set_kb"
        keys: list[Key] = [(who.entity, metric)]
        if who.entity.startswith("cgroup:"):
            keys.append((who.entity, "cg_mem_current_kb"))
        return keys
    if who.cgroup:
        return [
            (f"container:{who.cgroup}", "container_working_set_kb"),
            (f"cgroup:{who.cgroup}", "cg_mem_current_kb"),
        ]
    return []
