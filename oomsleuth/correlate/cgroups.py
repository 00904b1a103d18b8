"""Decode the cgroup paths an OOM report names into something a person recognises.

Kernel reports name cgroups in ``oom_memcg=`` / ``task_memcg=``, in the v1 line ``Task in X
killed as a result of limit of Y`` and in ``Memory cgroup stats for X``. :func:`decode_cgroup`
says what such a path is: a Kubernetes pod or container (cgroupfs or systemd driver), a docker,
podman or LXC container, a systemd unit, a user session. Pure, no I/O, never raises.

    >>> decode_cgroup("/kubepods/burstable/pod62015ce8-a46f-4b0e-a5a1-3082235c62dd").short()
    'pod 62015ce8… (burstable)'
    >>> decode_cgroup("/system.slice/node-app.service").short()
    'node-app.service'
"""

from __future__ import annotations

import re

from oomsleuth.model import cgroup_paths as cgp
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import field, record

_POD = lazy_compile(rf"pod({cgp.POD_UID})")
_RUNTIME_PART = lazy_compile(rf"({cgp.RUNTIME_PREFIXES})-([0-9A-Za-z]{{1,128}})(\.scope)?")
_RUNTIMES = {
    "cri-containerd": "containerd",
    "crio": "cri-o",
    "docker": "docker",
    "libpod": "podman",
}
_ENGINES = {"docker": "docker", "podman": "podman"}  # runtimes that are a kind of their own
_UNIT = lazy_compile(rf".+\.({'|'.join(cgp.CGROUP_UNIT_TYPES)})")
_UNIT_KINDS = {"service": "systemd-service", "scope": "systemd-scope", "slice": "systemd-slice"}
_USER = lazy_compile(r"user-(\d{1,10})\.slice|user@(\d{1,10})\.service")
_QOS = {"burstable": "burstable", "besteffort": "besteffort", "guaranteed": "guaranteed"}
_ESCAPES = lazy_compile(rf"(?:{cgp.ESCAPE})+")
_KUBE_KINDS = ("kubernetes-node", "kubernetes-pod", "kubernetes-container")


@record(frozen=True, slots=True)
class CgroupInfo:
    """What a cgroup path says about its owner; fields not named by the path are None.

    ``kind`` is one of kubernetes-pod, kubernetes-container, kubernetes-node (the kubepods root
    or a QoS level), systemd-service, systemd-scope, systemd-slice, docker, podman, lxc,
    user-session, root, other. ``unit`` and ``slice`` keep systemd's escaping (``\\x2d``) so
    they can be passed to ``systemctl``; :meth:`short` shows them decoded.
    """

    path: str
    kind: str
    runtime: str | None = None  # containerd, cri-o, docker, podman, lxc
    qos: str | None = None  # guaranteed, burstable, besteffort
    pod_uid: str | None = None  # dashed, lower case (a static pod's uid is 32 hex)
    container_id: str | None = None  # hex, lower case
    unit: str | None = None  # innermost non-slice unit, e.g. "nginx.service"
    slice: str | None = None  # innermost slice, e.g. "user-1000.slice"
    user_uid: int | None = None

    def short(self) -> str:
        """A compact label: ``pod 10d16a28… (burstable) container 178ec18073cc…``."""
        kind, parts = self.kind, _parts(self.path)
        last = parts[-1] if parts else ""
        if kind == "root":
            return "/"
        if kind in _KUBE_KINDS:
            qos = f" ({self.qos})" if self.qos else ""
            if kind == "kubernetes-node":
                if qos or last in ("kubepods", "kubepods.slice", ""):
                    return "kubepods" + (qos or " (all pods)")
                return f"kubepods ({_printable(last)})"  # a QoS level we do not know
            label = f"pod {_abbrev(self.pod_uid or '?', 8)}{qos}"
            if kind == "kubernetes-container":
                label += f" container {self._container(parts)}"
            return label
        if kind == "lxc":
            return " ".join(["lxc", *_lxc_name(parts)])
        if kind in ("docker", "podman") or self.container_id:
            if kind == "docker" and not self.container_id and last == "docker":
                return "docker"
            return f"{self.runtime or kind} {self._container(parts)}" + self._uid_suffix("")
        base = self.slice if kind == "systemd-slice" else self.unit
        if base is None or base not in parts or kind not in (*_UNIT_KINDS.values(), "user-session"):
            return _printable(self.path)
        rest = parts[len(parts) - parts[::-1].index(base) :]
        label = "/".join([_unescape(base), *(_printable(p) for p in rest)])
        return label + self._uid_suffix(base)

    def _container(self, parts: list[str]) -> str:
        ids = (m.group(2) for p in reversed(parts) if (m := _RUNTIME_PART.fullmatch(p)))
        name = self.container_id or next(ids, parts[-1] if parts else "?")
        conmon = any(p.startswith(("crio-conmon-", "libpod-conmon-")) for p in parts)
        return _abbrev(_printable(name), 12) + (" (conmon)" if conmon else "")

    def _uid_suffix(self, base: str) -> str:
        if self.user_uid is None or base.startswith(("user-", "user@")):
            return ""
        return f" (uid {self.user_uid})"


