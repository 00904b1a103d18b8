"""What the fleet overview page shows, computed from the kill rows alone (pure, no I/O): kills per
host per day, top victims and culprits, recurring patterns (the same pod, container, unit or
cgroup killed again and again; the hour of day kills cluster at), kills at the same moment on
several hosts (a deploy, a noisy neighbour), and the hosts that could not be analysed.

Days and hours are UTC, from ``epoch_s``; a kill whose time has no known zone counts under
"time unknown" rather than on a guessed day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

from oomsleuth.fleet.rows import Row
from oomsleuth.model.record import field, record

KILL_KINDS = ("oom_kill", "userspace_kill")
TOGETHER_S = 60.0  # kills on several hosts within this of each other are one moment
TOP = 15
MAX_HOSTS = 40  # rows of the hosts-by-day table
MAX_DAYS = 31  # its columns: the last days that saw kills
UNKNOWN_DAY = "time unknown"


@record()
class Count:
    """A thing that recurs: how often, on how many hosts, when first and last (UTC)."""

    label: str
    kills: int
    hosts: int
    first: str | None = None
    last: str | None = None
    example: str = ""  # a host:source:line to look at


@record()
class Moment:
    """Kills on several hosts within TOGETHER_S of each other."""

    start: str
    span_s: float
    hosts: list[str]
    victims: list[tuple[str, int]]  # comm, kills


@record()
class Overview:
    hosts: int = 0
    hosts_with_kills: int = 0
    kills: int = 0
    no_kill: int = 0  # reports that ended without a kill (panic, nothing killable, cut off)
    errors: list[Row] = field(default_factory=list)
    first: str | None = None
    last: str | None = None
    days: list[str] = field(default_factory=list)
    by_host_day: list[tuple[str, int, list[int]]] = field(default_factory=list)
    more_hosts: int = 0  # hosts with kills not in by_host_day
    per_day: list[int] = field(default_factory=list)  # kills of every host, per day of days
    earlier: int = 0  # kills on days before the first of days (more than MAX_DAYS ago)
    victims: list[Count] = field(default_factory=list)
    culprits: list[Count] = field(default_factory=list)
    recurring: list[Count] = field(default_factory=list)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    moments: list[Moment] = field(default_factory=list)


def build_overview(rows: list[Row], hosts: int) -> Overview:
    kills = [r for r in rows if r["kind"] in KILL_KINDS]
    ov = Overview(hosts=hosts, kills=len(kills))
    ov.errors = [r for r in rows if r["kind"] == "error"]
    ov.no_kill = sum(1 for r in rows if r["kind"] not in (*KILL_KINDS, "error"))
    ov.hosts_with_kills = len({r["host"] for r in kills})
    timed = sorted((r for r in kills if r["epoch_s"] is not None), key=lambda r: r["epoch_s"])
    if timed:
        ov.first, ov.last = _utc(timed[0]["epoch_s"]), _utc(timed[-1]["epoch_s"])
    for r in timed:
        ov.hours[_when(r).hour] += 1
    _host_days(ov, kills)
    ov.victims = _counts(kills, lambda r: r["victim_comm"])
    ov.culprits = _counts(kills, _culprit)
    ov.recurring = [c for c in _counts(kills, _owner, top=10**9) if c.kills >= 3][:TOP]
    ov.moments = _moments(timed)
    return ov


def _when(row: Row) -> datetime:
    return datetime.fromtimestamp(row["epoch_s"], timezone.utc)


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _day(row: Row) -> str:
    return UNKNOWN_DAY if row["epoch_s"] is None else _when(row).strftime("%Y-%m-%d")


def _host_days(ov: Overview, kills: list[Row]) -> None:
    per_host = Counter(r["host"] for r in kills)
    seen = sorted({_day(r) for r in kills} - {UNKNOWN_DAY})
    days = _every_day(seen[0], seen[-1])[-MAX_DAYS:] if seen else []
    if any(_day(r) == UNKNOWN_DAY for r in kills):
        days.append(UNKNOWN_DAY)
    ov.days = days
    cells = Counter((r["host"], _day(r)) for r in kills)
    top = sorted(per_host.items(), key=lambda kv: (-kv[1], kv[0]))
    ov.by_host_day = [(h, n, [cells[(h, d)] for d in days]) for h, n in top[:MAX_HOSTS]]
    per_day = Counter(_day(r) for r in kills)
    ov.per_day = [per_day[d] for d in days]
    first = days[0] if days and days[0] != UNKNOWN_DAY else None
    ov.earlier = sum(n for d, n in per_day.items() if first and d != UNKNOWN_DAY and d < first)
    ov.more_hosts = max(0, len(top) - MAX_HOSTS)


def _every_day(first: str, last: str) -> list[str]:
    """Every day from ``first`` to ``last`` (YYYY-MM-DD), days without a kill included."""
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    out = []
    while day <= end:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def _culprit(row: Row) -> str | None:
    if row["culprit_kind"] in (None, "unknown"):
        return None
    return str(row["culprit"]) if row["culprit"] else row["culprit_kind"]


def _owner(row: Row) -> str | None:
    """What was killed again and again: the pod, else the container, unit or cgroup."""
    if row["pod_uid"]:
        label = str(row["cgroup_label"] or f"pod {row['pod_uid']}")
        return label.split(" container ")[0]
    if row["unit"]:
        return str(row["unit"])
    label = row["cgroup_label"] or row["cgroup"]
    return str(label) if label else None


def _counts(kills: list[Row], key: Callable[[Row], str | None], top: int = TOP) -> list[Count]:
    groups: dict[str, list[Row]] = {}
    for r in kills:
        label = key(r)
        if label:
            groups.setdefault(label, []).append(r)
    out = []
    for label, group in groups.items():
        times = sorted(r["epoch_s"] for r in group if r["epoch_s"] is not None)
        ex = group[0]
        out.append(
            Count(
                label=label,
                kills=len(group),
                hosts=len({r["host"] for r in group}),
                first=_utc(times[0]) if times else None,
                last=_utc(times[-1]) if times else None,
                example=f"{ex['host']}: {ex['source']}:{ex['line']}",
            )
        )
    out.sort(key=lambda c: (-c.kills, -c.hosts, c.label))
    return out[:top]


def _moments(timed: list[Row]) -> list[Moment]:
    """Runs of kills each within TOGETHER_S of the one before, on two hosts or more."""
    runs: list[list[Row]] = []
    for r in timed:
        if runs and r["epoch_s"] - runs[-1][-1]["epoch_s"] <= TOGETHER_S:
            runs[-1].append(r)
        else:
            runs.append([r])
    moments = []
    for run in runs:
        hosts = sorted({r["host"] for r in run})
        if len(hosts) < 2:
            continue
        victims = Counter(r["victim_comm"] or "?" for r in run).most_common(5)
        span = run[-1]["epoch_s"] - run[0]["epoch_s"]
        moments.append(Moment(_utc(run[0]["epoch_s"]), span, hosts, victims))
    moments.sort(key=lambda m: (-len(m.hosts), m.start))
    return moments[:TOP]
