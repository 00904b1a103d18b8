"""What hosts keep: samples from sysstat, atop, pidstat, PSI samplers, Prometheus, below."""

from __future__ import annotations

from datetime import datetime

from oomsleuth.model.lines import Warning_
from oomsleuth.model.record import record


@record(frozen=True, slots=True)
class Sample:
    """One measurement from a history source, on the wall clock.

    ``entity`` is None for a host-wide metric, ``"pid:1234"`` for a process, ``"cgroup:/path"``
    for a cgroup and ``"container:<id or name>"`` for a container. ``labels`` carry what names the
    entity to a person (``comm``, ``pod``, ``namespace``, ``container``, ``cmdline``...).
    Metric names are canonical (see ``oomsleuth/history/metrics.py``); units are in the name.
    """

    time: datetime  # aware
    metric: str
    value: float
    entity: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    source: str = ""

    def label(self, name: str) -> str | None:
        for key, value in self.labels:
            if key == name:
                return value
        return None


@record(frozen=True, slots=True)
class History:
    """The history kept around the OOM events (only the windows that matter)."""

    samples: tuple[Sample, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()  # (source name, format name)
    warnings: tuple[Warning_, ...] = ()
    restarts: tuple[tuple[datetime, str], ...] = ()  # (time, source): "LINUX RESTART" etc.


# --- traces: what the history says about the moments of kills it never names ------------------


@record(frozen=True, slots=True)
class ProcessTrace:
    """Every sample of one process (pid and comm) in one history source, for lining up kills
    of boot-relative logs (:mod:`oomsleuth.clock.align`). ``complete``: the source lists every
    process at every sample (atop), so a pid missing from a sample has gone; otherwise (pidstat
    lists only active tasks) a missing pid may only be idle. ``exit``: when the source saw it
    exit (atop's exited-process lines), with its exit code."""

    source: str
    pid: int
    comm: str
    times: tuple[datetime, ...]
    rss_kb: tuple[float | None, ...]
    complete: bool = False
    exit: datetime | None = None
    exit_code: int | None = None


@record(frozen=True, slots=True)
class CounterTrace:
    """An OOM-kill counter in one source: a cgroup's cumulative ``oom_kill`` (``cumulative``),
    or the host's kills per interval (atop). ``entity`` is the cgroup path, None for the host."""

    source: str
    entity: str | None
    times: tuple[datetime, ...]
    values: tuple[float, ...]
    cumulative: bool = True


@record(frozen=True, slots=True)
class HistoryTraces:
    """What the history says about processes and counters that matter to kills without a wall
    clock, read over the whole history (not only windows, which need a clock)."""

    processes: tuple[ProcessTrace, ...] = ()
    counters: tuple[CounterTrace, ...] = ()
    ticks: tuple[tuple[str, tuple[datetime, ...]], ...] = ()  # source -> its process sample times
    restarts: tuple[tuple[datetime, str], ...] = ()  # sadc LINUX RESTART: shortly after a boot

    def ticks_of(self, source: str) -> tuple[datetime, ...]:
        return next((t for s, t in self.ticks if s == source), ())
