"""Incidents: one per OOM report, with trigger, victims, culprit, suspects and the cascade.

Pure: takes the parse result (times already resolved) and the history kept around the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from oomsleuth.correlate import (
    accounting,
    badness,
    cascade,
    culprit,
    identity,
    requests,
    scopes,
)
from oomsleuth.correlate.cgroups import decode_cgroup
from oomsleuth.model import (
    History,
    Incident,
    OomReport,
    Report,
    Suspect,
    TimelineEntry,
    UserspaceKill,
    Victim,
)
from oomsleuth.model.cascade import step_text
from oomsleuth.model.record import replace
from oomsleuth.model.series import Series, index
from oomsleuth.model.units import human_kb

UNKNOWN_BELOW = 0.25


def _repeats(reports: Sequence[OomReport], i: int, earlier: scopes.Earlier) -> list[str]:
    if earlier.repeats is None:
        return []
    count, first = earlier.repeats
    names = ", ".join(sorted({k.victim.comm for k in reports[i].kills}))
    return [
        f"{names} was killed {count} time(s) before in this scope (first at line "
        f"{reports[first].where.line}): a restarted service killed again"
    ]


def _roles(report: OomReport, verdict: Suspect) -> list[str]:
    trig = report.trigger
    victims = [k.victim for k in report.kills]
    out: list[str] = []
    if trig is not None and trig.order == -1:
        out.append("the OOM killer was run on request (SysRq-f), not by an allocation that failed")
    elif trig is not None and trig.comm and victims:
        v = victims[0]
        if trig.pid is not None and trig.pid != v.pid:
            out.append(
                f"the trigger {trig.comm} ({trig.pid}) asked for memory when none was "
                f"left; the kernel killed {v.comm} ({v.pid}) instead"
            )
    if verdict.kind == "process" and victims and verdict.pid not in {v.pid for v in victims}:
        out.append(f"the victim is not the culprit: {verdict.comm} ({verdict.pid}) lives on")
    return out


def build(
    result: Report,
    history: History,
    *,
    before: timedelta,
    ids: Sequence[int] | None = None,
    earlier: Sequence[scopes.Earlier] | None = None,
) -> tuple[Incident, ...]:
    """An incident for each report (``ids``: for those reports alone, as the whole would give
    them; ``earlier``: :func:`scopes.index` of all reports, when it is known already)."""
    series = index(history.samples)
    sources = tuple(sorted({name for name, _ in history.sources}))
    per_source = cascade.by_source(history.samples)
    reports = result.reports
    earlier = scopes.index(reports) if earlier is None else earlier
    incidents = []
    for i in range(len(reports)) if ids is None else ids:
        report = reports[i]
        incident = _incident(i, reports, earlier[i], series, sources, before)
        incident = _cascade(incident, report, earlier[i], per_source, before)
        request = requests.requested_by(report, result.userspace)
        incidents.append(incident if request is None else _credit(incident, request, report))
    return tuple(incidents)


def _incident(
    i: int,
    reports: Sequence[OomReport],
    earlier: scopes.Earlier,
    series: dict[tuple[str | None, str], Series],
    sources: tuple[str, ...],
    before: timedelta,
) -> Incident:
    report = reports[i]
    when = scopes.kill_time(report)
    total, _ = badness.total_kb(report)
    entries, unowned, acc_notes = accounting.account(report)
    unowned_kb = sum(s.growth_kb or 0 for s in unowned)
    ctx = culprit.Context(report, when, before, series, earlier.previous, total, unowned_kb)
    ranked, notes = _suspects(ctx, unowned, acc_notes)
    verdict = _verdict(ranked, notes + _repeats(reports, i, earlier), report)
    rows, note = badness.explain(report)
    timeline = _kills(report)
    label = decode_cgroup(report.oom_memcg or report.task_memcg)
    return Incident(
        id=i,
        report_id=i,
        start=when,
        end=max((k.stamp.wall for k in report.kills if k.stamp.wall), default=when),
        trigger_pid=report.trigger.pid if report.trigger else None,
        trigger_comm=report.trigger.comm if report.trigger else None,
        victims=tuple(_victims(report)),
        culprit=verdict,
        suspects=tuple(ranked[:8]),
        timeline=tuple(timeline),
        badness=rows,
        badness_note=note,
        scope=scopes.scope(report),
        cgroup_label=label.short() if label and label.kind not in ("other", "root") else None,
        accounting=tuple(entries),
        history_used=sources if series else (),
        data_gaps=tuple(_gaps(report, when, series)),
    )


def _credit(incident: Incident, request: UserspaceKill, report: OomReport) -> Incident:
    """The incident with the daemon that asked for the manual OOM as its trigger."""
    evidence = (*incident.culprit.evidence, requests.note(request, report))
    return replace(
        incident,
        trigger_pid=request.killer_pid,
        trigger_comm=request.killer,
        culprit=replace(incident.culprit, evidence=evidence),
    )


def _suspects(
    ctx: culprit.Context, unowned: list[Suspect], notes: list[str]
) -> tuple[list[Suspect], list[str]]:
    """Every suspect, ranked: memory no process owns, growth in the history, change between
    task tables, else the biggest consumer; and the notes said on the way."""
    found, hist_notes = culprit.from_history(ctx)
    found = [identity.identify(s, ctx.report) for s in found]
    suspects = [*unowned, *found, *culprit.from_tables(ctx)]
    if not suspects:
        suspects += culprit.biggest(ctx)
    return culprit.rank(suspects), notes + hist_notes


def _verdict(ranked: list[Suspect], notes: list[str], report: OomReport) -> Suspect:
    """The culprit: the first suspect unless it is too weak to name, with every note and what
    the trigger and the victims were in it as evidence."""
    if ranked and ranked[0].confidence >= UNKNOWN_BELOW:
        verdict = ranked[0]
    else:
        why = "no suspect stands out" if ranked else "nothing points at a culprit"
        verdict = Suspect("unknown", 0.0, (f"not enough data to name a culprit: {why}",))
    evidence = verdict.evidence + tuple(notes) + tuple(_roles(report, verdict))
    return replace(verdict, evidence=evidence)


def _cascade(
    incident: Incident,
    report: OomReport,
    earlier: scopes.Earlier,
    sources: cascade.Sources,
    before: timedelta,
) -> Incident:
    """The incident with its cascade: steps in time order, their sentences, and the history's
    steps in the timeline before the kills. The window starts ``before`` the kill, or at the
    previous kill of the same scope when that is later."""
    when = scopes.kill_time(report)
    start = None
    if when is not None:
        last = earlier.last_kill
        start = when - before if last is None else max(when - before, last)
    steps = cascade.steps(report, when, start, sources)
    entries = [
        TimelineEntry(s.start, None, step_text(s), _TIMELINE_KIND.get(s.kind, "pressure"))
        for s in steps
        if s.source != cascade.REPORT and s.start is not None
    ]
    timeline = sorted([*entries, *incident.timeline], key=lambda e: (e.time is None, e.time))
    first = entries[0].time if entries else incident.start
    return replace(
        incident,
        steps=tuple(steps),
        cascade=tuple(cascade.words(steps, when)),
        timeline=tuple(timeline),
        start=first,
    )


_TIMELINE_KIND = {
    "usage_grew": "growth",
    "anon_grew": "growth",
    "shmem_grew": "growth",
    "cache_grew": "growth",
    "swap_filled": "swap",
    "swapping_out": "swap",
    "reclaim_kswapd": "reclaim",
    "reclaim_direct": "reclaim",
    "reclaim_stalls": "reclaim",
    "psi_some": "psi",
    "psi_full": "psi",
}


def _kills(report: OomReport) -> list[TimelineEntry]:
    out = []
    for kill in report.kills:
        v = kill.victim
        what = f"killed {v.comm} ({v.pid}), rss {human_kb(v.rss_kb)}"
        out.append(TimelineEntry(kill.stamp.wall, kill.stamp.uptime_s, what, "kill"))
    return out


def _victims(report: OomReport) -> list[Victim]:
    seen: set[int] = set()
    out = []
    for k in report.kills:
        if k.victim.pid not in seen:
            seen.add(k.victim.pid)
            out.append(k.victim)
    return out


def _gaps(
    report: OomReport, when: datetime | None, series: dict[tuple[str | None, str], Series]
) -> list[str]:
    gaps = []
    if not any(
        m in ("proc_rss_kb", "container_working_set_kb", "cg_mem_current_kb") for _, m in series
    ):
        gaps.append(
            "no per-process history (pidstat -r, atop, Prometheus): growth before the "
            "kill cannot be measured"
        )
    if when is None:
        gaps.append(
            "the kill has no wall-clock time (plain dmesg): pass --boot-time or a log "
            "with wall-clock stamps to line it up with history"
        )
    if report.tasks is None:
        gaps.append("the report has no task table")
    return gaps
