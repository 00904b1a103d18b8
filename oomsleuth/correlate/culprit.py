"""Who grew, or what filled memory: culprit candidates from every kind of evidence.

Each source of evidence proposes ``Suspect`` objects with a confidence; ``rank`` merges the ones
that name the same thing (independent evidence adds up: 1 - (1-a)(1-b)) and sorts them.
Evidence, strongest first: per-process or per-container growth before the kill (history); the
change between successive task tables of the same boot; memory no process owns (shmem/tmpfs,
unreclaimable slab); the size of the biggest consumer when nothing else is known.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from oomsleuth.correlate.series import Growth, growth
from oomsleuth.model import OomReport, Suspect, TaskRow
from oomsleuth.model.record import record, replace
from oomsleuth.model.series import Series
from oomsleuth.model.units import human_kb

MIN_GROWTH_KB = 8 * 1024


@record(frozen=True)
class Context:
    report: OomReport
    kill_time: datetime | None
    before: timedelta
    series: dict[tuple[str | None, str], Series]
    previous: OomReport | None = None  # the previous report of the same scope and boot
    total_kb: int | None = None  # the memcg limit, or RAM; what "a lot" is measured against
    unowned_kb: int = 0  # shmem/slab no task holds (accounting): competes with process growth


def _same_comm(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return a[:15] == b[:15]


def _table_match(report: OomReport, pid: int, comm: str | None) -> TaskRow | None:
    for row in report.tasks or ():
        if row.pid == pid and (comm is None or _same_comm(row.comm, comm)):
            return row
    return None


def _significant(delta_kb: float, ctx: Context) -> bool:
    floor = MIN_GROWTH_KB
    if ctx.total_kb:
        floor = max(floor, ctx.total_kb // 50)
    return delta_kb >= floor


def human_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _cgroup_candidate(path: str, report: OomReport) -> bool:
    """A cgroup can be a culprit when it lies inside the OOM's scope and is not the scope
    itself (a memcg reaching its own limit names no culprit), nor one of its ancestors."""
    scope = report.oom_memcg if report.is_memcg else None
    if scope is None:
        return True
    scope = scope.rstrip("/") or "/"
    path = path.rstrip("/") or "/"
    return path != scope and path.startswith(scope if scope == "/" else scope + "/")


_GROWING = ("proc_rss_kb", "container_working_set_kb", "cg_mem_current_kb")


def from_history(ctx: Context) -> tuple[list[Suspect], list[str]]:
    """Per-process (pidstat, atop, process-exporter) and per-container growth before the kill."""
    notes: list[str] = []
    if ctx.kill_time is None:
        return [], notes
    start, end = ctx.kill_time - ctx.before, ctx.kill_time + timedelta(seconds=1)
    victims = {k.victim.pid: k.victim.comm for k in ctx.report.kills}
    rises: list[tuple[Suspect, float]] = []
    for (entity, metric), series in ctx.series.items():
        if entity is None or metric not in _GROWING:
            continue
        g = growth(*series.window(start, end))
        if g is None:
            continue
        comm = series.labels.get("comm")
        pid = int(entity[4:]) if entity.startswith("pid:") and entity[4:].isdigit() else None
        if entity.startswith("cgroup:") and not _cgroup_candidate(entity[7:], ctx.report):
            continue
        if pid is not None and ctx.report.tasks and _table_match(ctx.report, pid, comm) is None:
            continue  # a process outside this OOM's scope (another cgroup), or a reused pid
        if pid is not None and pid in victims and g.delta < max(MIN_GROWTH_KB, 0.05 * g.high):
            notes.append(
                f"the victim {victims[pid]} ({pid}) was flat before the kill: "
                f"{human_kb(int(g.delta))} over {human_duration(g.seconds)} — an innocent bystander"
            )
        if _significant(g.delta, ctx):
            rises.append(_rise(entity, metric, series, g, comm, pid))
    # shares of what filled memory: the rises, and memory no process owns (tmpfs, slab)
    total = max(sum(weight for _, weight in rises), ctx.unowned_kb) or 1.0
    out = [replace(s, confidence=round(0.45 + 0.5 * w / total, 2)) for s, w in rises]
    return out + _scope_growth(ctx, start, end), notes


def _rise(
    entity: str, metric: str, series: Series, g: Growth, comm: str | None, pid: int | None
) -> tuple[Suspect, float]:
    """A process or cgroup that grew before the kill (confidence set later, from the shares)
    and its weight: the growth, discounted when unsteady or flat at the end (a warm-up)."""
    kind = "process" if metric == "proc_rss_kb" else "cgroup"
    cgroup = entity.split(":", 1)[1] if kind == "cgroup" else series.labels.get("cgroup")
    src = ", ".join(sorted(series.sources)) or "history"
    name = comm or _entity_name(entity, series.labels)
    ev = (
        f"{name} grew {human_kb(int(g.delta))} in the {human_duration(g.seconds)} "
        f"before the kill ({human_kb(int(g.rate_s * 60))}/min, {g.steady:.0%} of steps up; {src})"
    )
    if g.recent < 0.5:
        ev += f"; flat for the last {human_duration(g.plateau_s)} (a warm-up, not a leak)"
    rate = round(g.rate_s, 1)
    suspect = Suspect(kind, 0.0, (ev,), pid=pid, comm=comm, cgroup=cgroup,
                      growth_kb=int(g.delta), rate_kb_s=rate, entity=entity,
                      name=None if comm else name)  # fmt: skip
    return suspect, g.delta * g.steady * g.recent


def _entity_name(entity: str, labels: dict[str, str]) -> str:
    """How people call a history entity: a container by its name and pod, a group or cgroup
    by its name or path."""
    kind, _, what = entity.partition(":")
    if labels.get("container") and labels.get("pod"):
        return f"container {labels['container']} of pod {labels['pod']}"
    if kind == "group":
        return f"process group {what}"
    if kind == "container":
        return f"container {labels.get('name') or what}"
    return f"cgroup {what}" if kind == "cgroup" else what


def _scope_growth(ctx: Context, start: datetime, end: datetime) -> list[Suspect]:
    """The OOM cgroup's own usage grew and one task holds most of what its tasks hold."""
    report = ctx.report
    series = ctx.series.get((f"cgroup:{report.oom_memcg}", "cg_mem_current_kb"))
    rows = [r for r in report.tasks or () if r.rss_kb]
    if series is None or not rows:
        return []
    g = growth(*series.window(start, end))
    if g is None or not _significant(g.delta, ctx):
        return []
    top = max(rows, key=lambda r: r.rss_kb or 0)
    share = (top.rss_kb or 0) / (sum(r.rss_kb or 0 for r in rows) or 1)
    if share < 0.75:
        return []
    ev = (
        f"the cgroup grew {human_kb(int(g.delta))} in the {human_duration(g.seconds)} before the "
        f"kill and {top.comm} ({top.pid}) holds {share:.0%} of what its tasks hold"
    )
    return [
        Suspect(
            "process",
            round(0.35 + 0.3 * share, 2),
            (ev,),
            pid=top.pid,
            comm=top.comm,
            growth_kb=int(g.delta),
            rate_kb_s=round(g.rate_s, 1),
        )
    ]


