"""A fixed offset between the log's clock and a history source's, found and named.

A kill with a wall-clock time in the log leaves traces in the history (its victim exiting or
vanishing, the task table matching one sample, an OOM-kill counter stepping up:
:mod:`oomsleuth.clock.windows`), each a window of the *history's* time in which it happened.
Where the log's time of the kill falls outside those windows, but the kills of a source agree on
one shift (``offset`` = history time - log time) that is a whole number of quarter hours, the two
clocks differ by a zone or a wrong clock: a local time read in the wrong ``--tz``, history
written in local time and read as another zone, an RTC kept in local time. That is said in a
``clock-offset`` warning with the offset and its likely cause; a shift that is no zone offset is
``clock-mismatch``. Nothing is corrected: the windows of history kept around each event stay
where the log's clock puts them (rerun with the ``--tz`` the warning names).

Reading the whole history again costs time, so it is done only for kills whose windowed history
looks wrong (:func:`suspects`): a file that could trace a kill with no sample in any window, a
victim seen alive minutes after its kill or gone minutes before it, or a source that lists
processes but not the victim.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from oomsleuth.clock.align import agreement
from oomsleuth.clock.windows import (
    COMM_LEN,
    UnplacedKill,
    hms,
    memcgs,
    seconds,
    table,
    windows,
)
from oomsleuth.model import History, HistoryTraces, Kill, OomReport, Report, Warning_
from oomsleuth.model.record import record, replace

ALIVE_SLACK_S = 120.0  # a victim seen alive this long after its kill: the clocks differ
QUARTER_S = 900.0  # zone offsets are whole quarter hours
MAX_OFFSET_S = 26 * 3600.0  # zones span UTC-12 to UTC+14
TOLERANCE_S = 60.0  # clocks kept by NTP agree within this
HOST_WIDE = frozenset({"sar", "sadf", "sadf-xml"})  # formats with no trace of a kill's process


@record(frozen=True, slots=True)
class Dated:
    """A kill the log puts on the wall clock."""

    kill: Kill
    report: OomReport
    wall: datetime

    @property
    def local(self) -> bool:
        """The log printed a local time, read in ``--tz`` (not a zoned or UTC stamp)."""
        return not isinstance(self.wall.tzinfo, timezone)


def dated_kills(report: Report) -> list[Dated]:
    return [
        Dated(k, rep, k.stamp.wall)
        for rep in report.reports
        for k in rep.kills
        if k.stamp.wall is not None and k.stamp.time_source not in ("history", None)
    ]


def wanted(kills: list[Dated]) -> tuple[dict[int, str], set[str], set[str]]:
    """What to trace in the history for these kills: victims and task-table rows, cgroups."""
    pids = {d.kill.victim.pid: d.kill.victim.comm for d in kills}
    for d in kills:
        for pid, comm, _ in table(d.report):
            pids.setdefault(pid, comm)
    return pids, {d.kill.victim.comm for d in kills}, {c for d in kills for c in memcgs(d.report)}


def suspects(report: Report, history: History) -> list[Dated]:
    """The dated kills whose windowed history looks off (see the module doc); all of them when
    a file that may hold a kill's traces has no sample in any window (a day of sar outside
    them says nothing: sysstat keeps a file a day, and it holds no process)."""
    kills = dated_kills(report)
    if not kills or not history.sources:
        return []
    formats = dict(history.sources)
    if any(
        w.code == "history-outside-window" and formats.get(w.where.source) not in HOST_WIDE
        for w in history.warnings
    ):
        return kills
    seen: dict[str, dict[tuple[str, str], datetime]] = {}  # source -> process -> last seen
    ticks: dict[str, list[datetime]] = {}  # source -> the times it listed processes
    for s in history.samples:
        if s.metric == "proc_rss_kb" and s.entity and s.entity.startswith("pid:"):
            key = (s.entity, (s.label("comm") or "")[:COMM_LEN])
            mine = seen.setdefault(s.source, {})
            mine[key] = max(mine.get(key, s.time), s.time)
            ticks.setdefault(s.source, []).append(s.time)
    return [d for d in kills if any(_off(d, seen[src], ticks[src]) for src in seen)]


def _off(d: Dated, seen: dict[tuple[str, str], datetime], ticks: list[datetime]) -> bool:
    """The victim missing from a source that lists processes, seen alive minutes after its
    kill, or gone minutes before it while the source went on."""
    last = seen.get((f"pid:{d.kill.victim.pid}", d.kill.victim.comm[:COMM_LEN]))
    if last is None:
        return True
    slack = timedelta(seconds=ALIVE_SLACK_S)
    return last > d.wall + slack or any(last < t < d.wall - slack for t in ticks)


def check(report: Report, kills: list[Dated], traces: HistoryTraces, tz: tzinfo) -> Report:
    """The report with a warning for each history source whose clock is offset from the log's
    at the kills ``kills``; ``tz`` is the zone local times were read in (``--tz``)."""
    said: list[Warning_] = []
    for source in sorted(
        {t.source for t in traces.processes} | {c.source for c in traces.counters}
    ):
        mine = _of_source(traces, source)
        found = [(_as_unplaced(d), windows(_as_unplaced(d), mine)) for d in kills]
        choice = agreement([(k, ws) for k, ws in found if ws])
        if choice is None:
            continue
        lo, hi, used = choice
        slack = TOLERANCE_S + max((d.kill.stamp.time_uncertainty_s or 1.0) for d in kills)
        if lo - slack <= 0 <= hi + slack:
            continue
        by_kill = {id(k): d for k, d in zip((k for k, _ in found), kills, strict=True)}
        first = by_kill[id(used[0][0])]
        said.append(_warning(source, lo, hi, first, used[0][1].why, len(used), tz))
    if not said:
        return report
    return replace(report, warnings=report.warnings + tuple(said))


def _of_source(traces: HistoryTraces, source: str) -> HistoryTraces:
    return HistoryTraces(
        tuple(t for t in traces.processes if t.source == source),
        tuple(c for c in traces.counters if c.source == source),
        tuple((s, t) for s, t in traces.ticks if s == source),
        tuple((t, s) for t, s in traces.restarts if s == source),
    )


def _as_unplaced(d: Dated) -> UnplacedKill:
    """The kill with its log time, in epoch seconds, where a boot-relative kill has its uptime:
    the windows then give history time - log time, as they give a boot's wall time."""
    return UnplacedKill(seconds(d.wall), d.kill.victim.pid, d.kill.victim.comm, d.report)


