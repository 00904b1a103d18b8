"""``--redact``: the result with every name that points at a person, a host or a workload
replaced by a stable pseudonym, in every field of the model; numbers and kernel facts kept. Pure.

Replaced: host names (``host-1``); IPv4/IPv6 addresses anywhere in text (``192.0.2.1``,
``2001:db8::1``: documentation ranges); users of home directories (``/home/user-1``); cgroup
paths component by component, structure kept: pod UIDs (``kubepods-burstable-pod-1.slice``),
container ids (``cri-containerd-ctr-1.scope``, ``/docker/ctr-2``), units (``unit-1.service``:
suffix kept), other components (``cg-1``), not the well-known levels (``system.slice``,
``kubepods``, QoS classes...) nor numbered ones (``user-1000.slice``: numbers stay); pod,
namespace and container names, images and command lines of history samples; boot ids
(``boot-1``); source file paths (``source-1.log``, extension kept).

Kept: every number (pids, uids, sizes, counts, scores, times), gfp masks and flags, the kernel
release, hardware and call trace, outcomes, constraints, metric names, warning codes, and process
names (comm), without which the verdict cannot be read; ``redact(result, comms=True)`` replaces
those too (``comm-1``). Free text (evidence, warnings, cascade, notes, raw lines) gets the
pseudonyms of the originals it quotes, as whole tokens; a string equal to a kept comm is never
replaced inside free text (that would rename the process).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from oomsleuth import redact_rules as rules
from oomsleuth.model import Report
from oomsleuth.model import cgroup_paths as cgp
from oomsleuth.model.record import replace


def redact(result: Report, *, comms: bool = False) -> Report:
    """``result`` with names pseudonymised (see the module docstring); ``comms=True`` also
    replaces process names. Deterministic: the same input gives the same pseudonyms."""
    pseudo = Pseudonymizer(comms=comms)
    pseudo.walk(result)  # first pass: learn every structured original, so that free text...
    pseudo.collecting, pseudo.done = False, {}
    redacted: Report = pseudo.walk(result)  # ...can be rewritten with all of them known
    return redacted


def text_redactor(result: Report, hostnames: tuple[str, ...] = ()) -> Callable[[str], str]:
    """A line rewriter with the pseudonyms :func:`redact` gives ``result`` (and ``hostnames``):
    for raw evidence copied beside a redacted analysis (``oomsleuth collect --redact``)."""
    pseudo = Pseudonymizer()
    for host in hostnames:
        pseudo.name("host", host)
    pseudo.walk(result)
    pseudo.collecting, pseudo.done = False, {}
    pseudo.walk(result)
    return pseudo.free


def _token(original: str) -> str:
    """``original`` as a whole token: not glued to a word it would be part of."""
    left = r"(?<![\w.-])" if original[0].isalnum() or original[0] == "_" else ""
    right = r"(?![\w-])" if original[-1].isalnum() or original[-1] == "_" else ""
    return left + re.escape(original) + right


class Pseudonymizer:
    """Maps (kind, original) -> pseudonym, numbered per kind in the order first seen, and
    rewrites free text with the pseudonyms of the originals it quotes."""

    def __init__(self, *, comms: bool = False) -> None:
        self.comms = comms
        self.collecting = True
        self.names: dict[tuple[str, str], str] = {}
        self.counts: dict[str, int] = {}
        self.text: dict[str, str] = {}  # original -> pseudonym, replaced inside free text
        self.parts: dict[str, str] = {}  # cgroup path component -> its pseudonym
        self.kept: set[str] = set()  # kept comms: never replaced inside free text
        self._pattern: re.Pattern[str] | None = None
        self.done: dict[tuple[str, str], str] = {}  # (field or label name, value) -> redacted
        self.roles: dict[str, Callable[[str], str]] = {  # field name -> how to redact it
            **dict.fromkeys(rules.SOURCES, self.source),
            **dict.fromkeys(rules.PATHS, self.path),
            **dict.fromkeys(rules.COMMS, self.comm),
            "host": lambda host: self.name("host", host),
            "hostname": lambda host: self.name("host", host),
            "path": self.path,  # CgroupState.path
            "origin": lambda o: o if o == "this host" else self.source(o),
            "boot_id": lambda boot: self.name("boot", boot),
            "entity": self.entity,
            "cgroup_label": self.label,
        }

    def name(self, kind: str, original: str, suffix: str = "", *, text: bool = True) -> str:
        key = (kind, original)
        if key not in self.names:
            n = self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind == "ip4":
                self.names[key] = f"192.0.{2 + (n - 1) // 254}.{(n - 1) % 254 + 1}"
            else:
                self.names[key] = f"2001:db8::{n:x}" if kind == "ip6" else f"{kind}-{n}{suffix}"
        if text:
            self.learn(original, self.names[key])
        return self.names[key]

    def learn(self, original: str, pseudonym: str) -> None:
        if len(original) > 1 and original != pseudonym and self.text.get(original) != pseudonym:
            self.text[original] = pseudonym
            self._pattern = None

    def walk(self, value: Any, name: str = "") -> Any:
        names = getattr(value, "__dataclass_fields__", None)
        if names is not None and not isinstance(value, type):
            return replace(value, **{n: self.walk(getattr(value, n), n) for n in names})
        if isinstance(value, str):
            if (name, value) not in self.done:
                self.done[name, value] = self.field(name, value)
            return self.done[name, value]
        if isinstance(value, tuple) and name not in rules.KEEP:
            return tuple(self.item(name, v) for v in value)
        return value

    def item(self, name: str, value: Any) -> Any:
        if not isinstance(value, tuple):
            return self.walk(value, name)
        if name == "labels":
            key = (f"label {value[0]}", value[1])
            if key not in self.done:
                self.done[key] = self.label_value(value[0], value[1])
            return (value[0], self.done[key])
        if name == "sources":  # History.sources: (name, format)
            return (self.source(value[0]), value[1])
        if name == "restarts":  # (time, source)
            return (value[0], self.source(value[1]))
        if name == "lines":  # OomReport.lines: (line number, the raw line): free text
            return (value[0], self.walk(value[1], name))
        if name == "protected":  # HostFacts.protected: (pid, comm)
            return (value[0], self.walk(value[1], "comm"))
        return value

    def field(self, name: str, value: str) -> str:
        return value if name in rules.KEEP or not value else self.roles.get(name, self.free)(value)

    def comm(self, comm: str) -> str:
        if self.comms:
            return self.name("comm", comm)
        self.kept.add(comm)
        return comm

    def source(self, source: str) -> str:
        if source in ("-", "<stdin>"):
            return source
        suffix = PurePosixPath(source).suffix
        return self.name("source", source, suffix if re.fullmatch(r"\.\w{1,5}", suffix) else "")

    def path(self, path: str) -> str:
        """A cgroup path (or a bare cgroup name), component by component."""
        originals = path.split("/")
        parts: list[str] = []
        for i, part in enumerate(originals):
            prev = originals[i - 1] if i else ""
            after_pod = prev == "docker" or rules.POD.fullmatch(prev) is not None
            pieces = part.split(":")  # containerd's systemd driver: <slice>:<prefix>:<id>
            new = ":".join(self.component(p, after_pod or j == 2) for j, p in enumerate(pieces))
            parts.append(new)
            if new != part:
                self.parts[part] = new
        for i in range(1, len(parts) + 1):  # the path and each of its parents
            self.learn("/".join(originals[:i]), "/".join(parts[:i]))
        return "/".join(parts)

    def component(self, part: str, container: bool = False) -> str:
        if not part or part in rules.STRUCTURAL or rules.NUMBERED.fullmatch(part):
            return part
        if pod := rules.POD.fullmatch(part):
            new = pod[1] + self.pod_uid(pod[2]) + (pod[3] or "")
        elif (rt := rules.RUNTIME.fullmatch(part)) and (rt[3] or cgp.HEX_ID.fullmatch(rt[2])):
            new = f"{rt[1]}-{self.container(rt[2])}{rt[3] or ''}"
        elif container or rules.FULL_ID.fullmatch(part):
            new = self.container(part)
        elif unit := rules.UNIT.fullmatch(part):
            new = self.name("unit", part, unit[1])
            self.learn(rules.SYSTEMD_ESCAPE.sub(lambda m: chr(int(m[0][2:], 16)), part), new)
        elif lxc := rules.LXC.fullmatch(part):
            new = lxc[1] + self.name("cg", lxc[2])
        else:
            return self.name("cg", part, text=False)
        self.learn(part, new)
        return new

    def pod_uid(self, uid: str) -> str:
        canonical, short = uid.lower().replace("_", "-"), f"{uid[:8].lower()}…"
        new = self.name("pod", canonical)
        for form in (uid, uid.lower(), canonical, f"pod {short}", short):  # short: as labels say
            self.learn(form, new)
        return new

    def container(self, cid: str) -> str:
        new = self.name("ctr", cid.lower() if cgp.HEX_ID.fullmatch(cid) else cid)
        for form in (cid, f"{cid[:12]}…", f"{cid[:12].lower()}…") if len(cid) > 12 else (cid,):
            self.learn(form, new)
        return new

    def entity(self, entity: str) -> str:
        """``pid:N`` kept; ``cgroup:/path``, ``container:id``, ``container:ns/pod/name`` and
        ``group:comm`` pseudonymised by part."""
        kind, sep, value = entity.partition(":")
        if not sep or kind == "pid":
            return entity if sep else self.free(entity)
        if kind == "cgroup":
            new = self.path(value)
        elif kind == "container" and value.count("/") == 2:
            ns, pod, ctr = value.split("/")
            new = f"{self.namespace(ns)}/{self.name('pod', pod)}/{self.container(ctr)}"
        elif kind == "container":
            new = self.container(value)
        else:
            new = self.comm(value) if kind == "group" else self.free(value)
        self.learn(entity, f"{kind}:{new}")
        return f"{kind}:{new}"

    def namespace(self, ns: str) -> str:
        return ns if ns in rules.NAMESPACES else self.name("ns", ns)

    def label_value(self, key: str, value: str) -> str:
        if not value or key in rules.LABELS_KEPT or value.isdigit():
            return value
        if key in rules.COMMS:
            return self.comm(value)
        if key == "cgroup":
            return self.path(value)
        if key == "container":
            return value if value == "POD" else self.container(value)
        if key == "namespace":
            return self.namespace(value)
        if key not in rules.HOST_LABELS:
            return self.name(rules.LABELS.get(key, "label"), value)
        host, sep, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
        ip = _ip(host)  # host[:port]
        return (
            (self.name(f"ip{ip}", host, text=False) if ip else self.name("host", host)) + sep + port
        )

    def free(self, text: str) -> str:
        """Text with every known original (as a whole token), IP address and home directory
        user replaced. Unchanged while the first pass is still learning the originals."""
        if self.collecting:  # learn the users of home directories, to replace them anywhere
            for user in re.findall(rules.HOME, text):
                self.name("user", user)
            return text
        return self.pattern().sub(self._replace, text)

    def label(self, text: str) -> str:
        """A decoded cgroup label (``pod 5931aa75… (burstable)``): free text, then any word
        that is a pseudonymised path component."""
        return rules.TOKEN.sub(lambda m: self.parts.get(m[0], m[0]), self.free(text))

    def pattern(self) -> re.Pattern[str]:
        if self._pattern is None:
            known = sorted((k for k in self.text if k not in self.kept), key=lambda k: -len(k))
            alts = "|".join(map(_token, known)) or r"(?!)"
            self._pattern = re.compile(
                rf"(?P<known>{alts})"
                rf"|(?P<ip4>{rules.IP4})|(?P<ip6>{rules.IP6})|(?P<home>{rules.HOME})"
            )
        return self._pattern

    def _replace(self, m: re.Match[str]) -> str:
        found = m.group()
        if m["known"] is not None:
            return self.text[found]
        if m["home"] is not None:
            return self.name("user", found, text=False)
        ip = _ip(found)
        return self.name(f"ip{ip}", found, text=False) if ip else found


def _ip(text: str) -> int:
    """4 or 6 for an IP address, 0 for anything else."""
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return 0
