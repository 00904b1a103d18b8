"""Time series over history samples: index them once, cut windows, measure growth."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from oomsleuth.models import Sample


@dataclass
class Series:
    entity: str | None
    metric: str
    labels: dict[str, str] = field(default_factory=dict)
    times: list[datetime] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)

    def window(self, start: datetime, end: datetime) -> tuple[list[datetime], list[float]]:
        i, j = bisect_left(self.times, start), bisect_right(self.times, end)
        return self.times[i:j], self.values[i:j]

    def at_or_before(self, t: datetime) -> float | None:
        j = bisect_right(self.times, t)
        return self.values[j - 1] if j else None


@dataclass(frozen=True, slots=True)
class Growth:
    start: datetime
    end: datetime
    first: float
    last: float
    low: float
    high: float
    delta: float  # last - lowest point before it
    rate_s: float  # delta per second over the rise
    steady: float  # share of steps that did not go down (1.0 = monotonic)
    plateau_s: float = 0.0  # how long it had been flat (within 5% of its rise) at the end

    @property
    def recent(self) -> float:
        """1.0 when still rising at the end; small for a quick warm-up long since finished."""
        rise = max(self.seconds - self.plateau_s, 1.0)
        return 1.0 if self.plateau_s <= 10 else rise / (rise + self.plateau_s)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def index(samples: Iterable[Sample]) -> dict[tuple[str | None, str], Series]:
    """Samples grouped by (entity, metric), sorted by time; labels merged (latest wins)."""
    out: dict[tuple[str | None, str], Series] = {}
    for s in samples:
        key = (s.entity, s.metric)
        series = out.get(key)
        if series is None:
            series = out[key] = Series(s.entity, s.metric)
        series.times.append(s.time)
        series.values.append(s.value)
        series.labels.update(s.labels)
        if s.source:
            series.sources.add(s.source)
    for series in out.values():
        if any(b < a for a, b in zip(series.times, series.times[1:], strict=False)):
            pairs = sorted(zip(series.times, series.values, strict=True), key=lambda p: p[0])
            series.times = [p[0] for p in pairs]
            series.values = [p[1] for p in pairs]
    return out


def growth(times: list[datetime], values: list[float]) -> Growth | None:
    """How much a series rose up to its last point: from its lowest point before the end."""
    if len(values) < 2:
        return None
    low_i = min(range(len(values)), key=lambda i: (values[i], -i))
    if low_i == len(values) - 1:  # fell all the way: growth is the (negative) net change
        low_i = 0
    delta = values[-1] - values[low_i]
    secs = (times[-1] - times[low_i]).total_seconds()
    ups = sum(1 for a, b in zip(values[low_i:], values[low_i + 1 :], strict=False) if b >= a)
    steps = max(len(values) - 1 - low_i, 1)
    plateau = 0.0
    if delta > 0:
        near = values[-1] - 0.05 * delta
        reached = next(i for i in range(low_i, len(values)) if values[i] >= near)
        plateau = (times[-1] - times[reached]).total_seconds()
    return Growth(
        start=times[low_i],
        end=times[-1],
        first=values[0],
        last=values[-1],
        low=min(values),
        high=max(values),
        delta=delta,
        rate_s=delta / secs if secs > 0 else 0.0,
        steady=ups / steps,
        plateau_s=plateau,
    )


def first_crossing(
    times: list[datetime], values: list[float], test: Callable[[float], bool]
) -> datetime | None:
    """The first time a value passes ``test``."""
    for t, v in zip(times, values, strict=True):
        if test(v):
            return t
    return None
