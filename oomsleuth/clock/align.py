"""Wall clock for boot-relative logs, found in the history the user gave.

Plain ``dmesg`` (or ``/dev/kmsg``) prints only seconds since boot. When no line of any input
anchors a boot, the history can: each kill leaves traces there, each a *window* of wall-clock
time in which it happened:

- its victim exiting (atop's exited-process lines, with the exit code) or vanishing from a
  source that lists every process at every sample (atop): between the last sample that has it
  and the next one;
- its victim last seen in a source that lists only active tasks (pidstat): after that sample,
  and before a new process of the same name appears (a restarted service);
- its task table: the kernel printed every task's RSS at the kill; the sample whose RSS values
  match the table best, clearly better than any other, is the last one before the kill;
- an OOM-kill counter stepping up: the cgroup's ``oom_kill`` (v1 ``memory.oom_control``, v2
  ``memory.events``) or the host's kills per interval (atop).

A window [a, b] for a kill at uptime u is a window [a - u, b - u] for the boot. All kills of a
boot must agree on one boot time, so the whole sequence is aligned at once: the boot time is the
point covered by the windows of the most kills (those that identify the process first), and the
intersection of those windows is its range; the boot is put at its middle, +- half its width.
Kills whose windows miss that point are named in a warning, never averaged in. A boot with no
window of finite width is left off the clock; as a last resort, a single sadc ``LINUX RESTART``
in the history puts the boot in the five minutes before it (sadc starts shortly after boot).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from oomsleuth.model import (
    BootSegment,
    HistoryTraces,
    OomReport,
    ProcessTrace,
    Report,
    Warning_,
    Where,
)

INF = float("inf")
COMM_LEN = 15
RESTART_LEAD_S = 300.0  # sadc starts within minutes of a boot
TABLE_ROWS = 8  # task-table rows compared with the history's samples
TABLE_MATCH = 0.25  # the best sample's mean relative RSS error must be under this
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Window:
    """A kill happened after ``after`` and by ``by`` (seconds since the epoch; ``by`` may be
    infinite). ``strong``: the window names the victim's own process (exit, gone, table)."""

    after: float
    by: float
    strong: bool
    why: str
    source: str


@dataclass(frozen=True, slots=True)
class _Kill:
    uptime: float
    pid: int
    comm: str
    report: OomReport


def wanted(report: Report) -> tuple[dict[int, str], set[str], set[str]]:
    """What to trace in the history for the kills no line places: pids (victims and task-table
    rows), victim names (a restarted service), cgroups."""
    pids: dict[int, str] = {}
    names: set[str] = set()
    cgroups: set[str] = set()
    for _, kills in _unplaced(report):
        for k in kills:
            names.add(k.comm)
            pids[k.pid] = k.comm
            for row in _table(k.report):
                pids.setdefault(row[0], row[1])
            cgroups.update(_memcgs(k.report))
    return pids, names, cgroups


def align_boots(report: Report, traces: HistoryTraces) -> Report:
    """The report with every boot that no line anchors placed on the wall clock by its kills'
    windows in the history, where they agree; notes and conflicts as warnings."""
    segments = list(report.segments)
    notes: list[Warning_] = []
    for index, kills in _unplaced(report):
        placed = _place(segments[index], kills, traces)
        if placed is not None:
            segments[index], said = placed
            notes += said
    if not notes:
        return report
    return replace(report, segments=tuple(segments), warnings=report.warnings + tuple(notes))


def _unplaced(report: Report) -> Iterator[tuple[int, list[_Kill]]]:
    """(segment index, its kills with an uptime) for each segment without a boot wall."""
    for i, seg in enumerate(report.segments):
        if seg.boot_wall is not None:
            continue
        kills = [
            _Kill(k.stamp.uptime_s, k.victim.pid, k.victim.comm, rep)
            for rep in report.reports
            for k in rep.kills
            if k.stamp.uptime_s is not None and _inside(seg, k.where)
        ]
        if kills:
            yield i, kills


