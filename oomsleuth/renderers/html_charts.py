"""Which history an incident's charts show: host memory, swap, PSI, the OOM cgroup against its
limit, and the RSS of the top suspects, all cut to the incident's window on one time axis.

Each (entity, metric) is drawn from ONE history source (the one with the most samples in the
window): sources measure differently (sar, atop and a PSI sampler disagree a little) and a line
that zig-zags between them would tell a story the host never lived.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup

from oomsleuth.model import Incident, OomReport, Report, Sample, Suspect
from oomsleuth.model.series import Series, index
from oomsleuth.renderers.charts import Chart, Level, Line, Mark, TimeAxis, draw

BEFORE, AFTER = timedelta(minutes=30), timedelta(minutes=5)  # the CLI's default --window
MAX_RSS_LINES = 5
NO_LIMIT_KB = 2**50  # larger than any real limit: PAGE_COUNTER_MAX and "max"
Key = tuple[str | None, str]
Cut = tuple[list[datetime], list[float], str]  # times, values, source


@dataclass
class ChartSet:
    """An incident's charts, drawn, with why some are missing."""

    axis: TimeAxis | None = None
    charts: list[tuple[Chart, Markup]] = field(default_factory=list)
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
        best: Cut | None = None
        for src in sorted(self.by_source):
            series = self.by_source[src].get(key)
            if series is None:
                continue
            times, values = series.window(start, end)
            if times and (best is None or len(times) > len(best[0])):
                best = (times, values, src)
        return best

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
    out = ChartSet()
    if not hist:
        out.notes.append("no history given: charts need --history (sar, atop, pidstat, PSI)")
        return out
    kill = kill_moment(report)
    if kill is None:
        out.notes.append(
            "the kill has no wall-clock time (plain dmesg): pass --boot-time to line it up "
            "with the history"
        )
        return out
    start, end = kill - BEFORE, kill + AFTER
    built = [
        c
        for c in (
            _memory(hist, start, end),
            _swap(hist, report, start, end, out.notes),
            _psi(hist, start, end),
            _memcg(hist, report, start, end),
            _rss(hist, report, incident, start, end),
        )
        if c is not None
    ]
    if not built:
        out.notes.append("no history sample falls in the window around this kill")
        return out
    times = [t for c in built for ln in c.lines for t in (ln.times[0], ln.times[-1])]
    first = min([*times, kill, incident.start if incident and incident.start else kill])
    axis = TimeAxis(first, max([*times, kill]), kill.tzinfo)
    marks = [Mark(kill, f"kill {kill.astimezone(kill.tzinfo):%H:%M:%S}")]
    for other in result.reports:
        when = kill_moment(other)
        if other is not report and when is not None:
            marks.append(Mark(when, f"another OOM kill at {when:%H:%M:%S}", main=False))
    out.axis = axis
    out.charts = [(c, draw(c, axis, marks, f"{chart_prefix}-{c.key}")) for c in built]
    return out


def _line(
    hist: HistoryIndex, key: Key, label: str, css: str, s: datetime, e: datetime
) -> Line | None:
    cut = hist.cut(key, s, e)
    return None if cut is None else Line(label, cut[0], cut[1], css, source=cut[2])


def _memory(hist: HistoryIndex, s: datetime, e: datetime) -> Chart | None:
    lines = [
        _line(hist, (None, "mem_available_kb"), "available memory", "s0", s, e),
        _line(hist, (None, "cached_kb"), "page cache", "s1", s, e),
    ]
    kept = tuple(ln for ln in lines if ln is not None)
    return Chart("memory", "Available memory and page cache (host)", "kB", kept) if kept else None


def _swap(
    hist: HistoryIndex, report: OomReport, s: datetime, e: datetime, notes: list[str]
) -> Chart | None:
    total = hist.cut((None, "swap_total_kb"), s, e)
    swap_off = report.meminfo is not None and report.meminfo.total_swap_kb == 0
    if swap_off or (total is not None and max(total[1]) == 0):
        notes.append("swap is off on this host: no swap chart")
        return None
    used = _line(hist, (None, "swap_used_kb"), "swap used", "s0", s, e)
    if used is None:
        return None
    levels = (Level("swap size", total[1][-1]),) if total is not None else ()
    return Chart("swap", "Swap used (host)", "kB", (used,), levels)


def _psi(hist: HistoryIndex, s: datetime, e: datetime) -> Chart | None:
    for suffix, how in (("avg10", "avg10"), ("interval_pct", "per sample interval")):
        lines = [
            _line(hist, (None, f"psi_mem_{kind}_{suffix}"), f"{kind} ({how})", css, s, e)
            for kind, css in (("some", "s0"), ("full", "s1"))
        ]
        kept = tuple(ln for ln in lines if ln is not None)
        if kept:
            title = "Memory pressure stall information (PSI, host): share of time stalled"
            return Chart("psi", title, "%", kept)
    return None


def _memcg(hist: HistoryIndex, report: OomReport, s: datetime, e: datetime) -> Chart | None:
    path = report.oom_memcg or (report.constraint.oom_memcg if report.constraint else None)
    if not path:
        return None
    key = f"cgroup:{path.rstrip('/') or '/'}"
    usage = _line(hist, (key, "cg_mem_current_kb"), "cgroup usage", "s0", s, e)
    if usage is None:
        return None
    limit = report.memcg.memory.limit_kb if report.memcg and report.memcg.memory else None
    if limit is None:
        cut = hist.cut((key, "cg_mem_max_kb"), s, e)
        limit = int(cut[1][-1]) if cut is not None else None
    levels = (Level("limit", limit),) if limit is not None and 0 < limit < NO_LIMIT_KB else ()
    title = f"Memory cgroup usage against its limit: {path}"
    return Chart("memcg", title, "kB", (usage,), levels)


def _rss(
    hist: HistoryIndex, report: OomReport, inc: Incident | None, s: datetime, e: datetime
) -> Chart | None:
    lines: list[Line] = []
    for who, roles in _people(report, inc):
        for key in _keys(who):
            cut = hist.cut(key, s, e)
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
