"""sosreports (``sos report``; tarball or extracted folder), read per docs/bundles.md.

Recognised by ``sos_commands/`` with ``version.txt`` or ``sos_reports/`` at its top (inside the
single top folder of a tarball). Only the files of the table in docs/bundles.md are read: the
kernel ring buffer, the syslog files and journalctl text outputs are logs; sar text, ``sadf -x``
XML and binary sa files are history; /proc, sysctl, uname, hostname, the cgroup tree and sos's
manifest give one :class:`~oomsleuth.model.HostFacts`. Everything else is skipped (process
listings, ``journalctl --disk-usage``, ``ls -alRh`` output...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone, tzinfo

from oomsleuth.load import facts
from oomsleuth.load.bundle_read import (
    cgroup_states,
    cgroup_version,
    first_line,
    lines_of,
    zone_of,
)
from oomsleuth.model import HostFacts, Swap
from oomsleuth.model.patterns import lazy_compile

_CG = "|".join(re.escape(n) for n in (*facts.CGROUP_FILES, "cgroup.controllers"))
# paths inside the report (after its top folder)
LOGS = lazy_compile(
    r"sos_commands/kernel/dmesg[^/]*|var/log/(?:messages|kern\.log|syslog)[^/]*"
    r"|sos_commands/logs/journalctl_[^/]*"
)
# journalctl outputs that are not log text
NOT_LOGS = lazy_compile(
    r"sos_commands/logs/journalctl_--(?:disk-usage|list-boots|header|verify|fields?|list-catalog"
    r"|dump-catalog|flush|sync)[^/]*"
)
HISTORY = lazy_compile(
    r"sos_commands/sar/(?:sar\d\d|sar?\d\d\.xml)|var/log/(?:sa|sysstat)/sa\d\d(?:\d{6})?"
)
FACTS = lazy_compile(
    r"proc/(?:stat|meminfo|swaps|sys/vm/[a-z_]+|sys/kernel/random/boot_id)"
    r"|sos_commands/kernel/(?:sysctl_-a|uname_-a)|sos_commands/memory/swapon_[^/]+"
    r"|sos_commands/host/hostname|etc/(?:hostname|timezone|localtime)|sos_reports/manifest\.json"
    rf"|sys/fs/cgroup/(?:[^/]+/)*(?:{_CG})"
)
# the order logs are read in: the ring buffer, syslog files, the journal
_LOG_ORDER = ("sos_commands/kernel/", "var/log/", "sos_commands/logs/")


def is_sosreport(rels: Callable[[str], bool]) -> bool:
    """``rels(prefix)``: whether any path of the report starts with ``prefix``."""
    return rels("sos_commands/") and (rels("version.txt") or rels("sos_reports/"))


def role(rel: str, sniffed_log: bool) -> str | None:
    """log | history | None for a path inside the report (``sniffed_log``: its head looks like a
    log; journalctl outputs must, the ring buffer and syslog files are read whatever)."""
    if HISTORY.fullmatch(rel):
        return "history"
    if not LOGS.fullmatch(rel) or NOT_LOGS.fullmatch(rel):
        return None
    if rel.startswith("sos_commands/logs/") and not sniffed_log:
        return None
    return "log"


def log_order(rel: str) -> int:
    return next((i for i, p in enumerate(_LOG_ORDER) if rel.startswith(p)), len(_LOG_ORDER))


def host_facts(origin: str, texts: Mapping[str, bytes], links: Mapping[str, str]) -> HostFacts:
    """The facts the report recorded (``texts``: its small files by path inside it)."""
    missing: list[str] = []
    if "proc/stat" not in texts:
        missing.append("proc/stat (boot time): not in the sosreport (sos's process plugin)")
    sysctl = facts.sysctls(lines_of(texts.get("sos_commands/kernel/sysctl_-a")))
    if not sysctl:
        sysctl = facts.sysctls(_proc_sys_vm(texts))
    version = cgroup_version(texts)
    base = "sys/fs/cgroup/memory" if version == 1 else "sys/fs/cgroup"
    cgroups = cgroup_states(texts, base, version) if version else ()
    localtime = texts.get("etc/localtime"), links.get("etc/localtime")
    zone = zone_of(texts.get("etc/timezone"), *localtime)
    return HostFacts(
        origin=origin,
        hostname=first_line(texts, "sos_commands/host/hostname", "etc/hostname"),
        boot_id=first_line(texts, "proc/sys/kernel/random/boot_id"),
        boot_time=facts.btime(lines_of(texts.get("proc/stat"))),
        kernel=_release(first_line(texts, "sos_commands/kernel/uname_-a")),
        collected=_collected(texts.get("sos_reports/manifest.json"), zone),
        sysctls=sysctl,
        swaps=_swaps(texts),
        meminfo_kb=facts.meminfo(lines_of(texts.get("proc/meminfo"))),
        cgroup_version=version,
        cgroups=cgroups,
        unreadable=tuple(missing),
    )


def _proc_sys_vm(texts: Mapping[str, bytes]) -> list[str]:
    """proc/sys/vm/NAME files as ``vm.NAME = value`` lines."""
    return [
        f"vm.{rel.rpartition('/')[2]} = {b' '.join(data.split()).decode('utf-8', 'replace')}"
        for rel, data in texts.items()
        if rel.startswith("proc/sys/vm/")
    ]


def _swaps(texts: Mapping[str, bytes]) -> tuple[Swap, ...]:
    """/proc/swaps, else ``swapon --summary`` (the same table), else ``swapon --bytes --show``
    (NAME TYPE SIZE USED PRIO, in bytes)."""
    for rel in sorted(texts):
        if rel == "proc/swaps" or rel.startswith("sos_commands/memory/swapon_--summary"):
            return facts.swaps(lines_of(texts[rel]))
    for rel in sorted(texts):
        if rel.startswith("sos_commands/memory/swapon_--bytes"):
            return tuple(
                Swap(s.device, s.kind, s.size_kb // 1024, s.used_kb // 1024)
                for s in facts.swaps(lines_of(texts[rel]))
            )
    return ()


def _release(uname: str | None) -> str | None:
    """``uname -r`` from a ``uname -a`` line (Linux HOST RELEASE ...)."""
    parts = (uname or "").split()
    return parts[2] if len(parts) > 2 else None


def _collected(manifest: bytes | None, zone: tzinfo | None) -> datetime | None:
    """sos's ``start_time``: ``datetime.now()`` on the host, a naive local time. It is read in the
    host's zone when the report holds it (etc/timezone, etc/localtime), else taken as UTC: sos
    reports are most often made on servers that run on UTC, and no better guess is written."""
    if manifest is None:
        return None
    try:
        start = json.loads(manifest).get("start_time")
        when = datetime.fromisoformat(str(start))
    except (ValueError, TypeError, AttributeError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone or timezone.utc)
    return when.astimezone(timezone.utc)