def _inside(seg: BootSegment, where: Where) -> bool:
    return where.source == seg.source and seg.first_line <= where.line <= seg.last_line


def _memcgs(rep: OomReport) -> list[str]:
    """The cgroups a report names: where the limit was hit, and the victim's."""
    c = rep.constraint
    found = (rep.oom_memcg, rep.task_memcg, c.oom_memcg if c else None, c.task_memcg if c else None)
    return [p.rstrip("/") for p in dict.fromkeys(found) if p and p != "/"]


def _table(rep: OomReport) -> list[tuple[int, str, int]]:
    rows = [(r.pid, r.comm, r.rss_kb) for r in rep.tasks or () if r.rss_kb]
    return [(p, c, kb) for p, c, kb in sorted(rows, key=lambda r: -r[2])[:TABLE_ROWS] if kb >= 1024]


# -- windows ----------------------------------------------------------------------------------


def windows(kill: _Kill, traces: HistoryTraces) -> list[Window]:
    """Every window the history gives for one kill, none before the victim was last seen alive
    (in any source: that bound holds whatever the window says)."""
    mine = [t for t in traces.processes if _is_victim(t, kill)]
    out = [w for t in mine for w in _victim_windows(t, traces)]
    out += _table_windows(kill.report, traces)
    out += _counter_windows(kill.report, traces)
    alive = max((_s(t.times[-1]) for t in mine if t.times), default=-INF)
    return [replace(w, after=max(w.after, alive)) for w in out if w.by > alive]


def _is_victim(trace: ProcessTrace, kill: _Kill) -> bool:
    return trace.pid == kill.pid and trace.comm[:COMM_LEN] == kill.comm[:COMM_LEN]


def _window(after: datetime, by: datetime | None, strong: bool, why: str, source: str) -> Window:
    """[after, by] from sample times; a whole-second stamp was taken up to 1 s after it."""
    end = INF if by is None else _s(by) + (1.0 if by.microsecond == 0 else 0.0)
    return Window(_s(after), end, strong and by is not None, why, source)


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
        why = f"{name} in {trace.source} at {_hms(last)}, {how} at {_hms(gone)}"
        return [_window(last, gone, True, why, trace.source)]
    again = _restarted(trace, traces)
    back = f", its name back as a new pid at {_hms(again)}" if again else ""
    why = f"{name} last in {trace.source} at {_hms(last)}{back}"
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
    return f"{_hms(a)} and {_hms(b)}"


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
    rows = {pid: (comm, kb) for pid, comm, kb in _table(rep)}
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
            why = f"{n} task-table RSS values match {source} at {_hms(at)} (mean error {err:.0%})"
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
    paths = _memcgs(rep)
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
                why = f"{what} rose between {_hms(a)} and {_hms(b)}"
                out.append(_window(a, b, mine, why, c.source))
    return out


def _same_path(a: str, b: str) -> bool:
    """One cgroup path seen from two mount points (``/sys/fs/cgroup/memory/x`` and ``/x``)."""
    b = b.rstrip("/")
    return bool(a and b) and (a.endswith(b) or b.endswith(a))


# -- the boot -----------------------------------------------------------------------------------


def _place(
    seg: BootSegment, kills: list[_Kill], traces: HistoryTraces
) -> tuple[BootSegment, list[Warning_]] | None:
    found = [(k, windows(k, traces)) for k in kills]
    choice = _agreement(found)
    if choice is None:
        return _from_restart(seg, traces)
    lo, hi, used = choice
    boot = _EPOCH + timedelta(seconds=(lo + hi) / 2)
    half = round((hi - lo) / 2, 3)
    sources = sorted({w.source for _, w in used})
    note = (
        f"boot placed on the wall clock from the history ({', '.join(sources)}): "
        f"{len(used)} of {len(kills)} kill(s) line up, +-{_span(half)}"
    )
    placed = replace(
        seg, boot_wall=boot, anchor_kind="history", boot_uncertainty_s=half, anchor_note=note
    )
    where = Where(seg.source, seg.first_line)
    said = [Warning_(where, "history-alignment", note + ": " + "; ".join(w.why for _, w in used))]
    said += _conflicts(found, used, lo, hi, where)
    return placed, said


