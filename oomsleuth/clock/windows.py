"""Windows of wall-clock time in which a kill happened, from the traces the history keeps of
it (:mod:`oomsleuth.history.traces`); :mod:`oomsleuth.clock.align` lines the kills of a boot
up with them. See that module for what each window means."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime, timezone

from oomsleuth.model import HistoryTraces, OomReport, ProcessTrace
from oomsleuth.model.record import record, replace

INF = float("inf")
COMM_LEN = 15
TABLE_ROWS = 8  # task-table rows compared with the history's samples
TABLE_MATCH = 0.25  # the best sample's mean relative RSS error must be under this
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@record(frozen=True, slots=True)
class Window:
    """A kill happened after ``after`` and by ``by`` (seconds since the epoch; ``by`` may be
    infinite). ``strong``: the window names the victim's own process (exit, gone, table)."""

    after: float
    by: float
    strong: bool
    why: str
    source: str


@record(frozen=True, slots=True)
class UnplacedKill:
    uptime: float
    pid: int
    comm: str
    report: OomReport


def memcgs(rep: OomReport) -> list[str]:
    """The cgroups a report names: where the limit was hit, and the victim's."""
    c = rep.constraint
    found = (rep.oom_memcg, rep.task_memcg, c.oom_memcg if c else None, c.task_memcg if c else None)
    return [p.rstrip("/") for p in dict.fromkeys(found) if p and p != "/"]


def table(rep: OomReport) -> list[tuple[int, str, int]]:
    rows = [(r.pid, r.comm, r.rss_kb) for r in rep.tasks or () if r.rss_kb]
    return [(p, c, kb) for p, c, kb in sorted(rows, key=lambda r: -r[2])[:TABLE_ROWS] if kb >= 1024]


# -- windows ----------------------------------------------------------------------------------


def windows(kill: UnplacedKill, traces: HistoryTraces) -> list[Window]:
    """Every window the history gives for one kill, none before the victim was last seen alive
    (in any source: that bound holds whatever the window says)."""
    mine = [t for t in traces.processes if _is_victim(t, kill)]
    out = [w for t in mine for w in _victim_windows(t, traces)]
    out += _table_windows(kill.report, traces)
    out += _counter_windows(kill.report, traces)
    alive = max((seconds(t.times[-1]) for t in mine if t.times), default=-INF)
    return [replace(w, after=max(w.after, alive)) for w in out if w.by > alive]


def _is_victim(trace: ProcessTrace, kill: UnplacedKill) -> bool:
    return trace.pid == kill.pid and trace.comm[:COMM_LEN] == kill.comm[:COMM_LEN]


def _window(after: datetime, by: datetime | None, strong: bool, why: str, source: str) -> Window:
    """[after, by] from sample times; a whole-second stamp was taken up to 1 s after it."""
    end = INF if by is None else seconds(by) + (1.0 if by.microsecond == 0 else 0.0)
    return Window(seconds(after), end, strong and by is not None, why, source)


def _victim_windows(trace: ProcessTrace, traces: HistoryTraces) -> list[Window]:
    ticks = traces.ticks_of(trace.source)
    name = f"pid {trace.pid} ({trace.comm})"
    if trace.exit is not None:
        before = _before(ticks, trace.exit) or (trace.times[-1] if trace.times else None)
        if before is not None:
            why = f"{trace.source} saw {name} exit{_code(trace.exit_code)} between "
            return [
                _window(before, trace.exit, True, why + _between(before, trace.exit), trace.source)
            ]
    if not trace.times:
        return []
    last = trace.times[-1]
    gone = _after(ticks, last)
    if gone is not None and (trace.complete or _active_until(trace, ticks)):
        how = "gone" if trace.complete else "no longer listed (it was active every sample before)"
        why = f"{name} in {trace.source} at {hms(last)}, {how} at {hms(gone)}"
        return [_window(last, gone, True, why, trace.source)]
    again = _restarted(trace, traces)
    back = f", its name back as a new pid at {hms(again)}" if again else ""
    why = f"{name} last in {trace.source} at {hms(last)}{back}"
    return [_window(last, again, again is not None, why, trace.source)]


def _active_until(trace: ProcessTrace, ticks: tuple[datetime, ...], run: int = 3) -> bool:
    """Listed at each of the source's last ``run`` samples up to its end: an active task (pidstat
    lists only those) whose absence from the next sample means it ended."""
    end = bisect_right(ticks, trace.times[-1])
    wanted = ticks[max(0, end - run) : end]
    return len(wanted) == run and set(wanted) <= set(trace.times[-run - 2 :])


