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

from collections.abc import Iterator
from datetime import timedelta

from oomsleuth.clock.windows import (
    EPOCH,
    INF,
    UnplacedKill,
    Window,
    hms,
    memcgs,
    table,
    windows,
)
from oomsleuth.model import BootSegment, HistoryTraces, Report, Warning_, Where
from oomsleuth.model.record import replace

RESTART_LEAD_S = 300.0  # sadc starts within minutes of a boot


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
            for row in table(k.report):
                pids.setdefault(row[0], row[1])
            cgroups.update(memcgs(k.report))
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


def _unplaced(report: Report) -> Iterator[tuple[int, list[UnplacedKill]]]:
    """(segment index, its kills with an uptime) for each segment without a boot wall."""
    for i, seg in enumerate(report.segments):
        if seg.boot_wall is not None:
            continue
        kills = [
            UnplacedKill(k.stamp.uptime_s, k.victim.pid, k.victim.comm, rep)
            for rep in report.reports
            for k in rep.kills
            if k.stamp.uptime_s is not None and _inside(seg, k.where)
        ]
        if kills:
            yield i, kills


def _inside(seg: BootSegment, where: Where) -> bool:
    return where.source == seg.source and seg.first_line <= where.line <= seg.last_line


# -- the boot -----------------------------------------------------------------------------------


def _place(
    seg: BootSegment, kills: list[UnplacedKill], traces: HistoryTraces
) -> tuple[BootSegment, list[Warning_]] | None:
    found = [(k, windows(k, traces)) for k in kills]
    choice = agreement(found)
    if choice is None:
        return _from_restart(seg, traces)
    lo, hi, used = choice
    boot = EPOCH + timedelta(seconds=(lo + hi) / 2)
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


def agreement(
    found: list[tuple[UnplacedKill, list[Window]]],
) -> tuple[float, float, list[tuple[UnplacedKill, Window]]] | None:
    """The boot range most kills agree on: (lo, hi, the window each covered kill uses)."""
    shifted = [(k, w, w.after - k.uptime, w.by - k.uptime) for k, ws in found for w in ws]
    points = {p for _, _, lo, hi in shifted for p in (lo, hi) if p != INF}
    best: tuple[tuple[int, int, float], float, float, list[tuple[UnplacedKill, Window]]] | None = (
        None
    )
    for x in points:
        chosen: dict[int, tuple[UnplacedKill, Window, float, float]] = {}
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
    found: list[tuple[UnplacedKill, list[Window]]],
    used: list[tuple[UnplacedKill, Window]],
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
        f"boot placed on the wall clock from sadc's restart record in {source} at {hms(when)} "
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


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