def _agreement(
    found: list[tuple[_Kill, list[Window]]],
) -> tuple[float, float, list[tuple[_Kill, Window]]] | None:
    """The boot range most kills agree on: (lo, hi, the window each covered kill uses)."""
    shifted = [(k, w, w.after - k.uptime, w.by - k.uptime) for k, ws in found for w in ws]
    points = {p for _, _, lo, hi in shifted for p in (lo, hi) if p != INF}
    best: tuple[tuple[int, int, float], float, float, list[tuple[_Kill, Window]]] | None = None
    for x in points:
        chosen: dict[int, tuple[_Kill, Window, float, float]] = {}
        for k, w, lo, hi in shifted:
            if lo <= x <= hi:
                have = chosen.get(id(k))
                if have is None or (hi - lo, not w.strong) < (
                    have[3] - have[2],
                    not have[1].strong,
                ):
                    chosen[id(k)] = (k, w, lo, hi)
        lo = max(c[2] for c in chosen.values())
        hi = min(c[3] for c in chosen.values())
        if hi == INF:
            continue
        strong = sum(1 for c in chosen.values() if c[1].strong)
        score = (strong, len(chosen), -(hi - lo))
        if best is None or score > best[0]:
            best = (score, lo, hi, [(c[0], c[1]) for c in chosen.values()])
    if best is None or (best[0][0] == 0 and best[0][1] < 2):
        return None  # nothing names a victim, and a lone counter step is not enough
    return best[1], best[2], best[3]


def _conflicts(
    found: list[tuple[_Kill, list[Window]]],
    used: list[tuple[_Kill, Window]],
    lo: float,
    hi: float,
    where: Where,
) -> list[Warning_]:
    covered = {id(k) for k, _ in used}
    out = []
    for k, ws in found:
        if id(k) in covered or not ws:
            continue
        first = min(ws, key=lambda w: (not w.strong, w.by - w.after))
        out.append(
            Warning_(
                where,
                "history-alignment-conflict",
                f"the kill of pid {k.pid} ({k.comm}) at uptime {k.uptime:.3f} s does not line up "
                f"with the other kills: {first.why}",
            )
        )
    return out


def _from_restart(
    seg: BootSegment, traces: HistoryTraces
) -> tuple[BootSegment, list[Warning_]] | None:
    if len(traces.restarts) != 1:
        return None
    when, source = traces.restarts[0]
    boot = when - timedelta(seconds=RESTART_LEAD_S / 2)
    note = (
        f"boot placed on the wall clock from sadc's restart record in {source} at {_hms(when)} "
        f"(sadc starts shortly after a boot), +-{_span(RESTART_LEAD_S / 2)}"
    )
    placed = replace(
        seg,
        boot_wall=boot,
        anchor_kind="history",
        boot_uncertainty_s=RESTART_LEAD_S / 2,
        anchor_note=note,
    )
    return placed, [Warning_(Where(seg.source, seg.first_line), "history-alignment", note)]


# -- small helpers ------------------------------------------------------------------------------


def _s(t: datetime) -> float:
    return (t - _EPOCH).total_seconds()


def _hms(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def _before(ticks: tuple[datetime, ...], t: datetime) -> datetime | None:
    i = bisect_left(ticks, t)
    return ticks[i - 1] if i else None


def _after(ticks: tuple[datetime, ...], t: datetime) -> datetime | None:
    i = bisect_right(ticks, t)
    return ticks[i] if i < len(ticks) else None
