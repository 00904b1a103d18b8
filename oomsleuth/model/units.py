"""Sizes, counts and durations for people, the same in every format.

Every size in oomsleuth is kB (1024 bytes) until it is shown. Shown sizes use binary units with
one decimal (``1.0 GiB``, never ``1024.0 MiB``); kB below 1 MiB are whole (``512 KiB``). A
memory.stat event counter (pgfault, pgmajfault, workingset_refault_*...) is a count, never a
size. An unknown value is :data:`UNKNOWN` everywhere.
"""

from __future__ import annotations

UNKNOWN = "?"

# the cgroup v1 "no limit" (PAGE_COUNTER_MAX pages, about 8 EiB) and anything near it
UNLIMITED_KB = 1 << 50  # 1 EiB in kB: no machine's memory, only a "no limit" sentinel

# memory.stat keys that count events or pages, not bytes (cgroup v1 and v2)
_COUNT_PREFIXES = ("pgpg", "pgfault", "pgmajfault", "pgrefill", "pgscan", "pgsteal",
                   "pgactivate", "pgdeactivate", "pglazyfree", "pgdemote", "pgpromote",
                   "workingset_refault", "workingset_activate", "workingset_restore",
                   "workingset_nodereclaim", "thp_", "zswpin", "zswpout", "zswpwb",
                   "numa_", "oom")  # fmt: skip
_COUNT_NAMES = frozenset({"total_pgpgin", "total_pgpgout", "total_pgfault", "total_pgmajfault"})


def is_count(stat: str) -> bool:
    """True for a memory.stat key that counts events (pgfault, workingset_refault_anon, ...)."""
    if stat in _COUNT_NAMES:
        return True
    name = stat.removeprefix("total_")
    return name.startswith(_COUNT_PREFIXES)


def human_kb(kb: int | None, unknown: str = UNKNOWN) -> str:
    """A size in kB for people: ``512 KiB``, ``12.9 GiB``, ``1.0 GiB``; ``unlimited`` for the
    v1 no-limit value."""
    if kb is None:
        return unknown
    if kb >= UNLIMITED_KB:
        return "unlimited"
    value, unit = _scaled(kb, 1)
    return f"{kb} KiB" if unit == "K" else f"{value:.1f} {unit}iB"


def short_kb(kb: int | None, unknown: str = UNKNOWN) -> str:
    """A size in kB for a narrow column: ``420K``, ``12.4M``, ``524M``, ``13.0G``."""
    if kb is None:
        return unknown
    if kb >= UNLIMITED_KB:
        return "unlim."
    value, unit = _scaled(kb, 1 if kb < 100 << 10 else 0)
    if unit == "K":
        return f"{kb}K"
    return f"{value:.1f}{unit}" if round(abs(value), 1) < 100 else f"{value:.0f}{unit}"


def human_count(n: int | None, unknown: str = UNKNOWN) -> str:
    """An event count: ``4 321``, ``1.2 M``: never a size."""
    if n is None:
        return unknown
    if abs(n) < 100_000:
        return f"{n:,}".replace(",", " ")
    return f"{n / 1e6:.1f} M" if abs(n) < 10**9 else f"{n / 1e9:.1f} G"


def human_uptime(seconds: float | None, unknown: str = UNKNOWN) -> str:
    """Seconds since boot for people: ``115.888 s``, ``2 h 5 min``, ``445 d 6 h``."""
    if seconds is None:
        return unknown
    if seconds < 600:
        return f"{seconds:.3f} s"
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min {int(seconds % 60)} s"


def _scaled(kb: int, digits: int) -> tuple[float, str]:
    """The value and unit letter, the unit chosen after rounding (1023.99 MiB is 1.0 GiB)."""
    value = float(kb)
    for unit in "KMG":
        if abs(round(value, digits)) < 1024:
            return value, unit
        value /= 1024
    return value, "T"
