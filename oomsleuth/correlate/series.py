"""Growth over history series: how much, how fast, how steadily, and whether it was still rising."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from oomsleuth.model.record import record


@record(frozen=True, slots=True)
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