@record(slots=True)
class _Scan:
    """What the walk down one path has found so far."""

    kube: int = -1  # -1 none, 0 kubepods root / QoS level, 1 pod, 2 container
    qos: str | None = None
    qos_seen: bool = False
    pod_uid: str | None = None
    kube_runtime: str | None = None
    kube_id: str | None = None
    engine: str | None = None  # docker, podman, lxc: a container outside Kubernetes
    runtime: str | None = None
    container_id: str | None = None
    unit: str | None = None
    slice: str | None = None
    user_uid: int | None = None
    last_unit: int = -1  # index of the innermost unit or slice
    seen: list[str] = field(default_factory=list)

    def feed(self, part: str) -> None:
        prev = self.seen[-1] if self.seen else ""
        self.seen.append(part)
        self._systemd(part)
        runtime = _RUNTIME_PART.fullmatch(part)
        if runtime and not runtime.group(3) and not cgp.HEX_ID.fullmatch(runtime.group(2)):
            runtime = None  # "docker-registry" is a name, "docker-<hex>" an id
        if part.endswith(".slice") and "kubepods" in part[:-6].split("-"):
            self._kube_slice(part[:-6].split("-"))
        elif part == "kubepods":
            self.kube = max(self.kube, 0)
        elif self.kube == 0 and (pod := _POD.fullmatch(part)):
            self.kube, self.pod_uid = 1, _canonical_uid(pod.group(1))
            self.qos = self.qos if self.qos_seen else "guaranteed"
        elif self.kube == 0 and not self.qos_seen:
            self.qos, self.qos_seen = _QOS.get(part), True
        elif self.kube == 1:
            self.kube = 2
            if runtime:
                self.kube_runtime = _RUNTIMES[runtime.group(1).removesuffix("-conmon")]
            self.kube_id = _hex(runtime.group(2) if runtime else part)
        elif self.kube >= 0:
            return
        elif runtime:
            self.runtime = _RUNTIMES[runtime.group(1).removesuffix("-conmon")]
            self.engine, self.container_id = _ENGINES.get(self.runtime), _hex(runtime.group(2))
        elif part == "docker" or prev == "docker":
            self.engine = self.runtime = "docker"
            self.container_id = _hex(part) if prev == "docker" else None
        elif part in ("lxc", "lxc.payload") or part.startswith(cgp.LXC_PREFIXES):
            self.engine = self.runtime = "lxc"

    def _systemd(self, part: str) -> None:
        if (user := _USER.fullmatch(part)) is not None:
            self.user_uid = int(user.group(1) or user.group(2))
        if unit := _UNIT.fullmatch(part):
            self.last_unit = len(self.seen) - 1
            if unit.group(1) == "slice":
                self.slice = part
            else:
                self.unit = part

    def _kube_slice(self, segments: list[str]) -> None:
        rest = segments[segments.index("kubepods") + 1 :]
        pod = _POD.fullmatch(rest[-1]) if rest else None
        if pod is not None and self.kube < 1:
            self.kube, self.pod_uid = 1, _canonical_uid(pod.group(1))
            self.qos = "guaranteed" if len(rest) == 1 else _QOS.get("-".join(rest[:-1]))
        elif pod is None and self.kube < 1:
            self.kube = 0
            if rest:
                self.qos, self.qos_seen = _QOS.get("-".join(rest)), True

    def kind(self) -> str:
        if self.kube >= 0:
            return _KUBE_KINDS[self.kube]
        if self.engine:
            return self.engine
        if self.last_unit < 0:
            return "other"
        name = self.seen[self.last_unit]
        suffix = name.rsplit(".", 1)[1]
        if self.last_unit < len(self.seen) - 1 and suffix not in ("service", "scope"):
            return "other"  # only services and scopes delegate subtrees
        if suffix == "scope" and name.startswith("session-"):
            return "user-session"
        return _UNIT_KINDS.get(suffix, "other")


