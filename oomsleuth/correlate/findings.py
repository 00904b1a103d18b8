"""Findings: what the host's memory settings did in each incident, in words.

The settings come from the live host or a bundle (:class:`~oomsleuth.model.HostFacts`), read when
the evidence was collected, not at the kill: each finding says where and when it was read. Only
settings that explain something are said: a default that changed nothing is not a finding.
System settings are here; the settings of the cgroup a kill named are in
:mod:`oomsleuth.correlate.findings_cgroup`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from oomsleuth.correlate.findings_cgroup import cgroup_findings
from oomsleuth.model import Finding, History, HostFacts, Incident, OomReport, Report
from oomsleuth.model.record import replace
from oomsleuth.model.series import Series, index
from oomsleuth.model.units import human_kb

PRESSURE_PCT = 10.0  # memory PSI some avg10 above this: pressure has begun


def attach(
    incidents: tuple[Incident, ...],
    result: Report,
    history: History,
    facts: tuple[HostFacts, ...],
) -> tuple[Incident, ...]:
    """The incidents with the findings of the host facts that describe their host."""
    if not facts:
        return incidents
    series = index(s for s in history.samples if s.entity is None)
    out = []
    for incident in incidents:
        report = result.reports[incident.report_id]
        host = _host_of(report, facts)
        if host is None:
            out.append(incident)
            continue
        found = [*system_findings(report, host, series), *cgroup_findings(report, host)]
        out.append(replace(incident, findings=tuple(found)))
    return tuple(out)


def _host_of(report: OomReport, facts: tuple[HostFacts, ...]) -> HostFacts | None:
    """The facts of the report's host: same hostname (or either unknown)."""
    host = report.kills[0].stamp.host if report.kills else report.stamp.host
    for f in facts:
        if host is None or f.hostname is None or f.hostname.split(".")[0] == host.split(".")[0]:
            return f
    return None


def _finding(host: HostFacts, setting: str, value: str, text: str) -> Finding:
    return Finding(setting, value, text, _origin(host))


def _origin(host: HostFacts) -> str:
    when = f" at {host.collected.isoformat(timespec='seconds')}" if host.collected else ""
    return f"read on {host.origin}{when}"


def system_findings(
    report: OomReport, host: HostFacts, series: dict[tuple[str | None, str], Series]
) -> Iterator[Finding]:
    """What the vm sysctls, swap and the exempt processes did in this report."""
    yield from _overcommit(report, host)
    yield from _oom_sysctls(report, host)
    yield from _swap(report, host, series)
    yield from _exempt(report, host)


def _overcommit(report: OomReport, host: HostFacts) -> Iterator[Finding]:
    mode = host.sysctl("vm.overcommit_memory")
    if mode == "1":
        yield _finding(host, "vm.overcommit_memory", mode, (
            "vm.overcommit_memory=1 (always): no allocation is ever refused, so every "
            "shortage ends in the OOM killer instead of a failed malloc"))  # fmt: skip
    elif mode == "2" and not report.is_memcg:
        ratio = host.sysctl("vm.overcommit_ratio") or "50"
        yield _finding(host, "vm.overcommit_memory", mode, (
            f"vm.overcommit_memory=2 (strict, overcommit_ratio {ratio}%): allocations past "
            "the commit limit fail with ENOMEM; a global OOM kill under it means memory the "
            "commit limit does not count (page cache, kernel, hugepages) ran out"))  # fmt: skip


def _oom_sysctls(report: OomReport, host: HostFacts) -> Iterator[Finding]:
    panic = host.sysctl("vm.panic_on_oom")
    if panic in ("1", "2"):
        what = "every OOM, memcg ones too" if panic == "2" else "a global OOM (not a memcg one)"
        yield _finding(host, "vm.panic_on_oom", panic, (
            f"vm.panic_on_oom={panic}: {what} panics the machine instead of killing a "
            "process; the reboot is the OOM"))  # fmt: skip
    if host.sysctl("vm.oom_kill_allocating_task") == "1" and not report.is_memcg:
        yield _finding(host, "vm.oom_kill_allocating_task", "1", (
            "vm.oom_kill_allocating_task=1: the kernel kills the task that asked for memory, "
            "not the biggest one: the victim was chosen by setting, not by size"))  # fmt: skip
    if host.sysctl("vm.oom_dump_tasks") == "0" and report.tasks is None:
        yield _finding(host, "vm.oom_dump_tasks", "0", (
            "vm.oom_dump_tasks=0: the kernel printed no task table, so who held the memory "
            "cannot be read from the report (sysctl -w vm.oom_dump_tasks=1)"))  # fmt: skip


def _swap(
    report: OomReport, host: HostFacts, series: dict[tuple[str | None, str], Series]
) -> Iterator[Finding]:
    zram = [s for s in host.swaps if s.device.startswith("/dev/zram")]
    if not host.swaps:
        lead = _pressure_lead(report, series)
        tail = (
            f": the kill came {lead:.0f} s after memory pressure began, without thrashing"
            if lead is not None
            else ": anonymous memory cannot be paged out, so a leak reaches the OOM killer "
            "without a slow, thrashing phase"
        )
        yield _finding(host, "swap", "off", "swap is off" + tail)
    elif zram and len(zram) == len(host.swaps):
        size = sum(s.size_kb for s in zram)
        yield _finding(host, "swap", "zram", (
            f"swap is zram only ({human_kb(size)}): swapped pages stay in RAM compressed, so "
            "swapping frees less memory than its size says"))  # fmt: skip
    if host.zswap == "Y":
        yield _finding(host, "zswap", "Y", (
            "zswap is on: pages on their way to swap are first compressed in RAM"))  # fmt: skip


def _pressure_lead(report: OomReport, series: dict[tuple[str | None, str], Series]) -> float | None:
    """Seconds from the start of the last stretch of memory pressure to the kill, from PSI."""
    kill = report.kills[0].stamp.wall if report.kills else report.stamp.wall
    psi = series.get((None, "psi_mem_some_avg10"))
    if kill is None or psi is None or kill.tzinfo is None:
        return None
    times, values = psi.window(kill - timedelta(hours=1), kill)
    start: datetime | None = None
    for t, v in zip(times, values, strict=True):
        start = (start or t) if v > PRESSURE_PCT else None
    return None if start is None else (kill - start).total_seconds()


def _exempt(report: OomReport, host: HostFacts) -> Iterator[Finding]:
    """Processes the OOM killer may not kill (oom_score_adj -1000) that held memory."""
    rows = [r for r in report.tasks or () if r.oom_score_adj == -1000 and (r.rss_kb or 0) > 0]
    held = sum(r.rss_kb or 0 for r in rows)
    if rows and held >= 64 * 1024:
        names = ", ".join(sorted({r.comm for r in rows})[:5])
        yield _finding(host, "oom_score_adj", "-1000", (
            f"{len(rows)} process(es) in the task table are exempt from the OOM killer "
            f"(oom_score_adj -1000: {names}) and held {human_kb(held)}: that memory pushed "
            "the kill onto others"))  # fmt: skip
    elif report.tasks is None and host.protected:
        names = ", ".join(sorted({comm for _, comm in host.protected})[:5])
        yield _finding(host, "oom_score_adj", "-1000", (
            f"{len(host.protected)} process(es) run exempt from the OOM killer "
            f"(oom_score_adj -1000: {names}); the report has no task table to say how much "
            "they held at the kill"))  # fmt: skip
