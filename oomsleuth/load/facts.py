"""Host facts from the text a host keeps about itself: ``sysctl -a`` output, /proc/swaps,
/proc/meminfo, /proc/stat, and cgroup control files. Pure parsers over lines, shared by the live
host (:mod:`oomsleuth.load.host`) and bundles (sosreports, ``oomsleuth collect`` tarballs).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from oomsleuth.model import Swap
from oomsleuth.model.patterns import lazy_compile

# the sysctls findings read (oomsleuth.correlate.findings), and collect keeps
SYSCTLS = (
    "vm.overcommit_memory",
    "vm.overcommit_ratio",
    "vm.overcommit_kbytes",
    "vm.panic_on_oom",
    "vm.oom_kill_allocating_task",
    "vm.oom_dump_tasks",
    "vm.swappiness",
    "vm.min_free_kbytes",
    "vm.watermark_scale_factor",
    "kernel.dmesg_restrict",
)
# the cgroup control files findings read, v2 then v1
CGROUP_FILES = (
    "memory.max",
    "memory.high",
    "memory.low",
    "memory.min",
    "memory.swap.max",
    "memory.oom.group",
    "memory.events",
    "memory.current",
    "memory.pressure",
    "memory.limit_in_bytes",
    "memory.memsw.limit_in_bytes",
    "memory.usage_in_bytes",
    "memory.failcnt",
    "memory.oom_control",
)
_SYSCTL = lazy_compile(r"^([a-z0-9_.\-/]+)\s*=\s*(.*)$")


def sysctls(lines: Iterable[str], wanted: Iterable[str] = SYSCTLS) -> tuple[tuple[str, str], ...]:
    """``name = value`` lines of ``sysctl -a`` (names with ``.`` or ``/``), the wanted ones."""
    keep = set(wanted)
    out = []
    for line in lines:
        m = _SYSCTL.match(line.strip())
        if m:
            name = m[1].replace("/", ".")
            if name in keep:
                out.append((name, m[2].strip()))
    return tuple(out)


def swaps(lines: Iterable[str]) -> tuple[Swap, ...]:
    """/proc/swaps: ``Filename Type Size Used Priority`` (sizes in kB), header skipped."""
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 4 and parts[2].isdigit() and parts[3].isdigit():
            out.append(Swap(parts[0], parts[1], int(parts[2]), int(parts[3])))
    return tuple(out)


def meminfo(lines: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """/proc/meminfo as (key, kB); counts without a unit (HugePages_Total) kept as they are."""
    out = []
    for line in lines:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if key and parts and parts[0].isdigit():
            out.append((key.strip(), int(parts[0])))
    return tuple(out)


def btime(lines: Iterable[str]) -> datetime | None:
    """The boot time of /proc/stat (``btime`` epoch seconds), aware UTC."""
    for line in lines:
        if line.startswith("btime "):
            try:
                return datetime.fromtimestamp(int(line.split()[1]), timezone.utc)
            except (ValueError, IndexError, OverflowError):
                return None
    return None