def decode_cgroup(path: str | None) -> CgroupInfo | None:
    """Decode a cgroup path from a kernel report; None for None or an empty string.

    A path carrying whitespace or control characters (a log line split in the wrong place) is
    kept as it is with kind ``other``: guessing at what was meant would mislead.
    """
    if path is None or not path.strip():
        return None
    if not path.isprintable() or path.split() != [path]:  # a control or whitespace character
        return CgroupInfo(path, "other")
    parts = _parts(path)
    if not parts:
        return CgroupInfo(path, "root")
    scan = _Scan()
    for part in parts:
        scan.feed(part)
    kind = scan.kind()
    kube = kind in _KUBE_KINDS
    return CgroupInfo(
        path=path,
        kind=kind,
        runtime=scan.kube_runtime if kube else scan.runtime,
        qos=scan.qos if kube else None,
        pod_uid=scan.pod_uid if kube else None,
        container_id=scan.kube_id if kube else scan.container_id,
        unit=scan.unit,
        slice=scan.slice,
        user_uid=scan.user_uid,
    )


def same_pod(a: CgroupInfo, b: CgroupInfo) -> bool:
    """True when both cgroups belong to one Kubernetes pod (the pod or one of its containers)."""
    return a.pod_uid is not None and a.pod_uid == b.pod_uid


def _parts(path: str) -> list[str]:
    parts: list[str] = []
    for part in path.split("/"):
        pieces = part.split(":")
        if len(pieces) == 3 and pieces[0].endswith(".slice"):
            # containerd's systemd-driver "<slice>:<prefix>:<id>" taken as one directory name
            parts += [pieces[0], f"{pieces[1]}-{pieces[2]}"]
        elif part and part != ".":
            parts.append(part)
    return parts


def _canonical_uid(uid: str) -> str:
    return uid.replace("_", "-").lower()


def _hex(name: str) -> str | None:
    return name.lower() if cgp.HEX_ID.fullmatch(name) else None


def _lxc_name(parts: list[str]) -> list[str]:
    for i, part in enumerate(parts):
        for prefix in cgp.LXC_PREFIXES:
            if part.startswith(prefix):
                return [_printable(part.removeprefix(prefix))]
        if part in ("lxc", "lxc.payload") and i + 1 < len(parts):
            return [_printable(parts[i + 1])]
    return []


def _abbrev(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width] + "…"


def _printable(text: str) -> str:
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def _unescape(name: str) -> str:
    r"""systemd's ``\x2d`` escapes decoded for display, where the result is printable UTF-8."""

    def one(match: re.Match[str]) -> str:
        raw = match.group()
        try:
            text = bytes.fromhex(raw.replace("\\x", "")).decode("utf-8")
        except UnicodeDecodeError:
            return raw
        return text if text.isprintable() else raw

    return _printable(_ESCAPES.sub(one, name))
