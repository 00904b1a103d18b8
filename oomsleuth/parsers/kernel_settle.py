"""A kernel OOM report after its kill: late oom_reaper lines and when a report is settled.

The oom_reaper's line about a victim may come after the next report has started, so a reaper
line attaches to the open report's kill of that pid or to one of the ``RECENT`` reports
finished before it. A finished report is settled (it can no longer change, and can be handed
out) once every kill has its reaper line, ``RECENT`` newer reports exist, or the log's clock is
``GAP_S`` past it.
"""

from __future__ import annotations

from oomsleuth.model import OomReport, Reap, Warning_, Where
from oomsleuth.model.record import replace
from oomsleuth.parsers.kernel_outcome_lines import ReaperLine

GAP_S = 10.0  # a kill line this long after the report's last line starts a new event
RECENT = 16  # finished reports a late reaper line may still reach


def to_reap(r: ReaperLine, where: Where) -> Reap:
    return Reap(
        pid=r.pid,
        comm=r.comm,
        reaped=r.reaped,
        anon_rss_kb=r.anon_kb,
        file_rss_kb=r.file_kb,
        shmem_rss_kb=r.shmem_kb,
        where=where,
    )


def attach_reap(reports: list[OomReport], reap: Reap) -> bool:
    """Give ``reap`` to the newest kill of its pid that has none, among the last ``RECENT``
    finished ``reports`` (replaced in the list); False when there is no such kill."""
    for i in range(len(reports) - 1, max(-1, len(reports) - 1 - RECENT), -1):
        rep = reports[i]
        for j, kill in enumerate(rep.kills):
            if kill.victim.pid == reap.pid and kill.reap is None:
                kills = list(rep.kills)
                kills[j] = replace(kill, reap=reap)
                reports[i] = replace(rep, kills=tuple(kills))
                return True
    return False


def is_settled(rep: OomReport, newer: int, uptime_s: float | None, final: bool) -> bool:
    """Whether a finished report, with ``newer`` reports after it, can no longer change when the
    log's clock reads ``uptime_s``; ``final``: the input has ended."""
    return final or newer >= RECENT or _reaped(rep) or _past(rep, uptime_s)


def _reaped(rep: OomReport) -> bool:
    return bool(rep.kills) and all(k.reap is not None for k in rep.kills)


def _past(rep: OomReport, uptime_s: float | None) -> bool:
    stamps = [k.stamp.uptime_s for k in rep.kills] + [rep.stamp.uptime_s]
    last = max((u for u in stamps if u is not None), default=None)
    return uptime_s is not None and last is not None and abs(uptime_s - last) > GAP_S


def finish_warnings(rep: OomReport) -> list[Warning_]:
    """What a finished report says about itself: no kill reached, a selection with no kill."""
    out = []
    if rep.outcome != "killed":
        last = rep.end.line if rep.end else rep.where.line
        why = rep.panic or f"no kill line after it (last report line {last})"
        if rep.notes:
            why += "; " + "; ".join(rep.notes)
        why = f"OOM report did not reach a kill: {why}"
        out.append(Warning_(rep.where, f"report-{rep.outcome}", why))
    if rep.selection is not None and not rep.kills:
        sel = rep.selection
        why = f"the kernel selected pid {sel.pid} ({sel.comm}) but no 'Killed process' line follows"
        out.append(Warning_(sel.where, "selected-not-killed", why))
    return out
