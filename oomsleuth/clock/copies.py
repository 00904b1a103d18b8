"""One kill, one event: the same kernel record seen through several inputs or framings of one
host (raw dmesg, ``dmesg -T``, dmesg iso, kern.log/messages/syslog, journal text, JSON or export,
``/dev/kmsg``) is merged into one report, whether or not each copy names the host.

Copies are found after the clock has placed every stamp, because half of the framings carry no
kernel stamp. Two reports are copies when they kill the same processes (pid and comm of every
kill, in order; or, without a kill, the same trigger, gfp mask and order), their hosts and boot
ids do not disagree (a missing one agrees with anything), and they are the same moment: equal
kernel stamps when both have one, else wall-clock times within ``SAME_MOMENT_S`` (an hour when
the kill lines also agree on every size they print, since a logger may have received the record
late; two seconds otherwise). Identical lines repeated inside one source (same framing, same
stamps) are not copies: the kernel can print a kill line twice (memory.oom.group).

The merged report keeps the most complete copy's content (the longest task table, Mem-Info,
trigger), the best time of any copy (exact before derived before estimated, then the smallest
uncertainty, then the kernel's stamp over a receive time), the host and boot id any copy names,
and the places of the others in ``copies``; a ``copies-merged`` note says so. Userspace kills
logged twice (syslog and the journal) merge the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import TypeVar

from oomsleuth.clock.clusters import NEAR, Clusters
from oomsleuth.model import Kill, OomReport, Report, Stamp, UserspaceKill, Warning_, Where
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import replace

SAME_MOMENT_S = 3600.0  # copies whose kill lines agree on every size: a late receipt allowed
CLOSE_S = 2.0  # otherwise
T = TypeVar("T")
_ESCAPED = lazy_compile(r"(?:\\x[0-9a-fA-F]{2})+")
_RANK = {"exact": 0, "derived": 1, "estimated": 2, "unknown": 3, None: 4}


def merge_copies(report: Report) -> Report:
    """The report with every set of copies merged into its best member (see module doc)."""
    reports, notes = _merge(
        list(report.reports), _report_key, _report_copies, _merged_report, _report_uptime
    )
    users, more = _merge(list(report.userspace), _user_key, _user_copies, _merged_user)
    if not notes and not more:
        return report
    warnings = report.warnings + tuple(notes + more)
    return replace(report, reports=tuple(reports), userspace=tuple(users), warnings=warnings)


def _merge(
    items: list[T],
    key: Callable[[T], Hashable],
    copies: Callable[[T, T], bool],
    merged: Callable[[list[T]], tuple[T, Warning_]],
    near: Callable[[T], float | None] = lambda item: None,
) -> tuple[list[T], list[Warning_]]:
    """Items grouped by ``key``, clustered by ``copies`` (with every member: an item joins the
    first such cluster), each cluster replaced by its merge, in the order clusters began.
    ``near``: a number copies share within ``clusters.NEAR`` when both have it (an index)."""
    groups: dict[Hashable, Clusters[T]] = {}
    order: list[list[T]] = []
    for item in items:
        group = groups.get(k := key(item))
        if group is None:
            group = groups[k] = Clusters(copies, near)
        home, new = group.place(item)
        if new:
            order.append(home)
    out: list[T] = []
    notes: list[Warning_] = []
    for cluster in order:
        if len(cluster) == 1:
            out.append(cluster[0])
            continue
        kept, note = merged(cluster)
        out.append(kept)
        notes.append(note)
    return out, notes


# -- kernel reports -----------------------------------------------------------------------------


def _plain(comm: str | None) -> str | None:
    """A comm as bytes would read it: ``LC_ALL=C dmesg`` prints non-ASCII bytes as ``\\xNN``."""
    if comm is None or "\\x" not in comm:
        return comm
    raw = _ESCAPED.sub(lambda m: bytes.fromhex(m[0].replace("\\x", "")).decode("latin-1"), comm)
    try:
        return raw.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # real non-ASCII text beside the escapes: not a C-locale copy
        return comm


def _report_key(rep: OomReport) -> tuple[object, ...]:
    if rep.kills:
        return tuple((k.victim.pid, _plain(k.victim.comm)) for k in rep.kills)
    t = rep.trigger
    return ("no kill", rep.outcome, t.pid if t else None, t.comm if t else None)


def _report_uptime(rep: OomReport) -> float | None:
    """Two reports that both have this are copies only when it is within ``NEAR``."""
    return _stamp(rep).uptime_s


def _report_copies(a: OomReport, b: OomReport) -> bool:
    sa, sb = _stamp(a), _stamp(b)
    if not _agree(sa.host, sb.host) or not _agree(sa.boot_id, sb.boot_id):
        return False
    if a.where.source == b.where.source and _looks_alike(sa, sb):
        return False  # the same line twice in one log: two records, not two copies
    if sa.uptime_s is not None and sb.uptime_s is not None:
        return abs(sa.uptime_s - sb.uptime_s) < NEAR
    if not _same_request(a, b):
        return False
    return _same_moment(sa, sb, _same_sizes(a.kills, b.kills))


def _same_request(a: OomReport, b: OomReport) -> bool:
    """The headers do not disagree on the allocation (gfp mask and order)."""
    ta, tb = a.trigger, b.trigger
    if ta is None or tb is None or ta.gfp_mask is None or tb.gfp_mask is None:
        return True
    return (ta.gfp_mask, ta.order) == (tb.gfp_mask, tb.order)


def _stamp(rep: OomReport) -> Stamp:
    return rep.kills[0].stamp if rep.kills else rep.stamp


def _looks_alike(a: Stamp, b: Stamp) -> bool:
    return (a.uptime_s, a.host, a.received) == (b.uptime_s, b.host, b.received) and (
        (a.wall is None) == (b.wall is None)
    )


def _agree(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def _same_sizes(a: Iterable[Kill], b: Iterable[Kill]) -> bool:
    pairs = list(zip(a, b, strict=False))
    return bool(pairs) and all(
        x.victim.total_vm_kb is not None
        and (x.victim.total_vm_kb, x.victim.anon_rss_kb, x.victim.file_rss_kb)
        == (y.victim.total_vm_kb, y.victim.anon_rss_kb, y.victim.file_rss_kb)
        for x, y in pairs
    )


def _same_moment(a: Stamp, b: Stamp, sizes_agree: bool) -> bool:
    wa, wb = _aware(a.wall), _aware(b.wall)
    if wa is None or wb is None:
        return sizes_agree  # one copy has no time at all: its kill line must say it all
    return abs((wa - wb).total_seconds()) <= (SAME_MOMENT_S if sizes_agree else CLOSE_S)


def _aware(wall: datetime | None) -> datetime | None:
    return wall if wall is not None and wall.tzinfo is not None else None


def _better(a: Stamp, b: Stamp) -> bool:
    """True when ``a`` is the better time of one moment."""
    return _time_rank(a) < _time_rank(b)


def _time_rank(s: Stamp) -> tuple[bool, float, int, bool, bool]:
    """A known uncertainty first (a receive time has none: its lag is unknown), the smallest,
    then the surer, then the kernel's own time over a receive time, then a stamp with a
    fraction of a second over a whole one."""
    u = s.time_uncertainty_s
    whole = s.wall is None or s.wall.microsecond == 0
    return (u is None, u or 0.0, _RANK.get(s.time_confidence, 4), s.received, whole)


def _richness(rep: OomReport) -> tuple[int, ...]:
    return (
        len(rep.tasks or ()),
        rep.meminfo is not None,
        rep.memcg is not None,
        rep.trigger is not None,
        len(rep.lines),
    )


def _merged_report(cluster: list[OomReport]) -> tuple[OomReport, Warning_]:
    base = max(cluster, key=_richness)  # first of the richest (max keeps the first on ties)
    timed = cluster[0]
    for rep in cluster[1:]:
        if _better(_stamp(rep), _stamp(timed)):
            timed = rep
    host = next((_stamp(r).host for r in cluster if _stamp(r).host), None)
    boot = next((_stamp(r).boot_id for r in cluster if _stamp(r).boot_id), None)
    kills = (
        tuple(
            replace(k, stamp=_with(t.stamp, host, boot))
            for k, t in zip(base.kills, timed.kills, strict=False)
        )
        + base.kills[len(timed.kills) :]
    )
    merged = replace(
        base,
        stamp=_with(timed.stamp, host, boot),
        kills=kills,
        copies=tuple(r.where for r in cluster if r is not base),
    )
    return merged, _note(base.where, [r.where for r in cluster], timed.where)


def _with(stamp: Stamp, host: str | None, boot: str | None) -> Stamp:
    return replace(stamp, host=stamp.host or host, boot_id=stamp.boot_id or boot)


def _note(kept: Where, places: list[Where], timed: Where) -> Warning_:
    seen = ", ".join(f"{w.source}:{w.line}" for w in places)
    when = "" if timed == kept else f"; its time is that of {timed.source}:{timed.line}"
    return Warning_(
        kept,
        "copies-merged",
        f"the same kernel record seen in {len(places)} places ({seen}): counted once{when}",
    )


# -- userspace kills ----------------------------------------------------------------------------


def _user_key(u: UserspaceKill) -> tuple[object, ...]:
    return (u.killer, u.kind, u.pid, u.comm, u.cgroup)


def _user_copies(a: UserspaceKill, b: UserspaceKill) -> bool:
    if a.where.source == b.where.source or not _agree(a.stamp.host, b.stamp.host):
        return False
    return _same_moment(a.stamp, b.stamp, sizes_agree=False)


def _merged_user(cluster: list[UserspaceKill]) -> tuple[UserspaceKill, Warning_]:
    best = cluster[0]
    for u in cluster[1:]:
        if _better(u.stamp, best.stamp):
            best = u
    return best, _note(best.where, [u.where for u in cluster], best.where)
