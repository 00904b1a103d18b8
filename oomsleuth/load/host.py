"""This machine: what the live host tells about time (its boot time in /proc/stat)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path


def live_boot_time(proc_stat: Path = Path("/proc/stat")) -> datetime | None:
    """This machine's boot time (``btime`` in /proc/stat), for ``--boot-time now``; None when
    it cannot be read."""
    try:
        for row in proc_stat.read_text().splitlines():
            if row.startswith("btime "):
                return datetime.fromtimestamp(int(row.split()[1]), timezone.utc)
    except (OSError, ValueError, IndexError):
        return None
    return None
