"""Flat kill rows from one host's :class:`~oomsleuth.model.Report`: the table ``oomsleuth fleet``
writes (JSON Lines or Parquet), one row per kill, documented column by column in
docs/fleet.md and in :data:`COLUMNS` (name, type, meaning).

A row is one OOM event of the JSON document that is a kill or a report that ended without one:
``oom_kill`` (one per process the kernel killed), ``oom_panic``, ``oom_no_killable``,
``oom_deadlock``, ``oom_ignored``, ``oom_unfinished``, ``userspace_kill``. Page allocation
failures and userspace notices (systemd's note of a kernel kill) are not rows. A host whose logs
could not be analysed gives one ``error`` row (``source``, ``error``). Every column is always
present, None when unknown. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from oomsleuth.correlate.cgroups import decode_cgroup
from oomsleuth.model import Incident, Kill, OomReport, Report, Stamp, UserspaceKill, Where
from oomsleuth.model.document import unencodable_escaped
from oomsleuth.model.outcomes import iso_time, report_kind

Row = dict[str, Any]

# name -> (type, meaning); types: string, int, float, bool (all nullable but host and kind)
COLUMNS: dict[str, tuple[str, str]] = {
    "host": ("string", "the unit of work: folder, archive, file or host field of a central log"),
    "kind": (
        "string",
        "oom_kill, oom_panic, oom_no_killable, oom_deadlock, oom_ignored, oom_unfinished, "
        "userspace_kill, or error (the host could not be analysed)",
    ),
    "time": ("string", "ISO 8601 wall clock of the kill, with its offset when known"),
    "epoch_s": ("float", "the same time as Unix seconds (None when the zone is unknown)"),
    "time_confidence": ("string", "exact, derived, estimated or unknown"),
    "time_source": ("string", "journal, log, boot-estimate, history, boot-time option, ..."),
    "time_uncertainty_s": ("float", "the time is right within +- this many seconds"),
    "uptime_s": ("float", "the kernel's own stamp: seconds since boot"),
    "log_host": ("string", "the host name the log lines print (syslog, journal), if any"),
    "boot_id": ("string", "the journal's boot id, when the log has one"),
    "killer": ("string", "kernel, or the userspace killer (earlyoom, systemd-oomd, ...)"),
    "scope": ("string", "global, memcg, cpuset or mempolicy (None for userspace kills)"),
    "constraint": ("string", "the kernel's CONSTRAINT_* of the oom-kill: summary"),
    "oom_memcg": ("string", "the cgroup whose limit was hit"),
    "cgroup": ("string", "the victim's cgroup (task_memcg, else oom_memcg; userspace: its own)"),
    "cgroup_kind": ("string", "what the cgroup is: kubernetes-pod, systemd-service, docker, ..."),
    "pod_uid": ("string", "Kubernetes pod uid decoded from the cgroup path"),
    "container_id": ("string", "container id decoded from the cgroup path"),
    "container_runtime": ("string", "containerd, cri-o, docker, podman or lxc"),
    "qos": ("string", "Kubernetes QoS class: guaranteed, burstable or besteffort"),
    "unit": ("string", "the innermost systemd unit (service or scope) of the cgroup"),
    "cgroup_label": ("string", "the cgroup decoded for people, e.g. 'pod 62015ce8… (burstable)'"),
    "victim_pid": ("int", "pid of the killed process"),
    "victim_comm": ("string", "its name"),
    "victim_rss_kb": ("int", "its resident memory at the kill (anon + file + shmem), KiB"),
    "victim_anon_rss_kb": ("int", "anonymous RSS, KiB"),
    "victim_oom_score_adj": ("int", "its oom_score_adj"),
    "trigger_pid": ("int", "the task that invoked the OOM killer (allocating task)"),
    "trigger_comm": ("string", "its name"),
    "culprit_kind": ("string", "process, cgroup, shmem, kernel or unknown (not enough data)"),
    "culprit": ("string", "who filled memory: a process name, a cgroup, or what memory"),
    "culprit_pid": ("int", "the culprit's pid, when it is one process"),
    "culprit_confidence": ("float", "0..1"),
    "kernel": ("string", "kernel release from the report"),
    "source": ("string", "the file the event (or the error) is in"),
    "line": ("int", "its line in that file (1-based): the kill line"),
    "report_line": ("int", "first line of the kernel report"),
    "report_end_line": ("int", "last line of the kernel report"),
    "error": ("string", "kind error: why the host could not be analysed"),
}
NAMES = tuple(COLUMNS)


def empty_row(host: str, kind: str) -> Row:
    return {**dict.fromkeys(NAMES), "host": host, "kind": kind}


def error_row(host: str, source: str | None, reason: str) -> Row:
    """The row of a host (or one of its files) that could not be analysed."""
    row = empty_row(host, "error")
    row.update(source=source, error=reason)
    return row


def report_rows(report: Report, host: str, rename: dict[str, str] | None = None) -> list[Row]:
    """Every kill row of one host's report, in log order. ``rename`` maps the names the report
    gives its sources (a worker's copy of a file) to the names people know (its URL)."""
    incidents = {inc.report_id: inc for inc in report.incidents}
    rows: list[Row] = []
    for rid, oom in enumerate(report.reports):
        inc = incidents.get(rid)
        rows += [_kernel_row(host, oom, inc, kill) for kill in oom.kills]
        if report_kind(oom) is not None:
            rows.append(_kernel_row(host, oom, inc, None))
    rows += [_userspace_row(host, u) for u in report.userspace if u.kind == "kill"]
    for row in rows:
        row["source"] = (rename or {}).get(row["source"], row["source"])
    rows.sort(key=lambda r: (r["source"] or "", r["line"] or 0))
    return [{k: _clean(v) for k, v in row.items()} for row in rows]


def _kernel_row(host: str, oom: OomReport, inc: Incident | None, kill: Kill | None) -> Row:
    kind = "oom_kill" if kill is not None else report_kind(oom) or "oom_unfinished"
    row = empty_row(host, kind)
    stamp = oom.stamp if kill is None or _unstamped(kill.stamp) else kill.stamp
    _when(row, stamp, oom.stamp, kill.where if kill else oom.where)
    c = oom.constraint
    oom_memcg = oom.oom_memcg or (c.oom_memcg if c else None)
    task_memcg = oom.task_memcg or (c.task_memcg if c else None)
    row.update(
        killer="kernel",
        scope=inc.scope if inc else ("memcg" if oom.is_memcg else "global"),
        constraint=c.constraint if c else None,
        oom_memcg=oom_memcg,
        kernel=oom.kernel,
        report_line=oom.where.line,
        report_end_line=oom.end.line if oom.end else None,
    )
    _cgroup(row, task_memcg or oom_memcg)
    if oom.trigger is not None:
        row.update(trigger_pid=oom.trigger.pid, trigger_comm=oom.trigger.comm)
    if kill is not None:
        v = kill.victim
        row.update(
            victim_pid=v.pid,
            victim_comm=v.comm,
            victim_rss_kb=v.rss_kb,
            victim_anon_rss_kb=v.anon_rss_kb,
            victim_oom_score_adj=v.oom_score_adj,
        )
    if inc is not None:
        s = inc.culprit
        row.update(
            culprit_kind=s.kind,
            culprit=s.name or s.comm or s.cgroup or (None if s.kind == "unknown" else s.kind),
            culprit_pid=s.pid,
            culprit_confidence=round(s.confidence, 3),
        )
    return row


def _userspace_row(host: str, u: UserspaceKill) -> Row:
    row = empty_row(host, "userspace_kill")
    _when(row, u.stamp, u.stamp, u.where)
    row.update(killer=u.killer, victim_pid=u.pid, victim_comm=u.comm, victim_rss_kb=u.rss_kb)
    _cgroup(row, u.cgroup)
    return row


def _unstamped(stamp: Stamp) -> bool:
    return stamp.wall is None and stamp.uptime_s is None


def _when(row: Row, stamp: Stamp, fallback: Stamp, where: Where) -> None:
    wall = stamp.wall
    row.update(
        time=iso_time(wall),
        epoch_s=wall.timestamp() if wall is not None and wall.tzinfo is not None else None,
        time_confidence=stamp.time_confidence,
        time_source=stamp.time_source,
        time_uncertainty_s=stamp.time_uncertainty_s,
        uptime_s=stamp.uptime_s,
        log_host=stamp.host or fallback.host,
        boot_id=stamp.boot_id or fallback.boot_id,
        source=where.source,
        line=where.line,
    )


def _cgroup(row: Row, path: str | None) -> None:
    info = decode_cgroup(path)
    if info is None:
        return
    row.update(
        cgroup=path,
        cgroup_kind=info.kind,
        pod_uid=info.pod_uid,
        container_id=info.container_id,
        container_runtime=info.runtime,
        qos=info.qos,
        unit=info.unit,
        cgroup_label=info.short(),
    )


def _clean(value: Any) -> Any:
    """Strings writable as UTF-8 (undecodable input bytes shown as ``\\xNN``)."""
    return unencodable_escaped(value) if isinstance(value, str) else value
