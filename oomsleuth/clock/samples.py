"""Bounded samples of boot estimates (``wall - uptime``) and of key lines, for the anchors.

Both keep memory bounded however long the log: :class:`BootEstimates` thins itself to every
other value when full; :class:`KeySet` keeps only keys whose hash is a multiple of a growing power
of two, so two sets thin out the same way.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

MAX_SAMPLES = 512
BLOCK = 8  # anchors per block when taking the lower envelope
MAX_KEYS = 256
Key = tuple[int, float | None, datetime | None]  # line, uptime, wall (None twice: ambiguous)


def space(wall: datetime) -> str:
    """The time space of a wall: aware, naive, or yearless (a naive time before 1970)."""
    if wall.tzinfo is not None:
        return "aware"
    return "yearless" if wall.year < 1970 else "naive"


@dataclass(slots=True)
class BootEstimates:
    """Boot estimates (``wall - uptime``) in one time space: a bounded chronological sample."""

    kind: str | None = None
    ref: datetime | None = None  # the first wall; offsets are wall - ref - uptime, in seconds
    values: list[tuple[float, int]] = field(default_factory=list)  # (offset, line)
    count: int = 0
    stride: int = 1
    lo: float = float("inf")
    hi: float = float("-inf")
    wall: datetime | None = None  # the last wall, and its seconds from ref (None: not comparable)
    secs: float | None = None

    def add(self, wall: datetime, uptime_s: float, line: int) -> None:
        if wall != self.wall:  # lines of one report share their (syslog) wall: compute it once
            self.wall = wall
            if self.ref is None:
                self.ref = wall
            same = space(wall) == space(self.ref)  # naive and zoned are not comparable
            self.secs = (wall - self.ref).total_seconds() if same else None
        if self.secs is None:
            return
        offset = self.secs - uptime_s
        self.lo, self.hi = min(self.lo, offset), max(self.hi, offset)
        if self.count % self.stride == 0:
            self.values.append((offset, line))
            if len(self.values) >= MAX_SAMPLES:
                self.values = self.values[::2]
                self.stride *= 2
        self.count += 1

    def boot(self) -> datetime | None:
        if self.ref is None or not self.values:
            return None
        return self.ref + timedelta(seconds=median(v for v, _ in self.values))

    def core_spread(self) -> float | None:
        """The spread of the central 80% of the sampled estimates: blind to a few lines a
        logger received late, which the full spread (max - min) counts."""
        if not self.values:
            return None
        ordered = sorted(v for v, _ in self.values)
        cut = len(ordered) // 10
        return ordered[len(ordered) - 1 - cut] - ordered[cut]

    def drift(self) -> tuple[float, int] | None:
        """The largest step of the lower envelope (later minus earlier block: > 0 when the wall
        clock ran ahead of the uptime, as after a suspend) and the first line of the later one."""
        size = max(1, min(BLOCK, len(self.values) // 2))
        blocks = [self.values[i : i + size] for i in range(0, len(self.values), size)]
        if len(blocks) < 2:
            return None
        mins = [(min(v for v, _ in b), b[0][1], i) for i, b in enumerate(blocks)]
        first, later = sorted((min(mins), max(mins)), key=lambda m: m[2])
        half, up = (first[0] + later[0]) / 2, later[0] > first[0]
        step = next(m for m in mins[first[2] + 1 :] if (m[0] > half) == up or m is later)
        return later[0] - first[0], step[1]


@dataclass(slots=True)
class KeySet:
    """Key lines of a segment, at most ``MAX_KEYS``: when full, only keys whose hash is a
    multiple of a growing power of two stay, so two sets thin out the same way."""

    items: dict[str, Key] = field(default_factory=dict)
    modulus: int = 1

    def add(self, key: str, value: Key) -> None:
        if _hash(key) % self.modulus:
            return
        if self.items.setdefault(key, value) != value:
            self.items[key] = (value[0], None, None)  # seen twice: ambiguous
        if len(self.items) > MAX_KEYS:
            self.modulus *= 2
            self.items = {k: v for k, v in self.items.items() if _hash(k) % self.modulus == 0}


def _hash(key: str) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogateescape"))


def centred(wall: datetime, uptime_s: float) -> float:
    """The uptime to pair with ``wall``: a whole-second stamp is half a second short on average."""
    return uptime_s - 0.5 if wall.microsecond == 0 else uptime_s
