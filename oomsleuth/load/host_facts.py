"""What this machine tells about itself: boot, sysctls, swap, meminfo, zswap, the cgroup
version, processes exempt from the OOM killer, and (once the kills are known) the control files
of the cgroups they named. Everything under ``root`` (``/`` on the live host). A file that cannot
be read is noted in ``HostFacts.unreadable``, never an error.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path

from oomsleuth.load import facts
from oomsleuth.model import CgroupState, HostFacts

Say = Callable[[str], None]
MAX_FILE = 1 << 20  # no control or proc file we read is bigger


def _text(path: Path, missing: list[str] | None = None) -> str | None:
    try:
        with path.open("rb") as f:
            return f.read(MAX_FILE).decode("utf-8", "replace")
    except OSError as exc:
        if missing is not None and not isinstance(exc, FileNotFoundError):
            missing.append(f"{path}: {exc.strerror or exc}")
        return None


def _lines(path: Path, missing: list[str]) -> list[str]:
    return (_text(path, missing) or "").splitlines()


def read_facts(root: Path, warn: Say) -> HostFacts:
    """This host's facts now (cgroups come later, from :func:`read_cgroups`)."""
    missing: list[str] = []
    proc, sys = root / "proc", root / "sys"
    values = [
        (name, text.strip())
        for name in facts.SYSCTLS
        if (text := _text(proc / "sys" / name.replace(".", "/"), missing)) is not None
    ]
    boot_id = _text(proc / "sys" / "kernel" / "random" / "boot_id")
    zswap = _text(sys / "module" / "zswap" / "parameters" / "enabled")
    if missing:
        warn(f"could not read {len(missing)} host file(s) (run as root): {missing[0]}")
    return HostFacts(
        origin="this host" if root == Path("/") else str(root),
        hostname=socket.gethostname() if root == Path("/") else None,
        boot_id=boot_id.strip() if boot_id else None,
        boot_time=facts.btime(_lines(proc / "stat", missing)),
        kernel=os.uname().release if root == Path("/") else None,
        collected=datetime.now(timezone.utc),
        sysctls=tuple(values),
        swaps=facts.swaps(_lines(proc / "swaps", missing)),
        meminfo_kb=facts.meminfo(_lines(proc / "meminfo", missing)),
        zswap=zswap.strip() if zswap else None,
        cgroup_version=cgroup_version(root),
        protected=_protected(proc),
        unreadable=tuple(missing),
    )


def cgroup_version(root: Path) -> int | None:
    """The memory controller's cgroup version: 2 (unified), 1, or None when not mounted."""
    fs = root / "sys" / "fs" / "cgroup"
    if "memory" in (_text(fs / "cgroup.controllers") or "").split():
        return 2
    if (fs / "memory").is_dir():
        return 1
    return None


def read_cgroups(root: Path, paths: Iterable[str]) -> tuple[CgroupState, ...]:
    """The control files of each cgroup (as the kernel's reports name it) that still exists."""
    version = cgroup_version(root)
    if version is None:
        return ()
    base = root / "sys" / "fs" / "cgroup" / ("memory" if version == 1 else "")
    out = []
    for path in dict.fromkeys(paths):
        folder = base / path.strip("/")
        if not path.startswith("/") or ".." in path.split("/") or not folder.is_dir():
            continue
        files = [(n, t.strip()) for n in facts.CGROUP_FILES if (t := _text(folder / n))]
        out.append(CgroupState(path, version, tuple(files)))
    return tuple(out)


def _protected(proc: Path, limit: int = 200) -> tuple[tuple[int, str], ...]:
    """Processes with oom_score_adj -1000 (exempt from the OOM killer), at most ``limit``."""
    out: list[tuple[int, str]] = []
    try:
        pids = [int(p.name) for p in proc.iterdir() if p.name.isdigit()]
    except OSError:
        return ()
    for pid in sorted(pids):
        adj = _text(proc / str(pid) / "oom_score_adj")
        if adj is not None and adj.strip() == "-1000":
            comm = (_text(proc / str(pid) / "comm") or "?").strip()
            out.append((pid, comm))
            if len(out) >= limit:
                break
    return tuple(out)