def _warning(source: str, lo: float, hi: float, d: Dated, why: str, n: int, tz: tzinfo) -> Warning_:
    low, high = lo - TOLERANCE_S, hi + TOLERANCE_S
    quarters = [
        q * QUARTER_S
        for q in range(int(low // QUARTER_S), int(high // QUARTER_S) + 2)
        if q and low <= q * QUARTER_S <= high and abs(q * QUARTER_S) <= MAX_OFFSET_S
    ]
    victim = d.kill.victim
    seen = f"the log puts the kill of pid {victim.pid} ({victim.comm}) at {hms(d.wall)}; {why}"
    agree = f"{n} kill(s) agree" if n > 1 else "one kill"
    if len(quarters) == 1:
        ahead = "ahead of" if quarters[0] > 0 else "behind"
        text = (
            f"{source}'s clock is {_span(quarters[0])} {ahead} the log's ({agree}): {seen}. "
            f"{_cause(d, quarters[0], tz)} The history kept around each kill is not shifted."
        )
        return Warning_(d.kill.where, "clock-offset", text)
    text = (
        f"{source} does not line up with the log ({agree}): {seen}; history time - log time "
        f"is {_range(lo, hi)}, no zone offset: the clocks of the two differ, or the history is "
        "of another host"
    )
    return Warning_(d.kill.where, "clock-mismatch", text)


def _cause(d: Dated, offset: float, tz: tzinfo) -> str:
    """The likely cause of a whole-quarter-hour offset, and its fix."""
    given = tz.utcoffset(d.wall.astimezone(tz).replace(tzinfo=None)) or timedelta(0)
    if d.local:
        true = given - timedelta(seconds=offset)
        return (
            f"Likely cause: the log prints local time, read as {_zone(given)} (--tz), but lined "
            f"up with the history it is {_zone(true)}: rerun with {_example(true)}."
        )
    hist = given + timedelta(seconds=offset)
    return (
        f"Likely cause: the history prints local time, written in {_zone(hist)} but read as "
        f"{_zone(given)} (--tz): rerun with {_example(hist)}; or the history's host kept its "
        "clock off by that much (an RTC set to local time)."
    )


def _zone(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _example(offset: timedelta) -> str:
    """A --tz for a fixed offset (the host's own zone name is better: it knows DST)."""
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest:
        return f"--tz set to a zone at {_zone(offset)}"
    if not hours:
        return "--tz UTC (or the host's zone name)"
    return f"--tz Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)} (or the host's zone name)"


def _span(offset: float) -> str:
    minutes = round(abs(offset) / 60)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def _range(lo: float, hi: float) -> str:
    return f"{lo:+.0f} s" if hi - lo < 1 else f"between {lo:+.0f} s and {hi:+.0f} s"
