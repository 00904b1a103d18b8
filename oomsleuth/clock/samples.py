"""Bounded samples of boot estimates (``wall - uptime``) and of key lines, for the anchors.

Both keep memory bounded however long the log: :class:`BootEstimates` thins itself to every
other value when full; :class:`KeySet` keeps only keys whose hash is a multiple of a growing power
of two, so two sets thin out the same way.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from oomsleuth.model.record import field, record

MAX_SAMPLES = 512
BLOCK = 8  # anchors per block when taking the lower envelope
MAX_KEYS = 256
FLUSH_S = 2.0  # a logger's flush: lines received within this many seconds of each other...
FLUSH_SPAN_S = 5.0  # ...whose kernel stamps are further apart than this
LATE_S = 2.0  # a block of receive times this far above the lowest block came late
Key = tuple[int, float | None, datetime | None]  # line, uptime, wall (None twice: ambiguous)


def space(wall: datetime) -> str:
    """The time space of a wall: aware, naive, or yearless (a naive time before 1970)."""
    if wall.tzinfo is not None:
        return "aware"
    return "yearless" if wall.year < 1970 else "naive"


@record(slots=True)
class BootEstimates:
    """Boot estimates (``wall - uptime``) in one time space: a bounded chronological sample.

    Receive-time (``syslog``) anchors are never early, only late: lines a logger received late
    (:meth:`on_time`) are left out of the estimate and measured by :meth:`late`."""

    kind: str | None = None
    ref: datetime | None = None  # the first wall; offsets are wall - ref - uptime, in seconds
    values: list[tuple[float, int, float]] = field(default_factory=list)  # (offset, line, wall)
    count: int = 0
    stride: int = 1
    lo: float = float("inf")
    hi: float = float("-inf")
    wall: datetime | None = None  # the last wall, and its seconds from ref (None: not comparable)
    secs: float | None = None

    def add(self, wall: datetime, uptime_s: float, line: int) -> None:
        if wall != self.wall:  # lines of one report share their (syslog) wall: compute it once
            self._at(wall)
        if self.secs is None:
            return
        offset = self.secs - uptime_s
        if offset < self.lo:  # min() and max(), without their calls
            self.lo = offset
        if offset > self.hi:
            self.hi = offset
        if self.count % self.stride == 0:
            self.values.append((offset, line, self.secs))
            if len(self.values) >= MAX_SAMPLES:
                self.values = self.values[::2]
                self.stride *= 2
        self.count += 1

    def _at(self, wall: datetime) -> None:
        self.wall = wall
        if self.ref is None:
            self.ref = wall
        same = space(wall) == space(self.ref)  # naive and zoned are not comparable
        self.secs = (wall - self.ref).total_seconds() if same else None

    def add_run(self, wall: datetime, uptimes: list[float | None], first: int, less: float) -> None:
        """``add(wall, u - less, first + k)`` for each ``uptimes[k]`` that is not None, in
        order (the lines of a run, :meth:`AnchorTracker.take_run
        <oomsleuth.clock.anchors.AnchorTracker.take_run>`): the same sample and bounds, with
        the bounds found in C (``secs - (u - less)`` falls as ``u`` grows, rounding included:
        the lowest estimate is the highest uptime's) and only the sampled lines visited."""
        if None in uptimes:  # a line with no kernel stamp in it: one by one
            for k, u in enumerate(uptimes, first):
                if u is not None:
                    self.add(wall, u - less, k)
            return
        if not uptimes:
            return
        if wall != self.wall:
            self._at(wall)
        secs = self.secs
        if secs is None:
            return
        lo, hi = secs - (max(uptimes) - less), secs - (min(uptimes) - less)  # type: ignore[type-var, operator]
        if lo < self.lo:
            self.lo = lo
        if hi > self.hi:
            self.hi = hi
        n, count, k = len(uptimes), self.count, 0
        while k < n:
            skip = (count + k) % self.stride
            if skip:
                k += self.stride - skip
                continue
            self.values.append((secs - (uptimes[k] - less), first + k, secs))  # type: ignore[operator]
            if len(self.values) >= MAX_SAMPLES:  # thinned: the next sampled line is found anew
                self.values = self.values[::2]
                self.stride *= 2
            k += 1
        self.count = count + n

    def on_time(self) -> list[tuple[float, int, float]]:
        """The sampled values a logger received on time: without those received in a flush (the
        last of a flush is on time), and without earlier blocks whose lowest estimate lies more
        than ``LATE_S`` above the lowest block's (a receipt is never early: a higher lower
        envelope before the lowest one means those lines came late, or before a clock step
        back). A higher envelope *after* the lowest block is a suspend: see :meth:`drift`."""
        return self._split()[0]

    def _split(self) -> tuple[list[tuple[float, int, float]], list[tuple[int, int]]]:
        """(on-time values, line ranges of the late ones)."""
        if self.kind != "syslog":
            return self.values, []
        v, kept, i = self.values, [], 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[j + 1][2] - v[i][2] < FLUSH_S:
                j += 1
            uptime_span = (v[j][2] - v[j][0]) - (v[i][2] - v[i][0])
            kept += v[j : j + 1] if uptime_span > FLUSH_SPAN_S else v[i : j + 1]
            i = j + 1
        blocks = _blocks(kept)
        if len(blocks) >= 2:
            mins = [min(b)[0] for b in blocks]
            low = mins.index(min(mins))
            late = {i for i in range(low) if mins[i] > mins[low] + LATE_S}
            kept = [x for i, b in enumerate(blocks) if i not in late for x in b]
        return kept, _ranges(self.values, {line for _, line, _ in kept})

    def late_lines(self) -> tuple[tuple[int, int], ...]:
        """Line ranges (first, last) whose receive times came late (see :meth:`on_time`)."""
        return tuple(self._split()[1])

    def envelope(self, boot: float) -> tuple[tuple[int, float], ...]:
        """The lower envelope of the on-time estimates, per block: (first line, its lowest
        estimate minus ``boot``): where the log's own clock sat against the boot time."""
        return tuple((b[0][1], round(min(b)[0] - boot, 3)) for b in _blocks(self.on_time()))

    def late(self) -> float | None:
        """How late the latest-received sampled line of a flush was (None: no flush)."""
        kept = self.on_time()
        if len(kept) == len(self.values) or not kept:
            return None
        return max(v for v, _, _ in self.values) - median(v for v, _, _ in kept)

    def boot(self) -> datetime | None:
        kept = self.on_time()
        if self.ref is None or not kept:
            return None
        return self.ref + timedelta(seconds=median(v for v, _, _ in kept))

    def core_spread(self) -> float | None:
        """The spread of the central 80% of the on-time estimates: blind to a few lines a
        logger received late, which the full spread (max - min) counts."""
        kept = self.on_time()
        if not kept:
            return None
        ordered = sorted(v for v, _, _ in kept)
        cut = len(ordered) // 10
        return ordered[len(ordered) - 1 - cut] - ordered[cut]

    def drift(self) -> tuple[float, int] | None:
        """The largest step of the lower envelope of the on-time estimates (later minus earlier
        block: > 0 when the wall clock ran ahead of the uptime, as after a suspend) and the
        first line of the later block."""
        blocks = _blocks(self.on_time())
        if len(blocks) < 2:
            return None
        mins = [(min(v for v, _, _ in b), b[0][1], i) for i, b in enumerate(blocks)]
        first, later = sorted((min(mins), max(mins)), key=lambda m: m[2])
        half, up = (first[0] + later[0]) / 2, later[0] > first[0]
        step = next(m for m in mins[first[2] + 1 :] if (m[0] > half) == up or m is later)
        return later[0] - first[0], step[1]


def _ranges(values: list[tuple[float, int, float]], kept: set[int]) -> list[tuple[int, int]]:
    """Line ranges of the values not kept: from a dropped value's line to the line before the
    next kept one."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for _, line, _ in values:
        if line not in kept and start is None:
            start = line
        elif line in kept and start is not None:
            out.append((start, line - 1))
            start = None
    if start is not None:
        out.append((start, values[-1][1]))
    return out


def _blocks(values: list[tuple[float, int, float]]) -> list[list[tuple[float, int, float]]]:
    size = max(1, min(BLOCK, len(values) // 2))
    return [values[i : i + size] for i in range(0, len(values), size)]


@record(slots=True)
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


def median(values: Iterable[float]) -> float:
    """``statistics.median`` (the same arithmetic), without importing ``statistics``, which
    brings ``fractions``, ``decimal`` and ``random`` with it (~4 ms of start-up)."""
    data = sorted(values)
    n = len(data)
    if not n:
        raise ValueError("no median of no data")
    i = n // 2
    return data[i] if n % 2 else (data[i - 1] + data[i]) / 2