def _code(code: int | None) -> str:
    if code is None:
        return ""
    if code >= 256:  # atop keeps a signal as 256 + its number
        return f", killed by signal {code - 256}"
    return f", exit code {code}"


def _between(a: datetime, b: datetime) -> str:
    return f"{hms(a)} and {hms(b)}"


def _restarted(trace: ProcessTrace, traces: HistoryTraces) -> datetime | None:
    """When a new process of the same name first appears after ``trace`` ends (same source)."""
    last = trace.times[-1]
    firsts = [
        t.times[0]
        for t in traces.processes
        if t.source == trace.source
        and t.pid != trace.pid
        and t.comm[:COMM_LEN] == trace.comm[:COMM_LEN]
        and t.times
        and t.times[0] > last
    ]
    return min(firsts, default=None)


def _table_windows(rep: OomReport, traces: HistoryTraces) -> list[Window]:
    """The sample whose RSS values match the task table best: the last one before the kill."""
    rows = {pid: (comm, kb) for pid, comm, kb in table(rep)}
    out = []
    for source, ticks in traces.ticks:
        series = {
            t.pid: dict(zip(t.times, t.rss_kb, strict=True))
            for t in traces.processes
            if t.source == source
            and t.pid in rows
            and t.comm[:COMM_LEN] == rows[t.pid][0][:COMM_LEN]
        }
        best = _best_tick(ticks, series, rows)
        if best is not None:
            at, nxt, err, n = best
            why = f"{n} task-table RSS values match {source} at {hms(at)} (mean error {err:.0%})"
            out.append(_window(at, nxt, True, why, source))
    return out


def _best_tick(
    ticks: tuple[datetime, ...],
    series: dict[int, dict[datetime, float | None]],
    rows: dict[int, tuple[str, int]],
) -> tuple[datetime, datetime | None, float, int] | None:
    need = min(2, len(series))
    if need == 0:
        return None
    scored = []
    for i, t in enumerate(ticks):
        errs = [
            abs(v - rows[pid][1]) / rows[pid][1]
            for pid, at in series.items()
            if (v := at.get(t)) is not None
        ]
        if len(errs) >= need:
            scored.append((sum(errs) / len(errs), i, len(errs)))
    if not scored:
        return None
    scored.sort()
    err, i, n = scored[0]
    rival = next((e for e, j, _ in scored[1:] if abs(j - i) > 1), None)
    if err > TABLE_MATCH or (rival is not None and rival < 2 * err + 0.01):
        return None  # no match, or several samples look alike (steady processes)
    return ticks[i], ticks[i + 1] if i + 1 < len(ticks) else None, err, n


def _counter_windows(rep: OomReport, traces: HistoryTraces) -> list[Window]:
    """Steps of the report's own cgroup's OOM-kill counter (it names the cgroup: strong) or of
    the host's (any kill: weak)."""
    paths = memcgs(rep)
    out = []
    for c in traces.counters:
        mine = c.entity is not None and any(_same_path(p, c.entity) for p in paths)
        if c.entity is not None and not mine:
            continue
        what = f"the OOM-kill counter of {c.entity or 'the host'} in {c.source}"
        for i in range(1, len(c.times)):
            stepped = c.values[i] > c.values[i - 1] if c.cumulative else c.values[i] > 0
            if stepped:
                a, b = c.times[i - 1], c.times[i]
                why = f"{what} rose between {hms(a)} and {hms(b)}"
                out.append(_window(a, b, mine, why, c.source))
    return out


def _same_path(a: str, b: str) -> bool:
    """One cgroup path seen from two mount points (``/sys/fs/cgroup/memory/x`` and ``/x``)."""
    b = b.rstrip("/")
    return bool(a and b) and (a.endswith(b) or b.endswith(a))


# -- small helpers ------------------------------------------------------------------------------


def seconds(t: datetime) -> float:
    return (t - EPOCH).total_seconds()


def hms(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _before(ticks: tuple[datetime, ...], t: datetime) -> datetime | None:
    i = bisect_left(ticks, t)
    return ticks[i - 1] if i else None


def _after(ticks: tuple[datetime, ...], t: datetime) -> datetime | None:
    i = bisect_right(ticks, t)
    return ticks[i] if i < len(ticks) else None
