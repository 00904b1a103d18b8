"""One identity across sources: a suspect that history names by a process group, a container or
a cgroup is joined to the task table's rows (pids, comm) and to the report's own cgroups."""

from __future__ import annotations

from oomsleuth.model import OomReport, Suspect
from oomsleuth.model.record import replace


def _same_comm(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return a[:15] == b[:15]


def identify(s: Suspect, report: OomReport) -> Suspect:
    """One identity across sources: a suspect the history names by a group, a container or a
    cgroup carries the task-table processes it stands for (pids, comm) and the report's cgroup
    it is (the OOM's or the victim's), and says so in its evidence."""
    if s.pid is not None or s.kind not in ("process", "cgroup"):
        return s
    rows = [r for r in report.tasks or () if s.comm and _same_comm(r.comm, s.comm)]
    pids = tuple(r.pid for r in rows)
    extra: list[str] = []
    if pids:
        shown = ", ".join(map(str, pids[:8])) + (" ..." if len(pids) > 8 else "")
        label = "pid" if len(pids) == 1 else "pids"
        extra.append(f"in the task table as {rows[0].comm} ({label} {shown})")
    own = _report_cgroup(s, report)
    if own:
        extra.append(f"the {own}")
    if not extra:
        return s
    evidence = s.evidence
    if evidence:
        evidence = (f"{evidence[0]}; {'; '.join(extra)}", *evidence[1:])
    return replace(s, pids=pids, pid=pids[0] if len(pids) == 1 else None, evidence=evidence)


def _report_cgroup(s: Suspect, report: OomReport) -> str | None:
    """Which cgroup of the report the suspect's cgroup (or container id) is, if any."""
    hints = [h.rstrip("/") for h in (s.cgroup, (s.entity or "").partition(":")[2]) if h]
    c = report.constraint
    places = (
        (report.task_memcg or (c.task_memcg if c else None), "victim's cgroup"),
        (report.oom_memcg or (c.oom_memcg if c else None), "OOM's cgroup"),
    )
    for path, what in places:
        if path and any(len(h) >= 8 and (h in path or path.endswith(h)) for h in hints):
            return f"{what} {path}"
    return None
