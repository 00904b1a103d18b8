"""The JSON of what a host told about itself (``host_facts``) and of the findings it gives
(``incidents[].findings``); see docs/json-schema.md."""

from __future__ import annotations

from typing import Any

from oomsleuth.model.host import Finding, HostFacts
from oomsleuth.model.outcomes import iso_time

JsonObj = dict[str, Any]


def host_facts_json(f: HostFacts) -> JsonObj:
    return {
        "origin": f.origin,
        "hostname": f.hostname,
        "boot_id": f.boot_id,
        "boot_time": iso_time(f.boot_time),
        "kernel": f.kernel,
        "collected": iso_time(f.collected),
        "sysctls": dict(f.sysctls),
        "swaps": [
            {"device": s.device, "type": s.kind, "size_kb": s.size_kb, "used_kb": s.used_kb}
            for s in f.swaps
        ],
        "meminfo_kb": dict(f.meminfo_kb),
        "zswap": f.zswap,
        "cgroup_version": f.cgroup_version,
        "cgroups": [
            {"path": c.path, "version": c.version, "files": dict(c.files)} for c in f.cgroups
        ],
        "protected": [{"pid": pid, "comm": comm} for pid, comm in f.protected],
        "unreadable": list(f.unreadable),
    }


def finding_json(f: Finding) -> JsonObj:
    return {
        "setting": f.setting,
        "value": f.value,
        "text": f.text,
        "read_from": f.read_from,
        "confidence": f.confidence,
    }
