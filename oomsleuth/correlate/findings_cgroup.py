"""What the settings of the cgroup a kill named did in it: limits, throttling, swap, oom.group,
and how often the limit was hit, from the cgroup's control files as the host or bundle read them
(cgroup v2 ``memory.*``; v1 ``memory.limit_in_bytes``, ``memory.memsw.*``, ``memory.oom_control``).
"""

from __future__ import annotations

from collections.abc import Iterator

from oomsleuth.model import CgroupState, Finding, HostFacts, OomReport
from oomsleuth.model.units import human_kb

_V1_UNLIMITED = 1 << 60  # v1 prints PAGE_COUNTER_MAX pages in bytes: about 2**63


def _kb(text: str | None) -> int | None:
    """A limit file in kB; None for ``max`` / unlimited / unreadable."""
    if text is None or not text.strip().isdigit():
        return None
    value = int(text.strip())
    return None if value >= _V1_UNLIMITED else value // 1024


def _counters(text: str | None) -> dict[str, int]:
    """``key value`` lines (memory.events, memory.oom_control) as a dict."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def _finding(host: HostFacts, cg: CgroupState, setting: str, value: str, text: str) -> Finding:
    when = f" at {host.collected.isoformat(timespec='seconds')}" if host.collected else ""
    return Finding(setting, value, text, f"{cg.path}, read on {host.origin}{when}")


def cgroup_findings(report: OomReport, host: HostFacts) -> Iterator[Finding]:
    """Findings for the cgroup whose limit was hit (a memcg OOM)."""
    path = report.oom_memcg or (report.constraint.oom_memcg if report.constraint else None)
    if not report.is_memcg or not path:
        return
    cg = host.cgroup(path)
    if cg is None:
        if host.cgroups or host.cgroup_version:
            yield Finding("cgroup", "gone", (
                f"the cgroup {path} no longer existed when the host was read: its settings "
                "could not be checked"), f"read on {host.origin}")  # fmt: skip
        return
    if cg.version == 2:
        yield from _v2(host, cg)
    else:
        yield from _v1(host, cg)


def _v2(host: HostFacts, cg: CgroupState) -> Iterator[Finding]:
    high, limit = cg.get("memory.high"), _kb(cg.get("memory.max"))
    if high is not None and high.strip() == "max" and limit is not None:
        yield _finding(host, cg, "memory.high", "max", (
            f"memory.high is unset on the cgroup that hit memory.max ({human_kb(limit)}): "
            "no throttling or early reclaim warned before the kill"))  # fmt: skip
    swap = cg.get("memory.swap.max")
    if swap is not None and swap.strip() == "0" and host.swaps:
        yield _finding(host, cg, "memory.swap.max", "0", (
            "memory.swap.max=0: the host has swap but this cgroup may not use it"))  # fmt: skip
    if (cg.get("memory.oom.group") or "").strip() == "1":
        yield _finding(host, cg, "memory.oom.group", "1", (
            "memory.oom.group=1: an OOM in this cgroup kills all of its processes together, "
            "not only the biggest"))  # fmt: skip
    yield from _hits(host, cg, _counters(cg.get("memory.events")), "memory.events")


def _v1(host: HostFacts, cg: CgroupState) -> Iterator[Finding]:
    control = _counters(cg.get("memory.oom_control"))
    if control.get("oom_kill_disable") == 1:
        yield _finding(host, cg, "memory.oom_control", "oom_kill_disable 1", (
            "oom_kill_disable is set: tasks of this cgroup hang at the limit instead of being "
            "killed, until something frees memory"))  # fmt: skip
    memsw, limit = _kb(cg.get("memory.memsw.limit_in_bytes")), _kb(cg.get("memory.limit_in_bytes"))
    if memsw is not None and limit is not None and memsw <= limit:
        yield _finding(host, cg, "memory.memsw.limit_in_bytes", str(memsw), (
            "memory+swap limit equals the memory limit: this cgroup cannot swap"))  # fmt: skip
    failcnt = _kb_count(cg.get("memory.failcnt"))
    events = {"oom_kill": control["oom_kill"]} if "oom_kill" in control else {}
    if failcnt:
        events["max"] = failcnt
    yield from _hits(host, cg, events, "memory.failcnt / memory.oom_control")


def _kb_count(text: str | None) -> int | None:
    return int(text.strip()) if text and text.strip().isdigit() else None


def _hits(
    host: HostFacts, cg: CgroupState, events: dict[str, int], where: str
) -> Iterator[Finding]:
    """How often the limit was hit and the OOM killer ran in this cgroup (since its creation)."""
    kills, hits = events.get("oom_kill", 0), events.get("max", 0)
    if kills > 1 or hits >= 10:
        parts = [f"the limit was hit {hits} times"] if hits else []
        parts += [f"the OOM killer ran {kills} times"] if kills else []
        yield _finding(host, cg, where, f"max {hits}, oom_kill {kills}", (
            f"{' and '.join(parts)} in this cgroup since it was created: the limit is too "
            "low for this workload, or it leaks"))  # fmt: skip
