"""Traces for lining up boot-relative kills with history: while a history file streams by, keep
only what can date a kill that has no wall clock: the samples of the processes it names (its
victims, the rows of its task table, any later process with a victim's name), the OOM-kill
counters of its cgroups and of the host, the sample times themselves and sadc's restarts.

Pure: it is fed :class:`~oomsleuth.model.Sample` objects by whoever reads the file. Memory is
what those few series hold (a month of 1-minute samples of ten processes is ~400,000 points).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from oomsleuth.model import CounterTrace, ProcessTrace, Sample
from oomsleuth.model.record import field, record

COMM_LEN = 15  # the kernel's comm is TASK_COMM_LEN - 1 characters


def same_comm(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a[:COMM_LEN] == b[:COMM_LEN]


@record()
class _Series:
    comm: str
    times: list[datetime] = field(default_factory=list)
    rss: list[float | None] = field(default_factory=list)
    exit: datetime | None = None
    exit_code: int | None = None


class TraceCollector:
    """Collects traces from one history source (see the module doc)."""

    def __init__(
        self,
        source: str,
        *,
        pids: Mapping[int, str],
        names: Iterable[str] = (),
        cgroups: Iterable[str] = (),
        complete: bool = False,
    ) -> None:
        self.source = source
        self.complete = complete
        self._pids = dict(pids)
        self._names = {n[:COMM_LEN] for n in names}
        self._cgroups = tuple(cgroups)
        self._series: dict[tuple[int, str], _Series] = {}
        self._counters: dict[str | None, tuple[list[datetime], list[float], bool]] = {}
        self.ticks: list[datetime] = []
        self.restarts: list[datetime] = []

    def add(self, s: Sample) -> None:
        metric = s.metric
        if metric == "proc_rss_kb":
            if not self.ticks or self.ticks[-1] != s.time:
                self.ticks.append(s.time)
            self._process(s, s.value)
        elif metric == "proc_exit_code":
            series = self._process(s, None, record=False)
            if series is not None:
                series.exit, series.exit_code = s.time, int(s.value)
        elif metric == "cg_oom_kill_count" and s.entity and self._wanted_cgroup(s.entity):
            self._count(s.entity.removeprefix("cgroup:"), s, cumulative=True)
        elif metric == "oom_kill_count" and s.entity is None:
            self._count(None, s, cumulative=False)
        elif metric == "restart":
            self.restarts.append(s.time)

    def _process(self, s: Sample, rss: float | None, record: bool = True) -> _Series | None:
        if not s.entity or not s.entity.startswith("pid:"):
            return None
        comm = s.label("comm")
        try:
            pid = int(s.entity[4:])
        except ValueError:
            return None
        wanted = same_comm(self._pids.get(pid), comm) or (comm or "")[:COMM_LEN] in self._names
        if not wanted or comm is None:
            return None
        series = self._series.get((pid, comm[:COMM_LEN]))
        if series is None:
            series = self._series[pid, comm[:COMM_LEN]] = _Series(comm)
        if record:
            series.times.append(s.time)
            series.rss.append(rss)
        return series

    def _wanted_cgroup(self, entity: str) -> bool:
        path = entity.removeprefix("cgroup:").rstrip("/")
        wanted = (w.rstrip("/") for w in self._cgroups)
        return bool(path) and any(w and (w.endswith(path) or path.endswith(w)) for w in wanted)

    def _count(self, entity: str | None, s: Sample, *, cumulative: bool) -> None:
        times, values, _ = self._counters.setdefault(entity, ([], [], cumulative))
        times.append(s.time)
        values.append(s.value)

    def processes(self) -> list[ProcessTrace]:
        return [
            ProcessTrace(
                self.source,
                pid,
                series.comm,
                tuple(series.times),
                tuple(series.rss),
                complete=self.complete,
                exit=series.exit,
                exit_code=series.exit_code,
            )
            for (pid, _), series in self._series.items()
        ]

    def counters(self) -> list[CounterTrace]:
        return [
            CounterTrace(self.source, entity, tuple(times), tuple(values), cumulative)
            for entity, (times, values, cumulative) in self._counters.items()
        ]
