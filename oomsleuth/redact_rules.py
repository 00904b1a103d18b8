"""What ``--redact`` (:mod:`oomsleuth.redact`) recognises: the shapes of cgroup path components,
the well-known levels kept as they are, addresses, home directories, and the model's fields by
role (kept, paths, process names, sources, labels). Data only."""

from __future__ import annotations

import re

from oomsleuth.model import cgroup_paths as cgp
from oomsleuth.model.patterns import lazy_compile

# a pod component with what comes before its UID (kubepods-burstable-) and its .slice, if any
POD = lazy_compile(rf"(.*?)pod({cgp.POD_UID})(\.slice)?")
RUNTIME = lazy_compile(rf"({cgp.RUNTIME_PREFIXES})-(\w+?)(\.scope)?")
FULL_ID = lazy_compile(rf"{cgp.HEX}{{64}}")
# any unit name, target and device units too (they have no cgroup, but other fields name them)
UNIT = lazy_compile(rf".+(\.(?:{'|'.join((*cgp.CGROUP_UNIT_TYPES, 'target', 'device'))}))")
NUMBERED = lazy_compile(r"\d+|(?:user-|user@|session-|run-u)\d+\.(?:slice|service|scope)")
LXC = lazy_compile(rf"({'|'.join(map(re.escape, cgp.LXC_PREFIXES))})(.+)")


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STRUCTURAL = words(
    "kubepods kubepods.slice burstable besteffort guaranteed kubepods-burstable.slice"
    " kubepods-besteffort.slice kubepods-guaranteed.slice system.slice user.slice machine.slice"
    " init.scope -.slice docker lxc lxc.payload lxc.monitor libpod_parent machine.slice"
    " cri-containerd crio containerd podruntime.slice runtime.slice kubelet.slice"
)
NAMESPACES = frozenset(("default", "kube-system", "kube-public", "kube-node-lease"))
IP4 = r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\w|\.\d)"
IP6 = r"(?<![\w:.])(?=[\w:]*[0-9a-fA-F])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])"
HOME = r"(?<=/home/)[^/\s:'\",;()\[\]]+"
TOKEN = lazy_compile(r"[^\s/()]+")
SYSTEMD_ESCAPE = lazy_compile(cgp.ESCAPE)
# fields by role (the model's own field names); every other string is free text
KEEP = words(
    "gfp_mask gfp_flags kernel hardware call_trace outcome code kind metric constraint framing"
    " framings killer signal nodemask mems_allowed time_confidence time_source page_size_source"
    " scope counters_kb stats_bytes extra unreclaimable_slab hugepages accounting anchor_kind"
    " matched rollovers allocation_sites allocation_profiling"
)
PATHS = words("oom_memcg task_memcg stats_path cgroup cpuset oom_group")
COMMS = frozenset(("comm", "trigger_comm", "task", "groupname"))
SOURCES = frozenset(("source", "sources", "history_used"))
LABELS = {"pod": "pod", "namespace": "ns", "image": "image", "cmdline": "cmdline"}
HOST_LABELS = frozenset(("instance", "host", "hostname", "node", "nodename"))
LABELS_KEPT = frozenset(("level", "tgid", "pid", "state", "mode", "type"))