def from_tables(ctx: Context) -> list[Suspect]:
    """Without per-process history: the change between this task table and the previous one."""
    prev, now = ctx.previous, ctx.report
    if prev is None or not prev.tasks or not now.tasks:
        return []
    dt = None
    if now.stamp.uptime_s is not None and prev.stamp.uptime_s is not None:
        dt = now.stamp.uptime_s - prev.stamp.uptime_s
    before = {(r.pid, r.comm): r for r in prev.tasks}
    rises: list[tuple[TaskRow, int]] = []
    for row in now.tasks:
        old = before.get((row.pid, row.comm))
        if old is not None and row.rss_kb is not None and old.rss_kb is not None:
            delta = row.rss_kb - old.rss_kb
            if _significant(delta, ctx):
                rises.append((row, delta))
    total = sum(d for _, d in rises) or 1
    out = []
    for row, delta in rises:
        span = f" in {dt / 60:.0f} min" if dt and dt > 0 else ""
        ev = (
            f"{row.comm} ({row.pid}) grew {human_kb(delta)}{span} between the previous OOM "
            f"report (line {prev.where.line}) and this one"
        )
        rate = round(delta / dt, 1) if dt and dt > 0 else None
        out.append(
            Suspect(
                "process",
                round(0.35 + 0.3 * delta / total, 2),
                (ev,),
                pid=row.pid,
                comm=row.comm,
                growth_kb=delta,
                rate_kb_s=rate,
            )
        )
    return out


def biggest(ctx: Context) -> list[Suspect]:
    """When nothing else is known: the task that holds most of the memory."""
    rows = [r for r in ctx.report.tasks or () if r.rss_kb]
    if not rows:
        return []
    top = max(rows, key=lambda r: r.rss_kb or 0)
    held = sum(r.rss_kb or 0 for r in rows)
    base = ctx.total_kb or held
    # rss also counts file pages charged elsewhere, so it can exceed the limit: cap the share
    share = min((top.rss_kb or 0) / base, 1.0) if base else 0.0
    if share < 0.3:
        return []
    trig = ctx.report.trigger
    allocating = trig is not None and trig.pid == top.pid
    ev = (
        f"{top.comm} ({top.pid}) holds {human_kb(top.rss_kb)}, {share:.0%} of "
        f"{'the limit' if ctx.report.is_memcg else 'memory'}: the biggest consumer"
        + (" and the task allocating when memory ran out" if allocating else "")
        + "; without history its growth cannot be shown"
    )
    # being the biggest is not being the culprit: alone it stays below a verdict, unless the
    # same task dominates the memory and was the one allocating
    conf = 0.3 + 0.2 * share if allocating and share >= 0.5 else 0.2
    return [Suspect("process", round(conf, 2), (ev,), pid=top.pid, comm=top.comm)]


def _key(s: Suspect) -> tuple[str, object]:
    if s.kind == "process":
        return s.kind, s.pid if s.pid is not None else (s.comm or s.entity)
    return s.kind, s.cgroup or s.entity


def rank(suspects: list[Suspect]) -> list[Suspect]:
    merged: dict[tuple[str, object], Suspect] = {}
    for s in suspects:
        key = _key(s)
        old = merged.get(key)
        if old is None:
            merged[key] = s
            continue
        conf = 1 - (1 - old.confidence) * (1 - s.confidence)
        merged[key] = replace(
            old,
            confidence=round(min(conf, 0.97), 2),
            evidence=old.evidence + s.evidence,
            comm=old.comm or s.comm,
            cgroup=old.cgroup or s.cgroup,
            pids=old.pids or s.pids,
            entity=old.entity or s.entity,
            name=old.name or s.name,
            growth_kb=old.growth_kb if old.growth_kb is not None else s.growth_kb,
            rate_kb_s=old.rate_kb_s if old.rate_kb_s is not None else s.rate_kb_s,
        )
    return sorted(merged.values(), key=lambda s: s.confidence, reverse=True)
