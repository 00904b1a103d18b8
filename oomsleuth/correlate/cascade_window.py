"""The window of history before one kill, each series cut from ONE source (the one with the
most samples in the window): collectors measure differently, and a line that zig-zags between
them would tell a story the host never lived."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from oomsleuth.model import OomReport, Sample
from oomsleuth.model.record import record
from oomsleuth.model.series import Series, index

Key = tuple[str | None, str]
# what cAdvisor (Prometheus) calls a cgroup's anon, cache (shmem included) and limit
ALIASES = {
    "cg_anon_kb": "container_rss_kb",
    "cg_file_kb": "container_cache_kb",
    "cg_mem_max_kb": "container_limit_kb",
}
Sources = dict[str, dict[Key, Series]]


def by_source(samples: Iterable[Sample]) -> Sources:
    """History series grouped per source, so a step never mixes two collectors' numbers."""
    grouped: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        grouped[s.source].append(s)
    return {src: index(group) for src, group in grouped.items()}


@record(frozen=True)
class Cut:
    """One series cut to the window: its times, values and the source it came from."""

    times: list[datetime]
    values: list[float]
    source: str


@record(frozen=True)
class Window:
    sources: Sources
    start: datetime
    end: datetime

    def cut(self, key: Key) -> Cut | None:
        found = self._cut(key)
        alias = ALIASES.get(key[1])
        return found if found is not None or alias is None else self._cut((key[0], alias))

    def _cut(self, key: Key) -> Cut | None:
        best: Cut | None = None
        for src in sorted(self.sources):
            series = self.sources[src].get(key)
            if series is None:
                continue
            times, values = series.window(self.start, self.end)
            if times and (best is None or len(times) > len(best.times)):
                best = Cut(times, values, src)
        return best

    def cut_from(self, key: Key, source: str) -> Cut | None:
        series = self.sources.get(source, {}).get(key)
        if series is None:
            return None
        times, values = series.window(self.start, self.end)
        return Cut(times, values, source) if times else None


def cgroup_key(report: OomReport) -> str | None:
    path = report.oom_memcg or (report.constraint.oom_memcg if report.constraint else None)
    return f"cgroup:{path.rstrip('/') or '/'}" if path else None
