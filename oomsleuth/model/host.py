"""What a host told about itself: its boot, its memory settings and the state of the cgroups its
kills named, read on the live host or from a bundle (sosreport, ``oomsleuth collect``). Pure data:
:mod:`oomsleuth.load.facts` reads it, :mod:`oomsleuth.correlate.findings` turns it into findings.
"""

from __future__ import annotations

from datetime import datetime

from oomsleuth.model.record import record


@record(frozen=True, slots=True)
class CgroupState:
    """One memory cgroup as it was when read: its control files, by name (``memory.max``,
    ``memory.events``, ``memory.pressure``; v1 ``memory.limit_in_bytes``, ``memory.oom_control``).
    ``path`` is as the kernel's reports name it (``/system.slice/x.service``)."""

    path: str
    version: int  # 1 or 2
    files: tuple[tuple[str, str], ...] = ()  # file name -> content (stripped)

    def get(self, name: str) -> str | None:
        return next((text for key, text in self.files if key == name), None)


@record(frozen=True, slots=True)
class Swap:
    """One line of /proc/swaps."""

    device: str
    kind: str  # partition | file
    size_kb: int
    used_kb: int


@record(frozen=True, slots=True)
class HostFacts:
    """One host at one moment (``collected``), from ``origin`` ("this host", a bundle's name)."""

    origin: str
    hostname: str | None = None
    boot_id: str | None = None
    boot_time: datetime | None = None  # btime of the boot it was read in (aware)
    kernel: str | None = None  # uname -r
    collected: datetime | None = None
    sysctls: tuple[tuple[str, str], ...] = ()  # "vm.overcommit_memory" -> "0"
    swaps: tuple[Swap, ...] = ()
    meminfo_kb: tuple[tuple[str, int], ...] = ()  # /proc/meminfo, kB
    zswap: str | None = None  # /sys/module/zswap/parameters/enabled: Y | N
    cgroup_version: int | None = None  # of the memory controller: 1 or 2
    cgroups: tuple[CgroupState, ...] = ()
    protected: tuple[tuple[int, str], ...] = ()  # (pid, comm) with oom_score_adj -1000
    unreadable: tuple[str, ...] = ()  # what could not be read, each with the fix

    def sysctl(self, name: str) -> str | None:
        return next((v for k, v in self.sysctls if k == name), None)

    def cgroup(self, path: str) -> CgroupState | None:
        want = path.rstrip("/") or "/"
        return next((c for c in self.cgroups if (c.path.rstrip("/") or "/") == want), None)


@record(frozen=True, slots=True)
class Finding:
    """What a host setting did in an incident, in words, and how sure that is."""

    setting: str  # "vm.overcommit_memory", "memory.high", "swap", ...
    value: str  # as read
    text: str  # "memory.high is unset on the cgroup that hit memory.max: ..."
    read_from: str  # where and when it was read: "<cgroup>, read on this host at <time>"
    confidence: str = "read"  # read (the setting as read at collection) | inferred
