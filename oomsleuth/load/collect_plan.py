"""What ``oomsleuth collect`` puts in a bundle, in order of value (docs/bundles.md): the host's
facts and the state of the cgroups the kills named (small), this boot's ring buffer, the journal
or syslog files of the period, then the history files around the kills."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from oomsleuth.load.collect import Member, host_files
from oomsleuth.load.evidence import Dated, Evidence
from oomsleuth.load.files import Input
from oomsleuth.load.host_history import meets
from oomsleuth.load.kmsg import open_kmsg
from oomsleuth.model import HostFacts

Window = tuple[datetime, datetime]


def plan(
    evidence: Evidence,
    windows: list[Window],
    since: datetime,
    now: datetime,
    root: Path,
    rename: Callable[[str], str] | None = None,
) -> list[Member]:
    """Every member of the bundle, most valuable first (the size limit drops the last).
    ``rename`` (``--redact``) pseudonymises cgroup paths in member names; the host's facts are
    kept as they are (sysctl names are not names of people), its host name left out."""
    facts = evidence.facts[0] if evidence.facts else HostFacts("this host")
    members = [*_host(facts, root, keep_name=rename is None), *_cgroups(facts, rename)]
    if not any(item.name == str(root / "dev" / "kmsg") for item in evidence.logs):
        kmsg = str(root / "dev" / "kmsg")
        members.append(_kmsg(kmsg))
    members += list(_logs(evidence, since, root))
    spans = windows or [(since, now)]
    members += [_history(d, root) for d in evidence.dated_history if meets(d, spans)]
    return members


def _text(name: str, what: str, origin: str, text: str) -> Member:
    """A fact: stored as it is, never rewritten by --redact."""
    return Member(name, what, origin, text.encode("utf-8", "surrogateescape"), text=False)


def _host(facts: HostFacts, root: Path, *, keep_name: bool) -> Iterator[Member]:
    if facts.boot_time is not None:
        btime = f"btime {int(facts.boot_time.timestamp())}\n"
        yield _text("host/proc-stat-btime", "boot time", "/proc/stat", btime)
    if facts.hostname and keep_name:
        yield _text("host/hostname", "host name", "gethostname()", facts.hostname + "\n")
    if facts.kernel:
        yield _text("host/uname-r", "kernel release", "uname -r", facts.kernel + "\n")
    sysctl = "".join(f"{k} = {v}\n" for k, v in facts.sysctls)
    yield _text("host/sysctl.txt", "memory sysctls", "/proc/sys", sysctl)
    protected = "".join(f"{pid} {comm}\n" for pid, comm in facts.protected)
    yield _text("host/oom-score-adj-protected.txt", "processes with oom_score_adj -1000",
                "/proc/PID/oom_score_adj", protected)  # fmt: skip
    for name, path in host_files(root):
        if path.exists():
            item = Input(str(path), path)
            yield Member(f"host/{name}", f"copy of {path}", str(path), item, text=False)


def _cgroups(facts: HostFacts, rename: Callable[[str], str] | None) -> Iterator[Member]:
    for cg in facts.cgroups:
        folder = (rename(cg.path) if rename else cg.path).strip("/") or "root"
        for name, content in cg.files:
            what = f"cgroup v{cg.version} control file"
            origin = rename(cg.path) if rename else cg.path
            yield _text(f"cgroups/{folder}/{name}", what, origin, content + "\n")


def _kmsg(path: str) -> Member:
    return Member("logs/kmsg.txt", "this boot's kernel ring buffer", path,
                  Input(path, None, opener=lambda: open_kmsg(path)))  # fmt: skip


def _logs(evidence: Evidence, since: datetime, root: Path) -> Iterator[Member]:
    for item in evidence.logs:
        command = evidence.commands.get(item.name)
        if command is not None:
            yield Member("logs/journal.export", "kernel and OOM-killer journal entries",
                         "journal", item, command=command)  # fmt: skip
        elif item.path is None:
            yield Member("logs/kmsg.txt", "this boot's kernel ring buffer", item.name, item)
        elif _mtime(item.path) >= since.timestamp():
            rel = os.path.relpath(item.path, root)
            yield Member(f"logs/{item.path.name}", "syslog file", "/" + rel, item)


def _history(dated: Dated, root: Path) -> Member:
    item = dated[0]
    assert item.path is not None
    rel = os.path.relpath(item.path, root / "var" / "log")
    binary = item.path.name.startswith(("sa", "atop_")) and not item.path.name.startswith("sar")
    return Member(f"history/{rel}", "history", str(item.path), item, text=not binary)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
