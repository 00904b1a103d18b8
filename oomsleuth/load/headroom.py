"""How much memory this process may still take: before forking a helper process.

oomsleuth runs on hosts that just killed something for memory. A forked process costs memory of
its own (its buffers, and the pages of the parent it keeps as they were while the parent
changes them: ~20–30 MB measured), so :func:`~oomsleuth.load.forking.safe_to_fork` first asks
for ``MIN_HEADROOM`` of room. The room is the smallest of the host's ``MemAvailable`` and, for
each memory cgroup this process is in and each of its ancestors, the limit less the usage
(cgroup v2 ``memory.max``/``memory.current``, v1 ``memory.limit_in_bytes``/
``memory.usage_in_bytes``): a container at its limit is short of memory whatever the host has.
What cannot be read is no limit (None when nothing can be read).
"""

from __future__ import annotations

from pathlib import Path

MIN_HEADROOM = 256 << 20


def headroom(root: Path = Path("/")) -> int | None:
    """Bytes this process may still take (module doc), None when nothing says."""
    rooms = [_mem_available(root / "proc/meminfo")]
    for limit, usage in _cgroup_files(root):
        rooms.append(_room(limit, usage))
    known = [r for r in rooms if r is not None]
    return min(known) if known else None


def _mem_available(meminfo: Path) -> int | None:
    try:
        with meminfo.open("rb") as lines:
            for line in lines:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_files(root: Path) -> list[tuple[Path, Path]]:
    """(limit, usage) files of each memory cgroup of this process and of its ancestors."""
    try:
        entries = (root / "proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    out = []
    for entry in entries:
        _, controllers, path = [*entry.split(":", 2), "", ""][:3]
        if controllers == "":  # v2: the one unified hierarchy
            base, names = root / "sys/fs/cgroup", ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            base = root / "sys/fs/cgroup/memory"
            names = ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        parts = [p for p in path.split("/") if p]
        for depth in range(len(parts), 0, -1):
            folder = base.joinpath(*parts[:depth])
            out.append((folder / names[0], folder / names[1]))
    return out


def _room(limit: Path, usage: Path) -> int | None:
    try:
        cap, used = limit.read_text().strip(), usage.read_text().strip()
        if cap == "max":
            return None
        return max(0, int(cap) - int(used))
    except (OSError, ValueError):
        return None
