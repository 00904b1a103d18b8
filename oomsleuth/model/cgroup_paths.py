"""The pieces of cgroup path components that name something: Kubernetes pod UIDs, container
runtime scopes and container ids, systemd unit types and escapes, LXC containers.

One set, shared by :mod:`oomsleuth.correlate.cgroups` (which decodes a path) and
:mod:`oomsleuth.redact` (which pseudonymises it), so both read a pod UID or a container id alike.
The strings are regex fragments without groups; each caller builds its own patterns from them.
"""

from __future__ import annotations

from oomsleuth.model.patterns import lazy_compile

HEX = "[0-9a-fA-F]"
# a UUID with dashes, or with underscores where the systemd cgroup driver escaped them
UUID = "[-_]".join(f"{HEX}{{{n}}}" for n in (8, 4, 4, 4, 12))
# a pod's UID as the ``pod<uid>`` component names it: a UUID, or 32 hex (a static pod's hash)
POD_UID = rf"{UUID}|{HEX}{{32}}"
# a container id, whole (64 hex) or cut to 12 and more
HEX_ID = lazy_compile(rf"{HEX}{{12,64}}")
# what a runtime puts before a container id: ``cri-containerd-<id>.scope``, ``docker-<id>.scope``
RUNTIME_PREFIXES = "cri-containerd|crio-conmon|crio|docker|libpod-conmon|libpod"
# the systemd unit types that have a cgroup (systemd.resource-control(5))
CGROUP_UNIT_TYPES = ("service", "scope", "slice", "mount", "socket", "swap")
# one systemd escape in a unit name: ``\x2d`` is "-"
ESCAPE = rf"\\x{HEX}{{2}}"
# LXC 4+ container cgroups: ``lxc.payload.<name>``, ``lxc.monitor.<name>``
LXC_PREFIXES = ("lxc.payload.", "lxc.monitor.")
