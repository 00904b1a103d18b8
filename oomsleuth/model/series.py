"""Time series over history samples: samples grouped by (entity, metric) and sorted by time.

Correlation measures them (:mod:`oomsleuth.correlate.series`); renderers draw them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime

from oomsleuth.model.history import Sample
from oomsleuth.model.record import field, record


@record()
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
