"""``oomsleuth collect`` bundles read back (layout version 1 of docs/bundles.md), and the
helpers every bundle reader shares (:mod:`~oomsleuth.load.sosreport` too): the small files a
bundle holds about its host, read whole during the scan (at most ``FACT_BYTES`` each), turned
into text, a time zone and cgroup states.

A gzip-compressed tarball (or its extracted folder) with one top folder holding
``manifest.json`` (``"format": "oomsleuth-bundle"``): ``logs/*`` are the logs, ``history/**``
the history, ``host/*`` and ``cgroups/**`` the facts, the manifest gives host, boot id, btime,
uname, time zone and when it was collected (the files under ``host/`` win where both say).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any

from dateutil import tz as dateutil_tz

from oomsleuth.load import facts
from oomsleuth.model import CgroupState, HostFacts
from oomsleuth.model.patterns import lazy_compile

FORMAT = "oomsleuth-bundle"
VERSION = 1
_CG = "|".join(re.escape(n) for n in facts.CGROUP_FILES)
# paths inside the bundle (after its top folder) read whole as facts
FACTS = lazy_compile(
    r"manifest\.json|host/(?:proc-stat-btime|boot_id|hostname|uname-r|timezone|sysctl\.txt"
    rf"|swaps|meminfo|zswap-enabled|oom-score-adj-protected\.txt)|cgroups/(?:[^/]+/)*(?:{_CG})"
)


FACT_BYTES = 1 << 20  # no proc, sysctl, manifest or control file we read is bigger
_CGROUP_FILES = frozenset(facts.CGROUP_FILES)


def lines_of(data: bytes | None) -> list[str]:
    return [] if data is None else data.decode("utf-8", "replace").splitlines()


def first_line(texts: Mapping[str, bytes], *rels: str) -> str | None:
    """The first non-blank line of the first of ``rels`` the bundle holds."""
    for rel in rels:
        line = next((s.strip() for s in lines_of(texts.get(rel)) if s.strip()), None)
        if line:
            return line
    return None


def zone_of(name: bytes | str | None, localtime: bytes | None, link: str | None) -> tzinfo | None:
    """The host's time zone: a zone name (etc/timezone, a manifest), else the target of the
    etc/localtime link (``.../zoneinfo/Europe/Paris``), else the TZif file itself."""
    text = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
    text = (text or "").strip()
    if not text and link and "zoneinfo/" in link:
        text = link.rpartition("zoneinfo/")[2]
    if text:
        return dateutil_tz.gettz(text)
    if localtime and localtime.startswith(b"TZif"):
        try:
            return dateutil_tz.tzfile(io.BytesIO(localtime))
        except ValueError:
            return None
    return None


def cgroup_version(texts: Mapping[str, bytes], root: str = "sys/fs/cgroup") -> int | None:
    """The memory controller's version in a copy of /sys/fs/cgroup: 2 when the root's
    cgroup.controllers names ``memory``, 1 when there is a ``memory`` hierarchy."""
    controllers = texts.get(f"{root}/cgroup.controllers")
    if controllers is not None and b"memory" in controllers.split():
        return 2
    return 1 if any(rel.startswith(f"{root}/memory/") for rel in texts) else None


def cgroup_states(
    texts: Mapping[str, bytes], base: str, version: int | None
) -> tuple[CgroupState, ...]:
    """The control files under ``base`` (a memory hierarchy's root), one state per folder,
    ``path`` as the kernel names it (``/`` for the root). Without a ``version``, each cgroup's
    own files tell it (``memory.max``: 2)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for rel in sorted(texts):
        if not rel.startswith(base + "/"):
            continue
        folder, _, name = rel[len(base) :].rpartition("/")
        if name in _CGROUP_FILES:
            text = texts[rel].decode("utf-8", "replace").strip()
            groups.setdefault(folder or "/", []).append((name, text))
    return tuple(
        CgroupState(path, version or _version(files), tuple(files))
        for path, files in groups.items()
    )


def _version(files: list[tuple[str, str]]) -> int:
    return 2 if any(name in ("memory.max", "memory.events") for name, _ in files) else 1


def manifest(texts: Mapping[str, bytes]) -> dict[str, Any] | None:
    """The bundle's manifest when ``texts`` holds one of ours, else None."""
    data = texts.get("manifest.json")
    if data is None:
        return None
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else None


def is_manifest(path: Path) -> bool:
    """Whether ``path`` is the manifest of an oomsleuth bundle (a folder's)."""
    try:
        with path.open("rb") as f:
            return manifest({"manifest.json": f.read(FACT_BYTES)}) is not None
    except OSError:
        return False


def role(rel: str) -> str | None:
    """log | history | None for a path inside the bundle."""
    if rel.startswith("logs/"):
        return "log"
    return "history" if rel.startswith("history/") else None


def newer(doc: Mapping[str, Any]) -> str | None:
    """A note when the bundle's layout is newer than this reader."""
    version = doc.get("version")
    if isinstance(version, int) and version > VERSION:
        return f"bundle format version {version} is newer than this oomsleuth reads ({VERSION})"
    return None


def host_facts(origin: str, texts: Mapping[str, bytes], doc: Mapping[str, Any]) -> HostFacts:
    """The facts the bundle recorded (``texts``: its small files by path inside it)."""
    version = doc.get("cgroup_version")
    version = version if version in (1, 2) else None
    btime = facts.btime(lines_of(texts.get("host/proc-stat-btime")))
    return HostFacts(
        origin=origin,
        hostname=first_line(texts, "host/hostname") or _text(doc.get("host")),
        boot_id=first_line(texts, "host/boot_id") or _text(doc.get("boot_id")),
        boot_time=btime or _when(doc.get("btime")),
        kernel=first_line(texts, "host/uname-r") or _release(doc.get("uname")),
        collected=_when(doc.get("collected")),
        sysctls=facts.sysctls(lines_of(texts.get("host/sysctl.txt"))),
        swaps=facts.swaps(lines_of(texts.get("host/swaps"))),
        meminfo_kb=facts.meminfo(lines_of(texts.get("host/meminfo"))),
        zswap=first_line(texts, "host/zswap-enabled"),
        cgroup_version=version,
        cgroups=cgroup_states(texts, "cgroups", version),
        protected=_protected(texts.get("host/oom-score-adj-protected.txt")),
        unreadable=_unreadable(doc),
    )


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _release(uname: object) -> str | None:
    parts = uname.split() if isinstance(uname, str) else []
    return parts[2] if len(parts) > 2 else None


def _when(value: object) -> datetime | None:
    """An ISO 8601 time of the manifest (written with its offset; a bare one is UTC)."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _protected(data: bytes | None) -> tuple[tuple[int, str], ...]:
    """``PID COMM`` lines."""
    out = []
    for line in lines_of(data):
        pid, _, comm = line.strip().partition(" ")
        if pid.isdigit():
            out.append((int(pid), comm.strip()))
    return tuple(out)


def _unreadable(doc: Mapping[str, Any]) -> tuple[str, ...]:
    """What the collector could not read, and what it left out (with why)."""
    out = [str(u) for u in doc.get("unreadable") or () if u]
    for item in doc.get("left_out") or ():
        if isinstance(item, dict):
            out.append(f"{item.get('what', '?')}: left out ({item.get('why', '?')})")
    return tuple(out)
