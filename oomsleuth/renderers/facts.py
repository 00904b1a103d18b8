"""One set of facts for the four formats: how incidents are numbered, who the victims are (each
pid once, even when a memory.oom.group report names it twice), the one symbol for an unknown
value, the other suspects with the reason each was weighed down, the advice a culprit calls for,
and the kernel's reasons. Every renderer takes them from here, so the formats cannot drift."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from oomsleuth.model import Incident, Kill, OomReport, Report, Suspect, Victim
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.units import UNKNOWN

__all__ = ["UNKNOWN", "advice", "counts", "number", "other_suspects", "victims"]

# "(357.7 MiB/min, 100% of steps up; atop-P.txt, pidstat-r.txt)": the rate and the sources
_MEASURE = lazy_compile(r"\s*\([^()]*; [^()]*\)")


def number(report_id: int) -> int:
    """People count incidents from 1, in every format: incident 1 is report_id 0 in JSON."""
    return report_id + 1


def victims(kills: Iterable[Kill]) -> list[Victim]:
    """The killed processes, each pid once (a memory.oom.group report may name one twice)."""
    seen: dict[int, Victim] = {}
    for kill in kills:
        seen.setdefault(kill.victim.pid, kill.victim)
    return list(seen.values())


def counts(result: Report) -> dict[str, int]:
    """The counts every format states: kills (the kernel's kill lines, as JSON's ``oom_kills``),
    reports, reports that never reached a kill, userspace kills, allocation failures,
    warnings."""
    return {
        "kills": sum(len(r.kills) for r in result.reports),
        "reports": len(result.reports),
        "no_kill": sum(1 for r in result.reports if not r.kills),
        "userspace": sum(1 for u in result.userspace if u.kind == "kill"),
        "alloc_failures": len(result.alloc_failures),
        "warnings": len(result.warnings),
    }


def suspect_name(s: Suspect) -> str:
    if s.kind == "process":
        if s.pid is not None:
            return f"{s.comm or UNKNOWN} ({s.pid})"
        if s.pids:
            more = ", ..." if len(s.pids) > 4 else ""
            return f"{s.comm or s.name or UNKNOWN} ({', '.join(map(str, s.pids[:4]))}{more})"
        return s.name or s.comm or UNKNOWN
    if s.kind == "cgroup":
        return s.name or f"cgroup {s.cgroup or UNKNOWN}"
    if s.kind == "shmem":
        return "shmem/tmpfs" + (f" in {s.cgroup}" if s.cgroup else "")
    if s.kind == "kernel":
        return s.name or "kernel memory (unreclaimable slab)"
    return "not enough data"


def other_suspects(inc: Incident, limit: int = 3) -> list[tuple[Suspect, str]]:
    """The suspects besides the culprit, each with why it was weighed as it was: its first
    piece of evidence without the rate and the sources, and "the victim" when it was killed."""
    c = inc.culprit
    killed = {v.pid for v in inc.victims}
    out: list[tuple[Suspect, str]] = []
    for s in inc.suspects:
        if s is c or suspect_name(s) == suspect_name(c):
            continue
        why = _MEASURE.sub("", s.evidence[0]) if s.evidence else "no reason recorded"
        role = "the victim; " if s.kind == "process" and s.pid in killed else ""
        out.append((s, role + why))
    return out[:limit]


OTHERS_NOTE = "each confidence stands alone: they are not shares and need not add to 1"


def advice(inc: Incident) -> str | None:
    """What the culprit calls for, when killing processes cannot fix it."""
    if inc.culprit.kind == "shmem":
        return (
            "killing processes does not free tmpfs/shmem: the files stay charged to the "
            "cgroup, so the kill will recur until they are removed or the limit is raised"
        )
    return None


def reason_lines(inc: Incident | None) -> Sequence[tuple[str, tuple[str, ...]]]:
    """The kernel's reasons as (title, details), for every format."""
    return [(r.title, r.lines) for r in inc.reasons] if inc is not None else []


NOT_IN_REPORT = "not in the report"


def trigger_text(comm: str | None, pid: int | None) -> str:
    """``leaky-sidecar (14998)``; ``not in the report`` when the report names no trigger."""
    if comm is None and pid is None:
        return NOT_IN_REPORT
    return f"{comm or UNKNOWN} ({UNKNOWN if pid is None else pid})"


def victim_pgtables(v: Victim, report: OomReport) -> int | None:
    """The victim's page tables in kB: its Killed line, else its row of the task table."""
    if v.pgtables_kb is not None:
        return v.pgtables_kb
    rows = [r for r in report.tasks or () if r.pid == v.pid]
    return rows[0].pgtables_kb if rows else None
